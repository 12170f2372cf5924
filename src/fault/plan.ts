/**
 * The fault decision: a pure function of the plan, the plan's state so far and
 * the arriving op. No clock, no socket, no randomness beyond the plan's seed:
 * the same ops in the same order get the same decisions, which is what makes a
 * replay reproduce.
 *
 * @module
 */

import { isWriteLike, type OpType } from "../block/backend.ts";
import type { Errno } from "../block/errno.ts";
import { seededStream } from "./random.ts";
import { effectName } from "./spec.ts";
import {
  type FaultEffect,
  type FaultPlan,
  isBlockEffect,
  PERSISTENT_KINDS,
  type Trigger,
} from "./types.ts";

/** What the fault layer must know about an op to decide. */
export interface OpView {
  /** The op's index in the run. */
  index: number;
  /** The node of the disk. */
  node?: string;
  /** The disk's unique id in the run (its export name): faults in force are kept per id. */
  disk: string;
  /** The disk's name in its node, when it differs from the id (triggers match it). */
  name?: string;
  /** What the op does. */
  type: OpType;
  /** Where it starts, in bytes. */
  offset: number;
  /** How many bytes it covers. */
  length: number;
  /** Milliseconds since the run started. */
  time: number;
}

/** What to do to one op. */
export type Action =
  | { kind: "error"; errno: Errno }
  /** Hold the op until `untilMs` (run time), or until released when absent. */
  | { kind: "hang"; untilMs?: number }
  | { kind: "delay"; durationMs: number }
  | { kind: "limp"; latencyMs: number; bytesPerSecond?: number }
  | { kind: "lost-write" }
  | { kind: "torn-write"; keepBytes: number }
  | { kind: "corrupt"; direction: "read" | "write"; bitPositions: number[] }
  /** Cut the power as this op arrives: it and everything after never happen. */
  | { kind: "power-loss" };

/** One action and the rule it comes from (a spec, or `live`). */
export interface Decision {
  /** The rule's spec, or `live`. */
  rule: string;
  /** The fault's name as the spec writes it (`eio`, `delay`, ...). */
  fault: string;
  /** What to do. */
  action: Action;
}

/** A persistent fault in force on one disk since it fired. */
export interface ActiveFault {
  rule: string;
  disk: string;
  effect: FaultEffect;
  /** Run time when it stops (a hang with a duration); absent: until cleared. */
  untilMs?: number;
}

/** A fault set over the control socket: it hits every op of its disk while set. */
export interface LiveFault {
  /** What it does to each op. */
  effect: FaultEffect;
  /** Ops still to hit before the fault clears itself; absent: until cleared. */
  remaining?: number;
  /** Run time when the fault clears itself (a hang set with a duration). */
  untilMs?: number;
}

/** Everything the decision remembers between ops. Never mutated: each step makes a new one. */
export interface PlanState {
  /** Per rule: ops that passed its trigger's filter so far. */
  readonly matched: readonly number[];
  /** Per rule: it fired (or can no longer fire) and is done. */
  readonly spent: readonly boolean[];
  /** Per rule: how many ops it hit. */
  readonly hits: readonly number[];
  readonly active: readonly ActiveFault[];
  readonly live: Readonly<Record<string, LiveFault>>;
}

/**
 * The state of a plan before its first op.
 *
 * @example
 * ```ts
 * const state = initialState(plan);
 * ```
 */
export function initialState(plan: FaultPlan): PlanState {
  const n = plan.rules.length;
  return {
    matched: new Array(n).fill(0),
    spent: new Array(n).fill(false),
    hits: new Array(n).fill(0),
    active: [],
    live: {},
  };
}

/** Whether an effect means anything for an op type (a read cannot be lost). */
export function appliesTo(effect: FaultEffect, type: OpType): boolean {
  switch (effect.kind) {
    case "lost-write":
      return isWriteLike(type);
    case "torn-write":
      return type === "write";
    case "corrupt":
      return type === effect.direction;
    default:
      return true;
  }
}

/**
 * Whether an op passes a trigger's filter (without its occurrence: the caller counts).
 *
 * @example
 * ```ts
 * passes(parseTrigger("data/write"), { index: 3, disk: "data", type: "write", offset: 0, length: 512, time: 9 }); // true
 * ```
 */
