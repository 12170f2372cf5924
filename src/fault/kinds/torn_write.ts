/**
 * `torn-write[:keep=K]`: only the first K sectors (512 bytes) of a write are stored;
 * seeded, fewer than all, when K is not given.
 *
 * @module
 */

import { parseCount, SECTOR } from "../params.ts";
import { defineKind } from "./kind.ts";

/** Only the first `keepSectors` sectors of a write are stored (seeded when absent). */
export interface TornWriteEffect {
  kind: "torn-write";
  keepSectors?: number;
}

/** The kind. */
export const tornWrite = defineKind<TornWriteEffect>({
  kind: "torn-write",
  names: ["torn-write"],
  family: "block",
  summary: "only the first sectors (512 bytes) of a write are stored",
  params: "`[keep=]SECTORS` (default: seeded, fewer than all)",
  examples: ["torn-write@write#4", "torn-write:keep=3"],
  persistent: false,
  standing: false,
  parse(p) {
    const keep = p.take("keep", () => true);
    return keep === undefined
      ? { kind: "torn-write" }
      : { kind: "torn-write", keepSectors: parseCount(keep, "keep", 0) };
  },
  format: (e) => e.keepSectors === undefined ? [] : [`keep=${e.keepSectors}`],
  describe: (e) =>
    e.keepSectors === undefined
      ? "only a seeded prefix of the write's sectors is stored"
      : `only the first ${e.keepSectors} sectors of the write are stored`,
  block: {
    appliesTo: (_e, type) => type === "write",
    appliesToText: () => "writes",
    act(e, op, { draw }) {
      const sectors = Math.ceil(op.length / SECTOR);
      const keep = e.keepSectors ?? draw() % Math.max(sectors, 1);
      const keepBytes = Math.min(keep * SECTOR, op.length);
      return { action: { do: "tear", keepBytes }, detail: { keepBytes } };
    },
  },
  live: {
    params: ["keep-sectors"],
    parse(args) {
      const keep = args.number("keep-sectors", 0);
      return keep === undefined
        ? { kind: "torn-write" }
        : { kind: "torn-write", keepSectors: keep };
    },
    args: (e) => e.keepSectors === undefined ? {} : { "keep-sectors": e.keepSectors },
  },
  explore: {
    ranges: "the seeded prefix (no parameter)",
    draw: () => ({ kind: "torn-write" }),
  },
});
