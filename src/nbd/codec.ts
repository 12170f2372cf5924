/**
 * Pure encoders and decoders for the server's side of NBD: what it decodes
 * from a client and encodes for it. Nothing here touches a socket: the server
 * reads exactly N bytes and hands over a `Uint8Array`.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 * (sections "Fixed newstyle negotiation", "Request message", "Simple reply
 * message", "Structured reply chunk message", "Option types").
 *
 * @module
 */

import * as P from "./protocol.ts";
import { FaultlineError } from "../util/errors.ts";

/** A message that does not follow the protocol; `message` says what was wrong. */
export class NbdCodecError extends FaultlineError {}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads an unsigned 64-bit field as a number; values above 2^53 lose precision, which only matters for sizes no export has. */
function getU64(dv: DataView, at: number): number {
  return dv.getUint32(at) * 2 ** 32 + dv.getUint32(at + 4);
}

function setU64(dv: DataView, at: number, value: number): void {
  dv.setUint32(at, Math.floor(value / 2 ** 32));
  dv.setUint32(at + 4, value >>> 0);
}

/** A message for people as UTF-8 of at most the spec's 4096 bytes, cut between characters. */
function encodeMessage(message: string): Uint8Array {
  const bytes = encoder.encode(message);
  if (bytes.length <= P.MAX_STRING) return bytes;
  let end = P.MAX_STRING;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // back off to the start of a cut character
  return bytes.subarray(0, end);
}

function decodeString(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new NbdCodecError(`${what} is not valid UTF-8`);
  }
}

// ---------------------------------------------------------------- handshake

/**
 * The server's first 18 bytes: `NBDMAGIC`, `IHAVEOPT`, handshake flags.
 *
 * @example
 * ```ts
 * encodeServerGreeting(P.FLAG_FIXED_NEWSTYLE | P.FLAG_NO_ZEROES).length; // 18
 * ```
 */
export function encodeServerGreeting(handshakeFlags: number): Uint8Array {
  const out = new Uint8Array(18);
  const dv = view(out);
  dv.setBigUint64(0, P.INIT_MAGIC);
  dv.setBigUint64(8, P.OPTS_MAGIC);
  dv.setUint16(16, handshakeFlags);
  return out;
}

/** The header of an option request, as the client sent it. */
export interface OptionHeader {
  /** True when the magic was `IHAVEOPT`. */
  magicOk: boolean;
  option: number;
  length: number;
}

/**
 * Decodes the 16-byte option request header.
 *
 * @example
 * ```ts
 * const header = decodeOptionHeader(await reader.readExact(P.OPTION_HEADER_SIZE));
 * if (header.magicOk && header.option === P.OPT_GO) { ... }
 * ```
 */
export function decodeOptionHeader(bytes: Uint8Array): OptionHeader {
  const dv = view(bytes);
  return {
    magicOk: dv.getBigUint64(0) === P.OPTS_MAGIC,
    option: dv.getUint32(8),
    length: dv.getUint32(12),
  };
}

/**
 * An option reply: magic, the option it answers, reply type, length, data.
 *
 * @example
 * ```ts
 * encodeOptionReply(P.OPT_ABORT, P.REP_ACK).length; // 20
 * ```
 */
export function encodeOptionReply(
  option: number,
  replyType: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(20 + data.length);
  const dv = view(out);
  dv.setBigUint64(0, P.OPTION_REPLY_MAGIC);
  dv.setUint32(8, option);
  dv.setUint32(12, replyType);
  dv.setUint32(16, data.length);
  out.set(data, 20);
  return out;
}

/**
 * An error reply to an option, with a message for people.
 *
 * @example
 * ```ts
 * encodeOptionError(P.OPT_GO, P.REP_ERR_UNKNOWN, "no export named vdz");
 * ```
 */
export function encodeOptionError(option: number, replyType: number, message: string): Uint8Array {
  return encodeOptionReply(option, replyType, encodeMessage(message));
}

/**
 * The reply to `NBD_OPT_EXPORT_NAME`: size, transmission flags and, unless the
 * client negotiated `NO_ZEROES`, 124 zero bytes.
 *
 * @example
 * ```ts
 * encodeExportNameReply(1 << 20, P.FLAG_HAS_FLAGS, true).length; // 10
 * ```
 */
export function encodeExportNameReply(size: number, flags: number, noZeroes: boolean): Uint8Array {
  const out = new Uint8Array(noZeroes ? 10 : 134);
  const dv = view(out);
  setU64(dv, 0, size);
  dv.setUint16(8, flags);
  return out;
}

/** What `NBD_OPT_INFO` and `NBD_OPT_GO` carry. */
export interface InfoRequest {
  name: string;
  /** The `NBD_INFO_*` types the client asked for. */
  requests: number[];
}

