/**
 * The NBD server: listens on a unix socket (or loopback TCP), runs the
 * handshake and the transmission loop for each connection, and keeps a
 * misbehaving client's trouble to that client's connection.
 *
 * @module
 */

import { OpClock } from "../block/op_clock.ts";
import { NbdProtocolError, NbdServerError } from "./errors.ts";
import type { NbdExport } from "./export.ts";
import { type ExportCatalog, negotiate } from "./handshake.ts";
import { ReplyWriter } from "./reply_writer.ts";
import { type TransmissionEvent, transmit } from "./transmission.ts";
import { ConnectionClosed, WireReader } from "./wire_reader.ts";

/** Where the server listens: a unix socket path, or a loopback TCP address. */
export type ListenAddress =
  | { transport: "unix"; path: string }
  | { transport: "tcp"; hostname: string; port: number };

/** What the server reports, for logs and statistics; library code never prints. */
export type ServerEvent =
  | TransmissionEvent
  | { type: "connection-opened"; connection: number }
  | { type: "connection-closed"; connection: number; export?: string }
  | { type: "connection-refused"; reason: string }
  | { type: "protocol-error"; connection: number; message: string };

/** Options of {@link NbdServer.start}. */
export interface NbdServerOptions {
  exports: readonly NbdExport[];
  listen: ListenAddress;
  /** Numbers ops across the whole run; shared by every server of a run. */
  clock?: OpClock;
  onEvent?: (event: ServerEvent) => void;
  /** Connections served at once; more are closed at once. */
  maxConnections?: number;
  /** A client that has not finished its handshake by then is disconnected. */
  handshakeTimeoutMs?: number;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * A running NBD server.
 *
 * @example
 * ```ts
 * const server = await NbdServer.start({
 *   exports: [{ name: "vda", backend: store }],
 *   listen: { transport: "unix", path: `${dir.path}/nbd.sock` },
 * });
 * // qemu-io -f raw nbd+unix:///vda?socket=...
 * await server.close();
 * ```
 */
export class NbdServer implements AsyncDisposable {
  readonly clock: OpClock;
  private readonly connections = new Map<number, { conn: Deno.Conn; done: Promise<void> }>();
  private readonly exports: Map<string, NbdExport>;
  private readonly catalog: ExportCatalog;
  private nextConnection = 0;
  private closing = false;
  private readonly accepting: Promise<void>;

  private constructor(
    private readonly listener: Deno.Listener,
    readonly address: ListenAddress,
    private readonly options: NbdServerOptions,
  ) {
    this.clock = options.clock ?? new OpClock();
    this.exports = new Map(options.exports.map((exp) => [exp.name, exp]));
    this.catalog = {
      find: (name) => name === "" ? this.exports.values().next().value : this.exports.get(name),
      list: () => [...this.exports.values()],
    };
    this.accepting = this.acceptLoop();
  }

  /**
   * Starts listening.
   *
   * @throws {NbdServerError} when the exports are misconfigured, TCP is asked
   * for on a non-loopback address, or the address is in use.
   */
  static async start(options: NbdServerOptions): Promise<NbdServer> {
    const names = new Set<string>();
    for (const exp of options.exports) {
      checkExportName(exp.name, names);
      names.add(exp.name);
    }
    const listen = options.listen;
    let listener: Deno.Listener;
    let address: ListenAddress = listen;
    try {
      if (listen.transport === "unix") {
        await removeStaleSocket(listen.path);
        listener = Deno.listen({ transport: "unix", path: listen.path });
      } else {
        if (!LOOPBACK.has(listen.hostname)) {
          throw new NbdServerError(
            `refusing to listen on ${listen.hostname}: faultline serves on loopback only (127.0.0.1 or ::1)`,
            { kind: "usage" },
          );
        }
        listener = Deno.listen({ transport: "tcp", hostname: listen.hostname, port: listen.port });
        const bound = listener.addr as Deno.NetAddr;
        address = { transport: "tcp", hostname: bound.hostname, port: bound.port };
      }
    } catch (error) {
      if (error instanceof NbdServerError) throw error;
      throw new NbdServerError(`cannot listen on ${describeAddress(listen)}: ${error}`);
    }
    return new NbdServer(listener, address, options);
  }

