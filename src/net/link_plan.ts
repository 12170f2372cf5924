/**
 * The link fault decision: a pure function of the plan, the plan's state so far and the
 * arriving frame (or op), like the block fault decision of src/fault/plan.ts. No clock,
 * no socket, no randomness beyond the plan's seed: every random choice is drawn from the
 * seed, the rule and the frame's index (and the destination), so the same frames get the
 * same decisions and a replay behaves the same.
 *
 * When a rule fires is the trigger engine's (src/fault/trigger.ts), fed every frame and
 * every block op of the run; what it does to a frame is its kind's (src/fault/kinds/).
 * Semantics (docs/fault-spec.md, "Link faults"):
 *
 * - a persistent kind (`partition`, `isolate`, `bandwidth`) comes into force where its
 *   trigger fires and stays, on its links, until healed;
 * - the others hit each frame their trigger selects; fired by a block op (`@N` naming an
 *   op, `@write#3`), they hit the next frame;
 * - a heal fires once, before the other rules see the frame it fires at (or at once, at an
 *   op): it ends on its links (all links without a scope) every link fault in force, the
 *   live ones included. A rule still waiting for its trigger (a later time or index, an
 *   occurrence not reached) is not in force and is not healed.
 *
 * @module
 */

import { checkClusterFaults } from "../fault/link.ts";
import { linkKey } from "../fault/link_scope.ts";
import type { Effect, FrameAction, LinkBehaviour } from "../fault/kinds/kind.ts";
import { kindOf, specNameOf } from "../fault/kinds/mod.ts";
import { seededStream } from "../fault/random.ts";
import { endsWithRun } from "../fault/standing.ts";
import {
  type Arrival,
  type FrameFacts,
  isPending,
  momentOf,
  NOT_STARTED,
  type OpView,
  stepTrigger,
  type TriggerProgress,
} from "../fault/trigger.ts";
import type { FaultEffect, FaultPlan, Trigger } from "../fault/types.ts";
import { ETHERTYPE, type FrameView, IP_PROTOCOL, tcpFlagNames } from "./frame.ts";

/** What the link decision must know about a frame. */
export interface LinkFrame {
  /** Its index on the run's one clock. */
  index: number;
  /** Milliseconds since the run started. */
  time: number;
  /** The node that sent it. */
  from: string;
  /** The nodes the switch would deliver it to, before faults. */
  to: readonly string[];
  /** Its headers, for frame filters. */
  view: FrameView;
}

/** A link rule of the plan, with the directed links it covers. */
export interface LinkRule {
  /** The rule's position in the plan (random choices are drawn per rule). */
  number: number;
  /** The rule's canonical spec. */
  spec: string;
  /** What it does. */
  effect: FaultEffect;
  /** When it fires. */
  trigger: Trigger;
  /** Directed links (`a->b`) it applies to. */
  links: ReadonlySet<string>;
  /** In force from its trigger on, until healed. */
  persistent: boolean;
  /** It heals instead of hitting frames. */
  heals: boolean;
}

/** The link faults of a plan, bound to the cluster's nodes. */
export interface LinkPlan {
  /** The plan's seed: every random choice is drawn from it. */
  seed: number;
  /** The node names in the scenario's order. */
  nodes: readonly string[];
  /** The link rules, in plan order. */
  rules: readonly LinkRule[];
}

/** One action, the destination it is for, and the rule it comes from (a spec, or `live`). */
export interface LinkDecision {
  /** The rule's spec, or `live`. */
  rule: string;
  /** The fault's name as the spec writes it (`partition`, `delay`, ...). */
  fault: string;
  /** The destination this copy is for. */
  to: string;
  /** What happens to the copy. */
  action: FrameAction;
  /** What the trace keeps of it. */
  detail?: Record<string, number | number[]>;
}

/** A rule's progress. */
export interface LinkRuleState {
  /** Its progress through its trigger. */
  readonly progress: TriggerProgress;
  /** A persistent rule came into force; a heal fired. */
  readonly fired: boolean;
  /** Fired by a block op: it hits the next frame. */
  readonly armed: boolean;
  /** Done: fired for the last time (an index, an occurrence, a heal) or healed everywhere. */
  readonly spent: boolean;
  /** Frame copies it hit. */
  readonly hits: number;
  /** Links a scoped heal took it off. */
  readonly healed: ReadonlySet<string>;
}

