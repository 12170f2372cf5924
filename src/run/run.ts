/**
 * One run of a scenario, as its phases: prepare (guests, base disks, the fault
 * layer, the trace), run (every node boots and runs its workload, every disk
 * behind the fault layer), crash (on a power loss the VMs are killed at once
 * and the disks cut to their durable state), check (the nodes boot again on
 * the disks the run left behind and run their check), verdict. `record` is a
 * run without faults; `replay` adds a fault plan, or skips the run phase and
 * checks a crash state built from a trace.
 *
 * @module
 */

import { join } from "node:path";
import type { OpType } from "../block/backend.ts";
import { OpClock } from "../block/op_clock.ts";
import type { InjectedFault } from "../fault/engine.ts";
import type { FaultPlan } from "../fault/types.ts";
import { exportUri } from "../nbd/uri.ts";
import type { Scenario, ScenarioNode } from "../scenario/schema.ts";
import { DiskService, type ServiceEvent } from "../service/disk_service.ts";
import type { GuestLine } from "../trace/load.ts";
import { diskKey } from "../trace/ops.ts";
import type { OpRecord } from "../trace/schema.ts";
import type { StatsSummary } from "../trace/stats.ts";
import { makePrivateDir, type PrivateDir } from "../util/tempdir.ts";
import type { VmDisk } from "../vm/qemu_args.ts";
import { NodeBoot, phaseOutcome } from "./boot.ts";
import {
  type CrashSelection,
  type PowerLossVariant,
  selectCrashWrites,
  writeCrashImages,
} from "./crash_state.ts";
import { RunError, RunInterrupted } from "./errors.ts";
import { type Boot, GuestResults } from "./guest_results.ts";
import { durabilityOracle, type OracleResult } from "./oracle.ts";
import { type Prepared, prepareScenario } from "./prepare.ts";
import { NodeQmpProxy } from "./qmp_proxy.ts";
import { qemuVersion } from "./qemu_version.ts";
import { type OrderBreak, SequencedLayer, Sequencer } from "./strict_order.ts";
import { judge, type PhaseOutcome, type Verdict } from "./verdict.ts";

/** What a run reports while it goes, for the CLI's progress and --verbose. */
export type RunEvent =
  | { type: "step"; step: "prepare" | "run" | "crash" | "check" | "verdict"; detail?: string }
  | { type: "console"; node: string; phase: string; text: string }
  | { type: "guest"; line: GuestLine }
  | { type: "service"; event: ServiceEvent };

/** A crash state built from a trace: the check boots on it, without a run phase. */
export interface CrashFromTrace {
  /** The recorded op the power was cut at. */
  cutAt: number;
  /** The writes that survive. */
  selection: CrashSelection;
  /** The recording's guest lines (its acks), placed on the recording's op clock. */
  lines: GuestLine[];
}

/** Options of {@link runScenario}. */
export interface RunOptions {
  /** The scenario to run. */
  scenario: Scenario;
  /** Where to write the trace, and whether written bytes go in. */
  trace: { path: string; keepData: boolean };
  /** `record` or `replay`, as the trace's header says. */
  command: string;
  /** The faults to inject; none by default. */
  plan?: FaultPlan;
  /** More header fields (a replay's parent trace). */
  header?: Record<string, unknown>;
  /** The guests and disks, when the caller prepared (and checked) them already. */
  prepared?: Prepared;
  /** Judge the workload's exit code (off for runs with faults: what must hold then is the oracle and the check). */
  judgeWorkloadExit?: boolean;
  /** Check a crash state built from a trace instead of running the workload. */
  crash?: CrashFromTrace;
  /** Serve requests in this recording's order (until a fault fires), waiting at most `boundMs` for an op's turn. */
  strictOrder?: { recorded: readonly OpRecord[]; boundMs: number };
  /** Aborting kills the VMs at once and closes the trace. */
  signal?: AbortSignal;
  /** Hears the run's progress. */
  onEvent?: (event: RunEvent) => void;
  /**
   * QMP endpoints by node name: each proxies that node's QEMU and adds
   * `set-block-fault-state` and `query-block-fault-state` for its disks.
   */
  qmp?: ReadonlyMap<string, string>;
}

