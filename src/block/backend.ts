/**
 * The one small interface every block layer implements: the store at the
 * bottom, the fault layer and the recorder wrapped around it, the way nbdkit
 * filters wrap a plugin. Each layer either handles an op or passes it to `next`.
 *
 * @module
 */

import type { Errno } from "./errno.ts";
import { FaultlineError } from "../util/errors.ts";

/** The operations a disk serves, by their trace names. */
export const OP_TYPES = ["read", "write", "flush", "trim", "write-zeroes", "cache"] as const;

/** One of {@link OP_TYPES}. */
export type OpType = typeof OP_TYPES[number];

/** Tells whether an op type changes the disk's contents (and so can be volatile). */
export function isWriteLike(type: OpType): boolean {
  return type === "write" || type === "trim" || type === "write-zeroes";
}

/** What a fault layer did to an op, kept on the op so the recorder can trace it. */
export interface AppliedFault {
  /** The fault kind, as in the fault spec (`eio`, `delay`, `lost-write`, ...). */
  kind: string;
  /** Which rule of the plan fired (its spec text, or `live` for the control socket). */
  rule: string;
  /** Kind-specific facts: the delay in ms, the bytes a torn write kept, the bits flipped. */
  detail?: Record<string, number | string | number[]>;
  /** Bytes of the write that reached the store, when fewer than its length (0: none). */
  stored?: number;
  /** A flush or FUA write that made nothing durable (the disk lied). */
  undurable?: true;
}

/** One block operation as it travels down the layers. */
export interface BlockOp {
  /** Position in the arrival order of the whole run (all disks), from 0. */
  readonly index: number;
  /** The export (disk) the op is for. */
  readonly disk: string;
  /** What the op does. */
  readonly type: OpType;
  /** Where it starts, in bytes. */
  readonly offset: number;
  /** How many bytes it covers. */
  readonly length: number;
  /** The client asked for the op to be durable before its reply (`NBD_CMD_FLAG_FUA`). */
  readonly fua: boolean;
  /** Write-zeroes must not leave a hole (`NBD_CMD_FLAG_NO_HOLE`). */
  readonly noHole: boolean;
  /** Milliseconds since the run started, when the op arrived. */
  readonly arrivedAt: number;
  /**
   * A write's payload. A fault layer may replace it (corrupt) or shorten what
   * is stored (torn); what is here when the op completes is what was stored.
   */
  data?: Uint8Array;
  /** Set by a fault layer when it injected something into this op. */
  fault?: AppliedFault;
  /**
   * Where a write's payload is kept in the run's {@link ByteLog} (the trace,
   * set by the recorder on the fast lane): a store may keep this position
   * instead of a copy of the bytes.
   */
  logPosition?: number;
}

/**
 * Bytes kept once and read back by position: the trace file as the recorder
 * writes it, payloads included.
 *
 * @example
 * ```ts
 * const block = new Uint8Array(4096);
 * log.readAt(op.logPosition!, block, 0, 4096);
 * ```
 */
export interface ByteLog {
  /** Copies `length` bytes at `position` into `into` at `at`. */
  readAt(position: number, into: Uint8Array, at: number, length: number): void;
}

/** An op failed with an errno; `message` says why, for people. */
export class BlockError extends FaultlineError {
  /** Makes the error: `errno` goes to the client, `message` to people. */
  constructor(readonly errno: Errno, message: string) {
    super(message);
  }
}

/**
 * A disk, or a layer over one.
 *
 * @example
 * ```ts
 * class Passthrough implements BlockBackend {
 *   constructor(private next: BlockBackend) {}
 *   get size() { return this.next.size; }
 *   execute(op: BlockOp) { return this.next.execute(op); }
 *   close() { return this.next.close(); }
 * }
 * ```
 */
export interface BlockBackend {
  /** Size in bytes. */
  readonly size: number;
  /**
   * Executes one op: resolves with the bytes of a read, with nothing for any
   * other op, or rejects with a {@link BlockError}. Bounds are checked before.
   */
  execute(op: BlockOp): Promise<Uint8Array | undefined>;
  /**
   * Serves the op at once, when this layer and every layer under it can do so
   * without waiting: the request path's fast lane, with no promise and no
   * buffer per op. A read's bytes go into `into` at `at` (the reply being
   * built); a write's `op.data` may be a view that is reused once this call
   * returns, so a layer that keeps the bytes copies them. Returns true when the
   * op was served, throws a {@link BlockError} when it failed, and returns
   * false, having done nothing, when the op must go through {@link execute}
   * (a fault to decide, a layer that waits). Optional: without it, every op
   * goes through {@link execute}.
   */
  executeNow?(op: BlockOp, into: Uint8Array, at: number): boolean;
  /** Releases files; the backend serves nothing afterwards. */
  close(): Promise<void>;
}

const NO_REPLY = new Uint8Array(0);

/**
 * `execute` for a store that always serves at once: the op through
 * `executeNow`, a read into a buffer of its own, a failure as a rejection.
 */
export function executeAtOnce(
  store: { executeNow(op: BlockOp, into: Uint8Array, at: number): boolean },
  op: BlockOp,
): Promise<Uint8Array | undefined> {
  try {
    if (op.type === "read") {
      const out = new Uint8Array(op.length);
      store.executeNow(op, out, 0);
      return Promise.resolve(out);
    }
    store.executeNow(op, NO_REPLY, 0);
    return Promise.resolve(undefined);
  } catch (error) {
    return Promise.reject(error);
  }
}
