/**
 * The run subsystem's errors (record, replay): one root.
 *
 * @module
 */

/** The machinery of a run failed: a tool, QEMU, the guest image. */
export class RunError extends Error {
  override name = "RunError";
}

/** The run was interrupted (Ctrl-C); the trace keeps what was recorded. */
export class RunInterrupted extends RunError {
  override name = "RunInterrupted";
}
