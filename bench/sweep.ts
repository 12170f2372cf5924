/**
 * Sweep throughput, cold (a boot per check, `--cold`) against warm (checks started from
 * the check guest saved once per sweep) and cached (the saved guest taken from the cache
 * of saved guests that the warm sweep filled, src/vm/state_cache.ts), in one run, on
 * scenarios/fsync-log.ts:
 *
 * - a power loss at every op, built from the trace: distinct crash states checked a minute;
 * - an EIO at every write, each point re-running the workload: points a minute.
 *
 * The machine's load (its 1-minute load average, before and after each sweep) is printed
 * beside each figure: on shared cores the ratios within one run are what to read.
 *
 * Run: `deno task bench` (after the fault-layer benchmark), or alone:
 * `deno run -A bench/sweep.ts [--quick] [--jobs N] [--json]`.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { readParent } from "../src/replay/replay.ts";
import { runScenario } from "../src/run/run.ts";
import { loadScenario } from "../src/scenario/load.ts";
import type { PointSelection } from "../src/scenario/points.ts";
import type { SweepResult } from "../src/sweep/result.ts";
import { sweep } from "../src/sweep/sweep.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";

/** cold: `--cold`; warm: the sweep saves its check guest; cached: it takes the warm one's. */
const MODES = ["cold", "warm", "cached"] as const;
type Mode = typeof MODES[number];

interface Figure {
  sweep: string;
  mode: Mode;
  points: number;
  replays: number;
  distinctCrashStates?: number;
  seconds: number;
  /** Seconds spent saving the check guest and the run (warm), included in `seconds`. */
  savedSeconds?: number;
  /** Online points that resumed from the saved run (warm). */
  resumed?: number;
  /** Why the online points that did not resume booted (the sweep's reasons, each once). */
  bootReasons?: string[];
  pointsPerMinute: number;
  /** Distinct crash states checked a minute (power loss). */
  statesPerMinute?: number;
  /** The 1-minute load average before and after. */
  load: [number, number];
}

async function loadAverage(): Promise<number> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "0");
  return Number(text.split(" ")[0]);
}

function figure(
  name: string,
  mode: Mode,
  result: SweepResult,
  load: [number, number],
): Figure {
  const minutes = result.durationMs / 60_000;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    sweep: name,
    mode,
    points: result.points.length,
    replays: result.replays,
    ...(result.distinctCrashStates !== undefined
      ? {
        distinctCrashStates: result.distinctCrashStates,
        statesPerMinute: round(result.distinctCrashStates / minutes),
      }
      : {}),
    seconds: round(result.durationMs / 1000),
    ...(result.checks?.savedMs !== undefined || result.runs?.savedMs !== undefined
      ? {
        savedSeconds: round(((result.checks?.savedMs ?? 0) + (result.runs?.savedMs ?? 0)) / 1000),
      }
      : {}),
    ...(result.runs ? { resumed: result.runs.resumed } : {}),
    ...(result.runs && result.runs.booted > 0 ? { bootReasons: result.runs.reasons } : {}),
    pointsPerMinute: round(result.points.length / minutes),
    load,
  };
}

const USAGE = `Usage: deno run -A bench/sweep.ts [options]

Sweeps of scenarios/fsync-log.ts, cold against warm (saving the check guest) and cached (the
saved guest from the cache): a power loss at every op, an EIO at every write.

Options:
  --quick          every 8th op and every 40th write
  --jobs <n>       replays at once (default: the number of cores)
  --json           print one JSON object
  -h, --help       display this help`;

/** Runs the sweep benchmark; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        jobs: { type: "string", default: String(navigator.hardwareConcurrency ?? 2) },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`bench/sweep.ts: ${(error as Error).message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { quick, json } = values;
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) {
    console.error(`--jobs takes a whole number, at least 1: not ${values.jobs}`);
    return 2;
  }
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
  const sweeps: { name: string; fault: string; points: PointSelection }[] = [
    {
      name: `power-loss at ${quick ? "every:8" : "all"} ops (from the trace)`,
      fault: "power-loss",
      points: quick ? { kind: "every", step: 8 } : { kind: "all" },
    },
    {
      name: `eio at ${quick ? "every:40" : "every write"} (re-runs the workload)`,
      fault: "eio",
      points: quick ? { kind: "every", step: 40 } : { kind: "writes" },
    },
  ];
  const figures: Figure[] = [];
  for (const { name, fault, points } of sweeps) {
    // A cache of the bench's own: the warm sweep saves into it, the cached one takes from it.
    const guestCache = join(dir.path, `cache-${fault}`);
    for (const mode of MODES) {
      const before = await loadAverage();
      const result = await sweep(parent, {
        fault,
        points,
        jobs,
        outputDir: dir.path,
        keepData: false,
        cold: mode === "cold",
        guestCache,
      });
      figures.push(figure(name, mode, result, [before, await loadAverage()]));
      if (!json) {
        const f = figures.at(-1)!;
        console.error(`  ${f.sweep}, ${f.mode}: ${f.seconds} s (load ${f.load.join(" -> ")})`);
      }
    }
  }
  const ratio = (name: string, key: "statesPerMinute" | "pointsPerMinute", mode: Mode) => {
    const [cold, other] = ["cold", mode].map((which) =>
      figures.find((f) => f.sweep === name && f.mode === which)![key] ?? 0
    );
    return Math.round(other / cold * 100) / 100;
  };
  const ratios = {
    powerLossStates: ratio(sweeps[0].name, "statesPerMinute", "warm"),
    eioPoints: ratio(sweeps[1].name, "pointsPerMinute", "warm"),
    powerLossStatesCached: ratio(sweeps[0].name, "statesPerMinute", "cached"),
    eioPointsCached: ratio(sweeps[1].name, "pointsPerMinute", "cached"),
  };
  if (json) {
    console.log(
      JSON.stringify({
        scenario: "fsync-log",
        jobs,
        cores: navigator.hardwareConcurrency,
        figures,
        ratios,
      }),
    );
    return 0;
  }
  console.log(
    `\nsweep throughput on scenarios/fsync-log.ts, ${jobs} jobs, ${navigator.hardwareConcurrency} cores`,
  );
  for (const f of figures) {
    const states = f.statesPerMinute !== undefined
      ? `, ${f.distinctCrashStates} distinct crash states = ${f.statesPerMinute} states/min`
      : "";
    const saved = f.savedSeconds !== undefined ? `, of which ${f.savedSeconds} s saving` : "";
    const resumed = f.resumed !== undefined && f.mode !== "cold"
      ? `, ${f.resumed} resumed from the workload's start${
        f.bootReasons ? `; the others booted: ${f.bootReasons.join("; ")}` : ""
      }`
      : "";
    console.log(
      `  ${f.sweep}, ${f.mode}: ${f.points} points in ${f.seconds} s${saved} = ${f.pointsPerMinute} points/min${states} (${f.replays} replays${resumed}; load ${
        f.load.join(" -> ")
      })`,
    );
  }
  console.log(
    `  warm / cold: power-loss ${ratios.powerLossStates}x distinct states a minute (goal 4x), eio ${ratios.eioPoints}x points a minute (goal 3x)`,
  );
  console.log(
    `  cached / cold: power-loss ${ratios.powerLossStatesCached}x, eio ${ratios.eioPointsCached}x`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
