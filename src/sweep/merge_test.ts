import assert from "node:assert/strict";
import { MergeError, mergeSweepShards, type SweepResultsFile } from "./merge.ts";
import type { SweepPoint, SweepResult } from "./result.ts";

function point(at: number, pass: boolean): SweepPoint {
  return {
    at,
    op: "flush",
    verdict: { pass, reason: pass ? "ok" : "lost" },
    oracle: null,
    fired: true,
    reproduce: `faultline replay run.trace --fault power-loss --fault-at ${at}`,
    trace: "",
  };
}

function shardFile(
  index: number,
  count: number,
  points: SweepPoint[],
  sha256 = "a".repeat(64),
  sweepPoints = 6,
): SweepResultsFile {
  const result: SweepResult = {
    fault: "power-loss",
    with: [],
    points,
    passed: points.filter((p) => p.verdict.pass).length,
    failed: points.filter((p) => !p.verdict.pass).length,
    notFired: 0,
    distinctCrashStates: points.length,
    replays: points.length,
    durationMs: 1000 * index,
    shard: { index, count, sweepPoints },
  };
  return {
    format: "faultline-sweep",
    version: 1,
    trace: { path: sha256.startsWith("a") ? "run.trace" : "other.trace", sha256 },
    sweep: { fault: "power-loss", with: [], points: "all" },
    shard: { index, count },
    result,
  };
}

Deno.test("merge: shards join into the whole sweep, every point once, in op order", () => {
  const merged = mergeSweepShards([
    { name: "s2.json", data: shardFile(2, 3, [point(4, true), point(1, false)]) },
    { name: "s1.json", data: shardFile(1, 3, [point(0, true), point(5, true)]) },
    { name: "s3.json", data: shardFile(3, 3, [point(2, true), point(3, true)]) },
  ]);
  assert.deepEqual(merged.result.points.map((p) => p.at), [0, 1, 2, 3, 4, 5]);
  assert.equal(merged.result.passed, 5);
  assert.equal(merged.result.failed, 1);
  assert.equal(merged.result.distinctCrashStates, 6);
  assert.equal(merged.result.durationMs, 3000, "the longest shard");
  assert.equal(merged.shard, null);
});

Deno.test("merge: refuses shards of different traces, naming both files", () => {
  assert.throws(
    () =>
      mergeSweepShards([
        { name: "s1.json", data: shardFile(1, 2, [point(0, true)]) },
        { name: "s2.json", data: shardFile(2, 2, [point(1, true)], "b".repeat(64)) },
      ]),
    (error) =>
      error instanceof MergeError && error.kind === "usage" &&
      /s1\.json and s2\.json are shards of different traces/.test(error.message) &&
      /run\.trace/.test(error.message) && /other\.trace/.test(error.message),
  );
});

Deno.test("merge: refuses a missing shard, a shard twice, and points that do not add up", () => {
  assert.throws(
    () => mergeSweepShards([{ name: "s1.json", data: shardFile(1, 3, [point(0, true)]) }]),
    /shards 2\/3, 3\/3 missing \(given: s1\.json\)/,
  );
  assert.throws(
    () =>
      mergeSweepShards([
        { name: "a.json", data: shardFile(1, 2, [point(0, true)]) },
        { name: "b.json", data: shardFile(1, 2, [point(0, true)]) },
      ]),
    /shard 1\/2 is given twice: a\.json and b\.json/,
  );
  assert.throws(
    () =>
      mergeSweepShards([
        { name: "a.json", data: shardFile(1, 2, [point(0, true)]) },
        { name: "b.json", data: shardFile(2, 2, [point(1, true)]) },
      ]),
    /the shards hold 2 points, the sweep has 6/,
  );
  assert.throws(
    () => mergeSweepShards([{ name: "x.json", data: {} as SweepResultsFile }]),
    /x\.json is not the results of a faultline sweep/,
  );
});

Deno.test("merge: refuses a shard whose sweep was stopped before its end (partial)", () => {
  const stopped = shardFile(2, 2, [point(1, true)]);
  stopped.result.partial = { pointsPlanned: 3 };
  assert.throws(
    () =>
      mergeSweepShards([
        {
          name: "s1.json",
          data: shardFile(1, 2, [point(0, true), point(2, true), point(4, true)]),
        },
        { name: "s2.json", data: stopped },
      ]),
    (error) =>
      error instanceof MergeError && error.kind === "usage" &&
      /s2\.json holds a partial sweep \(stopped after 1 of 3 points\): run its shard again/
        .test(error.message),
  );
});
