/**
 * The fault layer as a running service: for each disk a store, a fault layer
 * and a recorder stacked into one backend, all served by one NBD server, with
 * the trace, the statistics, the durability model and the control socket
 * wired to them. `serve` runs one; record and replay run one per run.
 *
 * @module
 */

import { basename } from "node:path";
import type { BlockBackend } from "../block/backend.ts";
import { DurabilityModel } from "../block/durability.ts";
import { ImageStore } from "../block/image_store.ts";
import { OpClock } from "../block/op_clock.ts";
import { OverlayStore } from "../block/overlay_store.ts";
import { FaultEngine, type InjectedFault } from "../fault/engine.ts";
import { FaultLayer } from "../fault/layer.ts";
import { liveArguments, type LiveRequest } from "../fault/live.ts";
import type { OpView } from "../fault/plan.ts";
import { PLAN_VERSION } from "../fault/plan_version.ts";
import type { FaultPlan } from "../fault/types.ts";
import type { NbdExport } from "../nbd/export.ts";
import { type ListenAddress, NbdServer, type ServerEvent } from "../nbd/server.ts";
import type { JsonObject } from "../qmp/framing.ts";
import type { QmpServer } from "../qmp/server.ts";
import { completedOp, diskKey } from "../trace/ops.ts";
import { RecordingLayer } from "../trace/recorder.ts";
import {
  DATA_HASH,
  type EventRecord,
  type FrameRecord,
  type OpRecord,
  type TraceDisk,
} from "../trace/schema.ts";
import { OpStats, type StatsSummary } from "../trace/stats.ts";
import { TraceWriter } from "../trace/writer.ts";
import { sha256File } from "../util/hash.ts";
import { VERSION } from "../version.ts";
import { type ControlEvent, type LinkControlTarget, startControlServer } from "./control.ts";
import { ServiceError } from "./errors.ts";

/** A disk to serve. */
export interface DiskSpec {
  /** The disk's name (in the trace, and in fault triggers). */
  name: string;
  /** The node it belongs to; the service's `node` when absent. */
  node?: string;
  /** The NBD export name, unique in the service (the control socket's `id`); `name` by default. */
  exportName?: string;
  /** A raw image: the base under the overlay, or the file itself with `modifyImage`. */
  image: string;
  /** The image's SHA-256, when the caller knows it already (else it is hashed for the trace). */
  sha256?: string;
  /** Refuse writes with EPERM. */
  readOnly?: boolean;
}

/** Options of {@link DiskService.start}. */
export interface DiskServiceOptions {
  /** The disks to serve. */
  disks: readonly DiskSpec[];
  /** Where the NBD server listens. */
  listen: ListenAddress;
  /** A unix socket path for the live control socket; none when absent. */
  controlPath?: string;
  /** Record a trace. */
  trace?: {
    path: string;
    /** Keep written bytes (else only their hashes). */
    keepData: boolean;
    /** What makes the trace: `serve`, `record`, `replay`. */
    command: string;
    /** More header fields (scenario, guest hashes, parent). */
    header?: Record<string, unknown>;
  };
  /** The faults to inject. */
  plan: FaultPlan;
  /** Write the images themselves instead of an overlay (`serve --modify-image`). */
  modifyImage?: boolean;
  /** A private directory for overlays. */
  scratchDir: string;
  /** The node the disks belong to. */
  node?: string;
  /**
   * The run's clock, when several services share one run.
   * @ignore
   */
  clock?: OpClock;
  /**
   * The current phase of the run, for op records.
   * @ignore faultline's own: not part of the public API
   */
  phase?: () => string | undefined;
  /**
   * The current step of a node's workload, for op records.
   * @ignore faultline's own: not part of the public API
   */
  step?: (node: string) => string | undefined;
  /** Hears connections, protocol errors, faults and control commands. */
  onEvent?: (event: ServiceEvent) => void;
  /** Receives every op record as the op completes. */
  onRecord?: (record: OpRecord) => void;
  /** Receives every event record as it is written to the trace (a run's history is made of some). */
  onEventRecord?: (record: EventRecord) => void;
  /**
   * Wraps each disk's layer stack in one more layer (strict order, in replays).
   * @ignore faultline's own: not part of the public API
   */
  wrap?: (stack: BlockBackend, disk: { node: string; name: string }) => BlockBackend;
}

