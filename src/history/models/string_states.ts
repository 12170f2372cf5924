/**
 * The kv model's states: strings, numbered so that equal strings get equal numbers, where
 * an append costs the length of what it appends, not of the string it makes. Each state
 * keeps a polynomial fingerprint of its string (two of them, modulo 2^32, with different
 * bases), which an append extends in constant time; states are found by fingerprint, and
 * a fingerprint that matches is confirmed by comparing the strings themselves, so two
 * different strings never share a number. A state made by an append keeps its parent and
 * suffix, and spells its string out only when it must (to confirm a match, or for people).
 *
 * @module
 */

const BASE_1 = 0x01000193;
const BASE_2 = 0x5bd1e995;

/** A string's fingerprint, and what extending another by it takes. */
export interface Fingerprint {
  h1: number;
  h2: number;
  /** BASE^length, modulo 2^32, for each base. */
  p1: number;
  p2: number;
}

/**
 * The fingerprint of `text`.
 *
 * @example
 * ```ts
 * fingerprint("ab").h1 === extend(fingerprint("a"), fingerprint("b")).h1; // true
 * ```
 */
export function fingerprint(text: string): Fingerprint {
  let h1 = 0;
  let h2 = 0;
  let p1 = 1;
  let p2 = 1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i) + 1;
    h1 = (Math.imul(h1, BASE_1) + code) | 0;
    h2 = (Math.imul(h2, BASE_2) + code) | 0;
    p1 = Math.imul(p1, BASE_1);
    p2 = Math.imul(p2, BASE_2);
  }
  return { h1, h2, p1, p2 };
}

/**
 * Strings as numbered states.
 *
 * @example
 * ```ts
 * const states = new StringStates();
 * const a = states.of("a");
 * states.append(a, "b", fingerprint("b")) === states.of("ab"); // true
 * ```
 */
export class StringStates {
  readonly #h1: number[] = [];
  readonly #h2: number[] = [];
  readonly #length: number[] = [];
  /** The string, once spelled out; null until then. */
  readonly #text: (string | null)[] = [];
  /** A state made by an append: the state it extended and what was appended. */
  readonly #parent: number[] = [];
  readonly #suffix: string[] = [];
  /** States by (part of) their first fingerprint: one number, or several that share it. */
  readonly #byPrint = new Map<number, number | number[]>();

  /** The state of `text`, made when new. */
  of(text: string): number {
    const print = fingerprint(text);
    return this.#find(print.h1, print.h2, text.length, () => text) ??
      this.#add(print.h1, print.h2, text.length, text, -1, "");
  }

  /** The state of `state`'s string with `suffix` appended (`print` its fingerprint). */
  append(state: number, suffix: string, print: Fingerprint): number {
    const h1 = (Math.imul(this.#h1[state], print.p1) + print.h1) | 0;
    const h2 = (Math.imul(this.#h2[state], print.p2) + print.h2) | 0;
    const length = this.#length[state] + suffix.length;
    return this.#find(h1, h2, length, () => this.text(state) + suffix) ??
      this.#add(h1, h2, length, null, state, suffix);
  }

  /** The string of `state`, spelled out (and kept) if it was not yet. */
  text(state: number): string {
    const known = this.#text[state];
    if (known !== null) return known;
    const suffixes: string[] = [];
    let at = state;
    while (this.#text[at] === null) {
      suffixes.push(this.#suffix[at]);
      at = this.#parent[at];
    }
    const text = this.#text[at] + suffixes.reverse().join("");
    this.#text[state] = text;
    return text;
  }

  /**
   * The state whose fingerprint and string are these; null when there is none. The string
   * is spelled out only when a state's fingerprints and length match.
   */
  #find(h1: number, h2: number, length: number, spell: () => string): number | null {
    const found = this.#byPrint.get(key(h1));
    if (found === undefined) return null;
    let text: string | null = null;
    const same = (state: number) =>
      this.#h1[state] === h1 && this.#h2[state] === h2 && this.#length[state] === length &&
      this.text(state) === (text ??= spell());
    if (typeof found === "number") return same(found) ? found : null;
    for (const state of found) if (same(state)) return state;
    return null;
  }

  #add(
    h1: number,
    h2: number,
    length: number,
    text: string | null,
    parent: number,
    suffix: string,
  ): number {
    const state = this.#length.length;
    this.#h1.push(h1);
    this.#h2.push(h2);
    this.#length.push(length);
    this.#text.push(text);
    this.#parent.push(parent);
    this.#suffix.push(suffix);
    const k = key(h1);
    const found = this.#byPrint.get(k);
    if (found === undefined) this.#byPrint.set(k, state);
    else this.#byPrint.set(k, typeof found === "number" ? [found, state] : [...found, state]);
    return state;
  }
}

/** The first fingerprint as a small integer, which a Map keys by without boxing it. */
function key(h1: number): number {
  return h1 >> 1;
}
