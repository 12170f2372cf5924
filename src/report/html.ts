/**
 * The HTML report of a sweep: one self-contained page (inline CSS and SVG, no
 * script, no network; a Content-Security-Policy forbids both) with the totals,
 * a timeline of the trace's ops (by op index, and by time behind a CSS-only
 * toggle), the fault points on the same axis coloured by verdict, the failing
 * points with their reproduce commands, and every point in a collapsible table.
 * The timeline is ./trace_timeline.ts's, the style ./page.ts's (the explore's page
 * shares both). Every string that comes from the trace or the sweep is escaped.
 * Pure: no I/O.
 *
 * @module
 */

import type { ParentTrace } from "../replay/replay.ts";
import {
  orderFails,
  pointMessage,
  stateFails,
  type SweepPoint,
  type SweepResult,
} from "../sweep/result.ts";
import { describeRate, type Reproduced } from "../sweep/confirm.ts";
import { type PointStatus, pointStatus, statusWord } from "../sweep/status.ts";
import { formatDuration } from "../util/units.ts";
import { escapeMarkup } from "./markup.ts";
import { card, REPORT_CSS, reportPage, scenarioName, timelineLink } from "./page.ts";
import {
  opLegendItems,
  phaseLegendItems,
  STATUS_COLORS,
  STATUS_LABELS,
  STATUSES,
  type TimelineLane,
  traceTimelineSvg,
} from "./trace_timeline.ts";

/** Limits of {@link sweepReportHtml}, so that a sweep of many points keeps a small page. */
export interface SweepReportOptions {
  /** Rows of the failing points' table before it is cut, with a note (default 500). */
  maxFailingRows?: number;
  /** Rows of the table of all points before it is cut, with a note (default 2000). */
  maxRows?: number;
  /**
   * Fault points drawn one by one with a hover title, per chart (default 1000);
   * beyond that, passing points are drawn as one shape without titles.
   */
  maxPointMarks?: number;
  /**
   * The recording's timeline for ui.perfetto.dev (`faultline trace perfetto`), written beside
   * the page: its address relative to the page, which links it.
   */
  perfetto?: string;
}

/** A point's verdict as the report shows it: a fault that never fired is not a pass. */
type Status = PointStatus;

/**
 * Renders the HTML report of a sweep.
 *
 * @example
 * ```ts
 * const parent = await readParent("fsync-log.trace");
 * const result = await sweep(parent, { fault: "power-loss", points: { kind: "flushes" }, jobs: 2, outputDir, keepData: false });
 * await Deno.writeTextFile("sweep.html", await sweepReportHtml(parent, result));
 * ```
 */
// deno-lint-ignore require-await -- async by the CLI's contract; rendering is synchronous and pure
export async function sweepReportHtml(
  parent: ParentTrace,
  result: SweepResult,
  options: SweepReportOptions = {},
): Promise<string> {
  return renderReport(parent, result, {
    maxFailingRows: options.maxFailingRows ?? 500,
    maxRows: options.maxRows ?? 2000,
    maxPointMarks: options.maxPointMarks ?? 1000,
    perfetto: options.perfetto ?? "",
  });
}

// ---------------------------------------------------------------------------
// Text helpers

const esc = escapeMarkup;

const statusOf: (point: SweepPoint) => Status = pointStatus;

function pointTitle(point: SweepPoint, status: Status): string {
  const lines = [`op ${point.at}: ${point.op}`, STATUS_LABELS[status], pointMessage(point)];
  if (point.sameCrashAs !== undefined) lines.push(`same crash state as op ${point.sameCrashAs}`);
  return lines.join("\n");
}

function pointAnchor(point: SweepPoint, status: Status): string {
  return status === "fail" ? `p${point.at}` : `all-p${point.at}`;
}

// ---------------------------------------------------------------------------
// The page

