/**
 * The network subsystem's errors, under one root, {@link NetError}, so callers
 * can tell the switch's failures from everything else.
 *
 * @module
 */

import { FaultlineError } from "../util/errors.ts";

/** Root of every error the network subsystem raises: the machinery. */
export class NetError extends FaultlineError {}

/**
 * A peer broke the stream framing (a length of zero, or over the limit): only
 * its connection is closed. `offset` is where in the stream the bad length began.
 *
 * @example
 * ```ts
 * new FrameStreamError("a frame of 0 bytes", 128).offset; // 128
 * ```
 */
export class FrameStreamError extends NetError {
  /** Makes the error; `offset` is where the bad length began in the stream. */
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/**
 * A node's QEMU never connected to its port of the switch (so the guest would run
 * without a network and without an error). Names the node.
 *
 * @example
 * ```ts
 * new NodeNotConnectedError("db2", "within 5000 ms").node; // "db2"
 * ```
 */
export class NodeNotConnectedError extends NetError {
  /** Makes the error; `detail` says where or how long it was waited for. */
  constructor(readonly node: string, detail: string) {
    super(`node ${node} never connected to the switch ${detail}`);
  }
}
