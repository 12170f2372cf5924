/**
 * One run of a scenario, as its phases: prepare (guests, base disks, or the disks
 * the scenario's setup phase left, the fault layer, the trace), run (every node boots and runs its workload, every disk
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
import type { CrashVariant } from "../fault/kinds/kind.ts";
import { kindOf } from "../fault/kinds/mod.ts";
import { endsWithRun } from "../fault/standing.ts";
import type { FaultPlan } from "../fault/types.ts";
import { exportUri } from "../nbd/uri.ts";
import { ControlChannel } from "../vm/control.ts";
import type { Scenario, ScenarioNode } from "../scenario/schema.ts";
import {
  checkRecovery,
  type Recovery,
  type RecoveryOrder,
  runOrder,
} from "../scenario/recovery.ts";
import { frameFacts, type LinkFrame } from "../net/link_plan.ts";
import type { NetEvent, NetSwitch } from "../net/switch.ts";
import type { DiskService, ServiceEvent } from "../service/disk_service.ts";
import type { GuestLine } from "../trace/load.ts";
import { diskKey } from "../trace/ops.ts";
import type { EventRecord, FrameRecord, OpRecord } from "../trace/schema.ts";
import type { StatsSummary } from "../trace/stats.ts";
import { makePrivateDir, type PrivateDir } from "../util/tempdir.ts";
import { type AccelChoice, TCG } from "../vm/accel.ts";
import { guessedGeometry, type VmDisk } from "../vm/qemu_args.ts";
import { type GuestState, saveGuestState } from "../vm/snapshot.ts";
import { NodeBoot, phaseOutcome, RTC_BASE, rtcBaseOf } from "./boot.ts";
import { type CrashSelection, selectCrashWrites, writeCrashImages } from "./crash_state.ts";
import { RunError, RunInterrupted } from "./errors.ts";
import { type Boot, GuestResults } from "./guest_results.ts";
import { HeldCalls } from "./held_calls.ts";
import {
  checkRunHistory,
  HISTORY_EVENTS,
  type HistoryVerdict,
  linesAsEvents,
  type RunHistory,
  runHistory,
} from "./history.ts";
import { type OracleResult, runOracle } from "./oracle.ts";
import { type GuestPinning, pinGuests, pinnedBoot, settleClock } from "./pinning.ts";
import { guestImages, type Prepared, prepareScenario } from "./prepare.ts";
import { applySetup } from "./setup_phase.ts";
import {
  type BootRule,
  bootRulesAt,
  bootRulesOf,
  type Firing,
  NodeFaultWatcher,
  type NodeRule,
  nodeRulesOf,
} from "./node_faults.ts";
import type { NodeQmpProxy } from "./qmp_proxy.ts";
import {
  diskExportName,
  type ServiceHooks,
  startDiskService,
  startNetwork,
  startProxies,
} from "./services.ts";
import { type Served, servedWithin, startInOrder } from "./recovery.ts";
import { type OrderBreak, Sequencer } from "./strict_order.ts";
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
  /**
   * Each guest's seed and the guests' clock (src/run/pinning.ts). By default every node is
   * seeded from the plan's seed (0 without a plan), on the host's clock; a replay boots with
   * its recording's.
   * @ignore faultline's own: not part of the public API
   */
  pinning?: GuestPinning;
  /**
   * The accelerator every boot gets, chosen once (src/vm/accel.ts `chooseAccel`); TCG when
   * absent. The trace's header records it.
   */
  accel?: AccelChoice;
  /**
   * More header fields (a replay's parent trace).
   * @ignore faultline's own: not part of the public API
   */
  header?: Record<string, unknown>;
  /**
   * The guests and disks, when the caller prepared (and checked) them already.
   * @ignore faultline's own: not part of the public API
   */
  prepared?: Prepared;
  /**
   * Judge the workload's exit code (off for runs with faults: what must hold then is the oracle and the check).
   * @ignore faultline's own: not part of the public API
   */
  judgeWorkloadExit?: boolean;
  /**
   * Check a crash state built from a trace instead of running the workload.
   * @ignore faultline's own: not part of the public API
   */
  crash?: CrashFromTrace;
  /**
   * Serve requests in this recording's order (until a fault fires), waiting at most `boundMs` for an op's turn.
   * @ignore faultline's own: not part of the public API
   */
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
  /** A control socket for the run: the fault commands (block and link), without QEMU's. */
  control?: string;
  /**
   * How the check phase starts the nodes serving the checks (src/scenario/recovery.ts):
   * `together`, `with-checks`, `in-order`, or an explicit order of them; the scenario's
   * `recovery` by default. A single run of `each-order` checks its first order, the node order.
   */
  recovery?: Recovery;
  /**
   * Saved check guests by node (src/run/warm.ts): those nodes' checks start from them
   * instead of booting; the trace's header names each state.
   * @ignore faultline's own: not part of the public API
   */
  warmChecks?: ReadonlyMap<string, GuestState>;
  /**
   * Resume the run phase from a run saved at its workload's start (src/run/warm.ts): the
   * node starts from the saved guest instead of booting, the clock and the results go on
   * from the saved moment, and the saved ops and lines come first in the result.
   * @ignore faultline's own: not part of the public API
   */
  resume?: ResumeFrom;
}

/** A run saved at its workload's start, to resume from ({@link saveRunAtHold}). */
export interface ResumeFrom {
  /**
   * Each node's guest, by node, saved at its hold before the phase script
   * (`faultline.hold=phase`): every node of the scenario.
   */
  states: Record<string, GuestState>;
  /**
   * The ops before the saved moment, each node's up to its hold, with the indices they had
   * (they come first in the result).
   */
  records: OpRecord[];
  /**
   * How many ops each node served before its hold: the first ones of the node in the
   * recording, and reads its kernel made by itself that the recording's made after its start.
   */
  opsBefore: Record<string, number>;
  /** The guests' lines before the saved moment (`phase boot`, `phase mounted`). */
  lines: GuestLine[];
  /**
   * How many arrivals (ops, and a cluster's frames) came before the saved moment, the last
   * node's hold: the resumed run's first arrival takes this index.
   */
  clockStart: number;
  /** Writes of any node that were volatile at its hold (the resumed disks hold them as stored). */
  volatileAtHold: number;
  /** A cluster's network up to the saved moment (what crossed its switch), when it has one. */
  network?: SavedNetwork;
}