function legend(parent: ParentTrace, result: SweepResult): string {
  const items = opLegendItems(parent);
  const statusCounts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const point of result.points) statusCounts[statusOf(point)]++;
  for (const status of ["pass", "fail", "not-fired", "inconclusive"] as const) {
    if (status === "inconclusive" && statusCounts[status] === 0) continue;
    items.push(
      `<li><span class="swatch point" style="background:${STATUS_COLORS[status]}"></span>${
        status === "fail" ? "fail" : STATUS_LABELS[status]
      } <span class="muted">${statusCounts[status]}</span></li>`,
    );
  }
  items.push(...phaseLegendItems(parent));
  return `<ul class="legend">${items.join("")}</ul>`;
}

function header(parent: ParentTrace, result: SweepResult, perfetto: string): string {
  const ops = parent.ordered;
  const checkOps = ops.filter((op) => op.phase === "check").length;
  const phases = checkOps > 0 ? ` (${ops.length - checkOps} run, ${checkOps} check)` : "";
  const cards = [
    card("points", result.points.length, "points"),
    card("passed", result.passed, "passed", "good"),
    card("failed", result.failed, "failed", result.failed > 0 ? "bad" : ""),
    card("not-fired", result.notFired, "never fired", "quiet"),
    ...(result.inconclusive
      ? [card("inconclusive", result.inconclusive, "inconclusive", "quiet")]
      : []),
    ...(result.distinctCrashStates !== undefined
      ? [card("crash-states", result.distinctCrashStates, "distinct crash states")]
      : []),
    card("replays", result.replays, "replays"),
    card("duration", formatDuration(result.durationMs), "duration"),
  ];
  const warnings = [
    ...(parent.warning ? [parent.warning] : []),
    ...(result.partial
      ? [
        `Partial: the sweep was stopped after ${result.points.length} of ${result.partial.pointsPlanned} points; only the finished points are here.`,
      ]
      : []),
  ];
  const warning = warnings.map((text) => `<p class="warning">${esc(text)}</p>`).join("");
  return `<header>
<h1>Sweep of <span class="name">${esc(scenarioName(parent))}</span> with <code>${
    esc(result.fault)
  }</code></h1>
<dl class="meta">
<dt>trace</dt><dd><code class="sel">${esc(parent.path)}</code></dd>
<dt>scenario</dt><dd>${esc(scenarioName(parent))}</dd>
<dt>fault</dt><dd><code>${esc(result.fault)}</code></dd>
${
    result.with?.length
      ? `<dt>with</dt><dd>${result.with.map((w) => `<code>${esc(w)}</code>`).join(" ")}</dd>\n`
      : ""
  }
<dt>ops</dt><dd>${esc(`${ops.length}${phases}`)}</dd>
${timelineLink(perfetto)}</dl>
${warning}<div class="cards">${cards.join("")}</div>
</header>`;
}

/** " reproduced: stable 3/3" for a failure that got several runs, else "". */
function rateText(rate: Reproduced | undefined): string {
  return rate && rate.runs > 1 ? ` reproduced: ${describeRate(rate)}` : "";
}

function oracleText(point: SweepPoint): string {
  const oracle = point.oracle;
  if (!oracle) return "";
  const keys = oracle.lostKeys.length > 0 ? ` (${oracle.lostKeys.join(", ")})` : "";
  return `oracle: ${oracle.acked} acked, ${oracle.found} found, ${oracle.lost} lost${keys}`;
}

