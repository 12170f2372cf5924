/**
 * Small real ext4 images made on the host with e2fsprogs (no VM), and one whose newest
 * file lies as a power cut leaves a file system the kernel never unmounted: the file's data
 * at home, its metadata committed to the journal only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { hostCommand } from "../../src/util/host_command.ts";

/** The block size of the images made here. */
export const EXT4_BLOCK = 4096;

/** Fixed times: the same requests make the same bytes. */
const FAKE_TIME = { E2FSPROGS_FAKE_TIME: "1700000000" };

/**
 * Makes an ext4 file system of 4 KiB blocks on a new image of `sizeBytes`, holding the
 * files of the host directory `root` when given.
 *
 * @example
 * ```ts
 * const image = await mkfsExt4(join(dir.path, "base.raw"), { sizeBytes: 8 << 20 });
 * ```
 */
export async function mkfsExt4(
  image: string,
  options: { sizeBytes: number; root?: string },
): Promise<string> {
  const file = await Deno.open(image, { create: true, write: true, truncate: true });
  await file.truncate(options.sizeBytes);
  file.close();
  const made = await hostCommand("mkfs.ext4", {
    args: [
      "-q",
      "-F",
      "-b",
      String(EXT4_BLOCK),
      ...(options.root ? ["-d", options.root] : []),
      image,
    ],
    env: FAKE_TIME,
    stderr: "piped",
  }).output();
  assert.ok(made.success, new TextDecoder().decode(made.stderr));
  return image;
}

/**
 * Runs debugfs on `image` with `requests`, one a line, writing it (`-w`); returns what it
 * printed.
 *
 * @example
 * ```ts
 * await debugfsWrite(image, ["write /tmp/wal wal"]);
 * ```
 */
export async function debugfsWrite(image: string, requests: readonly string[]): Promise<string> {
  const child = hostCommand("debugfs", {
    args: ["-w", "-f", "-", image],
    env: FAKE_TIME,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const ended = child.output();
  const input = child.stdin.getWriter();
  await input.write(new TextEncoder().encode(requests.map((r) => `${r}\n`).join("")));
  await input.close();
  const output = await ended;
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

/** The blocks `after` holds other bytes in than `before`, ascending. */
export function changedBlocks(before: Uint8Array, after: Uint8Array): number[] {
  const changed: number[] = [];
  for (let block = 0; block * EXT4_BLOCK < before.length; block++) {
    const b = blockOf(after, block);
    if (blockOf(before, block).some((byte, i) => byte !== b[i])) changed.push(block);
  }
  return changed;
}

/** A file added to a base image twice: unmounted cleanly, and as a power cut finds it. */
export interface FileAdded {
  /** The base with the file: data and metadata at home. */
  synced: string;
  /**
   * The base with the file's data at home and the metadata that names it (inode, directory
   * entry, bitmaps) in a committed journal transaction only: `needs_recovery` is set.
   */
  journaled: string;
  /** The blocks of the file's data. */
  dataBlocks: number[];
}

/**
 * Adds `bytes` to a copy of `base` as the file `/name`, both ways of {@link FileAdded}; the
 * images go to `dir`. Each data block of `bytes` must be one byte repeated, none zero.
 *
 * @example
 * ```ts
 * const { synced, journaled, dataBlocks } = await addFile(base, { dir: dir.path, name: "wal", bytes });
 * ```
 */
export async function addFile(
  base: string,
  options: { dir: string; name: string; bytes: Uint8Array },
): Promise<FileAdded> {
  const { dir, name } = options;
  const host = join(dir, `${name}.host`);
  await Deno.writeFile(host, options.bytes);
  const synced = join(dir, `${name}.synced.raw`);
  await Deno.copyFile(base, synced);
  await debugfsWrite(synced, [`write ${host} ${name}`]);
  const before = await Deno.readFile(base);
  const after = await Deno.readFile(synced);
  const changed = changedBlocks(before, after);
  const dataBlocks = changed.filter((block) => isFilled(blockOf(after, block)));
  const home = before.slice();
  for (const block of dataBlocks) home.set(blockOf(after, block), block * EXT4_BLOCK);
  const journaled = join(dir, `${name}.journaled.raw`);
  await Deno.writeFile(journaled, home);
  const metadata = changed.filter((block) => !dataBlocks.includes(block));
  await journalBlocks(journaled, metadata.map((block) => [block, blockOf(after, block)]), dir);
  return { synced, journaled, dataBlocks };
}

/** Block `block` of an image's bytes. */
function blockOf(bytes: Uint8Array, block: number): Uint8Array {
  return bytes.subarray(block * EXT4_BLOCK, (block + 1) * EXT4_BLOCK);
}

/** Whether a block is one byte repeated, not zero. */
function isFilled(block: Uint8Array): boolean {
  return block[0] !== 0 && block.every((byte) => byte === block[0]);
}

/** Commits one journal transaction to `image` that writes `blocks` (number, bytes) home on replay. */
async function journalBlocks(
  image: string,
  blocks: readonly [number, Uint8Array][],
  dir: string,
): Promise<void> {
  const contents = join(dir, "transaction.bin");
  const bytes = new Uint8Array(blocks.length * EXT4_BLOCK);
  blocks.forEach(([, data], i) => bytes.set(data, i * EXT4_BLOCK));
  await Deno.writeFile(contents, bytes);
  const numbers = blocks.map(([block]) => block).join(",");
  await debugfsWrite(image, ["jo", `jw -b ${numbers} ${contents}`, "jc"]);
}
