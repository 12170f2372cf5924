import assert from "node:assert/strict";
import { byIndex } from "../trace/load.ts";
import type { OpRecord } from "../trace/schema.ts";
import { ScenarioError } from "./errors.ts";
import {
  parsePoints,
  type PointArrivals,
  type PointFrame,
  type PointSelection,
  selectPoints,
} from "./points.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { randomTrace } from "../../tests/support/random_trace.ts";

const noFrames = (ops: readonly OpRecord[]): PointArrivals => ({ ops, frames: [] });

Deno.test("parsePoints reads every form, with spaces around", () => {
  assert.deepEqual(parsePoints("all"), { kind: "all" });
  assert.deepEqual(parsePoints(" reads "), { kind: "reads" });
  assert.deepEqual(parsePoints("writes"), { kind: "writes" });
  assert.deepEqual(parsePoints("flushes\n"), { kind: "flushes" });
  assert.deepEqual(parsePoints("10..20"), { kind: "range", from: 10, to: 20 });
  assert.deepEqual(parsePoints("7..7"), { kind: "range", from: 7, to: 7 });
  assert.deepEqual(parsePoints("0..0"), { kind: "range", from: 0, to: 0 });
  assert.deepEqual(parsePoints("every:1"), { kind: "every", step: 1 });
  assert.deepEqual(parsePoints("every:16"), { kind: "every", step: 16 });
  assert.deepEqual(parsePoints("flushes:e1/data,every:10"), {
    kind: "flushes",
    disk: { node: "e1", name: "data" },
    every: 10,
  });
});

Deno.test("parsePoints reads lists as a person writes them: indices, ranges and classes, their union", () => {
  const at = (n: number) => ({ kind: "range", from: n, to: n });
  assert.deepEqual(parsePoints("3"), at(3));
  assert.deepEqual(parsePoints("255,377,487"), { kind: "union", of: [at(255), at(377), at(487)] });
  assert.deepEqual(parsePoints("255, 300..310 ,flushes:e2/data"), {
    kind: "union",
    of: [at(255), { kind: "range", from: 300, to: 310 }, {
      kind: "flushes",
      disk: { node: "e2", name: "data" },
    }],
  });
  assert.deepEqual(parsePoints("every:4,255,writes"), {
    kind: "union",
    of: [{ kind: "every", step: 4 }, at(255), { kind: "writes" }],
  });
  assert.deepEqual(parsePoints("reads:data,every:3,flushes"), {
    kind: "union",
    of: [{ kind: "reads", disk: { name: "data" }, every: 3 }, { kind: "flushes" }],
  });
});

Deno.test("parsePoints: a range after a class narrows it (one selection: intersection), before its every:K", () => {
  assert.deepEqual(parsePoints("flushes:p1/data,1400..1600"), {
    kind: "flushes",
    disk: { node: "p1", name: "data" },
    range: { from: 1400, to: 1600 },
  });
  assert.deepEqual(parsePoints("255,writes,10..20,every:2,flushes"), {
    kind: "union",
    of: [{ kind: "range", from: 255, to: 255 }, {
      kind: "writes",
      range: { from: 10, to: 20 },
      every: 2,
    }, { kind: "flushes" }],
  });
});

Deno.test("parsePoints reads frames through a frame filter, as a link fault's @net: writes it", () => {
  assert.deepEqual(parsePoints("frames"), { kind: "frames", filter: { kind: "frames" } });
  assert.deepEqual(parsePoints("frames:p1->p2/tcp:5432"), {
    kind: "frames",
    filter: {
      kind: "frames",
      link: { kind: "link", from: "p1", to: "p2", both: false },
      protocol: "tcp",
      port: 5432,
    },
  });
  assert.deepEqual(parsePoints("flushes:p1/data,frames:p1<->p2/syn,100..200,every:2"), {
    kind: "union",
    of: [{ kind: "flushes", disk: { node: "p1", name: "data" } }, {
      kind: "frames",
      filter: {
        kind: "frames",
        link: { kind: "link", from: "p1", to: "p2", both: true },
        protocol: "tcp",
        flags: ["syn"],
      },
      range: { from: 100, to: 200 },
      every: 2,
    }],
  });
});

Deno.test("parsePoints refuses anything else, saying what it expected", () => {
  const expected = /expected N, N\.\.M, all, reads, writes, flushes .*frames .*joined by commas/;
  for (
    const text of [
      "",
      "sometimes",
      "All",
      "write",
      "10..",
      "..5",
      "-1..3",
      "1.5..3",
      "every:",
      "every:-2",
      "every:x",
      "every 3",
      "255,,300",
      "255,",
      "flushes:E1/data",
      "frame",
    ]
  ) {
    assert.throws(
      () => parsePoints(text),
      (e: unknown) =>
        e instanceof ScenarioError && e.kind === "usage" &&
        e.message.startsWith(`--points ${text}:`) &&
        expected.test(e.message),
      JSON.stringify(text),
    );
  }
  assert.throws(() => parsePoints("30..10"), /--points 30\.\.10: the range 30\.\.10 is empty/);
  assert.throws(() => parsePoints("every:0"), /every:K needs K of at least 1/);
});

