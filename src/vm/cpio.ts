/**
 * A writer for cpio archives in the "newc" format (magic `070701`), the format the Linux
 * kernel unpacks as an initramfs. Pure: entries in, bytes out, no I/O.
 *
 * The output is deterministic: entries are sorted by path (as UTF-8 bytes, so every
 * directory precedes its contents), inode numbers are assigned from 1 in that order, and
 * every entry has mtime 0, uid 0 and gid 0. The same entries always give the same bytes.
 *
 * Format: each entry is a 110-byte header of 13 eight-digit hex fields after the magic,
 * the NUL-terminated name padded to a multiple of 4 bytes, then the data padded to a
 * multiple of 4 bytes; the archive ends with an entry named `TRAILER!!!`. See
 * https://www.kernel.org/doc/html/latest/driver-api/early-userspace/buffer-format.html
 * and cpio(5).
 *
 * @module
 */

import { FaultlineError } from "../util/errors.ts";

/** Permission bits and file types of `c_mode` (stat(2)). */
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** The magic of the "newc" format without checksums. */
export const CPIO_NEWC_MAGIC = "070701";
/** The name of the entry that ends every archive. */
export const CPIO_TRAILER = "TRAILER!!!";
/** Size of one newc header, magic included. */
export const CPIO_HEADER_SIZE = 110;

const MAX_U32 = 0xffff_ffff;
/** The kernel's PATH_MAX, terminating NUL included. */
const MAX_NAME_BYTES = 4096;

/** A directory. `mode` is the permission bits, 0o755 by default. */
export interface CpioDirectory {
  type: "directory";
  path: string;
  mode?: number;
}

/** A regular file with its whole content. `mode` is the permission bits, 0o644 by default. */
export interface CpioFile {
  type: "file";
  path: string;
  data: Uint8Array;
  mode?: number;
}

/** A symbolic link; its permission bits are always 0o777. */
export interface CpioSymlink {
  type: "symlink";
  path: string;
  target: string;
}

/** A character device node such as `/dev/console` (5, 1). Mode 0o600 by default. */
export interface CpioCharDevice {
  type: "char";
  path: string;
  major: number;
  minor: number;
  mode?: number;
}

/** One member of an archive. Paths may start with `/`; they are stored without it. */
export type CpioEntry = CpioDirectory | CpioFile | CpioSymlink | CpioCharDevice;

/** Options of {@linkcode encodeCpio}. */
export interface EncodeCpioOptions {
  /**
   * Add a directory entry (mode 0o755) for every parent that the entries do not list
   * themselves. True by default; when false, a missing parent is an error.
   */
  addParents?: boolean;
}

/** An entry that cannot be archived; the message names the path and the reason. */
export class CpioError extends FaultlineError {}

const encoder = new TextEncoder();

/**
 * The path as stored in the archive: without leading `/`, checked to be a plain relative
 * path (no empty, `.` or `..` component, no NUL).
 *
 * @example
 * ```ts
 * normalizeCpioPath("/bin/busybox"); // "bin/busybox"
 * ```
 */
export function normalizeCpioPath(path: string): string {
  const stripped = path.replace(/^\/+/, "");
  const parts = stripped.split("/");
  if (
    stripped === "" || path.includes("\0") ||
    parts.some((part) => part === "" || part === "." || part === "..")
  ) {
    throw new CpioError(
      `cpio path "${path}" is not a plain path (expected names joined by "/", ` +
        `without empty, "." or ".." parts)`,
    );
  }
  if (encoder.encode(stripped).length + 1 > MAX_NAME_BYTES) {
    throw new CpioError(`cpio path "${path.slice(0, 60)}..." is longer than ${MAX_NAME_BYTES}`);
  }
  return stripped;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function checkU32(value: number, what: string, path: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
    throw new CpioError(
      `cpio entry "${path}": ${what} ${value} is not an integer in 0..${MAX_U32}`,
    );
  }
  return value;
}

function checkMode(mode: number | undefined, fallback: number, path: string): number {
  const value = mode ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > 0o7777) {
    throw new CpioError(
      `cpio entry "${path}": mode ${value} is not permission bits (expected 0..0o7777)`,
    );
  }
  return value;
}

interface Prepared {
  name: Uint8Array;
  mode: number;
  nlink: number;
  data: Uint8Array;
  rdevMajor: number;
  rdevMinor: number;
}

