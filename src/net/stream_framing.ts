/**
 * The framing of QEMU's `-netdev stream` (and of `-netdev socket`): every Ethernet
 * frame travels as a 4-byte big-endian length followed by the frame, in both
 * directions, with nothing else on the stream. QEMU writes the length with
 * `htonl(size)` in `net/stream.c` (`net_stream_receive`) and reads it back with
 * `net_fill_rstate` in `net/net.c`, whose buffer is `NET_BUFSIZE` (4096 + 65536
 * bytes): a longer frame is what QEMU itself refuses as oversized.
 *
 * Pure: bytes in, frames out; no I/O here.
 *
 * @module
 */

import { FrameStreamError } from "./errors.ts";

/** Bytes of the length that precedes each frame. */
export const STREAM_LENGTH_BYTES = 4;

/** QEMU's `NET_BUFSIZE`: the largest frame QEMU reads from a stream (4096 + 65536). */
export const QEMU_NET_BUFSIZE: number = 4096 + 65536;

/** Options of {@link FrameSplitter}. */
export interface FrameSplitterOptions {
  /** The largest frame accepted, in bytes; {@link QEMU_NET_BUFSIZE} by default. */
  maxFrameBytes?: number;
}

/**
 * Encodes one frame for the stream: its length, big-endian, then the frame.
 *
 * @example
 * ```ts
 * encodeStreamFrame(new Uint8Array([0xaa, 0xbb])); // Uint8Array [0, 0, 0, 2, 0xaa, 0xbb]
 * ```
 */
export function encodeStreamFrame(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(STREAM_LENGTH_BYTES + frame.length);
  new DataView(out.buffer).setUint32(0, frame.length);
  out.set(frame, STREAM_LENGTH_BYTES);
  return out;
}

/**
 * An incremental splitter of the stream: push chunks as they arrive, get back the
 * frames they complete. A frame that lies inside one chunk is returned as a view of
 * that chunk (copy it before the chunk's buffer is reused); one that spans chunks is
 * assembled in a buffer of its own.
 *
 * A length of zero, or over `maxFrameBytes`, throws {@link FrameStreamError} with
 * the stream offset of that length; the splitter is then failed for good (every
 * later push throws), since nothing after a bad length can be trusted: drop the
 * connection.
 *
 * @example
 * ```ts
 * const splitter = new FrameSplitter();
 * splitter.push(new Uint8Array([0, 0, 0, 2, 0xaa])); // []
 * splitter.push(new Uint8Array([0xbb, 0, 0])); // [Uint8Array [0xaa, 0xbb]]
 * splitter.bufferedBytes; // 2: half of the next length
 * ```
 */
export class FrameSplitter {
  /** Limit on one frame's size in bytes. */
  readonly maxFrameBytes: number;
  /** The length being read, byte by byte, when it spans chunks. */
  #lengthBytes = 0;
  #length = 0;
  /** The frame being assembled across chunks, and how much of it has arrived. */
  #partial: Uint8Array | null = null;
  #filled = 0;
  /** Stream offset of the next chunk's first byte. */
  #offset = 0;
  #failure: FrameStreamError | null = null;

  /** Makes a splitter; throws `RangeError` if `maxFrameBytes` is not a positive integer. */
  constructor(options: FrameSplitterOptions = {}) {
    const max = options.maxFrameBytes ?? QEMU_NET_BUFSIZE;
    if (!Number.isSafeInteger(max) || max < 1 || max > 0xffffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [1, 2^32), got ${max}`);
    }
    this.maxFrameBytes = max;
  }

  /** Bytes held of a length or frame that has begun and not ended (0 between frames). */
  get bufferedBytes(): number {
    return this.#partial ? STREAM_LENGTH_BYTES + this.#filled : this.#lengthBytes;
  }

  /**
   * Consumes one chunk and returns the frames it completes, in order.
   *
   * @throws {FrameStreamError} on a bad length (and on every call after one).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure) throw this.#failure;
    const frames: Uint8Array[] = [];
    const base = this.#offset;
    let i = 0;
    while (i < chunk.length) {
      if (this.#partial) {
        const take = Math.min(this.#partial.length - this.#filled, chunk.length - i);
        this.#partial.set(chunk.subarray(i, i + take), this.#filled);
        this.#filled += take;
        i += take;
        if (this.#filled === this.#partial.length) {
          frames.push(this.#partial);
          this.#partial = null;
          this.#filled = 0;
        }
        continue;
      }
      if (this.#lengthBytes === 0 && chunk.length - i >= STREAM_LENGTH_BYTES) {
        // The common case: the whole length is here.
        const length = ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) |
          chunk[i + 3]) >>> 0;
        this.#check(length, base + i);
        i += STREAM_LENGTH_BYTES;
        if (chunk.length - i >= length) {
          frames.push(chunk.subarray(i, i + length));
          i += length;
        } else {
          this.#partial = new Uint8Array(length);
        }
        continue;
      }
      // A length split across chunks: gather it a byte at a time.
      this.#length = ((this.#length << 8) | chunk[i]) >>> 0;
      this.#lengthBytes++;
      i++;
      if (this.#lengthBytes === STREAM_LENGTH_BYTES) {
        const length = this.#length;
        this.#check(length, base + i - STREAM_LENGTH_BYTES);
        this.#lengthBytes = 0;
        this.#length = 0;
        this.#partial = new Uint8Array(length);
      }
    }
    this.#offset = base + chunk.length;
    return frames;
  }

  /**
   * Declares the end of the stream.
   *
   * @throws {FrameStreamError} when the stream ended inside a length or a frame.
   * @example
   * ```ts
   * const splitter = new FrameSplitter();
   * splitter.push(new Uint8Array([0, 0, 0, 60, 1, 2]));
   * splitter.finish(); // throws: the stream ended 2 bytes into a frame of 60
   * ```
   */
  finish(): void {
    if (this.#failure) throw this.#failure;
    if (this.#partial) {
      throw new FrameStreamError(
        `the stream ended ${this.#filled} bytes into a frame of ${this.#partial.length}`,
        this.#offset,
      );
    }
    if (this.#lengthBytes > 0) {
      throw new FrameStreamError(
        `the stream ended inside a frame length (${this.#lengthBytes} of 4 bytes)`,
        this.#offset,
      );
    }
  }

  #check(length: number, offset: number): void {
    if (length === 0) {
      this.#failure = new FrameStreamError(
        `a frame length of 0 at stream offset ${offset} (QEMU never sends an empty frame)`,
        offset,
      );
    } else if (length > this.maxFrameBytes) {
      this.#failure = new FrameStreamError(
        `a frame length of ${length} at stream offset ${offset} is over the limit of ${this.maxFrameBytes} bytes`,
        offset,
      );
    } else return;
    throw this.#failure;
  }
}
