/**
 * The queue model on small histories whose answers are derived by hand in the comments.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ednHistory } from "../../../tests/support/histories.ts";
import { checkHistory } from "../check.ts";
import { parseHistory } from "../parse.ts";

const check = (lines: string[], mode?: string) =>
  checkHistory(parseHistory(ednHistory(lines), { file: "q.edn" }), {
    model: "queue",
    file: "q.edn",
    ...(mode ? { mode } : {}),
  });

Deno.test("queue: valid: every acknowledged message delivered once, in order", () => {
  const result = check([
    "0 invoke enqueue 1",
    "0 ok enqueue 1",
    "0 invoke enqueue 2",
    "0 ok enqueue 2",
    "1 invoke dequeue",
    "1 ok dequeue 1",
    "1 invoke dequeue",
    "1 ok dequeue 2",
    "1 invoke dequeue",
    "1 ok dequeue nil",
  ]);
  assert.equal(result.valid, true);
  assert.deepEqual(result.anomalies!.counts, {
    attempted: 2,
    acknowledged: 2,
    delivered: 2,
    lost: 0,
    unexpected: 0,
    duplicated: 0,
    recovered: 0,
    reordered: 0,
  });
});

Deno.test("queue: invalid: an acknowledged message lost, one never enqueued delivered", () => {
  const result = check([
    "0 invoke publish 1",
    "0 ok publish 1",
    "1 invoke consume",
    "1 ok consume 7",
  ]);
  assert.equal(result.valid, false);
  assert.deepEqual(result.anomalies!.examples, { lost: ["1"], unexpected: ["7"] });
});

Deno.test("queue: a message delivered only thanks to an indeterminate enqueue: valid; failed: invalid", () => {
  const lines = (
    outcome: string,
  ) => ["0 invoke enqueue 5", `0 ${outcome} enqueue 5`, "1 invoke dequeue", "1 ok dequeue 5"];
  const recovered = check(lines("info"));
  assert.equal(recovered.valid, true);
  assert.equal(recovered.anomalies!.counts.recovered, 1);
  assert.equal(check(lines("fail")).valid, false);
});

Deno.test("queue: duplicates fail exactly-once only; a definite reorder is counted, not failed", () => {
  // Producer 0 enqueues 1 then 2. 2 is dequeued by an op that completes before the op
  // that dequeues 1 is invoked: definitely out of order. 1 is then dequeued twice.
  const lines = [
    "0 invoke enqueue 1",
    "0 ok enqueue 1",
    "0 invoke enqueue 2",
    "0 ok enqueue 2",
    "1 invoke dequeue",
    "1 ok dequeue 2",
    "1 invoke dequeue",
    "1 ok dequeue 1",
    "2 invoke drain",
    "2 ok drain [1]",
  ];
  const atLeastOnce = check(lines);
  assert.equal(atLeastOnce.valid, true);
  assert.equal(atLeastOnce.anomalies!.counts.duplicated, 1);
  assert.equal(atLeastOnce.anomalies!.counts.reordered, 1);
  assert.deepEqual(atLeastOnce.anomalies!.examples, { duplicated: ["1"], reordered: ["2"] });
  assert.equal(check(lines, "exactly-once").valid, false);
  // Dequeues that overlap say nothing of the order: not counted.
  const overlapping = check([
    "0 invoke enqueue 1",
    "0 ok enqueue 1",
    "0 invoke enqueue 2",
    "0 ok enqueue 2",
    "1 invoke dequeue",
    "2 invoke dequeue",
    "2 ok dequeue 2",
    "1 ok dequeue 1",
  ]);
  assert.equal(overlapping.anomalies!.counts.reordered, 0);
});

Deno.test("queue: an indeterminate dequeue's message counts as lost, with a note; bad input named", () => {
  const result = check([
    "0 invoke enqueue 1",
    "0 ok enqueue 1",
    "1 invoke dequeue",
    "1 info dequeue",
  ]);
  assert.equal(result.valid, false);
  assert.match(
    result.notes.join("\n"),
    /1 indeterminate dequeues: what they may have taken counts as lost/,
  );
  assert.throws(
    () => check(["1 invoke drain", "1 ok drain 3"]),
    /^HistoryError: q\.edn:2: expected what a drain took, a vector of messages, found 3$/,
  );
  assert.throws(
    () => check([], "at-most-once"),
    /unknown mode "at-most-once" of the queue model: expected at-least-once or exactly-once/,
  );
});
