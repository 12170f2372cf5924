/**
 * The linearizability search of one partition of a history: Wing and Gong's algorithm
 * with Lowe's just-in-time linearization and memoization, as Porcupine and Knossos's
 * `linear` checker run it. The ops' invocations and completions are one list in time
 * order; the search linearizes an op whose invocation comes before the first completion
 * left in the list, if the model allows it and the (linearized set, state) pair is new,
 * lifts it out of the list and starts again from the head; at a completion whose op is
 * not linearized it backtracks. An indeterminate op has no completion: it may be
 * linearized any time after its invocation, or never, so the search is done when every
 * op that completed is linearized.
 *
 * The search runs in slices (`run(steps)`), so that a caller can interleave partitions
 * and keep time budgets. Pure: no clock, no I/O.
 *
 * @module
 */

import type { LinearSpec } from "./model.ts";
import { SeenSet } from "./seen_set.ts";

/** Where a search is: still going, or its answer. */
export type SearchStatus = "running" | "linearizable" | "illegal";

/** When one op of a partition was invoked and completed, as the search sees it. */
export interface SearchSpan {
  /** The invocation's place in the history. */
  invokeAt: number;
  /** The completion's place; Infinity for an indeterminate op. */
  completeAt: number;
}

/** The longest partial linearization the search reached, and the op it could not add. */
export interface PartialLinearization {
  /** The ops linearized, by their index in the partition, in order. */
  order: number[];
  /** The model's state after each of them. */
  states: number[];
  /** The op whose completion the search reached without being able to linearize it. */
  blocked: number;
}

const HEAD = 0;

/**
 * A search over one partition's ops, resumable.
 *
 * @example
 * ```ts
 * const search = new LinearSearch(spec, calls, ops);
 * while (search.run(10_000) === "running");
 * search.status; // "linearizable" or "illegal"
 * ```
 */
export class LinearSearch<Call> {
  /** Where the search is. */
  status: SearchStatus = "running";
  /** Steps taken so far (one per entry looked at). */
  steps = 0;
  readonly #spec: LinearSpec<Call>;
  readonly #calls: Call[];
  readonly #determinate: Uint8Array;
  /** The list of entries: 0 the head, then calls and returns in time order, then the tail. */
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  readonly #entryOp: Int32Array;
  readonly #isCall: Uint8Array;
  readonly #callOf: Int32Array;
  readonly #returnOf: Int32Array;
  readonly #zobrist1: Int32Array;
  readonly #zobrist2: Int32Array;
  readonly #bits: Uint32Array;
  readonly #seen: SeenSet;
  readonly #stackOp: Int32Array;
  readonly #stackState: Int32Array;
  #depth = 0;
  #entry: number;
  #state: number;
  #h1 = 0;
  #h2 = 0;
  #remaining = 0;
  /** The longest partial linearization so far: its ops, the state after each, its length. */
  readonly #longestOrder: Int32Array;
  readonly #longestStates: Int32Array;
  #longestDepth = -1;
  #longestBlocked = -1;
  /** The lowest the stack has been since the longest was recorded: below, it is unchanged. */
  #lowWater = 0;

  /**
   * A search over the ops whose model calls are `calls` and whose times are `spans`, in
   * any order; their index names them in the answer.
   */
  constructor(spec: LinearSpec<Call>, calls: readonly Call[], spans: readonly SearchSpan[]) {
    const n = spans.length;
    this.#spec = spec;
    this.#calls = calls as Call[];
    this.#determinate = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (spans[i].completeAt === Infinity) continue;
      this.#determinate[i] = 1;
      this.#remaining++;
    }
    const order = entryOrder(spans);
    const size = order.length + 2;
    this.#next = new Int32Array(size);
    this.#prev = new Int32Array(size);
    this.#entryOp = new Int32Array(size);
    this.#isCall = new Uint8Array(size);
    this.#callOf = new Int32Array(n);
    this.#returnOf = new Int32Array(n).fill(-1);
    for (let i = 0; i < order.length; i++) {
      const e = i + 1;
      const op = order[i] % OP_SPACE;
      const call = Math.floor(order[i] / OP_SPACE) % 2 === 0;
      this.#entryOp[e] = op;
      this.#isCall[e] = call ? 1 : 0;
      if (call) this.#callOf[op] = e;
      else this.#returnOf[op] = e;
    }
    for (let e = 0; e < size; e++) {
      this.#next[e] = e + 1;
      this.#prev[e] = e - 1;
    }
    [this.#zobrist1, this.#zobrist2] = zobristWords(n);
    const words = Math.max(1, Math.ceil(n / 32));
    this.#bits = new Uint32Array(words);
    this.#seen = new SeenSet(words);
    this.#stackOp = new Int32Array(n);
    this.#stackState = new Int32Array(n);
    this.#longestOrder = new Int32Array(n);
    this.#longestStates = new Int32Array(n);
    this.#entry = this.#next[HEAD];
    this.#state = spec.init;
  }

  /** How many (linearized set, state) configurations the search has reached. */
  get configurations(): number {
    return this.#seen.size;
  }

  /** The bytes its memory of configurations holds: what grows as the search goes. */
  get bytes(): number {
    return this.#seen.bytes;
  }

