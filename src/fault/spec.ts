/**
 * The fault spec grammar, `KIND[:PARAMS][@TRIGGER]`, the one way a fault is
 * written anywhere (`serve --fault`, `replay --fault`, scenario files), for both
 * families: block faults (`eio@17`), which the fault layer applies to ops, and
 * link faults (`partition:n1|n2,n3@+2s`), which the switch applies to frames. The
 * grammar is documented in docs/fault-spec.md; keep the two in step.
 *
 * @module
 */

import { OP_TYPES, type OpType } from "../block/backend.ts";
import { type Errno, ERRNOS, isErrno } from "../block/errno.ts";
import { parseBandwidth, parseDuration, parseSize, UnitError } from "../util/units.ts";
import { FaultSpecError } from "./errors.ts";
import { DEFAULT_MAX_LATENCY_MS } from "./latency.ts";
import {
  type CrashStates,
  type FaultEffect,
  type FaultKind,
  type FaultRule,
  type FrameProtocol,
  isLinkEffect,
  isNodeEffect,
  type LatencyDistribution,
  type LinkScope,
  type Trigger,
} from "./types.ts";

const KIND_NAMES: readonly string[] = [
  ...ERRNOS,
  "error",
  "hang",
  "delay",
  "limp",
  "lost-write",
  "torn-write",
  "corrupt",
  "fail",
  "stall",
  "lie-flush",
  "bad-sectors",
  "power-loss",
];

/** Bytes of a sector, the unit of `bad-sectors` and of torn writes. */
const SECTOR = 512;

/** Volatile writes up to which `power-loss:all` enumerates every subset, unless `max=` says otherwise. */
export const DEFAULT_ALL_MAX = 10;

/** The link family's kinds as the spec writes them (`delay` with a link scope is a link delay). */
const LINK_KIND_NAMES: readonly string[] = [
  "partition",
  "isolate",
  "drop",
  "delay",
  "duplicate",
  "reorder",
  "bandwidth",
  "heal",
];

/** The node family's kinds: faults of a whole node while the others run. */
const NODE_KIND_NAMES: readonly string[] = ["crash", "restart", "pause"];

/** How long a `reorder` holds a frame back at most, unless `hold=` says otherwise. */
export const DEFAULT_REORDER_HOLD_MS = 100;

const FRAME_PROTOCOLS: readonly string[] = ["tcp", "udp", "icmp", "arp", "ip"];
const TCP_FLAG_NAMES: readonly string[] = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"];

/**
 * Parses one fault spec.
 *
 * @throws {FaultSpecError} naming the spec, the part that is wrong and what was expected.
 * @example
 * ```ts
 * parseFaultSpec("eio@17").trigger; // { kind: "index", index: 17 }
 * parseFaultSpec("delay:200ms@write#3").effect; // { kind: "delay", durationMs: 200 }
 * parseFaultSpec("limp:10ms,1M/s").trigger; // { kind: "always" }
 * ```
 */
export function parseFaultSpec(text: string): FaultRule {
  const spec = text.trim();
  const at = spec.indexOf("@");
  const head = at < 0 ? spec : spec.slice(0, at);
  const triggerText = at < 0 ? undefined : spec.slice(at + 1);
  const colon = head.indexOf(":");
  const kind = (colon < 0 ? head : head.slice(0, colon)).toLowerCase();
  const params = colon < 0 ? [] : head.slice(colon + 1).split(",").map((p) => p.trim());
  try {
    let effect = parseEffect(kind, params);
    const trigger: Trigger = triggerText === undefined
      ? { kind: "always" as const }
      : parseTrigger(triggerText);
    if (trigger.kind === "frames" && effect.kind === "delay") {
      // A delay triggered by frames delays frames: the link family's delay, on every link.
      effect = {
        kind: "link-delay",
        durationMs: effect.durationMs,
        jitterMs: 0,
        link: { kind: "all" },
      };
    }
    if (trigger.kind === "frames" && !isLinkEffect(effect) && !isNodeEffect(effect)) {
      throw new FaultSpecError(
        `${kind} is a block fault; a frame filter (@net...) triggers link faults (${
          LINK_KIND_NAMES.join(", ")
        }) and node faults (${NODE_KIND_NAMES.join(", ")}) only`,
      );
    }
    if (trigger.kind === "match" && isLinkEffect(effect)) {
      throw new FaultSpecError(
        `${
          effectName(effect)
        } is a link fault: it is triggered by an index, +TIME or a frame filter (@net:...), not by a block op filter; to start it at a block op, give that op's index`,
      );
    }
    const rule = { effect, trigger, spec: "" };
    rule.spec = formatFaultSpec(rule);
    return rule;
  } catch (error) {
    if (error instanceof FaultSpecError || error instanceof UnitError) {
      throw new FaultSpecError(`fault "${text}": ${error.message}`);
    }
    throw error;
  }
}