/** Milliseconds spent, from the start of the run. */
export interface RunTimings {
  /** Preparing guests, disks and the fault layer. */
  prepareMs: number;
  /** From the start to the first op of any disk (the guest's boot reading its disks). */
  firstOpMs: number | null;
  /** From the start to the first op after a workload started. */
  workloadFirstOpMs: number | null;
  /** The run phase. */
  runMs: number;
  /** The check phase. */
  checkMs: number;
  /** The whole run. */
  totalMs: number;
}

/** A power loss that happened in the run: where, and what survived. */
export interface PowerCut {
  /** The op index (of this run) the power was cut at. */
  at: number;
  /** Live (the fault layer froze at the op and QEMU was killed), or built from a recorded trace. */
  source: "live" | "trace";
  /** Writes that survived. */
  writesKept: number;
  /** Writes that were still volatile at the cut. */
  volatile: number;
  /** Volatile writes lost. */
  dropped: number;
  /** SHA-256 of each disk's crash image, by node/disk. */
  images: Record<string, string>;
  /** Equal keys mean byte-identical crash states. */
  key: string;
}

/** What a run found. */
export interface RunResult {
  /** The trace written. */
  trace: string;
  /** Whether what must hold held. */
  verdict: Verdict;
  /** Counts of the ops served. */
  stats: StatsSummary;
  /** Op counts by type (every disk, every phase). */
  ops: Record<OpType, number>;
  /** The durability oracle's counts, when the run acknowledged keys. */
  oracle: OracleResult | null;
  /** How each boot of each node went. */
  outcomes: PhaseOutcome[];
  /** Where the time went. */
  timings: RunTimings;
  /** The run's ops, without their data, in completion order. */
  records: OpRecord[];
  /** The faults injected, in order. */
  faults: InjectedFault[];
  /** Every guest line of the run (a crash state's: the recording's run lines, then the check's). */
  lines: GuestLine[];
  /** The power loss of the run, if there was one. */
  powerCut: PowerCut | null;
  /** With strict order: ops let through out of order, and the time ops waited for their turn. */
  order: { breaks: OrderBreak[]; waitedMs: number } | null;
}

/**
 * The export name of a disk: its name, or NODE-NAME when there are several nodes.
 *
 * @example
 * ```ts
 * exportNameOf(scenario, "db", "data"); // "data", or "db-data" in a cluster
 * ```
 */
export function exportNameOf(scenario: Scenario, node: string, disk: string): string {
  return scenario.nodes.length > 1 ? `${node}-${disk}` : disk;
}

/** The power-loss variant of a plan's power-loss rule, with the plan's seed. */
function powerLossVariant(plan: FaultPlan): PowerLossVariant {
  const effect = plan.rules.find((rule) => rule.effect.kind === "power-loss")?.effect;
  const kind = effect?.kind === "power-loss" ? effect.variant : "drop";
  return kind === "drop" ? { kind } : { kind, seed: plan.seed };
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
  const run = await Run.start(options);
  try {
    if (options.crash) await run.crash(options.crash.selection, "trace");
    else await run.runPhase();
    await run.checkPhase();
    return await run.finish();
  } catch (error) {
    throw await run.fail(error);
  }
}

/** The state of one run, and its phases as methods. */
class Run {
  private phase: "run" | "check" = "run";
  private readonly records: OpRecord[] = [];
  private readonly faults: InjectedFault[] = [];
  private readonly outcomes: PhaseOutcome[] = [];
  /** The QEMU of each node that runs now. */
  private readonly running = new Map<string, NodeBoot>();
  private readonly boots = new Map<string, number>();
  private readonly timings: RunTimings;
  private workloadStartedAt: number | null = null;
  /** The step each node's workload named last (`report step NAME`). */
  private readonly steps = new Map<string, string>();
  private powerCut: PowerCut | null = null;
  private closed = false;

  private constructor(
    private readonly options: RunOptions,
    private readonly prepared: Prepared,
    private readonly dir: PrivateDir,
    private readonly clock: OpClock,
    private readonly service: DiskService,
    private readonly results: GuestResults,
    private readonly proxies: Map<string, NodeQmpProxy>,
    private readonly sequencer: Sequencer | null,
    private readonly started: number,
  ) {
    this.timings = {
      prepareMs: this.since(),
      firstOpMs: null,
      workloadFirstOpMs: null,
      runMs: 0,
      checkMs: 0,
      totalMs: 0,
    };
  }

