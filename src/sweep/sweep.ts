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
import { appliesTo } from "../fault/plan.ts";
import { kindOf, nounOf, specNameOf, takesFrames } from "../fault/kinds/mod.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { checkStanding } from "../fault/standing.ts";
import type { FaultEffect, FaultRule } from "../fault/types.ts";
import { crashStatesAt, selectCrashWrites, withLiedFlushes } from "../run/crash_state.ts";
import type { CrashVariant } from "../fault/kinds/kind.ts";
import { LostFiles, type LostWrites } from "../run/lost_files.ts";
import { diskKey } from "../trace/ops.ts";
import { ReplayError } from "../replay/errors.ts";
import {
  type ParentTrace,
  prepareForReplay,
  replay,
  type ReplayResult,
  reproduceCommand,
} from "../replay/replay.ts";
import { type GuestLine, type OracleResult, runOracle } from "../run/oracle.ts";
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
import { judge, type Verdict } from "../run/verdict.ts";
import { defaultConfirmations, failsFinding, type Reproduced, reproduced } from "./confirm.ts";
import type { Expectations } from "../scenario/schema.ts";
import type { OpRecord } from "../trace/schema.ts";
import { describeFramePoint, frameFactsOfRecord } from "../net/frame_record.ts";
import { SweepError } from "./errors.ts";
import { type PointSelection, selectPoints } from "../scenario/points.ts";
import { assignShards, linkedGroups, type Shard } from "./shard.ts";
import { type OrderOutcome, ordersVerdict, type SweepOrders, sweepOrders } from "./orders.ts";
import type { Recovery } from "../scenario/recovery.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { pointStatus } from "./status.ts";

/** One crash state of a point, when the fault explores many (`power-loss:each`, `orders=K`, `all`). */
export interface StateOutcome {
  /** The state's ID: the volatile writes it drops (`57+61`), or `none`. */
  id: string;
  /** The recorded op indices of the volatile writes it drops. */
  dropped: readonly number[];
  /** What it drops, in words: `drops the write at op 74 alone (data/write 16856064+1024 in step 'commit 6')`. */
  drops: string;
  /** Whether what must hold held in this state. */
  verdict: Verdict;
  /** The durability oracle's counts in this state. */
  oracle: OracleResult | null;
  /** The command that replays this state: `--fault power-loss:state=ID --fault-at N`. */
  reproduce: string;
  /** The state's replay trace, when the sweep's traces are kept (`outputDir`). */
  trace?: string;
  /** The byte-identical state whose check served this one, when another was checked. */
  sameCrashAs?: { at: number; id: string };
  /** A failing state: what it lost, as files (src/run/lost_files.ts). */
  lost?: LostWrites;
  /** A failing state: how often it failed in the runs it got. */
  reproduced?: Reproduced;
  /** The replay failed to run. */
  error?: string;
}

/** The crash states of one point, when the fault explores many. */
export interface PointStates {
  /** Volatile writes at the point. */
  volatile: number;
  /** States there are to explore (2^V for `all`). */
  total: number;
  /** The states checked are a seeded sample of `total`. */
  sampled: boolean;
  /** Each state explored, in order; byte-identical ones share a check. */
  outcomes: StateOutcome[];
  /** Distinct crash states among them (byte-identical ones counted once). */
  distinct: number;
}

/** One fault point's outcome. */
export interface SweepPoint {
  /** The recorded op's index, or the frame's (a point is an arrival on the run's one clock). */
  at: number;
  /** The recorded op, for tables: `write 4096+1024`; or the frame: `frame p1->p2 tcp 40000>5432 psh,ack`. */
  op: string;
  /** Where the fault hit the workload: `power loss during step 'commit 5', after ack 4`. */
  where?: string;
  /** Whether what must hold held at this point (in every state, when there are several). */
  verdict: Verdict;
  /** The durability oracle's counts at this point (a failing state's, when there are several). */
  oracle: OracleResult | null;
  /** False when the fault never fired (its op never came): its own verdict, not a pass. */
  fired: boolean;
  /** The command that replays this point (its first failing state, when there are several). */
  reproduce: string;
  /** The replay's trace, when the sweep's traces are kept (`outputDir`). */
  trace?: string;
  /** For power loss: the point whose crash state (byte-identical) was checked for this one. */
  sameCrashAs?: number;
  /** For a power loss that explores crash states: each state and how it went. */
  states?: PointStates;
  /** With `each-order`: each recovery order the point's check started the serving nodes in, and how it went. */
  orders?: OrderOutcome[];
  /** A failing power-loss point: what its crash state (its first failing one) lost, as files. */
  lost?: LostWrites;
  /** A failing point: how often it failed in the runs it got (its first failing state's). */
  reproduced?: Reproduced;
  /** The replay failed to run (the machinery, not the verdict). */
  error?: string;
}

