/**
 * What faultline's guest image needs of a node, defined once. The scenario schema
 * (`schema.ts`) checks every node with these rules when a scenario loads, so a mistake
 * names the scenario's field (`nodes.app.disks.data.mount`); the guest image checks the
 * options of `buildInitramfs` with the same rules (src/vm/initramfs_options.ts) and
 * builds its own files at the paths named here.
 *
 * The image owns {@linkcode IMAGE_PATHS} (its files and directories, and everything under
 * them) and the file systems `/init` mounts ({@linkcode INIT_MOUNTS}); it holds the
 * directories {@linkcode IMAGE_DIRECTORIES}; with a network it writes
 * {@linkcode HOSTS_FILE}. A disk may not be mounted where it would hide any of these or
 * the directories of programs and libraries ({@linkcode SYSTEM_DIRECTORIES}); a file or a
 * program may not replace them.
 *
 * @module
 */

import { z } from "zod";

/** The guest image's own files and directories, each with everything under it. */
export const IMAGE_PATHS = {
  /** The generated init script. */
  init: "/init",
  /** The static busybox, whose applets `/init` installs. */
  busybox: "/bin/busybox",
  /** The shell, a link to busybox. */
  shell: "/bin/sh",
  /** The `report` command. */
  report: "/bin/report",
  /** faultline's directory: the phase scripts are in `/faultline/phase`. */
  faultline: "/faultline",
  /** The kernel modules, by kernel version. */
  modules: "/lib/modules",
  /** Where `report` keeps its line counter. */
  reportState: "/run/faultline",
} as const;

/** The file systems `/init` mounts itself: proc, sysfs and devtmpfs. */
export const INIT_MOUNTS: readonly string[] = ["/proc", "/sys", "/dev"];

/** The directories the image holds, which a file may not take the place of. */
export const IMAGE_DIRECTORIES: readonly string[] = [
  "/bin",
  "/sbin",
  "/usr/bin",
  "/usr/sbin",
  "/proc",
  "/sys",
  "/dev",
  "/tmp",
  "/root",
  "/etc",
];

/** The directories of programs and libraries: a disk mounted there would hide busybox or the loader. */
export const SYSTEM_DIRECTORIES: readonly string[] = ["/bin", "/sbin", "/usr", "/lib", "/lib64"];

/** The file the image writes for a node with a network: every node's name and address. */
export const HOSTS_FILE = "/etc/hosts";

/** The name (virtio-blk serial) of the disk that carries the guest's result lines. */
export const RESULTS_DISK_NAME = "faultline-results";

/** The name (virtio-blk serial) of the disk that carries a package root (read-only, never traced). */
export const ROOT_DISK_NAME = "faultline-root";

/**
 * A disk's name, which is also its virtio-blk serial: lowercase letters, digits, `_` and
 * `-`, starting with a letter, at most 20 characters.
 */
export const DISK_NAME_PATTERN: RegExp = /^[a-z][a-z0-9_-]{0,19}$/;

/** An environment variable's name, such as `NODE_ID`. */
export const ENV_NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The prefix of the variables the guest sets itself (`FAULTLINE_PHASE`, ...). */
export const GUEST_ENV_PREFIX = "FAULTLINE_";

/** Names of letters, digits, `.`, `_`, `+` and `-`, each after a `/`, maybe a trailing `/`; or `/`. */
const GUEST_PATH_PATTERN = /^\/(?:[A-Za-z0-9._+-]+(?:\/[A-Za-z0-9._+-]+)*\/?)?$/;
const PATH_SYNTAX = "names of letters, digits, ., _, + and -; no . or .. names";

/**
 * A guest path as it is compared: without trailing slashes (`/data/` is `/data`).
 *
 * @example
 * ```ts
 * guestPathKey("/mnt/data/"); // "/mnt/data"
 * ```
 */
export function guestPathKey(path: string): string {
  return path.replace(/(.)\/+$/, "$1");
}

/** True when `path` is `dir` or under it. */
function within(path: string, dir: string): boolean {
  return dir === "/" || path === dir || path.startsWith(`${dir}/`);
}

/** True when `a` and `b` are the same path or one holds the other. */
function overlaps(a: string, b: string): boolean {
  return within(a, b) || within(b, a);
}

/** True for an absolute guest path the image can hold, shorter than the 4096 bytes of a path. */
function isGuestPath(path: string): boolean {
  return path.length < 4096 && GUEST_PATH_PATTERN.test(path) &&
    !path.split("/").some((name) => name === "." || name === "..");
}

/**
 * True when a disk mounted on `mountpoint` would hide one of the image's paths, a file
 * system `/init` mounts or a directory of programs (or be mounted on a file of the image).
 *
 * @example
 * ```ts
 * hidesImagePath("/proc"); // true
 * hidesImagePath("/mnt/data"); // false
 * ```
 */
export function hidesImagePath(mountpoint: string): boolean {
  const key = guestPathKey(mountpoint);
  return [...Object.values(IMAGE_PATHS), ...INIT_MOUNTS, ...SYSTEM_DIRECTORIES]
    .some((path) => overlaps(key, path));
}

/**
 * True when a file or program at `path` would replace one of the image's paths (or a
 * file under a file system `/init` mounts), or take the place of one of its directories.
 *
 * @example
 * ```ts
 * replacesImagePath("/bin/busybox"); // true
 * replacesImagePath("/etc"); // true: a directory of the image
 * replacesImagePath("/etc/app.conf"); // false
 * ```
 */
