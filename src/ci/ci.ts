/**
 * Scenario files in CI: record each scenario, judge the run, then run every
 * fault it declares (single faults and sweeps) against what must hold. A
 * regression in recovery code fails a check, with the exact command that
 * reproduces it.
 *
 * @module
 */

import { join } from "node:path";
import {
  type ParentTrace,
  prepareForReplay,
  readParent,
  replay,
  type ReplayResult,
} from "../replay/replay.ts";
import type { Prepared } from "../run/prepare.ts";
import { type RunEvent, runScenario } from "../run/run.ts";
import { ScenarioError } from "../scenario/errors.ts";
import { loadScenario } from "../scenario/load.ts";
import type { FaultExpectation, Scenario } from "../scenario/schema.ts";
import { parsePoints } from "../scenario/points.ts";
import type { Shard } from "../sweep/shard.ts";
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
import { backgroundFaults } from "../sweep/plan.ts";
import { sweep } from "../sweep/sweep.ts";
import type { OracleResult } from "../run/oracle.ts";
import type { Verdict } from "../run/verdict.ts";
import { type AccelChoice, TCG } from "../vm/accel.ts";
import { CiError } from "./errors.ts";
import type { CostBasis, Sample } from "./budget.ts";
import { candidatesOf, checkBudget, type CiBudget, drawSample } from "./sample.ts";
import { checkName, exploresStates, recordedAt } from "./checks.ts";
import { defaultJobs } from "../sweep/jobs.ts";
import { describeCounts } from "../sweep/status.ts";
import {
  defaultConfirmations,
  describeRate,
  failsFinding,
  meetsRate,
  type Reproduced,
  reproduced,
} from "../sweep/confirm.ts";

/** One check of one scenario. */
export interface CiCheck {
  /** The scenario file. */
  scenario: string;
  /** `record`, or the fault and its point(s): `power-loss at flushes`, `eio at 17`. */
  name: string;
  /** The check passed. */
  pass: boolean;
  /** Why, in one sentence. */
  reason: string;
  /** Commands that reproduce the failures (empty when it passed). */
  reproduce: string[];
  /** How long it took. */
  durationMs: number;
  /** For sweeps: the counts. */
  sweep?:
    & Pick<SweepResult, "passed" | "failed" | "notFired" | "distinctCrashStates" | "replays">
    & { points: number };
  /** For a sweep run by a shard (`--shard`): the declared fault and the shard's result, for the merge. */
  part?: { fault: FaultExpectation; trace: string; result: SweepResult };
  /** `record`: the trace it recorded, in `--trace-dir`. */
  trace?: string;
  /** Every point the check put its fault at, each with its own verdict and oracle. */
  points?: CiPoint[];
  /** The check did not run (the budget left out every point): why. It neither passed nor failed. */
  skipped?: string;
  /** Under a budget: the points the check ran and those it left out, with why. */
  budget?: CiBudget;
}

/**
 * One point of a check: where its fault went and what came of it there. Its verdict is
 * whether what must hold held at that point; a `detect` check passes when one did not.
 */
export interface CiPoint {
  /** The recorded op index the fault was put at (null when the fault names no op). */
  at: number | null;
  /** The recorded op, for tables: `write 4096+1024`. */
  op?: string;
  /** Where the fault hit the workload: `power loss during step 'commit 5', after ack 4`. */
  where?: string;
  /** Whether what must hold held at this point. */
  verdict: Verdict;
  /** False when the fault never fired. */
  fired: boolean;
  /** The durability oracle's counts at this point. */
  oracle: OracleResult | null;
  /** The command that replays this point (its first failing crash state, when it has several). */
  reproduce: string;
  /** The point's replay trace, kept in `--trace-dir`. */
  trace?: string;
  /** For power loss: the point whose byte-identical crash state was checked for this one. */
  sameCrashAs?: number;
  /** For a power loss that explores crash states: the IDs of those that failed. */
  failedStates?: string[];
  /** For a scenario with `recovery: "each-order"`: the recovery orders that failed (`e2,e1`). */
  failedOrders?: string[];
  /** A failing point: how often it failed in the runs it got. */
  reproduced?: Reproduced;
  /** The replay failed to run. */
  error?: string;
}

/** Where a run of `ci` stands. */
export interface CiProgress {
  /** Checks done, and planned in all (a shard's single points may be fewer). */
  checks: { done: number; total: number };
  /** Checks done that failed. */
  failed: number;
  /** The check running, and its sweep's progress once it has some; null between checks. */
  current: { scenario: string; name: string; sweep?: SweepProgress } | null;
}