/** Parameters as `key=value` pairs and positional values, in order. */
function splitParams(params: string[]): { named: Map<string, string>; positional: string[] } {
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const param of params) {
    if (param === "") {
      throw new FaultSpecError("an empty parameter (two commas, or a trailing one)");
    }
    const eq = param.indexOf("=");
    if (eq < 0) positional.push(param);
    else named.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim());
  }
  return { named, positional };
}

/**
 * A spec's parameters as they are used up: named (`key=value`) and positional, each
 * taken once; whatever is left when the effect is done is refused.
 */
class Params {
  readonly named: Map<string, string>;
  readonly positional: string[];

  constructor(readonly kind: string, params: string[]) {
    ({ named: this.named, positional: this.positional } = splitParams(params));
  }

  /** The value named `key`, else the first positional value that passes `test`. */
  take(key: string, test: (v: string) => boolean): string | undefined {
    if (this.named.has(key)) {
      const value = this.named.get(key)!;
      this.named.delete(key);
      return value;
    }
    const index = this.positional.findIndex(test);
    return index < 0 ? undefined : this.positional.splice(index, 1)[0];
  }

  /** The effect, once every parameter was used. */
  done(effect: FaultEffect): FaultEffect {
    const extra = [...this.named.keys()].map((k) => `${k}=`).concat(this.positional);
    if (extra.length > 0) {
      throw new FaultSpecError(
        `${this.kind} does not take ${extra.map((e) => `"${e}"`).join(", ")}`,
      );
    }
    return effect;
  }

  errno(fallback: Errno): Errno {
    const value = this.take("errno", () => true)?.toLowerCase() ?? fallback;
    if (!isErrno(value)) {
      throw new FaultSpecError(`errno "${value}" is not one NBD carries (${ERRNOS.join(", ")})`);
    }
    return value;
  }

  link(): LinkScope {
    const text = this.take("link", (v) => v === "*" || v.includes("->"));
    return text === undefined ? { kind: "all" } : parseLinkScope(text);
  }

  node(): string {
    const text = this.take("node", (v) => !/^\d/.test(v) && !v.includes("="));
    if (text === undefined) {
      throw new FaultSpecError(`${this.kind} needs a node, as in ${this.kind}:n2`);
    }
    return checkNodeName(text);
  }

  probability(): number {
    const text = this.take("probability", (v) => /^\d*\.?\d+%?$/.test(v));
    return text === undefined ? 1 : parseProbability(text);
  }
}

const isDuration = (v: string) => /^\d+(\.\d+)?\s*(us|ms|s|min|m|h)$/i.test(v);
const isBandwidth = (v: string) => /\/s$/i.test(v);

function parseEffect(kind: string, params: string[]): FaultEffect {
  const p = new Params(kind, params);
  if (isErrno(kind)) return p.done({ kind: "error", errno: kind });
  const effect = timingEffect(kind, p) ?? outcomeEffect(kind, p) ?? linkEffect(kind, p) ??
    nodeEffect(kind, p);
  if (effect) return p.done(effect);
  throw new FaultSpecError(
    `unknown fault kind "${kind}" (expected one of ${KIND_NAMES.join(", ")}; a link fault: ${
      LINK_KIND_NAMES.join(", ")
    }; or a node fault: ${NODE_KIND_NAMES.join(", ")})`,
  );
}

/** Block faults of time: the disk answers late, or not at all. */
function timingEffect(kind: string, p: Params): FaultEffect | undefined {
  switch (kind) {
    case "hang": {
      const duration = p.take("duration", () => true);
      return duration === undefined
        ? { kind: "hang" }
        : { kind: "hang", durationMs: parseDuration(duration) };
    }
    case "delay":
      return delayEffect(p);
    case "limp":
      return limpEffect(p);
    case "stall": {
      const every = p.take("every", () => false);
      const length = p.take("for", () => false);
      if (every === undefined || length === undefined) {
        throw new FaultSpecError("stall needs every= and for=, as in stall:every=10s,for=800ms");
      }
      const everyMs = parseDuration(every);
      const forMs = parseDuration(length);
      if (!(forMs > 0) || !(forMs < everyMs)) {
        throw new FaultSpecError(
          `a stall lasts more than 0 and less than its period (for=${forMs}ms, every=${everyMs}ms)`,
        );
      }
      return { kind: "stall", everyMs, forMs };
    }
    default:
      return undefined;
  }
}

/** `delay`: of one op, or with a link scope or a jitter, of frames (the link family). */
function delayEffect(p: Params): FaultEffect {
  const linkish = p.named.has("link") || p.named.has("jitter") ||
    p.positional.some((v) => v === "*" || v.includes("->"));
  const link = linkish ? p.link() : undefined;
  const jitter = linkish ? p.take("jitter", () => false) : undefined;
  const duration = p.take("duration", isDuration) ?? p.take("duration", () => true);
  if (duration === undefined) throw new FaultSpecError("delay needs a duration, as in delay:200ms");
  if (link === undefined) return { kind: "delay", durationMs: parseDuration(duration) };
  return {
    kind: "link-delay",
    durationMs: parseDuration(duration),
    jitterMs: jitter === undefined ? 0 : parseDuration(jitter),
    link,
  };
}

