/**
 * `crash:NODE`: power loss of one node while the others run: the fault layer freezes its
 * disks at once (no op of them reaches a store, no flush makes a write durable), its QEMU
 * is killed, and its disks are cut to their durable state, built from the run's own ops.
 *
 * @module
 */

import { defineKind } from "./kind.ts";
import { drawNode } from "../draw_params.ts";

/** Power loss of one node. */
export interface CrashEffect {
  kind: "crash";
  node: string;
}

/** The kind. */
export const crash = defineKind<CrashEffect>({
  kind: "crash",
  names: ["crash"],
  family: "node",
  summary:
    "power loss of one node: the fault layer freezes its disks at once (no op of them reaches a store, no flush makes a write durable), its QEMU is killed, and its disks are cut to their durable state (docs/durability.md), built from the run's own ops",
  params: "`[node=]NODE`",
  examples: ["crash:n2@n2/data/write#5"],
  persistent: false,
  standing: false,
  cutsDisks: true,
  parse: (p) => ({ kind: "crash", node: p.node() }),
  format: (e) => [e.node],
  describe: (e) => `${e.node} loses power`,
  nodes: (e) => [e.node],
  node: { node: (e) => e.node, act: () => ({ do: "power-off" }) },
  explore: {
    ranges: "the arrival's node (1 in 2), else any node",
    draw: (draw, { nodes, node }) => ({ kind: "crash", node: drawNode(draw, nodes, node) }),
  },
});
