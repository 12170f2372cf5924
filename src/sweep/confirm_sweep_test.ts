import assert from "node:assert/strict";
import type { ParentTrace, ReplayOptions, ReplayResult } from "../replay/replay.ts";
import type { Prepared } from "../run/prepare.ts";
import type { Verdict } from "../run/verdict.ts";
import type { Scenario } from "../scenario/schema.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { fakeParentTrace } from "../../tests/support/traces.ts";
import type { SweepResult } from "./result.ts";
import { sweep } from "./sweep.ts";
import { describeCounts, statusWord } from "./status.ts";
import { sweepVerdict } from "../ci/ci.ts";
import type { FaultExpectation } from "../scenario/schema.ts";

// A sweep's replays are QEMU runs; here a replayer of our own gives each point's runs their
// verdicts in turn, so that what the sweep makes of them can be seen exactly.

const lost: Verdict = { pass: false, reason: "1 acknowledged key lost (k7): acked 9, found 38" };
const lostOther: Verdict = {
  pass: false,
  reason: "1 acknowledged key lost (k7): acked 9, found 39",
};
const held: Verdict = { pass: true, reason: "acked 9, found 9" };
const unjudged: Verdict = { pass: false, kind: "inconclusive", reason: "n2 never booted" };
const neverReady: Verdict = { pass: false, kind: "unavailable", reason: "n1 never said ready" };

/** A 3-node trace of writes at ops 0..3 (a cluster: a failing point gets 3 verdicts). */
function clusterTrace(): ParentTrace {
  const parent = fakeParentTrace({
    records: [0, 1, 2, 3].map((index) =>
      opRecord({ index, op: "write", offset: index * 4096, length: 512, phase: "run" })
    ),
    name: "three",
    path: "three.trace",
  });
  const nodes = ["n1", "n2", "n3"].map((name) => ({ name, check: null }));
  return { ...parent, scenario: { ...parent.scenario, nodes } as unknown as Scenario };
}

/** A replayer that answers each point's runs with the verdicts listed for it, in turn. */
function scripted(byPoint: Record<number, Verdict[]>) {
  const calls: { at: number; output: string }[] = [];
  const replayer = (_parent: ParentTrace, options: ReplayOptions): Promise<ReplayResult> => {
    const at = Number(options.faultAt);
    const run = calls.filter((call) => call.at === at).length;
    calls.push({ at, output: options.output! });
    const verdicts = byPoint[at] ?? [held];
    const verdict = verdicts[Math.min(run, verdicts.length - 1)];
    return Promise.resolve({
      verdict,
      fired: true,
      faultAt: at,
      oracle: null,
      outcomes: [],
      lines: [],
      trace: options.output!,
      reproduce: `faultline replay three.trace --fault eio --fault-at ${at}`,
    } as unknown as ReplayResult);
  };
  return { replayer, calls };
}

async function sweepWith(
  byPoint: Record<number, Verdict[]>,
  confirm?: number,
): Promise<{ result: SweepResult; calls: { at: number; output: string }[] }> {
  const { replayer, calls } = scripted(byPoint);
  const result = await sweep(clusterTrace(), {
    fault: "eio",
    points: { kind: "range", from: 0, to: 3 },
    jobs: 1,
    keepData: false,
    cold: true,
    prepared: {} as Prepared,
    replayer,
    ...(confirm !== undefined ? { confirm } : {}),
  });
  return { result, calls };
}

Deno.test("confirm: a failing point that fails, passes, fails is flaky 2/3; one that always fails is stable 3/3", async () => {
  const { result, calls } = await sweepWith({ 1: [lost, held, lostOther], 2: [lost] });
  const byAt = new Map(result.points.map((p) => [p.at, p]));
  assert.deepEqual(byAt.get(1)!.reproduced, { failed: 2, runs: 3 });
  assert.deepEqual(byAt.get(2)!.reproduced, { failed: 3, runs: 3 });
  assert.equal(statusWord(byAt.get(1)!), "FAIL flaky 2/3");
  assert.equal(statusWord(byAt.get(2)!), "FAIL stable 3/3");
  // A point that failed once is never a pass.
  assert.equal(byAt.get(1)!.verdict.pass, false);
  assert.equal(result.failed, 2);
  // Passing points run once; each failing one twice more, into traces of their own.
  assert.deepEqual(calls.map((c) => c.at).sort(), [0, 1, 1, 1, 2, 2, 2, 3]);
  assert.equal(new Set(calls.map((c) => c.output)).size, calls.length);
  assert.equal(result.replays, 8);
  assert.equal(result.confirm, 3);
  // The command that reproduces it runs as many times.
  assert.match(byAt.get(1)!.reproduce, /--fault-at 1 --runs 3$/);
  assert.equal(
    describeCounts(result),
    "4 points: 2 passed, 2 failed (1 stable, 1 flaky of 3 runs each), 0 never fired",
  );
});

