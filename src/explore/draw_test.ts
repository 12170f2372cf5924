import assert from "node:assert/strict";
import { formatFaultSpec, parseFaultSpec } from "../fault/spec.ts";
import type { FaultEffect } from "../fault/types.ts";
import { FAULT_KINDS_VERSION, kindOf } from "../fault/kinds/mod.ts";
import { recordedOpOfTrigger } from "../replay/signature.ts";
import { checkDrawOptions, drawPlan, drawSchedule, replayArgs } from "./draw.ts";
import { ExploreError } from "./errors.ts";
import { madeUpRecording } from "./_recording.ts";

const three = madeUpRecording(["n1", "n2", "n3"], 24);
const one = madeUpRecording(["n1"], 24);

function specs(seed: number, recording = three, count = 40): string[][] {
  const plan = drawPlan(recording, { seed, maxFaults: 3 });
  return Array.from({ length: count }, (_, i) => drawSchedule(plan, i).faults.map((f) => f.spec));
}

Deno.test("the same seed and recording draw the same schedules in the same order", () => {
  assert.deepEqual(specs(7), specs(7));
  assert.deepEqual(specs(7, one), specs(7, one));
  // Schedule i alone is the same as schedule i among others.
  const plan = drawPlan(three, { seed: 7, maxFaults: 3 });
  assert.deepEqual(drawSchedule(plan, 17), drawSchedule(plan, 17));
});

Deno.test("different seeds draw different schedules", () => {
  const a = specs(7).map((s) => s.join(" "));
  const b = specs(8).map((s) => s.join(" "));
  const same = a.filter((s, i) => s === b[i]).length;
  assert.ok(same < a.length / 4, `${same} of ${a.length} schedules alike`);
});

Deno.test("the draws of this table version are held by a fingerprint: raise FAULT_KINDS_VERSION when they change", () => {
  assert.equal(FAULT_KINDS_VERSION, 2);
  const text = JSON.stringify([specs(1), specs(2, one)]);
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) >>> 0;
  assert.equal(hash, FINGERPRINT);
});

Deno.test("every drawn fault is a spec that reads back as itself, 1 to K of them, at a recorded op or frame", () => {
  const plan = drawPlan(three, { seed: 3, maxFaults: 3 });
  const sizes = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const schedule = drawSchedule(plan, i);
    sizes.add(schedule.faults.length);
    assert.ok(schedule.faults.length >= 1 && schedule.faults.length <= 3);
    for (const fault of schedule.faults) {
      const back = parseFaultSpec(fault.spec);
      assert.deepEqual(back.effect, fault.effect, fault.spec);
      assert.deepEqual(back.trigger, fault.trigger, fault.spec);
      assert.notEqual(fault.trigger.kind, "time", fault.spec);
      if (fault.trigger.kind === "match") {
        assert.equal(recordedOpOfTrigger(three.ops, fault.trigger)?.index, fault.at, fault.spec);
      } else {
        assert.equal(fault.trigger.kind, "frames", fault.spec);
        assert.ok(three.frames.some((f) => f.index === fault.at), fault.spec);
      }
    }
    assert.deepEqual(
      replayArgs(schedule).filter((w) => w !== "--fault"),
      schedule.faults.map((f) => f.spec),
    );
  }
  assert.deepEqual([...sizes].sort(), [1, 2, 3]);
});

Deno.test("a power loss is drawn alone, never with online faults", () => {
  const plan = drawPlan(three, { seed: 5, maxFaults: 3 });
  let alone = 0;
  for (let i = 0; i < 300; i++) {
    const schedule = drawSchedule(plan, i);
    const powerLosses = schedule.faults.filter((f) => kindOf(f.effect).fromTrace).length;
    if (powerLosses > 0) {
      assert.equal(schedule.faults.length, 1);
      assert.equal(schedule.powerLossAlone, true);
      alone++;
    }
  }
  assert.ok(alone > 0, "no power loss drawn in 300 schedules");
});

Deno.test("--kinds narrows the draw; link kinds are not drawn on one node by default", () => {
  const plan = drawPlan(three, { seed: 9, maxFaults: 2, kinds: ["partition", "error"] });
  assert.deepEqual(plan.kinds.map((k) => k.kind), ["error", "partition"]);
  for (let i = 0; i < 50; i++) {
    for (const fault of drawSchedule(plan, i).faults) {
      assert.ok(["error", "partition"].includes(fault.effect.kind));
    }
  }
  const lonePlan = drawPlan(one, { seed: 9, maxFaults: 2 });
  const lone = lonePlan.kinds.map((k) => k.kind);
  assert.ok(!lone.includes("partition") && !lone.includes("drop") && lone.includes("crash"));
  assert.deepEqual(lonePlan.excluded.find((e) => e.kind === "partition"), {
    kind: "partition",
    why: "partition is a link fault and the scenario has one node (n1)",
  });
  assert.ok(lonePlan.excluded.some((e) => e.kind === "clock-skew"));
  // A power loss is built from the written bytes: not drawn from a trace without them.
  const noData = drawPlan({ ...one, recordsData: false }, { seed: 9, maxFaults: 2 });
  assert.ok(!noData.kinds.some((k) => k.kind === "power-loss"));
  assert.throws(
    () =>
      drawPlan({ ...one, recordsData: false }, { seed: 9, maxFaults: 2, kinds: ["power-loss"] }),
    /power-loss is built from the trace's written bytes, and it was recorded with --no-data/,
  );
});

