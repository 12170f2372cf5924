/**
 * QMP message framing, for clients and servers alike: splitting a byte stream into
 * top-level JSON objects, and encoding one object as a message.
 *
 * QMP has no length prefix: "All interactions transmitted by the Server are
 * json-objects, always terminating with CRLF" (spec section "General Definitions"),
 * and a server must accept objects with or without anything between them. So the
 * splitter does not look for line ends: it follows string/escape state and bracket
 * depth and cuts where the outermost object closes. It works on bytes; UTF-8 never
 * uses bytes below 0x80 inside a multi-byte character, so a message (or a character)
 * split across chunks at any byte is handled, and bytes are decoded only once a
 * message is complete.
 *
 * Pure: no I/O here, only bytes in and objects out.
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html#general-definitions
 *
 * @module
 */

import { QmpFramingError } from "./errors.ts";

/** A decoded QMP message: always a JSON object. */
export type JsonObject = Record<string, unknown>;

/** Default limit on the size of one message: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Options of {@link MessageSplitter} and {@link decodeMessages}. */
export interface SplitterOptions {
  /**
   * Largest message accepted, in bytes, from its `{` to its `}` inclusive; a longer
   * one fails the stream with {@link QmpFramingError} as soon as the limit is crossed,
   * without buffering the rest. Default {@link DEFAULT_MAX_MESSAGE_BYTES}.
   */
  maxMessageBytes?: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(byte: number): boolean {
  // JSON's insignificant whitespace: space, tab, LF, CR.
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function describeByte(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, "0")}`;
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}' (${hex})` : hex;
}

/**
 * Incremental splitter: push byte chunks as they arrive, get back every JSON object
 * that they complete.
 *
 * Between messages only JSON whitespace is allowed; any other byte, a closing bracket
 * that does not match, invalid UTF-8, invalid JSON or a message over the size limit
 * throws {@link QmpFramingError} (with the messages that preceded it in that chunk).
 * After an error the splitter is failed for good: every later call throws, so the
 * caller should drop the connection. Bytes of an unfinished message are copied, so the
 * caller may reuse its read buffer.
 *
 * Single-quoted strings, which QEMU accepts as an input extension, are not supported:
 * QEMU never sends them and faultline never does.
 *
 * @example
 * ```ts
 * const splitter = new MessageSplitter();
 * const enc = new TextEncoder();
 * splitter.push(enc.encode('{"return": {}, "id": 1}\r\n{"eve')); // => [{ return: {}, id: 1 }]
 * splitter.push(enc.encode('nt": "STOP"}\r\n')); // => [{ event: "STOP" }]
 * splitter.finish(); // no partial message left: returns quietly
 * ```
 */
export class MessageSplitter {
  /** Limit on one message's size in bytes. */
  readonly maxMessageBytes: number;

