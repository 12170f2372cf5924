/**
 * The live control socket: QMP framing and conventions (greeting,
 * `qmp_capabilities`, `execute`/`arguments`/`id`, `return` or `error` with
 * `class` and `desc`) over a unix socket, answering `set-block-fault-state`,
 * `query-block-fault-state`, `query-faults` and `query-stats`.
 *
 * With an upstream (QEMU's own QMP), the same server is a proxy: the client
 * gets QEMU's greeting and events, every other command goes to QEMU, and the
 * two fault commands are answered here, so `qmp_capabilities`, `query-block`,
 * `set-block-fault-state` works on an unmodified QEMU.
 *
 * Spec of the framing: https://www.qemu.org/docs/master/interop/qmp-spec.html
 *
 * @module
 */

import { QmpCommandError } from "../qmp/errors.ts";
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

/** The QMP server behind a proxy. */
export interface ControlUpstream {
  /** Waits until the upstream is ready and returns its greeting (`{"QMP": ...}`), or null when it is gone. */
  greeting(): Promise<JsonObject | null>;
  /** Runs a command upstream; a `QmpCommandError` becomes the client's error reply. */
  execute(command: string, args: JsonObject | undefined): Promise<unknown>;
  /** The export name of an upstream device id (QEMU's drive name), if it is one. */
  resolveDisk(id: string): string | undefined;
}

/** What the control socket reports, for logs and the trace. */
export type ControlEvent =
  | { type: "command"; command: string; arguments: JsonObject; error?: string }
  | { type: "client-error"; message: string };

/** Options of {@link ControlServer.start}. */
export interface ControlServerOptions {
  path: string;
  target: FaultControlTarget;
  /** faultline's version, for the greeting when there is no upstream. */
  version: string;
  onEvent?: (event: ControlEvent) => void;
  upstream?: ControlUpstream;
}

/** A QMP error reply's class and text. */
class CommandError extends Error {
  constructor(readonly errorClass: string, message: string) {
    super(message);
  }
}

const LOCAL_COMMANDS = [
  "qmp_capabilities",
  "query-commands",
  "set-block-fault-state",
  "query-block-fault-state",
  "query-faults",
  "query-stats",
];

interface Client {
  conn: Deno.Conn;
  negotiated: boolean;
  /** Serializes writes: replies and broadcast events never interleave. */
  sending: Promise<void>;
}

/**
 * A running control socket (or QMP proxy).
 *
 * @example
 * ```ts
 * const control = await ControlServer.start({ path: `${dir.path}/control.sock`, target, version: "0.1.0" });
 * // faultline fault <path> set vda eio
 * await control.close();
 * ```
 */
export class ControlServer implements AsyncDisposable {
  private readonly clients = new Set<Client>();
  private readonly handlers = new Set<Promise<void>>();
  private readonly accepting: Promise<void>;

  private constructor(
    private readonly listener: Deno.Listener,
    private readonly options: ControlServerOptions,
  ) {
    this.accepting = this.acceptLoop();
  }

  /** Listens on a unix socket at `options.path`. */
  static start(options: ControlServerOptions): Promise<ControlServer> {
    const listener = Deno.listen({ transport: "unix", path: options.path });
    return Promise.resolve(new ControlServer(listener, options));
  }

  /** The socket's path. */
  get path(): string {
    return this.options.path;
  }

  /** Sends an event (`{"event": ..., "data": ..., "timestamp": ...}`) to every negotiated client. */
  broadcast(event: JsonObject): void {
    for (const client of this.clients) if (client.negotiated) this.send(client, event);
  }

  /** Disconnects the current clients (the upstream went away); new ones may connect. */
  disconnectClients(): void {
    for (const client of this.clients) closeQuietly(client.conn);
  }

