/**
 * The upstream of the `--qmp` proxy during a run: the QMP of whichever VM of
 * the proxied node runs now (the run boot, then the check boot).
 *
 * @module
 */

import type { ControlUpstream } from "../fault/control.ts";
import type { QmpClient } from "../qmp/client.ts";
import type { JsonObject } from "../qmp/framing.ts";

/**
 * Follows the VMs of one node as they come and go.
 *
 * @example
 * ```ts
 * const upstream = new VmQmpUpstream((id) => exportNameOf(id));
 * upstream.attach(await vm.qmp());
 * ```
 */
export class VmQmpUpstream implements ControlUpstream {
  private current: QmpClient | null = null;
  private waiting: ((greeting: JsonObject | null) => void)[] = [];
  private finished = false;

  constructor(private readonly resolve: (id: string) => string | undefined) {}

  /** A VM's QMP is ready: clients waiting for a greeting get it. */
  attach(client: QmpClient): void {
    this.current = client;
    const greeting = this.greetingOf(client);
    for (const wake of this.waiting.splice(0)) wake(greeting);
  }

  /** The VM is gone. */
  detach(): void {
    this.current = null;
  }

  /** The run is over: clients still waiting are turned away. */
  finish(): void {
    this.finished = true;
    this.current = null;
    for (const wake of this.waiting.splice(0)) wake(null);
  }

  greeting(): Promise<JsonObject | null> {
    if (this.current) return Promise.resolve(this.greetingOf(this.current));
    if (this.finished) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async execute(command: string, args: JsonObject | undefined): Promise<unknown> {
    if (!this.current) throw new Error("no VM of this node is running now");
    return await this.current.execute(command, args);
  }

  resolveDisk(id: string): string | undefined {
    return this.resolve(id);
  }

  private greetingOf(client: QmpClient): JsonObject {
    return {
      QMP: { version: client.greeting.version, capabilities: client.greeting.capabilities },
    };
  }
}
