/**
 * `pause:NODE,D`: the node's QEMU is stopped (SIGSTOP) for D, then continued: the guest
 * stands still, its frames and ops with it, and nothing is flushed (QMP `stop` would
 * flush every disk).
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { FaultSpecError } from "../errors.ts";
import { defineKind } from "./kind.ts";
import { drawNode, halvingsDown, logBetween } from "../draw_params.ts";

/** The node's QEMU is stopped for `durationMs`, then continued. */
export interface PauseEffect {
  kind: "pause";
  node: string;
  durationMs: number;
}

/** The kind. */
export const pause = defineKind<PauseEffect>({
  kind: "pause",
  names: ["pause"],
  family: "node",
  summary:
    "the node's QEMU is stopped (SIGSTOP) for that long, then continued: the guest stands still, its frames and ops with it, and nothing is flushed (QMP `stop` would flush every disk)",
  params: "`[node=]NODE`, `[for=]DURATION`",
  examples: ["pause:n3,2s@net:n1->n3/tcp#10"],
  persistent: false,
  standing: false,
  parse(p) {
    const node = p.node();
    const duration = p.take("for", () => true);
    if (duration === undefined) {
      throw new FaultSpecError("pause needs a duration, as in pause:n3,2s");
    }
    return { kind: "pause", node, durationMs: parseDuration(duration) };
  },
  format: (e) => [e.node, `${e.durationMs}ms`],
  describe: (e) => `${e.node} stands still for ${e.durationMs} ms`,
  nodes: (e) => [e.node],
  node: { node: (e) => e.node, act: (e) => ({ do: "stop", ms: e.durationMs }) },
  explore: {
    ranges:
      "a node as `crash`'s, for 100 ms to 5 s (log-uniform); weakened by halving, down to 100 ms",
    draw: (draw, { nodes, node }) => ({
      kind: "pause",
      node: drawNode(draw, nodes, node),
      durationMs: logBetween(draw, 100, 5000),
    }),
    weaken: (e) => halvingsDown(e.durationMs, 100).map((durationMs) => ({ ...e, durationMs })),
  },
});
