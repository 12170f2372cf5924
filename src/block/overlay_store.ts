/**
 * The store under every disk in record and replay: a read-only base image and a
 * copy-on-write overlay. The base file is opened read-only, so no code path can
 * change it; every run starts from identical bytes.
 *
 * The overlay keeps one state byte per 4 KiB block: the block's bytes are in the
 * base, in memory, in a sparse scratch file, or all zero (a trim or write-zeroes
 * of whole blocks costs no I/O). Written blocks go to memory, in 16 MiB slabs,
 * until the memory budget is spent, then to the scratch file: a guest's disks
 * live in memory, with no syscall and no dirty page per write, and a disk
 * written end to end still fits. Slabs are mapped outside V8's heap and marked
 * for transparent huge pages when FFI allows (src/util/libc.ts): filling fresh
 * memory then takes one page fault per 2 MiB instead of one per 4 KiB, which
 * was a third of a 4 KiB write's cost here. A partial write to a block that is
 * not yet in the overlay copies that block in first.
 *
 * With a byte log (the trace, when it keeps written bytes), a write that the
 * recorder logged keeps, for each block it covers whole, only the position of
 * its bytes in the log: the bytes are in memory once (the trace's batch, then
 * its page cache) instead of twice, and the overlay's memory is not touched.
 *
 * Flushes do nothing here: the overlay is scratch, and what a power loss would
 * keep is the durability model's business (durability.ts), not the host's.
 *
 * @module
 */

import { join } from "node:path";
import {
  type BlockBackend,
  BlockError,
  type BlockOp,
  type ByteLog,
  executeAtOnce,
} from "./backend.ts";
import { errnoOfHostError } from "./errno.ts";
import { PositionedFile } from "./positioned_file.ts";
import { mapHugeMemory, type MappedMemory } from "../util/libc.ts";

/** Size of the overlay's copy-on-write unit. */
export const OVERLAY_BLOCK = 4096;

const IN_BASE = 0;
const IN_FILE = 1;
const ZERO = 2;
const IN_MEMORY = 3;
const IN_LOG = 4;

/** Blocks per slab of the in-memory overlay (16 MiB). */
const SLAB_BLOCKS = 4096;

/**
 * Writes at least this large go to the scratch file in one `pwrite`: their
 * bytes land in the page cache, as a file server's do, instead of fresh memory,
 * whose first touch costs more than the copy on a virtual machine (measured
 * with nbdcopy's 256 KiB writes: 1.4 ms of CPU per MiB into fresh memory).
 */
const FILE_WRITE_MIN = 64 * 1024;

/** Default memory budget of one disk's overlay. */
export const DEFAULT_OVERLAY_MEMORY = 1024 * 1024 * 1024;

/** Options of {@link OverlayStore.open}. */
export interface OverlayStoreOptions {
  /** The base image (raw); opened read-only. */
  base: string;
  /** A private directory for the overlay's scratch file. */
  scratchDir: string;
  /** A name for the scratch file (the export name). */
  name: string;
  /** Bytes of written blocks kept in memory before the scratch file takes over ({@link DEFAULT_OVERLAY_MEMORY}). */
  memoryBudget?: number;
  /** Where logged writes' bytes can be read back (ops with a `logPosition`). */
  log?: ByteLog;
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
  /**
   * For a block in memory: its slot (slab * SLAB_BLOCKS + index in the slab);
   * for a block in the log: its entry in {@link logPositions}.
   */
  private readonly slots: Int32Array;
  /** Positions in the byte log of blocks kept there. */
  private logPositions = new Float64Array(1024);
  private usedLogEntries = 0;
  private readonly freeLogEntries: number[] = [];
  private readonly slabs: Uint8Array[] = [];
  /** Slabs mapped outside V8's heap, unmapped at close. */
  private readonly mappings: MappedMemory[] = [];
  private usedSlots = 0;
  /**
   * Where the base holds data (src/block/positioned_file.ts `dataRanges`), or null to read
   * it all. Its holes read as zeroes without a `pread`: a first read of a hole makes the
   * kernel fill fresh page cache, about 10 ms a MiB on the machine measured (bench/README.md).
   */
  private readonly baseData: [number, number][] | null;
  /** Slots of blocks zeroed since, for reuse. */
  private readonly freeSlots: number[] = [];
  private readonly maxSlots: number;
  private closed = false;

