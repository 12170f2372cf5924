/**
 * Byte strings for tests that write wire messages by hand.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The UTF-8 bytes of a string.
 *
 * @example
 * ```ts
 * ascii("vda"); // Uint8Array [0x76, 0x64, 0x61]
 * ```
 */
export function ascii(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/**
 * A big-endian unsigned 32-bit field, as NBD writes them.
 *
 * @example
 * ```ts
 * u32(1); // Uint8Array [0, 0, 0, 1]
 * ```
 */
export function u32(value: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/**
 * The parts one after another.
 *
 * @example
 * ```ts
 * concat(u32(3), ascii("vda")).length; // 7
 * ```
 */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