  /** Expected closing bytes of the open brackets; empty between messages. */
  #closers: number[] = [];
  #inString = false;
  #escaped = false;
  /** Copies of the current message's bytes from earlier chunks. */
  #parts: Uint8Array[] = [];
  #partsLength = 0;
  /** Stream offset of the current message's first byte. */
  #messageOffset = 0;
  /** Stream offset of the first byte of the next chunk. */
  #offset = 0;
  #failure: QmpFramingError | undefined;
  #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  /** Makes a splitter; throws `RangeError` if `maxMessageBytes` is below 2. */
  constructor(options: SplitterOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < 2) {
      throw new RangeError(`maxMessageBytes must be an integer >= 2, got ${max}`);
    }
    this.maxMessageBytes = max;
  }

  /** Bytes held of a message that has begun but not yet ended (0 between messages). */
  get bufferedBytes(): number {
    return this.#closers.length === 0 ? 0 : this.#partsLength;
  }

  /**
   * Consumes one chunk and returns the messages it completes, in order.
   *
   * @example
   * ```ts
   * const messages = new MessageSplitter().push(new TextEncoder().encode('{"a":1}{"b":2}'));
   * // => [{ a: 1 }, { b: 2 }]
   * ```
   */
  push(chunk: Uint8Array): JsonObject[] {
    if (this.#failure) {
      throw new QmpFramingError(
        `QMP framing already failed earlier: ${this.#failure.message}`,
        this.#failure.offset,
        [],
        { cause: this.#failure },
      );
    }
    const messages: JsonObject[] = [];
    const base = this.#offset;
    // Index in `chunk` where the current message starts (0 if it began in an earlier chunk).
    let start = 0;
    const closers = this.#closers;
    const max = this.maxMessageBytes;

    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (closers.length === 0) {
        if (isWhitespace(byte)) continue;
        if (byte !== OPEN_BRACE) {
          this.#fail(
            `expected '{' to begin a QMP message, found ${describeByte(byte)}`,
            base + i,
            messages,
          );
        }
        closers.push(CLOSE_BRACE);
        start = i;
        this.#messageOffset = base + i;
      } else if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (byte === BACKSLASH) this.#escaped = true;
        else if (byte === QUOTE) this.#inString = false;
      } else if (byte === QUOTE) {
        this.#inString = true;
      } else if (byte === OPEN_BRACE) {
        closers.push(CLOSE_BRACE);
      } else if (byte === OPEN_BRACKET) {
        closers.push(CLOSE_BRACKET);
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        const expected = closers.pop();
        if (byte !== expected) {
          this.#fail(
            `unbalanced ${describeByte(byte)} in the QMP message that began at stream offset ` +
              `${this.#messageOffset}`,
            base + i,
            messages,
          );
        }
        if (closers.length === 0) {
          const last = chunk.subarray(start, i + 1);
          this.#checkSize(this.#partsLength + last.length, base + i, messages);
          messages.push(this.#parse(last, messages));
          continue;
        }
      }
      if (closers.length > 0 && this.#partsLength + (i - start + 1) > max) {
        this.#checkSize(this.#partsLength + (i - start + 1), base + i, messages);
      }
    }

    if (closers.length > 0) {
      const rest = chunk.slice(start);
      if (rest.length > 0) {
        this.#parts.push(rest);
        this.#partsLength += rest.length;
      }
    }
    this.#offset = base + chunk.length;
    return messages;
  }

  /**
   * Declares the end of the stream: throws {@link QmpFramingError} if a message was
   * begun and not finished.
   *
   * @example
   * ```ts
   * const splitter = new MessageSplitter();
   * splitter.push(new TextEncoder().encode('{"return": {'));
   * splitter.finish(); // throws: the stream ended inside a message
   * ```
   */
  finish(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closers.length > 0) {
      this.#fail(
        `QMP stream ended inside a message that began at stream offset ${this.#messageOffset} ` +
          `(${this.#partsLength} bytes received)`,
        this.#offset,
        [],
      );
    }
  }

  #checkSize(size: number, offset: number, messages: JsonObject[]): void {
    if (size > this.maxMessageBytes) {
      this.#fail(
        `QMP message that began at stream offset ${this.#messageOffset} exceeds the limit of ` +
          `${this.maxMessageBytes} bytes`,
        offset,
        messages,
      );
    }
  }

  #parse(last: Uint8Array, messages: JsonObject[]): JsonObject {
    let bytes = last;
    if (this.#parts.length > 0) {
      bytes = new Uint8Array(this.#partsLength + last.length);
      let at = 0;
      for (const part of this.#parts) {
        bytes.set(part, at);
        at += part.length;
      }
      bytes.set(last, at);
      this.#parts = [];
      this.#partsLength = 0;
    }
    const offset = this.#messageOffset;
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch (e) {
      this.#fail(
        `QMP message at stream offset ${offset} is not valid UTF-8`,
        offset,
        messages,
        e,
      );
    }
    try {
      return JSON.parse(text) as JsonObject;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.#fail(
        `QMP message at stream offset ${offset} is not valid JSON: ${why}`,
        offset,
        messages,
        e,
      );
    }
  }

  #fail(message: string, offset: number, messages: JsonObject[], cause?: unknown): never {
    const error = new QmpFramingError(
      message,
      offset,
      messages,
      cause === undefined ? undefined : { cause },
    );
    this.#failure = error;
    this.#parts = [];
    this.#partsLength = 0;
    throw error;
  }
}

/**
 * Decodes a stream of byte chunks into QMP messages.
 *
 * Yields each message as soon as its last byte arrives. On a framing error it first
 * yields the messages that preceded the bad bytes, then throws {@link QmpFramingError};
 * if the stream ends inside a message it throws too.
 *
 * @example
 * ```ts
 * const conn = await Deno.connect({ transport: "unix", path: "/run/vm/qmp.sock" });
 * for await (const message of decodeMessages(conn.readable)) {
 *   if ("QMP" in message) console.log("greeting", message.QMP);
 * }
 * ```
 */
export async function* decodeMessages(
  chunks: AsyncIterable<Uint8Array>,
  options: SplitterOptions = {},
): AsyncGenerator<JsonObject, void, undefined> {
  const splitter = new MessageSplitter(options);
  for await (const chunk of chunks) {
    let messages: JsonObject[];
    try {
      messages = splitter.push(chunk);
    } catch (e) {
      if (e instanceof QmpFramingError) yield* e.messages;
      throw e;
    }
    yield* messages;
  }
  splitter.finish();
}

const encoder = new TextEncoder();

/**
 * Encodes one message: its JSON followed by CRLF, as QMP servers terminate theirs.
 *
 * Characters outside ASCII are written as `\uXXXX` escapes, so the output is ASCII
 * (what the spec requires of a server) and also valid UTF-8 (what it requires of a
 * client). Throws `TypeError` if `message` is not a plain JSON object (an array, null)
 * or cannot be serialized (a BigInt, a cycle).
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html#issuing-commands
 *
 * @example
 * ```ts
 * encodeMessage({ execute: "query-status", id: 1 });
 * // => bytes of '{"execute":"query-status","id":1}\r\n'
 * ```
 */
export function encodeMessage(message: object): Uint8Array {
  if (message === null || typeof message !== "object" || Array.isArray(message)) {
    throw new TypeError("a QMP message must be a JSON object");
  }
  const json = JSON.stringify(message);
  const ascii = json.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return encoder.encode(`${ascii}\r\n`);
}
