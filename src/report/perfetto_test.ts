import assert from "node:assert/strict";
import type { EventRecord, FrameRecord, HeaderRecord, TraceRecord } from "../trace/schema.ts";
import { type ChromeTraceEvent, perfettoTrace } from "./perfetto.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { traceHeader } from "../../tests/support/traces.ts";
import { chromeTraceProblems } from "../../tests/support/chrome_trace.ts";

const header: HeaderRecord = {
  record: "header",
  format: "faultline-trace",
  version: 2,
  ...traceHeader({
    scenario: { name: "pair", nodes: [{ name: "n1" }, { name: "n2" }] },
    disks: [
      { node: "n1", name: "data", size: 1 << 20, base: { path: "a", sha256: "0" } },
      { node: "n2", name: "data", size: 1 << 20, base: { path: "b", sha256: "0" } },
    ],
  }),
};

function event(time: number, kind: string, fields: Record<string, unknown> = {}): EventRecord {
  return { record: "event", event: kind, at: 0, time, ...fields };
}

const guest = (time: number, node: string, phase: string, line: string) =>
  event(time, "guest", { node, phase, line });

function frame(
  index: number,
  time: number,
  from: string,
  to: string,
  extra: Partial<FrameRecord> = {},
): FrameRecord {
  return {
    record: "frame",
    index,
    time,
    from,
    to: [to],
    length: 74,
    dst: "52:54:00:00:00:02",
    src: "52:54:00:00:00:01",
    ethertype: 0x0800,
    proto: 6,
    srcIp: "192.0.2.11",
    dstIp: "192.0.2.12",
    srcPort: 40000,
    dstPort: 7000,
    tcpFlags: "syn",
    hash: "0".repeat(16),
    ...extra,
  };
}

/** Two nodes: a run with overlapping ops, frames (one dropped, one delayed), faults, a power loss, a check. */
function records(): TraceRecord[] {
  return [
    event(1, "phase", { name: "run" }),
    guest(900, "n1", "run", "phase boot"),
    guest(1000, "n1", "run", "phase run"),
    guest(1100, "n2", "run", "phase run"),
    // Two ops of n1/data overlap in time: they cannot share a track.
    opRecord({
      index: 0,
      node: "n1",
      disk: "data",
      op: "write",
      offset: 0,
      length: 4096,
      start: 1200,
      end: 1210,
    }),
    opRecord({
      index: 1,
      node: "n1",
      disk: "data",
      op: "write",
      offset: 4096,
      length: 4096,
      start: 1205,
      end: 1220,
    }),
    opRecord({
      index: 2,
      node: "n1",
      disk: "data",
      op: "flush",
      offset: 0,
      length: 0,
      start: 1230,
      end: 1231,
      result: "eio",
      fault: { kind: "eio", rule: "eio@2" },
    }),
    event(1230, "fault", { index: 2, disk: "data", op: "flush", fault: "eio", rule: "eio@2" }),
    opRecord({
      index: 3,
      node: "n2",
      disk: "data",
      op: "read",
      offset: 0,
      length: 512,
      start: 1240,
      end: 1241.5,
    }),
    frame(4, 1300, "n1", "n2"),
    frame(5, 1310, "n2", "n1", {
      tcpFlags: "syn,ack",
      faults: [{
        kind: "delay",
        rule: "delay:5ms,link=n2->n1",
        to: ["n1"],
        detail: { delayMs: 5 },
      }],
    }),
    frame(6, 1320, "n1", "n2", {
      dropped: ["n2"],
      faults: [{ kind: "partition", rule: "partition:n1|n2", to: ["n2"] }],
    }),
    event(1350, "node-fault", { rule: "pause:n2,1s@3", node: "n2", kind: "pause", index: 3 }),
    guest(1400, "n1", "run", "exit 0"),
    event(1450, "power-cut", { index: 7 }),
    event(1451, "console", { node: "n1", phase: "run", tail: "..." }),
    event(1452, "console", { node: "n2", phase: "run", tail: "..." }),
    event(1460, "crash", { at: 7, source: "trace", writesKept: 1, volatile: 1, dropped: 1 }),
    event(1500, "phase", { name: "check" }),
    guest(2400, "n1", "check", "phase check"),
    opRecord({
      index: 8,
      node: "n1",
      disk: "data",
      op: "read",
      offset: 0,
      length: 4096,
      start: 2500,
      end: 2501,
      phase: "check",
    }),
    guest(2600, "n1", "check", "exit 0"),
    event(2610, "console", { node: "n1", phase: "check", tail: "..." }),
  ];
}

const named = (events: ChromeTraceEvent[], kind: string) =>
  new Map(events.filter((e) => e.name === kind).map((e) => [`${e.pid}/${e.tid}`, e.args?.name]));

Deno.test("perfetto: a trace becomes a Chrome trace the viewers read as meant (fields, nesting, times, flows)", () => {
  const trace = perfettoTrace(header, records());
  assert.equal(trace.displayTimeUnit, "ms");
  assert.deepEqual(chromeTraceProblems(JSON.parse(JSON.stringify(trace))), []);
});

Deno.test("perfetto: a process per node, a track per disk (and per overlap) and per link", () => {
  const events = perfettoTrace(header, records()).traceEvents;
  const processes = named(events, "process_name");
  assert.deepEqual([...processes.values()], ["n1", "n2", "run"]);
  const pid = (name: string) =>
    Number([...processes].find(([, n]) => n === name)![0].split("/")[0]);
  const threads = named(events, "thread_name");
  const tracksOf = (node: string) =>
    [...threads].filter(([key]) => key.startsWith(`${pid(node)}/`)).map(([, name]) => name).sort();
  assert.deepEqual(tracksOf("n1"), ["boots", "data", "data #2", "faults", "from n2", "to n2"]);
  assert.deepEqual(tracksOf("n2"), ["boots", "data", "faults", "from n1", "to n1"]);
  assert.deepEqual(tracksOf("run"), ["faults", "phases"]);
});

