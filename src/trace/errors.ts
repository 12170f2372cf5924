/**
 * The trace subsystem's errors, under one root.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** Root of every error the trace subsystem raises. */
export class TraceError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "machinery";
}

/** A file that is not a faultline trace, or not one this version reads; names the file and the byte. */
export class TraceFormatError extends TraceError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}
