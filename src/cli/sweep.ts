/**
 * `faultline sweep TRACE|SCENARIO --fault KIND --points ...`: one fault at every
 * chosen op, in parallel, with a table of verdicts and the reproduce command
 * of each failing point.
 *
 * @module
 */

import { basename } from "node:path";
import cliProgress from "cli-progress";
import { otherAccel, type ParentTrace, readParent } from "../replay/replay.ts";
import type { AccelChoice } from "../vm/accel.ts";
import { accelChooser } from "./accel.ts";
import { runScenario } from "../run/run.ts";
import { loadScenario } from "../scenario/load.ts";
import type { Scenario } from "../scenario/schema.ts";
import { type JunitCase, junitXml, pointText } from "../report/junit.ts";
import { sweepReportHtml } from "../report/html.ts";
import { parsePoints } from "../scenario/points.ts";
import {
  failingReproduces,
  isFailing,
  orderFails,
  pointMessage,
  stateFails,
  type SweepPoint,
  type SweepProgress,
  type SweepResult,
} from "../sweep/result.ts";
import { sweep } from "../sweep/sweep.ts";
import type { SweepResultsFile } from "../sweep/merge.ts";
import { parseShard, type Shard, shardFromIndex } from "../sweep/shard.ts";
import { formatDuration } from "../util/units.ts";
import { describeRate, type Reproduced } from "../sweep/confirm.ts";
import { describeCounts, pointStatus, statusWord } from "../sweep/status.ts";
import { defaultJobs } from "../sweep/jobs.ts";
import { checkRecovery, parseRecovery } from "../scenario/recovery.ts";
import { EXIT, UsageError } from "./errors.ts";
import { table } from "./format.ts";
import { withInterrupt } from "./interrupt.ts";
import { pacedProgress, type Progress, progressLine } from "./progress.ts";
import { defaultTracePath, keptTraces, progressPrinter } from "./record.ts";
import { writePerfetto } from "./trace.ts";

/** Options of `sweep`. */
export interface SweepCommandOptions {
  fault: string;
  /** `--with SPEC`: faults in force at every point. */
  with?: string[];
  points: string;
  jobs?: number;
  /** `--confirm R`: verdicts a failing point gets (default: 3 on a cluster, 1 on one node). */
  confirm?: number;
  /** `--json`: print the JSON; `--json FILE`: write the results file (for `merge`) and print the table. */
  json: boolean | string;
  junit?: string;
  html?: string;
  keepTraces?: string;
  output?: string;
  verbose: boolean;
  /** `--cold`: every check boots. */
  cold?: boolean;
  /** `--shard K/N`. */
  shard?: string;
  /** `--shard-index-env NAME`: the shard is $NAME (from 0) of `--shards`. */
  shardIndexEnv?: string;
  /** `--shards N`, with `--shard-index-env`. */
  shards?: number;
  /**
   * `--recovery ORDER`: together, with-checks, in-order, each-order, or an order of the
   * serving nodes.
   */
  recovery?: string;
  /** `--accel kvm|tcg|auto`. */
  accel?: string;
}

/** The shard of a command's options (`--shard K/N`, or `--shard-index-env NAME --shards N`), if any. */
export function shardOption(
  options: { shard?: string; shardIndexEnv?: string; shards?: number },
): Shard | undefined {
  if (options.shard !== undefined && options.shardIndexEnv !== undefined) {
    throw new UsageError("give --shard K/N or --shard-index-env NAME --shards N, not both");
  }
  if (options.shardIndexEnv !== undefined) {
    if (options.shards === undefined) {
      throw new UsageError("--shard-index-env needs --shards N (how many shards there are)");
    }
    return shardFromIndex(
      Deno.env.get(options.shardIndexEnv),
      options.shards,
      options.shardIndexEnv,
    );
  }
  if (options.shards !== undefined) {
    throw new UsageError("--shards goes with --shard-index-env NAME (or give --shard K/N)");
  }
  return options.shard === undefined ? undefined : parseShard(options.shard);
}

/**
 * A progress line for CI dashboards: one JSON object on stderr. `sinceMs`: how long ago the
 * progress was measured, taken off the time left.
 */
export function progressEvent(progress: SweepProgress, sinceMs = 0): string {
  return JSON.stringify({ event: "progress", ...progressFields(progress, sinceMs) });
}

