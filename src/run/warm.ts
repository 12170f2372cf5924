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
 * In a cluster's check phase every node that boots is saved so: a node with a check for
 * its check, a node that serves the checks for its `restart` script (a guest's phase is on
 * its kernel command line, which its memory keeps, so each state resumes into the phase it
 * was saved with). Started from them, the nodes go through the recovery order as booted
 * ones do; a restart of a node in the run phase (`restart:n2`) starts from its saved
 * restart guest too. A node takes a saved guest when faultline builds its guest (a node's
 * own kernel or initramfs knows no hold point); otherwise it boots cold, and
 * {@link WarmChecks.cold} says why.
 *
 * @module
 */

import { join } from "node:path";
import type { Scenario } from "../scenario/schema.ts";
import { diskKey } from "../trace/ops.ts";
import type { OpRecord } from "../trace/schema.ts";
import { RESULTS_DISK_SIZE, RESULTS_SERIAL } from "../vm/results.ts";
import { ControlChannel } from "../vm/control.ts";
import { VmError } from "../vm/launcher.ts";
import { type GuestState, saveGuestState, type SaveSpec } from "../vm/snapshot.ts";
import { cachedStateKey, GuestStateCache } from "../vm/state_cache.ts";
import { cacheDir } from "../util/cache_dir.ts";
import { qemuBuild } from "./qemu_version.ts";
import { NetSwitch } from "../net/switch.ts";
import type { AccelChoice } from "../vm/accel.ts";
import { RTC_BASE } from "./boot.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { selectCrashWrites, writeCrashImages } from "./crash_state.ts";
import { type GuestPinning, pinnedBoot, settleClock } from "./pinning.ts";
import { clusterNetwork, guestImages, type NodeGuest, type Prepared } from "./prepare.ts";
import { type ResumeFrom, type SavedRun, saveRunAtHold } from "./run.ts";
import type { GuestLine } from "../trace/load.ts";

/**
 * The saved check-phase guests of a scenario, by node, and the nodes that boot cold in the
 * check phase, with why.
 */
export interface WarmChecks {
  /**
   * Each node's saved guest, for the phase it boots into in the check phase
   * ({@link checkBootPhase}: its check, or the restart that serves the others' checks).
   */
  states: Map<string, GuestState>;
  /** The nodes whose check-phase boots are cold, with the reason. */
  cold: { node: string; reason: string }[];
  /** The nodes whose saved guest came from the cache (src/vm/state_cache.ts), not a save. */
  cached: string[];
}

/**
 * The phase a node boots into in a check phase: its check, else its `restart` script
 * (it serves the others' checks), else none (it does not boot then).
 *
 * @example
 * ```ts
 * checkBootPhase(scenario.nodes[0]); // "check" for fsync-log's node; "restart" for an etcd member
 * ```
 */
export function checkBootPhase(node: Scenario["nodes"][number]): "check" | "restart" | null {
  if (node.check !== null) return "check";
  return node.restart !== null ? "restart" : null;
}

/**
 * Why a scenario's node boots cold in the check phase, or null when it can start from a
 * saved state. A scenario without a check has no check phase; a node that boots neither a
 * check nor a restart in it has nothing to save.
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
  if (!scenario.nodes.some((n) => n.check !== null)) return "the scenario has no check";
  if (checkBootPhase(node) === null) return "it does not boot in the check phase";
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
  /** Saved guests kept between runs: a guest found there is not saved again, one saved is kept there. */
  cache?: GuestStateCache | null;
  signal?: AbortSignal;
}

/**
 * Saves the check-phase guest of every node of the scenario that can take one, each for
 * the phase it boots into then. A cluster's nodes are saved at once, each with its NIC on
 * a switch of the save's own and its control channel (the devices every boot of it has);
 * at the hold the guest has loaded neither its NIC's driver nor the control port's, so
 * nothing of either is in the saved state, and a node started from it joins the run's
 * switch as a fresh connection.
 *
 * @throws {VmError} when a guest does not reach its hold point.
 * @example
 * ```ts
 * const warm = await saveWarmChecks(scenario, prepared, { dir, accel: TCG });
 * await runScenario({ ..., warmChecks: warm.states });
 * ```
 */