function prepare(entry: CpioEntry, name: string): Prepared {
  const base = { name: encoder.encode(name), rdevMajor: 0, rdevMinor: 0 };
  switch (entry.type) {
    case "directory":
      return {
        ...base,
        mode: S_IFDIR | checkMode(entry.mode, 0o755, name),
        nlink: 2,
        data: new Uint8Array(0),
      };
    case "file":
      if (!(entry.data instanceof Uint8Array)) {
        throw new CpioError(`cpio entry "${name}": data must be a Uint8Array`);
      }
      checkU32(entry.data.length, "size", name);
      return {
        ...base,
        mode: S_IFREG | checkMode(entry.mode, 0o644, name),
        nlink: 1,
        data: entry.data,
      };
    case "symlink": {
      const target = encoder.encode(entry.target);
      if (target.length === 0 || entry.target.includes("\0")) {
        throw new CpioError(
          `cpio symlink "${name}": target must be a non-empty string without NUL`,
        );
      }
      return { ...base, mode: S_IFLNK | 0o777, nlink: 1, data: target };
    }
    case "char":
      return {
        ...base,
        mode: S_IFCHR | checkMode(entry.mode, 0o600, name),
        nlink: 1,
        data: new Uint8Array(0),
        rdevMajor: checkU32(entry.major, "major", name),
        rdevMinor: checkU32(entry.minor, "minor", name),
      };
    default: {
      const never: never = entry;
      throw new CpioError(`cpio entry of unknown type ${(never as { type: string }).type}`);
    }
  }
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, "0");
}

function writeEntry(
  out: Uint8Array,
  offset: number,
  fields: { ino: number; mode: number; nlink: number; rdevMajor: number; rdevMinor: number },
  name: Uint8Array,
  data: Uint8Array,
): number {
  const header = CPIO_NEWC_MAGIC +
    hex8(fields.ino) +
    hex8(fields.mode) +
    hex8(0) + // uid
    hex8(0) + // gid
    hex8(fields.nlink) +
    hex8(0) + // mtime
    hex8(data.length) +
    hex8(0) + // devmajor
    hex8(0) + // devminor
    hex8(fields.rdevMajor) +
    hex8(fields.rdevMinor) +
    hex8(name.length + 1) +
    hex8(0); // check: always 0 for 070701
  out.set(encoder.encode(header), offset);
  offset += CPIO_HEADER_SIZE;
  out.set(name, offset);
  offset += name.length + 1; // the NUL is already 0 in the zero-filled buffer
  offset += pad4(offset);
  out.set(data, offset);
  offset += data.length;
  offset += pad4(offset);
  return offset;
}

function entrySize(nameLength: number, dataLength: number): number {
  const headerAndName = CPIO_HEADER_SIZE + nameLength + 1;
  return headerAndName + pad4(headerAndName) + dataLength + pad4(dataLength);
}

/**
 * Encodes entries as one newc cpio archive, trailer included. Duplicate paths, a path
 * below a non-directory, and out-of-range numbers are errors.
 *
 * @example
 * ```ts
 * const archive = encodeCpio([
 *   { type: "char", path: "/dev/console", major: 5, minor: 1 },
 *   { type: "file", path: "/init", data: new TextEncoder().encode("#!/bin/sh\n"), mode: 0o755 },
 *   { type: "symlink", path: "/bin/sh", target: "busybox" },
 * ]);
 * ```
 */
export function encodeCpio(
  entries: Iterable<CpioEntry>,
  options: EncodeCpioOptions = {},
): Uint8Array {
  const addParents = options.addParents ?? true;
  const byName = new Map<string, Prepared>();
  for (const entry of entries) {
    const name = normalizeCpioPath(entry.path);
    if (byName.has(name)) throw new CpioError(`cpio path "${name}" is listed twice`);
    byName.set(name, prepare(entry, name));
  }
  for (const name of [...byName.keys()]) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const existing = byName.get(parent);
      if (existing === undefined) {
        if (!addParents) {
          throw new CpioError(`cpio path "${name}": its directory "${parent}" is not listed`);
        }
        byName.set(parent, prepare({ type: "directory", path: parent }, parent));
      } else if ((existing.mode & 0o170000) !== S_IFDIR) {
        throw new CpioError(`cpio path "${name}": "${parent}" is not a directory`);
      }
    }
  }
  const sorted = [...byName.values()].sort((a, b) => compareBytes(a.name, b.name));
  const trailerName = encoder.encode(CPIO_TRAILER);
  let total = entrySize(trailerName.length, 0);
  for (const entry of sorted) total += entrySize(entry.name.length, entry.data.length);

  const out = new Uint8Array(total);
  let offset = 0;
  sorted.forEach((entry, index) => {
    offset = writeEntry(out, offset, { ...entry, ino: index + 1 }, entry.name, entry.data);
  });
  offset = writeEntry(
    out,
    offset,
    { ino: 0, mode: 0, nlink: 1, rdevMajor: 0, rdevMinor: 0 },
    trailerName,
    new Uint8Array(0),
  );
  if (offset !== total) throw new Error(`cpio size mismatch: wrote ${offset} of ${total}`);
  return out;
}
