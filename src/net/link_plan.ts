/**
 * The link fault decision: a pure function of the plan, the plan's state so far and
 * the arriving frame, like the block fault decision of src/fault/plan.ts. No clock,
 * no socket, no randomness beyond the plan's seed: every random choice is drawn from
 * the seed, the rule and the frame's index (and the destination), so the same frames
 * get the same decisions and a replay behaves the same.
 *
 * Semantics (docs/fault-spec.md, "Link faults"):
 *
 * - `partition`, `isolate` and `bandwidth` are persistent: they come into force at the
 *   first frame their trigger selects and stay, on their links, until healed.
 * - `drop`, `delay`, `duplicate` and `reorder` hit each frame their trigger selects:
 *   no trigger or `@+TIME` every frame (from then on), a frame filter every matching
 *   frame or, with `#K`, the K-th.
 * - An index trigger `@N` names a moment on the run's one clock, shared by block ops
 *   and frames: it selects the first frame whose index is N or later, once.
 * - `heal` fires once, at the first frame its trigger selects, before the other rules
 *   see that frame: it ends on its links (all links without a scope) every link fault
 *   in force, the live ones included. A rule still waiting for its trigger (a later
 *   time or index, an occurrence not reached) is not in force and is not healed.
 *
 * @module
 */

import { checkClusterFaults } from "../fault/link.ts";
import { seededStream } from "../fault/random.ts";
import { effectName } from "../fault/spec.ts";
import {
  type FaultPlan,
  isLinkEffect,
  type LinkEffect,
  type LinkScope,
  PERSISTENT_LINK_KINDS,
  type Trigger,
} from "../fault/types.ts";
import { ETHERTYPE, type FrameView, IP_PROTOCOL, TCP_FLAGS, type TcpFlag } from "./frame.ts";

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
  effect: LinkEffect;
  /** When it fires. */
  trigger: Trigger;
  /** Directed links (`a->b`) it applies to. */
  links: ReadonlySet<string>;
  /** `partition`, `isolate` and `bandwidth`: in force from their trigger on, until healed. */
  persistent: boolean;
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

/** What happens to one copy of a frame, on its way to one node. */
export type LinkAction =
  | { kind: "drop" }
  | { kind: "delay"; delayMs: number }
  | { kind: "duplicate" }
  | { kind: "reorder"; holdMs: number }
  | { kind: "bandwidth"; bytesPerSecond: number };

/** One action, the destination it is for, and the rule it comes from (a spec, or `live`). */
export interface LinkDecision {
  /** The rule's spec, or `live`. */
  rule: string;
  /** The fault's name as the spec writes it (`partition`, `delay`, ...). */
  fault: string;
  /** The destination this copy is for. */
  to: string;
  /** What happens to the copy. */
  action: LinkAction;
}

/** A rule's progress. */
export interface LinkRuleState {
  /** Frames that passed its frame filter so far. */
  readonly matched: number;
  /** A persistent rule came into force. */
  readonly fired: boolean;
  /** Done: fired once (an index, an occurrence, a heal) or healed everywhere. */
  readonly spent: boolean;
  /** Frame copies it hit. */
  readonly hits: number;
  /** Links a scoped heal took it off. */
  readonly healed: ReadonlySet<string>;
}

/** A link fault set over the control socket: in force on its links while set. */
export interface LiveLinkFault {
  /** What it does (any link kind but heal: `none` heals). */
  effect: Exclude<LinkEffect, { kind: "heal" }>;
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
}

/** The outcome of one frame: its decisions, what changed, and the state after it. */
export interface LinkStep {
  /** What happens to the frame's copies. */
  decisions: LinkDecision[];
  /** Persistent rules that came into force at this frame. */
  fired: string[];
  /** Heal rules that fired at this frame. */
  healed: string[];
  /** The state after the frame. */
  state: LinkPlanState;
}

/**
 * The key of a directed link.
 *
 * @example
 * ```ts
 * linkKey("n1", "n2"); // "n1->n2"
 * ```
 */
export function linkKey(from: string, to: string): string {
  return `${from}->${to}`;
}

/**
 * The directed links a scope covers among the nodes.
 *
 * @example
 * ```ts
 * [...scopeLinks({ kind: "link", from: "a", to: "b", both: true }, ["a", "b", "c"])]; // ["a->b", "b->a"]
 * ```
 */
