import assert from "node:assert/strict";
import type { ParentTrace } from "../replay/replay.ts";
import type { GuestLine } from "../trace/load.ts";
import type { FrameRecord, OpRecord } from "../trace/schema.ts";
import { parsePoints } from "../scenario/points.ts";
import { pointMessage } from "./result.ts";
import { sweepStates } from "./plan.ts";
import { faultContext } from "./point_outcome.ts";
import { SweepError } from "./errors.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { fakeParentTrace } from "../../tests/support/traces.ts";

/** A hand-made trace: each op completes before the next arrives. */
function records(...ops: [OpRecord["op"], number?, number?, string?][]): OpRecord[] {
  return ops.map(([op, offset = 0, length = 0, step], index) =>
    opRecord({
      index,
      op,
      offset,
      length,
      ...(op === "write" ? { data: new Uint8Array(length).fill(index + 1) } : {}),
      phase: "run",
      ...(step ? { step } : {}),
    })
  );
}

function parentOf(ops: OpRecord[], lines: GuestLine[] = []): ParentTrace {
  return fakeParentTrace({
    records: ops,
    lines,
    name: "hand",
    path: "hand.trace",
    header: { seed: 11 },
  });
}

// Flush 3 covers writes 0-2; writes 4, 5, 6 and 8 are volatile at flush 9, and write 6
// rewrites write 4's bytes; flush 9 covers them all before flush 11.
const ops = records(
  ["write", 0, 4096, "setup"],
  ["write", 4096, 4096, "setup"],
  ["write", 8192, 4096, "setup"],
  ["flush", 0, 0, "setup"],
  ["write", 12288, 512, "commit 1"],
  ["write", 16384, 512, "commit 1"],
  ["write", 12288, 512, "commit 1"],
  ["read", 0, 512, "commit 1"],
  ["write", 20480, 512, "commit 1"],
  ["flush", 0, 0, "commit 1"],
  ["write", 24576, 512, "commit 2"],
  ["flush", 0, 0, "commit 2"],
);
const parent = parentOf(ops);
const at = (from: number, to: number) => ({ kind: "range" as const, from, to });

Deno.test("each at a point with V volatile writes checks at most V states, byte-identical ones once", () => {
  const plan = sweepStates(parent, { fault: "power-loss:each", points: at(9, 9) });
  assert.deepEqual(plan.points, [{
    at: 9,
    volatile: 4,
    total: 4,
    sampled: false,
    states: ["4", "5", "6", "8"],
    // Dropping write 4 alone leaves the bytes of keeping everything (write 6 rewrote it), a
    // state none of the others is.
    servedBy: ["9:4", "9:5", "9:6", "9:8"],
  }]);
  assert.equal(plan.distinct, 4);
  // Over flushes: point 3 has writes 0-2 volatile, point 11 write 10 alone.
  const flushes = sweepStates(parent, { fault: "power-loss:each", points: { kind: "flushes" } });
  assert.deepEqual(flushes.points.map((p) => p.states), [
    ["0", "1", "2"],
    ["4", "5", "6", "8"],
    ["10"],
  ]);
  assert.ok(flushes.points.every((p) => p.states.length <= Math.max(1, p.volatile)));
});

Deno.test("all,max=B checks every subset (2^V) once; byte-identical subsets share a check", () => {
  const plan = sweepStates(parent, { fault: "power-loss:all", points: at(9, 9) });
  const [point] = plan.points;
  assert.equal(point.states.length, 16);
  assert.equal(point.total, 16);
  // Write 4 matters only when write 6 is dropped: 16 subsets, 12 distinct crash states.
  assert.equal(new Set(point.servedBy).size, 12);
  assert.equal(plan.distinct, 12);
  assert.equal(point.servedBy[point.states.indexOf("4")], "9:none");
  const sampled = sweepStates(parent, { fault: "power-loss:all,max=3", points: at(9, 9) });
  assert.equal(sampled.points[0].sampled, true);
  assert.equal(sampled.points[0].states.length, 8);
});

