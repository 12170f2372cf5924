/**
 * checkHistory's answers beyond any one model: an empty history, budgets that run out
 * ("unknown", never "valid"), options a model does not take, an unknown model.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ednHistory } from "../../tests/support/histories.ts";
import { checkHistory } from "./check.ts";
import { parseHistory } from "./parse.ts";

/** A register history whose search needs many steps: many concurrent writes, then reads. */
function busyRegister(writers: number): string {
  const lines: string[] = [];
  for (let p = 0; p < writers; p++) lines.push(`${p} invoke write ${p}`);
  for (let p = 0; p < writers; p++) lines.push(`${p} ok write ${p}`);
  // A read of a value never written: illegal, but only after every order is tried.
  lines.push(`${writers} invoke read`, `${writers} ok read 999`);
  return ednHistory(lines);
}

Deno.test("check: an empty history is valid, with a note", () => {
  for (const model of ["register", "kv"]) {
    const result = checkHistory([], { model });
    assert.equal(result.valid, true);
    assert.deepEqual([result.ops, result.checked], [0, 0]);
    assert.deepEqual(result.notes, ["the history has no client ops: nothing to check"]);
  }
});

Deno.test("check: a step budget that runs out answers unknown, and says so", () => {
  const ops = parseHistory(busyRegister(8));
  assert.equal(checkHistory(ops, { model: "register" }).valid, false);
  const cut = checkHistory(ops, { model: "register", maxSteps: 50 });
  assert.equal(cut.valid, "unknown");
  assert.equal(cut.counterexample, undefined);
  assert.equal(cut.search!.steps, 50);
  assert.deepEqual(
    cut.notes.at(-1),
    "the search ran out of its budget (50 steps) with 1 of 1 key undecided",
  );
});

Deno.test("check: a time budget that runs out answers unknown (a clock that moves 1 s a reading)", () => {
  let clock = 0;
  const now = () => (clock += 1000);
  // 12 concurrent writers: about 160,000 steps, 8 slices; the clock passes 2.5 s at the third.
  const ops = parseHistory(busyRegister(12));
  const result = checkHistory(ops, { model: "register", timeoutMs: 2500, now });
  assert.equal(result.valid, "unknown");
  assert.equal(result.search!.steps, 60_000);
  assert.equal(checkHistory(ops, { model: "register" }).valid, false, "given the time, it decides");
  assert.match(result.notes.at(-1)!, /ran out of its budget \(2500 ms\) with 1 of 1 key undecided/);
});

Deno.test("check: a memory budget that runs out answers unknown, before the machine runs out", () => {
  const ops = parseHistory(busyRegister(12));
  const result = checkHistory(ops, { model: "register", maxMemoryBytes: 64 * 1024 });
  assert.equal(result.valid, "unknown");
  assert.match(
    result.notes.at(-1)!,
    /ran out of its budget \(65536 bytes of memory\) with 1 of 1 key undecided/,
  );
});

Deno.test("check: an unknown model, or an option the model does not take, is bad input", () => {
  assert.throws(
    () => checkHistory([], { model: "btree" }),
    /^HistoryError: unknown model "btree": expected register, kv, set or queue$/,
  );
  assert.throws(
    () => checkHistory([], { model: "kv", initial: 0 }),
    /the kv model takes no initial value/,
  );
});
