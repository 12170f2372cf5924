/**
 * P-compositionality: a history of independent keys is linearizable when each key's
 * sub-history is, so each key is searched alone (as Porcupine's partitioned models and
 * Knossos's independent checker do) and the cost follows the largest key. The searches
 * take turns in slices of steps, so one hard key cannot hide an illegal one; the first
 * illegal key ends them all. A budget of time, steps or memory that runs out answers
 * "unknown", never "linearizable". Pure but for the clock it is handed.
 *
 * @module
 */

import { LinearSearch } from "./linear_search.ts";
import type { LinearizableModel, LinearSpec, LinearSpecOptions, Reject } from "./model.ts";
import type { PairedOp } from "./pair.ts";
import { formatValue, type Value } from "./value.ts";

/** One key's ops, its specification, and their search. */
export interface Partition {
  /** The key; undefined for a history without keys. */
  key: Value | undefined;
  /** The key's ops the model reads, in invocation order (an indeterminate read left out). */
  ops: PairedOp[];
  /** What the model steps for each of `ops`. */
  calls: unknown[];
  spec: LinearSpec<unknown>;
  search: LinearSearch<unknown>;
}

/** How long the searches may run. */
export interface SearchBudget {
  /** The clock, in milliseconds. */
  now: () => number;
  /** When to stop and answer "unknown", on that clock. */
  deadline: number;
  /** The most steps all searches together may take. */
  maxSteps: number;
  /** The most bytes the searches' memories of configurations may hold together. */
  maxBytes: number;
}

/** What the searches found. */
export interface PartitionsOutcome {
  status: "linearizable" | "illegal" | "unknown";
  /** The illegal partition, when one was found. */
  failing?: Partition;
  /** Keys still undecided when the budget ran out. */
  undecided: number;
  /** Which budget ran out, when one did. */
  spent?: "time" | "steps" | "memory";
  /** Steps taken by all searches. */
  steps: number;
  /** Configurations reached by all searches. */
  configurations: number;
}

/** Steps a search takes before the next one's turn: small enough to share, large enough to be cheap. */
const SLICE = 20_000;

/**
 * Splits ops by key and readies each key's specification and search. Every op is read by
 * the model here, before any search: a value it cannot read is bad input whatever the
 * searches would have found.
 *
 * @example
 * ```ts
 * const partitions = partitionOps(KV, paired.ops, {}, reject);
 * partitions.length; // the number of keys
 * ```
 */
export function partitionOps(
  model: LinearizableModel,
  ops: readonly PairedOp[],
  options: LinearSpecOptions,
  reject: Reject,
): Partition[] {
  const byKey = new Map<string, PairedOp[]>();
  for (const op of ops) {
    const text = op.key === undefined ? "" : formatValue(op.key);
    const group = byKey.get(text);
    if (group) group.push(op);
    else byKey.set(text, [op]);
  }
  return [...byKey.values()].map((group) => {
    const spec = model.start(options);
    const kept: PairedOp[] = [];
    const calls: unknown[] = [];
    for (const op of group) {
      const call = spec.call(op, reject);
      if (call === null) continue;
      kept.push(op);
      calls.push(call);
    }
    const search = new LinearSearch(spec, calls, kept);
    return { key: group[0].key, ops: kept, calls, spec, search };
  });
}

/**
 * Runs the partitions' searches in turns until every one is linearizable, one is illegal,
 * or the budget runs out.
 *
 * @example
 * ```ts
 * searchPartitions(partitions, {
 *   now: () => performance.now(),
 *   deadline: performance.now() + 30_000,
 *   maxSteps: Infinity,
 *   maxBytes: 2 ** 30,
 * });
 * // { status: "linearizable", undecided: 0, steps: 1234, configurations: 600 }
 * ```
 */
export function searchPartitions(
  partitions: readonly Partition[],
  budget: SearchBudget,
): PartitionsOutcome {
  let active = [...partitions];
  let steps = 0;
  const outcome = (status: PartitionsOutcome["status"], more: Partial<PartitionsOutcome> = {}) => ({
    status,
    undecided: status === "unknown" ? active.length : 0,
    steps,
    configurations: partitions.reduce((sum, p) => sum + p.search.configurations, 0),
    ...more,
  });
  while (active.length > 0) {
    const still: Partition[] = [];
    for (const [i, partition] of active.entries()) {
      const before = partition.search.steps;
      const status = partition.search.run(Math.min(SLICE, budget.maxSteps - steps));
      steps += partition.search.steps - before;
      if (status === "illegal") return outcome("illegal", { failing: partition });
      if (status === "running") still.push(partition);
      const spent = spentBudget(partitions, budget, steps);
      if (spent) {
        active = [...still, ...active.slice(i + 1)];
        return active.length === 0 ? outcome("linearizable") : outcome("unknown", { spent });
      }
    }
    active = still;
  }
  return outcome("linearizable");
}

/** The budget that ran out, if one did. */
function spentBudget(
  partitions: readonly Partition[],
  budget: SearchBudget,
  steps: number,
): PartitionsOutcome["spent"] | null {
  if (steps >= budget.maxSteps) return "steps";
  if (budget.now() >= budget.deadline) return "time";
  const bytes = partitions.reduce((sum, p) => sum + p.search.bytes, 0);
  return bytes > budget.maxBytes ? "memory" : null;
}
