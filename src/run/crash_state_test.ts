import assert from "node:assert/strict";
import { join } from "node:path";
import type { OpRecord } from "../trace/schema.ts";
import { sha256Bytes } from "../util/hash.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { type CrashSelection, selectCrashWrites, writeCrashImages } from "./crash_state.ts";
import { RunError } from "./errors.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { prng, seededFill } from "../../tests/support/random.ts";
import { randomTrace } from "../../tests/support/random_trace.ts";

const TWO_DISKS = [{ node: "db", disk: "data" }, { node: "db", disk: "wal" }];
/** Two nodes with a disk of the same name: a flush of one must not cover the other. */
const TWO_NODES = [{ node: "a", disk: "data" }, { node: "b", disk: "data" }];

/** Bytes of a write-like op that reached the store, written out from the trace format's rules. */
function naiveStored(record: OpRecord): number {
  if (record.result !== "ok") return 0;
  if (!["write", "trim", "write-zeroes"].includes(record.op)) return 0;
  return record.fault?.stored ?? record.length;
}

/**
 * The crash state at `cutAt` by the definition, quadratically: of the run's
 * writes that completed before op `cutAt` arrived (`done <= cutAt`), a write is
 * durable when it carried FUA or when a successful flush of its disk (same
 * node, same name) that arrived after it completed (`W.done <= F.index`) also
 * completed before the cut.
 */
function naiveCrash(records: readonly OpRecord[], cutAt: number) {
  const before = records.filter((r) => (r.phase ?? "run") === "run" && r.done <= cutAt);
  const flushes = before.filter((r) => r.op === "flush" && r.result === "ok");
  const writes = before.filter((r) => naiveStored(r) > 0);
  const durable = (w: OpRecord) =>
    w.fua === true ||
    flushes.some((f) => f.node === w.node && f.disk === w.disk && w.done <= f.index);
  return {
    durable: writes.filter(durable).map((w) => w.index),
    volatile: writes.filter((w) => !durable(w)).map((w) => w.index),
    /** Every surviving candidate, in completion order. */
    order: writes.map((w) => w.index),
  };
}

const picks = (selection: CrashSelection) =>
  selection.writes.map((w) => [w.record.index, w.keepBytes]);

/** Traces on one disk, two disks and two nodes, with 1 to 6 ops in flight; cuts at every op and past the end. */
function* cases(): Generator<{ name: string; records: OpRecord[]; cutAt: number }> {
  for (let seed = 1; seed <= 30; seed++) {
    const disks = [undefined, TWO_DISKS, TWO_NODES][seed % 3];
    const records = randomTrace(seed, {
      ops: 40,
      disks,
      maxInFlight: 1 + (seed % 6),
      checkOps: seed % 2 ? 6 : 0,
    });
    for (let cutAt = 0; cutAt <= records.length; cutAt += 1 + (seed % 3)) {
      yield { name: `seed ${seed}, cut at ${cutAt}`, records, cutAt };
    }
  }
}

Deno.test("crash state (drop): exactly the durable writes survive, whole, in completion order", () => {
  let volatileSeen = 0;
  let durableSeen = 0;
  for (const { name, records, cutAt } of cases()) {
    const model = naiveCrash(records, cutAt);
    const selection = selectCrashWrites(records, cutAt, { kind: "drop" });
    const byIndex = new Map(records.map((r) => [r.index, r]));
    assert.deepEqual(
      picks(selection),
      model.order.filter((i) => model.durable.includes(i)).map((i) => [
        i,
        naiveStored(byIndex.get(i)!),
      ]),
      name,
    );
    assert.equal(selection.cutAt, cutAt);
    assert.equal(selection.volatileCount, model.volatile.length, name);
    assert.equal(selection.droppedCount, model.volatile.length, name);
    assert.deepEqual(selection.dropped.map((r) => r.index), model.volatile, name);
    volatileSeen += model.volatile.length;
    durableSeen += model.durable.length;
  }
  // The cases are worth something only if both kinds of write occur often.
  assert.ok(volatileSeen > 500 && durableSeen > 500, `${volatileSeen} volatile, ${durableSeen}`);
});

