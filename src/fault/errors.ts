/**
 * The fault subsystem's errors, under one root.
 *
 * @module
 */

/** Root of every error the fault subsystem raises. */
export class FaultError extends Error {
  override name = "FaultError";
}

/** A fault spec that does not parse, or names a fault this layer cannot inject. */
export class FaultSpecError extends FaultError {
  override name = "FaultSpecError";
}
