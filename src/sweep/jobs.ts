/**
 * How many replays a sweep runs at once by default. Pure.
 *
 * @module
 */

/**
 * One replay per core on one node; on a cluster, as many whole clusters as the cores hold
 * (`max(1, floor(cores / nodes))`), so that a sweep's point sees the load its replay does.
 * Every guest is a TCG thread of its own: 3 clusters of 3 nodes on 2 cores run each guest at
 * a fraction of the speed of a lone replay, and timing-dependent findings then fail to
 * reproduce (docs/findings.md).
 *
 * @example
 * ```ts
 * defaultJobs(2, 1); // 2
 * defaultJobs(2, 3); // 1
 * defaultJobs(8, 3); // 2
 * ```
 */
export function defaultJobs(cores: number, nodes: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, nodes)));
}
