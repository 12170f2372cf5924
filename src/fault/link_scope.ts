/**
 * Link scopes, the links a link fault applies to: `n1->n2` (one way), `n1<->n2` (both
 * ways), `n1` (every frame to or from n1), `*` (every link); their text, the nodes they
 * name, and the directed links (`a->b`) they cover among a cluster's nodes. Pure.
 *
 * @module
 */

import { FaultSpecError } from "./errors.ts";
import type { LinkScope } from "./types.ts";

/**
 * A node name in a fault: what the scenario allows, and nothing the grammar uses.
 *
 * @throws {FaultSpecError} for anything else.
 */
export function checkNodeName(text: string): string {
  const name = text.trim();
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new FaultSpecError(
      name === "" ? "a node name is empty" : `"${name}" is not a node name (such as n1 or db2)`,
    );
  }
  return name;
}

/**
 * Parses a link scope: `n1->n2` (one way), `n1<->n2` (both ways), `n1` (every frame
 * to or from n1) or `*` (every link).
 *
 * @throws {FaultSpecError} naming the problem (an empty name, a link from a node to itself).
 * @example
 * ```ts
 * parseLinkScope("n1<->n2"); // { kind: "link", from: "n1", to: "n2", both: true }
 * ```
 */
export function parseLinkScope(text: string): LinkScope {
  const trimmed = text.trim();
  if (trimmed === "*") return { kind: "all" };
  const both = trimmed.indexOf("<->");
  const one = trimmed.indexOf("->");
  if (both < 0 && one < 0) return { kind: "node", node: checkNodeName(trimmed) };
  const at = both >= 0 ? both : one;
  const from = checkNodeName(trimmed.slice(0, at));
  const to = checkNodeName(trimmed.slice(at + (both >= 0 ? 3 : 2)));
  if (from === to) throw new FaultSpecError(`the link "${trimmed}" goes from a node to itself`);
  return { kind: "link", from, to, both: both >= 0 };
}

/**
 * The text of a link scope, as {@link parseLinkScope} reads it.
 *
 * @example
 * ```ts
 * formatLinkScope({ kind: "all" }); // "*"
 * ```
 */
export function formatLinkScope(scope: LinkScope): string {
  if (scope.kind === "all") return "*";
  if (scope.kind === "node") return scope.node;
  return `${scope.from}${scope.both ? "<->" : "->"}${scope.to}`;
}

/** The `link=` parameter of a scope, none for every link. */
export function scopeParams(scope: LinkScope): string[] {
  return scope.kind === "all" ? [] : [`link=${formatLinkScope(scope)}`];
}

/** The nodes a link scope names. */
export function scopeNodes(scope: LinkScope | undefined): string[] {
  if (!scope || scope.kind === "all") return [];
  return scope.kind === "node" ? [scope.node] : [scope.from, scope.to];
}

/**
 * The key of a directed link.
 *
 * @example
 * ```ts
 * linkKey("n1", "n2"); // "n1->n2"
 * ```
 */
export function linkKey(from: string, to: string): string {
  return `${from}->${to}`;
}

/**
 * The directed links a scope covers among the nodes.
 *
 * @example
 * ```ts
 * [...scopeLinks({ kind: "link", from: "a", to: "b", both: true }, ["a", "b", "c"])]; // ["a->b", "b->a"]
 * ```
 */
export function scopeLinks(scope: LinkScope, nodes: readonly string[]): Set<string> {
  const links = new Set<string>();
  switch (scope.kind) {
    case "all":
      for (const a of nodes) for (const b of nodes) if (a !== b) links.add(linkKey(a, b));
      break;
    case "node":
      for (const other of nodes) {
        if (other === scope.node) continue;
        links.add(linkKey(scope.node, other));
        links.add(linkKey(other, scope.node));
      }
      break;
    case "link":
      links.add(linkKey(scope.from, scope.to));
      if (scope.both) links.add(linkKey(scope.to, scope.from));
      break;
  }
  return links;
}
