/**
 * Typed wrappers over {@link QmpClient.execute} for the QMP commands the tests
 * drive QEMU with (faultline itself sends raw commands through the client).
 *
 * Argument objects use the QAPI member names exactly as they go on the wire (so
 * `"command-line"`, not `commandLine`), which keeps them checkable against QEMU's
 * schema. Result types list only the fields faultline reads; QEMU sends more, and newer
 * QEMUs may add fields and enum values. Checked against QEMU 7.2's `query-qmp-schema`
 * and `qapi/run-state.json`, `qapi/block.json`, `qapi/block-core.json`, `qapi/net.json`,
 * `qapi/migration.json`, `qapi/misc.json`.
 *
 * Every wrapper takes the client, then the arguments (if the command has any), then
 * options with an optional `signal`.
 *
 * Reference: https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html
 *
 * @module
 */

import type { ExecuteOptions, QmpClient } from "../../src/qmp/client.ts";
import { QmpConnectionError } from "../../src/qmp/errors.ts";

/** Anything that can execute QMP commands: a {@link QmpClient}, or a fake in tests. */
export type QmpExecutor = Pick<QmpClient, "execute">;

/**
 * A VM run state (QAPI `RunState`, `qapi/run-state.json`), as of QEMU 7.2.
 * `"paused"` after `stop`; `"shutdown"` after a guest poweroff with `-no-shutdown`;
 * `"io-error"` when a disk error paused the guest (`werror=stop`); `"prelaunch"` with `-S`.
 */
export type RunState =
  | "debug"
  | "inmigrate"
  | "internal-error"
  | "io-error"
  | "paused"
  | "postmigrate"
  | "prelaunch"
  | "finish-migrate"
  | "restore-vm"
  | "running"
  | "save-vm"
  | "shutdown"
  | "suspended"
  | "watchdog"
  | "guest-panicked"
  | "colo";

/** Result of `query-status` (QAPI `StatusInfo`). */
export interface StatusInfo {
  /** True if all vCPUs are runnable. */
  running: boolean;
  /** The VM's run state. */
  status: RunState;
}

/**
 * Queries the VM's run state (`query-status`).
 *
 * @example
 * ```ts
 * const { running, status } = await queryStatus(qmp);
 * if (status === "io-error") {
 *   // a disk error paused the guest
 * }
 * ```
 */
export async function queryStatus(
  qmp: QmpExecutor,
  options: ExecuteOptions = {},
): Promise<StatusInfo> {
  return await qmp.execute<StatusInfo>("query-status", undefined, options);
}

/**
 * Pauses all vCPUs (`stop`); QEMU emits `STOP`. QEMU drains and flushes every disk
 * first, so with a disk request held by the fault layer this never returns: never put
 * it between a fault and a power cut.
 *
 * @example
 * ```ts
 * const stopped = qmp.waitEvent("STOP", { signal: AbortSignal.timeout(5000) });
 * await stop(qmp);
 * await stopped;
 * ```
 */
export async function stop(qmp: QmpExecutor, options: ExecuteOptions = {}): Promise<void> {
  await qmp.execute("stop", undefined, options);
}

/**
 * Resumes all vCPUs (`cont`); QEMU emits `RESUME`.
 *
 * @example
 * ```ts
 * await cont(qmp, { signal: AbortSignal.timeout(5000) });
 * ```
 */
export async function cont(qmp: QmpExecutor, options: ExecuteOptions = {}): Promise<void> {
  await qmp.execute("cont", undefined, options);
}

/**
 * Makes QEMU exit (`quit`); QEMU emits `SHUTDOWN` (reason `"host-qmp-quit"`), flushes
 * its disks and closes the socket. Resolves on the reply or, since QEMU may close the
 * socket before its reply gets out, when the connection drops while the reply is
 * awaited. Other errors (including {@link QmpStateError} if the client was already
 * closed) reject.
 *
 * @example
 * ```ts
 * await quit(qmp);
 * await qmp.closed;
 * ```
 */
export async function quit(qmp: QmpExecutor, options: ExecuteOptions = {}): Promise<void> {
  try {
    await qmp.execute("quit", undefined, options);
  } catch (e) {
    if (!(e instanceof QmpConnectionError)) throw e;
  }
}

/**
 * Presses the virtual power button (`system_powerdown`): ACPI power-off request to the
 * guest, which may ignore it (a busybox init does). QEMU emits `POWERDOWN`.
 *
 * @example
 * ```ts
 * await systemPowerdown(qmp);
 * ```
 */
export async function systemPowerdown(
  qmp: QmpExecutor,
  options: ExecuteOptions = {},
): Promise<void> {
  await qmp.execute("system_powerdown", undefined, options);
}

/**
 * Resets the machine at once, like the reset button (`system_reset`); QEMU emits
 * `RESET`.
 *
 * @example
 * ```ts
 * await systemReset(qmp);
 * ```
 */
export async function systemReset(
  qmp: QmpExecutor,
  options: ExecuteOptions = {},
): Promise<void> {
  await qmp.execute("system_reset", undefined, options);
}

/** The medium of a block device (QAPI `BlockDeviceInfo`, the `inserted` member). */
export interface BlockDeviceInfo {
  /** Filename or URI of the image, e.g. `"nbd+unix:///vda?socket=/run/f/vda.sock"`. */
  file: string;
  /** Block node name, if the node has one. */
  "node-name"?: string;
  /** True if read-only. */
  ro: boolean;
  /** Format driver of the top node, e.g. `"raw"`, `"nbd"`. */
  drv: string;
}