  /** The prepare phase: guests and base disks, the fault layer and the trace, the results channel. */
  static async start(options: RunOptions): Promise<Run> {
    const started = performance.now();
    options.onEvent?.({ type: "step", step: "prepare", detail: "guest image and base disks" });
    const prepared = options.prepared ?? await prepareScenario(options.scenario, options.signal);
    if (options.signal?.aborted) throw new RunInterrupted("interrupted");
    const dir = await makePrivateDir("faultline-run-");
    const cleanups: (() => Promise<void>)[] = [() => dir.remove()];
    try {
      const clock = new OpClock();
      const sequencer = options.strictOrder
        ? new Sequencer(options.strictOrder.recorded, { boundMs: options.strictOrder.boundMs })
        : null;
      let run: Run | null = null;
      const service = await startDiskService(options, prepared, dir.path, clock, sequencer, {
        phase: () => run?.phase,
        step: (node) => run?.steps.get(node),
        onRecord: (record) => run?.onRecord(record),
      });
      cleanups.push(() => service.close("failed to start"));
      const results = await GuestResults.start({
        path: join(dir.path, "results.sock"),
        clock,
        onLine: (line, text) => run?.onGuestLine(line, text),
      });
      cleanups.push(() => results.close());
      const proxies = await startProxies(options, service, cleanups);
      run = new Run(options, prepared, dir, clock, service, results, proxies, sequencer, started);
      run.listen();
      return run;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      throw error;
    }
  }

  /** The run phase: every node boots into its workload; a live power loss ends it. */
  async runPhase(): Promise<void> {
    const { scenario } = this.options;
    this.step("run", scenario.nodes.map((n) => n.name).join(", "));
    this.service.event("phase", { name: "run" });
    const runStarted = this.since();
    this.outcomes.push(...await Promise.all(scenario.nodes.map((node) => this.boot(node, "run"))));
    this.checkAbort();
    this.timings.runMs = this.since() - runStarted;
    const cutAt = this.service.powerCutAt;
    if (cutAt !== null) {
      const plan = this.options.plan ?? { seed: 0, rules: [] };
      await this.crash(selectCrashWrites(this.records, cutAt, powerLossVariant(plan)), "live");
    }
  }

  /** The crash: every disk is cut to a crash state, served from now on; the power comes back. */
  async crash(selection: CrashSelection, source: "live" | "trace"): Promise<void> {
    this.step("crash", `power lost at op ${selection.cutAt}`);
    const { scenario } = this.options;
    const bases = new Map(
      this.prepared.bases.map((base) => [diskKey(base.node, base.name), base.path]),
    );
    const images = await writeCrashImages(selection, bases, this.dir.path);
    await this.service.rebase(
      new Map(
        this.prepared.bases.map((base) => [
          exportNameOf(scenario, base.node, base.name),
          images.get(diskKey(base.node, base.name))!.path,
        ]),
      ),
    );
    this.powerCut = {
      at: selection.cutAt,
      source,
      writesKept: selection.writes.length,
      volatile: selection.volatileCount,
      dropped: selection.droppedCount,
      images: Object.fromEntries([...images].map(([key, image]) => [key, image.sha256])),
      key: selection.key,
    };
    this.service.event("crash", { ...this.powerCut });
  }

  /** The check phase: the nodes that declare a check boot again on the disks the run left. */
  async checkPhase(): Promise<void> {
    const checking = this.options.scenario.nodes.filter((node) => node.check !== null);
    if (checking.length === 0) return;
    this.phase = "check";
    this.step("check", checking.map((n) => n.name).join(", "));
    this.service.event("phase", { name: "check" });
    const checkStarted = this.since();
    this.outcomes.push(...await Promise.all(checking.map((node) => this.boot(node, "check"))));
    this.checkAbort();
    this.timings.checkMs = this.since() - checkStarted;
  }

