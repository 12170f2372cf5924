/**
 * Node faults (`crash:n2`, `restart:n2,after=1s`, `pause:n3,2s`): which fire, and when.
 * When is the trigger engine's (src/fault/trigger.ts), fed every op and frame of the run:
 * `@N` fires when arrival N (an op, found again by its signature in a replay, or a frame)
 * arrives, `@+D` by a timer, a block op or frame filter at its match (with `#K`, the K-th);
 * each node fault fires once, at once. What it does is its kind's (src/fault/kinds/): a
 * {@link NodeAction} the run carries out. The decision is pure; {@link NodeFaultWatcher}
 * feeds it and starts the timers.
 *
 * A node fault set at boot (`clock-skew:n2,+5s`) fires at no moment: {@link bootRulesAt}
 * says which are in force at a boot, and the run carries out their {@link BootAction}s as it
 * starts the node's QEMU.
 *
 * @module
 */

import type { BootAction, NodeAction } from "../fault/kinds/kind.ts";
import { kindOf } from "../fault/kinds/mod.ts";
import { everyBoot } from "../fault/standing.ts";
import {
  type Arrival,
  dueAt,
  momentOf,
  NOT_STARTED,
  stepTrigger,
  type TriggerProgress,
} from "../fault/trigger.ts";
import type { FaultEffect, FaultPlan, Trigger } from "../fault/types.ts";

/** A node fault of a plan. */
export interface NodeRule {
  /** Its canonical spec. */
  spec: string;
  /** What it does. */
  effect: FaultEffect;
  /** When it fires. */
  trigger: Trigger;
  /** The node it acts on. */
  node: string;
  /** What the run does to the node. */
  action: NodeAction;
}

/** A node fault of a plan set at boot. */
export interface BootRule {
  /** Its canonical spec. */
  spec: string;
  /** The node whose boots it shapes. */
  node: string;
  /** What the node boots with. */
  action: BootAction;
  /** In force at every boot of the node, the check's too (`@any`); else at the run phase's only. */
  everyBoot: boolean;
}

/**
 * The node faults of a plan set at boot.
 *
 * @example
 * ```ts
 * bootRulesOf({ seed: 1, rules: [parseFaultSpec("clock-skew:n2,+5s")] });
 * // [{ spec: "clock-skew:n2,+5s", node: "n2", action: { do: "offset-clock", ms: 5000 }, everyBoot: false }]
 * ```
 */
export function bootRulesOf(plan: FaultPlan): BootRule[] {
  return plan.rules.flatMap((rule) => {
    const boot = kindOf(rule.effect).boot;
    if (!boot) return [];
    return [{
      spec: rule.spec,
      node: boot.node(rule.effect),
      action: boot.act(rule.effect),
      everyBoot: everyBoot(rule.trigger),
    }];
  });
}

/**
 * The rules set at boot in force at one boot of a node: in the run phase (its run and
 * restart boots) every one of the node's, in the check (its check boot, or its restart boot
 * serving the check) those written with `@any`.
 *
 * @example
 * ```ts
 * bootRulesAt(bootRulesOf(plan), "n2", "check"); // the @any ones only
 * ```
 */
export function bootRulesAt(
  rules: readonly BootRule[],
  node: string,
  stage: "run" | "check",
): BootRule[] {
  return rules.filter((rule) => rule.node === node && (stage === "run" || rule.everyBoot));
}

/** Each rule's progress through its trigger. Never mutated: each step makes a new one. */
export type NodeFaultState = readonly TriggerProgress[];

/**
 * The node faults of a plan.
 *
 * @example
 * ```ts
 * nodeRulesOf({ seed: 1, rules: [parseFaultSpec("crash:n2@40")] }); // [{ spec: "crash:n2@40", node: "n2", ... }]
 * ```
 */
export function nodeRulesOf(plan: FaultPlan): NodeRule[] {
  return plan.rules.flatMap((rule) => {
    const node = kindOf(rule.effect).node;
    if (!node) return [];
    return [{
      spec: rule.spec,
      effect: rule.effect,
      trigger: rule.trigger,
      node: node.node(rule.effect),
      action: node.act(rule.effect),
    }];
  });
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
  let next = state;
  rules.forEach((rule, i) => {
    // Time triggers are timers (NodeFaultWatcher.startTimers): a node fault fires when due,
    // whether or not anything arrives.
    if (dueAt(rule.trigger) !== undefined) return;
    const step = stepTrigger(rule.trigger, state[i], arrival, { once: true });
    if (step.progress !== state[i]) {
      if (next === state) next = [...state];
      (next as TriggerProgress[])[i] = step.progress;
    }
    if (step.fires) fired.push(rule);
  });
  return { fired, state: next };
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
    this.state = rules.map(() => NOT_STARTED);
  }

  /** Feeds one arriving op or frame. */
  arrive(arrival: Arrival): void {
    const step = decideNodeFaults(this.rules, this.state, arrival);
    this.state = step.state;
    const { index, time } = momentOf(arrival);
    for (const rule of step.fired) this.onFire({ rule, index, time });
  }

  /** Starts a timer for each rule triggered by a time (`@+2s`). */
  startTimers(clock: { now(): number; readonly arrivals: number }): void {
    this.rules.forEach((rule, i) => {
      const due = dueAt(rule.trigger);
      if (due === undefined) return;
      const fire = () => {
        if (this.state[i].done) return;
        this.state = this.state.map((p, j) => j === i ? { ...p, done: true } : p);
        this.onFire({ rule, index: clock.arrivals, time: clock.now() });
      };
      this.timers.push(setTimeout(fire, Math.max(0, due - clock.now())));
    });
  }

  /** Stops the timers (the run is over). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }
}
