/**
 * Errors of the QMP subsystem: one root, {@link QmpError}, and one subclass per way a
 * conversation with a QMP server can fail.
 *
 * Every message is one line that names what was sent (command and arguments) or what
 * was being waited for, so that a log line alone says what went wrong.
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html
 *
 * @module
 */

import { FaultlineError } from "../util/errors.ts";

/** Longest rendering of a command's arguments in an error message, in characters. */
const MAX_ARGUMENTS_IN_MESSAGE = 200;

/**
 * Renders a command and its arguments for an error message: `'set_link' {"name":"n0","up":false}`.
 *
 * @example
 * ```ts
 * describeCommand("set_link", { name: "n0", up: false });
 * // => `'set_link' {"name":"n0","up":false}`
 * ```
 */
export function describeCommand(command: string, args?: unknown): string {
  if (args === undefined) return `'${command}'`;
  let rendered: string;
  try {
    rendered = JSON.stringify(args) ?? String(args);
  } catch {
    rendered = "<arguments not serializable>";
  }
  if (rendered.length > MAX_ARGUMENTS_IN_MESSAGE) {
    rendered = `${rendered.slice(0, MAX_ARGUMENTS_IN_MESSAGE)}...`;
  }
  return `'${command}' ${rendered}`;
}

/**
 * Root of every error the QMP subsystem throws.
 *
 * @example
 * ```ts
 * try {
 *   await client.execute("stop");
 * } catch (e) {
 *   if (e instanceof QmpError) console.error(e.message);
 *   else throw e;
 * }
 * ```
 */
export class QmpError extends FaultlineError {
  /** Makes the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, { cause: options?.cause });
  }
}

/**
 * The peer broke the protocol: bytes that do not frame as JSON objects, a message over
 * the size limit, invalid UTF-8, or a message of an unexpected shape (e.g. no greeting).
 *
 * @example
 * ```ts
 * throw new QmpProtocolError("expected the QMP greeting, got {\"return\": {}}");
 * ```
 */
export class QmpProtocolError extends QmpError {
  /** Makes the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The byte stream could not be split into JSON objects (see `framing.ts`).
 *
 * `offset` is the position in the whole stream (counted from 0 over every chunk
 * pushed) of the byte where the problem was seen. `messages` holds the complete
 * messages that preceded the problem in the same chunk, in order, so that nothing
 * received before the bad bytes is lost.
 *
 * @example
 * ```ts
 * try {
 *   splitter.push(chunk);
 * } catch (e) {
 *   if (e instanceof QmpFramingError) for (const m of e.messages) handle(m);
 *   throw e;
 * }
 * ```
 */
export class QmpFramingError extends QmpProtocolError {
  /** Stream offset (bytes from the start of the stream) where the problem was seen. */
  readonly offset: number;
  /** Complete messages decoded from the same chunk before the problem, in order. */
  readonly messages: readonly Record<string, unknown>[];

  /** Makes the error for a problem at stream `offset`, after `messages`. */
  constructor(
    message: string,
    offset: number,
    messages: readonly Record<string, unknown>[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.offset = offset;
    this.messages = messages;
  }
}

/**
 * The server answered a command with an error reply
 * (`{"error": {"class": ..., "desc": ...}}`, spec section "Error").
 *
 * Carries what was sent (`command`, `arguments`, `id`) and what came back
 * (`errorClass`, `desc`).
 *
 * @example
 * ```ts
 * try {
 *   await client.execute("set_link", { name: "nope", up: false });
 * } catch (e) {
 *   if (e instanceof QmpCommandError && e.errorClass === "DeviceNotFound") {
 *     // ...
 *   }
 * }
 * ```
 */
export class QmpCommandError extends QmpError {
  /** Name of the command that was sent. */
  readonly command: string;
  /** Arguments that were sent, or `undefined` if none were. */
  readonly arguments: Readonly<Record<string, unknown>> | undefined;
  /** Error class from the reply, e.g. `"GenericError"`, `"CommandNotFound"`. */
  readonly errorClass: string;
  /** Human-readable description from the reply; not meant to be parsed. */
  readonly desc: string;
  /** The `id` the command was sent with, if any. */
  readonly id: unknown;

  /** Makes the error from what was sent and the reply's `class` and `desc`. */
  constructor(
    command: string,
    args: Readonly<Record<string, unknown>> | undefined,
    errorClass: string,
    desc: string,
    id?: unknown,
  ) {
    super(`QMP command ${describeCommand(command, args)} failed: ${errorClass}: ${desc}`);
    this.command = command;
    this.arguments = args;
    this.errorClass = errorClass;
    this.desc = desc;
    this.id = id;
  }
}

/**
 * The connection could not be made, or it ended (peer closed it, a read or write
 * failed, or the client closed it) while something was waiting on it.
 *
 * @example
 * ```ts
 * const reply = client.execute("query-status");
 * qemu.kill("SIGKILL");
 * await reply; // rejects with QmpConnectionError
 * ```
 */
export class QmpConnectionError extends QmpError {
  /** Makes the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A call was made in a state that does not allow it: `execute` before the client is
 * ready or after it closed, `connect` twice.
 *
 * @example
 * ```ts
 * await client.close();
 * await client.execute("query-status"); // throws QmpStateError (state "closed")
 * ```
 */
export class QmpStateError extends QmpError {
  /** The client's state when the call was refused. */
  readonly state: string;

  /** Makes the error for a call refused in `state`. */
  constructor(message: string, state: string, options?: ErrorOptions) {
    super(message, options);
    this.state = state;
  }
}

/**
 * A wait was abandoned because its `AbortSignal` fired for a reason other than a
 * timeout; the signal's reason is the `cause`.
 *
 * @example
 * ```ts
 * const ctl = new AbortController();
 * const p = client.waitEvent("STOP", { signal: ctl.signal });
 * ctl.abort();
 * await p; // rejects with QmpAbortError
 * ```
 */
export class QmpAbortError extends QmpError {
  /** Makes the error; `options.cause` is the signal's reason. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A deadline passed: the signal fired with a `TimeoutError` reason (as
 * `AbortSignal.timeout(ms)` does) before the reply, greeting or event arrived.
 *
 * @example
 * ```ts
 * await client.execute("query-status", undefined, { signal: AbortSignal.timeout(1000) });
 * // rejects with QmpTimeoutError if no reply came within 1 s
 * ```
 */
export class QmpTimeoutError extends QmpAbortError {
  /** Makes the error; `options.cause` is the signal's reason. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Turns an aborted signal's reason into {@link QmpTimeoutError} (reason is a
 * `TimeoutError`) or {@link QmpAbortError} (any other reason), with `what` saying what
 * was being waited for.
 *
 * @example
 * ```ts
 * throw abortError(signal.reason, "waiting for the reply to 'stop'");
 * ```
 */
export function abortError(reason: unknown, what: string): QmpAbortError {
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return new QmpTimeoutError(`QMP timed out ${what}`, { cause: reason });
  }
  return new QmpAbortError(`QMP aborted ${what}`, { cause: reason });
}
