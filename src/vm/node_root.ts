/**
 * The package root of a scenario's node (`package_root.ts`): its packages, users and
 * `rootSetup`, its files, and its disks' mountpoints, which must be directories in the
 * read-only image (those under `/tmp` and `/run` are made on their tmpfs at boot).
 *
 * @module
 */

import type { ScenarioNode } from "../scenario/schema.ts";
import type { Busybox } from "./kernel.ts";
import { ensurePackageRoot, type PackageRoot, type PackageRootSpec } from "./package_root.ts";

/**
 * What a node's package root is built from; null when the node names no packages.
 *
 * @example
 * ```ts
 * nodeRootSpec(scenario.nodes[0])?.directories; // ["/data"]
 * ```
 */
export function nodeRootSpec(node: ScenarioNode): PackageRootSpec | null {
  const root = node.root;
  if (!root) return null;
  return {
    packages: root.packages,
    users: root.users,
    files: node.files.map((file) => ({ hostPath: file.host, guestPath: file.guest })),
    rootSetup: root.rootSetup,
    directories: node.disks.flatMap((disk) =>
      disk.mount === null || /^\/(tmp|run)(\/|$)/.test(disk.mount) ? [] : [disk.mount]
    ),
  };
}

/**
 * Builds (or finds in the cache) the package root of a node; null when it names no packages.
 *
 * @example
 * ```ts
 * const root = await buildNodeRoot(scenario.nodes[0], { busybox });
 * ```
 */
export async function buildNodeRoot(
  node: ScenarioNode,
  options: { busybox: Busybox; signal?: AbortSignal },
): Promise<PackageRoot | null> {
  const spec = nodeRootSpec(node);
  if (!spec) return null;
  return await ensurePackageRoot(spec, {
    busybox: options.busybox,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
