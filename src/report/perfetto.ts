/**
 * A trace as a timeline for ui.perfetto.dev and chrome://tracing, in the Chrome trace event
 * format (JSON; "Trace Event Format", https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU):
 * a process per node, a track (thread) per disk and per link, each op a slice with its
 * type, offset, length, latency and result, the phases of each boot (boot, then run, check
 * or restart) as slices, faults and crashes as instant events, and every delivered frame a
 * flow from the sender's track to the receiver's. The run as a whole (its phases, power
 * cuts, link faults, control commands) is a process of its own, `run`.
 *
 * Slices on one track must nest (the viewers draw a track as a stack): ops of a disk that
 * overlap in time go to the disk's next track (`data`, `data #2`, ...), and so do frames of a
 * link. Times are microseconds since the trace started. Pure: records in, events out.
 *
 * @module
 */

import type {
  EventRecord,
  FrameRecord,
  HeaderRecord,
  OpRecord,
  TraceRecord,
} from "../trace/schema.ts";

/** An event's phase: complete slice, begin, end, instant, flow start and end, metadata. */
export type ChromeTracePhase = "X" | "B" | "E" | "i" | "s" | "f" | "M";

/** One event of the Chrome trace event format. */
export interface ChromeTraceEvent {
  /** What the event is called (a slice's label). */
  name: string;
  /** Its category: `op`, `frame`, `phase`, `fault`, ... */
  cat?: string;
  /** Its phase. */
  ph: ChromeTracePhase;
  /** When, in microseconds. */
  ts: number;
  /** A complete slice's (`X`) duration, in microseconds. */
  dur?: number;
  /** The process: a node, or the run. */
  pid: number;
  /** The thread: a track of its process. */
  tid: number;
  /** An instant's scope: the thread, the process or everything (`t`, `p`, `g`). */
  s?: "t" | "p" | "g";
  /** A flow's ID, the same on its start (`s`) and its end (`f`). */
  id?: number;
  /** A flow end's binding point: the slice that encloses it (`e`). */
  bp?: "e";
  /** What the viewer shows in the slice's details. */
  args?: Record<string, unknown>;
}

/** A trace file for the viewers: the JSON object format. */
export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: "ms";
  otherData: Record<string, unknown>;
}

/** Milliseconds (the trace's times) to microseconds, to the nanosecond. */
function us(ms: number): number {
  return Math.round(ms * 1_000_000) / 1000;
}

/** The smallest slice, so that a flow can bind inside it. */
const MIN_SLICE_US = 1;

/** Processes and their tracks: IDs given in order of first use, slices spread over lanes. */
class Tracks {
  readonly #pids = new Map<string, number>();
  readonly #tids = new Map<string, number>();
  readonly #lanes = new Map<string, number[]>();
  readonly #nextTid = new Map<number, number>();
  readonly metadata: ChromeTraceEvent[] = [];

  /** The process of a node (or of `run`), named on first use. */
  process(name: string): number {
    let pid = this.#pids.get(name);
    if (pid === undefined) {
      pid = this.#pids.size + 1;
      this.#pids.set(name, pid);
      this.meta(pid, 0, "process_name", { name });
      this.meta(pid, 0, "process_sort_index", { sort_index: pid });
    }
    return pid;
  }

