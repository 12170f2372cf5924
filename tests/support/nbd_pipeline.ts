/**
 * Requests pipelined as a test sends them, over the raw client of
 * `nbd_client.ts`: for tests that need exact control of what goes on which
 * connection and when (multi-connection durability, deterministic traces).
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 *
 * @module
 */

import * as P from "../../src/nbd/protocol.ts";
import { concat } from "./bytes.ts";
import { RawClient } from "./nbd_client.ts";

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

/**
 * One connection in transmission, with simple replies.
 *
 * @example
 * ```ts
 * await using client = await NbdTestClient.open(socket, "vda");
 * await client.run({ type: "write", data }, { type: "flush" });
 * ```
 */
export class NbdTestClient implements AsyncDisposable {
  private constructor(private readonly raw: RawClient) {}

  /** Connects to a unix socket and chooses `exportName` with `NBD_OPT_GO`. */
  static async open(path: string, exportName: string): Promise<NbdTestClient> {
    const raw = await RawClient.connect(path);
    try {
      await raw.greet();
      await raw.go({ name: exportName });
      return new NbdTestClient(raw);
    } catch (error) {
      raw.close();
      throw error;
    }
  }

  /** The export's transmission flags. */
  get transmissionFlags(): number {
    return this.raw.transmissionFlags;
  }

  /** Sends requests in one write (pipelined) and returns their cookies. */
  async send(...requests: TestRequest[]): Promise<bigint[]> {
    const encoded = requests.map((request) =>
      this.raw.encode({
        type: COMMANDS[request.type],
        flags: request.fua ? P.CMD_FLAG_FUA : 0,
        offset: request.offset ?? 0,
        length: request.data?.length ?? request.length ?? 0,
        ...(request.data ? { data: request.data } : {}),
      })
    );
    await this.raw.send(concat(...encoded.map((e) => e.bytes)));
    return encoded.map((e) => e.cookie);
  }

  /** Receives one reply. */
  async reply(): Promise<TestReply> {
    const reply = await this.raw.reply();
    return {
      cookie: reply.cookie,
      error: reply.error,
      ...(reply.data.length > 0 ? { data: reply.data } : {}),
    };
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
    await this.raw.send(this.raw.encode({ type: P.CMD_DISC }).bytes).catch(() => {});
    this.raw.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }
}
