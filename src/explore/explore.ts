/**
 * An explore as its phases: draw schedule after schedule from the seed, run each (as many at
 * once as the jobs allow) until the budget is spent, confirm every failing one at the
 * confirmation rate (src/sweep/confirm.ts), shrink it (./shrink.ts), then group the
 * failures into findings and count what was covered (./findings.ts). The run of one
 * schedule is injected: the CLI replays the recording with the schedule's faults; tests
 * give a function.
 *
 * @module
 */

import type { Verdict } from "../run/verdict.ts";
import { FaultlineError } from "../util/errors.ts";
import { failsFinding, type Reproduced, reproduced } from "../sweep/confirm.ts";
import type { Budget } from "./budget.ts";
import { type DrawnFault, type DrawPlan, drawSchedule, movesOf, type Schedule } from "./draw.ts";
import {
  type Coverage,
  coverage,
  type Failure,
  type Finding,
  groupFailures,
  type HistoryCounterexample,
  type ScheduleRun,
} from "./findings.ts";
import { rolesAt } from "./roles.ts";
import { shrinkSchedule } from "./shrink.ts";

/** What one run of a schedule showed. */
export interface ScheduleOutcome {
  /** The verdict. */
  verdict: Verdict;
  /** Whether the run reached its faults: false when the first of them never fired. */
  reached: boolean;
  /** The specs of the faults that fired. */
  fired: readonly string[];
  /** The crash state a power loss left, as a key (equal keys: identical states). */
  crashState?: string;
  /** The history checker's counterexample, when it found one. */
  history?: HistoryCounterexample;
}

/** Runs a schedule once. */
export type RunSchedule = (faults: readonly DrawnFault[]) => Promise<ScheduleOutcome>;

/** What became of one schedule. */
export type ScheduleStatus = "pass" | "fail" | "not-reached" | "inconclusive" | "error";

/** One schedule as explored. */
export interface ExploredSchedule {
  /** Its number. */
  index: number;
  /** Its fault specs. */
  faults: string[];
  /** What became of it. */
  status: ScheduleStatus;
  /** Its verdict's reason, or the error's message. */
  reason: string;
}

/** A failure, shrunk. */
export interface ShrunkFailure extends Failure {
  /** How shrinking went. */
  shrink: {
    /** Candidates tried. */
    tried: number;
    /** Steps kept. */
    kept: number;
    /** Replays run. */
    replays: number;
    /** Why it stopped before trying every step, or null when it did not. */
    stoppedEarly: string | null;
  };
  /** The rate the original schedule was confirmed at. */
  originalRate: Reproduced;
}

/** An explore's progress. */
export interface ExploreProgress {
  /** Schedules finished. */
  done: number;
  /** Schedules the budget holds, or null for a time budget. */
  total: number | null;
  /** Schedules that failed. */
  failed: number;
  /** Schedules finished per minute so far. */
  perMinute: number;
  /** Time left of a time budget, or null. */
  leftMs: number | null;
  /** What is happening now, when it is not running schedules (`shrinking schedule 4`). */
  doing?: string;
}

/** How to explore. */
export interface ExploreOptions {
  /** The kinds, seed and recording to draw from. */
  plan: DrawPlan;
  /** How much. */
  budget: Budget;
  /** Schedules at once. */
  jobs: number;
  /** Verdicts a failing schedule gets, and each shrinking step. */
  confirm: number;
  /** Runs a schedule. */
  run: RunSchedule;
  /** The most replays shrinking one failure may run. */
  shrinkReplays: number;
  /** Stops the explore (what finished is reported). */
  signal?: AbortSignal;
  /** The clock (tests give their own). */
  now?: () => number;
  /** Hears progress. */
  onProgress?: (progress: ExploreProgress) => void;
}

/** What an explore found. */
export interface ExploreResult {
  /** The seed. */
  seed: number;
  /** The fault-kind table's version the draws followed. */
  tableVersion: number;
  /** The most faults per schedule. */
  maxFaults: number;
  /** The kinds drawn from. */
  kinds: string[];
  /** The kinds not drawn from, and why. */
  excluded: readonly { kind: string; why: string }[];
  /** Every schedule run, by number. */
  schedules: ExploredSchedule[];
  /** The failures, shrunk, by schedule number. */
  failures: ShrunkFailure[];
  /** The failures grouped. */
  findings: Finding[];
  /** What was covered. */
  coverage: Coverage;
  /** How long it took. */
  elapsedMs: number;
  /** Why it stopped early (interrupted), or null. */
  stopped: string | null;
}

/** A run that never reached its first fault judged nothing about the schedule. */
function verdictOf(outcome: ScheduleOutcome): Verdict {
  return outcome.reached ? outcome.verdict : {
    pass: false,
    kind: "inconclusive",
    reason: `the schedule's first fault never fired: ${outcome.verdict.reason}`,
  };
}

function statusOf(outcome: ScheduleOutcome): ScheduleStatus {
  if (!outcome.reached) return "not-reached";
  if (outcome.verdict.pass) return "pass";
  return failsFinding(outcome.verdict) ? "fail" : "inconclusive";
}

/** The faults as one key: the same specs, the same schedule. */
function keyOf(faults: readonly DrawnFault[]): string {
  return JSON.stringify(faults.map((f) => f.spec));
}

/**
 * Confirms a failing schedule at `confirm` verdicts, then shrinks it. The failure keeps the
 * roles of the minimal schedule's moments and a history counterexample of its last failing
 * run that had one.
 */