/**
 * Decodes the data of `NBD_OPT_INFO` / `NBD_OPT_GO`.
 *
 * @throws {NbdCodecError} when the lengths inside disagree with the data length
 * (the server answers `NBD_REP_ERR_INVALID`).
 * @example
 * ```ts
 * // name length 3, "vda", no information requests
 * decodeInfoRequest(new Uint8Array([0, 0, 0, 3, 0x76, 0x64, 0x61, 0, 0])).name; // "vda"
 * ```
 */
export function decodeInfoRequest(data: Uint8Array): InfoRequest {
  if (data.length < 6) throw new NbdCodecError(`option data of ${data.length} bytes is too short`);
  const dv = view(data);
  const nameLength = dv.getUint32(0);
  if (nameLength > data.length - 6) {
    throw new NbdCodecError(
      `name length ${nameLength} overruns option data of ${data.length} bytes`,
    );
  }
  const name = decodeString(data.subarray(4, 4 + nameLength), "export name");
  const count = dv.getUint16(4 + nameLength);
  if (6 + nameLength + 2 * count !== data.length) {
    throw new NbdCodecError(
      `${count} information requests do not fit option data of ${data.length} bytes`,
    );
  }
  const requests: number[] = [];
  for (let i = 0; i < count; i++) requests.push(dv.getUint16(6 + nameLength + 2 * i));
  return { name, requests };
}

/**
 * `NBD_INFO_EXPORT` payload: size and transmission flags.
 *
 * @example
 * ```ts
 * encodeInfoExport(4096, P.FLAG_HAS_FLAGS).length; // 12
 * ```
 */
export function encodeInfoExport(size: number, flags: number): Uint8Array {
  const out = new Uint8Array(12);
  const dv = view(out);
  dv.setUint16(0, P.INFO_EXPORT);
  setU64(dv, 2, size);
  dv.setUint16(10, flags);
  return out;
}

/**
 * `NBD_INFO_NAME` or `NBD_INFO_DESCRIPTION` payload: the type and a string.
 *
 * @example
 * ```ts
 * encodeInfoString(P.INFO_NAME, "vda").length; // 5
 * ```
 */
export function encodeInfoString(infoType: number, text: string): Uint8Array {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(2 + bytes.length);
  view(out).setUint16(0, infoType);
  out.set(bytes, 2);
  return out;
}

/**
 * `NBD_INFO_BLOCK_SIZE` payload: minimum, preferred and maximum sizes.
 *
 * @example
 * ```ts
 * encodeInfoBlockSize(1, 4096, P.MAX_PAYLOAD).length; // 14
 * ```
 */
export function encodeInfoBlockSize(
  minimum: number,
  preferred: number,
  maximum: number,
): Uint8Array {
  const out = new Uint8Array(14);
  const dv = view(out);
  dv.setUint16(0, P.INFO_BLOCK_SIZE);
  dv.setUint32(2, minimum);
  dv.setUint32(6, preferred);
  dv.setUint32(10, maximum);
  return out;
}

/**
 * `NBD_REP_SERVER` payload (one export in the reply to `NBD_OPT_LIST`).
 *
 * @example
 * ```ts
 * encodeServerEntry("vda").length; // 7
 * ```
 */
