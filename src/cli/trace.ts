/**
 * `faultline trace stats` and `faultline trace show`: read a trace, even one
 * whose tail was cut, and say so.
 *
 * @module
 */

import { describeEnd, TraceReader } from "../trace/reader.ts";
import type { OpRecord, TraceRecord } from "../trace/schema.ts";
import { OpStats } from "../trace/stats.ts";
import { formatBytes, formatDuration } from "../util/units.ts";
import { UsageError } from "./errors.ts";
import { printStatsTable, table } from "./format.ts";

/** Runs `trace stats`. */
export async function traceStatsCommand(path: string, options: { json: boolean }): Promise<number> {
  const reader = await TraceReader.open(path);
  const stats = new OpStats();
  const events: Record<string, number> = {};
  for await (const record of reader.records()) {
    if (record.record === "op") stats.add(record);
    else if (record.record === "event") events[record.event] = (events[record.event] ?? 0) + 1;
  }
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  const summary = stats.summary();
  const { header, end } = reader;
  if (options.json) {
    console.log(JSON.stringify({
      trace: path,
      command: header.command,
      createdAt: header.createdAt,
      seed: header.seed,
      faultPlan: header.faults,
      disks: header.disks.map(({ node, name, size }) => ({ node, name, size })),
      complete: end.footer !== null,
      cutAt: end.cutAt,
      ...summary,
      events,
    }));
    return 0;
  }
  console.log(
    `${path}: ${header.command} trace, ${summary.ops} ops, ${
      formatBytes(summary.bytes)
    } moved over ${formatDuration(summary.duration)}${end.footer ? "" : " (incomplete)"}`,
  );
  console.log(`disks: ${header.disks.map((d) => `${d.name} (${formatBytes(d.size)})`).join(", ")}`);
  if (header.faults.length > 0) {
    console.log(`fault plan: ${header.faults.join(" ")} (seed ${header.seed})`);
  }
  printStatsTable(summary);
  const eventList = Object.entries(events);
  if (eventList.length > 0) {
    console.log(`events: ${eventList.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  }
  return 0;
}

/** The JSON form of an op record in `trace show` (written bytes are left out). */
export function opLine(record: OpRecord): Record<string, unknown> {
  const { record: _, data: __, ...rest } = record;
  return rest;
}

/** Runs `trace show`. */
export async function traceShowCommand(
  path: string,
  options: { json: boolean; events: boolean; from?: number; limit?: number },
): Promise<number> {
  if (options.limit !== undefined && options.limit < 1) {
    throw new UsageError("--limit must be at least 1");
  }
  const reader = await TraceReader.open(path);
  const from = options.from ?? 0;
  const rows: string[][] = [["index", "time", "disk", "op", "offset", "length", "result", "fault"]];
  let shown = 0;
  const wanted = (record: TraceRecord) =>
    record.record === "op" ? record.index >= from : options.events && record.record === "event";
  for await (const record of reader.records()) {
    if (!wanted(record)) continue;
    if (options.limit !== undefined && shown >= options.limit) continue;
    shown++;
    if (options.json) {
      console.log(JSON.stringify(record.record === "op" ? opLine(record) : record));
    } else if (record.record === "op") {
      rows.push([
        String(record.index),
        `${(record.end / 1000).toFixed(3)}s`,
        record.disk,
        record.op + (record.fua ? " fua" : ""),
        String(record.offset),
        String(record.length),
        record.result,
        record.fault ? `${record.fault.kind} (${record.fault.rule})` : "",
      ]);
    } else if (record.record === "event") {
      const { record: _, event, at, time, ...fields } = record;
      rows.push([
        `@${at}`,
        `${(time / 1000).toFixed(3)}s`,
        "",
        `[${event}]`,
        JSON.stringify(fields),
        "",
        "",
        "",
      ]);
    }
  }
  if (!options.json) console.log(table(rows));
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  return 0;
}
