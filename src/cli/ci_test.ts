import assert from "node:assert/strict";
import { type CiCheck, sweepTraceDir, sweepVerdict } from "../ci/ci.ts";
import type { FaultExpectation } from "../scenario/schema.ts";
import type { SweepPoint, SweepResult } from "../sweep/result.ts";
import { ciJunit } from "./ci.ts";

const fault = {
  fault: "power-loss",
  at: null,
  points: "flushes",
  with: [],
  outcome: "pass",
} as unknown as FaultExpectation;

function point(at: number, lost: number): SweepPoint {
  return {
    at,
    op: "flush",
    where: `power loss during step 'record ${at}', after ack ${at - 1}`,
    verdict: lost === 0
      ? { pass: true, reason: `${at} of ${at} acknowledged keys found` }
      : { pass: false, reason: `${lost} acknowledged key lost (${at})` },
    oracle: { acked: at, found: at - lost, lost, lostKeys: lost ? [String(at)] : [] },
    fired: true,
    reproduce: `faultline replay ci/log.trace --fault power-loss --fault-at ${at}`,
    trace: `ci/log.power-loss-at-flushes/point-${at}.trace`,
  };
}

const result: SweepResult = {
  fault: "power-loss",
  points: [point(3, 0), point(5, 1), point(8, 0)],
  passed: 2,
  failed: 1,
  notFired: 0,
  replays: 3,
  durationMs: 10,
};

Deno.test("ci --json and JUnit: every point of a check with its verdict, oracle, reproduce command and kept trace", () => {
  const body = sweepVerdict("ci/log.trace", fault, result);
  // The one-line reason gives one example; the points give them all.
  assert.match(body.reason, /e\.g\. op 5/);
  // A check that passed says what was checked too: one point that held.
  const held = sweepVerdict("ci/log.trace", fault, {
    ...result,
    points: [point(3, 0), point(8, 0)],
    passed: 2,
    failed: 0,
  });
  assert.equal(held.pass, true);
  assert.equal(
    held.reason,
    "2 points: 2 passed, 0 failed, 0 never fired; e.g. op 8: power loss during step 'record 8', after ack 7: 8 of 8 acknowledged keys found",
  );
  const detect = { ...fault, outcome: "detect" } as FaultExpectation;
  assert.match(
    sweepVerdict("ci/log.trace", detect, { ...result, points: [point(8, 0)], passed: 1, failed: 0 })
      .reason,
    /^expected the sweep to find a failing point, found none \(1 points: .*\); e\.g\. op 8: /,
  );
  assert.deepEqual(body.points?.map((p) => [p.at, p.verdict.pass, p.oracle?.lost, p.trace]), [
    [3, true, 0, "ci/log.power-loss-at-flushes/point-3.trace"],
    [5, false, 1, "ci/log.power-loss-at-flushes/point-5.trace"],
    [8, true, 0, "ci/log.power-loss-at-flushes/point-8.trace"],
  ]);
  const check: CiCheck = {
    scenario: "scenarios/log.ts",
    name: "power-loss at flushes",
    durationMs: 1000,
    ...body,
  };
  const record: CiCheck = {
    scenario: "scenarios/log.ts",
    name: "record",
    pass: true,
    reason: "workload exited 0",
    reproduce: [],
    durationMs: 900,
    trace: "ci/log.trace",
  };
  const xml = ciJunit([record, check]);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 2, "a case per check, as before");
  const out = /<testcase name="power-loss at flushes"[\s\S]*?<system-out>([\s\S]*?)<\/system-out>/
    .exec(xml)?.[1];
  assert.ok(out, xml);
  for (const at of [3, 5, 8]) {
    assert.match(out, new RegExp(`op ${at} \\(flush\\): (pass|FAIL): `));
    assert.match(
      out,
      new RegExp(`reproduce: faultline replay ci/log.trace --fault power-loss --fault-at ${at}\\n`),
    );
    assert.match(out, new RegExp(`trace: ci/log.power-loss-at-flushes/point-${at}.trace`));
  }
  assert.match(
    out,
    /op 5 \(flush\): FAIL: 1 acknowledged key lost \(5\)\n {2}where: power loss during step &#39;record 5&#39;, after ack 4\n {2}oracle: acked 5, found 4, lost 1/,
  );
  assert.match(
    xml,
    /<testcase name="record"[^>]*>\n\s*<system-out>trace: ci\/log.trace<\/system-out>/,
  );
});

Deno.test("ci keeps a declared sweep's point traces in one directory of --trace-dir, named after the check", () => {
  assert.equal(sweepTraceDir("ci", { scenario: "log", fault }), "ci/log.power-loss-at-flushes");
  assert.equal(
    sweepTraceDir("/abs/ci", {
      scenario: "etcd",
      fault: {
        ...fault,
        points: "flushes,every:60",
        with: ["lie-flush"],
      },
    }),
    "/abs/ci/etcd.power-loss-at-flushes-every-60-with-lie-flush",
  );
});

Deno.test("ci JUnit: a check the budget skipped is skipped, and each point it left out of a check that ran is a skipped case with why", () => {
  const why = "left out by the budget (seed 7): the scenario's faults had 1 min 0 s";
  const budget = {
    seed: 7,
    shareMs: 60_000,
    points: 3,
    kept: [3],
    leftOut: [5, 8].map((at) => ({ at, why })),
  };
  const ran: CiCheck = {
    scenario: "scenarios/log.ts",
    name: "power-loss at flushes",
    pass: true,
    reason: "1 points: 1 passed; sampled 1 of 3 points (budget seed 7; 2 left out)",
    reproduce: [],
    durationMs: 1000,
    budget,
  };
  const skipped: CiCheck = {
    scenario: "scenarios/log.ts",
    name: "eio at every:16",
    pass: true,
    skipped: `skipped: ${why}`,
    reason: `skipped: ${why}`,
    reproduce: [],
    durationMs: 0,
    budget: { ...budget, kept: [] },
  };
  const xml = ciJunit([ran, skipped]);
  assert.match(xml, /<testsuites tests="4" failures="0" skipped="3">/);
  for (const at of [5, 8]) {
    assert.match(
      xml,
      new RegExp(
        `<testcase name="power-loss at flushes: op ${at}" classname="scenarios/log.ts">\\s*<skipped message="left out by the budget \\(seed 7\\)`,
      ),
    );
  }
  assert.match(xml, /<testcase name="eio at every:16"[^>]*>\s*<skipped message="skipped: left out/);
});