/** What the service reports; the CLI prints some of it with --verbose. */
export type ServiceEvent =
  | ServerEvent
  | { type: "fault"; fault: InjectedFault }
  | ControlEvent
  | { type: "trace-error"; message: string };

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];

/** Refuses an image that is not a regular file, or that is a qcow2 (served raw, it would expose its metadata). */
async function checkRawImage(path: string): Promise<number> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new ServiceError(`image ${path} does not exist`);
  }
  if (!info.isFile) throw new ServiceError(`image ${path} is not a regular file`);
  const file = await Deno.open(path, { read: true });
  try {
    const head = new Uint8Array(4);
    const n = await file.read(head);
    if (n === 4 && QCOW2_MAGIC.every((b, i) => head[i] === b)) {
      throw new ServiceError(
        `image ${path} is qcow2; faultline serves raw images: qemu-img convert -O raw ${path} ${
          path.replace(/\.qcow2$/, "")
        }.raw`,
      );
    }
  } finally {
    file.close();
  }
  return info.size;
}

/**
 * The default export name of an image: its file name without extension.
 *
 * @example
 * ```ts
 * exportNameForImage("/images/debian-12.raw"); // "debian-12"
 * ```
 */
export function exportNameForImage(image: string): string {
  const name = basename(image);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/** Creates the trace and writes its header: every disk with its size and base image's hash. */
async function openTrace(
  options: DiskServiceOptions,
  trace: NonNullable<DiskServiceOptions["trace"]>,
  sizes: readonly number[],
): Promise<TraceWriter> {
  const disks: TraceDisk[] = [];
  for (const [i, disk] of options.disks.entries()) {
    disks.push({
      node: disk.node ?? options.node ?? "serve",
      name: disk.name,
      size: sizes[i],
      base: { path: disk.image, sha256: disk.sha256 ?? await sha256File(disk.image) },
    });
  }
  return await TraceWriter.create(trace.path, {
    createdAt: new Date().toISOString(),
    tool: { name: "faultline", version: VERSION },
    command: trace.command,
    recordsData: trace.keepData,
    dataHash: DATA_HASH,
    seed: options.plan.seed,
    faults: options.plan.rules.map((rule) => rule.spec),
    planVersion: PLAN_VERSION,
    disks,
    ...trace.header,
  });
}

/** One disk's layers: store, fault layer, recorder (and the caller's wrapper), and its export. */
function diskStack(
  disk: DiskSpec,
  options: DiskServiceOptions,
  shared: {
    engine: FaultEngine;
    clock: OpClock;
    sinks: ((record: OpRecord) => void)[];
    trace: TraceWriter | null;
  },
): { top: BlockBackend; faults: FaultLayer; export: NbdExport } {
  const id = disk.exportName ?? disk.name;
  const node = disk.node ?? options.node ?? "serve";
  const recording = shared.trace !== null;
  // A trace that keeps written bytes holds them for the overlay too.
  const log = recording && options.trace!.keepData ? shared.trace! : undefined;
  const store = options.modifyImage
    ? ImageStore.open(disk.image)
    : OverlayStore.open({ base: disk.image, scratchDir: options.scratchDir, name: id, log });
  const faults = new FaultLayer(store, shared.engine, {
    node,
    name: disk.name,
    ...(options.phase ? { phase: options.phase } : {}),
  });
  const recorder = new RecordingLayer(faults, {
    node,
    disk: disk.name,
    clock: shared.clock,
    sinks: shared.sinks,
    hashData: recording,
    keepData: log !== undefined,
    sinksKeepRecords: options.onRecord !== undefined,
    log: options.modifyImage ? undefined : log,
    phase: options.phase,
    step: options.step,
  });
  const top = options.wrap ? options.wrap(recorder, { node, name: disk.name }) : recorder;
  return { top, faults, export: { name: id, backend: top, readOnly: disk.readOnly } };
}

/**
 * A running fault layer.
 *
 * @example
 * ```ts
 * const service = await DiskService.start({
 *   disks: [{ name: "vda", image: "disk.raw" }],
 *   listen: { transport: "unix", path: `${dir.path}/nbd.sock` },
 *   plan: { seed: 1, rules: [] },
 *   scratchDir: dir.path,
 * });
 * await service.close("finished");
 * ```
 */
export class DiskService {
  private controlServer: QmpServer | null = null;
  private closed = false;
  private rebases = 0;
  private network: LinkControlTarget | null = null;

  private constructor(
    private readonly server: NbdServer,
    private readonly engine: FaultEngine,
    private readonly stacks: readonly BlockBackend[],
    private readonly faultLayers: ReadonlyMap<string, FaultLayer>,
    private readonly trace: TraceWriter | null,
    private readonly stats: OpStats,
    private readonly durability: DurabilityModel,
    private readonly options: DiskServiceOptions,
  ) {}

  /** The control socket's path, when one was asked for. */
  get controlPath(): string | null {
    return this.controlServer?.path ?? null;
  }

  /**
   * Opens the images, starts the server (and the control socket), and writes
   * the trace's header.
   *
   * @throws {ServiceError} for a missing or qcow2 image or a duplicate name;
   * NbdServerError and TraceError as their subsystems raise them.
   */
  static async start(options: DiskServiceOptions): Promise<DiskService> {
    const clock = options.clock ?? new OpClock();
    const names = new Set<string>();
    const sizes: number[] = [];
    for (const disk of options.disks) {
      const id = disk.exportName ?? disk.name;
      if (names.has(id)) throw new ServiceError(`two disks are exported as "${id}"`);
      names.add(id);
      sizes.push(await checkRawImage(disk.image));
    }
    const cleanups: (() => Promise<void> | void)[] = [];
    try {
      const trace = options.trace ? await openTrace(options, options.trace, sizes) : null;
      if (trace) {
        cleanups.push(() =>
          trace.close({
            duration: clock.now(),
            endedAt: new Date().toISOString(),
            reason: "failed to start",
          }).catch(() => {})
        );
      }
      const engine = new FaultEngine(options.plan, clock);
      const stats = new OpStats();
      const durability = new DurabilityModel();
      const sinks: ((record: OpRecord) => void)[] = [
        (record) => stats.add(record),
        (record) => durability.complete(completedOp(record)),
      ];
      if (trace) sinks.push((record) => trace.append(record));
      if (options.onRecord) sinks.push(options.onRecord);
      const disks = options.disks.map((disk) => {
        const stack = diskStack(disk, options, { engine, clock, sinks, trace });
        cleanups.push(() => stack.top.close());
        return stack;
      });
      const server = await NbdServer.start({
        exports: disks.map((disk) => disk.export),
        listen: options.listen,
        clock,
        onEvent: options.onEvent,
      });
      cleanups.push(() => server.close());
      const service = new DiskService(
        server,
        engine,
        disks.map((disk) => disk.top),
        new Map(disks.map((disk) => [disk.export.name, disk.faults])),
        trace,
        stats,
        durability,
        options,
      );
      await service.listen();
      return service;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup();
      throw error;
    }
  }

  /** Traces injected faults, and opens the control socket when one was asked for. */
  private async listen(): Promise<void> {
    this.engine.onInjected((fault) => this.onFault(fault));
    if (this.options.controlPath) {
      this.controlServer = await startControlServer({
        path: this.options.controlPath,
        version: VERSION,
        target: this,
        onEvent: (event) => this.onControlEvent(event),
      });
    }
  }

  /** The export names, in order. */
  disks(): readonly string[] {
    return this.options.disks.map((disk) => disk.exportName ?? disk.name);
  }

  /** The durability key ({@link diskKey}) of an export. */
  private keyOf(exportName: string): string {
    const disk = this.options.disks.find((d) => (d.exportName ?? d.name) === exportName);
    return diskKey(disk?.node ?? this.options.node ?? "serve", disk?.name ?? exportName);
  }

  /** The run's clock. */
  private get clock(): OpClock {
    return this.server.clock;
  }

  /** Where the NBD server listens. */
  get address(): ListenAddress {
    return this.server.address;
  }

  /** NBD connections open now. */
  get connectionCount(): number {
    return this.server.connectionCount;
  }

  /** Counts of the ops served so far. */
  summary(): StatsSummary {
    return this.stats.summary();
  }

  /**
   * Calls `listener` for every fault injected from now on.
   * @ignore faultline's own: not part of the public API
   */
  onInjected(listener: (fault: InjectedFault) => void): void {
    this.engine.onInjected(listener);
  }

  /**
   * Calls `listener` once the power is cut (by a `power-loss` fault): the runner kills the VMs.
   * @ignore faultline's own: not part of the public API
   */
  onPowerCut(listener: (index: number) => void): void {
    this.engine.onPowerCut(listener);
  }

  /**
   * The index of the op the power was cut at, if it was.
   * @ignore faultline's own: not part of the public API
   */
  get powerCutAt(): number | null {
    return this.engine.powerCutAt;
  }

  /**
   * Appends an event to the trace (when recording); `at` and `time` come from the clock.
   * @ignore faultline's own: not part of the public API
   */
  event(event: string, fields: Record<string, unknown> = {}): void {
    const record: EventRecord = {
      record: "event",
      event,
      at: this.clock.arrivals,
      time: this.clock.now(),
      ...fields,
    };
    this.trace?.append(record);
    this.options.onEventRecord?.(record);
  }

  /**
   * Applies a live fault (from the control socket, or from code).
   * @ignore faultline's own: not part of the public API
   */
  setLive(request: LiveRequest): void {
    const now = this.clock.now();
    const fault = request.fault && request.durationMs !== undefined
      ? { ...request.fault, untilMs: now + request.durationMs, since: now }
      : request.fault && { ...request.fault, since: now };
    this.engine.setLive(request.disk, fault);
  }

  /** @ignore faultline's own: not part of the public API */
  describeDisk(disk: string): Record<string, unknown> {
    const live = this.engine.live(disk);
    const state = live
      ? liveArguments(disk, live.effect, live.remaining)
      : { id: disk, state: "none" };
    const volatile = this.durability.counts(this.keyOf(disk));
    return {
      ...state,
      active: this.engine.active(disk).map((fault) => ({ rule: fault.rule })),
      "held-ops": this.engine.heldOps(disk),
      "volatile-writes": volatile.volatileWrites,
      "volatile-bytes": volatile.volatileBytes,
    };
  }

  /**
   * Whether each rule of the plan came into force or hit an op of these disks, in plan order.
   * @ignore faultline's own: not part of the public API
   */
  firedRules(): readonly boolean[] {
    return this.engine.fired();
  }

  /** @ignore faultline's own: not part of the public API */
  describeFaults(): Record<string, unknown> {
    const hits = this.engine.hits();
    return {
      seed: this.engine.plan.seed,
      rules: this.engine.plan.rules.map((rule, i) => ({ spec: rule.spec, hits: hits[i] })),
      live: this.disks().flatMap((disk) => {
        const live = this.engine.live(disk);
        return live ? [liveArguments(disk, live.effect, live.remaining)] : [];
      }),
    };
  }

  /** @ignore faultline's own: not part of the public API */
  describeStats(): Record<string, unknown> {
    const summary = this.stats.summary();
    return {
      ops: summary.ops,
      bytes: summary.bytes,
      errors: summary.errors,
      "by-type": summary.byType,
      "by-disk": summary.byDisk,
      faults: summary.faults,
      connections: this.server.connectionCount,
      durability: Object.fromEntries(
        this.disks().map((disk) => [disk, this.durability.counts(this.keyOf(disk))]),
      ),
    };
  }

  /**
   * Serves other images under the same exports (the crash state, for the check
   * after a power loss): each named export gets a fresh overlay over its new
   * base, and the old overlay is dropped. The power comes back on.
   * @ignore faultline's own: not part of the public API
   */
  async rebase(
    images: ReadonlyMap<string, string>,
    options: { node?: string } = {},
  ): Promise<void> {
    const generation = ++this.rebases;
    for (const [exportName, image] of images) {
      const faults = this.faultLayers.get(exportName);
      if (!faults) throw new ServiceError(`no disk is exported as "${exportName}"`);
      await faults.replaceNext(
        OverlayStore.open({
          base: image,
          scratchDir: this.options.scratchDir,
          name: `${exportName}.crash${generation}`,
          log: this.trace && this.options.trace?.keepData ? this.trace : undefined,
        }),
      );
    }
    if (options.node === undefined) {
      this.durability.reset();
      this.engine.restorePower();
    } else {
      this.durability.reset([...images.keys()].map((exportName) => this.keyOf(exportName)));
      this.engine.thawNode(options.node);
    }
  }

  /**
   * The run phase is over: the faults written without a trigger end (docs/fault-spec.md).
   * @ignore faultline's own: not part of the public API
   */
  endStanding(): void {
    this.engine.endStanding();
  }

  /**
   * One node lost power: no op of its disks reaches a store until {@link rebase} for that node.
   * @ignore faultline's own: not part of the public API
   */
  freezeNode(node: string): void {
    this.engine.freezeNode(node);
  }

  /**
   * Whether a node's disks are frozen: the whole machine lost power, or that node did.
   * @ignore faultline's own: not part of the public API
   */
  isFrozen(node: string): boolean {
    return this.engine.isFrozen(node);
  }

  /**
   * Calls `listener` with every op as it arrives, before anything is decided for it.
   * @ignore faultline's own: not part of the public API
   */
  onArrival(listener: (op: OpView) => void): void {
    this.engine.onArrival(listener);
  }

  /**
   * Appends a record made elsewhere (a frame of the run's switch) to the trace, when recording.
   * @ignore faultline's own: not part of the public API
   */
  append(record: FrameRecord): void {
    this.trace?.append(record);
  }

  /** Writes out what the trace has buffered (a reader sees every record appended so far). */
  async flushTrace(): Promise<void> {
    await this.trace?.flush();
  }

  /**
   * Routes the control socket's link commands to a run's switch.
   * @ignore faultline's own: not part of the public API
   */
  attachNetwork(network: LinkControlTarget): void {
    this.network = network;
  }

  /** @ignore faultline's own: not part of the public API */
  setLinkFaultState(args: JsonObject): JsonObject {
    if (!this.network) throw new ServiceError("this run has no network (one node, no switch)");
    return this.network.setLinkFaultState(args);
  }

  /** @ignore faultline's own: not part of the public API */
  queryLinkFaultState(): JsonObject {
    if (!this.network) throw new ServiceError("this run has no network (one node, no switch)");
    return this.network.queryLinkFaultState();
  }

  /**
   * Stops serving: disconnects clients, releases held ops, closes the stores
   * (removing overlays) and closes the trace with its footer.
   *
   * @throws {TraceError} when the trace could not be written completely.
   */
  async close(reason: string, footer: Record<string, unknown> = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.controlServer?.close();
    await this.server.close();
    this.engine.shutdown();
    for (const stack of this.stacks) await stack.close();
    await this.trace?.close({
      duration: this.clock.now(),
      endedAt: new Date().toISOString(),
      reason,
      stats: this.stats.summary(),
      ...footer,
    });
  }

  /** Records an injected fault in the trace. */
  private onFault(fault: InjectedFault): void {
    this.event("fault", {
      index: fault.index,
      disk: fault.disk,
      op: fault.op,
      fault: fault.fault,
      rule: fault.rule,
      action: fault.action,
    });
    this.options.onEvent?.({ type: "fault", fault });
  }

  /** Records a control command in the trace. */
  private onControlEvent(event: ControlEvent): void {
    if (event.type === "command") {
      this.event("control", {
        command: event.command,
        arguments: event.arguments,
        ...(event.error ? { error: event.error } : {}),
      });
    }
    this.options.onEvent?.(event);
  }
}
