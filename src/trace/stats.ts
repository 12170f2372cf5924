/**
 * Counts of ops by type and disk, bytes, errors and injected faults: kept live
 * by the server (`query-stats`) and computed from a trace (`trace stats`); and
 * counts of frames and bytes per link, from a cluster's frame records.
 *
 * @module
 */

import { OP_TYPES, type OpType } from "../block/backend.ts";
import type { FrameRecord, OpRecord } from "./schema.ts";

/** Counts for one op type. */
export interface TypeCounts {
  /** Ops. */
  count: number;
  /** Bytes moved. */
  bytes: number;
  /** Ops that failed. */
  errors: number;
}

/** A summary of ops, ready to print or to serialise as JSON. */
export interface StatsSummary {
  /** Ops counted. */
  ops: number;
  /** Bytes read and written. */
  bytes: number;
  /** Ops that failed. */
  errors: number;
  /** Counts by op type. */
  byType: Record<OpType, TypeCounts>;
  /** Counts by disk (its name, or NODE/NAME once ops came from several nodes), then by op type. */
  byDisk: Record<string, Record<OpType, TypeCounts>>;
  /** Injected faults by name (`eio`, `delay`, ...). */
  faults: Record<string, number>;
  /** From the first op's arrival to the last op's completion, in ms. */
  duration: number;
}

function emptyCounts(): Record<OpType, TypeCounts> {
  return Object.fromEntries(OP_TYPES.map((t) => [t, { count: 0, bytes: 0, errors: 0 }])) as Record<
    OpType,
    TypeCounts
  >;
}

/**
 * Accumulates op records.
 *
 * @example
 * ```ts
 * const stats = new OpStats();
 * for await (const r of reader.records()) if (r.record === "op") stats.add(r);
 * stats.summary().byType.write.count;
 * ```
 */
export class OpStats {
  private readonly byType = emptyCounts();
  /** By node, then disk: two nodes' disks of one name are two disks. */
  private readonly byDisk = new Map<string, Map<string, Record<OpType, TypeCounts>>>();
  private readonly faults = new Map<string, number>();
  private first = Infinity;
  private last = -Infinity;

  /** Counts one completed op. */
  add(
    record:
      & Pick<
        OpRecord,
        "disk" | "op" | "length" | "result" | "start" | "end" | "fault"
      >
      & { node?: string },
  ): void {
    const node = record.node ?? "";
    let disks = this.byDisk.get(node);
    if (!disks) this.byDisk.set(node, disks = new Map());
    let disk = disks.get(record.disk);
    if (!disk) disks.set(record.disk, disk = emptyCounts());
    const moved = record.op === "read" || record.op === "write" ? record.length : 0;
    const failed = record.result === "ok" ? 0 : 1;
    for (const counts of [this.byType[record.op], disk[record.op]]) {
      counts.count++;
      counts.bytes += moved;
      counts.errors += failed;
    }
    if (record.fault) {
      this.faults.set(record.fault.kind, (this.faults.get(record.fault.kind) ?? 0) + 1);
    }
    if (record.start < this.first) this.first = record.start;
    if (record.end > this.last) this.last = record.end;
  }

  /** A snapshot of the counts. */
  summary(): StatsSummary {
    const types = Object.values(this.byType);
    return {
      ops: types.reduce((sum, c) => sum + c.count, 0),
      bytes: types.reduce((sum, c) => sum + c.bytes, 0),
      errors: types.reduce((sum, c) => sum + c.errors, 0),
      byType: structuredClone(this.byType),
      // A disk is named by its name, or NODE/NAME once ops came from several nodes.
      byDisk: Object.fromEntries(
        [...this.byDisk].flatMap(([node, disks]) =>
          [...disks].map(([disk, counts]) => [
            this.byDisk.size > 1 ? `${node}/${disk}` : disk,
            structuredClone(counts),
          ])
        ),
      ),
      faults: Object.fromEntries(this.faults),
      duration: this.last > this.first ? this.last - this.first : 0,
    };
  }
}

/** Counts for one directed link (`a->b`). */
export interface LinkCounts {
  /** Frames the switch sent (or meant to send) over it. */
  frames: number;
  bytes: number;
  /** Of those, dropped by a fault. */
  dropped: number;
  /** Of those, lost because the destination's port had no connection. */
  absent: number;
}

/** A summary of frames, ready to print or to serialise as JSON. */
export interface FrameSummary {
  /** Frames that arrived at the switch. */
  frames: number;
  bytes: number;
  /** Frames to a group address (broadcast, multicast). */
  broadcast: number;
  /** Unicast frames to a MAC no node owns (delivered nowhere). */
  unknown: number;
  /** Per directed link, `from->to`: a broadcast counts once on every link it went over. */
  byLink: Record<string, LinkCounts>;
  /** Faults by name, counted per frame. */
  faults: Record<string, number>;
  /** From the first frame to the last, in ms. */
  duration: number;
}

/**
 * Accumulates frame records: frames and bytes per link.
 *
 * @example
 * ```ts
 * const frames = new FrameStats();
 * for await (const r of reader.records()) if (r.record === "frame") frames.add(r);
 * frames.summary().byLink["n1->n2"].frames;
 * ```
 */
export class FrameStats {
  private frames = 0;
  private bytes = 0;
  private broadcast = 0;
  private unknown = 0;
  private readonly byLink = new Map<string, LinkCounts>();
  private readonly faults = new Map<string, number>();
  private first = Infinity;
  private last = -Infinity;

  /** Counts one frame. */
  add(
    record: Pick<
      FrameRecord,
      "from" | "to" | "length" | "time" | "broadcast" | "unknown" | "dropped" | "absent" | "faults"
    >,
  ): void {
    this.frames++;
    this.bytes += record.length;
    if (record.broadcast) this.broadcast++;
    if (record.unknown) this.unknown++;
    for (const to of record.to) {
      const key = `${record.from}->${to}`;
      let link = this.byLink.get(key);
      if (!link) this.byLink.set(key, link = { frames: 0, bytes: 0, dropped: 0, absent: 0 });
      link.frames++;
      link.bytes += record.length;
      if (record.dropped?.includes(to)) link.dropped++;
      if (record.absent?.includes(to)) link.absent++;
    }
    for (const fault of record.faults ?? []) {
      this.faults.set(fault.kind, (this.faults.get(fault.kind) ?? 0) + 1);
    }
    if (record.time < this.first) this.first = record.time;
    if (record.time > this.last) this.last = record.time;
  }

  /** A snapshot of the counts, links sorted by name. */
  summary(): FrameSummary {
    return {
      frames: this.frames,
      bytes: this.bytes,
      broadcast: this.broadcast,
      unknown: this.unknown,
      byLink: Object.fromEntries(
        [...this.byLink].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
          [key, counts],
        ) => [key, { ...counts }]),
      ),
      faults: Object.fromEntries(this.faults),
      duration: this.last > this.first ? this.last - this.first : 0,
    };
  }
}
