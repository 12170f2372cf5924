/**
 * The client's half of the NBD codec: what a client encodes (option requests,
 * transmission requests) and decodes (option reply and reply headers). The
 * server never needs these; tests and their raw client do. Pure.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 * (sections "Fixed newstyle negotiation", "Request message", "Simple reply
 * message", "Structured reply chunk message").
 *
 * @module
 */

import { type InfoRequest, NbdCodecError } from "../../src/nbd/codec.ts";
import * as P from "../../src/nbd/protocol.ts";

const encoder = new TextEncoder();

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function setU64(dv: DataView, at: number, value: number): void {
  dv.setUint32(at, Math.floor(value / 2 ** 32));
  dv.setUint32(at + 4, value >>> 0);
}

/**
 * An option request with its data, as a client sends it.
 *
 * @example
 * ```ts
 * encodeOptionRequest(P.OPT_STRUCTURED_REPLY).length; // 16
 * ```
 */
export function encodeOptionRequest(
  option: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const dv = view(out);
  dv.setBigUint64(0, P.OPTS_MAGIC);
  dv.setUint32(8, option);
  dv.setUint32(12, data.length);
  out.set(data, 16);
  return out;
}

/** An option reply as a client decodes it. */
export interface OptionReply {
  option: number;
  replyType: number;
  data: Uint8Array;
}

/**
 * Decodes the 20-byte option reply header; the data's length is in `length`.
 *
 * @throws {NbdCodecError} when the magic is not the option reply magic.
 * @example
 * ```ts
 * decodeOptionReplyHeader(encodeOptionReply(2, P.REP_ACK)).replyType; // 1
 * ```
 */
export function decodeOptionReplyHeader(
  bytes: Uint8Array,
): { option: number; replyType: number; length: number } {
  const dv = view(bytes);
  if (dv.getBigUint64(0) !== P.OPTION_REPLY_MAGIC) {
    throw new NbdCodecError("option reply magic is wrong");
  }
  return { option: dv.getUint32(8), replyType: dv.getUint32(12), length: dv.getUint32(16) };
}

/**
 * Encodes the data of `NBD_OPT_INFO` / `NBD_OPT_GO`.
 *
 * @example
 * ```ts
 * encodeInfoRequest({ name: "", requests: [] }).length; // 6
 * ```
 */
export function encodeInfoRequest(request: InfoRequest): Uint8Array {
  const name = encoder.encode(request.name);
  const out = new Uint8Array(6 + name.length + 2 * request.requests.length);
  const dv = view(out);
  dv.setUint32(0, name.length);
  out.set(name, 4);
  dv.setUint16(4 + name.length, request.requests.length);
  request.requests.forEach((r, i) => dv.setUint16(6 + name.length + 2 * i, r));
  return out;
}

/** A transmission request as a client builds it. */
export interface Request {
  type: number;
  flags: number;
  cookie: bigint;
  offset: number;
  length: number;
  /** The payload of a write (its length should equal `length`). */
  data?: Uint8Array;
}

/**
 * Encodes a request header and its payload, as a client sends it.
 *
 * @example
 * ```ts
 * encodeRequest({ type: P.CMD_FLUSH, flags: 0, cookie: 1n, offset: 0, length: 0 }).length; // 28
 * ```
 */
export function encodeRequest(request: Request, magic = P.REQUEST_MAGIC): Uint8Array {
  const data = request.data ?? new Uint8Array(0);
  const out = new Uint8Array(P.REQUEST_HEADER_SIZE + data.length);
  const dv = view(out);
  dv.setUint32(0, magic);
  dv.setUint16(4, request.flags);
  dv.setUint16(6, request.type);
  dv.setBigUint64(8, request.cookie);
  setU64(dv, 16, request.offset);
  dv.setUint32(24, request.length);
  out.set(data, P.REQUEST_HEADER_SIZE);
  return out;
}

/** A reply header as a client decodes it (simple, or a structured chunk). */
export type ReplyHeader =
  | { kind: "simple"; error: number; cookie: bigint; headerSize: 16 }
  | {
    kind: "structured";
    flags: number;
    type: number;
    cookie: bigint;
    length: number;
    headerSize: 20;
  };

/**
 * Decodes a reply header from at least its first 16 (simple) or 20 (structured) bytes.
 *
 * @throws {NbdCodecError} when the magic is neither.
 * @example
 * ```ts
 * decodeReplyHeader(encodeSimpleReply(0, 3, 0)).kind; // "simple"
 * ```
 */
export function decodeReplyHeader(bytes: Uint8Array): ReplyHeader {
  const dv = view(bytes);
  const magic = dv.getUint32(0);
  if (magic === P.SIMPLE_REPLY_MAGIC) {
    return { kind: "simple", error: dv.getUint32(4), cookie: dv.getBigUint64(8), headerSize: 16 };
  }
  if (magic === P.STRUCTURED_REPLY_MAGIC) {
    return {
      kind: "structured",
      flags: dv.getUint16(4),
      type: dv.getUint16(6),
      cookie: dv.getBigUint64(8),
      length: dv.getUint32(16),
      headerSize: 20,
    };
  }
  throw new NbdCodecError(`reply magic 0x${magic.toString(16)} is neither simple nor structured`);
}
