/**
 * The explore subsystem's error.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** An explore that cannot run as asked: no kind to draw, a budget of nothing, a kind the scenario cannot take. */
export class ExploreError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}
