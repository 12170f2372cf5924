/**
 * One run of a scenario, the phases of design.md: prepare (guest image, base
 * disks, fault layer, trace), run (the nodes boot and run their workload, with
 * every disk behind the fault layer), check (the nodes boot again on the disks
 * the run left behind and run their check), verdict. `record` is a run without
 * faults; `replay` adds a fault plan.
 *
 * @module
 */

import { join } from "node:path";
import type { OpType } from "../block/backend.ts";
import { OpClock } from "../block/op_clock.ts";
import type { FaultPlan } from "../fault/types.ts";
import { ControlServer } from "../fault/control.ts";
import { NbdServer } from "../nbd/server.ts";
import type { QmpClient } from "../qmp/client.ts";
import type { Scenario, ScenarioNode } from "../scenario/schema.ts";
import { DiskService, type ServiceEvent } from "../service/disk_service.ts";
import type { StatsSummary } from "../trace/stats.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { ensureBusybox, ensureKernel, type Kernel } from "../vm/kernel.ts";
import { buildInitramfs, type Initramfs } from "../vm/initramfs.ts";
import { Vm, type VmExit } from "../vm/launcher.ts";
import type { VmDisk } from "../vm/qemu_args.ts";
import { type ResultLine, RESULTS_SERIAL, ResultsChannel } from "../vm/results.ts";
import { exportUri } from "../nbd/uri.ts";
import { type BaseDisk, prepareBaseDisk } from "./base_disks.ts";
import { RunError, RunInterrupted } from "./errors.ts";
import { durabilityOracle, type GuestLine, type OracleResult } from "./oracle.ts";
import { VmQmpUpstream } from "./qmp_upstream.ts";
import { qemuVersion } from "./qemu_version.ts";
import { VERSION } from "../version.ts";
import { judge, type PhaseOutcome, type Verdict } from "./verdict.ts";

/** Fixed start of every guest's clock. */
const RTC_BASE = "2026-01-01T00:00:00";
/** Console text kept per boot in the trace and the result. */
const CONSOLE_TAIL = 8 * 1024;

/** What a run reports while it goes, for the CLI's progress and --verbose. */
export type RunEvent =
  | { type: "step"; step: "prepare" | "run" | "check" | "verdict"; detail?: string }
  | { type: "console"; node: string; phase: string; text: string }
  | { type: "guest"; line: GuestLine }
  | { type: "service"; event: ServiceEvent };

/** Options of {@link runScenario}. */
export interface RunOptions {
  scenario: Scenario;
  /** Where to write the trace, and whether written bytes go in. */
  trace: { path: string; keepData: boolean };
  /** `record` or `replay`, as the trace's header says. */
  command: string;
  plan?: FaultPlan;
  /** More header fields (a replay's parent trace). */
  header?: Record<string, unknown>;
  /** Aborting kills the VMs at once and closes the trace. */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /**
   * A unix socket path for a QMP endpoint that proxies the first node's QEMU and
   * adds `set-block-fault-state` and `query-block-fault-state` for its disks.
   */
  qmpProxy?: string;
}

/** Milliseconds spent, from the start of the run. */
export interface RunTimings {
  prepareMs: number;
  /** From the start to the first op of any disk (the guest's boot reading its disks). */
  firstOpMs: number | null;
  /** From the start to the first op after a workload started. */
  workloadFirstOpMs: number | null;
  runMs: number;
  checkMs: number;
  totalMs: number;
}

/** What a run found. */
export interface RunResult {
  trace: string;
  verdict: Verdict;
  stats: StatsSummary;
  /** Op counts by type (every disk, every phase). */
  ops: Record<OpType, number>;
  oracle: OracleResult | null;
  outcomes: PhaseOutcome[];
  timings: RunTimings;
}

/** The guest of every node: one kernel, one initramfs per node with its phases. */
interface Guest {
  kernel: Kernel;
  images: Map<string, Initramfs>;
}

async function prepareGuest(scenario: Scenario, signal?: AbortSignal): Promise<Guest> {
  const [kernel, busybox] = await Promise.all([
    ensureKernel({ signal }),
    ensureBusybox({ signal }),
  ]);
  const images = new Map<string, Initramfs>();
  for (const node of scenario.nodes) {
    const phases: Record<string, string> = { run: node.workload };
    if (node.check !== null) phases.check = node.check;
    images.set(
      node.name,
      await buildInitramfs({
        kernel,
        busybox,
        phases,
        disks: node.disks.map((disk) =>
          disk.mount
            ? {
              name: disk.name,
              mountpoint: disk.mount,
              fstype: disk.kind === "image" ? disk.fstype : disk.filesystem,
              ...(disk.mountOptions ? { options: disk.mountOptions } : {}),
            }
            : { name: disk.name }
        ),
        programs: node.programs,
        files: node.files.map((file) => ({ hostPath: file.host, guestPath: file.guest })),
        env: node.env,
        signal,
      }),
    );
  }
  return { kernel, images };
}