/** A link fault set over the control socket: in force on its links while set. */
export interface LiveLinkFault {
  /** What it does (any link kind but heal: `none` heals). */
  effect: FaultEffect;
  /** The directed links it is in force on. */
  links: ReadonlySet<string>;
  /** Frames still to hit before it clears itself; absent: until cleared. */
  remaining?: number;
}

/** Everything the link decision remembers between frames. Never mutated: each step makes a new one. */
export interface LinkPlanState {
  /** Per link rule of the plan, in order. */
  readonly rules: readonly LinkRuleState[];
  /** Faults set live, in the order set. */
  readonly live: readonly LiveLinkFault[];
  /** Frames sent over each directed link so far (`a->b`): a frame's position on its link. */
  readonly sent: Readonly<Record<string, number>>;
}

/** The outcome of one frame or op: the frame's decisions, what changed, and the state after it. */
export interface LinkStep {
  /** What happens to the frame's copies (none for an op). */
  decisions: LinkDecision[];
  /** Persistent rules that came into force here. */
  fired: string[];
  /** Heal rules that fired here. */
  healed: string[];
  /** The state after it. */
  state: LinkPlanState;
}

/** The link behaviour of an effect's kind. */
function linkOf(effect: Effect): LinkBehaviour<Effect> {
  const link = kindOf(effect).link;
  if (!link) throw new Error(`${effect.kind} is no link fault`);
  return link;
}

/**
 * The directed links a link effect applies to: across a partition both ways, every
 * link of an isolated node, or the effect's scope.
 *
 * @example
 * ```ts
 * [...effectLinks({ kind: "partition", sides: [["a"], ["b"]] }, ["a", "b", "c"])]; // ["a->b", "b->a"]
 * ```
 */
export function effectLinks(effect: FaultEffect, nodes: readonly string[]): Set<string> {
  return linkOf(effect).links(effect, nodes);
}

/**
 * Binds the link faults of a plan to the cluster's nodes (other families are left out).
 *
 * @throws {FaultSpecError} from {@link checkClusterFaults}: an unknown node, a link fault
 *   with fewer than two nodes.
 * @example
 * ```ts
 * const plan = compileLinkPlan({ seed: 1, rules: [parseFaultSpec("partition:a|b,c@+2s")] }, ["a", "b", "c"]);
 * plan.rules[0].links.has("a->b"); // true
 * ```
 */
export function compileLinkPlan(plan: FaultPlan, nodes: readonly string[]): LinkPlan {
  checkClusterFaults(plan.rules, nodes);
  const rules: LinkRule[] = [];
  plan.rules.forEach((rule, number) => {
    const kind = kindOf(rule.effect);
    if (!kind.link) return;
    rules.push({
      number,
      spec: rule.spec,
      effect: rule.effect,
      trigger: rule.trigger,
      links: kind.link.links(rule.effect, nodes),
      persistent: kind.persistent,
      heals: kind.link.heals === true,
    });
  });
  return { seed: plan.seed, nodes: [...nodes], rules };
}

const NOTHING_HEALED: ReadonlySet<string> = new Set();

/**
 * The state of a link plan before its first frame.
 *
 * @example
 * ```ts
 * let state = initialLinkState(plan);
 * ```
 */
export function initialLinkState(plan: LinkPlan): LinkPlanState {
  return {
    rules: plan.rules.map(() => ({
      progress: NOT_STARTED,
      fired: false,
      armed: false,
      spent: false,
      hits: 0,
      healed: NOTHING_HEALED,
    })),
    live: [],
    sent: {},
  };
}

const PROTOCOL_NAMES = new Map<number, "tcp" | "udp" | "icmp">(
  Object.entries(IP_PROTOCOL).map(([name, number]) => [number, name as "tcp" | "udp" | "icmp"]),
);

/**
 * What a trigger knows of a frame: its link, protocol, ports and TCP flags by name.
 *
 * @example
 * ```ts
 * frameFacts({ index: 3, time: 9, from: "a", to: ["b"], view }).protocol; // "tcp"
 * ```
 */
