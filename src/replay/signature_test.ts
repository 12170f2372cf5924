import assert from "node:assert/strict";
import { formatTrigger, parseTrigger } from "../fault/spec.ts";
import { byIndex } from "../trace/load.ts";
import type { OpRecord } from "../trace/schema.ts";
import { ReplayError } from "./errors.ts";
import {
  comparePrefix,
  describePrefix,
  type OpSignature,
  recordedOpOfTrigger,
  triggerOfRecordedOp,
} from "./signature.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { prng } from "../../tests/support/random.ts";
import { randomTrace } from "../../tests/support/random_trace.ts";

const TWO_NODES = [{ node: "a", disk: "data" }, { node: "b", disk: "data" }, {
  node: "a",
  disk: "wal",
}];

/** Ops in arrival order with few distinct signatures: the same write and flush recur. */
function recurring(): OpRecord[] {
  const ops: [string, string, OpRecord["op"], number, number][] = [
    ["a", "data", "write", 0, 512],
    ["a", "data", "flush", 0, 0],
    ["b", "data", "write", 0, 512], // the same offset and length on another node
    ["a", "data", "write", 0, 512],
    ["a", "wal", "write", 0, 512], // and on another disk
    ["a", "data", "write", 0, 1024], // another length
    ["a", "data", "read", 0, 512], // another type
    ["a", "data", "write", 0, 512],
    ["a", "data", "flush", 0, 0],
  ];
  return ops.map(([node, disk, op, offset, length], index) =>
    opRecord({ index, node, disk, op, offset, length })
  );
}

Deno.test("triggerOfRecordedOp names an op by its signature and occurrence; other nodes, disks, types and lengths differ", () => {
  const ordered = recurring();
  const occurrence = (index: number) => {
    const trigger = triggerOfRecordedOp(ordered, index);
    assert.equal(trigger.kind, "match");
    return trigger.kind === "match" ? trigger.occurrence : undefined;
  };
  assert.deepEqual(ordered.map((op) => occurrence(op.index)), [1, 1, 1, 2, 1, 1, 1, 3, 2]);
  assert.deepEqual(triggerOfRecordedOp(ordered, 7), {
    kind: "match",
    node: "a",
    disk: "data",
    type: "write",
    exact: { offset: 0, length: 512 },
    occurrence: 3,
  });
  assert.equal(formatTrigger(triggerOfRecordedOp(ordered, 8)), "a/data/flush:0+0#2");
});

Deno.test("triggerOfRecordedOp refuses an op the trace lacks, saying how its ops are numbered", () => {
  assert.throws(
    () => triggerOfRecordedOp(recurring(), 9),
    (e: unknown) =>
      e instanceof ReplayError &&
      e.message === "the trace has no op 9 (its ops are numbered 0 to 8)",
  );
  assert.throws(() => triggerOfRecordedOp(recurring(), -1), ReplayError);
});

Deno.test("recorded op -> trigger -> text -> trigger -> the same recorded op, over random traces", () => {
  let repeated = 0;
  for (let seed = 1; seed <= 20; seed++) {
    // Few sectors: signatures repeat often; flushes all share one per disk.
    const ordered = byIndex(randomTrace(seed, { ops: 80, disks: TWO_NODES, sectors: 4 }));
    for (const op of ordered) {
      const trigger = triggerOfRecordedOp(ordered, op.index);
      assert.equal(recordedOpOfTrigger(ordered, trigger)?.index, op.index, `seed ${seed}`);
      const text = formatTrigger(trigger);
      assert.equal(
        recordedOpOfTrigger(ordered, parseTrigger(text))?.index,
        op.index,
        `seed ${seed}: ${text}`,
      );
      if (trigger.kind === "match" && (trigger.occurrence ?? 1) > 1) repeated++;
    }
  }
  assert.ok(repeated > 200, `only ${repeated} of 1600 ops repeat a signature`);
});

