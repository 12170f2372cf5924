import assert from "node:assert/strict";
import { parseFaultSpec } from "../fault/spec.ts";
import type { Verdict } from "../run/verdict.ts";
import { type DrawnFault, movesOf } from "./draw.ts";
import { shrinkSchedule } from "./shrink.ts";
import { madeUpRecording } from "./_recording.ts";

const recording = madeUpRecording(["n1", "n2", "n3"], 24);

function fault(spec: string, at: number): DrawnFault {
  return { ...parseFaultSpec(spec), at };
}

const eio = fault("eio@run:n1/data/write:4096+4096#3", 21);
const partition = fault("partition:n1|n2,n3@net:n2->n3/tcp:2379#2", 7);
const noise = [
  fault("delay:300ms@run:n2/data/write:0+4096#1", 1),
  fault("crash:n3@run:n3/data/write:8192+4096#2", 30),
  fault("drop:0.5,link=*@net:n1->n2/tcp:2379#1", 3),
];
const failed: Verdict = { pass: false, reason: "1 acknowledged key lost" };
const passed: Verdict = { pass: true, reason: "every acknowledged key read back" };

/** The planted bug: only an EIO on n1 with a partition in force fails. */
async function needsBoth(faults: readonly DrawnFault[]): Promise<Verdict> {
  const kinds = faults.map((f) => f.effect.kind);
  return await Promise.resolve(
    kinds.includes("error") && kinds.includes("partition") ? failed : passed,
  );
}

Deno.test("a failure that needs exactly two faults shrinks to exactly those two", async () => {
  const original = [noise[0], noise[2], partition, eio, noise[1]];
  const result = await shrinkSchedule(original, {
    replay: needsBoth,
    rate: { failed: 3, runs: 3 },
  });
  assert.deepEqual(result.minimal, [partition, eio]);
  assert.deepEqual(result.rate, { failed: 3, runs: 3 });
  assert.equal(result.kept, 3);
  assert.equal(result.stoppedEarly, null);
  assert.deepEqual(result.original, original);
});

Deno.test("triggers move earlier and parameters weaken only while the failure stays", async () => {
  // n1's third write at 4096 is arrival 40 of the made-up recording (n1's ops are 0, 4, 8...).
  const delay = fault("delay:800ms@run:n1/data/write:4096+4096#3", 40);
  // Fails when a delay of 100 ms or more comes at op 9 or later.
  const replay = (faults: readonly DrawnFault[]) =>
    Promise.resolve(
      faults.some((f) => f.effect.kind === "delay" && f.effect.durationMs >= 100 && f.at >= 9)
        ? failed
        : passed,
    );
  const result = await shrinkSchedule([delay], {
    replay,
    rate: { failed: 1, runs: 1 },
    moves: (f) => movesOf(recording, f),
  });
  assert.equal(result.minimal.length, 1);
  const [shrunk] = result.minimal;
  assert.ok(shrunk.at >= 9 && shrunk.at < 40, `moved to ${shrunk.at}`);
  // It moved among n1's own ops: the op names the disk it delays.
  assert.equal(shrunk.trigger.kind === "match" && shrunk.trigger.node, "n1");
  assert.deepEqual(shrunk.effect, { kind: "delay", durationMs: 100 });
  assert.equal(parseFaultSpec(shrunk.spec).effect.kind, "delay");
});

Deno.test("a flaky finding keeps only the steps that fail at least as often", async () => {
  let call = 0;
  // With the partition: fails 2 runs of 3; without: 1 of 3.
  const replay = (faults: readonly DrawnFault[]) => {
    const fails = faults.some((f) => f.effect.kind === "partition")
      ? call % 3 !== 2
      : call % 3 === 0;
    call++;
    return Promise.resolve(fails ? failed : passed);
  };
  const result = await shrinkSchedule([partition, eio], { replay, rate: { failed: 2, runs: 3 } });
  assert.deepEqual(result.minimal, [partition]);
});

Deno.test("a fault at an op moves only among its own disk's ops", () => {
  const onN2 = fault("eio@run:n2/data/write:0+4096#4", 73);
  const moves = movesOf(recording, onN2);
  assert.ok(moves.length > 0);
  for (const moved of moves) {
    assert.ok(moved.trigger.kind === "match" && moved.trigger.node === "n2", moved.spec);
    assert.equal(moved.at % 4, 1, `arrival ${moved.at} is not one of n2's ops`);
  }
});

Deno.test("shrinking stops at its budget and says so", async () => {
  const result = await shrinkSchedule([...noise, partition, eio], {
    replay: needsBoth,
    rate: { failed: 3, runs: 3 },
    maxReplays: 4,
  });
  assert.equal(result.stoppedEarly, "it ran its 4 replays");
  assert.equal(result.replays, 4);
  assert.ok(result.minimal.length < 5 && result.minimal.includes(eio));
  const aborted = await shrinkSchedule([partition, eio], {
    replay: needsBoth,
    rate: { failed: 1, runs: 1 },
    signal: AbortSignal.abort(),
  });
  assert.equal(aborted.stoppedEarly, "it was stopped");
  const timedOut = await shrinkSchedule([partition, eio], {
    replay: needsBoth,
    rate: { failed: 1, runs: 1 },
    signal: AbortSignal.abort(new DOMException("budget", "TimeoutError")),
  });
  assert.equal(timedOut.stoppedEarly, "its time ran out");
  assert.deepEqual(aborted.minimal, [partition, eio]);
});
