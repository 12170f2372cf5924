import assert from "node:assert/strict";
import type { SweepPoint, SweepResult } from "../sweep/result.ts";
import type { CiCheck } from "./ci.ts";
import { type CiResultsFile, mergeCiShards } from "./merge.ts";

function point(at: number, pass: boolean): SweepPoint {
  return {
    at,
    op: "flush",
    verdict: { pass, reason: pass ? "ok" : "1 acknowledged key lost (3)" },
    oracle: null,
    fired: true,
    reproduce: `faultline replay ci/log.trace --fault power-loss --fault-at ${at}`,
    trace: "",
  };
}

function part(index: number, points: SweepPoint[]): CiCheck {
  const result: SweepResult = {
    fault: "power-loss",
    points,
    passed: points.filter((p) => p.verdict.pass).length,
    failed: points.filter((p) => !p.verdict.pass).length,
    notFired: 0,
    replays: points.length,
    durationMs: 10,
    shard: { index, count: 2, sweepPoints: 4 },
  };
  return {
    scenario: "scenarios/log.ts",
    name: "power-loss at flushes",
    pass: result.failed === 0,
    reason: "",
    reproduce: [],
    durationMs: 100 * index,
    part: {
      fault: {
        fault: "power-loss",
        points: "flushes",
        at: null,
        outcome: "hold",
      } as unknown as NonNullable<CiCheck["part"]>["fault"],
      trace: "ci/log.trace",
      result,
    },
  };
}

function shard(index: number, checks: CiCheck[], sha = "a"): CiResultsFile {
  return {
    format: "faultline-ci",
    version: 1,
    shard: { index, count: 2 },
    traces: { "scenarios/log.ts": { path: "ci/log.trace", sha256: sha.repeat(64) } },
    checks,
  };
}

Deno.test("ci merge: a declared sweep's parts are judged again as one; single points kept", () => {
  const single: CiCheck = {
    scenario: "scenarios/log.ts",
    name: "eio at op 17",
    pass: true,
    reason: "ok",
    reproduce: [],
    durationMs: 5,
  };
  const merged = mergeCiShards([
    { name: "2.json", data: shard(2, [part(2, [point(3, false), point(4, true)])]) },
    { name: "1.json", data: shard(1, [single, part(1, [point(1, true), point(2, true)])]) },
  ]);
  assert.equal(merged.checks.length, 2);
  const sweep = merged.checks.find((c) => c.name === "power-loss at flushes")!;
  assert.equal(sweep.pass, false, "the failing point of shard 2 fails the whole sweep");
  assert.match(sweep.reason, /^4 points: 3 passed, 1 failed, 0 never fired; e\.g\. op 3/);
  assert.deepEqual(sweep.reproduce, [point(3, false).reproduce]);
  assert.equal(sweep.part, undefined);
  assert.equal(sweep.sweep?.points, 4);
  assert.ok(merged.checks.includes(single));
});

Deno.test("ci merge: shards on different traces are refused, naming them", () => {
  assert.throws(
    () =>
      mergeCiShards([
        { name: "1.json", data: shard(1, [part(1, [point(1, true)])]) },
        { name: "2.json", data: shard(2, [part(2, [point(2, true)])], "b") },
      ]),
    /1\.json and 2\.json are shards of different traces or sweeps/,
  );
});