export async function saveWarmChecks(
  scenario: Scenario,
  prepared: Prepared,
  asked: WarmCheckOptions,
): Promise<WarmChecks> {
  const options = { ...asked, ...settleClock(asked.pinning, asked.accel) };
  const cold: { node: string; reason: string }[] = [];
  const saving: Scenario["nodes"][number][] = [];
  const hasCheck = scenario.nodes.some((node) => node.check !== null);
  for (const node of scenario.nodes) {
    const refusal = warmCheckRefusal(scenario, node);
    if (refusal === null) saving.push(node);
    // Only a node that boots in a check phase boots cold in it.
    else if (hasCheck && checkBootPhase(node) !== null) {
      cold.push({ node: node.name, reason: refusal });
    }
  }
  await using devices = await saveDevices(scenario, options.dir);
  const states = new Map<string, GuestState>();
  const cached: string[] = [];
  const { cache } = options;
  // Only a cache's key needs QEMU's build.
  const qemu = cache ? await qemuBuild() : "";
  await Promise.all(saving.map(async (node) => {
    const guest = prepared.guests.get(node.name)!;
    const spec: SaveSpec = {
      ...guestImages(guest),
      accel: { accel: options.accel.accel, cpu: options.accel.cpu },
      phase: checkBootPhase(node)!,
      memoryBytes: node.memoryBytes,
      disks: node.disks.map((disk) => {
        const base = prepared.bases.find((b) => b.node === node.name && b.name === disk.name)!;
        return { name: disk.name, uri: `null:${base.sizeBytes}` };
      }),
      results: { name: RESULTS_SERIAL, uri: `null:${RESULTS_DISK_SIZE}` },
      rtcBase: RTC_BASE,
      ...pinnedBoot(options.pinning, node.name),
      ...devices.of(node.name, guest),
    };
    const key = cache ? cachedStateKey(spec, "disks", qemu) : null;
    const found = cache && key ? await cache.take(key) : null;
    if (found) {
      states.set(node.name, found);
      cached.push(node.name);
      return;
    }
    try {
      const state = await saveGuestState(spec, {
        hold: "disks",
        dir: options.dir,
        ...(options.memoryDir ? { memoryDir: options.memoryDir } : {}),
        // The nodes boot at once here, sharing the cores, where a check phase in order
        // boots them one after another: each gets the boot time of them all.
        timeoutMs: scenario.timeouts.bootMs * saving.length,
        signal: options.signal,
      });
      if (cache && key) await cache.store(key, state);
      states.set(node.name, state);
    } catch (error) {
      // A guest that did not reach its hold (a kernel that panicked under load, say) boots cold.
      if (!(error instanceof VmError) || options.signal?.aborted) throw error;
      cold.push({ node: node.name, reason: `its guest was not saved: ${whyNotSaved(error)}` });
    }
  }));
  return { states, cold, cached };
}

/**
 * Why a guest was not saved, in one line: the error's first line, and the guest kernel's
 * panic when the console shows one (a guest that panicked as it booted says so).
 */
function whyNotSaved(error: Error): string {
  const first = error.message.split("\n")[0].trim().replace(/:$/, "");
  const panic = /Kernel panic[^\r\n]*/.exec(error.message)?.[0].trim();
  return panic ? `${first}: ${panic}` : first;
}

/**
 * The devices a cluster's node is saved with besides its disks: its NIC, a client of a
 * switch of the save's own (QEMU's stream client must find its port listening), and its
 * control channel. Nothing for a node of one.
 */
async function saveDevices(scenario: Scenario, dir: string): Promise<
  AsyncDisposable & {
    of(node: string, guest: NodeGuest): Pick<SaveSpec, "network" | "control">;
  }
> {
  const net = scenario.network
    ? await NetSwitch.start({
      nodes: scenario.nodes.map((node) => node.name),
      ...clusterNetwork(scenario),
    })
    : null;
  const controls: ControlChannel[] = [];
  return {
    of(node, guest) {
      const control = guest.control
        ? ControlChannel.listen(join(dir, `${node}-${controls.length}.control`))
        : null;
      if (control) controls.push(control);
      return {
        ...(net ? { network: net.qemuNetwork(node) } : {}),
        ...(control ? { control: control.path } : {}),
      };
    },
    async [Symbol.asyncDispose]() {
      for (const control of controls) await control.close();
      await net?.close();
    },
  };
}

/** Saved check guests with their own private directories; disposing removes them. */
export interface WarmSession extends AsyncDisposable, WarmChecks {
  /** Milliseconds it took to save them. */
  savedMs: number;
}

/** The tmpfs where guests' memory files go, when the machine has one. */
const MEMORY_TMPFS = "/dev/shm";

/**
 * Saves a scenario's check guests ({@link saveWarmChecks}), or takes them from the cache
 * of saved guests (src/vm/state_cache.ts), where those it saves are kept; private
 * directories of its own (the memory files on /dev/shm when there is one) are removed on
 * disposal.
 *
 * @example
 * ```ts
 * await using warm = await openWarmChecks(scenario, prepared, { accel: TCG });
 * for (const point of points) await runScenario({ ..., warmChecks: warm.states });
 * ```
 */
