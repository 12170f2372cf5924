/**
 * `stall:every=E,for=F`: from the trigger on, the disk stalls for F every E, the first
 * stall beginning at the trigger: every op that arrives during a stall waits until it ends.
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { FaultSpecError } from "../errors.ts";
import { defineKind } from "./kind.ts";
import { halvingsDown, logBetween } from "../draw_params.ts";

/** The disk stalls for `forMs` every `everyMs`. */
export interface StallEffect {
  kind: "stall";
  everyMs: number;
  forMs: number;
}

function checked(everyMs: number, forMs: number, message: string): StallEffect {
  if (!(forMs > 0) || !(forMs < everyMs)) throw new FaultSpecError(message);
  return { kind: "stall", everyMs, forMs };
}

/** The kind. */
export const stall = defineKind<StallEffect>({
  kind: "stall",
  names: ["stall"],
  family: "block",
  summary:
    "from the trigger on, the disk stalls for `for` every `every`, the first stall beginning at the trigger: every op that arrives during a stall waits until it ends",
  params: "`every=DURATION`, `for=DURATION`",
  examples: ["stall:every=10s,for=800ms"],
  persistent: true,
  standing: true,
  parse(p) {
    const every = p.takeNamed("every");
    const length = p.takeNamed("for");
    if (every === undefined || length === undefined) {
      throw new FaultSpecError("stall needs every= and for=, as in stall:every=10s,for=800ms");
    }
    const everyMs = parseDuration(every);
    const forMs = parseDuration(length);
    return checked(
      everyMs,
      forMs,
      `a stall lasts more than 0 and less than its period (for=${forMs}ms, every=${everyMs}ms)`,
    );
  },
  format: (e) => [`every=${e.everyMs}ms`, `for=${e.forMs}ms`],
  describe: (e) => `the disk stops answering for ${e.forMs} ms every ${e.everyMs} ms`,
  block: {
    act(e, op, { since }) {
      // Stalls of forMs begin at since, since + everyMs, ...: an op inside one waits for its end.
      const episode = since + Math.floor((op.time - since) / e.everyMs) * e.everyMs;
      const untilMs = episode + e.forMs;
      if (op.time < since || op.time >= untilMs) return null;
      return {
        action: { do: "hold", untilMs },
        detail: { untilMs, stallMs: Math.max(0, untilMs - op.time) },
      };
    },
  },
  live: {
    params: ["every-ms", "for-ms"],
    parse(args) {
      const every = args.number("every-ms", 0);
      const length = args.number("for-ms", 0);
      if (every === undefined || length === undefined) {
        throw new FaultSpecError("stall needs 'every-ms' and 'for-ms'");
      }
      return checked(every, length, "Parameter 'for-ms' must be above 0 and below 'every-ms'");
    },
    args: (e) => ({ "every-ms": e.everyMs, "for-ms": e.forMs }),
  },
  explore: {
    ranges:
      "every 1 s to 10 s, for 50 ms to a fifth of that (log-uniform); weakened by halving `for`, down to 50 ms",
    draw(draw) {
      const everyMs = logBetween(draw, 1000, 10_000);
      return { kind: "stall", everyMs, forMs: logBetween(draw, 50, Math.floor(everyMs / 5)) };
    },
    weaken: (e) =>
      halvingsDown(e.forMs, 50).map((forMs) => ({ kind: "stall", everyMs: e.everyMs, forMs })),
  },
});
