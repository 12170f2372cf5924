/**
 * The block fault decision: a pure function of the plan, the plan's state so far and the
 * arriving op. No clock, no socket, no randomness beyond the plan's seed: the same ops in
 * the same order get the same decisions, which is what makes a replay reproduce.
 *
 * When a rule fires is the trigger engine's (./trigger.ts); what it does to the op is its
 * kind's (./kinds/); this file keeps what is in force on each disk and combines the
 * actions of one op: timing first (hold, wait, pace), then one outcome (the first of the
 * plan's order), a lie about durability only when nothing else is the outcome, and a
 * power cut before everything.
 *
 * @module
 */

import type { OpType } from "../block/backend.ts";
import type { BlockAction, BlockBehaviour, Detail, Effect } from "./kinds/kind.ts";
import { kindOf, specNameOf } from "./kinds/mod.ts";
import { seededStream } from "./random.ts";
import { endsWithRun } from "./standing.ts";
import {
  NOT_STARTED,
  type OpView,
  signatureText,
  stepTrigger,
  type TriggerProgress,
} from "./trigger.ts";
import type { FaultEffect, FaultPlan, FaultRule } from "./types.ts";

export type { OpView };

/** One action on an op and the rule it comes from (a spec, or `live`). */
export interface Decision {
  /** The rule's spec, or `live`. */
  rule: string;
  /** The fault's name as the spec writes it (`eio`, `delay`, ...). */
  fault: string;
  /**
   * What to do.
   * @ignore faultline's own: not part of the public API
   */
  action: BlockAction;
  /**
   * What the trace keeps of it (`fault.detail`).
   * @ignore faultline's own: not part of the public API
   */
  detail?: Detail;
}

/** A persistent fault in force on one disk since it fired. */
export interface ActiveFault {
  rule: string;
  disk: string;
  effect: FaultEffect;
  /** The rule's position in the plan, which seeds its draws. */
  ruleNumber: number;
  /** Run time when it fired. */
  since: number;
  /** Run time when it ends by itself (a hang with a duration); absent: until cleared. */
  untilMs?: number;
  /** What it remembers on the disk (bad sectors not yet remapped). */
  memory?: unknown;
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
  /** What it remembers on the disk. */
  memory?: unknown;
}

/** Everything the decision remembers between ops. Never mutated: each step makes a new one. */
export interface PlanState {
  /** Per rule: its progress through its trigger. */
  readonly progress: readonly TriggerProgress[];
  /** Per rule: it came into force or hit an op. */
  readonly fired: readonly boolean[];
  /** Per rule: how many ops it hit when it fired. */
  readonly hits: readonly number[];
  readonly active: readonly ActiveFault[];
  readonly live: Readonly<Record<string, LiveFault>>;
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
    progress: new Array(n).fill(NOT_STARTED),
    fired: new Array(n).fill(false),
    hits: new Array(n).fill(0),
    active: [],
    live: {},
    firedOn: [],
  };
}

/** The block behaviour of an effect's kind, if it acts on ops. */
function blockOf(effect: Effect): BlockBehaviour<Effect> | undefined {
  return kindOf(effect).block;
}

/**
 * Whether an effect means anything for an op type (a read cannot be lost); any op may
 * trigger a kind that does not act on ops (a partition at op 40).
 *
 * @example
 * ```ts
 * appliesTo({ kind: "lost-write" }, "read"); // false
 * ```
 */
export function appliesTo(effect: Effect, type: OpType): boolean {
  return blockOf(effect)?.appliesTo?.(effect, type) ?? true;
}

const TIMING = new Set<BlockAction["do"]>(["hold", "wait", "pace"]);

/** A decision that is the op's outcome: neither timing, nor a lie about durability, nor news. */
function isOutcome(decision: Decision): boolean {
  const kind = decision.action.do;
  return !TIMING.has(kind) && kind !== "undurable" && kind !== "note";
}

