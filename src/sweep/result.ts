/**
 * What a sweep reports: each point's outcome (its crash states or recovery orders, when it
 * has several), the sweep's counts and its progress; and the pure helpers that read them:
 * whether a point, a crash state or a recovery order failed, a point's message in one
 * line, the commands that reproduce it. A point whose fault never fired is reported as
 * such, never as a pass.
 *
 * @module
 */

import type { LostWrites } from "../run/lost_files.ts";
import type { OracleResult } from "../run/oracle.ts";
import type { Verdict } from "../run/verdict.ts";
import { failsFinding, type Reproduced } from "./confirm.ts";
import type { Shard } from "./shard.ts";
import type { OrderOutcome } from "./orders.ts";
import { pointStatus } from "./status.ts";

/** One crash state of a point, when the fault explores many (`power-loss:each`, `orders=K`, `all`). */
export interface StateOutcome {
  /** The state's ID: the volatile writes it drops (`57+61`), or `none`. */
  id: string;
  /** The recorded op indices of the volatile writes it drops. */
  dropped: readonly number[];
  /** What it drops, in words: `drops the write at op 74 alone (data/write 16856064+1024 in step 'commit 6')`. */
  drops: string;
  /** Whether what must hold held in this state. */
  verdict: Verdict;
  /** The durability oracle's counts in this state. */
  oracle: OracleResult | null;
  /** The command that replays this state: `--fault power-loss:state=ID --fault-at N`. */
  reproduce: string;
  /** The state's replay trace, when the sweep's traces are kept (`outputDir`). */
  trace?: string;
  /** The byte-identical state whose check served this one, when another was checked. */
  sameCrashAs?: { at: number; id: string };
  /** A failing state: what it lost, as files (src/run/lost_files.ts). */
  lost?: LostWrites;
  /** A failing state: how often it failed in the runs it got. */
  reproduced?: Reproduced;
  /** The replay failed to run. */
  error?: string;
}

/** The crash states of one point, when the fault explores many. */
export interface PointStates {
  /** Volatile writes at the point. */
  volatile: number;
  /** States there are to explore (2^V for `all`). */
  total: number;
  /** The states checked are a seeded sample of `total`. */
  sampled: boolean;
  /** Each state explored, in order; byte-identical ones share a check. */
  outcomes: StateOutcome[];
  /** Distinct crash states among them (byte-identical ones counted once). */
  distinct: number;
}

/** One fault point's outcome. */
export interface SweepPoint {
  /** The recorded op's index, or the frame's (a point is an arrival on the run's one clock). */
  at: number;
  /** The recorded op, for tables: `write 4096+1024`; or the frame: `frame p1->p2 tcp 40000>5432 psh,ack`. */
  op: string;
  /** Where the fault hit the workload: `power loss during step 'commit 5', after ack 4`. */
  where?: string;
  /** Whether what must hold held at this point (in every state, when there are several). */
  verdict: Verdict;
  /** The durability oracle's counts at this point (a failing state's, when there are several). */
  oracle: OracleResult | null;
  /** False when the fault never fired (its op never came): its own verdict, not a pass. */
  fired: boolean;
  /** The command that replays this point (its first failing state, when there are several). */
  reproduce: string;
  /** The replay's trace, when the sweep's traces are kept (`outputDir`). */
  trace?: string;
  /** For power loss: the point whose crash state (byte-identical) was checked for this one. */
  sameCrashAs?: number;
  /** For a power loss that explores crash states: each state and how it went. */
  states?: PointStates;
  /** With `each-order`: each recovery order the point's check started the serving nodes in, and how it went. */
  orders?: OrderOutcome[];
  /** A failing power-loss point: what its crash state (its first failing one) lost, as files. */
  lost?: LostWrites;
  /** A failing point: how often it failed in the runs it got (its first failing state's). */
  reproduced?: Reproduced;
  /** The replay failed to run (the machinery, not the verdict). */
  error?: string;
}

