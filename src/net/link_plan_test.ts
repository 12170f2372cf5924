import assert from "node:assert/strict";
import { parseFaultSpec } from "../fault/spec.ts";
import { FaultSpecError } from "../fault/errors.ts";
import { type FrameView, TCP_FLAGS } from "./frame.ts";
import {
  arriveOp,
  combineDecisions,
  compileLinkPlan,
  decideFrame,
  effectLinks,
  endStandingLinks,
  initialLinkState,
  type LinkDecision,
  type LinkFrame,
  type LinkPlan,
  type LinkPlanState,
  setLiveLinkFault,
} from "./link_plan.ts";

const NODES = ["a", "b", "c"];

function planOf(...specs: string[]): LinkPlan {
  return compileLinkPlan({ seed: 7, rules: specs.map(parseFaultSpec) }, NODES);
}

function tcp(dstPort: number, flags: number = TCP_FLAGS.ack): FrameView {
  return {
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
      dstPort,
      tcpFlags: flags,
    },
  };
}

const ARP: FrameView = {
  length: 60,
  dst: "ff:ff:ff:ff:ff:ff",
  src: "02:66:6c:00:00:00",
  group: true,
  broadcast: true,
  ethertype: 0x0806,
};

function frame(index: number, from: string, to: string[], view = tcp(80), time = index): LinkFrame {
  return { index, time, from, to, view };
}

/** Feeds frames in order; returns each frame's decisions and the final state. */
function feed(plan: LinkPlan, frames: LinkFrame[], state = initialLinkState(plan)) {
  const each: LinkDecision[][] = [];
  for (const f of frames) {
    const step = decideFrame(plan, state, f);
    each.push(step.decisions);
    state = step.state;
  }
  return { each, state };
}

const short = (decisions: LinkDecision[]) =>
  decisions.map((d) => `${d.fault}>${d.to}:${d.action.do}`);

Deno.test("link plan: a partition drops frames across its sides only, from its trigger on", () => {
  const plan = planOf("partition:a|b,c@+10ms");
  assert.deepEqual([...plan.rules[0].links].sort(), ["a->b", "a->c", "b->a", "c->a"]);
  const { each } = feed(plan, [
    frame(0, "a", ["b"], tcp(80), 5),
    frame(1, "a", ["b"], tcp(80), 10),
    frame(2, "b", ["c"], tcp(80), 11),
    frame(3, "c", ["a", "b"], ARP, 12),
  ]);
  assert.deepEqual(each.map(short), [
    [],
    ["partition>b:lose"],
    [],
    ["partition>a:lose"],
  ]);
});

Deno.test("link plan: @N is arrival N on the shared clock: that frame, or after op N the next frame", () => {
  // Index 4 is a frame: that frame is hit.
  const atFrame = feed(planOf("drop@4"), [
    frame(3, "a", ["b"]),
    frame(4, "a", ["b"]),
    frame(5, "a", ["b"]),
  ]);
  assert.deepEqual(atFrame.each.map(short), [[], ["drop>b:lose"], []]);
  assert.equal(atFrame.state.rules[0].spent, true);
  // Index 4 is a block op: the link fault takes effect from the next frame.
  const plan = planOf("drop@4", "isolate:c@4");
  let state = initialLinkState(plan);
  const blockOp = {
    index: 4,
    disk: "data",
    type: "write" as const,
    offset: 0,
    length: 512,
    time: 4,
  };
  for (const index of [2, 3]) {
    state = decideFrame(plan, state, frame(index, "c", ["a"])).state;
  }
  const atOp = arriveOp(plan, state, blockOp);
  assert.deepEqual(atOp.decisions, []);
  assert.deepEqual(atOp.fired, ["isolate:c@4"]);
  const after = feed(
    plan,
    [frame(6, "c", ["a"]), frame(7, "c", ["b"]), frame(8, "a", ["b"])],
    atOp.state,
  );
  assert.deepEqual(after.each.map(short), [
    ["drop>a:lose", "isolate>a:lose"],
    ["isolate>b:lose"],
    [],
  ]);
  // No longer "the first frame at or after N": a rule whose arrival went by without it never fires.
  const missed = feed(planOf("drop@4"), [frame(3, "a", ["b"]), frame(6, "a", ["b"])]);
  assert.deepEqual(missed.each.map(short), [[], []]);
});

