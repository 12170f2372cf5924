/**
 * A QMP server on a unix socket: the framing and conventions of QEMU's QMP
 * (greeting, `qmp_capabilities`, `execute`/`arguments`/`id`, `return` or
 * `error` with `class` and `desc`, events), with the commands answered by a
 * handler. With an upstream (another QMP server, such as QEMU's own), it is a
 * proxy: clients get the upstream's greeting and every command the handler does
 * not own goes upstream.
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html
 *
 * @module
 */

import { QmpCommandError } from "./errors.ts";
import { encodeMessage, type JsonObject, MessageSplitter } from "./framing.ts";
import { writeAll } from "../util/write_all.ts";

/** Answers the commands a server owns. */
export interface QmpHandler {
  /** The commands it answers (besides `qmp_capabilities` and `query-commands`). */
  readonly commands: readonly string[];
  /** Runs one of them; a {@link QmpCommandError} becomes the client's error reply. */
  execute(command: string, args: JsonObject): unknown;
}

/** The QMP server behind a proxy. */
export interface QmpUpstream {
  /** Waits until the upstream is ready and returns its greeting (`{"QMP": ...}`), or null when it is gone. */
  greeting(): Promise<JsonObject | null>;
  /** Runs a command upstream; a `QmpCommandError` becomes the client's error reply. */
  execute(command: string, args: JsonObject | undefined): Promise<unknown>;
}

/** Options of {@link QmpServer.start}. */
export interface QmpServerOptions {
  path: string;
  handler: QmpHandler;
  /** The version the greeting names when there is no upstream. */
  version: string;
  /** The package name in the greeting (`faultline 0.1.0`). */
  package: string;
  upstream?: QmpUpstream;
  /** A client sent what is not QMP; it got the reason and was disconnected. */
  onClientError?: (message: string) => void;
}

/**
 * An error reply of this server's own: `{"error": {"class", "desc"}}`.
 *
 * @example
 * ```ts
 * throw commandError("DeviceNotFound", "no disk 'vdz'");
 * ```
 */
export function commandError(errorClass: string, desc: string): QmpCommandError {
  return new QmpCommandError("", undefined, errorClass, desc);
}

interface Client {
  conn: Deno.Conn;
  negotiated: boolean;
  /** Serializes writes: replies and broadcast events never interleave. */
  sending: Promise<void>;
}

/**
 * A running QMP server.
 *
 * @example
 * ```ts
 * const server = await QmpServer.start({
 *   path: `${dir}/qmp.sock`, version: "0.1.0", package: "faultline 0.1.0",
 *   handler: { commands: ["query-answer"], execute: () => ({ answer: 42 }) },
 * });
 * await server.close();
 * ```
 */
export class QmpServer implements AsyncDisposable {
  private readonly clients = new Set<Client>();
  private readonly handlers = new Set<Promise<void>>();
  private readonly accepting: Promise<void>;

  private constructor(
    private readonly listener: Deno.Listener,
    private readonly options: QmpServerOptions,
  ) {
    this.accepting = this.acceptLoop();
  }

  /** Listens on a unix socket at `options.path`. */
  static start(options: QmpServerOptions): Promise<QmpServer> {
    const listener = Deno.listen({ transport: "unix", path: options.path });
    return Promise.resolve(new QmpServer(listener, options));
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
    client.sending = client.sending.then(() => writeAll(client.conn, bytes)).catch(() => {});
    return client.sending;
  }

  private greeting(): JsonObject {
    const [major, minor, micro] = this.options.version.split(".").map((n) =>
      Number.parseInt(n) || 0
    );
    return {
      QMP: {
        version: { qemu: { major, minor, micro }, package: this.options.package },
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
            await reply({ return: (result ?? {}) as JsonObject });
          } catch (error) {
            const [errorClass, desc] = error instanceof QmpCommandError
              ? [error.errorClass, error.desc]
              : ["GenericError", (error as Error).message];
            await reply({ error: { class: errorClass, desc } });
          }
        }
      }
    } catch (error) {
      if (
        !(error instanceof Deno.errors.BadResource) &&
        !(error instanceof Deno.errors.ConnectionReset)
      ) {
        // A client that sends what is not JSON gets the reason, then is disconnected.
        this.options.onClientError?.((error as Error).message);
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
      throw commandError("GenericError", "QMP input lacks member 'execute'");
    }
    const args = message.arguments;
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
      throw commandError("GenericError", "QMP input member 'arguments' must be an object");
    }
    if (command === "qmp_capabilities") {
      if (negotiated) {
        throw commandError(
          "CommandNotFound",
          "Capabilities negotiation is already complete, command ignored",
        );
      }
      return {};
    }
    if (!negotiated) {
      throw commandError(
        "CommandNotFound",
        "Expecting capabilities negotiation with 'qmp_capabilities'",
      );
    }
    const { handler, upstream } = this.options;
    if (handler.commands.includes(command)) {
      return await handler.execute(command, (args ?? {}) as JsonObject);
    }
    if (command === "query-commands") {
      const own = handler.commands.map((name) => ({ name }));
      if (!upstream) {
        return [{ name: "qmp_capabilities" }, { name: "query-commands" }, ...own];
      }
      return [...(await upstream.execute(command, args as JsonObject | undefined) as []), ...own];
    }
    if (upstream) return await upstream.execute(command, args as JsonObject | undefined);
    throw commandError("CommandNotFound", `The command ${command} has not been found`);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
