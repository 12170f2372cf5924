/**
 * The services one run starts before any VM: the fault layer over every disk of
 * every node (recording into the trace), the switch joining the nodes when the
 * scenario has a network, and the `--qmp` endpoints. The run (src/run/run.ts)
 * wires them to its phases.
 *
 * @module
 */

import { join } from "node:path";
import type { OpClock } from "../block/op_clock.ts";
import { kindOf } from "../fault/kinds/mod.ts";
import type { FaultPlan } from "../fault/types.ts";
import type { LinkFrame } from "../net/link_plan.ts";
import { type NetEvent, NetSwitch } from "../net/switch.ts";
import { type Scenario, SCENARIO_VERSION } from "../scenario/schema.ts";
import { DiskService } from "../service/disk_service.ts";
import type { EventRecord, OpRecord } from "../trace/schema.ts";
import { RunError } from "./errors.ts";
import { clusterNetwork, type Prepared } from "./prepare.ts";
import { NodeQmpProxy } from "./qmp_proxy.ts";
import type { GuestPinning } from "./pinning.ts";
import { qemuVersion } from "./qemu_version.ts";
import { SequencedLayer, type Sequencer } from "./strict_order.ts";
import type { ResumeFrom, RunOptions } from "./run.ts";
import { TCG } from "../vm/accel.ts";

/**
 * The export name of a disk: its name, or NODE-NAME when there are several nodes.
 *
 * @example
 * ```ts
 * diskExportName(scenario, "db", "data"); // "data", or "db-data" in a cluster
 * ```
 */
export function diskExportName(scenario: Scenario, node: string, disk: string): string {
  return scenario.nodes.length > 1 ? `${node}-${disk}` : disk;
}

/** Whether a plan needs the written bytes of this run itself: a live power loss or a node crash. */
function cutsLive(plan: FaultPlan): boolean {
  return plan.rules.some((rule) => kindOf(rule.effect).cutsDisks);
}

/** What the services report back to the run. */
export interface ServiceHooks {
  phase: () => string | undefined;
  step: (node: string) => string | undefined;
  onRecord: (record: OpRecord) => void;
  /** Every event record as it is written (src/run/history.ts keeps those a history is made of). */
  onEventRecord: (record: EventRecord) => void;
  /** Every frame as it arrives; false: its sender has no power. */
  gate: (frame: LinkFrame) => boolean;
  onNetEvent: (event: NetEvent) => void;
}

/**
 * The switch of a networked scenario, listening before any QEMU starts (QEMU's stream
 * client never retries); null without a network.
 */
export async function startNetwork(
  options: RunOptions,
  clock: OpClock,
  hooks: ServiceHooks,
): Promise<NetSwitch | null> {
  const { scenario } = options;
  if (!scenario.network) return null;
  return await NetSwitch.start({
    nodes: scenario.nodes.map((node) => node.name),
    ...clusterNetwork(scenario),
    clock,
    plan: options.plan ?? { seed: 0, rules: [] },
    keepData: options.trace.keepData,
    phase: hooks.phase,
    gate: hooks.gate,
    onEvent: hooks.onNetEvent,
  });
}

/** The fault layer of a run: every disk of every node, recording into the trace. */
export async function startDiskService(
  options: RunOptions,
  parts: {
    prepared: Prepared;
    dir: string;
    clock: OpClock;
    sequencer: Sequencer | null;
    net: NetSwitch | null;
    pinning: GuestPinning;
  },
  hooks: ServiceHooks,
): Promise<DiskService> {
  const { scenario } = options;
  const { prepared, sequencer } = parts;
  const plan = options.plan ?? { seed: 0, rules: [] };
  return await DiskService.start({
    disks: prepared.bases.map((base) => ({
      name: base.name,
      node: base.node,
      exportName: diskExportName(scenario, base.node, base.name),
      image: base.path,
      sha256: base.sha256,
    })),
    listen: { transport: "unix", path: join(parts.dir, "nbd.sock") },
    ...(options.control ? { controlPath: options.control } : {}),
    plan,
    scratchDir: parts.dir,
    clock: parts.clock,
    node: scenario.nodes[0].name,
    phase: hooks.phase,
    step: hooks.step,
    trace: {
      path: options.trace.path,
      keepData: options.trace.keepData || cutsLive(plan),
      command: options.command,
      header: await traceHeader(options, parts),
    },
    onEvent: (event) => options.onEvent?.({ type: "service", event }),
    wrap: sequencer
      ? (stack, disk) => new SequencedLayer(stack, sequencer, { node: disk.node, disk: disk.name })
      : undefined,
    onRecord: hooks.onRecord,
    onEventRecord: hooks.onEventRecord,
  });
}

