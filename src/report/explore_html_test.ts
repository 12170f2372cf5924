import assert from "node:assert/strict";
import type { DrawnFault } from "../explore/draw.ts";
import type { ExploreResult, ShrunkFailure } from "../explore/explore.ts";
import { coverage, groupFailures } from "../explore/findings.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { checkRunHistory, runHistory } from "../run/history.ts";
import type { EventRecord } from "../trace/schema.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { fakeParentTrace } from "../../tests/support/traces.ts";
import { exploreReportHtml } from "./explore_html.ts";

function fault(spec: string, at: number): DrawnFault {
  return { ...parseFaultSpec(spec), at };
}

const parent = fakeParentTrace({
  name: "etcd-put",
  path: "/traces/etcd.trace",
  records: Array.from({ length: 40 }, (_, index) =>
    opRecord({
      index,
      node: ["n1", "n2", "n3"][index % 3],
      disk: "data",
      op: index % 5 === 4 ? "flush" : "write",
      offset: index % 5 === 4 ? 0 : (index % 4) * 4096,
      length: index % 5 === 4 ? 0 : 4096,
      start: index * 10,
      end: index * 10 + 4,
      phase: index < 32 ? "run" : "check",
    })),
});

const eio = fault("eio@run:n1/data/write:0+4096#2", 12);
const cut = fault("partition:n1|n2,n3@run:n2/data/write:4096+4096#1", 7);
const noise = fault("delay:300ms@run:n3/data/write:8192+4096#1", 2);
const crash = fault("crash:n3@run:n3/data/write:8192+4096#2", 14);

/** A register's history gone stale under a partition, checked for real. */
function staleHistory() {
  const guest = (time: number, line: string, node = "n2"): EventRecord => ({
    record: "event",
    event: "guest",
    at: time,
    time,
    node,
    phase: "run",
    line,
  });
  const events: EventRecord[] = [
    { record: "event", event: "phase", at: 0, time: 0, name: "run" },
    guest(1000, "invoke 1 write x 3"),
    guest(1100, "ok 1 write x 3"),
    guest(7000, "invoke 1 write x 4"),
    guest(7900, "ok 1 write x 4"),
    guest(8200, "invoke 0 read x nil", "n1"),
    guest(8300, "ok 0 read x 3", "n1"),
  ];
  const history = runHistory(events);
  const verdict = checkRunHistory(() => history, {
    model: "register",
    timeoutMs: 10_000,
    initial: null,
    mode: null,
    check: false,
  });
  assert.equal(verdict.valid, false);
  return {
    model: "register",
    reason: verdict.reason,
    ...(verdict.description ? { description: verdict.description } : {}),
    counterexample: verdict.counterexample!,
    history,
  };
}

function failure(schedule: number, original: DrawnFault[], minimal: DrawnFault[]): ShrunkFailure {
  return {
    schedule,
    original,
    minimal,
    rate: { failed: 3, runs: 3 },
    originalRate: { failed: 3, runs: 3 },
    reason: "stale read of key x <n1>",
    shrink: { tried: 6, kept: 2, replays: 18, stoppedEarly: null },
  };
}

function resultOf(failures: ShrunkFailure[]): ExploreResult {
  const runs = [
    { faults: [noise, cut, eio], fired: [noise.spec, cut.spec, eio.spec] },
    { faults: [crash], fired: [] },
    { faults: [cut, eio], fired: [cut.spec, eio.spec] },
  ];
  return {
    seed: 7,
    tableVersion: 3,
    maxFaults: 3,
    kinds: ["error", "delay", "partition", "crash", "drop"],
    excluded: [{ kind: "clock-skew", why: "set at boot, it has no moment" }],
    schedules: [
      { index: 0, faults: [noise.spec, cut.spec, eio.spec], status: "fail", reason: "stale read" },
      { index: 1, faults: [crash.spec], status: "not-reached", reason: "never fired" },
      { index: 2, faults: [cut.spec, eio.spec], status: "fail", reason: "stale read" },
      { index: 3, faults: [noise.spec], status: "pass", reason: "ok" },
    ],
    failures,
    findings: groupFailures(failures),
    coverage: coverage(runs, ["error", "delay", "partition", "crash", "drop"], ["n1", "n2", "n3"]),
    elapsedMs: 95_000,
    stopped: null,
  };
}

const replayOf = (faults: readonly DrawnFault[]) =>
  `faultline replay /traces/etcd.trace ${faults.map((f) => `--fault '${f.spec}'`).join(" ")}`;

