/**
 * Warm checks: a node's check guest saved once, before its disk driver loads
 * (src/vm/snapshot.ts, hold `disks`), and each check started from that saved state
 * instead of booting. The saved guest's disks are placeholders that hold no data
 * (QEMU's null-co driver) and its disk driver has not loaded: the state cannot hold
 * anything of any disk, and each check's guest loads the driver, probes the crash
 * state's disks, mounts them with a fresh page cache and starts its programs as a fresh
 * boot would.
 *
 * A node takes a warm check when faultline builds its guest (a node's own kernel or
 * initramfs knows no hold point) and the scenario has one node (a cluster's checks wait
 * for the other nodes' restarts, which boot cold). Otherwise its checks boot cold, and
 * {@link WarmChecks.cold} says why.
 *
 * @module
 */

import type { Scenario } from "../scenario/schema.ts";
import { RESULTS_DISK_SIZE, RESULTS_SERIAL } from "../vm/results.ts";
import { type GuestState, saveGuestState } from "../vm/snapshot.ts";
import { RTC_BASE } from "./boot.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import type { Prepared } from "./prepare.ts";

/** The saved check guests of a scenario, by node, and the nodes that check cold, with why. */
export interface WarmChecks {
  /** Each node's saved check guest. */
  states: Map<string, GuestState>;
  /** The nodes whose checks boot cold, with the reason. */
  cold: { node: string; reason: string }[];
}

/**
 * Why a scenario's node checks cold, or null when its check can start from a saved state.
 *
 * @example
 * ```ts
 * warmCheckRefusal(scenario, scenario.nodes[0]); // null for fsync-log
 * ```
 */
export function warmCheckRefusal(
  scenario: Scenario,
  node: Scenario["nodes"][number],
): string | null {
  if (node.check === null) return "it has no check";
  if (scenario.nodes.length > 1) {
    return "a cluster's checks start once the other nodes' restarts booted (those boot cold)";
  }
  if (node.guest) return "it boots its own guest image, which has no hold point";
  return null;
}

/** Options of {@link saveWarmChecks}. */
export interface WarmCheckOptions {
  /** A private directory for the saved states (removed by the caller). */
  dir: string;
  /** Where the guests' memory files go (a tmpfs is fastest); `dir` by default. */
  memoryDir?: string;
  signal?: AbortSignal;
}

/**
 * Saves the check guest of every node of the scenario that can take one.
 *
 * @throws {VmError} when a guest does not reach its hold point.
 * @example
 * ```ts
 * const warm = await saveWarmChecks(scenario, prepared, { dir });
 * await runScenario({ ..., warm: warm.states });
 * ```
 */
export async function saveWarmChecks(
  scenario: Scenario,
  prepared: Prepared,
  options: WarmCheckOptions,
): Promise<WarmChecks> {
  const states = new Map<string, GuestState>();
  const cold: { node: string; reason: string }[] = [];
  for (const node of scenario.nodes) {
    const refusal = warmCheckRefusal(scenario, node);
    if (refusal !== null) {
      if (node.check !== null) cold.push({ node: node.name, reason: refusal });
      continue;
    }
    const guest = prepared.guests.get(node.name)!;
    const state = await saveGuestState({
      kernel: guest.kernel.path,
      initrd: guest.initramfs.path,
      phase: "check",
      memoryBytes: node.memoryBytes,
      disks: node.disks.map((disk) => {
        const base = prepared.bases.find((b) => b.node === node.name && b.name === disk.name)!;
        return { name: disk.name, uri: `null:${base.sizeBytes}` };
      }),
      results: { name: RESULTS_SERIAL, uri: `null:${RESULTS_DISK_SIZE}` },
      rtcBase: RTC_BASE,
    }, {
      hold: "disks",
      dir: options.dir,
      ...(options.memoryDir ? { memoryDir: options.memoryDir } : {}),
      timeoutMs: scenario.timeouts.bootMs,
      signal: options.signal,
    });
    states.set(node.name, state);
  }
  return { states, cold };
}

/** Saved check guests with their own private directories; disposing removes them. */
export interface WarmSession extends AsyncDisposable, WarmChecks {
  /** Milliseconds it took to save them. */
  savedMs: number;
}

/** The tmpfs where guests' memory files go, when the machine has one. */
const MEMORY_TMPFS = "/dev/shm";

/**
 * Saves a scenario's check guests ({@link saveWarmChecks}) in private directories of
 * their own (the memory files on /dev/shm when there is one), removed on disposal.
 *
 * @example
 * ```ts
 * await using warm = await openWarmChecks(scenario, prepared);
 * for (const point of points) await runScenario({ ..., warmChecks: warm.states });
 * ```
 */
export async function openWarmChecks(
  scenario: Scenario,
  prepared: Prepared,
  options: { signal?: AbortSignal } = {},
): Promise<WarmSession> {
  const started = performance.now();
  const dir = await makePrivateDir("faultline-warm-");
  const tmpfs = await Deno.stat(MEMORY_TMPFS).then((info) => info.isDirectory, () => false);
  const memory = tmpfs ? await makePrivateDir("faultline-warm-", { parent: MEMORY_TMPFS }) : null;
  const remove = async () => {
    await memory?.remove();
    await dir.remove();
  };
  try {
    const checks = await saveWarmChecks(scenario, prepared, {
      dir: dir.path,
      ...(memory ? { memoryDir: memory.path } : {}),
      signal: options.signal,
    });
    return { ...checks, savedMs: performance.now() - started, [Symbol.asyncDispose]: remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
