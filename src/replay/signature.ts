/**
 * Ops across runs: an op is identified by its signature (node, disk, type,
 * offset, length) and its occurrence (the k-th op with that signature), not by
 * its raw arrival index, because a guest reorders independent requests between
 * runs. Here: turning a recorded op index into such a trigger, and comparing a
 * replay's ops with the recording's. Pure.
 *
 * @module
 */

import { appliesTo } from "../fault/plan.ts";
import { passesFilter } from "../fault/trigger.ts";
import type { FaultEffect, Trigger } from "../fault/types.ts";
import type { OpRecord } from "../trace/schema.ts";
import { ReplayError } from "./errors.ts";

/** What identifies an op across runs, with its occurrence. */
export interface OpSignature {
  /** The node. */
  node: string;
  /** The disk's name in its node. */
  disk: string;
  /** The op type. */
  op: OpRecord["op"];
  /** Where it starts, in bytes. */
  offset: number;
  /** How many bytes it covers. */
  length: number;
}

function sameSignature(a: OpSignature, b: OpSignature): boolean {
  return a.node === b.node && a.disk === b.disk && a.op === b.op && a.offset === b.offset &&
    a.length === b.length;
}

/**
 * The trigger that finds recorded op `index` again in a replay: its phase, signature and
 * occurrence among the ops of that phase. A point recorded in the run phase matches only
 * the replay's run-phase ops: if the replay's run never reaches it, it never fires (rather
 * than fire in the check, at an op the recording never had there).
 *
 * @throws {ReplayError} when the trace has no op with that index.
 * @example
 * ```ts
 * triggerOfRecordedOp(ops, 42); // { kind: "match", phase: "run", node: "app", disk: "data", type: "write", exact: {...}, occurrence: 3 }
 * ```
 */
export function triggerOfRecordedOp(ordered: readonly OpRecord[], index: number): Trigger {
  const target = ordered.find((op) => op.index === index);
  if (!target) {
    const last = ordered.at(-1)?.index ?? -1;
    throw new ReplayError(`the trace has no op ${index} (its ops are numbered 0 to ${last})`);
  }
  let occurrence = 0;
  for (const op of ordered) {
    if (op.index > index) break;
    if (op.phase === target.phase && sameSignature(op, target)) occurrence++;
  }
  return {
    kind: "match",
    ...(target.phase === undefined ? {} : { phase: target.phase }),
    node: target.node,
    disk: target.disk,
    type: target.op,
    exact: { offset: target.offset, length: target.length },
    occurrence,
  };
}

/**
 * The recorded op a signature trigger names, if any.
 *
 * @example
 * ```ts
 * recordedOpOfTrigger(ops, trigger)?.index; // 42
 * ```
 */
export function recordedOpOfTrigger(
  ordered: readonly OpRecord[],
  trigger: Trigger,
  effect?: FaultEffect,
): OpRecord | undefined {
  if (trigger.kind === "index") return ordered.find((op) => op.index === trigger.index);
  // A filter names one op only with an occurrence, or as an exact signature (its first match).
  // An exact signature needs its type; a filter names one op only with an occurrence.
  if (trigger.kind !== "match" || (trigger.exact && trigger.type === undefined)) return undefined;
  if (trigger.occurrence === undefined && !trigger.exact) return undefined;
  let seen = 0;
  for (const op of ordered) {
    const view = {
      index: op.index,
      node: op.node,
      disk: op.disk,
      type: op.op,
      offset: op.offset,
      length: op.length,
      time: op.start,
      ...(op.phase === undefined ? {} : { phase: op.phase }),
    };
    // A filter counts only the ops the fault applies to, as the fault layer does.
    if (!passesFilter(trigger, { kind: "op", op: view }) || (effect && !appliesTo(effect, op.op))) {
      continue;
    }
    if (++seen === (trigger.occurrence ?? 1)) return op;
  }
  return undefined;
}

