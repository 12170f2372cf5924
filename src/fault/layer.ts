/**
 * The fault layer: a block backend over another that asks the engine what to
 * do with each op, then injects it or passes the op on, the way nbdkit's error
 * filter wraps a plugin.
 *
 * @module
 */

import { type BlockBackend, BlockError, type BlockOp } from "../block/backend.ts";
import type { FaultEngine } from "./engine.ts";
import type { Decision } from "./plan.ts";
import type { OpView } from "./trigger.ts";

/**
 * Injects the engine's decisions into one disk's ops.
 *
 * @example
 * ```ts
 * const disk = new FaultLayer(store, engine, { node: "n1" });
 * ```
 */
export class FaultLayer implements BlockBackend {
  constructor(
    private next: BlockBackend,
    private readonly engine: FaultEngine,
    private readonly options: {
      node?: string;
      name?: string;
      /** The run's phase now, for triggers of one phase (`@run:...`). */
      phase?: () => string | undefined;
    } = {},
  ) {}

  get size(): number {
    return this.next.size;
  }

  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    if (this.engine.idle) return this.next.execute(op);
    const view: OpView = {
      index: op.index,
      node: this.options.node,
      disk: op.disk,
      name: this.options.name,
      type: op.type,
      offset: op.offset,
      length: op.length,
      time: op.arrivedAt,
    };
    if (op.fua) view.fua = true;
    const phase = this.options.phase?.();
    if (phase !== undefined) view.phase = phase;
    this.engine.arrive(view);
    if (this.engine.isFrozen(this.options.node)) {
      return this.engine.holdFrozen(this.options.node).then(() => undefined);
    }
    const decisions = this.engine.decide(view);
    if (decisions.length === 0) return this.next.execute(op);
    return this.inject(op, view, decisions);
  }

  /** With nothing to inject (no rule, no live fault, the power on), the op goes straight down. */
  executeNow(op: BlockOp, into: Uint8Array, at: number): boolean {
    if (this.engine.frozen || !this.engine.idle || !this.next.executeNow) return false;
    return this.next.executeNow(op, into, at);
  }

  close(): Promise<void> {
    this.engine.shutdown();
    return this.next.close();
  }

  /**
   * Puts another store under this layer (a crash state, for the check after a
   * power loss) and closes the old one. The size must stay the same.
   */
  async replaceNext(store: BlockBackend): Promise<void> {
    if (store.size !== this.next.size) {
      throw new Error(`a replacement store of ${store.size} bytes for a disk of ${this.next.size}`);
    }
    const old = this.next;
    this.next = store;
    await old.close();
  }

  private async inject(
    op: BlockOp,
    view: OpView,
    decisions: Decision[],
  ): Promise<Uint8Array | undefined> {
    let corruptRead: readonly number[] | null = null;
    let skip = false;
    /** A paced op's reply time (run time): the op is answered then, or when the store is done. */
    let replyAt = 0;
    for (const decision of decisions) {
      const { action } = decision;
      this.engine.report(view, decision);
      // A note is news about the disk, not something done to this op.
      if (action.do === "note") continue;
      op.fault = {
        kind: decision.fault,
        rule: decision.rule,
        ...(decision.detail ? { detail: decision.detail } : {}),
      };
      switch (action.do) {
        case "hold":
          await this.engine.hold(op.disk, action.untilMs);
          break;
        case "wait":
          await this.engine.sleep(action.ms);
          break;
        case "pace": {
          const queued = action.bytesPerSecond
            ? this.engine.bandwidthWait(op.disk, op.length, action.bytesPerSecond)
            : 0;
          // The latency counts from the op's arrival, and the store works meanwhile: what the
          // client sees is the latency drawn.
          replyAt = Math.max(replyAt, op.arrivedAt + action.latencyMs + queued);
          break;
        }
        case "undurable":
          // A flush is acknowledged without flushing; a FUA write is stored like any other.
          op.fault.undurable = true;
          skip = op.type === "flush";
          break;
        case "answer-error":
          throw new BlockError(
            action.errno,
            `faultline injected ${action.errno} (${decision.rule})`,
          );
        case "skip":
          op.fault.stored = 0;
          return undefined;
        case "tear":
          op.fault.stored = action.keepBytes;
          if (action.keepBytes === 0) return undefined;
          op.data = op.data?.subarray(0, action.keepBytes);
          break;
        case "flip":
          if (action.direction === "write" && op.data) {
            op.data = flipBits(op.data, action.bitPositions);
          } else corruptRead = action.bitPositions;
          break;
        case "cut":
          this.engine.cutPower(op.index);
          await this.engine.holdForever();
          return undefined;
      }
      // The power may have been cut while this op waited: then it never reaches the store.
      if (this.engine.isFrozen(this.options.node)) {
        await this.engine.holdFrozen(this.options.node);
        return undefined;
      }
    }
    const stored = skip ? Promise.resolve(undefined) : this.next.execute(op);
    const result = replyAt > 0 ? await this.limp(stored, replyAt) : await stored;
    return corruptRead && result ? flipBits(result, corruptRead) : result;
  }

  /** Answers a paced op at `replyAt`, or when the store is done if that is later. */
  private async limp(
    stored: Promise<Uint8Array | undefined>,
    replyAt: number,
  ): Promise<Uint8Array | undefined> {
    const [outcome] = await Promise.allSettled([
      stored,
      this.engine.sleepPrecisely(replyAt - this.engine.clock.now()),
    ]);
    // The power may have been cut (or the node crashed) while the op limped: then its machine
    // never hears of it.
    if (this.engine.isFrozen(this.options.node)) {
      await this.engine.holdFrozen(this.options.node);
      return undefined;
    }
    if (outcome.status === "rejected") throw outcome.reason;
    return outcome.value;
  }
}

/** A copy of `bytes` with the given bits flipped (bit 0 is the top bit of byte 0). */
function flipBits(bytes: Uint8Array, positions: readonly number[]): Uint8Array {
  const copy = bytes.slice();
  for (const position of positions) copy[position >> 3] ^= 0x80 >> (position & 7);
  return copy;
}