  /** A track of a process, named on first use. */
  track(process: string, name: string): { pid: number; tid: number } {
    const pid = this.process(process);
    const key = `${pid}\n${name}`;
    let tid = this.#tids.get(key);
    if (tid === undefined) {
      tid = (this.#nextTid.get(pid) ?? 0) + 1;
      this.#nextTid.set(pid, tid);
      this.#tids.set(key, tid);
      this.meta(pid, tid, "thread_name", { name });
      this.meta(pid, tid, "thread_sort_index", { sort_index: tid });
    }
    return { pid, tid };
  }

  /**
   * The track for a slice from `start` to `end` (microseconds, given in order of start):
   * the first lane of `name` whose last slice ended by `start`, else a new one.
   */
  lane(process: string, name: string, start: number, end: number): { pid: number; tid: number } {
    const key = `${process}\n${name}`;
    const ends = this.#lanes.get(key) ?? [];
    this.#lanes.set(key, ends);
    let lane = ends.findIndex((last) => last <= start);
    if (lane < 0) lane = ends.push(end) - 1;
    ends[lane] = end;
    return this.track(process, lane === 0 ? name : `${name} #${lane + 1}`);
  }

  private meta(pid: number, tid: number, name: string, args: Record<string, unknown>): void {
    this.metadata.push({ name, ph: "M", ts: 0, pid, tid, args });
  }
}

/** The process that holds what belongs to the run as a whole. */
const RUN = "run";

/** The nodes of a trace, in the order its header names them, then any other seen. */
function nodesOf(header: HeaderRecord, records: readonly TraceRecord[]): string[] {
  const names: string[] = [];
  const add = (name: unknown) => {
    if (typeof name === "string" && name !== "" && !names.includes(name)) names.push(name);
  };
  const scenario = header.scenario as { nodes?: { name?: unknown }[] } | undefined;
  for (const node of scenario?.nodes ?? []) add(node.name);
  for (const disk of header.disks) add(disk.node);
  for (const record of records) {
    if (record.record === "op") add(record.node);
    else if (record.record === "frame") add(record.from);
  }
  return names;
}

/** An op's slice, and the fault it carries as an instant when no fault event says so. */
function opEvents(ops: readonly OpRecord[], tracks: Tracks, out: ChromeTraceEvent[]): void {
  const sorted = [...ops].sort((a, b) => a.start - b.start || a.index - b.index);
  for (const op of sorted) {
    const ts = us(op.start);
    const dur = Math.max(MIN_SLICE_US, us(op.end) - ts);
    const { pid, tid } = tracks.lane(op.node, op.disk, ts, ts + dur);
    out.push({
      name: op.result === "ok" ? op.op : `${op.op} ${op.result}`,
      cat: "op",
      ph: "X",
      ts,
      dur,
      pid,
      tid,
      args: {
        index: op.index,
        offset: op.offset,
        length: op.length,
        latencyMs: Math.round((op.end - op.start) * 1000) / 1000,
        result: op.result,
        ...(op.fua ? { fua: true } : {}),
        ...(op.fault ? { fault: `${op.fault.kind} (${op.fault.rule})` } : {}),
        ...(op.step !== undefined ? { step: op.step } : {}),
        ...(op.phase !== undefined ? { phase: op.phase } : {}),
      },
    });
  }
}

/** A frame's label: its protocol and TCP flags (the details are in its args). */
function frameName(frame: FrameRecord): string {
  if (frame.ethertype === 0x0806) return "arp";
  const proto = { 1: "icmp", 6: "tcp", 17: "udp" }[frame.proto ?? -1];
  if (!proto) return `ethertype 0x${frame.ethertype.toString(16)}`;
  return frame.tcpFlags ? `${proto} ${frame.tcpFlags}` : proto;
}

/** What delayed a frame on its way to one destination, in milliseconds. */
function delayTo(frame: FrameRecord, to: string): number {
  let ms = 0;
  for (const fault of frame.faults ?? []) {
    if (!fault.to.includes(to)) continue;
    const detail = fault.detail ?? {};
    for (const key of ["delayMs", "holdMs"]) {
      if (typeof detail[key] === "number") ms += detail[key] as number;
    }
  }
  return ms;
}

/**
 * Each frame a slice on its sender's track to each destination (`to n2`), and when it was
 * delivered, a slice on the receiver's track (`from n1`) and a flow between the two.
 */
function frameEvents(
  frames: readonly FrameRecord[],
  tracks: Tracks,
  out: ChromeTraceEvent[],
): void {
  let flow = 0;
  for (const frame of frames) {
    const name = frameName(frame);
    const args = {
      index: frame.index,
      length: frame.length,
      ...(frame.srcIp ? { src: `${frame.srcIp}${frame.srcPort ? `:${frame.srcPort}` : ""}` } : {}),
      ...(frame.dstIp ? { dst: `${frame.dstIp}${frame.dstPort ? `:${frame.dstPort}` : ""}` } : {}),
      ...(frame.faults?.length ? { faults: frame.faults.map((f) => `${f.kind} (${f.rule})`) } : {}),
    };
    const sent = us(frame.time);
    for (const to of frame.to) {
      const lost = frame.dropped?.includes(to)
        ? "dropped"
        : frame.absent?.includes(to)
        ? "lost"
        : "";
      const sender = tracks.lane(frame.from, `to ${to}`, sent, sent + MIN_SLICE_US);
      out.push({
        name: lost ? `${name} (${lost})` : name,
        cat: "frame",
        ph: "X",
        ts: sent,
        dur: MIN_SLICE_US,
        ...sender,
        args: { ...args, to },
      });
      if (lost) continue;
      const arrived = us(frame.time + delayTo(frame, to));
      const receiver = tracks.lane(to, `from ${frame.from}`, arrived, arrived + MIN_SLICE_US);
      out.push({
        name,
        cat: "frame",
        ph: "X",
        ts: arrived,
        dur: MIN_SLICE_US,
        ...receiver,
        args: { ...args, from: frame.from },
      });
      const id = ++flow;
      const half = MIN_SLICE_US / 2;
      out.push({ name: "frame", cat: "frame", ph: "s", id, ts: sent + half, ...sender });
      out.push({
        name: "frame",
        cat: "frame",
        ph: "f",
        bp: "e",
        id,
        ts: arrived + half,
        ...receiver,
      });
    }
  }
}

/** An instant on a track (scope `t`), or across the whole timeline (`g`). */
function instant(
  where: { pid: number; tid: number },
  event: { name: string; ts: number; args: Record<string, unknown>; scope?: "t" | "g" },
): ChromeTraceEvent {
  const { name, ts, args, scope } = event;
  return { name, cat: "fault", ph: "i", s: scope ?? "t", ts, ...where, args };
}

/**
 * Faults as instants: each injected into an op (its `fault` event, or the op's own record
 * when there is none), each that hit a frame, each that hit a node, and the run's power
 * cuts, crash states, link faults and control commands.
 */
function faultEvents(
  records: readonly TraceRecord[],
  tracks: Tracks,
  out: ChromeTraceEvent[],
): void {
  const noted = new Set<number>();
  const opNode = new Map<number, string>();
  for (const record of records) if (record.record === "op") opNode.set(record.index, record.node);
  for (const record of records) {
    if (record.record !== "event") continue;
    const event = record as EventRecord;
    const ts = us(event.time);
    const { record: _, event: kind, at: __, time: ___, ...fields } = event;
    if (kind === "fault" && typeof event.index === "number") {
      noted.add(event.index);
      const node = opNode.get(event.index) ?? RUN;
      out.push(
        instant(tracks.track(node, "faults"), {
          name: String(event.fault ?? kind),
          ts,
          args: fields,
        }),
      );
    } else if (kind === "node-fault" || kind === "node-resumed") {
      const node = typeof event.node === "string" ? event.node : RUN;
      const name = kind === "node-fault" ? String(event.kind ?? kind) : "resumed";
      out.push(instant(tracks.track(node, "faults"), { name, ts, args: fields }));
    } else if (kind === "power-cut" || kind === "link-fault" || kind === "control") {
      const name = kind === "control" ? String(event.command ?? kind) : kind;
      out.push(
        instant(tracks.track(RUN, kind === "control" ? "control" : "faults"), {
          name,
          ts,
          args: fields,
        }),
      );
    }
  }
  for (const record of records) {
    if (record.record === "op" && record.fault && !noted.has(record.index)) {
      const where = tracks.track(record.node, "faults");
      out.push(
        instant(where, {
          name: record.fault.kind,
          ts: us(record.start),
          args: { index: record.index, rule: record.fault.rule },
        }),
      );
    } else if (record.record === "frame") {
      for (const fault of record.faults ?? []) {
        const where = tracks.track(record.from, "faults");
        out.push(
          instant(where, {
            name: fault.kind,
            ts: us(record.time),
            args: { rule: fault.rule, to: fault.to, frame: record.index },
          }),
        );
      }
    }
  }
}

/** A slice on a track (a zero-length one lasts a microsecond). */
function slice(
  where: { pid: number; tid: number },
  span: { name: string; from: number; to: number; args?: Record<string, unknown> },
): ChromeTraceEvent {
  const { name, from, to, args } = span;
  return {
    name,
    cat: "phase",
    ph: "X",
    ts: from,
    dur: Math.max(MIN_SLICE_US, to - from),
    ...where,
    args: args ?? {},
  };
}

/**
 * The run's phases (`run`, then `check`, from the trace's `phase` events to the next or
 * the end) and its crash states, on the `run` process.
 */
function runPhases(
  events: readonly EventRecord[],
  endUs: number,
  tracks: Tracks,
  out: ChromeTraceEvent[],
): void {
  const phases = events.filter((e) => e.event === "phase");
  const where = tracks.track(RUN, "phases");
  for (const [i, phase] of phases.entries()) {
    const end = i + 1 < phases.length ? us(phases[i + 1].time) : endUs;
    out.push(slice(where, { name: String(phase.name), from: us(phase.time), to: end }));
  }
  for (const crash of events.filter((e) => e.event === "crash")) {
    const { record: _, event: __, at: ___, time: ____, ...fields } = crash;
    const node = typeof crash.node === "string" ? crash.node : null;
    const track = tracks.track(node ?? RUN, node ? "boots" : "faults");
    out.push(
      instant(track, { name: "crash", ts: us(crash.time), args: fields, scope: node ? "t" : "g" }),
    );
  }
}

/** One boot of a node as it goes: from its start, its phase's start, the phase it is in. */
interface Boot {
  phase: string;
  start: number;
  work?: number;
  ended?: boolean;
}

/**
 * Each node's boots, from its guest lines and consoles: `boot` (QEMU's start to the line
 * `phase run`, `phase check` or `phase restart`), then that phase (to its `exit` line, or
 * to the boot's end when it was cut).
 */
function nodeBoots(
  events: readonly EventRecord[],
  tracks: Tracks,
  out: ChromeTraceEvent[],
): void {
  const from = new Map<string, number>();
  const open = new Map<string, Boot>();
  const end = (node: string, boot: Boot, t: number) => {
    const where = tracks.track(node, "boots");
    if (boot.work === undefined) {
      out.push(
        slice(where, { name: "boot", from: boot.start, to: t, args: { phase: boot.phase } }),
      );
    } else if (!boot.ended) {
      out.push(slice(where, { name: boot.phase, from: boot.work, to: t, args: { cut: true } }));
    }
  };
  for (const event of events) {
    const t = us(event.time);
    if (event.event === "phase") {
      // A phase of the run begins: the next boot of every node not running starts here.
      for (const node of from.keys()) if (!open.has(node)) from.set(node, t);
      from.set("", t);
      continue;
    }
    if (typeof event.node !== "string" || typeof event.phase !== "string") continue;
    const node = event.node;
    let boot = open.get(node);
    if (event.event === "console") {
      if (boot) end(node, boot, t);
      open.delete(node);
      from.set(node, t);
      continue;
    }
    if (event.event !== "guest") continue;
    if (!boot || boot.phase !== event.phase) {
      if (boot) end(node, boot, t);
      boot = { phase: event.phase, start: from.get(node) ?? from.get("") ?? 0 };
      open.set(node, boot);
    }
    const words = String(event.line ?? "").trim().split(/\s+/);
    const where = tracks.track(node, "boots");
    if (words[0] === "phase" && words[1] === boot.phase && boot.work === undefined) {
      out.push(
        slice(where, { name: "boot", from: boot.start, to: t, args: { phase: boot.phase } }),
      );
      boot.work = t;
    } else if (words[0] === "exit" && boot.work !== undefined && !boot.ended) {
      out.push(slice(where, {
        name: boot.phase,
        from: boot.work,
        to: t,
        args: { exit: Number(words[1]) },
      }));
      boot.ended = true;
    }
  }
  const last = events.length > 0 ? us(events[events.length - 1].time) : 0;
  for (const [node, boot] of open) end(node, boot, last);
}

/**
 * Puts the events in the order the viewers read best: metadata first, then by time; at one
 * time a longer slice before a shorter one (the one that encloses before the one inside).
 */
function ordered(events: ChromeTraceEvent[]): ChromeTraceEvent[] {
  const rank = (e: ChromeTraceEvent) => (e.ph === "M" ? 0 : 1);
  return events
    .map((event, i) => ({ event, i }))
    .sort((a, b) =>
      rank(a.event) - rank(b.event) || a.event.ts - b.event.ts ||
      (b.event.dur ?? 0) - (a.event.dur ?? 0) || a.i - b.i
    )
    .map(({ event }) => event);
}

/**
 * A trace's records as a timeline in the Chrome trace event format, for ui.perfetto.dev
 * and chrome://tracing.
 *
 * @example
 * ```ts
 * const records = [];
 * for await (const record of reader.records()) records.push(record);
 * const timeline = perfettoTrace(reader.header, records);
 * await Deno.writeTextFile("run.perfetto.json", JSON.stringify(timeline));
 * ```
 */
export function perfettoTrace(
  header: HeaderRecord,
  records: readonly TraceRecord[],
  options: { durationMs?: number } = {},
): ChromeTrace {
  const tracks = new Tracks();
  // The nodes' processes in the header's order; the run's after them.
  for (const node of nodesOf(header, records)) tracks.process(node);
  tracks.process(RUN);
  const out: ChromeTraceEvent[] = [];
  const ops = records.filter((r): r is OpRecord => r.record === "op");
  const frames = records.filter((r): r is FrameRecord => r.record === "frame");
  const events = records.filter((r): r is EventRecord => r.record === "event")
    .sort((a, b) => a.time - b.time);
  // A loop, not Math.max(...): a trace has more ops than a call has arguments.
  let lastMs = options.durationMs ?? 0;
  for (const op of ops) lastMs = Math.max(lastMs, op.end);
  for (const frame of frames) lastMs = Math.max(lastMs, frame.time);
  for (const event of events) lastMs = Math.max(lastMs, event.time);
  nodeBoots(events, tracks, out);
  runPhases(events, us(lastMs), tracks, out);
  opEvents(ops, tracks, out);
  frameEvents(frames, tracks, out);
  faultEvents(records, tracks, out);
  return {
    traceEvents: [...tracks.metadata, ...ordered(out)],
    displayTimeUnit: "ms",
    otherData: {
      tool: `faultline ${header.tool?.version ?? ""}`.trim(),
      command: header.command,
      createdAt: header.createdAt,
      faults: header.faults,
      seed: header.seed,
    },
  };
}
