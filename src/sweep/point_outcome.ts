/**
 * A sweep's points, made from its replays: each unit's verdict (its own replay's, or the
 * check of its byte-identical crash state judged again at its own cut) and how often it
 * failed in the runs it got; a point's crash states or recovery orders together; where its
 * fault hit the workload; and the command that reproduces it.
 *
 * @module
 */

import { nounOf } from "../fault/kinds/mod.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { type ParentTrace, type ReplayResult, reproduceCommand } from "../replay/replay.ts";
import { type GuestLine, type OracleResult, runOracle } from "../run/oracle.ts";
import { judge, type Verdict } from "../run/verdict.ts";
import { failsFinding, type Reproduced, reproduced } from "./confirm.ts";
import type { OpRecord } from "../trace/schema.ts";
import { describeFramePoint } from "../net/frame_record.ts";
import { type OrderOutcome, ordersVerdict } from "./orders.ts";
import {
  orderFails,
  type PointStates,
  stateFails,
  type StateOutcome,
  type SweepPoint,
} from "./result.ts";
import { type Plan, type Unit, unitName, unitReplay } from "./plan.ts";
import type { Replays, SweepOptions } from "./sweep.ts";

/** Where on the clock a point is: a recorded op, or a frame (its sender as its node). */
export interface PointArrival {
  /** An op or a frame. */
  record: "op" | "frame";
  /** Its index on the run's one clock. */
  index: number;
  /** The op's node, or the frame's sender. */
  node: string;
  /** The step of its node's workload the op came in, when it named one. */
  step?: string;
}

/**
 * Where a fault at a recorded op or frame hits the workload, its name being what a finding
 * calls it (`power loss`, `eio`): the step its op came in
 * (`report step NAME`) and the last acknowledgement of its node before it; in a
 * cluster, where the op's node names no steps or acks (a server driven by a client
 * node), the last step and ack of any node, named.
 *
 * @example
 * ```ts
 * faultContext("power loss", op, lines); // "power loss during step 'commit 5', after ack 4"
 * ```
 */
export function faultContext(
  name: string,
  op: PointArrival,
  lines: readonly GuestLine[],
): string {
  const own = (kind: string) => lines.some((l) => l.node === op.node && l.kind === kind);
  const lastBefore = (kind: string) =>
    lines.filter((line) =>
      line.phase === "run" && line.kind === kind && line.at <= op.index &&
      (line.node === op.node || !own(kind))
    ).at(-1);
  const whose = (line: GuestLine) => (line.node === op.node ? "" : ` (${line.node})`);
  const step = lastBefore("step");
  const ack = lastBefore("ack");
  const parts = [
    op.step !== undefined
      ? `${name} during step '${op.step}'`
      : step && !own("step")
      ? `${name} at ${op.record} ${op.index}, during step '${step.args.join(" ")}'${whose(step)}`
      : `${name} at ${op.record} ${op.index}`,
    ack ? `after ack ${ack.args.join(" ")}${whose(ack)}` : "before the first ack",
  ];
  return parts.join(", ");
}

function describeOp(op: OpRecord): string {
  return op.op === "flush" ? "flush" : `${op.op} ${op.offset}+${op.length}`;
}

/** A point's index, its recorded op or frame in a few words, and where its fault hit. */
function pointHead(
  parent: ParentTrace,
  at: number,
  noun: string,
): Pick<SweepPoint, "at" | "op" | "where"> {
  const op = parent.ordered.find((record) => record.index === at);
  if (op) return { at, op: describeOp(op), where: faultContext(noun, op, parent.lines) };
  const frame = parent.frames.find((record) => record.index === at)!;
  const arrival = { record: "frame" as const, index: at, node: frame.from };
  return { at, op: describeFramePoint(frame), where: faultContext(noun, arrival, parent.lines) };
}

/** How one unit went, from its own replay or from the replay of its crash state's representative. */
interface UnitOutcome {
  verdict: Verdict;
  oracle: OracleResult | null;
  fired: boolean;
  trace?: string;
  reproduce: string;
  reproduced?: Reproduced;
  error?: string;
}

