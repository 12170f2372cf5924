/**
 * Calls on an object still being made. The services of a run report to it (an op
 * recorded, a frame, a guest line) from the moment they start, which is before
 * `Run.start` has made the run they report to: those calls wait here, in order, and
 * run once the run exists.
 *
 * @module
 */

/**
 * Calls held until their target exists, then run on it in the order they came; after
 * that, calls run at once.
 *
 * @example
 * ```ts
 * const toRun = new HeldCalls<Run>();
 * service.onRecord((record) => toRun.call((run) => run.onRecord(record)));
 * toRun.release(new Run(...)); // the records so far reach the run, in order
 * ```
 */
export class HeldCalls<T> {
  #target: T | null = null;
  readonly #held: ((target: T) => void)[] = [];

  /** The target, once it exists. */
  get target(): T | null {
    return this.#target;
  }

  /** Runs `call` on the target now, or holds it until the target exists. */
  call(call: (target: T) => void): void {
    if (this.#target !== null) call(this.#target);
    else this.#held.push(call);
  }

  /**
   * The answer of `call` on the target now; while there is no target, holds `call` (its
   * answer is not wanted then) and answers `meanwhile`.
   */
  ask<R>(call: (target: T) => R, meanwhile: R): R {
    if (this.#target !== null) return call(this.#target);
    this.#held.push(call);
    return meanwhile;
  }

  /** The target exists: the held calls run on it, in order, then every call at once. */
  release(target: T): void {
    // A held call that makes another call holds it too, behind the ones before it.
    for (let i = 0; i < this.#held.length; i++) this.#held[i](target);
    this.#held.length = 0;
    this.#target = target;
  }
}
