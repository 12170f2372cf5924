/**
 * The trace subsystem's errors, under one root.
 *
 * @module
 */

/** Root of every error the trace subsystem raises. */
export class TraceError extends Error {
  override name = "TraceError";
}

/** A file that is not a faultline trace, or not one this version reads; names the file and the byte. */
export class TraceFormatError extends TraceError {
  override name = "TraceFormatError";
}
