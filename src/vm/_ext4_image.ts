/**
 * An ext4 image made from a directory tree, reproducibly: `mke2fs -d` with a fixed UUID,
 * hash seed and clock (E2FSPROGS_FAKE_TIME), entries added in sorted order (mke2fs scans
 * each directory with alphasort), no journal (the image is only ever mounted read-only),
 * then every inode's access, change and modification times set to that clock with
 * `debugfs` (mke2fs copies them from the tree, where unpacking and building set them to
 * the time of the build). Two builds from the same tree give the same bytes.
 *
 * @module
 */

import { join } from "node:path";
import { runTool, runToolText } from "./_command.ts";
import { GuestImageError } from "./guest_image_error.ts";

/** The fixed clock of every image: 2023-11-14T22:13:20Z, as for the base disks. */
export const IMAGE_EPOCH = 1_700_000_000;

const BLOCK = 4096;

/** Blocks and inodes a tree needs, counted the way ext4 stores it (a little generously). */
export interface TreeUsage {
  /** 4 KiB blocks of file contents, directories and long symbolic links. */
  blocks: number;
  /** Files, directories and links. */
  inodes: number;
}

/**
 * Counts what a tree needs in ext4: each file's blocks, a block per directory and per 100
 * entries, a block for each symbolic link too long to live in its inode.
 *
 * @example
 * ```ts
 * const usage = await treeUsage("/tmp/root"); // { blocks: 103112, inodes: 11111 }
 * ```
 */
export async function treeUsage(root: string): Promise<TreeUsage> {
  let blocks = 0;
  let inodes = 0;
  const walk = async (dir: string) => {
    let entries = 0;
    for await (const entry of Deno.readDir(dir)) {
      entries++;
      inodes++;
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isSymlink) {
        if ((await Deno.readLink(path)).length >= 60) blocks++;
      } else if (entry.isFile) {
        const { size } = await Deno.lstat(path);
        // Extent blocks of large files: one per 340 extents of at most 128 MiB; one is plenty.
        blocks += Math.ceil(size / BLOCK) + (size > 48 * BLOCK ? 1 : 0);
      }
    }
    blocks += 1 + Math.floor(entries / 100);
  };
  await walk(root);
  return { blocks, inodes: inodes + 1 };
}

/**
 * The inodes an ext4 file system uses, from `dumpe2fs` (each group's range minus its
 * "Free inodes"), those from `first` on (the reserved inodes below it are left out; the
 * root directory, inode 2, is kept).
 *
 * @example
 * ```ts
 * usedInodes("Inode count: 16\nInodes per group: 8\nGroup 0: ...\n  Free inodes: 14-16\n", 11);
 * // [2, 11, 12, 13]
 * ```
 */
