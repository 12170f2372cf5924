/**
 * Saved guest states: a guest booted once up to a hold point of its `/init`
 * (`faultline.hold=disks`: before the disk driver loads, so no disk has been read;
 * `faultline.hold=phase`: after the mounts, before the phase script), saved there, and
 * started from again as many times as needed, each start a fresh QEMU process.
 *
 * The guest's memory is a file: while saving, QEMU maps it shared (`memory-backend-file,
 * share=on`), so the file holds the memory at the hold; the migration stream, with the
 * `x-ignore-shared` capability, then carries the device state only (a few hundred KiB).
 * A guest started from the state maps the same file privately (`share=off`): it reads the
 * saved memory and its writes stay its own, so every start sees the same saved moment.
 * QEMU 7.2 has no `file:` migration URI: the stream goes through `exec:cat`. The state is
 * saved with the run state left out (`migration.store-global-state=off`), so the guest runs
 * as soon as it is loaded; it waits at its hold until a line comes on its console
 * ({@linkcode Vm.release}).
 *
 * The QMP commands are those of QEMU's `qapi/migration.json` (`migrate`, `query-migrate`,
 * `migrate-set-capabilities`, `migrate-incoming`); see docs/interop/qmp-spec.rst.
 *
 * @module
 */

import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { shellQuote } from "../util/shell_quote.ts";
import { HOLD_MARKER } from "./initramfs.ts";
import { Vm, VmError, type VmOptions } from "./launcher.ts";
import type { VmSpec } from "./qemu_args.ts";
import { firstDifference, stateArgs, stateKey } from "./state_key.ts";

/** A guest saved at a hold point. */
export interface GuestState {
  /** Where the guest holds: before its disk driver loads, or before the phase script. */
  hold: "disks" | "phase";
  /**
   * The phase it was saved with (`faultline.phase=` on its kernel command line, which its
   * memory keeps): it resumes into this phase only.
   */
  phase: string;
  /** The guest's memory at the hold (mapped copy-on-write by each start). */
  memory: string;
  /** The device state, as QEMU's migration wrote it. */
  devices: string;
  /** The SHA-256 of the device state: names this saved state (in traces). */
  id: string;
  /**
   * The key of the machine it was saved from: QEMU's whole argument list, accelerator and
   * CPU model included (src/vm/state_key.ts); only a start with the same key loads it.
   */
  key: string;
  /** The argument list the key is the hash of, to say where a start differs. */
  args: string[];
  /** Milliseconds from QEMU's start to the hold. */
  bootMs: number;
  /** Milliseconds the save took. */
  saveMs: number;
}

/** What a saved state is made from: a boot of the guest, without its memory file and QMP socket. */
export type SaveSpec = Omit<VmSpec, "memoryFile" | "incoming" | "qmpSocket" | "hold">;

/** Options of {@link saveGuestState}. */
export interface SaveOptions {
  /** Where the hold is. */
  hold: "disks" | "phase";
  /** A private directory for the state, the QMP socket and the console log. */
  dir: string;
  /** Where the memory file goes (a tmpfs is fastest); `dir` by default. */
  memoryDir?: string;
  /** The guest must reach its hold within this many milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with console text as it arrives. */
  onConsole?: (text: string) => void;
  /** QEMU is up and booting (for a caller that watches it, such as the ops it serves). */
  onStarted?: (vm: Vm) => void;
  /** The guest reached its hold: called at once, before anything is saved. */
  onHold?: () => void;
}

let saved = 0;

/**
 * Boots a guest up to its hold point and saves it there. The VM is gone when this returns.
 *
 * @throws {VmError} when the guest ends or times out before its hold, or the save fails.
 * @example
 * ```ts
 * const state = await saveGuestState(spec, { hold: "disks", dir, timeoutMs: 60_000 });
 * const vm = await startFromState({ ...spec, qmpSocket }, state, { consoleLog });
 * ```
 */