export function replacesImagePath(path: string): boolean {
  const key = guestPathKey(path);
  return [...Object.values(IMAGE_PATHS), ...INIT_MOUNTS].some((own) => overlaps(key, own)) ||
    IMAGE_DIRECTORIES.some((dir) => within(dir, key));
}

const noNul = (text: string) => !text.includes("\0");

/** An absolute guest path, such as `/data` (checked for what it would hide or replace by its users). */
export const guestPath = z.string().refine(isGuestPath, {
  message: `expected an absolute guest path like /data (${PATH_SYNTAX})`,
  abort: true,
});

/** Where a disk is mounted: a directory of its own. */
export const mountpoint = guestPath.refine(
  (path) => !hidesImagePath(path),
  "expected a directory of its own, such as /mnt/data",
);

/** Where a host file goes in the guest: a path that is not the image's. */
export const guestFilePath = guestPath.refine(
  (path) => !replacesImagePath(path),
  "expected a path of its own (not the image's), such as /etc/app.conf",
);

/** A host program, copied into the guest at the same path with its libraries. */
export const programPath = z.string()
  .refine(isGuestPath, {
    message: `expected an absolute path like /usr/bin/sqlite3 (${PATH_SYNTAX})`,
    abort: true,
  })
  .refine(
    (path) => !replacesImagePath(path),
    "expected a program of its own (not the image's), such as /usr/bin/sqlite3",
  );

/** Options for `mount -o`, such as `barrier=0,data=ordered`. */
export const mountOptions = z.string().regex(
  /^[A-Za-z0-9_=,.:+/@-]*$/,
  "expected mount options like barrier=0,data=ordered (no spaces or quotes)",
);

/** A file system type for `mount -t`, such as `ext4`. */
export const fstype = z.string().regex(/^[a-z0-9_.]+$/, "expected a file system type like ext4");

/** A disk's name, its virtio-blk serial ({@linkcode DISK_NAME_PATTERN}); not the results disk's. */
export const diskName = z.string()
  .regex(
    DISK_NAME_PATTERN,
    "expected a disk name like data or vdb (lowercase letters, digits, _ and -, at most 20: " +
      "it is the virtio-blk serial)",
  )
  .refine(
    (name) => name !== RESULTS_DISK_NAME,
    `expected a name other than ${RESULTS_DISK_NAME} (the results disk)`,
  )
  .refine(
    (name) => name !== ROOT_DISK_NAME,
    `expected a name other than ${ROOT_DISK_NAME} (the package root's disk)`,
  );

/** An environment variable's name; not one the guest sets. */
export const envName = z.string()
  .regex(ENV_NAME_PATTERN, "expected a variable name like NODE_ID")
  .refine(
    (name) => !name.startsWith(GUEST_ENV_PREFIX),
    `expected a variable name not starting with ${GUEST_ENV_PREFIX} (the guest sets those)`,
  );

/** An environment variable's value. */
export const envValue = z.string().refine(noNul, "expected a string without NUL bytes");

/** A phase's script, run by busybox `sh` from a file of its own. */
export const shellScript = z.string().refine(noNul, "expected a shell script without NUL bytes");

/** The prefix length of a node's network: 1 to 30 (a /31 or a /32 leaves no host addresses). */
export const prefixLength = z.number().int().min(1).max(30);

/**
 * True when an IPv4 network such as `192.0.2.0/24` has a prefix length a node's network can have.
 *
 * @example
 * ```ts
 * hasGuestPrefixLength("10.0.0.0/8"); // true
 * hasGuestPrefixLength("0.0.0.0/0"); // false
 * ```
 */
export function hasGuestPrefixLength(network: string): boolean {
  return prefixLength.safeParse(Number(network.slice(network.indexOf("/") + 1))).success;
}

/** A field's place in the checked value, as zod gives it. */
type FieldAt = readonly PropertyKey[];

/** Where a node's disks are mounted and its host files go, each with its field. */
export interface GuestLayout {
  /** The disks with a mountpoint. */
  mounts: readonly { at: FieldAt; path: string }[];
  /** The host files' guest paths. */
  files: readonly { at: FieldAt; path: string }[];
  /** True when the node joins a network (the image then writes {@linkcode HOSTS_FILE}). */
  network: boolean;
}

/**
 * Checks what the fields of a node do together: each mountpoint and each file's guest
 * path used once, and with a network, no file or mount in the place of
 * {@linkcode HOSTS_FILE}. Adds an issue to `ctx` for each problem, at its field.
 *
 * @example
 * ```ts
 * schema.superRefine((node, ctx) => checkGuestLayout(layoutOf(node), ctx));
 * ```
 */
export function checkGuestLayout(layout: GuestLayout, ctx: z.core.$RefinementCtx<unknown>): void {
  const problem = (at: FieldAt, input: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [...at], input, message });
  const mounts = new Set<string>();
  for (const { at, path } of layout.mounts) {
    const key = guestPathKey(path);
    if (mounts.has(key)) problem(at, path, "expected a mountpoint used once");
    mounts.add(key);
    if (layout.network && within(HOSTS_FILE, key)) {
      problem(
        at,
        path,
        `expected a directory that does not hide ${HOSTS_FILE} (the image writes it)`,
      );
    }
  }
  const files = new Set<string>();
  for (const { at, path } of layout.files) {
    const key = guestPathKey(path);
    if (files.has(key)) problem(at, path, "expected a guest path used once");
    files.add(key);
    if (layout.network && within(key, HOSTS_FILE)) {
      problem(at, path, `expected no ${HOSTS_FILE} with a network (the image writes it)`);
    }
  }
}