export function encodeServerEntry(name: string): Uint8Array {
  const bytes = encoder.encode(name);
  const out = new Uint8Array(4 + bytes.length);
  view(out).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/**
 * Decodes a string payload (export name, error message) with the spec's length limit.
 *
 * @example
 * ```ts
 * decodeName(new TextEncoder().encode("vda")); // "vda"
 * ```
 */
export function decodeName(data: Uint8Array): string {
  if (data.length > P.MAX_STRING) {
    throw new NbdCodecError(`name of ${data.length} bytes is longer than ${P.MAX_STRING}`);
  }
  return decodeString(data, "export name");
}

// ------------------------------------------------------------- transmission

/** A transmission request header. The cookie is kept as two halves: it is opaque. */
export interface RequestHeader {
  magicOk: boolean;
  flags: number;
  type: number;
  cookieHigh: number;
  cookieLow: number;
  offset: number;
  length: number;
}

/**
 * Decodes the 28-byte request header starting at `at`.
 *
 * @example
 * ```ts
 * const header = decodeRequestHeader(reader.take(P.REQUEST_HEADER_SIZE));
 * if (!header.magicOk) throw ...;
 * ```
 */
export function decodeRequestHeader(bytes: Uint8Array, at = 0): RequestHeader {
  const dv = view(bytes);
  return {
    magicOk: dv.getUint32(at) === P.REQUEST_MAGIC,
    flags: dv.getUint16(at + 4),
    type: dv.getUint16(at + 6),
    cookieHigh: dv.getUint32(at + 8),
    cookieLow: dv.getUint32(at + 12),
    offset: getU64(dv, at + 16),
    length: dv.getUint32(at + 24),
  };
}

/**
 * Writes a simple reply's 16-byte header at `at`; the caller puts a read's data after it.
 *
 * @example
 * ```ts
 * writeSimpleReplyHeader(view, 0, 0, 7, P.EIO);
 * ```
 */
export function writeSimpleReplyHeader(
  dv: DataView,
  at: number,
  cookieHigh: number,
  cookieLow: number,
  error: number,
): void {
  dv.setUint32(at, P.SIMPLE_REPLY_MAGIC);
  dv.setUint32(at + 4, error);
  dv.setUint32(at + 8, cookieHigh);
  dv.setUint32(at + 12, cookieLow);
}

/**
 * A simple reply: header, then `data` (a successful read's payload) if given.
 *
 * @example
 * ```ts
 * encodeSimpleReply(0, 7, P.EIO).length; // 16
 * ```
 */
export function encodeSimpleReply(
  cookieHigh: number,
  cookieLow: number,
  error: number,
  data?: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(16 + (data?.length ?? 0));
  writeSimpleReplyHeader(view(out), 0, cookieHigh, cookieLow, error);
  if (data) out.set(data, 16);
  return out;
}

/**
 * Writes a structured reply chunk's 20-byte header at `at`; `payloadLength`
 * bytes of payload follow, for the caller to write.
 *
 * @example
 * ```ts
 * writeChunkHeader(view, 0, 0, 1, P.REPLY_FLAG_DONE, P.REPLY_TYPE_NONE, 0);
 * ```
 */
export function writeChunkHeader(
  dv: DataView,
  at: number,
  cookieHigh: number,
  cookieLow: number,
  flags: number,
  type: number,
  payloadLength: number,
): void {
  dv.setUint32(at, P.STRUCTURED_REPLY_MAGIC);
  dv.setUint16(at + 4, flags);
  dv.setUint16(at + 6, type);
  dv.setUint32(at + 8, cookieHigh);
  dv.setUint32(at + 12, cookieLow);
  dv.setUint32(at + 16, payloadLength);
}

/**
 * Writes the header of a final `NBD_REPLY_TYPE_OFFSET_DATA` chunk (28 bytes:
 * the chunk header and the offset); the caller puts `dataLength` bytes after it.
 *
 * @example
 * ```ts
 * writeDataChunkHeader(view, 0, 0, 1, 4096, 512);
 * ```
 */
export function writeDataChunkHeader(
  dv: DataView,
  at: number,
  cookieHigh: number,
  cookieLow: number,
  offset: number,
  dataLength: number,
): void {
  writeChunkHeader(
    dv,
    at,
    cookieHigh,
    cookieLow,
    P.REPLY_FLAG_DONE,
    P.REPLY_TYPE_OFFSET_DATA,
    8 + dataLength,
  );
  setU64(dv, at + 20, offset);
}

/** One structured reply chunk with room for its payload. */
function structuredChunk(
  cookieHigh: number,
  cookieLow: number,
  flags: number,
  type: number,
  payloadLength: number,
): { out: Uint8Array; dv: DataView } {
  const out = new Uint8Array(20 + payloadLength);
  const dv = view(out);
  writeChunkHeader(dv, 0, cookieHigh, cookieLow, flags, type, payloadLength);
  return { out, dv };
}

/**
 * The final `NBD_REPLY_TYPE_NONE` chunk: success without payload.
 *
 * @example
 * ```ts
 * encodeStructuredDone(0, 1).length; // 20
 * ```
 */
export function encodeStructuredDone(cookieHigh: number, cookieLow: number): Uint8Array {
  return structuredChunk(cookieHigh, cookieLow, P.REPLY_FLAG_DONE, P.REPLY_TYPE_NONE, 0).out;
}

/**
 * A read's data as one final `NBD_REPLY_TYPE_OFFSET_DATA` chunk (so `NBD_CMD_FLAG_DF` always holds).
 *
 * @example
 * ```ts
 * encodeStructuredData(0, 1, 4096, new Uint8Array(512)).length; // 540
 * ```
 */
export function encodeStructuredData(
  cookieHigh: number,
  cookieLow: number,
  offset: number,
  data: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(28 + data.length);
  writeDataChunkHeader(view(out), 0, cookieHigh, cookieLow, offset, data.length);
  out.set(data, 28);
  return out;
}

/**
 * A final `NBD_REPLY_TYPE_ERROR` chunk with an error value and a message for people.
 *
 * @example
 * ```ts
 * encodeStructuredError(0, 1, P.EIO, "injected eio");
 * ```
 */
export function encodeStructuredError(
  cookieHigh: number,
  cookieLow: number,
  error: number,
  message: string,
): Uint8Array {
  const text = encodeMessage(message);
  const { out, dv } = structuredChunk(
    cookieHigh,
    cookieLow,
    P.REPLY_FLAG_DONE,
    P.REPLY_TYPE_ERROR,
    6 + text.length,
  );
  dv.setUint32(20, error);
  dv.setUint16(24, text.length);
  out.set(text, 26);
  return out;
}
