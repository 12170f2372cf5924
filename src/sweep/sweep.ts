/**
 * Sweeps: one fault at many points of a trace (every write, every flush, a range), run in
 * parallel and summarised. This file runs one: the replays `jobs` at a time and the runs
 * confirming each failing one, its progress, what a failing crash state lost as files, and
 * the guests saved once for the sweep (src/run/warm.ts). Its plan is src/sweep/plan.ts
 * (power-loss points are built from the trace without running the workload again; points
 * whose crash states are byte-identical share one check boot), its points are made from the
 * replays by src/sweep/point_outcome.ts, and what it reports is src/sweep/result.ts.
 *
 * @module
 */

import { join } from "node:path";
import { selectCrashWrites } from "../run/crash_state.ts";
import { LostFiles } from "../run/lost_files.ts";
import { diskKey } from "../trace/ops.ts";
import { type ParentTrace, prepareForReplay, replay, type ReplayResult } from "../replay/replay.ts";
import type { Prepared } from "../run/prepare.ts";
import type { RunEvent } from "../run/run.ts";
import {
  checkBootPhase,
  openWarmChecks,
  openWarmRun,
  type WarmRun,
  type WarmSession,
} from "../run/warm.ts";
import { pinningOfTrace } from "../run/pinning.ts";
import { type AccelChoice, TCG } from "../vm/accel.ts";
import type { GuestState } from "../vm/snapshot.ts";
import type { Verdict } from "../run/verdict.ts";
import { defaultConfirmations, failsFinding } from "./confirm.ts";
import type { Expectations } from "../scenario/schema.ts";
import { SweepError } from "./errors.ts";
import type { PointSelection } from "../scenario/points.ts";
import type { Shard } from "./shard.ts";
import type { Recovery } from "../scenario/recovery.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import {
  countApart,
  isFailing,
  type SweepPoint,
  type SweepProgress,
  type SweepResult,
} from "./result.ts";
import { distinctStates, type Plan, planSweep, type Unit, unitName, unitReplay } from "./plan.ts";
import { judgedFor, pointOf, withoutTraces } from "./point_outcome.ts";

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** `KIND[:PARAMS]`, without a trigger: each point is the trigger. */
  fault: string;
  /**
   * Faults in force at every point besides the one swept (`lie-flush`, `limp:5ms`); one
   * without a trigger is in force on every disk from its first op (written `@any`).
   */
  with?: string[];
  /** Which arrivals (ops, frames) are points; the fault's kind keeps those it can be put at. */
  points: PointSelection;
  /** Replays at once (each boots QEMU). */
  jobs: number;
  /**
   * Verdicts each failing point gets: it is checked again until it has this many, and rated
   * (`stable`, `flaky k/R`: src/sweep/confirm.ts). 3 on a cluster, 1 on one node by default.
   */
  confirm?: number;
  /**
   * Where to keep the points' traces (each point's result names its own). Without it, they
   * go to a private temporary directory, removed when the sweep ends, and no point names
   * a trace.
   */
  outputDir?: string;
  /** Keep written bytes in the points' traces. */
  keepData: boolean;
  /** The accelerator of every replay and saved guest (src/vm/accel.ts); TCG when absent. */
  accel?: AccelChoice;
  /** What must hold at each point (a scenario's declared fault test); the replay's defaults otherwise. */
  expect?: Expectations;
  /**
   * How each check starts the nodes serving it (src/scenario/recovery.ts); the scenario's
   * `recovery` by default. `each-order` checks each point in every order of them, each a
   * unit replayed, confirmed and rated as a crash state is.
   */
  recovery?: Recovery;
  /**
   * Guests and disks already prepared and checked.
   * @ignore faultline's own: not part of the public API
   */
  prepared?: Prepared;
  /**
   * Aborting stops the sweep and kills its VMs; the sweep then returns the points that
   * finished, its result marked `partial` (or throws, when it was stopped while preparing).
   */
  signal?: AbortSignal;
  /** Hears each replay's end. */
  onProgress?: (progress: SweepProgress) => void;
  /** Hears each replay's progress. */
  onEvent?: (event: RunEvent) => void;
  /**
   * Boot every check and every point's run (`--cold`), as faultline did before; by default
   * each node that can starts its checks from a guest saved once for the sweep, and an
   * online fault's points resume from the run saved at the workload's start (src/run/warm.ts).
   */
  cold?: boolean;
  /**
   * Where saved check guests are kept from one sweep to the next (src/vm/state_cache.ts):
   * faultline's cache directory by default; null keeps none (each sweep saves its own).
   */
  guestCache?: string | null;
  /**
   * Run only this shard's points (`--shard K/N`): a deterministic share, the points whose
   * crash states are byte-identical kept together (src/sweep/shard.ts).
   */
  shard?: Shard;
  /**
   * What replays a point: faultline's {@link replay}; a test gives verdicts of its own.
   * @ignore faultline's own: not part of the public API
   */
  replayer?: typeof replay;
}

