/**
 * The register model on small histories whose answers are derived by hand in the
 * comments: a valid one, an invalid one, and ones where only an indeterminate op makes
 * the history valid.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ednHistory } from "../../../tests/support/histories.ts";
import { checkHistory, type CheckHistoryOptions } from "../check.ts";
import { parseHistory } from "../parse.ts";

const check = (lines: string[], options: Partial<CheckHistoryOptions> = {}) =>
  checkHistory(parseHistory(ednHistory(lines), { file: "h.edn" }), {
    model: "register",
    file: "h.edn",
    ...options,
  });

Deno.test("register: valid: a read concurrent with a write sees it; a cas from the value read", () => {
  // write 1 completes; read and write 2 overlap, the read returns 2: write 2 is linearized
  // before the read; the cas 2 -> 3 then finds 2, and the last read sees 3.
  const result = check([
    "0 invoke write 1",
    "0 ok write 1",
    "1 invoke read",
    "2 invoke write 2",
    "1 ok read 2",
    "2 ok write 2",
    "1 invoke cas [2 3]",
    "1 ok cas [2 3]",
    "0 invoke read",
    "0 ok read 3",
  ]);
  assert.equal(result.valid, true);
  assert.deepEqual([result.ops, result.checked, result.keys], [10, 5, 1]);
  assert.equal(result.counterexample, undefined);
});

Deno.test("register: invalid: a stale read after a later write completed", () => {
  // write 1 then write 2, each completed before the read began: the register holds 2 when
  // the read starts, so reading 1 cannot be linearized. The longest partial linearization
  // is write 1, write 2 (state 2), and the read is the op that cannot follow it. The window
  // keeps the state the read met: write 1 goes, write 2 stays.
  const result = check([
    "0 invoke write 1",
    "0 ok write 1",
    "0 invoke write 2",
    "0 ok write 2",
    "1 invoke read",
    "1 ok read 1",
  ]);
  assert.equal(result.valid, false);
  const example = result.counterexample!;
  assert.equal(example.offending.description, "read -> 1");
  assert.equal(example.offending.invokeLine, 5);
  assert.deepEqual(
    example.ops.map((op) => [op.description, op.linearizedAt, op.stateAfter, op.offending]),
    [["write 2", 1, "2", false], ["read -> 1", null, null, true]],
  );
  assert.equal(example.keyLinearized, 2);
});

Deno.test("register: only an indeterminate write explains a read: valid; the same write failed: invalid", () => {
  // The read of 2 begins after write 1 completed; only process 1's write of 2, whose
  // outcome is unknown (info), can have put 2 there. Had it failed, it did not happen,
  // and nothing wrote 2.
  const lines = (outcome: string) => [
    "0 invoke write 1",
    "0 ok write 1",
    "1 invoke write 2",
    `1 ${outcome} write 2`,
    "2 invoke read",
    "2 ok read 2",
  ];
  assert.equal(check(lines("info")).valid, true);
  const failed = check(lines("fail"));
  assert.equal(failed.valid, false);
  assert.equal(failed.counterexample!.offending.description, "read -> 2");
  assert.match(failed.notes.join("\n"), /1 failed op left out/);
});

Deno.test("register: an indeterminate op may never take effect, even a cas that could not", () => {
  // The write of 5 never completed and the cas 9 -> 6 is info: the read of 1 is valid only
  // if neither took effect, which indeterminate ops may do.
  const result = check([
    "0 invoke write 1",
    "0 ok write 1",
    "1 invoke write 5",
    "3 invoke cas [9 6]",
    "3 info cas [9 6]",
    "2 invoke read",
    "2 ok read 1",
  ]);
  assert.equal(result.valid, true);
  assert.match(result.notes.join("\n"), /2 indeterminate ops \(1 info, 1 never completed\)/);
});

Deno.test("register: nil at first, or the initial value given", () => {
  const lines = ["0 invoke read", "0 ok read 0"];
  assert.equal(check(lines).valid, false);
  assert.equal(check(lines, { initial: 0 }).valid, true);
  assert.equal(check(["0 invoke read", "0 ok read nil"]).valid, true);
});

Deno.test("register: one register per key, checked alone; the failing key is named", () => {
  // Key 1 is fine; key 2 reads 7, never written to it (7 was written to key 1).
  const result = check([
    "0 invoke write [1 7]",
    "0 ok write [1 7]",
    "1 invoke read [2 nil]",
    "1 ok read [2 7]",
    "2 invoke read [1 nil]",
    "2 ok read [1 7]",
  ]);
  assert.equal(result.valid, false);
  assert.equal(result.keys, 2);
  assert.equal(result.counterexample!.key, "2");
  assert.deepEqual(result.counterexample!.ops.map((op) => op.description), ["read -> 7"]);
});

Deno.test("register: a cas without [from to], an unknown function: bad input at the line", () => {
  assert.throws(
    () => check(["0 invoke write 1", "0 ok write 1", "1 invoke cas 3", "1 ok cas 3"]),
    /^HistoryError: h\.edn:3: expected a cas's value \[from to\], found 3$/,
  );
  assert.throws(
    () => check(["0 invoke incr 1", "0 ok incr 1"]),
    /h\.edn:1: expected :f :read, :write or :cas \(the register model\), found :incr/,
  );
  assert.throws(() => check([], { mode: "exactly-once" }), /the register model takes no mode/);
});
