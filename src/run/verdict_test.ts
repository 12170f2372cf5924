import assert from "node:assert/strict";
import type { Expectations, Scenario } from "../scenario/schema.ts";
import type { OracleResult } from "./oracle.ts";
import { judge, type PhaseOutcome } from "./verdict.ts";

function scenario(expect: Partial<Expectations> = {}): Scenario {
  return {
    name: "t",
    description: "",
    source: "t.json",
    nodes: [],
    expect: { workloadExit: [0], checkExit: [0], output: [], noLostAcks: true, ...expect },
    timeouts: { bootMs: 60_000, runMs: 120_000, checkMs: 45_000 },
    faults: [],
    network: null,
    client: null,
  };
}

function outcome(
  phase: PhaseOutcome["phase"],
  fields: Partial<PhaseOutcome> = {},
): PhaseOutcome {
  return {
    node: "app",
    phase,
    exit: 0,
    how: "exited",
    error: null,
    console: "",
    ms: 1000,
    ...fields,
  };
}

const oracle = (acked: number, lostKeys: string[], lost = lostKeys.length): OracleResult => ({
  acked,
  found: acked - lost,
  lost,
  lostKeys,
});

Deno.test("judge: a clean run passes, and the reason says what was seen", () => {
  assert.deepEqual(judge(scenario(), [outcome("run"), outcome("check")], oracle(16, [])), {
    pass: true,
    reason: "workload exited 0; check exited 0; 16 of 16 acknowledged keys found",
  });
  // Exit codes are listed once each, in the order seen; the oracle only when it is judged.
  const two = [
    outcome("run", { exit: 3 }),
    outcome("run", { node: "db", exit: 0 }),
    outcome("run", { node: "c", exit: 3 }),
  ];
  assert.equal(
    judge(scenario({ workloadExit: [0, 3], noLostAcks: false }), two, oracle(2, [])).reason,
    "workload exited 3, 0",
  );
  assert.equal(judge(scenario(), [], null).reason, "every expectation holds");
  // A run cut on purpose has no exit to list.
  assert.equal(
    judge(scenario(), [outcome("run", { how: "aborted", exit: null }), outcome("check")], null)
      .reason,
    "check exited 0",
  );
});

Deno.test("judge: a phase that hit its deadline fails, naming the phase's own limit, even under faults", () => {
  const run = judge(scenario(), [outcome("run", { how: "deadline", exit: null })], null, {
    judgeWorkloadExit: false,
  });
  assert.deepEqual(run, { pass: false, reason: "run phase of app timed out after 120 s" });
  const check = judge(
    scenario(),
    [outcome("run"), outcome("check", { node: "db", how: "deadline", exit: null })],
    null,
  );
  assert.deepEqual(check, { pass: false, reason: "check phase of db timed out after 45 s" });
});

Deno.test("judge: a deadline names the guest's last console line, cut to 120 characters", () => {
  const console = "faultline: phase check\r\nfaultline: ready\r\n\r\n";
  const stuck = judge(
    scenario(),
    [outcome("run"), outcome("check", { how: "deadline", console })],
    null,
  );
  assert.equal(
    stuck.reason,
    'check phase of app timed out after 45 s; its console\'s last line: "faultline: ready"',
  );
  const long = judge(
    scenario(),
    [outcome("run", { how: "deadline", console: "x".repeat(300) })],
    null,
  );
  assert.ok(long.reason.endsWith(`"${"x".repeat(117)}..."`), long.reason);
});

Deno.test("judge: a guest that could not set up fails, unless it is the run under faults", () => {
  const failed = [outcome("run", { error: "no disk data", exit: null }), outcome("check")];
  assert.deepEqual(judge(scenario(), failed, null), {
    pass: false,
    reason: "run phase of app: the guest could not set up: no disk data",
  });
  assert.equal(judge(scenario(), failed, null, { judgeWorkloadExit: false }).pass, true);
  const check = [outcome("run"), outcome("check", { error: "mount failed", exit: null })];
  assert.equal(
    judge(scenario(), check, null, { judgeWorkloadExit: false }).reason,
    "check phase of app: the guest could not set up: mount failed",
  );
});