/** What a sweep found. */
export interface SweepResult {
  /** The fault swept. */
  fault: string;
  /** Faults in force at every point (`--with`), as replayed. */
  with?: string[];
  /** Every point, in op order. */
  points: SweepPoint[];
  /** Points that passed. */
  passed: number;
  /** Points that failed (or whose replay failed), the unavailable among them. */
  failed: number;
  /** Points whose fault never fired. */
  notFired: number;
  /** Points whose check could not run: nothing judged, counted apart, never a pass or a loss. */
  inconclusive?: number;
  /** Failed points whose service never said it was ready after the crash (not a loss). */
  unavailable?: number;
  /** Power loss: the distinct crash states, each checked once. */
  distinctCrashStates?: number;
  /** Power loss that explores crash states: the states of every point, before dedup. */
  crashStates?: number;
  /**
   * How the checks started the nodes serving them, when not together: the recovery asked
   * (`in-order`, `each-order`, `n2,n1`) and the orders it stands for (with `each-order`,
   * each point is checked in each).
   */
  recovery?: { name: string; orders: string[][] };
  /** Replays that ran (check boots for power loss), confirmation runs included. */
  replays: number;
  /** How many verdicts each failing point was given: its first run and the runs confirming it. */
  confirm?: number;
  /** Replays that ran at once. */
  jobs?: number;
  /** How long the sweep took. */
  durationMs: number;
  /**
   * Set when the sweep was stopped (its signal aborted, Ctrl-C) before every point finished:
   * `points` and the counts are of the finished points only, of `pointsPlanned`.
   */
  partial?: { pointsPlanned: number };
  /** The shard this result covers, and how many points the whole sweep has. */
  shard?: Shard & { sweepPoints: number };
  /**
   * How the check phase's nodes started: from a saved guest (warm: their checks, or the
   * restarts serving a cluster's checks), or booted; the nodes that booted, with why.
   */
  checks?: { warm: string[]; cold: { node: string; reason: string }[]; savedMs?: number };
  /**
   * Online faults: how many points resumed from the run saved at the workload's start
   * (warm), and why the others booted.
   */
  runs?: { resumed: number; booted: number; reasons: string[]; savedMs?: number };
}

/** Progress of a sweep, for the CLI. */
export interface SweepProgress {
  /** Replays (checks, for power loss) done. */
  done: number;
  /** Replays in all. */
  total: number;
  /** Points whose every check is done, and points in all. */
  points: { done: number; total: number };
  /** Distinct crash states checked so far (power loss). */
  statesChecked?: number;
  /** Points done that failed. */
  failed: number;
  /** Replays a minute, measured since the first started. */
  perMinute: number;
  /** Milliseconds left at the measured rate. */
  etaMs: number | null;
}

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

/**
 * Whether a point failed: its verdict failed (unavailable included) or its replay did. A
 * point whose check could not run (inconclusive) or whose fault never fired did not.
 *
 * @example
 * ```ts
 * result.points.filter(isFailing).length; // the sweep's failed points
 * ```
 */
export function isFailing(point: Pick<SweepPoint, "fired" | "verdict" | "error">): boolean {
  return pointStatus(point) === "fail";
}

/** The inconclusive and unavailable points, when there are any. */
export function countApart(
  points: readonly SweepPoint[],
): Pick<SweepResult, "inconclusive" | "unavailable"> {
  const count = (kind: string) =>
    points.filter((p) => p.fired && !p.error && p.verdict.kind === kind).length;
  const inconclusive = count("inconclusive");
  const unavailable = count("unavailable");
  return {
    ...(inconclusive > 0 ? { inconclusive } : {}),
    ...(unavailable > 0 ? { unavailable } : {}),
  };
}

/**
 * A point's outcome in one line: where the fault hit, then the verdict's reason.
 *
 * @example
 * ```ts
 * pointMessage(point); // "power loss during step 'commit 5', after ack 4: 1 acknowledged key lost (5): acked 5, found 4"
 * ```
 */