function unitOutcome(
  parent: ParentTrace,
  plan: Plan,
  unit: Unit,
  replays: Replays,
  options: SweepOptions,
): UnitOutcome {
  const source = plan.representative.get(unitName(unit)) ?? unit;
  const result = replays.results.get(unitName(source));
  const again = replays.again.get(unitName(source)) ?? [];
  const runs = 1 + again.length;
  const reproduce = reproduceCommand(parent.path, {
    ...unitReplay(plan, unit, options),
    faultAt: String(unit.at),
    ...(runs > 1 ? { runs } : {}),
  });
  const base = { reproduce, oracle: null, fired: false };
  if (!result) return { ...base, verdict: { pass: false, reason: "not run (interrupted)" } };
  if (result instanceof Error) {
    return {
      ...base,
      verdict: { pass: false, reason: `the replay failed: ${result.message}` },
      error: result.message,
    };
  }
  const judged = judgedFor(parent, unit, source, result, options);
  if (!judged.fired || !failsFinding(judged.verdict)) return { ...base, ...judged };
  // A failing unit: each run it got counts, the first included (a confirmation that failed
  // to run counts as a run that did not fail).
  const verdicts = [
    judged.verdict,
    ...again.map((run) =>
      run instanceof Error
        ? { pass: false, kind: "inconclusive" as const, reason: run.message }
        : judgedFor(parent, unit, source, run, options).verdict
    ),
  ];
  return { ...base, ...judged, reproduced: reproduced(verdicts) };
}

/**
 * One replay's verdict for a unit: its own, or, when the replay was another unit's with a
 * byte-identical crash state, its check judged again with this unit's cut (what was
 * acknowledged before the cut depends on the point).
 */
export function judgedFor(
  parent: ParentTrace,
  unit: Unit,
  source: Unit,
  result: ReplayResult,
  options: SweepOptions,
): Pick<UnitOutcome, "verdict" | "oracle" | "fired" | "trace"> {
  const done = { fired: result.fired, ...(result.trace ? { trace: result.trace } : {}) };
  if (unitName(source) === unitName(unit)) {
    return { ...done, verdict: result.verdict, oracle: result.oracle };
  }
  const lines = [
    ...parent.lines.filter((line) => line.phase === "run"),
    ...result.lines.filter((line) => line.phase === "check"),
  ];
  const scenario = options.expect
    ? { ...parent.scenario, expect: options.expect }
    : parent.scenario;
  const oracle = runOracle(lines, { scenario, cutAt: unit.at });
  const verdict = judge(scenario, result.outcomes, oracle, {
    judgeWorkloadExit: options.expect !== undefined,
  });
  return { ...done, fired: true, verdict, oracle };
}

/** One point's outcome: its unit's, or its crash states' or recovery orders' together. */
export function pointOf(
  parent: ParentTrace,
  plan: Plan,
  at: number,
  replays: Replays,
  options: SweepOptions,
): SweepPoint {
  const head = pointHead(parent, at, nounOf(parseFaultSpec(options.fault).effect));
  const context = { parent, plan, replays, options, head };
  if (plan.states.has(at)) return statesPointOf(context);
  if (plan.orders.each) return ordersPointOf(context);
  const unit = plan.units.get(at)![0];
  const source = plan.representative.get(unitName(unit)) ?? unit;
  const { reproduce: _, ...outcome } = unitOutcome(parent, plan, unit, replays, options);
  return {
    ...head,
    ...outcome,
    reproduce: reproduceCommand(parent.path, {
      ...unitReplay(plan, unit, options),
      faultAt: String(at),
      ...(outcome.reproduced && outcome.reproduced.runs > 1
        ? { runs: outcome.reproduced.runs }
        : {}),
    }),
    ...(source.at !== at && !outcome.error ? { sameCrashAs: source.at } : {}),
  };
}

/** What a point's outcome is made from. */
interface PointContext {
  parent: ParentTrace;
  plan: Plan;
  replays: Replays;
  options: SweepOptions;
  head: Pick<SweepPoint, "at" | "op" | "where">;
}

/** The command that sweeps one point again, for a point whose several units passed. */
function sweepOnePoint(context: PointContext, recovery?: string): string {
  const { parent, plan, options, head } = context;
  return `faultline sweep ${parent.path} --fault ${options.fault} --points ${head.at}..${head.at}${
    plan.background.map((w) => ` --with ${w}`).join("")
  }${recovery ? ` --recovery ${recovery}` : ""}`;
}

