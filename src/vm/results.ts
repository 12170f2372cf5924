/**
 * The guest-to-host results channel: lines of text such as `phase run`, `ack 17`,
 * `have 17`, `exit 0`, carried by a disk of their own so that the host orders every line
 * exactly against the disk operations of the run (docs/durability.md, "The oracle").
 *
 * ## The contract
 *
 * The launcher attaches, after every other disk, one more virtio-blk disk of
 * {@linkcode RESULTS_DISK_SIZE} bytes (1 GiB, zeroed: 2,097,152 lines a boot; the host holds
 * only the sectors written) with `serial=`{@linkcode RESULTS_SERIAL}
 * (`faultline-results`). The guest's `report KIND [ARGS...]` command writes the line
 * `KIND ARGS...` (at most {@linkcode RESULTS_LINE_MAX} bytes, no newline) as exactly one
 * 512-byte sector: the line, `"\n"`, then NUL bytes, at sector N, where N counts the lines of
 * the boot from 0. The write is O_DIRECT, a single 512-byte write at offset N * 512 (no read
 * before it, no flush or FUA with it), and `report` returns only once the host has
 * acknowledged it: a line reaches the host before any disk operation that the guest issues
 * after `report` returned. Concurrent reporters claim distinct sectors, so their writes may
 * arrive out of sector order; {@linkcode ResultsChannel} hands lines on in sector order.
 *
 * The lines that `/init` writes itself, in order: `phase boot` (the channel is up), `phase
 * mounted` (every disk with a mountpoint is mounted; only when there is one), `phase NAME`
 * (the phase script starts), `exit CODE` (its exit code); or `error TEXT` when the guest
 * cannot be set up (then no `exit` line follows). With a control channel, `/init` also
 * reports each clock jump it made, at any time: `clock jumped MS BEFORE AFTER` (see
 * `control.ts`). A workload adds its own, such as `ack KEY`
 * and `have KEY`. Grammar of a line: words separated by spaces, the first one the kind.
 *
 * On the host, {@linkcode ResultsChannel} is the block backend of that disk (it holds the
 * chunks written in memory and calls back once per completed line), and
 * {@linkcode decodeResultSectors} reads the lines out of an image of it.
 *
 * @module
 */

import { type BlockBackend, BlockError, type BlockOp } from "../block/backend.ts";

/** The virtio-blk serial of the results disk (`-device virtio-blk-pci,...,serial=`). */
export const RESULTS_SERIAL = "faultline-results";

/**
 * Size of the results disk in bytes: 1 GiB, room for 2,097,152 lines a boot (a client history
 * takes two lines an operation). The host keeps only the 64 KiB chunks the guest wrote.
 */
export const RESULTS_DISK_SIZE = 1024 * 1024 * 1024;

/** The host keeps the results disk in chunks of this many bytes, each made when first written. */
const CHUNK_SIZE = 64 * 1024;

/** One line takes one sector of this many bytes. */
export const RESULTS_SECTOR_SIZE = 512;

/** The longest line `report` writes, in bytes (without its `"\n"`). */
export const RESULTS_LINE_MAX = 500;

/** Kinds of line that faultline itself writes or reads; a workload may write others. */
export type ResultKind = "phase" | "ack" | "have" | "exit" | "error" | "clock";

/** One line of the results channel. */
export interface ResultLine {
  /** The first word, such as `ack`. */
  readonly kind: string;
  /** The words after it. */
  readonly args: readonly string[];
  /** The whole line, without its line ending. */
  readonly text: string;
}

/** What {@linkcode parseResultLines} found. */
export interface ParsedResults {
  readonly lines: ResultLine[];
  /** Text after the last line ending: a line still being written, or cut off. */
  readonly rest: string;
}

/**
 * One line of text as a {@linkcode ResultLine}, or undefined when it is blank. A CR at either
 * end is dropped.
 *
 * @example
 * ```ts
 * parseResultLine("have  a b"); // { kind: "have", args: ["a", "b"], text: "have  a b" }
 * parseResultLine("  "); // undefined
 * ```
 */
export function parseResultLine(text: string): ResultLine | undefined {
  const line = text.replace(/\r+$/, "").replace(/^\r+/, "");
  const words = line.trim().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return undefined;
  return { kind: words[0], args: words.slice(1), text: line };
}

