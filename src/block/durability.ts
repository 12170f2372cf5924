/**
 * The volatile-cache model of docs/durability.md, as a pure state machine fed with
 * completed ops in completion order: live by the server (for statistics) and,
 * from a trace, by the crash-state builder.
 *
 * A completed write (trim and write-zeroes alike) is volatile until a flush that
 * arrived after its completion completes, or durable at once if it carried FUA.
 * Order is kept on one counter: an op's `index` is its arrival position and its
 * `done` is how many ops had arrived when it completed, so write W completed
 * before flush F arrived exactly when `W.done <= F.index`.
 *
 * @module
 */

import { isWriteLike, type OpType } from "./backend.ts";

/** The facts about a completed op that durability depends on. */
export interface CompletedOp {
  index: number;
  done: number;
  disk: string;
  type: OpType;
  offset: number;
  length: number;
  fua: boolean;
  /** The op succeeded from the client's point of view. */
  ok: boolean;
  /**
   * The op's bytes reached the store (false for a lost write); for a flush, it reached the
   * platter (false for a flush the disk acknowledged without flushing).
   */
  stored: boolean;
}

/** A completed write that a power loss would drop. */
export interface VolatileWrite {
  index: number;
  done: number;
  offset: number;
  length: number;
}

/** Per-disk counts, for statistics. */
export interface DurabilityCounts {
  volatileWrites: number;
  volatileBytes: number;
  durableWrites: number;
}

/**
 * Tracks which completed writes are volatile.
 *
 * @example
 * ```ts
 * const model = new DurabilityModel();
 * model.complete({ index: 0, done: 1, disk: "vda", type: "write", offset: 0, length: 512, fua: false, ok: true, stored: true });
 * model.volatileWrites("vda").length; // 1
 * model.complete({ index: 1, done: 2, disk: "vda", type: "flush", offset: 0, length: 0, fua: false, ok: true, stored: true });
 * model.volatileWrites("vda").length; // 0
 * ```
 */
export class DurabilityModel {
  private readonly disks = new Map<string, DiskWrites>();

  /** Feeds one completed op; ops must come in completion order. */
  complete(op: CompletedOp): void {
    if (!op.ok) return;
    if (isWriteLike(op.type)) {
      if (!op.stored) return;
      const disk = this.diskOf(op.disk);
      if (op.fua) disk.durable++;
      else disk.push(op.index, op.done, op.offset, op.length);
    } else if (op.type === "flush" && op.stored) {
      // Writes are kept in completion order, and `done` never decreases along it: the writes a
      // flush covers (done <= its index) are a prefix.
      this.disks.get(op.disk)?.dropPrefix(op.index);
    }
  }

  /** Forgets everything (or the given disks): after a power loss, what is on the disks is durable. */
  reset(disks?: readonly string[]): void {
    if (disks === undefined) this.disks.clear();
    else for (const disk of disks) this.disks.delete(disk);
  }

  /** The writes of a disk that a power loss now would drop, in completion order. */
  volatileWrites(disk: string): readonly VolatileWrite[] {
    return this.disks.get(disk)?.list() ?? [];
  }

  /** Counts for one disk. */
  counts(disk: string): DurabilityCounts {
    const state = this.disks.get(disk);
    return {
      volatileWrites: state?.count ?? 0,
      volatileBytes: state?.bytes ?? 0,
      durableWrites: state?.durable ?? 0,
    };
  }

  private diskOf(disk: string): DiskWrites {
    let state = this.disks.get(disk);
    if (!state) this.disks.set(disk, state = new DiskWrites());
    return state;
  }
}

/**
 * One disk's volatile writes as a queue in typed arrays: a disk that is never
 * flushed (a benchmark) keeps hundreds of thousands, without making garbage.
 */
class DiskWrites {
  private fields = new Float64Array(4 * 256);
  private head = 0;
  private tail = 0;
  bytes = 0;
  durable = 0;

  get count(): number {
    return this.tail - this.head;
  }

  push(index: number, done: number, offset: number, length: number): void {
    if (4 * (this.tail + 1) > this.fields.length) {
      const live = this.fields.subarray(4 * this.head, 4 * this.tail);
      const grown = new Float64Array(Math.max(4 * 256, 2 * live.length + 4));
      grown.set(live);
      this.fields = grown;
      this.tail -= this.head;
      this.head = 0;
    }
    const f = 4 * this.tail++;
    this.fields[f] = index;
    this.fields[f + 1] = done;
    this.fields[f + 2] = offset;
    this.fields[f + 3] = length;

    this.bytes += length;
  }

  /** Makes durable every write with `done <= flushIndex` (a prefix of the queue). */
  dropPrefix(flushIndex: number): void {
    while (this.head < this.tail && this.fields[4 * this.head + 1] <= flushIndex) {
      this.bytes -= this.fields[4 * this.head + 3];
      this.head++;
      this.durable++;
    }
  }

  list(): VolatileWrite[] {
    const out: VolatileWrite[] = [];
    for (let i = this.head; i < this.tail; i++) {
      const f = 4 * i;
      out.push({
        index: this.fields[f],
        done: this.fields[f + 1],
        offset: this.fields[f + 2],
        length: this.fields[f + 3],
      });
    }
    return out;
  }
}
