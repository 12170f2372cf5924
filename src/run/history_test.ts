import assert from "node:assert/strict";
import type { EventRecord } from "../trace/schema.ts";
import { checkRunHistory, linesAsEvents, runHistory } from "./history.ts";

const expectation = {
  model: "register",
  timeoutMs: 10_000,
  initial: null,
  mode: null,
  check: false,
};

function guest(time: number, line: string, node = "e2", phase = "run", at = time): EventRecord {
  return { record: "event", event: "guest", at, time, node, phase, line };
}

/** A stale read under a partition: process 1 (on e2) writes 4; process 0 (on e1) then reads 3. */
const events: EventRecord[] = [
  { record: "event", event: "phase", at: 0, time: 0, name: "run" },
  guest(1000, "invoke 1 write x 3"),
  guest(1100, "ok 1 write x 3"),
  guest(1200, "ack 1"),
  {
    record: "event",
    event: "link-fault",
    at: 50,
    time: 2000,
    rule: "partition:e1|e2,e3@60",
    action: "in-force",
    index: 60,
  },
  guest(7000, "invoke 1 write x 4"),
  guest(7900, "ok 1 write x 4"),
  guest(8200, "invoke 0 read x nil", "e1"),
  guest(8300, "ok 0 read x 3", "e1"),
  guest(8400, "invoke 2 cas x [4 5]"),
  {
    record: "event",
    event: "link-fault",
    at: 90,
    time: 9000,
    rule: "heal@e2/data/flush#110",
    action: "healed",
    index: 110,
  },
  guest(9500, "info 2 cas x [4 5]"),
  guest(9600, "invoke 0 read x nil", "e1", "check"),
];

Deno.test("run history: client ops stamped by the host, faults as the nemesis's invoke and info", () => {
  const history = runHistory(events);
  assert.deepEqual(history.phases, [{ name: "run", ms: 0 }]);
  const summary = history.ops.map((op) =>
    `${op.index} ${op.process} ${op.type} ${op.f} ${op.time} ${op.node}`
  );
  assert.deepEqual(summary, [
    "0 1 invoke write 1000000000 e2",
    "1 1 ok write 1100000000 e2",
    "2 nemesis invoke partition 2000000000 ",
    "3 nemesis info partition 2000000000 ",
    "4 1 invoke write 7000000000 e2",
    "5 1 ok write 7900000000 e2",
    "6 0 invoke read 8200000000 e1",
    "7 0 ok read 8300000000 e1",
    "8 2 invoke cas 8400000000 e2",
    "9 nemesis invoke heal 9000000000 ",
    "10 nemesis info heal 9000000000 ",
    "11 2 info cas 9500000000 e2",
  ], "the check's op is left out; ack lines are not ops");
  assert.equal(history.ops[2].value, "partition:e1|e2,e3@60");
  assert.deepEqual(history.ops[8].value, [4, 5]);
  assert.equal(runHistory(events, { check: true }).ops.at(-1)!.phase, "check");
});

Deno.test("run history: after a power cut at op N, a line heard later never happened", () => {
  const history = runHistory(events, { cutAt: 7900 });
  assert.deepEqual(history.ops.filter((op) => op.process !== "nemesis").map((op) => op.type), [
    "invoke",
    "ok",
    "invoke",
    "ok",
  ]);
});

Deno.test("run history: checked, a stale read is named with its times and the write it missed", () => {
  const verdict = checkRunHistory(() => runHistory(events), expectation);
  assert.equal(verdict.valid, false);
  assert.equal(
    verdict.reason,
    "stale read of key x: process 0 read 3 at 8.2 s after write 4 completed at 7.9 s",
  );
  assert.match(verdict.description!, /process 0's read -> 3 \(lines 7-8\) cannot be linearized/);
  assert.equal(verdict.ops, 12);
  const fine = events.filter((e) => !String(e.line ?? "").startsWith("ok 0 read x 3"));
  const valid = checkRunHistory(() => runHistory(fine), expectation);
  assert.equal(valid.valid, true);
  assert.match(valid.reason, /^history valid \(register, 4 client ops, 1 key\)$/);
  assert.ok(valid.notes.some((note) => /never completed/.test(note)), valid.notes.join("; "));
});

Deno.test("run history: a line the host cannot read, or a process that invokes twice, is named", () => {
  const bad = [...events, guest(9700, "invoke zero read x nil", "e1")];
  const verdict = checkRunHistory(() => runHistory(bad), expectation);
  assert.equal(verdict.valid, "error");
  assert.match(
    verdict.reason,
    /^the client history cannot be read: node e1, run phase: "invoke zero read x nil": expected invoke PROCESS F/,
  );
  const twice = [...events, guest(9700, "invoke 1 read x nil"), guest(9800, "invoke 1 read x nil")];
  const paired = checkRunHistory(() => runHistory(twice), expectation);
  assert.equal(paired.valid, "error");
  assert.match(
    paired.reason,
    /line 14: process 1 invokes while its invoke at line 13 has not completed/,
  );
});

Deno.test("run history: a budget that runs out is unknown, never valid", () => {
  // Two keys: past the deadline after the first, the second is undecided.
  const valid = events.filter((e) => !String(e.line ?? "").startsWith("ok 0 read x 3"));
  const keys = [...valid, guest(9700, "invoke 1 write y 1"), guest(9800, "ok 1 write y 1")];
  const verdict = checkRunHistory(() => runHistory(keys), { ...expectation, timeoutMs: 0 });
  assert.equal(verdict.valid, "unknown");
  assert.match(
    verdict.reason,
    /^history unknown \(register, .*\): the search ran out of its budget/,
  );
});

Deno.test("run history: a crash state's recorded lines read as the events they were", () => {
  const lines = [{
    node: "e2",
    phase: "run",
    kind: "invoke",
    args: ["1", "put", "k", '"a'],
    at: 4,
    time: 5,
    text: 'invoke 1 put k "a  b"',
  }];
  assert.equal(runHistory(linesAsEvents(lines)).ops[0].value, "a  b");
});
