/**
 * `isolate:NODE`: every frame to or from the node is dropped.
 *
 * @module
 */

import { FaultSpecError } from "../errors.ts";
import { checkNodeName, scopeLinks } from "../link_scope.ts";
import { defineKind } from "./kind.ts";
import { drawNode } from "../draw_params.ts";

/** Every frame to or from the node is dropped. */
export interface IsolateEffect {
  kind: "isolate";
  node: string;
}

/** The kind. */
export const isolate = defineKind<IsolateEffect>({
  kind: "isolate",
  names: ["isolate"],
  family: "link",
  summary: "every frame to or from the node is dropped",
  params: "`[node=]NODE`",
  examples: ["isolate:db2@40"],
  persistent: true,
  standing: true,
  parse(p) {
    const node = p.take("node", () => true);
    if (node === undefined) throw new FaultSpecError("isolate needs a node, as in isolate:n1");
    return { kind: "isolate", node: checkNodeName(node) };
  },
  format: (e) => [e.node],
  describe: (e) => `${e.node} is cut off from every node`,
  nodes: (e) => [e.node],
  link: {
    links: (e, nodes) => scopeLinks({ kind: "node", node: e.node }, nodes),
    act: () => ({ action: { do: "lose" } }),
  },
  live: {
    params: ["node"],
    parse(args) {
      const node = args.args.node;
      if (typeof node !== "string") {
        throw new FaultSpecError("Parameter 'node' is missing or not a string");
      }
      return { kind: "isolate", node };
    },
    args: (e) => ({ node: e.node }),
  },
  explore: {
    ranges: "the arrival's node (1 in 2), else any node",
    draw: (draw, { nodes, node }) => ({ kind: "isolate", node: drawNode(draw, nodes, node) }),
  },
});