export function usedInodes(dumpe2fs: string, first: number): number[] {
  const count = Number(/^Inode count:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
  const perGroup = Number(/^Inodes per group:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
  if (!(count > 0) || !(perGroup > 0)) {
    throw new GuestImageError("dumpe2fs printed no inode count or inodes per group");
  }
  const free = new Set<number>();
  let groups = 0;
  for (const match of dumpe2fs.matchAll(/^[ \t]+Free inodes:[ \t]*([0-9, \t-]*)$/gm)) {
    groups++;
    for (const part of match[1].split(",").map((p) => p.trim()).filter((p) => p !== "")) {
      const [from, to] = part.split("-").map(Number);
      for (let ino = from; ino <= (to ?? from); ino++) free.add(ino);
    }
  }
  if (groups !== Math.ceil(count / perGroup)) {
    throw new GuestImageError(
      `dumpe2fs listed free inodes of ${groups} groups, expected ${Math.ceil(count / perGroup)}`,
    );
  }
  const used: number[] = [];
  for (let ino = 1; ino <= count; ino++) {
    if ((ino === 2 || ino >= first) && !free.has(ino)) used.push(ino);
  }
  return used;
}

/** How {@linkcode makeExt4Image} makes an image. */
export interface Ext4ImageOptions {
  /** The file system's UUID, also its directory hash seed. */
  uuid: string;
  /** A volume label (at most 16 bytes). */
  label: string;
  /** Give every inode uid and gid 0 (a tree unpacked without root is owned by its builder). */
  rootOwned: boolean;
  signal?: AbortSignal;
}

/**
 * Makes an ext4 image of `tree` at `image` (created, or replaced), sized to fit, with every
 * time fixed at {@linkcode IMAGE_EPOCH}. Returns its size in bytes.
 *
 * @throws {GuestImageError} when mke2fs or debugfs fails.
 * @example
 * ```ts
 * await makeExt4Image("/tmp/root", "/tmp/root.ext4", { uuid, label: "faultline-root", rootOwned: true });
 * ```
 */
export async function makeExt4Image(
  tree: string,
  image: string,
  options: Ext4ImageOptions,
): Promise<number> {
  const usage = await treeUsage(tree);
  const inodes = Math.ceil(usage.inodes * 1.1) + 256;
  // Contents, the inode tables, bitmaps and group descriptors, and room to spare.
  const dataBytes = usage.blocks * BLOCK * 1.08 + inodes * 256 + 32 * 1024 * 1024;
  const env = { E2FSPROGS_FAKE_TIME: String(IMAGE_EPOCH), LC_ALL: "C" };
  let sizeBytes = Math.ceil(dataBytes / (16 * 1024 * 1024)) * 16 * 1024 * 1024;
  for (let attempt = 0;; attempt++) {
    await Deno.remove(image).catch(() => {});
    const file = await Deno.open(image, { create: true, write: true, truncate: true });
    await file.truncate(sizeBytes);
    file.close();
    try {
      await runTool("mke2fs", [
        "-q",
        "-F",
        "-t",
        "ext4",
        "-b",
        String(BLOCK),
        "-I",
        "256",
        "-m",
        "0",
        "-N",
        String(inodes),
        "-O",
        "^has_journal",
        "-L",
        options.label,
        "-U",
        options.uuid,
        "-E",
        `hash_seed=${options.uuid},root_owner=0:0,nodiscard`,
        "-d",
        tree,
        image,
      ], { env, signal: options.signal });
      break;
    } catch (error) {
      const full = error instanceof GuestImageError && /Could not allocate|No space/i.test(
        error.stderr ?? error.message,
      );
      if (!full || attempt >= 3) throw error;
      sizeBytes = Math.ceil(sizeBytes * 1.5 / (16 * 1024 * 1024)) * 16 * 1024 * 1024;
    }
  }
  await fixInodes(image, { ...options, env });
  return sizeBytes;
}

/** Sets every used inode's times (and, when asked, its owner) with one `debugfs -w` run. */
async function fixInodes(
  image: string,
  options: Ext4ImageOptions & { env: Record<string, string> },
): Promise<void> {
  const header = await runToolText("dumpe2fs", [image], {
    env: options.env,
    signal: options.signal,
  });
  const first = Number(/^First inode:\s+(\d+)/m.exec(header)?.[1] ?? 11);
  const fields = ["atime", "ctime", "mtime", ...(options.rootOwned ? ["uid", "gid"] : [])];
  const lines: string[] = [];
  for (const ino of usedInodes(header, first)) {
    for (const field of fields) {
      const value = field.endsWith("time") ? `@${IMAGE_EPOCH}` : "0";
      lines.push(`set_inode_field <${ino}> ${field} ${value}`);
    }
  }
  const commands = `${image}.debugfs`;
  await Deno.writeTextFile(commands, lines.join("\n") + "\n");
  try {
    const { stderr } = await runTool("debugfs", ["-w", "-f", commands, image], {
      env: options.env,
      signal: options.signal,
    });
    const complaints = stderr.split("\n").filter((line) =>
      line.trim() !== "" && !line.startsWith("debugfs ")
    );
    if (complaints.length > 0) {
      throw new GuestImageError(
        `debugfs could not fix the times of ${image}: ${complaints.slice(0, 3).join(" | ")}`,
      );
    }
  } finally {
    await Deno.remove(commands).catch(() => {});
  }
}
