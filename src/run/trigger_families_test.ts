import assert from "node:assert/strict";
import { decide, initialState } from "../fault/plan.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { type Arrival, dueAt, NOT_STARTED, type OpView } from "../fault/trigger.ts";
import type { FrameView } from "../net/frame.ts";
import {
  arriveOp,
  compileLinkPlan,
  decideFrame,
  frameFacts,
  initialLinkState,
  type LinkFrame,
} from "../net/link_plan.ts";
import { decideNodeFaults, nodeRulesOf } from "./node_faults.ts";

// One stream of arrivals on the run's clock: ops of node a's disk and frames between a and b.
const TCP: FrameView = {
  length: 66,
  dst: "02:66:6c:00:00:01",
  src: "02:66:6c:00:00:00",
  group: false,
  broadcast: false,
  ethertype: 0x0800,
  ipv4: {
    protocol: 6,
    src: "192.0.2.10",
    dst: "192.0.2.11",
    ttl: 64,
    totalLength: 52,
    srcPort: 40000,
    dstPort: 2379,
    tcpFlags: 0x10,
  },
};
/** An op, or a frame as the switch sees it. */
type Item = { op: OpView } | { frame: LinkFrame };
const op = (index: number, type: OpView["type"], time: number): Item => ({
  op: { index, node: "a", disk: "a-data", name: "data", type, offset: 0, length: 4096, time },
});
const frame = (index: number, from: string, to: string, time: number): Item => ({
  frame: { index, time, from, to: [to], view: TCP },
});
const STREAM: Item[] = [
  op(0, "write", 0),
  frame(1, "a", "b", 5),
  op(2, "read", 10),
  op(3, "write", 15),
  frame(4, "b", "a", 20),
  op(5, "flush", 25),
  frame(6, "a", "b", 30),
  op(7, "write", 35),
  frame(8, "a", "b", 40),
  op(9, "write", 45),
];
const indexOf = (item: Item) => "op" in item ? item.op.index : item.frame.index;

/** Where a block rule (`fail`, persistent) comes into force, if it does. */
function blockFires(trigger: string): number | null {
  const plan = { seed: 1, rules: [parseFaultSpec(`fail@${trigger}`)] };
  let state = initialState(plan);
  for (const item of STREAM) {
    if (!("op" in item)) continue;
    state = decide(plan, state, item.op).state;
    if (state.fired[0]) return item.op.index;
  }
  return null;
}

/** Where a link rule (`isolate:b`, persistent) comes into force, if it does. */
function linkFires(trigger: string): number | null {
  const rules = [parseFaultSpec(`isolate:b@${trigger}`)];
  const plan = compileLinkPlan({ seed: 1, rules }, ["a", "b"]);
  let state = initialLinkState(plan);
  for (const item of STREAM) {
    const step = "op" in item
      ? arriveOp(plan, state, item.op)
      : decideFrame(plan, state, item.frame);
    state = step.state;
    if (step.fired.length > 0) return indexOf(item);
  }
  return null;
}

/** Where a node rule (`crash:b`) fires, if it does; a time trigger is a timer, due then. */
function nodeFires(trigger: string): number | string | null {
  const rules = nodeRulesOf({ seed: 1, rules: [parseFaultSpec(`crash:b@${trigger}`)] });
  const due = dueAt(rules[0].trigger);
  if (due !== undefined) return `due at ${due} ms`;
  let state = rules.map(() => NOT_STARTED);
  for (const item of STREAM) {
    const arrival: Arrival = "op" in item
      ? { kind: "op", op: item.op }
      : { kind: "frame", frame: frameFacts(item.frame) };
    const step = decideNodeFaults(rules, state, arrival);
    state = [...step.state];
    if (step.fired.length > 0) return indexOf(item);
  }
  return null;
}

Deno.test("one trigger engine: @N, #K, @+D and frame filters fire at the same point in every family", () => {
  const table: [string, number | null, number | null, number | string | null][] = [
    // trigger             block  link  node
    ["5", 5, 5, 5], // op 5: the op itself (a link fault takes effect from the next frame)
    ["6", null, 6, 6], // frame 6: no block op there, so a block fault never fires
    ["11", null, null, null], // past the stream: never fired, in every family
    ["write#2", 3, 3, 3],
    ["data/write", 0, 0, 0], // no occurrence: the first match brings a persistent kind into force
    ["a/data/flush#1", 5, 5, 5],
    ["+30ms", 7, 6, "due at 30 ms"], // from 30 ms on: the first arrival each family sees
    ["net:a->b#2", null, 6, 6], // frames: link and node faults only (below: the parser refuses eio)
  ];
  for (const [trigger, block, link, node] of table) {
    if (block !== null || !trigger.startsWith("net")) {
      assert.equal(blockFires(trigger), block, `block @${trigger}`);
    }
    assert.equal(linkFires(trigger), link, `link @${trigger}`);
    assert.equal(nodeFires(trigger), node, `node @${trigger}`);
  }
  assert.throws(() => parseFaultSpec("fail@net:a->b#2"), /a frame filter .* link faults/);
});