Deno.test("parsePoints refuses a list that could read two ways, saying how to write each", () => {
  const cases: [string, RegExp][] = [
    // A number after a class: narrowing it, or adding it?
    [
      "flushes,255",
      /255 after flushes would read two ways: .*\(flushes,255\.\.255\).*\(255,flushes\)/,
    ],
    ["flushes,10..20,30..40", /flushes takes one range, before its every:K; add 30\.\.40 before/],
    ["flushes,every:2,10..20", /flushes takes one range, before its every:K/],
    ["flushes,every:2,every:3", /every:3 thins the class before it, and that class is thinned/],
    [
      "255,every:4",
      /every:4 thins the class before it, and there is none \(every:K alone comes first/,
    ],
    ["every:4,every:8", /there is none/],
    ["frames:p1->p2#2", /frames:p1->p2#2: a selection thins with ,every:K, not #K/],
    ["frames:", /frames: names no filter/],
    ["frames:p1->p2/tcp:99999", /frames:p1->p2\/tcp:99999: port "99999"/],
    ["frames:p1/p2", /names two links/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => parsePoints(text),
      (e: unknown) =>
        e instanceof ScenarioError && e.message.startsWith(`--points ${text}: `) &&
        pattern.test(e.message),
      text,
    );
  }
});

/** What one selection picks, by its definition. */
function naive(
  arrivals: PointArrivals,
  selection: PointSelection,
  runOnly: boolean,
): number[] {
  if (selection.kind === "union") {
    return [...new Set(selection.of.flatMap((one) => naive(arrivals, one, runOnly)))].sort((a, b) =>
      a - b
    );
  }
  const inRun = (a: { phase?: string }) => a.phase === undefined || a.phase === "run";
  const all = [...arrivals.ops, ...arrivals.frames].sort((a, b) => a.index - b.index);
  if (selection.kind === "range") {
    return all.filter((a) =>
      (inRun(a) || !runOnly) && selection.from <= a.index && a.index <= selection.to
    ).map((a) => a.index);
  }
  if (selection.kind === "every") {
    return all.filter((a) => inRun(a) && a.index % selection.step === 0).map((a) => a.index);
  }
  const kinds: Record<string, string[]> = {
    reads: ["read"],
    writes: ["write", "trim", "write-zeroes"],
    flushes: ["flush"],
  };
  const chosen = selection.kind === "frames"
    ? arrivals.frames.filter((f) =>
      inRun(f) && (selection.filter.port === undefined ||
        f.srcPort === selection.filter.port || f.dstPort === selection.filter.port)
    )
    : arrivals.ops.filter((op) =>
      inRun(op) && (selection.kind === "all" || kinds[selection.kind].includes(op.op)) &&
      (selection.disk === undefined || op.disk === selection.disk.name)
    );
  const ranged = chosen.filter((a) =>
    !selection.range || (selection.range.from <= a.index && a.index <= selection.range.to)
  );
  return ranged.filter((_, i) => i % (selection.every ?? 1) === 0).map((a) => a.index);
}

/** A trace's ops with frames between them: every third arrival of the run is a frame. */
function withFrames(seed: number): PointArrivals {
  const ops: OpRecord[] = [];
  const frames: PointFrame[] = [];
  const recorded = byIndex(
    randomTrace(seed, {
      ops: 36,
      checkOps: 10,
      disks: [{ node: "n1", disk: "data" }, { node: "n2", disk: "log" }],
    }),
  );
  let index = 0;
  for (const op of recorded) {
    if (index % 3 === 2) {
      frames.push({
        index: index++,
        time: 0,
        from: "n1",
        to: ["n2"],
        protocol: "tcp",
        srcPort: 40000,
        dstPort: index % 2 === 0 ? 5432 : 2379,
        ...(op.phase !== undefined ? { phase: op.phase } : {}),
      });
    }
    ops.push({ ...op, index: index++ });
  }
  return { ops, frames };
}

Deno.test("selectPoints picks what each selection defines, and a list the union of its selections", () => {
  const selections: PointSelection[] = [
    { kind: "all" },
    { kind: "reads" },
    { kind: "writes" },
    { kind: "flushes" },
    { kind: "flushes", disk: { node: "n2", name: "log" } },
    { kind: "writes", disk: { name: "data" }, range: { from: 10, to: 30 } },
    { kind: "flushes", range: { from: 5, to: 40 }, every: 2 },
    { kind: "frames", filter: { kind: "frames" } },
    { kind: "frames", filter: { kind: "frames", protocol: "tcp", port: 5432 }, every: 2 },
    { kind: "frames", filter: { kind: "frames" }, range: { from: 20, to: 25 } },
    { kind: "range", from: 5, to: 12 },
    { kind: "range", from: 35, to: 1000 },
    { kind: "range", from: 3, to: 3 },
    { kind: "every", step: 1 },
    { kind: "every", step: 4 },
    { kind: "every", step: 1000 },
  ];
  for (let seed = 1; seed <= 10; seed++) {
    const arrivals = withFrames(seed);
    for (const selection of selections) {
      for (const runOnly of [true, false]) {
        assert.deepEqual(
          selectPoints(arrivals, selection, runOnly),
          naive(arrivals, selection, runOnly),
          `seed ${seed} ${JSON.stringify(selection)} ${runOnly}`,
        );
      }
    }
    const union: PointSelection = { kind: "union", of: selections.slice(4, 12) };
    assert.deepEqual(selectPoints(arrivals, union, true), naive(arrivals, union, true));
  }
});

Deno.test("selectPoints by hand: trims and write-zeroes are writes, every:K goes by index, a trace without phases is all run", () => {
  const ordered = [
    opRecord({ index: 0, op: "read" }),
    opRecord({ index: 1, op: "write" }),
    opRecord({ index: 2, op: "flush" }),
    opRecord({ index: 3, op: "trim" }),
    opRecord({ index: 4, op: "write-zeroes" }),
    opRecord({ index: 5, op: "cache" }),
    opRecord({ index: 6, op: "write", phase: "check" }),
  ];
  const trace = noFrames(ordered);
  assert.deepEqual(selectPoints(trace, { kind: "writes" }, true), [1, 3, 4]);
  assert.deepEqual(selectPoints(trace, { kind: "reads" }, true), [0]);
  assert.deepEqual(selectPoints(trace, { kind: "all" }, false), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(selectPoints(trace, { kind: "range", from: 4, to: 9 }, true), [4, 5]);
  assert.deepEqual(selectPoints(trace, { kind: "range", from: 4, to: 9 }, false), [4, 5, 6]);
  // A class narrowed to a range stays in the run phase.
  assert.deepEqual(selectPoints(trace, parsePoints("writes,3..9"), false), [3, 4]);
  // every:K counts indices, not positions: with ops 0..5 missing 2, every:2 is 0 and 4.
  const gap = noFrames(ordered.filter((op) => op.index !== 2 && op.index !== 6));
  assert.deepEqual(selectPoints(gap, { kind: "every", step: 2 }, true), [0, 4]);
  assert.deepEqual(selectPoints(noFrames([]), { kind: "all" }, true), []);
  // A list: each point once, in order, whatever the order written.
  assert.deepEqual(selectPoints(trace, parsePoints("4,0,1..2,flushes"), true), [0, 1, 2, 4]);
});

Deno.test("selectPoints by hand: a frame's index is a point as an op's is, and frames of a link by their filter", () => {
  const trace: PointArrivals = {
    ops: [
      opRecord({ index: 0, node: "p1", disk: "data", op: "write" }),
      opRecord({ index: 1, node: "p1", disk: "data", op: "flush" }),
      opRecord({ index: 4, node: "p1", disk: "data", op: "flush" }),
      opRecord({ index: 6, node: "p2", disk: "data", op: "flush" }),
    ],
    frames: [
      { index: 2, time: 0, from: "p1", to: ["p2"], protocol: "tcp", srcPort: 5432, dstPort: 4000 },
      { index: 3, time: 0, from: "p2", to: ["p1"], protocol: "tcp", srcPort: 4000, dstPort: 5432 },
      { index: 5, time: 0, from: "p1", to: ["p2"], protocol: "arp" },
    ],
  };
  assert.deepEqual(selectPoints(trace, parsePoints("frames:p1->p2/tcp:5432"), true), [2]);
  assert.deepEqual(selectPoints(trace, parsePoints("frames:p1->p2"), true), [2, 5]);
  assert.deepEqual(selectPoints(trace, parsePoints("frames:p1"), true), [2, 3, 5]);
  assert.deepEqual(selectPoints(trace, parsePoints("2,3"), true), [2, 3]);
  assert.deepEqual(selectPoints(trace, parsePoints("1..4"), true), [1, 2, 3, 4]);
  // The example: the flushes of one disk in a range, and a commit's replication.
  assert.deepEqual(selectPoints(trace, parsePoints("flushes:p1/data,1..3"), true), [1]);
  assert.deepEqual(
    selectPoints(trace, parsePoints("flushes:p1/data,frames:p1->p2/tcp"), true),
    [1, 2, 4],
  );
});
