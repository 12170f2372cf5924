/**
 * A small NBD client for tests that need exact control of what goes on which
 * connection and when: fixed newstyle, `NBD_OPT_GO`, simple replies, requests
 * pipelined as the test sends them.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 *
 * @module
 */

import {
  decodeOptionReplyHeader,
  decodeReplyHeader,
  encodeInfoRequest,
  encodeOptionRequest,
  encodeRequest,
} from "../src/nbd/codec.ts";
import * as P from "../src/nbd/protocol.ts";

/** One request for {@link NbdTestClient.send}. */
export interface TestRequest {
  type: "read" | "write" | "flush";
  offset?: number;
  length?: number;
  data?: Uint8Array;
  fua?: boolean;
}

/** A reply: its cookie, error value and a read's bytes. */
export interface TestReply {
  cookie: bigint;
  error: number;
  data?: Uint8Array;
}

const COMMANDS = { read: P.CMD_READ, write: P.CMD_WRITE, flush: P.CMD_FLUSH } as const;

/** One connection in transmission, with simple replies. */
export class NbdTestClient implements AsyncDisposable {
  /** The export's transmission flags. */
  transmissionFlags = 0;
  private buffer = new Uint8Array(0);
  private nextCookie = 1n;
  /** Reads in flight, by cookie: their lengths (a simple reply's data follows its header). */
  private readonly readLengths = new Map<bigint, number>();

  private constructor(private readonly conn: Deno.Conn) {}

  /** Connects to a unix socket and chooses `exportName` with `NBD_OPT_GO`. */
  static async open(path: string, exportName: string): Promise<NbdTestClient> {
    const client = new NbdTestClient(await Deno.connect({ transport: "unix", path }));
    try {
      await client.handshake(exportName);
      return client;
    } catch (error) {
      client.close();
      throw error;
    }
  }

  private async handshake(exportName: string): Promise<void> {
    await this.take(18); // NBDMAGIC, IHAVEOPT, handshake flags
    const flags = new Uint8Array(4);
    new DataView(flags.buffer).setUint32(0, P.FLAG_C_FIXED_NEWSTYLE | P.FLAG_C_NO_ZEROES);
    await this.write(flags);
    await this.write(
      encodeOptionRequest(P.OPT_GO, encodeInfoRequest({ name: exportName, requests: [] })),
    );
    for (;;) {
      const header = decodeOptionReplyHeader(await this.take(20));
      const data = await this.take(header.length);
      if (header.replyType === P.REP_ACK) return;
      if (header.replyType === P.REP_INFO) {
        const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
        if (view.getUint16(0) === P.INFO_EXPORT) this.transmissionFlags = view.getUint16(10);
        continue;
      }
      throw new Error(`NBD_OPT_GO failed with reply type 0x${header.replyType.toString(16)}`);
    }
  }

  /** Sends requests in one write (pipelined) and returns their cookies. */
  async send(...requests: TestRequest[]): Promise<bigint[]> {
    const parts: Uint8Array[] = [];
    const cookies: bigint[] = [];
    for (const request of requests) {
      const cookie = this.nextCookie++;
      const length = request.data?.length ?? request.length ?? 0;
      if (request.type === "read") this.readLengths.set(cookie, length);
      parts.push(encodeRequest({
        type: COMMANDS[request.type],
        flags: request.fua ? P.CMD_FLAG_FUA : 0,
        cookie,
        offset: request.offset ?? 0,
        length,
        data: request.data,
      }));
      cookies.push(cookie);
    }
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    await this.write(bytes);
    return cookies;
  }

  /** Receives one reply. */
  async reply(): Promise<TestReply> {
    const header = decodeReplyHeader(await this.take(16));
    if (header.kind !== "simple") throw new Error("expected a simple reply");
    const length = this.readLengths.get(header.cookie);
    this.readLengths.delete(header.cookie);
    const data = length !== undefined && header.error === 0 ? await this.take(length) : undefined;
    return { cookie: header.cookie, error: header.error, data };
  }

  /** Sends requests and waits for all their replies; throws on an error reply. */
  async run(...requests: TestRequest[]): Promise<TestReply[]> {
    const cookies = await this.send(...requests);
    const replies = new Map<bigint, TestReply>();
    while (replies.size < cookies.length) {
      const reply = await this.reply();
      if (reply.error !== 0) throw new Error(`request ${reply.cookie} failed: ${reply.error}`);
      replies.set(reply.cookie, reply);
    }
    return cookies.map((cookie) => replies.get(cookie)!);
  }

  /** Says `NBD_CMD_DISC` and closes. */
  async disconnect(): Promise<void> {
    await this.write(
      encodeRequest({ type: P.CMD_DISC, flags: 0, cookie: 0n, offset: 0, length: 0 }),
    )
      .catch(() => {});
    this.close();
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  private async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  private async take(n: number): Promise<Uint8Array> {
    while (this.buffer.length < n) {
      const chunk = new Uint8Array(Math.max(65536, n));
      const got = await this.conn.read(chunk);
      if (got === null) throw new Error(`the server closed the connection (wanted ${n} bytes)`);
      const joined = new Uint8Array(this.buffer.length + got);
      joined.set(this.buffer);
      joined.set(chunk.subarray(0, got), this.buffer.length);
      this.buffer = joined;
    }
    const out = this.buffer.slice(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }
}
