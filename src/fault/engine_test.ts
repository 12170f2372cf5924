import assert from "node:assert/strict";
import { BlockError } from "../block/backend.ts";
import { OpClock } from "../block/op_clock.ts";
import { FaultEngine, type InjectedFault } from "./engine.ts";
import type { OpView } from "./plan.ts";
import { parseFaultSpec } from "./spec.ts";
import type { FaultPlan } from "./types.ts";

/** A clock whose time the test sets. */
class FakeClock extends OpClock {
  time = 0;
  override now(): number {
    return this.time;
  }
}

function engineOf(...specs: string[]): { engine: FaultEngine; clock: FakeClock } {
  const clock = new FakeClock();
  const plan: FaultPlan = { seed: 1, rules: specs.map(parseFaultSpec) };
  return { engine: new FaultEngine(plan, clock), clock };
}

function op(index: number, type: OpView["type"] = "write", disk = "vda"): OpView {
  return { index, disk, type, offset: index * 512, length: 512, time: index };
}

/** Whether a promise has settled, and how, after pending callbacks ran. */
async function state(promise: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let result: "pending" | "resolved" | "rejected" = "pending";
  promise.then(() => result = "resolved", () => result = "rejected");
  await new Promise((resolve) => setTimeout(resolve, 0));
  return result;
}

const shutdownError = (message: RegExp) => (e: unknown) =>
  e instanceof BlockError && e.errno === "eshutdown" && message.test(e.message);

Deno.test("engine: a hold without an end waits until its disk is released, and only its disk", async () => {
  const { engine } = engineOf();
  const a = engine.hold("vda");
  const b = engine.hold("vda");
  const other = engine.hold("vdb");
  assert.equal(await state(a), "pending");
  assert.deepEqual([engine.heldOps("vda"), engine.heldOps("vdb"), engine.heldOps("vdc")], [
    2,
    1,
    0,
  ]);
  engine.release("vdc");
  engine.release("vdb");
  assert.equal(await state(other), "resolved");
  assert.equal(await state(a), "pending");
  engine.release("vda");
  assert.deepEqual([await state(a), await state(b)], ["resolved", "resolved"]);
  assert.equal(engine.heldOps("vda"), 0);
});

Deno.test("engine: a hold until a run time ends by itself; one already past does not wait", async () => {
  const { engine, clock } = engineOf();
  clock.time = 1000;
  const started = performance.now();
  await engine.hold("vda", 1040);
  assert.ok(performance.now() - started >= 38, "held for the time left (40 ms)");
  assert.equal(await state(engine.hold("vda", 1000)), "resolved");
  assert.equal(await state(engine.hold("vda", 10)), "resolved");
  assert.equal(engine.heldOps("vda"), 0);
  // A timed hold is also cut short by a release.
  const long = engine.hold("vda", 60_000);
  assert.equal(engine.heldOps("vda"), 1);
  engine.release("vda");
  assert.equal(await state(long), "resolved");
});

Deno.test("engine: sleep waits its time, is no hold, and a release does not end it", async () => {
  const { engine } = engineOf();
  const started = performance.now();
  const sleeping = engine.sleep(50);
  assert.equal(engine.heldOps("vda"), 0);
  engine.release("vda");
  assert.equal(await state(sleeping), "pending");
  await sleeping;
  assert.ok(performance.now() - started >= 48);
  assert.equal(await state(engine.sleep(0)), "resolved");
});

Deno.test("engine: a limping disk's bandwidth is shared one op after another; disks do not share", () => {
  const { engine, clock } = engineOf();
  // 1000 bytes at 1000 B/s take 1 s each.
  assert.equal(engine.bandwidthWait("vda", 1000, 1000), 1000);
  assert.equal(engine.bandwidthWait("vda", 1000, 1000), 2000, "queued behind the first");
  assert.equal(engine.bandwidthWait("vdb", 500, 1000), 500, "another disk has its own cap");
  clock.time = 1500;
  assert.equal(engine.bandwidthWait("vda", 2000, 1000), 2500, "starts when the second ends (2 s)");
  clock.time = 10_000;
  assert.equal(engine.bandwidthWait("vda", 100, 1000), 100, "an idle disk starts at once");
  assert.equal(engine.bandwidthWait("vda", 0, 1000), 100, "nothing to send still waits its turn");
});

