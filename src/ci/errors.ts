/**
 * The CI subsystem's error.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** CI that cannot run as asked: a shard's trace not recorded, a declared fault's op not in the trace. */
export class CiError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}