/** `limp`: a fixed latency, a distribution, a bandwidth, or a latency and a bandwidth. */
function limpEffect(p: Params): FaultEffect {
  const distribution = latencyDistribution(p.named, p.positional);
  const latency = p.take("latency", isDuration);
  const bandwidth = p.take("bandwidth", isBandwidth);
  if (distribution && latency !== undefined) {
    throw new FaultSpecError(
      "limp takes a fixed latency or a distribution (p50=...,p99=... or pareto), not both",
    );
  }
  if (latency === undefined && bandwidth === undefined && !distribution) {
    throw new FaultSpecError(
      "limp needs a latency, a distribution, a bandwidth or a latency and a bandwidth, as in limp:10ms,1M/s or limp:p50=2ms,p99=150ms",
    );
  }
  const effect: FaultEffect = { kind: "limp", latencyMs: latency ? parseDuration(latency) : 0 };
  if (bandwidth !== undefined) effect.bytesPerSecond = parseBandwidth(bandwidth);
  if (distribution) effect.distribution = distribution;
  return effect;
}

/** Block faults of outcome: what an op ends with, or what the disk keeps. */
function outcomeEffect(kind: string, p: Params): FaultEffect | undefined {
  switch (kind) {
    case "error":
      return { kind: "error", errno: p.errno("eio") };
    case "fail":
      return { kind: "fail", errno: p.errno("eio") };
    case "lie-flush": {
      const only = p.take("only", (v) => v.toLowerCase() === "fua");
      if (only !== undefined && only.toLowerCase() !== "fua") {
        throw new FaultSpecError(
          `lie-flush lies about flushes and FUA, or with fua only FUA, not "${only}"`,
        );
      }
      return { kind: "lie-flush", fuaOnly: only !== undefined };
    }
    case "bad-sectors":
      return badSectorsEffect(p);
    case "lost-write":
      return { kind: "lost-write" };
    case "torn-write": {
      const keep = p.take("keep", () => true);
      if (keep === undefined) return { kind: "torn-write" };
      return { kind: "torn-write", keepSectors: parseCount(keep, "keep", 0) };
    }
    case "corrupt": {
      const direction = p.take("direction", (v) => v === "read" || v === "write") ?? "read";
      if (direction !== "read" && direction !== "write") {
        throw new FaultSpecError(`corrupt direction must be read or write, not "${direction}"`);
      }
      const bits = parseCount(p.take("bits", (v) => /^\d+$/.test(v)) ?? "1", "bits", 1);
      return { kind: "corrupt", direction, bits };
    }
    case "power-loss":
      return powerLossEffect(p.named, p.positional);
    default:
      return undefined;
  }
}

function badSectorsEffect(p: Params): FaultEffect {
  const range = p.take("range", (v) => /^[^=]+[-+][^=]+$/.test(v));
  if (range === undefined) {
    throw new FaultSpecError(
      "bad-sectors needs a range of bytes, START-END or OFFSET+LENGTH, as in bad-sectors:1M+4K or bad-sectors:8192-12288,enospc",
    );
  }
  const { start, end } = parseByteRange(range);
  return {
    kind: "bad-sectors",
    startSector: Math.floor(start / SECTOR),
    endSector: Math.ceil(end / SECTOR),
    errno: p.errno("eio"),
  };
}

/** Link faults: the frames between the nodes of a cluster. */
function linkEffect(kind: string, p: Params): FaultEffect | undefined {
  switch (kind) {
    case "partition":
      return parsePartition(p.positional.splice(0).join(","), p.named);
    case "isolate": {
      const node = p.take("node", () => true);
      if (node === undefined) throw new FaultSpecError("isolate needs a node, as in isolate:n1");
      return { kind: "isolate", node: checkNodeName(node) };
    }
    case "drop":
    case "duplicate": {
      const link = p.link();
      return { kind, probability: p.probability(), link };
    }
    case "reorder": {
      const link = p.link();
      const hold = p.take("hold", () => false);
      return {
        kind: "reorder",
        probability: p.probability(),
        holdMs: hold === undefined ? DEFAULT_REORDER_HOLD_MS : parseDuration(hold),
        link,
      };
    }
    case "bandwidth": {
      const link = p.link();
      const rate = p.take("rate", isBandwidth);
      if (rate === undefined) {
        throw new FaultSpecError("bandwidth needs a rate, as in bandwidth:1M/s");
      }
      return { kind: "bandwidth", bytesPerSecond: parseBandwidth(rate), link };
    }
    case "heal":
      return { kind: "heal", link: p.link() };
    default:
      return undefined;
  }
}

