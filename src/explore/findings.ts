/**
 * Failures grouped into findings, and what an explore covered. Two failures are one finding
 * when their minimal schedules have the same shape (the same kinds on the same nodes, or on
 * the same roles where the workload reported them) and their verdicts the same reason, read
 * with its numbers blanked (`lost 3 keys` and `lost 2 keys` alike). Coverage counts the
 * schedules run, each kind drawn and fired (and the kinds never drawn, or drawn and never fired), the faults per
 * node, the distinct crash states and the distinct combinations of kinds that fired. Pure.
 *
 * @module
 */

import { kindOf } from "../fault/kinds/mod.ts";
import type { Counterexample } from "../history/counterexample.ts";
import type { RunHistory } from "../run/history.ts";
import type { Reproduced } from "../sweep/confirm.ts";
import type { DrawnFault } from "./draw.ts";

/**
 * The nodes a fault is named by in a finding's shape: its kind's targets (a partition's
 * smaller side), else the nodes it names, else the node of the op it is put at.
 *
 * @example
 * ```ts
 * faultNodes({ ...parseFaultSpec("eio@run:n1/data/write:0+4096#2"), at: 4 }); // ["n1"]
 * ```
 */
export function faultNodes(fault: Pick<DrawnFault, "effect" | "trigger">): string[] {
  const kind = kindOf(fault.effect);
  const targets = kind.explore?.targets?.(fault.effect) ?? kind.nodes?.(fault.effect);
  if (targets && targets.length > 0) return [...new Set(targets)].sort();
  // A block fault (or a link fault on every link) is on the node of the op it is put at.
  const trigger = fault.trigger;
  if (trigger.kind === "match" && trigger.node !== undefined) return [trigger.node];
  return [];
}

/**
 * The shape of a schedule: each fault's kind and nodes, sorted, joined by ` + `. A node is
 * named by its role where `roles` (one map a fault: the roles the nodes held when it was
 * put, ./roles.ts) names one.
 *
 * @example
 * ```ts
 * shapeOf([eio, partition]); // "error@n1 + partition@n1"
 * shapeOf([eio], [new Map([["n1", "leader"]])]); // "error@leader"
 * ```
 */
export function shapeOf(
  faults: readonly Pick<DrawnFault, "effect" | "trigger">[],
  roles?: readonly ReadonlyMap<string, string>[],
): string {
  return faults.map((fault, i) => {
    const nodes = faultNodes(fault).map((node) => roles?.[i]?.get(node) ?? node).sort();
    return nodes.length > 0 ? `${fault.effect.kind}@${nodes.join(",")}` : fault.effect.kind;
  }).sort().join(" + ");
}

/**
 * A reason with its numbers blanked, so that failures differing only in counts group.
 *
 * @example
 * ```ts
 * reasonClass("3 acknowledged keys lost"); // "N acknowledged keys lost"
 * ```
 */
export function reasonClass(reason: string): string {
  return reason.replace(/\d+(\.\d+)?/g, "N");
}

/** One failing schedule, shrunk. */
export interface Failure {
  /** The schedule's number. */
  schedule: number;
  /** Its faults as drawn. */
  original: readonly DrawnFault[];
  /** The smallest schedule that still failed at its rate. */
  minimal: readonly DrawnFault[];
  /** The rate of the minimal schedule. */
  rate: Reproduced;
  /** The verdict's reason. */
  reason: string;
  /**
   * The roles the workload reported (`report role leader`), by node, when each of the minimal
   * schedule's faults was put: one map a fault, in its order.
   */
  roles?: readonly ReadonlyMap<string, string>[];
  /** The history checker's counterexample, from a failing run of the minimal schedule. */
  history?: HistoryCounterexample;
}

/** A history checker's counterexample, with the history it was found in (to draw it). */
export interface HistoryCounterexample {
  /** The model checked against. */
  model: string;
  /** The anomaly in one sentence. */
  reason: string;
  /** The counterexample as text. */
  description?: string;
  /** The counterexample as data. */
  counterexample: Counterexample;
  /**
   * The history checked.
   * @ignore faultline's own: not part of the public API
   */
  history: RunHistory;
}