export function passes(trigger: Trigger, op: OpView): boolean {
  switch (trigger.kind) {
    case "always":
      return true;
    case "index":
      return op.index === trigger.index;
    case "time":
      return op.time >= trigger.afterMs;
    case "match":
      return (trigger.node === undefined || trigger.node === op.node) &&
        (trigger.disk === undefined || trigger.disk === (op.name ?? op.disk)) &&
        (trigger.type === undefined || trigger.type === op.type) &&
        (trigger.range === undefined ||
          (op.offset < trigger.range.end &&
            op.offset + Math.max(op.length, 1) > trigger.range.start)) &&
        (trigger.exact === undefined ||
          (op.offset === trigger.exact.offset && op.length === trigger.exact.length));
    case "frames":
      return false; // frames are the switch's (src/net/link_plan.ts)
  }
}

/** The action of an effect on one op; random choices come from the seed, rule and op index. */
export function actionOf(
  effect: FaultEffect,
  op: OpView,
  seed: number,
  ruleNumber: number,
): Action | null {
  switch (effect.kind) {
    case "error":
    case "fail":
      return { kind: "error", errno: effect.errno };
    case "hang":
      return effect.durationMs === undefined
        ? { kind: "hang" }
        : { kind: "hang", untilMs: op.time + effect.durationMs };
    case "delay":
      return { kind: "delay", durationMs: effect.durationMs };
    case "limp":
      return effect.bytesPerSecond === undefined
        ? { kind: "limp", latencyMs: effect.latencyMs }
        : { kind: "limp", latencyMs: effect.latencyMs, bytesPerSecond: effect.bytesPerSecond };
    case "lost-write":
      return { kind: "lost-write" };
    case "torn-write": {
      const sectors = Math.ceil(op.length / 512);
      const keep = effect.keepSectors ??
        seededStream(seed, ruleNumber, op.index)() % Math.max(sectors, 1);
      return { kind: "torn-write", keepBytes: Math.min(keep * 512, op.length) };
    }
    case "corrupt": {
      const bitCount = op.length * 8;
      const draw = seededStream(seed, ruleNumber, op.index);
      const positions = new Set<number>();
      while (positions.size < Math.min(effect.bits, bitCount)) positions.add(draw() % bitCount);
      return {
        kind: "corrupt",
        direction: effect.direction,
        bitPositions: [...positions].sort((a, b) => a - b),
      };
    }
    case "power-loss":
      return { kind: "power-loss" };
    default:
      return null; // link effects: the switch applies them to frames, never to ops
  }
}

/** Timing actions come first; of the outcomes (error, lost, torn, corrupt) only the first applies. */
function isTiming(action: Action): boolean {
  return action.kind === "hang" || action.kind === "delay" || action.kind === "limp";
}

/**
 * Decides what happens to one op, and the state after it.
 *
 * @example
 * ```ts
 * const plan = { seed: 1, rules: [parseFaultSpec("eio@write#2")] };
 * let state = initialState(plan);
 * const first = decide(plan, state, { index: 0, disk: "vda", type: "write", offset: 0, length: 512, time: 0 });
 * first.decisions.length; // 0
 * const second = decide(plan, first.state, { index: 1, disk: "vda", type: "write", offset: 512, length: 512, time: 1 });
 * second.decisions[0].action; // { kind: "error", errno: "eio" }
 * ```
 */