/** Node faults: a whole node while the others run. */
function nodeEffect(kind: string, p: Params): FaultEffect | undefined {
  switch (kind) {
    case "crash":
      return { kind: "crash", node: p.node() };
    case "restart": {
      const node = p.node();
      const after = p.take("after", () => false);
      return { kind: "restart", node, afterMs: after === undefined ? 0 : parseDuration(after) };
    }
    case "pause": {
      const node = p.node();
      const duration = p.take("for", () => true);
      if (duration === undefined) {
        throw new FaultSpecError("pause needs a duration, as in pause:n3,2s");
      }
      return { kind: "pause", node, durationMs: parseDuration(duration) };
    }
    default:
      return undefined;
  }
}

/**
 * A limp's latency distribution, taken out of its parameters: two percentiles
 * (`p50=2ms,p99=150ms`) for a log-normal, or `pareto,scale=1ms,alpha=1.5`; `max=` caps
 * every draw. Undefined when the params name none.
 */
function latencyDistribution(
  named: Map<string, string>,
  positional: string[],
): LatencyDistribution | undefined {
  const percentiles = [...named.keys()].filter((key) => /^p\d+(\.\d+)?$/.test(key));
  const paretoAt = positional.findIndex((v) => v.toLowerCase() === "pareto");
  const lognormalAt = positional.findIndex((v) => v.toLowerCase() === "lognormal");
  if (percentiles.length === 0 && paretoAt < 0 && lognormalAt < 0) {
    if (named.has("max")) throw new FaultSpecError("max= caps a distribution's draws: give one");
    return undefined;
  }
  const maxText = named.get("max");
  named.delete("max");
  const maxMs = maxText === undefined ? DEFAULT_MAX_LATENCY_MS : parseDuration(maxText);
  if (paretoAt >= 0) {
    positional.splice(paretoAt, 1);
    const scale = named.get("scale");
    const alpha = named.get("alpha");
    named.delete("scale");
    named.delete("alpha");
    if (scale === undefined || alpha === undefined || percentiles.length > 0) {
      throw new FaultSpecError(
        "a pareto limp takes scale= and alpha=, as in limp:pareto,scale=1ms,alpha=1.5",
      );
    }
    const alphaValue = Number(alpha);
    if (!Number.isFinite(alphaValue) || alphaValue <= 0) {
      throw new FaultSpecError(`alpha must be a number above 0, not "${alpha}"`);
    }
    return { kind: "pareto", scaleMs: parseDuration(scale), alpha: alphaValue, maxMs };
  }
  if (lognormalAt >= 0) positional.splice(lognormalAt, 1);
  if (percentiles.length !== 2) {
    throw new FaultSpecError(
      `a log-normal limp takes two percentiles, as in limp:p50=2ms,p99=150ms (found ${percentiles.length})`,
    );
  }
  const points = percentiles.map((key) => {
    const q = Number(key.slice(1));
    if (!(q > 0 && q < 100)) throw new FaultSpecError(`${key} is not a percentile in (0, 100)`);
    const ms = parseDuration(named.get(key)!);
    named.delete(key);
    if (!(ms > 0)) throw new FaultSpecError(`${key} must be a latency above 0`);
    return [q, ms] as const;
  }).sort((a, b) => a[0] - b[0]);
  if (points[0][0] === points[1][0] || points[1][1] <= points[0][1]) {
    throw new FaultSpecError(
      `the higher percentile needs the higher latency (p${points[0][0]}=${points[0][1]}ms, p${
        points[1][0]
      }=${points[1][1]}ms)`,
    );
  }
  return { kind: "lognormal", points: [points[0], points[1]], maxMs };
}

/** `START-END` or `OFFSET+LENGTH` in bytes (sizes with suffixes), not empty. */
function parseByteRange(text: string): { start: number; end: number } {
  const plus = text.indexOf("+");
  const dash = text.indexOf("-");
  const range = plus > 0 && (dash < 0 || plus < dash)
    ? (() => {
      const start = parseSize(text.slice(0, plus));
      return { start, end: start + parseSize(text.slice(plus + 1)) };
    })()
    : { start: parseSize(text.slice(0, dash)), end: parseSize(text.slice(dash + 1)) };
  if (range.end <= range.start) throw new FaultSpecError(`range "${text}" is empty`);
  return range;
}

/**
 * `power-loss[:drop|subset|torn|each|orders=K|all[,max=B][,orders=K]|state=ID]`.
 */
