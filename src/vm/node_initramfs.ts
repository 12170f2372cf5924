/**
 * The guest image of a scenario's node. The node comes validated and normalized from the
 * scenario's load, which checks it with the rules the guest image needs
 * (src/scenario/guest_rules.ts), each problem named by its field in the scenario file; so
 * options that the image refuses here are a bug in faultline (the two checks disagree),
 * not the user's mistake, and are thrown as such.
 *
 * @module
 */

import type { ScenarioNode } from "../scenario/schema.ts";
import {
  assembleInitramfs,
  type GuestNetwork,
  type Initramfs,
  type InitramfsOptions,
} from "./initramfs.ts";
import { initramfsOptionProblems } from "./initramfs_options.ts";
import type { Busybox, Kernel } from "./kernel.ts";

/** What a node's image is built with besides the node. */
export interface NodeImageOptions {
  /** The kernel whose modules go in. */
  kernel: Kernel;
  /** The busybox that goes in. */
  busybox: Busybox;
  /** The node's place on the cluster's network, when the scenario has one. */
  network?: GuestNetwork;
  /** A control channel from faultline (src/vm/control.ts): every node of a cluster has one. */
  control?: boolean;
  signal?: AbortSignal;
}

/**
 * The initramfs options of a scenario's node: its workload, check and restart as the
 * phases run, check and restart; its disks, programs, files and environment; for a node
 * built from packages, a package root (whose image holds the files).
 *
 * @example
 * ```ts
 * const options = nodeInitramfsOptions(scenario.nodes[0], { kernel, busybox });
 * options.phases.run === scenario.nodes[0].workload; // true
 * ```
 */
export function nodeInitramfsOptions(
  node: ScenarioNode,
  image: NodeImageOptions,
): InitramfsOptions {
  const phases: Record<string, string> = { run: node.workload };
  if (node.check !== null) phases.check = node.check;
  if (node.restart !== null) phases.restart = node.restart;
  return {
    kernel: image.kernel,
    busybox: image.busybox,
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
    // A package root carries the node's files itself (src/vm/node_root.ts).
    programs: node.root ? [] : node.programs,
    files: node.root
      ? []
      : node.files.map((file) => ({ hostPath: file.host, guestPath: file.guest })),
    env: node.env,
    ...(image.network ? { network: image.network } : {}),
    ...(image.control ? { control: true } : {}),
    ...(node.root ? { packageRoot: true } : {}),
    ...(image.signal ? { signal: image.signal } : {}),
  };
}

/**
 * Builds the initramfs of a scenario's node (or finds it in the cache). A host file that
 * is missing or a program that is not ELF is named by its field in the scenario
 * (`nodes.app.programs[0]`).
 *
 * @throws {Error} (a bug, not a usage error) when the image refuses what the scenario's
 *   load accepted.
 * @example
 * ```ts
 * const image = await buildNodeInitramfs(scenario.nodes[0], { kernel, busybox });
 * ```
 */
export async function buildNodeInitramfs(
  node: ScenarioNode,
  image: NodeImageOptions,
): Promise<Initramfs> {
  const options = nodeInitramfsOptions(node, image);
  const problems = initramfsOptionProblems(options);
  if (problems.length > 0) {
    throw new Error(
      `the guest image refuses node ${node.name}, which the scenario's checks accepted ` +
        `(a bug in faultline): ${problems.join("; ")}`,
    );
  }
  const at = `nodes.${node.name}`;
  return await assembleInitramfs(options, {
    file: (i) => `${at}.files[${i}].host`,
    program: (i) => `${at}.programs[${i}]`,
  });
}