Deno.test("judge: a boot cut on purpose is not judged by its exit; a boot without an exit code fails", () => {
  const cut = [outcome("run", { how: "aborted", exit: null }), outcome("check")];
  assert.equal(judge(scenario(), cut, null).pass, true);
  assert.deepEqual(judge(scenario(), [outcome("run", { exit: null })], null), {
    pass: false,
    reason: "run phase of app: the guest stopped without reporting an exit code",
  });
  assert.equal(
    judge(scenario(), [outcome("run"), outcome("check", { exit: null })], null).reason,
    "check phase of app: the guest stopped without reporting an exit code",
  );
});

Deno.test("judge: exit codes against the expected ones; the workload's are free under faults", () => {
  assert.deepEqual(judge(scenario(), [outcome("run", { exit: 1 })], null), {
    pass: false,
    reason: "workload on app exited 1, expected 0",
  });
  assert.equal(
    judge(scenario({ workloadExit: [0, 3] }), [outcome("run", { exit: 1 })], null).reason,
    "workload on app exited 1, expected 0 or 3",
  );
  assert.equal(
    judge(scenario({ workloadExit: [0, 3] }), [outcome("run", { exit: 3 })], null).pass,
    true,
  );
  assert.equal(
    judge(scenario({ workloadExit: "any" }), [outcome("run", { exit: 77 })], null).pass,
    true,
  );
  assert.equal(
    judge(scenario(), [outcome("run", { exit: 1 })], null, { judgeWorkloadExit: false }).pass,
    true,
  );
  const check = [outcome("run", { exit: 1 }), outcome("check", { node: "db", exit: 2 })];
  assert.equal(
    judge(scenario(), check, null, { judgeWorkloadExit: false }).reason,
    "check on db exited 2, expected 0",
  );
  assert.equal(
    judge(scenario({ checkExit: "any" }), check, null, { judgeWorkloadExit: false }).pass,
    true,
  );
  // The first failing outcome is the one reported.
  assert.equal(
    judge(scenario(), [outcome("run", { exit: 5 }), outcome("check", { exit: 6 })], null).reason,
    "workload on app exited 5, expected 0",
  );
});

Deno.test("judge: output patterns must be in their phase's console, or absent from it", () => {
  const outcomes = [
    outcome("run", { console: "booting\nrecord 5 WRITTEN\n" }),
    outcome("run", { node: "db", console: "db ready\n" }),
    outcome("check", { console: "fsck: clean\n" }),
  ];
  const output = (pattern: string, extra: Partial<Expectations["output"][0]> = {}) =>
    scenario({ output: [{ phase: "run", pattern, flags: "", absent: false, ...extra }] });
  assert.equal(judge(output("record \\d+ WRITTEN"), outcomes, null).pass, true);
  assert.equal(judge(output("db ready"), outcomes, null).pass, true, "every node's console");
  assert.deepEqual(judge(output("record \\d+ written"), outcomes, null), {
    pass: false,
    reason: "the run output lacks /record \\d+ written/",
  });
  assert.equal(judge(output("record \\d+ written", { flags: "i" }), outcomes, null).pass, true);
  assert.equal(
    judge(output("fsck"), outcomes, null).reason,
    "the run output lacks /fsck/",
    "the check's console is not the run's",
  );
  assert.equal(judge(output("fsck", { phase: "check" }), outcomes, null).pass, true);
  assert.deepEqual(judge(output("WRITTEN", { absent: true }), outcomes, null), {
    pass: false,
    reason: "the run output contains /WRITTEN/",
  });
  assert.equal(judge(output("panic", { absent: true }), outcomes, null).pass, true);
  // A multi-line pattern spans the joined consoles of the phase's boots.
  assert.equal(judge(output("WRITTEN\\n\\ndb ready"), outcomes, null).pass, true);
});

