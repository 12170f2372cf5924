/**
 * Clock faults against real QEMU guests: two busybox nodes, n2's clock skewed 5 s ahead of
 * n1's in the run phase (its own `-rtc base=`) and back at the shared base in its check,
 * and n2's wall clock jumping 30 s back at its 20th write, told over its control channel:
 * every write n2 issues carries the guest's wall clock, so the trace shows the first op
 * the jump reached. Both faults are events in the trace; the guest reports the jump.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseFaultSpec } from "../src/fault/spec.ts";
import { runScenario } from "../src/run/run.ts";
import { normalizeScenario } from "../src/scenario/load.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { readTraceRecords } from "./support/mod.ts";

const WRITES = 60;
const JUMP_AT_WRITE = 20;

/** 2026-01-01T00:00:00Z, the shared base of every guest's clock (src/run/boot.ts). */
const BASE_SECONDS = Date.parse("2026-01-01T00:00:00Z") / 1000;

/** The guest's wall clock, as `report clock-at EPOCHREALTIME`. */
const CLOCK_AT = 'report clock-at "$EPOCHREALTIME"';

Deno.test("clock faults: n2's clock runs 5 s ahead in the run phase, not in its check; its wall clock jumps 30 s back at its 20th write; both in the trace", async () => {
  await using dir = await makePrivateDir("faultline-clock-");
  const scenario = await normalizeScenario({
    name: "clock",
    nodes: {
      n1: { disks: {}, workload: CLOCK_AT },
      n2: {
        disks: { data: { size: "1M" } },
        // Each write is one 4 KiB O_DIRECT write holding the guest's wall clock.
        workload: [
          CLOCK_AT,
          "i=0",
          `while [ "$i" -lt ${WRITES} ]; do`,
          `  printf '%s\\n' "$EPOCHREALTIME" | dd of=/dev/disk/data bs=4096 count=1 conv=sync,notrunc oflag=direct seek="$i" status=none`,
          "  i=$((i + 1))",
          "done",
          "sleep 1",
        ].join("\n"),
        check: CLOCK_AT,
      },
    },
    timeouts: { run: "120s", check: "60s" },
  }, { source: "clock.json", baseDir: dir.path });
  const trace = join(dir.path, "clock.trace");
  const result = await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "replay",
    plan: {
      seed: 1,
      rules: [
        parseFaultSpec("clock-skew:n2,+5s"),
        parseFaultSpec(`clock-jump:n2,-30s@n2/data/write#${JUMP_AT_WRITE}`),
      ],
    },
    judgeWorkloadExit: true,
  });
  assert.ok(result.verdict.pass, result.verdict.reason);
  assert.deepEqual(result.notFired, []);

  const { ops, events } = await readTraceRecords(trace);
  // The skew: a guest's wall clock less the run's clock when its line arrived (the same
  // report's latency in each) is where its clock stands against the host's. Each guest's
  // clock starts from its RTC, which holds whole seconds: two nodes differ by their skew
  // give or take a second.
  const report = (node: string, phase: string) => {
    const line = events.find((e) =>
      e.event === "guest" && e.node === node && e.phase === phase &&
      String(e.line).startsWith("clock-at ")
    );
    assert.ok(line, `${node} ${phase} reported its clock`);
    return { wall: Number(String(line.line).split(" ")[1]), time: line.time / 1000 };
  };
  const against = (node: string, phase: string) => {
    const { wall, time } = report(node, phase);
    return wall - time;
  };
  const skew = against("n2", "run") - against("n1", "run");
  // n2's check boots later, from the shared base: its wall clock less the time since its
  // QEMU started (its boot's event) is where it started, give or take the RTC's second.
  const skews = events.filter((e) => e.event === "clock-skew");
  const checkBoot = skews.find((e) => e.phase === "check");
  assert.ok(checkBoot, "n2's check boot is an event");
  const check = report("n2", "check");
  const checkStart = check.wall - (check.time - checkBoot.time / 1000) - BASE_SECONDS;
  console.log(
    `n2's clock against n1's in the run: ${skew.toFixed(3)} s; n2's check started ${
      checkStart.toFixed(3)
    } s after the base`,
  );
  assert.ok(Math.abs(skew - 5) < 1.2, `n2's clock is ${skew} s ahead of n1's in the run`);
  assert.ok(
    checkStart > -1.5 && checkStart < 0.5,
    `n2's check started ${checkStart} s off the base`,
  );
  assert.deepEqual(
    skews.map(({ node, phase, rules, offsetMs, base }) => ({ node, phase, rules, offsetMs, base })),
    [{
      node: "n2",
      phase: "run",
      rules: ["clock-skew:n2,+5s"],
      offsetMs: 5000,
      base: "2026-01-01T00:00:05",
    }, {
      node: "n2",
      phase: "check",
      rules: [],
      offsetMs: 0,
      base: "2026-01-01T00:00:00",
    }],
  );

  // The jump: fired at n2's 20th write, written at once, reported by the guest.
  const writes = ops.filter((op) => op.node === "n2" && op.op === "write")
    .sort((a, b) => a.index - b.index);
  assert.equal(writes.length, WRITES);
  const jump = events.find((e) => e.event === "clock-jump");
  assert.ok(jump, "the jump is an event");
  const trigger = writes[JUMP_AT_WRITE - 1];
  assert.equal(jump.index, trigger.index);
  assert.equal(jump.node, "n2");
  assert.equal(jump.ms, -30000);
  assert.equal(typeof jump.written, "number");
  const reported = result.lines.find((l) => l.node === "n2" && l.kind === "clock");
  assert.ok(reported, "the guest reports the jump");
  assert.equal(reported.args[0], "jumped");
  assert.equal(reported.args[1], "-30000");
  const moved = Number(reported.args[3]) - Number(reported.args[2]);
  assert.ok(moved > -30.6 && moved < -29.4, `the clock moved ${moved} s`);

  // The first write whose wall clock is behind its predecessor's is the first the jump reached.
  const clockOf = (op: OpRecord) => Number(new TextDecoder().decode(op.data!).split("\n")[0]);
  const first = writes.findIndex((op, i) => i > 0 && clockOf(op) < clockOf(writes[i - 1]) - 20);
  assert.ok(first >= JUMP_AT_WRITE, `the jump reached write ${first + 1}, after the trigger`);
  assert.equal(
    writes.slice(first + 1).every((op, i) => clockOf(op) >= clockOf(writes[first + i])),
    true,
  );
  const landed = writes[first];
  const lastBefore = writes[first - 1];
  console.log(
    `clock-jump at op ${trigger.index} (n2's write ${JUMP_AT_WRITE}): written ${
      (Number(jump.written) - trigger.start).toFixed(1)
    } ms after its arrival; the last write before the jump arrived ${
      (lastBefore.start - trigger.start).toFixed(1)
    } ms after it (${first - JUMP_AT_WRITE + 1} of n2's writes later), the first after ${
      (landed.start - trigger.start).toFixed(1)
    } ms (op ${landed.index}); the guest reported it ${(reported.at -
      trigger.index)} arrivals later`,
  );
  assert.ok(landed.start - trigger.start < 2000, "the jump lands within 2 s of its trigger");
});
