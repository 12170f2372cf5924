/**
 * The durability oracle of docs/durability.md: the keys a workload acknowledged
 * (`ack KEY`) against the keys the check found (`have KEY`). Pure.
 *
 * @module
 */

import type { Expectations, ScenarioNode } from "../scenario/schema.ts";
import type { GuestLine } from "../trace/load.ts";

export type { GuestLine };

/** The oracle's counts, as docs/durability.md defines them. */
export interface OracleResult {
  /** Keys acknowledged before the cut (all of the run's acks when there is no cut). */
  acked: number;
  /** Acknowledged keys that the check found. */
  found: number;
  /** `acked - found`. */
  lost: number;
  /** The lost keys, in the order they were acknowledged (at most 20 listed). */
  lostKeys: string[];
}

/**
 * Compares acknowledged and found keys. With `cutAt`, an ack counts only if
 * it arrived before op `cutAt` did (`at <= cutAt`); keys found but never
 * acknowledged are allowed. A key is a key across the nodes of a cluster: a key one node
 * acknowledged is found when any node's check has it (a client acknowledges, a promoted
 * standby finds). Nodes that keep separate data name their keys apart
 * (`report ack "$FAULTLINE_NODE/$i"`).
 *
 * @example
 * ```ts
 * durabilityOracle([
 *   { node: "app", phase: "run", kind: "ack", args: ["1"], at: 10 },
 *   { node: "app", phase: "check", kind: "have", args: ["2"], at: 99 },
 * ]); // { acked: 1, found: 0, lost: 1, lostKeys: ["1"] }
 * ```
 */
export function durabilityOracle(lines: readonly GuestLine[], cutAt?: number): OracleResult {
  const key = (line: GuestLine) => line.args.join(" ");
  const acked: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    if (line.phase !== "run" || line.kind !== "ack") continue;
    if (cutAt !== undefined && line.at > cutAt) continue;
    const k = key(line);
    if (!seen.has(k)) {
      seen.add(k);
      acked.push(k);
    }
  }
  const have = new Set(lines.filter((l) => l.phase === "check" && l.kind === "have").map(key));
  const lost = acked.filter((k) => !have.has(k));
  return {
    acked: acked.length,
    found: acked.length - lost.length,
    lost: lost.length,
    lostKeys: lost.slice(0, 20),
  };
}

/**
 * The oracle of a run: every node's acks against what the checks found, a key being a key
 * across nodes (a client's ack is found by a promoted standby's check). Only a check reports
 * `have`: a scenario in which no node declares one has no oracle (unless it expects
 * `noLostAcks`), rather than every ack lost (a cluster whose nodes ack what they fetched);
 * nor has a run in which nothing was acknowledged.
 *
 * @example
 * ```ts
 * runOracle(lines, { scenario, cutAt: powerCut?.at });
 * ```
 */
export function runOracle(
  lines: readonly GuestLine[],
  options: {
    scenario: {
      nodes: readonly Pick<ScenarioNode, "name" | "check">[];
      expect: Pick<Expectations, "noLostAcks">;
    };
    cutAt?: number;
  },
): OracleResult | null {
  const { scenario, cutAt } = options;
  if (scenario.expect.noLostAcks) return durabilityOracle(lines, cutAt);
  const checked = scenario.nodes.some((n) => n.check !== null);
  const acked = lines.some((line) => line.phase === "run" && line.kind === "ack");
  return checked && acked ? durabilityOracle(lines, cutAt) : null;
}
