/**
 * QMP client over a unix socket: greeting, capabilities negotiation, command execution
 * with replies matched by `id`, and asynchronous events.
 *
 * The client moves through explicit states, in the manner of QEMU's Python library
 * (`python/qemu/qmp/protocol.py`), and refuses a call in the wrong state with
 * {@link QmpStateError} instead of guessing:
 *
 * ```
 * idle -> connecting -> greeting -> negotiating -> ready -> closed
 *   \__________\____________\____________\__________________/
 * ```
 *
 * Any state can go to `closed`: `close()`, the peer closing the socket, a failed read or
 * write, a protocol error, or a failed `connect`. A client connects once; make a new one
 * to reconnect.
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html
 *
 * @module
 */

import { decodeMessages, encodeMessage, type JsonObject } from "./framing.ts";
import {
  abortError,
  describeCommand,
  QmpCommandError,
  QmpConnectionError,
  QmpProtocolError,
  QmpStateError,
} from "./errors.ts";
import { writeAll } from "../util/write_all.ts";

/** The states of a {@link QmpClient}; see the module documentation. */
export type QmpClientState =
  | "idle"
  | "connecting"
  | "greeting"
  | "negotiating"
  | "ready"
  | "closed";

/** The server's version, as in the greeting and `query-version` (QAPI `VersionInfo`). */
export interface QmpVersion {
  /** QEMU's version numbers, e.g. `{ major: 7, minor: 2, micro: 22 }`. */
  qemu: { major: number; minor: number; micro: number };
  /** Vendor package string, e.g. `"Debian 1:7.2+dfsg-7+deb12u18"`; may be empty. */
  package: string;
}

/**
 * The server greeting (`{"QMP": {"version": ..., "capabilities": [...]}}`).
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html#server-greeting
 */
export interface QmpGreeting {
  /** The server's version. */
  version: QmpVersion;
  /** Capabilities the server offers, e.g. `["oob"]`; faultline enables none of them. */
  capabilities: string[];
}

/**
 * One asynchronous event.
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html#asynchronous-events
 */
export interface QmpEvent {
  /** The event's name, e.g. `"STOP"`, `"SHUTDOWN"`. */
  event: string;
  /** The event's data; `{}` when the server sent none. */
  data: Record<string, unknown>;
  /** When the server emitted it, since the Unix epoch; both -1 if the server had no clock. */
  timestamp: { seconds: number; microseconds: number };
}

/** A command's arguments: a JSON object. */
export type QmpArguments = Readonly<Record<string, unknown>>;

/** Options of {@link QmpClient.connect}. */
export interface ConnectOptions {
  /** Abandons the connection attempt; a `TimeoutError` reason gives {@link QmpTimeoutError}. */
  signal?: AbortSignal;
  /** Deadline for connecting, the greeting and negotiation together, in milliseconds. */
  timeoutMs?: number;
  /** Limit on one message's size; default 16 MiB (see `framing.ts`). */
  maxMessageBytes?: number;
}

/** Options of {@link QmpClient.execute}. */
export interface ExecuteOptions {
  /** Stops waiting for the reply, e.g. `AbortSignal.timeout(5000)`. */
  signal?: AbortSignal;
}

/** Options of {@link QmpClient.waitEvent}. */
export interface WaitEventOptions {
  /** Stops waiting, e.g. `AbortSignal.timeout(5000)`. */
  signal?: AbortSignal;
  /** Further condition on the event, e.g. on its `data`. */
  match?: (event: QmpEvent) => boolean;
}

