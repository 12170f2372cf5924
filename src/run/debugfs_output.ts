/**
 * What e2fsprogs' debugfs prints, read into values: `stats -h` (a file system's geometry),
 * `icheck` (the inode that holds each block), `ncheck` (the paths of inodes) and `testb`
 * (whether a block is in use). Pure: text in, values out; src/run/debugfs.ts runs debugfs.
 * Lines that are none of a request's answers (the `debugfs: REQUEST` echo of `-f`, a
 * warning) are skipped.
 *
 * @module
 */

/** What `stats -h` says of an ext2/3/4 file system that the mapping of blocks needs. */
export interface ExtGeometry {
  /** Bytes a block: block B holds the disk's bytes `[B * blockSize, (B + 1) * blockSize)`. */
  blockSize: number;
  /** The inode of the internal journal; null without one (ext2, or an external journal). */
  journalInode: number | null;
  /** The first inode that is not reserved: those below it (but the root, 2) are the file system's own. */
  firstInode: number;
  /**
   * Whether the journal holds committed metadata not yet written to its home
   * (`needs_recovery`: mounted, and not unmounted since): debugfs reads the home only.
   */
  needsRecovery: boolean;
}

/** The root directory's inode, in every ext2/3/4 file system. */
export const ROOT_INODE = 2;

/**
 * The geometry `stats -h` prints, or null when it printed none (debugfs could not open the
 * image as an ext2/3/4 file system: it says why on stderr).
 *
 * @example
 * ```ts
 * parseStats("Block size:               1024\nFirst inode:              11\nJournal inode:            8\n");
 * // { blockSize: 1024, journalInode: 8, firstInode: 11, needsRecovery: false }
 * ```
 */
export function parseStats(text: string): ExtGeometry | null {
  const field = (name: string): number | null => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s*$`, "m").exec(text);
    return match ? Number(match[1]) : null;
  };
  const blockSize = field("Block size");
  if (blockSize === null || blockSize === 0) return null;
  return {
    blockSize,
    journalInode: field("Journal inode") || null,
    firstInode: field("First inode") ?? 11,
    needsRecovery: /^Filesystem features:.*\bneeds_recovery\b/m.test(text),
  };
}

/**
 * The inode that holds each block `icheck` was asked about, null for a block no inode
 * holds (`<block not found>`: the file system's own metadata, or a free block).
 *
 * @example
 * ```ts
 * parseIcheck("Block\tInode number\n8705\t12\n259\t<block not found>\n");
 * // Map { 8705 => 12, 259 => null }
 * ```
 */
export function parseIcheck(text: string): Map<number, number | null> {
  const owners = new Map<number, number | null>();
  for (const line of text.split("\n")) {
    const match = /^(\d+)\t(?:(\d+)|<block not found>)\s*$/.exec(line);
    if (match) owners.set(Number(match[1]), match[2] === undefined ? null : Number(match[2]));
  }
  return owners;
}

/**
 * The paths of each inode `ncheck` found in a directory, as absolute paths in the file
 * system, sorted (a file with hard links has several). debugfs 1.47 writes an entry of the
 * root directory with two slashes (`//log`): read as one. A name may hold spaces and tabs;
 * one with a newline cannot be told from two lines, and is read as far as its first line.
 *
 * @example
 * ```ts
 * parseNcheck("Inode\tPathname\n12\t//log\n19\t/var/lib/etcd/member/wal/0.wal\n");
 * // Map { 12 => ["/log"], 19 => ["/var/lib/etcd/member/wal/0.wal"] }
 * ```
 */
export function parseNcheck(text: string): Map<number, string[]> {
  const paths = new Map<number, string[]>();
  for (const line of text.split("\n")) {
    const match = /^(\d+)\t(\/.*)$/.exec(line);
    if (!match) continue;
    const inode = Number(match[1]);
    const path = match[2].replace(/^\/\/+/, "/");
    const known = paths.get(inode) ?? [];
    if (!known.includes(path)) known.push(path);
    paths.set(inode, known.sort());
  }
  return paths;
}

/**
 * Whether each block `testb` was asked about is marked in use in the block bitmap.
 *
 * @example
 * ```ts
 * parseTestb("Block 259 marked in use\nBlock 30000 not in use\n"); // Map { 259 => true, 30000 => false }
 * ```
 */
export function parseTestb(text: string): Map<number, boolean> {
  const used = new Map<number, boolean>();
  for (const line of text.split("\n")) {
    const match = /^Block (\d+) (marked in use|not in use)\s*$/.exec(line);
    if (match) used.set(Number(match[1]), match[2] === "marked in use");
  }
  return used;
}
