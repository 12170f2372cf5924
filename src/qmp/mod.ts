/**
 * QMP, the QEMU Machine Protocol: message framing, a client (greeting, capabilities,
 * commands, events), its errors, and typed wrappers for the commands faultline uses.
 *
 * Spec: https://www.qemu.org/docs/master/interop/qmp-spec.html
 *
 * @example
 * ```ts
 * import { QmpClient, queryStatus, stop } from "./src/qmp/mod.ts";
 *
 * await using qmp = await QmpClient.connect("/run/vm0/qmp.sock", { timeoutMs: 5000 });
 * const stopped = qmp.waitEvent("STOP", { signal: AbortSignal.timeout(5000) });
 * await stop(qmp);
 * await stopped;
 * console.log((await queryStatus(qmp)).status); // "paused"
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
export {
  type BlockDeviceInfo,
  type BlockInfo,
  cont,
  humanMonitorCommand,
  type HumanMonitorCommandArguments,
  migrate,
  type MigrateArguments,
  type MigrationInfo,
  type MigrationStats,
  type MigrationStatus,
  type QmpExecutor,
  queryBlock,
  queryMigrate,
  queryStatus,
  quit,
  type RunState,
  setLink,
  type SetLinkArguments,
  type StatusInfo,
  stop,
  systemPowerdown,
  systemReset,
} from "./commands.ts";
