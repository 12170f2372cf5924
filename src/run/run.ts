/**
 * One run of a scenario, the phases of design.md: prepare (guest image, base
 * disks, fault layer, trace), run (the nodes boot and run their workload, with
 * every disk behind the fault layer), crash (on a power loss the VMs are
 * killed at once and the disks cut to their durable state), check (the nodes
 * boot again on the disks the run left behind and run their check), verdict.
 * `record` is a run without faults; `replay` adds a fault plan, or skips the
 * run phase and checks a crash state built from a trace.
 *
 * @module
 */

import { join } from "node:path";
import type { OpType } from "../block/backend.ts";
import { OpClock } from "../block/op_clock.ts";
import { ControlServer } from "../fault/control.ts";
import type { InjectedFault } from "../fault/engine.ts";
import type { FaultPlan } from "../fault/types.ts";
import { NbdServer } from "../nbd/server.ts";
import { exportUri } from "../nbd/uri.ts";
import type { QmpClient } from "../qmp/client.ts";
import { type CrashSelection, selectCrashWrites, writeCrashImages } from "../replay/crash_state.ts";
import { type OrderBreak, SequencedLayer, Sequencer } from "../replay/sequencer.ts";
import type { Scenario, ScenarioNode } from "../scenario/schema.ts";
import { DiskService, type ServiceEvent } from "../service/disk_service.ts";
import { diskKey } from "../trace/ops.ts";
import type { OpRecord } from "../trace/schema.ts";
import type { StatsSummary } from "../trace/stats.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { VERSION } from "../version.ts";
import { sha256File } from "../util/cache_dir.ts";
import { buildInitramfs } from "../vm/initramfs.ts";
import { type Busybox, ensureBusybox, ensureKernel, type Kernel } from "../vm/kernel.ts";
import { Vm } from "../vm/launcher.ts";
import type { VmDisk } from "../vm/qemu_args.ts";
import { type ResultLine, RESULTS_SERIAL, ResultsChannel } from "../vm/results.ts";
import { type BaseDisk, prepareBaseDisk } from "./base_disks.ts";
import { RunError, RunInterrupted } from "./errors.ts";
import { durabilityOracle, type GuestLine, type OracleResult } from "./oracle.ts";
import { qemuVersion } from "./qemu_version.ts";
import { VmQmpUpstream } from "./qmp_upstream.ts";
import { judge, type PhaseOutcome, type Verdict } from "./verdict.ts";

/** Fixed start of every guest's clock. */
const RTC_BASE = "2026-01-01T00:00:00";
/** Console text kept per boot in the trace and the result. */
const CONSOLE_TAIL = 8 * 1024;

/** What a run reports while it goes, for the CLI's progress and --verbose. */
export type RunEvent =
  | { type: "step"; step: "prepare" | "run" | "crash" | "check" | "verdict"; detail?: string }
  | { type: "console"; node: string; phase: string; text: string }
  | { type: "guest"; line: GuestLine }
  | { type: "service"; event: ServiceEvent };

/** What one node boots: a kernel and an initramfs, with their hashes. */
export interface NodeGuest {
  kernel: { path: string; version: string; sha256: string };
  initramfs: { path: string; sha256: string };
}

/** The guests and the base disks of a scenario, ready to boot. */
export interface Prepared {
  /** By node name. */
  guests: Map<string, NodeGuest>;
  bases: BaseDisk[];
}

/** A crash state built from a trace: the check boots on it, without a run phase. */
export interface CrashFromTrace {
  /** The recorded op the power was cut at. */
  cutAt: number;
  selection: CrashSelection;
  /** The recording's guest lines (its acks), placed on the recording's op clock. */
  lines: GuestLine[];
}

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
  /** The guest and disks, when the caller prepared (and checked) them already. */
  prepared?: Prepared;
  /** Judge the workload's exit code (off for runs with faults: what must hold then is the oracle and the check). */
  judgeWorkloadExit?: boolean;
  /** Check a crash state built from a trace instead of running the workload. */
  crash?: CrashFromTrace;
  /** Serve requests in this recording's order (until a fault fires), waiting at most `boundMs` for an op's turn. */
  strictOrder?: { recorded: readonly OpRecord[]; boundMs: number };
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