function powerLossEffect(named: Map<string, string>, positional: string[]): FaultEffect {
  const take = (key: string) => {
    const value = named.get(key);
    named.delete(key);
    return value;
  };
  const mode = (positional.shift() ?? "").toLowerCase();
  const orders = take("orders");
  const max = take("max");
  const state = take("state");
  const count = (text: string, what: string) => parseCount(text, what, 1);
  if (state !== undefined) {
    if (mode !== "" || orders !== undefined || max !== undefined) {
      throw new FaultSpecError("power-loss:state=ID names one crash state and takes nothing else");
    }
    return { kind: "power-loss", variant: "drop", states: parseCrashStateId(state) };
  }
  if (max !== undefined && mode !== "all") {
    throw new FaultSpecError("max= bounds power-loss:all, as in power-loss:all,max=8");
  }
  switch (mode) {
    case "":
      return orders === undefined ? { kind: "power-loss", variant: "drop" } : {
        kind: "power-loss",
        variant: "drop",
        states: { kind: "orders", count: count(orders, "orders") },
      };
    case "drop":
    case "subset":
    case "torn":
    case "each":
      if (orders !== undefined) {
        throw new FaultSpecError(`power-loss:${mode} takes no orders=`);
      }
      return mode === "each"
        ? { kind: "power-loss", variant: "drop", states: { kind: "each" } }
        : { kind: "power-loss", variant: mode };
    case "all": {
      const states: CrashStates = {
        kind: "all",
        max: max === undefined ? DEFAULT_ALL_MAX : parseCount(max, "max", 0),
      };
      if (states.max > 20) {
        throw new FaultSpecError(
          `max=${states.max}: more than 2^20 crash states a point is too many`,
        );
      }
      if (orders !== undefined) states.count = count(orders, "orders");
      return { kind: "power-loss", variant: "drop", states };
    }
    default:
      throw new FaultSpecError(
        `power-loss keeps drop, subset, torn, each, orders=K, all[,max=B] or state=ID, not "${mode}"`,
      );
  }
}

/**
 * A crash state's ID: the recorded op indices of the volatile writes it drops, joined by
 * `+` (`57+61`), or `none` (every volatile write kept).
 *
 * @throws {FaultSpecError} for anything else.
 * @example
 * ```ts
 * parseCrashStateId("61+57"); // { kind: "state", dropped: [57, 61] }
 * ```
 */
export function parseCrashStateId(text: string): Extract<CrashStates, { kind: "state" }> {
  const trimmed = text.trim();
  if (trimmed === "none") return { kind: "state", dropped: [] };
  if (!/^\d+(\+\d+)*$/.test(trimmed)) {
    throw new FaultSpecError(
      `crash state "${text}" is not none or the dropped writes' op indices joined by + (as 57+61)`,
    );
  }
  const dropped = [...new Set(trimmed.split("+").map(Number))].sort((a, b) => a - b);
  return { kind: "state", dropped };
}

/**
 * The ID of the crash state that drops these volatile writes (recorded op indices).
 *
 * @example
 * ```ts
 * crashStateId([61, 57]); // "57+61"
 * crashStateId([]); // "none"
 * ```
 */
export function crashStateId(dropped: readonly number[]): string {
  return dropped.length === 0 ? "none" : [...dropped].sort((a, b) => a - b).join("+");
}

/** A node name in a link fault: what the scenario allows, and nothing the grammar uses. */
function checkNodeName(text: string): string {
  const name = text.trim();
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new FaultSpecError(
      name === "" ? "a node name is empty" : `"${name}" is not a node name (such as n1 or db2)`,
    );
  }
  return name;
}

/**
 * Parses a link scope: `n1->n2` (one way), `n1<->n2` (both ways), `n1` (every frame
 * to or from n1) or `*` (every link).
 *
 * @throws {FaultSpecError} naming the problem (an empty name, a link from a node to itself).
 * @example
 * ```ts
 * parseLinkScope("n1<->n2"); // { kind: "link", from: "n1", to: "n2", both: true }
 * ```
 */
export function parseLinkScope(text: string): LinkScope {
  const trimmed = text.trim();
  if (trimmed === "*") return { kind: "all" };
  const both = trimmed.indexOf("<->");
  const one = trimmed.indexOf("->");
  if (both < 0 && one < 0) return { kind: "node", node: checkNodeName(trimmed) };
  const at = both >= 0 ? both : one;
  const from = checkNodeName(trimmed.slice(0, at));
  const to = checkNodeName(trimmed.slice(at + (both >= 0 ? 3 : 2)));
  if (from === to) throw new FaultSpecError(`the link "${trimmed}" goes from a node to itself`);
  return { kind: "link", from, to, both: both >= 0 };
}

/** The text of a link scope, as {@link parseLinkScope} reads it. */
export function formatLinkScope(scope: LinkScope): string {
  switch (scope.kind) {
    case "all":
      return "*";
    case "node":
      return scope.node;
    case "link":
      return `${scope.from}${scope.both ? "<->" : "->"}${scope.to}`;
  }
}

function parseProbability(text: string): number {
  const percent = text.endsWith("%");
  const value = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new FaultSpecError(
      `probability "${text}" must be in (0, 1], as 0.3 or 30%`,
    );
  }
  return value;
}

