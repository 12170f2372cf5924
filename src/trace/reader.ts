/**
 * Reads a trace as a stream, in chunks, so traces larger than memory read. A
 * trace whose tail was cut (a recorder killed mid-write) reads up to its last
 * complete value, and the reader says where the cut was.
 *
 * @module
 */

import { Unpackr } from "msgpackr";
import { TraceFormatError } from "./errors.ts";
import { type HeaderRecord, TRACE_FORMAT, type TraceRecord } from "./schema.ts";
import { upgradeHeader, upgradeRecord } from "./upgrade.ts";

const CHUNK = 1 << 20;

/** How a trace ended. */
export interface TraceEnd {
  /** The footer, when the trace is complete. */
  footer: Extract<TraceRecord, { record: "footer" }> | null;
  /** Byte offset where an incomplete last value starts, when the tail was cut. */
  cutAt: number | null;
  /** Bytes after the last complete value that could not be read. */
  discardedBytes: number;
  /** Records of kinds this reader does not know (written by a newer faultline), skipped. */
  unknownRecords: number;
}

/**
 * Says in one line what is wrong with how a trace ended, or null when it is complete.
 *
 * @example
 * ```ts
 * const warning = describeEnd(reader.path, reader.end);
 * ```
 */
export function describeEnd(path: string, end: TraceEnd): string | null {
  if (end.cutAt !== null) {
    return `${path}: the trace was cut at byte ${end.cutAt} (${end.discardedBytes} bytes of an incomplete record dropped); read up to its last complete record`;
  }
  if (!end.footer) {
    return `${path}: the trace has no footer (recording did not finish); read every record it has`;
  }
  return null;
}

/**
 * A trace opened for reading.
 *
 * @example
 * ```ts
 * const reader = await TraceReader.open("run.trace");
 * for await (const record of reader.records()) if (record.record === "op") count++;
 * const warning = describeEnd(reader.path, reader.end);
 * ```
 */
export class TraceReader {
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  private pending: unknown[] = [];
  private buffer = new Uint8Array(0);
  /** File offset of `buffer[0]`. */
  private bufferStart = 0;
  private eof = false;
  private ended: TraceEnd | null = null;
  private unknown = 0;

  private constructor(
    private readonly file: Deno.FsFile,
    readonly path: string,
    readonly header: HeaderRecord,
  ) {}

  /**
   * Opens a trace and reads its header.
   *
   * @throws {TraceFormatError} when the file is missing, empty, not a faultline trace, or of a
   *   version this code does not read (./upgrade.ts); an older version reads in the current shape.
   */
  static async open(path: string): Promise<TraceReader> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (error) {
      throw new TraceFormatError(
        `cannot open trace ${path}: ${error instanceof Error ? error.message : error}`,
      );
    }
    const reader = new TraceReader(file, path, undefined as unknown as HeaderRecord);
    try {
      const first = await reader.nextValue();
      const header = first as Partial<HeaderRecord> | undefined;
      if (header === undefined) {
        throw new TraceFormatError(`${path} is not a faultline trace: it holds no complete value`);
      }
      if (typeof header !== "object" || header === null || header.format !== TRACE_FORMAT) {
        throw new TraceFormatError(
          `${path} is not a faultline trace: its first value has no format "${TRACE_FORMAT}"`,
        );
      }
      (reader as { header: HeaderRecord }).header = upgradeHeader(
        header as Record<string, unknown>,
        path,
      );
      return reader;
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** How the trace ended; known once {@link records} has been read to its end. */
  get end(): TraceEnd {
    if (!this.ended) throw new Error("the trace's end is known only after reading all its records");
    return this.ended;
  }

  /** The records after the header, in file order (completion order). Closes the file at the end. */
  async *records(): AsyncGenerator<TraceRecord> {
    try {
      let footer: TraceEnd["footer"] = null;
      for (;;) {
        const value = await this.nextValue();
        if (value === undefined) break;
        const known = this.check(value);
        if (known === null) continue;
        const record = upgradeRecord(known, this.header.version);
        if (record.record === "footer") footer = record;
        yield record;
      }
      const leftover = this.buffer.length;
      this.ended = {
        footer,
        cutAt: leftover > 0 ? this.bufferStart : null,
        discardedBytes: leftover,
        unknownRecords: this.unknown,
      };
    } finally {
      this.close();
    }
  }

  /** Closes the file (also done when {@link records} finishes). */
  close(): void {
    try {
      this.file.close();
    } catch { /* already closed */ }
  }

  /** The record, or null for a record of a kind this reader does not know (skipped). */
  private check(value: unknown): TraceRecord | null {
    const kind = (value as { record?: unknown })?.record;
    if (typeof kind !== "string") {
      throw new TraceFormatError(
        `${this.path}: a value near byte ${this.bufferStart} is not a trace record`,
      );
    }
    if (kind !== "op" && kind !== "frame" && kind !== "event" && kind !== "footer") {
      this.unknown++;
      return null;
    }
    return value as TraceRecord;
  }

  /** The next complete value, or undefined at the end of the file (an incomplete tail stays in `buffer`). */
  private async nextValue(): Promise<unknown> {
    while (this.pending.length === 0) {
      if (this.buffer.length > 0) this.decodeBuffer();
      if (this.pending.length > 0) break;
      if (this.eof) return undefined;
      await this.readChunk();
    }
    return this.pending.shift();
  }

  /** Reads the next chunk of the file. */
  private async readChunk(): Promise<void> {
    const chunk = new Uint8Array(CHUNK);
    const n = await this.file.read(chunk);
    if (n === null) {
      this.eof = true;
      return;
    }
    const joined = new Uint8Array(this.buffer.length + n);
    joined.set(this.buffer);
    joined.set(chunk.subarray(0, n), this.buffer.length);
    this.buffer = joined;
  }

  /** Decodes the complete values buffered so far. */
  private decodeBuffer(): void {
    let consumed = 0;
    try {
      this.unpackr.unpackMultiple(this.buffer, (value: unknown, _start?: number, end?: number) => {
        this.pending.push(value);
        consumed = end ?? consumed;
      });
    } catch (error) {
      const incomplete = (error as { incomplete?: boolean }).incomplete;
      if (!incomplete) {
        throw new TraceFormatError(
          `${this.path}: corrupt data at byte ${this.bufferStart + consumed}: ${
            (error as Error).message
          }`,
        );
      }
    }
    this.bufferStart += consumed;
    this.buffer = this.buffer.subarray(consumed);
  }
}
