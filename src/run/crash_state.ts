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
import type { CrashStates, CrashVariant } from "../fault/kinds/kind.ts";
import { kindOf } from "../fault/kinds/mod.ts";
import { crashStateId } from "../fault/kinds/power_loss.ts";
import { decide, initialState } from "../fault/plan.ts";
import type { FaultPlan } from "../fault/types.ts";
import { completedOp, diskKey, storedLength } from "../trace/ops.ts";
import type { OpRecord } from "../trace/schema.ts";
import { sha256File } from "../util/hash.ts";
import { RunError } from "./errors.ts";

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
  /**
   * Those writes, in completion order: what the crash lost (a torn write is among `writes`,
   * with fewer bytes kept).
   */
  dropped: OpRecord[];
  /**
   * A digest of the selection: equal keys mean byte-identical crash states. It names, for
   * each byte range of each disk, the write whose bytes end up there, so two selections
   * that differ only in writes later overwritten share a key.
   */
  key: string;
}

/** The writes completed before a cut: those stored, and of them the volatile ones, in completion order. */
export interface WritesAtCut {
  /** Every write-like op that stored bytes before the cut, in completion order. */
  stored: OpRecord[];
  /** Of those, the ones a power loss at the cut may drop, in completion order. */
  volatile: OpRecord[];
}

/**
 * The writes completed before a power loss at op `cutAt`, and which of them are volatile,
 * from op records in completion order. Only the run phase counts.
 *
 * @example
 * ```ts
 * writesAtCut(records, 42).volatile.map((r) => r.index); // [37, 39, 40]
 * ```
 */
export function writesAtCut(records: readonly OpRecord[], cutAt: number): WritesAtCut {
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
  const disks = new Set(stored.map((record) => diskKey(record.node, record.disk)));
  for (const disk of disks) {
    for (const write of model.volatileWrites(disk)) volatile.add(write.index);
  }
  return { stored, volatile: stored.filter((record) => volatile.has(record.index)) };
}

/**
 * Chooses the writes that survive a power loss at op `cutAt`, from op records
 * in completion order (the order of a trace file). Only the run phase counts.
 *
 * @throws {RunError} when a surviving write's bytes are not in the trace (recorded with
 * --no-data), or a crash state names a write that is not volatile at the cut.
 * @example
 * ```ts
 * const selection = selectCrashWrites(records, 42, { kind: "drop" });
 * ```
 */
