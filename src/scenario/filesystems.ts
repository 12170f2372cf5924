/**
 * The file systems faultline makes on a disk (`filesystem: "xfs"`), one object each in one
 * table: how mkfs makes one reproducibly on the host, which kernel modules the guest loads
 * to mount it, how a clean disk is checked (the setup phase's disks), and the smallest disk
 * its mkfs accepts. Nothing outside the table names a file system (`none`, a blank disk, is
 * not one: it has no entry).
 *
 * @module
 */

/** The fixed time of every made file system (and of `E2FSPROGS_FAKE_TIME`): 2023-11-14. */
export const MKFS_EPOCH = 1_700_000_000;

/** A host command: the program and its arguments. */
export interface ToolCall {
  tool: string;
  args: string[];
  env?: Record<string, string>;
}

/** Everything faultline knows of one file system. */
export interface Filesystem {
  /** Its name in a scenario and for `mount -t`. */
  name: string;
  /** The smallest disk its mkfs makes, in bytes. */
  minSizeBytes: number;
  /** Why the smallest disk is that size, for the error that names it. */
  minSizeWhy?: string;
  /**
   * Kernel modules the guest loads before it mounts one (their dependencies come with
   * them); none when Debian's cloud kernel has it built in.
   */
  guestModules: readonly string[];
  /** The command whose output names the mkfs version (a base disk's cache key holds it). */
  version: ToolCall;
  /** The mkfs command for an image file, with a fixed UUID (and hash seed, where it has one). */
  mkfs(options: { uuid: string; image: string; extra: readonly string[] }): ToolCall;
  /**
   * How its times are fixed: `mkfs` takes a fixed time itself (in `mkfs().env`); `xfs_db`
   * sets the times of the inodes mkfs made afterwards (src/run/_xfs_times.ts).
   */
  times: "mkfs" | "xfs_db";
  /** A read-only check that exits 0 on a clean file system. */
  clean(image: string): ToolCall;
  /** Whether faultline reads its files to name what a crash lost (debugfs: ext2/3/4). */
  readsFiles: boolean;
}

function ext(name: "ext2" | "ext3" | "ext4"): Filesystem {
  return {
    name,
    minSizeBytes: 1024 * 1024,
    guestModules: [],
    version: { tool: "mke2fs", args: ["-V"] },
    mkfs: ({ uuid, image, extra }) => ({
      tool: `mkfs.${name}`,
      args: ["-q", "-F", "-U", uuid, "-E", `hash_seed=${uuid}`, ...extra, image],
      env: { E2FSPROGS_FAKE_TIME: String(MKFS_EPOCH) },
    }),
    times: "mkfs",
    clean: (image) => ({ tool: "e2fsck", args: ["-f", "-n", image], env: { LC_ALL: "C" } }),
    readsFiles: true,
  };
}

/**
 * XFS: mkfs.xfs with a fixed UUID (`-m uuid=`). mkfs.xfs 6.1 takes its inodes' times from
 * the clock (it reads no SOURCE_DATE_EPOCH), so faultline sets them afterwards with xfs_db
 * (src/run/_xfs_times.ts); it refuses disks under 300 MiB (xfsprogs 5.19 on).
 */
const xfs: Filesystem = {
  name: "xfs",
  minSizeBytes: 300 * 1024 * 1024,
  minSizeWhy: "mkfs.xfs refuses a smaller file system",
  guestModules: ["xfs"],
  version: { tool: "mkfs.xfs", args: ["-V"] },
  mkfs: ({ uuid, image, extra }) => ({
    tool: "mkfs.xfs",
    args: ["-q", "-f", "-m", `uuid=${uuid}`, ...extra, image],
  }),
  times: "xfs_db",
  clean: (image) => ({ tool: "xfs_repair", args: ["-n", "-f", image], env: { LC_ALL: "C" } }),
  readsFiles: false,
};

/** The file systems by name. */
export const FILESYSTEMS: Readonly<Record<string, Filesystem>> = {
  ext4: ext("ext4"),
  ext3: ext("ext3"),
  ext2: ext("ext2"),
  xfs,
};

/** The names a disk's `filesystem` takes besides `none`. */
export const FILESYSTEM_NAMES = ["ext4", "ext3", "ext2", "xfs"] as const;

/** A file system faultline makes. */
export type FilesystemName = typeof FILESYSTEM_NAMES[number];

/**
 * The file system of a name (a disk's `filesystem`, an image's `fstype`), when faultline
 * knows it.
 *
 * @example
 * ```ts
 * filesystemOf("xfs")?.guestModules; // ["xfs"]
 * filesystemOf("btrfs"); // undefined
 * ```
 */
export function filesystemOf(name: string): Filesystem | undefined {
  return Object.hasOwn(FILESYSTEMS, name) ? FILESYSTEMS[name] : undefined;
}
