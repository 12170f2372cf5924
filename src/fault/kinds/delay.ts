/**
 * `delay:D`: one op is answered D later. (With a link scope, a jitter or a frame
 * trigger, `delay` is the link kind of ./link_delay.ts.)
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { FaultSpecError } from "../errors.ts";
import { isDuration } from "../params.ts";
import { defineKind } from "./kind.ts";
import { halvingsDown, logBetween } from "../draw_params.ts";

/** One op is answered `durationMs` later. */
export interface DelayEffect {
  kind: "delay";
  durationMs: number;
}

/** The kind. */
export const delay = defineKind<DelayEffect>({
  kind: "delay",
  names: ["delay"],
  family: "block",
  summary: "the op is answered after that long",
  params: "`[duration=]DURATION`",
  examples: ["delay:200ms@write#3"],
  persistent: false,
  standing: false,
  parse(p) {
    const duration = p.take("duration", isDuration) ?? p.take("duration", () => true);
    if (duration === undefined) {
      throw new FaultSpecError("delay needs a duration, as in delay:200ms");
    }
    return { kind: "delay", durationMs: parseDuration(duration) };
  },
  format: (e) => [`${e.durationMs}ms`],
  describe: (e) => `the op is answered ${e.durationMs} ms late`,
  block: {
    act: (e) => ({
      action: { do: "wait", ms: e.durationMs },
      detail: { durationMs: e.durationMs },
    }),
  },
  live: {
    params: ["duration-ms"],
    parse: (args) => ({ kind: "delay", durationMs: args.required("duration-ms", 0) }),
    args: (e) => ({ "duration-ms": e.durationMs }),
  },
  explore: {
    ranges: "10 ms to 2 s (log-uniform); weakened by halving, down to 10 ms",
    draw: (draw) => ({ kind: "delay", durationMs: logBetween(draw, 10, 2000) }),
    weaken: (e) =>
      halvingsDown(e.durationMs, 10).map((durationMs) => ({ kind: "delay", durationMs })),
  },
});
