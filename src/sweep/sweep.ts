/**
 * Sweeps: one fault at many points of a trace (every write, every flush, a
 * range), run in parallel and summarised. Power-loss points are built from the
 * trace without running the workload again, and points whose crash states are
 * byte-identical (the durable set changes only when a flush or a FUA write
 * completes) share one check boot. A point whose fault never fired is reported
 * as such, never as a pass.
 *
 * @module
 */

import { join } from "node:path";
import { parseFaultSpec } from "../fault/spec.ts";
import { selectCrashWrites } from "../run/crash_state.ts";
import { ReplayError } from "../replay/errors.ts";
import {
  type ParentTrace,
  prepareForReplay,
  replay,
  type ReplayResult,
  reproduceCommand,
} from "../replay/replay.ts";
import { durabilityOracle, type OracleResult } from "../run/oracle.ts";
import type { Prepared } from "../run/prepare.ts";
import type { RunEvent } from "../run/run.ts";
import { judge, type Verdict } from "../run/verdict.ts";
import type { Expectations } from "../scenario/schema.ts";
import type { OpRecord } from "../trace/schema.ts";
import { SweepError } from "./errors.ts";
import { type PointSelection, selectPoints } from "../scenario/points.ts";

/** One fault point's outcome. */
export interface SweepPoint {
  /** The recorded op index. */
  at: number;
  /** The recorded op, for tables: `write 4096+1024`. */
  op: string;
  /** Whether what must hold held at this point. */
  verdict: Verdict;
  /** The durability oracle's counts at this point. */
  oracle: OracleResult | null;
  /** False when the fault never fired (its op never came): its own verdict, not a pass. */
  fired: boolean;
  /** The command that replays this point. */
  reproduce: string;
  /** The replay's trace. */
  trace: string;
  /** For power loss: the point whose crash state (byte-identical) was checked for this one. */
  sameCrashAs?: number;
  /** The replay failed to run (the machinery, not the verdict). */
  error?: string;
}

/** What a sweep found. */
export interface SweepResult {
  /** The fault swept. */
  fault: string;
  /** Every point, in op order. */
  points: SweepPoint[];
  /** Points that passed. */
  passed: number;
  /** Points that failed (or whose replay failed). */
  failed: number;
  /** Points whose fault never fired. */
  notFired: number;
  /** Power loss: the distinct crash states, each checked once. */
  distinctCrashStates?: number;
  /** Replays that ran (check boots for power loss). */
  replays: number;
  /** How long the sweep took. */
  durationMs: number;
}

/** Progress of a sweep, for the CLI. */
export interface SweepProgress {
  /** Replays done. */
  done: number;
  /** Replays in all. */
  total: number;
  /** Estimated milliseconds left. */
  etaMs: number | null;
  /** The point just done. */
  last?: SweepPoint;
}

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** `KIND[:PARAMS]`, without a trigger: each point is the trigger. */
  fault: string;
  /** Which ops are points. */
  points: PointSelection;
  /** Replays at once (each boots QEMU). */
  jobs: number;
  /** A private directory for the replays' traces. */
  outputDir: string;
  /** Keep written bytes in the points' traces. */
  keepData: boolean;
  /** What must hold at each point (a scenario's declared fault test); the replay's defaults otherwise. */
  expect?: Expectations;
  /** Guests and disks already prepared and checked. */
  prepared?: Prepared;
  /** Aborting stops the sweep and kills its VMs. */
  signal?: AbortSignal;
  /** Hears each replay's end. */
  onProgress?: (progress: SweepProgress) => void;
  /** Hears each replay's progress. */
  onEvent?: (event: RunEvent) => void;
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

function describeOp(op: OpRecord): string {
  return op.op === "flush" ? "flush" : `${op.op} ${op.offset}+${op.length}`;
}

/** The points of a sweep, and which of them are replayed (one per distinct crash state). */
interface Plan {
  indices: number[];
  /** The points replayed, in order. */
  groups: number[];
  /** Power loss: the point whose (byte-identical) crash state serves each point. */
  representative: Map<number, number>;
  powerLoss: boolean;
}