Deno.test("link plan: frame filters, occurrences and link scopes", () => {
  const plan = planOf("drop@net:a->b/tcp:2379/syn#2", "delay:50ms,link=b<->c@net:udp");
  const udp: FrameView = {
    ...tcp(53),
    ipv4: { ...tcp(53).ipv4!, protocol: 17, tcpFlags: undefined },
  };
  const { each, state } = feed(plan, [
    frame(0, "a", ["b"], tcp(2379, TCP_FLAGS.syn)),
    frame(1, "a", ["b"], tcp(2380, TCP_FLAGS.syn)),
    frame(2, "b", ["a"], tcp(2379, TCP_FLAGS.syn)),
    frame(3, "a", ["b"], tcp(2379, TCP_FLAGS.syn | TCP_FLAGS.ack)),
    frame(4, "a", ["b"], tcp(2379, TCP_FLAGS.syn)),
    frame(5, "c", ["b"], udp),
    frame(6, "a", ["b"], udp),
    frame(7, "c", ["a", "b"], udp),
  ]);
  assert.deepEqual(each.map(short), [
    [],
    [],
    [],
    ["drop>b:lose"],
    [],
    ["delay>b:late"],
    [],
    ["delay>b:late"],
  ]);
  assert.equal(state.rules[0].spent, true);
  assert.equal(state.rules[0].progress.matched, 2);
  assert.equal(state.rules[1].hits, 2);
});

Deno.test("link plan: random choices depend on the seed, the rule, the link and the frame's place on it only", () => {
  const frames = Array.from({ length: 400 }, (_, i) => frame(i, "a", ["b", "c"]));
  const plan = planOf("drop:0.3", "delay:10ms,jitter=5ms,link=a->c");
  const first = feed(plan, frames).each;
  assert.deepEqual(feed(plan, frames).each, first, "the same frames, the same decisions");
  const drops = first.flat().filter((d) => d.action.do === "lose").length;
  assert.ok(drops > 800 * 0.2 && drops < 800 * 0.4, `${drops} of 800 copies dropped`);
  const delays = first.flat().flatMap((d) => d.action.do === "late" ? [d.action.ms] : []);
  assert.equal(delays.length, 400);
  assert.ok(delays.every((ms) => ms >= 5 && ms <= 15));
  assert.ok(new Set(delays).size > 100, "jittered");
  // The frames of a->b decided the same, however another link's frames interleave with them
  // on the run's clock (their indices differ): a frame is known by its place on its link.
  const drop = planOf("drop:0.5,link=a->b");
  const alone = feed(drop, Array.from({ length: 50 }, (_, n) => frame(n, "a", ["b"]))).each;
  const mixed: LinkFrame[] = [];
  for (let n = 0; n < 50; n++) mixed.push(frame(3 * n, "c", ["b"]), frame(3 * n + 1, "a", ["b"]));
  const interleaved = feed(drop, mixed).each.filter((_, i) => i % 2 === 1);
  assert.deepEqual(interleaved.map(short), alone.map(short));
  assert.ok(alone.some((d) => d.length > 0) && alone.some((d) => d.length === 0));
  const reseeded = compileLinkPlan({
    seed: 8,
    rules: plan.rules.map((r) => parseFaultSpec(r.spec)),
  }, NODES);
  assert.notDeepEqual(feed(reseeded, frames).each, first);
});

Deno.test("link plan: heal ends what is in force, on its links, and leaves what still waits", () => {
  const plan = planOf(
    "partition:a|b,c@+0ms",
    "drop:link=b->c",
    "heal:a<->b@+10ms",
    "isolate:c@+20ms",
    "heal@+30ms",
  );
  const { each, state } = feed(plan, [
    frame(0, "a", ["b", "c"], ARP, 0),
    frame(1, "b", ["c"], tcp(80), 1),
    frame(2, "a", ["b", "c"], ARP, 10),
    frame(3, "b", ["c"], tcp(80), 11),
    frame(4, "b", ["a", "c"], ARP, 20),
    frame(5, "a", ["b", "c"], ARP, 30),
    frame(6, "b", ["c"], tcp(80), 31),
  ]);
  assert.deepEqual(each.map(short), [
    ["partition>b:lose", "partition>c:lose"],
    ["drop>c:lose"],
    ["partition>c:lose"], // a<->b healed; a<->c still cut
    ["drop>c:lose"], // the heal of a<->b leaves b->c
    ["drop>c:lose", "isolate>c:lose"], // isolate waited for its time: the first heal left it
    [],
    [],
  ]);
  assert.deepEqual(state.rules.map((r) => r.spent), [true, true, true, true, true]);
  assert.deepEqual([...state.rules[0].healed].sort(), ["a->b", "b->a"]);
});

