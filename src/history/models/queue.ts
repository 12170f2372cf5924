/**
 * `queue`: messages enqueued and dequeued (or published and consumed; `drain` takes many
 * at once), checked in one pass as Jepsen's total-queue checker does, counting per
 * message value:
 *
 * - lost: acknowledged (an ok enqueue), never dequeued;
 * - unexpected: dequeued, never enqueued (or only by enqueues that failed);
 * - duplicated: dequeued more often than it was enqueued;
 * - recovered: enqueued by an indeterminate enqueue, and dequeued: it may appear or not;
 * - reordered: dequeued by an op that completed before the op that dequeued an earlier
 *   message of the same producer (its process) was invoked: definitely out of its order.
 *
 * `at-least-once` fails a history with lost or unexpected messages; `exactly-once` fails
 * duplicates too. Reordering is counted, never failed. An indeterminate dequeue tells
 * nothing of what it took, so what it may have taken counts as lost, as in total-queue.
 *
 * @module
 */

import type { PassModel, PassOptions, PassVerdict, Reject } from "../model.ts";
import type { PairedOp } from "../pair.ts";
import { formatValue, membersOf, type Value } from "../value.ts";

/** The modes, the first the default. */
const MODES = ["at-least-once", "exactly-once"] as const;

const ENQUEUES = new Set(["enqueue", "publish"]);
const DEQUEUES = new Set(["dequeue", "consume"]);
const EXAMPLES = 5;

/** What the pass knows of one message value. */
interface Message {
  attempted: number;
  acknowledged: number;
  dequeued: number;
  /** The first dequeue that took it. */
  firstDelivery: PairedOp | null;
}

/** The counts and deliveries of a queue history. */
interface Tally {
  messages: Map<string, Message>;
  /** Each producer's acknowledged messages, in the order it enqueued them. */
  producers: Map<number, string[]>;
  indeterminateDequeues: number;
}

function tally(ops: readonly PairedOp[], reject: Reject): Tally {
  const messages = new Map<string, Message>();
  const producers = new Map<number, string[]>();
  const message = (text: string) => {
    let found = messages.get(text);
    if (!found) {
      messages.set(
        text,
        found = { attempted: 0, acknowledged: 0, dequeued: 0, firstDelivery: null },
      );
    }
    return found;
  };
  const deliver = (value: Value, op: PairedOp) => {
    const found = message(formatValue(value));
    found.dequeued++;
    if (!found.firstDelivery || op.completeAt < found.firstDelivery.completeAt) {
      found.firstDelivery = op;
    }
  };
  let indeterminateDequeues = 0;
  for (const op of ops) {
    if (ENQUEUES.has(op.f)) {
      const text = formatValue(op.value);
      message(text).attempted++;
      if (op.status !== "ok") continue;
      message(text).acknowledged++;
      const sequence = producers.get(op.process);
      if (sequence) sequence.push(text);
      else producers.set(op.process, [text]);
    } else if (DEQUEUES.has(op.f) || op.f === "drain") {
      if (op.status !== "ok") {
        indeterminateDequeues++;
        continue;
      }
      if (DEQUEUES.has(op.f)) {
        if (op.output !== null) deliver(op.output, op);
        continue;
      }
      const members = membersOf(op.output);
      if (members === null) {
        reject(
          `expected what a drain took, a vector of messages, found ${formatValue(op.output)}`,
          op.complete!,
        );
      }
      for (const member of members!) deliver(member, op);
    } else {
      reject(
        `expected :f :enqueue, :dequeue, :publish, :consume or :drain (the queue model), found :${op.f}`,
        op.invoke,
      );
    }
  }
  return { messages, producers, indeterminateDequeues };
}

/** Messages of one producer that were definitely delivered out of the order it enqueued them. */
function reordered(tallied: Tally): string[] {
  const found: string[] = [];
  for (const sequence of tallied.producers.values()) {
    let latestInvoke = -Infinity;
    for (const text of sequence) {
      const delivery = tallied.messages.get(text)!.firstDelivery;
      if (!delivery) continue;
      if (delivery.completeAt < latestInvoke) found.push(text);
      latestInvoke = Math.max(latestInvoke, delivery.invokeAt);
    }
  }
  return found;
}

function checkQueue(ops: readonly PairedOp[], options: PassOptions, reject: Reject): PassVerdict {
  const tallied = tally(ops, reject);
  const counts: Record<string, number> = {
    attempted: 0,
    acknowledged: 0,
    delivered: 0,
    lost: 0,
    unexpected: 0,
    duplicated: 0,
    recovered: 0,
    reordered: 0,
  };
  const examples: Record<string, string[]> = {};
  const add = (name: string, text: string, count: number) => {
    if (count <= 0) return;
    counts[name] += count;
    if (name === "attempted" || name === "acknowledged" || name === "delivered") return;
    const list = examples[name] ??= [];
    if (list.length < EXAMPLES) list.push(text);
  };
  for (const [text, m] of tallied.messages) {
    add("attempted", text, m.attempted);
    add("acknowledged", text, m.acknowledged);
    add("delivered", text, Math.min(m.dequeued, m.attempted));
    add("lost", text, m.acknowledged - m.dequeued);
    add(m.attempted === 0 ? "unexpected" : "duplicated", text, m.dequeued - m.attempted);
    add("recovered", text, Math.min(m.dequeued, m.attempted) - m.acknowledged);
  }
  for (const text of reordered(tallied)) add("reordered", text, 1);
  const mode = options.mode ?? MODES[0];
  const valid = counts.lost === 0 && counts.unexpected === 0 &&
    (mode !== "exactly-once" || counts.duplicated === 0);
  const notes = [
    mode === "exactly-once"
      ? "checked exactly-once: a duplicate fails the history"
      : "checked at-least-once: duplicates are counted, not failed",
  ];
  if (tallied.indeterminateDequeues > 0) {
    notes.push(
      `${tallied.indeterminateDequeues} indeterminate dequeues: what they may have taken counts as lost (as Jepsen's total-queue counts it)`,
    );
  }
  return { valid, anomalies: { counts, examples }, notes };
}

/** The queue model. */
export const QUEUE: PassModel = {
  kind: "pass",
  name: "queue",
  summary:
    "enqueue/dequeue or publish/consume (and drain): every acknowledged message delivered; duplicates and per-producer reordering counted",
  modes: MODES,
  check: checkQueue,
};
