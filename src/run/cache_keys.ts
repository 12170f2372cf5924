/**
 * The cache keys a scenario decides: of a base disk made by mkfs (./base_disks.ts) and of
 * the disks a setup phase leaves (./setup_phase.ts). Each is derived from the whole value
 * the thing is made from (src/util/cache_key.ts): a field that comes into the scenario
 * later is in the keys by itself, and changing it makes the disks again. The fields that
 * provably cannot change what a key names are left out here, by name, each with why:
 * {@link NOT_CACHE_INPUTS} is the one list of them. (A package root's key is its spec's,
 * whole: src/vm/package_root.ts.)
 *
 * @module
 */

import type { Scenario, ScenarioDisk } from "../scenario/schema.ts";
import { cacheKey, contentId, uuidOfHash, withoutFields } from "../util/cache_key.ts";
import type { BaseDisk } from "./base_disks.ts";
import type { NodeGuest } from "./prepare.ts";

/**
 * What provably cannot change a cached thing, by key: the only fields of the values the
 * keys are made from that are left out, each with why.
 */
export const NOT_CACHE_INPUTS = {
  /** Of a disk of a scenario's node (`ScenarioDisk`), for the image mkfs makes of it. */
  baseDisk: {
    mount: "where the guest mounts the disk: mkfs never sees it",
    mountOptions: "how the guest mounts the disk: mkfs never sees it",
  },
  /**
   * Of the scenario a setup runs (`setupScenario` in ./setup_phase.ts, which puts the
   * setup in place of each node's workload, check and restart, and its own expectations,
   * no declared faults, no client and no recovery order in place of the scenario's: those
   * are not in it).
   */
  setup: {
    name: "a label: no guest, disk or image is made from it (a disk's UUID is its own)",
    description: "words for people",
    source: "where the scenario was read from: the normalized scenario is its content",
    "timeouts.checkMs": "the setup's run has no check phase",
    accel:
      "the accelerator runs the same guest code, faster or slower (the --accel a run is given is not in the key either)",
    budgetMs: "how long faultline ci may spend on the scenario's faults: the setup never sees it",
  },
} as const;

/** A disk that mkfs makes (or leaves blank). */
type MadeDisk = ScenarioDisk & { kind: "filesystem" };

/** What a made disk is: its node's name and its whole spec, without what mkfs never sees. */
function madeDiskIdentity(node: string, disk: MadeDisk): unknown {
  return { node, disk: withoutFields(disk, Object.keys(NOT_CACHE_INPUTS.baseDisk)) };
}

/**
 * The cache key of the image made from a disk: what the disk is and the mkfs that makes
 * it (`mke2fs -V`'s first line; null for a blank disk).
 *
 * @example
 * ```ts
 * baseDiskKey("db", disk, "mke2fs 1.47.0 (5-Feb-2023)"); // 64 hex digits
 * ```
 */
export function baseDiskKey(node: string, disk: MadeDisk, mkfs: string | null): string {
  return cacheKey("base-disk", { identity: madeDiskIdentity(node, disk), mkfs });
}

/**
 * The UUID (and hash seed) of a disk's file system: from what the disk is, so that the same
 * disk in two scenarios is the same image, and two disks of one guest differ.
 *
 * @example
 * ```ts
 * filesystemUuid("db", disk); // "3f1c...-....-4...-8...-............"
 * ```
 */
export function filesystemUuid(node: string, disk: MadeDisk): string {
  return uuidOfHash(contentId(madeDiskIdentity(node, disk)));
}

/** What a setup runs on besides its scenario. */
export interface SetupInputs {
  /** Each node's setup guest (kernel, initramfs, package root, with their hashes). */
  guests: ReadonlyMap<string, NodeGuest>;
  /** The fresh base image of every disk. */
  bases: readonly BaseDisk[];
  /** The first line of `qemu-system-x86_64 --version`. */
  qemu: string;
}

/**
 * The cache key of the disks a setup leaves: the whole scenario it runs but
 * {@link NOT_CACHE_INPUTS}`.setup`, the guests and fresh disks it runs on, and the QEMU.
 *
 * @example
 * ```ts
 * const key = setupKey(setupScenario(scenario), { guests, bases, qemu: await qemuVersion() });
 * ```
 */
export function setupKey(derived: Scenario, inputs: SetupInputs): string {
  return cacheKey("setup", {
    scenario: withoutFields(derived, Object.keys(NOT_CACHE_INPUTS.setup)),
    guests: Object.fromEntries(inputs.guests),
    bases: inputs.bases,
    qemu: inputs.qemu,
  });
}
