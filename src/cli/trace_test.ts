import assert from "node:assert/strict";
import type { EventRecord, HeaderRecord, OpRecord } from "../trace/schema.ts";
import { table } from "./format.ts";
import { guestsNote, SHOW_COLUMNS, showRow } from "./trace.ts";

const op: OpRecord = {
  record: "op",
  index: 7,
  done: 8,
  node: "app",
  disk: "data",
  op: "write",
  offset: 4096,
  length: 512,
  start: 10,
  end: 11.5,
  result: "ok",
  step: "record 1",
};

Deno.test("trace show --events: an event's fields come last, cut, so the op columns stay narrow", () => {
  // A console event holds the end of a boot's console: thousands of characters.
  const console: EventRecord = {
    record: "event",
    event: "console",
    at: 104,
    time: 6317.1,
    node: "app",
    phase: "run",
    tail: "faultline: phase boot\r\n".repeat(100),
  };
  const lines = table([SHOW_COLUMNS, showRow(op, false), showRow(console, false)]).split("\n");
  assert.ok(lines[1].length < 90, `the op's line is narrow: ${lines[1]}`);
  assert.ok(lines.every((line) => line.length < 260), lines.join("\n"));
  assert.match(lines[2], /^@104\s+6\.317s\s+\[console\]\s+\{"node":"app","phase":"run","tail":/);
  assert.match(lines[2], /\.\.\.$/);
  // A short event is whole.
  const phase: EventRecord = { record: "event", event: "phase", at: 0, time: 36.7, name: "run" };
  assert.match(showRow(phase, false).at(-1)!, /^\{"name":"run"\}$/);
  assert.equal(showRow(op, true)[2], "app/data");
});

Deno.test("trace stats: a line says the guests' clock and each node's seed, or that they ran unseeded", () => {
  const header = (fields: Record<string, unknown>) =>
    ({ record: "header", seed: 0, faults: [], disks: [], ...fields }) as unknown as HeaderRecord;
  assert.equal(
    guestsNote(header({
      clock: { mode: "icount", shift: 4, sleep: true, align: false },
      guests: { e1: { seed: 12 }, e2: { seed: 34 } },
    })),
    "guests: clock icount:shift=4; seeds e1 12, e2 34",
  );
  assert.equal(
    guestsNote(header({ guests: { app: { initramfs: "x" } } })),
    "guests: clock host; unseeded",
  );
  assert.equal(guestsNote(header({})), null, "a serve trace has no guests");
});