function failingTable(result: SweepResult, limits: Required<SweepReportOptions>): string {
  const failing = result.points.filter((p) => statusOf(p) === "fail");
  if (failing.length === 0) {
    return `<section id="failing"><h2>Failing points</h2><p class="ok">No point failed.</p></section>`;
  }
  const rows = failing.slice(0, limits.maxFailingRows).map((p) => {
    const states = (p.states?.outcomes ?? []).filter(stateFails).map((o) =>
      `state ${o.id}, ${o.drops}: ${o.verdict.reason}${rateText(o.reproduced)} (${o.reproduce})`
    );
    const orders = (p.orders ?? []).filter(orderFails).map((o) =>
      `order ${o.order.join(",")}: ${o.verdict.reason}${rateText(o.reproduced)} (${o.reproduce})`
    );
    const notes = [
      p.states || p.orders ? "" : rateText(p.reproduced).trim(),
      oracleText(p),
      ...states,
      ...orders,
      p.trace ? `replay trace: ${p.trace}` : "",
    ].filter(Boolean);
    return `<tr id="p${p.at}"><td class="num">${p.at}</td><td><code>${esc(p.op)}</code></td><td>${
      esc(pointMessage(p))
    }${
      notes.map((n) => `<div class="note">${esc(n)}</div>`).join("")
    }</td><td><code class="cmd sel">${esc(p.reproduce)}</code></td></tr>`;
  });
  const cut = failing.length > limits.maxFailingRows
    ? `<p class="cut">${
      failing.length - limits.maxFailingRows
    } more failing points are not listed here; the sweep's <code>--json</code> output lists every point.</p>`
    : "";
  return `<section id="failing"><h2>Failing points <span class="muted">${failing.length}</span></h2>
<table class="points failing"><thead><tr><th>op</th><th>what</th><th>reason</th><th>reproduce</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>${cut}</section>`;
}

function allTable(result: SweepResult, limits: Required<SweepReportOptions>): string {
  const rows = result.points.slice(0, limits.maxRows).map((p) => {
    const status = statusOf(p);
    const notes = [
      p.sameCrashAs !== undefined ? `same crash state as op ${p.sameCrashAs}` : "",
      oracleText(p),
    ].filter(Boolean).join("; ");
    return `<tr id="all-p${p.at}" class="${status}"><td class="num">${p.at}</td><td><code>${
      esc(p.op)
    }</code></td><td><span class="badge ${status}">${esc(statusWord(p))}</span></td><td>${
      esc(p.verdict.reason)
    }</td><td class="note">${esc(notes)}</td></tr>`;
  });
  const cut = result.points.length > limits.maxRows
    ? `<p class="cut">${
      result.points.length - limits.maxRows
    } more points are not listed here; the sweep's <code>--json</code> output lists every point.</p>`
    : "";
  return `<section id="all"><details><summary><h2>All points <span class="muted">${result.points.length}</span></h2></summary>
<table class="points"><thead><tr><th>op</th><th>what</th><th>verdict</th><th>reason</th><th>notes</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>${cut}</details></section>`;
}

function renderReport(
  parent: ParentTrace,
  result: SweepResult,
  limits: Required<SweepReportOptions>,
): string {
  const lane: TimelineLane = {
    name: "fault points",
    unit: "point",
    marks: result.points.map((point) => {
      const status = statusOf(point);
      return {
        at: point.at,
        status,
        title: pointTitle(point, status),
        href: `#${pointAnchor(point, status)}`,
      };
    }),
    maxMarks: limits.maxPointMarks,
  };
  const byIndex = traceTimelineSvg(parent, lane, "index");
  const byTime = traceTimelineSvg(parent, lane, "time");
  const title = `faultline sweep: ${scenarioName(parent)}, ${result.fault}`;
  return reportPage(
    title,
    REPORT_CSS,
    `${header(parent, result, limits.perfetto)}
<section id="timeline">
<h2>Timeline</h2>
<p class="muted">Each band is one disk: y is the byte offset (0 at the bottom, the band's top is the largest offset + length seen on that disk). Flushes are vertical ticks. The fault points lane shows where the fault was injected and what came of it; hover for details, click to jump to the point's row.</p>
${legend(parent, result)}
<input type="radio" name="x-axis" id="x-index" checked>
<input type="radio" name="x-axis" id="x-time">
<div class="toggle"><span class="muted">x axis:</span><label for="x-index">op index</label><label for="x-time">time</label></div>
<div class="chart chart-index">
${byIndex}
</div>
<div class="chart chart-time">
${byTime}
</div>
</section>
${failingTable(result, limits)}
${allTable(result, limits)}`,
  );
}