export function frameFacts(frame: LinkFrame): FrameFacts {
  const { view } = frame;
  const facts: FrameFacts = {
    index: frame.index,
    time: frame.time,
    from: frame.from,
    to: frame.to,
  };
  const ip = view.ipv4;
  if (view.ethertype === ETHERTYPE.arp) facts.protocol = "arp";
  else if (ip) {
    facts.protocol = PROTOCOL_NAMES.get(ip.protocol) ?? "ip";
    if (ip.srcPort !== undefined) facts.srcPort = ip.srcPort;
    if (ip.dstPort !== undefined) facts.dstPort = ip.dstPort;
    if (ip.tcpFlags !== undefined) facts.tcpFlags = tcpFlagNames(ip.tcpFlags).split(",");
  }
  return facts;
}

/** A moment on the run's clock: the next index, and the time. */
export interface ClockMoment {
  /** The index the next op or frame will get (the clock's arrivals). */
  index: number;
  /** Milliseconds since the run started. */
  time: number;
}

/**
 * Whether a rule waits for its trigger still at `now`: then it is not in force, and a
 * heal leaves it.
 *
 * @example
 * ```ts
 * isWaiting(plan.rules[0], state.rules[0], { index: clock.arrivals, time: clock.now() });
 * ```
 */
export function isWaiting(rule: LinkRule, state: LinkRuleState, now: ClockMoment): boolean {
  if (state.spent) return false;
  if (rule.heals || rule.persistent) return !state.fired;
  return !state.armed && isPending(rule.trigger, state.progress, now);
}

/** A copy of a frame: the link it goes over, and its position on that link (from 1). */
interface FrameCopy {
  from: number;
  to: number;
  position: number;
}

/**
 * What an effect does to one copy of a frame (null: spared). Its draws are keyed by the
 * link and the frame's position on it, which name the same frame in every run however the
 * links interleave on the run's clock.
 */
function actOn(effect: FaultEffect, seed: number, rule: number, copy: FrameCopy) {
  // A uniform draw in [0, 1) for (rule, link, position, purpose).
  const draw = (purpose: number) =>
    seededStream(seed, rule, copy.from, copy.to, copy.position, purpose)() / 2 ** 32;
  return linkOf(effect).act(effect, draw);
}

/**
 * Tells the link plan that a block op arrived: a rule its trigger fires there comes into
 * force, heals, or hits the next frame.
 *
 * @example
 * ```ts
 * state = arriveOp(plan, state, op).state;
 * ```
 */
export function arriveOp(plan: LinkPlan, state: LinkPlanState, op: OpView): LinkStep {
  return step(plan, state, { kind: "op", op }, null);
}

/**
 * Decides what happens to one frame on each of its links, and the state after it.
 *
 * @example
 * ```ts
 * const plan = compileLinkPlan({ seed: 1, rules: [parseFaultSpec("partition:a|b@5")] }, ["a", "b"]);
 * let state = initialLinkState(plan);
 * const step = decideFrame(plan, state, { index: 5, time: 12, from: "a", to: ["b"], view });
 * step.decisions; // [{ rule: "partition:a|b@5", fault: "partition", to: "b", action: { do: "lose" } }]
 * step.fired; // ["partition:a|b@5"]
 * ```
 */
export function decideFrame(plan: LinkPlan, state: LinkPlanState, frame: LinkFrame): LinkStep {
  return step(plan, state, { kind: "frame", frame: frameFacts(frame) }, frame);
}

/** The rules' triggers at one arrival, then, for a frame, what hits it. */
function step(
  plan: LinkPlan,
  state: LinkPlanState,
  arrival: Arrival,
  frame: LinkFrame | null,
): LinkStep {
  const out: LinkStep = { decisions: [], fired: [], healed: [], state };
  const firedHere = new Set<number>();
  // Heals first: a frame that triggers a heal is not hit by what the heal ends.
  for (const heals of [true, false]) {
    plan.rules.forEach((rule, i) => {
      if (rule.heals !== heals || out.state.rules[i].spent) return;
      const current = out.state.rules[i];
      const once = rule.persistent || rule.heals;
      const { fires, progress } = stepTrigger(rule.trigger, current.progress, arrival, { once });
      out.state = withRule(out.state, i, { progress });
      if (!fires) return;
      if (rule.heals) {
        const everyLink = rule.links.size === plan.nodes.length * (plan.nodes.length - 1);
        out.state = healRules(plan, out.state, everyLink ? null : rule.links, momentOf(arrival));
        out.state = withRule(out.state, i, { spent: true, fired: true, hits: current.hits + 1 });
        out.healed.push(rule.spec);
      } else if (rule.persistent) {
        if (!current.fired) out.fired.push(rule.spec);
        out.state = withRule(out.state, i, { fired: true });
      } else if (frame) firedHere.add(i);
      else out.state = withRule(out.state, i, { armed: true });
    });
  }
  if (frame) hitFrame(plan, frame, firedHere, out);
  return out;
}