export function pointMessage(point: Pick<SweepPoint, "where" | "verdict">): string {
  return point.where ? `${point.where}: ${point.verdict.reason}` : point.verdict.reason;
}

/**
 * The commands that reproduce a failing point: one per failing crash state when the
 * point has several, else the point's.
 */
export function failingReproduces(point: SweepPoint): string[] {
  const several = point.states?.outcomes ?? point.orders;
  if (!several) return [point.reproduce];
  return several.filter(stateFails).map((s) => s.reproduce);
}

/** Whether a crash state failed: its replay did not run, or its verdict is a failure. */
export function stateFails(state: Pick<StateOutcome, "verdict" | "error">): boolean {
  return state.error !== undefined || failsFinding(state.verdict);
}

/** Whether a recovery order failed: its replay did not run, or its fault fired and failed. */
export function orderFails(order: Pick<OrderOutcome, "verdict" | "error" | "fired">): boolean {
  return order.error !== undefined || (order.fired && failsFinding(order.verdict));
}

/** Where on the clock a point is: a recorded op, or a frame (its sender as its node). */
export interface PointArrival {
  /** An op or a frame. */
  record: "op" | "frame";
  /** Its index on the run's one clock. */
  index: number;
  /** The op's node, or the frame's sender. */
  node: string;
  /** The step of its node's workload the op came in, when it named one. */
  step?: string;
}

/**
 * Where a fault at a recorded op or frame hits the workload, its name being what a finding
 * calls it (`power loss`, `eio`): the step its op came in
 * (`report step NAME`) and the last acknowledgement of its node before it; in a
 * cluster, where the op's node names no steps or acks (a server driven by a client
 * node), the last step and ack of any node, named.
 *
 * @example
 * ```ts
 * faultContext("power loss", op, lines); // "power loss during step 'commit 5', after ack 4"
 * ```
 */
