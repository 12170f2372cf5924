/**
 * `faultline replay TRACE`: run the trace's scenario again with faults at
 * chosen ops, or check a power loss built from the trace alone; say how the
 * replay's ops compared with the recording, and how to reproduce it.
 *
 * @module
 */

import { describePrefix } from "../replay/signature.ts";
import {
  checkReplayRecovery,
  defaultReplayPath,
  prepareForReplay,
  readParent,
  replay,
  type ReplayResult,
  reproduceCommand,
} from "../replay/replay.ts";
import { describeRate, distinctReasons, reproduced } from "../sweep/confirm.ts";
import { parseRecovery, type Recovery } from "../scenario/recovery.ts";
import { accelChooser } from "./accel.ts";
import { EXIT, UsageError } from "./errors.ts";
import { withInterrupt } from "./interrupt.ts";
import { pacedProgress, type Progress, progressLine } from "./progress.ts";
import { keptTraces, printRun, progressPrinter, qmpEndpoints, runJson } from "./record.ts";

/** Options of `replay`. */
export interface ReplayCommandOptions {
  fault: string[];
  /** `--with`: faults in force beside them. */
  with: string[];
  faultAt?: string;
  live: boolean;
  strictOrder: boolean;
  runs: number;
  output?: string;
  json: boolean;
  verbose: boolean;
  data: boolean;
  seed?: number;
  /** `--qmp [NODE=]PATH`, as given. */
  qmp: string[];
  /** `--control PATH`. */
  control?: string;
  /** `--recovery ORDER`: together, with-checks, in-order, or an order of the serving nodes. */
  recovery?: string;
  /** `--accel kvm|tcg|auto`. */
  accel?: string;
}

/** The JSON of one replay. */
function replayJson(result: ReplayResult): Record<string, unknown> {
  return {
    ...runJson(result),
    fired: result.fired,
    faultAt: result.faultAt,
    ...(result.firings.length > 0 ? { firings: result.firings } : {}),
    ...(result.notFired.length > 0 ? { notFired: result.notFired } : {}),
    prefix: result.prefix,
    ...(result.otherAccel ? { otherAccel: result.otherAccel } : {}),
    ...(result.powerCut ? { powerCut: result.powerCut } : {}),
    ...(result.lost ? { lost: result.lost } : {}),
    ...(result.order
      ? {
        order: { breaks: result.order.breaks.length, waitedMs: Math.round(result.order.waitedMs) },
      }
      : {}),
    reproduce: result.reproduce,
  };
}

/**
 * Where `replay --runs N` stands: the runs done, the failing ones, and the time left at
 * the runs' mean duration.
 *
 * @example
 * ```ts
 * runsProgress({ done: results, took: [61_000, 59_000], runs: 5 }).etaMs; // 180000
 * ```
 */
export function runsProgress(
  so: { done: readonly Pick<ReplayResult, "verdict">[]; took: readonly number[]; runs: number },
): Progress {
  const { done, took, runs } = so;
  const mean = took.length > 0 ? took.reduce((a, b) => a + b, 0) / took.length : null;
  return {
    work: "replay",
    done: done.length,
    total: runs,
    unit: "runs",
    findings: done.filter((result) => !result.verdict.pass).length,
    etaMs: mean === null ? null : mean * (runs - done.length),
  };
}

/** A progress event of `replay --runs N --json`: one JSON object on stderr. */
function runsProgressEvent(progress: Progress, sinceMs: number): string {
  return JSON.stringify({
    event: "progress",
    runs: progress.done,
    runsTotal: progress.total,
    failed: progress.findings,
    etaMs: progress.etaMs === null ? null : Math.round(Math.max(0, progress.etaMs - sinceMs)),
  });
}