Deno.test("the same crash state at two points is checked once", () => {
  // A cut at op 7 (a read) or at op 8 (before write 8 happens) leaves writes 4, 5 and 6
  // volatile: the two points' states are the same bytes.
  const plan = sweepStates(parent, { fault: "power-loss:each", points: at(7, 8) });
  assert.deepEqual(plan.points.map((p) => p.states), [["4", "5", "6"], ["4", "5", "6"]]);
  assert.deepEqual(plan.points[1].servedBy, ["7:4", "7:5", "7:6"]);
  assert.equal(plan.distinct, 3);
  // One state a point: the drop variant's points group as before.
  const drop = sweepStates(parent, { fault: "power-loss", points: at(7, 8) });
  assert.deepEqual(drop.points.map((p) => p.servedBy), [["7"], ["7"]]);
});

Deno.test("a lying disk (--with lie-flush) leaves the writes since the lie volatile at every flush", () => {
  const honest = sweepStates(parent, { fault: "power-loss:each", points: at(11, 11) });
  assert.deepEqual(honest.points[0].states, ["10"]);
  const lying = sweepStates(parent, {
    fault: "power-loss:each",
    points: at(11, 11),
    with: ["lie-flush"],
  });
  assert.deepEqual(lying.points[0].states, ["0", "1", "2", "4", "5", "6", "8", "10"]);
  assert.throws(
    () => sweepStates(parent, { fault: "eio", points: at(1, 1), with: ["power-loss"] }),
    SweepError,
  );
});

Deno.test("a point says in which step its fault hit and after which acknowledgement", () => {
  const lines: GuestLine[] = [
    { node: "app", phase: "run", kind: "ack", args: ["1"], at: 10 },
    { node: "app", phase: "run", kind: "ack", args: ["2"], at: 12 },
  ];
  assert.equal(
    faultContext("power loss", ops[11], lines),
    "power loss during step 'commit 2', after ack 1",
  );
  assert.equal(
    faultContext("eio", ops[4], lines),
    "eio during step 'commit 1', before the first ack",
  );
  assert.equal(
    faultContext("power loss", { ...ops[4], step: undefined }, lines),
    "power loss at op 4, before the first ack",
  );
  assert.equal(
    pointMessage({
      where: "power loss during step 'commit 2', after ack 1",
      verdict: { pass: false, reason: "1 acknowledged key lost (2): acked 2, found 1" },
    }),
    "power loss during step 'commit 2', after ack 1: 1 acknowledged key lost (2): acked 2, found 1",
  );
});

Deno.test("sweepStates: shards split the points, byte-identical crash states in one shard", () => {
  const parent = parentOf(ops);
  const whole = sweepStates(parent, { fault: "power-loss", points: { kind: "all" } });
  const shards = [1, 2, 3].map((index) =>
    sweepStates(parent, {
      fault: "power-loss",
      points: { kind: "all" },
      shard: { index, count: 3 },
    })
  );
  const all = shards.flatMap((shard) => shard.points.map((p) => p.at)).sort((a, b) => a - b);
  assert.deepEqual(all, whole.points.map((p) => p.at), "every point in exactly one shard");
  assert.equal(
    shards.reduce((sum, shard) => sum + shard.distinct, 0),
    whole.distinct,
    "each distinct crash state checked once over all shards",
  );
  for (const shard of shards) {
    const mine = new Set(shard.points.map((p) => String(p.at)));
    for (const p of shard.points) for (const served of p.servedBy) assert.ok(mine.has(served));
  }
});

/** A frame of the hand-made cluster: n1 replicating to n2 over TCP port 5432, or n2's ack back. */
function frame(index: number, from: "n1" | "n2"): FrameRecord {
  return {
    record: "frame",
    index,
    time: index,
    from,
    to: [from === "n1" ? "n2" : "n1"],
    length: 60,
    dst: "02:66:6c:00:00:01",
    src: "02:66:6c:00:00:00",
    ethertype: 0x0800,
    proto: 6,
    srcIp: "192.0.2.11",
    dstIp: "192.0.2.12",
    srcPort: from === "n1" ? 5432 : 40000,
    dstPort: from === "n1" ? 40000 : 5432,
    tcpFlags: "psh,ack",
    hash: "0".repeat(16),
    phase: "run",
  };
}

