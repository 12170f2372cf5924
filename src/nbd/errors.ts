/**
 * The NBD subsystem's errors: one root, {@link NbdError}, so callers can tell
 * the fault layer's failures from everything else.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** Root of every error the NBD server raises. */
export class NbdError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "machinery";
}

/**
 * A peer broke the protocol badly enough that its connection was closed (bad
 * magic, unknown client flags, an option too long to be honest). Only that
 * connection is affected.
 */
export class NbdProtocolError extends NbdError {}

/** The server could not start or serve: a socket path in use, an export misconfigured. */
export class NbdServerError extends NbdError {}
