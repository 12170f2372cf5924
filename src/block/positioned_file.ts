/**
 * Positioned reads and writes on a file. Deno has no pread/pwrite; a seek then
 * a synchronous read is one atomic step for single-threaded JavaScript, and
 * measured twice as fast here as `node:fs` positional reads.
 *
 * @module
 */

/** A file opened for positioned I/O. */
export class PositionedFile {
  private constructor(private readonly file: Deno.FsFile, readonly path: string) {}

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
    const file = Deno.openSync(path, {
      read: true,
      write: options.write,
      create: options.create ?? false,
      truncate: options.truncate ?? false,
    });
    return new PositionedFile(file, path);
  }

  /** Reads `length` bytes at `position` into `into` (at `intoOffset`); bytes past the end read as zeroes. */
  readInto(position: number, into: Uint8Array, intoOffset = 0, length = into.length): void {
    this.file.seekSync(position, Deno.SeekMode.Start);
    let done = 0;
    while (done < length) {
      const n = this.file.readSync(into.subarray(intoOffset + done, intoOffset + length));
      if (n === null || n === 0) {
        into.fill(0, intoOffset + done, intoOffset + length);
        return;
      }
      done += n;
    }
  }

  /** Reads `length` bytes at `position` into a new buffer. */
  read(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(position, out);
    return out;
  }

  /** Writes all of `data` at `position`. */
  write(position: number, data: Uint8Array): void {
    this.file.seekSync(position, Deno.SeekMode.Start);
    let done = 0;
    while (done < data.length) done += this.file.writeSync(data.subarray(done));
  }

  /** Sets the file's length (sparse when it grows). */
  truncate(length: number): void {
    this.file.truncateSync(length);
  }

  /** Makes written data durable on the host (fdatasync). */
  syncData(): void {
    this.file.syncDataSync();
  }

  /** The file's current length. */
  length(): number {
    return this.file.statSync().size;
  }

  close(): void {
    try {
      this.file.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
