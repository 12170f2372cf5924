/**
 * `faultline fault SOCKET ...`: a client of the live control socket.
 *
 * @module
 */

import { liveArguments } from "../fault/live.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { kindOf, namesOf } from "../fault/kinds/mod.ts";
import { linkLiveArguments } from "../net/link_live.ts";
import { QmpClient } from "../qmp/client.ts";
import { QmpCommandError } from "../qmp/errors.ts";
import { EXIT, UsageError } from "./errors.ts";

/** The actions of `fault`. */
export type FaultAction =
  | { action: "set"; disk: string; spec: string; count?: number }
  | { action: "link"; spec: string; count?: number }
  | { action: "links" }
  | { action: "query"; disk: string }
  | { action: "list" }
  | { action: "stats" };

/**
 * The action of `fault SOCKET ACTION ARGS...`, checked.
 *
 * @throws {UsageError} for an unknown action or the wrong number of arguments.
 * @example
 * ```ts
 * faultAction("set", ["vda", "eio"]); // { action: "set", disk: "vda", spec: "eio" }
 * ```
 */
export function faultAction(action: string, args: readonly string[], count?: number): FaultAction {
  const want = (n: number, usage: string) => {
    if (args.length !== n) {
      throw new UsageError(
        `fault SOCKET ${usage}: expected ${n} argument${
          n === 1 ? "" : "s"
        } after ${action}, found ${args.length}`,
      );
    }
  };
  if (count !== undefined && action !== "set" && action !== "link") {
    throw new UsageError("--count goes with set or link");
  }
  switch (action) {
    case "set":
      want(2, "set DISK SPEC");
      return { action, disk: args[0], spec: args[1], ...(count !== undefined ? { count } : {}) };
    case "query":
      want(1, "query DISK");
      return { action, disk: args[0] };
    case "link":
      want(1, "link SPEC");
      return { action, spec: args[0], ...(count !== undefined ? { count } : {}) };
    case "list":
    case "stats":
    case "links":
      want(0, action);
      return { action };
    default:
      throw new UsageError(
        `unknown action "${action}" (expected set, query, list, stats, link or links)`,
      );
  }
}

/** The QMP command and arguments for an action; specs are parsed here, at the edge. */
export function controlCommand(
  request: FaultAction,
): { command: string; args?: Record<string, unknown> } {
  switch (request.action) {
    case "set": {
      if (request.spec.toLowerCase() === "none") {
        return { command: "set-block-fault-state", args: { id: request.disk, state: "none" } };
      }
      const rule = parseFaultSpec(request.spec);
      if (rule.trigger.kind !== "always") {
        throw new UsageError(
          `a live fault hits every op from now on, so "${request.spec}" takes no @trigger; use --count N for the next N ops`,
        );
      }
      return {
        command: "set-block-fault-state",
        args: liveArguments(request.disk, rule.effect, request.count),
      };
    }
    case "link": {
      if (request.spec.toLowerCase() === "none") {
        return { command: "set-link-fault-state", args: { state: "none" } };
      }
      const rule = parseFaultSpec(request.spec);
      if (rule.trigger.kind !== "always") {
        throw new UsageError(
          `a live link fault is in force from now on, so "${request.spec}" takes no @trigger`,
        );
      }
      if (kindOf(rule.effect).family !== "link") {
        throw new UsageError(
          `"${request.spec}" is not a link fault (${
            namesOf("link").join(", ")
          } (delay with link=), or none)`,
        );
      }
      return {
        command: "set-link-fault-state",
        args: linkLiveArguments(rule.effect, request.count),
      };
    }
    case "links":
      return { command: "query-link-fault-state" };
    case "query":
      return { command: "query-block-fault-state", args: { id: request.disk } };
    case "list":
      return { command: "query-faults" };
    case "stats":
      return { command: "query-stats" };
  }
}

/** Runs `fault`: one command over the control socket, its answer printed. */
export async function faultCommand(
  socket: string,
  request: FaultAction,
  options: { json: boolean },
): Promise<number> {
  const { command, args } = controlCommand(request);
  const info = await Deno.stat(socket).catch(() => null);
  if (!info?.isSocket) {
    throw new UsageError(
      `${socket} is not a control socket (${info ? "it is not a socket" : "no such file"})`,
    );
  }
  await using client = await QmpClient.connect(socket, { timeoutMs: 5000 });
  let result: unknown;
  try {
    result = await client.execute(command, args, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    // The server refused what was asked (an unknown disk, a bad parameter): the user's input.
    if (error instanceof QmpCommandError) throw new UsageError(`${socket}: ${error.desc}`);
    throw error;
  }
  if (options.json) console.log(JSON.stringify(result));
  else console.log(describeDone(request, args) ?? JSON.stringify(result, null, 2));
  return EXIT.pass;
}

/**
 * What a command that sets a fault did, in one line (the server answers `{}`); null for a
 * query, whose answer is what to print.
 *
 * @example
 * ```ts
 * describeDone({ action: "link", spec: "none" }, { state: "none" }); // "links: every link healed"
 * ```
 */
export function describeDone(
  request: FaultAction,
  args: Record<string, unknown> | undefined,
): string | null {
  if (request.action === "set") {
    return `${request.disk}: ${request.spec}${request.count ? ` for ${request.count} ops` : ""}`;
  }
  if (request.action !== "link") return null;
  if (args?.state === "none") {
    return `links: ${typeof args.link === "string" ? args.link : "every link"} healed`;
  }
  return `links: ${request.spec} from now on${
    request.count ? `, for the next ${request.count} frames` : ""
  }`;
}
