/**
 * The HTML report of an explore: one self-contained page (inline CSS and SVG, no script,
 * nothing loaded) in the sweep page's style (./page.ts). The totals; the distinct findings
 * first, each with its minimal schedule and rate, the schedule it was shrunk from, how
 * shrinking went, the replay command, the history checker's counterexample where it found
 * one (./history_timeline.ts) and the recording's timeline with the minimal schedule's
 * faults at their moments (./trace_timeline.ts); then what was covered (per kind and per
 * node, drawn and fired, the kinds never drawn or never fired, the crash states and the
 * combinations of kinds reached) and every schedule. Every string is escaped. Pure.
 *
 * @module
 */

import type { DrawnFault } from "../explore/draw.ts";
import type { ExploreResult, ScheduleStatus, ShrunkFailure } from "../explore/explore.ts";
import type { Finding } from "../explore/findings.ts";
import type { ParentTrace } from "../replay/replay.ts";
import { describeRate } from "../sweep/confirm.ts";
import { formatDuration } from "../util/units.ts";
import { historySection, historyTimeline } from "./history_timeline.ts";
import { escapeMarkup } from "./markup.ts";
import { card, REPORT_CSS, reportPage, scenarioName, timelineLink } from "./page.ts";
import {
  opLegendItems,
  phaseLegendItems,
  plural,
  type TimelineLane,
  traceTimelineSvg,
} from "./trace_timeline.ts";

const esc = escapeMarkup;

/** What the explore page needs beside the result. */
export interface ExploreReportOptions {
  /** The `replay` command that runs a schedule. */
  replayOf: (faults: readonly DrawnFault[]) => string;
  /**
   * The recording's timeline for ui.perfetto.dev, written beside the page: its address
   * relative to the page, which links it.
   */
  perfetto?: string;
  /** Rows of the schedules' table before it is cut, with a note (default 2000). */
  maxRows?: number;
}

/**
 * Renders the HTML report of an explore.
 *
 * @example
 * ```ts
 * const replayOf = (faults) => reproduceCommand(parent.path, { faults: faults.map((f) => f.spec) });
 * await Deno.writeTextFile("explore.html", exploreReportHtml(parent, result, { replayOf }));
 * ```
 */
export function exploreReportHtml(
  parent: ParentTrace,
  result: ExploreResult,
  options: ExploreReportOptions,
): string {
  const title = `faultline explore: ${scenarioName(parent)}, seed ${result.seed}`;
  return reportPage(
    title,
    REPORT_CSS + EXPLORE_CSS,
    `${header(parent, result, options.perfetto ?? "")}
${findingsSection(parent, result, options)}
${coverageSection(result)}
${schedulesSection(result, options.maxRows ?? 2000)}`,
  );
}

const EXPLORE_CSS = `
section.finding { border: 1px solid var(--line); border-left: 4px solid var(--fail); border-radius: 8px; padding: 4px 14px 12px; margin: 12px 0; }
section.finding h3 { font-size: 15.5px; margin: 8px 0 6px; font-weight: 600; }
section.finding h4 { font-size: 14px; margin: 12px 0 4px; font-weight: 600; }
ol.faults { margin: 2px 0 4px; padding-left: 22px; }
.badge.not-reached { background: var(--nf); }
.badge.error { background: var(--fail); }
td.never { color: var(--fail); }
table.points.coverage { display: inline-table; width: auto; min-width: 420px; margin-right: 28px; vertical-align: top; }
`;

function statusCounts(result: ExploreResult): Record<ScheduleStatus, number> {
  const counts: Record<ScheduleStatus, number> = {
    pass: 0,
    fail: 0,
    "not-reached": 0,
    inconclusive: 0,
    error: 0,
  };
  for (const schedule of result.schedules) counts[schedule.status]++;
  return counts;
}