/** The rules in force, and the live faults, on the frame's copies. */
function hitFrame(plan: LinkPlan, frame: LinkFrame, firedHere: Set<number>, out: LinkStep): void {
  if (plan.rules.length === 0 && out.state.live.length === 0) return;
  const copies = countCopies(plan, frame, out);
  plan.rules.forEach((rule, i) => {
    const current = out.state.rules[i];
    if (rule.heals || current.spent) return;
    const hits = rule.persistent ? current.fired : firedHere.has(i) || current.armed;
    if (!hits) return;
    let count = 0;
    for (const to of frame.to) {
      const key = linkKey(frame.from, to);
      if (!rule.links.has(key) || current.healed.has(key)) continue;
      const hit = actOn(rule.effect, plan.seed, rule.number, copies.get(to)!);
      if (!hit) continue;
      out.decisions.push(decisionOf(rule.spec, rule.effect, to, hit));
      count++;
    }
    // A one-shot rule whose trigger is done (an index, an occurrence) is spent once it hit.
    const spent = !rule.persistent && current.progress.done;
    if (count > 0 || current.armed || spent) {
      out.state = withRule(out.state, i, { hits: current.hits + count, armed: false, spent });
    }
  });
  const live = out.state.live;
  if (live.length === 0) return;
  const after: LiveLinkFault[] = [];
  live.forEach((fault, n) => {
    let hit = false;
    for (const to of frame.to) {
      if (!fault.links.has(linkKey(frame.from, to))) continue;
      const made = actOn(fault.effect, plan.seed, -2 - n, copies.get(to)!);
      if (!made) continue;
      out.decisions.push(decisionOf("live", fault.effect, to, made));
      hit = true;
    }
    if (hit && fault.remaining !== undefined) {
      if (fault.remaining > 1) after.push({ ...fault, remaining: fault.remaining - 1 });
    } else after.push(fault);
  });
  if (after.length !== live.length || after.some((f, n) => f !== live[n])) {
    out.state = { ...out.state, live: after };
  }
}

/** Each copy of a frame, numbered on its link; the links' counts go on in the state. */
function countCopies(plan: LinkPlan, frame: LinkFrame, out: LinkStep): Map<string, FrameCopy> {
  const copies = new Map<string, FrameCopy>();
  const sent = { ...out.state.sent };
  const from = plan.nodes.indexOf(frame.from);
  for (const to of frame.to) {
    const key = linkKey(frame.from, to);
    sent[key] = (sent[key] ?? 0) + 1;
    copies.set(to, { from, to: plan.nodes.indexOf(to), position: sent[key] });
  }
  if (frame.to.length > 0) out.state = { ...out.state, sent };
  return copies;
}

function decisionOf(
  rule: string,
  effect: FaultEffect,
  to: string,
  hit: { action: FrameAction; detail?: Record<string, number | number[]> },
): LinkDecision {
  const made: LinkDecision = { rule, fault: specNameOf(effect), to, action: hit.action };
  if (hit.detail) made.detail = hit.detail;
  return made;
}

function withRule(
  state: LinkPlanState,
  i: number,
  change: Partial<LinkRuleState>,
): LinkPlanState {
  const current = state.rules[i];
  if ((Object.keys(change) as (keyof LinkRuleState)[]).every((k) => current[k] === change[k])) {
    return state;
  }
  const rules = [...state.rules];
  rules[i] = { ...current, ...change };
  return { ...state, rules };
}

/**
 * Ends the link faults in force on `links` (every link with `null`): the rules in force
 * (not those still waiting for their trigger at `now`) and the live faults.
 */
