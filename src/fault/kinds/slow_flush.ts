/**
 * `slow-flush:D`: from the trigger on, every flush of the disk, and only flushes, waits D
 * before it is done: a disk whose cache drains slowly, with reads and writes at full speed
 * (device-mapper's `delay` target has a flush class for this; nbdkit's delay filter delays
 * reads, writes, zeroes and trims, not flushes).
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { FaultSpecError } from "../errors.ts";
import { isDuration } from "../params.ts";
import { defineKind } from "./kind.ts";
import { halvingsDown, logBetween } from "../draw_params.ts";

/** Every flush waits `durationMs` more. */
export interface SlowFlushEffect {
  kind: "slow-flush";
  durationMs: number;
}

/** The kind. */
export const slowFlush = defineKind<SlowFlushEffect>({
  kind: "slow-flush",
  names: ["slow-flush"],
  family: "block",
  summary: "from the trigger on, every flush of the disk, and only flushes, takes that much longer",
  params: "`[duration=]DURATION`",
  examples: ["slow-flush:200ms", "slow-flush:1s@+5s"],
  persistent: true,
  standing: true,
  parse(p) {
    const duration = p.take("duration", isDuration) ?? p.take("duration", () => true);
    if (duration === undefined) {
      throw new FaultSpecError("slow-flush needs a duration, as in slow-flush:200ms");
    }
    return { kind: "slow-flush", durationMs: parseDuration(duration) };
  },
  format: (e) => [`${e.durationMs}ms`],
  describe: (e) => `every flush takes ${e.durationMs} ms longer`,
  block: {
    appliesTo: (_e, type) => type === "flush",
    appliesToText: () => "flushes",
    act: (e) => ({
      action: { do: "wait", ms: e.durationMs },
      detail: { durationMs: e.durationMs },
    }),
  },
  live: {
    params: ["duration-ms"],
    parse: (args) => ({ kind: "slow-flush", durationMs: args.required("duration-ms", 0) }),
    args: (e) => ({ "duration-ms": e.durationMs }),
  },
  explore: {
    ranges: "10 ms to 1 s (log-uniform); weakened by halving, down to 10 ms",
    draw: (draw) => ({ kind: "slow-flush", durationMs: logBetween(draw, 10, 1000) }),
    weaken: (e) =>
      halvingsDown(e.durationMs, 10).map((durationMs) => ({ kind: "slow-flush", durationMs })),
  },
});
