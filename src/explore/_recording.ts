/**
 * Made-up recordings for the explore unit tests: a node or three, a disk each, writes and
 * flushes, and TCP frames between the nodes. Not a trace any run made; enough to draw from.
 *
 * @module
 */

import type { FrameRecord, OpRecord } from "../trace/schema.ts";
import type { Recording } from "./draw.ts";

/**
 * A recording of `nodes` with `opsPerNode` ops each (writes, every fourth a flush) and,
 * with two nodes or more, a TCP frame between neighbours after each round of ops.
 *
 * @example
 * ```ts
 * madeUpRecording(["n1"], 8).ops.length; // 8
 * ```
 */
export function madeUpRecording(nodes: readonly string[], opsPerNode: number): Recording {
  const ops: OpRecord[] = [];
  const frames: FrameRecord[] = [];
  let index = 0;
  for (let round = 0; round < opsPerNode; round++) {
    for (const node of nodes) {
      const flush = round % 4 === 3;
      ops.push({
        record: "op",
        index,
        done: index + 1,
        node,
        disk: "data",
        op: flush ? "flush" : "write",
        offset: flush ? 0 : (round % 3) * 4096,
        length: flush ? 0 : 4096,
        start: index,
        end: index + 1,
        result: "ok",
        phase: "run",
      });
      index++;
    }
    if (nodes.length > 1) {
      const from = nodes[round % nodes.length];
      const to = nodes[(round + 1) % nodes.length];
      frames.push({
        record: "frame",
        index,
        time: index,
        from,
        to: [to],
        length: 80,
        dst: "52:54:00:00:00:02",
        src: "52:54:00:00:00:01",
        ethertype: 0x0800,
        proto: 6,
        srcPort: 40000 + round,
        dstPort: 2379,
        tcpFlags: "psh,ack",
        hash: "0000000000000000",
        phase: "run",
      });
      index++;
    }
  }
  return {
    nodes,
    ops,
    frames,
    disks: nodes.map((node) => ({ node, name: "data", size: 1 << 20 })),
  };
}
