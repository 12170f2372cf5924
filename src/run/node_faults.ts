/**
 * Node faults (`crash:n2`, `restart:n2,after=1s`, `pause:n3,2s`): which fire, and
 * when. Their triggers are the grammar's (docs/fault-spec.md): an index on the run's
 * one clock (the first block op or frame at or after it), a time (a timer), a block op
 * filter or a frame filter (with `#K`, the K-th match); each node fault fires once.
 * The decision is pure; {@link NodeFaultWatcher} feeds it every arriving op and
 * frame and starts the timers, and the run carries out what fires.
 *
 * @module
 */

import { passes } from "../fault/plan.ts";
import type { OpView } from "../fault/plan.ts";
import { type FaultPlan, isNodeEffect, type NodeEffect, type Trigger } from "../fault/types.ts";
import { type LinkFrame, matchesFrameFilter } from "../net/link_plan.ts";

/** A node fault of a plan. */
export interface NodeRule {
  /** Its canonical spec. */
  spec: string;
  /** What it does. */
  effect: NodeEffect;
  /** When it fires. */
  trigger: Trigger;
}

/** An op or a frame, as it arrives. */
export type Arrival =
  | { kind: "op"; op: OpView }
  | { kind: "frame"; frame: LinkFrame };

/** Each rule's progress. Never mutated: each step makes a new one. */
export interface NodeFaultState {
  /** Arrivals that passed each rule's filter. */
  readonly matched: readonly number[];
  /** Each rule fired (each fires once). */
  readonly fired: readonly boolean[];
}

/**
 * The node faults of a plan.
 *
 * @example
 * ```ts
 * nodeRulesOf({ seed: 1, rules: [parseFaultSpec("crash:n2@40")] }); // [{ spec: "crash:n2@40", ... }]
 * ```
 */
export function nodeRulesOf(plan: FaultPlan): NodeRule[] {
  return plan.rules.flatMap((rule) =>
    isNodeEffect(rule.effect)
      ? [{ spec: rule.spec, effect: rule.effect, trigger: rule.trigger }]
      : []
  );
}

/**
 * The state before the first arrival.
 *
 * @example
 * ```ts
 * let state = initialNodeFaultState(rules);
 * ```
 */
export function initialNodeFaultState(rules: readonly NodeRule[]): NodeFaultState {
  return { matched: rules.map(() => 0), fired: rules.map(() => false) };
}

function index(arrival: Arrival): number {
  return arrival.kind === "op" ? arrival.op.index : arrival.frame.index;
}

/** Whether an arrival passes a trigger's filter (time triggers are timers: never here). */
function selects(trigger: Trigger, arrival: Arrival): boolean {
  switch (trigger.kind) {
    case "always":
      return true;
    case "index":
      return index(arrival) >= trigger.index;
    case "time":
      return false;
    case "match":
      return arrival.kind === "op" && passes(trigger, arrival.op);
    case "frames":
      return arrival.kind === "frame" && matchesFrameFilter(trigger, arrival.frame);
  }
}

/**
 * Which rules fire at one arrival, and the state after it.
 *
 * @example
 * ```ts
 * const step = decideNodeFaults(rules, state, { kind: "op", op });
 * for (const rule of step.fired) console.log(rule.spec);
 * ```
 */
export function decideNodeFaults(
  rules: readonly NodeRule[],
  state: NodeFaultState,
  arrival: Arrival,
): { fired: NodeRule[]; state: NodeFaultState } {
  const fired: NodeRule[] = [];
  let matched = state.matched;
  let done = state.fired;
  rules.forEach((rule, i) => {
    if (done[i] || !selects(rule.trigger, arrival)) return;
    const occurrence = "occurrence" in rule.trigger ? rule.trigger.occurrence : undefined;
    matched = matched.map((n, j) => (j === i ? n + 1 : n));
    if (occurrence !== undefined && matched[i] !== occurrence) return;
    done = done.map((f, j) => f || j === i);
    fired.push(rule);
  });
  return {
    fired,
    state: matched === state.matched && done === state.fired ? state : { matched, fired: done },
  };
}

/** Where a node fault fired: the arrival's index on the run's clock and its time. */
export interface Firing {
  rule: NodeRule;
  /** The index of the op or frame it fired at, or the clock's next index for a timer. */
  index: number;
  /** Milliseconds since the run started. */
  time: number;
}

/**
 * Watches a run's arrivals and timers for node faults, and hands each firing to the
 * run, synchronously: a crash must freeze its node before the op it fired at goes on.
 *
 * @example
 * ```ts
 * const watcher = new NodeFaultWatcher(nodeRulesOf(plan), (firing) => run.onNodeFault(firing));
 * engine.onArrival((op) => watcher.arrive({ kind: "op", op }));
 * watcher.startTimers(clock);
 * ```
 */
export class NodeFaultWatcher {
  private state: NodeFaultState;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    readonly rules: readonly NodeRule[],
    private readonly onFire: (firing: Firing) => void,
  ) {
    this.state = initialNodeFaultState(rules);
  }

  /** Feeds one arriving op or frame. */
  arrive(arrival: Arrival): void {
    const step = decideNodeFaults(this.rules, this.state, arrival);
    this.state = step.state;
    const time = arrival.kind === "op" ? arrival.op.time : arrival.frame.time;
    for (const rule of step.fired) this.onFire({ rule, index: index(arrival), time });
  }

  /** Starts a timer for each rule triggered by a time (`@+2s`). */
  startTimers(clock: { now(): number; readonly arrivals: number }): void {
    this.rules.forEach((rule, i) => {
      if (rule.trigger.kind !== "time") return;
      const fire = () => {
        if (this.state.fired[i]) return;
        this.state = {
          matched: this.state.matched,
          fired: this.state.fired.map((f, j) => f || j === i),
        };
        this.onFire({ rule, index: clock.arrivals, time: clock.now() });
      };
      this.timers.push(setTimeout(fire, Math.max(0, rule.trigger.afterMs - clock.now())));
    });
  }

  /** Stops the timers (the run is over). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }
}