/** A power loss that happened in the run: where, and what survived. */
export interface PowerCut {
  /** The op index (of this run) the power was cut at. */
  at: number;
  /** Live (the fault layer froze at the op and QEMU was killed), or built from a recorded trace. */
  source: "live" | "trace";
  writesKept: number;
  volatile: number;
  dropped: number;
  /** SHA-256 of each disk's crash image, by node/disk. */
  images: Record<string, string>;
  /** Equal keys mean byte-identical crash states. */
  key: string;
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
  /** The run's ops, without their data, in completion order. */
  records: OpRecord[];
  /** The faults injected, in order. */
  faults: InjectedFault[];
  /** Every guest line of the run (a crash state's: the recording's run lines, then the check's). */
  lines: GuestLine[];
  powerCut: PowerCut | null;
  /** With strict order: ops let through out of order, and the time ops waited for their turn. */
  order: { breaks: OrderBreak[]; waitedMs: number } | null;
}

/**
 * Prepares a scenario's guest (kernel, one initramfs per node) and base disks.
 *
 * @example
 * ```ts
 * const prepared = await prepareScenario(scenario);
 * ```
 */
export async function prepareScenario(scenario: Scenario, signal?: AbortSignal): Promise<Prepared> {
  const bases = await Promise.all(
    scenario.nodes.flatMap((node) =>
      node.disks.map((disk) => prepareBaseDisk(scenario.name, node.name, disk))
    ),
  );
  const guests = new Map<string, NodeGuest>();
  let own: Promise<[Kernel, Busybox]> | null = null;
  for (const node of scenario.nodes) {
    const given = node.guest;
    if (given?.kernel) {
      // The user's own guest: taken as it is, named by its hashes.
      guests.set(node.name, {
        kernel: { path: given.kernel, version: "given", sha256: await sha256File(given.kernel) },
        initramfs: { path: given.initramfs, sha256: await sha256File(given.initramfs) },
      });
      continue;
    }
    own ??= Promise.all([ensureKernel({ signal }), ensureBusybox({ signal })]);
    const [kernel, busybox] = await own;
    const kernelFacts = { path: kernel.vmlinuz, version: kernel.version, sha256: kernel.sha256 };
    if (given) {
      guests.set(node.name, {
        kernel: kernelFacts,
        initramfs: { path: given.initramfs, sha256: await sha256File(given.initramfs) },
      });
      continue;
    }
    const phases: Record<string, string> = { run: node.workload };
    if (node.check !== null) phases.check = node.check;
    const image = await buildInitramfs({
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
    });
    guests.set(node.name, {
      kernel: kernelFacts,
      initramfs: { path: image.path, sha256: image.sha256 },
    });
  }
  return { guests, bases };
}

