/**
 * The parameters of a fault, as a spec writes them (`limp:p50=2ms,p99=150ms`) and as the
 * control socket sends them (`{"state": "delay", "duration-ms": 200}`), with the small
 * parsers every fault kind shares (errno, link scope, node name, probability, count, byte
 * range). Each kind in src/fault/kinds/ takes what it needs from here; what is left is
 * refused.
 *
 * @module
 */

import { type Errno, ERRNOS, isErrno } from "../block/errno.ts";
import { parseDuration, parseSize } from "../util/units.ts";
import { FaultSpecError } from "./errors.ts";
import { checkNodeName, parseLinkScope } from "./link_scope.ts";
import type { LinkScope } from "./types.ts";

/** Bytes of a sector, the unit of `bad-sectors` and of torn writes. */
export const SECTOR = 512;

/**
 * A spec's parameters as they are used up: named (`key=value`) and positional, each
 * taken once; whatever is left when the kind is done is refused ({@link Params.done}).
 *
 * @example
 * ```ts
 * const p = new Params("delay", ["200ms"]);
 * p.take("duration", () => true); // "200ms"
 * p.done(); // nothing left
 * ```
 */
export class Params {
  /** `key=value` parameters not taken yet, by key (lower case). */
  readonly named = new Map<string, string>();
  /** Positional parameters not taken yet, in order. */
  readonly positional: string[] = [];

  /** Splits a spec's parameters (the text after `KIND:`, split at commas); `kind` names the fault in errors. */
  constructor(readonly kind: string, params: readonly string[]) {
    for (const param of params) {
      if (param === "") {
        throw new FaultSpecError("an empty parameter (two commas, or a trailing one)");
      }
      const eq = param.indexOf("=");
      if (eq < 0) this.positional.push(param);
      else this.named.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim());
    }
  }

  /** The value named `key`, else the first positional value that passes `test`. */
  take(key: string, test: (value: string) => boolean): string | undefined {
    if (this.named.has(key)) {
      const value = this.named.get(key)!;
      this.named.delete(key);
      return value;
    }
    return this.takePositional(test);
  }

  /** The first positional value that passes `test`. */
  takePositional(test: (value: string) => boolean): string | undefined {
    const index = this.positional.findIndex(test);
    return index < 0 ? undefined : this.positional.splice(index, 1)[0];
  }

  /** The value named `key` only (no positional form). */
  takeNamed(key: string): string | undefined {
    return this.take(key, () => false);
  }

  /** Refuses whatever was not taken. */
  done(): void {
    const extra = [...this.named.keys()].map((k) => `${k}=`).concat(this.positional);
    if (extra.length > 0) {
      throw new FaultSpecError(
        `${this.kind} does not take ${extra.map((e) => `"${e}"`).join(", ")}`,
      );
    }
  }

  /** `[errno=]ERRNO`, `fallback` when absent. */
  errno(fallback: Errno): Errno {
    return parseErrno(this.take("errno", () => true) ?? fallback);
  }

  /** `[link=]LINK` (a positional value with `->` or `*`), every link when absent. */
  link(): LinkScope {
    const text = this.take("link", (v) => v === "*" || v.includes("->"));
    return text === undefined ? { kind: "all" } : parseLinkScope(text);
  }

  /** Whether a link scope or a jitter was given: the marks of a link fault. */
  hasLink(): boolean {
    return this.named.has("link") || this.named.has("jitter") ||
      this.positional.some((v) => v === "*" || v.includes("->"));
  }

  /** `[node=]NODE`, required. */
  node(): string {
    const text = this.take("node", (v) => !/^\d/.test(v) && !v.includes("="));
    if (text === undefined) {
      throw new FaultSpecError(`${this.kind} needs a node, as in ${this.kind}:n2`);
    }
    return checkNodeName(text);
  }

  /** `[probability=]P`, 1 when absent. */
  probability(): number {
    const text = this.take("probability", (v) => /^\d*\.?\d+%?$/.test(v));
    return text === undefined ? 1 : parseProbability(text);
  }
}

/** A positional value that reads as a duration (`200ms`, `1.5s`). */
export const isDuration = (v: string): boolean => /^\d+(\.\d+)?\s*(us|ms|s|min|m|h)$/i.test(v);
/** A positional value that reads as a clock's move (`+5s`, `-30s`, `2h`). */
export const isClockMove = (v: string): boolean =>
  /^[+-]?\d+(\.\d+)?\s*(us|ms|s|min|m|h)$/i.test(v);
/** A positional value that reads as a bandwidth (`1M/s`). */
export const isBandwidth = (v: string): boolean => /\/s$/i.test(v);

/**
 * An errno name NBD carries.
 *
 * @throws {FaultSpecError} naming the ones it does.
 */
export function parseErrno(text: string): Errno {
  const value = text.toLowerCase();
  if (!isErrno(value)) {
    throw new FaultSpecError(`errno "${text}" is not one NBD carries (${ERRNOS.join(", ")})`);
  }
  return value;
}

/**
 * A whole number of at least `minimum`.
 *
 * @throws {FaultSpecError} naming `what`.
 * @example
 * ```ts
 * parseCount("3", "keep", 0); // 3
 * ```
 */
