/**
 * A counterexample a person reads: for an illegal key, the first op that cannot be
 * linearized and the longest partial linearization before it (as Knossos and Porcupine
 * report them), in a window shrunk by removing ops while the re-check stays illegal at
 * the same op, met in the same state (delta debugging). Data, not text: `describe.ts` writes it for people, and a
 * timeline can draw it. Pure; the shrink is bounded by steps, so it ends the same way on
 * every machine.
 *
 * @module
 */

import { LinearSearch, type PartialLinearization } from "./linear_search.ts";
import type { LinearizableModel } from "./model.ts";
import type { PairedOp } from "./pair.ts";
import type { Partition } from "./partition.ts";
import { formatValue } from "./value.ts";

/** One op of a counterexample's window. */
export interface CounterexampleOp {
  /** The op's number among the history's paired ops. */
  id: number;
  /** The client that did it. */
  process: number;
  /** Its function. */
  f: string;
  /** The op for people: `write 3`, `read -> 3`. */
  description: string;
  /** `ok`, or `info` for an indeterminate op. */
  status: "ok" | "info";
  /** The invocation's `:index` in the history: where a timeline draws it begin. */
  invokeIndex: number;
  /** The invocation's line in the file. */
  invokeLine: number;
  /** The completion's `:index`; null when it never completed. */
  completeIndex: number | null;
  /** The completion's line; null when it never completed. */
  completeLine: number | null;
  /** The invocation's `:time`, when the history has one. */
  invokeTime?: number;
  /** The completion's `:time`, when the history has one. */
  completeTime?: number;
  /** This is the op that cannot be linearized. */
  offending: boolean;
  /** Its place in the partial linearization, from 1; null when it is not in it. */
  linearizedAt: number | null;
  /** The model's state after it, when it is in the partial linearization. */
  stateAfter: string | null;
}

/** Why a key's history is not linearizable, in a small window of it. */
export interface Counterexample {
  /** The key, as EDN text; absent for a history without keys. */
  key?: string;
  /** The model's state before the window's first op is linearized. */
  initialState: string;
  /** The window's ops, in invocation order. */
  ops: CounterexampleOp[];
  /** The op that cannot be linearized. */
  offending: CounterexampleOp;
  /** The longest partial linearization before it, in the window: op ids, in order. */
  linearized: number[];
  /** How many ops the key has (all of the history's without keys). */
  keyOps: number;
  /** How long the longest partial linearization was among all of them. */
  keyLinearized: number;
  /** The shrink ended by finding no op it could remove (false: its budget ran out first). */
  minimal: boolean;
}

/** Budgets of the shrink, in search steps. */
export interface ShrinkBudget {
  /** Steps of one re-check; one that needs more counts as not illegal. */
  perCheck: number;
  /** Steps of the whole shrink. */
  total: number;
}

const DEFAULT_BUDGET: ShrinkBudget = { perCheck: 200_000, total: 5_000_000 };

/**
 * The counterexample of an illegal partition: its search's blocked op, and the window
 * shrunk around it.
 *
 * @example
 * ```ts
 * const example = counterexample(REGISTER, outcome.failing!);
 * example.offending.description; // "read -> 3"
 * ```
 */
export function counterexample(
  model: LinearizableModel,
  partition: Partition,
  budget: ShrinkBudget = DEFAULT_BUDGET,
): Counterexample {
  const full = partition.search.longest!;
  const shrunk = shrink(partition, full.blocked, budget);
  const window = shrunk.kept.map((i) => partition.ops[i]);
  const partial = shrunk.partial;
  const position = new Map(partial.order.map((w, at) => [window[w].id, at]));
  const ops = window.map((op) => {
    const at = position.get(op.id);
    return describeOp(model, op, {
      offending: op === partition.ops[full.blocked],
      linearizedAt: at === undefined ? null : at + 1,
      stateAfter: at === undefined ? null : partition.spec.describeState(partial.states[at]),
    });
  });
  return {
    ...(partition.key === undefined ? {} : { key: formatValue(partition.key) }),
    initialState: partition.spec.describeState(partition.spec.init),
    ops,
    offending: ops.find((op) => op.offending)!,
    linearized: partial.order.map((w) => window[w].id),
    keyOps: partition.ops.length,
    keyLinearized: full.order.length,
    minimal: shrunk.minimal,
  };
}

