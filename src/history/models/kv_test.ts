/**
 * The kv model on small histories whose answers are derived by hand in the comments.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ednHistory } from "../../../tests/support/histories.ts";
import { checkHistory } from "../check.ts";
import { parseHistory } from "../parse.ts";

const check = (lines: string[]) =>
  checkHistory(parseHistory(ednHistory(lines), { file: "kv.edn" }), {
    model: "kv",
    file: "kv.edn",
  });

Deno.test("kv: valid: a get concurrent with an append sees it; a key never written reads empty", () => {
  // put x "a"; an append of "b" overlaps a get that returns "ab": the append is linearized
  // first. y was never written: its get returns "" (and a get of nil reads the same).
  const result = check([
    '0 invoke put "a" | :key "x"',
    '0 ok put "a" | :key "x"',
    '1 invoke append "b" | :key "x"',
    '2 invoke get nil | :key "x"',
    '1 ok append "b" | :key "x"',
    '2 ok get "ab" | :key "x"',
    '0 invoke get nil | :key "y"',
    '0 ok get "" | :key "y"',
    '0 invoke get nil | :key "z"',
    '0 ok get nil | :key "z"',
  ]);
  assert.equal(result.valid, true);
  assert.equal(result.keys, 3);
});

Deno.test("kv: invalid: appends seen in the wrong order, on one key of two", () => {
  // "a" then "b" are appended one after the other; a later get returns "ba", which no order
  // of the appends that respects real time gives. Key y is fine; x is named.
  const result = check([
    '0 invoke append "a" | :key "x"',
    '0 ok append "a" | :key "x"',
    '0 invoke put "q" | :key "y"',
    '0 ok put "q" | :key "y"',
    '0 invoke append "b" | :key "x"',
    '0 ok append "b" | :key "x"',
    '1 invoke get nil | :key "x"',
    '1 ok get "ba" | :key "x"',
  ]);
  assert.equal(result.valid, false);
  const example = result.counterexample!;
  assert.equal(example.key, '"x"');
  assert.equal(example.offending.description, 'get -> "ba"');
  assert.equal(example.offending.stateAfter, null);
  // The get met "ab": both appends stay in the window, linearized in their order.
  assert.deepEqual(
    example.ops.filter((op) => op.linearizedAt !== null).map((
      op,
    ) => [op.description, op.stateAfter]),
    [['append "a"', '"a"'], ['append "b"', '"ab"']],
  );
});

Deno.test("kv: only an indeterminate append explains a get: valid; had it failed, invalid", () => {
  // The get of "ac" begins after the append of "a" completed; "c" was appended by an op
  // whose outcome is unknown, which may have taken effect.
  const lines = (outcome: string) => [
    '0 invoke append "a" | :key "k"',
    '0 ok append "a" | :key "k"',
    '1 invoke append "c" | :key "k"',
    `1 ${outcome} append "c" | :key "k"`,
    '2 invoke get nil | :key "k"',
    '2 ok get "ac" | :key "k"',
  ];
  assert.equal(check(lines("info")).valid, true);
  assert.equal(check(lines("fail")).valid, false);
});

Deno.test("kv: a value that is not a string is bad input at its line", () => {
  assert.throws(
    () => check(['0 invoke put 3 | :key "k"', '0 ok put 3 | :key "k"']),
    /^HistoryError: kv\.edn:2: expected what a put writes, a string, found 3$/,
  );
  assert.throws(
    () => check(['0 invoke get nil | :key "k"', '0 ok get [1] | :key "k"']),
    /kv\.edn:2: expected what a get read, a string, found \[1\]/,
  );
  assert.throws(
    () => check(['0 invoke read nil | :key "k"', '0 ok read "" | :key "k"']),
    /kv\.edn:1: expected :f :get, :put or :append \(the kv model\), found :read/,
  );
});
