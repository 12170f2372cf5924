/**
 * Writes a trace as it goes: every record is packed at once into a batch that
 * is written out when it grows past a size or after a short interval, so a
 * recorder that is killed leaves a trace that reads up to its last batch.
 *
 * Plain msgpack only (`useRecords: false`): any msgpack library reads it.
 *
 * The writer is also a byte log for the store (`ByteLog`): a write's bytes,
 * once appended, can be read back by their position in the file, from the
 * batch still in memory or from the file. The overlay then keeps that position
 * instead of a second copy of the bytes, and a recorded write lands in memory
 * once, as the trace's page cache, the way a file server's write does.
 *
 * Writes are synchronous, in the turn that appends: small records go out in
 * batches, and a large write's bytes go to the file from the request's buffer
 * (no copy into the batch). Measured with nbdcopy's 256 KiB writes
 * (bench/README.md), this cost less CPU than copying into batches that another
 * thread writes, and in the bench (a server that served qemu-img's requests
 * first) nbdcopy into it ran 1.7 to 3.5 times faster.
 *
 * @module
 */

import { Packr } from "msgpackr";
import { TraceError } from "./errors.ts";
import {
  type EventRecord,
  type FooterRecord,
  type FrameRecord,
  type HeaderFields,
  type HeaderRecord,
  type OpRecord,
  TRACE_FORMAT,
  TRACE_VERSION,
} from "./schema.ts";
import { OpRecordEncoder } from "./op_codec.ts";
import type { ByteLog } from "../block/backend.ts";
import { PositionedFile } from "../block/positioned_file.ts";

/** A batch is written when it holds this many bytes... */
const BATCH_BYTES = 1 << 20;
/** ...or this long after its first record. */
const BATCH_MS = 100;
/**
 * A write's bytes from this size on go to the file from where they are (the
 * request's buffer), not copied into the batch first.
 */
const DIRECT_BYTES = 64 * 1024;
/**
 * The file's blocks are reserved ahead of the writes, at most this much at a
 * time (doubling from 1 MiB): appending into reserved blocks spares ext4 its
 * per-page allocation, about 30% of a 256 KiB append's system time here
 * (368 -> 261 us/MiB, bench/README.md).
 */
const RESERVE_MAX = 64 << 20;

/**
 * A trace being written.
 *
 * @example
 * ```ts
 * const trace = await TraceWriter.create("run.trace", header);
 * trace.append(opRecord);
 * await trace.close({ ops: 1, duration: 12, endedAt: new Date().toISOString() });
 * ```
 */
export class TraceWriter implements ByteLog {
  private readonly packr = new Packr({ useRecords: false, moreTypes: false });
  private readonly opEncoder = new OpRecordEncoder();
  /** Reused from batch to batch: recording must not make garbage per op. */
  private batch: Uint8Array = new Uint8Array(BATCH_BYTES * 2);
  private batchLength = 0;
  /** Where the current batch starts in the file. */
  private batchStart = 0;
  /** Where the blocks reserved ahead of the writes end ({@link RESERVE_MAX}). */
  private reservedTo = 0;
  /** Bytes whose write failed, by position: the store may still read them back. */
  private readonly unwritten: { start: number; bytes: Uint8Array }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: Error | null = null;
  private closed = false;
  private opCount = 0;
  private frameCount = 0;

  private constructor(private readonly file: PositionedFile, readonly path: string) {}

  /**
   * Creates (or replaces) the file and writes the header at once.
   *
   * @throws {TraceError} when the file cannot be created, or the header has a scenario
   *   without its `scenarioVersion` (a reader could not tell how to read it).
   */
  static async create(path: string, header: HeaderFields): Promise<TraceWriter> {
    if (header.scenario !== undefined && header.scenarioVersion === undefined) {
      throw new TraceError(`the header of ${path} has a scenario without its scenarioVersion`);
    }
    let file: PositionedFile;
    try {
      file = PositionedFile.open(path, { write: true, create: true, truncate: true });
    } catch (error) {
      throw new TraceError(`cannot create trace ${path}: ${error}`);
    }
    const writer = new TraceWriter(file, path);
    writer.append({ record: "header", format: TRACE_FORMAT, version: TRACE_VERSION, ...header });
    await writer.flush();
    return writer;
  }

  /** Ops appended so far. */
  get opsWritten(): number {
    return this.opCount;
  }

  /** The first write error, if any; records appended after it are lost. */
  get error(): Error | null {
    return this.failure;
  }

  /**
   * Where the bytes of `record`'s `data` will be in the file if it is the next
   * record appended, or -1 when they will not be (no data, a fault, or the
   * writer closed or failed).
   */
  dataPosition(record: OpRecord): number {
    if (this.closed || this.failure) return -1;
    const offset = this.opEncoder.dataOffset(record);
    return offset < 0 ? -1 : this.batchStart + this.batchLength + offset;
  }

