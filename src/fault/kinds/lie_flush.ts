/**
 * `lie-flush[:fua]`: from the trigger on, flushes and FUA writes are acknowledged at once
 * and make nothing durable (the data is stored; only durability is a lie); with `fua`,
 * only FUA writes lie and flushes stay honest.
 *
 * @module
 */

import { isWriteLike } from "../../block/backend.ts";
import { FaultSpecError } from "../errors.ts";
import { defineKind } from "./kind.ts";

/** Flushes (and FUA writes) are acknowledged and make nothing durable; with `fuaOnly`, FUA writes only. */
export interface LieFlushEffect {
  kind: "lie-flush";
  fuaOnly: boolean;
}

/** The kind. */
export const lieFlush = defineKind<LieFlushEffect>({
  kind: "lie-flush",
  names: ["lie-flush"],
  family: "block",
  summary:
    "from the trigger on, flushes and FUA writes are acknowledged at once and make nothing durable (the data is stored; only durability is a lie); with `fua`, only FUA writes lie and flushes stay honest",
  params: "`[only=]fua`",
  examples: ["lie-flush@+5s", "lie-flush:fua"],
  persistent: true,
  standing: true,
  parse(p) {
    const only = p.take("only", (v) => v.toLowerCase() === "fua");
    if (only !== undefined && only.toLowerCase() !== "fua") {
      throw new FaultSpecError(
        `lie-flush lies about flushes and FUA, or with fua only FUA, not "${only}"`,
      );
    }
    return { kind: "lie-flush", fuaOnly: only !== undefined };
  },
  format: (e) => e.fuaOnly ? ["fua"] : [],
  describe: (e) =>
    e.fuaOnly
      ? "FUA writes are acknowledged without being made durable"
      : "flushes and FUA writes are acknowledged and make nothing durable",
  block: {
    act: (e, op) =>
      (op.type === "flush" && !e.fuaOnly) || (op.fua === true && isWriteLike(op.type))
        ? { action: { do: "undurable" } }
        : null,
    shapesDurability: true,
  },
  live: {
    params: ["fua-only"],
    parse: (args) => ({ kind: "lie-flush", fuaOnly: args.boolean("fua-only", false) }),
    args: (e) => e.fuaOnly ? { "fua-only": true } : {},
  },
  explore: {
    ranges: "flushes and FUA writes (3 in 4), or FUA writes only; weakened to FUA writes only",
    draw: (draw) => ({ kind: "lie-flush", fuaOnly: draw() >= 0.75 }),
    weaken: (e) => e.fuaOnly ? [] : [{ kind: "lie-flush", fuaOnly: true }],
  },
});