/** A sweep's progress as the fields of a JSON progress event. */
export function progressFields(progress: SweepProgress, sinceMs = 0): Record<string, unknown> {
  return {
    points: progress.points.done,
    pointsTotal: progress.points.total,
    replays: progress.done,
    replaysTotal: progress.total,
    ...(progress.statesChecked !== undefined ? { statesChecked: progress.statesChecked } : {}),
    failed: progress.failed,
    perMinute: Math.round(progress.perMinute * 10) / 10,
    etaMs: progress.etaMs === null ? null : Math.round(Math.max(0, progress.etaMs - sinceMs)),
  };
}

/** The JSON of a sweep. */
export function sweepJson(trace: string, result: SweepResult): Record<string, unknown> {
  const oracle = (o: SweepPoint["oracle"]) =>
    o ? { oracle: { acked: o.acked, found: o.found, lost: o.lost, lostKeys: o.lostKeys } } : {};
  return {
    trace,
    fault: result.fault,
    ...(result.with?.length ? { with: result.with } : {}),
    points: result.points.map((p) => ({
      at: p.at,
      op: p.op,
      where: p.where,
      verdict: p.verdict,
      ...oracle(p.oracle),
      fired: p.fired,
      ...(p.reproduced ? { reproduced: p.reproduced } : {}),
      reproduce: p.reproduce,
      ...(p.trace ? { trace: p.trace } : {}),
      ...(p.sameCrashAs !== undefined ? { sameCrashAs: p.sameCrashAs } : {}),
      ...(p.lost ? { lost: p.lost } : {}),
      ...(p.states
        ? {
          states: {
            volatile: p.states.volatile,
            total: p.states.total,
            sampled: p.states.sampled,
            distinct: p.states.distinct,
            checked: p.states.outcomes.length,
            failed: p.states.outcomes.filter(stateFails).map((s) => s.id),
            outcomes: p.states.outcomes.map((s) => ({
              id: s.id,
              dropped: s.dropped,
              drops: s.drops,
              verdict: s.verdict,
              ...oracle(s.oracle),
              ...(s.reproduced ? { reproduced: s.reproduced } : {}),
              reproduce: s.reproduce,
              ...(s.trace ? { trace: s.trace } : {}),
              ...(s.sameCrashAs ? { sameCrashAs: s.sameCrashAs } : {}),
              ...(s.lost ? { lost: s.lost } : {}),
            })),
          },
        }
        : {}),
      ...(p.orders
        ? {
          orders: p.orders.map((o) => ({
            order: o.order,
            verdict: o.verdict,
            ...oracle(o.oracle),
            fired: o.fired,
            reproduce: o.reproduce,
            ...(o.trace ? { trace: o.trace } : {}),
            ...(o.sameCrashAs !== undefined ? { sameCrashAs: o.sameCrashAs } : {}),
            ...(o.reproduced ? { reproduced: o.reproduced } : {}),
          })),
        }
        : {}),
    })),
    passed: result.passed,
    failed: result.failed,
    notFired: result.notFired,
    ...(result.inconclusive ? { inconclusive: result.inconclusive } : {}),
    ...(result.unavailable ? { unavailable: result.unavailable } : {}),
    ...(result.distinctCrashStates !== undefined
      ? { distinctCrashStates: result.distinctCrashStates }
      : {}),
    ...(result.crashStates !== undefined ? { crashStates: result.crashStates } : {}),
    ...(result.recovery ? { recovery: result.recovery } : {}),
    replays: result.replays,
    ...(result.confirm !== undefined ? { confirm: result.confirm } : {}),
    ...(result.jobs !== undefined ? { jobs: result.jobs } : {}),
    durationMs: Math.round(result.durationMs),
    ...(result.partial ? { partial: result.partial } : {}),
    ...(result.shard ? { shard: result.shard } : {}),
    ...(result.checks ? { checks: result.checks } : {}),
    ...(result.runs ? { runs: result.runs } : {}),
  };
}

/** The JUnit suite of a sweep: one case per point. */
export function sweepJunit(trace: string, result: SweepResult): string {
  return junitXml([{
    name: `${trace} ${result.fault}${partialNote(result)}`,
    cases: result.points.map((p) => ({
      name: `${result.fault} at op ${p.at} (${p.op})`,
      classname: trace,
      output: pointText(p),
      ...junitOutcome(p),
    })),
  }]);
}

