/**
 * When each copy of a frame leaves the switch: the timing half of the link faults,
 * kept apart from the decision (src/net/link_plan.ts), which is pure. Every directed
 * link has a queue in due order:
 *
 * - a delay makes a copy due later, but never before the copy ahead of it on the same
 *   link: delays (jitter included) keep a link's order;
 * - a bandwidth limit serialises the link: a copy is due when the copies ahead of it
 *   have had their time on the wire (length / rate), after its delay;
 * - a duplicated copy goes twice, back to back;
 * - a reordered copy is held aside until the next copy of its link has been sent, or
 *   its hold time passes, so exactly one copy overtakes it.
 *
 * A copy due now on a link with nothing queued goes at once, without a timer.
 *
 * @module
 */

import type { Delivery } from "./link_plan.ts";

/** Sends bytes to a node (the switch's port writer). */
export type SendFunction = (to: string, bytes: Uint8Array) => void;

interface Held {
  to: string;
  bytes: Uint8Array;
  copies: number;
  timer: ReturnType<typeof setTimeout>;
}

interface LinkQueue {
  /** Copies waiting, in due order. */
  items: { due: number; to: string; bytes: Uint8Array }[];
  /** Due time of the last copy queued: no later copy goes before it. */
  lastDue: number;
  /** When the link's bandwidth is free again. */
  busyUntil: number;
  held: Held | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Per-link queues and timers.
 *
 * @example
 * ```ts
 * const scheduler = new LinkScheduler((to, bytes) => ports.get(to)!.write(bytes));
 * scheduler.schedule("a->b", "b", wire, { drop: false, delayMs: 100, duplicate: false });
 * scheduler.close();
 * ```
 */
export class LinkScheduler {
  private readonly links = new Map<string, LinkQueue>();
  private closed = false;

  /** Makes a scheduler that sends with `send` and reads time from `now` (performance.now by default). */
  constructor(
    private readonly send: SendFunction,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Copies queued or held on every link. */
  get pending(): number {
    let n = 0;
    for (const q of this.links.values()) n += q.items.length + (q.held ? q.held.copies : 0);
    return n;
  }

  /**
   * Sends `bytes` to `to` over `link` as `delivery` says (a dropped copy is not sent).
   *
   * @example
   * ```ts
   * scheduler.schedule("a->b", "b", wire, { drop: false, delayMs: 0, duplicate: true });
   * ```
   */
  schedule(link: string, to: string, bytes: Uint8Array, delivery: Delivery): void {
    if (delivery.drop || this.closed) return;
    const now = this.now();
    let q = this.links.get(link);
    if (!q) {
      q = { items: [], lastDue: -Infinity, busyUntil: -Infinity, held: null, timer: null };
      this.links.set(link, q);
    }
    const copies = delivery.duplicate ? 2 : 1;
    if (delivery.holdMs !== undefined && q.held === null) {
      const queue = q;
      q.held = {
        to,
        bytes,
        copies,
        timer: setTimeout(() => this.release(queue), delivery.holdMs),
      };
      return;
    }
    let due = now + delivery.delayMs;
    if (delivery.bytesPerSecond !== undefined) {
      const start = Math.max(due, q.busyUntil);
      q.busyUntil = start + (bytes.length * copies * 1000) / delivery.bytesPerSecond;
      due = q.busyUntil;
    }
    this.enqueue(q, to, bytes, copies, due, now);
    if (q.held) this.release(q);
  }

  /** Stops every timer and forgets what is queued. */
  close(): void {
    this.closed = true;
    for (const q of this.links.values()) {
      if (q.timer) clearTimeout(q.timer);
      if (q.held) clearTimeout(q.held.timer);
    }
    this.links.clear();
  }

  /** Forgets what is queued for a node (its port went away). */
  forget(node: string): void {
    for (const q of this.links.values()) {
      q.items = q.items.filter((item) => item.to !== node);
      if (q.held?.to === node) {
        clearTimeout(q.held.timer);
        q.held = null;
      }
    }
  }

  /** Lets a held copy go, after whatever is queued on its link. */
  private release(q: LinkQueue): void {
    const held = q.held;
    if (!held || this.closed) return;
    clearTimeout(held.timer);
    q.held = null;
    const now = this.now();
    this.enqueue(q, held.to, held.bytes, held.copies, now, now);
  }

  /** Queues copies due at `wanted` (never before the link's last), or sends them at once when due with nothing ahead. */
  private enqueue(
    q: LinkQueue,
    to: string,
    bytes: Uint8Array,
    copies: number,
    wanted: number,
    now: number,
  ): void {
    const due = Math.max(wanted, q.lastDue);
    q.lastDue = due;
    if (due <= now && q.items.length === 0) {
      for (let i = 0; i < copies; i++) this.send(to, bytes);
      return;
    }
    for (let i = 0; i < copies; i++) q.items.push({ due, to, bytes });
    this.arm(q, now);
  }

  /** Sets the link's timer for its first queued copy. */
  private arm(q: LinkQueue, now: number): void {
    if (q.timer || q.items.length === 0) return;
    q.timer = setTimeout(() => {
      q.timer = null;
      this.flush(q);
    }, Math.max(0, q.items[0].due - now));
  }

  /** Sends the copies that are due, then sets the timer for the rest. */
  private flush(q: LinkQueue): void {
    if (this.closed) return;
    const now = this.now();
    let n = 0;
    while (n < q.items.length && q.items[n].due <= now) {
      this.send(q.items[n].to, q.items[n].bytes);
      n++;
    }
    q.items.splice(0, n);
    this.arm(q, now);
  }
}
