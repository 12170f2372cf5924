/**
 * Reads exact byte counts from a connection through one reusable buffer, so
 * that a burst of pipelined requests is parsed without awaiting the socket for
 * each one.
 *
 * @module
 */

import { NbdError } from "./errors.ts";

/** The peer closed the connection before sending what the protocol needed. */
export class ConnectionClosed extends NbdError {
  constructor(readonly wanted: number, readonly got: number) {
    super(
      got === 0 && wanted > 0
        ? "the peer closed the connection"
        : `the peer closed the connection after ${got} of ${wanted} bytes`,
    );
  }
}

/** Anything with Deno.Conn's `read`. */
export interface ByteSource {
  read(into: Uint8Array): Promise<number | null>;
}

/** Below this much free space at the end, the buffer is compacted before a read. */
const MIN_READ = 64 * 1024;

/** Requests larger than this are read straight into their own buffer. */
const DIRECT_READ_THRESHOLD = 64 * 1024;

/**
 * A buffered reader of exact byte counts.
 *
 * @example
 * ```ts
 * const reader = new WireReader(conn);
 * const header = await reader.readExact(28);
 * ```
 */
export class WireReader {
  private buffer: Uint8Array;
  private start = 0;
  private end = 0;

  constructor(private readonly source: ByteSource, capacity = 256 * 1024) {
    this.buffer = new Uint8Array(capacity);
  }

  /** Bytes already received and not yet taken. */
  get available(): number {
    return this.end - this.start;
  }

  /**
   * Takes `n` buffered bytes; the caller checked `available`. Without `copy`
   * the bytes are a view that the next read may overwrite.
   */
  take(n: number, copy = false): Uint8Array {
    const view = this.buffer.subarray(this.start, this.start + n);
    this.start += n;
    return copy ? view.slice() : view;
  }

  /** Reads exactly `n` bytes into a new buffer. */
  async readExact(n: number): Promise<Uint8Array> {
    if (this.available >= n) return this.take(n, true);
    if (n >= DIRECT_READ_THRESHOLD) return await this.readDirect(n);
    await this.fill(n);
    return this.take(n, true);
  }

  /**
   * Waits until at least `n` bytes are buffered. The bytes already there are
   * moved to the front only when the space after them is short; a buffer too
   * small for `n` grows to four times `n`, so that large requests (nbdcopy's
   * 256 KiB writes) are not each moved once more after they arrived.
   */
  async fill(n: number): Promise<void> {
    if (this.available >= n) return;
    if (this.buffer.length - this.start < Math.max(n, MIN_READ)) {
      if (4 * n > this.buffer.length) {
        const bigger = new Uint8Array(Math.max(4 * n, this.buffer.length));
        bigger.set(this.buffer.subarray(this.start, this.end));
        this.buffer = bigger;
      } else this.buffer.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    while (this.end - this.start < n) {
      const got = await this.source.read(this.buffer.subarray(this.end));
      if (got === null) throw new ConnectionClosed(n, this.end - this.start);
      this.end += got;
    }
  }

  /** Reads and throws away `n` bytes (the payload of a refused request). */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.available === 0) {
        await this.fill(1).catch(() => {
          throw new ConnectionClosed(n, n - left);
        });
      }
      const step = Math.min(left, this.available);
      this.start += step;
      left -= step;
    }
  }

  private async readDirect(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = this.available;
    out.set(this.take(got));
    while (got < n) {
      const count = await this.source.read(out.subarray(got));
      if (count === null) throw new ConnectionClosed(n, got);
      got += count;
    }
    return out;
  }
}
