/**
 * Strict order: the fault layer serves requests in the order the recording
 * served them. Each arriving op is matched to its recorded op by signature and
 * occurrence; it waits until every recorded op before it has been served, up
 * to a bound, after which it goes on and the divergence is noted. Once a fault
 * has fired, the run is expected to differ from the recording, and ops pass.
 *
 * @module
 */

import type { BlockBackend, BlockOp } from "../block/backend.ts";
import type { OpRecord } from "../trace/schema.ts";

/** Why strict order let an op through out of order. */
export interface OrderBreak {
  /** The replay's op index. */
  index: number;
  /** What happened: the op is not in the recording, or its predecessors did not come in time. */
  reason: "not-recorded" | "timeout";
  /** The recorded op it was matched to, if any. */
  recorded?: number;
}

/**
 * The order of one recording, shared by every disk's {@link SequencedLayer}.
 *
 * @example
 * ```ts
 * const sequencer = new Sequencer(parent.ordered, { boundMs: 2000 });
 * ```
 */
export class Sequencer {
  private readonly byKey = new Map<string, number[]>();
  private readonly seen = new Map<string, number>();
  private readonly served = new Set<number>();
  private readonly recordedIndices: number[];
  /** Position in `recordedIndices` of the first recorded op not yet served. */
  private cursor = 0;
  private waiting: { recorded: number; wake: () => void }[] = [];
  private released = false;
  /** Ops let through out of order, and why. */
  readonly breaks: OrderBreak[] = [];
  /** Milliseconds ops spent waiting for their turn, in total. */
  waitedMs = 0;

  constructor(recorded: readonly OpRecord[], private readonly options: { boundMs: number }) {
    const ordered = [...recorded].sort((a, b) => a.index - b.index);
    this.recordedIndices = ordered.map((op) => op.index);
    for (const op of ordered) {
      const key = signatureKey(op.node, op.disk, op.op, op.offset, op.length);
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, list = []);
      list.push(op.index);
    }
  }

  /** Stops holding ops: after a fault fired, the run is meant to differ. */
  release(): void {
    this.released = true;
    for (const { wake } of this.waiting.splice(0)) wake();
  }

  /** Waits for this op's turn in the recorded order. */
  async admit(index: number, node: string, disk: string, op: BlockOp): Promise<void> {
    if (this.released) return;
    const key = signatureKey(node, disk, op.type, op.offset, op.length);
    const occurrence = this.seen.get(key) ?? 0;
    this.seen.set(key, occurrence + 1);
    const recorded = this.byKey.get(key)?.[occurrence];
    if (recorded === undefined) {
      this.breaks.push({ index, reason: "not-recorded" });
      return;
    }
    if (!this.isTurn(recorded)) {
      const started = performance.now();
      const timedOut = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting = this.waiting.filter((w) => w.recorded !== recorded);
          resolve(true);
        }, this.options.boundMs);
        this.waiting.push({
          recorded,
          wake: () => {
            clearTimeout(timer);
            resolve(false);
          },
        });
      });
      this.waitedMs += performance.now() - started;
      if (timedOut && !this.released) {
        this.breaks.push({ index, reason: "timeout", recorded });
        // The recorded ops it waited for are given up: the ops after them need not wait too.
        for (const earlier of this.recordedIndices) {
          if (earlier >= recorded) break;
          this.served.add(earlier);
        }
      }
    }
    this.markServed(recorded);
  }

  private isTurn(recorded: number): boolean {
    return this.recordedIndices[this.cursor] === undefined ||
      this.recordedIndices[this.cursor] >= recorded;
  }

  private markServed(recorded: number): void {
    this.served.add(recorded);
    while (
      this.cursor < this.recordedIndices.length &&
      this.served.has(this.recordedIndices[this.cursor])
    ) {
      this.cursor++;
    }
    for (const waiter of [...this.waiting]) {
      if (this.isTurn(waiter.recorded)) {
        this.waiting = this.waiting.filter((w) => w !== waiter);
        waiter.wake();
      }
    }
  }
}

function signatureKey(
  node: string,
  disk: string,
  type: string,
  offset: number,
  length: number,
): string {
  return `${node}\u0000${disk}\u0000${type}\u0000${offset}\u0000${length}`;
}

/**
 * One disk's view of a {@link Sequencer}: the outermost layer, so that ops
 * reach the fault decision in the recorded order.
 *
 * @example
 * ```ts
 * const disk = new SequencedLayer(recordingLayer, sequencer, { node: "app", disk: "data" });
 * ```
 */
export class SequencedLayer implements BlockBackend {
  constructor(
    private readonly next: BlockBackend,
    private readonly sequencer: Sequencer,
    private readonly where: { node: string; disk: string },
  ) {}

  get size(): number {
    return this.next.size;
  }

  async execute(op: BlockOp): Promise<Uint8Array | undefined> {
    await this.sequencer.admit(op.index, this.where.node, this.where.disk, op);
    return await this.next.execute(op);
  }

  close(): Promise<void> {
    return this.next.close();
  }
}