/** The export name of a disk: its name, or NODE-NAME when there are several nodes. */
function exportNameOf(scenario: Scenario, node: string, disk: string): string {
  return scenario.nodes.length > 1 ? `${node}-${disk}` : disk;
}

/**
 * Runs a scenario: prepares, runs, checks and judges, writing the trace as it
 * goes. The trace is closed (with a footer that holds the verdict) on every
 * path, and no QEMU is left behind.
 *
 * @throws {RunInterrupted} when `signal` aborts; {@link RunError} when the machinery fails.
 * @example
 * ```ts
 * const result = await runScenario({ scenario, trace: { path: "run.trace", keepData: true }, command: "record" });
 * console.log(result.verdict.reason);
 * ```
 */
export async function runScenario(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { scenario, signal } = options;
  const emit = options.onEvent ?? (() => {});
  const since = () => performance.now() - started;
  const checkAbort = () => {
    if (signal?.aborted) throw new RunInterrupted("interrupted");
  };

  emit({ type: "step", step: "prepare", detail: "guest image and base disks" });
  const [guest, bases] = await Promise.all([
    prepareGuest(scenario, signal),
    Promise.all(
      scenario.nodes.flatMap((node) =>
        node.disks.map((disk) => prepareBaseDisk(scenario.name, node.name, disk))
      ),
    ),
  ]);
  checkAbort();
  const prepareMs = since();

  await using dir = await makePrivateDir("faultline-run-");
  const clock = new OpClock();
  let phase: "run" | "check" = "run";
  let firstOpMs: number | null = null;
  let workloadStartedAt: number | null = null;
  let workloadFirstOpMs: number | null = null;
  const service = await DiskService.start({
    disks: bases.map((base: BaseDisk) => ({
      name: base.name,
      node: base.node,
      exportName: exportNameOf(scenario, base.node, base.name),
      image: base.path,
    })),
    listen: { transport: "unix", path: join(dir.path, "nbd.sock") },
    plan: options.plan ?? { seed: 0, rules: [] },
    scratchDir: dir.path,
    clock,
    node: scenario.nodes[0].name,
    phase: () => phase,
    trace: {
      path: options.trace.path,
      keepData: options.trace.keepData,
      command: options.command,
      header: {
        scenario,
        guest: {
          kernel: { version: guest.kernel.version, sha256: guest.kernel.sha256 },
          initramfs: Object.fromEntries(
            [...guest.images].map(([node, image]) => [node, image.sha256]),
          ),
        },
        qemu: await qemuVersion(),
        ...options.header,
      },
    },
    onEvent: (event) => emit({ type: "service", event }),
    onRecord: (record) => {
      if (firstOpMs === null) firstOpMs = since();
      if (
        workloadFirstOpMs === null && workloadStartedAt !== null &&
        record.start >= workloadStartedAt
      ) {
        workloadFirstOpMs = since();
      }
    },
  });

  const lines: GuestLine[] = [];
  let results: NbdServer | null = null;
  const proxied = scenario.nodes[0];
  const upstream = new VmQmpUpstream((id) =>
    proxied.disks.some((disk) => disk.name === id)
      ? exportNameOf(scenario, proxied.name, id)
      : undefined
  );
  const proxy = options.qmpProxy
    ? await ControlServer.start({
      path: options.qmpProxy,
      target: service,
      version: VERSION,
      upstream,
    })
    : null;
  const outcomes: PhaseOutcome[] = [];
  let closed = false;
  const close = async (reason: string, footer: Record<string, unknown> = {}) => {
    if (closed) return;
    closed = true;
    upstream.finish();
    await proxy?.close();
    await results?.close();
    await service.close(reason, footer);
  };

  try {
    // One results channel per boot: each boot's guest numbers its lines from 0.
    const channel = (node: string, bootPhase: "run" | "check") =>
      new ResultsChannel((line: ResultLine) => {
        const guestLine: GuestLine = {
          node,
          phase: bootPhase,
          kind: line.kind,
          args: line.args,
          at: clock.arrivals,
        };
        lines.push(guestLine);
        if (line.kind === "phase" && line.args[0] === "run" && workloadStartedAt === null) {
          workloadStartedAt = clock.now();
        }
        service.event("guest", { node, phase: bootPhase, line: line.text });
        emit({ type: "guest", line: guestLine });
      });
    results = await NbdServer.start({
      exports: scenario.nodes.flatMap((node) =>
        (["run", "check"] as const).map((bootPhase) => ({
          name: `${node.name}-${bootPhase}`,
          backend: channel(node.name, bootPhase),
        }))
      ),
      listen: { transport: "unix", path: join(dir.path, "results.sock") },
      // Results lines are not ops: they get no index of their own.
      clock: new OpClock(),
    });
    const resultsAddress = results.address;

    const boot = async (node: ScenarioNode, bootPhase: "run" | "check"): Promise<PhaseOutcome> => {
      const disks: VmDisk[] = node.disks.map((disk) => ({
        name: disk.name,
        uri: exportUri(service.server.address, exportNameOf(scenario, node.name, disk.name)),
      }));
      const consoleLog = join(dir.path, `${node.name}-${bootPhase}.console`);
      const vm = await Vm.start({
        kernel: guest.kernel.vmlinuz,
        initrd: guest.images.get(node.name)!.path,
        phase: bootPhase,
        memoryBytes: node.memoryBytes,
        disks,
        results: {
          name: RESULTS_SERIAL,
          uri: exportUri(resultsAddress, `${node.name}-${bootPhase}`),
        },
        qmpSocket: join(dir.path, `${node.name}-${bootPhase}.qmp`),
        rtcBase: RTC_BASE,
      }, {
        consoleLog,
        signal,
        onConsole: (text) => emit({ type: "console", node: node.name, phase: bootPhase, text }),
      });
      const limit = scenario.timeouts.bootMs +
        (bootPhase === "run" ? scenario.timeouts.runMs : scenario.timeouts.checkMs);
      const watching = watchQmp(vm, node.name, bootPhase);
      const exit: VmExit = await vm.wait(limit);
      await watching;
      const consoleText = await Deno.readTextFile(consoleLog).catch(() => "");
      const mine = lines.filter((l) => l.node === node.name && l.phase === bootPhase);
      const exitLine = mine.findLast((l) => l.kind === "exit");
      const errorLine = mine.find((l) => l.kind === "error");
      service.event("console", {
        node: node.name,
        phase: bootPhase,
        tail: consoleText.slice(-CONSOLE_TAIL),
      });
      if (exit.how === "exited" && exit.code !== 0 && !exitLine) {
        throw new RunError(
          `QEMU for ${node.name} failed (exit ${exit.code}): ${
            exit.stderr.trim() || consoleText.slice(-500)
          }`,
        );
      }
      return {
        node: node.name,
        phase: bootPhase,
        exit: exitLine ? Number(exitLine.args[0]) : null,
        how: exit.how,
        error: errorLine ? errorLine.args.join(" ") : null,
        console: consoleText.slice(-CONSOLE_TAIL),
        ms: exit.ms,
      };
    };

    /** Records the VM's QMP events in the trace, and serves the proxy while the VM runs. */
    const watchQmp = async (vm: Vm, node: string, bootPhase: string): Promise<void> => {
      let qmp: QmpClient;
      try {
        qmp = await vm.qmp();
      } catch {
        return; // QEMU exited at once: its exit says why.
      }
      if (node === proxied.name) upstream.attach(qmp);
      try {
        for await (const event of qmp.events()) {
          service.event("qmp", { node, phase: bootPhase, name: event.event, data: event.data });
          if (node === proxied.name) {
            proxy?.broadcast({ event: event.event, data: event.data, timestamp: event.timestamp });
          }
        }
      } finally {
        if (node === proxied.name) {
          upstream.detach();
          proxy?.disconnectClients();
        }
        await qmp.close();
      }
    };

    emit({ type: "step", step: "run", detail: scenario.nodes.map((n) => n.name).join(", ") });
    service.event("phase", { name: "run" });
    const runStarted = since();
    outcomes.push(...await Promise.all(scenario.nodes.map((node) => boot(node, "run"))));
    checkAbort();
    const runMs = since() - runStarted;

    const checking = scenario.nodes.filter((node) => node.check !== null);
    let checkMs = 0;
    if (checking.length > 0) {
      phase = "check";
      emit({ type: "step", step: "check", detail: checking.map((n) => n.name).join(", ") });
      service.event("phase", { name: "check" });
      const checkStarted = since();
      outcomes.push(...await Promise.all(checking.map((node) => boot(node, "check"))));
      checkAbort();
      checkMs = since() - checkStarted;
    }

    emit({ type: "step", step: "verdict" });
    const oracle = scenario.expect.noLostAcks || lines.some((l) => l.kind === "ack")
      ? durabilityOracle(lines)
      : null;
    const verdict = judge(scenario, outcomes, oracle);
    const stats = service.stats.summary();
    await close("finished", { verdict, oracle });
    return {
      trace: options.trace.path,
      verdict,
      stats,
      ops: Object.fromEntries(
        Object.entries(stats.byType).map(([type, c]) => [type, c.count]),
      ) as Record<
        OpType,
        number
      >,
      oracle,
      outcomes,
      timings: { prepareMs, firstOpMs, workloadFirstOpMs, runMs, checkMs, totalMs: since() },
    };
  } catch (error) {
    const interrupted = signal?.aborted;
    await close(interrupted ? "interrupted" : `failed: ${(error as Error).message}`);
    if (interrupted) throw new RunInterrupted("interrupted; the trace keeps what was recorded");
    throw error;
  }
}