Deno.test("confirm: --confirm 1 gives every point one verdict, and a failure is rated 1/1", async () => {
  const { result, calls } = await sweepWith({ 1: [lost, held, lost] }, 1);
  assert.equal(calls.length, 4);
  assert.deepEqual(result.points.find((p) => p.at === 1)!.reproduced, { failed: 1, runs: 1 });
  assert.equal(statusWord(result.points.find((p) => p.at === 1)!), "FAIL");
  assert.doesNotMatch(result.points.find((p) => p.at === 1)!.reproduce, /--runs/);
});

Deno.test("confirm: a check that could not run is inconclusive, counted apart, never lost nor re-run", async () => {
  const { result, calls } = await sweepWith({ 0: [unjudged], 3: [neverReady] });
  assert.equal(calls.filter((c) => c.at === 0).length, 1);
  assert.equal(result.inconclusive, 1);
  assert.equal(result.unavailable, 1);
  // Unavailable is a failure of its own (the system did not recover), confirmed like any.
  assert.equal(result.failed, 1);
  assert.deepEqual(result.points.find((p) => p.at === 3)!.reproduced, { failed: 3, runs: 3 });
  assert.equal(statusWord(result.points.find((p) => p.at === 0)!), "INCONCLUSIVE");
  assert.equal(statusWord(result.points.find((p) => p.at === 3)!), "UNAVAILABLE stable 3/3");
  assert.ok(result.points.every((p) => p.oracle === null || p.oracle.lost === 0));
  assert.equal(
    describeCounts(result),
    "4 points: 2 passed, 1 failed (1 stable, 0 flaky of 3 runs each; 1 unavailable), 0 never fired, 1 inconclusive",
  );
});

Deno.test("confirm: a confirmation whose check could not run counts as a run that did not fail", async () => {
  const { result } = await sweepWith({ 2: [lost, unjudged, lost] });
  assert.deepEqual(result.points.find((p) => p.at === 2)!.reproduced, { failed: 2, runs: 3 });
});

/** A declared sweep, `detect` or `pass`, with an optional minRate. */
function declared(outcome: "pass" | "detect", minRate: number | null = null): FaultExpectation {
  return {
    fault: "eio",
    at: null,
    points: "0..3",
    expect: {} as FaultExpectation["expect"],
    outcome,
    minRate,
    with: [],
  };
}

Deno.test("ci detect passes only on a stable finding, or at the minRate declared; pass fails on any rate", async () => {
  const flaky = (await sweepWith({ 1: [lost, held, lost] })).result;
  const stable = (await sweepWith({ 1: [lost] })).result;
  assert.equal(sweepVerdict("three.trace", declared("detect"), stable).pass, true);
  const missed = sweepVerdict("three.trace", declared("detect"), flaky);
  assert.equal(missed.pass, false);
  assert.match(missed.reason, /found 1 failing, none stable/);
  assert.equal(sweepVerdict("three.trace", declared("detect", 0.6), flaky).pass, true);
  assert.equal(sweepVerdict("three.trace", declared("detect", 0.7), flaky).pass, false);
  const pass = sweepVerdict("three.trace", declared("pass"), flaky);
  assert.equal(pass.pass, false);
  assert.match(pass.reason, /1 failed \(0 stable, 1 flaky of 3 runs each\)/);
  assert.match(pass.reproduce[0], /--runs 3$/);
  // An unavailable or inconclusive point is no detection.
  const apart = (await sweepWith({ 0: [unjudged], 3: [neverReady] })).result;
  assert.equal(sweepVerdict("three.trace", declared("detect"), apart).pass, false);
});
