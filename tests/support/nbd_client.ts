/**
 * A deliberately low-level NBD client for tests: it sends whatever bytes a test
 * asks for and checks every reply against the spec's layouts, so that a server
 * bug shows up as a failed assertion naming the field.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 *
 * @module
 */

import assert from "node:assert/strict";
import * as P from "../../src/nbd/protocol.ts";
import { concat, u32 } from "./bytes.ts";
import {
  decodeOptionReplyHeader,
  decodeReplyHeader,
  encodeInfoRequest,
  encodeOptionRequest,
  encodeRequest,
  type OptionReply,
  type Request,
} from "./nbd_codec.ts";

/** How long a well-behaved exchange may take before the client calls it a hang. */
export const REPLY_TIMEOUT_MS = 5000;
/** How long the server may take to drop a connection it must drop (its handshake timeout is 10 s). */
export const CLOSE_TIMEOUT_MS = 3000;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * True for the errors a socket gives when the peer has gone.
 *
 * @example
 * ```ts
 * await client.send(bytes).catch((error) => { if (!isPeerGone(error)) throw error; });
 * ```
 */
export function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected;
}

/** One complete reply to a request (a simple reply, or every chunk of a structured one). */
export interface Reply {
  cookie: bigint;
  /** 0, or the error value (of the simple reply or the error chunk). */
  error: number;
  /** A read's data (simple payload, or the content chunks put together). */
  data: Uint8Array;
  kind: "simple" | "structured";
  /** Structured chunk types in the order they came. */
  chunks: number[];
  /** The error chunk's message. */
  message?: string;
}

interface Pending {
  type: number;
  offset: number;
  length: number;
  chunks: number[];
  data: Uint8Array;
  covered: number;
  error: number;
  message?: string;
}

/**
 * A deliberately low-level NBD client: it sends whatever bytes a test asks for
 * and checks what comes back against the spec's layouts.
 *
 * @example
 * ```ts
 * await using client = await RawClient.open(socketPath, { structured: true });
 * const bytes = await client.readAt(0, 4096);
 * ```
 */
export class RawClient implements AsyncDisposable {
  /** Structured replies were negotiated (set by {@link go}). */
  structured = false;
  size = 0;
  transmissionFlags = 0;
  /** Received bytes not yet taken: `buffer[start, end)`. */
  private buffer = new Uint8Array(256 * 1024);
  private start = 0;
  private end = 0;
  private closed = false;
  private nextCookie = 0x8000_0000_0000_0001n;
  private readonly pending = new Map<bigint, Pending>();

  private constructor(readonly conn: Deno.Conn) {}

  static async connect(path: string): Promise<RawClient> {
    return new RawClient(await Deno.connect({ transport: "unix", path }));
  }

  /** Connects, handshakes and enters transmission with `GO`. */
  static async open(path: string, options: { structured?: boolean } = {}): Promise<RawClient> {
    const client = await RawClient.connect(path);
    try {
      await client.greet();
      await client.go({ structured: options.structured });
      return client;
    } catch (error) {
      client.close();
      throw error;
    }
  }