/** A point's JUnit outcome: skipped when nothing was tested, a failure with its rate, or none. */
function junitOutcome(p: SweepPoint): Pick<JunitCase, "skipped" | "failure"> {
  const status = pointStatus(p);
  if (status === "not-fired") return { skipped: `the fault never fired: ${p.verdict.reason}` };
  if (status === "inconclusive") return { skipped: `the check could not run: ${p.verdict.reason}` };
  if (status === "pass") return {};
  const rate = p.reproduced && p.reproduced.runs > 1 ? ` (${describeRate(p.reproduced)})` : "";
  return {
    failure: {
      message: `${p.verdict.reason}${rate}`,
      text: `${p.where ?? ""}\n${p.lost ? `lost: ${p.lost.summary}\n` : ""}${
        failingReproduces(p).map((c) => `reproduce: ${c}`).join("\n")
      }`,
    },
  };
}

/** " (partial: N of M points, the sweep was stopped)" for a sweep stopped before its end, else "". */
function partialNote(result: SweepResult): string {
  return result.partial
    ? ` (partial: ${result.points.length} of ${result.partial.pointsPlanned} points, the sweep was stopped)`
    : "";
}

/** The states column of a point: how many it checked, and how many of them failed. */
function statesCell(p: SweepPoint): string {
  if (!p.states) return "";
  const failed = p.states.outcomes.filter(stateFails).length;
  const checked = `${p.states.outcomes.length}${p.states.sampled ? ` of ${p.states.total}` : ""}`;
  return failed > 0 ? `${failed} of ${checked} FAIL` : `${checked} pass`;
}

/** How often a failure reproduced, in words, when it got several runs. */
function rateLine(rate: Reproduced | undefined): string[] {
  if (!rate || rate.runs < 2) return [];
  return [`reproduced: ${describeRate(rate)} (failed in ${rate.failed} of ${rate.runs} runs)`];
}

/** The orders column of a point: the recovery orders that failed, or how many passed. */
function ordersCell(p: SweepPoint): string {
  if (!p.orders) return "";
  const failed = p.orders.filter(orderFails);
  return failed.length > 0
    ? `${failed.map((o) => o.order.join(",")).join("; ")} FAIL`
    : `${p.orders.length} pass`;
}

/** Prints a sweep's table, its failing points and totals. */
export function printSweep(trace: string, result: SweepResult): void {
  const multi = result.crashStates !== undefined;
  const ordered = result.points.some((p) => p.orders);
  const rows = [[
    "op",
    "what",
    "step",
    ...(multi ? ["states"] : []),
    ...(ordered ? ["orders"] : []),
    "verdict",
    "reason",
  ]];
  for (const p of result.points) {
    rows.push([
      String(p.at),
      p.op,
      stepOf(p),
      ...(multi ? [statesCell(p)] : []),
      ...(ordered ? [ordersCell(p)] : []),
      statusWord(p),
      p.verdict.reason +
      (p.sameCrashAs !== undefined ? ` (same crash state as op ${p.sameCrashAs})` : ""),
    ]);
  }
  console.log(table(rows));
  printFailing(result.points.filter(isFailing));
  const unjudged = result.points.filter((p) => pointStatus(p) === "inconclusive");
  if (unjudged.length > 0) {
    console.log("\ninconclusive points (the check could not run: neither a pass nor a loss):");
    for (const p of unjudged) console.log(`  op ${p.at}: ${p.verdict.reason}`);
  }
  if (result.recovery) console.log(recoveryNote(result.recovery));
  printNotes(result);
  console.log(`\n${sweepSummary(trace, result)}`);
}

/** The failing points, each with its rate, what it lost and the command that replays it. */
function printFailing(failing: readonly SweepPoint[]): void {
  if (failing.length === 0) return;
  console.log("\nfailing points:");
  for (const p of failing) {
    if (!p.states && !p.orders) {
      console.log(`  op ${p.at}: ${pointMessage(p)}`);
      for (const line of rateLine(p.reproduced)) console.log(`    ${line}`);
      if (p.lost) console.log(`    lost: ${p.lost.summary}`);
      console.log(`    ${p.reproduce}`);
      continue;
    }
    console.log(`  op ${p.at}: ${p.where ?? p.op}:`);
    // Every order checks the same crash state: what it lost is the point's.
    if (p.orders && p.lost) console.log(`    lost: ${p.lost.summary}`);
    for (const s of p.states?.outcomes.filter(stateFails) ?? []) {
      console.log(`    state ${s.id}, ${s.drops}: ${s.verdict.reason}`);
      for (const line of rateLine(s.reproduced)) console.log(`      ${line}`);
      if (s.lost) console.log(`      lost: ${s.lost.summary}`);
      console.log(`      ${s.reproduce}`);
    }
    for (const o of p.orders?.filter(orderFails) ?? []) {
      console.log(`    order ${o.order.join(",")}: ${o.verdict.reason}`);
      for (const line of rateLine(o.reproduced)) console.log(`      ${line}`);
      console.log(`      ${o.reproduce}`);
    }
  }
}