export function scopeLinks(scope: LinkScope, nodes: readonly string[]): Set<string> {
  const links = new Set<string>();
  switch (scope.kind) {
    case "all":
      for (const a of nodes) for (const b of nodes) if (a !== b) links.add(linkKey(a, b));
      break;
    case "node":
      for (const other of nodes) {
        if (other === scope.node) continue;
        links.add(linkKey(scope.node, other));
        links.add(linkKey(other, scope.node));
      }
      break;
    case "link":
      links.add(linkKey(scope.from, scope.to));
      if (scope.both) links.add(linkKey(scope.to, scope.from));
      break;
  }
  return links;
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
export function effectLinks(effect: LinkEffect, nodes: readonly string[]): Set<string> {
  switch (effect.kind) {
    case "partition": {
      const links = new Set<string>();
      for (const a of effect.sides[0]) {
        for (const b of effect.sides[1]) {
          links.add(linkKey(a, b));
          links.add(linkKey(b, a));
        }
      }
      return links;
    }
    case "isolate":
      return scopeLinks({ kind: "node", node: effect.node }, nodes);
    default:
      return scopeLinks(effect.link, nodes);
  }
}

/**
 * Binds the link faults of a plan to the cluster's nodes (block faults are left out).
 *
 * @throws {FaultSpecError} from {@link checkClusterFaults}: an unknown node, overlapping
 *   sides, a link fault with fewer than two nodes.
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
    if (!isLinkEffect(rule.effect)) return;
    rules.push({
      number,
      spec: rule.spec,
      effect: rule.effect,
      trigger: rule.trigger,
      links: effectLinks(rule.effect, nodes),
      persistent: PERSISTENT_LINK_KINDS.has(rule.effect.kind),
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
      matched: 0,
      fired: false,
      spent: false,
      hits: 0,
      healed: NOTHING_HEALED,
    })),
    live: [],
  };
}

const PROTOCOLS: Record<string, number> = {
  tcp: IP_PROTOCOL.tcp,
  udp: IP_PROTOCOL.udp,
  icmp: IP_PROTOCOL.icmp,
};

/**
 * Whether a frame passes a frame filter (`@net:...`, without its occurrence).
 *
 * @example
 * ```ts
 * matchesFrameFilter(parseTrigger("net:a->b/tcp:2379") as FramesTrigger, frame); // true for a->b etcd traffic
 * ```
 */
export function matchesFrameFilter(
  filter: Extract<Trigger, { kind: "frames" }>,
  frame: Pick<LinkFrame, "from" | "to" | "view">,
): boolean {
  const link = filter.link;
  if (link) {
    const over = (a: string, b: string) => frame.from === a && frame.to.includes(b);
    const ok = link.kind === "node"
      ? frame.from === link.node || frame.to.includes(link.node)
      : over(link.from, link.to) || (link.both && over(link.to, link.from));
    if (!ok) return false;
  }
  const { view } = frame;
  const ip = view.ipv4;
  switch (filter.protocol) {
    case undefined:
      break;
    case "arp":
      if (view.ethertype !== ETHERTYPE.arp) return false;
      break;
    case "ip":
      if (!ip) return false;
      break;
    default:
      if (!ip || ip.protocol !== PROTOCOLS[filter.protocol]) return false;
  }
  if (filter.port !== undefined && ip?.srcPort !== filter.port && ip?.dstPort !== filter.port) {
    return false;
  }
  if (filter.flags) {
    const flags = ip?.tcpFlags ?? 0;
    for (const name of filter.flags) {
      if (!(flags & TCP_FLAGS[name as TcpFlag])) return false;
    }
  }
  return true;
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
  if (rule.effect.kind === "heal") return !state.spent;
  if (rule.persistent) return !state.fired;
  const trigger = rule.trigger;
  switch (trigger.kind) {
    case "always":
      return false;
    case "index":
      return true; // it hits one frame and is spent then
    case "time":
      return trigger.afterMs > now.time;
    case "frames":
      return trigger.occurrence !== undefined;
    case "match":
      return true;
  }
}

/** A uniform draw in [0, 1) for (rule, frame, destination, purpose). */
function draw(
  seed: number,
  rule: number,
  frame: number,
  destination: number,
  purpose: number,
): number {
  return seededStream(seed, rule, frame, destination, purpose)() / 2 ** 32;
}

/** The action of an effect on the copy of a frame to one node, or null when it spares it. */
function actionOf(
  effect: LinkEffect,
  seed: number,
  rule: number,
  frame: LinkFrame,
  destination: number,
): LinkAction | null {
  switch (effect.kind) {
    case "partition":
    case "isolate":
      return { kind: "drop" };
    case "drop":
      return effect.probability >= 1 ||
          draw(seed, rule, frame.index, destination, 0) < effect.probability
        ? { kind: "drop" }
        : null;
    case "duplicate":
      return effect.probability >= 1 ||
          draw(seed, rule, frame.index, destination, 0) < effect.probability
        ? { kind: "duplicate" }
        : null;
    case "reorder":
      return effect.probability >= 1 ||
          draw(seed, rule, frame.index, destination, 0) < effect.probability
        ? { kind: "reorder", holdMs: effect.holdMs }
        : null;
    case "link-delay": {
      const jitter = effect.jitterMs > 0
        ? (draw(seed, rule, frame.index, destination, 1) * 2 - 1) * effect.jitterMs
        : 0;
      return { kind: "delay", delayMs: Math.max(0, effect.durationMs + jitter) };
    }
    case "bandwidth":
      return { kind: "bandwidth", bytesPerSecond: effect.bytesPerSecond };
    case "heal":
      return null;
  }
}

/**
 * Decides what happens to one frame on each of its links, and the state after it.
 *
 * @example
 * ```ts
 * const plan = compileLinkPlan({ seed: 1, rules: [parseFaultSpec("partition:a|b@5")] }, ["a", "b"]);
 * let state = initialLinkState(plan);
 * const step = decideFrame(plan, state, { index: 7, time: 12, from: "a", to: ["b"], view });
 * step.decisions; // [{ rule: "partition:a|b@5", fault: "partition", to: "b", action: { kind: "drop" } }]
 * step.fired; // ["partition:a|b@5"]
 * ```
 */
export function decideFrame(plan: LinkPlan, state: LinkPlanState, frame: LinkFrame): LinkStep {
  const decisions: LinkDecision[] = [];
  const fired: string[] = [];
  const healed: string[] = [];
  let rules = state.rules;
  let live = state.live;
  const update = (i: number, change: Partial<LinkRuleState>) => {
    if (rules === state.rules) rules = [...rules];
    (rules as LinkRuleState[])[i] = { ...rules[i], ...change };
  };

  /** Whether the rule's trigger selects this frame; counts filter matches and spends one-shots. */
  const selects = (i: number): boolean => {
    const rule = plan.rules[i];
    const trigger = rule.trigger;
    switch (trigger.kind) {
      case "always":
        return true;
      case "index":
        if (frame.index < trigger.index) return false;
        if (!rule.persistent) update(i, { spent: true });
        return true;
      case "time":
        return frame.time >= trigger.afterMs;
      case "frames": {
        if (!matchesFrameFilter(trigger, frame)) return false;
        const matched = rules[i].matched + 1;
        update(i, { matched });
        if (trigger.occurrence === undefined) return true;
        if (matched !== trigger.occurrence) return false;
        if (!rule.persistent) update(i, { spent: true });
        return true;
      }
      case "match":
        return false;
    }
  };

  // Heals first: a frame that triggers a heal is not hit by what the heal ends.
  plan.rules.forEach((rule, i) => {
    if (rule.effect.kind !== "heal" || rules[i].spent || !selects(i)) return;
    update(i, { spent: true, fired: true, hits: rules[i].hits + 1 });
    const after = healRules(
      plan,
      { rules, live },
      rule.effect.link.kind === "all" ? null : rule.links,
      frame,
    );
    rules = after.rules;
    live = after.live;
    healed.push(rule.spec);
  });

  plan.rules.forEach((rule, i) => {
    if (rule.effect.kind === "heal" || rules[i].spent) return;
    if (rule.persistent) {
      if (!rules[i].fired) {
        if (!selects(i)) return;
        update(i, { fired: true });
        fired.push(rule.spec);
      }
    } else if (!selects(i)) return;
    const current = rules[i];
    let hits = 0;
    for (const to of frame.to) {
      const key = linkKey(frame.from, to);
      if (!rule.links.has(key) || current.healed.has(key)) continue;
      const action = actionOf(rule.effect, plan.seed, rule.number, frame, plan.nodes.indexOf(to));
      if (!action) continue;
      decisions.push({ rule: rule.spec, fault: effectName(rule.effect), to, action });
      hits++;
    }
    if (hits > 0) update(i, { hits: current.hits + hits });
  });

  // Faults set live: in force on their links while set.
  if (live.length > 0) {
    const after: LiveLinkFault[] = [];
    live.forEach((fault, n) => {
      let hit = false;
      for (const to of frame.to) {
        if (!fault.links.has(linkKey(frame.from, to))) continue;
        const action = actionOf(fault.effect, plan.seed, -2 - n, frame, plan.nodes.indexOf(to));
        if (!action) continue;
        decisions.push({ rule: "live", fault: effectName(fault.effect), to, action });
        hit = true;
      }
      if (hit && fault.remaining !== undefined) {
        if (fault.remaining > 1) after.push({ ...fault, remaining: fault.remaining - 1 });
      } else after.push(fault);
    });
    if (after.length !== live.length || after.some((f, n) => f !== live[n])) live = after;
  }

  const next = rules === state.rules && live === state.live ? state : { rules, live };
  return { decisions, fired, healed, state: next };
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
    if (rule.effect.kind === "heal" || current.spent || isWaiting(rule, current, now)) {
      return current;
    }
    if (links === null) return { ...current, spent: true };
    const merged = new Set([...current.healed, ...links]);
    return { ...current, healed: merged, spent: [...rule.links].every((l) => merged.has(l)) };
  });
  const live = links === null ? [] : state.live.flatMap((fault) => {
    const left = new Set([...fault.links].filter((l) => !links.has(l)));
    if (left.size === fault.links.size) return [fault];
    return left.size === 0 ? [] : [{ ...fault, links: left }];
  });
  return { rules, live };
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
    switch (action.kind) {
      case "drop":
        delivery.drop = true;
        break;
      case "delay":
        delivery.delayMs += action.delayMs;
        break;
      case "duplicate":
        delivery.duplicate = true;
        break;
      case "reorder":
        delivery.holdMs = Math.max(delivery.holdMs ?? 0, action.holdMs);
        break;
      case "bandwidth":
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
