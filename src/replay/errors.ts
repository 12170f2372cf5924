/**
 * The replay subsystem's error.
 *
 * @module
 */

/** A replay that cannot be done as asked: a changed image, kernel or initramfs, a trace without data, an op that is not in the trace. */
export class ReplayError extends Error {
  override name = "ReplayError";
}