function header(parent: ParentTrace, result: ExploreResult, perfetto: string): string {
  const counts = statusCounts(result);
  const { coverage } = result;
  const findings = result.findings.length;
  const cards = [
    card("schedules", coverage.schedules, "schedules run"),
    card("findings", findings, "distinct findings", findings > 0 ? "bad" : "good"),
    card("failed", counts.fail, "failing schedules", counts.fail > 0 ? "bad" : ""),
    card("passed", counts.pass, "passed", "good"),
    card("not-reached", counts["not-reached"], "first fault never fired", "quiet"),
    ...(counts.inconclusive > 0
      ? [card("inconclusive", counts.inconclusive, "inconclusive", "quiet")]
      : []),
    ...(counts.error > 0 ? [card("errors", counts.error, "could not run", "bad")] : []),
    card("crash-states", coverage.crashStates, "distinct crash states"),
    card("combinations", coverage.combinations, "combinations of kinds fired"),
    card("duration", formatDuration(result.elapsedMs), "duration"),
  ];
  const warnings = [
    ...(parent.warning ? [parent.warning] : []),
    ...(result.stopped
      ? [
        `Stopped (${result.stopped}) after ${result.schedules.length} schedules: only the finished ones are here.`,
      ]
      : []),
  ];
  const excluded = result.excluded.length > 0
    ? `<dt>not drawn</dt><dd>${
      result.excluded.map((e) => `<code>${esc(e.kind)}</code> ${esc(`(${e.why})`)}`).join("; ")
    }</dd>\n`
    : "";
  return `<header>
<h1>Explore of <span class="name">${esc(scenarioName(parent))}</span>, seed ${esc(result.seed)}</h1>
<dl class="meta">
<dt>trace</dt><dd><code class="sel">${esc(parent.path)}</code></dd>
<dt>seed</dt><dd>${esc(result.seed)} <span class="muted">(kind table v${
    esc(result.tableVersion)
  }: the same seed, recording and table draw the same schedules)</span></dd>
<dt>schedules</dt><dd>1 to ${esc(result.maxFaults)} faults each</dd>
<dt>kinds</dt><dd>${result.kinds.map((k) => `<code>${esc(k)}</code>`).join(" ")}</dd>
${excluded}${timelineLink(perfetto)}</dl>
${warnings.map((text) => `<p class="warning">${esc(text)}</p>`).join("")}<div class="cards">${
    cards.join("")
  }</div>
</header>`;
}

function faultList(faults: readonly DrawnFault[]): string {
  return `<ol class="faults">${
    faults.map((f) =>
      `<li><code>${esc(f.spec)}</code> <span class="muted">arrival ${f.at}</span></li>`
    )
      .join("")
  }</ol>`;
}

function shrinkNote(failure: ShrunkFailure): string {
  const { tried, kept, replays, stoppedEarly } = failure.shrink;
  const how = `${kept} of ${tried} steps kept, ${plural(replays, "replay")}`;
  return stoppedEarly ? `${how}; stopped early: ${stoppedEarly}` : how;
}

/** The roles each minimal fault's nodes held, when the workload reported any. */
function rolesNote(failure: ShrunkFailure): string {
  if (!failure.roles) return "";
  const notes = failure.minimal.map((fault, i) => {
    const roles = [...(failure.roles?.[i] ?? new Map())].map(([node, role]) => `${node} ${role}`);
    return `${fault.effect.kind}: ${roles.length > 0 ? roles.join(", ") : "no role reported"}`;
  });
  return `<dt>roles</dt><dd>${esc(notes.join("; "))}</dd>`;
}

/** The history checker's counterexample, drawn, when a run of the minimal schedule had one. */
function historyPart(failure: ShrunkFailure): string {
  const found = failure.history;
  if (!found) return "";
  return `<h4>History counterexample <span class="muted">${esc(found.model)}</span></h4>
<p>${esc(found.reason)}</p>
${historySection(historyTimeline(found.history, found.counterexample), found.description)}`;
}

/** The recording's ops, with the minimal schedule's faults on the lane under them. */
function timelinePart(parent: ParentTrace, failure: ShrunkFailure, id: string): string {
  const lane: TimelineLane = {
    name: "minimal faults",
    unit: "fault",
    marks: failure.minimal.map((fault) => ({
      at: fault.at,
      status: "fail",
      title: `arrival ${fault.at}: ${fault.spec}`,
      href: `#${id}`,
    })),
    maxMarks: 100,
  };
  return `<h4>Timeline <span class="muted">the recording's ops by op index; red: where the minimal schedule's faults are put</span></h4>
<ul class="legend">${[...opLegendItems(parent), ...phaseLegendItems(parent)].join("")}</ul>
<div class="chart">${traceTimelineSvg(parent, lane, "index")}</div>`;
}