/**
 * Splits results-channel text into lines (LF or CRLF), skipping empty ones.
 *
 * @example
 * ```ts
 * parseResultLines("phase run\r\nack 1\nexit 0\n").lines.map((l) => l.kind);
 * // ["phase", "ack", "exit"]
 * ```
 */
export function parseResultLines(text: string): ParsedResults {
  const parts = text.split("\n");
  const rest = parts.pop() ?? "";
  const lines: ResultLine[] = [];
  for (const part of parts) {
    const line = parseResultLine(part);
    if (line) lines.push(line);
  }
  return { lines, rest };
}

/**
 * The exit code the guest reported on its last `exit CODE` line, or undefined when there
 * is none.
 *
 * @example
 * ```ts
 * reportedExitCode(parseResultLines("ack 1\nexit 3\n").lines); // 3
 * ```
 */
export function reportedExitCode(lines: readonly ResultLine[]): number | undefined {
  const line = lines.findLast((l) => l.kind === "exit" && /^\d+$/.test(l.args[0] ?? ""));
  return line ? Number(line.args[0]) : undefined;
}

/** A line of the results disk and the sector it is in. */
export interface ResultSector {
  /** Sector index on the results disk: the line's number, from 0. */
  readonly sector: number;
  /** The text up to the first `"\n"` or NUL. */
  readonly line: string;
}

const decoder = new TextDecoder();

function sectorIsEmpty(bytes: Uint8Array, start: number): boolean {
  for (let i = start; i < start + RESULTS_SECTOR_SIZE; i++) if (bytes[i] !== 0) return false;
  return true;
}

