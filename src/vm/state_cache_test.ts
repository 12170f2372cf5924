import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import type { GuestState, SaveSpec } from "./snapshot.ts";
import { cachedStateKey, GuestStateCache } from "./state_cache.ts";

const spec: SaveSpec = {
  kernel: "/cache/vmlinuz-6.1",
  initrd: "/cache/initramfs/0123.cpio",
  phase: "check",
  accel: { accel: "tcg", cpu: "qemu64" },
  memoryBytes: 256 * 1024 * 1024,
  rtcBase: "2026-01-01T00:00:00",
  disks: [{ name: "data", uri: "null:67108864" }],
  results: { name: "results", uri: "null:1048576" },
};

Deno.test("cachedStateKey: the same save gives the same key; QEMU, the hold, a disk's size or an argument change it", () => {
  const key = cachedStateKey(spec, "disks", "QEMU 7.2.22");
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(cachedStateKey({ ...spec }, "disks", "QEMU 7.2.22"), key);
  const others = [
    cachedStateKey(spec, "disks", "QEMU 8.0.0"),
    cachedStateKey(spec, "phase", "QEMU 7.2.22"),
    cachedStateKey(
      { ...spec, disks: [{ name: "data", uri: "null:134217728" }] },
      "disks",
      "QEMU 7.2.22",
    ),
    cachedStateKey({ ...spec, initrd: "/cache/initramfs/4567.cpio" }, "disks", "QEMU 7.2.22"),
    cachedStateKey({ ...spec, phase: "restart" }, "disks", "QEMU 7.2.22"),
    cachedStateKey({ ...spec, accel: { accel: "kvm", cpu: "qemu64" } }, "disks", "QEMU 7.2.22"),
  ];
  assert.equal(new Set([key, ...others]).size, others.length + 1);
});

/** The private directories of runs in the cache `root`. */
async function runDirs(root: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(root)) {
    if (entry.name.startsWith(".run-")) names.push(entry.name);
  }
  return names.sort();
}

/** A saved guest's two files, of `bytes` bytes of memory, in `dir`. */
async function savedGuest(dir: string, name: string, bytes = 4096): Promise<GuestState> {
  const memory = join(dir, `${name}.memory`);
  const devices = join(dir, `${name}.devices`);
  await Deno.writeFile(memory, new Uint8Array(bytes).fill(7));
  await Deno.writeTextFile(devices, `devices of ${name}`);
  return {
    hold: "disks",
    phase: "check",
    memory,
    devices,
    id: `id-${name}`,
    key: `key-${name}`,
    args: ["-m", "256"],
    bootMs: 3000,
    saveMs: 100,
  };
}

Deno.test("GuestStateCache: a stored guest is taken by another run, its files linked; a missing key is null", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  const first = await GuestStateCache.open(dir.path);
  assert.ok(first);
  await first.store("k1", await savedGuest(dir.path, "a"));
  await first[Symbol.asyncDispose]();
  assert.deepEqual(await runDirs(first.root), [], "the first run's directory is gone");

  await using second = (await GuestStateCache.open(dir.path))!;
  assert.equal(await second.take("k2"), null);
  const taken = await second.take("k1");
  assert.ok(taken);
  assert.equal(taken.id, "id-a");
  assert.equal(taken.key, "key-a");
  const [own] = await runDirs(second.root);
  assert.ok(taken.memory.startsWith(join(second.root, own, "/")), taken.memory);
  assert.deepEqual(await Deno.readFile(taken.memory), new Uint8Array(4096).fill(7));
  assert.equal(await Deno.readTextFile(taken.devices), "devices of a");
});

Deno.test("GuestStateCache: an entry removed while a run holds it stays whole for that run", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  await using cache = (await GuestStateCache.open(dir.path))!;
  await cache.store("k1", await savedGuest(dir.path, "a"));
  const taken = (await cache.take("k1"))!;
  await Deno.remove(join(cache.root, "k1"), { recursive: true });
  assert.equal(await Deno.readTextFile(taken.devices), "devices of a");
  assert.equal((await Deno.stat(taken.memory)).size, 4096);
  assert.equal(await cache.take("k1"), null);
});

Deno.test("GuestStateCache: a second store of a key keeps the first; the least recently used go beyond the limit", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  // Room for the 4 KiB entry and two of 64 KiB (with their device files), not three.
  const big = 64 * 1024;
  const limit = 4096 + 2 * big + 1024;
  await using cache = (await GuestStateCache.open(dir.path, limit))!;
  await cache.store("k1", await savedGuest(dir.path, "a"));
  await cache.store("k1", await savedGuest(dir.path, "b"));
  assert.equal((await cache.take("k1"))!.id, "id-a");

  // Two entries of 64 KiB, then a third: the one used least recently goes.
  await using other = (await GuestStateCache.open(dir.path, limit))!;
  const old = new Date(Date.now() - 60_000);
  await other.store("k2", await savedGuest(dir.path, "c", big));
  await Deno.utime(join(cache.root, "k2", "state.json"), old, old);
  await other.store("k3", await savedGuest(dir.path, "d", big));
  await Deno.utime(join(cache.root, "k3", "state.json"), old, old);
  assert.ok(await other.take("k2"), "k2 used again: now the most recent");
  await other.store("k4", await savedGuest(dir.path, "e", big));
  const left = [];
  for await (const entry of Deno.readDir(cache.root)) {
    if (!entry.name.startsWith(".")) left.push(entry.name);
  }
  assert.deepEqual(left.sort(), ["k1", "k2", "k4"]);
});

Deno.test("GuestStateCache: a run's directory left by a process that is gone is removed; a live one's is kept", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  const root = join(dir.path, "guest-states");
  await Deno.mkdir(join(root, ".run-999999999-abc"), { recursive: true });
  await Deno.writeFile(join(root, ".run-999999999-abc", "x.memory"), new Uint8Array(16));
  await using _live = (await GuestStateCache.open(dir.path))!;
  await using _again = (await GuestStateCache.open(dir.path))!;
  const names = await runDirs(root);
  assert.ok(!names.includes(".run-999999999-abc"), names.join(" "));
  assert.equal(names.filter((name) => name.startsWith(`.run-${Deno.pid}-`)).length, 2);
});

Deno.test("GuestStateCache: a cache directory that cannot be written is no cache", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  const file = join(dir.path, "a-file");
  await Deno.writeTextFile(file, "");
  assert.equal(await GuestStateCache.open(file), null);
});
