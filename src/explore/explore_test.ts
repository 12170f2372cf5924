import assert from "node:assert/strict";
import type { Verdict } from "../run/verdict.ts";
import { type DrawnFault, drawPlan } from "./draw.ts";
import { explore, type ScheduleOutcome } from "./explore.ts";
import { madeUpRecording } from "./_recording.ts";

const recording = madeUpRecording(["n1", "n2", "n3"], 24);

/** The planted bug: an EIO on n1's disk while n1 is cut off from the others. */
function plantedBug(faults: readonly DrawnFault[]): Promise<ScheduleOutcome> {
  const eio = faults.some((f) =>
    f.effect.kind === "error" && f.trigger.kind === "match" && f.trigger.node === "n1"
  );
  const cut = faults.some((f) =>
    f.effect.kind === "partition" && f.effect.sides.some((s) => s.length === 1 && s[0] === "n1")
  );
  const verdict: Verdict = eio && cut
    ? { pass: false, reason: "2 acknowledged keys lost" }
    : { pass: true, reason: "every acknowledged key read back" };
  return Promise.resolve({ verdict, reached: true, fired: faults.map((f) => f.spec) });
}

function run(jobs: number) {
  return explore({
    plan: drawPlan(recording, { seed: 11, maxFaults: 4, kinds: ["error", "partition", "drop"] }),
    budget: { kind: "schedules", count: 60 },
    jobs,
    confirm: 3,
    run: plantedBug,
    shrinkReplays: 200,
  });
}

Deno.test("a planted two-fault bug is found, confirmed stable and shrunk to exactly those two faults", async () => {
  const result = await run(2);
  assert.equal(result.schedules.length, 60);
  assert.ok(result.failures.length > 0, "the bug was never drawn in 60 schedules");
  for (const failure of result.failures) {
    assert.deepEqual(failure.minimal.map((f) => f.effect.kind).sort(), ["error", "partition"]);
    assert.deepEqual(failure.rate, { failed: 3, runs: 3 });
    assert.equal(failure.shrink.stoppedEarly, null);
  }
  assert.deepEqual(result.findings.map((f) => f.shape), ["error@n1 + partition@n1"]);
  assert.equal(result.findings[0].count, result.failures.length);
  assert.equal(result.coverage.schedules, 60);
  assert.deepEqual(result.coverage.neverFired, []);
});

Deno.test("the same seed explores the same schedules with the same findings", async () => {
  const [a, b] = [await run(1), await run(3)];
  assert.deepEqual(a.schedules, b.schedules);
  assert.deepEqual(a.failures.map((f) => f.minimal), b.failures.map((f) => f.minimal));
});

Deno.test("a time budget stops starting schedules when it is spent", async () => {
  let clock = 0;
  const result = await explore({
    plan: drawPlan(recording, { seed: 1, maxFaults: 2, kinds: ["drop"] }),
    budget: { kind: "time", ms: 10_000 },
    jobs: 1,
    confirm: 1,
    run: (faults) => {
      clock += 1_000;
      return plantedBug(faults);
    },
    shrinkReplays: 10,
    now: () => clock,
  });
  assert.equal(result.schedules.length, 10);
  assert.equal(result.failures.length, 0);
});

Deno.test("stopped, an explore reports the schedules that finished and the failure it was shrinking", async () => {
  const controller = new AbortController();
  let runs = 0;
  const result = await explore({
    plan: drawPlan(recording, { seed: 11, maxFaults: 4, kinds: ["error", "partition", "drop"] }),
    budget: { kind: "schedules", count: 60 },
    jobs: 1,
    confirm: 3,
    run: async (faults) => {
      const outcome = await plantedBug(faults);
      // The first failing schedule's third confirmation is interrupted.
      if (!outcome.verdict.pass && ++runs === 3) {
        controller.abort();
        throw new Error("the replay was killed");
      }
      return outcome;
    },
    shrinkReplays: 200,
    signal: controller.signal,
  });
  assert.equal(result.stopped, "interrupted");
  assert.equal(result.failures.length, 1);
  assert.deepEqual(result.failures[0].originalRate, { failed: 2, runs: 2 });
  assert.equal(result.failures[0].shrink.stoppedEarly, "it was stopped");
  assert.equal(result.schedules.length, result.failures[0].schedule + 1);
});
