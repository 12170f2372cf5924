/**
 * Waiting for a condition instead of sleeping and hoping it holds.
 *
 * @module
 */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (10 s by default). */
  timeoutMs?: number;
  /** Time between two checks (20 ms by default). */
  intervalMs?: number;
}

/**
 * Checks `condition` until it returns something other than `undefined`,
 * `null` or `false`, and returns that; throws naming `what` at the timeout.
 *
 * @example
 * ```ts
 * const ops = await waitFor("a write in the trace", async () => {
 *   const ops = await opsOf(trace);
 *   return ops.some((op) => op.op === "write") && ops;
 * });
 * ```
 */
export async function waitFor<T>(
  what: string,
  condition: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== null && value !== false) return value;
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}
