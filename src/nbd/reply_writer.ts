/**
 * Sends replies, coalescing those that complete together into one socket
 * write: with a queue of pipelined requests, one write carries many replies.
 *
 * @module
 */

/** Anything with Deno.Conn's `write`. */
export interface ByteSink {
  write(data: Uint8Array): Promise<number>;
}

/**
 * A coalescing writer. Replies queued in the same turn of the event loop go
 * out in one write; while a write is under way, further replies wait for it.
 *
 * @example
 * ```ts
 * const writer = new ReplyWriter(conn);
 * writer.send(reply);
 * await writer.drain();
 * ```
 */
export class ReplyWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private writing: Promise<void> | null = null;
  private failed: unknown = null;

  constructor(private readonly sink: ByteSink) {}

  /** The first write error, if the peer went away; later replies are dropped. */
  get error(): unknown {
    return this.failed;
  }

  /** Queues bytes to send. */
  send(bytes: Uint8Array): void {
    if (this.failed) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      queueMicrotask(() => this.start());
    }
  }

  /** Resolves when everything queued so far is written (or the peer is gone). */
  async drain(): Promise<void> {
    while (this.writing || this.pending.length > 0 || this.scheduled) {
      if (this.writing) await this.writing;
      else if (this.scheduled || this.pending.length > 0) {
        this.start();
        if (this.writing) await this.writing;
      }
    }
  }

  private start(): void {
    this.scheduled = false;
    if (this.writing || this.pending.length === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = null;
      if (this.pending.length > 0) this.start();
    });
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length > 0 && !this.failed) {
      const chunks = this.pending;
      const size = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
      let data: Uint8Array;
      if (chunks.length === 1) {
        data = chunks[0];
      } else {
        data = new Uint8Array(size);
        let at = 0;
        for (const chunk of chunks) {
          data.set(chunk, at);
          at += chunk.length;
        }
      }
      try {
        let written = 0;
        while (written < data.length) written += await this.sink.write(data.subarray(written));
      } catch (error) {
        this.failed = error;
        this.pending = [];
        this.pendingBytes = 0;
      }
    }
  }
}