function describeOp(
  model: LinearizableModel,
  op: PairedOp,
  place: Pick<CounterexampleOp, "offending" | "linearizedAt" | "stateAfter">,
): CounterexampleOp {
  const described: CounterexampleOp = {
    id: op.id,
    process: op.process,
    f: op.f,
    description: model.describeOp(op),
    status: op.status,
    invokeIndex: op.invoke.index,
    invokeLine: op.invoke.line,
    completeIndex: op.complete?.index ?? null,
    completeLine: op.complete?.line ?? null,
    ...place,
  };
  if (op.invoke.time !== undefined) described.invokeTime = op.invoke.time;
  if (op.complete?.time !== undefined) described.completeTime = op.complete.time;
  return described;
}

/** What the shrink kept: indices into the partition's ops, and their re-check's answer. */
interface Shrunk {
  kept: number[];
  partial: PartialLinearization;
  minimal: boolean;
}

/**
 * Delta debugging over the partition's ops, never removing the blocked one: a removal
 * stays when the re-check is still illegal, blocked at the same op in the same state.
 */
function shrink(partition: Partition, blocked: number, budget: ShrinkBudget): Shrunk {
  const finalState = (partial: PartialLinearization) =>
    partial.states.at(-1) ?? partition.spec.init;
  // The state the blocked op met: a window must keep it, or its story would change (a
  // stale read shrunk to a read of a value never written).
  const faced = finalState(partition.search.longest!);
  let spent = 0;
  const check = (candidate: number[]): PartialLinearization | null => {
    const allowed = Math.min(budget.perCheck, budget.total - spent);
    if (allowed <= 0) return null;
    const search = new LinearSearch(
      partition.spec,
      candidate.map((i) => partition.calls[i]),
      candidate.map((i) => partition.ops[i]),
    );
    const status = search.run(allowed);
    spent += search.steps;
    const partial = search.longest;
    if (status !== "illegal" || !partial || candidate[partial.blocked] !== blocked) return null;
    return finalState(partial) === faced ? partial : null;
  };
  // First the easy cut: nothing invoked after the blocked op completed. Should even that
  // not re-check as illegal within the budget, the shrink starts from the whole key.
  const end = partition.ops[blocked].completeAt;
  let kept = partition.ops.flatMap((op, i) => op.invokeAt < end ? [i] : []);
  let last = check(kept);
  if (!last) {
    kept = partition.ops.map((_, i) => i);
    last = partition.search.longest!;
  }
  const result = deltaDebug(kept, blocked, (candidate) => {
    const partial = check(candidate);
    if (partial) last = partial;
    return partial !== null;
  }, () => spent >= budget.total);
  return { kept: result.kept, partial: last, minimal: result.done };
}

/**
 * Removes chunks of `kept` (never `fixed`) while `illegal` says the rest still fails,
 * halving the chunks down to single ops; `spent` stops it early.
 */
function deltaDebug(
  start: number[],
  fixed: number,
  illegal: (candidate: number[]) => boolean,
  spent: () => boolean,
): { kept: number[]; done: boolean } {
  let kept = start;
  let parts = 2;
  while (kept.length > 1) {
    const removable = kept.filter((i) => i !== fixed);
    const chunk = Math.ceil(removable.length / parts);
    let removed = false;
    for (let from = 0; from < removable.length && !removed; from += chunk) {
      if (spent()) return { kept, done: false };
      const out = new Set(removable.slice(from, from + chunk));
      const candidate = kept.filter((i) => !out.has(i));
      if (illegal(candidate)) {
        kept = candidate;
        parts = Math.max(parts - 1, 2);
        removed = true;
      }
    }
    if (!removed) {
      if (chunk <= 1) break;
      parts = Math.min(parts * 2, removable.length);
    }
  }
  return { kept, done: true };
}
