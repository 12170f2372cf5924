/**
 * A checker of the Chrome trace event format, as ui.perfetto.dev and chrome://tracing read
 * it: the JSON object form (`traceEvents`), every event's required fields for its phase,
 * names for every process and thread used, slices on a track that nest (complete `X`
 * slices and `B`/`E` pairs balanced), times that never go back on a track, and flows whose
 * start and end each bind inside a slice of their track.
 *
 * @module
 */

type Event = Record<string, unknown>;

const PHASES = new Set(["X", "B", "E", "i", "I", "s", "t", "f", "M", "C"]);
const METADATA = new Set([
  "process_name",
  "thread_name",
  "process_sort_index",
  "thread_sort_index",
]);

/** A slice on a track, for nesting and flow binding. */
interface Span {
  start: number;
  end: number;
  name: string;
}

/** The fields every event must have, by its phase; the problems, as sentences. */
function eventProblems(event: Event, at: string): string[] {
  const problems: string[] = [];
  const number = (key: string) => typeof event[key] === "number" && Number.isFinite(event[key]);
  if (typeof event.name !== "string") problems.push(`${at}: no name`);
  if (!PHASES.has(event.ph as string)) problems.push(`${at}: ph ${JSON.stringify(event.ph)}`);
  if (!Number.isInteger(event.pid) || !Number.isInteger(event.tid)) {
    problems.push(`${at}: pid and tid must be integers`);
  }
  if (!number("ts") || (event.ts as number) < 0) problems.push(`${at}: ts must be a time >= 0`);
  if (event.ph === "X" && (!number("dur") || (event.dur as number) < 0)) {
    problems.push(`${at}: a complete slice needs dur >= 0`);
  }
  if (event.ph === "i" && !["t", "p", "g"].includes(event.s as string)) {
    problems.push(`${at}: an instant's scope s is t, p or g`);
  }
  if (["s", "t", "f"].includes(event.ph as string)) {
    if (event.id === undefined || typeof event.cat !== "string") {
      problems.push(`${at}: a flow event needs id and cat`);
    }
  }
  if (event.ph === "M") {
    const args = event.args as Record<string, unknown> | undefined;
    if (!METADATA.has(event.name as string)) problems.push(`${at}: metadata ${event.name}`);
    else if (String(event.name).endsWith("_name") && typeof args?.name !== "string") {
      problems.push(`${at}: ${event.name} needs args.name`);
    } else if (
      String(event.name).endsWith("_sort_index") && !Number.isInteger(args?.sort_index)
    ) problems.push(`${at}: ${event.name} needs args.sort_index`);
  }
  return problems;
}

/**
 * Every problem of a Chrome trace (an empty list: the viewers read it as meant).
 *
 * @example
 * ```ts
 * assert.deepEqual(chromeTraceProblems(JSON.parse(await Deno.readTextFile("run.json"))), []);
 * ```
 */
export function chromeTraceProblems(trace: unknown): string[] {
  const events = (trace as { traceEvents?: unknown })?.traceEvents;
  if (!Array.isArray(events)) return ["not the JSON object format: no traceEvents array"];
  const problems = events.flatMap((event, i) => eventProblems(event as Event, `event ${i}`));
  if (problems.length > 0) return problems;
  const named = new Set<string>();
  for (const event of events as Event[]) {
    if (event.name === "process_name") named.add(`${event.pid}`);
    if (event.name === "thread_name") named.add(`${event.pid}/${event.tid}`);
  }
  const byTrack = new Map<string, Event[]>();
  for (const event of events as Event[]) {
    if (event.ph === "M") continue;
    const track = `${event.pid}/${event.tid}`;
    if (!named.has(`${event.pid}`)) problems.push(`process ${event.pid} has no process_name`);
    if (!named.has(track)) problems.push(`track ${track} has no thread_name`);
    byTrack.set(track, [...(byTrack.get(track) ?? []), event]);
  }
  const spans = new Map<string, Span[]>();
  for (const [track, list] of byTrack) {
    problems.push(...trackProblems(track, list, spans));
  }
  problems.push(...flowProblems(events as Event[], spans));
  return [...new Set(problems)];
}

/** One track: times never go back, `X` slices nest, `B`/`E` balance. Collects its spans. */
function trackProblems(track: string, events: Event[], spans: Map<string, Span[]>): string[] {
  const problems: string[] = [];
  const open: Span[] = [];
  const begun: Event[] = [];
  const mine: Span[] = [];
  let last = -Infinity;
  for (const event of events) {
    const ts = event.ts as number;
    if (ts < last) problems.push(`track ${track}: ${event.name} at ${ts} after ${last}`);
    last = Math.max(last, ts);
    if (event.ph === "X") {
      const span = { start: ts, end: ts + (event.dur as number), name: event.name as string };
      while (open.length > 0 && open[open.length - 1].end <= span.start) open.pop();
      const parent = open[open.length - 1];
      if (parent && span.end > parent.end) {
        problems.push(
          `track ${track}: ${span.name} [${span.start}, ${span.end}] overlaps ${parent.name} [${parent.start}, ${parent.end}] without nesting`,
        );
      }
      open.push(span);
      mine.push(span);
    } else if (event.ph === "B") begun.push(event);
    else if (event.ph === "E") {
      const start = begun.pop();
      if (!start) problems.push(`track ${track}: an E at ${ts} without its B`);
      else mine.push({ start: start.ts as number, end: ts, name: start.name as string });
    }
  }
  if (begun.length > 0) problems.push(`track ${track}: ${begun.length} B without their E`);
  spans.set(track, mine);
  return problems;
}

/** Flows: each start has one end of the same id, cat and name, later, each inside a slice. */
function flowProblems(events: Event[], spans: Map<string, Span[]>): string[] {
  const problems: string[] = [];
  const starts = new Map<string, Event>();
  const ends = new Map<string, Event>();
  for (const event of events) {
    if (event.ph !== "s" && event.ph !== "f") continue;
    const key = `${event.cat}/${event.name}/${event.id}`;
    const into = event.ph === "s" ? starts : ends;
    if (into.has(key)) problems.push(`flow ${key}: two ${event.ph} events`);
    into.set(key, event);
    const track = spans.get(`${event.pid}/${event.tid}`) ?? [];
    const ts = event.ts as number;
    if (!track.some((span) => span.start <= ts && ts <= span.end)) {
      problems.push(`flow ${key}: its ${event.ph} at ${ts} is inside no slice of its track`);
    }
  }
  for (const [key, start] of starts) {
    const end = ends.get(key);
    if (!end) problems.push(`flow ${key}: no end`);
    else if ((end.ts as number) < (start.ts as number)) {
      problems.push(`flow ${key}: ends before it starts`);
    }
  }
  for (const key of ends.keys()) if (!starts.has(key)) problems.push(`flow ${key}: no start`);
  return problems;
}