/** Options of {@link runCi}. */
export interface CiOptions {
  /** Where the recorded traces are kept (the reproduce commands name them). */
  traceDir: string;
  /** Replays at once in sweeps (default: as many clusters as the cores hold, src/sweep/jobs.ts). */
  jobs?: number;
  /** Verdicts each failing point gets (default: 3 on a cluster, 1 on one node). */
  confirm?: number;
  /** Aborting stops CI and kills its VMs. */
  signal?: AbortSignal;
  /** Hears each run's progress. */
  onEvent?: (event: RunEvent) => void;
  /** Called when a check ends, for progress. */
  onCheck?: (check: CiCheck) => void;
  /** Hears where the run stands: when a check begins or ends, and as its sweep goes. */
  onProgress?: (progress: CiProgress) => void;
  /** Boot every check of a sweep (no saved check guest). */
  cold?: boolean;
  /**
   * Each scenario's accelerator (src/vm/accel.ts), chosen for every scenario before
   * anything runs; TCG when absent.
   */
  accel?: (scenario: Scenario) => AccelChoice;
  /**
   * A time budget: the declared faults' points sampled to fit (src/ci/budget.ts), in the
   * order the seed draws. `ms` is the whole run's (null: only scenarios' own `budget`);
   * a scenario with a `budget` has it for itself. Not with `shard`.
   */
  budget?: { ms: number | null; seed: number };
  /** Record and judge each scenario into `traceDir`, without its faults (the step before shards). */
  recordOnly?: boolean;
  /**
   * Run one shard: the traces in `traceDir` (recorded once by `recordOnly`), each sweep's
   * share of points (src/sweep/shard.ts), and the declared single points dealt out in turn.
   */
  shard?: Shard;
}

/**
 * The scenario files under the given paths: files as given, directories'
 * `.ts` and `.json` files (not recursive), sorted.
 *
 * @example
 * ```ts
 * await scenarioFiles(["scenarios"]); // ["scenarios/fsync-log.ts", ...]
 * ```
 */
export async function scenarioFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      throw new ScenarioError(`${path}: no such scenario file or directory`);
    }
    if (info.isFile) {
      files.push(path);
      continue;
    }
    const found: string[] = [];
    for await (const entry of Deno.readDir(path)) {
      if (
        entry.isFile && /\.(ts|json)$/.test(entry.name) && !entry.name.endsWith("_test.ts") &&
        !entry.name.startsWith("_")
      ) {
        found.push(join(path, entry.name));
      }
    }
    files.push(...found.sort());
  }
  return files;
}

/**
 * Runs every scenario's checks.
 *
 * @throws {ScenarioError} naming every scenario file that does not load, before anything runs.
 * @throws {CiError} when a shard's trace was not recorded, or a declared fault's op is not in it.
 * @example
 * ```ts
 * const checks = await runCi(await scenarioFiles(["scenarios"]), { traceDir: "ci-traces", jobs: 2 });
 * const red = checks.some((c) => !c.pass);
 * ```
 */
export async function runCi(files: readonly string[], options: CiOptions): Promise<CiCheck[]> {
  // Every scenario is loaded first: a broken file is the user's input, found before hours of work.
  const scenarios: [string, Scenario][] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      scenarios.push([file, await loadScenario(file)]);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new ScenarioError(problems.join("\n"));
  // Every accelerator is chosen first too: a scenario that asks for KVM where there is none
  // stops the run before anything runs.
  for (const [, scenario] of scenarios) options.accel?.(scenario);
  await Deno.mkdir(options.traceDir, { recursive: true });
  const run = ciRun(options, plannedChecks(scenarios.map(([, scenario]) => scenario), options));
  run.shares.unbudgeted = scenarios.filter(([, s]) => s.budgetMs === undefined).length;
  for (const [file, scenario] of scenarios) await ciScenario(file, scenario, run);
  return run.checks;
}

/**
 * How many checks a run of `ci` makes: a record per scenario and a check per declared
 * fault; `--record-only` the records alone; a shard the faults alone (of its single
 * points, those dealt to it: at most this many).
 */
export function plannedChecks(
  scenarios: readonly Pick<Scenario, "faults">[],
  options: Pick<CiOptions, "recordOnly" | "shard">,
): number {
  return scenarios.reduce(
    (sum, scenario) =>
      sum + (options.shard ? 0 : 1) + (options.recordOnly ? 0 : scenario.faults.length),
    0,
  );
}

