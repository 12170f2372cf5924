/**
 * A store that writes the image file itself: `serve --modify-image` only, for
 * users who want their guest's writes kept. Flushes and FUA writes reach the
 * host's disk (fdatasync) before they are answered, so the image is as durable
 * as the guest was told it is. Record and replay never use this store.
 *
 * @module
 */

import { type BlockBackend, BlockError, type BlockOp, executeAtOnce } from "./backend.ts";
import { errnoOfHostError } from "./errno.ts";
import { PositionedFile } from "./positioned_file.ts";

/** Largest zero buffer written at once by write-zeroes and trim. */
const ZERO_CHUNK = 1 << 20;

/**
 * The image file itself, read and written in place.
 *
 * @example
 * ```ts
 * const store = ImageStore.open("disk.raw");
 * ```
 */
export class ImageStore implements BlockBackend {
  private closed = false;

  private constructor(private readonly file: PositionedFile, readonly size: number) {}

  /** Opens an existing image for reading and writing. */
  static open(path: string): ImageStore {
    const file = PositionedFile.open(path, { write: true });
    return new ImageStore(file, file.length());
  }

  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    return executeAtOnce(this, op);
  }

  /** Every op is served at once: positioned reads and writes, fdatasync for flushes and FUA. */
  executeNow(op: BlockOp, into: Uint8Array, at: number): boolean {
    if (this.closed) throw new BlockError("eshutdown", "the store is closed");
    try {
      switch (op.type) {
        case "read":
          this.file.readInto(op.offset, into, at, op.length);
          break;
        case "write":
          this.file.write(op.offset, op.data ?? new Uint8Array(op.length));
          break;
        case "trim":
        case "write-zeroes":
          this.zero(op.offset, op.length);
          break;
        case "flush":
          this.file.syncData();
          break;
        case "cache":
          break;
      }
      if (op.fua && op.type !== "flush") this.file.syncData();
      return true;
    } catch (error) {
      throw new BlockError(errnoOfHostError(error), `${op.type}: ${error}`);
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.file.close();
    }
    return Promise.resolve();
  }

  private zero(offset: number, length: number): void {
    const zeroes = new Uint8Array(Math.min(length, ZERO_CHUNK));
    for (let done = 0; done < length; done += zeroes.length) {
      this.file.write(offset + done, zeroes.subarray(0, Math.min(zeroes.length, length - done)));
    }
  }
}
