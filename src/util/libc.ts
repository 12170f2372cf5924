/**
 * The few C library calls the block path makes through Deno's FFI, when the
 * process may use FFI (`--allow-ffi`, part of `-A`): positioned reads and
 * writes in one system call (`pread`, `pwrite`) instead of Deno's seek then
 * read, blocks reserved ahead of a file that grows by appends (`fallocate`),
 * and anonymous memory that the kernel backs with huge pages
 * (`mmap`, `madvise(MADV_HUGEPAGE)`), so that filling a fresh overlay does not
 * take one page fault per 4 KiB. Measured on this project's machines (a
 * paravirtualized guest, where every system call and page fault is dear): a
 * 4 KiB `pread` 3.6 µs against 12 µs for seek and read.
 *
 * {@link libc} is null when FFI is not allowed or the library is missing;
 * callers keep a path through Deno's own APIs for that case.
 *
 * @module
 */

import { FaultlineError } from "./errors.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  fdatasync: { parameters: ["i32"], result: "i32" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The C library's functions as called here. Deno's FFI takes a number for a
 * 64-bit parameter (its types ask for a bigint, which would cost an allocation
 * per call) and returns a number for a 64-bit result in the safe range.
 */
export interface Libc {
  /** `open(2)`. */
  open(path: Uint8Array, flags: number, mode: number): number;
  /** `close(2)`. */
  close(fd: number): number;
  /** `pread(2)`. */
  pread(fd: number, into: Uint8Array, count: number, offset: number): number | bigint;
  /** `pwrite(2)`. */
  pwrite(fd: number, data: Uint8Array, count: number, offset: number): number | bigint;
  /** `ftruncate(2)`. */
  ftruncate(fd: number, length: number): number;
  /** `fallocate(2)`. */
  fallocate(fd: number, mode: number, offset: number, length: number): number;
  /** `fdatasync(2)`. */
  fdatasync(fd: number): number;
  /** `lseek(2)`. */
  lseek(fd: number, offset: number, whence: number): number | bigint;
  /** `mmap(2)`. */
  mmap(
    address: Deno.PointerValue,
    length: number,
    prot: number,
    flags: number,
    fd: number,
    offset: number,
  ): Deno.PointerValue;
  /** `munmap(2)`. */
  munmap(address: Deno.PointerValue, length: number): number;
  /** `madvise(2)`. */
  madvise(address: Deno.PointerValue, length: number, advice: number): number;
  /** The address of the calling thread's errno. */
  __errno_location(): Deno.PointerValue;
}

function load(): Libc | null {
  if (Deno.build.os !== "linux") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    return Deno.dlopen("libc.so.6", SYMBOLS).symbols as unknown as Libc;
  } catch {
    return null;
  }
}

/**
 * The C library, or null when this process cannot call it.
 *
 * @example
 * ```ts
 * if (libc) libc.fdatasync(fd);
 * ```
 */
export const libc: Libc | null = load();

/** Linux's `open` flags and `lseek` whence values used here (x86-64 and arm64 alike). */
export const O_RDONLY = 0;
/** Open for reading and writing. */
export const O_RDWR = 2;
/** Create the file when it is missing. */
export const O_CREAT = 0o100;
/** Truncate the file to 0 bytes. */
export const O_TRUNC = 0o1000;
/** Close the descriptor in child processes. */
export const O_CLOEXEC = 0o2000000;
/** `lseek` from the end. */
export const SEEK_END = 2;
/** `lseek` to the next byte of data at or after the offset (ENXIO past the last). */
export const SEEK_DATA = 3;
/** `lseek` to the next hole at or after the offset (the end counts as one). */
export const SEEK_HOLE = 4;
/** `errno` of `lseek(SEEK_DATA)` at or past the last byte of data. */
export const ENXIO = 6;
/** `fallocate`: reserve the blocks, leave the file's size as it is. */
export const FALLOC_FL_KEEP_SIZE = 1;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  12: "ENOMEM",
  13: "EACCES",
  21: "EISDIR",
  22: "EINVAL",
  27: "EFBIG",
  28: "ENOSPC",
  30: "EROFS",
  122: "EDQUOT",
};

/**
 * A failed C call, with its errno's name in `code` as Deno's own errors have. Its kind
 * is machinery (exit code 3): the host's file system failed under faultline.
 *
 * @example
 * ```ts
 * new LibcError("pwrite", 28, "disk.raw").message; // "pwrite disk.raw: ENOSPC (errno 28)"
 * ```
 */
export class LibcError extends FaultlineError {
  /** The errno's name (`ENOSPC`), or `E<number>`. */
  readonly code: string;
  /** Makes the error from the call's name and errno. */
  constructor(call: string, readonly errno: number, path?: string) {
    const code = ERRNO_NAMES[errno] ?? `E${errno}`;
    super(`${call}${path ? ` ${path}` : ""}: ${code} (errno ${errno})`);
    this.code = code;
  }
}

/**
 * The calling thread's errno after a failed call.
 *
 * @example
 * ```ts
 * if (libc!.fdatasync(fd) < 0) throw new LibcError("fdatasync", lastErrno());
 * ```
 */
export function lastErrno(): number {
  const at = libc?.__errno_location();
  return at ? new Deno.UnsafePointerView(at).getInt32() : 0;
}

const encoder = new TextEncoder();

/**
 * Opens a file with `open(2)` and returns its descriptor.
 *
 * @throws {LibcError} when the call fails (`code` as in Deno's errors).
 * @example
 * ```ts
 * const fd = openFd("disk.raw", O_RDONLY | O_CLOEXEC);
 * ```
 */
export function openFd(path: string, flags: number, mode = 0o600): number {
  const fd = libc!.open(encoder.encode(`${path}\0`), flags, mode);
  if (fd < 0) throw new LibcError("open", lastErrno(), path);
  return fd;
}

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const MADV_HUGEPAGE = 14;
const HUGE_PAGE = 2 * 1024 * 1024;

/** Anonymous memory outside V8's heap; {@link release} gives it back. */
export interface MappedMemory {
  /** The usable bytes (aligned to 2 MiB). */
  bytes: Uint8Array;
  /** Unmaps the memory: no view of it may be used afterwards. */
  release(): void;
}

/**
 * Maps `size` bytes of zeroed anonymous memory, 2 MiB aligned and marked for
 * transparent huge pages, or returns null when FFI is not available or the
 * mapping fails (callers then allocate an ordinary buffer).
 *
 * @example
 * ```ts
 * const slab = mapHugeMemory(16 << 20);
 * const bytes = slab?.bytes ?? new Uint8Array(16 << 20);
 * ```
 */
export function mapHugeMemory(size: number): MappedMemory | null {
  if (!libc) return null;
  const length = size + HUGE_PAGE;
  const pointer = libc.mmap(
    null,
    length,
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS,
    -1,
    0,
  );
  if (pointer === null) return null;
  // MAP_FAILED is (void *) -1.
  const address = BigInt.asUintN(64, BigInt(Deno.UnsafePointer.value(pointer)));
  if (address === 0xffffffffffffffffn) return null;
  const huge = BigInt(HUGE_PAGE);
  const skip = Number((huge - (address % huge)) % huge);
  const aligned = Deno.UnsafePointer.offset(pointer, skip)!;
  // Advice only: without huge pages the memory still works, with 4 KiB pages.
  libc.madvise(aligned, size, MADV_HUGEPAGE);
  const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(aligned, size));
  let mapped = true;
  return {
    bytes,
    release: () => {
      if (mapped) libc!.munmap(pointer, length);
      mapped = false;
    },
  };
}
