/**
 * A fast msgpack encoder for op records, the trace's hot path: it writes a
 * record straight into the writer's batch, with the keys and the repeated
 * strings encoded once, so that recording a 4 KiB write costs one copy of its
 * data and no allocation. The output is plain msgpack (a map with string keys),
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
  private scratch = new Uint8Array(1024);
  /** Where the last record's `data` began in its output, or -1 when it had none. */
  lastDataAt = -1;

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
    return this.encode(record, out, at, false);
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
    return this.encode(record, this.scratch, 0, true);
  }

  private encode(record: OpRecord, out: Uint8Array, at: number, prefixOnly: boolean): number {
    this.lastDataAt = -1;
    if (record.fault) return -1;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let p = at;
    const raw = (bytes: Uint8Array) => {
      out.set(bytes, p);
      p += bytes.length;
    };
    const string = (text: string) => {
      let bytes = this.strings.get(text);
      if (!bytes) {
        bytes = encodeString(text);
        if (this.strings.size < 4096) this.strings.set(text, bytes);
      }
      raw(bytes);
    };
    const uint = (value: number) => {
      if (value < 128) out[p++] = value;
      else if (value < 256) {
        out[p++] = 0xcc;
        out[p++] = value;
      } else if (value < 65536) {
        out[p++] = 0xcd;
        view.setUint16(p, value);
        p += 2;
      } else if (value < 2 ** 32) {
        out[p++] = 0xce;
        view.setUint32(p, value);
        p += 4;
      } else {
        // Above 32 bits a float64 holds every integer an offset can be, and decodes as a number everywhere.
        out[p++] = 0xcb;
        view.setFloat64(p, value);
        p += 8;
      }
    };
    const number = (value: number) => {
      if (Number.isInteger(value) && value >= 0) uint(value);
      else {
        out[p++] = 0xcb;
        view.setFloat64(p, value);
        p += 8;
      }
    };

    const fields = 11 + (record.fua ? 1 : 0) + (record.noHole ? 1 : 0) +
      (record.hash !== undefined ? 1 : 0) +
      (record.data !== undefined ? 1 : 0) + (record.phase !== undefined ? 1 : 0) +
      (record.step !== undefined ? 1 : 0);
    if (fields < 16) out[p++] = 0x80 | fields;
    else {
      out[p++] = 0xde;
      view.setUint16(p, fields);
      p += 2;
    }
    raw(KEYS.record);
    string("op");
    raw(KEYS.index);
    uint(record.index);
    raw(KEYS.done);
    uint(record.done);
    raw(KEYS.node);
    string(record.node);
    raw(KEYS.disk);
    string(record.disk);
    raw(KEYS.op);
    string(record.op);
    raw(KEYS.offset);
    uint(record.offset);
    raw(KEYS.length);
    uint(record.length);
    if (record.fua) {
      raw(KEYS.fua);
      out[p++] = 0xc3;
    }
    if (record.noHole) {
      raw(KEYS.noHole);
      out[p++] = 0xc3;
    }
    raw(KEYS.start);
    number(record.start);
    raw(KEYS.end);
    number(record.end);
    raw(KEYS.result);
    string(record.result);
    if (record.hash !== undefined) {
      raw(KEYS.hash);
      string(record.hash);
    }
    if (record.data !== undefined) {
      raw(KEYS.data);
      const n = record.data.length;
      if (n < 256) {
        out[p++] = 0xc4;
        out[p++] = n;
      } else if (n < 65536) {
        out[p++] = 0xc5;
        view.setUint16(p, n);
        p += 2;
      } else {
        out[p++] = 0xc6;
        view.setUint32(p, n);
        p += 4;
      }
      if (prefixOnly) return p - at;
      this.lastDataAt = p;
      raw(record.data);
    }
    if (record.phase !== undefined) {
      raw(KEYS.phase);
      string(record.phase);
    }
    if (record.step !== undefined) {
      raw(KEYS.step);
      string(record.step);
    }
    return p;
  }
}
