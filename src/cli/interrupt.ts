/**
 * Ctrl-C for long commands: the first SIGINT (or SIGTERM) aborts the work, which kills its
 * VMs, closes its trace and removes its temporary directories; the command then ends with
 * exit 130 (143 for SIGTERM) and one line that says what was kept. A second signal exits
 * at once, with the same code.
 *
 * @module
 */

import { EXIT, FaultlineError } from "../util/errors.ts";

/** The signals that stop a command. */
export type StopSignal = "SIGINT" | "SIGTERM";

const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

/**
 * The command was stopped by a signal: exit 130 for SIGINT, 143 for SIGTERM.
 *
 * @example
 * ```ts
 * exitCodeForError(new Interrupted("SIGTERM", "the trace run.trace keeps what was recorded")); // 143
 * ```
 */
export class Interrupted extends FaultlineError {
  /** The signal that stopped the command. */
  readonly signal: StopSignal;

  /** Makes the error; its message is "interrupted by SIGNAL", then what the command kept. */
  constructor(signal: StopSignal, kept?: string) {
    super(`interrupted by ${signal}${kept ? `: ${kept}` : ""}`, {
      kind: signal === "SIGINT" ? "interrupted" : "terminated",
    });
    this.signal = signal;
  }
}

/** Options of {@link withInterrupt}. */
export interface InterruptOptions<T> {
  /**
   * What the command kept, for the last line: given what the work returned when it ended
   * by returning (a sweep's finished points), or undefined when it ended by throwing.
   */
  kept?: (result: T | undefined) => string | Promise<string>;
}

/**
 * Runs `work` with a signal that aborts on SIGINT or SIGTERM. When a signal came, the work
 * is let finish (or fail), then an {@link Interrupted} error is thrown, whatever the work did.
 *
 * @throws {Interrupted} when a signal came, with `kept`'s words.
 * @example
 * ```ts
 * const result = await withInterrupt((signal) => runScenario({ ..., signal }), {
 *   kept: () => `the trace ${trace} keeps what was recorded`,
 * });
 * ```
 */
export async function withInterrupt<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: InterruptOptions<T> = {},
): Promise<T> {
  const controller = new AbortController();
  let stoppedBy: StopSignal | null = null;
  const handlers = STOP_SIGNALS.map((signal) => () => {
    if (stoppedBy) Deno.exit(exitCodeOf(signal));
    stoppedBy = signal;
    controller.abort(new Interrupted(signal));
  });
  STOP_SIGNALS.forEach((signal, i) => Deno.addSignalListener(signal, handlers[i]));
  let result: T | undefined;
  try {
    result = await work(controller.signal);
  } catch (error) {
    if (stoppedBy === null) throw error;
  } finally {
    STOP_SIGNALS.forEach((signal, i) => Deno.removeSignalListener(signal, handlers[i]));
  }
  if (stoppedBy === null) return result as T;
  throw new Interrupted(stoppedBy, await options.kept?.(result));
}

/** The exit code of a stop signal, as a shell reports a process it ended: 128 + its number. */
export function exitCodeOf(signal: StopSignal): number {
  return signal === "SIGINT" ? EXIT.interrupted : EXIT.terminated;
}
