/**
 * The cluster's switch: the network fault layer. It listens on one fresh unix socket
 * per node, inside a private (0700) directory, so the socket a connection arrives on
 * names its node. Each node's QEMU connects with `-netdev stream,server=off,
 * addr.type=unix,addr.path=PATH` and speaks the stream framing of
 * src/net/stream_framing.ts. Nothing ever leaves the switch: no tap, no bridge, no
 * user-mode NAT, no host socket but these.
 *
 * QEMU 7.2's stream client connects once, when QEMU starts, and never retries: a guest
 * started before its port listened, or against a stale socket file, runs without a
 * network and without an error. So the switch listens before any QEMU starts, refuses
 * a path that exists already, and {@link NetSwitch.waitConnected} /
 * {@link NetSwitch.checkConnected} throw an error naming the node that never
 * connected. A port outlives its connections: a node that crashes and boots again
 * connects again on the same path.
 *
 * Forwarding: a unicast frame goes to the node that owns its destination MAC (the MACs
 * are known up front, src/net/addresses.ts); a frame to a group address (broadcast,
 * multicast) to every other node; a unicast frame to a MAC that no node owns is dropped
 * and counted. Every frame gets a number on the run's one clock (src/block/op_clock.ts,
 * shared with block ops), the link fault decision (src/net/link_plan.ts), a record for
 * the trace (src/net/frame_record.ts), and its copies go out on each link as the link
 * scheduler (src/net/link_scheduler.ts) times them.
 *
 * @module
 */

import { join } from "node:path";
import { OpClock } from "../block/op_clock.ts";
import { FaultSpecError } from "../fault/errors.ts";
import { linkKey } from "../fault/link_scope.ts";
import type { OpView } from "../fault/trigger.ts";
import type { FaultPlan } from "../fault/types.ts";
import type { FrameRecord } from "../trace/schema.ts";
import { FrameStats, type FrameSummary } from "../trace/stats.ts";
import { makePrivateDir, type PrivateDir } from "../util/tempdir.ts";
import { DEFAULT_NETWORK, guestNetworkOf, type NodeAddress, nodeAddresses } from "./addresses.ts";
import { NetError, NodeNotConnectedError } from "./errors.ts";
import { decodeFrame } from "./frame.ts";
import { frameRecord } from "./frame_record.ts";
import { describeLinkFaultState, parseLinkLiveArguments } from "./link_live.ts";
import {
  arriveOp,
  combineDecisions,
  compileLinkPlan,
  decideFrame,
  endStandingLinks,
  initialLinkState,
  type LinkDecision,
  type LinkFrame,
  type LinkPlan,
  type LinkPlanState,
  type LinkStep,
  setLiveLinkFault,
} from "./link_plan.ts";
import { LinkScheduler } from "./link_scheduler.ts";
import { encodeStreamFrame, FrameSplitter, QEMU_NET_BUFSIZE } from "./stream_framing.ts";

/** Options of {@link NetSwitch.start}. */
export interface NetSwitchOptions {
  /** The node names, in the scenario's order (node k gets MAC index k and host .10+k). */
  nodes: readonly string[];
  /** The cluster's IPv4 network; 192.0.2.0/24 by default. */
  network?: string;
  /**
   * A directory for the sockets (it must be private: mode 0700); by default a fresh
   * private directory that the switch removes when it closes.
   */
  dir?: string;
  /** The run's one clock, shared with the block ops; a clock of its own by default. */
  clock?: OpClock;
  /** The fault plan: its link faults apply here, its block faults are ignored. */
  plan?: FaultPlan;
  /** Receive every frame record, in arrival order (the trace writer, statistics). */
  sinks?: ((record: FrameRecord) => void)[];
  /** Keep the frames' bytes in the records (else only their hashes); true by default. */
  keepData?: boolean;
  /** The run's current phase, for the records. */
  phase?: () => string | undefined;
  /** What happens: connections, framing errors, link faults in force and healed, control. */
  onEvent?: (event: NetEvent) => void;
  /**
   * Hears every frame as it arrives, before the link faults: a node fault watching
   * frames may cut a node's power. Returns false when the sender has no power (its
   * frame never happened: it is recorded as dropped).
   */
  gate?: (frame: LinkFrame) => boolean;
  /** The largest frame accepted from a node; QEMU's own limit by default. */
  maxFrameBytes?: number;
  /** Bytes queued for one node before further frames to it are dropped (counted); 8 MiB. */
  maxQueueBytes?: number;
}