/** Outcomes after which a write's bytes never reach the store. */
function storesNothing(action: BlockAction | undefined): boolean {
  return action !== undefined &&
    (action.do === "answer-error" || action.do === "skip" || action.do === "cut" ||
      (action.do === "tear" && action.keepBytes === 0));
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
 * second.decisions[0].action; // { do: "answer-error", errno: "eio" }
 * ```
 */
export function decide(
  plan: FaultPlan,
  state: PlanState,
  op: OpView,
): { decisions: Decision[]; state: PlanState } {
  const draft: Draft = { ...state, decisions: [] };
  activeFaults(plan, state, op, draft);
  plan.rules.forEach((rule, i) => planRule(plan, rule, i, op, draft));
  liveFault(plan, state, op, draft);
  const { decisions } = draft;
  // A power cut ends everything: nothing else happens to this op.
  const cut = decisions.find((d) => d.action.do === "cut");
  const timing = cut ? [] : decisions.filter((d) => TIMING.has(d.action.do));
  const outcome = cut ?? decisions.find(isOutcome) ??
    decisions.find((d) => d.action.do === "undurable");
  const notes = storedNotes(op, outcome, draft);
  const { decisions: _, ...fields } = draft;
  const unchanged = (Object.keys(fields) as (keyof PlanState)[]).every((key) =>
    fields[key] === state[key]
  );
  return {
    decisions: [...timing, ...(outcome ? [outcome] : []), ...notes],
    state: unchanged ? state : fields,
  };
}

/** What a fault in force does to an op of its disk, drawing as its rule. */
function actOn(
  plan: FaultPlan,
  fault: Pick<ActiveFault, "effect" | "since" | "untilMs" | "memory">,
  ruleNumber: number,
  op: OpView,
) {
  const block = blockOf(fault.effect);
  if (!block || !(block.appliesTo?.(fault.effect, op.type) ?? true)) return null;
  return block.act(fault.effect, op, {
    draw: seededStream(plan.seed, ruleNumber, ...drawKeys(op)),
    since: fault.since,
    ...(fault.untilMs === undefined ? {} : { until: fault.untilMs }),
    memory: fault.memory,
  });
}

/**
 * What keys an op's draws: its signature and occurrence, which name the same op in every
 * run however the nodes' ops interleave; its index where the occurrence is not known.
 */
function drawKeys(op: OpView): number[] {
  if (op.occurrence === undefined) return [op.index];
  return [hashText(signatureText(op)), op.occurrence];
}

/** FNV-1a over the UTF-16 code units of a text: a 32-bit key for a seeded stream. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

function decision(rule: string, effect: Effect, hit: { action: BlockAction; detail?: Detail }) {
  const made: Decision = { rule, fault: specNameOf(effect), action: hit.action };
  if (hit.detail) made.detail = hit.detail;
  return made;
}

/** Persistent faults already in force on the op's disk. */
function activeFaults(plan: FaultPlan, state: PlanState, op: OpView, draft: Draft): void {
  for (const fault of state.active) {
    if (fault.disk !== op.disk) continue;
    if (fault.untilMs !== undefined && op.time >= fault.untilMs) {
      draft.active = draft.active.filter((a) => a !== fault);
      continue;
    }
    const hit = actOn(plan, fault, fault.ruleNumber, op);
    if (!hit) continue;
    if (hit.memory !== undefined) {
      draft.active = draft.active.map((a) => a === fault ? { ...a, memory: hit.memory } : a);
    }
    draft.decisions.push(decision(fault.rule, fault.effect, hit));
  }
}

/** One rule of the plan, if its trigger fires at the op. */
function planRule(plan: FaultPlan, rule: FaultRule, i: number, op: OpView, draft: Draft): void {
  const kind = kindOf(rule.effect);
  // Link and node faults are the switch's and the run's: the block fault layer ignores them.
  if (!kind.block) return;
  const { trigger } = rule;
  // A persistent fault without a trigger, or with a filter and no occurrence (`@any`,
  // `@vdb/write`), comes into force on each disk at its first matching op; with an index,
  // a time or an occurrence, once, on the disk of the op that fires it.
  const eachDisk = kind.persistent &&
    (trigger.kind === "always" || (trigger.kind === "match" && trigger.occurrence === undefined));
  const applies = appliesTo(rule.effect, op.type);
  const step = stepTrigger(trigger, draft.progress[i], { kind: "op", op }, {
    once: kind.persistent && !eachDisk,
    applies: () => applies,
  });
  draft.progress = replaceAt(draft.progress, i, step.progress);
  if (!step.fires) return;
  if (eachDisk) {
    const here = `${i}/${op.disk}`;
    if (draft.firedOn.includes(here)) return;
    draft.firedOn = [...draft.firedOn, here];
  }
  const lasts = kind.block.lasts?.(rule.effect);
  const fault: ActiveFault = {
    rule: rule.spec,
    disk: op.disk,
    effect: rule.effect,
    ruleNumber: i,
    since: op.time,
    ...(lasts === undefined ? {} : { untilMs: op.time + lasts }),
    memory: kind.block.remember?.(rule.effect),
  };
  const hit = actOn(plan, fault, i, op);
  draft.fired = replaceAt(draft.fired, i, true);
  // A persistent fault is in force from here, even when this op takes nothing (a lie-flush
  // fired by a read).
  if (kind.persistent) {
    draft.active = [
      ...draft.active,
      hit?.memory === undefined ? fault : { ...fault, memory: hit.memory },
    ];
  }
  if (!hit) return;
  draft.hits = replaceAt(draft.hits, i, draft.hits[i] + 1);
  draft.decisions.push(decision(rule.spec, rule.effect, hit));
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
  const hit = actOn(plan, { ...fault, since: fault.since ?? 0 }, -2, op);
  let next: LiveFault | null = hit?.memory === undefined ? fault : { ...fault, memory: hit.memory };
  if (hit) draft.decisions.push(decision("live", fault.effect, hit));
  if (fault.remaining !== undefined) {
    next = fault.remaining > 1 ? { ...next, remaining: fault.remaining - 1 } : null;
  }
  if (next !== fault) {
    draft.live = next ? { ...draft.live, [op.disk]: next } : without(draft.live, op.disk);
  }
}

/**
 * A write that reaches the store, told to the faults in force on its disk that remember
 * what is stored (bad sectors remapped); what it changed, as notes.
 */
function storedNotes(op: OpView, outcome: Decision | undefined, draft: Draft): Decision[] {
  if ((op.type !== "write" && op.type !== "write-zeroes") || storesNothing(outcome?.action)) {
    return [];
  }
  const kept = outcome?.action.do === "tear" ? outcome.action.keepBytes : op.length;
  const notes: Decision[] = [];
  const tell = <F extends { effect: FaultEffect; memory?: unknown }>(fault: F, rule: string): F => {
    const change = blockOf(fault.effect)?.stored?.(fault.effect, fault.memory, op.offset, kept);
    if (!change) return fault;
    notes.push(decision(rule, fault.effect, { action: { do: "note" }, detail: change.detail }));
    return { ...fault, memory: change.memory };
  };
  const active = draft.active.map((fault) =>
    fault.disk === op.disk ? tell(fault, fault.rule) : fault
  );
  if (active.some((fault, i) => fault !== draft.active[i])) draft.active = active;
  const live = draft.live[op.disk];
  if (live) {
    const told = tell(live, "live");
    if (told !== live) draft.live = { ...draft.live, [op.disk]: told };
  }
  return notes;
}

/**
 * The run phase is over: the rules that hold for the run phase only (written without a
 * trigger, or with a trigger of the run phase: `@run:...`) end, and the faults they brought
 * into force with them. Rules with another trigger go on.
 *
 * @example
 * ```ts
 * state = endStanding(plan, state); // the check begins
 * ```
 */
export function endStanding(plan: FaultPlan, state: PlanState): PlanState {
  const ended = new Set<number>();
  plan.rules.forEach((rule, i) => {
    if (endsWithRun(rule)) ended.add(i);
  });
  if (ended.size === 0) return state;
  return {
    ...state,
    progress: state.progress.map((p, i) => ended.has(i) ? { ...p, done: true } : p),
    active: state.active.filter((fault) => !ended.has(fault.ruleNumber)),
  };
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
  if (fault) {
    const memory = blockOf(fault.effect)?.remember?.(fault.effect);
    const set = memory === undefined ? fault : { ...fault, memory };
    return { ...state, live: { ...state.live, [disk]: set } };
  }
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