/** `partition:A[,B...]|C[,D...]`: the params, commas and all, are the two sides. */
function parsePartition(text: string, named: Map<string, string>): FaultEffect {
  if (named.size > 0) {
    throw new FaultSpecError(
      `partition takes its two sides only, as in partition:n1|n2,n3, not "${
        [...named.keys()].join("=, ")
      }="`,
    );
  }
  const sides = text.split("|");
  if (text === "" || sides.length !== 2) {
    throw new FaultSpecError(
      "partition needs two sides separated by |, as in partition:n1|n2,n3",
    );
  }
  const [left, right] = sides.map((side) => side.split(",").map(checkNodeName));
  for (const side of [left, right]) {
    const seen = new Set<string>();
    for (const node of side) {
      if (seen.has(node)) throw new FaultSpecError(`node ${node} is named twice on one side`);
      seen.add(node);
    }
  }
  const both = left.filter((node) => right.includes(node));
  if (both.length > 0) {
    throw new FaultSpecError(
      `the sides overlap: ${both.join(", ")} ${both.length > 1 ? "are" : "is"} on both sides`,
    );
  }
  return { kind: "partition", sides: [left, right] };
}

/**
 * Parses a frame filter, the trigger of a link fault: `net` (every frame), then
 * optionally `:` and parts separated by `/` in any order: a link (`n1->n2`,
 * `n1<->n2`, or a node: frames to or from it), a protocol (`tcp`, `udp`, `icmp`,
 * `arp`, `ip`) with `:PORT` for tcp and udp (source or destination), and TCP flags
 * joined by `+` (`syn`, `syn+ack`); then `#K` for the K-th matching frame.
 */
function parseFrameTrigger(text: string): Extract<Trigger, { kind: "frames" }> {
  const trigger: Extract<Trigger, { kind: "frames" }> = { kind: "frames" };
  const hash = text.lastIndexOf("#");
  let body = hash < 0 ? text : text.slice(0, hash);
  if (hash >= 0) {
    trigger.occurrence = parseCount(text.slice(hash + 1), "the occurrence after #", 1);
  }
  body = body.slice("net".length);
  if (body === "") return trigger;
  if (!body.startsWith(":") || body.length === 1) {
    throw new FaultSpecError(`frame filter "${text}": expected net:FILTER, as net:n1->n2/tcp:2379`);
  }
  for (const part of body.slice(1).split("/")) {
    const [word, port, extra] = part.split(":");
    if (FRAME_PROTOCOLS.includes(word)) {
      if (trigger.protocol !== undefined) {
        throw new FaultSpecError(`frame filter "${text}" names two protocols`);
      }
      trigger.protocol = word as FrameProtocol;
      if (extra !== undefined) throw new FaultSpecError(`"${part}" is not PROTOCOL[:PORT]`);
      if (port !== undefined) {
        if (word !== "tcp" && word !== "udp") {
          throw new FaultSpecError(`${word} has no ports; a port follows tcp or udp`);
        }
        const value = Number(port);
        if (!/^\d+$/.test(port) || value > 65535) {
          throw new FaultSpecError(`port "${port}" is not a number in [0, 65535]`);
        }
        trigger.port = value;
      }
    } else if (part.split("+").every((flag) => TCP_FLAG_NAMES.includes(flag))) {
      if (trigger.flags !== undefined) {
        throw new FaultSpecError(`frame filter "${text}" names TCP flags twice`);
      }
      trigger.flags = part.split("+");
    } else {
      if (trigger.link !== undefined) {
        throw new FaultSpecError(`frame filter "${text}" names two links`);
      }
      const link = parseLinkScope(part);
      if (link.kind === "all") {
        throw new FaultSpecError(`frame filter "${text}": every link is net, without *`);
      }
      trigger.link = link;
    }
  }
  if (trigger.flags !== undefined) {
    if (trigger.protocol === undefined) trigger.protocol = "tcp";
    else if (trigger.protocol !== "tcp") {
      throw new FaultSpecError(
        `frame filter "${text}": TCP flags need tcp, not ${trigger.protocol}`,
      );
    }
  }
  return trigger;
}

function formatFrameTrigger(trigger: Extract<Trigger, { kind: "frames" }>): string {
  const parts: string[] = [];
  if (trigger.link) parts.push(formatLinkScope(trigger.link));
  if (trigger.protocol) {
    parts.push(
      trigger.port === undefined ? trigger.protocol : `${trigger.protocol}:${trigger.port}`,
    );
  }
  if (trigger.flags) parts.push(trigger.flags.join("+"));
  let text = parts.length > 0 ? `net:${parts.join("/")}` : "net";
  if (trigger.occurrence !== undefined) text += `#${trigger.occurrence}`;
  return text;
}