/** Failures of one shape and reason. */
export interface Finding {
  /** The minimal schedules' shape. */
  shape: string;
  /** The reason, numbers blanked. */
  reason: string;
  /** How many failing schedules it stands for. */
  count: number;
  /** The first failure found of it: its minimal schedule is the finding's. */
  first: Failure;
  /** The numbers of every schedule of it. */
  schedules: number[];
}

/**
 * Failures grouped into findings, in the order each was first found.
 *
 * @example
 * ```ts
 * groupFailures([a, b, c]).map((f) => f.count); // [2, 1]
 * ```
 */
export function groupFailures(failures: readonly Failure[]): Finding[] {
  const byKey = new Map<string, Finding>();
  for (const failure of failures) {
    const shape = shapeOf(failure.minimal, failure.roles);
    const reason = reasonClass(failure.reason);
    const key = `${shape}\n${reason}`;
    const found = byKey.get(key);
    if (found) {
      found.count++;
      found.schedules.push(failure.schedule);
    } else {
      byKey.set(key, { shape, reason, count: 1, first: failure, schedules: [failure.schedule] });
    }
  }
  return [...byKey.values()];
}

/** One schedule as run: which of its faults fired, and the crash state it reached. */
export interface ScheduleRun {
  /** Its faults. */
  faults: readonly DrawnFault[];
  /** The specs of the faults that fired (the replay's trace names them). */
  fired: readonly string[];
  /** The crash state it left the disks in (a power loss's), when there was one. */
  crashState?: string;
}

/** What an explore covered. */
export interface Coverage {
  /** Schedules run. */
  schedules: number;
  /** Per kind drawn from: how often drawn and how often fired. */
  kinds: { kind: string; drawn: number; fired: number }[];
  /** Kinds drawn into some schedule that never fired. */
  neverFired: string[];
  /** Kinds drawn from that no schedule drew (a budget too small for them). */
  neverDrawn: string[];
  /** Per node: faults drawn on it and fired. */
  nodes: { node: string; drawn: number; fired: number }[];
  /** Distinct crash states reached. */
  crashStates: number;
  /** Distinct sets of kinds that fired together in one schedule (one kind alone counts). */
  combinations: number;
}

/**
 * Coverage of the runs, over the kinds drawn from and the scenario's nodes.
 *
 * @example
 * ```ts
 * coverage(runs, ["error", "crash"], ["n1"]).neverDrawn; // ["crash"]
 * ```
 */
export function coverage(
  runs: readonly ScheduleRun[],
  kinds: readonly string[],
  nodes: readonly string[],
): Coverage {
  const perKind = new Map(kinds.map((kind) => [kind, { kind, drawn: 0, fired: 0 }]));
  const perNode = new Map(nodes.map((node) => [node, { node, drawn: 0, fired: 0 }]));
  const states = new Set<string>();
  const combinations = new Set<string>();
  for (const run of runs) {
    const fired = new Set(run.fired);
    const firedKinds = new Set<string>();
    for (const fault of run.faults) {
      const hit = fired.has(fault.spec);
      const kind = perKind.get(fault.effect.kind);
      if (kind) {
        kind.drawn++;
        if (hit) kind.fired++;
      }
      if (hit) firedKinds.add(fault.effect.kind);
      for (const node of faultNodes(fault)) {
        const entry = perNode.get(node);
        if (!entry) continue;
        entry.drawn++;
        if (hit) entry.fired++;
      }
    }
    if (firedKinds.size > 0) combinations.add([...firedKinds].sort().join("+"));
    if (run.crashState !== undefined) states.add(run.crashState);
  }
  const kindRows = [...perKind.values()];
  return {
    schedules: runs.length,
    kinds: kindRows,
    neverFired: kindRows.filter((k) => k.drawn > 0 && k.fired === 0).map((k) => k.kind),
    neverDrawn: kindRows.filter((k) => k.drawn === 0).map((k) => k.kind),
    nodes: [...perNode.values()],
    crashStates: states.size,
    combinations: combinations.size,
  };
}