/** Chooses the points and, for power loss, groups them by crash state. */
function planSweep(parent: ParentTrace, options: SweepOptions): Plan {
  const rule = parseFaultSpec(options.fault);
  if (rule.trigger.kind !== "always") {
    throw new SweepError(
      `--fault ${options.fault}: a sweep gives the trigger (each point); write the fault without @`,
    );
  }
  const powerLoss = rule.effect.kind === "power-loss";
  if (powerLoss && !parent.header.recordsData) {
    throw new ReplayError(
      `a power-loss sweep builds its crash states from the written data, and ${parent.path} was recorded with --no-data`,
    );
  }
  const indices = selectPoints(parent.ordered, options.points, powerLoss);
  if (indices.length === 0) throw new SweepError("the selection picks no op of the trace");
  const representative = new Map<number, number>();
  if (!powerLoss) return { indices, groups: indices, representative, powerLoss };
  const variant = rule.effect.kind === "power-loss" ? rule.effect.variant : "drop";
  const seed = parent.header.seed;
  const byKey = new Map<string, number>();
  for (const at of indices) {
    const { key } = selectCrashWrites(
      parent.records,
      at,
      variant === "drop" ? { kind: "drop" } : { kind: variant, seed },
    );
    const first = byKey.get(key);
    if (first === undefined) byKey.set(key, at);
    representative.set(at, first ?? at);
  }
  return { indices, groups: [...byKey.values()], representative, powerLoss };
}

/** Replays each group's point, `jobs` at a time; a replay that fails to run is kept as its error. */
async function replayGroups(
  parent: ParentTrace,
  groups: readonly number[],
  prepared: Prepared,
  options: SweepOptions,
): Promise<Map<number, ReplayResult | Error>> {
  const results = new Map<number, ReplayResult | Error>();
  const perReplay: number[] = [];
  await pool(groups, options.jobs, async (at) => {
    if (options.signal?.aborted) return;
    const begun = performance.now();
    try {
      results.set(
        at,
        await replay(parent, {
          faults: [options.fault],
          faultAt: String(at),
          output: join(options.outputDir, `point-${at}.trace`),
          keepData: options.keepData,
          expect: options.expect,
          prepared,
          signal: options.signal,
          onEvent: options.onEvent,
        }),
      );
    } catch (error) {
      if (options.signal?.aborted) throw error;
      results.set(at, error as Error);
    }
    perReplay.push(performance.now() - begun);
    const average = perReplay.reduce((a, b) => a + b, 0) / perReplay.length;
    const left = groups.length - perReplay.length;
    options.onProgress?.({
      done: perReplay.length,
      total: groups.length,
      etaMs: left * average / Math.max(1, Math.min(options.jobs, groups.length)),
    });
  });
  return results;
}

/** One point's outcome, from its own replay or from the replay of its crash state's representative. */
function pointOf(
  parent: ParentTrace,
  at: number,
  source: number,
  result: ReplayResult | Error | undefined,
  options: SweepOptions,
): SweepPoint {
  const op = describeOp(parent.ordered.find((record) => record.index === at)!);
  const reproduce = reproduceCommand(parent.path, { faults: [options.fault], faultAt: String(at) });
  const base = { at, op, reproduce, oracle: null, fired: false, trace: "" };
  if (!result) return { ...base, verdict: { pass: false, reason: "not run (interrupted)" } };
  if (result instanceof Error) {
    return {
      ...base,
      verdict: { pass: false, reason: `the replay failed: ${result.message}` },
      error: result.message,
    };
  }
  const point = { ...base, fired: result.fired, trace: result.trace };
  if (source === at) return { ...point, verdict: result.verdict, oracle: result.oracle };
  // The same crash state was checked for another point: its check boot's lines serve this one,
  // but what was acknowledged before the cut depends on this point.
  const lines = [
    ...parent.lines.filter((line) => line.phase === "run"),
    ...result.lines.filter((line) => line.phase === "check"),
  ];
  const oracle = durabilityOracle(lines, at);
  const scenario = options.expect
    ? { ...parent.scenario, expect: options.expect }
    : parent.scenario;
  const verdict = judge(scenario, result.outcomes, oracle, {
    judgeWorkloadExit: options.expect !== undefined,
  });
  return { ...point, fired: true, verdict, oracle, sameCrashAs: source };
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
  const prepared = options.prepared ?? await prepareForReplay(parent, options.signal);
  const results = await replayGroups(parent, plan.groups, prepared, options);
  const points = plan.indices.map((at) => {
    const source = plan.representative.get(at) ?? at;
    return pointOf(parent, at, source, results.get(source), options);
  });
  return {
    fault: options.fault,
    points,
    passed: points.filter((p) => p.fired && p.verdict.pass).length,
    failed: points.filter((p) => p.fired && !p.verdict.pass || p.error).length,
    notFired: points.filter((p) => !p.fired && !p.error).length,
    ...(plan.powerLoss ? { distinctCrashStates: plan.groups.length } : {}),
    replays: results.size,
    durationMs: performance.now() - started,
  };
}
