/**
 * `faultline trace stats`, `faultline trace show`, `faultline trace pcap` and
 * `faultline trace perfetto`: read a trace, even one whose tail was cut, and say so.
 *
 * @module
 */

import { decodeFrame, describeFrame } from "../net/frame.ts";
import { describeFrameFaults } from "../net/frame_record.ts";
import { type PcapngInterface, PcapngWriter } from "../net/pcapng.ts";
import { perfettoTrace } from "../report/perfetto.ts";
import { describeEnd, TraceReader } from "../trace/reader.ts";
import {
  type EventRecord,
  type FrameRecord,
  type HeaderRecord,
  type OpRecord,
  TRACE_VERSION,
  type TraceRecord,
} from "../trace/schema.ts";
import { LatencyStats, type LatencySummary } from "../trace/latency_stats.ts";
import { FrameStats, OpStats } from "../trace/stats.ts";
import { formatBytes, formatDuration } from "../util/units.ts";
import { pinningOfTrace } from "../run/pinning.ts";
import { formatGuestClock } from "../vm/guest_clock.ts";
import { EXIT, UsageError } from "./errors.ts";
import { printStatsTable, table } from "./format.ts";

/** Runs `trace stats`. */
export async function traceStatsCommand(path: string, options: { json: boolean }): Promise<number> {
  const reader = await TraceReader.open(path);
  const stats = new OpStats();
  const latency = new LatencyStats();
  const frames = new FrameStats();
  const events: Record<string, number> = {};
  for await (const record of reader.records()) {
    if (record.record === "op") {
      stats.add(record);
      latency.add(record);
    } else if (record.record === "frame") frames.add(record);
    else if (record.record === "event") events[record.event] = (events[record.event] ?? 0) + 1;
  }
  const net = frames.summary();
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  const summary = stats.summary();
  const { header, end } = reader;
  if (options.json) {
    console.log(JSON.stringify({
      trace: path,
      version: header.version,
      command: header.command,
      createdAt: header.createdAt,
      seed: header.seed,
      faultPlan: header.faults,
      disks: header.disks.map(({ node, name, size }) => ({ node, name, size })),
      ...(header.setup ? { setup: header.setup } : {}),
      ...(header.guests ? { guests: pinningOfTrace(header) } : {}),
      complete: end.footer !== null,
      cutAt: end.cutAt,
      ...summary,
      latency: latency.summary(),
      ...(net.frames > 0 ? { net } : {}),
      events,
    }));
    return EXIT.pass;
  }
  console.log(
    `${path}: ${header.command} trace${
      header.version < TRACE_VERSION ? ` of version ${header.version}` : ""
    }, ${summary.ops} ops, ${formatBytes(summary.bytes)} moved over ${
      formatDuration(summary.duration)
    }${end.footer ? "" : " (incomplete)"}`,
  );
  const several = new Set(header.disks.map((d) => d.node)).size > 1;
  console.log(
    `disks: ${
      header.disks.map((d) => `${several ? `${d.node}/` : ""}${d.name} (${formatBytes(d.size)})`)
        .join(", ")
    }`,
  );
  if (header.faults.length > 0) {
    console.log(`fault plan: ${header.faults.join(" ")} (seed ${header.seed})`);
  }
  const setup = setupNote(header);
  if (setup) console.log(setup);
  const guests = guestsNote(header);
  if (guests) console.log(guests);
  printStatsTable(summary);
  printLatencyTable(latency.summary());
  if (net.frames > 0) printFrameTable(net);
  const eventList = Object.entries(events);
  if (eventList.length > 0) {
    console.log(`events: ${eventList.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  }
  return EXIT.pass;
}

/**
 * What a trace's header says of its guests' clock and seeds, in one line; null for a trace
 * without guests (`serve`'s).
 *
 * @throws {RunError} for a clock or seed that is not one.
 * @example
 * ```ts
 * guestsNote(header); // "guests: clock host; seeds e1 1871403307, e2 2437051374, e3 530716283"
 * ```
 */
export function guestsNote(header: HeaderRecord): string | null {
  if (!header.guests) return null;
  const { clock, seeds } = pinningOfTrace(header);
  const seeded = Object.entries(seeds).map(([node, seed]) => `${node} ${seed}`);
  return `guests: clock ${formatGuestClock(clock)}; ${
    seeded.length > 0 ? `seeds ${seeded.join(", ")}` : "unseeded"
  }`;
}

/**
 * What a trace's header says of the setup phase, in one line: the nodes that ran it, and
 * that its ops are not in the trace; null without one.
 *
 * @example
 * ```ts
 * setupNote(header); // "setup: node db ran its setup before the run (38.6 s); its ops are not in this trace: ..."
 * ```
 */
export function setupNote(header: HeaderRecord): string | null {
  const setup = header.setup as
    | { nodes?: string[]; images?: Record<string, string>; ms?: number }
    | undefined;
  if (!setup || !Array.isArray(setup.nodes)) return null;
  const nodes = setup.nodes;
  const images = Object.entries(setup.images ?? {})
    .map(([disk, sha256]) => `${disk} ${String(sha256).slice(0, 12)}`).join(", ");
  return `setup: ${nodes.length === 1 ? "node" : "nodes"} ${nodes.join(", ")} ran ${
    nodes.length === 1 ? "its" : "their"
  } setup before the run${
    typeof setup.ms === "number" ? ` (${formatDuration(setup.ms)})` : ""
  }; its ops are not in this trace: the disks it left are the base images (${images})`;
}

/** Milliseconds with three significant digits at most (`0.412`, `2.08`, `153`). */
function ms(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(3)));
}

/** Latency percentiles per disk and op type (arrival to reply), to stdout. */
function printLatencyTable(latency: Record<string, Partial<Record<string, LatencySummary>>>): void {
  const rows = [["latency (ms)", "op", "count", "p50", "p90", "p99", "max"]];
  for (const [disk, types] of Object.entries(latency)) {
    for (const [type, l] of Object.entries(types)) {
      if (!l) continue;
      rows.push([disk, type, String(l.count), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.max)]);
    }
  }
  if (rows.length > 1) console.log(table(rows));
}

/** Frames and bytes per link, to stdout. */
function printFrameTable(net: ReturnType<FrameStats["summary"]>): void {
  console.log(
    `frames: ${net.frames} (${
      formatBytes(net.bytes)
    }), ${net.broadcast} broadcast, ${net.unknown} to unknown MACs`,
  );
  const rows = [["link", "frames", "bytes", "dropped", "lost"]];
  for (const [link, c] of Object.entries(net.byLink)) {
    rows.push([link, String(c.frames), formatBytes(c.bytes), String(c.dropped), String(c.absent)]);
  }
  console.log(table(rows));
  const faults = Object.entries(net.faults);
  if (faults.length > 0) {
    console.log(`link faults: ${faults.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  }
}

/** The JSON form of a frame record in `trace show --net` (the bytes are left out). */
export function frameLine(record: FrameRecord): Record<string, unknown> {
  const { record: _, data: __, ...rest } = record;
  return rest;
}

/** The JSON form of an op record in `trace show` (written bytes are left out). */
export function opLine(record: OpRecord): Record<string, unknown> {
  const { record: _, data: __, ...rest } = record;
  return rest;
}

/** An op's fault in `trace show`: its kind, what it injected in time, and its rule. */
function describeOpFault(fault: NonNullable<OpRecord["fault"]>): string {
  const detail = fault.detail ?? {};
  const waited = typeof detail.latencyMs === "number"
    ? ` +${detail.latencyMs}ms`
    : typeof detail.stallMs === "number"
    ? ` +${Math.round(detail.stallMs)}ms`
    : "";
  return `${fault.kind}${waited} (${fault.rule})`;
}

/** The columns of `trace show`: an event's fields come last, so that no column is as wide as they are. */
export const SHOW_COLUMNS = [
  "index",
  "time",
  "disk",
  "op",
  "offset",
  "length",
  "result",
  "fault",
  "step",
  "event",
];

/** An event's fields in `trace show` are cut here (`--json` has them whole). */
const EVENT_WIDTH = 160;

/**
 * One row of `trace show`: an op, or an event (`@AT`, its name in brackets, its fields as
 * JSON in the last column, cut at 160 characters).
 *
 * @example
 * ```ts
 * table([SHOW_COLUMNS, showRow(op, false)]);
 * ```
 */
export function showRow(record: OpRecord | EventRecord, cluster: boolean): string[] {
  if (record.record === "op") {
    return [
      String(record.index),
      `${(record.end / 1000).toFixed(3)}s`,
      cluster ? `${record.node}/${record.disk}` : record.disk,
      record.op + (record.fua ? " fua" : ""),
      String(record.offset),
      String(record.length),
      record.result,
      record.fault ? describeOpFault(record.fault) : "",
      record.step ?? "",
      "",
    ];
  }
  const { record: _, event, at, time, ...fields } = record;
  const json = JSON.stringify(fields);
  return [
    `@${at}`,
    `${(time / 1000).toFixed(3)}s`,
    "",
    `[${event}]`,
    "",
    "",
    "",
    "",
    "",
    json.length > EVENT_WIDTH ? `${json.slice(0, EVENT_WIDTH - 3)}...` : json,
  ];
}

/** Runs `trace show`. */
export async function traceShowCommand(
  path: string,
  options: { json: boolean; events: boolean; net?: boolean; from?: number; limit?: number },
): Promise<number> {
  if (options.limit !== undefined && options.limit < 1) {
    throw new UsageError("--limit must be at least 1");
  }
  if (options.net) return await showFrames(path, options);
  const reader = await TraceReader.open(path);
  const setup = setupNote(reader.header);
  if (setup && !options.json) console.log(setup);
  const from = options.from ?? 0;
  // In a cluster a disk's name is its node's and its own.
  const cluster = new Set(reader.header.disks.map((disk) => disk.node)).size > 1;
  // The event column only when events are shown.
  const width = SHOW_COLUMNS.length - (options.events ? 0 : 1);
  const rows: string[][] = [SHOW_COLUMNS.slice(0, width)];
  let shown = 0;
  const wanted = (record: TraceRecord) =>
    record.record === "op" ? record.index >= from : options.events && record.record === "event";
  for await (const record of reader.records()) {
    if (!wanted(record)) continue;
    if (options.limit !== undefined && shown >= options.limit) continue;
    shown++;
    if (options.json) {
      console.log(JSON.stringify(record.record === "op" ? opLine(record) : record));
    } else if (record.record === "op" || record.record === "event") {
      rows.push(showRow(record, cluster).slice(0, width));
    }
  }
  if (!options.json) console.log(table(rows));
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  return EXIT.pass;
}

/** `trace show --net`: the frames, one per line. */
async function showFrames(
  path: string,
  options: { json: boolean; from?: number; limit?: number },
): Promise<number> {
  const reader = await TraceReader.open(path);
  const rows: string[][] = [["index", "time", "from", "to", "length", "frame", "faults"]];
  let shown = 0;
  for await (const record of reader.records()) {
    if (record.record !== "frame" || record.index < (options.from ?? 0)) continue;
    if (options.limit !== undefined && shown >= options.limit) continue;
    shown++;
    if (options.json) {
      console.log(JSON.stringify(frameLine(record)));
      continue;
    }
    const to = record.broadcast
      ? `*${record.to.length > 0 ? ` (${record.to.join(",")})` : ""}`
      : record.unknown
      ? "(unknown)"
      : record.to.join(",");
    const what = record.data ? describeFrame(decodeFrame(record.data)) : summaryOf(record);
    const faults = describeFrameFaults(record);
    rows.push([
      String(record.index),
      `${(record.time / 1000).toFixed(3)}s`,
      record.from,
      to,
      String(record.length),
      what,
      faults.join("; "),
    ]);
  }
  if (!options.json) console.log(table(rows));
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  return EXIT.pass;
}

/** A frame's summary from its record alone (when the bytes were not recorded). */
function summaryOf(record: FrameRecord): string {
  if (record.srcIp === undefined) return `ethertype 0x${record.ethertype.toString(16)}`;
  const ports = record.srcPort !== undefined;
  const flags = record.tcpFlags ? ` [${record.tcpFlags}]` : "";
  return `proto ${record.proto} ${record.srcIp}${
    ports ? `:${record.srcPort}` : ""
  } > ${record.dstIp}${ports ? `:${record.dstPort}` : ""}${flags}`;
}

/** The capture's interfaces as the trace header knows them: its network, else its scenario's nodes. */
function interfacesOf(header: HeaderRecord): PcapngInterface[] {
  const network = header.network as
    | { nodes?: { name: string; mac?: string; ip?: string; prefixLength?: number }[] }
    | undefined;
  if (Array.isArray(network?.nodes)) {
    return network.nodes.map(({ name, mac, ip, prefixLength }) => ({
      name,
      mac,
      ip,
      prefixLength,
    }));
  }
  const scenario = header.scenario as { nodes?: { name: string }[] } | undefined;
  return Array.isArray(scenario?.nodes) ? scenario.nodes.map(({ name }) => ({ name })) : [];
}

/** Runs `trace pcap`: the trace's frames as a pcapng capture, one interface per node. */
export async function tracePcapCommand(
  path: string,
  options: { output: string; json: boolean },
): Promise<number> {
  const reader = await TraceReader.open(path);
  if (reader.header.network === undefined) {
    reader.close();
    throw new UsageError(`${path}: this trace has no network frames (one-node run)`);
  }
  const epochMs = Date.parse(reader.header.createdAt);
  if (!Number.isFinite(epochMs)) {
    throw new UsageError(`${path}: the header's createdAt is not a date`);
  }
  const pcap = new PcapngWriter({
    application: `faultline ${reader.header.tool?.version ?? ""}`.trim(),
    interfaces: interfacesOf(reader.header),
  });
  let file: Deno.FsFile;
  try {
    file = await Deno.open(options.output, { write: true, create: true, truncate: true });
  } catch (error) {
    reader.close();
    throw new UsageError(`cannot write ${options.output}: ${(error as Error).message}`);
  }
  let frames = 0;
  let bytes = 0;
  const pending: Uint8Array[] = [pcap.start()];
  let pendingBytes = pending[0].length;
  const flush = async () => {
    const out = new Uint8Array(pendingBytes);
    let at = 0;
    for (const part of pending) {
      out.set(part, at);
      at += part.length;
    }
    for (let written = 0; written < out.length;) written += await file.write(out.subarray(written));
    bytes += out.length;
    pending.length = 0;
    pendingBytes = 0;
  };
  try {
    for await (const record of reader.records()) {
      if (record.record !== "frame") continue;
      const block = pcap.frame(record, epochMs * 1000);
      pending.push(block);
      pendingBytes += block.length;
      frames++;
      if (pendingBytes >= 1 << 20) await flush();
    }
    await flush();
  } finally {
    file.close();
  }
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  if (options.json) {
    console.log(
      JSON.stringify({
        trace: path,
        output: options.output,
        frames,
        bytes,
        interfaces: pcap.interfaces,
      }),
    );
  } else {
    console.log(
      `${options.output}: ${frames} frames on ${pcap.interfaces.length} interfaces (${
        pcap.interfaces.join(", ") || "none"
      }), ${formatBytes(bytes)}`,
    );
  }
  return EXIT.pass;
}

/** What {@link writePerfetto} wrote. */
export interface PerfettoWritten {
  /** Events in the file, metadata included. */
  events: number;
  /** Op slices, frame slices (a frame's send and its delivery each), fault instants. */
  ops: number;
  frames: number;
  faults: number;
  /** Processes (the nodes and the run) and tracks. */
  processes: number;
  tracks: number;
}

/**
 * Writes a trace's timeline in the Chrome trace event format (src/report/perfetto.ts),
 * for ui.perfetto.dev and chrome://tracing. The JSON goes out in pieces: a cluster's
 * trace makes hundreds of thousands of events.
 *
 * @throws {UsageError} when the file cannot be written.
 */
export async function writePerfetto(path: string, output: string): Promise<PerfettoWritten> {
  const reader = await TraceReader.open(path);
  const records: TraceRecord[] = [];
  for await (const record of reader.records()) {
    // The bytes of writes and frames are not shown: leave them behind.
    if (record.record === "op" || record.record === "frame") {
      const { data: _, ...rest } = record;
      records.push(rest as TraceRecord);
    } else records.push(record);
  }
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  const duration = reader.end.footer?.duration;
  const timeline = perfettoTrace(reader.header, records, {
    ...(typeof duration === "number" ? { durationMs: duration } : {}),
  });
  let file: Deno.FsFile;
  try {
    file = await Deno.open(output, { write: true, create: true, truncate: true });
  } catch (error) {
    throw new UsageError(`cannot write ${output}: ${(error as Error).message}`);
  }
  const { traceEvents, ...rest } = timeline;
  const encoder = new TextEncoder();
  const write = async (text: string) => {
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
  };
  try {
    await write(
      `{"displayTimeUnit":"ms","otherData":${JSON.stringify(rest.otherData)},"traceEvents":[\n`,
    );
    for (let i = 0; i < traceEvents.length; i += 2000) {
      const part = traceEvents.slice(i, i + 2000).map((event) => JSON.stringify(event));
      await write(`${i > 0 ? ",\n" : ""}${part.join(",\n")}`);
    }
    await write("\n]}\n");
  } finally {
    file.close();
  }
  const count = (test: (e: (typeof traceEvents)[number]) => boolean) =>
    traceEvents.filter(test).length;
  return {
    events: traceEvents.length,
    ops: count((e) => e.cat === "op"),
    frames: count((e) => e.cat === "frame" && e.ph === "X"),
    faults: count((e) => e.ph === "i"),
    processes: count((e) => e.name === "process_name"),
    tracks: count((e) => e.name === "thread_name"),
  };
}

/** Runs `trace perfetto`: the trace as a timeline for ui.perfetto.dev and chrome://tracing. */
export async function tracePerfettoCommand(
  path: string,
  options: { output: string; json: boolean },
): Promise<number> {
  const written = await writePerfetto(path, options.output);
  if (options.json) {
    console.log(JSON.stringify({ trace: path, output: options.output, ...written }));
  } else {
    const parts = [
      `${written.ops} ops`,
      ...(written.frames > 0 ? [`${written.frames} frame slices`] : []),
      ...(written.faults > 0
        ? [`${written.faults} instant${written.faults === 1 ? "" : "s"} (faults, crashes)`]
        : []),
    ];
    console.log(
      `${options.output}: ${
        parts.join(", ")
      } on ${written.tracks} tracks of ${written.processes} processes (${written.events} events); open it in https://ui.perfetto.dev or chrome://tracing`,
    );
  }
  return EXIT.pass;
}