Deno.test("recordedOpOfTrigger: index triggers, the first occurrence by default, any node or disk when not named", () => {
  const ordered = recurring();
  assert.equal(recordedOpOfTrigger(ordered, { kind: "index", index: 4 })?.index, 4);
  assert.equal(recordedOpOfTrigger(ordered, { kind: "index", index: 40 }), undefined);
  const write512 = { kind: "match", type: "write", exact: { offset: 0, length: 512 } } as const;
  assert.equal(recordedOpOfTrigger(ordered, write512)?.index, 0, "occurrence 1 by default");
  // Without node and disk, every node's and disk's op with that type, offset and length counts.
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((occurrence) =>
      recordedOpOfTrigger(ordered, { ...write512, occurrence })?.index
    ),
    [0, 2, 3, 4, 7],
  );
  assert.equal(recordedOpOfTrigger(ordered, { ...write512, occurrence: 6 }), undefined);
  assert.equal(recordedOpOfTrigger(ordered, { ...write512, node: "b", occurrence: 2 }), undefined);
  assert.equal(recordedOpOfTrigger(ordered, { ...write512, disk: "wal" })?.index, 4);
  assert.equal(recordedOpOfTrigger(ordered, parseTrigger("data/write:0+512#3"))?.index, 3);
  // Triggers that name no single op: time, always, a range, no type.
  assert.equal(recordedOpOfTrigger(ordered, { kind: "time", afterMs: 0 }), undefined);
  assert.equal(recordedOpOfTrigger(ordered, { kind: "always" }), undefined);
  assert.equal(recordedOpOfTrigger(ordered, parseTrigger("data/write:0-4096")), undefined);
  assert.equal(recordedOpOfTrigger(ordered, parseTrigger("any:0+512")), undefined);
});

function sig(text: string): OpSignature {
  const [, node, disk, op, offset, length] = /^(\w+)\/(\w+)\/([\w-]+):(\d+)\+(\d+)$/.exec(text)!;
  return {
    node,
    disk,
    op: op as OpSignature["op"],
    offset: Number(offset),
    length: Number(length),
  };
}
const sigs = (...texts: string[]) => texts.map(sig);

Deno.test("comparePrefix: identical, reordered, or diverged at the first difference", () => {
  const w0 = "a/data/write:0+512";
  const w1 = "a/data/write:512+512";
  const f = "a/data/flush:0+0";
  assert.deepEqual(comparePrefix(sigs(w0, f, w1), sigs(w0, f, w1)), { kind: "identical", ops: 3 });
  assert.deepEqual(comparePrefix([], []), { kind: "identical", ops: 0 });
  assert.deepEqual(comparePrefix(sigs(w0, f, w1), sigs(w1, w0, f)), { kind: "reordered", ops: 3 });
  assert.deepEqual(comparePrefix(sigs(w0, f, w1), sigs(w0, w1, w1)), {
    kind: "diverged",
    at: 1,
    recorded: sig(f),
    replayed: sig(w1),
    ops: 3,
  });
  // A repeated signature counts as many times as it occurs.
  assert.equal(comparePrefix(sigs(w0, w0, f), sigs(w0, f, f)).kind, "diverged");
  assert.equal(comparePrefix(sigs(w0, w0, f), sigs(f, w0, w0)).kind, "reordered");
  // One is a prefix of the other: diverged where the shorter ends.
  assert.deepEqual(comparePrefix(sigs(w0, f), sigs(w0)), {
    kind: "diverged",
    at: 1,
    recorded: sig(f),
    replayed: null,
    ops: 2,
  });
  assert.deepEqual(comparePrefix(sigs(w0), sigs(w0, f)), {
    kind: "diverged",
    at: 1,
    recorded: null,
    replayed: sig(f),
    ops: 1,
  });
  // Node and disk are part of the signature.
  assert.equal(comparePrefix(sigs(w0), sigs("b/data/write:0+512")).kind, "diverged");
  assert.equal(comparePrefix(sigs(w0), sigs("a/wal/write:0+512")).kind, "diverged");
  // Only the signature's fields are compared, not whatever else the records carry.
  assert.equal(
    comparePrefix([opRecord({ index: 0, start: 1 })], [opRecord({ index: 5, start: 9 })]).kind,
    "identical",
  );
});