/** What crossed a cluster's switch before its run was saved. */
export interface SavedNetwork {
  /** Frames before the saved moment (a booting guest's IPv6 multicasts, ARP). */
  frames: number;
  /**
   * TCP frames before the saved moment, each as `n1 192.0.2.10:40000 > 192.0.2.11:7000
   * [syn]`: a connection open across the saved moment would not survive it (none should be,
   * as no workload has started).
   */
  tcp: string[];
}

/** What {@link saveRunAtHold} saved: the resumable run, and every op the save saw. */
export interface SavedRun extends ResumeFrom {
  /** Every op of the saving run with its data, those after the holds included (the saves' flushes). */
  allRecords: OpRecord[];
  /** The arrivals each node's hold came at. */
  holds: Record<string, number>;
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
  /** The clients' history checked, when the scenario expects one (`expect.history`). */
  history: HistoryVerdict | null;
  /**
   * The history that was checked, when the check found a counterexample (to draw it).
   * @ignore faultline's own: not part of the public API
   */
  checkedHistory?: RunHistory;
  /** How each boot of each node went. */
  outcomes: PhaseOutcome[];
  /** Where the time went. */
  timings: RunTimings;
  /** The accelerator every boot ran on, and why (the trace's header has it too). */
  accel: AccelChoice;
  /** The run's ops, without their data, in completion order. */
  records: OpRecord[];
  /**
   * The block faults injected, in order.
   * @ignore faultline's own: not part of the public API
   */
  faults: InjectedFault[];
  /**
   * The link and node faults of the plan that fired: each rule once, at the index it first hit.
   * @ignore faultline's own: not part of the public API
   */
  firings: { rule: string; index: number }[];
  /** The rules of the plan, of every family, that never fired (their op, frame or time never came). */
  notFired: string[];
  /** Every guest line of the run (a crash state's: the recording's run lines, then the check's). */
  lines: GuestLine[];
  /** The power loss of the run, if there was one. */
  powerCut: PowerCut | null;
  /**
   * How the check phase started the nodes serving its checks: the order asked for and the
   * order they started in (`order` null: together, every serving node at once); null when
   * no check phase ran.
   */
  recovery: RecoveryOrder & { serving: string[] } | null;
  /**
   * With strict order: ops let through out of order, and the time ops waited for their turn.
   * @ignore faultline's own: not part of the public API
   */
  order: { breaks: OrderBreak[]; waitedMs: number } | null;
}

/** The crash state a live power cut leaves: its rule's one variant, with the plan's seed. */
function powerLossVariant(plan: FaultPlan): CrashVariant {
  for (const rule of plan.rules) {
    const variant = kindOf(rule.effect).fromTrace?.variant(rule.effect, plan.seed);
    if (variant) return variant;
  }
  return { kind: "drop" };
}

/** What a crash left, as its trace event and the result's power cut say it. */
function crashFacts(
  selection: CrashSelection,
  images: ReadonlyMap<string, { sha256: string }>,
): Omit<PowerCut, "source"> {
  return {
    at: selection.cutAt,
    writesKept: selection.writes.length,
    volatile: selection.volatileCount,
    dropped: selection.droppedCount,
    images: Object.fromEntries([...images].map(([key, image]) => [key, image.sha256])),
    key: selection.key,
  };
}

/** What crossed the switch before a cluster's saved moment: frames, and every TCP frame. */
function savedNetwork(frames: readonly FrameRecord[], clockStart: number): SavedNetwork {
  const before = frames.filter((frame) => frame.index < clockStart);
  return {
    frames: before.length,
    tcp: before.filter((frame) => frame.tcpFlags !== undefined).map((frame) =>
      `${frame.from} ${frame.srcIp}:${frame.srcPort} > ${frame.dstIp}:${frame.dstPort} [${frame.tcpFlags}]`
    ),
  };
}

/** How long a node's QEMU may take to join the switch after it started. */
const CONNECT_TIMEOUT_MS = 15_000;

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

/**
 * Saves a run at its workload's start: every node boots (its disks behind the fault layer,
 * recording; a cluster's NICs on the run's switch), mounts its disks and holds before the
 * workload (`faultline.hold=phase`); each guest is saved as it reaches its hold, and the run
 * ends once every node is saved. What it returns resumes the run from that moment
 * ({@link RunOptions.resume}).
 *
 * @throws {VmError} when a guest does not reach its hold; {@link RunError} when a node never joined the switch.
 * @example
 * ```ts
 * const saved = await saveRunAtHold({ scenario, trace, command: "save", prepared }, { dir });
 * ```
 */
export async function saveRunAtHold(
  options: RunOptions,
  save: { dir: string; memoryDir?: string },
): Promise<SavedRun> {
  const run = await Run.start(options);
  try {
    const saved = await run.saveAtHold(save);
    await run.close("saved at the workload's start");
    return saved;
  } catch (error) {
    throw await run.fail(error);
  }
}

/**
 * Prepares a scenario for a run: its guests and base disks (`prepareScenario`), and when
 * nodes have a setup phase, the disks it leaves as their base images (run once, then found
 * in the cache: `setup_phase.ts`).
 *
 * @example
 * ```ts
 * const prepared = await prepareRun(scenario);
 * prepared.setup?.nodes; // ["db"]
 * ```
 */
