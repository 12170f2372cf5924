/**
 * `clock-jump:NODE,±D`: at its trigger the node's wall clock jumps by D (forward with `+`,
 * back with `-`): the run writes the jump on the node's control channel, and the guest's
 * `/init` sets its clock (src/vm/control.ts). The guest's monotonic clock does not move.
 *
 * @module
 */

import { FaultSpecError } from "../errors.ts";
import { formatClockMove, isClockMove, parseClockMove } from "../params.ts";
import { defineKind } from "./kind.ts";
import { drawNode, halvingsDown, logBetween } from "../draw_params.ts";

/** The node's wall clock jumps by `byMs` (back when negative). */
export interface ClockJumpEffect {
  kind: "clock-jump";
  node: string;
  byMs: number;
}

/** The kind. */
export const clockJump = defineKind<ClockJumpEffect>({
  kind: "clock-jump",
  names: ["clock-jump"],
  family: "node",
  summary:
    "the node's wall clock jumps that far (forward with `+`, back with `-`), set by its guest's `/init` when the jump comes over its control channel, tens of ms after the trigger (see below); its monotonic clock goes on",
  params: "`[node=]NODE`, `[by=]±DURATION` (whole seconds; `+` forward, `-` back)",
  examples: ["clock-jump:n2,-30s@+10s", "clock-jump:n1,+1h@n1/data/write#20"],
  persistent: false,
  standing: false,
  amongNodes: "clock fault",
  parse(p) {
    const by = p.take("by", isClockMove);
    const node = p.node();
    if (by === undefined) {
      throw new FaultSpecError("clock-jump needs how far, as in clock-jump:n2,-30s@+10s");
    }
    return { kind: "clock-jump", node, byMs: parseClockMove(by) };
  },
  format: (e) => [e.node, formatClockMove(e.byMs)],
  describe: (e) =>
    `${e.node}'s wall clock jumps ${Math.abs(e.byMs) / 1000} s ${e.byMs > 0 ? "forward" : "back"}`,
  nodes: (e) => [e.node],
  node: { node: (e) => e.node, act: (e) => ({ do: "jump-clock", ms: e.byMs }) },
  explore: {
    ranges:
      "a node as `crash`'s, 1 s to 1 h (log-uniform, whole seconds), back or forward (even odds); weakened by halving, down to 1 s",
    draw(draw, { nodes, node }) {
      const seconds = logBetween(draw, 1, 3600);
      return {
        kind: "clock-jump",
        node: drawNode(draw, nodes, node),
        byMs: (draw() < 0.5 ? -1 : 1) * seconds * 1000,
      };
    },
    weaken: (e) =>
      halvingsDown(Math.abs(e.byMs) / 1000, 1).map((seconds) => ({
        ...e,
        byMs: Math.sign(e.byMs) * seconds * 1000,
      })),
  },
});
