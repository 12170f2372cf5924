/**
 * Warm checks and warm runs. A node's check guest saved once, before its disk driver loads
 * (src/vm/snapshot.ts, hold `disks`), and each check started from that saved state
 * instead of booting. The saved guest's disks are placeholders that hold no data
 * (QEMU's null-co driver) and its disk driver has not loaded: the state cannot hold
 * anything of any disk, and each check's guest loads the driver, probes the crash
 * state's disks, mounts them with a fresh page cache and starts its programs as a fresh
 * boot would.
 *
 * A warm run does the same for the points of an online fault (EIO at op N, which re-run
 * the workload): the run is saved once at its workload's start (hold `phase`: booted,
 * disks mounted, the workload not started), the fault layer's overlay forked into an
 * image per disk at that moment, and each point resumes from there. The saved ops must be
 * the recording's ({@link openWarmRun} checks them), so a point's ops before the workload
 * are identical by construction.
 *
 * A node takes a warm check when faultline builds its guest (a node's own kernel or
 * initramfs knows no hold point) and the scenario has one node (a cluster's checks wait
 * for the other nodes' restarts, which boot cold). Otherwise its checks boot cold, and
 * {@link WarmChecks.cold} says why.
 *
 * @module
 */

import { join } from "node:path";
import type { Scenario } from "../scenario/schema.ts";
import { diskKey } from "../trace/ops.ts";
import type { OpRecord } from "../trace/schema.ts";
import { RESULTS_DISK_SIZE, RESULTS_SERIAL } from "../vm/results.ts";
import type { AccelChoice } from "../vm/accel.ts";
import { type GuestState, saveGuestState } from "../vm/snapshot.ts";
import { RTC_BASE } from "./boot.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { selectCrashWrites, writeCrashImages } from "./crash_state.ts";
import { type GuestPinning, pinnedBoot, settleClock } from "./pinning.ts";
import { guestImages, type Prepared } from "./prepare.ts";
import { type ResumeFrom, type SavedRun, saveRunAtHold } from "./run.ts";

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
  /** The seeds and clock the checks run with (a saved guest has its devices and its clock). */
  pinning: GuestPinning;
  /** The accelerator the checks run on: a state saved under one does not load under another. */
  accel: AccelChoice;
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
  asked: WarmCheckOptions,
): Promise<WarmChecks> {
  const options = { ...asked, ...settleClock(asked.pinning, asked.accel) };
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
      ...guestImages(guest),
      accel: { accel: options.accel.accel, cpu: options.accel.cpu },
      phase: "check",
      memoryBytes: node.memoryBytes,
      disks: node.disks.map((disk) => {
        const base = prepared.bases.find((b) => b.node === node.name && b.name === disk.name)!;
        return { name: disk.name, uri: `null:${base.sizeBytes}` };
      }),
      results: { name: RESULTS_SERIAL, uri: `null:${RESULTS_DISK_SIZE}` },
      rtcBase: RTC_BASE,
      ...pinnedBoot(options.pinning, node.name),
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
  options: { pinning: GuestPinning; accel: AccelChoice; signal?: AbortSignal },
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
      pinning: options.pinning,
      accel: options.accel,
      ...(memory ? { memoryDir: memory.path } : {}),
      signal: options.signal,
    });
    return { ...checks, savedMs: performance.now() - started, [Symbol.asyncDispose]: remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** A run saved at its workload's start, ready to resume points from; disposing removes it. */
export interface WarmRun extends AsyncDisposable {
  /** What a resumed run starts from. */
  resume: ResumeFrom;
  /** Each disk's image at the saved moment (the fault layer's overlay, forked), by node/disk. */
  images: Map<string, { path: string; sha256: string }>;
  /** Milliseconds it took to save. */
  savedMs: number;
}

/**
 * Why a scenario's runs cannot be resumed from a saved workload start, or null.
 *
 * @example
 * ```ts
 * warmRunRefusal(scenario); // null for fsync-log
 * ```
 */
export function warmRunRefusal(scenario: Scenario): string | null {
  if (scenario.nodes.length > 1) return "a cluster's nodes run together, from their boots";
  if (scenario.nodes[0].guest) return "its node boots its own guest image, which has no hold point";
  return null;
}

/**
 * Saves a scenario's run at its workload's start, once, for the online points of a sweep:
 * the guest booted with its disks mounted and the workload not yet started, and the
 * fault layer's overlay forked at that moment into an image per disk. Its ops before the
 * workload must be the recording's (`expected`, by signature and order): then a point
 * resumed from it starts with the recording's prefix by construction.
 *
 * @returns the saved run, or why it cannot serve (the points then boot cold).
 * @example
 * ```ts
 * const warm = await openWarmRun(scenario, prepared, { expected: parent.ordered });
 * if (typeof warm !== "string") await using _ = warm;
 * ```
 */
export async function openWarmRun(
  scenario: Scenario,
  prepared: Prepared,
  options: {
    expected: readonly OpRecord[];
    pinning: GuestPinning;
    accel: AccelChoice;
    signal?: AbortSignal;
  },
): Promise<WarmRun | string> {
  const refusal = warmRunRefusal(scenario);
  if (refusal !== null) return refusal;
  const started = performance.now();
  const dir = await makePrivateDir("faultline-warm-run-");
  const tmpfs = await Deno.stat(MEMORY_TMPFS).then((info) => info.isDirectory, () => false);
  const memory = tmpfs
    ? await makePrivateDir("faultline-warm-run-", { parent: MEMORY_TMPFS })
    : null;
  const remove = async () => {
    await memory?.remove();
    await dir.remove();
  };
  try {
    const saved = await saveRunAtHold({
      scenario,
      trace: { path: join(dir.path, "saved-run.trace"), keepData: true },
      command: "save",
      prepared,
      pinning: options.pinning,
      accel: options.accel,
      signal: options.signal,
    }, { dir: dir.path, ...(memory ? { memoryDir: memory.path } : {}) });
    const problem = prefixProblem(saved, options.expected);
    if (problem !== null) {
      await remove();
      return problem;
    }
    // The overlay at the saved moment: every write stored by then, volatile or not.
    const last = Math.max(-1, ...saved.allRecords.map((record) => record.index));
    const selection = selectCrashWrites(saved.allRecords, last + 1, { kind: "state", dropped: [] });
    const bases = new Map(prepared.bases.map((base) => [diskKey(base.node, base.name), base.path]));
    const images = await writeCrashImages(selection, bases, dir.path);
    for (const [key, image] of images) {
      // QEMU reads a disk's first sector to guess its geometry unless told it; told the
      // guess for a disk without a partition table, it reads nothing the guest did not.
      const head = new Uint8Array(512);
      using file = await Deno.open(image.path);
      await file.read(head);
      if (head[510] === 0x55 && head[511] === 0xaa) {
        await remove();
        return `disk ${key} has a partition table (QEMU would read it when the run resumes)`;
      }
    }
    const { allRecords: _, ...resume } = saved;
    return {
      resume,
      images,
      savedMs: performance.now() - started,
      [Symbol.asyncDispose]: remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Why a saved run's prefix is not the recording's, or null when it is. */
function prefixProblem(saved: SavedRun, expected: readonly OpRecord[]): string | null {
  const late = saved.allRecords.find((record) =>
    record.index >= saved.clockStart && record.op !== "flush"
  );
  if (late) return `the guest's disks served a ${late.op} after its hold (op ${late.index})`;
  const mine = [...saved.records].sort((a, b) => a.index - b.index);
  const theirs = expected.filter((op) => op.index < saved.clockStart);
  const signature = (op: OpRecord) => `${op.node}/${op.disk}/${op.op}:${op.offset}+${op.length}`;
  for (let i = 0; i < Math.max(mine.length, theirs.length); i++) {
    if (
      mine[i] === undefined || theirs[i] === undefined ||
      signature(mine[i]) !== signature(theirs[i])
    ) {
      return `the boot's ops before the workload differ from the recording's at op ${i} (${
        mine[i] ? signature(mine[i]) : "none"
      } against ${theirs[i] ? signature(theirs[i]) : "none"})`;
    }
  }
  return null;
}
