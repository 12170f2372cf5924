/**
 * A fast msgpack encoder for op records, the trace's hot path: it writes a
 * record straight into the writer's batch, with the keys and the repeated
 * strings encoded once, so that recording a 4 KiB write copies its data once,
 * into the batch, and builds no buffer of its own. The output is plain msgpack (a map with string keys),
 * exactly what a generic encoder writes for the same object. Records with a
 * fault (rare) go through the generic encoder. Pure.
 *
 * Spec: https://github.com/msgpack/msgpack/blob/master/spec.md
 *
 * @module
 */

import type { OpRecord } from "./schema.ts";

const encoder = new TextEncoder();

/** Encodes a string as msgpack (fixstr, str8 or str16). */
function encodeString(text: string): Uint8Array {
  const utf8 = encoder.encode(text);
  const n = utf8.length;
  const head = n < 32 ? [0xa0 | n] : n < 256 ? [0xd9, n] : [0xda, n >> 8, n & 0xff];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(utf8, head.length);
  return out;
}

const KEYS = Object.fromEntries(
  [
    "record",
    "index",
    "done",
    "node",
    "disk",
    "op",
    "offset",
    "length",
    "fua",
    "noHole",
    "start",
    "end",
    "result",
    "hash",
    "data",
    "phase",
    "step",
  ].map((key) => [key, encodeString(key)]),
) as Record<string, Uint8Array>;

/** The number of fields `record` has, as its map header says. */
function fieldCount(record: OpRecord): number {
  return 11 + (record.fua ? 1 : 0) + (record.noHole ? 1 : 0) +
    (record.hash !== undefined ? 1 : 0) +
    (record.data !== undefined ? 1 : 0) + (record.phase !== undefined ? 1 : 0) +
    (record.step !== undefined ? 1 : 0);
}

/** Writes msgpack values into a buffer, moving on past each. */
class MsgpackCursor {
  private out: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.out.buffer);
  /** Where the next value goes. */
  at = 0;

  /** Writes into `out` from `at` on. */
  moveTo(out: Uint8Array, at: number): void {
    this.out = out;
    this.view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    this.at = at;
  }

  /** Bytes already encoded (a key, a string, a write's data). */
  raw(bytes: Uint8Array): void {
    this.out.set(bytes, this.at);
    this.at += bytes.length;
  }

  true(): void {
    this.out[this.at++] = 0xc3;
  }

  /** A non-negative integer in the smallest form. */
  uint(value: number): void {
    const out = this.out;
    if (value < 128) out[this.at++] = value;
    else if (value < 256) {
      out[this.at++] = 0xcc;
      out[this.at++] = value;
    } else if (value < 65536) {
      out[this.at++] = 0xcd;
      this.view.setUint16(this.at, value);
      this.at += 2;
    } else if (value < 2 ** 32) {
      out[this.at++] = 0xce;
      this.view.setUint32(this.at, value);
      this.at += 4;
    } else {
      // Above 32 bits a float64 holds every integer an offset can be, and decodes as a number everywhere.
      this.float64(value);
    }
  }

  /** A time: a non-negative integer as {@link uint}, anything else a float64. */
  number(value: number): void {
    if (Number.isInteger(value) && value >= 0) this.uint(value);
    else this.float64(value);
  }

  mapHeader(fields: number): void {
    if (fields < 16) this.out[this.at++] = 0x80 | fields;
    else {
      this.out[this.at++] = 0xde;
      this.view.setUint16(this.at, fields);
      this.at += 2;
    }
  }

  binHeader(length: number): void {
    const out = this.out;
    if (length < 256) {
      out[this.at++] = 0xc4;
      out[this.at++] = length;
    } else if (length < 65536) {
      out[this.at++] = 0xc5;
      this.view.setUint16(this.at, length);
      this.at += 2;
    } else {
      out[this.at++] = 0xc6;
      this.view.setUint32(this.at, length);
      this.at += 4;
    }
  }

  private float64(value: number): void {
    this.out[this.at++] = 0xcb;
    this.view.setFloat64(this.at, value);
    this.at += 8;
  }
}

/** Bytes an op record can take besides its strings and data. */
const FIXED_MAX = 200;

/**
 * Writes op records into a buffer.
 *
 * @example
 * ```ts
 * const codec = new OpRecordEncoder();
 * const end = codec.encodeInto(record, buffer, 0); // or -1 when the record has a fault
 * ```
 */
export class OpRecordEncoder {
  private readonly strings = new Map<string, Uint8Array>();
  private readonly cursor = new MsgpackCursor();
  private scratch = new Uint8Array(1024);

