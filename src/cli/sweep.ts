/**
 * `faultline sweep TRACE|SCENARIO --fault KIND --points ...`: one fault at every
 * chosen op, in parallel, with a table of verdicts and the reproduce command
 * of each failing point.
 *
 * @module
 */

import cliProgress from "cli-progress";
import { readParent } from "../replay/replay.ts";
import { runScenario } from "../run/run.ts";
import { loadScenario } from "../scenario/load.ts";
import { junitXml } from "../report/junit.ts";
import { sweepReportHtml } from "../report/html.ts";
import { parsePoints } from "../scenario/points.ts";
import { sweep, type SweepResult } from "../sweep/sweep.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { formatDuration } from "../util/units.ts";
import { EXIT, UsageError } from "./errors.ts";
import { table } from "./format.ts";
import { withInterrupt } from "./interrupt.ts";
import { defaultTracePath, progressPrinter } from "./record.ts";

/** Options of `sweep`. */
export interface SweepCommandOptions {
  fault: string;
  points: string;
  jobs?: number;
  json: boolean;
  junit?: string;
  html?: string;
  keepTraces?: string;
  output?: string;
  verbose: boolean;
}

/** The JSON of a sweep. */
export function sweepJson(trace: string, result: SweepResult): Record<string, unknown> {
  return {
    trace,
    fault: result.fault,
    points: result.points.map((p) => ({
      at: p.at,
      op: p.op,
      verdict: p.verdict,
      ...(p.oracle
        ? { oracle: { acked: p.oracle.acked, found: p.oracle.found, lost: p.oracle.lost } }
        : {}),
      fired: p.fired,
      reproduce: p.reproduce,
      ...(p.sameCrashAs !== undefined ? { sameCrashAs: p.sameCrashAs } : {}),
    })),
    passed: result.passed,
    failed: result.failed,
    notFired: result.notFired,
    ...(result.distinctCrashStates !== undefined
      ? { distinctCrashStates: result.distinctCrashStates }
      : {}),
    replays: result.replays,
    durationMs: Math.round(result.durationMs),
  };
}

/** The JUnit suite of a sweep: one case per point. */
export function sweepJunit(trace: string, result: SweepResult): string {
  return junitXml([{
    name: `${trace} ${result.fault}`,
    cases: result.points.map((p) => ({
      name: `${result.fault} at op ${p.at} (${p.op})`,
      classname: trace,
      ...(!p.fired && !p.error
        ? { skipped: `the fault never fired: ${p.verdict.reason}` }
        : !p.verdict.pass
        ? { failure: { message: p.verdict.reason, text: `reproduce: ${p.reproduce}` } }
        : {}),
    })),
  }]);
}

/** Prints a sweep's table, its failing points and totals. */
export function printSweep(trace: string, result: SweepResult): void {
  const rows = [["op", "what", "verdict", "reason"]];
  for (const p of result.points) {
    const status = !p.fired && !p.error ? "NOT FIRED" : p.verdict.pass ? "pass" : "FAIL";
    rows.push([
      String(p.at),
      p.op,
      status,
      p.verdict.reason +
      (p.sameCrashAs !== undefined ? ` (same crash state as op ${p.sameCrashAs})` : ""),
    ]);
  }
  console.log(table(rows));
  const failing = result.points.filter((p) => p.fired && !p.verdict.pass || p.error);
  if (failing.length > 0) {
    console.log("\nfailing points:");
    for (const p of failing) console.log(`  op ${p.at}: ${p.verdict.reason}\n    ${p.reproduce}`);
  }
  const crash = result.distinctCrashStates !== undefined
    ? `, ${result.distinctCrashStates} distinct crash states checked`
    : "";
  console.log(
    `\n${trace}, ${result.fault}: ${result.points.length} points: ${result.passed} passed, ${result.failed} failed, ${result.notFired} never fired${crash}; ${result.replays} replays in ${
      formatDuration(result.durationMs)
    }`,
  );
}

/** Runs `sweep`. */
export async function sweepCommand(target: string, options: SweepCommandOptions): Promise<number> {
  const points = parsePoints(options.points);
  const jobs = options.jobs ?? navigator.hardwareConcurrency ?? 2;
  if (jobs < 1) throw new UsageError("--jobs must be at least 1");
  const isScenario = /\.(ts|js|json|mts|mjs)$/i.test(target);
  return await withInterrupt(async (signal) => {
    let trace = target;
    if (isScenario) {
      const scenario = await loadScenario(target);
      trace = options.output ?? defaultTracePath(scenario.name);
      if (!options.json) console.error(`recording ${target} into ${trace} first`);
      const recorded = await runScenario({
        scenario,
        trace: { path: trace, keepData: true },
        command: "record",
        signal,
        onEvent: progressPrinter(options),
      });
      if (!recorded.verdict.pass) {
        console.error(
          `warning: the recording itself fails its expectations: ${recorded.verdict.reason}`,
        );
      }
    }
    const parent = await readParent(trace);
    if (parent.warning) console.error(`warning: ${parent.warning}`);
    await using scratch = await makePrivateDir("faultline-sweep-");
    if (options.keepTraces) await Deno.mkdir(options.keepTraces, { recursive: true });
    const bar = options.json || options.verbose ? null : new cliProgress.SingleBar({
      format: "sweep [{bar}] {value}/{total} replays | {percentage}% | ETA {eta_formatted}",
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    const result = await sweep(parent, {
      fault: options.fault,
      points,
      jobs,
      outputDir: options.keepTraces ?? scratch.path,
      keepData: false,
      signal,
      onEvent: options.verbose ? progressPrinter(options) : undefined,
      onProgress: (progress) => {
        if (!bar) return;
        if (!started) {
          bar.start(progress.total, 0);
          started = true;
        }
        bar.update(progress.done);
      },
    });
    bar?.stop();
    if (options.junit) await Deno.writeTextFile(options.junit, sweepJunit(trace, result));
    if (options.html) await Deno.writeTextFile(options.html, await sweepReportHtml(parent, result));
    if (options.json) console.log(JSON.stringify(sweepJson(trace, result)));
    else printSweep(trace, result);
    return result.failed > 0 ? EXIT.verdictFailed : EXIT.pass;
  });
}