  /**
   * Serves one more export from now on (a guest's results disk for its next boot).
   *
   * @throws {NbdServerError} when the name is taken or not 1 to 4096 bytes.
   */
  addExport(exp: NbdExport): void {
    checkExportName(exp.name, this.exports);
    this.exports.set(exp.name, exp);
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops listening and disconnects every client. Requests still in flight get
   * a short grace period (the spec asks servers to wait for them).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.accepting;
    const handlers = [...this.connections.values()];
    for (const { conn } of handlers) closeQuietly(conn);
    await Promise.race([
      Promise.all(handlers.map((h) => h.done)),
      new Promise((resolve) => setTimeout(resolve, 1000).unref?.()),
    ]);
    if (this.address.transport === "unix") {
      await Deno.remove(this.address.path).catch(() => {});
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async acceptLoop(): Promise<void> {
    const max = this.options.maxConnections ?? 256;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.listener.accept();
      } catch {
        return; // the listener was closed
      }
      if (this.closing) {
        closeQuietly(conn);
        continue;
      }
      if (this.connections.size >= max) {
        this.options.onEvent?.({
          type: "connection-refused",
          reason: `already serving ${max} connections`,
        });
        closeQuietly(conn);
        continue;
      }
      const id = this.nextConnection++;
      const done = this.serveConnection(id, conn).finally(() => this.connections.delete(id));
      this.connections.set(id, { conn, done });
    }
  }

  private async serveConnection(id: number, conn: Deno.Conn): Promise<void> {
    const emit = this.options.onEvent;
    emit?.({ type: "connection-opened", connection: id });
    if (this.address.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
    const reader = new WireReader(conn);
    const writer = new ReplyWriter(conn);
    let exportName: string | undefined;
    const timeout = setTimeout(() => {
      emit?.({ type: "protocol-error", connection: id, message: "handshake timed out" });
      closeQuietly(conn);
    }, this.options.handshakeTimeoutMs ?? 10_000);
    try {
      const session = await negotiate(reader, writer, this.catalog);
      clearTimeout(timeout);
      if (session) {
        exportName = session.export.name;
        await transmit({ reader, writer, session, clock: this.clock, onEvent: emit });
      }
      await writer.drain();
    } catch (error) {
      if (error instanceof NbdProtocolError) {
        emit?.({ type: "protocol-error", connection: id, message: error.message });
      } else if (!(error instanceof ConnectionClosed) && !isClosedSocketError(error)) {
        emit?.({ type: "protocol-error", connection: id, message: String(error) });
      }
    } finally {
      clearTimeout(timeout);
      closeQuietly(conn);
      emit?.({ type: "connection-closed", connection: id, export: exportName });
    }
  }
}

function checkExportName(name: string, taken: { has(name: string): boolean }): void {
  if (name === "" || new TextEncoder().encode(name).length > 4096) {
    throw new NbdServerError(`export name "${name}" must be 1 to 4096 bytes`);
  }
  if (taken.has(name)) throw new NbdServerError(`two exports are named "${name}"`);
}

/** A socket file left by a server that died may be replaced; anything else at the path may not. */
async function removeStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket) throw new NbdServerError(`${path} exists and is not a socket`);
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
    throw new NbdServerError(`${path} is in use by another server`);
  } catch (error) {
    if (error instanceof NbdServerError) throw error;
    await Deno.remove(path);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

function isClosedSocketError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
}

/** `unix:/path` or `tcp:host:port`, for messages. */
function describeAddress(address: ListenAddress): string {
  return address.transport === "unix"
    ? `unix:${address.path}`
    : `tcp:${address.hostname}:${address.port}`;
}