export function selectCrashWrites(
  records: readonly OpRecord[],
  cutAt: number,
  variant: CrashVariant,
): CrashSelection {
  const { stored, volatile: volatileList } = writesAtCut(records, cutAt);
  const volatile = new Set(volatileList.map((record) => record.index));
  if (variant.kind === "state") checkStateAt(variant.dropped, volatileList, cutAt);
  const toDrop = variant.kind === "state" ? new Set(variant.dropped) : null;
  const tornIndex = variant.kind === "torn" && volatileList.length > 0
    ? volatileList[seededStream(variant.seed, cutAt)() % volatileList.length].index
    : -1;
  const writes: CrashSelection["writes"] = [];
  for (const record of stored) {
    const length = storedLength(record);
    if (!volatile.has(record.index)) {
      writes.push({ record, keepBytes: length });
    } else if (toDrop !== null && !toDrop.has(record.index)) {
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
  const kept = new Set(writes.map((w) => w.record.index));
  const dropped = volatileList.filter((record) => !kept.has(record.index));
  return {
    cutAt,
    writes,
    volatileCount: volatile.size,
    droppedCount: dropped.length,
    dropped,
    key: contentKey(writes),
  };
}

/** Refuses a crash state that drops a write which is not volatile at the cut. */
function checkStateAt(dropped: readonly number[], volatile: readonly OpRecord[], cutAt: number) {
  const indices = new Set(volatile.map((record) => record.index));
  const strangers = dropped.filter((index) => !indices.has(index));
  if (strangers.length === 0) return;
  const list = volatile.map((record) => record.index);
  throw new RunError(
    `crash state ${crashStateId(dropped)} drops ${
      strangers.map((index) => `op ${index}`).join(", ")
    }, which ${
      strangers.length > 1 ? "are not volatile writes" : "is not a volatile write"
    } at op ${cutAt}; ${
      list.length === 0
        ? "no write is volatile there (state=none is the one state)"
        : `the volatile writes there are ${list.join(", ")}`
    }`,
    { kind: "usage" },
  );
}

/**
 * The key of a selection: for each disk, the byte ranges the surviving writes cover and
 * which write each range's bytes come from, after the later writes overwrote the earlier.
 */
function contentKey(writes: CrashSelection["writes"]): string {
  const disks = new Map<string, Run[]>();
  for (const { record, keepBytes } of writes) {
    const disk = diskKey(record.node, record.disk);
    let runs = disks.get(disk);
    if (!runs) disks.set(disk, runs = []);
    overlay(runs, record.offset, record.offset + keepBytes, record.index);
  }
  return [...disks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([disk, runs]) =>
    `${disk}:${runs.map((r) => `${r.start}-${r.end}=${r.source}`).join(",")}`
  ).join(";");
}

/** Bytes `[start, end)` of a disk that come from the write with op index `source`. */
interface Run {
  start: number;
  end: number;
  source: number;
}

/** Lays `[start, end)` from `source` over sorted, disjoint runs, in place. */
function overlay(runs: Run[], start: number, end: number, source: number): void {
  if (end <= start) return;
  // The first run that ends after `start`.
  let low = 0;
  let high = runs.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (runs[mid].end <= start) low = mid + 1;
    else high = mid;
  }
  let last = low;
  while (last < runs.length && runs[last].start < end) last++;
  const replaced: Run[] = [];
  if (low < last && runs[low].start < start) {
    replaced.push({ start: runs[low].start, end: start, source: runs[low].source });
  }
  replaced.push({ start, end, source });
  if (low < last && runs[last - 1].end > end) {
    replaced.push({ start: end, end: runs[last - 1].end, source: runs[last - 1].source });
  }
  runs.splice(low, last - low, ...replaced);
}

/**
 * The op records as the plan's faults that shape durability (`lie-flush`) would have
 * left them: those rules are decided over the records in arrival order (the pure decision
 * of src/fault/plan.ts), and each flush or FUA write they made undurable is marked so
 * (`fault.undurable`), which the durability model does not count as making anything
 * durable (src/trace/ops.ts). The records keep their order; the plan's other rules are
 * ignored.
 *
 * @example
 * ```ts
 * const lying = withLiedFlushes(parent.records, { seed, rules: [parseFaultSpec("lie-flush@+0ms")] });
 * selectCrashWrites(lying, 40, { kind: "drop" }); // the writes since the lie began are volatile
 * ```
 */
export function withLiedFlushes(records: readonly OpRecord[], plan: FaultPlan): OpRecord[] {
  const lies = {
    seed: plan.seed,
    rules: plan.rules.filter((r) => kindOf(r.effect).block?.shapesDurability),
  };
  if (lies.rules.length === 0) return [...records];
  let state = initialState(lies);
  const lied = new Map<number, { kind: string; rule: string }>();
  for (const record of [...records].sort((a, b) => a.index - b.index)) {
    if (record.phase !== undefined && record.phase !== "run") continue;
    const step = decide(lies, state, {
      index: record.index,
      node: record.node,
      disk: diskKey(record.node, record.disk),
      name: record.disk,
      type: record.op,
      offset: record.offset,
      length: record.length,
      time: record.start,
      ...(record.fua ? { fua: true } : {}),
      ...(record.phase === undefined ? {} : { phase: record.phase }),
    });
    state = step.state;
    const lie = step.decisions.find((d) => d.action.do === "undurable");
    if (lie && record.result === "ok" && !record.fault) {
      lied.set(record.index, { kind: lie.fault, rule: lie.rule });
    }
  }
  return records.map((record) => {
    const lie = lied.get(record.index);
    return lie ? { ...record, fault: { ...lie, undurable: true } } : record;
  });
}

/** One crash state of a point: its ID and the volatile writes it drops. */
export interface CrashStateChoice {
  /** The ID, as `power-loss:state=ID` takes it. */
  id: string;
  /** The recorded op indices of the volatile writes dropped. */
  dropped: readonly number[];
}

/** The crash states a power loss explores at one point. */
export interface CrashStatesAt {
  /** The volatile writes at the point, by op index, in write (completion) order. */
  volatile: number[];
  /** The states, each once, in the order they are explored. */
  states: CrashStateChoice[];
  /** The number of states there are to explore (2^V for `all`). */
  total: number;
  /** The states are a seeded sample of `total` (`all` over its bound, `orders`). */
  sampled: boolean;
}

/**
 * The crash states of a power loss at `cutAt` (docs/durability.md): for `each`, one per
 * volatile write dropped alone, in write order (one state, `none`, when nothing is
 * volatile); for `orders`, `count` seeded subsets (every subset when there are no more);
 * for `all`, every subset when there are at most `max` volatile writes, else `count`
 * (default 2^max) seeded ones; for `state`, the one named.
 *
 * @example
 * ```ts
 * crashStatesAt(records, 42, { kind: "each" }, seed).states.map((s) => s.id); // ["37", "39", "40"]
 * ```
 */
export function crashStatesAt(
  records: readonly OpRecord[],
  cutAt: number,
  states: CrashStates,
  seed: number,
): CrashStatesAt {
  const volatile = writesAtCut(records, cutAt).volatile.map((record) => record.index);
  const v = volatile.length;
  const choice = (dropped: readonly number[]) => ({ id: crashStateId(dropped), dropped });
  const everySubset = () => {
    const out: CrashStateChoice[] = [];
    for (let mask = 0; mask < 2 ** v; mask++) {
      out.push(choice(volatile.filter((_, bit) => (mask & (2 ** bit)) !== 0)));
    }
    return out;
  };
  const seeded = (count: number) => {
    const out = new Map<string, CrashStateChoice>();
    const possible = 2 ** v;
    for (let j = 0; out.size < Math.min(count, possible) && j < 4 * count + 16; j++) {
      const draw = seededStream(seed, cutAt, j);
      const state = choice(volatile.filter(() => draw() % 2 === 1));
      if (!out.has(state.id)) out.set(state.id, state);
    }
    return [...out.values()];
  };
  switch (states.kind) {
    case "each":
      return {
        volatile,
        states: v === 0 ? [choice([])] : volatile.map((index) => choice([index])),
        total: Math.max(v, 1),
        sampled: false,
      };
    case "orders":
      return v <= 30 && 2 ** v <= states.count
        ? { volatile, states: everySubset(), total: 2 ** v, sampled: false }
        : { volatile, states: seeded(states.count), total: 2 ** v, sampled: true };
    case "all":
      return v <= states.max
        ? { volatile, states: everySubset(), total: 2 ** v, sampled: false }
        : {
          volatile,
          states: seeded(states.count ?? 2 ** states.max),
          total: 2 ** v,
          sampled: true,
        };
    case "state":
      checkStateAt(states.dropped, writesAtCut(records, cutAt).volatile, cutAt);
      return { volatile, states: [choice(states.dropped)], total: 1, sampled: false };
  }
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