Deno.test("engine: a power cut freezes once, tells its listeners, and restoring fails what it held", async () => {
  const { engine } = engineOf();
  const cuts: number[] = [];
  engine.onPowerCut((index) => cuts.push(index));
  assert.deepEqual([engine.frozen, engine.powerCutAt], [false, null]);
  engine.cutPower(7);
  engine.cutPower(9); // already cut: nothing changes
  assert.deepEqual([engine.frozen, engine.powerCutAt, cuts], [true, 7, [7]]);
  const frozen = [engine.holdForever(), engine.holdForever()];
  const hung = engine.hold("vda");
  assert.equal(engine.heldOps("vda"), 1, "ops held by the cut are not a disk's");
  assert.equal(await state(frozen[0]), "pending");
  engine.restorePower();
  for (const held of frozen) await assert.rejects(held, shutdownError(/the power was cut/));
  assert.equal(await state(hung), "pending", "a hang is not the power's");
  assert.deepEqual([engine.frozen, engine.powerCutAt], [false, null]);
  engine.cutPower(12);
  assert.deepEqual(cuts, [7, 12], "a second cut after the power came back");
  engine.release("vda");
  await hung;
});

Deno.test("engine: shutdown fails every waiter with ESHUTDOWN, and every later wait at once", async () => {
  const { engine } = engineOf();
  const waiting = [engine.hold("vda"), engine.hold("vdb", 60_000), engine.sleep(60_000)];
  engine.cutPower(1);
  waiting.push(engine.holdForever());
  engine.shutdown();
  for (const waiter of waiting) await assert.rejects(waiter, shutdownError(/shutting down/));
  assert.equal(engine.heldOps("vda"), 0);
  for (const later of [engine.hold("vda"), engine.sleep(0), engine.hold("vda", -5)]) {
    await assert.rejects(later, shutdownError(/shutting down/));
  }
});

Deno.test("engine: a live fault acts on its disk's ops until cleared; clearing releases its hangs", async () => {
  const { engine } = engineOf();
  assert.equal(engine.idle, true);
  engine.setLive("vda", { effect: { kind: "error", errno: "eio" } });
  assert.equal(engine.idle, false);
  assert.deepEqual(engine.live("vda"), { effect: { kind: "error", errno: "eio" } });
  assert.equal(engine.live("vdb"), undefined);
  assert.deepEqual(engine.decide(op(0)), [{
    rule: "live",
    fault: "eio",
    action: { do: "answer-error", errno: "eio" },
  }]);
  assert.deepEqual(engine.decide(op(1, "read", "vdb")), [], "another disk is not touched");
  engine.setLive("vda", { effect: { kind: "hang" } });
  assert.deepEqual(engine.decide(op(2)).map((d) => d.action), [{ do: "hold" }]);
  const held = engine.hold("vda");
  const elsewhere = engine.hold("vdb");
  engine.setLive("vda", null);
  assert.equal(await state(held), "resolved", "none releases the held ops");
  assert.equal(await state(elsewhere), "pending");
  assert.deepEqual(engine.decide(op(3)), []);
  assert.equal(engine.idle, true);
  engine.release("vdb");
});

