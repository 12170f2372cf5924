/**
 * A brute-force linearizability checker for small generated histories, written apart
 * from src/history/ so that the two can be compared: for each key, for every choice of
 * which indeterminate ops took effect, it tries every order of the ops that respects real
 * time (an op that completed before another was invoked comes first) against a plain
 * register or string map, with no memory of what it tried. Exponential: 8 ops at most.
 *
 * @module
 */

import type { GeneratedOp } from "./random_history.ts";

type State = number | string | null;

/** The state after `op` from `state`, or undefined when `op` cannot happen there. */
function apply(state: State, op: GeneratedOp): State | undefined {
  switch (op.f) {
    case "read":
      return op.output === state ? state : undefined;
    case "get":
      return (op.output ?? "") === state ? state : undefined;
    case "write":
    case "put":
      return op.value as State;
    case "append":
      return `${state}${op.value}`;
    case "cas": {
      const [from, to] = op.value as [number, number];
      return state === from ? to : undefined;
    }
  }
  throw new Error(`unknown f ${op.f}`);
}

/** Some order of all `ops`, within real time, is legal from `state`. */
function someOrder(ops: readonly GeneratedOp[], state: State): boolean {
  if (ops.length === 0) return true;
  return ops.some((op, i) => {
    const rest = ops.filter((_, j) => j !== i);
    // op may go first only if nothing left completed before it was invoked.
    if (rest.some((other) => other.completeAt < op.invokeAt)) return false;
    const next = apply(state, op);
    return next !== undefined && someOrder(rest, next);
  });
}

/** One key's ops are linearizable: some subset of its indeterminate ops took effect, in some order. */
function keyLinearizable(ops: readonly GeneratedOp[], initial: State): boolean {
  const definite = ops.filter((op) => op.status === "ok");
  const maybe = ops.filter((op) => op.status === "info");
  for (let subset = 0; subset < 1 << maybe.length; subset++) {
    const chosen = maybe.filter((_, i) => (subset & (1 << i)) !== 0);
    if (someOrder([...definite, ...chosen], initial)) return true;
  }
  return false;
}

/**
 * Whether a generated history is linearizable: failed ops left out, indeterminate reads
 * left out (they tell nothing), each key on its own.
 *
 * @example
 * ```ts
 * bruteForceLinearizable(generateHistory({ model: "register", seed: 1, ops: 6, processes: 3 }).ops, "register");
 * ```
 */
export function bruteForceLinearizable(
  ops: readonly GeneratedOp[],
  model: "register" | "kv",
): boolean {
  const kept = ops.filter((op) =>
    op.status !== "fail" && !(op.status === "info" && (op.f === "read" || op.f === "get"))
  );
  const keys = new Map<string, GeneratedOp[]>();
  for (const op of kept) keys.set(op.key ?? "", [...(keys.get(op.key ?? "") ?? []), op]);
  const initial = model === "kv" ? "" : null;
  return [...keys.values()].every((group) => keyLinearizable(group, initial));
}
