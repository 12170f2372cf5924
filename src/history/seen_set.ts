/**
 * The search's memory: every (set of linearized ops, model state) it has reached, as
 * Lowe's and Porcupine's caches keep them, so that no configuration is explored twice.
 * A configuration is found by a 53-bit hash of its set (kept up to date by the search,
 * one random word per op XORed in and out: Zobrist hashing) and its state; the set
 * itself is kept and compared on a hit, so a collision never passes for a match.
 *
 * @module
 */

const INITIAL_CAPACITY = 1024;

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
  /** The first configuration of each hash, by its number; the rest of a chain in #chain. */
  readonly #heads = new Map<number, number>();
  #chain = new Int32Array(INITIAL_CAPACITY);
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

  /**
   * Adds the configuration unless it was reached before; true when it is new. `h1` and
   * `h2` are two 32-bit hashes of `bits` alone; the state is mixed in here.
   */
  add(bits: Uint32Array, state: number, h1: number, h2: number): boolean {
    const k1 = (h1 ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
    const k2 = (h2 ^ Math.imul(state + 1, 0x85ebca77)) >>> 11;
    const key = k1 * 2097152 + k2;
    const head = this.#heads.get(key);
    for (let at = head ?? -1; at >= 0; at = this.#chain[at]) {
      if (this.#states[at] === state && this.#same(at, bits)) return false;
    }
    const at = this.#size++;
    if (at === this.#states.length) this.#grow();
    this.#chain[at] = head ?? -1;
    this.#states[at] = state;
    this.#bits.set(bits, at * this.#words);
    this.#heads.set(key, at);
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
    const grown = (old: Int32Array) => {
      const array = new Int32Array(capacity);
      array.set(old);
      return array;
    };
    this.#chain = grown(this.#chain);
    this.#states = grown(this.#states);
    const bits = new Uint32Array(capacity * this.#words);
    bits.set(this.#bits);
    this.#bits = bits;
  }
}