Deno.test("perfetto: each op a slice with its type, offset, length, latency and result", () => {
  const events = perfettoTrace(header, records()).traceEvents;
  const ops = events.filter((e) => e.cat === "op");
  assert.equal(ops.length, 5);
  const failed = ops.find((e) => e.args?.index === 2)!;
  assert.equal(failed.name, "flush eio");
  assert.equal(failed.ph, "X");
  assert.equal(failed.ts, 1_230_000);
  assert.equal(failed.dur, 1000);
  assert.deepEqual(failed.args, {
    index: 2,
    offset: 0,
    length: 0,
    latencyMs: 1,
    result: "eio",
    fault: "eio (eio@2)",
  });
  const [first, second] = ops.filter((e) => e.args?.index === 0 || e.args?.index === 1);
  assert.notEqual(first.tid, second.tid, "overlapping ops go to two tracks");
  assert.equal(ops.find((e) => e.args?.index === 3)!.args?.latencyMs, 1.5);
});

Deno.test("perfetto: phases and boots as slices, faults and crashes as instants, frames as flows", () => {
  const events = perfettoTrace(header, records()).traceEvents;
  const phases = events.filter((e) => e.cat === "phase");
  const spans = phases.map((e) => [e.name, e.ts / 1000, (e.ts + e.dur!) / 1000]);
  // The run's phases, and n1's boots: boot to `phase run`, run to `exit 0`, then the check boot.
  for (
    const expected of [
      ["run", 1, 1500],
      ["check", 1500, 2610],
      ["boot", 1, 1000],
      ["run", 1000, 1400],
      ["boot", 1500, 2400],
      ["check", 2400, 2600],
    ]
  ) {
    assert.ok(
      spans.some((s) => JSON.stringify(s) === JSON.stringify(expected)),
      `${expected}: ${JSON.stringify(spans)}`,
    );
  }
  // n2's run was cut by the power loss: its slice ends with its boot.
  assert.ok(
    phases.some((e) => e.name === "run" && e.args?.cut === true && (e.ts + e.dur!) / 1000 === 1452),
  );
  const instants = events.filter((e) => e.ph === "i").map((e) => [e.name, e.ts / 1000, e.s]);
  assert.deepEqual(instants, [
    ["eio", 1230, "t"],
    ["delay", 1310, "t"],
    ["partition", 1320, "t"],
    ["pause", 1350, "t"],
    ["power-cut", 1450, "t"],
    ["crash", 1460, "g"],
  ]);
  // Two frames delivered (one 5 ms late), one dropped: two flows, each from sender to receiver.
  const frames = events.filter((e) => e.cat === "frame" && e.ph === "X");
  assert.deepEqual(frames.map((e) => e.name), [
    "tcp syn",
    "tcp syn",
    "tcp syn,ack",
    "tcp syn,ack",
    "tcp syn (dropped)",
  ]);
  const starts = events.filter((e) => e.ph === "s");
  const ends = events.filter((e) => e.ph === "f");
  assert.equal(starts.length, 2);
  assert.deepEqual(ends.map((e) => Math.round(e.ts / 1000)), [1300, 1315]);
  assert.ok(ends.every((e) => e.bp === "e"));
});

Deno.test("perfetto: a trace with nothing in it is still a trace the viewers open", () => {
  const trace = perfettoTrace(header, []);
  assert.deepEqual(chromeTraceProblems(trace), []);
  assert.ok(trace.traceEvents.every((e) => e.ph === "M"));
});

Deno.test("perfetto: the format check refuses what the viewers would misread", () => {
  const meta = [
    { name: "process_name", ph: "M", ts: 0, pid: 1, tid: 0, args: { name: "n1" } },
    { name: "thread_name", ph: "M", ts: 0, pid: 1, tid: 1, args: { name: "data" } },
  ];
  const check = (...events: Record<string, unknown>[]) =>
    chromeTraceProblems({ traceEvents: [...meta, ...events] }).join("\n");
  const x = (name: string, ts: number, dur: number, tid = 1) => ({
    name,
    ph: "X",
    ts,
    dur,
    pid: 1,
    tid,
  });
  assert.equal(check(x("a", 0, 10), x("b", 2, 3), x("c", 10, 1)), "");
  assert.match(check(x("a", 0, 10), x("b", 5, 10)), /overlaps a .* without nesting/);
  assert.match(check(x("a", 5, 1), x("b", 2, 1)), /at 2 after 5/);
  assert.match(check(x("a", 0, 1, 2)), /track 1\/2 has no thread_name/);
  assert.match(check({ name: "a", ph: "B", ts: 0, pid: 1, tid: 1 }), /1 B without their E/);
  assert.match(check({ name: "a", ph: "X", ts: 0, pid: 1, tid: 1 }), /needs dur/);
  assert.match(check({ name: "a", ph: "i", ts: 0, pid: 1, tid: 1 }), /scope/);
  const flow = { name: "f", cat: "frame", id: 1, pid: 1, tid: 1 };
  assert.match(check(x("a", 0, 1), { ...flow, ph: "s", ts: 0.5 }), /flow frame\/f\/1: no end/);
  assert.match(
    check(x("a", 0, 1), { ...flow, ph: "s", ts: 0.5 }, { ...flow, ph: "f", bp: "e", ts: 3 }),
    /its f at 3 is inside no slice/,
  );
  assert.match(chromeTraceProblems([]).join(), /no traceEvents/);
});
