/**
 * Fixes the times mkfs.xfs leaves in a new file system, so that the same disk gives the
 * same bytes. mkfs.xfs 6.1 stamps the inodes it makes (the root directory, the realtime
 * bitmap and summary) with the clock and reads no SOURCE_DATE_EPOCH; everything else it
 * writes is a function of its arguments and the UUID. `xfs_db -x` sets each of those
 * inodes' times to {@link MKFS_EPOCH} (it recomputes the inode's CRC).
 *
 * @module
 */

import { MKFS_EPOCH } from "../scenario/filesystems.ts";
import { hostCommand } from "../util/host_command.ts";
import { RunError } from "./errors.ts";

async function xfsDb(image: string, args: string[]): Promise<string> {
  const output = await hostCommand("xfs_db", {
    args: [...args, image],
    env: { LC_ALL: "C" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new RunError(
      `xfs_db ${args.join(" ")} ${image} failed: ${decoder.decode(output.stderr).trim()}`,
    );
  }
  return decoder.decode(output.stdout);
}

/**
 * The xfs_db commands that set an inode's times. With `bigtime` (mkfs.xfs's default since
 * 5.15) a time is one 64-bit count of nanoseconds from 1901-12-13 (2^31 s before 1970),
 * which xfs_db writes as the raw `sec` field; without it, seconds and nanoseconds apart.
 * v5 inodes (`crc`) also have a creation time.
 *
 * @example
 * ```ts
 * timeCommands(128, { bigtime: true, crc: true }).length; // 5
 * ```
 */
export function timeCommands(
  inode: number,
  features: { bigtime: boolean; crc: boolean },
): string[] {
  const fields = ["core.atime", "core.mtime", "core.ctime", ...(features.crc ? ["v3.crtime"] : [])];
  const commands = [`inode ${inode}`];
  for (const field of fields) {
    if (features.bigtime) {
      const raw = (BigInt(MKFS_EPOCH) + 2n ** 31n) * 1_000_000_000n;
      commands.push(`write ${field}.sec ${raw}`);
    } else {
      commands.push(`write ${field}.sec ${MKFS_EPOCH}`, `write ${field}.nsec 0`);
    }
  }
  return commands;
}

/**
 * The inodes mkfs.xfs made, from the superblock's `rootino`, `rbmino` and `rsumino` lines
 * (xfs_db prints `rootino = 128`), and the features that decide how times are written.
 *
 * @example
 * ```ts
 * madeInodes("rootino = 128\nrbmino = 129\nrsumino = 130\n", "versionnum [0xb4a5+0x18a] = V5,CRC,BIGTIME");
 * // { inodes: [128, 129, 130], bigtime: true, crc: true }
 * ```
 */
export function madeInodes(
  superblock: string,
  version: string,
): { inodes: number[]; bigtime: boolean; crc: boolean } {
  const inodes = [...superblock.matchAll(/^(?:rootino|rbmino|rsumino) = (\d+)$/gm)]
    .map((match) => Number(match[1]));
  const flags = version.replace(/^.*=\s*/s, "").trim().split(",");
  return { inodes, bigtime: flags.includes("BIGTIME"), crc: flags.includes("CRC") };
}

/**
 * Sets the times of the inodes mkfs.xfs made in `image` to {@link MKFS_EPOCH}.
 *
 * @throws {RunError} when xfs_db fails or finds no inode to fix.
 * @example
 * ```ts
 * await fixXfsTimes("/tmp/disk.raw");
 * ```
 */
export async function fixXfsTimes(image: string): Promise<void> {
  const superblock = await xfsDb(image, ["-r", "-c", "sb 0", "-c", "p rootino rbmino rsumino"]);
  const version = await xfsDb(image, ["-r", "-c", "version"]);
  const made = madeInodes(superblock, version);
  if (made.inodes.length !== 3) {
    throw new RunError(
      `xfs_db found no root, bitmap and summary inodes in ${image}: ${superblock}`,
    );
  }
  const commands = made.inodes.flatMap((inode) => timeCommands(inode, made));
  await xfsDb(image, ["-x", ...commands.flatMap((command) => ["-c", command])]);
}