Deno.test("crash state (subset): durable writes always kept; some volatile ones kept whole; the seed decides", () => {
  let volatile = 0;
  let kept = 0;
  let seedsDiffer = 0;
  for (const { name, records, cutAt } of cases()) {
    const model = naiveCrash(records, cutAt);
    const selection = selectCrashWrites(records, cutAt, { kind: "subset", seed: 7 });
    const chosen = new Map(selection.writes.map((w) => [w.record.index, w]));
    for (const index of model.durable) assert.ok(chosen.has(index), `${name}: durable ${index}`);
    for (const [index, write] of chosen) {
      assert.ok(model.order.includes(index), `${name}: ${index} completed before the cut`);
      assert.equal(write.keepBytes, naiveStored(write.record), `${name}: ${index} whole`);
    }
    assert.deepEqual(
      selection.writes.map((w) => w.record.index),
      model.order.filter((i) => chosen.has(i)),
      `${name}: completion order`,
    );
    const keptVolatile = model.volatile.filter((i) => chosen.has(i)).length;
    assert.equal(selection.volatileCount, model.volatile.length, name);
    assert.equal(selection.droppedCount, model.volatile.length - keptVolatile, name);
    assert.deepEqual(
      selection.dropped.map((r) => r.index),
      model.volatile.filter((i) => !chosen.has(i)),
      `${name}: the dropped writes, in completion order`,
    );
    volatile += model.volatile.length;
    kept += keptVolatile;
    assert.deepEqual(
      selectCrashWrites(records, cutAt, { kind: "subset", seed: 7 }),
      selection,
      `${name}: the same seed, the same subset`,
    );
    if (selectCrashWrites(records, cutAt, { kind: "subset", seed: 8 }).key !== selection.key) {
      seedsDiffer++;
    }
  }
  // Each volatile write is kept with probability 1/2.
  assert.ok(kept > volatile * 0.4 && kept < volatile * 0.6, `kept ${kept} of ${volatile}`);
  assert.ok(seedsDiffer > 100, `another seed chose another subset ${seedsDiffer} times`);
});

Deno.test("crash state (torn): durable writes kept, at most one volatile write kept as a proper prefix of whole sectors", () => {
  let torn = 0;
  let withVolatile = 0;
  const tornPositions = new Set<number>();
  for (const { name, records, cutAt } of cases()) {
    const model = naiveCrash(records, cutAt);
    const selection = selectCrashWrites(records, cutAt, { kind: "torn", seed: 3 });
    const chosen = new Map(selection.writes.map((w) => [w.record.index, w]));
    for (const index of model.durable) {
      assert.equal(chosen.get(index)?.keepBytes, naiveStored(chosen.get(index)!.record), name);
    }
    const keptVolatile = model.volatile.filter((i) => chosen.has(i));
    assert.ok(keptVolatile.length <= 1, `${name}: ${keptVolatile.length} volatile writes kept`);
    for (const index of keptVolatile) {
      const write = chosen.get(index)!;
      assert.ok(write.keepBytes > 0 && write.keepBytes < naiveStored(write.record), name);
      assert.equal(write.keepBytes % 512, 0, `${name}: whole sectors`);
      torn++;
      tornPositions.add(model.volatile.indexOf(index));
    }
    for (const index of chosen.keys()) assert.ok(model.order.includes(index), name);
    assert.equal(selection.volatileCount, model.volatile.length, name);
    assert.equal(selection.droppedCount, model.volatile.length - keptVolatile.length, name);
    assert.deepEqual(selectCrashWrites(records, cutAt, { kind: "torn", seed: 3 }), selection);
    if (model.volatile.length > 0) withVolatile++;
  }
  assert.ok(torn > withVolatile / 4, `a write was torn in ${torn} of ${withVolatile} states`);
  assert.ok(tornPositions.size > 3, "the torn write is not always the same one of the list");
});

