import assert from "node:assert/strict";
import type { SweepPoint, SweepResult } from "../sweep/result.ts";
import { progressEvent, recoveryNote, shardOption, sweepJson, sweepJunit } from "./sweep.ts";

Deno.test("sweep CLI: --shard K/N, or the shard from a variable with --shards", () => {
  assert.equal(shardOption({}), undefined);
  assert.deepEqual(shardOption({ shard: "2/3" }), { index: 2, count: 3 });
  Deno.env.set("FAULTLINE_TEST_SHARD_INDEX", "2");
  try {
    assert.deepEqual(
      shardOption({ shardIndexEnv: "FAULTLINE_TEST_SHARD_INDEX", shards: 3 }),
      { index: 3, count: 3 },
    );
    assert.throws(
      () => shardOption({ shardIndexEnv: "FAULTLINE_TEST_SHARD_INDEX", shards: 2 }),
      /not an index below --shards 2/,
    );
  } finally {
    Deno.env.delete("FAULTLINE_TEST_SHARD_INDEX");
  }
  assert.throws(() => shardOption({ shardIndexEnv: "X" }), /needs --shards N/);
  assert.throws(() => shardOption({ shards: 3 }), /goes with --shard-index-env/);
  assert.throws(
    () => shardOption({ shard: "1/2", shardIndexEnv: "X", shards: 2 }),
    /not both/,
  );
});

Deno.test("sweep CLI: a progress event is one JSON line with the counts and the ETA", () => {
  const line = progressEvent({
    done: 3,
    total: 10,
    points: { done: 7, total: 30 },
    statesChecked: 3,
    failed: 1,
    perMinute: 41.26,
    etaMs: 10_181.4,
  });
  assert.ok(!line.includes("\n"));
  assert.deepEqual(JSON.parse(line), {
    event: "progress",
    points: 7,
    pointsTotal: 30,
    replays: 3,
    replaysTotal: 10,
    statesChecked: 3,
    failed: 1,
    perMinute: 41.3,
    etaMs: 10181,
  });
});

Deno.test("sweep --json and JUnit: every point's reproduce command and oracle; a trace only when it was kept", () => {
  const point = (at: number, trace?: string): SweepPoint => ({
    at,
    op: "flush",
    verdict: { pass: at !== 5, reason: at === 5 ? "1 acknowledged key lost (5)" : "ok" },
    oracle: { acked: at, found: at === 5 ? 4 : at, lost: at === 5 ? 1 : 0, lostKeys: [] },
    fired: true,
    reproduce: `faultline replay run.trace --fault power-loss --fault-at ${at}`,
    ...(trace ? { trace } : {}),
  });
  const result = (points: SweepPoint[]): SweepResult => ({
    fault: "power-loss",
    points,
    passed: points.filter((p) => p.verdict.pass).length,
    failed: points.filter((p) => !p.verdict.pass).length,
    notFired: 0,
    replays: points.length,
    durationMs: 1,
  });
  // Not kept (no --keep-traces): no path anywhere, every point's command.
  const scratch = result([point(3), point(5)]);
  const json = sweepJson("run.trace", scratch) as { points: Record<string, unknown>[] };
  assert.deepEqual(json.points.map((p) => "trace" in p), [false, false]);
  const xml = sweepJunit("run.trace", scratch);
  assert.doesNotMatch(xml, /trace: /);
  assert.equal((xml.match(/<system-out>/g) ?? []).length, 2);
  assert.match(xml, /reproduce: faultline replay run.trace --fault power-loss --fault-at 3/);
  assert.match(xml, /oracle: acked 5, found 4, lost 1/);
  // Kept: each point names its trace.
  const kept = result([point(3, "kept/point-3.trace"), point(5, "kept/point-5.trace")]);
  const keptJson = sweepJson("run.trace", kept) as { points: { trace?: string }[] };
  assert.deepEqual(keptJson.points.map((p) => p.trace), [
    "kept/point-3.trace",
    "kept/point-5.trace",
  ]);
  assert.match(sweepJunit("run.trace", kept), /trace: kept\/point-5.trace/);
});

Deno.test("a sweep's recovery note: the orders each point was checked in, or why once", () => {
  assert.equal(
    recoveryNote({ name: "each-order", orders: [["e1", "e2"], ["e2", "e1"]] }),
    "recovery each-order: each point checked in 2 orders of the nodes serving the check (e1,e2; e2,e1)",
  );
  assert.equal(
    recoveryNote({ name: "each-order", orders: [[]] }),
    "recovery each-order: no node serves the check, so each point is checked once",
  );
  assert.equal(
    recoveryNote({ name: "with-checks", orders: [] }),
    "recovery with-checks: the nodes serving the check and the checks start at once",
  );
  assert.equal(
    recoveryNote({ name: "n2,n1", orders: [["n2", "n1"]] }),
    "recovery n2,n1: one order of the nodes serving the check (n2,n1)",
  );
});