Deno.test("a finding's section has its minimal schedule, rate, origin, replay, counterexample and timeline", () => {
  const first = { ...failure(0, [noise, cut, eio], [cut, eio]), history: staleHistory() };
  const result = resultOf([first, failure(2, [cut, eio], [cut, eio])]);
  const html = exploreReportHtml(parent, result, { replayOf, perfetto: "explore.perfetto.json" });
  assert.equal(result.findings.length, 1);
  const section = html.slice(html.indexOf('<section class="finding" id="f1">'));
  const finding = section.slice(0, section.indexOf("</section>\n</section>"));
  assert.match(
    finding,
    /<h3>#1 <code>error@n1 \+ partition@n1<\/code>: stale read of key x &#60;n1&#62;<\/h3>/,
  );
  assert.match(finding, /2 failing schedules: <a href="#s0">0<\/a>, <a href="#s2">2<\/a>/);
  assert.match(finding, /<dt>minimal<\/dt><dd>stable 3\/3<ol class="faults"><li><code>partition:/);
  assert.match(
    finding,
    /<dt>shrunk from<\/dt><dd>schedule 0, stable 3\/3<ol class="faults">(<li>.*?<\/li>){3}<\/ol>/,
  );
  assert.ok(
    finding.includes(
      `<code class="cmd sel">${replayOf([cut, eio]).replaceAll("'", "&#39;")}</code>`,
    ),
  );
  assert.match(finding, /2 of 6 steps kept, 18 replays/);
  // The counterexample, drawn and as text.
  assert.match(finding, /<h4>History counterexample <span class="muted">register<\/span><\/h4>/);
  assert.match(finding, /<svg class="history-timeline"/);
  assert.match(finding, /<pre class="counterexample">/);
  // The recording's timeline with the two minimal faults, linked to the finding.
  assert.match(
    finding,
    /<svg class="timeline"[^>]*aria-label="ops of the trace by op index, with the minimal faults"/,
  );
  assert.equal(finding.match(/<path class="pt pt-fail"/g)?.length, 2);
  assert.equal(finding.match(/<a href="#f1">/g)?.length, 2);
  assert.ok(finding.includes(`<title>arrival 12: ${eio.spec}</title>`));
  assert.ok(html.includes('href="explore.perfetto.json"'));
});

Deno.test("the page's totals and coverage say what was explored", () => {
  const html = exploreReportHtml(parent, resultOf([failure(0, [noise, cut, eio], [cut, eio])]), {
    replayOf,
  });
  assert.match(html, /id="total-schedules"><b>3<\/b><span>schedules run/);
  assert.match(html, /id="total-findings"><b>1<\/b>/);
  assert.match(html, /id="total-not-reached"><b>1<\/b>/);
  assert.match(html, /<dt>not drawn<\/dt><dd><code>clock-skew<\/code>/);
  // Per kind: drawn and fired, the ones never drawn and never fired marked.
  assert.match(
    html,
    /<tr id="kind-error"><td><code>error<\/code><\/td><td class="num">2<\/td><td class="num">2<\/td><td class="">/,
  );
  assert.match(
    html,
    /<tr id="kind-crash">.*<td class="num">1<\/td><td class="num">0<\/td><td class="never">never fired<\/td>/,
  );
  assert.match(html, /<tr id="kind-drop">.*<td class="never">never drawn<\/td>/);
  assert.match(html, /<dt>drawn, never fired<\/dt><dd><code>crash<\/code><\/dd>/);
  assert.match(html, /<tr id="node-n1"><td>n1<\/td><td class="num">4<\/td><td class="num">4<\/td>/);
  assert.match(html, /<dt>combinations<\/dt><dd>2 distinct/);
  assert.match(html, /<tr id="s1" class="not-reached">/);
  // No history counterexample without one; no script, nothing loaded.
  assert.doesNotMatch(html, /History counterexample/);
  assert.doesNotMatch(html, /<script|src=|@import/);
});

Deno.test("a clean explore says no schedule failed; a stopped one says so; roles are shown", () => {
  const clean = exploreReportHtml(parent, { ...resultOf([]), stopped: "interrupted" }, {
    replayOf,
  });
  assert.match(clean, /<p class="ok">No schedule failed.<\/p>/);
  assert.match(clean, /Stopped \(interrupted\) after 4 schedules/);
  const byRole = {
    ...failure(0, [eio], [eio]),
    roles: [new Map([["n1", "leader"], ["n2", "follower"]])],
  };
  const html = exploreReportHtml(parent, resultOf([byRole]), { replayOf });
  assert.match(html, /<h3>#1 <code>error@leader<\/code>/);
  assert.match(html, /<dt>roles<\/dt><dd>error: n1 leader, n2 follower<\/dd>/);
});