  /** The longest partial linearization reached so far (null before the first backtrack). */
  get longest(): PartialLinearization | null {
    if (this.#longestDepth < 0) return null;
    return {
      order: Array.from(this.#longestOrder.subarray(0, this.#longestDepth)),
      states: Array.from(this.#longestStates.subarray(0, this.#longestDepth)),
      blocked: this.#longestBlocked,
    };
  }

  /** Takes up to `budget` steps; returns where the search is then. */
  run(budget: number): SearchStatus {
    if (this.status !== "running") return this.status;
    const next = this.#next;
    const isCall = this.#isCall;
    const entryOp = this.#entryOp;
    const spec = this.#spec;
    const calls = this.#calls;
    const bits = this.#bits;
    let taken = 0;
    for (; taken < budget; taken++) {
      if (this.#remaining === 0) {
        this.status = "linearizable";
        break;
      }
      const e = this.#entry;
      if (isCall[e] === 1) {
        const op = entryOp[e];
        const state = spec.step(this.#state, calls[op]);
        if (state >= 0) {
          const word = op >>> 5;
          const bit = 1 << (op & 31);
          bits[word] |= bit;
          const h1 = this.#h1 ^ this.#zobrist1[op];
          const h2 = this.#h2 ^ this.#zobrist2[op];
          if (this.#seen.add(bits, state, h1, h2)) {
            this.#linearize(op, state, h1, h2);
            continue;
          }
          bits[word] &= ~bit;
        }
        this.#entry = next[e];
      } else if (!this.#backtrack(e)) {
        this.status = "illegal";
        break;
      }
    }
    this.steps += taken;
    return this.status;
  }

  #linearize(op: number, state: number, h1: number, h2: number): void {
    this.#stackOp[this.#depth] = op;
    this.#stackState[this.#depth] = this.#state;
    this.#depth++;
    this.#state = state;
    this.#h1 = h1;
    this.#h2 = h2;
    this.#remaining -= this.#determinate[op];
    this.#lift(op);
    this.#entry = this.#next[HEAD];
  }

  /**
   * At entry `e`, a completion (or the tail) whose op is not linearized: undoes the last
   * op linearized and goes on after its call; false when there is none to undo.
   */
  #backtrack(e: number): boolean {
    this.#recordLongest(e);
    if (this.#depth === 0) return false;
    this.#depth--;
    if (this.#depth < this.#lowWater) this.#lowWater = this.#depth;
    const op = this.#stackOp[this.#depth];
    this.#state = this.#stackState[this.#depth];
    this.#bits[op >>> 5] &= ~(1 << (op & 31));
    this.#h1 ^= this.#zobrist1[op];
    this.#h2 ^= this.#zobrist2[op];
    this.#remaining += this.#determinate[op];
    this.#unlift(op);
    this.#entry = this.#next[this.#callOf[op]];
    return true;
  }

  /**
   * Keeps the stack as the longest partial linearization when it is longer than the last
   * kept; only what changed since (above the low-water mark) is copied, so a search that
   * goes deeper step by step copies each op once, not the whole stack each time.
   */
  #recordLongest(e: number): void {
    const depth = this.#depth;
    if (depth <= this.#longestDepth) return;
    for (let i = this.#lowWater; i < depth; i++) {
      this.#longestOrder[i] = this.#stackOp[i];
      this.#longestStates[i] = i + 1 < depth ? this.#stackState[i + 1] : this.#state;
    }
    this.#longestDepth = depth;
    this.#lowWater = depth;
    // The tail is reached only when no completion is left, which ends the search first;
    // it is kept here as a completion so that the search can never run past it.
    this.#longestBlocked = e < this.#entryOp.length - 1 ? this.#entryOp[e] : -1;
  }

  /** Takes an op's call and return out of the list; `#unlift` puts them back, in reverse order. */
  #lift(op: number): void {
    this.#unlink(this.#callOf[op]);
    const r = this.#returnOf[op];
    if (r >= 0) this.#unlink(r);
  }

  #unlift(op: number): void {
    const r = this.#returnOf[op];
    if (r >= 0) this.#relink(r);
    this.#relink(this.#callOf[op]);
  }

  #unlink(e: number): void {
    this.#next[this.#prev[e]] = this.#next[e];
    this.#prev[this.#next[e]] = this.#prev[e];
  }

  #relink(e: number): void {
    this.#next[this.#prev[e]] = e;
    this.#prev[this.#next[e]] = e;
  }
}

/** Entries are numbered (place * 2 + is-return) * OP_SPACE + op, so that a numeric sort orders them. */
const OP_SPACE = 2 ** 21;

/**
 * Every op's call and (for a determinate op) return, in time order, a call before a return
 * at the same place (ops that share a time are concurrent), as numbers of OP_SPACE.
 */
function entryOrder(spans: readonly SearchSpan[]): Float64Array {
  if (spans.length >= OP_SPACE) {
    throw new RangeError(`a key of ${spans.length} ops is more than the search can hold`);
  }
  const order = new Float64Array(spans.length * 2);
  let size = 0;
  for (let i = 0; i < spans.length; i++) {
    const op = spans[i];
    order[size++] = op.invokeAt * 2 * OP_SPACE + i;
    if (op.completeAt < Infinity) order[size++] = (op.completeAt * 2 + 1) * OP_SPACE + i;
  }
  return order.subarray(0, size).sort();
}

/** Two random words per op (seeded: the same history hashes the same way every run). */
function zobristWords(n: number): [Int32Array, Int32Array] {
  let seed = 0x2545f491;
  const draw = () => {
    seed = (seed + 0x9e3779b9) | 0;
    let z = seed;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return z ^ (z >>> 15);
  };
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = draw();
    b[i] = draw();
  }
  return [a, b];
}
