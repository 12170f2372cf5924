/**
 * How the CLI turns errors into exit codes and one-line messages. The exit code
 * comes from the error's kind (src/util/errors.ts), so this file needs no list
 * of subsystems: 0 pass, 1 the verdict failed, 2 a usage or input error, 3 the
 * machinery failed.
 *
 * @module
 */

import { type ErrorKind, EXIT, exitCodeForError, FaultlineError } from "../util/errors.ts";

export { EXIT, exitCodeForError };

/** A mistake in how the command was called. */
export class UsageError extends FaultlineError {
  static override readonly kind: ErrorKind = "usage";
}

/** The machinery failed (a tool is missing, QEMU would not start). */
export class MachineryError extends FaultlineError {}

/**
 * The one line to print for an error. A {@link FaultlineError}'s message is the
 * whole story; anything else is a bug, printed as an internal error, with its
 * stack only under `--debug`.
 *
 * @example
 * ```ts
 * errorLine(new UsageError("--image is required")); // "faultline: --image is required"
 * ```
 */
export function errorLine(error: unknown, options: { debug?: boolean } = {}): string {
  const stack = options.debug && error instanceof Error && error.stack ? `\n${error.stack}` : "";
  if (error instanceof FaultlineError) return `faultline: ${error.message}${stack}`;
  const message = error instanceof Error ? error.message : String(error);
  return `faultline: internal error: ${message}${
    stack || "\n(run with --debug for the stack trace)"
  }`;
}