/** The export name of a disk: its name, or NODE-NAME when there are several nodes. */
export function exportNameOf(scenario: Scenario, node: string, disk: string): string {
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
  const prepared = options.prepared ?? await prepareScenario(scenario, signal);
  checkAbort();
  const prepareMs = since();

  await using dir = await makePrivateDir("faultline-run-");
  const clock = new OpClock();
  let phase: "run" | "check" = "run";
  let firstOpMs: number | null = null;
  let workloadStartedAt: number | null = null;
  let workloadFirstOpMs: number | null = null;
  const records: OpRecord[] = [];
  const plan = options.plan ?? { seed: 0, rules: [] };
  // A live power loss builds its crash state from this run's own written bytes.
  const livePowerLoss = plan.rules.some((rule) => rule.effect.kind === "power-loss");
  const sequencer = options.strictOrder
    ? new Sequencer(options.strictOrder.recorded, { boundMs: options.strictOrder.boundMs })
    : null;
  const service = await DiskService.start({
    disks: prepared.bases.map((base) => ({
      name: base.name,
      node: base.node,
      exportName: exportNameOf(scenario, base.node, base.name),
      image: base.path,
      sha256: base.sha256,
    })),

    listen: { transport: "unix", path: join(dir.path, "nbd.sock") },
    plan,
    scratchDir: dir.path,
    clock,
    node: scenario.nodes[0].name,
    phase: () => phase,
    trace: {
      path: options.trace.path,
      keepData: options.trace.keepData || livePowerLoss,
      command: options.command,
      header: {
        scenario,
        guests: Object.fromEntries(
          [...prepared.guests].map(([node, guest]) => [
            node,
            {
              kernel: { version: guest.kernel.version, sha256: guest.kernel.sha256 },
              initramfs: guest.initramfs.sha256,
            },
          ]),
        ),
        qemu: await qemuVersion(),
        ...options.header,
      },
    },
    onEvent: (event) => emit({ type: "service", event }),
    wrap: sequencer
      ? (stack, disk) => new SequencedLayer(stack, sequencer, { node: disk.node, disk: disk.name })
      : undefined,
    onRecord: (record) => {
      records.push(record);
      if (firstOpMs === null) firstOpMs = since();
      if (
        workloadFirstOpMs === null && workloadStartedAt !== null &&
        record.start >= workloadStartedAt
      ) {
        workloadFirstOpMs = since();
      }
    },
  });
  const faults: InjectedFault[] = [];
  service.engine.onInjected((fault) => {
    faults.push(fault);
    sequencer?.release();
  });

  const lines: GuestLine[] = [...(options.crash?.lines ?? [])];
  const vms = new Set<Vm>();
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
    for (const vm of vms) vm.kill();
    upstream.finish();
    await proxy?.close();
    await results?.close();
    await service.close(reason, footer);
  };

  // A power cut: QMP `stop` or `quit` would make QEMU flush its disks, so the VMs are killed outright.
  service.engine.onPowerCut((index) => {
    service.event("power-cut", { index });
    for (const vm of vms) vm.kill("aborted");
  });

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

    const boot = async (node: ScenarioNode, bootPhase: "run" | "check"): Promise<PhaseOutcome> => {
      const disks: VmDisk[] = node.disks.map((disk) => ({
        name: disk.name,
        uri: exportUri(service.server.address, exportNameOf(scenario, node.name, disk.name)),
      }));
      const consoleLog = join(dir.path, `${node.name}-${bootPhase}.console`);
      const vm = await Vm.start({
        kernel: prepared.guests.get(node.name)!.kernel.path,
        initrd: prepared.guests.get(node.name)!.initramfs.path,
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
      vms.add(vm);
      try {
        const limit = scenario.timeouts.bootMs +
          (bootPhase === "run" ? scenario.timeouts.runMs : scenario.timeouts.checkMs);
        const watching = watchQmp(vm, node.name, bootPhase);
        const exit = await vm.wait(limit);
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
      } finally {
        vms.delete(vm);
      }
    };

    let runMs = 0;
    let powerCut: PowerCut | null = null;
    /** Cuts the disks to a crash state and serves it for the check. */
    const crashTo = async (selection: CrashSelection, source: "live" | "trace") => {
      emit({ type: "step", step: "crash", detail: `power lost at op ${selection.cutAt}` });
      const bases = new Map(
        prepared.bases.map((base) => [diskKey(base.node, base.name), base.path]),
      );
      const images = await writeCrashImages(selection, bases, dir.path);
      await service.rebase(
        new Map(
          prepared.bases.map((base) => [
            exportNameOf(scenario, base.node, base.name),
            images.get(diskKey(base.node, base.name))!.path,
          ]),
        ),
      );
      powerCut = {
        at: selection.cutAt,
        source,
        writesKept: selection.writes.length,
        volatile: selection.volatileCount,
        dropped: selection.droppedCount,
        images: Object.fromEntries([...images].map(([key, image]) => [key, image.sha256])),
        key: selection.key,
      };
      service.event("crash", { ...powerCut });
    };

    if (options.crash) {
      await crashTo(options.crash.selection, "trace");
    } else {
      emit({ type: "step", step: "run", detail: scenario.nodes.map((n) => n.name).join(", ") });
      service.event("phase", { name: "run" });
      const runStarted = since();
      outcomes.push(...await Promise.all(scenario.nodes.map((node) => boot(node, "run"))));
      checkAbort();
      runMs = since() - runStarted;
      const cutAt = service.engine.powerCutAt;
      if (cutAt !== null) {
        const variant = plan.rules.find((rule) => rule.effect.kind === "power-loss")!.effect;
        const kind = variant.kind === "power-loss" ? variant.variant : "drop";
        await crashTo(
          selectCrashWrites(records, cutAt, kind === "drop" ? { kind } : { kind, seed: plan.seed }),
          "live",
        );
      }
    }

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
    const cut = (powerCut as PowerCut | null)?.at;
    const oracle = scenario.expect.noLostAcks || lines.some((l) => l.kind === "ack")
      ? durabilityOracle(lines, cut)
      : null;
    const verdict = judge(scenario, outcomes, oracle, {
      judgeWorkloadExit: options.judgeWorkloadExit ?? true,
    });
    const stats = service.stats.summary();
    await close("finished", { verdict, oracle, ...(powerCut ? { powerCut } : {}) });
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
      records: records.map(({ data: _, ...rest }) => rest),
      faults,
      lines,
      powerCut,
      order: sequencer ? { breaks: sequencer.breaks, waitedMs: sequencer.waitedMs } : null,
    };
  } catch (error) {
    const interrupted = signal?.aborted;
    await close(interrupted ? "interrupted" : `failed: ${(error as Error).message}`);
    if (interrupted) throw new RunInterrupted("interrupted; the trace keeps what was recorded");
    throw error;
  }
}