function findingPart(
  parent: ParentTrace,
  finding: Finding,
  n: number,
  options: ExploreReportOptions,
): string {
  const failure = finding.first as ShrunkFailure;
  const id = `f${n}`;
  return `<section class="finding" id="${id}">
<h3>#${n} <code>${esc(finding.shape)}</code>: ${esc(failure.reason)}</h3>
<p class="muted">${esc(plural(finding.count, "failing schedule"))}: ${
    finding.schedules.map((s) => `<a href="#s${s}">${s}</a>`).join(", ")
  }</p>
<dl class="meta">
<dt>minimal</dt><dd>${esc(describeRate(failure.rate))}${faultList(failure.minimal)}</dd>
<dt>replay</dt><dd><code class="cmd sel">${esc(options.replayOf(failure.minimal))}</code></dd>
<dt>shrunk from</dt><dd>schedule ${failure.schedule}, ${esc(describeRate(failure.originalRate))}${
    faultList(failure.original)
  }</dd>
<dt>shrinking</dt><dd>${esc(shrinkNote(failure))}</dd>
${rolesNote(failure)}</dl>
${historyPart(failure)}
${timelinePart(parent, failure, id)}
</section>`;
}

function findingsSection(
  parent: ParentTrace,
  result: ExploreResult,
  options: ExploreReportOptions,
): string {
  if (result.findings.length === 0) {
    return `<section id="findings"><h2>Findings</h2><p class="ok">No schedule failed.</p></section>`;
  }
  return `<section id="findings"><h2>Distinct findings <span class="muted">${result.findings.length}</span></h2>
${result.findings.map((finding, i) => findingPart(parent, finding, i + 1, options)).join("\n")}
</section>`;
}

function coverageSection(result: ExploreResult): string {
  const { coverage } = result;
  const kindRows = coverage.kinds.map((k) => {
    const note = k.drawn === 0 ? "never drawn" : k.fired === 0 ? "never fired" : "";
    return `<tr id="kind-${esc(k.kind)}"><td><code>${
      esc(k.kind)
    }</code></td><td class="num">${k.drawn}</td><td class="num">${k.fired}</td><td class="${
      note ? "never" : ""
    }">${esc(note)}</td></tr>`;
  });
  const nodeRows = coverage.nodes.map((n) =>
    `<tr id="node-${esc(n.node)}"><td>${
      esc(n.node)
    }</td><td class="num">${n.drawn}</td><td class="num">${n.fired}</td></tr>`
  );
  const list = (kinds: readonly string[]) =>
    kinds.length > 0 ? kinds.map((k) => `<code>${esc(k)}</code>`).join(" ") : "none";
  return `<section id="coverage"><h2>Coverage</h2>
<p class="muted">What was explored, so that a clean run can be judged: a kind that never fired was never tried.</p>
<dl class="meta">
<dt>schedules run</dt><dd>${coverage.schedules}</dd>
<dt>never drawn</dt><dd>${list(coverage.neverDrawn)}</dd>
<dt>drawn, never fired</dt><dd>${list(coverage.neverFired)}</dd>
<dt>crash states</dt><dd>${coverage.crashStates} distinct</dd>
<dt>combinations</dt><dd>${coverage.combinations} distinct sets of kinds fired in one schedule</dd>
</dl>
<table class="points coverage coverage-kinds"><thead><tr><th>kind</th><th>drawn</th><th>fired</th><th></th></tr></thead>
<tbody>
${kindRows.join("\n")}
</tbody></table>
<table class="points coverage coverage-nodes"><thead><tr><th>node</th><th>faults drawn</th><th>fired</th></tr></thead>
<tbody>
${nodeRows.join("\n")}
</tbody></table>
</section>`;
}

function schedulesSection(result: ExploreResult, maxRows: number): string {
  const rows = result.schedules.slice(0, maxRows).map((s) =>
    `<tr id="s${s.index}" class="${s.status}"><td class="num">${s.index}</td><td><span class="badge ${s.status}">${
      esc(s.status)
    }</span></td><td>${s.faults.map((f) => `<code>${esc(f)}</code>`).join("<br>")}</td><td>${
      esc(s.reason)
    }</td></tr>`
  );
  const cut = result.schedules.length > maxRows
    ? `<p class="cut">${
      result.schedules.length - maxRows
    } more schedules are not listed here; the explore's <code>--json</code> output lists every one.</p>`
    : "";
  return `<section id="schedules"><details><summary><h2>All schedules <span class="muted">${result.schedules.length}</span></h2></summary>
<table class="points"><thead><tr><th>#</th><th>status</th><th>faults</th><th>reason</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>${cut}</details></section>`;
}
