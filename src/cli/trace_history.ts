/**
 * `faultline trace history TRACE`: the clients' history a run recorded, in Jepsen's EDN
 * form (one op map a line) or, with `--json`, as JSON lines with jepsen.history's field
 * names, so that Jepsen's tools (and `faultline history check`) read it; the faults and
 * node events are the `:nemesis`'s ops. `--html FILE` checks it against the scenario's
 * model (or `--model`) and writes the verdict, with an invalid history's failing window
 * drawn as a timeline.
 *
 * @module
 */

import { HistoryError } from "../history/errors.ts";
import {
  EdnSymbol,
  formatValue,
  Keyword,
  type Value,
  ValueMap,
  ValueSet,
} from "../history/value.ts";
import { historyPageHtml, historyTimeline } from "../report/history_timeline.ts";
import { checkRunHistory, HISTORY_EVENTS, runHistory, type RunHistoryOp } from "../run/history.ts";
import type { HistoryExpectation } from "../scenario/schema.ts";
import { describeEnd, TraceReader } from "../trace/reader.ts";
import type { EventRecord } from "../trace/schema.ts";
import { parseDuration } from "../util/units.ts";
import { EXIT, UsageError } from "./errors.ts";

/** Options of `trace history`. */
export interface TraceHistoryOptions {
  json: boolean;
  /** Write the verdict and the timeline page here. */
  html?: string;
  /** The model to check against (default: the trace's scenario's `expect.history`). */
  model?: string;
  /** The search's budget (default: the scenario's, else 30s). */
  timeout?: string;
}

/** Runs `trace history`. */
export async function traceHistoryCommand(
  path: string,
  options: TraceHistoryOptions,
): Promise<number> {
  const reader = await TraceReader.open(path);
  const events: EventRecord[] = [];
  for await (const record of reader.records()) {
    if (record.record === "event" && HISTORY_EVENTS.has(record.event)) events.push(record);
  }
  const warning = describeEnd(path, reader.end);
  if (warning) console.error(`warning: ${warning}`);
  const scenario = reader.header.scenario as
    | { name?: string; expect?: { history?: HistoryExpectation } }
    | undefined;
  const declared = scenario?.expect?.history;
  const history = () => runHistory(events, { check: declared?.check ?? false });
  const ops = history().ops;
  for (const op of ops) console.log(options.json ? JSON.stringify(jsonOp(op)) : ednOp(op));
  if (options.html === undefined) return EXIT.pass;
  const expectation = expectationOf(declared, options);
  const verdict = checkRunHistory(history, expectation);
  if (verdict.valid === "error") throw new HistoryError(verdict.reason.replace(/^.*?: /, ""));
  const timeline = verdict.counterexample
    ? historyTimeline(history(), verdict.counterexample)
    : undefined;
  const title = `faultline history: ${scenario?.name ?? path}, ${expectation.model}`;
  await Deno.writeTextFile(
    options.html,
    historyPageHtml({ title, reason: verdict.reason, description: verdict.description, timeline }),
  );
  console.error(`${options.html}: ${verdict.reason}`);
  return verdict.valid === true
    ? EXIT.pass
    : verdict.valid === "unknown"
    ? EXIT.unknown
    : EXIT.verdictFailed;
}

function expectationOf(
  declared: HistoryExpectation | undefined,
  options: TraceHistoryOptions,
): HistoryExpectation {
  const model = options.model ?? declared?.model;
  if (model === undefined) {
    throw new UsageError(
      "trace history --html: the trace's scenario expects no history: name a model with --model",
    );
  }
  return {
    model,
    timeoutMs: options.timeout === undefined
      ? declared?.timeoutMs ?? 30_000
      : parseDuration(options.timeout),
    initial: declared?.model === model ? declared.initial : null,
    mode: declared?.model === model ? declared.mode : null,
    check: declared?.check ?? false,
  };
}

/**
 * An op as Jepsen's EDN op map: `{:process 0, :type :invoke, :f :write, :value 3, ...}`.
 *
 * @example
 * ```ts
 * ednOp(op); // '{:process 0, :type :invoke, :f :write, :value 3, :index 0, :time 8200000000, :node "e2"}'
 * ```
 */
export function ednOp(op: RunHistoryOp): string {
  const fields = [
    `:process ${typeof op.process === "number" ? op.process : `:${op.process}`}`,
    `:type :${op.type}`,
    `:f :${op.f}`,
    ...(op.key === undefined ? [] : [`:key ${formatValue(op.key)}`]),
    `:value ${formatValue(op.value)}`,
    `:index ${op.index}`,
    `:time ${op.time}`,
    ...(op.node === "" ? [] : [`:node ${JSON.stringify(op.node)}`]),
  ];
  return `{${fields.join(", ")}}`;
}

/**
 * An op as a JSON line with jepsen.history's field names (and the node it came from).
 *
 * @example
 * ```ts
 * jsonOp(op); // { index: 0, type: "invoke", process: 0, f: "write", value: 3, time: 8200000000, node: "e2" }
 * ```
 */
export function jsonOp(op: RunHistoryOp): Record<string, unknown> {
  return {
    index: op.index,
    type: op.type,
    process: op.process,
    f: op.f,
    ...(op.key === undefined ? {} : { key: jsonValue(op.key) }),
    value: jsonValue(op.value),
    time: op.time,
    ...(op.node === "" ? {} : { node: op.node }),
  };
}

function jsonValue(value: Value): unknown {
  if (value instanceof Keyword || value instanceof EdnSymbol) return value.name;
  if (value instanceof ValueSet) return value.items.map(jsonValue);
  if (value instanceof ValueMap) {
    return Object.fromEntries(value.entries.map(([k, v]) => [formatValue(k), jsonValue(v)]));
  }
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === "bigint") return Number(value);
  return value;
}
