/**
 * The store under every disk in record and replay: a read-only base image and a
 * copy-on-write overlay. The base file is opened read-only, so no code path can
 * change it; every run starts from identical bytes.
 *
 * The overlay is a sparse scratch file of the disk's size plus one state byte per
 * 4 KiB block: the block's bytes are in the base, in the overlay, or all zero (a
 * trim or write-zeroes of whole blocks costs no I/O). A partial write to a block
 * still in the base copies that block into the overlay first.
 *
 * Flushes do nothing here: the overlay is scratch, and what a power loss would
 * keep is the durability model's business (durability.ts), not the host's.
 *
 * @module
 */

import { join } from "node:path";
import { type BlockBackend, BlockError, type BlockOp } from "./backend.ts";
import { errnoOfHostError } from "./errno.ts";
import { PositionedFile } from "./positioned_file.ts";

/** Size of the overlay's copy-on-write unit. */
export const OVERLAY_BLOCK = 4096;

const IN_BASE = 0;
const IN_OVERLAY = 1;
const ZERO = 2;

/** Options of {@link OverlayStore.open}. */
export interface OverlayStoreOptions {
  /** The base image (raw); opened read-only. */
  base: string;
  /** A private directory for the overlay's scratch file. */
  scratchDir: string;
  /** A name for the scratch file (the export name). */
  name: string;
}

/**
 * A read-only base image under a copy-on-write overlay.
 *
 * @example
 * ```ts
 * const store = OverlayStore.open({ base: "disk.raw", scratchDir: dir.path, name: "vda" });
 * ```
 */
export class OverlayStore implements BlockBackend {
  private readonly states: Uint8Array;
  private closed = false;

  private constructor(
    private readonly base: PositionedFile,
    private readonly overlay: PositionedFile,
    readonly size: number,
  ) {
    this.states = new Uint8Array(Math.ceil(size / OVERLAY_BLOCK));
  }

  /** Opens the base read-only and creates an empty overlay of the same size. */
  static open(options: OverlayStoreOptions): OverlayStore {
    const base = PositionedFile.open(options.base, { write: false });
    try {
      const size = base.length();
      const overlay = PositionedFile.open(join(options.scratchDir, `${options.name}.overlay`), {
        write: true,
        create: true,
        truncate: true,
      });
      overlay.truncate(size);
      return new OverlayStore(base, overlay, size);
    } catch (error) {
      base.close();
      throw error;
    }
  }

  /** How many bytes the overlay holds (blocks written or zeroed), for statistics. */
  get overlayBytes(): number {
    let blocks = 0;
    for (const state of this.states) if (state !== IN_BASE) blocks++;
    return blocks * OVERLAY_BLOCK;
  }

  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    if (this.closed) return Promise.reject(new BlockError("eshutdown", "the store is closed"));
    try {
      switch (op.type) {
        case "read":
          return Promise.resolve(this.read(op.offset, op.length));
        case "write":
          this.write(op.offset, op.data ?? new Uint8Array(op.length));
          return Promise.resolve(undefined);
        case "trim":
        case "write-zeroes":
          this.zero(op.offset, op.length);
          return Promise.resolve(undefined);
        case "flush":
        case "cache":
          return Promise.resolve(undefined);
      }
    } catch (error) {
      return Promise.reject(new BlockError(errnoOfHostError(error), `${op.type}: ${error}`));
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.base.close();
      this.overlay.close();
      Deno.removeSync(this.overlay.path);
    }
    return Promise.resolve();
  }

  private read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const end = offset + length;
    let block = Math.floor(offset / OVERLAY_BLOCK);
    let position = offset;
    // Consecutive blocks in the same state are read in one call.
    while (position < end) {
      const state = this.states[block];
      let runEnd = Math.min(end, (block + 1) * OVERLAY_BLOCK);
      block++;
      while (runEnd < end && this.states[block] === state) {
        runEnd = Math.min(end, (block + 1) * OVERLAY_BLOCK);
        block++;
      }
      if (state !== ZERO) {
        const file = state === IN_BASE ? this.base : this.overlay;
        file.readInto(position, out, position - offset, runEnd - position);
      }
      position = runEnd;
    }
    return out;
  }

  private write(offset: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.prepareEdges(offset, offset + data.length);
    this.overlay.write(offset, data);
    this.states.fill(IN_OVERLAY, this.firstBlock(offset), this.lastBlock(offset + data.length) + 1);
  }

  private zero(offset: number, length: number): void {
    if (length === 0) return;
    const end = offset + length;
    const firstWhole = Math.ceil(offset / OVERLAY_BLOCK);
    const endWhole = Math.floor(end / OVERLAY_BLOCK);
    // The last block of an unaligned disk counts as whole when the range reaches the disk's end.
    const endWholeOrTail = end === this.size ? this.states.length : endWhole;
    if (firstWhole >= endWholeOrTail) {
      this.write(offset, new Uint8Array(length));
      return;
    }
    if (offset < firstWhole * OVERLAY_BLOCK) {
      this.write(offset, new Uint8Array(firstWhole * OVERLAY_BLOCK - offset));
    }
    this.states.fill(ZERO, firstWhole, endWholeOrTail);
    if (endWholeOrTail === endWhole && end > endWhole * OVERLAY_BLOCK) {
      this.write(endWhole * OVERLAY_BLOCK, new Uint8Array(end - endWhole * OVERLAY_BLOCK));
    }
  }

  /** Copies the partly covered first and last blocks into the overlay before a write. */
  private prepareEdges(offset: number, end: number): void {
    const first = this.firstBlock(offset);
    const last = this.lastBlock(end);
    if (offset % OVERLAY_BLOCK !== 0) this.materialize(first);
    if (end % OVERLAY_BLOCK !== 0 && end < this.size) this.materialize(last);
  }

  private materialize(block: number): void {
    const state = this.states[block];
    if (state === IN_OVERLAY) return;
    const start = block * OVERLAY_BLOCK;
    const length = Math.min(OVERLAY_BLOCK, this.size - start);
    const bytes = state === IN_BASE ? this.base.read(start, length) : new Uint8Array(length);
    this.overlay.write(start, bytes);
    this.states[block] = IN_OVERLAY;
  }

  private firstBlock(offset: number): number {
    return Math.floor(offset / OVERLAY_BLOCK);
  }

  private lastBlock(end: number): number {
    return Math.floor((end - 1) / OVERLAY_BLOCK);
  }
}
