/**
 * The trace subsystem's errors, under one root.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** Root of every error the trace subsystem raises. */
export class TraceError extends FaultlineError {
  static override readonly kind: ErrorKind = "machinery";
}

/** A file that is not a faultline trace, or not one this version reads; names the file and the byte. */
export class TraceFormatError extends TraceError {
  static override readonly kind: ErrorKind = "usage";
}
