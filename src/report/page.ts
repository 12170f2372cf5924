/**
 * What the HTML reports share: the page around them (its head, style and footer: the sweep's
 * and the explore's pages look alike), the totals' cards and the scenario's name. Pure.
 *
 * @module
 */

import type { ParentTrace } from "../replay/replay.ts";
import { escapeMarkup } from "./markup.ts";
import { STATUS_COLORS } from "./trace_timeline.ts";
import { VERSION } from "../version.ts";

const esc = escapeMarkup;

/**
 * The scenario's name, from the trace's header, else its scenario.
 *
 * @example
 * ```ts
 * scenarioName(parent); // "fsync-log"
 * ```
 */
export function scenarioName(parent: ParentTrace): string {
  const fromHeader = (parent.header.scenario as { name?: unknown } | undefined)?.name;
  if (typeof fromHeader === "string") return fromHeader;
  return typeof parent.scenario?.name === "string" ? parent.scenario.name : "(unnamed)";
}

/**
 * A whole report page: no script and nothing from the network (its Content-Security-Policy
 * forbids both), `css` inline, `body` between the head and the footer that says so.
 *
 * @example
 * ```ts
 * reportPage("faultline sweep: fsync-log, eio", REPORT_CSS, "<h1>...</h1>");
 * ```
 */
export function reportPage(title: string, css: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="faultline ${esc(VERSION)}">
<title>${esc(title)}</title>
<style>${css}</style>
</head>
<body>
${body}
<footer>faultline ${
    esc(VERSION)
  }: a self-contained report, with no script and nothing loaded from the network.</footer>
</body>
</html>
`;
}

/**
 * One total as a card: a big number and its label; `tone` is `good`, `bad` or `quiet`.
 *
 * @example
 * ```ts
 * card("failed", 2, "failed", "bad"); // '<div class="card bad" id="total-failed">...'
 * ```
 */
export function card(id: string, value: string | number, label: string, tone = ""): string {
  return `<div class="card ${tone}" id="total-${id}"><b>${esc(value)}</b><span>${
    esc(label)
  }</span></div>`;
}

/**
 * The link to the recording's timeline (`trace perfetto`), when one was written beside the
 * page: a row of the header's list; empty without one.
 *
 * @example
 * ```ts
 * timelineLink("sweep.perfetto.json"); // '<dt>timeline</dt><dd><a id="perfetto" ...'
 * ```
 */
export function timelineLink(perfetto: string): string {
  if (!perfetto) return "";
  return `<dt>timeline</dt><dd><a id="perfetto" href="${esc(encodeURI(perfetto))}">${
    esc(perfetto)
  }</a> <span class="muted">every op, frame, fault and phase of the recording: open it in ui.perfetto.dev or chrome://tracing</span></dd>\n`;
}

/** The reports' style sheet (inline: the pages load nothing). */
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1f2430; --muted: #667085; --line: #d9dee7; --pass: ${STATUS_COLORS.pass}; --fail: ${STATUS_COLORS.fail}; --nf: ${
  STATUS_COLORS["not-fired"]
}; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
code, .cmd { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace; font-size: 12.5px; }
h1 { font-size: 22px; margin: 0 0 8px; font-weight: 600; }
h1 code { font-size: 20px; background: #f1f3f7; padding: 0 6px; border-radius: 4px; }
h2 { font-size: 17px; margin: 26px 0 8px; font-weight: 600; display: inline-block; }
.muted { color: var(--muted); font-weight: normal; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 14px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 110px; background: #fafbfc; }
.card b { display: block; font-size: 22px; line-height: 1.2; }
.card span { color: var(--muted); font-size: 12.5px; }
.card.good b { color: var(--pass); }
.card.bad { border-color: var(--fail); background: #fff5f5; }
.card.bad b { color: var(--fail); }
.card.quiet b { color: #5f6368; }
.warning { background: #fff7e0; border: 1px solid #f0c36d; padding: 6px 10px; border-radius: 6px; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 6px 0 8px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px; }
.swatch.tick { width: 2px; height: 14px; border-radius: 0; }
.swatch.point { width: 8px; height: 14px; }
.swatch.phase { background: #e9eef8; border-left: 2px dashed #4a5a7a; width: 16px; height: 14px; }
.toggle { display: flex; gap: 6px; align-items: center; margin-top: 4px; }
#timeline > input[type="radio"] { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.toggle label { border: 1px solid var(--line); border-radius: 6px; padding: 2px 10px; cursor: pointer; color: var(--muted); }
#x-index:checked ~ .toggle label[for="x-index"], #x-time:checked ~ .toggle label[for="x-time"] { background: #1f2430; color: #fff; border-color: #1f2430; }
.chart-time { display: none; }
#x-time:checked ~ .chart-index { display: none; }
#x-time:checked ~ .chart-time { display: block; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 6px 4px 0; margin-top: 6px; }
svg.timeline { display: block; width: 100%; height: auto; font: 12px system-ui, "DejaVu Sans", sans-serif; }
svg .band { fill: #fafbfc; stroke: #e3e7ee; }
svg .lane { fill: none; stroke: #e3e7ee; }
svg .check-region { fill: #dfe6f5; opacity: 0.55; }
svg .phase-boundary { stroke: #4a5a7a; stroke-width: 1.5; stroke-dasharray: 5 3; fill: none; }
svg .phase-label { fill: #4a5a7a; font-size: 11.5px; }
svg .phase-label.end { text-anchor: end; }
svg .band-name, svg .lane-name { text-anchor: end; font-weight: 600; fill: var(--fg); }
svg .band-scale { text-anchor: end; fill: var(--muted); font-size: 10px; }
svg .op-flush { stroke-width: 1; fill: none; opacity: 0.6; }
svg .step-0 { fill: #eef1f7; stroke: #c9d1e0; }
svg .step-1 { fill: #e2e8f3; stroke: #c9d1e0; }
svg .step-label { fill: #3b4660; font-size: 11px; }
svg .op-flush.dense { opacity: 0.22; }
svg .fail-guides { stroke: var(--fail); stroke-width: 1; opacity: 0.28; fill: none; }
svg .pt-pass { fill: var(--pass); }
svg .pt-fail { fill: var(--fail); }
svg .pt-not-fired { fill: var(--nf); }
svg .pt-inconclusive { fill: ${STATUS_COLORS.inconclusive}; }
svg .pt:hover { stroke: #000; stroke-width: 1; }
svg .axis { stroke: #98a2b3; fill: none; }
svg .tick { text-anchor: middle; fill: var(--muted); font-size: 11px; }
svg .caption { text-anchor: end; fill: var(--muted); font-size: 11.5px; }
table.points { border-collapse: collapse; width: 100%; margin-top: 4px; }
table.points th, table.points td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
table.points th { font-weight: 600; color: var(--muted); font-size: 12.5px; background: #f6f7f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.failing td:nth-child(3) { width: 38%; }
.note { color: var(--muted); font-size: 12.5px; }
.cmd { display: block; background: #f4f5f8; border: 1px solid var(--line); border-radius: 4px; padding: 3px 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.sel { user-select: all; -webkit-user-select: all; }
tr.fail td { background: #fff7f7; }
.badge { font-size: 12px; padding: 1px 7px; border-radius: 9px; color: #fff; white-space: nowrap; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
.badge.not-fired { background: var(--nf); }
.badge.inconclusive { background: ${STATUS_COLORS.inconclusive}; }
.ok { color: var(--pass); }
.cut { color: var(--muted); font-style: italic; }
details > summary { cursor: pointer; }
details > summary h2 { margin-top: 26px; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
`;