// n1 commits (write 0, flush 1), replicates it in frame 2, n2 acks in frame 3; then a FUA
// write 4 that completes only after frame 5 (replicating it) arrived, and flush 6.
const cluster = fakeParentTrace({
  name: "cluster",
  path: "cluster.trace",
  header: { seed: 3 },
  records: [
    opRecord({ index: 0, node: "n1", offset: 0, data: new Uint8Array(512).fill(1), phase: "run" }),
    opRecord({ index: 1, node: "n1", op: "flush", phase: "run" }),
    opRecord({
      index: 4,
      node: "n1",
      offset: 512,
      data: new Uint8Array(512).fill(2),
      fua: true,
      done: 6,
      phase: "run",
    }),
    opRecord({ index: 6, node: "n1", op: "flush", phase: "run" }),
    opRecord({ index: 7, node: "n2", offset: 0, data: new Uint8Array(512).fill(3), phase: "run" }),
  ],
  frames: [frame(2, "n1"), frame(3, "n2"), frame(5, "n1")],
});

Deno.test("a power loss may be put at a frame: the crash state of the moment it arrived", () => {
  const plan = sweepStates(cluster, {
    fault: "power-loss",
    points: parsePoints("flushes:n1/data,frames:n1->n2/tcp:5432"),
  });
  assert.deepEqual(plan.points.map((p) => p.at), [1, 2, 5, 6]);
  // At flush 1's arrival write 0 is volatile (dropped); at frame 2 flush 1 has made it
  // durable; at frame 5 the FUA write 4 is still in flight, so frame 5 is frame 2's state;
  // at flush 6 write 4 has completed, durable: a state of its own.
  assert.deepEqual(plan.points.map((p) => p.servedBy), [["1"], ["2"], ["2"], ["6"]]);
  assert.equal(plan.distinct, 3);
});

Deno.test("a point at a frame is taken by the kinds that can be put there, and refused by a block kind", () => {
  const points = parsePoints("2,3,4..5");
  assert.deepEqual(sweepStates(cluster, { fault: "crash:n2", points }).points.map((p) => p.at), [
    2,
    3,
    4,
    5,
  ]);
  assert.deepEqual(
    sweepStates(cluster, { fault: "partition:n1|n2", points }).points.map((p) => p.at),
    [2, 3, 4, 5],
  );
  assert.deepEqual(sweepStates(cluster, { fault: "eio", points }).points.map((p) => p.at), [4]);
  assert.throws(
    () => sweepStates(cluster, { fault: "eio", points: parsePoints("frames") }),
    (e: unknown) =>
      e instanceof SweepError &&
      /the selection picks no op or frame of the trace that eio can be put at/.test(e.message),
  );
  assert.equal(
    faultContext("crash", { record: "frame", index: 2, node: "n1" }, []),
    "crash at frame 2, before the first ack",
  );
});

Deno.test("a clock skew is set at a node's boot: it has no points to sweep, and is kept in force with --with", () => {
  assert.throws(
    () => sweepStates(cluster, { fault: "clock-skew:n2,+5s", points: parsePoints("2,3") }),
    (e: unknown) =>
      e instanceof SweepError &&
      /--fault clock-skew:n2,\+5s: clock-skew is set when its node boots, and has no points; keep it in force with --with/
        .test(e.message),
  );
  const plan = sweepStates(cluster, {
    fault: "clock-jump:n2,-30s",
    points: parsePoints("2,3"),
    with: ["clock-skew:n2,+5s"],
  });
  assert.deepEqual(plan.points.map((p) => p.at), [2, 3]);
});
