/**
 * `--qmp PATH` during a run: a QMP endpoint for one node that proxies the QMP
 * of whichever QEMU of that node runs now (its run boot, its check boot, a boot
 * after a crash) and adds the fault layer's `set-block-fault-state` and
 * `query-block-fault-state` for the node's disks, named by their export name
 * or by QEMU's drive id (the disk's name in the node).
 *
 * @module
 */

import type { QmpClient, QmpEvent } from "../qmp/client.ts";
import type { JsonObject } from "../qmp/framing.ts";
import type { QmpServer } from "../qmp/server.ts";
import {
  type ControlUpstream,
  type FaultControlTarget,
  startControlServer,
} from "../service/control.ts";
import { VERSION } from "../version.ts";

/** Follows the QEMUs of one node as they come and go. */
class NodeUpstream implements ControlUpstream {
  private current: QmpClient | null = null;
  private waiting: ((greeting: JsonObject | null) => void)[] = [];
  private finished = false;

  constructor(private readonly resolve: (id: string) => string | undefined) {}

  /** A QEMU's QMP is ready (clients waiting for a greeting get it), or gone (null). */
  follow(client: QmpClient | null): void {
    this.current = client;
    if (!client) return;
    const greeting = greetingOf(client);
    for (const wake of this.waiting.splice(0)) wake(greeting);
  }

  /** The run is over: clients still waiting are turned away. */
  finish(): void {
    this.finished = true;
    this.current = null;
    for (const wake of this.waiting.splice(0)) wake(null);
  }

  greeting(): Promise<JsonObject | null> {
    if (this.current) return Promise.resolve(greetingOf(this.current));
    if (this.finished) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async execute(command: string, args: JsonObject | undefined): Promise<unknown> {
    if (!this.current) throw new Error("no QEMU of this node is running now");
    return await this.current.execute(command, args);
  }

  resolveDisk(id: string): string | undefined {
    return this.resolve(id);
  }
}

function greetingOf(client: QmpClient): JsonObject {
  return { QMP: { version: client.greeting.version, capabilities: client.greeting.capabilities } };
}

/**
 * The QMP endpoint of one node.
 *
 * @example
 * ```ts
 * const proxy = await NodeQmpProxy.start({ path: "/tmp/x/qmp.sock", target: service, resolveDisk });
 * proxy.follow(await vm.qmp());
 * ```
 */
export class NodeQmpProxy {
  private constructor(
    private readonly upstream: NodeUpstream,
    private readonly server: QmpServer,
  ) {}

  /** Listens at `path`; `resolveDisk` turns QEMU's drive ids of the node into export names. */
  static async start(options: {
    path: string;
    target: FaultControlTarget;
    resolveDisk: (id: string) => string | undefined;
  }): Promise<NodeQmpProxy> {
    const upstream = new NodeUpstream(options.resolveDisk);
    const server = await startControlServer({
      path: options.path,
      target: options.target,
      version: VERSION,
      upstream,
    });
    return new NodeQmpProxy(upstream, server);
  }

  /** The node's QEMU is up (its QMP client), or gone (null: the proxy's clients are disconnected). */
  follow(client: QmpClient | null): void {
    this.upstream.follow(client);
    if (!client) this.server.disconnectClients();
  }

  /** Passes one of QEMU's events on to the proxy's clients. */
  event(event: QmpEvent): void {
    this.server.broadcast({ event: event.event, data: event.data, timestamp: event.timestamp });
  }

  async close(): Promise<void> {
    this.upstream.finish();
    await this.server.close();
  }
}
