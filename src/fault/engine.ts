/**
 * The fault engine: the plan's running state, shared by the fault layers of
 * every disk of a run. It feeds ops to the pure `decide` one at a time, keeps
 * the ops a hang holds, the bandwidth budget of a limping disk and the live
 * faults set over the control socket, and tells listeners what it injected.
 *
 * @module
 */

import { BlockError, type OpType } from "../block/backend.ts";
import type { OpClock } from "../block/op_clock.ts";
import {
  type ActiveFault,
  decide,
  type Decision,
  endStanding,
  initialState,
  type LiveFault,
  type PlanState,
  setLiveFault,
} from "./plan.ts";
import { type OpView, signatureText } from "./trigger.ts";
import type { FaultPlan } from "./types.ts";

/** One injected fault, as the trace records it. */
export interface InjectedFault extends Decision {
  /** The op's index. */
  index: number;
  /** The disk (its export name). */
  disk: string;
  /** The op's type. */
  op: OpType;
  /** Milliseconds since the run started. */
  time: number;
}

/**
 * How close to its deadline a precise sleep stops trusting timers: `setTimeout` in Deno
 * wakes about a millisecond late and never sooner than about two, so the last stretch is
 * waited by passing a message to itself until the deadline (each pass lets other I/O run).
 */
const FINE_MS = 2.5;

/** The waiters of a frozen fault layer; no disk has this name (export names are non-empty, this is not one). */
const FROZEN = "\u0000frozen";
/** The waiters of one frozen node's disks. */
const frozenNode = (node: string) => `\u0000frozen:${node}`;

