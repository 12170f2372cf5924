/**
 * `set`: a grow-only set with add and read, checked in one pass as Jepsen's set-full
 * checker does. An element is known from the completion of its acknowledged add, or from
 * the completion of the first read that saw it; every read that begins after that must
 * contain it. What is found, per element:
 *
 * - stable: every read that began after it was known contains it (or none began, and a
 *   read saw it);
 * - stale: some did not, but a later read does (counted among the stable too);
 * - lost: the last read that began after it was known does not contain it;
 * - never read: no read saw it, and none began after it was known (an indeterminate add
 *   never seen is one);
 * - unexpected: read, but never added (no add, or only adds that failed);
 * - recovered: added by an indeterminate add, and read;
 * - duplicated: read twice in one read.
 *
 * Lost or unexpected elements fail the history; stale ones are counted (a set need not be
 * linearizable). A history whose known elements were never read afterwards is "unknown":
 * nothing was checked.
 *
 * @module
 */

import type { PassModel, PassVerdict, Reject } from "../model.ts";
import type { PairedOp } from "../pair.ts";
import { formatValue, membersOf } from "../value.ts";

/** One ok read: when it began and ended, and what it saw. */
interface Read {
  invokeAt: number;
  completeAt: number;
  seen: Set<string>;
}

/** What the pass knows of one element. */
interface Element {
  acknowledged: boolean;
  /** When it became known: its add's completion, or the first read that saw it. */
  known: number;
  /** The reads (by their place in invocation order) that saw it. */
  readIn: number[];
}

const EXAMPLES = 5;

function readsAndAdds(ops: readonly PairedOp[], reject: Reject) {
  const reads: Read[] = [];
  const elements = new Map<string, Element>();
  const duplicated: string[] = [];
  for (const op of ops) {
    if (op.f === "add") {
      const text = formatValue(op.value);
      const element = elements.get(text) ?? { acknowledged: false, known: Infinity, readIn: [] };
      if (op.status === "ok") {
        element.acknowledged = true;
        element.known = Math.min(element.known, op.completeAt);
      }
      elements.set(text, element);
    } else if (op.f === "read") {
      if (op.status !== "ok") continue;
      const members = membersOf(op.output);
      if (members === null && op.output !== null) {
        reject(
          `expected what a read read, a set or a vector, found ${formatValue(op.output)}`,
          op.complete!,
        );
      }
      const seen = new Set<string>();
      for (const member of members ?? []) {
        const text = formatValue(member);
        if (seen.has(text)) duplicated.push(text);
        seen.add(text);
      }
      reads.push({ invokeAt: op.invokeAt, completeAt: op.completeAt, seen });
    } else {
      reject(`expected :f :add or :read (the set model), found :${op.f}`, op.invoke);
    }
  }
  reads.sort((a, b) => a.invokeAt - b.invokeAt);
  return { reads, elements, duplicated };
}

/** The first read (by invocation) that began after `at`, by binary search. */
function firstReadAfter(reads: readonly Read[], at: number): number {
  let low = 0;
  let high = reads.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (reads[mid].invokeAt > at) high = mid;
    else low = mid + 1;
  }
  return low;
}

function checkSet(ops: readonly PairedOp[], reject: Reject): PassVerdict {
  const { reads, elements, duplicated } = readsAndAdds(ops, reject);
  const found: Record<string, string[]> = {
    stable: [],
    stale: [],
    lost: [],
    "never-read": [],
    unexpected: [],
    recovered: [],
  };
  reads.forEach((read, r) => {
    for (const text of read.seen) {
      const element = elements.get(text);
      if (!element) {
        if (!found.unexpected.includes(text)) found.unexpected.push(text);
        continue;
      }
      element.readIn.push(r);
      element.known = Math.min(element.known, read.completeAt);
    }
  });
  for (const [text, element] of elements) {
    if (!element.acknowledged && element.readIn.length > 0) found.recovered.push(text);
    found[outcome(reads, element)].push(text);
  }
  return verdict(found, duplicated, elements.size);
}

/**
 * Where one element stands, as Jepsen's set-full judges it: lost when the last read that
 * began after it was known lacks it; stale when one such read lacked it but a later read
 * has it; stable when every such read has it (or none began, but a read saw it); never
 * read when no read ever saw it and none began after it was known.
 */
function outcome(reads: readonly Read[], element: Element): string {
  const first = firstReadAfter(reads, element.known);
  const after = reads.length - first;
  if (after > 0 && element.readIn.at(-1) !== reads.length - 1) return "lost";
  if (element.readIn.length === 0) return "never-read";
  if (after === 0) return "stable";
  const presentAfter = element.readIn.length - countBelow(element.readIn, first);
  return presentAfter === after ? "stable" : "stale";
}

/** How many of the (sorted) read places are below `first`. */
function countBelow(places: readonly number[], first: number): number {
  let low = 0;
  let high = places.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (places[mid] >= first) high = mid;
    else low = mid + 1;
  }
  return low;
}

function verdict(
  found: Record<string, string[]>,
  duplicated: string[],
  attempted: number,
): PassVerdict {
  const counts: Record<string, number> = { attempted };
  const examples: Record<string, string[]> = {};
  for (const [name, values] of Object.entries({ ...found, duplicated })) {
    counts[name] = values.length;
    if (values.length > 0 && name !== "stable") examples[name] = values.slice(0, EXAMPLES);
  }
  // As in set-full, a stale element is also stable: it was missed, then seen for good.
  counts.stable += counts.stale;
  const notes: string[] = [];
  let valid: boolean | "unknown" = counts.lost === 0 && counts.unexpected === 0;
  if (valid && counts.stable + counts.stale === 0 && counts["never-read"] > 0) {
    valid = "unknown";
    notes.push("no element was read after it was known: nothing was checked");
  }
  return { valid, anomalies: { counts, examples }, notes };
}

/** The set model. */
export const SET: PassModel = {
  kind: "pass",
  name: "set",
  summary:
    "a grow-only set with add and read: every acknowledged add in the reads after it, nothing read that was never added",
  modes: [],
  check: (ops, _options, reject) => checkSet(ops, reject),
};
