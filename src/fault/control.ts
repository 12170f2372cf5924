/**
 * The live control socket: QMP framing and conventions (greeting,
 * `qmp_capabilities`, `execute`/`arguments`/`id`, `return` or `error` with
 * `class` and `desc`) over a unix socket, answering `set-block-fault-state`,
 * `query-block-fault-state`, `query-faults` and `query-stats`.
 *
 * Spec of the framing: https://www.qemu.org/docs/master/interop/qmp-spec.html
 *
 * @module
 */

import { encodeMessage, type JsonObject, MessageSplitter } from "../qmp/framing.ts";
import { FaultSpecError } from "./errors.ts";
import { type LiveRequest, parseLiveArguments } from "./live.ts";

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
}

/** What the control socket reports, for logs and the trace. */
export type ControlEvent =
  | { type: "command"; command: string; arguments: JsonObject; error?: string }
  | { type: "client-error"; message: string };

/** A QMP error reply's class and text. */
class CommandError extends Error {
  constructor(readonly errorClass: string, message: string) {
    super(message);
  }
}

const COMMANDS = [
  "qmp_capabilities",
  "query-commands",
  "set-block-fault-state",
  "query-block-fault-state",
  "query-faults",
  "query-stats",
];

/**
 * A running control socket.
 *
 * @example
 * ```ts
 * const control = await ControlServer.start({ path: `${dir.path}/control.sock`, target, version: "0.1.0" });
 * // faultline fault <path> set vda eio
 * await control.close();
 * ```
 */
export class ControlServer implements AsyncDisposable {
  private readonly connections = new Set<Deno.Conn>();
  private readonly handlers = new Set<Promise<void>>();
  private readonly accepting: Promise<void>;

  private constructor(
    private readonly listener: Deno.Listener,
    readonly path: string,
    private readonly options: {
      target: FaultControlTarget;
      version: string;
      onEvent?: (event: ControlEvent) => void;
    },
  ) {
    this.accepting = this.acceptLoop();
  }

  /** Listens on a unix socket at `path`. */
  static start(options: {
    path: string;
    target: FaultControlTarget;
    version: string;
    onEvent?: (event: ControlEvent) => void;
  }): Promise<ControlServer> {
    const listener = Deno.listen({ transport: "unix", path: options.path });
    return Promise.resolve(new ControlServer(listener, options.path, options));
  }

  /** Stops listening and disconnects every client. */
  async close(): Promise<void> {
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.accepting;
    for (const conn of this.connections) closeQuietly(conn);
    await Promise.all(this.handlers);
    await Deno.remove(this.path).catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.listener.accept();
      } catch {
        return;
      }
      this.connections.add(conn);
      const handler = this.serve(conn).finally(() => {
        this.connections.delete(conn);
        this.handlers.delete(handler);
      });
      this.handlers.add(handler);
    }
  }

  private async serve(conn: Deno.Conn): Promise<void> {
    const [major, minor, micro] = this.options.version.split(".").map((n) =>
      Number.parseInt(n) || 0
    );
    const send = async (message: JsonObject) => {
      const bytes = encodeMessage(message);
      let written = 0;
      while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    };
    const splitter = new MessageSplitter({ maxMessageBytes: 1 << 20 });
    let negotiated = false;
    try {
      await send({
        QMP: {
          version: { qemu: { major, minor, micro }, package: `faultline ${this.options.version}` },
          capabilities: [],
        },
      });
      const buffer = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) return;
        for (const message of splitter.push(buffer.subarray(0, n))) {
          const id = message.id;
          const reply = (body: JsonObject) => send(id === undefined ? body : { ...body, id });
          try {
            const result = this.execute(message, negotiated);
            if (message.execute === "qmp_capabilities") negotiated = true;
            await reply({ return: result });
          } catch (error) {
            const errorClass = error instanceof CommandError ? error.errorClass : "GenericError";
            await reply({ error: { class: errorClass, desc: (error as Error).message } });
          }
        }
      }
    } catch (error) {
      if (
        !(error instanceof Deno.errors.BadResource) &&
        !(error instanceof Deno.errors.ConnectionReset)
      ) {
        // A client that sends what is not JSON gets the reason, then is disconnected.
        this.options.onEvent?.({ type: "client-error", message: (error as Error).message });
        await send({
          error: { class: "GenericError", desc: `JSON parse error: ${(error as Error).message}` },
        })
          .catch(() => {});
      }
    } finally {
      closeQuietly(conn);
    }
  }

  private execute(message: JsonObject, negotiated: boolean): JsonObject | JsonObject[] {
    const command = message.execute;
    if (typeof command !== "string") {
      throw new CommandError("GenericError", "QMP input lacks member 'execute'");
    }
    const args = message.arguments ?? {};
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      throw new CommandError("GenericError", "QMP input member 'arguments' must be an object");
    }
    const { target, onEvent } = this.options;
    const argsObject = args as JsonObject;
    if (command === "qmp_capabilities") {
      if (negotiated) {
        throw new CommandError(
          "CommandNotFound",
          "Capabilities negotiation is already complete, command ignored",
        );
      }
      return {};
    }
    if (!negotiated) {
      throw new CommandError(
        "CommandNotFound",
        "Expecting capabilities negotiation with 'qmp_capabilities'",
      );
    }
    const knownDisk = (id: unknown): string => {
      if (typeof id !== "string") {
        throw new CommandError("GenericError", "Parameter 'id' is missing or not a string");
      }
      if (!target.disks().includes(id)) {
        throw new CommandError(
          "DeviceNotFound",
          `no disk '${id}' (this fault layer serves ${target.disks().join(", ")})`,
        );
      }
      return id;
    };
    try {
      switch (command) {
        case "query-commands":
          return COMMANDS.map((name) => ({ name }));
        case "set-block-fault-state": {
          knownDisk(argsObject.id);
          let request: LiveRequest;
          try {
            request = parseLiveArguments(argsObject);
          } catch (error) {
            if (error instanceof FaultSpecError) {
              throw new CommandError("GenericError", error.message);
            }
            throw error;
          }
          target.setLive(request);
          onEvent?.({ type: "command", command, arguments: argsObject });
          return {};
        }
        case "query-block-fault-state":
          return target.describeDisk(knownDisk(argsObject.id));
        case "query-faults":
          return target.describeFaults();
        case "query-stats":
          return target.describeStats();
        default:
          throw new CommandError("CommandNotFound", `The command ${command} has not been found`);
      }
    } catch (error) {
      if (error instanceof CommandError && command === "set-block-fault-state") {
        onEvent?.({ type: "command", command, arguments: argsObject, error: error.message });
      }
      throw error;
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