  /** The verdict: judged, written into the trace's footer, and returned with what the run saw. */
  async finish(): Promise<RunResult> {
    this.step("verdict");
    const { scenario } = this.options;
    const lines = this.lines();
    const oracle = scenario.expect.noLostAcks || lines.some((l) => l.kind === "ack")
      ? durabilityOracle(lines, this.powerCut?.at)
      : null;
    const verdict = judge(scenario, this.outcomes, oracle, {
      judgeWorkloadExit: this.options.judgeWorkloadExit ?? true,
    });
    const stats = this.service.summary();
    await this.close("finished", {
      verdict,
      oracle,
      ...(this.powerCut ? { powerCut: this.powerCut } : {}),
    });
    return {
      trace: this.options.trace.path,
      verdict,
      stats,
      ops: Object.fromEntries(
        Object.entries(stats.byType).map(([type, c]) => [type, c.count]),
      ) as Record<OpType, number>,
      oracle,
      outcomes: this.outcomes,
      timings: { ...this.timings, totalMs: this.since() },
      records: this.records.map(({ data: _, ...rest }) => rest),
      faults: this.faults,
      lines,
      powerCut: this.powerCut,
      order: this.sequencer
        ? { breaks: this.sequencer.breaks, waitedMs: this.sequencer.waitedMs }
        : null,
    };
  }

  /** Ends a failed run: VMs killed, the trace closed with the reason. Returns the error to throw. */
  async fail(error: unknown): Promise<unknown> {
    const interrupted = this.options.signal?.aborted;
    await this.close(interrupted ? "interrupted" : `failed: ${(error as Error).message}`);
    return interrupted
      ? new RunInterrupted("interrupted; the trace keeps what was recorded")
      : error;
  }

  /** Boots one node for a phase and waits until it is done. */
  private async boot(node: ScenarioNode, phase: "run" | "check"): Promise<PhaseOutcome> {
    const { scenario, signal } = this.options;
    const boot: Boot = { node: node.name, phase, number: this.boots.get(node.name) ?? 0 };
    this.boots.set(node.name, boot.number + 1);
    const proxy = this.proxies.get(node.name);
    const nodeBoot = await NodeBoot.start({
      boot,
      guest: this.prepared.guests.get(node.name)!,
      memoryBytes: node.memoryBytes,
      disks: this.disksOf(node),
      results: this.results.diskFor(boot),
      dir: this.dir.path,
      limitMs: scenario.timeouts.bootMs +
        (phase === "run" ? scenario.timeouts.runMs : scenario.timeouts.checkMs),
      signal,
      onConsole: (text) => this.emit({ type: "console", node: node.name, phase, text }),
      onQmp: (qmp) => proxy?.follow(qmp),
      onQmpEvent: (event) => {
        this.service.event("qmp", { node: node.name, phase, name: event.event, data: event.data });
        proxy?.event(event);
      },
    });
    this.running.set(node.name, nodeBoot);
    try {
      const end = await nodeBoot.ended;
      this.service.event("console", { node: node.name, phase, tail: end.console });
      return phaseOutcome(boot, end, this.results.linesOf(boot));
    } finally {
      this.running.delete(node.name);
    }
  }

  /** A node's disks as QEMU attaches them: through the fault layer. */
  private disksOf(node: ScenarioNode): VmDisk[] {
    return node.disks.map((disk) => ({
      name: disk.name,
      uri: exportUri(
        this.service.address,
        exportNameOf(this.options.scenario, node.name, disk.name),
      ),
    }));
  }

  /** Every guest line: a crash state's recorded run lines, then this run's. */
  private lines(): GuestLine[] {
    return [...(this.options.crash?.lines ?? []), ...this.results.lines];
  }

  private listen(): void {
    this.service.onInjected((fault) => {
      this.faults.push(fault);
      this.sequencer?.release();
    });
    // A power cut: QMP `stop` or `quit` would make QEMU flush its disks, so the VMs are killed outright.
    this.service.onPowerCut((index) => {
      this.service.event("power-cut", { index });
      for (const boot of this.running.values()) boot.kill("aborted");
    });
  }

  private onRecord(record: OpRecord): void {
    this.records.push(record);
    this.timings.firstOpMs ??= this.since();
    if (
      this.timings.workloadFirstOpMs === null && this.workloadStartedAt !== null &&
      record.start >= this.workloadStartedAt
    ) this.timings.workloadFirstOpMs = this.since();
  }