export function faultContext(
  name: string,
  op: PointArrival,
  lines: readonly GuestLine[],
): string {
  const own = (kind: string) => lines.some((l) => l.node === op.node && l.kind === kind);
  const lastBefore = (kind: string) =>
    lines.filter((line) =>
      line.phase === "run" && line.kind === kind && line.at <= op.index &&
      (line.node === op.node || !own(kind))
    ).at(-1);
  const whose = (line: GuestLine) => (line.node === op.node ? "" : ` (${line.node})`);
  const step = lastBefore("step");
  const ack = lastBefore("ack");
  const parts = [
    op.step !== undefined
      ? `${name} during step '${op.step}'`
      : step && !own("step")
      ? `${name} at ${op.record} ${op.index}, during step '${step.args.join(" ")}'${whose(step)}`
      : `${name} at ${op.record} ${op.index}`,
    ack ? `after ack ${ack.args.join(" ")}${whose(ack)}` : "before the first ack",
  ];
  return parts.join(", ");
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

/** A point's index, its recorded op or frame in a few words, and where its fault hit. */
function pointHead(
  parent: ParentTrace,
  at: number,
  noun: string,
): Pick<SweepPoint, "at" | "op" | "where"> {
  const op = parent.ordered.find((record) => record.index === at);
  if (op) return { at, op: describeOp(op), where: faultContext(noun, op, parent.lines) };
  const frame = parent.frames.find((record) => record.index === at)!;
  const arrival = { record: "frame" as const, index: at, node: frame.from };
  return { at, op: describeFramePoint(frame), where: faultContext(noun, arrival, parent.lines) };
}

/**
 * One replay of the sweep: a point, and for a power loss that explores states one of its
 * states, or with `each-order` one of its recovery orders.
 */
interface Unit {
  at: number;
  /** The crash state's ID, when the point has several. */
  state?: string;
  /** The recovery order, when the point is checked in several. */
  order?: string[];
}

function unitName(unit: Unit): string {
  return `${unit.at}${unit.state === undefined ? "" : `:${unit.state}`}${
    unit.order === undefined ? "" : `/${unit.order.join(",")}`
  }`;
}

/** The points of a sweep, and which of them are replayed (one per distinct crash state). */
interface Plan {
  indices: number[];
  /** The faults in force at every point, as replayed (before the one swept). */
  background: string[];
  /** Each point's units: itself, or its crash states. */
  units: Map<number, Unit[]>;
  /** Each point's crash states, when it has several. */
  states: Map<number, Omit<PointStates, "outcomes" | "distinct">>;
  /** The units replayed, in order. */
  groups: Unit[];
  /** Power loss: the unit whose (byte-identical) crash state serves each unit, by unit name. */
  representative: Map<string, Unit>;
  /** The fault is built from the trace (a power loss): its points are crash states, checked. */
  fromTrace: boolean;
  /**
   * Power loss: the records its crash states are chosen from (the `--with` lies decided), and
   * the one state of a point when the fault names one (else the point's states are explored).
   */
  crash?: { records: OpRecord[]; variant: CrashVariant | undefined };
  /** For a shard's plan: the points of the whole sweep. */
  sweepPoints?: number;
  /** The recovery orders: each point's, when it is checked in several; what replays are given. */
  orders: SweepOrders;
}

/**
 * The `--with` faults, in force at every point: one without a trigger stands for the run
 * phase (on every disk, from its first op); one of one op needs its trigger.
 *
 * @throws {SweepError} for a power loss, which is swept, not kept; {@link FaultSpecError}
 *   for a fault of one op without a trigger.
 * @example
 * ```ts
 * backgroundFaults(["lie-flush"]).specs; // ["lie-flush"]
 * ```
 */
export function backgroundFaults(
  texts: readonly string[],
): { specs: string[]; rules: FaultRule[] } {
  const rules = texts.map((text) => {
    const rule = parseFaultSpec(text);
    if (kindOf(rule.effect).fromTrace) {
      throw new SweepError(
        `--with ${text}: a ${nounOf(rule.effect)} is swept with --fault, not kept in force`,
      );
    }
    checkStanding(rule, "@TRIGGER");
    return rule;
  });
  return { specs: rules.map((rule) => rule.spec), rules };
}

/**
 * A sweep's points and the checks each needs, without running anything: a point's crash
 * states (by the one whose byte-identical state is checked for it), or its own run; and
 * whether its crash states are built from the trace (a check each) or it re-runs the
 * workload. For estimating what a sweep costs (src/ci/budget.ts).
 *
 * @throws {SweepError} as {@link sweep} does, for a selection that picks nothing.
 * @example
 * ```ts
 * sweepUnits(parent, { fault: "power-loss", points: { kind: "flushes" } }).points[0];
 * // { at: 41, units: ["41"] }
 * ```
 */
export function sweepUnits(
  parent: ParentTrace,
  options: Pick<SweepOptions, "fault" | "points" | "with">,
): { fromTrace: boolean; points: { at: number; units: string[] }[] } {
  const plan = planWholeSweep(parent, options as SweepOptions);
  return {
    fromTrace: plan.fromTrace,
    points: plan.indices.map((at) => ({
      at,
      units: plan.units.get(at)!.map((unit) =>
        unitName(plan.representative.get(unitName(unit)) ?? unit)
      ),
    })),
  };
}

/** Chooses the points and, for power loss, their crash states, grouped by content; then the shard's share. */
function planSweep(parent: ParentTrace, options: SweepOptions): Plan {
  const plan = planWholeSweep(parent, options);
  return options.shard ? shardPlan(plan, options.shard) : plan;
}

/** The plan of one shard: its points, and the checks of their crash states. */
function shardPlan(plan: Plan, shard: Shard): Plan {
  const links: [number, number][] = [];
  for (const [at, units] of plan.units) {
    for (const unit of units) {
      links.push([at, (plan.representative.get(unitName(unit)) ?? unit).at]);
    }
  }
  const cost = (at: number) => plan.groups.filter((unit) => unit.at === at).length;
  const shardOf = assignShards(linkedGroups(plan.indices, links, cost), shard.count);
  const mine = (at: number) => shardOf.get(at) === shard.index;
  return {
    ...plan,
    indices: plan.indices.filter(mine),
    groups: plan.groups.filter((unit) => mine(unit.at)),
    sweepPoints: plan.indices.length,
  };
}

/**
 * The points a selection picks that the fault can be put at: ops it applies to, and frames
 * when its kind takes them (src/fault/kinds/mod.ts `takesFrames`). A fault built from the
 * trace is put at the run phase's arrivals only.
 */
function planPoints(parent: ParentTrace, points: PointSelection, effect: FaultEffect): number[] {
  const fromTrace = kindOf(effect).fromTrace !== undefined;
  const frames = parent.frames.map((frame) => ({
    ...frameFactsOfRecord(frame),
    ...(frame.phase !== undefined ? { phase: frame.phase } : {}),
  }));
  const ops = new Map(parent.ordered.map((op) => [op.index, op]));
  const framesTaken = takesFrames(effect);
  return selectPoints({ ops: parent.ordered, frames }, points, fromTrace).filter((at) => {
    const op = ops.get(at);
    return op ? appliesTo(effect, op.op) : framesTaken;
  });
}

function planWholeSweep(parent: ParentTrace, options: SweepOptions): Plan {
  const rule = sweptFault(options.fault);
  const background = backgroundFaults(options.with ?? []);
  const fromTrace = kindOf(rule.effect).fromTrace;
  if (fromTrace && !parent.header.recordsData) {
    throw new ReplayError(
      `a ${
        nounOf(rule.effect)
      } sweep builds its crash states from the written data, and ${parent.path} was recorded with --no-data`,
    );
  }
  const indices = planPoints(parent, options.points, rule.effect);
  if (indices.length === 0) {
    throw new SweepError(
      `the selection picks no op or frame of the trace that ${rule.spec} can be put at`,
    );
  }
  const orders = sweepOrders(parent.scenario, options.recovery, {
    fault: options.fault,
    explores: fromTrace?.explores(rule.effect) !== undefined,
  });
  // With each-order, a point is a unit per order; else the point itself.
  const unitsAt = (at: number): Unit[] => orders.each?.map((order) => ({ at, order })) ?? [{ at }];
  const units = new Map(indices.map((at) => [at, unitsAt(at)]));
  const plan: Plan = {
    indices,
    background: background.specs,
    units,
    states: new Map(),
    groups: [],
    representative: new Map(),
    fromTrace: fromTrace !== undefined,
    orders,
  };
  if (!fromTrace) {
    plan.groups = indices.flatMap((at) => units.get(at)!);
    return plan;
  }
  placeCrashStates(parent, plan, { effect: rule.effect, background: background.rules });
  return plan;
}

/**
 * The fault a sweep puts at each point: written without a trigger, and not one set at boot.
 *
 * @throws {SweepError} naming the fault.
 */
function sweptFault(fault: string): FaultRule {
  const rule = parseFaultSpec(fault);
  if (rule.trigger.kind !== "always") {
    throw new SweepError(
      `--fault ${fault}: a sweep gives the trigger (each point); write the fault without @`,
    );
  }
  if (kindOf(rule.effect).boot) {
    throw new SweepError(
      `--fault ${fault}: ${
        specNameOf(rule.effect)
      } is set when its node boots, and has no points; keep it in force with --with`,
    );
  }
  return rule;
}

/**
 * A power loss's units: each point's crash state (or states, when the fault explores them),
 * checked once per byte-identical state (and recovery order), the others served by it.
 */
function placeCrashStates(
  parent: ParentTrace,
  plan: Plan,
  fault: { effect: FaultEffect; background: FaultRule[] },
): void {
  const fromTrace = kindOf(fault.effect).fromTrace!;
  const seed = parent.header.seed;
  // A disk that lies about flushes (a --with lie-flush) lied in the run the states come from.
  const records = withLiedFlushes(parent.records, { seed, rules: fault.background });
  const variant = fromTrace.variant(fault.effect, seed);
  const states = fromTrace.explores(fault.effect);
  plan.crash = { records, variant };
  const byKey = new Map<string, Unit>();
  const place = (unit: Unit, crash: string) => {
    const key = unit.order === undefined ? crash : `${crash} ${unit.order.join(",")}`;
    const first = byKey.get(key);
    if (first === undefined) {
      byKey.set(key, unit);
      plan.groups.push(unit);
    }
    plan.representative.set(unitName(unit), first ?? unit);
  };
  for (const at of plan.indices) {
    if (variant) {
      const key = selectCrashWrites(records, at, variant).key;
      for (const unit of plan.units.get(at)!) place(unit, key);
      continue;
    }
    const explored = crashStatesAt(records, at, states!, seed);
    plan.states.set(at, {
      volatile: explored.volatile.length,
      total: explored.total,
      sampled: explored.sampled,
    });
    const list = explored.states.map((state) => ({ at, state: state.id }));
    plan.units.set(at, list);
    for (const [i, state] of explored.states.entries()) {
      place(list[i], selectCrashWrites(records, at, { kind: "state", dropped: state.dropped }).key);
    }
  }
}

/**
 * What a unit's replay is given: the swept fault (or one crash state), with the background,
 * and its recovery order (its own, or the sweep's).
 */
function unitReplay(
  plan: Plan,
  unit: Unit,
  options: SweepOptions,
): { faults: string[]; with: string[]; recovery?: Recovery } {
  const fault = unit.state === undefined
    ? options.fault
    : kindOf(parseFaultSpec(options.fault).effect).fromTrace!.stateSpec(unit.state);
  const recovery = unit.order ?? plan.orders.recovery;
  return { faults: [fault], with: plan.background, ...(recovery ? { recovery } : {}) };
}

/** The name of a unit's trace: `point-AT`, then `-state-ID` and `-order-N2_N1` when it has them. */
function unitFile(unit: Unit): string {
  return `point-${unit.at}${
    unit.state === undefined ? "" : `-state-${unit.state.replaceAll("+", "_")}`
  }${unit.order === undefined ? "" : `-order-${unit.order.join("_")}`}`;
}

/** The replays of a sweep: each group's first, and the runs that confirm a failing one. */
interface Replays {
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

/** How one unit went, from its own replay or from the replay of its crash state's representative. */
interface UnitOutcome {
  verdict: Verdict;
  oracle: OracleResult | null;
  fired: boolean;
  trace?: string;
  reproduce: string;
  reproduced?: Reproduced;
  error?: string;
}

function unitOutcome(
  parent: ParentTrace,
  plan: Plan,
  unit: Unit,
  replays: Replays,
  options: SweepOptions,
): UnitOutcome {
  const source = plan.representative.get(unitName(unit)) ?? unit;
  const result = replays.results.get(unitName(source));
  const again = replays.again.get(unitName(source)) ?? [];
  const runs = 1 + again.length;
  const reproduce = reproduceCommand(parent.path, {
    ...unitReplay(plan, unit, options),
    faultAt: String(unit.at),
    ...(runs > 1 ? { runs } : {}),
  });
  const base = { reproduce, oracle: null, fired: false };
  if (!result) return { ...base, verdict: { pass: false, reason: "not run (interrupted)" } };
  if (result instanceof Error) {
    return {
      ...base,
      verdict: { pass: false, reason: `the replay failed: ${result.message}` },
      error: result.message,
    };
  }
  const judged = judgedFor(parent, unit, source, result, options);
  if (!judged.fired || !failsFinding(judged.verdict)) return { ...base, ...judged };
  // A failing unit: each run it got counts, the first included (a confirmation that failed
  // to run counts as a run that did not fail).
  const verdicts = [
    judged.verdict,
    ...again.map((run) =>
      run instanceof Error
        ? { pass: false, kind: "inconclusive" as const, reason: run.message }
        : judgedFor(parent, unit, source, run, options).verdict
    ),
  ];
  return { ...base, ...judged, reproduced: reproduced(verdicts) };
}

/**
 * One replay's verdict for a unit: its own, or, when the replay was another unit's with a
 * byte-identical crash state, its check judged again with this unit's cut (what was
 * acknowledged before the cut depends on the point).
 */
function judgedFor(
  parent: ParentTrace,
  unit: Unit,
  source: Unit,
  result: ReplayResult,
  options: SweepOptions,
): Pick<UnitOutcome, "verdict" | "oracle" | "fired" | "trace"> {
  const done = { fired: result.fired, ...(result.trace ? { trace: result.trace } : {}) };
  if (unitName(source) === unitName(unit)) {
    return { ...done, verdict: result.verdict, oracle: result.oracle };
  }
  const lines = [
    ...parent.lines.filter((line) => line.phase === "run"),
    ...result.lines.filter((line) => line.phase === "check"),
  ];
  const scenario = options.expect
    ? { ...parent.scenario, expect: options.expect }
    : parent.scenario;
  const oracle = runOracle(lines, { scenario, cutAt: unit.at });
  const verdict = judge(scenario, result.outcomes, oracle, {
    judgeWorkloadExit: options.expect !== undefined,
  });
  return { ...done, fired: true, verdict, oracle };
}

/** One point's outcome: its unit's, or its crash states' or recovery orders' together. */
function pointOf(
  parent: ParentTrace,
  plan: Plan,
  at: number,
  replays: Replays,
  options: SweepOptions,
): SweepPoint {
  const head = pointHead(parent, at, nounOf(parseFaultSpec(options.fault).effect));
  const context = { parent, plan, replays, options, head };
  if (plan.states.has(at)) return statesPointOf(context);
  if (plan.orders.each) return ordersPointOf(context);
  const unit = plan.units.get(at)![0];
  const source = plan.representative.get(unitName(unit)) ?? unit;
  const { reproduce: _, ...outcome } = unitOutcome(parent, plan, unit, replays, options);
  return {
    ...head,
    ...outcome,
    reproduce: reproduceCommand(parent.path, {
      ...unitReplay(plan, unit, options),
      faultAt: String(at),
      ...(outcome.reproduced && outcome.reproduced.runs > 1
        ? { runs: outcome.reproduced.runs }
        : {}),
    }),
    ...(source.at !== at && !outcome.error ? { sameCrashAs: source.at } : {}),
  };
}

/** What a point's outcome is made from. */
interface PointContext {
  parent: ParentTrace;
  plan: Plan;
  replays: Replays;
  options: SweepOptions;
  head: Pick<SweepPoint, "at" | "op" | "where">;
}

/** The command that sweeps one point again, for a point whose several units passed. */
function sweepOnePoint(context: PointContext, recovery?: string): string {
  const { parent, plan, options, head } = context;
  return `faultline sweep ${parent.path} --fault ${options.fault} --points ${head.at}..${head.at}${
    plan.background.map((w) => ` --with ${w}`).join("")
  }${recovery ? ` --recovery ${recovery}` : ""}`;
}

/** A point whose crash states were checked one by one: their outcomes together. */
function statesPointOf(context: PointContext): SweepPoint {
  const { parent, plan, replays, options, head } = context;
  const units = plan.units.get(head.at)!;
  const states = plan.states.get(head.at)!;
  const sourceOf = (unit: Unit) => plan.representative.get(unitName(unit)) ?? unit;
  const outcomes: StateOutcome[] = units.map((unit) => {
    const source = sourceOf(unit);
    const dropped = unit.state === "none" ? [] : unit.state!.split("+").map(Number);
    const outcome = unitOutcome(parent, plan, unit, replays, options);
    return {
      id: unit.state!,
      dropped,
      drops: describeState(parent, dropped),
      verdict: outcome.verdict,
      oracle: outcome.oracle,
      reproduce: outcome.reproduce,
      ...(outcome.reproduced ? { reproduced: outcome.reproduced } : {}),
      ...(outcome.trace ? { trace: outcome.trace } : {}),
      ...(unitName(source) !== unitName(unit)
        ? { sameCrashAs: { at: source.at, id: source.state! } }
        : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
  });
  const distinct = new Set(units.map((unit) => unitName(sourceOf(unit)))).size;
  const { verdict, first } = statesVerdict(outcomes, distinct, states);
  return {
    ...head,
    verdict,
    oracle: first.oracle,
    fired: true,
    reproduce: !verdict.pass ? first.reproduce : sweepOnePoint(context),
    ...(first.trace ? { trace: first.trace } : {}),
    ...(first.reproduced ? { reproduced: first.reproduced } : {}),
    states: { ...states, outcomes, distinct },
    ...(outcomes.some((o) => o.error) ? { error: outcomes.find((o) => o.error)!.error } : {}),
  };
}

/**
 * A point's verdict from its crash states', with the state that speaks for it: failing when
 * a state failed (the first failing one); else inconclusive when a state's check could not
 * run; else a pass (the first state).
 */
function statesVerdict(
  outcomes: readonly StateOutcome[],
  distinct: number,
  states: Omit<PointStates, "outcomes" | "distinct">,
): { verdict: Verdict; first: StateOutcome } {
  const failing = outcomes.filter(stateFails);
  const unjudged = outcomes.filter((o) => !stateFails(o) && !o.verdict.pass);
  const first = failing[0] ?? unjudged[0] ?? outcomes[0];
  const sample = states.sampled ? `, a seeded sample of ${states.total}` : "";
  const counted = `${outcomes.length} crash state${
    outcomes.length === 1 ? "" : "s"
  } (${distinct} distinct${sample})`;
  const which = `state ${first.id} (${first.drops}): ${first.verdict.reason}`;
  if (failing.length > 0) {
    return {
      first,
      verdict: { pass: false, reason: `${failing.length} of ${counted} fail; ${which}` },
    };
  }
  if (unjudged.length > 0) {
    const reason = `${unjudged.length} of ${counted} could not be checked; ${which}`;
    return { first, verdict: { pass: false, kind: "inconclusive", reason } };
  }
  return { first, verdict: { pass: true, reason: `${counted} pass: ${first.verdict.reason}` } };
}

/** A point checked in every recovery order (`each-order`): their outcomes together. */
function ordersPointOf(context: PointContext): SweepPoint {
  const { parent, plan, replays, options, head } = context;
  const outcomes: OrderOutcome[] = plan.units.get(head.at)!.map((unit) => {
    const source = plan.representative.get(unitName(unit)) ?? unit;
    const outcome = unitOutcome(parent, plan, unit, replays, options);
    return {
      order: unit.order!,
      verdict: outcome.verdict,
      oracle: outcome.oracle,
      fired: outcome.fired,
      reproduce: outcome.reproduce,
      ...(outcome.reproduced ? { reproduced: outcome.reproduced } : {}),
      ...(outcome.trace ? { trace: outcome.trace } : {}),
      ...(source.at !== head.at && !outcome.error ? { sameCrashAs: source.at } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
  });
  const verdict = ordersVerdict(outcomes);
  const failing = outcomes.filter(orderFails);
  const first = failing[0] ?? outcomes.find((o) => o.fired) ?? outcomes[0];
  return {
    ...head,
    verdict,
    oracle: first.oracle,
    fired: outcomes.some((o) => o.fired || o.error),
    reproduce: failing.length > 0 ? first.reproduce : sweepOnePoint(context, "each-order"),
    ...(first.trace ? { trace: first.trace } : {}),
    ...(first.reproduced ? { reproduced: first.reproduced } : {}),
    ...(first.sameCrashAs !== undefined ? { sameCrashAs: first.sameCrashAs } : {}),
    orders: outcomes,
    ...(failing.some((o) => o.error) ? { error: failing.find((o) => o.error)!.error } : {}),
  };
}

/** A point without the paths of its traces (they were not kept). */
function withoutTraces(point: SweepPoint): SweepPoint {
  const { trace: _, ...rest } = point;
  if (!rest.states) return rest;
  const outcomes = rest.states.outcomes.map(({ trace: __, ...outcome }) => outcome);
  return { ...rest, states: { ...rest.states, outcomes } };
}

/** What a crash state drops, in words: one write with its extent and step, or the list. */
function describeState(parent: ParentTrace, dropped: readonly number[]): string {
  if (dropped.length === 0) return "keeps every volatile write";
  if (dropped.length > 1) return `drops the writes at ops ${dropped.join(", ")}`;
  const op = parent.ordered.find((record) => record.index === dropped[0]);
  const what = op
    ? ` (${op.disk}/${describeOp(op)}${op.step !== undefined ? ` in step '${op.step}'` : ""})`
    : "";
  return `drops the write at op ${dropped[0]} alone${what}`;
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
 * The distinct crash states of a power-loss sweep (of those checked, when `checked` is
 * given): a state checked in several recovery orders counts once.
 */
function distinctStates(
  plan: Plan,
  checked: ReadonlyMap<string, unknown> | null,
): number {
  const groups = checked ? plan.groups.filter((unit) => checked.has(unitName(unit))) : plan.groups;
  return new Set(groups.map((unit) => unitName({ ...unit, order: undefined }))).size;
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

/**
 * The crash states a power-loss sweep would check, without checking them: for each point
 * its states (none listed when the fault is one state a point) and which unit (`AT` or
 * `AT:STATE`, with `/ORDER` under `each-order`) is checked for each, byte-identical ones
 * sharing one. For tests and dry runs; pure.
 *
 * @example
 * ```ts
 * sweepStates(parent, { fault: "power-loss:each", points: { kind: "range", from: 40, to: 40 } });
 * // { points: [{ at: 40, states: ["37", "39"], volatile: 2, ... }], distinct: 2 }
 * ```
 */
export function sweepStates(
  parent: ParentTrace,
  options: Pick<SweepOptions, "fault" | "points" | "with" | "shard" | "recovery">,
): {
  points: {
    at: number;
    volatile: number;
    total: number;
    sampled: boolean;
    states: string[];
    servedBy: string[];
  }[];
  distinct: number;
} {
  const plan = planSweep(parent, { ...options, jobs: 1, keepData: false });
  return {
    points: plan.indices.map((at) => {
      const units = plan.units.get(at)!;
      const states = plan.states.get(at);
      return {
        at,
        volatile: states?.volatile ?? 0,
        total: states?.total ?? 1,
        sampled: states?.sampled ?? false,
        states: units.flatMap((unit) => unit.state === undefined ? [] : [unit.state]),
        servedBy: units.map((unit) => unitName(plan.representative.get(unitName(unit)) ?? unit)),
      };
    }),
    distinct: plan.groups.length,
  };
}
