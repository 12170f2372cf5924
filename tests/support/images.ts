/**
 * Raw disk images for tests.
 *
 * @module
 */

/**
 * Creates a raw image of `size` bytes; `fill` gives its content (default: zeroes, sparse).
 *
 * @example
 * ```ts
 * const image = await makeImage(join(dir.path, "disk.raw"), 8 << 20, seededFill(1));
 * ```
 */
export async function makeImage(
  path: string,
  size: number,
  fill?: (bytes: Uint8Array) => void,
): Promise<string> {
  const file = await Deno.open(path, { create: true, write: true, truncate: true });
  try {
    await file.truncate(size);
    if (fill) {
      const bytes = new Uint8Array(size);
      fill(bytes);
      let written = 0;
      while (written < size) written += await file.write(bytes.subarray(written));
    }
  } finally {
    file.close();
  }
  return path;
}
