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
import { drawLatency } from "./latency.ts";
import { seededStream } from "./random.ts";
import { effectName } from "./spec.ts";
import {
  type FaultEffect,
  type FaultPlan,
  type FaultRule,
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
  /** The op carries FUA (writes). */
  fua?: boolean;
  /** Milliseconds since the run started. */
  time: number;
}

/** What to do to one op. */
export type Action =
  | { kind: "error"; errno: Errno }
  /** Hold the op until `untilMs` (run time), or until released when absent. */
  | { kind: "hang"; untilMs?: number }
  | { kind: "delay"; durationMs: number }
  /** Answer the op `latencyMs` after it arrived (drawn from a distribution, or fixed), sharing a bandwidth cap. */
  | { kind: "limp"; latencyMs: number; bytesPerSecond?: number }
  /** Hold the op until the stall it arrived in ends, at `untilMs` (run time). */
  | { kind: "stall"; untilMs: number }
  /** Acknowledge a flush at once without flushing, or a FUA write without making it durable. */
  | { kind: "lie-flush" }
  /** A read of bad sectors `[sectors[0], sectors[1])` fails. */
  | { kind: "bad-sector"; errno: Errno; sectors: [number, number] }
  /** Not done to the op: a write remapped the bad sectors `[sectors[0], sectors[1])`, which read again from now on. */
  | { kind: "remap"; sectors: [number, number] }
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
  /** The rule's position in the plan, which seeds its draws. */
  ruleNumber?: number;
  /** Run time when it fired (a stall's episodes count from it). */
  since?: number;
}

/** Bad sectors of a disk, from one rule (or `live`): reads fail until a write remaps them. */
export interface BadSectors {
  rule: string;
  disk: string;
  errno: Errno;
  /** Sector ranges still bad, `[start, end)`, sorted and apart. */
  ranges: readonly (readonly [number, number])[];
}

/** A fault set over the control socket: it hits every op of its disk while set. */
export interface LiveFault {
  /** What it does to each op. */
  effect: FaultEffect;
  /** Ops still to hit before the fault clears itself; absent: until cleared. */
  remaining?: number;
  /** Run time when the fault clears itself (a hang set with a duration). */
  untilMs?: number;
  /** Run time when it was set (a stall's episodes count from it). */
  since?: number;
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
  /** Bad sectors not yet remapped, per disk and rule. */
  readonly bad: readonly BadSectors[];
  /** `RULE/DISK` for each persistent rule that came into force on each disk by itself (no trigger, or a filter). */
  readonly firedOn: readonly string[];
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
    bad: [],
    firedOn: [],
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

/**
 * The action of an effect on one op; random choices come from the seed, rule and op index.
 * `since` is when a persistent fault fired (a stall's episodes count from it).
 */
export function actionOf(
  effect: FaultEffect,
  op: OpView,
  seed: number,
  ruleNumber: number,
  since = op.time,
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
    case "limp": {
      const latencyMs = effect.distribution
        ? drawLatency(effect.distribution, seededStream(seed, ruleNumber, op.index))
        : effect.latencyMs;
      return effect.bytesPerSecond === undefined
        ? { kind: "limp", latencyMs }
        : { kind: "limp", latencyMs, bytesPerSecond: effect.bytesPerSecond };
    }
    case "stall": {
      // Episodes of forMs begin at since, since + everyMs, ...: an op inside one waits for its end.
      const episode = since + Math.floor((op.time - since) / effect.everyMs) * effect.everyMs;
      const untilMs = episode + effect.forMs;
      return op.time >= since && op.time < untilMs ? { kind: "stall", untilMs } : null;
    }
    case "lie-flush":
      return (op.type === "flush" && !effect.fuaOnly) || (op.fua === true && isWriteLike(op.type))
        ? { kind: "lie-flush" }
        : null;
    case "bad-sectors":
      return null; // the plan's state keeps the bad sectors; decide() fails the reads
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
  return action.kind === "hang" || action.kind === "delay" || action.kind === "limp" ||
    action.kind === "stall";
}

/** Outcomes after which a write's bytes never reach the store. */
function storesNothing(action: Action | undefined): boolean {
  return action !== undefined &&
    (action.kind === "error" || action.kind === "bad-sector" || action.kind === "lost-write" ||
      action.kind === "power-loss" || (action.kind === "torn-write" && action.keepBytes === 0));
}

const SECTOR = 512;

/** The sectors `[start, end)` an extent of bytes touches. */
function sectorsOf(offset: number, length: number): [number, number] {
  return [Math.floor(offset / SECTOR), Math.ceil((offset + Math.max(length, 1)) / SECTOR)];
}

/** The part of sorted, disjoint ranges that overlaps `[start, end)`, as one span (or null). */
function overlapOf(
  ranges: readonly (readonly [number, number])[],
  start: number,
  end: number,
): [number, number] | null {
  let from = Infinity;
  let to = -Infinity;
  for (const [a, b] of ranges) {
    if (a < end && b > start) {
      from = Math.min(from, Math.max(a, start));
      to = Math.max(to, Math.min(b, end));
    }
  }
  return from < to ? [from, to] : null;
}

/** Sorted, disjoint ranges without `[start, end)`. */
function subtract(
  ranges: readonly (readonly [number, number])[],
  start: number,
  end: number,
): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  for (const [a, b] of ranges) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  return out;
}

