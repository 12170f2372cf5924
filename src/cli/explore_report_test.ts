import assert from "node:assert/strict";
import { drawPlan } from "../explore/draw.ts";
import { explore } from "../explore/explore.ts";
import { madeUpRecording } from "../explore/_recording.ts";
import { FAULT_KINDS_VERSION } from "../fault/kinds/mod.ts";
import { exploreJson, exploreJunit } from "./explore_report.ts";

Deno.test("explore's JSON: the seed, the table's version, findings with their minimal schedule and replay command, coverage", async () => {
  const recording = madeUpRecording(["n1"], 12);
  // Fails whenever an error is in the schedule and the schedule has a delay too.
  const result = await explore({
    plan: drawPlan(recording, { seed: 3, maxFaults: 3, kinds: ["error", "delay", "crash"] }),
    budget: { kind: "schedules", count: 30 },
    jobs: 2,
    confirm: 1,
    shrinkReplays: 50,
    run: (faults) => {
      const kinds = faults.map((f) => f.effect.kind);
      const fails = kinds.includes("error") && kinds.includes("delay");
      return Promise.resolve({
        verdict: fails
          ? { pass: false, reason: "1 acknowledged key lost" }
          : { pass: true, reason: "fine" },
        reached: true,
        fired: faults.map((f) => f.spec),
      });
    },
  });
  const json = exploreJson(
    "run.trace",
    result,
    (faults) => `faultline replay run.trace ${faults.map((f) => `--fault '${f.spec}'`).join(" ")}`,
  );
  assert.equal(json.seed, 3);
  assert.equal(json.kindTableVersion, FAULT_KINDS_VERSION);
  assert.equal(json.findings.length, 1);
  const [finding] = json.findings as {
    shape: string;
    minimal: string[];
    replay: string;
    reason: string;
    reasonClass: string;
    shrink: { tried: number; replays: number };
  }[];
  assert.equal(finding.shape, "delay@n1 + error@n1");
  assert.equal(finding.minimal.length, 2);
  assert.equal(finding.reason, "1 acknowledged key lost");
  assert.equal(finding.reasonClass, "N acknowledged key lost");
  assert.ok(finding.replay.includes(`--fault '${finding.minimal[0]}'`));
  assert.equal(finding.shrink.tried, finding.shrink.replays);
  assert.deepEqual((json.coverage as { schedules: number }).schedules, 30);
  assert.equal("roles" in finding, false);
  assert.equal("history" in finding, false);

  const xml = exploreJunit("run.trace", result, () => "faultline replay run.trace");
  const failing = result.schedules.filter((s) => s.status === "fail").length;
  assert.ok(failing > 0);
  assert.match(xml, new RegExp(`<testsuites tests="30" failures="${failing}" skipped="0">`));
  assert.match(xml, /<testsuite name="explore run.trace seed 3"/);
  assert.match(xml, /minimal, failed 1\/1: /);
});

Deno.test("explore's JSON: a finding's roles, one object a minimal fault, and its history counterexample", async () => {
  const recording = {
    ...madeUpRecording(["n1", "n2"], 12),
    roles: [{ node: "n1", role: "leader", at: 0 }, { node: "n2", role: "follower", at: 0 }],
  };
  const result = await explore({
    plan: drawPlan(recording, { seed: 3, maxFaults: 2, kinds: ["error"] }),
    budget: { kind: "schedules", count: 10 },
    jobs: 1,
    confirm: 1,
    shrinkReplays: 20,
    run: (faults) => {
      const fails = faults.some((f) => f.trigger.kind === "match" && f.trigger.node === "n1");
      return Promise.resolve({
        verdict: fails ? { pass: false, reason: "stale read" } : { pass: true, reason: "fine" },
        reached: true,
        fired: faults.map((f) => f.spec),
        ...(fails
          ? {
            history: {
              model: "register",
              reason: "stale read of key x",
              description: "the counterexample",
              counterexample: { ops: [], offending: { invokeIndex: 0 } } as never,
              history: { ops: [], phases: [] },
            },
          }
          : {}),
      });
    },
  });
  const json = exploreJson("run.trace", result, () => "faultline replay run.trace");
  const [finding] = json.findings as {
    shape: string;
    roles: Record<string, string>[];
    history: Record<string, string>;
  }[];
  assert.equal(finding.shape, "error@leader");
  assert.deepEqual(finding.roles, [{ n1: "leader", n2: "follower" }]);
  assert.deepEqual(finding.history, {
    model: "register",
    reason: "stale read of key x",
    description: "the counterexample",
  });
});