interface Waiter {
  disk: string | null;
  resolve: () => void;
  reject: (error: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Shared fault state of a run.
 *
 * @example
 * ```ts
 * const engine = new FaultEngine({ seed: 1, rules: [parseFaultSpec("eio@17")] }, clock);
 * engine.onInjected((fault) => trace.event(fault));
 * ```
 */
export class FaultEngine {
  private state: PlanState;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners: ((fault: InjectedFault) => void)[] = [];
  private readonly bandwidthFree = new Map<string, number>();
  /** Ops decided so far, by signature. */
  private readonly occurrences = new Map<string, number>();
  private readonly cutListeners: ((index: number) => void)[] = [];
  private cutAt: number | null = null;
  private readonly frozenNodes = new Set<string>();
  private readonly arrivalListeners: ((op: OpView) => void)[] = [];
  private shutDown = false;
  /** Precise sleepers in their last stretch, with their deadlines (run time). */
  private readonly fine = new Map<Waiter, number>();
  private channel: MessageChannel | null = null;

  constructor(readonly plan: FaultPlan, readonly clock: OpClock) {
    this.state = initialState(plan);
  }

  /** True when nothing can ever be injected and nobody watches arrivals, so layers may skip the decision. */
  get idle(): boolean {
    return this.plan.rules.length === 0 && this.state.active.length === 0 &&
      Object.keys(this.state.live).length === 0 && this.arrivalListeners.length === 0;
  }

  /**
   * Calls `listener` with every op as it arrives, before anything is decided for it:
   * a node fault watching ops may freeze the op's node (then the op never happens).
   */
  onArrival(listener: (op: OpView) => void): void {
    this.arrivalListeners.push(listener);
  }

  /** Tells the arrival listeners about an op. */
  arrive(op: OpView): void {
    for (const listener of this.arrivalListeners) listener(op);
  }

  /** Whether the ops of `node` are frozen: the whole machine lost power, or that node did. */
  isFrozen(node: string | undefined): boolean {
    return this.cutAt !== null || (node !== undefined && this.frozenNodes.has(node));
  }

  /**
   * One node lost power: from now on no op of its disks reaches a store (so nothing
   * changes their stored state and no flush makes their writes durable) while the other
   * nodes go on.
   */
  freezeNode(node: string): void {
    this.frozenNodes.add(node);
  }

  /** The node's power is back (it boots again on its crash state): its held ops fail with ESHUTDOWN. */
  thawNode(node: string): void {
    this.frozenNodes.delete(node);
    for (const waiter of [...this.waiters]) {
      if (waiter.disk === frozenNode(node)) {
        this.finish(waiter, new BlockError("eshutdown", `the power of node ${node} was cut`));
      }
    }
  }

  /** Holds an op of a frozen node (or machine) until its power comes back, or forever. */
  holdFrozen(node: string | undefined): Promise<void> {
    return this.wait(
      this.cutAt !== null || node === undefined ? FROZEN : frozenNode(node),
      undefined,
    );
  }

  /** Calls `listener` for every fault injected from now on. */
  onInjected(listener: (fault: InjectedFault) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The power was cut: from this instant no op reaches a store, so nothing
   * changes the stored state and no flush makes a write durable.
   */
  get frozen(): boolean {
    return this.cutAt !== null;
  }

  /** The index of the op the power was cut at, if it was. */
  get powerCutAt(): number | null {
    return this.cutAt;
  }

  /** Calls `listener` once, when the power is cut (the runner then kills the VMs). */
  onPowerCut(listener: (index: number) => void): void {
    this.cutListeners.push(listener);
  }

  /** Cuts the power as op `index` arrives. */
  cutPower(index: number): void {
    if (this.cutAt !== null) return;
    this.cutAt = index;
    for (const listener of this.cutListeners) listener(index);
  }

  /**
   * Turns the power back on (for the check boot after a cut): the ops the cut
   * held fail with ESHUTDOWN (their machine is gone), and ops flow again.
   */
  restorePower(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.disk === FROZEN) {
        this.finish(waiter, new BlockError("eshutdown", "the power was cut"));
      }
    }
    this.cutAt = null;
  }

  /** Holds an op until shutdown: the op of a machine whose power is off never completes. */
  holdForever(): Promise<void> {
    return this.wait(FROZEN, undefined);
  }

  /** Decides for one arriving op and advances the state. */
  decide(op: OpView): Decision[] {
    if (op.occurrence === undefined) op.occurrence = this.occurrenceOf(op);
    const { decisions, state } = decide(this.plan, this.state, op);
    this.state = state;
    return decisions;
  }

  /** The op's occurrence among the ops of its signature so far, from 1. */
  private occurrenceOf(op: OpView): number {
    const signature = signatureText(op);
    const occurrence = (this.occurrences.get(signature) ?? 0) + 1;
    this.occurrences.set(signature, occurrence);
    return occurrence;
  }

  /** Reports an injected fault to the listeners. */
  report(op: OpView, decision: Decision): void {
    const fault: InjectedFault = {
      ...decision,
      index: op.index,
      disk: op.disk,
      op: op.type,
      time: op.time,
    };
    for (const listener of this.listeners) listener(fault);
  }

  /**
   * The run phase is over: the plan's rules written without a trigger end, and the ops their
   * hangs and stalls hold go on.
   */
  endStanding(): void {
    const before = this.state.active;
    this.state = endStanding(this.plan, this.state);
    for (const disk of new Set(before.map((fault) => fault.disk))) {
      const held = this.state.active.some((fault) => fault.disk === disk) || this.state.live[disk];
      if (!held) this.release(disk);
    }
  }

  /** Sets (or with `null` clears) a disk's live fault; clearing releases the ops its hangs hold. */
  setLive(disk: string, fault: LiveFault | null): void {
    this.state = setLiveFault(this.state, disk, fault);
    if (fault === null) this.release(disk);
  }

  /** The live fault of a disk, if any. */
  live(disk: string): LiveFault | undefined {
    return this.state.live[disk];
  }

  /** Persistent faults of the plan in force on a disk. */
  active(disk: string): readonly ActiveFault[] {
    return this.state.active.filter((fault) => fault.disk === disk);
  }

  /** How many ops each rule of the plan hit when it fired, in plan order. */
  hits(): readonly number[] {
    return this.state.hits;
  }

  /** Whether each rule of the plan fired (came into force or hit an op), in plan order. */
  fired(): readonly boolean[] {
    return this.state.fired;
  }

  /** Ops of a disk held by a hang right now. */
  heldOps(disk: string): number {
    let count = 0;
    for (const waiter of this.waiters) if (waiter.disk === disk) count++;
    return count;
  }

  /**
   * Holds an op of `disk` until run time `untilMs`, or until the disk is
   * released when absent.
   */
  hold(disk: string, untilMs?: number): Promise<void> {
    return this.wait(disk, untilMs === undefined ? undefined : untilMs - this.clock.now());
  }

  /** Waits `ms` (a delay); cut short with an error only by {@link shutdown}. */
  sleep(ms: number): Promise<void> {
    return this.wait(null, ms);
  }

  /**
   * Waits `ms` to within a few microseconds (a limp, whose latencies are a target): a
   * timer until {@link FINE_MS} before the deadline, then message passes until it. Cut
   * short with an error only by {@link shutdown}.
   */
  sleepPrecisely(ms: number): Promise<void> {
    if (this.shutDown) {
      return Promise.reject(new BlockError("eshutdown", "the fault layer is shutting down"));
    }
    if (!(ms > 0)) return Promise.resolve();
    const deadline = this.clock.now() + ms;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { disk: null, resolve, reject };
      this.waiters.add(waiter);
      const last = () => {
        if (!this.waiters.has(waiter)) return;
        this.fine.set(waiter, deadline);
        this.spin();
      };
      if (ms > FINE_MS) waiter.timer = setTimeout(last, ms - FINE_MS);
      else last();
    });
  }

  /**
   * Reserves a limping disk's bandwidth for `bytes` and returns how long the
   * op must wait for its turn: ops share the cap one after another.
   */
  bandwidthWait(disk: string, bytes: number, bytesPerSecond: number): number {
    const now = this.clock.now();
    const start = Math.max(now, this.bandwidthFree.get(disk) ?? 0);
    const end = start + (bytes / bytesPerSecond) * 1000;
    this.bandwidthFree.set(disk, end);
    return end - now;
  }

  /** Releases every op held by a hang on `disk`. */
  release(disk: string): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.disk === disk) this.finish(waiter, null);
    }
  }

  /** Fails every held or sleeping op with ESHUTDOWN; nothing waits afterwards. */
  shutdown(): void {
    this.shutDown = true;
    for (const waiter of [...this.waiters]) {
      this.finish(waiter, new BlockError("eshutdown", "the fault layer is shutting down"));
    }
    this.fine.clear();
    this.stopSpinning();
  }

  /** Passes a message to itself while precise sleepers wait, waking each at its deadline. */
  private spin(): void {
    if (this.channel) return;
    const channel = this.channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const now = this.clock.now();
      for (const [waiter, deadline] of this.fine) {
        if (!this.waiters.has(waiter)) this.fine.delete(waiter);
        else if (deadline <= now) {
          this.fine.delete(waiter);
          this.finish(waiter, null);
        }
      }
      if (this.fine.size === 0) this.stopSpinning();
      else channel.port2.postMessage(0);
    };
    channel.port2.postMessage(0);
  }

  private stopSpinning(): void {
    this.channel?.port1.close();
    this.channel?.port2.close();
    this.channel = null;
  }

  private wait(disk: string | null, ms: number | undefined): Promise<void> {
    if (this.shutDown) {
      return Promise.reject(new BlockError("eshutdown", "the fault layer is shutting down"));
    }
    if (ms !== undefined && ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { disk, resolve, reject };
      if (ms !== undefined) waiter.timer = setTimeout(() => this.finish(waiter, null), ms);
      this.waiters.add(waiter);
    });
  }

  private finish(waiter: Waiter, error: Error | null): void {
    if (!this.waiters.delete(waiter)) return;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    if (error) waiter.reject(error);
    else waiter.resolve();
  }
}