export async function saveGuestState(spec: SaveSpec, options: SaveOptions): Promise<GuestState> {
  const name = `state-${saved++}`;
  const memory = join(options.memoryDir ?? options.dir, `${name}.memory`);
  const devices = join(options.dir, `${name}.devices`);
  const started = performance.now();
  let consoleText = "";
  let held = false;
  const marker = `${HOLD_MARKER} ${options.hold}`;
  let reached: () => void = () => {};
  const atHold = new Promise<void>((resolve) => reached = resolve);
  const full: VmSpec = {
    ...spec,
    hold: options.hold,
    memoryFile: { path: memory, share: true },
    qmpSocket: join(options.dir, `${name}.qmp`),
  };
  const vm = await Vm.start(full, {
    consoleLog: join(options.dir, `${name}.console`),
    signal: options.signal,
    onConsole: (text) => {
      options.onConsole?.(text);
      consoleText = (consoleText + text).slice(-8192);
      if (!held && consoleText.includes(marker)) {
        held = true;
        options.onHold?.();
        reached();
      }
    },
  });
  try {
    options.onStarted?.(vm);
    const ended = vm.wait(options.timeoutMs);
    const first = await Promise.race([atHold.then(() => "hold" as const), ended]);
    if (first !== "hold") {
      throw new VmError(
        `the guest ended before its hold point (${first.how}, exit ${first.code}): ${
          first.stderr.trim() || consoleText.slice(-500)
        }`,
      );
    }
    const bootMs = performance.now() - started;
    await using qmp = await vm.qmp();
    await qmp.execute("stop");
    await qmp.execute("migrate-set-capabilities", {
      capabilities: [{ capability: "x-ignore-shared", state: true }],
    });
    // QEMU runs an exec: migration's command through /bin/sh.
    await qmp.execute("migrate", { uri: `exec:cat > ${shellQuote(devices)}` });
    for (;;) {
      const status = await qmp.execute<{ status: string; "error-desc"?: string }>(
        "query-migrate",
      );
      if (status.status === "completed") break;
      if (status.status === "failed" || status.status === "cancelled") {
        throw new VmError(`saving the guest failed: ${status["error-desc"] ?? status.status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return {
      hold: options.hold,
      phase: spec.phase,
      memory,
      devices,
      id: await sha256File(devices),
      key: stateKey(full),
      args: stateArgs(full),
      bootMs,
      saveMs: performance.now() - started - bootMs,
    };
  } finally {
    vm.kill();
    await vm.wait(10_000).catch(() => {});
  }
}

/**
 * Starts QEMU from a saved state instead of booting it: the same machine (`spec` must
 * describe the devices the state was saved with; the disks' contents may differ, and at a
 * `disks` hold they are read for the first time here), its memory mapped copy-on-write.
 * The guest goes on from its hold at once.
 *
 * @throws {VmError} when QEMU does not start or refuses the state.
 * @example
 * ```ts
 * const vm = await startFromState({ ...spec, qmpSocket }, state, { consoleLog });
 * const exit = await vm.wait(60_000);
 * ```
 */
export async function startFromState(
  spec: Omit<VmSpec, "memoryFile" | "incoming" | "hold">,
  state: GuestState,
  options: VmOptions,
): Promise<Vm> {
  const full: VmSpec = {
    ...spec,
    hold: state.hold,
    memoryFile: { path: state.memory, share: false },
    incoming: true,
  };
  if (stateKey(full) !== state.key) {
    throw new VmError(
      `the saved guest ${state.id.slice(0, 12)} was saved from another machine than this start's (${
        firstDifference(state.args, stateArgs(full))
      }): it is started only by the QEMU arguments it was saved with`,
    );
  }
  const vm = await Vm.start(full, options);
  try {
    await using qmp = await vm.qmp();
    await qmp.execute("migrate-set-capabilities", {
      capabilities: [{ capability: "x-ignore-shared", state: true }],
    });
    await qmp.execute("migrate-incoming", { uri: `exec:cat ${shellQuote(state.devices)}` });
    await vm.release();
    return vm;
  } catch (error) {
    vm.kill();
    await vm.wait(10_000).catch(() => {});
    throw error instanceof VmError
      ? error
      : new VmError(`cannot start the guest from its saved state: ${error}`, { cause: error });
  }
}
