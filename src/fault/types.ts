/**
 * The fault plan as typed values: what a fault does (its effect, of a kind registered in
 * ./kinds/mod.ts) and when it fires (its trigger, decided by ./trigger.ts). Fault specs
 * (`eio@17`) are parsed into these once, at the edge; the core never sees the strings.
 *
 * Kinds come in families: block kinds, which the fault layer applies to the ops of a disk
 * (./plan.ts), link kinds, which the switch applies to the frames between nodes
 * (src/net/link_plan.ts), node kinds, which the run applies to a whole node while the
 * others go on (src/run/node_faults.ts), and the machine's power loss. Each side ignores
 * the others' rules, so one plan holds them all.
 *
 * @module
 */

import type { OpType } from "../block/backend.ts";
import type { FaultEffect } from "./kinds/mod.ts";

export type { FaultEffect };

/** The links a link fault applies to, as directed node pairs. */
export type LinkScope =
  /** Every link between two nodes (written `link=*`). */
  | { kind: "all" }
  /** Frames from `from` to `to` (`n1->n2`), and back too with `both` (`n1<->n2`). */
  | { kind: "link"; from: string; to: string; both: boolean }
  /** Every frame sent to or by the node (`link=n1`). */
  | { kind: "node"; node: string };

/** The protocols a frame filter names. */
export type FrameProtocol = "tcp" | "udp" | "icmp" | "arp" | "ip";

/** Which ops a trigger selects. */
export type Trigger =
  /** No trigger: every op (persistent kinds: from the first op on). */
  | { kind: "always" }
  /** The op with this arrival index (from 0). */
  | { kind: "index"; index: number }
  /** Ops arriving this long after the start, or later. */
  | { kind: "time"; afterMs: number }
  /** Ops matching a filter; with `occurrence`, only the k-th of them (from 1). */
  | {
    kind: "match";
    /** Only ops of this phase of the run (`run`, `check`): a point recorded in one phase. */
    phase?: string;
    node?: string;
    disk?: string;
    type?: OpType;
    /** The op overlaps `[start, end)`. */
    range?: { start: number; end: number };
    /** The op has exactly this offset and length (with node, disk and type: its signature). */
    exact?: { offset: number; length: number };
    occurrence?: number;
  }
  /**
   * Frames matching a filter (`@net:n1->n2/tcp:2379/syn#1`), for link and node faults;
   * with `occurrence`, only the k-th of them (from 1).
   */
  | {
    kind: "frames";
    /** The frame goes over this link (a `node` scope: sent or received by the node). */
    link?: Exclude<LinkScope, { kind: "all" }>;
    protocol?: FrameProtocol;
    /** TCP or UDP: the source or the destination port. */
    port?: number;
    /** TCP: every one of these flags is set (`syn`, `ack`, `fin`, `rst`, `psh`, `urg`, `ece`, `cwr`). */
    flags?: readonly string[];
    occurrence?: number;
  };

/** One fault of a plan: an effect, a trigger, and the spec text it was written as. */
export interface FaultRule {
  /** The canonical spec text, used to name the rule in traces and messages. */
  spec: string;
  /**
   * What it does.
   * @ignore faultline's own: not part of the public API
   */
  effect: FaultEffect;
  /** When it fires. */
  trigger: Trigger;
}

/** All the faults of a run, with the seed of every random choice. */
export interface FaultPlan {
  /** The seed of every random choice. */
  seed: number;
  /** The faults. */
  rules: readonly FaultRule[];
}
