import assert from "node:assert/strict";
import type { OpType } from "../block/backend.ts";
import type { ParentTrace } from "../replay/replay.ts";
import type { SweepPoint, SweepResult } from "../sweep/result.ts";
import type { TraceDisk } from "../trace/schema.ts";
import { sweepReportHtml } from "./html.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { fakeParentTrace } from "../../tests/support/traces.ts";

interface OpSpec {
  node?: string;
  disk?: string;
  op: OpType;
  offset?: number;
  length?: number;
  phase?: string;
  step?: string;
}

function parentOf(
  ops: OpSpec[],
  extra: { path?: string; name?: string; disks?: TraceDisk[] } = {},
): ParentTrace {
  const records = ops.map((spec, index) =>
    opRecord({
      index,
      node: spec.node ?? "vm",
      disk: spec.disk ?? "data",
      op: spec.op,
      offset: spec.offset ?? (spec.op === "flush" ? 0 : index * 4096),
      length: spec.length ?? (spec.op === "flush" ? 0 : 4096),
      start: index * 10,
      end: index * 10 + 3,
      ...(spec.phase ? { phase: spec.phase } : {}),
      ...(spec.step ? { step: spec.step } : {}),
    })
  );
  const name = extra.name ?? "fsync-log";
  return fakeParentTrace({
    records,
    name,
    path: extra.path ?? "/traces/fsync-log.trace",
    header: { disks: extra.disks ?? [] },
  });
}

function point(
  at: number,
  kind: "pass" | "fail" | "not-fired" | "error",
  extra: Partial<SweepPoint> = {},
): SweepPoint {
  return {
    at,
    op: `write ${at * 4096}+4096`,
    verdict: kind === "pass"
      ? { pass: true, reason: "every acknowledged key was found" }
      : kind === "fail"
      ? { pass: false, reason: `1 acknowledged key lost at ${at}` }
      : kind === "error"
      ? { pass: false, reason: "the replay failed: QEMU would not start" }
      : { pass: false, reason: "the fault never fired" },
    oracle: null,
    fired: kind === "pass" || kind === "fail",
    reproduce: `faultline replay /traces/fsync-log.trace --fault power-loss --fault-at ${at}`,
    trace: "",
    ...(kind === "error" ? { error: "QEMU would not start" } : {}),
    ...extra,
  };
}

function resultOf(points: SweepPoint[], extra: Partial<SweepResult> = {}): SweepResult {
  return {
    fault: "power-loss",
    points,
    passed: points.filter((p) => p.fired && p.verdict.pass).length,
    failed: points.filter((p) => (p.fired && !p.verdict.pass) || p.error).length,
    notFired: points.filter((p) => !p.fired && !p.error).length,
    replays: points.length,
    durationMs: 12_500,
    ...extra,
  };
}

/** Undoes the report's escaping, to compare text with what went in. */
function unescape(html: string): string {
  return html.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
}

function count(html: string, pattern: RegExp): number {
  return (html.match(new RegExp(pattern.source, "g")) ?? []).length;
}

const MIXED: OpSpec[] = [
  { op: "write" },
  { op: "write" },
  { op: "flush" },
  { op: "read" },
  { op: "trim", offset: 1 << 20, length: 65536 },
  { op: "write" },
  { op: "flush" },
  { op: "read", phase: "check" },
  { op: "read", phase: "check" },
];

