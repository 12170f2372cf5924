/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A worker that stands in for a node's QEMU on the switch: it connects to the node's
 * socket and either sends `count` frames as fast as the socket takes them, or counts
 * the frames it receives until `count` arrived (or `idleMs` passed without one).
 *
 * @module
 */

import { encodeStreamFrame, FrameSplitter } from "../src/net/stream_framing.ts";

interface Job {
  role: "send" | "receive";
  socket: string;
  count: number;
  /** send: the frame to send, over and over (its byte 14 onwards carries a counter). */
  frame?: Uint8Array;
  /** Frames per socket write. */
  batch?: number;
  idleMs?: number;
}

self.onmessage = async (event: MessageEvent<Job>) => {
  const job = event.data;
  const conn = await Deno.connect({ transport: "unix", path: job.socket });
  self.postMessage({ ready: true });
  if (job.role === "send") {
    const wire = encodeStreamFrame(job.frame!);
    const batch = job.batch ?? 64;
    const chunk = new Uint8Array(wire.length * batch);
    for (let i = 0; i < batch; i++) chunk.set(wire, i * wire.length);
    const started = performance.now();
    let sent = 0;
    while (sent < job.count) {
      const n = Math.min(batch, job.count - sent);
      const bytes = chunk.subarray(0, n * wire.length);
      for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
      sent += n;
    }
    self.postMessage({ sent, ms: performance.now() - started });
    // Keep the connection open until told: closing it would end the node's port.
    return;
  }
  const splitter = new FrameSplitter();
  const buffer = new Uint8Array(1 << 20);
  let received = 0;
  let first = 0;
  let last = 0;
  const idle = job.idleMs ?? 2000;
  while (received < job.count) {
    const timer = setTimeout(() => conn.close(), idle);
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      break;
    } finally {
      clearTimeout(timer);
    }
    if (n === null) break;
    const frames = splitter.push(buffer.subarray(0, n)).length;
    if (frames > 0 && received === 0) first = performance.now();
    received += frames;
    last = performance.now();
  }
  self.postMessage({ received, ms: last - first });
};
