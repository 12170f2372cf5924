/**
 * The set model on small histories whose answers are derived by hand in the comments.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ednHistory } from "../../../tests/support/histories.ts";
import { checkHistory } from "../check.ts";
import { parseHistory } from "../parse.ts";

const check = (lines: string[]) =>
  checkHistory(parseHistory(ednHistory(lines), { file: "set.edn" }), {
    model: "set",
    file: "set.edn",
  });

Deno.test("set: valid: every acknowledged add is in the reads that began after it", () => {
  // 1 is acknowledged before both reads begin; 2 is added concurrently with the first read,
  // which may miss it, and the second read has it.
  const result = check([
    "0 invoke add 1",
    "0 ok add 1",
    "0 invoke add 2",
    "1 invoke read",
    "1 ok read #{1}",
    "0 ok add 2",
    "1 invoke read",
    "1 ok read #{1 2}",
  ]);
  assert.equal(result.valid, true);
  assert.deepEqual(result.anomalies!.counts, {
    attempted: 2,
    stable: 2,
    stale: 0,
    lost: 0,
    "never-read": 0,
    unexpected: 0,
    recovered: 0,
    duplicated: 0,
  });
});

Deno.test("set: invalid: an acknowledged add missing from the last read; an element never added", () => {
  // 1 is acknowledged, then the last read lacks it: lost. 9 was never added: unexpected.
  const result = check([
    "0 invoke add 1",
    "0 ok add 1",
    "1 invoke read",
    "1 ok read [1]",
    "1 invoke read",
    "1 ok read [9]",
  ]);
  assert.equal(result.valid, false);
  assert.equal(result.anomalies!.counts.lost, 1);
  assert.equal(result.anomalies!.counts.unexpected, 1);
  assert.deepEqual(result.anomalies!.examples, { lost: ["1"], unexpected: ["9"] });
});

Deno.test("set: an element read only thanks to an indeterminate add: valid (recovered); failed: invalid", () => {
  // 3's add is indeterminate: it may have happened, so reading 3 is fine, and once read it
  // is known: the second read must have it too. A failed add did not happen: reading its
  // element is unexpected.
  const lines = (
    outcome: string,
  ) => [
    "0 invoke add 3",
    `0 ${outcome} add 3`,
    "1 invoke read",
    "1 ok read #{3}",
    "1 invoke read",
    "1 ok read #{3}",
  ];
  const recovered = check(lines("info"));
  assert.equal(recovered.valid, true);
  assert.equal(recovered.anomalies!.counts.recovered, 1);
  const failed = check(lines("fail"));
  assert.equal(failed.valid, false);
  assert.equal(failed.anomalies!.counts.unexpected, 1);
});

Deno.test("set: stale reads are counted, not failed; nothing read after it was known is unknown", () => {
  // 1 is acknowledged; a read that began after misses it, the last read has it: stale.
  const stale = check([
    "0 invoke add 1",
    "0 ok add 1",
    "1 invoke read",
    "1 ok read #{}",
    "1 invoke read",
    "1 ok read #{1}",
  ]);
  assert.equal(stale.valid, true);
  assert.equal(stale.anomalies!.counts.stale, 1);
  // The only read began before the add completed: nothing was checked.
  const unread = check(["0 invoke add 1", "1 invoke read", "1 ok read #{}", "0 ok add 1"]);
  assert.equal(unread.valid, "unknown");
  assert.equal(unread.anomalies!.counts["never-read"], 1);
});

Deno.test("set: bad input: a read of something that is not a collection, an unknown function", () => {
  assert.throws(
    () => check(["1 invoke read", "1 ok read 5"]),
    /^HistoryError: set\.edn:2: expected what a read read, a set or a vector, found 5$/,
  );
  assert.throws(
    () => check(["1 invoke remove 1", "1 ok remove 1"]),
    /set\.edn:1: expected :f :add or :read/,
  );
});
