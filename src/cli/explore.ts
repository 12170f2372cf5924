/**
 * `faultline explore TRACE|SCENARIO --budget 30m|N --seed S`: fault schedules drawn from a
 * seed and replayed until the budget is spent; every failure confirmed and shrunk, the
 * failures grouped into findings, and what was covered (src/explore/).
 *
 * @module
 */

import { basename } from "node:path";
import { freshSeed } from "../fault/random.ts";
import { exploreReportHtml } from "../report/explore_html.ts";
import { type ParentTrace, readParent } from "../replay/replay.ts";
import { reproduceCommand } from "../replay/replay.ts";
import { loadScenario } from "../scenario/load.ts";
import { FAULT_KINDS_VERSION } from "../fault/kinds/mod.ts";
import { parseBudget } from "../explore/budget.ts";
import { checkDrawOptions, type DrawnFault } from "../explore/draw.ts";
import type { ExploreProgress, ExploreResult } from "../explore/explore.ts";
import { exploreTrace } from "../explore/explore_trace.ts";
import type { AccelChoice } from "../vm/accel.ts";
import { accelChooser } from "./accel.ts";
import { EXIT, UsageError } from "./errors.ts";
import { exploreJson, exploreJunit, printExplore } from "./explore_report.ts";
import { withInterrupt } from "./interrupt.ts";
import { pacedProgress, progressLine } from "./progress.ts";
import { defaultTracePath } from "./record.ts";
import { perfettoBeside, recordFirst } from "./sweep.ts";
import { writePerfetto } from "./trace.ts";

/** Options of `explore`. */
export interface ExploreCommandOptions {
  /** `--budget 30m|N`. */
  budget: string;
  /** `--seed S` (default: a new one, printed). */
  seed?: number;
  /** `--kinds a,b`. */
  kinds?: string;
  /** `--max-faults K`. */
  maxFaults: number;
  /** `--jobs N`. */
  jobs?: number;
  /** `--confirm R`. */
  confirm?: number;
  /** `--shrink-replays N`. */
  shrinkReplays: number;
  /** `--json`. */
  json: boolean;
  /** `--junit FILE`. */
  junit?: string;
  /** `--html FILE`: the report page, and the recording's timeline beside it. */
  html?: string;
  /** `-o FILE`: where to record a scenario first. */
  output?: string;
  /** `--accel`. */
  accel?: string;
  /** `--verbose`. */
  verbose: boolean;
}

function exploreProgress(options: ExploreCommandOptions) {
  const paced = pacedProgress<ExploreProgress | null>({
    print: (line) => console.error(line),
    eager: options.json,
    format: (progress, times) =>
      options.json ? JSON.stringify({ event: "progress", ...progress }) : progressLine({
        work: "explore",
        ...(progress?.doing ? { stage: progress.doing } : {}),
        done: progress?.done ?? 0,
        total: progress ? progress.total ?? progress.done + 1 : null,
        unit: "schedules",
        findings: progress?.failed ?? 0,
        etaMs: progress?.leftMs ?? null,
      }, times),
  });
  paced.show(null);
  return paced;
}

async function report(
  parent: ParentTrace,
  explored: ExploreResult,
  options: Pick<ExploreCommandOptions, "json" | "junit" | "html">,
): Promise<void> {
  const replayOf = (faults: readonly DrawnFault[]) =>
    reproduceCommand(parent.path, { faults: faults.map((f) => f.spec) });
  if (options.junit) {
    await Deno.writeTextFile(options.junit, exploreJunit(parent.path, explored, replayOf));
  }
  if (options.html) {
    const timeline = perfettoBeside(options.html);
    await writePerfetto(parent.path, timeline);
    await Deno.writeTextFile(
      options.html,
      exploreReportHtml(parent, explored, { replayOf, perfetto: basename(timeline) }),
    );
  }
  if (options.json) console.log(JSON.stringify(exploreJson(parent.path, explored, replayOf)));
  else printExplore(parent.path, explored, replayOf);
}

/**
 * Reads the target: a trace, or a scenario recorded first; the kinds are checked against
 * the scenario's nodes before it is recorded (a link fault on one node is refused at once).
 */
async function parentOf(
  target: string,
  options: ExploreCommandOptions & { kindList?: string[] },
  accelOf: (scenario: ParentTrace["scenario"]) => AccelChoice,
  signal: AbortSignal,
): Promise<ParentTrace> {
  const check = (scenario: ParentTrace["scenario"]) =>
    checkDrawOptions(
      { maxFaults: options.maxFaults, ...(options.kindList ? { kinds: options.kindList } : {}) },
      scenario.nodes.map((node) => node.name),
    );
  if (!/\.(ts|js|json|mts|mjs)$/i.test(target)) {
    const parent = await readParent(target);
    check(parent.scenario);
    return parent;
  }
  const scenario = await loadScenario(target);
  check(scenario);
  const trace = options.output ?? defaultTracePath(scenario.name);
  const recorded = await recordFirst(
    { target, scenario, trace, accel: accelOf(scenario) },
    options,
    signal,
  );
  return await readParent(recorded);
}

/**
 * `faultline explore`.
 *
 * @example
 * ```ts
 * await exploreCommand("run.trace", { budget: "20", seed: 7, maxFaults: 3, shrinkReplays: 30, json: false, verbose: false });
 * ```
 */
export async function exploreCommand(
  target: string,
  options: ExploreCommandOptions,
): Promise<number> {
  const budget = parseBudget(options.budget);
  const kinds = options.kinds?.split(",").map((k) => k.trim()).filter((k) => k !== "");
  if (options.jobs !== undefined && options.jobs < 1) {
    throw new UsageError(`--jobs ${options.jobs}: give at least 1`);
  }
  const seed = options.seed ?? freshSeed();
  const accelOf = await accelChooser(options.accel);
  const result = await withInterrupt(async (signal) => {
    const parent = await parentOf(
      target,
      { ...options, ...(kinds ? { kindList: kinds } : {}) },
      accelOf,
      signal,
    );
    if (parent.warning) console.error(`warning: ${parent.warning}`);
    if (!options.json) console.error(`explore: seed ${seed}, kind table v${FAULT_KINDS_VERSION}`);
    const progress = exploreProgress(options);
    try {
      const explored = await exploreTrace(parent, {
        budget,
        seed,
        maxFaults: options.maxFaults,
        ...(kinds !== undefined ? { kinds } : {}),
        ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
        ...(options.confirm !== undefined ? { confirm: options.confirm } : {}),
        shrinkReplays: options.shrinkReplays,
        accel: accelOf(parent.scenario),
        signal,
        onProgress: (p) => progress.show(p),
      });
      return { parent, explored };
    } finally {
      progress.stop();
    }
  }, {
    // Stopped: the finished schedules are reported, marked interrupted.
    kept: async (partial) => {
      if (!partial) return "no schedule finished";
      await report(partial.parent, partial.explored, options);
      return `${partial.explored.schedules.length} schedules finished; their report is above`;
    },
  });
  await report(result.parent, result.explored, options);
  const errored = result.explored.schedules.some((s) => s.status === "error");
  return result.explored.findings.length > 0 || errored ? EXIT.verdictFailed : EXIT.pass;
}