interface PendingCall {
  command: string;
  args: QmpArguments | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface EventListener {
  onEvent(event: QmpEvent): void;
  onEnd(reason: QmpConnectionError): void;
}

/** Size of the buffer each socket read fills. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * A QMP client on a unix socket.
 *
 * @example
 * ```ts
 * await using qmp = await QmpClient.connect("/run/vm0/qmp.sock", { timeoutMs: 5000 });
 * console.log(qmp.greeting.version.qemu); // { major: 7, minor: 2, micro: 22 }
 * const stopped = qmp.waitEvent("STOP", { signal: AbortSignal.timeout(5000) });
 * await qmp.execute("stop");
 * await stopped;
 * ```
 */
export class QmpClient implements AsyncDisposable {
  #state: QmpClientState = "idle";
  #path = "";
  #maxMessageBytes: number | undefined;
  #conn: Deno.Conn | undefined;
  #connecting: Promise<unknown> | undefined;
  #greeting: QmpGreeting | undefined;
  #greetingWaiter: PromiseWithResolvers<QmpGreeting> | undefined;
  #nextId = 1;
  /** Calls waiting for their reply, by id. */
  #pending = new Map<number, PendingCall>();
  /** Ids sent and not yet answered, in send order, including abandoned ones. */
  #inFlight: number[] = [];
  #listeners = new Set<EventListener>();
  #writeChain: Promise<void> = Promise.resolve();
  #reader: Promise<void> | undefined;
  #closeReason: QmpConnectionError | undefined;
  #closed = Promise.withResolvers<void>();

  /**
   * Connects to the QMP socket at `path`, reads the greeting and negotiates
   * capabilities; resolves with a client in state `ready`.
   *
   * Throws {@link QmpConnectionError} if the socket cannot be reached or closes,
   * {@link QmpProtocolError} if the first message is not a greeting,
   * {@link QmpCommandError} if `qmp_capabilities` fails, and {@link QmpTimeoutError}
   * when `timeoutMs` (or a timeout `signal`) expires first.
   *
   * @example
   * ```ts
   * const qmp = await QmpClient.connect("/run/vm0/qmp.sock", { timeoutMs: 5000 });
   * try {
   *   await qmp.execute("cont");
   * } finally {
   *   await qmp.close();
   * }
   * ```
   */
  static async connect(path: string, options: ConnectOptions = {}): Promise<QmpClient> {
    const client = new QmpClient();
    await client.connect(path, options);
    return client;
  }

  /**
   * The client's current state.
   *
   * @example
   * ```ts
   * const qmp = new QmpClient();
   * qmp.state; // "idle"
   * ```
   */
  get state(): QmpClientState {
    return this.#state;
  }

  /**
   * The server's greeting (version and capabilities); throws {@link QmpStateError}
   * before it has been received.
   *
   * @example
   * ```ts
   * const { major, minor } = qmp.greeting.version.qemu;
   * const oob = qmp.greeting.capabilities.includes("oob");
   * ```
   */
  get greeting(): QmpGreeting {
    if (!this.#greeting) {
      throw new QmpStateError(
        `QMP greeting not received yet: the client is ${this.#state}`,
        this.#state,
      );
    }
    return this.#greeting;
  }

  /**
   * Settles when the client reaches `closed`, for whatever reason; never rejects.
   *
   * @example
   * ```ts
   * await qmp.execute("quit").catch(() => {});
   * await qmp.closed; // QEMU has closed the socket
   * ```
   */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Why the client closed (`undefined` while it is open): the peer closed the socket,
   * a read failed, the client was closed, and so on.
   *
   * @example
   * ```ts
   * await qmp.closed;
   * qmp.closeReason?.message; // "QMP connection to /run/vm0/qmp.sock closed by the peer"
   * ```
   */
  get closeReason(): QmpConnectionError | undefined {
    return this.#closeReason;
  }

