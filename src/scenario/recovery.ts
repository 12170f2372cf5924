/**
 * Recovery order: how the check phase starts the nodes that serve the checks (the nodes
 * without a check of their own, which boot into their `restart` script). `together` starts
 * them at once (as faultline always did), the checks once they are ready; `with-checks`
 * starts them and the checks all at once (each check waits for the cluster itself);
 * `in-order` one after another in the scenario's node order, each once it is ready;
 * `each-order`, in a sweep, every order of them, each checked as a crash state is; an
 * explicit order (`n2,n1,n3`) one of them. Parsing, checking against a scenario, and the
 * orders themselves. Pure.
 *
 * @module
 */

import { ScenarioError } from "./errors.ts";
import type { Scenario } from "./schema.ts";

/** The recovery orders a scenario file may name. */
export const RECOVERY_MODES = ["together", "with-checks", "in-order", "each-order"] as const;

/** A recovery order a scenario file names. */
export type RecoveryMode = typeof RECOVERY_MODES[number];

/** A recovery order as a command gives it: a mode, or an explicit order of the serving nodes. */
export type Recovery = RecoveryMode | readonly string[];

/** How one run's check phase starts its serving nodes. */
export interface RecoveryOrder {
  /**
   * What was asked, as `--recovery` takes it: `together`, `with-checks`, `in-order`,
   * `each-order`, `n2,n1`.
   */
  name: string;
  /** The serving nodes in the order they start, each once the one before is ready; null: at once. */
  order: readonly string[] | null;
  /** The checks start with the serving nodes (`with-checks`), not once they are all ready. */
  checksWithServing: boolean;
}

/** The recovery orders that start the serving nodes at once. */
function atOnce(recovery: Recovery): boolean {
  return recovery === "together" || recovery === "with-checks";
}

/**
 * The nodes the check phase starts to serve the checks, in the scenario's node order: those
 * without a check that have a `restart` script. None when no node has a check (the check
 * phase boots nothing).
 *
 * @example
 * ```ts
 * servingNodes(scenario); // ["e1", "e2"] (e3 runs the check)
 * ```
 */
export function servingNodes(scenario: Pick<Scenario, "nodes">): string[] {
  if (scenario.nodes.every((node) => node.check === null)) return [];
  return scenario.nodes.filter((node) => node.check === null && node.restart !== null)
    .map((node) => node.name);
}

/**
 * A recovery order's name, as `--recovery` takes it.
 *
 * @example
 * ```ts
 * recoveryName(["n2", "n1"]); // "n2,n1"
 * recoveryName("in-order"); // "in-order"
 * ```
 */
export function recoveryName(recovery: Recovery): string {
  return typeof recovery === "string" ? recovery : recovery.join(",");
}

/**
 * Parses `--recovery`: a mode, or node names joined by commas.
 *
 * @throws {ScenarioError} (a usage error) naming the text and what is expected.
 * @example
 * ```ts
 * parseRecovery("each-order"); // "each-order"
 * parseRecovery("n2,n1,n3"); // ["n2", "n1", "n3"]
 * ```
 */
export function parseRecovery(text: string): Recovery {
  if ((RECOVERY_MODES as readonly string[]).includes(text)) return text as RecoveryMode;
  const names = text.split(",");
  if (names.every((name) => /^[a-z][a-z0-9-]{0,19}$/.test(name))) return names;
  throw new ScenarioError(
    `--recovery ${text}: expected ${
      RECOVERY_MODES.join(", ")
    } or an order of the nodes serving the check, such as n2,n1`,
  );
}

/**
 * Refuses a recovery order that makes no sense for a scenario: any but `together` when no
 * node has a check (the check phase boots nothing), and an explicit order that is not every
 * serving node once.
 *
 * @throws {ScenarioError} (a usage error) in one line naming the problem.
 * @example
 * ```ts
 * checkRecovery(["n2", "n1"], scenario); // throws when n3 serves the check too
 * ```
 */
export function checkRecovery(recovery: Recovery, scenario: Pick<Scenario, "nodes">): void {
  if (recovery === "together") return;
  const name = recoveryName(recovery);
  const serving = servingNodes(scenario);
  const unknown = typeof recovery === "string"
    ? undefined
    : recovery.find((node) => !scenario.nodes.some((n) => n.name === node));
  if (unknown !== undefined) {
    throw new ScenarioError(
      `--recovery ${name}: expected ${
        RECOVERY_MODES.join(", ")
      } or an order of the nodes serving the check (${
        serving.join(", ") || "none"
      }); the scenario has no node ${unknown}`,
    );
  }
  if (scenario.nodes.every((node) => node.check === null)) {
    throw new ScenarioError(
      `--recovery ${name}: no node has a check, so the check phase starts no node to order`,
    );
  }
  if (typeof recovery !== "string") checkOrder(recovery, serving);
}

/** Refuses an explicit order that is not every serving node once. */
function checkOrder(order: readonly string[], serving: readonly string[]): void {
  const twice = order.find((node, i) => order.indexOf(node) !== i);
  const stranger = order.find((node) => !serving.includes(node));
  const missing = serving.find((node) => !order.includes(node));
  const problem = twice !== undefined
    ? `${twice} is named twice`
    : stranger !== undefined
    ? `${stranger} does not serve the check`
    : missing !== undefined
    ? `${missing} is missing`
    : null;
  if (problem === null) return;
  const what = serving.length === 0
    ? "no node serves the check (each has a check, or no restart script)"
    : `the nodes serving the check are ${serving.join(", ")}`;
  throw new ScenarioError(`--recovery ${order.join(",")}: ${problem}; ${what}, each named once`);
}

/**
 * Every order of a list, the list itself first, then in the order of its positions
 * (`[a, b, c]`: abc, acb, bac, bca, cab, cba): n! orders, one for an empty list.
 *
 * @example
 * ```ts
 * permutations(["n1", "n2"]); // [["n1", "n2"], ["n2", "n1"]]
 * ```
 */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

/**
 * The orders a recovery order stands for, over the serving nodes: one for `in-order` and an
 * explicit order, every order for `each-order`, none for `together` and `with-checks` (they
 * start them at once).
 *
 * @example
 * ```ts
 * recoveryOrders("each-order", ["e1", "e2"]); // [["e1", "e2"], ["e2", "e1"]]
 * ```
 */
export function recoveryOrders(recovery: Recovery, serving: readonly string[]): string[][] {
  if (atOnce(recovery)) return [];
  if (recovery === "each-order") return permutations(serving);
  return [recovery === "in-order" ? [...serving] : [...recovery]];
}

/**
 * How one run's check phase starts its serving nodes: `together` and `with-checks` at once
 * (the second with the checks); an order one after another. A single run of `each-order` (a
 * record, a replay without `--recovery`) checks its first order, the scenario's node order.
 *
 * @example
 * ```ts
 * runOrder("each-order", ["e1", "e2"]);
 * // { name: "each-order", order: ["e1", "e2"], checksWithServing: false }
 * ```
 */
export function runOrder(recovery: Recovery, serving: readonly string[]): RecoveryOrder {
  const name = recoveryName(recovery);
  const checksWithServing = recovery === "with-checks";
  if (atOnce(recovery)) return { name, order: null, checksWithServing };
  return { name, order: recoveryOrders(recovery, serving)[0], checksWithServing };
}
