import assert from "node:assert/strict";
import { OP_TYPES } from "../block/backend.ts";
import type { OpRecord } from "./schema.ts";
import { OpStats } from "./stats.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { randomTrace } from "../../tests/support/random_trace.ts";

Deno.test("op stats: nothing counted is all zeros, every op type present", () => {
  const summary = new OpStats().summary();
  assert.deepEqual(
    { ...summary, byType: undefined },
    { ops: 0, bytes: 0, errors: 0, byType: undefined, byDisk: {}, faults: {}, duration: 0 },
  );
  assert.deepEqual(Object.keys(summary.byType), [...OP_TYPES]);
  for (const counts of Object.values(summary.byType)) {
    assert.deepEqual(counts, { count: 0, bytes: 0, errors: 0 });
  }
});

Deno.test("op stats by hand: bytes only for reads and writes, errors and faults by kind, duration from first start to last end", () => {
  const stats = new OpStats();
  const records: OpRecord[] = [
    opRecord({ index: 0, op: "read", length: 4096, start: 10, end: 12 }),
    opRecord({ index: 1, op: "write", length: 512, start: 11, end: 30 }),
    opRecord({ index: 2, op: "trim", length: 1 << 20, start: 12, end: 13 }),
    opRecord({ index: 3, op: "write-zeroes", disk: "wal", length: 8192, start: 13, end: 14 }),
    opRecord({
      index: 4,
      op: "write",
      disk: "wal",
      length: 1024,
      result: "eio",
      fault: { kind: "eio", rule: "eio@4" },
      start: 14,
      end: 15,
    }),
    opRecord({
      index: 5,
      op: "read",
      length: 512,
      fault: { kind: "delay", rule: "delay:5ms@5" },
      start: 15,
      end: 21,
    }),
    opRecord({ index: 6, op: "flush", result: "enospc", start: 20, end: 25 }),
  ];
  for (const record of records) stats.add(record);
  const summary = stats.summary();
  assert.equal(summary.ops, 7);
  assert.equal(summary.bytes, 4096 + 512 + 1024 + 512, "trim and write-zeroes move no bytes");
  assert.equal(summary.errors, 2);
  assert.deepEqual(summary.byType.read, { count: 2, bytes: 4608, errors: 0 });
  assert.deepEqual(summary.byType.write, { count: 2, bytes: 1536, errors: 1 });
  assert.deepEqual(summary.byType.trim, { count: 1, bytes: 0, errors: 0 });
  assert.deepEqual(summary.byType.flush, { count: 1, bytes: 0, errors: 1 });
  assert.deepEqual(summary.byDisk.wal.write, { count: 1, bytes: 1024, errors: 1 });
  assert.deepEqual(summary.byDisk.wal["write-zeroes"], { count: 1, bytes: 0, errors: 0 });
  assert.deepEqual(summary.byDisk.data.read, { count: 2, bytes: 4608, errors: 0 });
  assert.deepEqual(Object.keys(summary.byDisk).sort(), ["data", "wal"]);
  assert.deepEqual(summary.faults, { eio: 1, delay: 1 });
  assert.equal(summary.duration, 30 - 10);
});

Deno.test("op stats: one op, or ops that end before they start, have no duration", () => {
  const one = new OpStats();
  one.add(opRecord({ start: 5, end: 5 }));
  assert.equal(one.summary().duration, 0);
  const odd = new OpStats();
  odd.add(opRecord({ start: 9, end: 3 }));
  assert.equal(odd.summary().duration, 0);
});

Deno.test("op stats agree with a naive count over random traces", () => {
  for (let seed = 1; seed <= 15; seed++) {
    const records = randomTrace(seed, {
      ops: 120,
      disks: [{ node: "db", disk: "data" }, { node: "db", disk: "wal" }],
      checkOps: 10,
    });
    const stats = new OpStats();
    for (const record of records) stats.add(record);
    const summary = stats.summary();
    const moved = (r: OpRecord) => r.op === "read" || r.op === "write" ? r.length : 0;
    const failed = (r: OpRecord) => r.result !== "ok";
    assert.equal(summary.ops, records.length);
    assert.equal(summary.bytes, records.reduce((n, r) => n + moved(r), 0));
    assert.equal(summary.errors, records.filter(failed).length);
    for (const type of OP_TYPES) {
      const of = records.filter((r) => r.op === type);
      assert.deepEqual(summary.byType[type], {
        count: of.length,
        bytes: of.reduce((n, r) => n + moved(r), 0),
        errors: of.filter(failed).length,
      }, `seed ${seed} ${type}`);
      for (const disk of ["data", "wal"]) {
        assert.equal(
          summary.byDisk[disk][type].count,
          of.filter((r) => r.disk === disk).length,
          `seed ${seed} ${disk} ${type}`,
        );
      }
    }
    const faults: Record<string, number> = {};
    for (const r of records) if (r.fault) faults[r.fault.kind] = (faults[r.fault.kind] ?? 0) + 1;
    assert.deepEqual(summary.faults, faults);
    const first = Math.min(...records.map((r) => r.start));
    const last = Math.max(...records.map((r) => r.end));
    assert.equal(summary.duration, last - first);
  }
});

Deno.test("op stats: a summary is a snapshot; changing it or counting more does not touch another", () => {
  const stats = new OpStats();
  stats.add(opRecord({ op: "write", length: 512, fault: { kind: "eio", rule: "eio" } }));
  const before = stats.summary();
  before.byType.write.count = 99;
  before.byDisk.data.write.bytes = 99;
  before.faults.eio = 99;
  stats.add(opRecord({ index: 1, op: "write", length: 512 }));
  const after = stats.summary();
  assert.deepEqual(after.byType.write, { count: 2, bytes: 1024, errors: 0 });
  assert.deepEqual(after.byDisk.data.write, { count: 2, bytes: 1024, errors: 0 });
  assert.deepEqual(after.faults, { eio: 1 });
  assert.equal(before.ops, 1);
});

Deno.test("op stats: two nodes' disks of one name are two disks, named by node", () => {
  const stats = new OpStats();
  stats.add({ ...opRecord({ index: 0, node: "n1", disk: "data", op: "write", length: 512 }) });
  stats.add({ ...opRecord({ index: 1, node: "n2", disk: "data", op: "write", length: 1024 }) });
  const { byDisk } = stats.summary();
  assert.deepEqual(Object.keys(byDisk).sort(), ["n1/data", "n2/data"]);
  assert.equal(byDisk["n2/data"].write.bytes, 1024);
});
