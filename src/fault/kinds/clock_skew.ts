/**
 * `clock-skew:NODE,±D`: the node's clock starts D off the others' (ahead with `+`, behind
 * with `-`): its own `-rtc base=` for each of its boots, where every other node starts at
 * the shared base. Known before the node boots, it fires at no moment: written without a
 * trigger it holds for the run phase's boots (a restart's too), with `@any` for the check's
 * as well.
 *
 * @module
 */

import { FaultSpecError } from "../errors.ts";
import { formatClockMove, isClockMove, parseClockMove } from "../params.ts";
import { defineKind } from "./kind.ts";

/** The node's clock starts `offsetMs` off the others' (ahead when positive). */
export interface ClockSkewEffect {
  kind: "clock-skew";
  node: string;
  offsetMs: number;
}

/** The kind. */
export const clockSkew = defineKind<ClockSkewEffect>({
  kind: "clock-skew",
  names: ["clock-skew"],
  family: "node",
  summary:
    "the node's clock starts that far off the others' (its own `-rtc base=`), at each of its boots in the run phase, a restart's too; with `@any`, at the check's as well. It takes no other trigger",
  params: "`[node=]NODE`, `[by=]±DURATION` (whole seconds; `+` ahead, `-` behind)",
  examples: ["clock-skew:n2,+5s", "clock-skew:n3,-2s@any"],
  persistent: false,
  standing: true,
  amongNodes: "clock fault",
  parse(p) {
    const by = p.take("by", isClockMove);
    const node = p.node();
    if (by === undefined) {
      throw new FaultSpecError("clock-skew needs how far, as in clock-skew:n2,+5s");
    }
    return { kind: "clock-skew", node, offsetMs: parseClockMove(by) };
  },
  format: (e) => [e.node, formatClockMove(e.offsetMs)],
  describe: (e) =>
    `${e.node}'s clock runs ${Math.abs(e.offsetMs) / 1000} s ${
      e.offsetMs > 0 ? "ahead of" : "behind"
    } the others'`,
  nodes: (e) => [e.node],
  boot: { node: (e) => e.node, act: (e) => ({ do: "offset-clock", ms: e.offsetMs }) },
});
