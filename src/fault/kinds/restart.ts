/**
 * `restart:NODE[,after=D]`: the node boots again on its disks D later, into its `restart`
 * script if it declares one, else its workload again; a node that runs crashes first (a
 * power cycle).
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { defineKind } from "./kind.ts";
import { drawNode, halvingsDown, wholeBetween } from "../draw_params.ts";

/** The node boots again on its disks `afterMs` later (crashing it first if it runs). */
export interface RestartEffect {
  kind: "restart";
  node: string;
  afterMs: number;
}

/** The kind. */
export const restart = defineKind<RestartEffect>({
  kind: "restart",
  names: ["restart"],
  family: "node",
  summary:
    "the node boots again on its disks that long later, into its `restart` script if it declares one, else its workload again; a node that runs crashes first (a power cycle)",
  params: "`[node=]NODE`, `after=DURATION` (default 0)",
  examples: ["restart:n2,after=1s@+8s"],
  persistent: false,
  standing: false,
  cutsDisks: true,
  parse(p) {
    const node = p.node();
    const after = p.takeNamed("after");
    return { kind: "restart", node, afterMs: after === undefined ? 0 : parseDuration(after) };
  },
  format: (e) => e.afterMs > 0 ? [e.node, `after=${e.afterMs}ms`] : [e.node],
  describe: (e) => `${e.node} is power-cycled, back ${e.afterMs} ms later`,
  nodes: (e) => [e.node],
  node: { node: (e) => e.node, act: (e) => ({ do: "power-cycle", afterMs: e.afterMs }) },
  explore: {
    ranges:
      "a node as `crash`'s, back 0 to 3 s later (uniform, whole 100 ms); weakened by halving the time, down to 0",
    draw: (draw, { nodes, node }) => ({
      kind: "restart",
      node: drawNode(draw, nodes, node),
      afterMs: wholeBetween(draw, 0, 30) * 100,
    }),
    weaken: (e) =>
      halvingsDown(Math.round(e.afterMs / 100), 0).map((tenths) => ({
        ...e,
        afterMs: tenths * 100,
      })),
  },
});
