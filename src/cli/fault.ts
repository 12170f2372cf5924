/**
 * `faultline fault SOCKET ...`: a client of the live control socket.
 *
 * @module
 */

import { liveArguments } from "../fault/live.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { QmpClient } from "../qmp/client.ts";
import { UsageError } from "./errors.ts";

/** The actions of `fault`. */
export type FaultAction =
  | { action: "set"; disk: string; spec: string; count?: number }
  | { action: "query"; disk: string }
  | { action: "list" }
  | { action: "stats" };

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
  await using client = await QmpClient.connect(socket, { timeoutMs: 5000 });
  const result = await client.execute(command, args, { signal: AbortSignal.timeout(5000) });
  if (options.json) console.log(JSON.stringify(result));
  else if (request.action === "set") {
    console.log(
      `${request.disk}: ${request.spec}${request.count ? ` for ${request.count} ops` : ""}`,
    );
  } else console.log(JSON.stringify(result, null, 2));
  return 0;
}
