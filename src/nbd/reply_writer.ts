import { writeAll } from "../util/write_all.ts";
/**
 * Sends replies, coalescing those that complete together into one socket
 * write: with a queue of pipelined requests, one write carries many replies.
 * Replies are encoded straight into the pending batch (see {@link
 * ReplyWriter.reserve}), and batches are reused once written, so a reply costs
 * one copy of its data and no allocation.
 *
 * @module
 */

/** Anything with Deno.Conn's `write`. */
export interface ByteSink {
  write(data: Uint8Array): Promise<number>;
}

const BATCH = 256 * 1024;
/** A batch grown for large replies is kept for reuse up to this size. */
const MAX_SPARE = 8 * 1024 * 1024;

/**
 * A coalescing writer. Replies queued in the same turn of the event loop go
 * out in one write; while a write is under way, further replies wait for it.
 *
 * @example
 * ```ts
 * const writer = new ReplyWriter(conn);
 * writer.send(reply);
 * const at = writer.reserve(16);
 * writeSimpleReplyHeader(writer.view, at, 0, 1, 0);
 * await writer.drain();
 * ```
 */
export class ReplyWriter {
  private buffer: Uint8Array<ArrayBuffer> = new Uint8Array(BATCH);
  private dataView = new DataView(this.buffer.buffer);
  private length = 0;
  /** A batch whose write finished, ready for reuse. */
  private spare: Uint8Array<ArrayBuffer> | null = null;
  private scheduled = false;
  private writing: Promise<void> | null = null;
  private failed: unknown = null;

  constructor(private readonly sink: ByteSink) {}

  /** The first write error, if the peer went away; later replies are dropped. */
  get error(): unknown {
    return this.failed;
  }

  /** Bytes queued and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.length;
  }

  /** The pending batch, to write a reserved reply into. */
  get bytes(): Uint8Array {
    return this.buffer;
  }

  /** A view of the pending batch, to write a reserved reply's header into. */
  get view(): DataView {
    return this.dataView;
  }

  /**
   * Reserves `n` bytes at the end of the pending batch and returns where they
   * start in {@link bytes} and {@link view}; the caller fills them before it
   * yields to the event loop (the batch goes out in a later microtask).
   */
  reserve(n: number): number {
    if (this.length + n > this.buffer.length) {
      const bigger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
      this.dataView = new DataView(bigger.buffer);
    }
    const at = this.length;
    this.length += n;
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      queueMicrotask(() => this.start());
    }
    return at;
  }

  /**
   * Gives back a reservation made since the last yield to the event loop, and
   * everything reserved after it (a reply that could not be built in place).
   */
  unreserve(at: number): void {
    if (at <= this.length) this.length = at;
  }

  /** Queues bytes to send. */
  send(bytes: Uint8Array): void {
    if (this.failed) return;
    const at = this.reserve(bytes.length);
    this.buffer.set(bytes, at);
  }

  /**
   * Resolves once fewer than `limit` bytes wait behind the write under way: the
   * batch being filled then starts out as soon as that write ends, and the
   * caller fills the next one meanwhile (double buffering, unlike
   * {@link drain}).
   */
  async below(limit: number): Promise<void> {
    while (this.length >= limit && !this.failed) {
      if (this.writing) await this.writing;
      else this.start();
    }
  }

  /** Resolves when everything queued so far is written (or the peer is gone). */
  async drain(): Promise<void> {
    while (this.writing || this.length > 0 || this.scheduled) {
      if (this.writing) await this.writing;
      else {
        this.start();
        if (this.writing) await this.writing;
      }
    }
  }

  private start(): void {
    this.scheduled = false;
    if (this.writing) return;
    if (this.length === 0 || this.failed) {
      this.length = 0;
      return;
    }
    const full = this.buffer;
    const data = full.subarray(0, this.length);
    this.buffer = this.spare ?? new Uint8Array(BATCH);
    this.dataView = new DataView(this.buffer.buffer);
    this.spare = null;
    this.length = 0;
    this.writing = this.writeAll(data).finally(() => {
      if (full.length <= MAX_SPARE) this.spare = full;
      this.writing = null;
      if (this.length > 0) this.start();
    });
  }

  private async writeAll(data: Uint8Array): Promise<void> {
    try {
      await writeAll(this.sink, data);
    } catch (error) {
      this.failed = error;
    }
  }
}
