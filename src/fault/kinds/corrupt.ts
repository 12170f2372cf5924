/**
 * `corrupt[:read|write][,bits=N]`: N seeded bit flips in what is read, or in what is stored.
 *
 * @module
 */

import { FaultSpecError } from "../errors.ts";
import { parseCount } from "../params.ts";
import { defineKind } from "./kind.ts";
import { halvingsDown, wholeBetween } from "../draw_params.ts";

/** Seeded bit flips in what is read or written. */
export interface CorruptEffect {
  kind: "corrupt";
  direction: "read" | "write";
  bits: number;
}

/** The kind. */
export const corrupt = defineKind<CorruptEffect>({
  kind: "corrupt",
  names: ["corrupt"],
  family: "block",
  summary: "N seeded bit flips in what is read, or in what is stored",
  params: "`[direction=]read\\|write`, `bits=N` (default read, 1)",
  examples: ["corrupt:read,bits=3@read#1", "corrupt:write@write#2"],
  persistent: false,
  standing: false,
  parse(p) {
    const direction = p.take("direction", (v) => v === "read" || v === "write") ?? "read";
    if (direction !== "read" && direction !== "write") {
      throw new FaultSpecError(`corrupt direction must be read or write, not "${direction}"`);
    }
    const bits = parseCount(p.take("bits", (v) => /^\d+$/.test(v)) ?? "1", "bits", 1);
    return { kind: "corrupt", direction, bits };
  },
  format: (e) => [e.direction, `bits=${e.bits}`],
  describe: (e) =>
    `${e.bits} bit${e.bits === 1 ? "" : "s"} flipped in what is ${
      e.direction === "read" ? "read" : "stored"
    }`,
  block: {
    appliesTo: (e, type) => type === e.direction,
    appliesToText: (e) => `${e.direction}s`,
    act(e, op, { draw }) {
      const bitCount = op.length * 8;
      const positions = new Set<number>();
      while (positions.size < Math.min(e.bits, bitCount)) positions.add(draw() % bitCount);
      const bitPositions = [...positions].sort((a, b) => a - b);
      return {
        action: { do: "flip", direction: e.direction, bitPositions },
        detail: { bits: bitPositions },
      };
    },
  },
  live: {
    params: ["direction", "bits"],
    parse(args) {
      const direction = args.args.direction ?? "read";
      if (direction !== "read" && direction !== "write") {
        throw new FaultSpecError("Parameter 'direction' must be 'read' or 'write'");
      }
      return { kind: "corrupt", direction, bits: args.number("bits", 1) ?? 1 };
    },
    args: (e) => ({ direction: e.direction, bits: e.bits }),
  },
  explore: {
    ranges: "read or write (even odds), 1 to 8 bits; weakened by halving the bits, down to 1",
    draw: (draw) => ({
      kind: "corrupt",
      direction: draw() < 0.5 ? "read" : "write",
      bits: wholeBetween(draw, 1, 8),
    }),
    weaken: (e) => halvingsDown(e.bits, 1).map((bits) => ({ ...e, bits })),
  },
});
