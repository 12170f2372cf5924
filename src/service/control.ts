/**
 * The live control socket: a QMP server (src/qmp/server.ts) that answers
 * `set-block-fault-state`, `query-block-fault-state`, `query-faults` and
 * `query-stats` for the fault layer's disks. With an upstream (QEMU's own QMP)
 * it is a proxy: every other command goes to QEMU, so `qmp_capabilities`,
 * `query-block`, `set-block-fault-state` works on an unmodified QEMU.
 *
 * @module
 */

import { FaultSpecError } from "../fault/errors.ts";
import { type LiveRequest, parseLiveArguments } from "../fault/live.ts";
import type { JsonObject } from "../qmp/framing.ts";
import { commandError, QmpServer, type QmpUpstream } from "../qmp/server.ts";

/** What the control socket controls: the fault layer's disks and their state. */
export interface FaultControlTarget {
  /** Export names, in order. */
  disks(): readonly string[];
  /** Applies `set-block-fault-state` (already parsed and checked to name a disk). */
  setLive(request: LiveRequest): void;
  /** The answer to `query-block-fault-state` for one disk. */
  describeDisk(disk: string): JsonObject;
  /** The answer to `query-faults`. */
  describeFaults(): JsonObject;
  /** The answer to `query-stats`. */
  describeStats(): JsonObject;
  /** `set-link-fault-state`: throws when there is no network; a FaultSpecError for bad arguments. */
  setLinkFaultState(args: JsonObject): JsonObject;
  /** `query-link-fault-state`. */
  queryLinkFaultState(): JsonObject;
}

/** What answers the link commands: a run's switch. */
export interface LinkControlTarget {
  /** Applies `set-link-fault-state`. */
  setLinkFaultState(args: JsonObject): JsonObject;
  /** The answer to `query-link-fault-state`. */
  queryLinkFaultState(): JsonObject;
}

/** The QMP server behind a proxy, which also names its disks by its own device ids. */
export interface ControlUpstream extends QmpUpstream {
  /** The export name of an upstream device id (QEMU's drive name), if it is one. */
  resolveDisk(id: string): string | undefined;
}

/** What the control socket reports, for logs and the trace. */
export type ControlEvent =
  | { type: "command"; command: string; arguments: JsonObject; error?: string }
  | { type: "client-error"; message: string };

/** Options of {@link startControlServer}. */
export interface ControlServerOptions {
  path: string;
  target: FaultControlTarget;
  /** faultline's version, for the greeting when there is no upstream. */
  version: string;
  onEvent?: (event: ControlEvent) => void;
  upstream?: ControlUpstream;
}

const FAULT_COMMANDS = [
  "set-block-fault-state",
  "query-block-fault-state",
  "query-faults",
  "query-stats",
  "set-link-fault-state",
  "query-link-fault-state",
];

/**
 * Starts the control socket.
 *
 * @example
 * ```ts
 * const control = await startControlServer({ path: `${dir.path}/control.sock`, target, version: "0.1.0" });
 * // faultline fault <path> set vda eio
 * await control.close();
 * ```
 */
export function startControlServer(options: ControlServerOptions): Promise<QmpServer> {
  const { target, onEvent, upstream } = options;
  /** The export name a client's `id` names: an export name, or an upstream device id. */
  const knownDisk = (id: unknown): string => {
    if (typeof id !== "string") {
      throw commandError("GenericError", "Parameter 'id' is missing or not a string");
    }
    const disks = target.disks();
    if (disks.includes(id)) return id;
    const resolved = upstream?.resolveDisk(id);
    if (resolved !== undefined && disks.includes(resolved)) return resolved;
    throw commandError(
      "DeviceNotFound",
      `no disk '${id}' (this fault layer serves ${disks.join(", ")})`,
    );
  };
  const setFault = (args: JsonObject): JsonObject => {
    const command = "set-block-fault-state";
    let request: LiveRequest;
    try {
      request = parseLiveArguments({ ...args, id: knownDisk(args.id) });
    } catch (error) {
      const message = (error as Error).message;
      onEvent?.({ type: "command", command, arguments: args, error: message });
      if (error instanceof FaultSpecError) throw commandError("GenericError", message);
      throw error;
    }
    target.setLive(request);
    onEvent?.({ type: "command", command, arguments: args });
    return {};
  };
  const linkCommand = (command: string, args: JsonObject, run: () => JsonObject): JsonObject => {
    try {
      const result = run();
      if (command.startsWith("set-")) onEvent?.({ type: "command", command, arguments: args });
      return result;
    } catch (error) {
      const message = (error as Error).message;
      if (command.startsWith("set-")) {
        onEvent?.({ type: "command", command, arguments: args, error: message });
      }
      throw commandError("GenericError", message);
    }
  };
  return QmpServer.start({
    path: options.path,
    version: options.version,
    package: `faultline ${options.version}`,
    upstream,
    onClientError: (message) => onEvent?.({ type: "client-error", message }),
    handler: {
      commands: FAULT_COMMANDS,
      execute: (command, args) => {
        switch (command) {
          case "set-block-fault-state":
            return setFault(args);
          case "query-block-fault-state":
            return target.describeDisk(knownDisk(args.id));
          case "query-faults":
            return target.describeFaults();
          case "query-stats":
            return target.describeStats();
          case "set-link-fault-state":
            return linkCommand(command, args, () => target.setLinkFaultState(args));
          default:
            return linkCommand(command, args, () => target.queryLinkFaultState());
        }
      },
    },
  });
}
