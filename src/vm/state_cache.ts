/**
 * Saved guests kept between runs: a check guest saved at its `disks` hold holds nothing of
 * any disk (src/run/warm.ts), so a sweep, a `ci` run or a test that needs the same guest
 * again starts from the one saved before instead of booting and saving it once more (2 to
 * 3.5 s for one node under TCG here, 6 s for etcd's three).
 *
 * An entry is the guest's memory file and its device state, under the cache directory
 * (`guest-states/KEY`), KEY the cache key (src/util/cache_key.ts) of what the saved moment
 * depends on: QEMU's whole argument list with the values a start may change as placeholders
 * (src/vm/state_key.ts), the placeholder disks' sizes, the hold and QEMU's build (its
 * version, binary and firmware files: src/run/qemu_version.ts). The guest's kernel and
 * initramfs are in that list by their paths, which name their contents (the initramfs
 * cache) or their package's version (the kernel).
 *
 * A guest is saved as without a cache (its memory on /dev/shm), then copied in, sparse
 * (`cp --sparse=always`: the blocks the guest touched, about 115 MiB of 256 here): a copy
 * that fails, on a full disk say, leaves the cache as it was and the sweep goes on. A run
 * takes an entry's files by hard link into a private directory of its own, so an entry
 * removed meanwhile (by another run making room) stays whole for it; its memory is mapped
 * copy-on-write, as any saved guest's. Entries beyond {@link CACHE_BYTES} (the default
 * limit), least recently used first, are removed after each store.
 *
 * @module
 */

import { join } from "node:path";
import { cacheKey } from "../util/cache_key.ts";
import { hostCommand } from "../util/host_command.ts";
import { makePrivateDir, type PrivateDir } from "../util/tempdir.ts";
import type { GuestState, SaveSpec } from "./snapshot.ts";
import { stateArgs } from "./state_key.ts";

/** The disk space the entries may take, together (about 30 saved guests of 256 MiB). */
export const CACHE_BYTES = 4 * 1024 ** 3;

/** What an entry keeps of its state besides the two files (they are `memory` and `devices`). */
type EntryFacts = Omit<GuestState, "memory" | "devices">;

/**
 * The key of the guest that `spec` saves at `hold` under QEMU `qemu` (its build:
 * src/run/qemu_version.ts `qemuBuild`).
 *
 * @example
 * ```ts
 * cachedStateKey(spec, "disks", "QEMU emulator version 7.2.22"); // 64 hex digits
 * ```
 */
export function cachedStateKey(spec: SaveSpec, hold: GuestState["hold"], qemu: string): string {
  const args = stateArgs({ ...spec, hold, qmpSocket: "", memoryFile: { path: "", share: true } });
  const placeholders = [...spec.disks, spec.results].map((disk) => disk.uri);
  return cacheKey("guest-state", { args, placeholders, qemu });
}

/**
 * The saved guests of a cache directory, and a private directory of this run's on the same
 * file system, where the files it takes are linked. Disposing removes that directory only.
 */
export class GuestStateCache implements AsyncDisposable {
  private constructor(
    readonly root: string,
    private readonly work: PrivateDir,
    private readonly limitBytes: number,
  ) {}

  /**
   * Opens the cache under `dir` (faultline's cache directory), or returns null when it
   * cannot be written: the run then saves its guests as if there were no cache. The
   * entries may take `limitBytes` together ({@link CACHE_BYTES} by default).
   */
  static async open(dir: string, limitBytes = CACHE_BYTES): Promise<GuestStateCache | null> {
    const root = join(dir, "guest-states");
    try {
      await Deno.mkdir(root, { recursive: true, mode: 0o700 });
      await removeOrphans(root);
      return new GuestStateCache(
        root,
        await makePrivateDir(`.run-${Deno.pid}-`, { parent: root }),
        limitBytes,
      );
    } catch {
      return null;
    }
  }

  /** The entry of `key`, its files linked into this run's directory, or null. */
  async take(key: string): Promise<GuestState | null> {
    const entry = join(this.root, key);
    let facts: EntryFacts;
    try {
      facts = JSON.parse(await Deno.readTextFile(join(entry, "state.json")));
    } catch {
      return null;
    }
    const memory = join(this.work.path, `${key}.memory`);
    const devices = join(this.work.path, `${key}.devices`);
    try {
      await Deno.link(join(entry, "memory"), memory);
      await Deno.link(join(entry, "devices"), devices);
    } catch {
      // Removed meanwhile, or half of it: as if it were not there.
      await Deno.remove(memory).catch(() => {});
      return null;
    }
    const now = new Date();
    await Deno.utime(join(entry, "state.json"), now, now).catch(() => {});
    return { ...facts, memory, devices };
  }

  /**
   * Copies `state` in as the entry of `key`, unless another run stored it first; then
   * removes the least recently used entries beyond the cache's limit. A store that fails
   * leaves the cache as it was.
   */
  async store(key: string, state: GuestState): Promise<void> {
    const staging = join(this.work.path, `${key}.entry`);
    try {
      await Deno.mkdir(staging);
      const copy = await hostCommand("cp", {
        args: ["--sparse=always", "--", state.memory, join(staging, "memory")],
        stdout: "null",
        stderr: "null",
      }).output();
      if (!copy.success) throw new Error("cp failed");
      await Deno.copyFile(state.devices, join(staging, "devices"));
      const { memory: _memory, devices: _devices, ...facts } = state;
      await Deno.writeTextFile(join(staging, "state.json"), JSON.stringify(facts));
      await Deno.rename(staging, join(this.root, key));
    } catch {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      return;
    }
    await this.makeRoom();
  }

  /** Removes entries, least recently used first, until the rest fit in the cache's limit. */
  private async makeRoom(): Promise<void> {
    const entries: { path: string; used: number; bytes: number }[] = [];
    for await (const item of Deno.readDir(this.root)) {
      if (!item.isDirectory || item.name.startsWith(".")) continue;
      const path = join(this.root, item.name);
      try {
        const facts = await Deno.stat(join(path, "state.json"));
        const memory = await Deno.stat(join(path, "memory"));
        const devices = await Deno.stat(join(path, "devices"));
        // The memory file is sparse: count the blocks it holds.
        const bytes = (memory.blocks ?? 0) * 512 + devices.size;
        entries.push({ path, used: facts.mtime?.getTime() ?? 0, bytes });
      } catch {
        continue;
      }
    }
    entries.sort((a, b) => b.used - a.used);
    let total = 0;
    for (const entry of entries) {
      total += entry.bytes;
      if (total > this.limitBytes) {
        await Deno.remove(entry.path, { recursive: true }).catch(() => {});
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.work.remove();
  }
}

/**
 * Removes the private directories of runs whose process is gone (killed before it could),
 * each holding links to the entries it took, which would keep removed entries' blocks.
 */
async function removeOrphans(root: string): Promise<void> {
  // Without /proc a live run could not be told from a dead one: nothing is removed then.
  if (!await Deno.stat("/proc/self").then(() => true, () => false)) return;
  for await (const item of Deno.readDir(root)) {
    const pid = /^\.run-(\d+)-/.exec(item.name)?.[1];
    if (pid === undefined) continue;
    const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
    if (!alive) await Deno.remove(join(root, item.name), { recursive: true }).catch(() => {});
  }
}
