/**
 * QMP, the QEMU Machine Protocol: message framing, a client (greeting, capabilities,
 * commands, events) and its errors.
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html
 *
 * @example
 * ```ts
 * import { QmpClient } from "./src/qmp/mod.ts";
 *
 * await using qmp = await QmpClient.connect("/run/vm0/qmp.sock", { timeoutMs: 5000 });
 * const stopped = qmp.waitEvent("STOP", { signal: AbortSignal.timeout(5000) });
 * await qmp.execute("stop");
 * await stopped;
 * console.log(await qmp.execute("query-status")); // { status: "paused", running: false, ... }
 * ```
 *
 * @module
 */

export {
  decodeMessages,
  DEFAULT_MAX_MESSAGE_BYTES,
  encodeMessage,
  type JsonObject,
  MessageSplitter,
  type SplitterOptions,
} from "./framing.ts";
export {
  QmpAbortError,
  QmpCommandError,
  QmpConnectionError,
  QmpError,
  QmpFramingError,
  QmpProtocolError,
  QmpStateError,
  QmpTimeoutError,
} from "./errors.ts";
export {
  type ConnectOptions,
  type ExecuteOptions,
  type QmpArguments,
  QmpClient,
  type QmpClientState,
  type QmpEvent,
  type QmpGreeting,
  type QmpVersion,
  type WaitEventOptions,
} from "./client.ts";
