/**
 * Link and node faults checked against a cluster: the grammar (src/fault/spec.ts) reads
 * them without knowing the nodes; once the scenario's node list is known,
 * {@link checkClusterFaults} refuses what cannot mean anything there: an unknown node, a
 * link fault or a clock fault (a kind that sets one node against the others) in a scenario
 * of one node, and what a kind's own check refuses (the sides of a partition built in code
 * that overlap).
 *
 * @module
 */

import { FaultSpecError } from "./errors.ts";
import { kindOf } from "./kinds/mod.ts";
import { scopeNodes } from "./link_scope.ts";
import type { FaultRule, Trigger } from "./types.ts";

function triggerNodes(trigger: Trigger): string[] {
  if (trigger.kind === "frames") return scopeNodes(trigger.link);
  return trigger.kind === "match" && trigger.node !== undefined ? [trigger.node] : [];
}

/**
 * The nodes a link or node fault names (its sides, node, link scope and its trigger's
 * filter), in the order written; empty for a block fault.
 *
 * @example
 * ```ts
 * nodesNamedBy(parseFaultSpec("partition:n1|n2,n3@net:n2->n1#1")); // ["n1", "n2", "n3", "n2", "n1"]
 * ```
 */
export function nodesNamedBy(rule: Pick<FaultRule, "effect" | "trigger">): string[] {
  const kind = kindOf(rule.effect);
  if (!kind.nodes) return [];
  return [...kind.nodes(rule.effect), ...triggerNodes(rule.trigger)];
}

/**
 * Checks the link and node faults of a plan against the scenario's nodes (block
 * faults pass untouched).
 *
 * @throws {FaultSpecError} naming the fault and the problem: a node the scenario does
 *   not have, a node on both sides of a partition, a link or clock fault when there is one
 *   node.
 * @example
 * ```ts
 * checkClusterFaults([parseFaultSpec("partition:n1|n4")], ["n1", "n2", "n3"]);
 * // throws: fault "partition:n1|n4": no node n4 (nodes: n1, n2, n3)
 * ```
 */
export function checkClusterFaults(
  rules: readonly Pick<FaultRule, "spec" | "effect" | "trigger">[],
  nodeNames: readonly string[],
): void {
  const known = new Set(nodeNames);
  for (const rule of rules) {
    const kind = kindOf(rule.effect);
    const { family } = kind;
    if (family !== "link" && family !== "node") continue;
    const fault = `fault "${rule.spec}"`;
    try {
      kind.check?.(rule.effect);
    } catch (error) {
      if (error instanceof FaultSpecError) throw new FaultSpecError(`${fault}: ${error.message}`);
      throw error;
    }
    const among = family === "link" ? "link fault" : kind.amongNodes;
    if (among !== undefined && nodeNames.length < 2) {
      throw new FaultSpecError(
        `${fault} is a ${among}, and the scenario has ${
          nodeNames.length === 0 ? "no nodes" : `one node (${nodeNames[0]})`
        }: ${among}s need two nodes or more`,
      );
    }
    for (const node of nodesNamedBy(rule)) {
      if (!known.has(node)) {
        throw new FaultSpecError(`${fault}: no node ${node} (nodes: ${nodeNames.join(", ")})`);
      }
    }
  }
}
