/**
 * The replay subsystem's error.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** A replay that cannot be done as asked: a changed image, kernel or initramfs, a trace without data, an op that is not in the trace. */
export class ReplayError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}
