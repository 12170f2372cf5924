/**
 * The sweep subsystem's error.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** A sweep that cannot run as asked: a bad point selection, a fault with its own trigger. */
export class SweepError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}
