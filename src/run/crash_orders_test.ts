import assert from "node:assert/strict";
import { parseFaultSpec } from "../fault/spec.ts";
import { completedOp } from "../trace/ops.ts";
import type { OpRecord } from "../trace/schema.ts";
import { crashStatesAt, selectCrashWrites, withLiedFlushes, writesAtCut } from "./crash_state.ts";
import { RunError } from "./errors.ts";
import { kindOf } from "../fault/kinds/mod.ts";
import { opRecord } from "../../tests/support/ops.ts";

/** A hand-made trace: each op completes before the next arrives (done = index + 1). */
function trace(...ops: [OpRecord["op"], number?, number?, Partial<OpRecord>?][]): OpRecord[] {
  return ops.map(([op, offset = 0, length = 0, extra = {}], index) =>
    opRecord({
      index,
      op,
      offset,
      length,
      ...(op === "write" ? { data: new Uint8Array(length).fill(index + 1) } : {}),
      phase: "run",
      ...extra,
    })
  );
}

// Op 0 and 1 are made durable by flush 2; 3, 4, 5 and 7 are volatile at op 8 (6 is a read);
// write 5 covers exactly what write 3 wrote.
const records = trace(
  ["write", 0, 4096],
  ["write", 4096, 4096],
  ["flush"],
  ["write", 8192, 512],
  ["write", 12288, 512],
  ["write", 8192, 512],
  ["read", 0, 4096],
  ["write-zeroes", 16384, 4096],
  ["flush"],
);

Deno.test("the writes at a cut: stored ones, and the volatile ones in write order", () => {
  const at = writesAtCut(records, 8);
  assert.deepEqual(at.stored.map((r) => r.index), [0, 1, 3, 4, 5, 7]);
  assert.deepEqual(at.volatile.map((r) => r.index), [3, 4, 5, 7]);
  assert.deepEqual(writesAtCut(records, 2).volatile.map((r) => r.index), [0, 1]);
  assert.deepEqual(writesAtCut(records, 3).volatile.map((r) => r.index), []);
});

Deno.test("each: one state per volatile write dropped alone, in write order; none when nothing is volatile", () => {
  const each = crashStatesAt(records, 8, { kind: "each" }, 1);
  assert.deepEqual(each.volatile, [3, 4, 5, 7]);
  assert.deepEqual(each.states.map((s) => s.id), ["3", "4", "5", "7"]);
  assert.equal(each.total, 4);
  assert.equal(each.sampled, false);
  assert.deepEqual(crashStatesAt(records, 3, { kind: "each" }, 1).states.map((s) => s.id), [
    "none",
  ]);
});

Deno.test("all: every subset up to max volatile writes, else a seeded sample, said so", () => {
  const all = crashStatesAt(records, 8, { kind: "all", max: 10 }, 1);
  assert.equal(all.states.length, 16);
  assert.equal(new Set(all.states.map((s) => s.id)).size, 16);
  assert.deepEqual(all.states.slice(0, 4).map((s) => s.id), ["none", "3", "4", "3+4"]);
  assert.equal(all.states.at(-1)!.id, "3+4+5+7");
  const sample = crashStatesAt(records, 8, { kind: "all", max: 2 }, 1);
  assert.equal(sample.sampled, true);
  assert.equal(sample.total, 16);
  assert.equal(sample.states.length, 4); // 2^max by default
  assert.equal(new Set(sample.states.map((s) => s.id)).size, 4);
  assert.deepEqual(crashStatesAt(records, 8, { kind: "all", max: 2 }, 1), sample, "seeded");
  assert.equal(crashStatesAt(records, 8, { kind: "all", max: 2, count: 3 }, 1).states.length, 3);
});

Deno.test("orders=K: K distinct seeded subsets, or every subset when there are no more", () => {
  const five = crashStatesAt(records, 8, { kind: "orders", count: 5 }, 7);
  assert.equal(five.states.length, 5);
  assert.equal(new Set(five.states.map((s) => s.id)).size, 5);
  assert.equal(five.sampled, true);
  assert.deepEqual(crashStatesAt(records, 8, { kind: "orders", count: 5 }, 7), five);
  assert.notDeepEqual(crashStatesAt(records, 8, { kind: "orders", count: 5 }, 8), five);
  const every = crashStatesAt(records, 8, { kind: "orders", count: 64 }, 7);
  assert.equal(every.states.length, 16);
  assert.equal(every.sampled, false);
});

Deno.test("state=ID drops exactly the writes it names; a write that is not volatile is refused", () => {
  const selection = selectCrashWrites(records, 8, { kind: "state", dropped: [4, 7] });
  assert.deepEqual(selection.writes.map((w) => w.record.index), [0, 1, 3, 5]);
  assert.equal(selection.volatileCount, 4);
  assert.equal(selection.droppedCount, 2);
  assert.throws(
    () => selectCrashWrites(records, 8, { kind: "state", dropped: [1] }),
    (e: unknown) =>
      e instanceof RunError && /op 1, which is not a volatile write at op 8/.test(e.message) &&
      /3, 4, 5, 7/.test(e.message),
  );
  const variantOf = (spec: string) => {
    const { effect } = parseFaultSpec(spec);
    return kindOf(effect).fromTrace!.variant(effect, 1);
  };
  assert.deepEqual(variantOf("power-loss:state=4+7"), { kind: "state", dropped: [4, 7] });
  assert.equal(variantOf("power-loss:each"), undefined);
});

Deno.test("states whose bytes end up the same share a key: a write later overwritten counts for nothing", () => {
  const key = (dropped: number[]) => selectCrashWrites(records, 8, { kind: "state", dropped }).key;
  // Write 5 rewrites write 3's bytes: dropping 3 alone leaves the disk as keeping everything.
  assert.equal(key([3]), key([]));
  assert.notEqual(key([5]), key([]));
  assert.notEqual(key([4]), key([7]));
  assert.equal(key([3, 4]), key([4]));
  assert.equal(selectCrashWrites(records, 8, { kind: "drop" }).key, key([3, 4, 5, 7]));
});

Deno.test("a lying disk: from the lie on, flushes make nothing durable and FUA writes stay volatile", () => {
  const fua = trace(
    ["write", 0, 512],
    ["flush"],
    ["write", 512, 512],
    ["flush"],
    ["write", 1024, 512, { fua: true }],
    ["read", 0, 512],
  );
  const honest = writesAtCut(fua, 5).volatile.map((r) => r.index);
  assert.deepEqual(honest, []);
  const lying = withLiedFlushes(fua, { seed: 1, rules: [parseFaultSpec("lie-flush@2")] });
  assert.deepEqual(lying.map((r) => r.fault?.kind ?? ""), [
    "",
    "",
    "",
    "lie-flush",
    "lie-flush",
    "",
  ]);
  assert.deepEqual(writesAtCut(lying, 5).volatile.map((r) => r.index), [2, 4]);
  assert.equal(completedOp(lying[3]).stored, false);
  assert.equal(completedOp(lying[4]).fua, false);
  const fuaOnly = withLiedFlushes(fua, { seed: 1, rules: [parseFaultSpec("lie-flush:fua")] });
  assert.deepEqual(writesAtCut(fuaOnly, 5).volatile.map((r) => r.index), [4]);
  // The plan's other rules do nothing here.
  assert.deepEqual(withLiedFlushes(fua, { seed: 1, rules: [parseFaultSpec("eio@1")] }), fua);
});