Deno.test("report escapes every string from the trace and the sweep", async () => {
  const hostile = "<script>alert(1)</script>";
  const parent = parentOf([
    { node: `n"'&<marquee>`, disk: hostile, op: "write" },
    { node: `n"'&<marquee>`, disk: hostile, op: "flush" },
  ], { path: "/tmp/<img src=x onerror=alert(2)>.trace", name: "<svg onload=alert(3)>" });
  const result = resultOf([
    point(0, "fail", {
      op: "write 0+4096 <iframe>",
      verdict: { pass: false, reason: `lost </title><script>alert(4)</script> \u0007bell` },
      reproduce: `faultline replay '/tmp/<img src=x onerror=alert(2)>.trace' --fault-at 0`,
      trace: '/tmp/"quoted".trace',
    }),
  ], { fault: "eio<script>" });
  const html = await sweepReportHtml(parent, result);
  assert.doesNotMatch(html, /<(script|img|iframe|object|embed|link)\b/i);
  assert.equal(count(html, /<svg\b/), 2, "only the report's own two charts");
  assert.doesNotMatch(html, /<svg onload/);
  assert.doesNotMatch(html, /<marquee>/);
  assert.ok(!html.includes("\u0007"), "control characters are replaced");
  assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
  // Escaped, the strings read back exactly.
  const text = unescape(html);
  assert.ok(text.includes(`n"'&<marquee>/${hostile}`), "the band's name");
  assert.ok(text.includes("/tmp/<img src=x onerror=alert(2)>.trace"), "the trace path");
  assert.ok(text.includes("<svg onload=alert(3)>"), "the scenario name");
  assert.ok(text.includes(result.points[0].reproduce), "the reproduce command");
});

Deno.test("report header gives the trace, scenario, fault and totals", async () => {
  const parent = parentOf(MIXED);
  const points = [
    point(0, "pass"),
    point(1, "fail"),
    point(2, "not-fired"),
    point(5, "error"),
    point(6, "pass"),
  ];
  const html = await sweepReportHtml(
    parent,
    resultOf(points, { distinctCrashStates: 4, replays: 4, durationMs: 125_000 }),
  );
  const total = (id: string) => new RegExp(`id="total-${id}"><b>([^<]*)</b>`).exec(html)?.[1];
  assert.equal(total("points"), "5");
  assert.equal(total("passed"), "2");
  assert.equal(total("failed"), "2");
  assert.equal(total("not-fired"), "1");
  assert.equal(total("crash-states"), "4");
  assert.equal(total("replays"), "4");
  assert.equal(total("duration"), "2 min 5 s");
  assert.match(html, /<dd><code class="sel">\/traces\/fsync-log\.trace<\/code><\/dd>/);
  assert.match(html, /<dt>scenario<\/dt><dd>fsync-log<\/dd>/);
  assert.match(html, /<dt>fault<\/dt><dd><code>power-loss<\/code><\/dd>/);
  assert.match(html, /<dt>ops<\/dt><dd>9 \(7 run, 2 check\)<\/dd>/);

  // Without crash states (not a power-loss sweep), no such total.
  const plain = await sweepReportHtml(parent, resultOf(points));
  assert.doesNotMatch(plain, /total-crash-states/);
});

Deno.test("report links the recording's timeline for ui.perfetto.dev when it was written beside the page", async () => {
  const parent = parentOf(MIXED);
  const result = resultOf([point(0, "pass"), point(1, "fail")]);
  const linked = await sweepReportHtml(parent, result, { perfetto: "sweep report.perfetto.json" });
  assert.match(
    linked,
    /<dt>timeline<\/dt><dd><a id="perfetto" href="sweep%20report\.perfetto\.json">sweep report\.perfetto\.json<\/a> <span class="muted">[^<]*ui\.perfetto\.dev/,
  );
  // Without one, no link to a file that is not there.
  assert.doesNotMatch(await sweepReportHtml(parent, result), /perfetto/);
});