/** One run of `ci` as its checks go: the checks so far, and the progress it reports. */
interface CiRun {
  options: CiOptions;
  checks: CiCheck[];
  /** A check ended. */
  add(check: CiCheck): void;
  /** A check begins. */
  begin(scenario: string, name: string): void;
  /** The running check's sweep made progress. */
  sweeping(progress: SweepProgress): void;
  /** Single points dealt out to the shards so far. */
  turn: { next: number };
  /** The budget's clock: when the run began, and the scenarios still to share it. */
  shares: { started: number; unbudgeted: number };
}

function ciRun(options: CiOptions, total: number): CiRun {
  const checks: CiCheck[] = [];
  let current: CiProgress["current"] = null;
  const report = () =>
    options.onProgress?.({
      checks: { done: checks.length, total: Math.max(total, checks.length) },
      failed: checks.filter((check) => !check.pass).length,
      current,
    });
  return {
    options,
    checks,
    add(check) {
      checks.push(check);
      current = null;
      options.onCheck?.(check);
      report();
    },
    begin(scenario, name) {
      current = { scenario, name };
      report();
    },
    sweeping(progress) {
      if (current) current = { ...current, sweep: progress };
      report();
    },
    turn: { next: 0 },
    shares: { started: performance.now(), unbudgeted: 0 },
  };
}

/** A scenario's accelerator in this run of `ci`. */
function accelOf(scenario: Scenario, options: CiOptions): AccelChoice {
  return options.accel?.(scenario) ?? TCG;
}

/** The trace `ci` keeps for a scenario. */
export function ciTracePath(traceDir: string, scenario: Scenario): string {
  return join(traceDir, `${scenario.name}.trace`);
}

/** One scenario: loaded, recorded and judged, then each fault it declares. */
async function ciScenario(file: string, scenario: Scenario, run: CiRun): Promise<void> {
  const { options } = run;
  const started = performance.now();
  const trace = ciTracePath(options.traceDir, scenario);
  if (options.shard) return await shardScenario({ file, scenario, trace }, run);
  const share = scenarioShare(scenario, run);
  run.begin(file, "record");
  const recorded = await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
    accel: accelOf(scenario, options),
    signal: options.signal,
    onEvent: options.onEvent,
  });
  run.add({
    scenario: file,
    name: "record",
    pass: recorded.verdict.pass,
    reason: recorded.verdict.reason,
    reproduce: recorded.verdict.pass ? [] : [`faultline record ${file}`],
    durationMs: performance.now() - started,
    trace,
  });
  if (scenario.faults.length === 0 || options.recordOnly) return;
  const budget = share === null ? undefined : {
    shareMs: share - (performance.now() - started),
    basis: {
      runMs: recorded.timings.runMs,
      checkMs: recorded.timings.checkMs,
      bootMs: recorded.timings.firstOpMs ?? recorded.timings.runMs,
    },
  };
  await faultChecks({ file, scenario, trace }, run, budget);
}

/**
 * A scenario's share of the budget, from its start (its record included), or null
 * without a budget: its own `budget`, else what is left of the run's divided among the
 * scenarios still to come that have none of their own.
 */
function scenarioShare(scenario: Scenario, run: CiRun): number | null {
  const budget = run.options.budget;
  if (!budget) return null;
  if (scenario.budgetMs !== undefined) return scenario.budgetMs;
  if (budget.ms === null) return null;
  const left = budget.ms - (performance.now() - run.shares.started);
  return left / Math.max(1, run.shares.unbudgeted--);
}

/** A scenario file, loaded, and the trace `ci` keeps for it. */
interface CiScenario {
  file: string;
  scenario: Scenario;
  trace: string;
}

/** A shard's checks of a scenario: its trace must be there, recorded once for every shard. */
async function shardScenario(target: CiScenario, run: CiRun): Promise<void> {
  if (target.scenario.faults.length === 0) return;
  const exists = await Deno.stat(target.trace).then(() => true, () => false);
  if (!exists) {
    throw new CiError(
      `ci --shard runs on traces recorded once for every shard: ${target.trace} is missing (run faultline ci --record-only --trace-dir ${run.options.traceDir} first, and give each shard that directory)`,
    );
  }
  await faultChecks(target, run);
}