function sectorText(bytes: Uint8Array, start: number): string {
  let end = start;
  const limit = start + RESULTS_SECTOR_SIZE;
  while (end < limit && bytes[end] !== 0x0a && bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * The lines in a run of whole sectors of the results disk (such as the disk's image after the
 * guest stopped, or the payload of one write): every sector that is not all zeros, with its
 * text up to the first `"\n"` or NUL. Pure.
 *
 * @param bytes whole 512-byte sectors
 * @param firstSector the sector index of `bytes[0]`
 * @throws {RangeError} when `bytes` is not a whole number of sectors
 *
 * @example
 * ```ts
 * const disk = new Uint8Array(3 * 512);
 * disk.set(new TextEncoder().encode("phase boot\n"), 0);
 * disk.set(new TextEncoder().encode("ack 1\n"), 2 * 512);
 * decodeResultSectors(disk, 0); // [{ sector: 0, line: "phase boot" }, { sector: 2, line: "ack 1" }]
 * ```
 */
export function decodeResultSectors(bytes: Uint8Array, firstSector: number): ResultSector[] {
  if (bytes.length % RESULTS_SECTOR_SIZE !== 0) {
    throw new RangeError(
      `results: ${bytes.length} bytes is not a whole number of ${RESULTS_SECTOR_SIZE}-byte sectors`,
    );
  }
  const out: ResultSector[] = [];
  for (let start = 0; start < bytes.length; start += RESULTS_SECTOR_SIZE) {
    if (sectorIsEmpty(bytes, start)) continue;
    out.push({ sector: firstSector + start / RESULTS_SECTOR_SIZE, line: sectorText(bytes, start) });
  }
  return out;
}

/**
 * Called once per line of the results disk, in sector order, from inside the
 * {@linkcode ResultsChannel.execute} call of the write that completed it (`op`), before the
 * write is acknowledged to the guest.
 */
export type ResultLineHandler = (line: ResultLine, sector: number, op: BlockOp) => void;

/** Options of a {@linkcode ResultsChannel}. */
export interface ResultsChannelOptions {
  /** Size of the disk in bytes, a multiple of 512; {@linkcode RESULTS_DISK_SIZE} by default. */
  size?: number;
  /** The first line's sector: a guest resumed from a saved state goes on from there; 0 by default. */
  firstSector?: number;
}

/**
 * The results disk as a block backend, held in memory (only the 64 KiB chunks written: a disk
 * of 1 GiB costs what its lines take): reads return what was written; a
 * write stores its bytes and then hands on every line that it completed, each exactly once
 * and in sector order. The next line is the first sector that has not been handed on; while
 * it is all zeros, lines in later sectors wait (a concurrent reporter claimed it and has not
 * written it yet). A sector written again, such as by a page-sized read-modify-write of a
 * guest that had no O_DIRECT, is not handed on again. A blank line takes its sector and is
 * skipped. Flush and cache do nothing; trim and write-zeroes store zeros.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const channel = new ResultsChannel((line) => lines.push(line.text));
 * // serve `channel` as the disk with serial RESULTS_SERIAL; after the guest wrote
 * // "phase boot\n" to sector 0, lines is ["phase boot"].
 * ```
 */
export class ResultsChannel implements BlockBackend {
  readonly size: number;
  readonly #chunks = new Map<number, Uint8Array>();
  readonly #onLine: ResultLineHandler;
  #next = 0;
  #closed = false;

  /**
   * @param onLine receives each line once, in sector order
   */
  constructor(onLine: ResultLineHandler, options: ResultsChannelOptions = {}) {
    const size = options.size ?? RESULTS_DISK_SIZE;
    if (!Number.isSafeInteger(size) || size <= 0 || size % RESULTS_SECTOR_SIZE !== 0) {
      throw new RangeError(`results: size ${size} is not a positive multiple of 512 bytes`);
    }
    this.size = size;
    this.#onLine = onLine;
    // A guest resumed from a saved state goes on counting its lines where it was saved.
    this.#next = options.firstSector ?? 0;
  }

  /** The sector of the next line to hand on: the number of sectors handed on so far. */
  get nextSector(): number {
    return this.#next;
  }

  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    try {
      return Promise.resolve(this.#execute(op));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #execute(op: BlockOp): Uint8Array | undefined {
    if (this.#closed) throw new BlockError("eshutdown", "the results disk is closed");
    const { offset, length } = op;
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 ||
      length < 0 || offset + length > this.size
    ) {
      throw new BlockError(
        "einval",
        `${op.type} of ${length} bytes at ${offset} is outside the results disk (${this.size} bytes)`,
      );
    }
    switch (op.type) {
      case "read":
        return this.#read(offset, length);
      case "write": {
        const data = op.data;
        if (!data || data.length !== length) {
          throw new BlockError(
            "einval",
            `write of ${length} bytes at ${offset} carries ${data?.length ?? 0} bytes`,
          );
        }
        this.#store(offset, data);
        this.#handOn(op);
        return undefined;
      }
      case "trim":
      case "write-zeroes":
        this.#store(offset, new Uint8Array(length));
        return undefined;
      case "flush":
      case "cache":
        return undefined;
    }
  }

  /** The bytes at `offset`: zeros where nothing was written. */
  #read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let at = offset; at < offset + length;) {
      const chunk = Math.floor(at / CHUNK_SIZE);
      const within = at - chunk * CHUNK_SIZE;
      const take = Math.min(CHUNK_SIZE - within, offset + length - at);
      const bytes = this.#chunks.get(chunk);
      if (bytes) out.set(bytes.subarray(within, within + take), at - offset);
      at += take;
    }
    return out;
  }

  /** Stores `data` at `offset`, making the chunks it lands in. */
  #store(offset: number, data: Uint8Array): void {
    for (let at = offset; at < offset + data.length;) {
      const chunk = Math.floor(at / CHUNK_SIZE);
      const within = at - chunk * CHUNK_SIZE;
      const take = Math.min(CHUNK_SIZE - within, offset + data.length - at);
      let bytes = this.#chunks.get(chunk);
      if (!bytes) this.#chunks.set(chunk, bytes = new Uint8Array(CHUNK_SIZE));
      bytes.set(data.subarray(at - offset, at - offset + take), within);
      at += take;
    }
  }

  #handOn(op: BlockOp): void {
    const sectors = this.size / RESULTS_SECTOR_SIZE;
    const perChunk = CHUNK_SIZE / RESULTS_SECTOR_SIZE;
    while (this.#next < sectors) {
      const bytes = this.#chunks.get(Math.floor(this.#next / perChunk));
      const start = (this.#next % perChunk) * RESULTS_SECTOR_SIZE;
      if (!bytes || sectorIsEmpty(bytes, start)) return;
      const sector = this.#next++;
      const line = parseResultLine(sectorText(bytes, start));
      if (line) this.#onLine(line, sector, op);
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