/** One block device (QAPI `BlockInfo`, an element of `query-block`'s result). */
export interface BlockInfo {
  /** The device name (`-drive id=`); `""` for devices made with `-blockdev`/`-device`. */
  device: string;
  /** The qdev id or QOM path of the guest device, if there is one. */
  qdev?: string;
  /** Always `"unknown"` in current QEMUs (deprecated). */
  type: string;
  /** True if the device supports removable media. */
  removable: boolean;
  /** True if the guest has locked the tray. */
  locked: boolean;
  /** The medium, absent when the drive is empty. */
  inserted?: BlockDeviceInfo;
  /** `"ok"`, `"failed"` or `"nospace"`; only when the device has `werror`/`rerror` set to stop. */
  "io-status"?: "ok" | "failed" | "nospace";
}

/**
 * Lists the block devices (`query-block`).
 *
 * @example
 * ```ts
 * for (const b of await queryBlock(qmp)) console.log(b.device, b.inserted?.file);
 * ```
 */
export async function queryBlock(
  qmp: QmpExecutor,
  options: ExecuteOptions = {},
): Promise<BlockInfo[]> {
  return await qmp.execute<BlockInfo[]>("query-block", undefined, options);
}

/** Arguments of `set_link` (`qapi/net.json`). */
export type SetLinkArguments = {
  /** The NIC's or net client's id (`-netdev id=` or `-device id=`). */
  name: string;
  /** True to bring the link up, false to take it down. */
  up: boolean;
};

/**
 * Brings a network link up or down (`set_link`): a network partition without touching
 * the guest. An unknown name fails with error class `DeviceNotFound`.
 *
 * @example
 * ```ts
 * await setLink(qmp, { name: "net0", up: false });
 * ```
 */
export async function setLink(
  qmp: QmpExecutor,
  args: SetLinkArguments,
  options: ExecuteOptions = {},
): Promise<void> {
  await qmp.execute("set_link", args, options);
}

/** Arguments of `migrate` (`qapi/migration.json`) that faultline uses. */
export type MigrateArguments = {
  /**
   * Destination URI. QEMU 7.2 has no `file:` URI, `exec:` runs a shell and `fd:` needs
   * descriptor passing, so faultline uses `unix:/path/to/socket` it listens on.
   */
  uri: string;
  /** Resume a paused postcopy migration. */
  resume?: boolean;
};

/**
 * Starts migrating (saving) the VM's state to `uri` (`migrate`). Returns as soon as
 * the migration has started; follow it with {@link queryMigrate} or the `MIGRATION`
 * event.
 *
 * @example
 * ```ts
 * await migrate(qmp, { uri: `unix:${dir}/state.sock` });
 * ```
 */
export async function migrate(
  qmp: QmpExecutor,
  args: MigrateArguments,
  options: ExecuteOptions = {},
): Promise<void> {
  await qmp.execute("migrate", args, options);
}

/** A migration status (QAPI `MigrationStatus`), as of QEMU 7.2. */
export type MigrationStatus =
  | "none"
  | "setup"
  | "cancelling"
  | "cancelled"
  | "active"
  | "postcopy-active"
  | "postcopy-paused"
  | "postcopy-recover"
  | "completed"
  | "failed"
  | "colo"
  | "pre-switchover"
  | "device"
  | "wait-unplug";

/** RAM transfer statistics of a migration (QAPI `MigrationStats`), the fields faultline reads. */
export interface MigrationStats {
  /** Bytes transferred so far. */
  transferred: number;
  /** Bytes remaining. */
  remaining: number;
  /** Total bytes of guest RAM. */
  total: number;
}

/**
 * Result of `query-migrate` (QAPI `MigrationInfo`). Every field is optional: with no
 * migration ever started, QEMU 7.2 returns `{}`.
 */
export interface MigrationInfo {
  /** Status of the current or last migration. */
  status?: MigrationStatus;
  /** RAM statistics, while active and once completed. */
  ram?: MigrationStats;
  /** Milliseconds since the migration started (up to completion). */
  "total-time"?: number;
  /** Milliseconds the VM was stopped, once completed. */
  downtime?: number;
  /** Milliseconds of setup. */
  "setup-time"?: number;
  /** Why it failed, when `status` is `"failed"`. */
  "error-desc"?: string;
}

/**
 * Queries the current or last migration (`query-migrate`).
 *
 * @example
 * ```ts
 * const info = await queryMigrate(qmp);
 * if (info.status === "failed") throw new Error(info["error-desc"]);
 * ```
 */
export async function queryMigrate(
  qmp: QmpExecutor,
  options: ExecuteOptions = {},
): Promise<MigrationInfo> {
  return await qmp.execute<MigrationInfo>("query-migrate", undefined, options);
}

/** Arguments of `human-monitor-command` (`qapi/misc.json`). */
export type HumanMonitorCommandArguments = {
  /** The HMP command line, e.g. `"info block"`. */
  "command-line": string;
  /** The CPU to use for commands that need one (defaults to the first). */
  "cpu-index"?: number;
};

/**
 * Runs a human monitor (HMP) command and returns its output (`human-monitor-command`),
 * lines ending in `"\r\n"`. HMP output is for people and not a stable interface: use
 * it for diagnostics, not for decisions.
 *
 * @example
 * ```ts
 * const text = await humanMonitorCommand(qmp, { "command-line": "info status" });
 * // => "VM status: running\r\n"
 * ```
 */
export async function humanMonitorCommand(
  qmp: QmpExecutor,
  args: HumanMonitorCommandArguments,
  options: ExecuteOptions = {},
): Promise<string> {
  return await qmp.execute<string>("human-monitor-command", args, options);
}
