/**
 * `bad-sectors:RANGE[,ERRNO]`: from the trigger on, a read that touches one of the sectors
 * fails, until a write covers the sector: the disk remaps it, and it reads the new data.
 *
 * @module
 */

import type { Errno } from "../../block/errno.ts";
import { FaultSpecError } from "../errors.ts";
import { parseByteRange, SECTOR } from "../params.ts";
import { defineKind } from "./kind.ts";
import { halvingsDown, wholeBetween } from "../draw_params.ts";

/** Reads of the sectors `[startSector, endSector)` fail with `errno` until a write covers them. */
export interface BadSectorsEffect {
  kind: "bad-sectors";
  startSector: number;
  endSector: number;
  errno: Errno;
}

/** Sector ranges still bad, `[start, end)`, sorted and apart. */
type Ranges = readonly (readonly [number, number])[];

/** The kind. */
export const badSectors = defineKind<BadSectorsEffect>({
  kind: "bad-sectors",
  names: ["bad-sectors"],
  family: "block",
  summary:
    "from the trigger on, a read that touches one of the sectors fails, until a write (or write-zeroes) covers the sector: the disk remaps it, and it reads the new data",
  params:
    "`[range=]START-END` or `OFFSET+LENGTH` (bytes, widened to whole 512-byte sectors), `[errno=]ERRNO` (default `eio`)",
  examples: ["bad-sectors:1M+8K", "bad-sectors:8192-12288,enospc@write#10"],
  persistent: true,
  standing: true,
  parse(p) {
    const range = p.take("range", (v) => /^[^=]+[-+][^=]+$/.test(v));
    if (range === undefined) {
      throw new FaultSpecError(
        "bad-sectors needs a range of bytes, START-END or OFFSET+LENGTH, as in bad-sectors:1M+4K or bad-sectors:8192-12288,enospc",
      );
    }
    const { start, end } = parseByteRange(range);
    return {
      kind: "bad-sectors",
      startSector: Math.floor(start / SECTOR),
      endSector: Math.ceil(end / SECTOR),
      errno: p.errno("eio"),
    };
  },
  format: (e) => [
    `${e.startSector * SECTOR}-${e.endSector * SECTOR}`,
    ...(e.errno === "eio" ? [] : [e.errno]),
  ],
  describe: (e) =>
    `reads of sectors ${e.startSector}-${
      e.endSector - 1
    } fail with ${e.errno.toUpperCase()} until rewritten`,
  block: {
    remember: (e): Ranges => [[e.startSector, e.endSector]],
    act(e, op, { memory }) {
      if (op.type !== "read") return null;
      const sectors = overlapOf(memory as Ranges, ...sectorsOf(op.offset, op.length));
      if (!sectors) return null;
      return { action: { do: "answer-error", errno: e.errno }, detail: { sectors } };
    },
    stored(_e, memory, offset, length) {
      const [start, end] = sectorsOf(offset, length);
      const remapped = overlapOf(memory as Ranges, start, end);
      if (!remapped) return null;
      return { memory: subtract(memory as Ranges, start, end), detail: { sectors: remapped } };
    },
  },
  live: {
    params: ["offset", "length", "errno"],
    uncounted: true,
    parse(args) {
      const offset = args.number("offset", 0);
      const length = args.number("length", 1);
      if (offset === undefined || length === undefined) {
        throw new FaultSpecError("bad-sectors needs 'offset' and 'length' (bytes)");
      }
      return {
        kind: "bad-sectors",
        startSector: Math.floor(offset / SECTOR),
        endSector: Math.ceil((offset + length) / SECTOR),
        errno: args.errno(),
      };
    },
    args: (e) => ({
      offset: e.startSector * SECTOR,
      length: (e.endSector - e.startSector) * SECTOR,
      errno: e.errno,
    }),
  },
  explore: {
    ranges:
      "1 to 8 sectors from the start of the op it is put at (sector 0 at a frame), `eio`; weakened by halving the sectors, down to 1",
    draw(draw, { op }) {
      const start = op ? Math.floor(op.offset / SECTOR) : 0;
      return {
        kind: "bad-sectors",
        startSector: start,
        endSector: start + wholeBetween(draw, 1, 8),
        errno: "eio",
      };
    },
    weaken: (e) =>
      halvingsDown(e.endSector - e.startSector, 1).map((count) => ({
        ...e,
        endSector: e.startSector + count,
      })),
  },
});

/** The sectors `[start, end)` an extent of bytes touches. */
function sectorsOf(offset: number, length: number): [number, number] {
  return [Math.floor(offset / SECTOR), Math.ceil((offset + Math.max(length, 1)) / SECTOR)];
}

/** The part of sorted, disjoint ranges that overlaps `[start, end)`, as one span (or null). */
function overlapOf(ranges: Ranges, start: number, end: number): [number, number] | null {
  let from = Infinity;
  let to = -Infinity;
  for (const [a, b] of ranges) {
    if (a < end && b > start) {
      from = Math.min(from, Math.max(a, start));
      to = Math.max(to, Math.min(b, end));
    }
  }
  return from < to ? [from, to] : null;
}

/** Sorted, disjoint ranges without `[start, end)`. */
function subtract(ranges: Ranges, start: number, end: number): Ranges {
  const out: (readonly [number, number])[] = [];
  for (const [a, b] of ranges) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  return out;
}