/** Why checks or runs booted instead of starting from a saved guest. */
function printNotes(result: SweepResult): void {
  for (const cold of result.checks?.cold ?? []) {
    if (cold.reason !== "--cold") {
      console.log(`note: node ${cold.node} boots cold in the check phase: ${cold.reason}`);
    }
  }
  if (result.runs && result.runs.booted > 0) {
    const why = result.runs.reasons.filter((reason) => reason !== "--cold");
    if (why.length > 0) {
      console.log(
        `note: ${result.runs.booted} of ${
          result.runs.resumed + result.runs.booted
        } points booted instead of resuming from the workload's start: ${why.join("; ")}`,
      );
    }
  }
}

/** A sweep's totals in one line: points by outcome, crash states, replays and time. */
export function sweepSummary(trace: string, result: SweepResult): string {
  const multi = result.crashStates !== undefined;
  const crash = result.distinctCrashStates !== undefined
    ? `, ${result.distinctCrashStates} distinct crash states checked${
      multi ? ` (of ${result.crashStates})` : ""
    }`
    : "";
  const withText = result.with?.length ? ` with ${result.with.join(" ")}` : "";
  const shardText = result.shard
    ? ` (shard ${result.shard.index}/${result.shard.count} of ${result.shard.sweepPoints} points)`
    : "";
  return `${trace}, ${result.fault}${withText}${shardText}${partialNote(result)}: ${
    describeCounts(result)
  }${crash}; ${result.replays} replays${
    result.jobs !== undefined ? ` (${result.jobs} at once)` : ""
  } in ${formatDuration(result.durationMs)}`;
}

/**
 * How a sweep's checks started the nodes serving them, in words.
 *
 * @example
 * ```ts
 * recoveryNote({ name: "each-order", orders: [["e1", "e2"], ["e2", "e1"]] });
 * // "recovery each-order: each point checked in 2 orders of the nodes serving the check (e1,e2; e2,e1)"
 * ```
 */
export function recoveryNote(recovery: { name: string; orders: string[][] }): string {
  const { name, orders } = recovery;
  if (orders.length === 0) {
    return `recovery ${name}: the nodes serving the check and the checks start at once`;
  }
  if (orders.length === 1 && orders[0].length === 0) {
    return `recovery ${name}: no node serves the check, so each point is checked once`;
  }
  return `recovery ${name}: ${
    orders.length > 1 ? `each point checked in ${orders.length} orders` : "one order"
  } of the nodes serving the check (${orders.map((o) => o.join(",")).join("; ")})`;
}

/** The step a point's fault hit, from its `where`. */
function stepOf(p: SweepPoint): string {
  const match = /during step '(.*)', /.exec(p.where ?? "");
  return match ? match[1] : "";
}

/** A sweep that ran (whole, or stopped before its end), with what it swept. */
interface Swept {
  parent: ParentTrace;
  trace: string;
  shard: Shard | undefined;
  result: SweepResult;
}