  /** Stops listening and disconnects every client. */
  async close(): Promise<void> {
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.accepting;
    this.disconnectClients();
    await Promise.all(this.handlers);
    await Deno.remove(this.options.path).catch(() => {});
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
      const client: Client = { conn, negotiated: false, sending: Promise.resolve() };
      this.clients.add(client);
      const handler = this.serve(client).finally(() => {
        this.clients.delete(client);
        this.handlers.delete(handler);
      });
      this.handlers.add(handler);
    }
  }

  private send(client: Client, message: JsonObject): Promise<void> {
    const bytes = encodeMessage(message);
    client.sending = client.sending.then(async () => {
      let written = 0;
      while (written < bytes.length) written += await client.conn.write(bytes.subarray(written));
    }).catch(() => {});
    return client.sending;
  }

  private greeting(): JsonObject {
    const [major, minor, micro] = this.options.version.split(".").map((n) =>
      Number.parseInt(n) || 0
    );
    return {
      QMP: {
        version: { qemu: { major, minor, micro }, package: `faultline ${this.options.version}` },
        capabilities: [],
      },
    };
  }

  private async serve(client: Client): Promise<void> {
    const splitter = new MessageSplitter({ maxMessageBytes: 1 << 20 });
    try {
      const greeting = this.options.upstream
        ? await this.options.upstream.greeting()
        : this.greeting();
      if (!greeting) return;
      await this.send(client, greeting);
      const buffer = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await client.conn.read(buffer);
        if (n === null) return;
        for (const message of splitter.push(buffer.subarray(0, n))) {
          const id = message.id;
          const reply = (body: JsonObject) =>
            this.send(client, id === undefined ? body : { ...body, id });
          try {
            const result = await this.execute(message, client.negotiated);
            if (message.execute === "qmp_capabilities") client.negotiated = true;
            await reply({ return: result ?? {} });
          } catch (error) {
            if (error instanceof QmpCommandError) {
              await reply({ error: { class: error.errorClass, desc: error.desc } });
            } else {
              const errorClass = error instanceof CommandError ? error.errorClass : "GenericError";
              await reply({ error: { class: errorClass, desc: (error as Error).message } });
            }
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
        await this.send(client, {
          error: { class: "GenericError", desc: `JSON parse error: ${(error as Error).message}` },
        });
      }
    } finally {
      await client.sending;
      closeQuietly(client.conn);
    }
  }

  private async execute(message: JsonObject, negotiated: boolean): Promise<unknown> {
    const command = message.execute;
    if (typeof command !== "string") {
      throw new CommandError("GenericError", "QMP input lacks member 'execute'");
    }
    const args = message.arguments;
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
      throw new CommandError("GenericError", "QMP input member 'arguments' must be an object");
    }
    const argsObject = (args ?? {}) as JsonObject;
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
    const { target, onEvent, upstream } = this.options;
    switch (command) {
      case "set-block-fault-state": {
        const disk = this.knownDisk(argsObject.id);
        let request: LiveRequest;
        try {
          request = parseLiveArguments({ ...argsObject, id: disk });
        } catch (error) {
          const message = (error as Error).message;
          onEvent?.({ type: "command", command, arguments: argsObject, error: message });
          if (error instanceof FaultSpecError) throw new CommandError("GenericError", message);
          throw error;
        }
        target.setLive(request);
        onEvent?.({ type: "command", command, arguments: argsObject });
        return {};
      }
      case "query-block-fault-state":
        return target.describeDisk(this.knownDisk(argsObject.id));
      case "query-faults":
        return target.describeFaults();
      case "query-stats":
        return target.describeStats();
      case "query-commands":
        if (!upstream) return LOCAL_COMMANDS.map((name) => ({ name }));
        return [
          ...(await upstream.execute(command, args as JsonObject | undefined) as JsonObject[]),
          ...LOCAL_COMMANDS.slice(2).map((name) => ({ name })),
        ];
      default:
        if (upstream) return await upstream.execute(command, args as JsonObject | undefined);
        throw new CommandError("CommandNotFound", `The command ${command} has not been found`);
    }
  }

  /** The export name a client's `id` names: an export name, or an upstream device id. */
  private knownDisk(id: unknown): string {
    if (typeof id !== "string") {
      throw new CommandError("GenericError", "Parameter 'id' is missing or not a string");
    }
    const disks = this.options.target.disks();
    if (disks.includes(id)) return id;
    const resolved = this.options.upstream?.resolveDisk(id);
    if (resolved !== undefined && disks.includes(resolved)) return resolved;
    throw new CommandError(
      "DeviceNotFound",
      `no disk '${id}' (this fault layer serves ${disks.join(", ")})`,
    );
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
