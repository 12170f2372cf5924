/**
 * The one root of every error faultline throws on purpose. Each subsystem keeps
 * its own subclass (ScenarioError, QmpError, ...), and every error carries a
 * kind from which the exit code follows, so the CLI maps errors to exit codes
 * in one place and without a list of classes:
 *
 * | kind | exit | meaning |
 * | --- | --- | --- |
 * | `verdict` | 1 | what must hold did not |
 * | `usage` | 2 | the user's input: arguments, fault specs, scenario files, traces, images |
 * | `machinery` | 3 | faultline or its tools failed: QEMU would not start, a tool is missing |
 * | `interrupted` | 130 | stopped by SIGINT (Ctrl-C), 128 + 2 as a shell reports it |
 * | `terminated` | 143 | stopped by SIGTERM, 128 + 15 |
 *
 * An error that is not a {@link FaultlineError} is a bug: exit code 3. docs/exit-codes.md
 * is the table of every code and every verdict.
 *
 * @module
 */

/** What kind of failure an error is; it decides the exit code. */
export type ErrorKind = "verdict" | "usage" | "machinery" | "interrupted" | "terminated";

/**
 * Exit codes everywhere: 0 pass, 1 the verdict failed, 2 a usage or input error, 3 the
 * machinery failed (or, for `history check`, unknown: a search its budget cut short),
 * 130 stopped by SIGINT, 143 stopped by SIGTERM.
 */
export const EXIT = {
  pass: 0,
  verdictFailed: 1,
  usage: 2,
  machinery: 3,
  unknown: 3,
  interrupted: 130,
  terminated: 143,
} as const;

/** The exit code of each kind of error. */
export const EXIT_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  verdict: EXIT.verdictFailed,
  usage: EXIT.usage,
  machinery: EXIT.machinery,
  interrupted: EXIT.interrupted,
  terminated: EXIT.terminated,
};

/** Options of {@link FaultlineError}. */
export interface FaultlineErrorOptions {
  /** Overrides the subclass's default kind for this one error. */
  kind?: ErrorKind;
  cause?: unknown;
}

/**
 * The root error. A subclass sets its default kind with a static `kind`; one
 * error may override it (an NBD server error is usually machinery, but a
 * non-loopback address is the user's mistake).
 *
 * @example
 * ```ts
 * class ScenarioError extends FaultlineError {
 *   static override readonly kind: ErrorKind = "usage";
 * }
 * exitCodeForError(new ScenarioError("x.ts: nodes: expected at least one node")); // 2
 * ```
 */
export class FaultlineError extends Error {
  /** The kind of this class's errors unless one says otherwise. */
  static readonly kind: ErrorKind = "machinery";
  /** What kind of failure this is. */
  readonly kind: ErrorKind;

  /** Makes the error. */
  constructor(message: string, options: FaultlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = options.kind ?? (new.target as typeof FaultlineError).kind;
  }
}

/**
 * The exit code of an error: by its kind for a {@link FaultlineError}, 3 for anything else.
 *
 * @example
 * ```ts
 * exitCodeForError(new FaultlineError("no QEMU")); // 3
 * exitCodeForError(new FaultlineError("bad flag", { kind: "usage" })); // 2
 * ```
 */
export function exitCodeForError(error: unknown): number {
  return error instanceof FaultlineError ? EXIT_OF_KIND[error.kind] : EXIT.machinery;
}
