/**
 * What a history model is. Two kinds, each one object in the table of
 * `models/mod.ts`; nothing outside the table switches on a model's name:
 *
 * - a linearizable model (`register`, `kv`) is a sequential specification, as a Porcupine
 *   model is (`Init`, `Step`, `Equal`, `Describe`): the search (`linear_search.ts`) looks
 *   for an order of the ops, within their real-time bounds, that the specification allows;
 * - a pass model (`set`, `queue`) checks the history in one linear-time pass, as Jepsen's
 *   set and total-queue checkers do, and counts what it finds.
 *
 * @module
 */

import type { HistoryOp } from "./op.ts";
import type { PairedOp } from "./pair.ts";
import type { Value } from "./value.ts";

/** Throws the history's error for a value a model cannot read, at the line of `event`. */
export type Reject = (message: string, event: HistoryOp) => never;

/**
 * A sequential specification for one partition (one key) of a history. States are small
 * integers that the specification hands out: equal states are equal numbers, so the search
 * compares and hashes them for free.
 */
export interface LinearSpec<Call> {
  /** The state before any op. */
  readonly init: number;
  /**
   * The op as the specification reads it, checked once before any search; null leaves it
   * out (an indeterminate read tells nothing). A value it cannot read is `reject`ed.
   */
  call(op: PairedOp, reject: Reject): Call | null;
  /** The state after `call` from `state`; -1 when `call` cannot happen in `state`. */
  step(state: number, call: Call): number;
  /** The state for people: `3`, `nil`, `"x 0 0 y"`. */
  describeState(state: number): string;
}

/** What a linearizable model's specification is started with. */
export interface LinearSpecOptions {
  /** The state before any op, when the model lets it be chosen (`register`: nil by default). */
  initial?: Value;
}

/** A model checked by searching for a linearization. */
export interface LinearizableModel {
  readonly kind: "linearizable";
  /** Its name, as `--model` takes it. */
  readonly name: string;
  /** One line for `--help` and the docs: what it models, with which functions. */
  readonly summary: string;
  /** Whether its state before any op may be chosen (`initial`). */
  readonly takesInitial: boolean;
  /** A fresh specification for one partition of a history. */
  start(options: LinearSpecOptions): LinearSpec<unknown>;
  /** One op for people: `write 3`, `read -> 3`, `cas 1 -> 2`, `append "x"`. */
  describeOp(op: PairedOp): string;
}

/** What a pass model found: whether the history holds, and the counts and values behind it. */
export interface PassVerdict {
  /** true: it holds; false: it does not; "unknown": nothing could be checked. */
  valid: boolean | "unknown";
  /** The anomalies and counts by name (`lost`, `unexpected`, `duplicated`, ...). */
  anomalies: PassAnomalies;
  /** What a person should know about how it was checked. */
  notes: string[];
}

/** Counts and examples of what a pass found, by name. */
export interface PassAnomalies {
  /** How many ops or values fell in each category (`lost: 2`, `recovered: 1`, ...). */
  counts: Record<string, number>;
  /** Up to a few values of each category that is not empty, as EDN text. */
  examples: Record<string, string[]>;
}

/** Options a pass model reads. */
export interface PassOptions {
  /** `queue`: `at-least-once` (duplicates counted) or `exactly-once` (duplicates fail). */
  mode?: string;
}

/** A model checked in one pass over the history. */
export interface PassModel {
  readonly kind: "pass";
  /** Its name, as `--model` takes it. */
  readonly name: string;
  /** One line for `--help` and the docs. */
  readonly summary: string;
  /** The modes it takes, the first its default; empty when it has none. */
  readonly modes: readonly string[];
  /** Checks the ops of one partition (one key). */
  check(ops: readonly PairedOp[], options: PassOptions, reject: Reject): PassVerdict;
}

/** A model of the table. */
export type HistoryModel = LinearizableModel | PassModel;

/**
 * Hands out small integer states for values by their canonical text, so that equal
 * values get equal states.
 *
 * @example
 * ```ts
 * const states = new StateTable<string>();
 * states.intern("a", "a") === states.intern("a", "a"); // true
 * ```
 */
export class StateTable<T> {
  readonly #ids = new Map<string, number>();
  /** The value of each state, by its number. */
  readonly values: T[] = [];

  /** The state of the value whose canonical text is `text`, made when new. */
  intern(text: string, value: T): number {
    let id = this.#ids.get(text);
    if (id === undefined) {
      id = this.values.length;
      this.#ids.set(text, id);
      this.values.push(value);
    }
    return id;
  }
}