/** Each fault a scenario declares, against its trace. */
async function faultChecks(
  target: CiScenario,
  run: CiRun,
  budget?: { shareMs: number; basis: CostBasis },
): Promise<void> {
  const { options, turn } = run;
  // The reproduce commands name the trace as --trace-dir gave it.
  const parent = await readParent(target.trace);
  const prepared = await prepareForReplay(parent, options.signal);
  const sample = budget && sampleOf(parent, target.scenario, budget, options);
  for (const fault of target.scenario.faults) {
    const begun = performance.now();
    const sweeps = fault.at === null || manyUnits(target.scenario, fault.fault);
    // A shard runs its share of each sweep's points, and every N-th single point.
    if (options.shard && !sweeps && turn.next++ % options.shard.count !== options.shard.index - 1) {
      continue;
    }
    const kept = sample && checkBudget(sample, fault, { ...options.budget!, ...budget! });
    if (kept && kept.kept.length === 0) {
      run.add(skippedCheck(target.file, fault, kept));
      continue;
    }
    run.begin(target.file, checkName(fault));
    const check = fault.at === null
      ? await sweepCheck(parent, fault, {
        prepared,
        run,
        ...(kept ? { points: kept.kept.join(",") } : {}),
      })
      : manyUnits(target.scenario, fault.fault)
      // Many crash states, or recovery orders, at one op: a sweep of that one point.
      ? await sweepCheck(parent, { ...fault, points: onePoint(parent, fault.at!) }, {
        prepared,
        run,
      })
      : await pointCheck(parent, fault, prepared, options);
    run.add({
      scenario: target.file,
      name: checkName(fault),
      ...(kept ? sampledCheck(fault, check, kept) : check),
      durationMs: performance.now() - begun,
    });
  }
}

/** A scenario's sample under its share of the budget. */
function sampleOf(
  parent: ParentTrace,
  scenario: Scenario,
  budget: { shareMs: number; basis: CostBasis },
  options: CiOptions,
): Sample {
  const jobs = options.jobs ??
    defaultJobs(navigator.hardwareConcurrency ?? 2, scenario.nodes.length);
  return drawSample(candidatesOf(parent, scenario.faults, { basis: budget.basis, jobs }), {
    shareMs: budget.shareMs,
    seed: options.budget!.seed,
    scenario: scenario.name,
  });
}

/**
 * A check that ran a sample: it says so; a `detect` check whose sample found nothing is
 * unknown, not failed (the points left out may hold the finding), and is skipped.
 */
function sampledCheck(fault: FaultExpectation, check: CheckBody, budget: CiBudget): CheckBody {
  const reason = `${check.reason}; ${sampledWords(budget)}`;
  if (fault.outcome === "detect" && !check.pass) {
    const why =
      `unknown: the sample found no finding, and the points left out were not run; ${reason}`;
    return { ...check, pass: true, skipped: why, reason: why, budget };
  }
  return { ...check, reason, budget };
}

/** How much of a check a budget ran, in words. */
function sampledWords(budget: CiBudget): string {
  return `sampled ${budget.kept.length} of ${budget.points} points (budget seed ${budget.seed}; ${budget.leftOut.length} left out)`;
}

/** A check whose every point the budget left out: skipped, saying so. */
function skippedCheck(file: string, fault: FaultExpectation, budget: CiBudget): CiCheck {
  const why = `skipped: ${budget.leftOut[0].why}`;
  return {
    scenario: file,
    name: checkName(fault),
    pass: true,
    skipped: why,
    reason: why,
    reproduce: [],
    durationMs: 0,
    budget,
  };
}

/** A check's outcome, without what names it. */
export type CheckBody = Omit<CiCheck, "scenario" | "name" | "durationMs">;

/**
 * A fault checked several times at one point: a power loss that explores many crash states
 * (`each`, `orders=K`, `all`), or any fault of a scenario whose checks run in each order.
 */
function manyUnits(scenario: Scenario, fault: string): boolean {
  return exploresStates(fault) || scenario.recovery === "each-order";
}

/** The points selection `N..N` of a declared `at` (an op index or a signature). */
function onePoint(parent: ParentTrace, at: string): string {
  const index = recordedAt(parent, at);
  return `${index}..${index}`;
}

/**
 * A declared fault at one point: one replay, and when it fails, more until the finding has
 * its verdicts (src/sweep/confirm.ts), so that it is rated.
 */
