/**
 * The differential test of warm checks: every shipped scenario's declared sweeps, run
 * cold (a boot per check, `--cold`) and warm (checks started from the saved check guest),
 * give the same per-point verdicts, oracle counts and crash-state ids. To stay within the
 * suite's time, each sweep compares a deterministic sample: shard 1 of as many shards as
 * leave about two checks (src/sweep/shard.ts keeps byte-identical states together, so
 * the sample is a sweep of its own). Online faults (EIO at op N) resume their points from
 * the run saved at the workload's start, and their traces say so. The etcd scenarios are
 * left out: their checks are three guests of about 20 s (tests/etcd_test.ts compares two
 * points of etcd-put warm and cold). For the suite's time it compares two
 * scenarios ({@link IN_SUITE});
 * FAULTLINE_DIFFERENTIAL=all compares every single-node one, sqlite's others and the
 * PostgreSQL and Redis ones too (tests/packages_test.ts compares a Redis point warm and cold).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { scenarioFiles } from "../src/ci/ci.ts";
import { recordForReplay } from "./support/mod.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { parsePoints } from "../src/scenario/points.ts";
import type { SweepPoint, SweepResult } from "../src/sweep/result.ts";
import { sweepStates } from "../src/sweep/plan.ts";
import { sweep } from "../src/sweep/sweep.ts";
import { loadTrace } from "../src/trace/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";

/** FAULTLINE_DIFFERENTIAL=all takes every single-node scenario (about 7 minutes more). */
const ALL = Deno.env.get("FAULTLINE_DIFFERENTIAL") === "all";

/**
 * The scenarios the suite compares: a sweep of online faults (fsync-log's EIO, resumed from
 * the saved workload start), power-loss sweeps over flushes, and a finding that warm checks
 * must not hide (sqlite-delete-full). fsync-log-nobarrier's sweep over every op is left to
 * FAULTLINE_DIFFERENTIAL=all: tests/sweep_ci_test.ts sweeps it warm and finds its losses.
 */
const IN_SUITE = [
  "scenarios/fsync-log.ts",
  "scenarios/sqlite-delete-full.ts",
];

/** Checks a sample keeps, about. */
const SAMPLE_CHECKS = 2;

/** What must be the same, cold or warm, of one point. */
function comparable(point: SweepPoint) {
  return {
    at: point.at,
    fired: point.fired,
    pass: point.verdict.pass,
    reason: point.verdict.reason,
    oracle: point.oracle
      ? {
        acked: point.oracle.acked,
        found: point.oracle.found,
        lost: point.oracle.lost,
        lostKeys: point.oracle.lostKeys,
      }
      : null,
    sameCrashAs: point.sameCrashAs ?? null,
    states: point.states?.outcomes.map((state) => ({
      id: state.id,
      pass: state.verdict.pass,
      found: state.oracle?.found ?? null,
      sameCrashAs: state.sameCrashAs ?? null,
    })) ?? null,
    error: point.error ?? null,
  };
}

function totals(result: SweepResult) {
  return {
    points: result.points.length,
    passed: result.passed,
    failed: result.failed,
    notFired: result.notFired,
    distinct: result.distinctCrashStates ?? null,
    replays: result.replays,
  };
}

const files = await scenarioFiles(["scenarios"]);
for (const file of files) {
  const scenario = await loadScenario(file);
  const sweeps = scenario.faults.filter((fault) => fault.points !== null);
  if (sweeps.length === 0) continue;
  if (scenario.nodes.length > 1) continue;
  if (!ALL && !IN_SUITE.includes(file)) continue;
  Deno.test({
    name: `warm = cold: ${file}'s declared sweeps`,
    async fn() {
      await using dir = await makePrivateDir("faultline-warm-cold-");
      const trace = join(dir.path, `${scenario.name}.trace`);
      const { parent, prepared } = await recordForReplay(scenario, trace);
      for (const fault of sweeps) {
        const points = parsePoints(fault.points!);
        const whole = sweepStates(parent, { fault: fault.fault, points });
        const count = Math.max(1, Math.floor(whole.distinct / SAMPLE_CHECKS));
        const shard = { index: 1, count };
        const run = async (cold: boolean) => {
          const outputDir = join(dir.path, `${cold ? "cold" : "warm"}-${sweeps.indexOf(fault)}`);
          await Deno.mkdir(outputDir);
          return await sweep(parent, {
            fault: fault.fault,
            points,
            shard,
            jobs: 2,
            outputDir,
            keepData: false,
            expect: fault.expect,
            prepared,
            cold,
          });
        };
        const cold = await run(true);
        const warm = await run(false);
        const what = `${file}: ${fault.fault} at ${fault.points} (shard 1/${count})`;
        assert.ok(cold.points.length > 0, `${what}: an empty sample`);
        assert.deepEqual(
          warm.checks?.warm,
          scenario.nodes.filter((n) => n.check !== null).map((n) => n.name),
          `${what}: the warm sweep's checks did not start from a saved guest`,
        );
        assert.deepEqual(cold.checks?.warm, [], `${what}: --cold started a check warm`);
        assert.deepEqual(warm.points.map(comparable), cold.points.map(comparable), what);
        assert.deepEqual(totals(warm), totals(cold), what);
        if (warm.runs) {
          // An online fault: its points resumed from the saved workload start, and say so.
          assert.equal(cold.runs?.resumed, 0, `${what}: --cold resumed a run`);
          assert.ok(warm.runs.resumed > 0, `${what}: no point resumed (${warm.runs.reasons})`);
          type Header = { warm?: { run?: { state: string; opsBefore: number; hold: string } } };
          const headers = await Promise.all(
            warm.points.map(async (p) => (await loadTrace(p.trace!)).header as Header),
          );
          const resumed = headers.filter((h) => h.warm?.run);
          assert.equal(resumed.length, warm.runs.resumed, `${what}: traces that say they resumed`);
          for (const header of resumed) {
            assert.match(header.warm!.run!.state, /^[0-9a-f]{64}$/, what);
            assert.equal(header.warm!.run!.hold, "phase");
            assert.ok(header.warm!.run!.opsBefore > 0, what);
          }
        }
      }
    },
  });
}
