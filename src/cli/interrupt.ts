/**
 * Ctrl-C for long commands: the first SIGINT (or SIGTERM) aborts the work,
 * which kills its VMs and closes its trace; a second one exits at once.
 *
 * @module
 */

/**
 * Runs `work` with a signal that aborts on SIGINT or SIGTERM.
 *
 * @example
 * ```ts
 * const result = await withInterrupt((signal) => runScenario({ ..., signal }));
 * ```
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handler = () => {
    if (controller.signal.aborted) Deno.exit(3);
    controller.abort(new Error("interrupted"));
  };
  for (const signal of signals) Deno.addSignalListener(signal, handler);
  try {
    return await work(controller.signal);
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, handler);
  }
}