/** A point whose crash states were checked one by one: their outcomes together. */
function statesPointOf(context: PointContext): SweepPoint {
  const { parent, plan, replays, options, head } = context;
  const units = plan.units.get(head.at)!;
  const states = plan.states.get(head.at)!;
  const sourceOf = (unit: Unit) => plan.representative.get(unitName(unit)) ?? unit;
  const outcomes: StateOutcome[] = units.map((unit) => {
    const source = sourceOf(unit);
    const dropped = unit.state === "none" ? [] : unit.state!.split("+").map(Number);
    const outcome = unitOutcome(parent, plan, unit, replays, options);
    return {
      id: unit.state!,
      dropped,
      drops: describeState(parent, dropped),
      verdict: outcome.verdict,
      oracle: outcome.oracle,
      reproduce: outcome.reproduce,
      ...(outcome.reproduced ? { reproduced: outcome.reproduced } : {}),
      ...(outcome.trace ? { trace: outcome.trace } : {}),
      ...(unitName(source) !== unitName(unit)
        ? { sameCrashAs: { at: source.at, id: source.state! } }
        : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
  });
  const distinct = new Set(units.map((unit) => unitName(sourceOf(unit)))).size;
  const { verdict, first } = statesVerdict(outcomes, distinct, states);
  return {
    ...head,
    verdict,
    oracle: first.oracle,
    fired: true,
    reproduce: !verdict.pass ? first.reproduce : sweepOnePoint(context),
    ...(first.trace ? { trace: first.trace } : {}),
    ...(first.reproduced ? { reproduced: first.reproduced } : {}),
    states: { ...states, outcomes, distinct },
    ...(outcomes.some((o) => o.error) ? { error: outcomes.find((o) => o.error)!.error } : {}),
  };
}

/**
 * A point's verdict from its crash states', with the state that speaks for it: failing when
 * a state failed (the first failing one); else inconclusive when a state's check could not
 * run; else a pass (the first state).
 */
function statesVerdict(
  outcomes: readonly StateOutcome[],
  distinct: number,
  states: Omit<PointStates, "outcomes" | "distinct">,
): { verdict: Verdict; first: StateOutcome } {
  const failing = outcomes.filter(stateFails);
  const unjudged = outcomes.filter((o) => !stateFails(o) && !o.verdict.pass);
  const first = failing[0] ?? unjudged[0] ?? outcomes[0];
  const sample = states.sampled ? `, a seeded sample of ${states.total}` : "";
  const counted = `${outcomes.length} crash state${
    outcomes.length === 1 ? "" : "s"
  } (${distinct} distinct${sample})`;
  const which = `state ${first.id} (${first.drops}): ${first.verdict.reason}`;
  if (failing.length > 0) {
    return {
      first,
      verdict: { pass: false, reason: `${failing.length} of ${counted} fail; ${which}` },
    };
  }
  if (unjudged.length > 0) {
    const reason = `${unjudged.length} of ${counted} could not be checked; ${which}`;
    return { first, verdict: { pass: false, kind: "inconclusive", reason } };
  }
  return { first, verdict: { pass: true, reason: `${counted} pass: ${first.verdict.reason}` } };
}

/** A point checked in every recovery order (`each-order`): their outcomes together. */
function ordersPointOf(context: PointContext): SweepPoint {
  const { parent, plan, replays, options, head } = context;
  const outcomes: OrderOutcome[] = plan.units.get(head.at)!.map((unit) => {
    const source = plan.representative.get(unitName(unit)) ?? unit;
    const outcome = unitOutcome(parent, plan, unit, replays, options);
    return {
      order: unit.order!,
      verdict: outcome.verdict,
      oracle: outcome.oracle,
      fired: outcome.fired,
      reproduce: outcome.reproduce,
      ...(outcome.reproduced ? { reproduced: outcome.reproduced } : {}),
      ...(outcome.trace ? { trace: outcome.trace } : {}),
      ...(source.at !== head.at && !outcome.error ? { sameCrashAs: source.at } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
  });
  const verdict = ordersVerdict(outcomes);
  const failing = outcomes.filter(orderFails);
  const first = failing[0] ?? outcomes.find((o) => o.fired) ?? outcomes[0];
  return {
    ...head,
    verdict,
    oracle: first.oracle,
    fired: outcomes.some((o) => o.fired || o.error),
    reproduce: failing.length > 0 ? first.reproduce : sweepOnePoint(context, "each-order"),
    ...(first.trace ? { trace: first.trace } : {}),
    ...(first.reproduced ? { reproduced: first.reproduced } : {}),
    ...(first.sameCrashAs !== undefined ? { sameCrashAs: first.sameCrashAs } : {}),
    orders: outcomes,
    ...(failing.some((o) => o.error) ? { error: failing.find((o) => o.error)!.error } : {}),
  };
}

/** A point without the paths of its traces (they were not kept). */
export function withoutTraces(point: SweepPoint): SweepPoint {
  const { trace: _, ...rest } = point;
  if (!rest.states) return rest;
  const outcomes = rest.states.outcomes.map(({ trace: __, ...outcome }) => outcome);
  return { ...rest, states: { ...rest.states, outcomes } };
}

/** What a crash state drops, in words: one write with its extent and step, or the list. */
function describeState(parent: ParentTrace, dropped: readonly number[]): string {
  if (dropped.length === 0) return "keeps every volatile write";
  if (dropped.length > 1) return `drops the writes at ops ${dropped.join(", ")}`;
  const op = parent.ordered.find((record) => record.index === dropped[0]);
  const what = op
    ? ` (${op.disk}/${describeOp(op)}${op.step !== undefined ? ` in step '${op.step}'` : ""})`
    : "";
  return `drops the write at op ${dropped[0]} alone${what}`;
}
