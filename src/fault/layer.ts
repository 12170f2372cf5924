/**
 * The fault layer: a block backend over another that asks the engine what to
 * do with each op, then injects it or passes the op on, the way nbdkit's error
 * filter wraps a plugin.
 *
 * @module
 */

import { type BlockBackend, BlockError, type BlockOp } from "../block/backend.ts";
import type { FaultEngine } from "./engine.ts";
import type { Decision, OpView } from "./plan.ts";

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
    private readonly options: { node?: string; name?: string } = {},
  ) {}

  get size(): number {
    return this.next.size;
  }

  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    if (this.engine.frozen) return this.engine.holdForever().then(() => undefined);
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
    let corruptRead: number[] | null = null;
    for (const decision of decisions) {
      const { action } = decision;
      op.fault = {
        kind: decision.fault,
        rule: decision.rule,
        ...(detailOf(decision) ? { detail: detailOf(decision) } : {}),
      };
      this.engine.report(view, decision);
      switch (action.kind) {
        case "hang":
          await this.engine.hold(op.disk, action.untilMs);
          break;
        case "delay":
          await this.engine.sleep(action.durationMs);
          break;
        case "limp": {
          const queued = action.bytesPerSecond
            ? this.engine.bandwidthWait(op.disk, op.length, action.bytesPerSecond)
            : 0;
          await this.engine.sleep(action.latencyMs + queued);
          break;
        }
        case "error":
          throw new BlockError(
            action.errno,
            `faultline injected ${action.errno} (${decision.rule})`,
          );
        case "lost-write":
          return undefined;
        case "torn-write":
          if (action.keepBytes === 0) return undefined;
          op.data = op.data?.subarray(0, action.keepBytes);
          break;
        case "corrupt":
          if (action.direction === "write" && op.data) {
            op.data = flipBits(op.data, action.bitPositions);
          } else corruptRead = action.bitPositions;
          break;
        case "power-loss":
          this.engine.cutPower(op.index);
          await this.engine.holdForever();
          return undefined;
      }
      // The power may have been cut while this op waited: then it never reaches the store.
      if (this.engine.frozen) {
        await this.engine.holdForever();
        return undefined;
      }
    }
    const result = await this.next.execute(op);
    return corruptRead && result ? flipBits(result, corruptRead) : result;
  }
}

/** The facts of an action worth keeping in the trace. */
function detailOf(decision: Decision): Record<string, number | number[]> | undefined {
  const { action } = decision;
  switch (action.kind) {
    case "hang":
      return action.untilMs === undefined ? undefined : { untilMs: action.untilMs };
    case "delay":
      return { durationMs: action.durationMs };
    case "limp":
      return action.bytesPerSecond === undefined
        ? { latencyMs: action.latencyMs }
        : { latencyMs: action.latencyMs, bytesPerSecond: action.bytesPerSecond };
    case "torn-write":
      return { keepBytes: action.keepBytes };
    case "corrupt":
      return { bits: action.bitPositions };
    default:
      return undefined;
  }
}

/** A copy of `bytes` with the given bits flipped (bit 0 is the top bit of byte 0). */
export function flipBits(bytes: Uint8Array, positions: readonly number[]): Uint8Array {
  const copy = bytes.slice();
  for (const position of positions) copy[position >> 3] ^= 0x80 >> (position & 7);
  return copy;
}
