/**
 * The fault spec grammar, `KIND[:PARAMS][@TRIGGER]`, the one way a fault is written
 * anywhere (`serve --fault`, `replay --fault`, scenario files), for every family. The
 * kinds and their parameters are the table's (./kinds/mod.ts); this file reads the name,
 * the parameters and the trigger, and hands the parameters to the kind. The grammar is
 * documented in docs/fault-spec.md; keep the two in step.
 *
 * @module
 */

import { OP_TYPES, type OpType } from "../block/backend.ts";
import { parseDuration, parseSize, UnitError } from "../util/units.ts";
import { FaultSpecError } from "./errors.ts";
import { kindOf, kindsNamed, namesOf, specNameOf } from "./kinds/mod.ts";
import type { FaultKind } from "./kinds/kind.ts";
import { formatLinkScope, parseLinkScope } from "./link_scope.ts";
import { Params, parseCount } from "./params.ts";
import { bootTriggerProblem } from "./standing.ts";
import type { FaultEffect, FaultRule, FrameProtocol, Trigger } from "./types.ts";

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
  const colon = head.indexOf(":");
  const name = (colon < 0 ? head : head.slice(0, colon)).toLowerCase();
  const texts = colon < 0 ? [] : head.slice(colon + 1).split(",").map((p) => p.trim());
  try {
    const candidates = kindsNamed(name);
    if (candidates.length === 0) {
      throw new FaultSpecError(
        `unknown fault kind "${name}" (expected one of ${
          namesOf("block", "machine").join(", ")
        }; a link fault: ${namesOf("link").join(", ")}; or a node fault: ${
          namesOf("node").join(", ")
        })`,
      );
    }
    const trigger: Trigger = at < 0 ? { kind: "always" } : parseTrigger(spec.slice(at + 1));
    const params = new Params(name, texts);
    const kind = candidates.find((k) => k.claims?.(params, trigger)) ??
      candidates.find((k) => !k.claims)!;
    const effect = kind.parse(params, name) as FaultEffect;
    params.done();
    checkTrigger(kind, name, trigger);
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

/**
 * A frame filter triggers the kinds that act where frames are: links and nodes; a kind set
 * at a node's boot takes none but `@any`.
 */
function checkTrigger(kind: FaultKind, name: string, trigger: Trigger): void {
  const problem = bootTriggerProblem(kind, trigger);
  if (problem) throw new FaultSpecError(problem);
  if (trigger.kind === "frames" && !kind.link && !kind.node) {
    throw new FaultSpecError(
      `${name} is a ${kind.family} fault; a frame filter (@net...) triggers link faults (${
        namesOf("link").join(", ")
      }) and node faults (${namesOf("node").join(", ")}) only`,
    );
  }
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
  const params = kindOf(rule.effect).format(rule.effect);
  const name = specNameOf(rule.effect);
  const head = params.length > 0 ? `${name}:${params.join(",")}` : name;
  const trigger = formatTrigger(rule.trigger);
  return trigger === "" ? head : `${head}@${trigger}`;
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

/**
 * Parses a trigger: `17` (op index), `+2s` (time since start),
 * `[PHASE:][[NODE/]DISK/]TYPE[:START-END|:OFFSET+LENGTH][#K]` (ops; the phase `run` or
 * `check`), or a frame filter `net[:PART/...][#K]` (link and node faults only).
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

  // `run:` and `check:` name a phase: neither is an op type, and a node or disk name has no colon.
  const phase = /^(run|check):(.+)$/.exec(trimmed);
  const rest = phase ? phase[2] : trimmed;
  const hash = rest.lastIndexOf("#");
  const body = hash < 0 ? rest : rest.slice(0, hash);
  const trigger: Extract<Trigger, { kind: "match" }> = phase
    ? { kind: "match", phase: phase[1] }
    : { kind: "match" };
  if (hash >= 0) {
    trigger.occurrence = parseCount(rest.slice(hash + 1), "the occurrence after #", 1);
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
      return trigger.phase === undefined ? text : `${trigger.phase}:${text}`;
    }
    case "frames":
      return formatFrameTrigger(trigger);
  }
}