export function parseCount(text: string, what: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new FaultSpecError(
      `${what} must be a whole number of at least ${minimum}, not "${text}"`,
    );
  }
  return value;
}

/** The longest move of a clock: 50 years, which keeps a guest's clock within what its RTC holds. */
const CLOCK_MOVE_MAX_MS = 50 * 365 * 24 * 3600 * 1000;

/**
 * A clock's move in milliseconds: a duration with a sign, `+5s` ahead, `-30s` back (no sign:
 * ahead). Whole seconds, not zero, at most 50 years: QEMU's `-rtc base=` is a date to the
 * second, and the guest sets its clock to the second (docs/fault-spec.md, "Node faults").
 *
 * @throws {FaultSpecError} for anything else.
 * @example
 * ```ts
 * parseClockMove("-30s"); // -30000
 * ```
 */
export function parseClockMove(text: string): number {
  const sign = text.startsWith("-") ? -1 : 1;
  const ms = sign * parseDuration(text.replace(/^[+-]/, ""));
  if (ms === 0 || ms % 1000 !== 0 || Math.abs(ms) > CLOCK_MOVE_MAX_MS) {
    throw new FaultSpecError(
      `a clock moves by whole seconds, not zero, at most 50 years, as +5s or -30s, not "${text}"`,
    );
  }
  return ms;
}

/**
 * A clock's move as a spec writes it: the sign, then seconds.
 *
 * @example
 * ```ts
 * formatClockMove(-30000); // "-30s"
 * ```
 */
export function formatClockMove(ms: number): string {
  return `${ms < 0 ? "-" : "+"}${Math.abs(ms) / 1000}s`;
}

/** A probability in (0, 1], as `0.3` or `30%`. */
export function parseProbability(text: string): number {
  const percent = text.endsWith("%");
  const value = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new FaultSpecError(`probability "${text}" must be in (0, 1], as 0.3 or 30%`);
  }
  return value;
}

/** `START-END` or `OFFSET+LENGTH` in bytes (sizes with suffixes), not empty. */
export function parseByteRange(text: string): { start: number; end: number } {
  const plus = text.indexOf("+");
  const dash = text.indexOf("-");
  let range: { start: number; end: number };
  if (plus > 0 && (dash < 0 || plus < dash)) {
    const start = parseSize(text.slice(0, plus));
    range = { start, end: start + parseSize(text.slice(plus + 1)) };
  } else {
    range = { start: parseSize(text.slice(0, dash)), end: parseSize(text.slice(dash + 1)) };
  }
  if (range.end <= range.start) throw new FaultSpecError(`range "${text}" is empty`);
  return range;
}

/**
 * The arguments of a live command (`set-block-fault-state`, `set-link-fault-state`) as a
 * kind reads them, with QMP-style errors.
 *
 * @example
 * ```ts
 * new LiveArgs({ "duration-ms": 200 }).number("duration-ms", 0); // 200
 * ```
 */
export class LiveArgs {
  /** The command's arguments, as sent. */
  constructor(readonly args: Readonly<Record<string, unknown>>) {}

  /** A number of at least `minimum`, undefined when absent. */
  number(key: string, minimum: number): number | undefined {
    const value = this.args[key];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < minimum) {
      throw new FaultSpecError(`Parameter '${key}' expects a number of at least ${minimum}`);
    }
    return value;
  }

  /** A number of at least `minimum` that must be given. */
  required(key: string, minimum: number, what = ""): number {
    const value = this.number(key, minimum);
    if (value === undefined) throw new FaultSpecError(`Parameter '${key}' is missing${what}`);
    return value;
  }

  /** `errno`, EIO when absent. */
  errno(): Errno {
    const value = this.args.errno ?? "eio";
    if (typeof value !== "string" || !isErrno(value.toLowerCase())) {
      throw new FaultSpecError(`Parameter 'errno' expects one of ${ERRNOS.join(", ")}`);
    }
    return value.toLowerCase() as Errno;
  }

  /** A string, undefined when absent. */
  string(key: string, example: string): string | undefined {
    const value = this.args[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      throw new FaultSpecError(`Parameter '${key}' expects a string such as ${example}`);
    }
    return value;
  }

  /** A boolean, `fallback` when absent. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.args[key] ?? fallback;
    if (typeof value !== "boolean") {
      throw new FaultSpecError(`Parameter '${key}' expects a boolean`);
    }
    return value;
  }

  /** `link` as a scope, every link when absent. */
  link(): LinkScope {
    const text = this.string("link", '"n1->n2"');
    return text === undefined ? { kind: "all" } : parseLinkScope(text);
  }

  /** `probability` in (0, 1], 1 when absent. */
  probability(): number {
    const value = this.number("probability", 0) ?? 1;
    if (value <= 0 || value > 1) {
      throw new FaultSpecError("Parameter 'probability' expects a number in (0, 1]");
    }
    return value;
  }

  /** A non-empty array of node names. */
  names(value: unknown, what: string): string[] {
    if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== "string")) {
      throw new FaultSpecError(`Parameter '${what}' expects a non-empty array of node names`);
    }
    return value as string[];
  }
}
