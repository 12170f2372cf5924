/**
 * One QEMU process: started from a {@link VmSpec} without a shell, its console
 * captured to a file (and shown live on request), its QMP reachable, waited
 * for with a deadline, and killed on abort, timeout or disposal, so that no
 * QEMU outlives the run that started it.
 *
 * @module
 */

import { QmpClient } from "../qmp/client.ts";
import { qemuArgs, type VmSpec } from "./qemu_args.ts";
import { FaultlineError } from "../util/errors.ts";
import { hostCommand, ToolMissingError } from "../util/host_command.ts";

/** The QEMU binary. */
export const QEMU = "qemu-system-x86_64";

/** QEMU could not be started, or its QMP could not be reached. */
export class VmError extends FaultlineError {}

/** How a VM ended. */
export interface VmExit {
  /** `exited`: QEMU ended by itself (the guest powered off); `deadline`: killed at the deadline; `aborted`: killed on request. */
  how: "exited" | "deadline" | "aborted";
  code: number;
  signal: Deno.Signal | null;
  /** Milliseconds from start to exit. */
  ms: number;
  /** What QEMU printed on stderr (its own errors). */
  stderr: string;
}

/** Options of {@link Vm.start}. */
export interface VmOptions {
  /** The console is appended to this file. */
  consoleLog: string;
  /** Called with console text as it arrives (for --verbose). */
  onConsole?: (text: string) => void;
  /** Kills QEMU when aborted. */
  signal?: AbortSignal;
}

/**
 * A running QEMU.
 *
 * @example
 * ```ts
 * await using vm = await Vm.start(spec, { consoleLog: `${dir}/console.log` });
 * const exit = await vm.wait(60_000);
 * ```
 */
export class Vm implements AsyncDisposable {
  private readonly started = performance.now();
  private readonly status: Promise<Deno.CommandStatus>;
  private readonly output: Promise<void>;
  private stderrText = "";
  private killedFor: "deadline" | "aborted" | null = null;
  private readonly onAbort = () => this.kill("aborted");

  private constructor(
    private readonly child: Deno.ChildProcess,
    readonly spec: VmSpec,
    private readonly options: VmOptions,
  ) {
    this.status = child.status;
    this.output = Promise.all([this.pumpConsole(), this.pumpStderr()]).then(() => {});
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /**
   * Starts QEMU.
   *
   * @throws {ToolMissingError} when the QEMU binary is missing; {VmError} when it cannot start.
   */
  static start(spec: VmSpec, options: VmOptions): Promise<Vm> {
    if (options.signal?.aborted) return Promise.reject(new VmError("aborted before QEMU started"));
    let child: Deno.ChildProcess;
    try {
      child = hostCommand(QEMU, {
        args: qemuArgs(spec),
        // A guest that holds (src/vm/snapshot.ts) reads its go-ahead from the console.
        stdin: spec.hold ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof ToolMissingError) throw error;
      throw new VmError(`cannot start ${QEMU}: ${error}`);
    }
    return Promise.resolve(new Vm(child, spec, options));
  }

  /** QEMU's process id. */
  get pid(): number {
    return this.child.pid;
  }

  /**
   * Connects to QEMU's QMP, retrying while the socket is not yet listening
   * (QEMU creates the file a moment before it listens).
   *
   * @throws {VmError} when QEMU exits first or the deadline passes.
   */
  async qmp(timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = performance.now() + timeoutMs;
    let last: unknown;
    while (performance.now() < deadline) {
      try {
        return await QmpClient.connect(this.spec.qmpSocket, {
          timeoutMs: Math.max(1, deadline - performance.now()),
        });
      } catch (error) {
        last = error;
        const exited = await Promise.race([
          this.status.then(() => true),
          sleep(10).then(() => false),
        ]);
        if (exited) {
          throw new VmError(`QEMU exited before its QMP answered: ${this.stderrText.trim()}`);
        }
      }
    }
    throw new VmError(
      `QEMU's QMP at ${this.spec.qmpSocket} did not answer within ${timeoutMs} ms: ${last}`,
    );
  }

  /** Waits for QEMU to exit; kills it when `deadlineMs` passes first. */
  async wait(deadlineMs: number): Promise<VmExit> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => timer = setTimeout(resolve, deadlineMs));
    try {
      const first = await Promise.race([
        this.status.then(() => "exited" as const),
        deadline.then(() => "deadline" as const),
      ]);
      if (first === "deadline") this.kill("deadline");
    } finally {
      clearTimeout(timer);
    }
    const status = await this.status;
    await this.output;
    this.options.signal?.removeEventListener("abort", this.onAbort);
    return {
      how: this.killedFor ?? "exited",
      code: status.code,
      signal: status.signal,
      ms: performance.now() - this.started,
      stderr: this.stderrText,
    };
  }

  /**
   * Lets a guest waiting at its hold point go on: a line on its console (QEMU's stdin).
   * QEMU reads it once the guest runs, so it may be sent before a saved state is loaded.
   */
  async release(): Promise<void> {
    if (!this.spec.hold) throw new VmError("this guest was not started with a hold point");
    const writer = this.child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode("go\n"));
    } finally {
      writer.releaseLock();
    }
  }

  /** Kills QEMU at once (SIGKILL: no flush, no goodbye). */
  kill(reason: "deadline" | "aborted" = "aborted"): void {
    this.killedFor ??= reason;
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await this.status;
    await this.output;
    this.options.signal?.removeEventListener("abort", this.onAbort);
  }

  private async pumpConsole(): Promise<void> {
    const file = await Deno.open(this.options.consoleLog, { create: true, append: true });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.child.stdout) {
        await file.write(chunk);
        this.options.onConsole?.(decoder.decode(chunk, { stream: true }));
      }
    } finally {
      file.close();
    }
  }

  private async pumpStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.child.stderr) {
      if (this.stderrText.length < 64 * 1024) {
        this.stderrText += decoder.decode(chunk, { stream: true });
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
