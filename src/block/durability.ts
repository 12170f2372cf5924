/**
 * The volatile-cache model of design.md, as a pure state machine fed with
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
  /** The op's bytes reached the store (false for a lost write). */
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
  private readonly volatile = new Map<string, VolatileWrite[]>();
  private readonly durable = new Map<string, number>();

  /** Feeds one completed op; ops must come in completion order. */
  complete(op: CompletedOp): void {
    if (!op.ok) return;
    if (isWriteLike(op.type)) {
      if (!op.stored) return;
      if (op.fua) {
        this.addDurable(op.disk, 1);
      } else {
        this.listOf(op.disk).push({
          index: op.index,
          done: op.done,
          offset: op.offset,
          length: op.length,
        });
      }
    } else if (op.type === "flush") {
      const list = this.volatile.get(op.disk);
      if (!list) return;
      const remaining = list.filter((write) => write.done > op.index);
      this.addDurable(op.disk, list.length - remaining.length);
      this.volatile.set(op.disk, remaining);
    }
  }

  /** Forgets everything: after a power loss, what is on the disks is durable. */
  reset(): void {
    this.volatile.clear();
    this.durable.clear();
  }

  /** The writes of a disk that a power loss now would drop, in completion order. */
  volatileWrites(disk: string): readonly VolatileWrite[] {
    return this.volatile.get(disk) ?? [];
  }

  /** Counts for one disk. */
  counts(disk: string): DurabilityCounts {
    const list = this.volatileWrites(disk);
    return {
      volatileWrites: list.length,
      volatileBytes: list.reduce((sum, write) => sum + write.length, 0),
      durableWrites: this.durable.get(disk) ?? 0,
    };
  }

  private listOf(disk: string): VolatileWrite[] {
    let list = this.volatile.get(disk);
    if (!list) this.volatile.set(disk, list = []);
    return list;
  }

  private addDurable(disk: string, count: number): void {
    this.durable.set(disk, (this.durable.get(disk) ?? 0) + count);
  }
}