Deno.test("engine: decide advances the plan; report tells every listener what was injected where", () => {
  const { engine } = engineOf("eio@write#2", "delay:5ms@read");
  assert.equal(engine.idle, false);
  const injected: InjectedFault[] = [];
  const also: number[] = [];
  engine.onInjected((fault) => injected.push(fault));
  engine.onInjected((fault) => also.push(fault.index));
  assert.deepEqual(engine.decide(op(0)), []);
  assert.deepEqual(engine.hits(), [0, 0]);
  const second = engine.decide(op(1));
  assert.deepEqual(second, [{
    rule: "eio@write#2",
    fault: "eio",
    action: { do: "answer-error", errno: "eio" },
  }]);
  assert.deepEqual(engine.decide(op(2)), [], "the second write only");
  const read = engine.decide({ ...op(3, "read"), time: 42 });
  assert.deepEqual(engine.hits(), [1, 1]);
  engine.report({ ...op(1), time: 17 }, second[0]);
  engine.report({ ...op(3, "read"), time: 42 }, read[0]);
  assert.deepEqual(injected, [
    {
      rule: "eio@write#2",
      fault: "eio",
      action: { do: "answer-error", errno: "eio" },
      index: 1,
      disk: "vda",
      op: "write",
      time: 17,
    },
    {
      rule: "delay:5ms@read",
      fault: "delay",
      action: { do: "wait", ms: 5 },
      detail: { durationMs: 5 },
      index: 3,
      disk: "vda",
      op: "read",
      time: 42,
    },
  ]);
  assert.deepEqual(also, [1, 3]);
});

Deno.test("engine: a persistent fault stays in force on the disk it fired on, until cleared", () => {
  const { engine } = engineOf("fail@write#1");
  assert.deepEqual(engine.decide(op(0, "read")), []);
  assert.deepEqual(engine.decide(op(1)).map((d) => d.fault), ["fail"]);
  assert.equal(engine.active("vda").length, 1);
  assert.deepEqual(engine.active("vdb"), []);
  assert.deepEqual(engine.decide(op(2, "read")).map((d) => d.fault), ["fail"], "every op after");
  assert.deepEqual(engine.decide(op(3, "read", "vdb")), []);
  engine.setLive("vda", null);
  assert.deepEqual(engine.active("vda"), []);
  assert.deepEqual(engine.decide(op(4, "read")), []);
});

Deno.test("engine: a random fault draws by the op's signature and occurrence, not its place among other nodes' ops", () => {
  const ops = (node: string) =>
    Array.from({ length: 40 }, (_, i): OpView => ({
      index: 0,
      node,
      disk: `${node}-data`,
      name: "data",
      type: "read",
      offset: (i % 5) * 4096,
      length: 4096,
      time: i,
    }));
  const latencies = (order: OpView[]) => {
    const { engine } = engineOf("limp:p50=2ms,p99=150ms");
    const drawn = new Map<string, number[]>();
    order.forEach((view, index) => {
      const [decision] = engine.decide({ ...view, index });
      const key = `${view.node}/${view.offset}`;
      drawn.set(key, [
        ...(drawn.get(key) ?? []),
        (decision.action as { latencyMs: number }).latencyMs,
      ]);
    });
    return drawn;
  };
  const [a, b] = [ops("n1"), ops("n2")];
  const apart = latencies([...a, ...b]);
  const interleaved = latencies(a.flatMap((op, i) => [b[i], op]));
  assert.deepEqual(interleaved, apart, "each op limps the same, whatever its index");
  assert.ok(new Set([...apart.values()].flat()).size > 40, "the draws vary");
});

Deno.test("engine: a hang of the run phase (@run:) ends as the check begins and lets its held ops go; one without a phase holds on", async () => {
  const run = (index: number, disk: string): OpView => ({
    ...op(index, "flush", disk),
    length: 0,
    phase: "run",
  });
  const { engine } = engineOf("hang@run:vda/flush#1", "hang@vdb/flush#1");
  assert.deepEqual(engine.decide(run(0, "vda")).map((d) => d.action), [{ do: "hold" }]);
  assert.deepEqual(engine.decide(run(1, "vdb")).map((d) => d.action), [{ do: "hold" }]);
  const silent = engine.hold("vda");
  const stillSilent = engine.hold("vdb");
  engine.endStanding(); // the check begins
  assert.equal(await state(silent), "resolved", "the run's hang released its op");
  assert.equal(await state(stillSilent), "pending");
  const check = (index: number, disk: string): OpView => ({
    ...op(index, "read", disk),
    phase: "check",
  });
  assert.deepEqual(engine.decide(check(2, "vda")), [], "the check reads vda");
  assert.deepEqual(engine.decide(check(3, "vdb")).map((d) => d.fault), ["hang"]);
  engine.shutdown();
  await assert.rejects(stillSilent, shutdownError(/shutting down/));
});