/** Runs `replay`. */
export async function replayCommand(path: string, options: ReplayCommandOptions): Promise<number> {
  if (!Number.isInteger(options.runs) || options.runs < 1) {
    throw new UsageError("--runs must be at least 1");
  }
  const recovery = options.recovery === undefined ? undefined : parseRecovery(options.recovery);
  const accelOf = await accelChooser(options.accel);
  const parent = await readParent(path);
  checkReplayRecovery(parent, recovery);
  if (parent.warning) console.error(`warning: ${parent.warning}`);
  const accel = accelOf(parent.scenario);
  const outputs: string[] = [];
  // Several runs: a line at least every 10 s, as each run may take minutes.
  const progress = options.runs > 1
    ? pacedProgress<Progress>({
      print: (line) => console.error(line),
      eager: options.json,
      format: (p, times) =>
        options.json ? runsProgressEvent(p, times.sinceMs) : progressLine(p, times),
    })
    : null;
  const results: ReplayResult[] = await withInterrupt(async (signal) => {
    const prepared = await prepareForReplay(parent, signal);
    const done: ReplayResult[] = [];
    const took: number[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const output = options.runs === 1
        ? options.output ?? defaultReplayPath(path)
        : (options.output ?? defaultReplayPath(path)).replace(/(\.trace)?$/, `-${run}.trace`);
      outputs.push(output);
      if (options.runs > 1 && !options.json) console.error(`run ${run} of ${options.runs}`);
      progress?.show(runsProgress({ done, took, runs: options.runs }));
      const begun = performance.now();
      done.push(
        await replay(parent, {
          ...replayWords(options, recovery),
          output,
          keepData: options.data,
          qmp: qmpEndpoints(options.qmp, parent.scenario),
          ...(options.control ? { control: options.control } : {}),
          signal,
          prepared,
          accel,
          onEvent: progressPrinter(options),
        }),
      );
      took.push(performance.now() - begun);
    }
    return done;
  }, { kept: () => keptTraces(outputs) }).finally(() => progress?.stop());

  const first = results[0];
  const rate = reproduced(results.map((r) => r.verdict));
  const reproduce = results.length > 1
    ? reproduceCommand(path, { ...replayWords(options, recovery), runs: results.length })
    : first.reproduce;
  if (options.json) {
    console.log(JSON.stringify(
      options.runs === 1
        ? replayJson(first)
        : { ...replayJson(first), reproduce, runs: results.map(replayJson), reproduced: rate },
    ));
  } else {
    for (const [i, result] of results.entries()) {
      if (results.length > 1) console.log(`\n== run ${i + 1}`);
      printReplay(result);
    }
    if (results.length > 1) printRate(results);
    console.log(`reproduce: ${reproduce}`);
  }
  return results.every((r) => r.verdict.pass) ? EXIT.pass : EXIT.verdictFailed;
}

/** The options of a replay that its reproduce command repeats. */
function replayWords(options: ReplayCommandOptions, recovery: Recovery | undefined) {
  return {
    faults: options.fault,
    with: options.with,
    faultAt: options.faultAt,
    live: options.live,
    strictOrder: options.strictOrder,
    seed: options.seed,
    ...(recovery !== undefined ? { recovery } : {}),
  };
}

/** One replay's outcome: the run, the power cut, what was lost, and how its ops compared. */
function printReplay(result: ReplayResult): void {
  printRun(result);
  if (result.powerCut) {
    console.log(
      `power loss at op ${result.powerCut.at} (${result.powerCut.source}): ${result.powerCut.writesKept} writes kept, ${result.powerCut.dropped} of ${result.powerCut.volatile} volatile writes dropped`,
    );
  }
  if (result.lost) console.log(`lost: ${result.lost.summary}`);
  if (result.notFired.length > 0) console.log(`never fired: ${result.notFired.join(", ")}`);
  if (result.otherAccel) console.log(`note: ${result.otherAccel}`);
  console.log(`prefix: ${describePrefix(result.prefix)}`);
}

/**
 * Several runs by outcome: how many failed (a failure whatever its reason's counts: `found 38`
 * and `found 39` both fail), the runs whose check could not run, and each distinct reason.
 */
function printRate(results: readonly ReplayResult[]): void {
  const verdicts = results.map((r) => r.verdict);
  const rate = reproduced(verdicts);
  const unjudged = verdicts.filter((v) => !v.pass && v.kind === "inconclusive").length;
  const outcome = rate.failed === 0
    ? `passed in ${verdicts.filter((v) => v.pass).length} of ${rate.runs} runs`
    : `failed in ${rate.failed} of ${rate.runs} runs (${describeRate(rate)})`;
  console.log(
    `\n${outcome}${unjudged > 0 ? `; ${unjudged} could not be checked (inconclusive)` : ""}`,
  );
  for (const { count, ...verdict } of distinctReasons(verdicts)) {
    console.log(`  ${count}x ${verdict.pass ? "pass" : verdict.kind ?? "fail"}: ${verdict.reason}`);
  }
}