export async function openWarmChecks(
  scenario: Scenario,
  prepared: Prepared,
  options: {
    pinning: GuestPinning;
    accel: AccelChoice;
    /** The cache directory whose saved guests to use and add to; null: none. */
    cacheDir?: string | null;
    signal?: AbortSignal;
  },
): Promise<WarmSession> {
  const started = performance.now();
  const dir = await makePrivateDir("faultline-warm-");
  const cacheRoot = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const cache = cacheRoot === null ? null : await GuestStateCache.open(cacheRoot);
  const tmpfs = await Deno.stat(MEMORY_TMPFS).then((info) => info.isDirectory, () => false);
  const memory = tmpfs ? await makePrivateDir("faultline-warm-", { parent: MEMORY_TMPFS }) : null;
  const remove = async () => {
    await cache?.[Symbol.asyncDispose]();
    await memory?.remove();
    await dir.remove();
  };
  try {
    const checks = await saveWarmChecks(scenario, prepared, {
      dir: dir.path,
      pinning: options.pinning,
      accel: options.accel,
      ...(memory ? { memoryDir: memory.path } : {}),
      cache,
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
 * warmRunRefusal(scenario); // null for fsync-log and for a cluster of faultline's guests
 * ```
 */
export function warmRunRefusal(scenario: Scenario): string | null {
  const own = scenario.nodes.find((node) => node.guest);
  if (!own) return null;
  return `${
    scenario.nodes.length > 1 ? `its node ${own.name}` : "its node"
  } boots its own guest image, which has no hold point`;
}

/** What a saved run is checked against: the recording's ops and its guests' lines. */
export interface Recording {
  /** The recording's ops, by arrival index. */
  ordered: readonly OpRecord[];
  /** Its guests' lines (each node's `phase run` marks where its workload started). */
  lines: readonly GuestLine[];
}

/**
 * Saves a scenario's run at its workload's start, once, for the online points of a sweep:
 * every guest booted with its disks mounted and the workload not yet started (each saved
 * at its own hold, a cluster's on the run's switch), and the fault layer's overlay forked
 * once every node is saved into an image per disk. Each node's ops before its hold must be
 * the recording's before its workload started (by signature and order), and no TCP frame
 * may have crossed a cluster's switch by then: then a point resumed from it starts with the
 * recording's prefix by construction.
 *
 * @returns the saved run, or why it cannot serve (the points then boot cold).
 * @example
 * ```ts
 * const warm = await openWarmRun(scenario, prepared, { recording: parent, pinning, accel: TCG });
 * if (typeof warm !== "string") await using _ = warm;
 * ```
 */
export async function openWarmRun(
  scenario: Scenario,
  prepared: Prepared,
  options: {
    recording: Recording;
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
    const problem = prefixProblem(saved, options.recording) ?? networkProblem(saved);
    const images = problem === null ? await forkedImages(saved, prepared, dir.path) : problem;
    if (typeof images === "string") {
      await remove();
      return images;
    }
    const { allRecords: _, holds: __, ...resume } = saved;
    return {
      resume,
      images,
      savedMs: performance.now() - started,
      [Symbol.asyncDispose]: remove,
    };
  } catch (error) {
    await remove();
    // A guest that did not reach its hold (a kernel that panicked under load, say): the
    // points boot, saying why.
    if (!(error instanceof VmError) || options.signal?.aborted) throw error;
    return `the run was not saved: ${whyNotSaved(error)}`;
  }
}

/**
 * Each disk's image once every node is saved (the overlay: every write stored by then,
 * volatile or not), or why a disk cannot be resumed on.
 */
async function forkedImages(
  saved: SavedRun,
  prepared: Prepared,
  dir: string,
): Promise<Map<string, { path: string; sha256: string }> | string> {
  const last = Math.max(-1, ...saved.allRecords.map((record) => record.index));
  const selection = selectCrashWrites(saved.allRecords, last + 1, { kind: "state", dropped: [] });
  const bases = new Map(prepared.bases.map((base) => [diskKey(base.node, base.name), base.path]));
  const images = await writeCrashImages(selection, bases, dir);
  for (const [key, image] of images) {
    // QEMU reads a disk's first sector to guess its geometry unless told it; told the
    // guess for a disk without a partition table, it reads nothing the guest did not.
    const head = new Uint8Array(512);
    using file = await Deno.open(image.path);
    await file.read(head);
    if (head[510] === 0x55 && head[511] === 0xaa) {
      return `disk ${key} has a partition table (QEMU would read it when the run resumes)`;
    }
  }
  return images;
}

/**
 * Why a saved run's ops are not the recording's, or null when they are: each node's writes
 * and flushes before its hold, by signature and order, against the recording's of that node
 * before its workload started (its `phase run` line), the bytes each read before its hold
 * asked for ones the recording's node read too ({@link readBeyond}), and after its hold no op
 * but the flushes of its save. Reads are not held to the recording's moment: a guest's
 * kernel reads by itself after a mount (ext4 prefetches its block bitmaps in the
 * background), before a node's hold or after it, whichever comes first, and a read changes
 * no disk.
 */
function prefixProblem(saved: SavedRun, recording: Recording): string | null {
  const cluster = Object.keys(saved.states).length > 1;
  const signature = (op: OpRecord) => `${op.node}/${op.disk}/${op.op}:${op.offset}+${op.length}`;
  for (const [node, hold] of Object.entries(saved.holds)) {
    const whose = cluster ? `${node}'s` : "the guest's";
    const late = saved.allRecords.find((record) =>
      record.node === node && record.index >= hold && record.op !== "flush"
    );
    if (late) return `${whose} disks served a ${late.op} after its hold (op ${late.index})`;
    const start = recording.lines.find((line) =>
      line.node === node && line.phase === "run" && line.kind === "phase" && line.args[0] === "run"
    );
    if (!start) return `the recording has no start of ${node}'s workload`;
    const ours = recording.ordered.filter((op) => op.node === node);
    const mine = saved.records.filter((op) => op.node === node).sort((a, b) => a.index - b.index);
    const unread = readBeyond(mine, ours);
    if (unread) return `${whose} boot read what the recording's never did (${signature(unread)})`;
    const changes = (op: OpRecord) => op.op !== "read";
    const theirs = ours.filter((op) => op.index < start.at && changes(op)).map(signature);
    const written = mine.filter(changes).map(signature);
    for (let i = 0; i < Math.max(written.length, theirs.length); i++) {
      if (written[i] !== theirs[i]) {
        return `${
          cluster ? `${node}'s boot's` : "the boot's"
        } writes and flushes before the workload differ from the recording's at the ${i + 1}th (${
          written[i] ?? "none"
        } against ${theirs[i] ?? "none"})`;
      }
    }
  }
  return null;
}

/** Why a saved cluster cannot be resumed: a TCP connection crossed its switch before the saved moment. */
function networkProblem(saved: SavedRun): string | null {
  const tcp = saved.network?.tcp ?? [];
  if (tcp.length === 0) return null;
  return `a TCP connection was open before the saved moment (${
    tcp[0]
  }): it would not survive a resume`;
}

/**
 * The first read of `saved` that asked for bytes no read of `recorded` did (on the same
 * node's disk), or undefined. Bytes, not requests: the block layer merges adjacent reads
 * into one request, or not, as its queue happens to be when they arrive, so one boot's
 * 0+4096 is another's 0+2048 and 2048+2048.
 *
 * @example
 * ```ts
 * const read = (offset: number, length: number) => ({ node: "n1", disk: "data", op: "read", offset, length });
 * readBeyond([read(2048, 2048)], [read(0, 4096)]); // undefined
 * readBeyond([read(4096, 512)], [read(0, 4096)]); // the read at 4096
 * ```
 */
export function readBeyond<T extends Pick<OpRecord, "node" | "disk" | "op" | "offset" | "length">>(
  saved: readonly T[],
  recorded: readonly T[],
): T | undefined {
  const spans = new Map<string, [number, number][]>();
  for (const op of recorded) {
    if (op.op !== "read") continue;
    const key = `${op.node}/${op.disk}`;
    spans.set(key, [...spans.get(key) ?? [], [op.offset, op.offset + op.length]]);
  }
  const merged = new Map([...spans].map(([key, list]) => [key, mergeSpans(list)]));
  return saved.find((op) => {
    if (op.op !== "read") return false;
    const within = merged.get(`${op.node}/${op.disk}`) ?? [];
    return !within.some(([start, end]) => start <= op.offset && op.offset + op.length <= end);
  });
}

/** Byte ranges [start, end) joined where they touch or overlap, in order. */
function mergeSpans(spans: [number, number][]): [number, number][] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = out.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** faultline's cache directory, or null when there is none (no cache of saved guests then). */
function defaultCacheDir(): string | null {
  try {
    return cacheDir();
  } catch {
    return null;
  }
}