Deno.test("report draws one path per op type and chart, flushes as ticks, and each point once per chart", async () => {
  const parent = parentOf(MIXED);
  const points = [point(0, "pass"), point(1, "fail"), point(5, "not-fired"), point(6, "error")];
  const html = await sweepReportHtml(parent, resultOf(points));
  for (const type of ["write", "read", "trim", "flush"]) {
    assert.equal(count(html, new RegExp(`<path class="ops op-${type}[" ]`)), 2, type);
  }
  for (const type of ["write-zeroes", "cache"]) {
    assert.equal(count(html, new RegExp(`class="ops op-${type}"`)), 0, `no ${type} ops, no path`);
  }
  // Two flushes on one disk: two vertical ticks per chart.
  const flush = /<path class="ops op-flush[^"]*" stroke="[^"]*" d="([^"]*)"/.exec(html)!;
  assert.equal(count(flush[1], /M[\d.]+ [\d.]+v[\d.]+/), 2);
  // Points: one mark per point and chart, coloured by verdict, with a hover title.
  assert.equal(count(html, /<path class="pt pt-pass"/), 2);
  assert.equal(count(html, /<path class="pt pt-fail"/), 4, "a failed verdict and a failed replay");
  assert.equal(count(html, /<path class="pt pt-not-fired"/), 2);
  assert.match(html, /<title>op 1: write 4096\+4096\nFAIL\n1 acknowledged key lost at 1<\/title>/);
  assert.match(html, /<title>op 5: write 20480\+4096\nnever fired\nthe fault never fired<\/title>/);
  assert.match(html, /<a href="#p1">/, "a failing point links to its row");
  assert.match(html, /<a href="#all-p0">/, "a passing point links to its row of all points");
  // The run/check boundary at op 7.
  assert.equal(count(html, /class="phase-boundary"/), 2);
  assert.match(html, /check phase starts at op 7/);
});

