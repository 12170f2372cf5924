import assert from "node:assert/strict";
import { checkRunHistory, runHistory } from "../run/history.ts";
import type { EventRecord } from "../trace/schema.ts";
import { historyPageHtml, historySection, historyTimeline } from "./history_timeline.ts";

const expectation = {
  model: "register",
  timeoutMs: 10_000,
  initial: null,
  mode: null,
  check: false,
};

function guest(time: number, line: string, node = "e2"): EventRecord {
  return { record: "event", event: "guest", at: time, time, node, phase: "run", line };
}

/** Key x goes stale on e1 under a partition; key y is busy elsewhere, long before. */
const events: EventRecord[] = [
  { record: "event", event: "phase", at: 0, time: 0, name: "run" },
  guest(100, "invoke 3 write y 1"),
  guest(200, "ok 3 write y 1"),
  guest(1000, "invoke 1 write x 3"),
  guest(1100, "ok 1 write x 3"),
  {
    record: "event",
    event: "link-fault",
    at: 50,
    time: 6000,
    rule: "partition:e1|e2,e3@60",
    action: "in-force",
    index: 60,
  },
  guest(7000, "invoke 1 write x 4"),
  guest(7900, "ok 1 write x 4"),
  guest(8200, "invoke 0 read x nil", "e1"),
  guest(8300, "ok 0 read x 3", "e1"),
  guest(8400, "invoke 2 write x 6"),
  {
    record: "event",
    event: "node-fault",
    at: 90,
    time: 8500,
    rule: "crash:e3@+8s",
    node: "e3",
    kind: "crash",
  },
  guest(8600, "info 2 write x 6"),
  {
    record: "event",
    event: "link-fault",
    at: 90,
    time: 9000,
    rule: "heal",
    action: "healed",
    index: 110,
  },
  guest(60_000, "invoke 3 write y 2"),
  guest(60_100, "ok 3 write y 2"),
];

Deno.test("history timeline: only the failing key's window, the offending op, the faults in it", () => {
  const history = runHistory(events);
  const verdict = checkRunHistory(() => history, expectation);
  const timeline = historyTimeline(history, verdict.counterexample!);
  assert.equal(timeline.key, "x");
  assert.ok(timeline.from > 1100 && timeline.from < 7000, `from ${timeline.from}`);
  assert.ok(timeline.to > 8300 && timeline.to < 60_000, `to ${timeline.to}`);
  assert.deepEqual(
    timeline.ops.map((op) =>
      `${op.process} ${op.label}${op.offending ? " !" : ""}${op.inExample ? " *" : ""}`
    ),
    ["1 write 4 *", "0 read 3 ! *", "2 write 6 (info)"],
    "key y's ops and x's ops outside the window are not drawn",
  );
  const kinds = timeline.marks.map((mark) => `${mark.shape} ${mark.label}`);
  assert.deepEqual(kinds.sort(), [
    "band partition partition:e1|e2,e3@60",
    "tick crash crash:e3@+8s",
  ], "the heal, at 9 s, is past the window's end");
  const band = timeline.marks.find((mark) => mark.shape === "band")!;
  assert.equal(band.start, 6000);
  assert.equal(band.end, timeline.to, "in force to the window's end");

  const svg = historySection(timeline, verdict.description);
  assert.equal(svg.match(/class="op offending in-example"/g)?.length, 1);
  assert.equal(svg.match(/class="op in-example"/g)?.length, 1);
  assert.equal(svg.match(/class="nemesis band"/g)?.length, 1);
  assert.match(
    svg,
    /<title>process 0: read 3, 8\.200 s to 8\.300 s \(cannot be linearized\)<\/title>/,
  );
  assert.match(svg, /process 0&#39;s read -&#62; 3/, "the counterexample's text, escaped");
});

Deno.test("history timeline: a page of its own escapes what the guest wrote", () => {
  const page = historyPageHtml({ title: "t <x>", reason: 'stale read of key "<k>"' });
  assert.match(page, /<title>t &#60;x&#62;<\/title>/);
  assert.match(page, /stale read of key &#34;&#60;k&#62;&#34;/);
  assert.doesNotMatch(page, /<script/);
});
