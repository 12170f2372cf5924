import assert from "node:assert/strict";
import {
  defaultConfirmations,
  describeRate,
  distinctReasons,
  failsFinding,
  meetsRate,
  reproduced,
} from "./confirm.ts";

const lost = { pass: false, reason: "1 acknowledged key lost (5): acked 5, found 4" };
const lost2 = { pass: false, reason: "2 acknowledged keys lost (4, 5): acked 5, found 3" };
const passed = { pass: true, reason: "5 of 5 acknowledged keys found" };
const inconclusive = { pass: false, kind: "inconclusive" as const, reason: "inconclusive: ..." };
const unavailable = { pass: false, kind: "unavailable" as const, reason: "unavailable: ..." };

Deno.test("confirm: a finding is rated by its failed runs, whatever the reasons say", () => {
  assert.deepEqual(reproduced([lost, lost2, lost]), { failed: 3, runs: 3 });
  assert.equal(describeRate(reproduced([lost, lost2, lost])), "stable 3/3");
  assert.deepEqual(reproduced([lost, passed, lost2]), { failed: 2, runs: 3 });
  assert.equal(describeRate(reproduced([lost, passed, lost2])), "flaky 2/3");
  assert.equal(describeRate(reproduced([lost])), "failed 1/1");
  // A check that could not run judged nothing; one whose service never came back failed.
  assert.equal(failsFinding(inconclusive), false);
  assert.equal(failsFinding(unavailable), true);
  assert.deepEqual(reproduced([lost, inconclusive, unavailable]), { failed: 2, runs: 3 });
});

Deno.test("confirm: stable unless a rate is given; clusters get three verdicts, one node one", () => {
  assert.equal(meetsRate({ failed: 3, runs: 3 }), true);
  assert.equal(meetsRate({ failed: 2, runs: 3 }), false);
  assert.equal(meetsRate({ failed: 2, runs: 3 }, 0.5), true);
  assert.equal(meetsRate({ failed: 1, runs: 3 }, 0.5), false);
  assert.equal(meetsRate({ failed: 0, runs: 0 }), false);
  assert.equal(defaultConfirmations(3), 3);
  assert.equal(defaultConfirmations(1), 1);
});

Deno.test("confirm: the distinct reasons, in the order first seen, with their counts", () => {
  assert.deepEqual(distinctReasons([lost, passed, lost, lost2]), [
    { reason: lost.reason, pass: false, count: 2 },
    { reason: passed.reason, pass: true, count: 1 },
    { reason: lost2.reason, pass: false, count: 1 },
  ]);
});
