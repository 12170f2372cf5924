/**
 * The scenario subsystem's error.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** A scenario file that is missing or wrong; the message names the file and each field at fault. */
export class ScenarioError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}
