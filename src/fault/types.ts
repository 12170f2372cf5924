/**
 * The fault plan as typed values: what a fault does (its effect) and when it
 * fires (its trigger). Fault specs (`eio@17`) are parsed into these once, at the
 * edge; the core never sees the strings.
 *
 * @module
 */

import type { OpType } from "../block/backend.ts";
import type { Errno } from "../block/errno.ts";

/** What a fault does to the ops it hits. */
export type FaultEffect =
  /** The op fails with this errno (`eio`, `enospc`, ...). */
  | { kind: "error"; errno: Errno }
  /** The disk goes silent: no reply until released after `durationMs`, by a command, or never. */
  | { kind: "hang"; durationMs?: number }
  /** One slow op. */
  | { kind: "delay"; durationMs: number }
  /** Every op from the trigger on is slowed: added latency and/or a bandwidth cap. */
  | { kind: "limp"; latencyMs: number; bytesPerSecond?: number }
  /** A write is acknowledged and never stored. */
  | { kind: "lost-write" }
  /** Only the first `keepSectors` 512-byte sectors of a write are stored (seeded when absent). */
  | { kind: "torn-write"; keepSectors?: number }
  /** Seeded bit flips in what is read or written. */
  | { kind: "corrupt"; direction: "read" | "write"; bits: number }
  /** From the trigger on every op fails: the disk is dead. */
  | { kind: "fail"; errno: Errno }
  /**
   * The machine stops; only durable data survives (record and replay only). `drop`
   * loses every volatile write; `subset` keeps a seeded half of them; `torn`
   * tears one seeded volatile write.
   */
  | { kind: "power-loss"; variant: "drop" | "subset" | "torn" };

/** One of the effect kinds. */
export type FaultKind = FaultEffect["kind"];

/** Kinds that, once fired, stay in effect on the disk where they fired. */
export const PERSISTENT_KINDS: ReadonlySet<FaultKind> = new Set(["hang", "limp", "fail"]);

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
    node?: string;
    disk?: string;
    type?: OpType;
    /** The op overlaps `[start, end)`. */
    range?: { start: number; end: number };
    /** The op has exactly this offset and length (with node, disk and type: its signature). */
    exact?: { offset: number; length: number };
    occurrence?: number;
  };

/** One fault of a plan: an effect, a trigger, and the spec text it was written as. */
export interface FaultRule {
  /** The canonical spec text, used to name the rule in traces and messages. */
  spec: string;
  /** What it does. */
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