Deno.test("crash state: equal keys exactly when the selected writes and their kept bytes are equal", () => {
  const records = randomTrace(99, { ops: 60, disks: TWO_DISKS, maxInFlight: 5 });
  const selections: CrashSelection[] = [];
  for (let cutAt = 0; cutAt <= 60; cutAt++) {
    selections.push(selectCrashWrites(records, cutAt, { kind: "drop" }));
    for (const seed of [1, 2]) {
      selections.push(selectCrashWrites(records, cutAt, { kind: "subset", seed }));
      selections.push(selectCrashWrites(records, cutAt, { kind: "torn", seed }));
    }
  }
  const chosen = selections.map((s) => JSON.stringify(picks(s)));
  let equal = 0;
  for (let a = 0; a < selections.length; a++) {
    for (let b = 0; b < selections.length; b++) {
      const same = chosen[a] === chosen[b];
      assert.equal(selections[a].key === selections[b].key, same, `${chosen[a]} / ${chosen[b]}`);
      if (same && a !== b) equal++;
    }
  }
  assert.ok(equal > 0, "some different cuts share a crash state");
});

Deno.test("crash state: cut placement, phases, failed and lost writes, FUA and per-disk flushes by hand", () => {
  const data = (n: number) => new Uint8Array(n).fill(n & 0xff);
  // Completion order. Write 0 completes before flush 2 arrives; write 1 completes after it arrived.
  const records: OpRecord[] = [
    opRecord({ index: 0, done: 1, offset: 0, data: data(512) }),
    opRecord({ index: 2, done: 3, op: "flush" }),
    opRecord({ index: 1, done: 3, offset: 512, data: data(1024) }),
    opRecord({ index: 3, done: 4, offset: 4096, data: data(512), fua: true }),
    opRecord({ index: 4, done: 5, offset: 8192, data: data(512), result: "eio" }),
    opRecord({
      index: 5,
      done: 6,
      offset: 0,
      data: data(512),
      fault: { kind: "lost-write", rule: "lost-write@5", stored: 0 },
    }),
    opRecord({ index: 6, done: 7, op: "trim", offset: 0, length: 4096, disk: "wal" }),
    opRecord({ index: 7, done: 8, op: "flush", disk: "wal" }),
    opRecord({ index: 8, done: 9, op: "write", offset: 0, data: data(512), phase: "check" }),
  ];
  const kept = (cutAt: number) =>
    selectCrashWrites(records, cutAt, { kind: "drop" }).writes.map((w) => w.record.index);
  assert.deepEqual(kept(0), [], "a cut at the first op: nothing happened");
  assert.deepEqual(kept(2), [], "write 0 completed, volatile; the flush never came");
  assert.deepEqual(kept(3), [0], "the flush covers write 0 only");
  assert.deepEqual(kept(4), [0, 3], "FUA is durable at once");
  assert.deepEqual(
    kept(7),
    [0, 3],
    "the trim of wal is volatile; a failed or lost write is nothing",
  );
  assert.deepEqual(kept(8), [0, 3, 6], "wal's own flush covers its trim");
  assert.deepEqual(kept(100), [0, 3, 6], "the check phase's ops are not the run's");
  const at7 = selectCrashWrites(records, 7, { kind: "drop" });
  assert.deepEqual([at7.volatileCount, at7.droppedCount], [2, 2], "write 1 and the trim");
  // The key says which write's bytes end up where on each disk.
  assert.equal(at7.key, "app/data:0-512=0,4096-4608=3");
});