async function pointCheck(
  parent: ParentTrace,
  fault: FaultExpectation,
  prepared: Prepared,
  options: CiOptions,
): Promise<CheckBody> {
  const name = parent.scenario.name;
  const output = join(
    options.traceDir,
    `${name}.${fault.fault.replace(/[^a-z0-9-]/gi, "_")}-at-${
      fault.at!.replace(/[^a-z0-9]/gi, "_")
    }.trace`,
  );
  const replayOnce = (path: string) =>
    replay(parent, {
      faults: [fault.fault],
      with: backgroundFaults(fault.with).specs,
      faultAt: fault.at!,
      output: path,
      keepData: false,
      expect: fault.expect,
      prepared,
      accel: accelOf(parent.scenario, options),
      signal: options.signal,
      onEvent: options.onEvent,
    });
  const result = await replayOnce(output);
  const runs = options.confirm ?? defaultConfirmations(parent.scenario.nodes.length);
  const verdicts = [result.verdict];
  while (result.fired && failsFinding(result.verdict) && verdicts.length < runs) {
    const again = await replayOnce(output.replace(/\.trace$/, `-run-${verdicts.length + 1}.trace`));
    verdicts.push(again.verdict);
  }
  const rate = reproduced(verdicts);
  // A rated finding replays as many times as it ran, to see its rate again.
  const command = rate.runs > 1 ? `${result.reproduce} --runs ${rate.runs}` : result.reproduce;
  return {
    ...pointVerdict(fault, { ...result, reproduce: command }, rate),
    points: [{
      at: result.faultAt,
      verdict: result.verdict,
      fired: result.fired,
      oracle: result.oracle,
      reproduce: command,
      trace: result.trace,
      ...(rate.failed > 0 ? { reproduced: rate } : {}),
    }],
  };
}

/**
 * What a declared point's replays amount to: `pass` holds when its verdict passed; `detect`
 * when it failed plainly (a check that could not run, or a service that never came back, is
 * not the loss the scenario declares it finds) and the failure reproduced at the rate asked.
 */
function pointVerdict(
  fault: FaultExpectation,
  result: ReplayResult,
  rate: Reproduced,
): Omit<CheckBody, "points"> {
  const rated = rate.runs > 1 ? ` (${describeRate(rate)})` : "";
  if (!result.fired) {
    return {
      pass: false,
      reason: `the fault never fired: ${result.verdict.reason}`,
      reproduce: [result.reproduce],
    };
  }
  if (fault.outcome !== "detect") {
    const pass = result.verdict.pass;
    return {
      pass,
      reason: pass ? result.verdict.reason : `failed${rated}: ${result.verdict.reason}`,
      reproduce: pass ? [] : [result.reproduce],
    };
  }
  const plain = !result.verdict.pass && result.verdict.kind === undefined;
  const pass = plain && meetsRate(rate, fault.minRate ?? undefined);
  return {
    pass,
    reason: pass
      ? `detected${rated}: ${result.verdict.reason}`
      : plain
      ? `detected in ${rate.failed} of ${rate.runs} runs, not ${
        rateWanted(fault)
      }: ${result.verdict.reason}`
      : `expected the fault to be detected, but the verdict ${
        result.verdict.pass ? "passed" : `was ${result.verdict.kind}`
      }: ${result.verdict.reason}`,
    reproduce: pass ? [] : [result.reproduce],
  };
}

/** What a `detect` check asks of a finding's rate, in words. */
function rateWanted(fault: FaultExpectation): string {
  return fault.minRate === null
    ? "stable (detect asks every run to fail; a minRate lowers it)"
    : `failing in at least ${fault.minRate} of its runs (minRate)`;
}

/** A declared fault over many points: a sweep. */
async function sweepCheck(
  parent: ParentTrace,
  fault: FaultExpectation,
  context: { prepared: Prepared; run: CiRun; points?: string },
): Promise<CheckBody> {
  const { prepared, run: { options } } = context;
  const outputDir = sweepTraceDir(options.traceDir, { scenario: parent.scenario.name, fault });
  await Deno.mkdir(outputDir, { recursive: true });
  const result = await sweep(parent, {
    fault: fault.fault,
    ...(options.shard ? { shard: options.shard } : {}),
    ...(fault.with.length > 0 ? { with: fault.with } : {}),
    points: parsePoints(context.points ?? fault.points!),
    jobs: options.jobs ??
      defaultJobs(navigator.hardwareConcurrency ?? 2, parent.scenario.nodes.length),
    ...(options.confirm !== undefined ? { confirm: options.confirm } : {}),
    outputDir,
    keepData: false,
    expect: fault.expect,
    prepared,
    cold: options.cold ?? false,
    accel: accelOf(parent.scenario, options),
    signal: options.signal,
    onProgress: context.run.sweeping,
  });
  // A sweep stopped before its end judges nothing: the whole run stops with it.
  options.signal?.throwIfAborted();
  return {
    ...sweepVerdict(parent.path, fault, result),
    ...(options.shard ? { part: { fault, trace: parent.path, result } } : {}),
  };
}

