/**
 * The fault subsystem's errors, under one root.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** Root of every error the fault subsystem raises. */
export class FaultError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}

/** A fault spec that does not parse, or names a fault this layer cannot inject. */
export class FaultSpecError extends FaultError {}