/**
 * The trace's header: the scenario, each node's guest (with its seed), the guests' clock,
 * the network, the setup, QEMU's version, the saved states the run starts from, then the
 * caller's own fields.
 */
async function traceHeader(
  options: RunOptions,
  parts: { prepared: Prepared; net: NetSwitch | null; pinning: GuestPinning },
): Promise<Record<string, unknown>> {
  const { prepared, pinning } = parts;
  const warm = warmHeader(options);
  return {
    scenario: options.scenario,
    scenarioVersion: SCENARIO_VERSION,
    guests: Object.fromEntries(
      [...prepared.guests].map(([node, guest]) => [node, {
        kernel: { version: guest.kernel.version, sha256: guest.kernel.sha256 },
        initramfs: guest.initramfs.sha256,
        ...(guest.root
          ? { root: { sha256: guest.root.sha256, packages: guest.root.packages } }
          : {}),
        ...(pinning.seeds[node] !== undefined ? { seed: pinning.seeds[node] } : {}),
      }]),
    ),
    clock: pinning.clock,
    ...(parts.net ? { network: parts.net.traceHeader() } : {}),
    ...(prepared.setup ? { setup: prepared.setup } : {}),
    qemu: await qemuVersion(),
    accel: options.accel ?? TCG,
    ...(warm ? { warm } : {}),
    ...options.header,
  };
}

/** The header's `warm`: the saved check-phase guests and the saved run start the run uses, if any. */
function warmHeader(options: RunOptions): Record<string, unknown> | undefined {
  const { warmChecks, resume } = options;
  if (!warmChecks?.size && !resume) return undefined;
  return {
    ...(warmChecks?.size
      ? {
        check: Object.fromEntries(
          [...warmChecks].map((
            [node, state],
          ) => [node, {
            hold: state.hold,
            phase: state.phase,
            state: state.id,
            machine: state.key,
          }]),
        ),
      }
      : {}),
    ...(resume ? { run: warmRunHeader(options.scenario, resume) } : {}),
  };
}

/**
 * The header's `warm.run`: the saved state and how many ops came before the saved moment
 * (ops 0 to `opsBefore - 1` were served then, not in this trace); for a cluster each node's
 * state and ops before its hold, the arrivals (ops and frames) before the saved moment, and
 * what crossed the switch by then.
 */
function warmRunHeader(scenario: Scenario, resume: ResumeFrom): Record<string, unknown> {
  const nodes = Object.entries(resume.states);
  if (scenario.nodes.length === 1) {
    const [node, state] = nodes[0];
    return {
      node,
      hold: state.hold,
      state: state.id,
      machine: state.key,
      opsBefore: resume.clockStart,
    };
  }
  return {
    hold: nodes[0][1].hold,
    nodes: Object.fromEntries(
      nodes.map(([node, state]) => [node, {
        state: state.id,
        machine: state.key,
        opsBefore: resume.opsBefore[node],
      }]),
    ),
    arrivalsBefore: resume.clockStart,
    ...(resume.network ? { network: resume.network } : {}),
  };
}

/** The `--qmp` endpoints of the nodes that asked for one. */
export async function startProxies(
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
          ? diskExportName(options.scenario, name, id)
          : undefined,
    });
    cleanups.push(() => proxy.close());
    proxies.set(name, proxy);
  }
  return proxies;
}
