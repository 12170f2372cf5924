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
    plan: drawPlan(recording, { seed: 12, maxFaults: 4, kinds: ["error", "partition", "drop"] }),
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
    plan: drawPlan(recording, { seed: 12, maxFaults: 4, kinds: ["error", "partition", "drop"] }),
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

Deno.test("failures on whichever node leads are one finding by role, with the minimal schedule's counterexample", async () => {
  // n1 leads until arrival 30, then n2: an EIO on the leader's disk loses a key.
  const roles = [
    { node: "n1", role: "leader", at: 0 },
    { node: "n2", role: "follower", at: 0 },
    { node: "n3", role: "follower", at: 0 },
    { node: "n1", role: "follower", at: 30 },
    { node: "n2", role: "leader", at: 30 },
  ];
  const leaderAt = (at: number) => at < 30 ? "n1" : "n2";
  const result = await explore({
    plan: drawPlan({ ...recording, roles }, { seed: 5, maxFaults: 3, kinds: ["error", "drop"] }),
    budget: { kind: "schedules", count: 40 },
    jobs: 1,
    confirm: 1,
    run: (faults) => {
      const hit = faults.some((f) =>
        f.effect.kind === "error" && f.trigger.kind === "match" && f.trigger.node === leaderAt(f.at)
      );
      const specs = faults.map((f) => f.spec);
      return Promise.resolve({
        verdict: hit
          ? { pass: false, reason: "stale read of key x" }
          : { pass: true, reason: "ok" },
        reached: true,
        fired: specs,
        ...(hit
          ? {
            history: {
              model: "register",
              reason: "stale read of key x",
              description: specs.join(" "),
              counterexample: { ops: [], offending: { invokeIndex: 0 } } as never,
              history: { ops: [], phases: [] },
            },
          }
          : {}),
      });
    },
    shrinkReplays: 100,
  });
  const nodes = new Set(
    result.failures.map((f) =>
      f.minimal[0].trigger.kind === "match" ? f.minimal[0].trigger.node : ""
    ),
  );
  assert.deepEqual([...nodes].sort(), ["n1", "n2"], "the bug was not drawn on both leaders");
  assert.deepEqual(result.findings.map((f) => [f.shape, f.count]), [
    ["error@leader", result.failures.length],
  ]);
  for (const failure of result.failures) {
    assert.equal(failure.minimal.length, 1);
    // The counterexample is from a run of the minimal schedule, not of the original.
    assert.equal(failure.history?.description, failure.minimal.map((f) => f.spec).join(" "));
  }
});
