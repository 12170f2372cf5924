/**
 * The disk service's errors, under one root.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** A disk service that cannot start: a missing or unsuitable image, a duplicate name. */
export class ServiceError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}