/** What the switch reports. */
export type NetEvent =
  | { type: "connected"; node: string; connection: number }
  | { type: "disconnected"; node: string; connection: number; reason: string }
  | { type: "framing-error"; node: string; message: string }
  | { type: "port-error"; node: string; message: string }
  | { type: "link-fault"; action: "in-force" | "healed"; rule: string; index: number; time: number }
  | { type: "control"; command: string; arguments: Record<string, unknown>; error?: string };

/** A node's port: its socket, its connection if any, and what waits to be written to it. */
interface Port {
  address: NodeAddress;
  path: string;
  listener: Deno.Listener;
  conn: Deno.Conn | null;
  /** Connections accepted so far (1 for the first boot). */
  connections: number;
  queue: Uint8Array[];
  queuedBytes: number;
  writing: boolean;
  waiters: Set<() => void>;
}

/** Counts the switch keeps besides the per-link statistics. */
export interface SwitchCounters extends FrameSummary {
  /** Copies dropped because a node's write queue was full. */
  overflow: number;
  /** Frames refused for a bad length (the connection was closed). */
  framingErrors: number;
  /** Each node's port. */
  ports: { node: string; connected: boolean; connections: number; queuedBytes: number }[];
}

const READ_BUFFER_BYTES = 256 * 1024;
const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
const UNIX_PATH_MAX = 107;

/**
 * A running switch.
 *
 * @example
 * ```ts
 * await using net = await NetSwitch.start({ nodes: ["n1", "n2"], clock, plan, sinks: [(r) => trace.append(r)] });
 * // for each node: qemuArgs({ ..., network: net.qemuNetwork("n1") }) and
 * // buildInitramfs({ ..., network: net.guestNetwork("n1") }); start QEMU, then:
 * await net.waitConnected("n1", 5000);
 * net.setLinkFaultState({ state: "partition", sides: [["n1"], ["n2"]] });
 * ```
 */
export class NetSwitch implements AsyncDisposable {
  private readonly ports = new Map<string, Port>();
  private readonly byMac = new Map<string, string>();
  private readonly scheduler: LinkScheduler;
  private readonly sinks: ((record: FrameRecord) => void)[];
  private readonly stats = new FrameStats();
  private clock: OpClock;
  private linkPlan: LinkPlan;
  private linkState: LinkPlanState;
  private overflow = 0;
  private framingErrors = 0;
  private closed = false;
  private readonly readers: Promise<void>[] = [];

  private constructor(
    readonly nodes: readonly NodeAddress[],
    readonly dir: string,
    private readonly owned: PrivateDir | null,
    private readonly options: NetSwitchOptions,
  ) {
    this.clock = options.clock ?? new OpClock();
    this.sinks = [...(options.sinks ?? [])];
    this.linkPlan = compileLinkPlan(options.plan ?? { seed: 0, rules: [] }, this.names);
    this.linkState = initialLinkState(this.linkPlan);
    this.scheduler = new LinkScheduler((to, bytes) => this.write(to, bytes));
    for (const node of nodes) this.byMac.set(node.mac, node.name);
  }