/** Runs `sweep`. */
export async function sweepCommand(target: string, options: SweepCommandOptions): Promise<number> {
  const points = parsePoints(options.points);
  const recovery = options.recovery === undefined ? undefined : parseRecovery(options.recovery);
  if (options.jobs !== undefined && options.jobs < 1) {
    throw new UsageError(`--jobs ${options.jobs}: give at least 1`);
  }
  const shard = shardOption(options);
  const isScenario = /\.(ts|js|json|mts|mjs)$/i.test(target);
  if (shard && isScenario) {
    throw new UsageError(
      `--shard sweeps one trace on every machine: record ${target} once (faultline record ${target} -o run.trace), then sweep run.trace with --shard on each`,
    );
  }
  const printJson = options.json === true;
  const accelOf = await accelChooser(options.accel);
  let recording: string | null = null;
  const swept = await withInterrupt(async (signal): Promise<Swept> => {
    let trace = target;
    if (isScenario) {
      const scenario = await loadScenario(target);
      // A recovery order the scenario cannot run is refused before it is recorded.
      if (recovery !== undefined) checkRecovery(recovery, scenario);
      recording = options.output ?? defaultTracePath(scenario.name);
      const accel = accelOf(scenario);
      trace = await recordFirst({ target, scenario, trace: recording, accel }, options, signal);
      recording = null;
    }
    const parent = await readParent(trace);
    if (recovery !== undefined) checkRecovery(recovery, parent.scenario);
    if (parent.warning) console.error(`warning: ${parent.warning}`);
    const accel = accelOf(parent.scenario);
    const other = otherAccel(parent, accel);
    if (other !== null) console.error(`note: ${other}`);
    if (options.keepTraces) await Deno.mkdir(options.keepTraces, { recursive: true });
    // As many clusters at once as the cores hold: a point then sees the load its replay does.
    const jobs = options.jobs ??
      defaultJobs(navigator.hardwareConcurrency ?? 2, parent.scenario.nodes.length);
    const progress = sweepProgress(options);
    try {
      const result = await sweep(parent, {
        fault: options.fault,
        with: options.with ?? [],
        points,
        jobs,
        ...(options.confirm !== undefined ? { confirm: options.confirm } : {}),
        ...(options.keepTraces ? { outputDir: options.keepTraces } : {}),
        keepData: false,
        cold: options.cold ?? false,
        accel,
        ...(shard ? { shard } : {}),
        ...(recovery !== undefined ? { recovery } : {}),
        signal,
        onEvent: options.verbose
          ? progressPrinter({ json: printJson, verbose: options.verbose })
          : undefined,
        onProgress: progress.show,
      });
      return { parent, trace, shard, result };
    } finally {
      progress.stop();
    }
  }, {
    // Stopped: the finished points are reported as a whole sweep's would be, marked partial.
    kept: async (swept) =>
      swept
        ? stoppedSweep(swept.result, await reportSweep(swept, options))
        : recording
        ? `nothing was swept; ${await keptTraces([recording])}`
        : "no point finished",
  });
  await reportSweep(swept, options);
  return swept.result.failed > 0 ? EXIT.verdictFailed : EXIT.pass;
}

/** What a stopped sweep kept, in words: how many points finished, and where their results are. */
function stoppedSweep(result: SweepResult, files: readonly string[]): string {
  const planned = result.partial?.pointsPlanned ?? result.points.length;
  const marked = result.partial ? ", marked partial," : "";
  const where = files.length > 0
    ? `their results${marked} are in ${files.join(", ")}`
    : `their results${marked} are above`;
  return `${result.points.length} of ${planned} points finished; ${where}`;
}

/** Writes the files a sweep was asked for and prints its JSON or its table; returns the files. */
async function reportSweep(swept: Swept, options: SweepCommandOptions): Promise<string[]> {
  const files = await writeSweepFiles(swept, options);
  if (options.json === true) console.log(JSON.stringify(sweepJson(swept.trace, swept.result)));
  else printSweep(swept.trace, swept.result);
  return files;
}

/** Records a scenario to sweep or explore (`sweep SCENARIO`) into its trace: returns the trace. */
export async function recordFirst(
  recording: { target: string; scenario: Scenario; trace: string; accel: AccelChoice },
  options: Pick<SweepCommandOptions, "json" | "verbose">,
  signal: AbortSignal,
): Promise<string> {
  const { target, scenario, trace, accel } = recording;
  const printJson = options.json === true;
  if (!printJson) console.error(`recording ${target} into ${trace} first`);
  const recorded = await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
    accel,
    signal,
    onEvent: progressPrinter({ json: printJson, verbose: options.verbose }),
  });
  if (!recorded.verdict.pass) {
    console.error(
      `warning: the recording itself fails its expectations: ${recorded.verdict.reason}`,
    );
  }
  return trace;
}

/**
 * How a sweep shows its progress: JSON lines on stderr with `--json` (each replay's end, and
 * at least every 10 s), nothing more with `--verbose` (the consoles say it), a bar on a
 * terminal, else a line at least every 10 s (src/cli/progress.ts).
 */