/** The state as one op's decision changes it: each field replaced, never mutated in place. */
type Draft = { -readonly [K in keyof PlanState]: PlanState[K] } & { decisions: Decision[] };

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
  const draft: Draft = { ...state, decisions: [] };
  persistentFaults(plan, state, op, draft);
  plan.rules.forEach((rule, i) => planRule(plan, rule, i, op, draft));
  badSectorRead(op, draft);
  liveFault(plan, state, op, draft);
  // A power cut ends everything: nothing else happens to this op. A lie about a flush is the
  // outcome only when nothing else is.
  const { decisions } = draft;
  const cut = decisions.find((d) => d.action.kind === "power-loss");
  const timing = cut ? [] : decisions.filter((d) => isTiming(d.action));
  const outcome = cut ??
    decisions.find((d) => !isTiming(d.action) && d.action.kind !== "lie-flush") ??
    decisions.find((d) => d.action.kind === "lie-flush");
  const notes = remapWritten(op, outcome, draft);
  const { decisions: _, ...fields } = draft;
  const unchanged = (Object.keys(fields) as (keyof PlanState)[]).every((key) =>
    fields[key] === state[key]
  );
  return {
    decisions: [...timing, ...(outcome ? [outcome] : []), ...notes],
    state: unchanged ? state : fields,
  };
}

/** Persistent faults already in force on the op's disk. */
function persistentFaults(plan: FaultPlan, state: PlanState, op: OpView, draft: Draft): void {
  for (const fault of state.active) {
    if (fault.disk !== op.disk) continue;
    if (fault.untilMs !== undefined && op.time >= fault.untilMs) {
      draft.active = draft.active.filter((a) => a !== fault);
      continue;
    }
    const action = fault.effect.kind === "hang"
      ? (fault.untilMs === undefined
        ? { kind: "hang" as const }
        : { kind: "hang" as const, untilMs: fault.untilMs })
      : actionOf(fault.effect, op, plan.seed, fault.ruleNumber ?? -1, fault.since);
    if (action) draft.decisions.push({ rule: fault.rule, fault: effectName(fault.effect), action });
  }
}

/** One rule of the plan, if the op passes its trigger. */
function planRule(plan: FaultPlan, rule: FaultRule, i: number, op: OpView, draft: Draft): void {
  // Link and node faults are the switch's and the run's: the block fault layer ignores them.
  if (draft.spent[i] || !isBlockEffect(rule.effect) || !passes(rule.trigger, op)) return;
  if (!appliesTo(rule.effect, op.type)) {
    // An index names one op: if it cannot take the fault, the rule can never fire.
    if (rule.trigger.kind === "index") draft.spent = replaceAt(draft.spent, i, true);
    return;
  }
  draft.matched = replaceAt(draft.matched, i, draft.matched[i] + 1);
  const occurrence = rule.trigger.kind === "match" ? rule.trigger.occurrence : undefined;
  if (occurrence !== undefined && draft.matched[i] !== occurrence) return;
  const persistent = PERSISTENT_KINDS.has(rule.effect.kind);
  // A persistent fault without a trigger, or with a filter and no occurrence (`@any`,
  // `@vdb/write`), comes into force on each disk at its first matching op; with an index,
  // a time or an occurrence, once, on the disk of the op that fires it.
  const eachDisk = persistent &&
    (rule.trigger.kind === "always" ||
      (rule.trigger.kind === "match" && occurrence === undefined));
  if (eachDisk) {
    const here = `${i}/${op.disk}`;
    if (draft.firedOn.includes(here)) return;
    draft.firedOn = [...draft.firedOn, here];
  } else if (persistent || occurrence !== undefined || rule.trigger.kind === "index") {
    draft.spent = replaceAt(draft.spent, i, true);
  }
  if (rule.effect.kind === "bad-sectors") {
    // The sectors go bad on this op's disk, and stay bad until written (see remapWritten).
    const { startSector, endSector, errno } = rule.effect;
    const ranges: (readonly [number, number])[] = [[startSector, endSector]];
    draft.bad = [...draft.bad, { rule: rule.spec, disk: op.disk, errno, ranges }];
    return;
  }
  const action = actionOf(rule.effect, op, plan.seed, i);
  if (persistent) {
    // In force from here, even when this op takes nothing (a lie-flush fired by a read).
    const untilMs = action?.kind === "hang" ? action.untilMs : undefined;
    draft.active = [...draft.active, {
      rule: rule.spec,
      disk: op.disk,
      effect: rule.effect,
      untilMs,
      ruleNumber: i,
      since: op.time,
    }];
  }
  if (!action) return;
  draft.hits = replaceAt(draft.hits, i, draft.hits[i] + 1);
  draft.decisions.push({ rule: rule.spec, fault: effectName(rule.effect), action });
}

