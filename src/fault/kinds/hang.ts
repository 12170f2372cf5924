/**
 * `hang[:D]`: the disk goes silent: this op and every later op of the disk wait, until D
 * has passed, a `none` on the control socket, or the end (never).
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { defineKind } from "./kind.ts";
import { halvingsDown, logBetween } from "../draw_params.ts";

/** The disk is silent, for `durationMs` or until released. */
export interface HangEffect {
  kind: "hang";
  durationMs?: number;
}

/** The kind. */
export const hang = defineKind<HangEffect>({
  kind: "hang",
  names: ["hang"],
  family: "block",
  summary:
    "the disk goes silent: this op and every later op of the disk wait, until the duration has passed, a `none` on the control socket, or the end (never)",
  params: "`[[duration=]DURATION]`",
  examples: ["hang:5s@+2s", "hang@write#3"],
  persistent: true,
  standing: true,
  parse(p) {
    const duration = p.take("duration", () => true);
    return duration === undefined
      ? { kind: "hang" }
      : { kind: "hang", durationMs: parseDuration(duration) };
  },
  format: (e) => e.durationMs === undefined ? [] : [`${e.durationMs}ms`],
  describe: (e) =>
    e.durationMs === undefined
      ? "the disk goes silent for good"
      : `the disk goes silent for ${e.durationMs} ms`,
  block: {
    act: (_e, _op, context) =>
      context.until === undefined
        ? { action: { do: "hold" } }
        : { action: { do: "hold", untilMs: context.until }, detail: { untilMs: context.until } },
    lasts: (e) => e.durationMs,
  },
  live: {
    params: ["duration-ms"],
    parse(args) {
      const durationMs = args.number("duration-ms", 0);
      return durationMs === undefined ? { kind: "hang" } : { kind: "hang", durationMs };
    },
    args: (e) => e.durationMs === undefined ? {} : { "duration-ms": e.durationMs },
  },
  explore: {
    ranges:
      "always with a duration: 100 ms to 5 s (log-uniform); weakened by halving, down to 100 ms",
    draw: (draw) => ({ kind: "hang", durationMs: logBetween(draw, 100, 5000) }),
    weaken: (e) =>
      halvingsDown(e.durationMs ?? 5000, 100).map((durationMs) => ({ kind: "hang", durationMs })),
  },
});
