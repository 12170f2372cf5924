/**
 * Crash states: the disk contents that survive a power loss at op N, built
 * from a trace alone, without running the workload again (docs/durability.md). A power loss *at* op N cuts the power as op N arrives:
 * op N and everything after it never happen; of the writes that completed
 * before it, the durable ones survive, the volatile ones are dropped (or, in
 * the variants, a seeded subset of them kept, or one of them torn).
 *
 * @module
 */

import { DurabilityModel } from "../block/durability.ts";
import { isWriteLike } from "../block/backend.ts";
import { PositionedFile } from "../block/positioned_file.ts";
import { seededStream } from "../fault/random.ts";
import { completedOp, diskKey, storedLength } from "../trace/ops.ts";
import type { OpRecord } from "../trace/schema.ts";
import { sha256File } from "../util/hash.ts";
import { RunError } from "./errors.ts";

/** Which volatile writes a power loss keeps. */
export type PowerLossVariant =
  /** None: the worst case a volatile write cache allows. */
  | { kind: "drop" }
  /** A seeded subset: each volatile write kept with probability 1/2. */
  | { kind: "subset"; seed: number }
  /** One seeded volatile write is torn (a prefix of its sectors kept); the others are dropped. */
  | { kind: "torn"; seed: number };

/** The writes of a crash state, chosen from a trace's op records. */
export interface CrashSelection {
  /** The op the power loss cuts at. */
  cutAt: number;
  /** Writes that survive, in completion order, with the bytes kept (a torn write keeps fewer). */
  writes: { record: OpRecord; keepBytes: number }[];
  /** Writes that completed before the cut and were still volatile. */
  volatileCount: number;
  /** Writes dropped (volatile and not kept). */
  droppedCount: number;
  /** A digest of the selection: equal digests mean byte-identical crash states. */
  key: string;
}

/**
 * Chooses the writes that survive a power loss at op `cutAt`, from op records
 * in completion order (the order of a trace file). Only the run phase counts.
 *
 * @throws {RunError} when a surviving write's bytes are not in the trace (recorded with --no-data).
 * @example
 * ```ts
 * const selection = selectCrashWrites(records, 42, { kind: "drop" });
 * ```
 */
export function selectCrashWrites(
  records: readonly OpRecord[],
  cutAt: number,
  variant: PowerLossVariant,
): CrashSelection {
  const model = new DurabilityModel();
  const stored: OpRecord[] = [];
  for (const record of records) {
    if (record.phase !== undefined && record.phase !== "run") continue;
    // Completion order: `done` never decreases, so the first op completed after the cut ends the prefix.
    if (record.done > cutAt) break;
    model.complete(completedOp(record));
    if (isWriteLike(record.op) && storedLength(record) > 0) stored.push(record);
  }
  const volatile = new Set<number>();
  for (const record of stored) {
    const key = diskKey(record.node, record.disk);
    if (model.volatileWrites(key).some((w) => w.index === record.index)) volatile.add(record.index);
  }
  const volatileList = stored.filter((r) => volatile.has(r.index));
  const tornIndex = variant.kind === "torn" && volatileList.length > 0
    ? volatileList[seededStream(variant.seed, cutAt)() % volatileList.length].index
    : -1;
  const writes: CrashSelection["writes"] = [];
  for (const record of stored) {
    const length = storedLength(record);
    if (!volatile.has(record.index)) {
      writes.push({ record, keepBytes: length });
    } else if (variant.kind === "subset" && seededStream(variant.seed, record.index)() % 2 === 0) {
      writes.push({ record, keepBytes: length });
    } else if (record.index === tornIndex) {
      const sectors = Math.ceil(length / 512);
      const draw = seededStream((variant as { seed: number }).seed, record.index, 1)();
      const keep = Math.min(length, (draw % Math.max(sectors, 1)) * 512);
      if (keep > 0) writes.push({ record, keepBytes: keep });
    }
  }
  for (const { record } of writes) {
    if (record.op === "write" && !record.data) {
      throw new RunError(
        "a power loss built from the trace needs the written data, and this trace was recorded with --no-data; record again without it",
        { kind: "usage" },
      );
    }
  }
  const key = writes.map((w) => `${w.record.index}:${w.keepBytes}`).join(",");
  const keptVolatile = writes.filter((w) => volatile.has(w.record.index)).length;
  return {
    cutAt,
    writes,
    volatileCount: volatile.size,
    droppedCount: volatile.size - keptVolatile,
    key,
  };
}

/**
 * Writes a crash state: a copy of each base image with the surviving writes
 * applied in completion order.
 *
 * @example
 * ```ts
 * const images = await writeCrashImages(selection, bases, dir.path);
 * ```
 */
export async function writeCrashImages(
  selection: CrashSelection,
  bases: ReadonlyMap<string, string>,
  outDir: string,
): Promise<Map<string, { path: string; sha256: string }>> {
  const files = new Map<string, PositionedFile>();
  const paths = new Map<string, string>();
  try {
    for (const [key, base] of bases) {
      const path = `${outDir}/${key.replaceAll("/", "-")}.crash.raw`;
      await Deno.copyFile(base, path);
      await Deno.chmod(path, 0o600);
      paths.set(key, path);
      files.set(key, PositionedFile.open(path, { write: true }));
    }
    for (const { record, keepBytes } of selection.writes) {
      const file = files.get(diskKey(record.node, record.disk));
      if (!file) {
        throw new RunError(
          `the trace writes to ${record.node}/${record.disk}, a disk the run does not have`,
          { kind: "usage" },
        );
      }
      const bytes = record.op === "write"
        ? record.data!.subarray(0, keepBytes)
        : new Uint8Array(keepBytes);
      file.write(record.offset, bytes);
    }
  } finally {
    for (const file of files.values()) file.close();
  }
  const out = new Map<string, { path: string; sha256: string }>();
  for (const [key, path] of paths) out.set(key, { path, sha256: await sha256File(path) });
  return out;
}