Deno.test("judge: lost acknowledged keys fail when noLostAcks holds, with the keys listed", () => {
  const outcomes = [outcome("run"), outcome("check")];
  assert.deepEqual(judge(scenario(), outcomes, oracle(16, ["16"])), {
    pass: false,
    reason: "1 acknowledged key lost (16): acked 16, found 15",
  });
  assert.equal(
    judge(scenario(), outcomes, oracle(30, ["1", "2"])).reason,
    "2 acknowledged keys lost (1, 2): acked 30, found 28",
  );
  assert.equal(
    judge(scenario(), outcomes, oracle(40, ["a", "b"], 25)).reason,
    "25 acknowledged keys lost (a, b, ...): acked 40, found 15",
    "more lost than listed",
  );
  assert.deepEqual(judge(scenario({ noLostAcks: false }), outcomes, oracle(16, ["16"])), {
    pass: true,
    reason: "workload exited 0; check exited 0",
  });
  assert.equal(judge(scenario(), outcomes, null).pass, true, "no oracle, nothing to judge");
  // A failed exit is reported before lost keys.
  assert.match(
    judge(scenario(), [outcome("run", { exit: 1 })], oracle(1, ["1"])).reason,
    /^workload on app exited 1/,
  );
});

Deno.test("judge: a check that could not run is inconclusive, a node that never said ready is unavailable; neither is a loss", () => {
  const cluster = {
    ...scenario(),
    nodes: [{ name: "e1", ready: true }, { name: "e3", ready: true }] as Scenario["nodes"],
  };
  const check = (node: string, fields: Partial<PhaseOutcome>) =>
    outcome("check", { node, stage: "check", started: true, ready: true, ...fields });
  const lost = oracle(8, ["key-1"], 8);
  // The check's guest never reached its script: nothing was judged, whatever the oracle says.
  const never = judge(
    cluster,
    [check("e3", { started: false, how: "deadline", exit: null })],
    lost,
  );
  assert.equal(never.kind, "inconclusive");
  assert.equal(never.pass, false);
  assert.match(never.reason, /^inconclusive: the check boot of e3 never reached its script/);
  assert.doesNotMatch(never.reason, /lost/);
  // A serving node booted and its service never answered: the cluster did not recover.
  const silent = judge(cluster, [
    outcome("restart", {
      node: "e1",
      stage: "check",
      started: true,
      ready: false,
      how: "aborted",
      exit: null,
    }),
    check("e3", { exit: 3 }),
  ], lost);
  assert.equal(silent.kind, "unavailable");
  assert.match(silent.reason, /^unavailable: e1 booted and never reported ready after the crash$/);
  // One ended by itself before it was ready (its daemon died), and the other was stopped for
  // it: the one that ended is named, with its exit code and its own last line.
  const cutAtBound = outcome("restart", {
    node: "e1",
    stage: "check",
    started: true,
    ready: false,
    how: "deadline",
  });
  const ended = judge(cluster, [
    cutAtBound,
    outcome("restart", {
      node: "e3",
      stage: "check",
      started: true,
      ready: false,
      exit: 3,
      console: "faultline: phase restart\r\netcd exited: discovery failed: member df15 has " +
        "already been bootstrapped\r\nfaultline: exit 3\r\n[    6.91] reboot: Power down\r\n",
    }),
  ], lost);
  assert.equal(ended.kind, "unavailable");
  assert.equal(
    ended.reason,
    "unavailable: e3 booted and never reported ready after the crash (its restart script exited " +
      '3; its last line: "etcd exited: discovery failed: member df15 has already been ' +
      'bootstrapped"); the checks did not start',
  );
  // It never served within the check phase's bounds: the checks did not start, and say so.
  const unchecked = judge(cluster, [cutAtBound], lost);
  assert.equal(unchecked.kind, "unavailable");
  assert.equal(
    unchecked.reason,
    "unavailable: e1 booted and never reported ready after the crash; the checks did not start",
  );
  // Ready everywhere: the oracle judges, and a loss is a loss.
  const judged = judge(cluster, [check("e1", {}), check("e3", {})], lost);
  assert.equal(judged.kind, undefined);
  assert.match(judged.reason, /8 acknowledged keys lost/);
  // A node that does not say when it is ready is never unavailable.
  assert.equal(judge(scenario(), [check("app", { ready: false })], null).pass, true);
});
