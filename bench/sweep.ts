/**
 * Sweep throughput, in fault points per minute: a power-loss sweep built from
 * the trace (one check boot per distinct crash state, no workload run) against
 * a sweep that re-runs the workload at each point (an online fault).
 *
 * Run: `deno task bench` (after the fault-layer benchmark), or alone:
 * `deno run -A bench/sweep.ts [--quick] [--jobs N] [--json]`.
 *
 * @module
 */

import { join } from "node:path";
import { readParent } from "../src/replay/replay.ts";
import { runScenario } from "../src/run/run.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { sweep, type SweepResult } from "../src/sweep/sweep.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";

interface Figure {
  sweep: string;
  points: number;
  replays: number;
  distinctCrashStates?: number;
  seconds: number;
  pointsPerMinute: number;
  replaysPerMinute: number;
}

function figure(name: string, result: SweepResult): Figure {
  const minutes = result.durationMs / 60_000;
  return {
    sweep: name,
    points: result.points.length,
    replays: result.replays,
    ...(result.distinctCrashStates !== undefined
      ? { distinctCrashStates: result.distinctCrashStates }
      : {}),
    seconds: Math.round(result.durationMs / 100) / 10,
    pointsPerMinute: Math.round(result.points.length / minutes * 10) / 10,
    replaysPerMinute: Math.round(result.replays / minutes * 10) / 10,
  };
}

/** Runs the sweep benchmark; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const quick = args.includes("--quick");
  const json = args.includes("--json");
  const jobsAt = args.indexOf("--jobs");
  const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : navigator.hardwareConcurrency ?? 2;
  await using dir = await makePrivateDir("faultline-bench-sweep-");
  const trace = join(dir.path, "fsync-log.trace");
  const recorded = await runScenario({
    scenario: await loadScenario("scenarios/fsync-log.ts"),
    trace: { path: trace, keepData: true },
    command: "record",
  });
  if (!recorded.verdict.pass) {
    console.error(`the recording failed its own expectations: ${recorded.verdict.reason}`);
    return 3;
  }
  const parent = await readParent(trace);
  const figures: Figure[] = [];
  const powerLoss = await sweep(parent, {
    fault: "power-loss",
    points: quick ? { kind: "every", step: 8 } : { kind: "all" },
    jobs,
    outputDir: dir.path,
    keepData: false,
  });
  figures.push(
    figure(`power-loss at ${quick ? "every:8" : "all"} ops (from the trace)`, powerLoss),
  );
  const online = await sweep(parent, {
    fault: "eio",
    points: { kind: "every", step: quick ? 40 : 12 },
    jobs,
    outputDir: dir.path,
    keepData: false,
  });
  figures.push(figure(`eio at every:${quick ? 40 : 12} (re-runs the workload)`, online));

  if (json) {
    console.log(
      JSON.stringify({
        scenario: "fsync-log",
        jobs,
        cores: navigator.hardwareConcurrency,
        figures,
      }),
    );
  } else {
    console.log(
      `\nsweep throughput on scenarios/fsync-log.ts, ${jobs} jobs, ${navigator.hardwareConcurrency} cores`,
    );
    for (const f of figures) {
      const states = f.distinctCrashStates !== undefined
        ? `, ${f.distinctCrashStates} distinct crash states`
        : "";
      console.log(
        `  ${f.sweep}: ${f.points} points in ${f.seconds} s = ${f.pointsPerMinute} points/min (${f.replays} replays${states}, ${f.replaysPerMinute} replays/min)`,
      );
    }
    const ratio = figures[0].pointsPerMinute / figures[1].pointsPerMinute;
    console.log(
      `  power-loss points from the trace are ${
        ratio.toFixed(1)
      }x the rate of points that re-run the workload`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
