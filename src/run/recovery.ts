/**
 * Starting the nodes that serve a check phase in a recovery order
 * (src/scenario/recovery.ts): each node starts once the one before it serves, or its boot
 * ended, or a bound passed (then it goes on booting, and the verdict says whether it ever
 * served, as it does when they start together).
 *
 * @module
 */

/** How a serving node's start went, as far as the check phase waits for it. */
export type Served = "served" | "ended";

/** How the wait for a node ended before the next one started. */
export type ServingWait = "ready" | "started" | "ended" | "timeout";

/** Options of {@link startInOrder}. */
export interface InOrderOptions {
  /**
   * Starts one node; resolves with `served` once it serves (it said `report ready`, or
   * without `ready` its script started), or with `ended` when its boot ended first.
   */
  start: (node: string) => Promise<Served>;
  /** Nodes that say when they are ready (`ready: true`): their wait ends `ready`, the others' `started`. */
  ready: ReadonlySet<string>;
  /** How long the next node waits for one that does not serve. */
  waitMs: number;
  /** Hears how each wait ended, before the next node starts. */
  onWaited?: (node: string, how: ServingWait) => void;
  /** Aborting ends the current wait: no further node starts. */
  signal?: AbortSignal;
}

/**
 * Starts the nodes one after another in `order`, each once the one before it served, its
 * boot ended, or `waitMs` passed; resolves when the last has been waited for.
 *
 * @example
 * ```ts
 * await startInOrder(["n2", "n1"], { start: (node) => boot(node), ready: new Set(["n1", "n2"]), waitMs: 60_000 });
 * ```
 */
export async function startInOrder(
  order: readonly string[],
  options: InOrderOptions,
): Promise<void> {
  for (const node of order) {
    if (options.signal?.aborted) return;
    const how = await servedWithin(options.start(node), options.waitMs, options.signal);
    if (how === "aborted") return;
    options.onWaited?.(
      node,
      how === "served" ? (options.ready.has(node) ? "ready" : "started") : how,
    );
  }
}

/** The first of: the node served or ended, `ms` passed, the signal aborted. */
export async function servedWithin(
  served: Promise<Served>,
  ms: number,
  signal?: AbortSignal,
): Promise<Served | "timeout" | "aborted"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([served, timeout, aborted]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
