/**
 * Seeded choices for tests: the fault layer's own seeded stream
 * (`src/fault/random.ts`) with the conveniences tests want, so that a failing
 * case reproduces from its seed.
 *
 * @module
 */

import { seededStream } from "../../src/fault/random.ts";

export { seededStream };

/** A seeded source of numbers, bytes and picks. */
export interface Prng {
  /** The next unsigned 32-bit number. */
  u32(): number;
  /** A number in `[0, 1)`. */
  float(): number;
  /** An integer in `[0, n)`. */
  below(n: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
  /** `n` bytes. */
  bytes(n: number): Uint8Array<ArrayBuffer>;
}

/**
 * A seeded source for one (seed, keys...) tuple; the same tuple gives the same sequence.
 *
 * @example
 * ```ts
 * const random = prng(7);
 * const offset = random.below(1024) * 512;
 * ```
 */
export function prng(seed: number, ...keys: number[]): Prng {
  const next = seededStream(seed, ...keys);
  const float = () => next() / 2 ** 32;
  const below = (n: number) => Math.floor(float() * n);
  return {
    u32: next,
    float,
    below,
    chance: (p) => float() < p,
    pick: (items) => items[below(items.length)],
    bytes: (n) => {
      const out = new Uint8Array(n);
      seededFill(next())(out);
      return out;
    },
  };
}

/**
 * Fills bytes from a seed (reproducible content, not cryptographic).
 *
 * @example
 * ```ts
 * await makeImage(path, 1 << 20, seededFill(3));
 * ```
 */
export function seededFill(seed: number): (bytes: Uint8Array) => void {
  return (bytes) => {
    const next = seededStream(seed);
    const whole = bytes.length - (bytes.length % 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < whole; i += 4) view.setUint32(i, next(), true);
    if (whole < bytes.length) {
      let word = next();
      for (let i = whole; i < bytes.length; i++, word >>>= 8) bytes[i] = word & 0xff;
    }
  };
}