/** What a sweep found. */
export interface SweepResult {
  /** The fault swept. */
  fault: string;
  /** Faults in force at every point (`--with`), as replayed. */
  with?: string[];
  /** Every point, in op order. */
  points: SweepPoint[];
  /** Points that passed. */
  passed: number;
  /** Points that failed (or whose replay failed), the unavailable among them. */
  failed: number;
  /** Points whose fault never fired. */
  notFired: number;
  /** Points whose check could not run: nothing judged, counted apart, never a pass or a loss. */
  inconclusive?: number;
  /** Failed points whose service never said it was ready after the crash (not a loss). */
  unavailable?: number;
  /** Power loss: the distinct crash states, each checked once. */
  distinctCrashStates?: number;
  /** Power loss that explores crash states: the states of every point, before dedup. */
  crashStates?: number;
  /**
   * How the checks started the nodes serving them, when not together: the recovery asked
   * (`in-order`, `each-order`, `n2,n1`) and the orders it stands for (with `each-order`,
   * each point is checked in each).
   */
  recovery?: { name: string; orders: string[][] };
  /** Replays that ran (check boots for power loss), confirmation runs included. */
  replays: number;
  /** How many verdicts each failing point was given: its first run and the runs confirming it. */
  confirm?: number;
  /** Replays that ran at once. */
  jobs?: number;
  /** How long the sweep took. */
  durationMs: number;
  /**
   * Set when the sweep was stopped (its signal aborted, Ctrl-C) before every point finished:
   * `points` and the counts are of the finished points only, of `pointsPlanned`.
   */
  partial?: { pointsPlanned: number };
  /** The shard this result covers, and how many points the whole sweep has. */
  shard?: Shard & { sweepPoints: number };
  /**
   * How the check phase's nodes started: from a saved guest (warm: their checks, or the
   * restarts serving a cluster's checks), or booted; the nodes that booted, with why; the
   * warm nodes whose saved guest came from the cache of saved guests (`cached`), not a save
   * of this sweep's; how long saving or taking them took (`savedMs`).
   */
  checks?: {
    warm: string[];
    cold: { node: string; reason: string }[];
    cached?: string[];
    savedMs?: number;
  };
  /**
   * Online faults: how many points resumed from the run saved at the workload's start
   * (warm), and why the others booted.
   */
  runs?: { resumed: number; booted: number; reasons: string[]; savedMs?: number };
}

/** Progress of a sweep, for the CLI. */
export interface SweepProgress {
  /** Replays (checks, for power loss) done. */
  done: number;
  /** Replays in all. */
  total: number;
  /** Points whose every check is done, and points in all. */
  points: { done: number; total: number };
  /** Distinct crash states checked so far (power loss). */
  statesChecked?: number;
  /** Points done that failed. */
  failed: number;
  /** Replays a minute, measured since the first started. */
  perMinute: number;
  /** Milliseconds left at the measured rate. */
  etaMs: number | null;
}

/**
 * Whether a point failed: its verdict failed (unavailable included) or its replay did. A
 * point whose check could not run (inconclusive) or whose fault never fired did not.
 *
 * @example
 * ```ts
 * result.points.filter(isFailing).length; // the sweep's failed points
 * ```
 */
export function isFailing(point: Pick<SweepPoint, "fired" | "verdict" | "error">): boolean {
  return pointStatus(point) === "fail";
}

/** The inconclusive and unavailable points, when there are any. */
export function countApart(
  points: readonly SweepPoint[],
): Pick<SweepResult, "inconclusive" | "unavailable"> {
  const count = (kind: string) =>
    points.filter((p) => p.fired && !p.error && p.verdict.kind === kind).length;
  const inconclusive = count("inconclusive");
  const unavailable = count("unavailable");
  return {
    ...(inconclusive > 0 ? { inconclusive } : {}),
    ...(unavailable > 0 ? { unavailable } : {}),
  };
}

/**
 * A point's outcome in one line: where the fault hit, then the verdict's reason.
 *
 * @example
 * ```ts
 * pointMessage(point); // "power loss during step 'commit 5', after ack 4: 1 acknowledged key lost (5): acked 5, found 4"
 * ```
 */
export function pointMessage(point: Pick<SweepPoint, "where" | "verdict">): string {
  return point.where ? `${point.where}: ${point.verdict.reason}` : point.verdict.reason;
}

/**
 * The commands that reproduce a failing point: one per failing crash state when the
 * point has several, else the point's.
 */
export function failingReproduces(point: SweepPoint): string[] {
  const several = point.states?.outcomes ?? point.orders;
  if (!several) return [point.reproduce];
  return several.filter(stateFails).map((s) => s.reproduce);
}

/** Whether a crash state failed: its replay did not run, or its verdict is a failure. */
export function stateFails(state: Pick<StateOutcome, "verdict" | "error">): boolean {
  return state.error !== undefined || failsFinding(state.verdict);
}

/** Whether a recovery order failed: its replay did not run, or its fault fired and failed. */
export function orderFails(order: Pick<OrderOutcome, "verdict" | "error" | "fired">): boolean {
  return order.error !== undefined || (order.fired && failsFinding(order.verdict));
}
