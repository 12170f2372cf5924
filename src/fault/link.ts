/**
 * Link faults checked against a cluster: the grammar (src/fault/spec.ts) reads a
 * link fault without knowing the nodes; once the scenario's node list is known,
 * {@link checkClusterFaults} refuses what cannot mean anything there: an unknown node,
 * sides of a partition that overlap, a link fault in a scenario of one node.
 *
 * @module
 */

import { FaultSpecError } from "./errors.ts";
import {
  type FaultRule,
  isLinkEffect,
  isNodeEffect,
  type LinkScope,
  type Trigger,
} from "./types.ts";

function scopeNodes(scope: LinkScope | undefined): string[] {
  if (!scope) return [];
  switch (scope.kind) {
    case "all":
      return [];
    case "node":
      return [scope.node];
    case "link":
      return [scope.from, scope.to];
  }
}

function triggerNodes(trigger: Trigger): string[] {
  if (trigger.kind === "frames") return scopeNodes(trigger.link);
  return trigger.kind === "match" && trigger.node !== undefined ? [trigger.node] : [];
}

/**
 * The nodes a link fault names (its sides, node, link scope and frame filter), in the
 * order written; empty for a block fault.
 *
 * @example
 * ```ts
 * nodesNamedBy(parseFaultSpec("partition:n1|n2,n3@net:n2->n1#1")); // ["n1", "n2", "n3", "n2", "n1"]
 * ```
 */
export function nodesNamedBy(rule: Pick<FaultRule, "effect" | "trigger">): string[] {
  const { effect } = rule;
  if (isNodeEffect(effect)) return [effect.node, ...triggerNodes(rule.trigger)];
  if (!isLinkEffect(effect)) return [];
  const own = effect.kind === "partition"
    ? [...effect.sides[0], ...effect.sides[1]]
    : effect.kind === "isolate"
    ? [effect.node]
    : scopeNodes(effect.link);
  return [...own, ...triggerNodes(rule.trigger)];
}

/**
 * Checks the link and node faults of a plan against the scenario's nodes (block
 * faults pass untouched).
 *
 * @throws {FaultSpecError} naming the fault and the problem: a node the scenario does
 *   not have, a node on both sides of a partition, a link fault when there is one node.
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
    if (!isLinkEffect(rule.effect) && !isNodeEffect(rule.effect)) continue;
    const fault = `fault "${rule.spec}"`;
    if (isLinkEffect(rule.effect) && nodeNames.length < 2) {
      throw new FaultSpecError(
        `${fault} is a link fault, and the scenario has ${
          nodeNames.length === 0 ? "no nodes" : `one node (${nodeNames[0]})`
        }: link faults need two nodes or more`,
      );
    }
    for (const node of nodesNamedBy(rule)) {
      if (!known.has(node)) {
        throw new FaultSpecError(`${fault}: no node ${node} (nodes: ${nodeNames.join(", ")})`);
      }
    }
    if (rule.effect.kind === "partition") {
      const [left, right] = rule.effect.sides;
      const both = left.filter((node) => right.includes(node));
      if (both.length > 0) {
        throw new FaultSpecError(
          `${fault}: the sides overlap: ${both.join(", ")} ${
            both.length > 1 ? "are" : "is"
          } on both sides`,
        );
      }
      if (left.length === 0 || right.length === 0) {
        throw new FaultSpecError(`${fault}: a partition needs a node on each side`);
      }
    }
  }
}
