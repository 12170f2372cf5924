/**
 * The recording layer: the outermost block layer, so it sees every op with
 * its final outcome, the fault injected into it included. When an op completes
 * it builds the op's record and hands it to its sinks (the trace writer, the
 * statistics, the durability model).
 *
 * @module
 */

import { type BlockBackend, BlockError, type BlockOp } from "../block/backend.ts";
import type { OpClock } from "../block/op_clock.ts";
import { dataHash } from "./hash.ts";
import type { OpRecord } from "./schema.ts";

/** Options of {@link RecordingLayer}. */
export interface RecorderOptions {
  /** The node the disk belongs to. */
  node: string;
  /** The disk's name in its node, when it differs from the export name. */
  disk?: string;
  /** The run's clock: `done` and times come from it. */
  clock: OpClock;
  /** Receive every record, in completion order. */
  sinks: ((record: OpRecord) => void)[];
  /**
   * Hash written bytes (XXH64) into `hash`, unless `keepData`: a reader computes the hash
   * of bytes the trace holds (trace version 3).
   */
  hashData: boolean;
  /** Keep written bytes in `data`. */
  keepData: boolean;
  /**
   * A sink keeps records after it returns (the run's list of records): the
   * bytes of a write served on the fast lane, a view that is reused, are then
   * copied into the record. The trace writer copies them as it appends.
   */
  sinksKeepRecords?: boolean;
  /**
   * The trace, when it keeps written bytes: a write on the fast lane is told
   * where its bytes will be in it (`logPosition`), so that the store can keep
   * that position instead of a copy.
   */
  log?: { dataPosition(record: OpRecord): number };
  /** The run's current phase, if it has phases. */
  phase?: () => string | undefined;
  /** The current step of a node's workload (`report step NAME`), if it named one. */
  step?: (node: string) => string | undefined;
}

/**
 * Records every op that passes through it.
 *
 * @example
 * ```ts
 * const disk = new RecordingLayer(new FaultLayer(store, engine), {
 *   node: "serve", clock, sinks: [(r) => trace.append(r)], hashData: true, keepData: true,
 * });
 * ```
 */
export class RecordingLayer implements BlockBackend {
  constructor(private readonly next: BlockBackend, private readonly options: RecorderOptions) {}

  get size(): number {
    return this.next.size;
  }

  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    return this.next.execute(op).then(
      (result) => {
        this.emit(op, "ok");
        return result;
      },
      (error) => {
        this.emit(op, error instanceof BlockError ? error.errno : "eio");
        throw error;
      },
    );
  }

  /**
   * The fast lane: the record is made as soon as the layers under it served
   * the op. A logged write's record is made first, with the time it is served,
   * so that its bytes' place in the trace is known before the store sees it.
   */
  executeNow(op: BlockOp, into: Uint8Array, at: number): boolean {
    if (!this.next.executeNow) return false;
    const log = this.options.log;
    let record: OpRecord | null = null;
    if (log && op.type === "write" && op.data && this.options.keepData) {
      record = this.record(op, "ok", true);
      const position = log.dataPosition(record);
      if (position >= 0) op.logPosition = position;
    }
    let served: boolean;
    try {
      served = this.next.executeNow(op, into, at);
    } catch (error) {
      op.logPosition = undefined;
      this.deliver(this.record(op, error instanceof BlockError ? error.errno : "eio", true));
      throw error;
    }
    if (!served) {
      op.logPosition = undefined;
      return false;
    }
    this.deliver(record ?? this.record(op, "ok", true));
    return true;
  }

  close(): Promise<void> {
    return this.next.close();
  }

  private emit(op: BlockOp, result: string): void {
    this.deliver(this.record(op, result, false));
  }

  private deliver(record: OpRecord): void {
    for (const sink of this.options.sinks) sink(record);
  }

  /** The op's record; `transient`: its data is a view that is reused after this turn. */
  private record(op: BlockOp, result: string, transient: boolean): OpRecord {
    const { clock, node } = this.options;
    const record: OpRecord = {
      record: "op",
      index: op.index,
      done: clock.arrivals,
      node,
      disk: this.options.disk ?? op.disk,
      op: op.type,
      offset: op.offset,
      length: op.length,
      start: op.arrivedAt,
      end: clock.now(),
      result,
    };
    if (op.fua) record.fua = true;
    if (op.noHole) record.noHole = true;
    if (op.fault) record.fault = op.fault;
    if (op.type === "write" && op.data) {
      if (this.options.hashData && !this.options.keepData) record.hash = dataHash(op.data);
      if (this.options.keepData) {
        record.data = transient && this.options.sinksKeepRecords ? op.data.slice() : op.data;
      }
    }
    const phase = this.options.phase?.();
    if (phase !== undefined) record.phase = phase;
    const step = this.options.step?.(this.options.node);
    if (step !== undefined) record.step = step;
    return record;
  }
}