Deno.test("comparePrefix agrees with a naive comparison on random sequences of recurring signatures", () => {
  const random = prng(4);
  const pool = sigs("a/d/write:0+512", "a/d/write:512+512", "a/d/flush:0+0", "b/d/write:0+512");
  const key = (s: OpSignature) => JSON.stringify(s);
  const counts = { identical: 0, reordered: 0, diverged: 0 };
  for (let round = 0; round < 2000; round++) {
    const a = Array.from({ length: random.below(6) }, () => random.pick(pool));
    let b = [...a];
    const change = random.below(4);
    if (change === 1) b = b.sort(() => random.float() - 0.5);
    if (change === 2 && b.length > 0) b[random.below(b.length)] = random.pick(pool);
    if (change === 3) {
      b = random.chance(0.5) ? b.slice(0, random.below(b.length + 1)) : [...b, random.pick(pool)];
    }
    const result = comparePrefix(a, b);
    const same = a.map(key).join() === b.map(key).join();
    const sameBag = a.map(key).sort().join() === b.map(key).sort().join() && a.length === b.length;
    const expected = same ? "identical" : sameBag ? "reordered" : "diverged";
    assert.equal(result.kind, expected, `${a.map(key)} / ${b.map(key)}`);
    assert.equal(result.ops, a.length);
    if (result.kind === "diverged") {
      let first = 0;
      while (first < a.length && first < b.length && key(a[first]) === key(b[first])) first++;
      assert.equal(result.at, first);
      assert.deepEqual(result.recorded, a[first] ?? null);
      assert.deepEqual(result.replayed, b[first] ?? null);
    }
    counts[result.kind]++;
  }
  assert.ok(Object.values(counts).every((n) => n > 100), JSON.stringify(counts));
});

Deno.test("describePrefix: one line for each kind", () => {
  assert.equal(describePrefix({ kind: "identical", ops: 42 }), "identical (42 ops)");
  assert.equal(describePrefix({ kind: "reordered", ops: 7 }), "the same 7 ops, reordered");
  assert.equal(
    describePrefix(comparePrefix(sigs("app/data/write:4096+512"), sigs("app/data/flush:0+0"))),
    "diverged at op 0: recorded app/data/write:4096+512, replayed app/data/flush:0+0",
  );
  assert.equal(
    describePrefix(comparePrefix(sigs("app/data/write:0+512"), [])),
    "diverged at op 0: recorded app/data/write:0+512, replayed nothing",
  );
  assert.equal(
    describePrefix(comparePrefix([], sigs("app/data/write:0+512"))),
    "diverged at op 0: recorded nothing, replayed app/data/write:0+512",
  );
});

Deno.test("a point recorded in the run phase matches only run-phase ops: never the same signature in the check", () => {
  const ops = [
    opRecord({
      index: 0,
      node: "p1",
      disk: "data",
      op: "flush",
      offset: 0,
      length: 0,
      phase: "run",
    }),
    opRecord({
      index: 1,
      node: "p1",
      disk: "data",
      op: "flush",
      offset: 0,
      length: 0,
      phase: "run",
    }),
    opRecord({
      index: 2,
      node: "p1",
      disk: "data",
      op: "flush",
      offset: 0,
      length: 0,
      phase: "check",
    }),
    opRecord({
      index: 3,
      node: "p1",
      disk: "data",
      op: "flush",
      offset: 0,
      length: 0,
      phase: "check",
    }),
  ];
  const second = triggerOfRecordedOp(ops, 1);
  assert.equal(formatTrigger(second), "run:p1/data/flush:0+0#2");
  assert.deepEqual(parseTrigger(formatTrigger(second)), second);
  // The check's first flush is the first of its phase, not the third of the trace.
  assert.equal(formatTrigger(triggerOfRecordedOp(ops, 2)), "check:p1/data/flush:0+0#1");
  // A replay whose run phase issued one flush: the run-phase point has no op there.
  const shorter = [ops[0], ops[2], ops[3]].map((op, index) => ({ ...op, index }));
  assert.equal(recordedOpOfTrigger(shorter, second), undefined);
  assert.equal(recordedOpOfTrigger(ops, second)?.index, 1);
});
