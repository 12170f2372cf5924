/**
 * The one error of the guest image builder: a missing tool or package, a failed download,
 * a bad option. The CLI maps it to exit code 3 (the machinery failed) or, for a bad option,
 * 2; its message is one line that says what failed and, where there is one, how to fix it.
 *
 * @module
 */

import { FaultlineError } from "../util/errors.ts";

/** Context of a {@linkcode GuestImageError}. */
export interface GuestImageErrorOptions {
  /** What to do about it, such as "run `apt-get update` as root"; appended to the message. */
  hint?: string;
  /** The command that failed, program first. */
  command?: readonly string[];
  /** The last lines that the command printed on stderr. */
  stderr?: string;
  /** True when the caller's options were wrong (a usage error), not the machine. */
  usage?: boolean;
  cause?: unknown;
}

/**
 * Building the guest image failed.
 *
 * @example
 * ```ts
 * try {
 *   await ensureKernel();
 * } catch (error) {
 *   if (error instanceof GuestImageError) console.error(error.message); // one line
 * }
 * ```
 */
export class GuestImageError extends FaultlineError {
  /** What to do about it, when known. */
  readonly hint?: string;
  /** The command that failed, when one did. */
  readonly command?: readonly string[];
  /** What that command printed on stderr (its last lines). */
  readonly stderr?: string;
  /** True when the caller's options were wrong, not the machine. */
  readonly usage: boolean;

  /** Makes the error. */
  constructor(message: string, options: GuestImageErrorOptions = {}) {
    super(options.hint ? `${message}; ${options.hint}` : message, {
      cause: options.cause,
      kind: options.usage ? "usage" : "machinery",
    });
    this.hint = options.hint;
    this.command = options.command;
    this.stderr = options.stderr;
    this.usage = options.usage ?? false;
  }
}
