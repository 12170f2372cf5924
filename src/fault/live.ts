/**
 * Live faults as the control socket speaks them: the arguments of
 * `set-block-fault-state` (`{"id": "vda", "state": "delay", "duration-ms": 200}`)
 * parsed into a typed {@link LiveFault}, and back, for queries and for the CLI
 * client, which writes the same faults as fault specs.
 *
 * @module
 */

import { type Errno, ERRNOS, isErrno } from "../block/errno.ts";
import { FaultSpecError } from "./errors.ts";
import type { LiveFault } from "./plan.ts";
import { faultKindNames } from "./spec.ts";
import { type FaultEffect, isLinkEffect, isNodeEffect } from "./types.ts";

/** The states `set-block-fault-state` accepts: `none`, and every fault kind but power-loss. */
export const LIVE_STATES: readonly string[] = [
  "none",
  ...faultKindNames().filter((kind) => kind !== "power-loss"),
];

/** Each state's parameters, by their QMP names. */
const PARAMETERS: Record<string, readonly string[]> = {
  error: ["errno"],
  fail: ["errno"],
  hang: ["duration-ms"],
  delay: ["duration-ms"],
  limp: ["latency-ms", "bandwidth"],
  "torn-write": ["keep-sectors"],
  corrupt: ["direction", "bits"],
  stall: ["every-ms", "for-ms"],
  "lie-flush": ["fua-only"],
  "bad-sectors": ["offset", "length", "errno"],
};

/** States whose fault lasts until `none`, so that `count` means nothing. */
const WITHOUT_COUNT = new Set(["none", "bad-sectors"]);

/** What `set-block-fault-state` asked for. */
export interface LiveRequest {
  /** The disk's export name. */
  disk: string;
  /** The fault to set; `null` for `none`. */
  fault: LiveFault | null;
  /** For a hang with a duration: how long from now. */
  durationMs?: number;
}

/**
 * A numeric argument of a live command, at least `minimum`, or undefined when absent.
 *
 * @throws {FaultSpecError} with a QMP-style description.
 * @example
 * ```ts
 * numberArgument({ "duration-ms": 200 }, "duration-ms", 0); // 200
 * ```
 */
export function numberArgument(
  args: Record<string, unknown>,
  key: string,
  minimum: number,
): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < minimum) {
    throw new FaultSpecError(`Parameter '${key}' expects a number of at least ${minimum}`);
  }
  return value;
}

function errnoOf(args: Record<string, unknown>): Errno {
  const value = args.errno ?? "eio";
  if (typeof value !== "string" || !isErrno(value.toLowerCase())) {
    throw new FaultSpecError(`Parameter 'errno' expects one of ${ERRNOS.join(", ")}`);
  }
  return value.toLowerCase() as Errno;
}

/**
 * Parses the arguments of `set-block-fault-state`.
 *
 * @throws {FaultSpecError} with a QMP-style description (`Parameter 'x' is unexpected`).
 * @example
 * ```ts
 * parseLiveArguments({ id: "vda", state: "error" }).fault; // { effect: { kind: "error", errno: "eio" } }
 * ```
 */
export function parseLiveArguments(args: Record<string, unknown>): LiveRequest {
  const { id, state } = args;
  if (typeof id !== "string") throw new FaultSpecError("Parameter 'id' is missing or not a string");
  if (typeof state !== "string") {
    throw new FaultSpecError("Parameter 'state' is missing or not a string");
  }
  const kind = state.toLowerCase();
  if (!LIVE_STATES.includes(kind)) {
    throw new FaultSpecError(
      `Parameter 'state' must be one of ${LIVE_STATES.join(", ")}, not '${state}'`,
    );
  }
  const allowed = new Set([
    "id",
    "state",
    ...(PARAMETERS[kind] ?? []),
    ...(WITHOUT_COUNT.has(kind) ? [] : ["count"]),
  ]);
  for (const key of Object.keys(args)) {
    if (!allowed.has(key)) {
      throw new FaultSpecError(`Parameter '${key}' is unexpected with state '${kind}'`);
    }
  }
  if (kind === "none") return { disk: id, fault: null };

  const effect = isErrno(kind) ? { kind: "error" as const, errno: kind } : liveEffect(kind, args);
  const count = numberArgument(args, "count", 1);
  const fault: LiveFault = { effect };
  if (count !== undefined) fault.remaining = count;
  const durationMs = effect.kind === "hang" ? effect.durationMs : undefined;
  return durationMs === undefined ? { disk: id, fault } : { disk: id, fault, durationMs };
}

/** The effect a live state names, from its arguments (already checked to be the state's). */
function liveEffect(kind: string, args: Record<string, unknown>): FaultEffect {
  switch (kind) {
    case "error":
    case "fail":
      return { kind, errno: errnoOf(args) };
    case "hang": {
      const durationMs = numberArgument(args, "duration-ms", 0);
      return durationMs === undefined ? { kind: "hang" } : { kind: "hang", durationMs };
    }
    case "delay": {
      const duration = numberArgument(args, "duration-ms", 0);
      if (duration === undefined) throw new FaultSpecError("Parameter 'duration-ms' is missing");
      return { kind: "delay", durationMs: duration };
    }
    case "limp": {
      const latency = numberArgument(args, "latency-ms", 0);
      const bandwidth = numberArgument(args, "bandwidth", 1);
      if (latency === undefined && bandwidth === undefined) {
        throw new FaultSpecError("limp needs 'latency-ms', 'bandwidth' (bytes per second) or both");
      }
      return bandwidth === undefined
        ? { kind: "limp", latencyMs: latency ?? 0 }
        : { kind: "limp", latencyMs: latency ?? 0, bytesPerSecond: bandwidth };
    }
    case "stall":
      return liveStall(args);
    case "lie-flush": {
      const fuaOnly = args["fua-only"] ?? false;
      if (typeof fuaOnly !== "boolean") {
        throw new FaultSpecError("Parameter 'fua-only' expects a boolean");
      }
      return { kind: "lie-flush", fuaOnly };
    }
    case "bad-sectors":
      return liveBadSectors(args);
    default:
      return liveDataEffect(kind, args);
  }
}