Deno.test("report has no phase boundary without check ops, and survives an empty trace", async () => {
  const noCheck = await sweepReportHtml(
    parentOf([{ op: "write" }, { op: "flush" }]),
    resultOf([point(0, "pass")]),
  );
  assert.doesNotMatch(noCheck, /class="phase-boundary"/);
  const empty = await sweepReportHtml(parentOf([]), resultOf([]));
  assert.match(empty, /No point failed\./);
  assert.match(empty, /<\/html>\n$/);
  // Op indices are whole numbers, however short the trace.
  const ticks = [...noCheck.matchAll(/class="tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
  assert.deepEqual(ticks.slice(0, 2), ["0", "1"]);
});

Deno.test("report bands: one per disk of the header and of the ops, scaled to the largest extent", async () => {
  const disks: TraceDisk[] = [
    { node: "db", name: "wal", size: 1 << 30, base: { path: "/b/wal", sha256: "" } },
    { node: "db", name: "idle", size: 1 << 30, base: { path: "/b/idle", sha256: "" } },
  ];
  const parent = parentOf([
    { node: "db", disk: "wal", op: "write", offset: 0, length: 4096 },
    { node: "db", disk: "wal", op: "write", offset: (3 << 20) - 4096, length: 4096 },
    { node: "app", disk: "data", op: "read", offset: 0, length: 1000 },
  ], { disks });
  const html = await sweepReportHtml(parent, resultOf([]));
  const names = [...html.matchAll(/class="band-name"[^>]*><title>([^<]*)<\/title>/g)].map((m) =>
    m[1]
  );
  assert.deepEqual(names.slice(0, 3), ["db/wal", "db/idle", "app/data"]);
  assert.match(html, /class="band-scale"[^>]*>3\.0 MiB</, "db/wal reaches 3 MiB");
  assert.match(html, /class="band-scale"[^>]*>1000 B</, "app/data reaches 1000 bytes");
  assert.match(html, /class="band-scale"[^>]*>1\.0 GiB</, "db/idle, without ops, at its size");
});

Deno.test("report lists failing points with their reproduce commands, and caps both tables", async () => {
  const parent = parentOf(Array.from({ length: 40 }, () => ({ op: "write" as const })));
  const points = Array.from({ length: 30 }, (_, i) => point(i, i % 5 === 0 ? "fail" : "pass"));
  points[7] = point(7, "fail", {
    reproduce: "faultline replay '/traces/a b.trace' --fault power-loss --fault-at 7",
    oracle: { acked: 5, found: 3, lost: 2, lostKeys: ["k4", "k5"] },
  });
  const result = resultOf(points);
  const html = await sweepReportHtml(parent, result);
  const failing = points.filter((p) => !p.verdict.pass);
  for (const p of failing) {
    const row = new RegExp(`<tr id="p${p.at}">(.*?)</tr>`, "s").exec(html);
    assert.ok(row, `a row for failing point ${p.at}`);
    const command = /<code class="cmd sel">([^<]*)<\/code>/.exec(row[1]);
    assert.equal(unescape(command?.[1] ?? ""), p.reproduce);
  }
  assert.match(html, /oracle: 5 acked, 3 found, 2 lost \(k4, k5\)/);
  assert.equal(count(html, /<tr id="all-p\d+"/), 30);
  assert.match(html, /<details><summary><h2>All points/);

  const capped = await sweepReportHtml(parent, result, {
    maxRows: 10,
    maxFailingRows: 2,
    maxPointMarks: 10,
  });
  assert.equal(count(capped, /<tr id="all-p\d+"/), 10);
  assert.match(capped, /20 more points are not listed here/);
  assert.equal(count(capped, /<tr id="p\d+"/), 2);
  assert.match(capped, /5 more failing points are not listed here/);
  // Beyond maxPointMarks passing points become one shape per chart; failures keep their titles.
  assert.equal(count(capped, /<path class="pt-many pt-pass"/), 2);
  assert.equal(count(capped, /<path class="pt pt-pass"/), 0);
  assert.equal(count(capped, /<path class="pt pt-fail"/), 2 * failing.length);
});

Deno.test("report size does not grow with the number of ops", async () => {
  const types: OpType[] = ["read", "write", "write", "flush", "trim"];
  const ops: OpSpec[] = Array.from({ length: 20_000 }, (_, i) => ({
    disk: i % 2 ? "a" : "b",
    op: types[i % types.length],
    offset: ((i * 7919) % 4096) * 65536,
    length: 65536,
    phase: i < 16_000 ? "run" : "check",
  }));
  const html = await sweepReportHtml(
    parentOf(ops),
    resultOf([point(10, "fail"), point(20, "pass")]),
  );
  // One path per op type and chart (two disks share it), not one element per op.
  assert.equal(count(html, /<path class="ops /), 2 * 4);
  assert.ok(count(html, /<(path|rect|text|a) /) < 120, "a bounded number of elements");
  assert.ok(html.length < 2_000_000, `${html.length} characters`);
});

Deno.test("report is self-contained: no script, no external URL, a policy that forbids both", async () => {
  const parent = parentOf(MIXED, { path: "http://example.com/x.trace" });
  const html = await sweepReportHtml(parent, resultOf([point(0, "fail"), point(1, "pass")]));
  const urls = [...html.matchAll(/\b(?:src|href|xlink:href|action)\s*=\s*["']?([^"'\s>]*)/gi)].map((
    m,
  ) => m[1]);
  assert.ok(urls.length > 0);
  for (const url of urls) {
    assert.ok(url.startsWith("#"), `${url} is not an anchor in the page`);
    assert.ok(!url.includes("http") && !url.includes("//"), url);
  }
  assert.doesNotMatch(html, /<script|<link|@import|url\(|@font-face/i);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/,
  );
});

Deno.test("the timeline labels the workload's steps, and a failing point says where it hit", async () => {
  const ops: OpSpec[] = [
    { op: "write" },
    ...Array.from({ length: 30 }, (_, i): OpSpec => ({ op: "write", step: "commit 1", offset: i })),
    ...Array.from({ length: 30 }, (): OpSpec => ({ op: "flush", step: "commit <2>" })),
    { op: "read", phase: "check" },
  ];
  const failing = point(40, "fail", { where: "power loss during step 'commit <2>', after ack 1" });
  const html = await sweepReportHtml(parentOf(ops), resultOf([point(10, "pass"), failing]));
  // One lane per chart (by index, by time), one segment per step, labels escaped.
  assert.equal(count(html, />steps<\/text>/), 2);
  assert.equal(count(html, /<g class="step">/), 4);
  assert.match(html, /step &#39;commit &#60;2&#62;&#39;: ops 31 to 60/);
  assert.match(html, /class="step-label"[^>]*>commit 1</);
  assert.match(
    unescape(html),
    /power loss during step 'commit <2>', after ack 1: 1 acknowledged key lost at 40/,
  );
  // A trace without steps has no steps lane.
  assert.doesNotMatch(
    await sweepReportHtml(parentOf([{ op: "write" }]), resultOf([point(0, "pass")])),
    />steps</,
  );
});
