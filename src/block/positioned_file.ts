/**
 * Positioned reads and writes on a file. With FFI allowed, each is one
 * `pread(2)` or `pwrite(2)` on the file's descriptor (src/util/libc.ts);
 * without it, Deno has no pread/pwrite, and a seek then a synchronous read is
 * one atomic step for single-threaded JavaScript (measured twice as fast here
 * as `node:fs` positional reads, and three times slower than `pread`).
 *
 * @module
 */

import {
  ENXIO,
  FALLOC_FL_KEEP_SIZE,
  lastErrno,
  libc,
  LibcError,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  openFd,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
} from "../util/libc.ts";

/** The two ways to reach the file: a descriptor for libc calls, or a Deno file. */
type Handle = { fd: number } | { file: Deno.FsFile };

/** A file opened for positioned I/O. */
export class PositionedFile {
  private closed = false;

  private constructor(private readonly handle: Handle, readonly path: string) {}

  /**
   * Opens a file; `write: false` opens it read-only, so nothing can write it.
   *
   * @example
   * ```ts
   * using base = PositionedFile.open("disk.raw", { write: false });
   * const first = base.read(0, 512);
   * ```
   */
  static open(
    path: string,
    options: { write: boolean; create?: boolean; truncate?: boolean },
  ): PositionedFile {
    if (libc) {
      let flags = (options.write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
      if (options.create) flags |= O_CREAT;
      if (options.truncate) flags |= O_TRUNC;
      try {
        return new PositionedFile({ fd: openFd(path, flags) }, path);
      } catch (error) {
        // The same errors as Deno.openSync throws, for callers that tell them apart.
        if (error instanceof LibcError && error.code === "ENOENT") {
          throw new Deno.errors.NotFound(error.message);
        }
        if (error instanceof LibcError && (error.code === "EACCES" || error.code === "EPERM")) {
          throw new Deno.errors.PermissionDenied(error.message);
        }
        throw error;
      }
    }
    const file = Deno.openSync(path, {
      read: true,
      write: options.write,
      create: options.create ?? false,
      truncate: options.truncate ?? false,
    });
    return new PositionedFile({ file }, path);
  }

  /** Reads `length` bytes at `position` into `into` (at `intoOffset`); bytes past the end read as zeroes. */
  readInto(position: number, into: Uint8Array, intoOffset = 0, length = into.length): void {
    let done = 0;
    if ("fd" in this.handle) {
      const fd = this.handle.fd;
      while (done < length) {
        const target = intoOffset === 0 && done === 0 && length === into.length
          ? into
          : into.subarray(intoOffset + done, intoOffset + length);
        const n = Number(libc!.pread(fd, target, length - done, position + done));
        if (n < 0) throw new LibcError("pread", lastErrno(), this.path);
        if (n === 0) break;
        done += n;
      }
    } else {
      const file = this.handle.file;
      file.seekSync(position, Deno.SeekMode.Start);
      while (done < length) {
        const n = file.readSync(into.subarray(intoOffset + done, intoOffset + length));
        if (n === null || n === 0) break;
        done += n;
      }
    }
    if (done < length) into.fill(0, intoOffset + done, intoOffset + length);
  }

  /** Reads `length` bytes at `position` into a new buffer. */
  read(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(position, out);
    return out;
  }

  /** Writes all of `data` at `position`. */
  write(position: number, data: Uint8Array): void {
    let done = 0;
    if ("fd" in this.handle) {
      const fd = this.handle.fd;
      while (done < data.length) {
        const part = done === 0 ? data : data.subarray(done);
        const n = Number(libc!.pwrite(fd, part, data.length - done, position + done));
        if (n < 0) throw new LibcError("pwrite", lastErrno(), this.path);
        done += n;
      }
      return;
    }
    const file = this.handle.file;
    file.seekSync(position, Deno.SeekMode.Start);
    while (done < data.length) done += file.writeSync(data.subarray(done));
  }

  /**
   * Reserves the file's blocks from `position` for `length` bytes without
   * changing its size (`fallocate` with `FALLOC_FL_KEEP_SIZE`), so that
   * appending there later finds its blocks allocated. Best effort: nothing
   * happens without FFI or where the file system cannot.
   */
  reserve(position: number, length: number): void {
    if ("fd" in this.handle) libc!.fallocate(this.handle.fd, FALLOC_FL_KEEP_SIZE, position, length);
  }

  /** Sets the file's length (sparse when it grows). */
  truncate(length: number): void {
    if ("fd" in this.handle) {
      if (libc!.ftruncate(this.handle.fd, length) < 0) {
        throw new LibcError("ftruncate", lastErrno(), this.path);
      }
    } else this.handle.file.truncateSync(length);
  }

  /** Makes written data durable on the host (fdatasync). */
  syncData(): void {
    if ("fd" in this.handle) {
      if (libc!.fdatasync(this.handle.fd) < 0) {
        throw new LibcError("fdatasync", lastErrno(), this.path);
      }
    } else this.handle.file.syncDataSync();
  }

  /** The file's current length. */
  length(): number {
    if ("fd" in this.handle) {
      const end = Number(libc!.lseek(this.handle.fd, 0, SEEK_END));
      if (end < 0) throw new LibcError("lseek", lastErrno(), this.path);
      return end;
    }
    return this.handle.file.statSync().size;
  }

  /**
   * Where the file holds data, as sorted, disjoint [start, end) byte ranges: everything else
   * is a hole and reads as zeroes. Null when it cannot say (no FFI, a file system without
   * `SEEK_DATA`), or when it has more than `maxRanges` ranges (then reading it all costs
   * less than knowing).
   *
   * @example
   * ```ts
   * base.dataRanges(); // [[0, 1048576], [4194304, 4198400]]
   * ```
   */
  dataRanges(maxRanges = 65_536): [number, number][] | null {
    if (!("fd" in this.handle)) return null;
    const fd = this.handle.fd;
    const size = this.length();
    const ranges: [number, number][] = [];
    let position = 0;
    while (position < size) {
      const start = Number(libc!.lseek(fd, position, SEEK_DATA));
      // ENXIO: no data after position; any other failure: the file system cannot say.
      if (start < 0) return lastErrno() === ENXIO ? ranges : null;
      const end = Number(libc!.lseek(fd, start, SEEK_HOLE));
      if (end < 0) return null;
      if (ranges.length === maxRanges) return null;
      ranges.push([start, end]);
      position = end;
    }
    return ranges;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if ("fd" in this.handle) {
      libc!.close(this.handle.fd);
      return;
    }
    try {
      this.handle.file.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