/** Runs `work` over `items` with at most `jobs` at once, in order of start. */
async function pool<T>(
  items: readonly T[],
  jobs: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

/** The name of a unit's trace: `point-AT`, then `-state-ID` and `-order-N2_N1` when it has them. */
function unitFile(unit: Unit): string {
  return `point-${unit.at}${
    unit.state === undefined ? "" : `-state-${unit.state.replaceAll("+", "_")}`
  }${unit.order === undefined ? "" : `-order-${unit.order.join("_")}`}`;
}

/** The replays of a sweep: each group's first, and the runs that confirm a failing one. */
export interface Replays {
  /** Each group's unit's first replay, by unit name (an error: it failed to run). */
  results: Map<string, ReplayResult | Error>;
  /** The further runs of the units whose first failed (confirmations), by unit name. */
  again: Map<string, (ReplayResult | Error)[]>;
  /** The confirmations planned, once the first runs are done. */
  confirmations: number;
}

/**
 * Replays each group's unit, `jobs` at a time, then each failing one again until it has
 * `confirm` verdicts; a replay that fails to run is kept as its error.
 */
async function replayGroups(
  parent: ParentTrace,
  plan: Plan,
  prepared: Prepared,
  options: SweepOptions & { outputDir: string; confirm: number },
  warm: { checks?: ReadonlyMap<string, GuestState>; run?: WarmRun; lostFiles?: LostFiles },
): Promise<Replays> {
  const replays: Replays = { results: new Map(), again: new Map(), confirmations: 0 };
  const report = progressReporter(parent, plan, options, replays);
  const replayUnit = async (unit: Unit, run: number): Promise<ReplayResult | Error | null> => {
    const file = unitFile(unit);
    try {
      return await (options.replayer ?? replay)(parent, {
        ...unitReplay(plan, unit, options),
        faultAt: String(unit.at),
        output: join(options.outputDir, `${file}${run > 1 ? `-run-${run}` : ""}.trace`),
        keepData: options.keepData,
        expect: options.expect,
        prepared,
        ...(options.accel ? { accel: options.accel } : {}),
        ...(warm.checks ? { warmChecks: warm.checks } : {}),
        ...(warm.run ? { warmRun: warm.run } : {}),
        ...(warm.lostFiles ? { lostFiles: warm.lostFiles } : {}),
        signal: options.signal,
        onEvent: options.onEvent,
      });
    } catch (error) {
      // Stopped (Ctrl-C): the unit is not run, and the sweep ends with the points that finished.
      return options.signal?.aborted ? null : error as Error;
    }
  };
  report();
  await pool(plan.groups, options.jobs, async (unit) => {
    if (options.signal?.aborted) return;
    const result = await replayUnit(unit, 1);
    if (result) replays.results.set(unitName(unit), result);
    report();
  });
  // Every confirmation is a replay of its own, run `jobs` at a time like the first runs.
  const again = failingSources(parent, plan, replays.results, options).flatMap((unit) =>
    Array.from({ length: options.confirm - 1 }, (_, i) => ({ unit, run: i + 2 }))
  );
  replays.confirmations = again.length;
  const confirmed = new Map<string, Map<number, ReplayResult | Error>>();
  await pool(again, options.jobs, async ({ unit, run }) => {
    if (options.signal?.aborted) return;
    const result = await replayUnit(unit, run);
    if (!result) return;
    const runs = confirmed.get(unitName(unit)) ?? new Map();
    confirmed.set(unitName(unit), runs.set(run, result));
    replays.again.set(
      unitName(unit),
      [...runs.keys()].sort((a, b) => a - b).map((k) => runs.get(k)!),
    );
    report();
  });
  return replays;
}

/** The units whose replay failed at some unit it serves: each is checked again. */
function failingSources(
  parent: ParentTrace,
  plan: Plan,
  results: ReadonlyMap<string, ReplayResult | Error>,
  options: SweepOptions,
): Unit[] {
  const sources = new Map<string, Unit>();
  for (const at of plan.indices) {
    for (const unit of plan.units.get(at)!) {
      const source = plan.representative.get(unitName(unit)) ?? unit;
      const result = results.get(unitName(source));
      if (!result || result instanceof Error || !result.fired) continue;
      if (failsFinding(judgedFor(parent, unit, source, result, options).verdict)) {
        sources.set(unitName(source), source);
      }
    }
  }
  return [...sources.values()];
}

/** Tells `onProgress` how the sweep goes: replays done (confirmations too), points, failing. */
function progressReporter(
  parent: ParentTrace,
  plan: Plan,
  options: SweepOptions,
  replays: Replays,
): () => void {
  const begun = performance.now();
  return () => {
    if (!options.onProgress) return;
    const confirmed = [...replays.again.values()].reduce((sum, runs) => sum + runs.length, 0);
    const done = replays.results.size + confirmed;
    const total = plan.groups.length + replays.confirmations;
    const minutes = (performance.now() - begun) / 60_000;
    const perMinute = minutes > 0 ? done / minutes : 0;
    const finished = finishedPoints(plan, replays.results);
    const failed =
      finished.filter((at) => isFailing(pointOf(parent, plan, at, replays, options))).length;
    options.onProgress({
      done,
      total,
      points: { done: finished.length, total: plan.indices.length },
      ...(plan.fromTrace ? { statesChecked: distinctStates(plan, replays.results) } : {}),
      failed,
      perMinute,
      etaMs: perMinute > 0 ? (total - done) / perMinute * 60_000 : null,
    });
  };
}

/** The points whose every unit has its result (its own, or its crash state's representative's). */
function finishedPoints(plan: Plan, results: ReadonlyMap<string, ReplayResult | Error>): number[] {
  return plan.indices.filter((at) =>
    plan.units.get(at)!.every((unit) =>
      results.has(unitName(plan.representative.get(unitName(unit)) ?? unit))
    )
  );
}

/** What maps the lost writes of a power-loss sweep's failing crash states to files, for the whole sweep. */
function sweepLostFiles(parent: ParentTrace, prepared: Prepared, signal?: AbortSignal): LostFiles {
  return new LostFiles({
    records: parent.records,
    scenario: parent.scenario,
    bases: new Map(prepared.bases.map((base) => [diskKey(base.node, base.name), base.path])),
    ...(signal ? { signal } : {}),
  });
}

/**
 * Sets what each failing crash state lost, as files: a failing point's (of its first failing
 * state, when it explores several) and each failing state's. Checked states that share
 * another's check lose writes of their own: each is mapped from its own selection.
 */
async function addLostFiles(plan: Plan, points: SweepPoint[], lostFiles: LostFiles): Promise<void> {
  const { records, variant } = plan.crash!;
  const fails = (o: { verdict: Verdict; error?: string }) =>
    o.error === undefined && !o.verdict.pass && o.verdict.kind !== "inconclusive";
  for (const point of points) {
    if (!point.fired) continue;
    if (!point.states) {
      if (fails(point) && variant) {
        point.lost = await lostFiles.of(selectCrashWrites(records, point.at, variant));
      }
      continue;
    }
    for (const outcome of point.states.outcomes.filter(fails)) {
      const state = { kind: "state" as const, dropped: outcome.dropped };
      outcome.lost = await lostFiles.of(selectCrashWrites(records, point.at, state));
    }
    const first = point.states.outcomes.find((o) => !o.verdict.pass || o.error);
    if (first?.lost) point.lost = first.lost;
  }
}

/**
 * Sweeps one fault over the points of a trace.
 *
 * @throws {SweepError} for a fault with a trigger, or no points.
 * @example
 * ```ts
 * const result = await sweep(parent, { fault: "power-loss", points: { kind: "flushes" }, jobs: 2, outputDir, keepData: false });
 * console.log(`${result.failed} of ${result.points.length} points failed`);
 * ```
 */
export async function sweep(parent: ParentTrace, options: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const plan = planSweep(parent, options);
  const confirm = options.confirm ?? defaultConfirmations(parent.scenario.nodes.length);
  if (!Number.isSafeInteger(confirm) || confirm < 1) {
    throw new SweepError(`--confirm ${confirm}: a failing point needs at least 1 verdict`);
  }
  // Traces nobody keeps go to a directory of the sweep's own, and no point names them.
  await using scratch = options.outputDir === undefined
    ? await makePrivateDir("faultline-sweep-")
    : null;
  const outputDir = options.outputDir ?? scratch!.path;
  const prepared = options.prepared ?? await prepareForReplay(parent, options.signal);
  await using warm = options.cold || plan.groups.length === 0
    ? null
    : await openWarmChecks(parent.scenario, prepared, {
      pinning: pinningOfTrace(parent.header),
      accel: options.accel ?? TCG,
      ...(options.guestCache !== undefined ? { cacheDir: options.guestCache } : {}),
      signal: options.signal,
    });
  const warmRun = await warmRunOf(parent, plan, prepared, options);
  await using lostFiles = plan.crash ? sweepLostFiles(parent, prepared, options.signal) : null;
  let replays: Replays;
  try {
    replays = await replayGroups(parent, plan, prepared, { ...options, outputDir, confirm }, {
      ...(warm?.states.size ? { checks: warm.states } : {}),
      ...(warmRun && typeof warmRun !== "string" ? { run: warmRun } : {}),
      ...(lostFiles ? { lostFiles } : {}),
    });
  } finally {
    if (warmRun && typeof warmRun !== "string") await warmRun[Symbol.asyncDispose]();
  }
  // A sweep stopped before its end (its signal aborted) reports the points that finished.
  const stopped = options.signal?.aborted === true;
  const finished = stopped ? finishedPoints(plan, replays.results) : plan.indices;
  const points = finished.map((at) => pointOf(parent, plan, at, replays, options))
    .map((point) => (scratch ? withoutTraces(point) : point));
  if (lostFiles) await addLostFiles(plan, points, lostFiles);
  const crashStates = plan.states.size > 0
    ? finished.reduce((sum, at) => sum + plan.units.get(at)!.length, 0)
    : undefined;
  const runs = runsSummary(plan, replays, warmRun, options);
  return {
    fault: options.fault,
    with: plan.background,
    points,
    passed: points.filter((p) => p.fired && p.verdict.pass).length,
    failed: points.filter(isFailing).length,
    notFired: points.filter((p) => !p.fired && !p.error).length,
    ...countApart(points),
    // Stopped before its end: the distinct crash states that were checked by then.
    ...(plan.fromTrace
      ? { distinctCrashStates: distinctStates(plan, stopped ? replays.results : null) }
      : {}),
    ...(crashStates !== undefined ? { crashStates } : {}),
    ...(plan.orders.summary ? { recovery: plan.orders.summary } : {}),
    replays: replays.results.size +
      [...replays.again.values()].reduce((sum, again) => sum + again.length, 0),
    confirm,
    jobs: options.jobs,
    durationMs: performance.now() - started,
    ...(finished.length < plan.indices.length
      ? { partial: { pointsPlanned: plan.indices.length } }
      : {}),
    ...(options.shard ? { shard: { ...options.shard, sweepPoints: plan.sweepPoints! } } : {}),
    ...(runs ? { runs } : {}),
    checks: checksSummary(parent, warm),
  };
}

/**
 * The run saved at the workload's start that an online fault's points resume from, or why
 * they boot: a power loss builds its points from the trace, and `--with` faults act from
 * the boot.
 */
async function warmRunOf(
  parent: ParentTrace,
  plan: Plan,
  prepared: Prepared,
  options: SweepOptions,
): Promise<WarmRun | string | null> {
  if (options.cold || plan.fromTrace || plan.groups.length === 0) return null;
  if (plan.background.length > 0) {
    return "faults in force at every point (--with) act from the boot";
  }
  return await openWarmRun(parent.scenario, prepared, {
    recording: parent,
    pinning: pinningOfTrace(parent.header),
    accel: options.accel ?? TCG,
    signal: options.signal,
  });
}

/** How an online fault's points ran: resumed from the saved run, or booted and why. */
function runsSummary(
  plan: Plan,
  replays: Replays,
  warmRun: WarmRun | string | null,
  options: SweepOptions,
): SweepResult["runs"] {
  if (plan.fromTrace) return undefined;
  const replayed = [...replays.results.values()].filter((r): r is ReplayResult =>
    !(r instanceof Error)
  );
  return {
    resumed: replayed.filter((r) => r.resumed === true).length,
    booted: replayed.filter((r) => r.resumed !== true).length,
    reasons: [
      ...new Set([
        ...(typeof warmRun === "string" ? [warmRun] : []),
        ...(options.cold ? ["--cold"] : []),
        ...replayed.flatMap((r) => typeof r.resumed === "string" ? [r.resumed] : []),
      ]),
    ],
    ...(warmRun && typeof warmRun !== "string" ? { savedMs: Math.round(warmRun.savedMs) } : {}),
  };
}

/**
 * Which nodes started from a saved guest in the check phase (their checks, or the restarts
 * serving a cluster's checks), and why the others booted.
 */
function checksSummary(parent: ParentTrace, warm: WarmSession | null): SweepResult["checks"] {
  if (warm) {
    // In the scenario's order: the guests are saved at once, in the order they held.
    const names = parent.scenario.nodes.map((node) => node.name);
    return {
      warm: names.filter((name) => warm.states.has(name)),
      cold: warm.cold,
      cached: names.filter((name) => warm.cached.includes(name)),
      savedMs: Math.round(warm.savedMs),
    };
  }
  const checked = parent.scenario.nodes.some((n) => n.check !== null);
  return {
    warm: [],
    cold: parent.scenario.nodes.filter((n) => checked && checkBootPhase(n) !== null).map((n) => ({
      node: n.name,
      reason: "--cold",
    })),
  };
}