/** Bad sectors: a read of one fails. */
function badSectorRead(op: OpView, draft: Draft): void {
  if (op.type !== "read") return;
  for (const sectors of draft.bad) {
    if (sectors.disk !== op.disk) continue;
    const hitSectors = overlapOf(sectors.ranges, ...sectorsOf(op.offset, op.length));
    if (!hitSectors) continue;
    draft.decisions.push({
      rule: sectors.rule,
      fault: "bad-sectors",
      action: { kind: "bad-sector", errno: sectors.errno, sectors: hitSectors },
    });
    return;
  }
}

/** A fault set live over the control socket. */
function liveFault(plan: FaultPlan, state: PlanState, op: OpView, draft: Draft): void {
  const fault = state.live[op.disk];
  if (!fault) return;
  if (fault.untilMs !== undefined && op.time >= fault.untilMs) {
    draft.live = without(draft.live, op.disk);
    return;
  }
  if (!appliesTo(fault.effect, op.type)) return;
  const action = fault.effect.kind === "hang"
    ? (fault.untilMs === undefined
      ? { kind: "hang" as const }
      : { kind: "hang" as const, untilMs: fault.untilMs })
    : actionOf(fault.effect, op, plan.seed, -2, fault.since ?? 0);
  if (action) draft.decisions.push({ rule: "live", fault: effectName(fault.effect), action });
  if (fault.remaining !== undefined) {
    draft.live = fault.remaining > 1
      ? { ...draft.live, [op.disk]: { ...fault, remaining: fault.remaining - 1 } }
      : without(draft.live, op.disk);
  }
}

/** A write that reaches the store remaps the bad sectors it covers; the remaps, as notes. */
function remapWritten(op: OpView, outcome: Decision | undefined, draft: Draft): Decision[] {
  const notes: Decision[] = [];
  if ((op.type !== "write" && op.type !== "write-zeroes") || storesNothing(outcome?.action)) {
    return notes;
  }
  const kept = outcome?.action.kind === "torn-write" ? outcome.action.keepBytes : op.length;
  const [start, end] = sectorsOf(op.offset, kept);
  draft.bad = draft.bad.flatMap((sectors) => {
    if (sectors.disk !== op.disk) return [sectors];
    const remapped = overlapOf(sectors.ranges, start, end);
    if (!remapped) return [sectors];
    notes.push({
      rule: sectors.rule,
      fault: "bad-sectors",
      action: { kind: "remap", sectors: remapped },
    });
    const ranges = subtract(sectors.ranges, start, end);
    return ranges.length > 0 ? [{ ...sectors, ranges }] : [];
  });
  return notes;
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
  if (fault?.effect.kind === "bad-sectors") {
    // Bad sectors live in the state until written; the live fault only says they were set.
    const { startSector, endSector, errno } = fault.effect;
    return {
      ...state,
      live: { ...state.live, [disk]: fault },
      bad: [
        ...state.bad.filter((b) => !(b.disk === disk && b.rule === "live")),
        { rule: "live", disk, errno, ranges: [[startSector, endSector]] },
      ],
    };
  }
  if (fault) return { ...state, live: { ...state.live, [disk]: fault } };
  return {
    ...state,
    live: without(state.live, disk),
    active: state.active.filter((a) => a.disk !== disk),
    bad: state.bad.filter((b) => b.disk !== disk),
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