  /** An upper bound of the bytes {@link encodeInto} writes for a record. */
  maxSize(record: OpRecord): number {
    return FIXED_MAX + record.node.length * 3 + record.disk.length * 3 +
      (record.phase?.length ?? 0) * 3 + (record.step?.length ?? 0) * 3 +
      record.result.length * 3 + (record.data?.length ?? 0);
  }

  /**
   * Encodes `record` at `at` in `out` (which has room for {@link maxSize}
   * bytes) and returns where it ends; returns -1 for a record this encoder
   * leaves to the generic one (one with a fault).
   */
  encodeInto(record: OpRecord, out: Uint8Array, at: number): number {
    if (record.fault) return -1;
    const cursor = this.cursor;
    cursor.moveTo(out, at);
    cursor.mapHeader(fieldCount(record));
    this.writeFieldsBeforeData(record);
    if (record.data !== undefined) {
      cursor.raw(KEYS.data);
      cursor.binHeader(record.data.length);
      cursor.raw(record.data);
    }
    this.writeFieldsAfterData(record);
    return cursor.at;
  }

  /**
   * How many bytes of the encoded record come before its `data`'s bytes (the
   * record's keys and fields and the bin header), without writing it; -1 when
   * {@link encodeInto} would not encode it or it has no data. The trace keeps a
   * write's bytes at a position a store can read them back from.
   */
  dataOffset(record: OpRecord): number {
    if (record.fault || record.data === undefined) return -1;
    const room = this.maxSize(record) - record.data.length;
    if (this.scratch.length < room) this.scratch = new Uint8Array(room * 2);
    return this.encodeHeadInto(record, this.scratch, 0);
  }

  /**
   * Encodes `record` at `at` in `out` up to its `data`'s bytes, which are left
   * to the caller (the trace writes a large write's bytes from where they
   * are), and returns where they go; -1 when the record has a fault or no
   * data. {@link encodeTailInto} writes what follows them.
   */
  encodeHeadInto(record: OpRecord, out: Uint8Array, at: number): number {
    if (record.fault || record.data === undefined) return -1;
    const cursor = this.cursor;
    cursor.moveTo(out, at);
    cursor.mapHeader(fieldCount(record));
    this.writeFieldsBeforeData(record);
    cursor.raw(KEYS.data);
    cursor.binHeader(record.data.length);
    return cursor.at;
  }

  /** Encodes the fields that follow `record`'s data at `at` in `out`; returns where they end. */
  encodeTailInto(record: OpRecord, out: Uint8Array, at: number): number {
    this.cursor.moveTo(out, at);
    this.writeFieldsAfterData(record);
    return this.cursor.at;
  }

  /** The fields before `data`, in the order a generic encoder writes the object's keys. */
  private writeFieldsBeforeData(record: OpRecord): void {
    const cursor = this.cursor;
    cursor.raw(KEYS.record);
    this.string("op");
    cursor.raw(KEYS.index);
    cursor.uint(record.index);
    cursor.raw(KEYS.done);
    cursor.uint(record.done);
    cursor.raw(KEYS.node);
    this.string(record.node);
    cursor.raw(KEYS.disk);
    this.string(record.disk);
    cursor.raw(KEYS.op);
    this.string(record.op);
    cursor.raw(KEYS.offset);
    cursor.uint(record.offset);
    cursor.raw(KEYS.length);
    cursor.uint(record.length);
    if (record.fua) {
      cursor.raw(KEYS.fua);
      cursor.true();
    }
    if (record.noHole) {
      cursor.raw(KEYS.noHole);
      cursor.true();
    }
    cursor.raw(KEYS.start);
    cursor.number(record.start);
    cursor.raw(KEYS.end);
    cursor.number(record.end);
    cursor.raw(KEYS.result);
    this.string(record.result);
    if (record.hash !== undefined) {
      cursor.raw(KEYS.hash);
      this.string(record.hash);
    }
  }

  /** The fields after `data`. */
  private writeFieldsAfterData(record: OpRecord): void {
    if (record.phase !== undefined) {
      this.cursor.raw(KEYS.phase);
      this.string(record.phase);
    }
    if (record.step !== undefined) {
      this.cursor.raw(KEYS.step);
      this.string(record.step);
    }
  }

  /** A string, its bytes encoded once for the first 4096 strings seen. */
  private string(text: string): void {
    let bytes = this.strings.get(text);
    if (!bytes) {
      bytes = encodeString(text);
      if (this.strings.size < 4096) this.strings.set(text, bytes);
    }
    this.cursor.raw(bytes);
  }
}
