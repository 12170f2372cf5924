/**
 * The small drawing helpers the fault kinds share when `faultline explore` draws their
 * parameters (each kind's `explore` in src/fault/kinds/): a choice, a whole number, a
 * log-uniform duration, a probability on a grid, a node, a link scope; and the halvings a
 * shrinker weakens a parameter by. Pure: every draw comes from the `draw` it is given.
 *
 * @module
 */

import type { LinkScope } from "./types.ts";

/** A uniform number in [0, 1), from a seeded stream. */
export type Draw = () => number;

/**
 * One of a list, uniformly.
 *
 * @example
 * ```ts
 * pick(() => 0.6, ["a", "b"]); // "b"
 * ```
 */
export function pick<T>(draw: Draw, list: readonly T[]): T {
  return list[Math.min(list.length - 1, Math.floor(draw() * list.length))];
}

/**
 * A whole number in [min, max], uniformly.
 *
 * @example
 * ```ts
 * wholeBetween(() => 0.99, 1, 8); // 8
 * ```
 */
export function wholeBetween(draw: Draw, min: number, max: number): number {
  return min + Math.min(max - min, Math.floor(draw() * (max - min + 1)));
}

/**
 * A whole number in [min, max], log-uniformly (as many draws between 10 and 100 as
 * between 100 and 1000): durations and rates.
 *
 * @example
 * ```ts
 * logBetween(() => 0.5, 10, 1000); // 100
 * ```
 */
export function logBetween(draw: Draw, min: number, max: number): number {
  const value = Math.round(Math.exp(Math.log(min) + draw() * (Math.log(max) - Math.log(min))));
  return Math.max(min, Math.min(max, value));
}

/**
 * A probability in [min, max] on a grid of 0.05 (readable in a spec: `drop:0.35`).
 *
 * @example
 * ```ts
 * probabilityBetween(() => 0, 0.1, 1); // 0.1
 * ```
 */
export function probabilityBetween(draw: Draw, min: number, max: number): number {
  const steps = Math.round((max - min) / 0.05);
  return Math.round((min + wholeBetween(draw, 0, steps) * 0.05) * 100) / 100;
}

/**
 * A node for a fault put at an arrival of `node`: that node half the time, else any node.
 *
 * @example
 * ```ts
 * drawNode(() => 0.2, ["n1", "n2"], "n2"); // "n2"
 * ```
 */
export function drawNode(draw: Draw, nodes: readonly string[], node: string): string {
  return draw() < 0.5 ? node : pick(draw, nodes);
}

/**
 * A link scope for a fault put at an arrival of `node`: every link, the node's links, or
 * one direction from it to another node, a third of the time each.
 *
 * @example
 * ```ts
 * drawLinkScope(() => 0.5, ["n1", "n2"], "n1"); // { kind: "node", node: "n1" }
 * ```
 */
export function drawLinkScope(draw: Draw, nodes: readonly string[], node: string): LinkScope {
  const which = draw();
  const others = nodes.filter((other) => other !== node);
  if (which < 1 / 3 || others.length === 0) return { kind: "all" };
  if (which < 2 / 3) return { kind: "node", node };
  return { kind: "link", from: node, to: pick(draw, others), both: false };
}

/**
 * Weaker values of a whole number that weakens downwards, the weakest first: `floor`,
 * then the halvings of `value` above it (each strictly below `value`).
 *
 * @example
 * ```ts
 * halvingsDown(800, 100); // [100, 200, 400]
 * halvingsDown(100, 100); // []
 * ```
 */
export function halvingsDown(value: number, floor: number): number[] {
  const out: number[] = [];
  for (let v = Math.floor(value / 2); v > floor; v = Math.floor(v / 2)) out.unshift(v);
  if (value > floor) out.unshift(floor);
  return out;
}

/**
 * Weaker probabilities, the weakest first: `floor`, then halvings (on the 0.05 grid).
 *
 * @example
 * ```ts
 * probabilityHalvings(0.8, 0.05); // [0.05, 0.1, 0.2, 0.4]
 * ```
 */
export function probabilityHalvings(value: number, floor: number): number[] {
  const grid = (p: number) => Math.round(Math.max(floor, Math.round(p * 20) / 20) * 100) / 100;
  const out: number[] = [];
  for (let p = grid(value / 2); p > floor && p < value; p = grid(p / 2)) out.unshift(p);
  if (value > floor) out.unshift(floor);
  return [...new Set(out)];
}

/**
 * Weaker values of a whole number that weakens upwards (a bandwidth), the weakest first:
 * `ceiling`, then the doublings of `value` below it (each strictly above `value`).
 *
 * @example
 * ```ts
 * doublingsUp(1000, 8000); // [8000, 4000, 2000]
 * ```
 */
export function doublingsUp(value: number, ceiling: number): number[] {
  const out: number[] = [];
  for (let v = value * 2; v < ceiling; v *= 2) out.unshift(v);
  if (value < ceiling) out.unshift(ceiling);
  return out;
}