/** How a replay's ops before its fault compare with the recording's before the same op. */
export type PrefixComparison =
  | { kind: "identical"; ops: number }
  | { kind: "reordered"; ops: number }
  | {
    kind: "diverged";
    /** The first position (arrival index) where the two differ; in a cluster, among `node`'s ops. */
    at: number;
    /** In a cluster: the node whose ops diverged. */
    node?: string;
    recorded: OpSignature | null;
    replayed: OpSignature | null;
    ops: number;
  };

function signatureText(op: OpSignature): string {
  return `${op.node}/${op.disk}/${op.op}:${op.offset}+${op.length}`;
}

/**
 * Compares two op sequences (each in arrival order): identical, the same ops
 * in another order, or diverged at the first position where they differ.
 *
 * @example
 * ```ts
 * comparePrefix(recorded.slice(0, 42), replayed.slice(0, 42)).kind; // "identical"
 * ```
 */
export function comparePrefix(
  recorded: readonly OpSignature[],
  replayed: readonly OpSignature[],
): PrefixComparison {
  const ops = recorded.length;
  let first = -1;
  const length = Math.max(recorded.length, replayed.length);
  for (let i = 0; i < length; i++) {
    const a = recorded[i];
    const b = replayed[i];
    if (!a || !b || !sameSignature(a, b)) {
      first = i;
      break;
    }
  }
  if (first < 0) return { kind: "identical", ops };
  if (recorded.length === replayed.length) {
    const count = new Map<string, number>();
    for (const op of recorded) {
      count.set(signatureText(op), (count.get(signatureText(op)) ?? 0) + 1);
    }
    for (const op of replayed) {
      count.set(signatureText(op), (count.get(signatureText(op)) ?? 0) - 1);
    }
    if ([...count.values()].every((n) => n === 0)) return { kind: "reordered", ops };
  }
  const pick = (op: OpSignature | undefined) =>
    op ? { node: op.node, disk: op.disk, op: op.op, offset: op.offset, length: op.length } : null;
  return {
    kind: "diverged",
    at: first,
    recorded: pick(recorded[first]),
    replayed: pick(replayed[first]),
    ops,
  };
}

/**
 * Compares a cluster's ops node by node: each node's ops in arrival order, as far as
 * both runs got (how the nodes' ops interleave, and so how far each node got before
 * the fault, is timing, not behavior). Identical when every node's are, diverged when
 * one node's diverged (the first such node, in node order), else the same ops
 * reordered. With one node it is {@link comparePrefix}.
 *
 * @example
 * ```ts
 * compareNodePrefixes(recorded, replayed).kind; // "identical"
 * ```
 */
export function compareNodePrefixes(
  recorded: readonly OpSignature[],
  replayed: readonly OpSignature[],
): PrefixComparison {
  const nodes = [...new Set([...recorded, ...replayed].map((op) => op.node))].sort();
  if (nodes.length <= 1) return comparePrefix(recorded, replayed);
  const each = nodes.map((node) => {
    const a = recorded.filter((op) => op.node === node);
    const b = replayed.filter((op) => op.node === node);
    const both = Math.min(a.length, b.length);
    return comparePrefix(a.slice(0, both), b.slice(0, both));
  });
  const ops = recorded.length;
  const at = each.findIndex((c) => c.kind === "diverged");
  const diverged = each[at];
  if (diverged?.kind === "diverged") return { ...diverged, node: nodes[at], ops };
  return { kind: each.every((c) => c.kind === "identical") ? "identical" : "reordered", ops };
}

/**
 * One line for people.
 *
 * @example
 * ```ts
 * describePrefix({ kind: "diverged", at: 17, ... }); // "diverged at op 17: recorded app/data/write:4096+512, replayed app/data/flush:0+0"
 * ```
 */
export function describePrefix(prefix: PrefixComparison): string {
  switch (prefix.kind) {
    case "identical":
      return `identical (${prefix.ops} ops)`;
    case "reordered":
      return `the same ${prefix.ops} ops, reordered`;
    case "diverged":
      return `diverged at op ${prefix.at}${prefix.node ? ` of ${prefix.node}` : ""}: recorded ${
        prefix.recorded ? signatureText(prefix.recorded) : "nothing"
      }, replayed ${prefix.replayed ? signatureText(prefix.replayed) : "nothing"}`;
  }
}