  /**
   * Listens on one socket per node; resolves once every port listens, so QEMU may start.
   *
   * @throws {NetError} when a socket path exists already (stale), the directory is not
   *   private, or a node name or the network is unusable.
   * @throws {FaultSpecError} when the plan's link faults do not fit the nodes.
   */
  static async start(options: NetSwitchOptions): Promise<NetSwitch> {
    const nodes = nodeAddresses(options.nodes, { network: options.network });
    for (const node of nodes) {
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(node.name)) {
        throw new NetError(`node name "${node.name}" cannot name a socket (a-z, 0-9, _ and -)`);
      }
    }
    let owned: PrivateDir | null = null;
    let dir: string;
    if (options.dir === undefined) {
      owned = await makePrivateDir("faultline-net-");
      dir = owned.path;
    } else {
      dir = options.dir;
      const info = await Deno.stat(dir).catch(() => null);
      if (!info?.isDirectory) throw new NetError(`socket directory ${dir} does not exist`);
      if (info.mode !== null && (info.mode & 0o077) !== 0) {
        throw new NetError(
          `socket directory ${dir} is open to other users (mode ${
            (info.mode & 0o777).toString(8)
          }); it must be 0700`,
        );
      }
    }
    let net: NetSwitch;
    try {
      net = new NetSwitch(nodes, dir, owned, options);
    } catch (error) {
      await owned?.remove();
      throw error;
    }
    try {
      for (const node of nodes) await net.listen(node);
    } catch (error) {
      await net.close();
      throw error;
    }
    return net;
  }

  /** The node names in order. */
  private get names(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /** Listens on a node's fresh socket path. */
  private async listen(address: NodeAddress): Promise<void> {
    const path = join(this.dir, `${address.name}.sock`);
    if (new TextEncoder().encode(path).length > UNIX_PATH_MAX) {
      throw new NetError(`socket path ${path} is longer than a unix socket path may be`);
    }
    const stale = await Deno.lstat(path).then(() => true, () => false);
    if (stale) {
      throw new NetError(
        `${path} exists already (a stale socket?): the switch listens on fresh paths only, because QEMU would connect to a stale one and run without a network`,
      );
    }
    const listener = Deno.listen({ transport: "unix", path });
    const port: Port = {
      address,
      path,
      listener,
      conn: null,
      connections: 0,
      queue: [],
      queuedBytes: 0,
      writing: false,
      waiters: new Set(),
    };
    this.ports.set(address.name, port);
    this.readers.push(this.accept(port));
  }

  /** The port of a node. */
  private port(node: string): Port {
    const port = this.ports.get(node);
    if (!port) throw new NetError(`no node ${node} (nodes: ${this.names.join(", ")})`);
    return port;
  }

  /**
   * The unix socket a node's QEMU connects to.
   *
   * @example
   * ```ts
   * net.socketPath("n1"); // "/tmp/faultline-net-XXXX/n1.sock"
   * ```
   */
  socketPath(node: string): string {
    return this.port(node).path;
  }

  /**
   * A node's MAC, IPv4 address and index.
   *
   * @example
   * ```ts
   * net.address("n2").ip; // "192.0.2.11"
   * ```
   */
  address(node: string): NodeAddress {
    return this.port(node).address;
  }

  /**
   * What the QEMU command line needs (`network` of src/vm/qemu_args.ts's VmSpec).
   *
   * @example
   * ```ts
   * qemuArgs({ ...spec, network: net.qemuNetwork("n1") });
   * ```
   */
  qemuNetwork(node: string): { socket: string; mac: string } {
    const port = this.port(node);
    return { socket: port.path, mac: port.address.mac };
  }

  /**
   * What the guest image needs (`network` of src/vm/initramfs.ts's options).
   *
   * @example
   * ```ts
   * buildInitramfs({ ...options, network: net.guestNetwork("n1") });
   * ```
   */
  guestNetwork(node: string): ReturnType<typeof guestNetworkOf> {
    this.port(node);
    return guestNetworkOf(this.nodes, node);
  }

  /**
   * The trace header's `network` field (docs/trace-format.md): the network and every
   * node's name, MAC and address; `trace pcap` names its interfaces after it.
   *
   * @example
   * ```ts
   * DiskService.start({ ..., trace: { ..., header: { network: net.traceHeader() } } });
   * ```
   */
  traceHeader(): { network: string; nodes: Omit<NodeAddress, "index">[] } {
    return {
      network: this.options.network ?? DEFAULT_NETWORK,
      nodes: this.nodes.map(({ name, mac, ip, prefixLength }) => ({ name, mac, ip, prefixLength })),
    };
  }

  /** Whether a node's QEMU is connected now. */
  connected(node: string): boolean {
    return this.port(node).conn !== null;
  }

  /**
   * Waits until a node's QEMU is connected (at once if it is).
   *
   * @throws {NodeNotConnectedError} naming the node, when `timeoutMs` passes first.
   * @example
   * ```ts
   * await net.waitConnected("n1", 5000);
   * ```
   */
  waitConnected(node: string, timeoutMs: number): Promise<void> {
    const port = this.port(node);
    if (port.conn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        port.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        port.waiters.delete(done);
        reject(
          new NodeNotConnectedError(
            node,
            `within ${timeoutMs} ms (its QEMU must start after the switch listens, with -netdev stream on ${port.path})`,
          ),
        );
      }, timeoutMs);
      port.waiters.add(done);
    });
  }

  /**
   * Waits for every node (or those named).
   *
   * @throws {NodeNotConnectedError} naming the first node that did not connect.
   */
  async waitAllConnected(timeoutMs: number, nodes: readonly string[] = this.names): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (const node of nodes) {
      await this.waitConnected(node, Math.max(0, deadline - performance.now()));
    }
  }

  /**
   * Throws unless every node (or those named) is connected now.
   *
   * @throws {NodeNotConnectedError} naming the first node that is not connected (the
   *   message names the others too).
   * @example
   * ```ts
   * net.checkConnected(); // throws: node n3 never connected to the switch ...
   * ```
   */
  checkConnected(nodes: readonly string[] = this.names): void {
    const missing = nodes.filter((node) => !this.connected(node));
    if (missing.length === 0) return;
    const others = missing.length > 1 ? ` (nor did ${missing.slice(1).join(", ")})` : "";
    throw new NodeNotConnectedError(
      missing[0],
      `on ${this.port(missing[0]).path}${others}: its guest runs without a network`,
    );
  }

  /**
   * Closes a node's connection (its QEMU was killed); its port listens on for the
   * node's next boot. Copies queued for it are dropped.
   */
  disconnect(node: string, reason = "disconnected by the switch"): void {
    const port = this.port(node);
    if (!port.conn) return;
    this.drop(port, port.conn, reason);
  }

  /** Makes the switch number frames on another clock (the run's, shared with block ops). */
  setClock(clock: OpClock): void {
    this.clock = clock;
  }

  /**
   * Adds a receiver of frame records; returns a function that removes it.
   *
   * @example
   * ```ts
   * const stop = net.addSink((record) => trace.append(record));
   * ```
   */
  addSink(sink: (record: FrameRecord) => void): () => void {
    this.sinks.push(sink);
    return () => {
      const at = this.sinks.indexOf(sink);
      if (at >= 0) this.sinks.splice(at, 1);
    };
  }

  /** The run phase is over: the link faults written without a trigger end. */
  endStanding(): void {
    this.linkState = endStandingLinks(this.linkPlan, this.linkState);
  }

  /**
   * Tells the link faults that a block op arrived: a rule whose trigger names it comes
   * into force, heals, or hits the next frame (`partition:n1|n2@40`, `drop@data/write#3`).
   */
  arriveOp(op: OpView): void {
    if (this.linkPlan.rules.length === 0) return;
    this.take(arriveOp(this.linkPlan, this.linkState, op), op.index, op.time);
  }

  /** Keeps a link step's state and tells what came into force or healed; its decisions. */
  private take(step: LinkStep, index: number, time: number): LinkDecision[] {
    this.linkState = step.state;
    for (const rule of step.healed) {
      this.emit({ type: "link-fault", action: "healed", rule, index, time });
    }
    for (const rule of step.fired) {
      this.emit({ type: "link-fault", action: "in-force", rule, index, time });
    }
    return step.decisions;
  }

  /**
   * Replaces the fault plan (its link faults start over; live faults are cleared).
   *
   * @throws {FaultSpecError} when its link faults do not fit the nodes.
   */
  setPlan(plan: FaultPlan): void {
    this.linkPlan = compileLinkPlan(plan, this.names);
    this.linkState = initialLinkState(this.linkPlan);
  }

  /**
   * `set-link-fault-state`: sets a live link fault, or heals (`none`). Returns QMP's
   * empty `return`. The arguments are described in src/net/link_live.ts.
   *
   * @throws {FaultSpecError} with a QMP-style description of bad arguments.
   * @example
   * ```ts
   * net.setLinkFaultState({ state: "delay", link: "n1<->n2", "duration-ms": 100 });
   * net.setLinkFaultState({ state: "none" });
   * ```
   */
  setLinkFaultState(args: Record<string, unknown>): Record<string, never> {
    try {
      const request = parseLinkLiveArguments(args, this.names);
      const now = { index: this.clock.arrivals, time: this.clock.now() };
      this.linkState = request.fault
        ? setLiveLinkFault(this.linkPlan, this.linkState, request.fault, now)
        : setLiveLinkFault(this.linkPlan, this.linkState, null, now, request.links);
      this.emit({ type: "control", command: "set-link-fault-state", arguments: args });
      return {};
    } catch (error) {
      if (error instanceof FaultSpecError) {
        this.emit({
          type: "control",
          command: "set-link-fault-state",
          arguments: args,
          error: error.message,
        });
      }
      throw error;
    }
  }

  /**
   * `query-link-fault-state`: the plan's link rules with their state, the live faults,
   * and each node's address and connection.
   *
   * @example
   * ```ts
   * net.queryLinkFaultState().live; // [{ state: "partition", sides: [["n1"], ["n2"]], links: [...] }]
   * ```
   */
  queryLinkFaultState(): Record<string, unknown> {
    const now = { index: this.clock.arrivals, time: this.clock.now() };
    return {
      ...describeLinkFaultState(this.linkPlan, this.linkState, now),
      nodes: this.nodes.map((node) => ({
        name: node.name,
        mac: node.mac,
        ip: node.ip,
        connected: this.connected(node.name),
      })),
    };
  }

  /** Frames and bytes per link so far, and the switch's own counters. */
  counters(): SwitchCounters {
    return {
      ...this.stats.summary(),
      overflow: this.overflow,
      framingErrors: this.framingErrors,
      ports: [...this.ports.values()].map((port) => ({
        node: port.address.name,
        connected: port.conn !== null,
        connections: port.connections,
        queuedBytes: port.queuedBytes,
      })),
    };
  }

  /** Stops listening, closes every connection and timer, and removes its own directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.close();
    for (const port of this.ports.values()) {
      try {
        port.listener.close();
      } catch { /* already closed */ }
      if (port.conn) this.drop(port, port.conn, "the switch closed");
    }
    await Promise.allSettled(this.readers);
    if (this.owned) await this.owned.remove();
    else {
      for (const port of this.ports.values()) await Deno.remove(port.path).catch(() => {});
    }
  }

  /** Closes the switch (as {@link NetSwitch.close}). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Reports an event to the caller. */
  private emit(event: NetEvent): void {
    this.options.onEvent?.(event);
  }

  /** Accepts a node's connections, one after another (a new one replaces the old). */
  private async accept(port: Port): Promise<void> {
    try {
      for await (const conn of port.listener) {
        if (this.closed) {
          conn.close();
          break;
        }
        if (port.conn) this.drop(port, port.conn, "replaced by a new connection");
        port.conn = conn;
        port.connections++;
        this.emit({ type: "connected", node: port.address.name, connection: port.connections });
        for (const waiter of [...port.waiters]) waiter();
        this.readers.push(this.read(port, conn, port.connections));
      }
    } catch (error) {
      if (!this.closed) {
        this.emit({
          type: "port-error",
          node: port.address.name,
          message: `the port stopped listening: ${error instanceof Error ? error.message : error}`,
        });
      }
    }
  }

  /** Reads frames from a node's connection until it ends. */
  private async read(port: Port, conn: Deno.Conn, connection: number): Promise<void> {
    const node = port.address.name;
    const splitter = new FrameSplitter({
      maxFrameBytes: this.options.maxFrameBytes ?? QEMU_NET_BUFSIZE,
    });
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    let reason = "the peer closed the connection";
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        // Frames are views of `buffer`: receive() copies what it keeps before the next read.
        for (const frame of splitter.push(buffer.subarray(0, n))) this.receive(node, frame);
      }
    } catch (error) {
      if (error instanceof NetError) {
        this.framingErrors++;
        this.emit({ type: "framing-error", node, message: error.message });
        reason = error.message;
      } else if (this.closed || port.conn !== conn) {
        return;
      } else {
        reason = error instanceof Error ? error.message : String(error);
      }
    }
    if (port.conn === conn) this.drop(port, conn, reason, connection);
  }

  /** Forgets a node's connection (closed, failed or replaced). */
  private drop(port: Port, conn: Deno.Conn, reason: string, connection = port.connections): void {
    try {
      conn.close();
    } catch { /* already closed */ }
    if (port.conn !== conn) return;
    port.conn = null;
    port.queue = [];
    port.queuedBytes = 0;
    this.scheduler.forget(port.address.name);
    this.emit({ type: "disconnected", node: port.address.name, connection, reason });
  }

  /** One frame from a node: number it, decide, record it, send its copies. */
  private receive(from: string, frame: Uint8Array): void {
    const index = this.clock.next();
    const time = this.clock.now();
    const view = decodeFrame(frame);
    let to: string[];
    if (view.group) to = this.names.filter((name) => name !== from);
    else {
      const owner = this.byMac.get(view.dst);
      to = owner !== undefined && owner !== from ? [owner] : [];
    }
    let decisions: LinkDecision[] = [];
    if (this.options.gate && !this.options.gate({ index, time, from, to, view })) {
      decisions = to.map((node) => ({
        rule: "power",
        fault: "power-cut",
        to: node,
        action: { do: "lose" },
      }));
    } else if (this.linkPlan.rules.length > 0 || this.linkState.live.length > 0) {
      decisions = this.take(
        decideFrame(this.linkPlan, this.linkState, { index, time, from, to, view }),
        index,
        time,
      );
    }
    const wire = encodeStreamFrame(frame);
    const bytes = wire.subarray(4);
    const deliveries = combineDecisions(decisions, to);
    const absent: string[] = [];
    for (const node of to) {
      const delivery = deliveries.get(node)!;
      if (delivery.drop) continue;
      if (!this.ports.get(node)!.conn) {
        absent.push(node);
        continue;
      }
      this.scheduler.schedule(linkKey(from, node), node, wire, delivery);
    }
    const record = frameRecord({
      index,
      time,
      from,
      to,
      view,
      frame: bytes,
      decisions,
      absent,
      keepData: this.options.keepData ?? true,
      phase: this.options.phase?.(),
    });
    this.stats.add(record);
    for (const sink of this.sinks) sink(record);
  }

  /** Queues encoded bytes for a node's connection, writing them in order. */
  private write(node: string, bytes: Uint8Array): void {
    const port = this.ports.get(node)!;
    if (!port.conn) return;
    if (port.queuedBytes + bytes.length > (this.options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES)) {
      this.overflow++;
      return;
    }
    port.queue.push(bytes);
    port.queuedBytes += bytes.length;
    if (!port.writing) this.pump(port, port.conn);
  }

  /** Writes what is queued for a node, batched, in order. */
  private async pump(port: Port, conn: Deno.Conn): Promise<void> {
    port.writing = true;
    try {
      while (port.queue.length > 0 && port.conn === conn) {
        const batch = port.queue;
        port.queue = [];
        let bytes: Uint8Array;
        if (batch.length === 1) bytes = batch[0];
        else {
          bytes = new Uint8Array(batch.reduce((n, b) => n + b.length, 0));
          let at = 0;
          for (const b of batch) {
            bytes.set(b, at);
            at += b.length;
          }
        }
        let written = 0;
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        port.queuedBytes -= bytes.length;
      }
    } catch (error) {
      if (port.conn === conn) {
        this.drop(port, conn, `write failed: ${error instanceof Error ? error.message : error}`);
      }
    } finally {
      port.writing = false;
      // A new connection may have queued bytes while this pump wrote to the old one.
      if (port.queue.length > 0 && port.conn && port.conn !== conn) this.pump(port, port.conn);
    }
  }
}