function healRules(
  plan: LinkPlan,
  state: LinkPlanState,
  links: ReadonlySet<string> | null,
  now: ClockMoment,
): LinkPlanState {
  const rules = state.rules.map((current, i) => {
    const rule = plan.rules[i];
    if (rule.heals || current.spent || isWaiting(rule, current, now)) return current;
    if (links === null) return { ...current, spent: true, armed: false };
    const merged = new Set([...current.healed, ...links]);
    return { ...current, healed: merged, spent: [...rule.links].every((l) => merged.has(l)) };
  });
  const live = links === null ? [] : state.live.flatMap((fault) => {
    const left = new Set([...fault.links].filter((l) => !links.has(l)));
    if (left.size === fault.links.size) return [fault];
    return left.size === 0 ? [] : [{ ...fault, links: left }];
  });
  return { ...state, rules, live };
}

/**
 * The run phase is over: the link rules that hold for the run phase only (written without a
 * trigger, or with a trigger of the run phase: `@run:...`) end. Rules with another trigger
 * go on.
 *
 * @example
 * ```ts
 * state = endStandingLinks(plan, state); // the check begins
 * ```
 */
export function endStandingLinks(plan: LinkPlan, state: LinkPlanState): LinkPlanState {
  let next = state;
  plan.rules.forEach((rule, i) => {
    if (endsWithRun(rule)) next = withRule(next, i, { spent: true, armed: false });
  });
  return next;
}

/**
 * Sets a live link fault (replacing a live fault of the same kind on the same links),
 * or, with `null`, heals `links` (every link when absent) at `now`: the live faults and
 * the plan's faults in force on them end, as a `heal` would.
 *
 * @example
 * ```ts
 * const isolate = { kind: "isolate", node: "a" } as const;
 * state = setLiveLinkFault(plan, state, { effect: isolate, links: effectLinks(isolate, plan.nodes) }, now);
 * state = setLiveLinkFault(plan, state, null, now); // everything heals
 * ```
 */
export function setLiveLinkFault(
  plan: LinkPlan,
  state: LinkPlanState,
  fault: LiveLinkFault | null,
  now: ClockMoment,
  links?: ReadonlySet<string>,
): LinkPlanState {
  if (fault) {
    const same = (other: LiveLinkFault) =>
      other.effect.kind === fault.effect.kind && other.links.size === fault.links.size &&
      [...other.links].every((l) => fault.links.has(l));
    return { ...state, live: [...state.live.filter((f) => !same(f)), fault] };
  }
  return healRules(plan, state, links ?? null, now);
}

/**
 * What each destination of a frame gets, from the frame's decisions: dropped, or
 * delivered after `delayMs` (the delays added up), through the slowest bandwidth
 * limit, held back for reordering, and twice when duplicated.
 *
 * @example
 * ```ts
 * combineDecisions(step.decisions, ["b", "c"]).get("b"); // { drop: false, delayMs: 100, duplicate: false, ... }
 * ```
 */
export function combineDecisions(
  decisions: readonly LinkDecision[],
  to: readonly string[],
): Map<string, Delivery> {
  const out = new Map<string, Delivery>();
  for (const node of to) {
    out.set(node, { drop: false, delayMs: 0, duplicate: false });
  }
  for (const { to: node, action } of decisions) {
    const delivery = out.get(node);
    if (!delivery) continue;
    switch (action.do) {
      case "lose":
        delivery.drop = true;
        break;
      case "late":
        delivery.delayMs += action.ms;
        break;
      case "twice":
        delivery.duplicate = true;
        break;
      case "hold-back":
        delivery.holdMs = Math.max(delivery.holdMs ?? 0, action.ms);
        break;
      case "rate":
        delivery.bytesPerSecond = Math.min(
          delivery.bytesPerSecond ?? Infinity,
          action.bytesPerSecond,
        );
        break;
    }
  }
  return out;
}

/** How one copy of a frame is delivered. */
export interface Delivery {
  /** Not delivered at all. */
  drop: boolean;
  /** Added delay in milliseconds. */
  delayMs: number;
  /** Delivered twice. */
  duplicate: boolean;
  /** Reorder: held back at most this long, until the next frame of the link overtakes it. */
  holdMs?: number;
  /** The link's bandwidth limit. */
  bytesPerSecond?: number;
}
