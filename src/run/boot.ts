/**
 * One boot of one node: QEMU started on the node's guest and disks for a phase,
 * its QMP events followed, waited for with the phase's deadline, and what it
 * reported turned into a {@link PhaseOutcome}. A node may boot several times in
 * a run (run, check, and again after a crash).
 *
 * @module
 */

import { join } from "node:path";
import type { QmpClient, QmpEvent } from "../qmp/client.ts";
import type { GuestLine } from "../trace/load.ts";
import type { AccelChoice } from "../vm/accel.ts";
import { ControlChannel } from "../vm/control.ts";
import type { GuestClock } from "../vm/guest_clock.ts";
import { Vm, type VmExit } from "../vm/launcher.ts";
import { type GuestState, startFromState } from "../vm/snapshot.ts";
import type { VmDisk, VmNetwork } from "../vm/qemu_args.ts";
import type { Boot } from "./guest_results.ts";
import { RunError } from "./errors.ts";
import { guestImages, type NodeGuest } from "./prepare.ts";
import type { PhaseOutcome } from "./verdict.ts";

/** Fixed start of every guest's clock, so that runs repeat. */
export const RTC_BASE = "2026-01-01T00:00:00";

/**
 * The start of a guest's clock `offsetMs` off {@link RTC_BASE} (a clock skew), as QEMU's
 * `-rtc base=` takes it: UTC, to the second.
 *
 * @example
 * ```ts
 * rtcBaseOf(-5000); // "2025-12-31T23:59:55"
 * ```
 */
export function rtcBaseOf(offsetMs: number): string {
  if (offsetMs % 1000 !== 0) {
    throw new RangeError(`a clock starts on a second, not ${offsetMs} ms off`);
  }
  return new Date(Date.parse(`${RTC_BASE}Z`) + offsetMs).toISOString().slice(0, 19);
}
/** Console text kept per boot in the trace and the result. */
export const CONSOLE_TAIL = 8 * 1024;

/** Options of {@link NodeBoot.start}. */
export interface NodeBootOptions {
  boot: Boot;
  guest: NodeGuest;
  /** The accelerator and CPU model QEMU gets (src/vm/accel.ts). */
  accel: Pick<AccelChoice, "accel" | "cpu">;
  memoryBytes: number;
  disks: readonly VmDisk[];
  results: VmDisk;
  /** Its port on the run's switch, when the node is on a network. */
  network?: VmNetwork;
  /** A private directory for the console log, the QMP socket and the control channel's socket. */
  dir: string;
  /** Its clock starts this far off the others' (a clock skew); 0 when absent. */
  clockOffsetMs?: number;
  /** How its time runs (src/vm/guest_clock.ts); the host's pace when absent. */
  clock?: GuestClock;
  /** The seed of its random source (src/run/pinning.ts); unseeded when absent. */
  seed?: number;
  /** The boot is killed when it runs longer (a `deadline` outcome). */
  limitMs: number;
  signal?: AbortSignal;
  onConsole?: (text: string) => void;
  /** QEMU's QMP is up (a client), or gone (null). */
  onQmp?: (qmp: QmpClient | null) => void;
  onQmpEvent?: (event: QmpEvent) => void;
  /** Start from this saved state of the node's guest instead of booting it (src/run/warm.ts). */
  from?: GuestState;
}

/** How a boot ended. */
export interface BootEnd {
  exit: VmExit;
  /** The last {@link CONSOLE_TAIL} characters of its console. */
  console: string;
}

/**
 * A node's QEMU, running one phase.
 *
 * @example
 * ```ts
 * const boot = await NodeBoot.start({ boot: { node: "app", phase: "run", number: 0 }, ... });
 * const end = await boot.ended;
 * ```
 */
export class NodeBoot {
  /** Resolves when QEMU has exited (by itself, at the deadline, or killed). */
  readonly ended: Promise<BootEnd>;

  private constructor(
    private readonly vm: Vm,
    private readonly control: ControlChannel | null,
    options: NodeBootOptions,
    consoleLog: string,
  ) {
    this.ended = this.follow(options, consoleLog);
  }

