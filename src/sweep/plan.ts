/**
 * A sweep's plan, before anything runs: the points a selection picks that the fault can be
 * put at, the `--with` faults in force at every point, each point's units (the point
 * itself, its crash states, or its recovery orders) and what each unit's replay is given;
 * for power loss, which unit's check serves each unit (points whose crash states are
 * byte-identical share one: the durable set changes only when a flush or a FUA write
 * completes); then a shard's share. Dry runs (`sweepStates`) and CI's budget
 * (`sweepUnits`) read the plan without running it.
 *
 * @module
 */

import { appliesTo } from "../fault/plan.ts";
import { kindOf, nounOf, specNameOf, takesFrames } from "../fault/kinds/mod.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { checkStanding } from "../fault/standing.ts";
import type { FaultEffect, FaultRule } from "../fault/types.ts";
import { crashStatesAt, selectCrashWrites, withLiedFlushes } from "../run/crash_state.ts";
import type { CrashVariant } from "../fault/kinds/kind.ts";
import { ReplayError } from "../replay/errors.ts";
import type { ParentTrace } from "../replay/replay.ts";
import type { OpRecord } from "../trace/schema.ts";
import { frameFactsOfRecord } from "../net/frame_record.ts";
import { SweepError } from "./errors.ts";
import { type PointSelection, selectPoints } from "../scenario/points.ts";
import { assignShards, linkedGroups, type Shard } from "./shard.ts";
import { type SweepOrders, sweepOrders } from "./orders.ts";
import type { Recovery } from "../scenario/recovery.ts";
import type { PointStates } from "./result.ts";
import type { SweepOptions } from "./sweep.ts";

/**
 * One replay of the sweep: a point, and for a power loss that explores states one of its
 * states, or with `each-order` one of its recovery orders.
 */
export interface Unit {
  at: number;
  /** The crash state's ID, when the point has several. */
  state?: string;
  /** The recovery order, when the point is checked in several. */
  order?: string[];
}

/** A unit's key in the plan's maps: `AT`, then `:STATE` and `/ORDER` when it has them (`41:37+39/n2,n1`). */
export function unitName(unit: Unit): string {
  return `${unit.at}${unit.state === undefined ? "" : `:${unit.state}`}${
    unit.order === undefined ? "" : `/${unit.order.join(",")}`
  }`;
}

/** The points of a sweep, and which of them are replayed (one per distinct crash state). */
export interface Plan {
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
export function planSweep(parent: ParentTrace, options: SweepOptions): Plan {
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
export function unitReplay(
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

/**
 * The distinct crash states of a power-loss sweep (of those checked, when `checked` is
 * given): a state checked in several recovery orders counts once.
 */
export function distinctStates(
  plan: Plan,
  checked: ReadonlyMap<string, unknown> | null,
): number {
  const groups = checked ? plan.groups.filter((unit) => checked.has(unitName(unit))) : plan.groups;
  return new Set(groups.map((unit) => unitName({ ...unit, order: undefined }))).size;
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
