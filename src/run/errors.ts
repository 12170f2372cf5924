/**
 * The run subsystem's errors (record, replay): one root.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** The machinery of a run failed: a tool, QEMU, the guest image. */
export class RunError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "machinery";
}

/**
 * The run was stopped by its signal (Ctrl-C); the trace keeps what was recorded. Its kind is
 * `interrupted` (exit 130); the CLI says which signal it was (src/cli/interrupt.ts).
 */
export class RunInterrupted extends RunError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "interrupted";
}