  /**
   * Starts QEMU.
   *
   * @throws {VmError} when QEMU cannot be started.
   */
  static async start(options: NodeBootOptions): Promise<NodeBoot> {
    const { boot, guest } = options;
    const name = `${boot.node}-${boot.phase}-${boot.number}`;
    const consoleLog = join(options.dir, `${name}.console`);
    // QEMU connects to the control channel once, at its start: it listens first.
    const control = guest.control
      ? ControlChannel.listen(join(options.dir, `${name}.control`))
      : null;
    const spec = {
      ...guestImages(guest),
      accel: { accel: options.accel.accel, cpu: options.accel.cpu },
      phase: boot.phase,
      memoryBytes: options.memoryBytes,
      disks: options.disks,
      results: options.results,
      ...(options.network ? { network: options.network } : {}),
      ...(control ? { control: control.path } : {}),
      qmpSocket: join(options.dir, `${name}.qmp`),
      rtcBase: rtcBaseOf(options.clockOffsetMs ?? 0),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    };
    const vmOptions = { consoleLog, signal: options.signal, onConsole: options.onConsole };
    try {
      const vm = options.from
        ? await startFromState(spec, options.from, vmOptions)
        : await Vm.start(spec, vmOptions);
      return new NodeBoot(vm, control, options, consoleLog);
    } catch (error) {
      await control?.close();
      throw error;
    }
  }

  /** Whether its guest reads a control channel, and so can take a clock jump. */
  get hasControl(): boolean {
    return this.control !== null;
  }

  /**
   * Tells the guest's `/init` to make its wall clock jump by `ms` (src/vm/control.ts);
   * resolves once written, false when the guest has no control channel or QEMU is gone.
   */
  jumpClock(ms: number): Promise<boolean> {
    return this.control?.send({ do: "jump-clock", ms }) ?? Promise.resolve(false);
  }

  /** Kills QEMU at once: no flush, no goodbye (a power cut, or the end of the run). */
  kill(reason: "aborted" | "deadline" = "aborted"): void {
    this.vm.kill(reason);
  }

  /**
   * Stops QEMU for `ms` (SIGSTOP, then SIGCONT): the guest and its devices stand still
   * and nothing is flushed, unlike QMP `stop`, which flushes every disk.
   */
  pause(ms: number): Promise<void> {
    try {
      Deno.kill(this.vm.pid, "SIGSTOP");
    } catch {
      return Promise.resolve(); // QEMU is gone already
    }
    return new Promise((resolve) =>
      setTimeout(() => {
        try {
          Deno.kill(this.vm.pid, "SIGCONT");
        } catch { /* gone meanwhile */ }
        resolve();
      }, ms)
    );
  }

  private async follow(options: NodeBootOptions, consoleLog: string): Promise<BootEnd> {
    const watching = this.watchQmp(options);
    const exit = await this.vm.wait(options.limitMs);
    await watching;
    await this.control?.close();
    const text = await Deno.readTextFile(consoleLog).catch(() => "");
    return { exit, console: text.slice(-CONSOLE_TAIL) };
  }

  /** Follows QEMU's QMP events until QEMU is gone. */
  private async watchQmp(options: NodeBootOptions): Promise<void> {
    let qmp: QmpClient;
    try {
      qmp = await this.vm.qmp();
    } catch {
      return; // QEMU exited at once: its exit says why.
    }
    options.onQmp?.(qmp);
    try {
      for await (const event of qmp.events()) options.onQmpEvent?.(event);
    } finally {
      options.onQmp?.(null);
      await qmp.close();
    }
  }
}

/**
 * What a boot amounts to for the verdict: the exit code the guest reported, how
 * QEMU ended, and the guest's own setup error, if any.
 *
 * @throws {RunError} when QEMU failed by itself and the guest reported no exit.
 * @example
 * ```ts
 * const outcome = phaseOutcome(boot, await nodeBoot.ended, results.linesOf(boot));
 * ```
 */
export function phaseOutcome(
  boot: Boot,
  end: BootEnd,
  lines: readonly GuestLine[],
): PhaseOutcome {
  const exitLine = lines.findLast((l) => l.kind === "exit");
  const errorLine = lines.find((l) => l.kind === "error");
  const { exit } = end;
  if (exit.how === "exited" && exit.code !== 0 && !exitLine) {
    throw new RunError(
      `QEMU for ${boot.node} failed (exit ${exit.code}): ${
        exit.stderr.trim() || end.console.slice(-500)
      }`,
    );
  }
  return {
    node: boot.node,
    phase: boot.phase,
    exit: exitLine ? Number(exitLine.args[0]) : null,
    how: exit.how,
    error: errorLine ? errorLine.args.join(" ") : null,
    console: end.console,
    ms: exit.ms,
    started: lines.some((l) => l.kind === "phase" && l.args[0] === boot.phase),
    ready: lines.some((l) => l.kind === "ready"),
  };
}