  /**
   * Connects this `idle` client: opens the socket, reads the greeting, runs
   * `qmp_capabilities`. Same errors as the static {@link QmpClient.connect}; on any
   * error the client ends `closed`. A second call throws {@link QmpStateError}.
   *
   * @example
   * ```ts
   * const qmp = new QmpClient();
   * const greeting = await qmp.connect("/run/vm0/qmp.sock", { timeoutMs: 5000 });
   * ```
   */
  async connect(path: string, options: ConnectOptions = {}): Promise<QmpGreeting> {
    if (this.#state !== "idle") {
      throw new QmpStateError(
        `QMP client cannot connect to ${path}: it is ${this.#state} ` +
          `(a client connects once; make a new one)`,
        this.#state,
      );
    }
    this.#path = path;
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#state = "connecting";
    const deadline = makeDeadline(options.signal, options.timeoutMs);
    try {
      let abandoned = false;
      const opening = Deno.connect({ transport: "unix", path });
      // A socket that opens after the attempt was given up (or the client closed) must
      // not leak; this reaction runs before connect() resumes.
      this.#connecting = opening.then((conn) => {
        if (abandoned || this.#state !== "connecting") conn.close();
      }, () => {});
      const conn = await raceAbort(
        opening.catch((e) => {
          throw new QmpConnectionError(
            `cannot connect to QMP socket ${path}: ${errorText(e)}`,
            { cause: e },
          );
        }),
        deadline.signal,
        `connecting to QMP socket ${path}`,
      ).catch((e) => {
        abandoned = true;
        throw e;
      });
      if (this.#state !== "connecting") {
        throw this.#closeReason ?? new QmpConnectionError(`QMP connection to ${path} closed`);
      }
      this.#conn = conn;
      this.#state = "greeting";
      this.#greetingWaiter = Promise.withResolvers<QmpGreeting>();
      this.#reader = this.#readLoop(conn);
      await raceAbort(
        this.#greetingWaiter.promise,
        deadline.signal,
        `waiting for the greeting on QMP socket ${path}`,
      );
      // #dispatch has moved the state to "negotiating".
      await this.#call("qmp_capabilities", undefined, deadline.signal);
      if (this.state !== "negotiating") {
        throw this.#closeReason ?? new QmpConnectionError(`QMP connection to ${path} closed`);
      }
      this.#state = "ready";
      return this.greeting;
    } catch (e) {
      const reason = `QMP connection to ${path} failed while connecting: ${errorText(e)}`;
      this.#shutdown(new QmpConnectionError(reason, { cause: e }));
      await this.#settleTasks();
      throw e;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Executes `command` with `args` and resolves with the `return` value of its reply.
   *
   * Each call gets the next numeric `id`; replies are matched by it, so calls may run
   * concurrently and events may arrive between replies. An error reply rejects with
   * {@link QmpCommandError}; the connection ending first rejects with
   * {@link QmpConnectionError}; the signal firing first rejects with
   * {@link QmpTimeoutError} (timeout) or {@link QmpAbortError} (other reason). A command
   * whose wait was abandoned after it was sent still runs in the server, and later
   * in-band commands queue behind it there; its reply is dropped. Throws
   * {@link QmpStateError} unless the client is `ready`. `T` is the caller's claim about
   * the reply, not checked at run time.
   *
   * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html#issuing-commands
   *
   * @example
   * ```ts
   * const status = await qmp.execute<{ status: string }>("query-status", undefined, {
   *   signal: AbortSignal.timeout(2000),
   * });
   * await qmp.execute("set_link", { name: "net0", up: false });
   * ```
   */
  async execute<T = unknown>(
    command: string,
    args?: QmpArguments,
    options: ExecuteOptions = {},
  ): Promise<T> {
    this.#requireReady(`execute ${describeCommand(command, args)}`);
    return await this.#call(command, args, options.signal) as T;
  }

  /**
   * Subscribes to events: an async iterable of every event received from now on, in
   * order. It ends (without error) when the connection closes, after yielding the
   * events already queued; leaving the loop (`break`) unsubscribes. Events queue until
   * read, so read or break. Throws {@link QmpStateError} unless the client is `ready`.
   *
   * @example
   * ```ts
   * for await (const ev of qmp.events()) {
   *   if (ev.event === "SHUTDOWN") break;
   * }
   * ```
   */
  events(): AsyncIterableIterator<QmpEvent> {
    this.#requireReady("subscribe to events");
    const subscription = new EventSubscription(() => this.#listeners.delete(subscription));
    this.#listeners.add(subscription);
    return subscription;
  }

  /**
   * Waits for the next event named `name` (and satisfying `match`, if given), counting
   * from this call: start waiting *before* sending the command that causes the event,
   * since QEMU may send the event before the command's reply.
   *
   * Rejects with {@link QmpTimeoutError} / {@link QmpAbortError} when the signal fires,
   * {@link QmpConnectionError} when the connection closes first, and
   * {@link QmpStateError} unless the client is `ready`. The promise is marked handled,
   * so a wait abandoned because the command failed does not crash the process.
   *
   * @example
   * ```ts
   * const shutdown = qmp.waitEvent("SHUTDOWN", { signal: AbortSignal.timeout(5000) });
   * await qmp.execute("system_powerdown");
   * const ev = await shutdown; // ev.data.reason, e.g. "host-qmp-system-powerdown"
   * ```
   */
  waitEvent(name: string, options: WaitEventOptions = {}): Promise<QmpEvent> {
    const { promise, resolve, reject } = Promise.withResolvers<QmpEvent>();
    promise.catch(() => {});
    const what = `waiting for QMP event ${name}`;
    try {
      this.#requireReady(`wait for event ${name}`);
    } catch (e) {
      reject(e as Error);
      return promise;
    }
    const { signal, match } = options;
    const onAbort = () => {
      cleanup();
      reject(abortError(signal?.reason, what));
    };
    const listener: EventListener = {
      onEvent: (event) => {
        if (event.event !== name) return;
        let matched: boolean;
        try {
          matched = match ? match(event) : true;
        } catch (e) {
          cleanup();
          reject(e as Error);
          return;
        }
        if (!matched) return;
        cleanup();
        resolve(event);
      },
      onEnd: (reason) => {
        cleanup();
        reject(new QmpConnectionError(`${reason.message} while ${what}`, { cause: reason }));
      },
    };
    const cleanup = () => {
      this.#listeners.delete(listener);
      signal?.removeEventListener("abort", onAbort);
    };
    if (signal?.aborted) {
      reject(abortError(signal.reason, what));
      return promise;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#listeners.add(listener);
    return promise;
  }

  /**
   * Closes the connection; idempotent. Pending calls reject with
   * {@link QmpConnectionError}, event streams end, and the promise resolves once the
   * socket and the client's reader are gone.
   *
   * @example
   * ```ts
   * await qmp.close();
   * await qmp.close(); // no-op
   * ```
   */
  async close(): Promise<void> {
    this.#shutdown(
      new QmpConnectionError(
        `QMP connection${this.#path ? ` to ${this.#path}` : ""} closed by the client`,
      ),
    );
    await this.#settleTasks();
  }

  /**
   * Closes the client, for `await using`.
   *
   * @example
   * ```ts
   * await using qmp = await QmpClient.connect("/run/vm0/qmp.sock");
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #requireReady(what: string): void {
    if (this.#state === "ready") return;
    const why = this.#closeReason ? ` (${this.#closeReason.message})` : "";
    throw new QmpStateError(
      `QMP client cannot ${what}: it is ${this.#state}, not ready${why}`,
      this.#state,
      this.#closeReason ? { cause: this.#closeReason } : undefined,
    );
  }

  async #call(
    command: string,
    args: QmpArguments | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const what = `waiting for the reply to ${describeCommand(command, args)}`;
    if (signal?.aborted) throw abortError(signal.reason, what);
    const conn = this.#conn;
    if (!conn || this.#state === "closed") {
      throw new QmpStateError(
        `QMP client cannot execute ${describeCommand(command, args)}: it is ${this.#state}`,
        this.#state,
      );
    }
    const id = this.#nextId++;
    const message: JsonObject = { execute: command };
    if (args !== undefined) message.arguments = args;
    message.id = id;
    const bytes = encodeMessage(message);
    const reply = Promise.withResolvers<unknown>();
    this.#pending.set(id, { command, args, resolve: reply.resolve, reject: reply.reject });
    this.#writeChain = this.#writeChain.then(async () => {
      // A call abandoned (or failed by a close) before its turn to be written is not sent.
      if (!this.#pending.has(id)) return;
      this.#inFlight.push(id);
      try {
        await writeAll(conn, bytes);
      } catch (e) {
        const call = this.#pending.get(id);
        if (!call) return;
        this.#forget(id);
        call.reject(
          new QmpConnectionError(
            `cannot send ${describeCommand(command, args)} to QMP socket ${this.#path}: ` +
              errorText(e),
            { cause: e },
          ),
        );
      }
    });
    return await raceAbort(reply.promise, signal, what, () => this.#pending.delete(id));
  }

  #forget(id: number): void {
    this.#pending.delete(id);
    const at = this.#inFlight.indexOf(id);
    if (at >= 0) this.#inFlight.splice(at, 1);
  }

  async #readLoop(conn: Deno.Conn): Promise<void> {
    let reason: QmpConnectionError;
    try {
      const messages = decodeMessages(readChunks(conn), {
        maxMessageBytes: this.#maxMessageBytes,
      });
      for await (const message of messages) {
        this.#dispatch(message);
        if (this.#state === "closed") return;
      }
      reason = new QmpConnectionError(`QMP connection to ${this.#path} closed by the peer`);
    } catch (e) {
      if (this.#state === "closed") return;
      reason = e instanceof QmpProtocolError
        ? new QmpConnectionError(
          `QMP connection to ${this.#path} dropped: ${e.message}`,
          { cause: e },
        )
        : new QmpConnectionError(
          `QMP connection to ${this.#path} failed: ${errorText(e)}`,
          { cause: e },
        );
    }
    this.#shutdown(reason);
  }

  #dispatch(message: JsonObject): void {
    if (this.#state === "greeting") {
      const waiter = this.#greetingWaiter;
      if (!waiter) return; // a bad greeting was already reported
      // QEMU 7.2 can send an event before the greeting (measured: the RESUME of its own
      // startup, to a client that connected while it was starting). Nobody can be
      // subscribed yet, so it is dropped.
      if (typeof message.event === "string") return;
      this.#greetingWaiter = undefined;
      const greeting = parseGreeting(message);
      if (!greeting) {
        waiter.reject(
          new QmpProtocolError(
            `expected the QMP greeting on ${this.#path}, got ${truncatedJson(message)}`,
          ),
        );
        return;
      }
      this.#greeting = greeting;
      this.#state = "negotiating";
      waiter.resolve(greeting);
      return;
    }
    if (typeof message.event === "string") {
      const event = parseEvent(message);
      for (const listener of [...this.#listeners]) listener.onEvent(event);
      return;
    }
    if ("return" in message || "error" in message) {
      this.#settle(message);
    }
    // Anything else (a second greeting, a shape from a newer QEMU) is ignored, as the
    // spec's compatibility section asks of clients.
  }

  /** Matches a reply to its call. Spec: "Commands Responses". */
  #settle(message: JsonObject): void {
    let id: number | undefined;
    if (message.id === undefined) {
      // "Some errors can occur before the Server is able to read the id member": without
      // out-of-band execution replies come in issue order, so it answers the oldest.
      id = this.#inFlight[0];
    } else if (typeof message.id === "number") {
      id = message.id;
    }
    if (id === undefined) return;
    const at = this.#inFlight.indexOf(id);
    if (at >= 0) this.#inFlight.splice(at, 1);
    const call = this.#pending.get(id);
    // A reply with an unknown id (or to an abandoned call) is dropped, as the spec says.
    if (!call) return;
    this.#pending.delete(id);
    if ("error" in message) {
      const error = isObject(message.error) ? message.error : {};
      const errorClass = typeof error.class === "string" ? error.class : "GenericError";
      const desc = typeof error.desc === "string" ? error.desc : truncatedJson(message.error);
      call.reject(new QmpCommandError(call.command, call.args, errorClass, desc, message.id));
    } else {
      call.resolve(message.return);
    }
  }

  #shutdown(reason: QmpConnectionError): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeReason = reason;
    if (this.#conn) {
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
    }
    this.#greetingWaiter?.reject(reason);
    this.#greetingWaiter = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#inFlight = [];
    for (const call of pending) {
      call.reject(
        new QmpConnectionError(
          `${reason.message} while waiting for the reply to ` +
            describeCommand(call.command, call.args),
          { cause: reason },
        ),
      );
    }
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.onEnd(reason);
    this.#closed.resolve();
  }

  /** Waits until the connect attempt, the reader and queued writes have all finished. */
  async #settleTasks(): Promise<void> {
    await this.#connecting;
    await this.#reader;
    await this.#writeChain;
  }
}

/** The queue behind one {@link QmpClient.events} iterator. */
class EventSubscription implements AsyncIterableIterator<QmpEvent>, EventListener {
  #queue: QmpEvent[] = [];
  #waiters: ((result: IteratorResult<QmpEvent>) => void)[] = [];
  #ended = false;
  #unsubscribe: () => void;