Deno.test("link plan: bandwidth, duplicate and reorder; decisions combine per destination", () => {
  const plan = planOf(
    "bandwidth:1M/s,link=a->b",
    "duplicate",
    "reorder:hold=20ms,link=a->c",
    "delay:5ms,*",
    "delay:7ms,a->b",
  );
  const step = decideFrame(plan, initialLinkState(plan), frame(0, "a", ["b", "c"]));
  const combined = combineDecisions(step.decisions, ["b", "c"]);
  assert.deepEqual(combined.get("b"), {
    drop: false,
    delayMs: 12,
    duplicate: true,
    bytesPerSecond: 1048576,
  });
  assert.deepEqual(combined.get("c"), { drop: false, delayMs: 5, duplicate: true, holdMs: 20 });
  assert.deepEqual(step.fired, ["bandwidth:1048576/s,link=a->b"]);
});

Deno.test("link plan: live faults sit beside the plan; none heals; count clears", () => {
  const plan = planOf("partition:a|b");
  let state: LinkPlanState = initialLinkState(plan);
  const now = { index: 0, time: 0 };
  const isolate = { kind: "isolate", node: "c" } as const;
  state = setLiveLinkFault(
    plan,
    state,
    { effect: isolate, links: effectLinks(isolate, NODES) },
    now,
  );
  const drop = { kind: "drop", probability: 1, link: { kind: "all" } } as const;
  state = setLiveLinkFault(plan, state, {
    effect: drop,
    links: effectLinks({ ...drop, link: { kind: "link", from: "b", to: "c", both: false } }, NODES),
    remaining: 1,
  }, now);
  let step = decideFrame(plan, state, frame(0, "b", ["a", "c"]));
  assert.deepEqual(short(step.decisions), ["partition>a:lose", "isolate>c:lose", "drop>c:lose"]);
  assert.ok(step.decisions.slice(1).every((d) => d.rule === "live"));
  assert.equal(step.state.live.length, 1, "the drop cleared itself after one frame");
  step = decideFrame(plan, step.state, frame(1, "b", ["c"]));
  assert.deepEqual(short(step.decisions), ["isolate>c:lose"]);
  // none on c's links: the live isolate ends there; the partition (a|b) stays.
  state = setLiveLinkFault(
    plan,
    step.state,
    null,
    { index: 2, time: 2 },
    effectLinks(isolate, NODES),
  );
  step = decideFrame(plan, state, frame(2, "b", ["a", "c"]));
  assert.deepEqual(short(step.decisions), ["partition>a:lose"]);
  // none everywhere.
  state = setLiveLinkFault(plan, step.state, null, { index: 3, time: 3 });
  assert.deepEqual(decideFrame(plan, state, frame(3, "b", ["a"])).decisions, []);
});

Deno.test("link plan: block faults are left out; node names are checked", () => {
  const plan = planOf("eio@3", "drop");
  assert.equal(plan.rules.length, 1);
  assert.equal(plan.rules[0].number, 1);
  assert.throws(
    () => compileLinkPlan({ seed: 1, rules: [parseFaultSpec("isolate:z")] }, NODES),
    (e: unknown) => e instanceof FaultSpecError && /no node z \(nodes: a, b, c\)/.test(e.message),
  );
  const state = initialLinkState(plan);
  assert.equal(decideFrame(planOf(), state, frame(0, "a", ["b"])).state, state, "nothing changes");
});

Deno.test("link plan: a fault written without a trigger holds for the run phase; one with a trigger goes on", () => {
  const plan = planOf("drop:link=a->b", "isolate:c@net");
  let state = feed(plan, [frame(0, "a", ["b", "c"])]).state;
  state = endStandingLinks(plan, state); // the check begins
  const { each } = feed(plan, [frame(1, "a", ["b", "c"])], state);
  assert.deepEqual(each.map(short), [["isolate>c:lose"]]);
});
