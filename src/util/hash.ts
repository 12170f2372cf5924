/**
 * SHA-256 of files and of bytes, as lowercase hex: how faultline names its
 * inputs (kernel, initramfs, base images, traces) so that a replay can check
 * them.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * The SHA-256 of a file as lowercase hex, read as a stream, so files of any size work.
 *
 * @example
 * ```ts
 * const hash = await sha256File("/boot/vmlinuz"); // "9f86d081884c7d65..."
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

/**
 * The SHA-256 of bytes held in memory (one buffer or a sequence of chunks), as lowercase hex.
 *
 * @example
 * ```ts
 * sha256Bytes(new TextEncoder().encode("abc")); // "ba7816bf8f01cfea..."
 * ```
 */
export function sha256Bytes(data: Uint8Array | Iterable<Uint8Array>): string {
  const hash = createHash("sha256");
  if (data instanceof Uint8Array) hash.update(data);
  else for (const chunk of data) hash.update(chunk);
  return hash.digest("hex");
}
