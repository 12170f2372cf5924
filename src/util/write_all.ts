/**
 * Writing every byte: a socket's or a file's `write` may take fewer bytes than
 * it was given.
 *
 * @module
 */

/** Anything with Deno's `write`: a file, a connection. */
export interface Writer {
  /** Writes some of `bytes`, resolving with how many. */
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Writes all of `bytes` to `writer`, in as many writes as it takes.
 *
 * @example
 * ```ts
 * await writeAll(conn, encodeMessage({ execute: "qmp_capabilities" }));
 * ```
 */
export async function writeAll(writer: Writer, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await writer.write(bytes.subarray(written));
}