async function confirmAndShrink(
  schedule: Schedule,
  first: ScheduleOutcome,
  options: ExploreOptions,
  stop: AbortSignal | undefined,
): Promise<ShrunkFailure> {
  const examples = new Map<string, HistoryCounterexample>();
  if (first.history) examples.set(keyOf(schedule.faults), first.history);
  const replayOnce = async (faults: readonly DrawnFault[]) => {
    const outcome = await options.run(faults);
    if (outcome.history) examples.set(keyOf(faults), outcome.history);
    return verdictOf(outcome);
  };
  const verdicts = [first.verdict];
  try {
    for (let run = 1; run < options.confirm; run++) {
      verdicts.push(await replayOnce(schedule.faults));
    }
  } catch (error) {
    // Stopped while confirming: the rate of the runs that finished.
    if (!options.signal?.aborted) throw error;
  }
  const rate = reproduced(verdicts);
  const shrunk = await shrinkSchedule(schedule.faults, {
    replay: replayOnce,
    rate,
    moves: (fault) => movesOf(options.plan.recording, fault),
    maxReplays: options.shrinkReplays,
    ...(stop ? { signal: stop } : {}),
  });
  const reports = options.plan.recording.roles ?? [];
  const history = examples.get(keyOf(shrunk.minimal));
  return {
    schedule: schedule.index,
    original: schedule.faults,
    minimal: shrunk.minimal,
    rate: shrunk.rate,
    originalRate: rate,
    reason: first.verdict.reason,
    ...(reports.length > 0 ? { roles: shrunk.minimal.map((f) => rolesAt(reports, f.at)) } : {}),
    ...(history ? { history } : {}),
    shrink: {
      tried: shrunk.tried,
      kept: shrunk.kept,
      replays: shrunk.replays,
      stoppedEarly: shrunk.stoppedEarly,
    },
  };
}

/** The result, from what the workers gathered. */
function resultOf(
  plan: DrawPlan,
  gathered: { schedules: ExploredSchedule[]; runs: ScheduleRun[]; failures: ShrunkFailure[] },
  end: Pick<ExploreResult, "elapsedMs" | "stopped">,
): ExploreResult {
  const { schedules, runs, failures } = gathered;
  schedules.sort((a, b) => a.index - b.index);
  failures.sort((a, b) => a.schedule - b.schedule);
  const kinds = plan.kinds.map((k) => k.kind);
  return {
    seed: plan.seed,
    tableVersion: plan.tableVersion,
    maxFaults: plan.maxFaults,
    kinds,
    excluded: plan.excluded,
    schedules,
    failures,
    findings: groupFailures(failures),
    coverage: coverage(runs, kinds, plan.recording.nodes),
    ...end,
  };
}

/**
 * Explores.
 *
 * @example
 * ```ts
 * const result = await explore({ plan, budget: { kind: "schedules", count: 20 }, jobs: 1, confirm: 3, run, shrinkReplays: 40 });
 * result.findings.length; // 1
 * ```
 */
export async function explore(options: ExploreOptions): Promise<ExploreResult> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const { plan, budget } = options;
  const deadline = budget.kind === "time" ? start + budget.ms : Infinity;
  const schedules: ExploredSchedule[] = [];
  const runs: ScheduleRun[] = [];
  const failures: ShrunkFailure[] = [];
  let next = 0;
  let failed = 0;

  const progress = (doing?: string) => {
    const minutes = Math.max((now() - start) / 60_000, 1e-9);
    options.onProgress?.({
      done: schedules.length,
      total: budget.kind === "schedules" ? budget.count : null,
      failed,
      perMinute: schedules.length / minutes,
      leftMs: budget.kind === "time" ? Math.max(0, deadline - now()) : null,
      ...(doing ? { doing } : {}),
    });
  };
  const more = () =>
    !options.signal?.aborted &&
    (budget.kind === "schedules" ? next < budget.count : now() < deadline);

  async function exploreOne(schedule: Schedule): Promise<void> {
    const specs = schedule.faults.map((f) => f.spec);
    let outcome: ScheduleOutcome;
    try {
      outcome = await options.run(schedule.faults);
    } catch (error) {
      // Stopped: the schedule cut short is left out of the report of the finished ones.
      if (options.signal?.aborted) return;
      // A schedule the replay refuses is reported; a machinery failure ends the explore.
      if (!(error instanceof FaultlineError) || error.kind !== "usage") throw error;
      const reason = error instanceof Error ? error.message : String(error);
      schedules.push({ index: schedule.index, faults: specs, status: "error", reason });
      return;
    }
    const status = statusOf(outcome);
    schedules.push({
      index: schedule.index,
      faults: specs,
      status,
      reason: outcome.verdict.reason,
    });
    runs.push({
      faults: schedule.faults,
      fired: outcome.fired,
      ...(outcome.crashState !== undefined ? { crashState: outcome.crashState } : {}),
    });
    if (status !== "fail") return;
    failed++;
    progress(`confirming and shrinking schedule ${schedule.index}`);
    const stop = budget.kind === "time"
      ? AbortSignal.any([
        ...(options.signal ? [options.signal] : []),
        AbortSignal.timeout(Math.max(0, deadline - now())),
      ])
      : options.signal;
    failures.push(await confirmAndShrink(schedule, outcome, options, stop));
  }

  progress();
  const worker = async () => {
    while (more()) {
      const schedule = drawSchedule(plan, next++);
      await exploreOne(schedule);
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));

  return resultOf(plan, { schedules, runs, failures }, {
    elapsedMs: now() - start,
    stopped: options.signal?.aborted ? "interrupted" : null,
  });
}