  /**
   * Copies `length` bytes at `position` of the file into `into` at `at`: bytes
   * of records appended before, from the batch in memory or from the file.
   */
  readAt(position: number, into: Uint8Array, at: number, length: number): void {
    if (position >= this.batchStart) {
      const from = position - this.batchStart;
      into.set(this.batch.subarray(from, from + length), at);
      return;
    }
    for (const lost of this.unwritten) {
      if (position >= lost.start && position < lost.start + lost.bytes.length) {
        const from = position - lost.start;
        into.set(lost.bytes.subarray(from, from + length), at);
        return;
      }
    }
    this.file.readInto(position, into, at, length);
  }

  /** Appends one record. Never throws: a write failure shows in {@link error} and at close. */
  append(record: HeaderRecord | OpRecord | FrameRecord | EventRecord): void {
    if (this.closed || this.failure) return;
    if (record.record === "frame") this.frameCount++;
    if (record.record === "op") {
      this.opCount++;
      this.appendOp(record);
    } else this.push(this.packr.pack(record));
    if (this.batchLength >= BATCH_BYTES) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  /** An op record, with its fast encoder; a large write's bytes straight from where they are. */
  private appendOp(record: OpRecord): void {
    const data = record.data;
    if (data && data.length >= DIRECT_BYTES && !record.fault) {
      this.reserve(this.opEncoder.maxSize(record) - data.length);
      this.batchLength = this.opEncoder.encodeHeadInto(record, this.batch, this.batchLength);
      this.writeBatch();
      this.writeAt(this.batchStart, data);
      this.batchStart += data.length;
      this.batchLength = this.opEncoder.encodeTailInto(record, this.batch, 0);
      return;
    }
    this.reserve(this.opEncoder.maxSize(record));
    const end = this.opEncoder.encodeInto(record, this.batch, this.batchLength);
    if (end >= 0) this.batchLength = end;
    else this.push(this.packr.pack(record));
  }

  private push(packed: Uint8Array): void {
    this.reserve(packed.length);
    this.batch.set(packed, this.batchLength);
    this.batchLength += packed.length;
  }

  /** Makes room for `bytes` more in the batch. */
  private reserve(bytes: number): void {
    if (this.batchLength + bytes <= this.batch.length) return;
    const bigger = new Uint8Array(Math.max(this.batch.length * 2, this.batchLength + bytes));
    bigger.set(this.batch.subarray(0, this.batchLength));
    this.batch = bigger;
  }

  /**
   * Writes the current batch; resolves when everything appended so far is in
   * the file (it is already: the writes are synchronous, see {@link writeAt}).
   */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writeBatch();
    return Promise.resolve();
  }

  private writeBatch(): void {
    if (this.batchLength === 0) return;
    this.writeAt(this.batchStart, this.batch.subarray(0, this.batchLength));
    this.batchStart += this.batchLength;
    this.batchLength = 0;
  }

  /**
   * Writes `bytes` at `position`, in this turn: one `pwrite` into the page
   * cache, cheaper here than handing the batch to another thread (each
   * handover wakes it) and no slower for the requests, which wait for this
   * one thread anyway. Bytes that do not reach the file stay readable from
   * memory.
   */
  private writeAt(position: number, bytes: Uint8Array): void {
    if (this.failure) {
      this.unwritten.push({ start: position, bytes: bytes.slice() });
      return;
    }
    try {
      const end = position + bytes.length;
      if (end > this.reservedTo) {
        const ahead = Math.min(RESERVE_MAX, Math.max(1 << 20, this.reservedTo));
        this.file.reserve(this.reservedTo, end - this.reservedTo + ahead);
        this.reservedTo = end + ahead;
      }
      this.file.write(position, bytes);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.unwritten.push({ start: position, bytes: bytes.slice() });
    }
  }

  /**
   * Appends the footer, writes everything and closes the file.
   *
   * @throws {TraceError} when any write failed: the trace lacks records.
   */
  async close(footer: Omit<FooterRecord, "record" | "ops">): Promise<void> {
    if (this.closed) return;
    if (!this.failure) {
      const frames = this.frameCount > 0 ? { frames: this.frameCount } : {};
      this.push(this.packr.pack({ record: "footer", ops: this.opCount, ...frames, ...footer }));
    }
    this.closed = true;
    await this.flush();
    try {
      // Gives back the blocks reserved past the end.
      if (!this.failure) this.file.truncate(this.batchStart);
      this.file.syncData();
    } catch { /* best effort: some file systems cannot sync */ }
    this.file.close();
    if (this.failure) {
      throw new TraceError(`writing trace ${this.path} failed: ${this.failure.message}`);
    }
  }
}