Deno.test("crash state: a kept write without its data (--no-data) is refused as a usage error", () => {
  const records = [
    opRecord({ index: 0, done: 1, length: 512 }),
    opRecord({ index: 1, done: 2, op: "flush" }),
    opRecord({ index: 2, done: 3, length: 512 }),
  ];
  // Nothing kept needs data: the volatile write is dropped anyway.
  assert.deepEqual(selectCrashWrites(records, 1, { kind: "drop" }).writes, []);
  assert.throws(
    () => selectCrashWrites(records, 3, { kind: "drop" }),
    (e: unknown) => e instanceof RunError && e.kind === "usage" && /--no-data/.test(e.message),
  );
});

Deno.test("writeCrashImages: copies of the bases with the surviving writes applied in completion order", async () => {
  await using dir = await makePrivateDir("faultline-crash-test-");
  const size = 16 * 1024;
  const bases = new Map<string, string>();
  const model = new Map<string, Uint8Array>();
  for (const [key, seed] of [["db/data", 1], ["db/wal", 2], ["app/idle", 3]] as const) {
    const bytes = new Uint8Array(size);
    seededFill(seed)(bytes);
    const path = join(dir.path, `${seed}.raw`);
    await Deno.writeFile(path, bytes);
    bases.set(key, path);
    model.set(key, bytes.slice());
  }
  const random = prng(5);
  const write = (index: number, disk: string, offset: number, length: number) =>
    opRecord({ index, done: index + 1, node: "db", disk, offset, data: random.bytes(length) });
  const overlapping = [write(0, "data", 1000, 3000), write(1, "data", 2000, 1000)];
  const trim = opRecord({ index: 2, done: 3, node: "db", disk: "wal", op: "trim", offset: 512 });
  const zeroes = opRecord({
    index: 3,
    done: 4,
    node: "db",
    disk: "wal",
    op: "write-zeroes",
    offset: 8192,
    length: 4096,
  });
  const torn = write(4, "wal", 12288, 2048);
  const selection: CrashSelection = {
    cutAt: 5,
    writes: [
      { record: overlapping[1], keepBytes: 1000 },
      { record: overlapping[0], keepBytes: 3000 }, // completed later: it wins where they overlap
      { record: trim, keepBytes: 512 },
      { record: zeroes, keepBytes: 4096 },
      { record: torn, keepBytes: 1024 },
    ],
    volatileCount: 1,
    droppedCount: 0,
    dropped: [],
    key: "",
  };
  model.get("db/data")!.set(overlapping[1].data!, 2000);
  model.get("db/data")!.set(overlapping[0].data!, 1000);
  model.get("db/wal")!.fill(0, 512, 1024);
  model.get("db/wal")!.fill(0, 8192, 12288);
  model.get("db/wal")!.set(torn.data!.subarray(0, 1024), 12288);

  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  const images = await writeCrashImages(selection, bases, out);
  assert.deepEqual([...images.keys()].sort(), ["app/idle", "db/data", "db/wal"]);
  for (const [key, image] of images) {
    assert.equal(image.path, join(out, `${key.replace("/", "-")}.crash.raw`));
    const bytes = await Deno.readFile(image.path);
    assert.deepEqual(bytes, model.get(key), key);
    assert.equal(image.sha256, sha256Bytes(bytes), key);
    assert.equal((await Deno.stat(image.path)).mode! & 0o777, 0o600);
  }
  for (const [key, path] of bases) {
    const base = new Uint8Array(size);
    seededFill(["db/data", "db/wal", "app/idle"].indexOf(key) + 1)(base);
    assert.deepEqual(await Deno.readFile(path), base, `the base of ${key} is unchanged`);
  }

  const stray = { ...selection, writes: [{ record: write(9, "nope", 0, 512), keepBytes: 512 }] };
  await assert.rejects(
    writeCrashImages(stray, bases, out),
    (e: unknown) =>
      e instanceof RunError && /db\/nope, a disk the run does not have/.test(e.message),
  );
});
