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
import { writeAll } from "../util/write_all.ts";
import type { ByteLog } from "../block/backend.ts";
import { PositionedFile } from "../block/positioned_file.ts";

/** A batch is written when it holds this many bytes... */
const BATCH_BYTES = 1 << 20;
/** ...or this long after its first record. */
const BATCH_MS = 100;
/**
 * Written batches kept for reuse: enough to cover the writes under way when
 * the file is slower than the requests for a moment (fresh memory is dear on
 * a virtual machine: its first touch costs more than the copy).
 */
const SPARE_BATCHES = 8;
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
  /** Batches whose write finished, for reuse: recording must not make garbage per op. */
  private readonly spare: Uint8Array[] = [];
  private batch: Uint8Array = new Uint8Array(BATCH_BYTES * 2);
  private batchLength = 0;
  /** Where the current batch starts in the file. */
  private batchStart = 0;
  /** Batches handed to the file and not yet known written (or whose write failed), by position. */
  private readonly pending: { start: number; bytes: Uint8Array }[] = [];
  /** Resolved when the backlog of batches has shrunk to half (see {@link congested}). */
  private relief: PromiseWithResolvers<void> | null = null;
  /** The file opened for reading back written bytes and reserving blocks, once needed. */
  private positioned: PositionedFile | null = null;
  /** Where the blocks reserved ahead of the writes end ({@link RESERVE_MAX}). */
  private reservedTo = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private closed = false;
  private opCount = 0;
  private frameCount = 0;

  private constructor(private readonly file: Deno.FsFile, readonly path: string) {}

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
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, create: true, truncate: true });
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
   * Null while the file keeps up; when {@link SPARE_BATCHES} batches wait for
   * it, a promise that resolves once half of them are written. The server
   * stops reading requests meanwhile: batches are reused instead of new memory
   * taken for each.
   */
  congested(): Promise<void> | null {
    if (this.pending.length < SPARE_BATCHES || this.failure) return null;
    this.relief ??= Promise.withResolvers<void>();
    return this.relief.promise;
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
    for (const batch of this.pending) {
      if (position >= batch.start && position < batch.start + batch.bytes.length) {
        const from = position - batch.start;
        into.set(batch.bytes.subarray(from, from + length), at);
        return;
      }
    }
    this.positionedFile().readInto(position, into, at, length);
  }

  /** Appends one record. Never throws: a write failure shows in {@link error} and at close. */
  append(record: HeaderRecord | OpRecord | FrameRecord | EventRecord): void {
    if (this.closed || this.failure) return;
    if (record.record === "frame") this.frameCount++;
    let end = -1;
    if (record.record === "op") {
      this.opCount++;
      this.reserve(this.opEncoder.maxSize(record));
      end = this.opEncoder.encodeInto(record, this.batch, this.batchLength);
    }
    if (end >= 0) this.batchLength = end;
    else this.push(this.packr.pack(record));
    if (this.batchLength >= BATCH_BYTES) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), BATCH_MS);
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

  /** Writes the current batch; resolves when everything appended so far is in the file. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.batchLength > 0) {
      const full = this.batch;
      const bytes = full.subarray(0, this.batchLength);
      const entry = { start: this.batchStart, bytes };
      this.pending.push(entry);
      this.batchStart += this.batchLength;
      this.batch = this.spare.pop() ?? new Uint8Array(BATCH_BYTES * 2);
      this.batchLength = 0;
      this.writing = this.writing.then(async () => {
        this.reserveFor(entry.start + bytes.length);
        await this.writeAll(bytes);
        // Bytes that never reached the file stay readable from memory.
        if (this.failure) {
          this.relieve();
          return;
        }
        this.pending.splice(this.pending.indexOf(entry), 1);
        if (this.pending.length <= SPARE_BATCHES / 2) this.relieve();
        if (this.spare.length < SPARE_BATCHES && full.length === BATCH_BYTES * 2) {
          this.spare.push(full);
        }
      });
    }

    return this.writing;
  }

  /** Reserves the file's blocks up to `end` and some way beyond, when they are not yet. */
  private reserveFor(end: number): void {
    if (end <= this.reservedTo || this.failure) return;
    const ahead = Math.min(RESERVE_MAX, Math.max(1 << 20, this.reservedTo));
    try {
      this.positionedFile().reserve(this.reservedTo, end - this.reservedTo + ahead);
    } catch { /* best effort: the writes allocate their blocks themselves */ }
    this.reservedTo = end + ahead;
  }

  private positionedFile(): PositionedFile {
    return this.positioned ??= PositionedFile.open(this.path, { write: true });
  }

  private relieve(): void {
    const relief = this.relief;
    this.relief = null;
    relief?.resolve();
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
      if (!this.failure) await this.file.truncate(this.batchStart);
      await this.file.sync();
    } catch { /* best effort: some file systems cannot sync */ }
    this.file.close();
    this.positioned?.close();
    this.positioned = null;
    if (this.failure) {
      throw new TraceError(`writing trace ${this.path} failed: ${this.failure.message}`);
    }
  }

  private async writeAll(bytes: Uint8Array): Promise<void> {
    if (this.failure) return;
    try {
      await writeAll(this.file, bytes);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }
}