  private onGuestLine(line: GuestLine, text: string): void {
    if (line.kind === "phase" && line.args[0] === "run") {
      this.workloadStartedAt ??= this.clock.now();
    }
    if (line.kind === "step") this.steps.set(line.node, line.args.join(" "));
    if (line.kind === "phase") this.steps.delete(line.node);
    this.service.event("guest", { node: line.node, phase: line.phase, line: text });
    this.emit({ type: "guest", line });
  }

  private async close(reason: string, footer: Record<string, unknown> = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const boot of this.running.values()) boot.kill();
    await Promise.all([...this.running.values()].map((boot) => boot.ended.catch(() => {})));
    for (const proxy of this.proxies.values()) await proxy.close();
    await this.results.close();
    try {
      await this.service.close(reason, footer);
    } finally {
      await this.dir.remove();
    }
  }

  private step(step: "run" | "crash" | "check" | "verdict", detail?: string): void {
    this.emit({ type: "step", step, ...(detail ? { detail } : {}) });
  }

  private emit(event: RunEvent): void {
    this.options.onEvent?.(event);
  }

  private checkAbort(): void {
    if (this.options.signal?.aborted) throw new RunInterrupted("interrupted");
  }

  private since(): number {
    return performance.now() - this.started;
  }
}

/** The fault layer of a run: every disk of every node, recording into the trace. */
async function startDiskService(
  options: RunOptions,
  prepared: Prepared,
  dir: string,
  clock: OpClock,
  sequencer: Sequencer | null,
  hooks: {
    phase: () => string | undefined;
    step: (node: string) => string | undefined;
    onRecord: (record: OpRecord) => void;
  },
): Promise<DiskService> {
  const { scenario } = options;
  const plan = options.plan ?? { seed: 0, rules: [] };
  // A live power loss builds its crash state from this run's own written bytes.
  const livePowerLoss = plan.rules.some((rule) => rule.effect.kind === "power-loss");
  return await DiskService.start({
    disks: prepared.bases.map((base) => ({
      name: base.name,
      node: base.node,
      exportName: exportNameOf(scenario, base.node, base.name),
      image: base.path,
      sha256: base.sha256,
    })),
    listen: { transport: "unix", path: join(dir, "nbd.sock") },
    plan,
    scratchDir: dir,
    clock,
    node: scenario.nodes[0].name,
    phase: hooks.phase,
    step: hooks.step,
    trace: {
      path: options.trace.path,
      keepData: options.trace.keepData || livePowerLoss,
      command: options.command,
      header: {
        scenario,
        guests: Object.fromEntries(
          [...prepared.guests].map(([node, guest]) => [node, {
            kernel: { version: guest.kernel.version, sha256: guest.kernel.sha256 },
            initramfs: guest.initramfs.sha256,
          }]),
        ),
        qemu: await qemuVersion(),
        ...options.header,
      },
    },
    onEvent: (event) => options.onEvent?.({ type: "service", event }),
    wrap: sequencer
      ? (stack, disk) => new SequencedLayer(stack, sequencer, { node: disk.node, disk: disk.name })
      : undefined,
    onRecord: hooks.onRecord,
  });
}

/** The `--qmp` endpoints of the nodes that asked for one. */
async function startProxies(
  options: RunOptions,
  service: DiskService,
  cleanups: (() => Promise<void>)[],
): Promise<Map<string, NodeQmpProxy>> {
  const proxies = new Map<string, NodeQmpProxy>();
  for (const [name, path] of options.qmp ?? []) {
    const node = options.scenario.nodes.find((n) => n.name === name);
    if (!node) {
      throw new RunError(
        `--qmp ${name}=${path}: the scenario has no node ${name} (its nodes: ${
          options.scenario.nodes.map((n) => n.name).join(", ")
        })`,
        { kind: "usage" },
      );
    }
    const proxy = await NodeQmpProxy.start({
      path,
      target: service,
      resolveDisk: (id) =>
        node.disks.some((disk) => disk.name === id)
          ? exportNameOf(options.scenario, name, id)
          : undefined,
    });
    cleanups.push(() => proxy.close());
    proxies.set(name, proxy);
  }
  return proxies;
}