  private constructor(
    private readonly base: PositionedFile,
    private readonly overlay: PositionedFile,
    readonly size: number,
    memoryBudget: number,
    private readonly log: ByteLog | undefined,
  ) {
    this.states = new Uint8Array(Math.ceil(size / OVERLAY_BLOCK));
    this.slots = new Int32Array(this.states.length);
    this.maxSlots = Math.floor(memoryBudget / OVERLAY_BLOCK);
    this.baseData = base.dataRanges();
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
      return new OverlayStore(
        base,
        overlay,
        size,
        options.memoryBudget ?? DEFAULT_OVERLAY_MEMORY,
        options.log,
      );
    } catch (error) {
      base.close();
      throw error;
    }
  }

  /** Bytes of written blocks held in memory. */
  get memoryBytes(): number {
    return (this.usedSlots - this.freeSlots.length) * OVERLAY_BLOCK;
  }

  /** How many bytes the overlay holds (blocks written or zeroed), for statistics. */
  get overlayBytes(): number {
    let blocks = 0;
    for (const state of this.states) if (state !== IN_BASE) blocks++;
    return blocks * OVERLAY_BLOCK;
  }

  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    return executeAtOnce(this, op);
  }

  /** Every op is served at once: memory, or one positioned read or write. */
  executeNow(op: BlockOp, into: Uint8Array, at: number): boolean {
    if (this.closed) throw new BlockError("eshutdown", "the store is closed");
    try {
      switch (op.type) {
        case "read":
          this.read(op.offset, op.length, into, at);
          break;
        case "write":
          if (op.logPosition !== undefined && this.log && op.data) {
            this.writeLogged(op.offset, op.data, op.logPosition);
          } else if (op.length >= FILE_WRITE_MIN && op.data) {
            this.writeLarge(op.offset, op.data);
          } else this.write(op.offset, op.data ?? new Uint8Array(op.length));
          break;
        case "trim":
        case "write-zeroes":
          this.zero(op.offset, op.length);
          break;
        case "flush":
        case "cache":
          break;
      }
      return true;
    } catch (error) {
      if (error instanceof BlockError) throw error;
      throw new BlockError(errnoOfHostError(error), `${op.type}: ${error}`);
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.base.close();
      this.overlay.close();
      Deno.removeSync(this.overlay.path);
      this.slabs.length = 0;
      for (const mapping of this.mappings) mapping.release();
      this.mappings.length = 0;
    }
    return Promise.resolve();
  }

  /** Reads `length` bytes at `offset` into `out` at `outAt`. */
  private read(offset: number, length: number, out: Uint8Array, outAt: number): void {
    if (length === 0) return;
    const end = offset + length;
    let block = Math.floor(offset / OVERLAY_BLOCK);
    let position = offset;
    // Consecutive blocks in the same state are read in one call.
    while (position < end) {
      const state = this.states[block];
      let runEnd = Math.min(end, (block + 1) * OVERLAY_BLOCK);
      if (state === IN_MEMORY) {
        const within = position - block * OVERLAY_BLOCK;
        out.set(
          this.memoryBlock(block).subarray(within, within + runEnd - position),
          outAt + position - offset,
        );
        block++;
        position = runEnd;
        continue;
      }
      if (state === IN_LOG) {
        // Blocks of one logged write lie one after another in the log: one read for the run.
        const from = this.logPositions[this.slots[block]] + position - block * OVERLAY_BLOCK;
        let next = from + runEnd - position;
        block++;
        while (
          runEnd < end && this.states[block] === IN_LOG &&
          this.logPositions[this.slots[block]] === next
        ) {
          const blockEnd = Math.min(end, (block + 1) * OVERLAY_BLOCK);
          next += blockEnd - runEnd;
          runEnd = blockEnd;
          block++;
        }
        this.log!.readAt(from, out, outAt + position - offset, runEnd - position);
        position = runEnd;
        continue;
      }
      block++;
      while (runEnd < end && this.states[block] === state) {
        runEnd = Math.min(end, (block + 1) * OVERLAY_BLOCK);
        block++;
      }
      if (state === IN_BASE) {
        this.readBase(position, out, outAt + position - offset, runEnd - position);
      } else if (state === IN_FILE) {
        this.overlay.readInto(position, out, outAt + position - offset, runEnd - position);
      } else out.fill(0, outAt + position - offset, outAt + runEnd - offset);
      position = runEnd;
    }
  }

  private write(offset: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const end = offset + data.length;
    this.prepareEdges(offset, end);
    let block = this.firstBlock(offset);
    let position = offset;
    while (position < end) {
      const blockStart = block * OVERLAY_BLOCK;
      const blockEnd = Math.min(end, blockStart + OVERLAY_BLOCK);
      if (this.states[block] !== IN_FILE && this.takeSlot(block)) {
        this.memoryBlock(block).set(
          data.subarray(position - offset, blockEnd - offset),
          position - blockStart,
        );
        block++;
        position = blockEnd;
        continue;
      }
      // The memory budget is spent (or the block is in the file already): a run of blocks to the file.
      let runEnd = blockEnd;
      block++;
      while (
        runEnd < end && this.states[block] !== IN_MEMORY &&
        (this.states[block] === IN_FILE || !this.hasRoom())
      ) {
        runEnd = Math.min(end, runEnd + OVERLAY_BLOCK);
        block++;
      }
      this.overlay.write(position, data.subarray(position - offset, runEnd - offset));
      const first = this.firstBlock(position);
      const last = this.lastBlock(runEnd);
      for (let b = first; b <= last; b++) this.release(b);
      this.states.fill(IN_FILE, first, last + 1);
      position = runEnd;
    }
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
    for (let block = firstWhole; block < endWholeOrTail; block++) this.release(block);
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

  /** Reads the base's bytes at `position` into `into` at `at`: its data ranges read, its holes zeroed. */
  private readBase(position: number, into: Uint8Array, at: number, length: number): void {
    const ranges = this.baseData;
    if (!ranges) return this.base.readInto(position, into, at, length);
    const end = position + length;
    // The first range that ends after position.
    let low = 0;
    let high = ranges.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (ranges[middle][1] <= position) low = middle + 1;
      else high = middle;
    }
    let cursor = position;
    for (let i = low; i < ranges.length && ranges[i][0] < end; i++) {
      const from = Math.max(cursor, ranges[i][0]);
      const to = Math.min(end, ranges[i][1]);
      if (from > cursor) into.fill(0, at + cursor - position, at + from - position);
      this.base.readInto(from, into, at + from - position, to - from);
      cursor = to;
    }
    if (cursor < end) into.fill(0, at + cursor - position, at + length);
  }

  /** Brings a block's current bytes into the overlay (memory if the budget allows, else the file). */
  private materialize(block: number): void {
    const state = this.states[block];
    if (state === IN_FILE || state === IN_MEMORY) return;
    const start = block * OVERLAY_BLOCK;
    const length = Math.min(OVERLAY_BLOCK, this.size - start);
    const bytes = new Uint8Array(length);
    if (state === IN_BASE) this.readBase(start, bytes, 0, length);
    else if (state === IN_LOG) {
      this.log!.readAt(this.logPositions[this.slots[block]], bytes, 0, length);
    }
    if (this.takeSlot(block)) this.memoryBlock(block).set(bytes);
    else {
      this.overlay.write(start, bytes);
      this.release(block);
      this.states[block] = IN_FILE;
    }
  }

  /**
   * A logged write: the blocks it covers whole keep its bytes' position in the
   * log; the partly covered ones at its edges take the bytes as any write does.
   * The edges go first, so that a failure leaves no block pointing at the log.
   */
  private writeLogged(offset: number, data: Uint8Array, logPosition: number): void {
    const whole = this.writeEdges(offset, data);
    if (!whole) return;
    const { firstWhole, endWhole, wholeStart } = whole;
    let position = logPosition + wholeStart - offset;
    for (let block = firstWhole; block < endWhole; block++) {
      let entry: number;
      if (this.states[block] === IN_LOG) entry = this.slots[block];
      else {
        this.release(block);
        entry = this.freeLogEntries.pop() ?? this.newLogEntry();
        this.slots[block] = entry;
        this.states[block] = IN_LOG;
      }
      this.logPositions[entry] = position;
      position += OVERLAY_BLOCK;
    }
  }

  /**
   * Writes the partly covered blocks at a write's edges as any write, and
   * returns the whole blocks between them; a write that covers no block whole
   * is written entirely, and null returned.
   */
  private writeEdges(
    offset: number,
    data: Uint8Array,
  ): { firstWhole: number; endWhole: number; wholeStart: number; wholeEnd: number } | null {
    const end = offset + data.length;
    const firstWhole = Math.ceil(offset / OVERLAY_BLOCK);
    const endWhole = end === this.size ? this.states.length : Math.floor(end / OVERLAY_BLOCK);
    if (firstWhole >= endWhole) {
      this.write(offset, data);
      return null;
    }
    const wholeStart = firstWhole * OVERLAY_BLOCK;
    const wholeEnd = Math.min(end, endWhole * OVERLAY_BLOCK);
    if (offset < wholeStart) this.write(offset, data.subarray(0, wholeStart - offset));
    if (wholeEnd < end) this.write(wholeEnd, data.subarray(wholeEnd - offset));
    return { firstWhole, endWhole, wholeStart, wholeEnd };
  }

  /** A large write: its whole blocks to the scratch file at once, its partial edges as any write. */
  private writeLarge(offset: number, data: Uint8Array): void {
    const whole = this.writeEdges(offset, data);
    if (!whole) return;
    const { firstWhole, endWhole, wholeStart, wholeEnd } = whole;
    this.overlay.write(wholeStart, data.subarray(wholeStart - offset, wholeEnd - offset));
    for (let block = firstWhole; block < endWhole; block++) this.release(block);
    this.states.fill(IN_FILE, firstWhole, endWhole);
  }

  private newLogEntry(): number {
    if (this.usedLogEntries === this.logPositions.length) {
      const grown = new Float64Array(this.logPositions.length * 2);
      grown.set(this.logPositions);
      this.logPositions = grown;
    }
    return this.usedLogEntries++;
  }

  /** Frees what a block holds (a memory slot or a log entry) before its state changes. */
  private release(block: number): void {
    const state = this.states[block];
    if (state === IN_MEMORY) this.freeSlots.push(this.slots[block]);
    else if (state === IN_LOG) this.freeLogEntries.push(this.slots[block]);
  }

  /** Gives a block a slot in memory (it keeps one it has); false when the budget is spent. */
  private takeSlot(block: number): boolean {
    if (this.states[block] === IN_MEMORY) return true;
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.usedSlots >= this.maxSlots) return false;
      slot = this.usedSlots++;
      if (slot % SLAB_BLOCKS === 0) this.slabs.push(this.newSlab());
    }
    if (this.states[block] === IN_LOG) this.freeLogEntries.push(this.slots[block]);
    this.slots[block] = slot;
    this.states[block] = IN_MEMORY;
    return true;
  }

  /** Zeroed memory for one slab: huge pages outside V8's heap when FFI allows. */
  private newSlab(): Uint8Array {
    const mapping = mapHugeMemory(SLAB_BLOCKS * OVERLAY_BLOCK);
    if (!mapping) return new Uint8Array(SLAB_BLOCKS * OVERLAY_BLOCK);
    this.mappings.push(mapping);
    return mapping.bytes;
  }

  /** Whether a block could still go to memory. */
  private hasRoom(): boolean {
    return this.freeSlots.length > 0 || this.usedSlots < this.maxSlots;
  }

  /** The bytes of a block in memory (a view into its slab). */
  private memoryBlock(block: number): Uint8Array {
    const slot = this.slots[block];
    const at = (slot % SLAB_BLOCKS) * OVERLAY_BLOCK;
    return this.slabs[Math.floor(slot / SLAB_BLOCKS)].subarray(at, at + OVERLAY_BLOCK);
  }

  private firstBlock(offset: number): number {
    return Math.floor(offset / OVERLAY_BLOCK);
  }

  private lastBlock(end: number): number {
    return Math.floor((end - 1) / OVERLAY_BLOCK);
  }
}