function parseCount(text: string, what: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new FaultSpecError(
      `${what} must be a whole number of at least ${minimum}, not "${text}"`,
    );
  }
  return value;
}

/**
 * Parses a trigger: `17` (op index), `+2s` (time since start),
 * `[[NODE/]DISK/]TYPE[:START-END|:OFFSET+LENGTH][#K]`, or a frame filter
 * `net[:PART/...][#K]` (link faults only).
 *
 * @example
 * ```ts
 * parseTrigger("vdb/write:1M-2M#2");
 * ```
 */
export function parseTrigger(text: string): Trigger {
  const trimmed = text.trim();
  if (trimmed === "") throw new FaultSpecError("the trigger after @ is empty");
  if (/^\d+$/.test(trimmed)) return { kind: "index", index: Number(trimmed) };
  if (trimmed.startsWith("+")) return { kind: "time", afterMs: parseDuration(trimmed.slice(1)) };
  // `net`, `net#K` and `net:...` are free: "net" is no op type, and a block filter has a
  // colon only after its type.
  if (/^net($|#|:)/.test(trimmed)) return parseFrameTrigger(trimmed);

  const hash = trimmed.lastIndexOf("#");
  const body = hash < 0 ? trimmed : trimmed.slice(0, hash);
  const trigger: Extract<Trigger, { kind: "match" }> = { kind: "match" };
  if (hash >= 0) {
    trigger.occurrence = parseCount(trimmed.slice(hash + 1), "the occurrence after #", 1);
  }

  const parts = body.split("/");
  if (parts.length > 3) throw new FaultSpecError(`trigger "${text}" has more than NODE/DISK/TYPE`);
  const last = parts.pop()!;
  if (parts.length === 2) trigger.node = nonEmpty(parts[0], "node name");
  if (parts.length >= 1) trigger.disk = nonEmpty(parts[parts.length - 1], "disk name");

  const colon = last.indexOf(":");
  const typeText = (colon < 0 ? last : last.slice(0, colon)).toLowerCase();
  if (typeText !== "any") {
    if (!(OP_TYPES as readonly string[]).includes(typeText)) {
      throw new FaultSpecError(
        `"${typeText}" in trigger "${text}" is not an op type (${
          OP_TYPES.join(", ")
        }, any), an op index or +TIME`,
      );
    }
    trigger.type = typeText as OpType;
  }
  if (colon >= 0) {
    const where = last.slice(colon + 1);
    const plus = where.indexOf("+");
    const dash = where.indexOf("-");
    if (plus > 0) {
      trigger.exact = {
        offset: parseSize(where.slice(0, plus)),
        length: parseSize(where.slice(plus + 1)),
      };
    } else if (dash > 0) {
      const range = {
        start: parseSize(where.slice(0, dash)),
        end: parseSize(where.slice(dash + 1)),
      };
      if (range.end <= range.start) throw new FaultSpecError(`range "${where}" is empty`);
      trigger.range = range;
    } else {
      throw new FaultSpecError(`"${where}" is neither START-END nor OFFSET+LENGTH`);
    }
  }
  return trigger;
}

function nonEmpty(text: string, what: string): string {
  if (text === "") throw new FaultSpecError(`the ${what} in the trigger is empty`);
  return text;
}

/** The name of an effect as the spec writes it: the errno for errors, `delay` for a link delay, else the kind. */
export function effectName(effect: FaultEffect): string {
  if (effect.kind === "link-delay") return "delay";
  return effect.kind === "error" ? effect.errno : effect.kind;
}

/**
 * The canonical text of a rule (what `parseFaultSpec` would read back as the same rule).
 *
 * @example
 * ```ts
 * formatFaultSpec(parseFaultSpec("DELAY:0.2s@WRITE#3")); // "delay:200ms@write#3"
 * ```
 */
export function formatFaultSpec(rule: Pick<FaultRule, "effect" | "trigger">): string {
  const params = effectParams(rule.effect);
  const head = params.length > 0
    ? `${effectName(rule.effect)}:${params.join(",")}`
    : effectName(rule.effect);
  const trigger = formatTrigger(rule.trigger);
  return trigger === "" ? head : `${head}@${trigger}`;
}

function effectParams(effect: FaultEffect): string[] {
  switch (effect.kind) {
    case "fail":
      return effect.errno === "eio" ? [] : [effect.errno];
    case "hang":
      return effect.durationMs === undefined ? [] : [`${effect.durationMs}ms`];
    case "delay":
      return [`${effect.durationMs}ms`];
    case "limp": {
      const params = effect.distribution
        ? distributionParams(effect.distribution)
        : effect.latencyMs > 0 || !effect.bytesPerSecond
        ? [`${effect.latencyMs}ms`]
        : [];
      if (effect.bytesPerSecond) params.push(`${effect.bytesPerSecond}/s`);
      return params;
    }
    case "stall":
      return [`every=${effect.everyMs}ms`, `for=${effect.forMs}ms`];
    case "lie-flush":
      return effect.fuaOnly ? ["fua"] : [];
    case "bad-sectors":
      return [
        `${effect.startSector * SECTOR}-${effect.endSector * SECTOR}`,
        ...(effect.errno === "eio" ? [] : [effect.errno]),
      ];
    case "torn-write":
      return effect.keepSectors === undefined ? [] : [`keep=${effect.keepSectors}`];
    case "corrupt":
      return [effect.direction, `bits=${effect.bits}`];
    case "power-loss":
      return effect.states
        ? crashStatesParams(effect.states)
        : effect.variant === "drop"
        ? []
        : [effect.variant];
    case "partition":
      return [`${effect.sides[0].join(",")}|${effect.sides[1].join(",")}`];
    case "isolate":
      return [effect.node];
    case "drop":
    case "duplicate":
      return [
        ...(effect.probability === 1 ? [] : [String(effect.probability)]),
        ...scopeParams(effect.link),
      ];
    case "reorder":
      return [
        ...(effect.probability === 1 ? [] : [String(effect.probability)]),
        ...(effect.holdMs === DEFAULT_REORDER_HOLD_MS ? [] : [`hold=${effect.holdMs}ms`]),
        ...scopeParams(effect.link),
      ];
    case "link-delay":
      return [
        `${effect.durationMs}ms`,
        ...(effect.jitterMs > 0 ? [`jitter=${effect.jitterMs}ms`] : []),
        // Always written: a delay without a link would be a block delay.
        `link=${formatLinkScope(effect.link)}`,
      ];
    case "bandwidth":
      return [`${effect.bytesPerSecond}/s`, ...scopeParams(effect.link)];
    case "heal":
      return scopeParams(effect.link);
    case "crash":
      return [effect.node];
    case "restart":
      return effect.afterMs > 0 ? [effect.node, `after=${effect.afterMs}ms`] : [effect.node];
    case "pause":
      return [effect.node, `${effect.durationMs}ms`];
    default:
      return [];
  }
}

function distributionParams(distribution: LatencyDistribution): string[] {
  const max = distribution.maxMs === DEFAULT_MAX_LATENCY_MS ? [] : [`max=${distribution.maxMs}ms`];
  if (distribution.kind === "pareto") {
    return ["pareto", `scale=${distribution.scaleMs}ms`, `alpha=${distribution.alpha}`, ...max];
  }
  return [...distribution.points.map(([q, ms]) => `p${q}=${ms}ms`), ...max];
}

function crashStatesParams(states: CrashStates): string[] {
  switch (states.kind) {
    case "each":
      return ["each"];
    case "orders":
      return [`orders=${states.count}`];
    case "all":
      return [
        "all",
        ...(states.max === DEFAULT_ALL_MAX ? [] : [`max=${states.max}`]),
        ...(states.count === undefined ? [] : [`orders=${states.count}`]),
      ];
    case "state":
      return [`state=${crashStateId(states.dropped)}`];
  }
}

function scopeParams(scope: LinkScope): string[] {
  return scope.kind === "all" ? [] : [`link=${formatLinkScope(scope)}`];
}

/** The text of a trigger, without the `@`; empty for `always`. */
export function formatTrigger(trigger: Trigger): string {
  switch (trigger.kind) {
    case "always":
      return "";
    case "index":
      return String(trigger.index);
    case "time":
      return `+${trigger.afterMs}ms`;
    case "match": {
      let text = [trigger.node, trigger.disk, trigger.type ?? "any"].filter((p) => p !== undefined)
        .join("/");
      if (trigger.range) text += `:${trigger.range.start}-${trigger.range.end}`;
      if (trigger.exact) text += `:${trigger.exact.offset}+${trigger.exact.length}`;
      if (trigger.occurrence !== undefined) text += `#${trigger.occurrence}`;
      return text;
    }
    case "frames":
      return formatFrameTrigger(trigger);
  }
}

/** Every block kind name the grammar accepts, for help texts (link kinds: {@link linkFaultKindNames}). */
export function faultKindNames(): readonly string[] {
  return KIND_NAMES;
}

/**
 * The link family's kind names as specs write them, for help texts.
 *
 * @example
 * ```ts
 * linkFaultKindNames().includes("partition"); // true
 * ```
 */
export function linkFaultKindNames(): readonly string[] {
  return LINK_KIND_NAMES;
}

/**
 * The node family's kind names, for help texts.
 *
 * @example
 * ```ts
 * nodeFaultKindNames(); // ["crash", "restart", "pause"]
 * ```
 */
export function nodeFaultKindNames(): readonly string[] {
  return NODE_KIND_NAMES;
}

/** The kinds a given layer can serve, for checks at the edge. */
export function isKind(effect: FaultEffect, ...kinds: FaultKind[]): boolean {
  return kinds.includes(effect.kind);
}