export function decide(
  plan: FaultPlan,
  state: PlanState,
  op: OpView,
): { decisions: Decision[]; state: PlanState } {
  const decisions: Decision[] = [];
  let matched = state.matched;
  let spent = state.spent;
  let hits = state.hits;
  let active = state.active;
  let live = state.live;
  const hit = (rule: number) => {
    if (hits === state.hits) hits = [...hits];
    (hits as number[])[rule]++;
  };

  // Persistent faults already in force on this disk.
  for (const fault of state.active) {
    if (fault.disk !== op.disk) continue;
    if (fault.untilMs !== undefined && op.time >= fault.untilMs) {
      active = active.filter((a) => a !== fault);
      continue;
    }
    const action = fault.effect.kind === "hang"
      ? (fault.untilMs === undefined
        ? { kind: "hang" as const }
        : { kind: "hang" as const, untilMs: fault.untilMs })
      : actionOf(fault.effect, op, plan.seed, -1);
    if (action) decisions.push({ rule: fault.rule, fault: effectName(fault.effect), action });
  }

  // Rules of the plan whose trigger this op passes.
  plan.rules.forEach((rule, i) => {
    // Link faults are the switch's: the block fault layer ignores them.
    if (spent[i] || !isBlockEffect(rule.effect) || !passes(rule.trigger, op)) return;
    if (!appliesTo(rule.effect, op.type)) {
      // An index names one op: if it cannot take the fault, the rule can never fire.
      if (rule.trigger.kind === "index") spent = replaceAt(spent, i, true);
      return;
    }
    matched = replaceAt(matched, i, matched[i] + 1);
    const occurrence = rule.trigger.kind === "match" ? rule.trigger.occurrence : undefined;
    if (occurrence !== undefined && matched[i] !== occurrence) return;
    const persistent = PERSISTENT_KINDS.has(rule.effect.kind);
    if (persistent || occurrence !== undefined || rule.trigger.kind === "index") {
      spent = replaceAt(spent, i, true);
    }
    const action = actionOf(rule.effect, op, plan.seed, i);
    if (!action) return;
    if (persistent) {
      const untilMs = action.kind === "hang" ? action.untilMs : undefined;
      active = [...active, { rule: rule.spec, disk: op.disk, effect: rule.effect, untilMs }];
    }
    hit(i);
    decisions.push({ rule: rule.spec, fault: effectName(rule.effect), action });
  });

  // A fault set live over the control socket.
  const liveFault = state.live[op.disk];
  if (liveFault && liveFault.untilMs !== undefined && op.time >= liveFault.untilMs) {
    live = without(live, op.disk);
  } else if (liveFault && appliesTo(liveFault.effect, op.type)) {
    const action = liveFault.effect.kind === "hang"
      ? (liveFault.untilMs === undefined
        ? { kind: "hang" as const }
        : { kind: "hang" as const, untilMs: liveFault.untilMs })
      : actionOf(liveFault.effect, op, plan.seed, -2);
    if (action) decisions.push({ rule: "live", fault: effectName(liveFault.effect), action });
    if (liveFault.remaining !== undefined) {
      live = liveFault.remaining > 1
        ? { ...live, [op.disk]: { ...liveFault, remaining: liveFault.remaining - 1 } }
        : without(live, op.disk);
    }
  }

  // A power cut ends everything: nothing else happens to this op.
  const cut = decisions.find((d) => d.action.kind === "power-loss");
  const timing = cut ? [] : decisions.filter((d) => isTiming(d.action));
  const outcome = cut ?? decisions.find((d) => !isTiming(d.action));
  const next = matched === state.matched && spent === state.spent && hits === state.hits &&
      active === state.active && live === state.live
    ? state
    : { matched, spent, hits, active, live };
  return { decisions: outcome ? [...timing, outcome] : timing, state: next };
}

/**
 * Sets or clears the live fault of a disk. Clearing (`null`) also ends every
 * persistent fault in force on that disk, so `none` brings a disk back.
 *
 * @example
 * ```ts
 * state = setLiveFault(state, "vda", { effect: { kind: "error", errno: "eio" } });
 * state = setLiveFault(state, "vda", null);
 * ```
 */
export function setLiveFault(state: PlanState, disk: string, fault: LiveFault | null): PlanState {
  if (fault) return { ...state, live: { ...state.live, [disk]: fault } };
  return {
    ...state,
    live: without(state.live, disk),
    active: state.active.filter((a) => a.disk !== disk),
  };
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Readonly<Record<string, T>> {
  const { [key]: _, ...rest } = record;
  return rest;
}

function replaceAt<T>(array: readonly T[], index: number, value: T): readonly T[] {
  if (array[index] === value) return array;
  const copy = [...array];
  copy[index] = value;
  return copy;
}
