/**
 * How the CLI turns errors into exit codes and one-line messages: the one
 * place that knows every subsystem's root error. Exit codes as design.md
 * fixes them: 0 pass, 1 the verdict failed, 2 a usage or input error, 3 the
 * machinery failed.
 *
 * @module
 */

import { FaultError } from "../fault/errors.ts";
import { NbdServerError } from "../nbd/errors.ts";
import { QmpError } from "../qmp/errors.ts";
import { ServiceError } from "../service/errors.ts";
import { TraceFormatError } from "../trace/errors.ts";
import { ReplayError } from "../replay/errors.ts";
import { SweepError } from "../sweep/errors.ts";
import { RunError } from "../run/errors.ts";
import { ScenarioError } from "../scenario/errors.ts";
import { UnitError } from "../util/units.ts";
import { GuestImageError } from "../vm/guest_image_error.ts";
import { VmError } from "../vm/launcher.ts";

/** A mistake in how the command was called; printed with a hint to `--help`. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The machinery failed (a tool is missing, QEMU would not start). */
export class MachineryError extends Error {
  override name = "MachineryError";
}

/** Exit codes. */
export const EXIT = { pass: 0, verdictFailed: 1, usage: 2, machinery: 3 } as const;

/**
 * The exit code of an error: 2 for the user's input (arguments, fault specs,
 * images, traces), 3 for everything else.
 *
 * @example
 * ```ts
 * exitCodeOf(new UsageError("--tcp needs HOST:PORT")); // 2
 * ```
 */
export function exitCodeOf(error: unknown): number {
  if (
    error instanceof UsageError || error instanceof FaultError || error instanceof UnitError ||
    error instanceof ServiceError || error instanceof TraceFormatError ||
    error instanceof ScenarioError || error instanceof ReplayError || error instanceof SweepError ||
    (error instanceof GuestImageError && error.usage)
  ) return EXIT.usage;
  return EXIT.machinery;
}

/** Errors whose message is the whole story: printed without a stack trace. */
function isExpected(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof FaultError || error instanceof UnitError ||
    error instanceof ServiceError || error instanceof TraceFormatError ||
    error instanceof NbdServerError ||
    error instanceof QmpError || error instanceof MachineryError ||
    error instanceof ScenarioError ||
    error instanceof RunError || error instanceof GuestImageError || error instanceof VmError ||
    error instanceof ReplayError || error instanceof SweepError;
}

/**
 * The one line to print for an error: its message, without a stack trace for
 * errors the user can act on.
 *
 * @example
 * ```ts
 * errorLine(new UsageError("--image is required")); // "faultline: --image is required"
 * ```
 */
export function errorLine(error: unknown): string {
  if (isExpected(error)) return `faultline: ${error.message}`;
  return `faultline: internal error: ${
    error instanceof Error ? error.stack ?? error.message : String(error)
  }`;
}