/** The live faults on what is stored or read. */
function liveDataEffect(kind: string, args: Record<string, unknown>): FaultEffect {
  switch (kind) {
    case "lost-write":
      return { kind: "lost-write" };
    case "torn-write": {
      const keep = numberArgument(args, "keep-sectors", 0);
      return keep === undefined
        ? { kind: "torn-write" }
        : { kind: "torn-write", keepSectors: keep };
    }
    case "corrupt": {
      const direction = args.direction ?? "read";
      if (direction !== "read" && direction !== "write") {
        throw new FaultSpecError("Parameter 'direction' must be 'read' or 'write'");
      }
      return { kind: "corrupt", direction, bits: numberArgument(args, "bits", 1) ?? 1 };
    }
    default:
      throw new FaultSpecError(`state '${kind}' cannot be set live`);
  }
}

function liveStall(args: Record<string, unknown>): FaultEffect {
  const every = numberArgument(args, "every-ms", 0);
  const length = numberArgument(args, "for-ms", 0);
  if (every === undefined || length === undefined) {
    throw new FaultSpecError("stall needs 'every-ms' and 'for-ms'");
  }
  if (!(length > 0 && length < every)) {
    throw new FaultSpecError("Parameter 'for-ms' must be above 0 and below 'every-ms'");
  }
  return { kind: "stall", everyMs: every, forMs: length };
}

function liveBadSectors(args: Record<string, unknown>): FaultEffect {
  const offset = numberArgument(args, "offset", 0);
  const length = numberArgument(args, "length", 1);
  if (offset === undefined || length === undefined) {
    throw new FaultSpecError("bad-sectors needs 'offset' and 'length' (bytes)");
  }
  return {
    kind: "bad-sectors",
    startSector: Math.floor(offset / 512),
    endSector: Math.ceil((offset + length) / 512),
    errno: errnoOf(args),
  };
}

/**
 * The `set-block-fault-state` arguments of an effect: the inverse of
 * {@link parseLiveArguments}, used by the CLI client and by queries.
 *
 * @throws {FaultSpecError} for a kind that cannot be set live (power-loss).
 * @example
 * ```ts
 * liveArguments("vda", { kind: "delay", durationMs: 200 }); // { id: "vda", state: "delay", "duration-ms": 200 }
 * liveArguments("vda", { kind: "error", errno: "enospc" }); // { id: "vda", state: "error", errno: "enospc" }
 * ```
 */
export function liveArguments(
  disk: string,
  effect: FaultEffect | null,
  count?: number,
): Record<string, unknown> {
  if (effect === null) return { id: disk, state: "none" };
  if (isLinkEffect(effect)) {
    throw new FaultSpecError(
      `${effect.kind} is a link fault: set it with set-link-fault-state on a run's switch, not on a disk`,
    );
  }
  if (isNodeEffect(effect)) {
    throw new FaultSpecError(
      `${effect.kind} is a node fault: give it in a run's fault plan (--fault ${effect.kind}:NODE@...), not live on a disk`,
    );
  }
  const args: Record<string, unknown> = { id: disk, state: effect.kind };
  switch (effect.kind) {
    case "error":
    case "fail":
      args.errno = effect.errno;
      break;
    case "hang":
      if (effect.durationMs !== undefined) args["duration-ms"] = effect.durationMs;
      break;
    case "delay":
      args["duration-ms"] = effect.durationMs;
      break;
    case "limp":
      if (effect.distribution) {
        throw new FaultSpecError(
          "a limp with a latency distribution cannot be set live (only latency-ms and bandwidth); give it to serve --fault",
        );
      }
      if (effect.latencyMs > 0) args["latency-ms"] = effect.latencyMs;
      if (effect.bytesPerSecond !== undefined) args.bandwidth = effect.bytesPerSecond;
      break;
    case "stall":
      args["every-ms"] = effect.everyMs;
      args["for-ms"] = effect.forMs;
      break;
    case "lie-flush":
      if (effect.fuaOnly) args["fua-only"] = true;
      break;
    case "bad-sectors":
      args.offset = effect.startSector * 512;
      args.length = (effect.endSector - effect.startSector) * 512;
      args.errno = effect.errno;
      break;
    case "torn-write":
      if (effect.keepSectors !== undefined) args["keep-sectors"] = effect.keepSectors;
      break;
    case "corrupt":
      args.direction = effect.direction;
      args.bits = effect.bits;
      break;
    case "power-loss":
      throw new FaultSpecError(
        "power-loss cannot be set live on the fault layer: it needs record or replay",
      );
  }
  if (count !== undefined && WITHOUT_COUNT.has(effect.kind)) {
    throw new FaultSpecError(`${effect.kind} lasts until none: a count means nothing for it`);
  }
  if (count !== undefined) args.count = count;
  return args;
}
