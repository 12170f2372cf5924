/**
 * The first phase of a run: each node's guest (a kernel and an initramfs, with
 * their hashes, which go into the trace) and every disk's base image.
 *
 * @module
 */

import type { Scenario, ScenarioNode } from "../scenario/schema.ts";
import { ensureCacheDir } from "../util/cache_dir.ts";
import { sha256File } from "../util/hash.ts";
import { DEFAULT_NETWORK, guestNetworkOf, nodeAddresses } from "../net/addresses.ts";
import type { GuestNetwork } from "../vm/initramfs.ts";
import { buildNodeInitramfs } from "../vm/node_initramfs.ts";
import { buildNodeRoot } from "../vm/node_root.ts";
import { type Busybox, ensureBusybox, ensureKernel, type Kernel } from "../vm/kernel.ts";
import { type BaseDisk, prepareBaseDisk } from "./base_disks.ts";
import type { SetupFacts } from "./setup_phase.ts";

/** What one node boots: a kernel and an initramfs, with their hashes. */
export interface NodeGuest {
  /** The kernel image. */
  kernel: { path: string; version: string; sha256: string };
  /** The initramfs. */
  initramfs: { path: string; sha256: string };
  /** The package root, for a node built from Debian packages: its image, hash and packages (`name=version`). */
  root?: { path: string; sha256: string; packages: readonly string[] };
  /**
   * Its `/init` reads a control channel (src/vm/control.ts): faultline's own guest of a node
   * of a cluster, which can take a clock jump.
   */
  control?: true;
}

/**
 * What QEMU boots for a node: its kernel and initramfs and, for a package root, the root's
 * image. Every boot of the node, saved or not, takes these, so a saved state and the start
 * that resumes it see the same drives.
 *
 * @example
 * ```ts
 * const spec = { ...guestImages(guest), phase: "check", memoryBytes, disks, results, rtcBase };
 * ```
 */
export function guestImages(
  guest: NodeGuest,
): { kernel: string; initrd: string; rootImage?: string } {
  return {
    kernel: guest.kernel.path,
    initrd: guest.initramfs.path,
    ...(guest.root ? { rootImage: guest.root.path } : {}),
  };
}

/** The guests and the base disks of a scenario, ready to boot. */
export interface Prepared {
  /** By node name. */
  guests: Map<string, NodeGuest>;
  /** Every disk's base image. */
  bases: BaseDisk[];
  /** When nodes have a setup phase: what it did (the bases of their disks are the disks it left). */
  setup?: SetupFacts;
}

/**
 * Prepares a scenario's guests (kernel, one initramfs per node) and base disks.
 *
 * @throws {CacheDirError} when the cache directory cannot be created or written;
 *   {ToolMissingError} when mkfs or qemu-img is not installed.
 *
 * @example
 * ```ts
 * const prepared = await prepareScenario(scenario);
 * ```
 */
export async function prepareScenario(scenario: Scenario, signal?: AbortSignal): Promise<Prepared> {
  // A cache that cannot be used is named before anything is built.
  await ensureCacheDir();
  const bases = await Promise.all(
    scenario.nodes.flatMap((node) => node.disks.map((disk) => prepareBaseDisk(node.name, disk))),
  );
  return { guests: await prepareGuests(scenario, signal), bases };
}

/**
 * Prepares what each node of a scenario boots: a kernel and an initramfs (and a package
 * root), by node name.
 *
 * @example
 * ```ts
 * const guests = await prepareGuests(scenario);
 * guests.get("app")!.initramfs.sha256;
 * ```
 */
export async function prepareGuests(
  scenario: Scenario,
  signal?: AbortSignal,
): Promise<Map<string, NodeGuest>> {
  let own: Promise<[Kernel, Busybox]> | null = null;
  const ownGuest = () => own ??= Promise.all([ensureKernel({ signal }), ensureBusybox({ signal })]);
  const addresses = scenario.network
    ? nodeAddresses(scenario.nodes.map((node) => node.name), clusterNetwork(scenario))
    : null;
  const guests = new Map<string, NodeGuest>();
  for (const node of scenario.nodes) {
    const network = addresses ? guestNetworkOf(addresses, node.name) : undefined;
    guests.set(node.name, await nodeGuest(node, ownGuest, { network, signal }));
  }
  return guests;
}

/**
 * The cluster's network as the switch and the guest images take it (older traces' scenarios have no subnet).
 *
 * @example
 * ```ts
 * nodeAddresses(names, clusterNetwork(scenario));
 * ```
 */
export function clusterNetwork(scenario: Scenario): { network: string } {
  return { network: scenario.network?.subnet ?? DEFAULT_NETWORK };
}

/** A node's guest: the user's own kernel and initramfs, or faultline's, built for the node. */
async function nodeGuest(
  node: ScenarioNode,
  ownGuest: () => Promise<[Kernel, Busybox]>,
  options: { network?: GuestNetwork; signal?: AbortSignal },
): Promise<NodeGuest> {
  const { signal } = options;
  const given = node.guest;
  if (given?.kernel) {
    // The user's own guest: taken as it is, named by its hashes.
    return {
      kernel: { path: given.kernel, version: "given", sha256: await sha256File(given.kernel) },
      initramfs: { path: given.initramfs, sha256: await sha256File(given.initramfs) },
    };
  }
  const [kernel, busybox] = await ownGuest();
  const kernelFacts = { path: kernel.vmlinuz, version: kernel.version, sha256: kernel.sha256 };
  if (given) {
    return {
      kernel: kernelFacts,
      initramfs: { path: given.initramfs, sha256: await sha256File(given.initramfs) },
    };
  }
  const [image, root] = await Promise.all([
    buildNodeInitramfs(node, {
      kernel,
      busybox,
      // A node of a cluster may take a clock jump: its guest reads a control channel.
      ...(options.network ? { network: options.network, control: true } : {}),
      signal,
    }),
    buildNodeRoot(node, { busybox, ...(signal ? { signal } : {}) }),
  ]);
  return {
    kernel: kernelFacts,
    initramfs: { path: image.path, sha256: image.sha256 },
    ...(root ? { root: { path: root.path, sha256: root.sha256, packages: root.packages } } : {}),
    ...(options.network ? { control: true as const } : {}),
  };
}
