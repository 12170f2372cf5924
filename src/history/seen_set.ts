/**
 * The search's memory: every (set of linearized ops, model state) it has reached, as
 * Lowe's and Porcupine's caches keep them, so that no configuration is explored twice.
 * A configuration is found by a hash of its set (kept up to date by the search, one random
 * word per op XORed in and out: Zobrist hashing) and its state, in an open-addressing
 * table of typed arrays (no object per entry, nothing for the garbage collector); the set
 * itself is kept and compared on a hit, so a collision never passes for a match.
 *
 * @module
 */

const INITIAL_CAPACITY = 256;

/**
 * The configurations reached, each a bit set of `words` 32-bit words and a state.
 *
 * @example
 * ```ts
 * const seen = new SeenSet(1);
 * seen.add(Uint32Array.of(0b11), 4, 0x1234, 0x5678); // true: new
 * seen.add(Uint32Array.of(0b11), 4, 0x1234, 0x5678); // false: reached before
 * ```
 */
export class SeenSet {
  readonly #words: number;
  /** Slots of the table: an entry's number + 1, or 0 when empty; twice the entries at least. */
  #table = new Int32Array(INITIAL_CAPACITY * 2);
  #hashes = new Int32Array(INITIAL_CAPACITY);
  #states = new Int32Array(INITIAL_CAPACITY);
  #bits: Uint32Array;
  #size = 0;

  /** An empty set of configurations whose bit sets are `words` words long. */
  constructor(words: number) {
    this.#words = words;
    this.#bits = new Uint32Array(INITIAL_CAPACITY * words);
  }

  /** How many configurations were reached. */
  get size(): number {
    return this.#size;
  }

  /** The bytes its arrays hold. */
  get bytes(): number {
    return this.#table.byteLength + this.#hashes.byteLength + this.#states.byteLength +
      this.#bits.byteLength;
  }

  /**
   * Adds the configuration unless it was reached before; true when it is new. `h1` and
   * `h2` are two 32-bit hashes of `bits` alone; the state is mixed in here.
   */
  add(bits: Uint32Array, state: number, h1: number, h2: number): boolean {
    const hash = mix(h1 ^ Math.imul(state + 1, 0x9e3779b1), h2);
    const table = this.#table;
    const mask = table.length - 1;
    let slot = hash & mask;
    for (let entry = table[slot]; entry !== 0; entry = table[slot]) {
      const at = entry - 1;
      if (this.#hashes[at] === hash && this.#states[at] === state && this.#same(at, bits)) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    const at = this.#size++;
    if (at === this.#states.length) this.#grow();
    this.#hashes[at] = hash;
    this.#states[at] = state;
    this.#bits.set(bits, at * this.#words);
    this.#table[slot] = at + 1;
    if (this.#size * 2 > this.#table.length) this.#rehash();
    return true;
  }

  #same(at: number, bits: Uint32Array): boolean {
    const stored = this.#bits;
    const base = at * this.#words;
    for (let w = 0; w < this.#words; w++) if (stored[base + w] !== bits[w]) return false;
    return true;
  }

  #grow(): void {
    const capacity = this.#states.length * 2;
    const hashes = new Int32Array(capacity);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
    const states = new Int32Array(capacity);
    states.set(this.#states);
    this.#states = states;
    const bits = new Uint32Array(capacity * this.#words);
    bits.set(this.#bits);
    this.#bits = bits;
  }

  /** A table twice as large, every entry placed again by its kept hash. */
  #rehash(): void {
    const table = new Int32Array(this.#table.length * 2);
    const mask = table.length - 1;
    for (let at = 0; at < this.#size; at++) {
      let slot = this.#hashes[at] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = at + 1;
    }
    this.#table = table;
  }
}

/** Two words mixed into one well-spread 32-bit hash (murmur3's finalizer). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x85ebca77), 0xcc9e2d51);
  h ^= h >>> 15;
  h = Math.imul(h, 0x1b873593);
  h ^= h >>> 13;
  return h | 0;
}
