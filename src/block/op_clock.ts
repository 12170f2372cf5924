/**
 * The one clock of a run: it numbers ops in arrival order across every disk and
 * node, and measures time from the run's start.
 *
 * @module
 */

/**
 * Arrival counter and run time.
 *
 * @example
 * ```ts
 * const clock = new OpClock();
 * clock.next(); // 0
 * clock.arrivals; // 1
 * ```
 */
export class OpClock {
  private count: number;
  private readonly origin = performance.now();

  /** A clock whose first op takes index `start` (a run resumed after `start` ops: src/run/warm.ts). */
  constructor(start = 0) {
    this.count = start;
  }

  /** How many ops have arrived so far (the next op's index). */
  get arrivals(): number {
    return this.count;
  }

  /** Numbers an arriving op. */
  next(): number {
    return this.count++;
  }

  /** Milliseconds since the clock was made. */
  now(): number {
    return performance.now() - this.origin;
  }
}