function sweepProgress(
  options: SweepCommandOptions,
): { show: (progress: SweepProgress) => void; stop: () => void } {
  if (options.verbose && options.json !== true) return { show: () => {}, stop: () => {} };
  if (options.json === true || !Deno.stderr.isTerminal()) {
    const json = options.json === true;
    const paced = pacedProgress<SweepProgress | null>({
      print: (line) => console.error(line),
      eager: json,
      format: (progress, times) =>
        json
          ? progressEvent(progress ?? preparing, times.sinceMs)
          : progressLine(sweepLine(progress), times),
    });
    paced.show(null);
    return { show: (progress) => paced.show(progress), stop: () => paced.stop() };
  }
  return sweepBar();
}

/** A sweep before its first replay: preparing (the guests, the saved check guest or run). */
const preparing: SweepProgress = {
  done: 0,
  total: 0,
  points: { done: 0, total: 0 },
  failed: 0,
  perMinute: 0,
  etaMs: null,
};

/** A sweep's progress as a line's: its points, the failing ones, the time left. */
export function sweepLine(progress: SweepProgress | null): Progress {
  if (!progress) {
    return { work: "sweep", done: 0, total: null, unit: "points", findings: 0, etaMs: null };
  }
  return {
    work: "sweep",
    done: progress.points.done,
    total: progress.points.total,
    unit: "points",
    findings: progress.failed,
    etaMs: progress.etaMs,
  };
}

/** The progress bar of a sweep on a terminal. */
function sweepBar(): { show: (progress: SweepProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar({
    format:
      "sweep [{bar}] {value}/{total} points | {states} | {failed} failing | {rate}/min | ETA {left}",
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  const show = (progress: SweepProgress) => {
    const payload = {
      states: progress.statesChecked !== undefined
        ? `${progress.statesChecked} distinct state${
          progress.statesChecked === 1 ? "" : "s"
        } checked`
        : `${progress.done}/${progress.total} replays`,
      failed: progress.failed,
      rate: progress.perMinute.toFixed(1),
      // The ETA from the measured rate of checks, not cli-progress's own from the points.
      left: progress.etaMs === null
        ? "?"
        : formatDuration(Math.round(progress.etaMs / 1000) * 1000),
    };
    if (!started) {
      bar.start(progress.points.total, 0, payload);
      started = true;
    }
    bar.update(progress.points.done, payload);
  };
  return { show, stop: () => bar.stop() };
}

/**
 * Where the recording's timeline goes beside a report page: `report.html` ->
 * `report.perfetto.json`.
 */
export function perfettoBeside(page: string): string {
  return page.replace(/(\.html?)?$/i, ".perfetto.json");
}

/**
 * The report page of a sweep, and beside it the recording's timeline for ui.perfetto.dev
 * (`trace perfetto`), which the page links.
 */
export async function writeReportPage(
  page: string,
  swept: { parent: ParentTrace; result: SweepResult },
): Promise<void> {
  const { parent, result } = swept;
  const timeline = perfettoBeside(page);
  await writePerfetto(parent.path, timeline);
  await Deno.writeTextFile(
    page,
    await sweepReportHtml(parent, result, { perfetto: basename(timeline) }),
  );
}

/**
 * The files a sweep was asked for: `--junit`, `--html`, and `--json FILE` (the results, for
 * `merge`); returns the files written.
 */
async function writeSweepFiles(swept: Swept, options: SweepCommandOptions): Promise<string[]> {
  const { parent, trace, shard, result } = swept;
  const written: string[] = [];
  if (options.junit) {
    await Deno.writeTextFile(options.junit, sweepJunit(trace, result));
    written.push(options.junit);
  }
  if (options.html) {
    await writeReportPage(options.html, { parent, result });
    written.push(options.html, perfettoBeside(options.html));
  }
  if (typeof options.json === "string") {
    const file: SweepResultsFile = {
      format: "faultline-sweep",
      version: 1,
      trace: { path: trace, sha256: parent.sha256 },
      sweep: {
        fault: options.fault,
        with: options.with ?? [],
        points: options.points,
        ...(options.recovery !== undefined ? { recovery: options.recovery } : {}),
      },
      shard: shard ?? null,
      result,
    };
    await Deno.writeTextFile(options.json, JSON.stringify(file));
    written.push(options.json);
  }
  return written;
}