/**
 * Where `ci` keeps the traces of a declared sweep's points: a directory of `--trace-dir`
 * named after the scenario and the check (`fsync-log.power-loss-at-flushes`), the same
 * for every run and every shard, each point's trace in it as `point-AT.trace`.
 *
 * @example
 * ```ts
 * sweepTraceDir("ci", { scenario: "fsync-log", fault }); // "ci/fsync-log.power-loss-at-flushes"
 * ```
 */
export function sweepTraceDir(
  traceDir: string,
  check: { scenario: string; fault: FaultExpectation },
): string {
  const { scenario, fault } = check;
  return join(traceDir, `${scenario}.${checkName(fault).replace(/[^a-z0-9.-]+/gi, "-")}`);
}

/** A sweep's point as `ci` reports it. */
function ciPoint(point: SweepPoint): CiPoint {
  const failedStates = point.states?.outcomes.filter(stateFails).map((s) => s.id);
  const failedOrders = point.orders?.filter(orderFails).map((o) => o.order.join(","));
  return {
    at: point.at,
    op: point.op,
    ...(point.where ? { where: point.where } : {}),
    verdict: point.verdict,
    fired: point.fired,
    oracle: point.oracle,
    reproduce: point.reproduce,
    ...(point.trace ? { trace: point.trace } : {}),
    ...(point.sameCrashAs !== undefined ? { sameCrashAs: point.sameCrashAs } : {}),
    ...(failedStates?.length ? { failedStates } : {}),
    ...(failedOrders?.length ? { failedOrders } : {}),
    ...(point.reproduced ? { reproduced: point.reproduced } : {}),
    ...(point.error ? { error: point.error } : {}),
  };
}

/**
 * What a declared sweep's result amounts to: pass or fail (a `detect` sweep passes when it
 * finds a failing point), why, and the commands that reproduce its failures.
 *
 * @example
 * ```ts
 * sweepVerdict("ci/fsync-log.trace", fault, result).pass;
 * ```
 */
export function sweepVerdict(
  trace: string,
  fault: FaultExpectation,
  result: SweepResult,
): CheckBody {
  const failing = result.points.filter(isFailing);
  const detect = fault.outcome === "detect";
  // A detection is a plain failure that reproduced at the rate asked (every run, by default).
  const plain = failing.filter((p) => p.error === undefined && p.verdict.kind === undefined);
  const detections = plain.filter((p) =>
    meetsRate(p.reproduced ?? { failed: 1, runs: 1 }, fault.minRate ?? undefined)
  );
  const pass = detect ? detections.length > 0 : failing.length === 0 && result.notFired === 0;
  const counts = describeCounts(result);
  // One point says what was checked: a failing one (for detect, a detection), else one whose
  // fault never fired, else the last that held (the most acknowledged by then); every point
  // is in `points`.
  const shown = (detect ? [...detections, ...plain] : failing)[0] ??
    result.points.find((p) => !p.fired) ?? result.points.at(-1);
  const example = !shown
    ? ""
    : `; e.g. op ${shown.at}: ${
      !shown.fired && !shown.error
        ? `the fault never fired: ${shown.verdict.reason}`
        : pointMessage(shown)
    }`;
  const missed = plain.length > 0
    ? `found ${plain.length} failing, none ${rateWanted(fault)}`
    : "found none";
  return {
    pass,
    reason: detect
      ? (pass
        ? `detected as expected: ${counts}${example}`
        : `expected the sweep to find a failing point, ${missed} (${counts})${example}`)
      : `${counts}${example}`,
    reproduce: detect
      ? (pass ? [] : [`faultline sweep ${trace} --fault ${fault.fault} --points ${fault.points}`])
      : failing.flatMap(failingReproduces),
    points: result.points.map(ciPoint),
    sweep: {
      points: result.points.length,
      passed: result.passed,
      failed: result.failed,
      notFired: result.notFired,
      distinctCrashStates: result.distinctCrashStates,
      replays: result.replays,
    },
  };
}