  constructor(unsubscribe: () => void) {
    this.#unsubscribe = unsubscribe;
  }

  onEvent(event: QmpEvent): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: event, done: false });
    else this.#queue.push(event);
  }

  onEnd(): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<QmpEvent>> {
    const event = this.#queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  return(): Promise<IteratorResult<QmpEvent>> {
    this.#queue = [];
    this.#unsubscribe();
    this.onEnd();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<QmpEvent> {
    return this;
  }
}

async function* readChunks(conn: Deno.Conn): AsyncGenerator<Uint8Array, void, undefined> {
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) return;
    // The splitter copies what it keeps, so the buffer can be reused.
    yield buffer.subarray(0, n);
  }
}

/**
 * Races `promise` against `signal`; on abort runs `onAbort` and rejects with the
 * matching {@link QmpAbortError}. Removes its listener either way.
 */
function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
  onAbort?: () => void,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    onAbort?.();
    promise.catch(() => {});
    return Promise.reject(abortError(signal.reason, what));
  }
  return new Promise<T>((resolve, reject) => {
    const listener = () => {
      onAbort?.();
      reject(abortError(signal.reason, what));
    };
    signal.addEventListener("abort", listener, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", listener);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", listener);
        reject(error);
      },
    );
  });
}

/** A signal that fires on `signal` or after `timeoutMs`, with a timer that is cleared. */
function makeDeadline(
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): { signal: AbortSignal | undefined; dispose(): void } {
  if (timeoutMs === undefined) return { signal, dispose() {} };
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError")),
    timeoutMs,
  );
  return {
    signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
    dispose: () => clearTimeout(timer),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseGreeting(message: JsonObject): QmpGreeting | undefined {
  const qmp = message.QMP;
  if (!isObject(qmp) || !isObject(qmp.version) || !Array.isArray(qmp.capabilities)) {
    return undefined;
  }
  const qemu = isObject(qmp.version.qemu) ? qmp.version.qemu : {};
  const number = (v: unknown) => (typeof v === "number" ? v : 0);
  return {
    version: {
      qemu: { major: number(qemu.major), minor: number(qemu.minor), micro: number(qemu.micro) },
      package: typeof qmp.version.package === "string" ? qmp.version.package : "",
    },
    capabilities: qmp.capabilities.filter((c): c is string => typeof c === "string"),
  };
}

function parseEvent(message: JsonObject): QmpEvent {
  const ts = isObject(message.timestamp) ? message.timestamp : {};
  return {
    event: message.event as string,
    data: isObject(message.data) ? message.data : {},
    timestamp: {
      seconds: typeof ts.seconds === "number" ? ts.seconds : -1,
      microseconds: typeof ts.microseconds === "number" ? ts.microseconds : -1,
    },
  };
}

function truncatedJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
