/**
 * The fault spec grammar, `KIND[:PARAMS][@TRIGGER]`, the one way a fault is
 * written anywhere (`serve --fault`, `replay --fault`, scenario files). The
 * grammar is documented in docs/fault-spec.md; keep the two in step.
 *
 * @module
 */

import { OP_TYPES, type OpType } from "../block/backend.ts";
import { type Errno, ERRNOS, isErrno } from "../block/errno.ts";
import { parseBandwidth, parseDuration, parseSize, UnitError } from "../util/units.ts";
import { FaultSpecError } from "./errors.ts";
import type { FaultEffect, FaultKind, FaultRule, Trigger } from "./types.ts";

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
  "power-loss",
];

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
    const effect = parseEffect(kind, params);
    const trigger = triggerText === undefined
      ? { kind: "always" as const }
      : parseTrigger(triggerText);
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

function parseEffect(kind: string, params: string[]): FaultEffect {
  const { named, positional } = splitParams(params);
  const take = (key: string, test: (v: string) => boolean): string | undefined => {
    if (named.has(key)) {
      const value = named.get(key)!;
      named.delete(key);
      return value;
    }
    const index = positional.findIndex(test);
    return index < 0 ? undefined : positional.splice(index, 1)[0];
  };
  const done = (effect: FaultEffect): FaultEffect => {
    const extra = [...named.keys()].map((k) => `${k}=`).concat(positional);
    if (extra.length > 0) {
      throw new FaultSpecError(`${kind} does not take ${extra.map((e) => `"${e}"`).join(", ")}`);
    }
    return effect;
  };
  const errnoParam = (fallback: Errno): Errno => {
    const value = take("errno", () => true)?.toLowerCase() ?? fallback;
    if (!isErrno(value)) {
      throw new FaultSpecError(
        `errno "${value}" is not one NBD carries (${ERRNOS.join(", ")})`,
      );
    }
    return value;
  };
  const isDuration = (v: string) => /^\d+(\.\d+)?\s*(us|ms|s|min|m|h)$/i.test(v);
  const isBandwidth = (v: string) => /\/s$/i.test(v);

  if (isErrno(kind)) return done({ kind: "error", errno: kind });
  switch (kind) {
    case "error":
      return done({ kind: "error", errno: errnoParam("eio") });
    case "fail":
      return done({ kind: "fail", errno: errnoParam("eio") });
    case "hang": {
      const duration = take("duration", () => true);
      return done(
        duration === undefined
          ? { kind: "hang" }
          : { kind: "hang", durationMs: parseDuration(duration) },
      );
    }
    case "delay": {
      const duration = take("duration", () => true);
      if (duration === undefined) {
        throw new FaultSpecError("delay needs a duration, as in delay:200ms");
      }
      return done({ kind: "delay", durationMs: parseDuration(duration) });
    }
    case "limp": {
      const latency = take("latency", isDuration);
      const bandwidth = take("bandwidth", isBandwidth);
      if (latency === undefined && bandwidth === undefined) {
        throw new FaultSpecError("limp needs a latency, a bandwidth or both, as in limp:10ms,1M/s");
      }
      const effect: FaultEffect = { kind: "limp", latencyMs: latency ? parseDuration(latency) : 0 };
      if (bandwidth !== undefined) effect.bytesPerSecond = parseBandwidth(bandwidth);
      return done(effect);
    }
    case "lost-write":
      return done({ kind: "lost-write" });
    case "torn-write": {
      const keep = take("keep", () => true);
      if (keep === undefined) return done({ kind: "torn-write" });
      return done({ kind: "torn-write", keepSectors: parseCount(keep, "keep", 0) });
    }
    case "corrupt": {
      const direction = take("direction", (v) => v === "read" || v === "write") ?? "read";
      if (direction !== "read" && direction !== "write") {
        throw new FaultSpecError(`corrupt direction must be read or write, not "${direction}"`);
      }
      const bits = parseCount(take("bits", (v) => /^\d+$/.test(v)) ?? "1", "bits", 1);
      return done({ kind: "corrupt", direction, bits });
    }
    case "power-loss": {
      const variant = take("keep", () => true) ?? "drop";
      if (variant !== "drop" && variant !== "subset" && variant !== "torn") {
        throw new FaultSpecError(`power-loss keeps drop, subset or torn, not "${variant}"`);
      }
      return done({ kind: "power-loss", variant });
    }
    default:
      throw new FaultSpecError(
        `unknown fault kind "${kind}" (expected one of ${KIND_NAMES.join(", ")})`,
      );
  }
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
 * Parses a trigger: `17` (op index), `+2s` (time since start), or
 * `[[NODE/]DISK/]TYPE[:START-END|:OFFSET+LENGTH][#K]`.
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

/** The name of an effect as the spec writes it: the errno for errors, else the kind. */
export function effectName(effect: FaultEffect): string {
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
      const params = effect.latencyMs > 0 || !effect.bytesPerSecond
        ? [`${effect.latencyMs}ms`]
        : [];
      if (effect.bytesPerSecond) params.push(`${effect.bytesPerSecond}/s`);
      return params;
    }
    case "torn-write":
      return effect.keepSectors === undefined ? [] : [`keep=${effect.keepSectors}`];
    case "corrupt":
      return [effect.direction, `bits=${effect.bits}`];
    case "power-loss":
      return effect.variant === "drop" ? [] : [effect.variant];
    default:
      return [];
  }
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
  }
}

/** Every kind name the grammar accepts, for help texts. */
export function faultKindNames(): readonly string[] {
  return KIND_NAMES;
}

/** The kinds a given layer can serve, for checks at the edge. */
export function isKind(effect: FaultEffect, ...kinds: FaultKind[]): boolean {
  return kinds.includes(effect.kind);
}