export async function prepareRun(
  scenario: Scenario,
  options: { signal?: AbortSignal; onEvent?: (event: RunEvent) => void; accel?: AccelChoice } = {},
): Promise<Prepared> {
  const prepared = await prepareScenario(scenario, options.signal);
  return await applySetup(scenario, prepared, {
    run: runScenario,
    ...(options.accel ? { accel: options.accel } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
}

/** What a run is made of once prepared: the guests, the services, the clock. */
interface RunParts {
  prepared: Prepared;
  dir: PrivateDir;
  clock: OpClock;
  service: DiskService;
  net: NetSwitch | null;
  results: GuestResults;
  proxies: Map<string, NodeQmpProxy>;
  sequencer: Sequencer | null;
  watcher: NodeFaultWatcher | null;
  /** The plan's faults set at a node's boot (clock skews). */
  bootRules: BootRule[];
  /** Each node's seed and the guests' clock. */
  pinning: GuestPinning;
  started: number;
}

/**
 * Refuses a clock jump on a node whose guest reads no control channel: faultline's guest of
 * a node of a cluster reads one; a node's own guest image does not.
 *
 * @throws {RunError} (a usage error) naming the fault and the node.
 */
function checkClockJumps(rules: readonly NodeRule[], prepared: Prepared): void {
  for (const rule of rules) {
    if (rule.action.do !== "jump-clock" || prepared.guests.get(rule.node)?.control) continue;
    throw new RunError(
      `fault "${rule.spec}": the guest of ${rule.node} reads no control channel to jump its clock by (faultline's guest of a node of a cluster does; a node's own guest image does not)`,
      { kind: "usage" },
    );
  }
}

class Run {
  private phase: "run" | "check" = "run";
  private readonly records: OpRecord[] = [];
  /** The trace events a history is made of (src/run/history.ts), in the order written. */
  private readonly historyEvents: EventRecord[] = [];
  private readonly faults: InjectedFault[] = [];
  private readonly firings = new Map<string, number>();
  private readonly outcomes: PhaseOutcome[] = [];
  /** The QEMU of each node that runs now. */
  private readonly running = new Map<string, NodeBoot>();
  private readonly boots = new Map<string, number>();
  private readonly timings: RunTimings;
  private workloadStartedAt: number | null = null;
  /** The step each node's workload named last (`report step NAME`). */
  private readonly steps = new Map<string, string>();
  /** The clients' history as last checked (a counterexample is drawn from it). */
  private checkedHistory: RunHistory | undefined;
  /** Each disk's base now (node/disk): the prepared image, or the crash image of its node's last crash. */
  private readonly bases: Map<string, string>;
  /** The op each crashed node lost power at, last. */
  private readonly lastCut = new Map<string, number>();
  /** A node's crash being carried out (its disks cut and served again). */
  private readonly crashing = new Map<string, Promise<void>>();
  /** Nodes to boot again when their current boot ends: resolves when they may. */
  private readonly restarts = new Map<string, Promise<void>>();
  /** Nodes whose power is off after a crash, until they boot again. */
  private readonly down = new Set<string>();
  /** The run phase is ending (its client finished): no node boots again. */
  private stopping = false;
  private powerCut: PowerCut | null = null;
  private recovery: RecoveryOrder & { serving: string[] } | null = null;
  /** Hear every guest line after the run has taken it in ({@link serving}). */
  private readonly lineListeners = new Set<() => void>();
  private crashCount = 0;
  private closed = false;

  private constructor(private readonly options: RunOptions, private readonly parts: RunParts) {
    this.timings = {
      prepareMs: this.since(),
      firstOpMs: null,
      workloadFirstOpMs: null,
      runMs: 0,
      checkMs: 0,
      totalMs: 0,
    };
    this.bases = new Map(
      parts.prepared.bases.map((base) => [diskKey(base.node, base.name), base.path]),
    );
  }

  /**
   * Hands each op's arrival to what a plan's node and link faults are triggered by: the node
   * faults' watcher (returned, or null without node faults) and, for a link fault put at a
   * block op (`partition:n1|n2@40`), the switch.
   */
  private static watchArrivals(
    plan: FaultPlan,
    parts: {
      prepared: Prepared;
      service: Awaited<ReturnType<typeof startDiskService>>;
      net: Awaited<ReturnType<typeof startNetwork>>;
    },
    toRun: HeldCalls<Run>,
  ): NodeFaultWatcher | null {
    const { prepared, service, net } = parts;
    const rules = nodeRulesOf(plan);
    checkClockJumps(rules, prepared);
    const watcher = rules.length > 0
      ? new NodeFaultWatcher(rules, (firing) => toRun.call((run) => run.onNodeFault(firing)))
      : null;
    if (watcher) service.onArrival((op) => watcher.arrive({ kind: "op", op }));
    if (net && plan.rules.some((rule) => kindOf(rule.effect).link)) {
      service.onArrival((op) => net.arriveOp(op));
    }
    return watcher;
  }

  /** The state of one run, and its phases as methods. */

  /**
   * The options every boot and the trace's header take: the guests' clock settled on the
   * accelerator before anything is prepared (a usage error for icount on an asked-for KVM),
   * the recovery order checked against the scenario.
   */
  private static settled(asked: RunOptions): RunOptions & { pinning: GuestPinning } {
    const { pinning, accel } = settleClock(
      asked.pinning ?? pinGuests(asked.scenario, asked.plan?.seed ?? 0),
      asked.accel ?? TCG,
    );
    if (asked.recovery !== undefined) checkRecovery(asked.recovery, asked.scenario);
    return { ...asked, pinning, accel };
  }

  /** The prepare phase: guests and base disks, the switch, the fault layer and the trace, the results channel. */
  static async start(asked: RunOptions): Promise<Run> {
    const started = performance.now();
    const options = Run.settled(asked);
    const { pinning } = options;
    options.onEvent?.({ type: "step", step: "prepare", detail: "guest image and base disks" });
    const prepared = options.prepared ??
      await prepareRun(options.scenario, {
        signal: options.signal,
        onEvent: options.onEvent,
        ...(asked.accel ? { accel: asked.accel } : {}),
      });
    if (options.signal?.aborted) throw new RunInterrupted("interrupted");
    const dir = await makePrivateDir("faultline-run-");
    const cleanups: (() => Promise<void>)[] = [() => dir.remove()];
    try {
      const clock = new OpClock(options.resume?.clockStart ?? 0);
      // The services report from their start, before the run exists: nothing is dropped.
      const toRun = new HeldCalls<Run>();
      const hooks: ServiceHooks = {
        phase: () => toRun.target?.phase,
        step: (node) => toRun.target?.steps.get(node),
        onRecord: (record) => toRun.call((run) => run.onRecord(record)),
        onEventRecord: (record) => toRun.call((run) => run.onEventRecord(record)),
        // Before the run exists no node has lost power: every frame passes.
        gate: (frame) => toRun.ask((run) => run.onFrame(frame), true),
        onNetEvent: (event) => toRun.call((run) => run.onNetEvent(event)),
      };
      const net = await startNetwork(options, clock, hooks);
      if (net) cleanups.push(() => net.close());
      const sequencer = options.strictOrder
        ? new Sequencer(options.strictOrder.recorded, { boundMs: options.strictOrder.boundMs })
        : null;
      const plan = options.plan ?? { seed: 0, rules: [] };
      const service = await startDiskService(
        options,
        { prepared, dir: dir.path, clock, sequencer, net, pinning },
        hooks,
      );
      cleanups.push(() => service.close("failed to start"));
      service.onInjected((fault) => toRun.call((run) => run.onInjected(fault)));
      service.onPowerCut((index) => toRun.call((run) => run.onPowerCut(index)));
      if (net) {
        net.addSink((record) => service.append(record));
        net.addSink((record) => toRun.call((run) => run.onFrameRecord(record)));
        service.attachNetwork(net);
      }
      const results = await GuestResults.start({
        path: join(dir.path, "results.sock"),
        clock,
        onLine: (line, text) => toRun.call((run) => run.onGuestLine(line, text)),
      });
      cleanups.push(() => results.close());
      const proxies = await startProxies(options, service, cleanups);
      const watcher = Run.watchArrivals(plan, { prepared, service, net }, toRun);
      const run = new Run(options, {
        prepared,
        dir,
        clock,
        service,
        net,
        results,
        proxies,
        sequencer,
        watcher,
        bootRules: bootRulesOf(plan),
        pinning,
        started,
      });
      toRun.release(run);
      return run;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      throw error;
    }
  }

  /**
   * The run phase: every node boots into its workload (and again after a crash it is
   * restarted from); it ends when every node's workload has ended, or its client's.
   * A live power loss of the whole cluster ends it at once.
   */
  async runPhase(): Promise<void> {
    const { scenario } = this.options;
    this.step("run", scenario.nodes.map((n) => n.name).join(", "));
    this.parts.service.event("phase", { name: "run" });
    const runStarted = this.since();
    this.parts.watcher?.startTimers(this.parts.clock);
    const loops = scenario.nodes.map((node) => this.runNode(node));
    const client = scenario.nodes.findIndex((node) => node.name === scenario.client);
    if (client >= 0) {
      await loops[client];
      this.stopping = true;
      for (const boot of this.running.values()) boot.kill("aborted");
    }
    for (const outcomes of await Promise.all(loops)) this.outcomes.push(...outcomes);
    this.parts.watcher?.stop();
    await Promise.all(this.crashing.values());
    this.checkAbort();
    this.timings.runMs = this.since() - runStarted;
    const cutAt = this.parts.service.powerCutAt;
    if (cutAt !== null) {
      const plan = this.options.plan ?? { seed: 0, rules: [] };
      await this.crash(
        selectCrashWrites(this.recordsSinceCuts(), cutAt, powerLossVariant(plan)),
        "live",
      );
    }
  }

  /** One node through the run phase: its workload, and a boot again each time it is restarted. */
  private async runNode(node: ScenarioNode): Promise<PhaseOutcome[]> {
    const outcomes: PhaseOutcome[] = [];
    let phase: Boot["phase"] = "run";
    for (;;) {
      outcomes.push(await this.boot(node, phase));
      const restart = this.restarts.get(node.name);
      if (!restart || this.stopping) return outcomes;
      this.restarts.delete(node.name);
      await restart;
      if (this.stopping || this.options.signal?.aborted) return outcomes;
      phase = node.restart !== null ? "restart" : "run";
    }
  }

  /** The crash: every disk is cut to a crash state, served from now on; the power comes back. */
  async crash(selection: CrashSelection, source: "live" | "trace"): Promise<void> {
    this.step("crash", `power lost at op ${selection.cutAt}`);
    const { scenario } = this.options;
    const images = await writeCrashImages(selection, this.bases, await this.crashDir());
    await this.parts.service.rebase(
      new Map(
        this.parts.prepared.bases.map((base) => [
          diskExportName(scenario, base.node, base.name),
          images.get(diskKey(base.node, base.name))!.path,
        ]),
      ),
    );
    const { at, ...facts } = crashFacts(selection, images);
    // The fields in the order docs/trace-format.md lists them.
    this.powerCut = { at, source, ...facts };
    this.parts.service.event("crash", { ...this.powerCut });
  }

  /**
   * The check phase: the nodes that declare a check boot again on the disks the run
   * left; in a cluster, the nodes without a check first boot into their `restart`
   * script (their daemons), and the checks start once those are ready (`report ready`, for
   * a node that says it) or their scripts started, or not at all when one of them did not
   * within `timeouts.boot + timeouts.check`, or ended without saying it was ready (then at
   * once). With `recovery: "with-checks"` the checks start
   * with them, and the phase ends once the checks ended and each of them served or ran out
   * of that bound.
   */
  async checkPhase(): Promise<void> {
    const nodes = this.options.scenario.nodes;
    const checking = nodes.filter((node) => node.check !== null);
    if (checking.length === 0) return;
    const serving = nodes.filter((node) => node.check === null && node.restart !== null);
    this.phase = "check";
    this.step("check", checking.map((n) => n.name).join(", "));
    this.parts.service.event("phase", { name: "check" });
    this.endStanding();
    const checkStarted = this.since();
    const served = await this.startServing(serving);
    const checks = this.recovery?.checksWithServing ? this.bootChecks(checking) : null;
    // A member that does not serve within the check phase's own bounds makes the point
    // unavailable (or inconclusive, if its script never started) whatever the checks would
    // find, so they do not start: such a point costs that bound, not the member's whole
    // restart deadline and then the checks' own. One that ended without saying it is ready
    // never will: the others are not waited for then.
    const { scenario, signal } = this.options;
    const boundMs = scenario.timeouts.bootMs + scenario.timeouts.checkMs;
    const unready = new AbortController();
    const waitSignal = signal ? AbortSignal.any([signal, unready.signal]) : unready.signal;
    const waits = await Promise.all(serving.map(async (node, i) => {
      const how = await servedWithin(this.serving(node, served[i]), boundMs, waitSignal);
      if (how === "ended" && node.ready) unready.abort();
      return how;
    }));
    this.checkAbort();
    const unserved = new Set(serving.filter((_, i) => waits[i] === "timeout").map((n) => n.name));
    for (const name of unserved) this.running.get(name)?.kill("deadline");
    if (checks) this.outcomes.push(...await checks);
    else if (unserved.size === 0 && !unready.signal.aborted) {
      this.outcomes.push(...await this.bootChecks(checking));
    }
    for (const node of serving) this.running.get(node.name)?.kill("aborted");
    this.outcomes.push(...await Promise.all(served));
    this.checkAbort();
    this.timings.checkMs = this.since() - checkStarted;
  }

  /** Boots every check node; a boot that fails meanwhile is not left unheard. */
  private bootChecks(checking: ScenarioNode[]): Promise<PhaseOutcome[]> {
    const boots = Promise.all(checking.map((node) => this.boot(node, "check")));
    boots.catch(() => {});
    return boots;
  }

  /**
   * Starts the nodes serving the check in the run's recovery order: at once (`together`),
   * or one after another, each once the one before served (it said `report ready`, or
   * without `ready` its script started), its boot ended, or `timeouts.boot` passed. The
   * trace says the order (`recovery`), when each started (`recovery-start`) and how each
   * wait ended (`recovery-wait`). Returns each node's boot, in the order of `serving`.
   */
  private async startServing(serving: ScenarioNode[]): Promise<Promise<PhaseOutcome>[]> {
    const { scenario, signal } = this.options;
    const names = serving.map((node) => node.name);
    const plan = runOrder(this.options.recovery ?? scenario.recovery ?? "together", names);
    this.recovery = { ...plan, serving: names };
    this.parts.service.event("recovery", { name: plan.name, order: plan.order ?? names });
    const boots = new Map<string, Promise<PhaseOutcome>>();
    const start = (node: ScenarioNode) => {
      this.parts.service.event("recovery-start", { node: node.name });
      const boot = this.boot(node, "restart");
      // Awaited with the checks' boots; a boot that fails meanwhile is not left unheard.
      boot.catch(() => {});
      boots.set(node.name, boot);
      return boot;
    };
    if (plan.order === null) serving.forEach(start);
    else {
      await startInOrder(plan.order, {
        start: (name) => {
          const node = serving.find((n) => n.name === name)!;
          return this.serving(node, start(node));
        },
        ready: new Set(serving.filter((node) => node.ready).map((node) => node.name)),
        waitMs: scenario.timeouts.bootMs,
        onWaited: (node, how) => this.parts.service.event("recovery-wait", { node, how }),
        ...(signal ? { signal } : {}),
      });
      this.checkAbort();
    }
    return names.map((name) => boots.get(name)!);
  }

  /**
   * The faults written without a trigger or with a trigger of the run phase (`@run:...`)
   * hold for the run phase only: they end as the check begins.
   */
  private endStanding(): void {
    const ended = (this.options.plan?.rules ?? []).filter(endsWithRun).map((rule) => rule.spec);
    if (ended.length === 0) return;
    this.parts.service.endStanding();
    this.parts.net?.endStanding();
    this.parts.service.event("faults-ended", { rules: ended, reason: "the check begins" });
  }

  /** The run phase up to the workload's start, saved there: see {@link saveRunAtHold}. */
  async saveAtHold(save: { dir: string; memoryDir?: string }): Promise<SavedRun> {
    const { scenario } = this.options;
    const names = scenario.nodes.map((node) => node.name);
    this.step("run", `${names.join(", ")}, saved at the workload's start`);
    this.parts.service.event("phase", { name: "run" });
    const frames: FrameRecord[] = [];
    const stopHearing = this.parts.net?.addSink((frame) => frames.push(frame));
    const holds: Record<string, number> = {};
    const states: Record<string, GuestState> = {};
    // One save that fails stops the others.
    const failed = new AbortController();
    const signal = this.options.signal
      ? AbortSignal.any([this.options.signal, failed.signal])
      : failed.signal;
    let first: { error: unknown } | null = null;
    try {
      await Promise.allSettled(scenario.nodes.map(async (node) => {
        try {
          states[node.name] = await this.saveNodeAtHold(node, { ...save, signal }, (at) => {
            holds[node.name] = at;
          });
        } catch (error) {
          first ??= { error };
          failed.abort();
        }
      }));
      if (first) throw (first as { error: unknown }).error;
    } finally {
      stopHearing?.();
    }
    const clockStart = Math.max(...Object.values(holds));
    const records = this.records.filter((record) => record.index < holds[record.node]);
    for (const node of names) {
      this.parts.service.event("saved", { node, state: states[node].id, at: holds[node] });
    }
    return {
      states,
      records,
      opsBefore: Object.fromEntries(
        names.map((node) => [node, records.filter((r) => r.node === node).length]),
      ),
      allRecords: [...this.records],
      lines: [...this.parts.results.lines],
      clockStart,
      holds,
      volatileAtHold: names.reduce(
        (sum, node) =>
          sum +
          selectCrashWrites(records.filter((r) => r.node === node), holds[node], { kind: "drop" })
            .volatileCount,
        0,
      ),
      ...(this.parts.net ? { network: savedNetwork(frames, clockStart) } : {}),
    };
  }

  /**
   * Boots one node with `faultline.hold=phase` and saves its guest at the hold; `onHold`
   * hears the arrivals by then. A cluster's node must have joined the switch.
   */
  private async saveNodeAtHold(
    node: ScenarioNode,
    save: { dir: string; memoryDir?: string; signal: AbortSignal },
    onHold: (arrivals: number) => void,
  ): Promise<GuestState> {
    const { scenario } = this.options;
    const { signal } = save;
    const boot: Boot = { node: node.name, phase: "run", number: 0 };
    this.boots.set(node.name, 1);
    const guest = this.parts.prepared.guests.get(node.name)!;
    const net = this.parts.net;
    await using control = guest.control
      ? ControlChannel.listen(join(this.parts.dir.path, `${node.name}-saved.control`))
      : null;
    const joined = net?.waitConnected(node.name, CONNECT_TIMEOUT_MS);
    joined?.catch(() => {}); // awaited once the guest is saved
    const state = await saveGuestState({
      ...guestImages(guest),
      accel: this.options.accel ?? TCG,
      phase: "run",
      memoryBytes: node.memoryBytes,
      disks: this.disksOf(node),
      results: this.parts.results.diskFor(boot),
      rtcBase: RTC_BASE,
      ...(net ? { network: net.qemuNetwork(node.name) } : {}),
      ...(control ? { control: control.path } : {}),
      ...pinnedBoot(this.parts.pinning, node.name),
    }, {
      hold: "phase",
      dir: save.dir,
      ...(save.memoryDir ? { memoryDir: save.memoryDir } : {}),
      timeoutMs: scenario.timeouts.bootMs,
      signal,
      onConsole: (text) => this.emit({ type: "console", node: node.name, phase: "run", text }),
      onHold: () => onHold(this.parts.clock.arrivals),
    });
    try {
      await joined;
    } catch (error) {
      throw new RunError((error as Error).message, { cause: error });
    }
    return state;
  }

  /**
   * Resolves `served` when a node serving the check is ready (or its script started), or
   * `ended` when its boot ended first.
   */
  private async serving(node: ScenarioNode, ended: Promise<unknown>): Promise<Served> {
    const boot = this.currentBoot(node.name);
    // A node that says when its service answers is waited for until it does; another, until
    // its restart script starts.
    const serves = (l: GuestLine) =>
      node.ready ? l.kind === "ready" : l.kind === "phase" && l.args[0] === boot.phase;
    const hasBooted = () => this.parts.results.linesOf(boot).some(serves);
    if (hasBooted()) return "served";
    const { promise, resolve } = Promise.withResolvers<Served>();
    const hear = () => {
      if (hasBooted()) resolve("served");
    };
    this.lineListeners.add(hear);
    try {
      return await Promise.race([
        promise,
        ended.then(() => "ended" as const, () => "ended" as const),
      ]);
    } finally {
      this.lineListeners.delete(hear);
    }
  }

  /** The verdict: judged, written into the trace's footer, and returned with what the run saw. */
  async finish(): Promise<RunResult> {
    this.step("verdict");
    const { scenario } = this.options;
    const lines = this.lines();
    const oracle = runOracle(lines, { scenario, cutAt: this.powerCut?.at });
    const history = this.judgeHistory();
    const verdict = judge(scenario, this.outcomes, oracle, {
      judgeWorkloadExit: this.options.judgeWorkloadExit ?? true,
      history,
    });
    const stats = this.parts.service.summary();
    await this.close("finished", {
      verdict,
      oracle,
      ...(history ? { history: { ...history, counterexample: undefined } } : {}),
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
      history,
      ...(history?.counterexample && this.checkedHistory
        ? { checkedHistory: this.checkedHistory }
        : {}),
      outcomes: this.outcomes,
      timings: { ...this.timings, totalMs: this.since() },
      accel: this.options.accel ?? TCG,
      records: [...(this.options.resume?.records ?? []), ...this.records].map((
        { data: _, ...rest },
      ) => rest),
      faults: this.faults,
      firings: [...this.firings].map(([rule, index]) => ({ rule, index })),
      notFired: this.notFired(),
      lines,
      powerCut: this.powerCut,
      recovery: this.recovery,
      order: this.parts.sequencer
        ? { breaks: this.parts.sequencer.breaks, waitedMs: this.parts.sequencer.waitedMs }
        : null,
    };
  }

  /**
   * The clients' history against the scenario's model: a crash state's recorded run lines
   * (their times on the recording's clock, this run's after them), then this run's events.
   */
  private judgeHistory(): HistoryVerdict | null {
    const expectation = this.options.scenario.expect.history;
    if (!expectation) return null;
    const recorded = linesAsEvents(this.options.crash?.lines ?? []);
    const shift = recorded.at(-1)?.time ?? 0;
    const events = [
      ...recorded,
      ...this.historyEvents.map((event) => ({ ...event, time: event.time + shift })),
    ];
    return checkRunHistory(
      () =>
        this.checkedHistory = runHistory(events, {
          check: expectation.check,
          cutAt: this.powerCut?.at,
        }),
      expectation,
    );
  }

  /** The plan's rules that never fired: a block rule never came into force, a link or node rule never fired. */
  private notFired(): string[] {
    const blockFired = this.parts.service.firedRules();
    return (this.options.plan?.rules ?? []).filter((rule, i) =>
      !blockFired[i] && !this.firings.has(rule.spec)
    ).map((rule) => rule.spec);
  }

  /** Ends a failed run: VMs killed, the trace closed with the reason. Returns the error to throw. */
  async fail(error: unknown): Promise<unknown> {
    const interrupted = this.options.signal?.aborted;
    await this.close(interrupted ? "interrupted" : `failed: ${(error as Error).message}`);
    return interrupted
      ? new RunInterrupted("interrupted; the trace keeps what was recorded")
      : error;
  }

  /** Boots one node for a phase (or starts it from a saved guest) and waits until it is done. */
  private async boot(node: ScenarioNode, phase: Boot["phase"]): Promise<PhaseOutcome> {
    const { scenario, signal } = this.options;
    const stage = this.phase;
    const boot: Boot = { node: node.name, phase, number: this.boots.get(node.name) ?? 0 };
    this.boots.set(node.name, boot.number + 1);
    const clockOffsetMs = this.clockAtBoot(node.name, phase, stage);
    const { from, resumed } = this.savedGuestFor(boot, clockOffsetMs);
    this.down.delete(node.name);
    const proxy = this.parts.proxies.get(node.name);
    const nodeBoot = await NodeBoot.start({
      boot,
      guest: this.parts.prepared.guests.get(node.name)!,
      accel: this.options.accel ?? TCG,
      memoryBytes: node.memoryBytes,
      // A resumed guest sees only its own ops: QEMU is told the geometry it would read sector 0 for.
      disks: resumed ? this.disksWithGeometry(node) : this.disksOf(node),
      results: this.parts.results.diskFor(
        boot,
        resumed ? { firstLine: resumed.lines.filter((l) => l.node === node.name).length } : {},
      ),
      ...(this.parts.net ? { network: this.parts.net.qemuNetwork(node.name) } : {}),
      clockOffsetMs,
      ...pinnedBoot(this.parts.pinning, node.name),
      dir: this.parts.dir.path,
      limitMs: scenario.timeouts.bootMs +
        (phase === "check" ? scenario.timeouts.checkMs : scenario.timeouts.runMs),
      signal,
      onConsole: (text) => this.emit({ type: "console", node: node.name, phase, text }),
      onQmp: (qmp) => proxy?.follow(qmp),
      ...(from ? { from } : {}),
      onQmpEvent: (event) => {
        this.parts.service.event("qmp", {
          node: node.name,
          phase,
          name: event.event,
          data: event.data,
        });
        proxy?.event(event);
      },
    });
    this.running.set(node.name, nodeBoot);
    try {
      await this.joinNetwork(node.name, nodeBoot);
      const end = await nodeBoot.ended;
      this.parts.service.event("console", { node: node.name, phase, tail: end.console });
      return { ...phaseOutcome(boot, end, this.parts.results.linesOf(boot)), stage };
    } finally {
      if (this.running.get(node.name) === nodeBoot) this.running.delete(node.name);
    }
  }

  /**
   * The saved guest a boot starts from instead of booting, if any: the run saved at the
   * workload's start for a node's first run boot, or the node's saved check-phase guest for
   * a boot into the phase it was saved with (a check, a restart) whose clock is not skewed
   * (a saved guest's clock goes on from its save).
   */
  private savedGuestFor(
    boot: Boot,
    clockOffsetMs: number,
  ): { from?: GuestState; resumed?: ResumeFrom } {
    const resume = this.options.resume;
    const state = resume?.states[boot.node];
    if (resume && state && boot.phase === "run" && boot.number === 0) {
      return { from: state, resumed: resume };
    }
    const saved = this.options.warmChecks?.get(boot.node);
    if (saved && saved.phase === boot.phase && clockOffsetMs === 0) return { from: saved };
    return {};
  }

  /** A node's disks, each with the geometry QEMU would otherwise read its first sector for. */
  private disksWithGeometry(node: ScenarioNode): VmDisk[] {
    return this.disksOf(node).map((disk) => ({
      ...disk,
      geometry: guessedGeometry(
        this.parts.prepared.bases.find((b) => b.node === node.name && b.name === disk.name)!
          .sizeBytes,
      ),
    }));
  }

  /**
   * How far off the others' a node's clock starts at this boot: the faults set at boot in
   * force (clock skews), carried out here. Every boot of a node the plan skews is an event
   * (the check's at the shared base too, unless `@any`), and each rule fires at its node's
   * first boot it shapes.
   */
  private clockAtBoot(node: string, phase: Boot["phase"], stage: "run" | "check"): number {
    if (!this.parts.bootRules.some((rule) => rule.node === node)) return 0;
    const rules = bootRulesAt(this.parts.bootRules, node, stage);
    let offsetMs = 0;
    for (const { action } of rules) {
      switch (action.do) {
        case "offset-clock":
          offsetMs += action.ms;
      }
    }
    for (const rule of rules) {
      if (!this.firings.has(rule.spec)) this.firings.set(rule.spec, this.parts.clock.arrivals);
    }
    this.parts.service.event("clock-skew", {
      node,
      phase,
      rules: rules.map((rule) => rule.spec),
      offsetMs,
      base: rtcBaseOf(offsetMs),
    });
    return offsetMs;
  }

  /** Waits until a node's QEMU joined the switch (it never retries): without it the guest would run cut off. */
  private async joinNetwork(node: string, boot: NodeBoot): Promise<void> {
    const net = this.parts.net;
    if (!net) return;
    const joined = net.waitConnected(node, CONNECT_TIMEOUT_MS).then(() => true);
    // A QEMU that ended first tells its own story.
    const ended = boot.ended.then(() => false, () => false);
    try {
      await Promise.race([joined, ended]);
    } catch (error) {
      boot.kill("aborted");
      throw new RunError((error as Error).message, { cause: error });
    }
  }

  /** The boot of a node that runs now, as the results know it. */
  private currentBoot(node: string): Boot {
    const phase = this.phase === "check"
      ? (this.options.scenario.nodes.find((n) => n.name === node)?.check !== null
        ? "check"
        : "restart")
      : "run";
    return { node, phase, number: (this.boots.get(node) ?? 1) - 1 };
  }

  /** A node's disks as QEMU attaches them: through the fault layer. */
  private disksOf(node: ScenarioNode): VmDisk[] {
    return node.disks.map((disk) => ({
      name: disk.name,
      uri: exportUri(
        this.parts.service.address,
        diskExportName(this.options.scenario, node.name, disk.name),
      ),
    }));
  }

  /** Every guest line: a crash state's recorded run lines, then this run's. */
  private lines(): GuestLine[] {
    return [
      ...(this.options.crash?.lines ?? []),
      ...(this.options.resume?.lines ?? []),
      ...this.parts.results.lines,
    ];
  }

  /** The op records that describe each disk's writes since its node's last crash (its current base). */
  private recordsSinceCuts(): OpRecord[] {
    return this.records.filter((record) => record.index > (this.lastCut.get(record.node) ?? -1));
  }

  /** A fresh directory for one crash's images. */
  private async crashDir(): Promise<string> {
    const path = join(this.parts.dir.path, `crash-${this.crashCount++}`);
    await Deno.mkdir(path, { mode: 0o700 });
    return path;
  }

  /** A node fault fired. Runs synchronously up to the cut: a crashing node's op must not go on. */
  private onNodeFault(firing: Firing): void {
    const { spec, node, action } = firing.rule;
    if (!this.firings.has(spec)) this.firings.set(spec, firing.index);
    this.parts.service.event("node-fault", {
      rule: spec,
      node,
      kind: firing.rule.effect.kind,
      index: firing.index,
    });
    switch (action.do) {
      case "power-off":
        this.crashNode(node, firing.index);
        break;
      case "power-cycle": {
        if (this.running.has(node)) this.crashNode(node, firing.index);
        const crashed = this.crashing.get(node) ?? Promise.resolve();
        this.restarts.set(
          node,
          crashed.then(() => new Promise((resolve) => setTimeout(resolve, action.afterMs))),
        );
        break;
      }
      case "stop": {
        const boot = this.running.get(node);
        boot?.pause(action.ms).then(() =>
          this.parts.service.event("node-resumed", { node, rule: spec })
        );
        break;
      }
      case "jump-clock":
        this.jumpClock(firing, action.ms);
    }
  }

  /**
   * Writes a clock jump on the node's control channel; the event says when it was written
   * (null: the node was not running, its jump lost). The guest reports when it landed
   * (`clock jumped`, src/vm/control.ts).
   */
  private jumpClock(firing: Firing, ms: number): void {
    const { spec, node } = firing.rule;
    const boot = this.running.get(node);
    const written = this.down.has(node) || !boot ? Promise.resolve(false) : boot.jumpClock(ms);
    written.then((ok) =>
      this.parts.service.event("clock-jump", {
        rule: spec,
        node,
        index: firing.index,
        ms,
        written: ok ? this.parts.clock.now() : null,
      })
    );
  }

  /** Cuts one node's power at op `index`: its disks freeze, its QEMU dies, its disks are cut to their durable state. */
  private crashNode(node: string, index: number): void {
    if (this.down.has(node)) return;
    this.down.add(node);
    this.parts.service.freezeNode(node);
    const boot = this.running.get(node);
    boot?.kill("aborted");
    this.parts.net?.disconnect(node, "its node lost power");
    const previous = this.crashing.get(node) ?? Promise.resolve();
    this.crashing.set(node, previous.then(() => this.cutNode(node, index, boot)));
  }

  /** Serves a crashed node's disks from their crash state (after its QEMU is gone). */
  private async cutNode(node: string, index: number, boot: NodeBoot | undefined): Promise<void> {
    await boot?.ended.catch(() => {});
    const { scenario } = this.options;
    const records = this.recordsSinceCuts().filter((record) => record.node === node);
    const selection = selectCrashWrites(records, index, { kind: "drop" });
    const bases = new Map([...this.bases].filter(([key]) => key.startsWith(`${node}/`)));
    const images = await writeCrashImages(selection, bases, await this.crashDir());
    await this.parts.service.rebase(
      new Map(
        [...images].map(([key, image]) => [
          diskExportName(scenario, node, key.slice(node.length + 1)),
          image.path,
        ]),
      ),
      { node },
    );
    for (const [key, image] of images) this.bases.set(key, image.path);
    this.lastCut.set(node, index);
    this.parts.service.event("crash", { node, ...crashFacts(selection, images) });
  }

  /** A frame's record: the plan's link faults that hit it have fired. */
  private onFrameRecord(record: FrameRecord): void {
    for (const fault of record.faults ?? []) {
      if (fault.rule !== "live" && fault.rule !== "power" && !this.firings.has(fault.rule)) {
        this.firings.set(fault.rule, record.index);
      }
    }
  }

  /** A frame arrived at the switch; false when its sender has no power. */
  private onFrame(frame: LinkFrame): boolean {
    this.parts.watcher?.arrive({ kind: "frame", frame: frameFacts(frame) });
    return !this.parts.service.isFrozen(frame.from);
  }

  private onNetEvent(event: NetEvent): void {
    if (event.type === "link-fault") {
      if (!this.firings.has(event.rule)) this.firings.set(event.rule, event.index);
      this.parts.service.event("link-fault", {
        rule: event.rule,
        action: event.action,
        index: event.index,
      });
    } else if (event.type !== "control") {
      this.parts.service.event("net", { ...event });
    }
  }

  /** A block fault was injected: a strict order lets the ops after it go as they come. */
  private onInjected(fault: InjectedFault): void {
    this.faults.push(fault);
    this.parts.sequencer?.release();
  }

  /** The power was cut: QMP `stop` or `quit` would make QEMU flush its disks, so the VMs are killed outright. */
  private onPowerCut(index: number): void {
    this.parts.service.event("power-cut", { index });
    for (const boot of this.running.values()) boot.kill("aborted");
  }

  private onRecord(record: OpRecord): void {
    this.records.push(record);
    this.timings.firstOpMs ??= this.since();
    if (
      this.timings.workloadFirstOpMs === null && this.workloadStartedAt !== null &&
      record.start >= this.workloadStartedAt
    ) this.timings.workloadFirstOpMs = this.since();
  }

  private onEventRecord(record: EventRecord): void {
    if (HISTORY_EVENTS.has(record.event)) this.historyEvents.push(record);
  }

  private onGuestLine(line: GuestLine, text: string): void {
    if (line.kind === "phase" && line.args[0] === "run") {
      this.workloadStartedAt ??= this.parts.clock.now();
    }
    if (line.kind === "step") this.steps.set(line.node, line.args.join(" "));
    if (line.kind === "phase") this.steps.delete(line.node);
    // The line's own stamps: it may be heard here later than it arrived.
    this.parts.service.event("guest", {
      node: line.node,
      phase: line.phase,
      line: text,
      at: line.at,
      ...(line.time === undefined ? {} : { time: line.time }),
    });
    this.emit({ type: "guest", line });
    for (const hear of this.lineListeners) hear();
  }

  async close(reason: string, footer: Record<string, unknown> = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping = true;
    this.parts.watcher?.stop();
    for (const boot of this.running.values()) boot.kill();
    await Promise.all([...this.running.values()].map((boot) => boot.ended.catch(() => {})));
    await Promise.all([...this.crashing.values()].map((crash) => crash.catch(() => {})));
    for (const proxy of this.parts.proxies.values()) await proxy.close();
    await this.parts.results.close();
    await this.parts.net?.close();
    try {
      await this.parts.service.close(reason, footer);
    } finally {
      await this.parts.dir.remove();
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
    return performance.now() - this.parts.started;
  }
}
