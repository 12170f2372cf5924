/**
 * Seeded choices. Every random decision of a fault is a function of the plan's
 * seed, the rule and what names the op or frame in every run (an op's signature and
 * occurrence, a frame's link and place on it), so it does not depend on the order in
 * which ops arrive or on what was drawn before: a replay draws the same.
 *
 * @module
 */

/** Mixes 32-bit words into one (a murmur3-style finalizer over each word). */
function mix(hash: number, word: number): number {
  let h = Math.imul(hash ^ (word >>> 0), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A deterministic stream of 32-bit numbers for one (seed, keys...) tuple.
 *
 * @example
 * ```ts
 * const draw = seededStream(42, 0, 17);
 * draw() === seededStream(42, 0, 17)(); // true
 * ```
 */
export function seededStream(seed: number, ...keys: number[]): () => number {
  let state = mix(0x9e3779b9, seed);
  for (const key of keys) state = mix(state, key);
  return () => {
    // splitmix32 step
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/**
 * A seed for a new plan when the user gave none.
 *
 * @example
 * ```ts
 * const seed = freshSeed(); // 0 <= seed < 2 ** 32
 * ```
 */
export function freshSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
