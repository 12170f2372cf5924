/**
 * The sweep subsystem's error.
 *
 * @module
 */

/** A sweep that cannot run as asked: a bad point selection, a fault with its own trigger. */
export class SweepError extends Error {
  override name = "SweepError";
}