  async send(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /** Sends bytes the server may stop reading at any point (it is allowed to hang up). */
  async sendMaybeRefused(bytes: Uint8Array): Promise<void> {
    try {
      await this.send(bytes);
    } catch (error) {
      if (!isPeerGone(error)) throw error;
    }
  }

  /** Reads more bytes; false at the end of the stream. */
  private async receive(timeoutMs: number): Promise<boolean> {
    if (this.buffer.length - this.end < 64 * 1024) {
      // Compact, and grow when more than half is in use (so a 32 MiB read copies O(n) bytes).
      const used = this.end - this.start;
      const next = used * 2 > this.buffer.length
        ? new Uint8Array(this.buffer.length * 2)
        : this.buffer;
      next.set(this.buffer.subarray(this.start, this.end));
      this.buffer = next;
      this.start = 0;
      this.end = used;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    let count: number | null;
    try {
      count = await this.conn.read(this.buffer.subarray(this.end));
    } catch (error) {
      if (timedOut) throw new Error(`no answer from the server within ${timeoutMs} ms`);
      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
      count = null;
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) throw new Error(`no answer from the server within ${timeoutMs} ms`);
    if (count === null) return false;
    this.end += count;
    return true;
  }

  /** Bytes received and not yet taken. */
  private get available(): number {
    return this.end - this.start;
  }

  /** Reads exactly `n` bytes. */
  async read(n: number, timeoutMs = REPLY_TIMEOUT_MS): Promise<Uint8Array<ArrayBuffer>> {
    while (this.available < n) {
      if (!await this.receive(timeoutMs)) {
        throw new Error(`the server closed the connection after ${this.available} of ${n} bytes`);
      }
    }
    const out = this.buffer.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** Asserts that the server closes the connection without sending anything more. */
  async expectClosed(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (await this.receive(Math.max(1, deadline - Date.now()))) {
      assert.equal(this.available, 0, `the server sent ${this.available} more bytes`);
    }
    assert.equal(this.available, 0, `the server sent ${this.available} more bytes`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // ------------------------------------------------------------- handshake

  /** Reads the greeting and sends the client flags. */
  async greet(clientFlags = P.FLAG_C_FIXED_NEWSTYLE | P.FLAG_C_NO_ZEROES): Promise<void> {
    const greeting = new DataView((await this.read(18)).buffer);
    assert.equal(greeting.getBigUint64(0), P.INIT_MAGIC, "NBDMAGIC");
    assert.equal(greeting.getBigUint64(8), P.OPTS_MAGIC, "IHAVEOPT");
    const handshakeFlags = greeting.getUint16(16);
    assert.ok(handshakeFlags & P.FLAG_FIXED_NEWSTYLE, "the server is fixed newstyle");
    assert.equal(handshakeFlags & ~(P.FLAG_FIXED_NEWSTYLE | P.FLAG_NO_ZEROES), 0);
    await this.send(u32(clientFlags));
  }

  option(option: number, data?: Uint8Array): Promise<void> {
    return this.send(encodeOptionRequest(option, data));
  }

  /** Reads one option reply and checks what every reply must satisfy. */
  async optionReply(): Promise<OptionReply> {
    const header = decodeOptionReplyHeader(await this.read(20));
    const data = await this.read(header.length);
    if (header.replyType & 0x8000_0000) {
      // An error's data is a message for people: a string of the spec.
      assert.ok(data.length <= P.MAX_STRING, `error message of ${data.length} bytes`);
      utf8.decode(data);
    }
    return { option: header.option, replyType: header.replyType, data };
  }

  /** Sends an option and expects exactly one reply of `replyType` (its data is returned). */
  async expectOptionReply(
    option: number,
    data: Uint8Array | undefined,
    replyType: number,
  ): Promise<Uint8Array> {
    await this.option(option, data);
    const reply = await this.optionReply();
    assert.equal(reply.option, option, "the reply names the option it answers");
    assert.equal(
      reply.replyType,
      replyType,
      `reply type 0x${reply.replyType.toString(16)}, expected 0x${replyType.toString(16)}`,
    );
    return reply.data;
  }

  /** `NBD_OPT_INFO` or `NBD_OPT_GO` that must succeed: the replies up to the ACK. */
  async info(
    option: number,
    name = "vda",
    requests: number[] = [],
  ): Promise<{ size: number; flags: number; infos: Map<number, Uint8Array> }> {
    await this.option(option, encodeInfoRequest({ name, requests }));
    const infos = new Map<number, Uint8Array>();
    for (;;) {
      const reply = await this.optionReply();
      assert.equal(reply.option, option);
      if (reply.replyType === P.REP_ACK) {
        assert.equal(reply.data.length, 0);
        break;
      }
      assert.equal(reply.replyType, P.REP_INFO, `reply type 0x${reply.replyType.toString(16)}`);
      const type = new DataView(reply.data.buffer, reply.data.byteOffset).getUint16(0);
      infos.set(type, reply.data);
    }
    const exp = infos.get(P.INFO_EXPORT);
    assert.ok(exp, "NBD_INFO_EXPORT comes before the ACK");
    assert.equal(exp.length, 12);
    const dv = new DataView(exp.buffer, exp.byteOffset);
    return { size: Number(dv.getBigUint64(2)), flags: dv.getUint16(10), infos };
  }

  /** Enters transmission with `NBD_OPT_GO`, after `NBD_OPT_STRUCTURED_REPLY` if asked. */
  async go(options: { name?: string; structured?: boolean } = {}): Promise<void> {
    if (options.structured) {
      await this.expectOptionReply(P.OPT_STRUCTURED_REPLY, undefined, P.REP_ACK);
      this.structured = true;
    }
    const { size, flags } = await this.info(P.OPT_GO, options.name ?? "vda");
    this.size = size;
    this.transmissionFlags = flags;
  }

  // ----------------------------------------------------------- transmission

  /** Encodes a request (a fresh cookie unless given) and remembers it for its reply. */
  encode(request: Partial<Request> & { type: number }): { bytes: Uint8Array; cookie: bigint } {
    const cookie = request.cookie ?? this.nextCookie++;
    const full: Request = {
      flags: 0,
      offset: 0,
      length: request.data?.length ?? 0,
      ...request,
      cookie,
    };
    if (full.type !== P.CMD_DISC) {
      assert.ok(!this.pending.has(cookie), `cookie ${cookie} is already in flight`);
      this.pending.set(cookie, {
        type: full.type,
        offset: full.offset,
        length: full.length,
        chunks: [],
        data: new Uint8Array(full.type === P.CMD_READ && full.length <= 64 << 20 ? full.length : 0),
        covered: 0,
        error: 0,
      });
    }
    return { bytes: encodeRequest(full), cookie };
  }

  async request(request: Partial<Request> & { type: number }): Promise<bigint> {
    const { bytes, cookie } = this.encode(request);
    await this.send(bytes);
    return cookie;
  }

  /** Sends a request and reads its reply (no other request may be in flight). */
  async exchange(request: Partial<Request> & { type: number }): Promise<Reply> {
    const cookie = await this.request(request);
    const reply = await this.reply();
    assert.equal(reply.cookie, cookie, "the reply carries the request's cookie");
    return reply;
  }

  /** Reads replies until one request is complete, checking each against the spec. */
  async reply(timeoutMs = REPLY_TIMEOUT_MS): Promise<Reply> {
    for (;;) {
      let head = await this.read(16, timeoutMs);
      if (new DataView(head.buffer).getUint32(0) === P.STRUCTURED_REPLY_MAGIC) {
        head = concat(head, await this.read(4, timeoutMs));
      }
      const header = decodeReplyHeader(head);
      const request = this.pending.get(header.cookie);
      assert.ok(
        request,
        `a reply for cookie 0x${header.cookie.toString(16)}, which is not in flight`,
      );

      if (header.kind === "simple") {
        assert.ok(
          !(this.structured && request.type === P.CMD_READ),
          "with structured replies a read never gets a simple reply",
        );
        const data = header.error === 0 && request.type === P.CMD_READ
          ? await this.read(request.length, timeoutMs)
          : new Uint8Array(0);
        this.pending.delete(header.cookie);
        return { cookie: header.cookie, error: header.error, data, kind: "simple", chunks: [] };
      }

      assert.ok(this.structured, "a structured reply without negotiation");
      const payload = await this.read(header.length, timeoutMs);
      const dv = new DataView(payload.buffer);
      request.chunks.push(header.type);
      switch (header.type) {
        case P.REPLY_TYPE_NONE:
          assert.equal(header.length, 0, "NONE has no payload");
          assert.ok(header.flags & P.REPLY_FLAG_DONE, "NONE is always the final chunk");
          break;
        case P.REPLY_TYPE_OFFSET_DATA: {
          assert.equal(request.type, P.CMD_READ, "data chunks answer reads");
          assert.ok(header.length >= 9, `OFFSET_DATA of length ${header.length}`);
          const offset = Number(dv.getBigUint64(0));
          const size = header.length - 8;
          assert.ok(
            offset >= request.offset && offset + size <= request.offset + request.length,
            "the data lies within the request",
          );
          request.data.set(payload.subarray(8), offset - request.offset);
          request.covered += size;
          break;
        }
        case P.REPLY_TYPE_OFFSET_HOLE: {
          assert.equal(header.length, 12);
          const offset = Number(dv.getBigUint64(0));
          const size = dv.getUint32(8);
          assert.ok(size > 0);
          request.data.fill(0, offset - request.offset, offset - request.offset + size);
          request.covered += size;
          break;
        }
        case P.REPLY_TYPE_ERROR:
        case P.REPLY_TYPE_ERROR_OFFSET: {
          const fixed = header.type === P.REPLY_TYPE_ERROR ? 6 : 14;
          assert.ok(header.length >= fixed, `error chunk of length ${header.length}`);
          const error = dv.getUint32(0);
          const messageLength = dv.getUint16(4);
          assert.notEqual(error, 0, "an error chunk carries a non-zero error");
          assert.ok(messageLength <= header.length - fixed, "the message fits the chunk");
          assert.ok(messageLength <= P.MAX_STRING);
          request.error ||= error;
          request.message = utf8.decode(payload.subarray(6, 6 + messageLength));
          break;
        }
        default:
          assert.fail(`unknown chunk type ${header.type}`);
      }
      if (header.flags & P.REPLY_FLAG_DONE) {
        this.pending.delete(header.cookie);
        if (request.error === 0 && request.type === P.CMD_READ) {
          assert.equal(request.covered, request.length, "a successful read covers its whole range");
        }
        return {
          cookie: header.cookie,
          error: request.error,
          data: request.data,
          kind: "structured",
          chunks: request.chunks,
          message: request.message,
        };
      }
    }
  }

  /** A read that must succeed. */
  async readAt(offset: number, length: number): Promise<Uint8Array> {
    const reply = await this.exchange({ type: P.CMD_READ, offset, length });
    assert.equal(reply.error, 0, `read of ${length} at ${offset} failed with ${reply.error}`);
    assert.equal(reply.data.length, length);
    return reply.data;
  }
}