Deno.test("bad input is refused with one clear sentence", () => {
  assert.throws(() => drawPlan(three, { seed: 1, maxFaults: 2, kinds: [] }), {
    name: "ExploreError",
    message: "--kinds names no kind: name one or more, as --kinds error,crash",
  });
  assert.throws(() => drawPlan(three, { seed: 1, maxFaults: 0 }), ExploreError);
  assert.throws(() => drawPlan(one, { seed: 1, maxFaults: 2, kinds: ["partition"] }), {
    message: "--kinds: partition is a link fault and the scenario has one node (n1)",
  });
  assert.throws(
    () => drawPlan(one, { seed: 1, maxFaults: 2, kinds: ["nope"] }),
    /no fault kind "nope"/,
  );
  assert.throws(
    () => drawPlan(one, { seed: 1, maxFaults: 2, kinds: ["clock-skew"] }),
    /set at boot/,
  );
});

Deno.test("the options are checked against a scenario's nodes alone, before anything is recorded", () => {
  assert.throws(() => checkDrawOptions({ maxFaults: 2, kinds: ["drop"] }, ["app"]), {
    name: "ExploreError",
    message: "--kinds: drop is a link fault and the scenario has one node (app)",
  });
  assert.throws(() => checkDrawOptions({ maxFaults: 2, kinds: [] }, ["app"]), /names no kind/);
  assert.throws(() => checkDrawOptions({ maxFaults: 0 }, ["app"]), /1 fault or more, not 0/);
  assert.throws(() => checkDrawOptions({ maxFaults: 1, kinds: ["nope"] }, ["a", "b"]), /"nope"/);
  // What a scenario's nodes can take passes; the recording decides the rest (drawPlan).
  checkDrawOptions({ maxFaults: 2, kinds: ["error", "crash"] }, ["app"]);
  checkDrawOptions({ maxFaults: 2, kinds: ["partition"] }, ["n1", "n2"]);
  checkDrawOptions({ maxFaults: 2 }, ["app"]);
});

const FINGERPRINT = 119721890;

Deno.test("faults are put at the run phase's ops and frames, never the check's", () => {
  const base = madeUpRecording(["n1", "n2"], 16);
  const checked = {
    ...base,
    ops: base.ops.map((op, i) => i >= 12 ? { ...op, phase: "check" } : op),
    frames: base.frames.map((frame, i) => i >= 6 ? { ...frame, phase: "check" } : frame),
  };
  const plan = drawPlan(checked, { seed: 4, maxFaults: 3 });
  for (let i = 0; i < 200; i++) {
    for (const fault of drawSchedule(plan, i).faults) {
      const phase = [...checked.ops, ...checked.frames].find((a) => a.index === fault.at)?.phase;
      assert.equal(phase, "run", fault.spec);
    }
  }
});

Deno.test("every weakening of a drawn fault is a spec that reads back as itself", () => {
  const plan = drawPlan(three, { seed: 6, maxFaults: 3 });
  const weakened = new Set<string>();
  for (let i = 0; i < 200; i++) {
    for (const fault of drawSchedule(plan, i).faults) {
      const weaker = kindOf(fault.effect).explore?.weaken?.(fault.effect as never) ?? [];
      for (const effect of weaker as FaultEffect[]) {
        const spec = formatFaultSpec({ effect, trigger: fault.trigger });
        assert.deepEqual(parseFaultSpec(spec).effect, effect, spec);
        assert.notEqual(spec, fault.spec);
        weakened.add(effect.kind);
      }
    }
  }
  assert.ok(weakened.size >= 8, [...weakened].join(", "));
});

Deno.test("a frame trigger names the service's port, whichever way the frame goes; never a client's", () => {
  const base = madeUpRecording(["n1", "n2"], 4);
  const reply = (frame: (typeof base.frames)[number]) => ({
    ...frame,
    from: frame.to[0],
    to: [frame.from],
    srcPort: frame.dstPort,
    dstPort: frame.srcPort,
  });
  const both = { ...base, frames: base.frames.map((f, i) => i % 2 ? reply(f) : f) };
  const ports = new Set<number | undefined>();
  const plan = drawPlan(both, { seed: 11, maxFaults: 3 });
  for (let i = 0; i < 200; i++) {
    for (const fault of drawSchedule(plan, i).faults) {
      if (fault.trigger.kind === "frames") ports.add(fault.trigger.port);
    }
  }
  assert.deepEqual([...ports], [2379]);
});
