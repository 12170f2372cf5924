import assert from "node:assert/strict";
import { join } from "node:path";
import { loadScenario, normalizeScenario } from "../scenario/load.ts";
import type { Scenario } from "../scenario/schema.ts";
import { sha256Bytes } from "../util/hash.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { nodeRootSpec } from "../vm/node_root.ts";
import { packageRootKey, type PackageRootSpec, rootFileMaterials } from "../vm/package_root.ts";
import { baseDiskKey, filesystemUuid, setupKey } from "./cache_keys.ts";
import type { NodeGuest } from "./prepare.ts";
import { setupScenario } from "./setup_phase.ts";

const DISK = "base disk";
const ROOT = "package root";
const SETUP = "setup";
type Kind = typeof DISK | typeof ROOT | typeof SETUP;

/**
 * Every field of a normalized scenario (a path, `[]` for any element, or a prefix of such
 * paths), with the cache keys that must change when it changes: the others must not. A field
 * that comes into the scenario later fails the test until it is classified here.
 */
const FIELDS: Record<string, Kind[]> = {
  name: [],
  description: [],
  source: [],
  "nodes[].name": [DISK, SETUP],
  "nodes[].memoryBytes": [SETUP],
  "nodes[].disks[].name": [DISK, SETUP],
  "nodes[].disks[].kind": [DISK, SETUP],
  "nodes[].disks[].sizeBytes": [DISK, SETUP],
  "nodes[].disks[].filesystem": [DISK, SETUP],
  "nodes[].disks[].mkfsOptions": [DISK, SETUP],
  "nodes[].disks[].mount": [ROOT, SETUP],
  "nodes[].disks[].mountOptions": [SETUP],
  "nodes[].disks[].image": [SETUP],
  "nodes[].disks[].fstype": [SETUP],
  "nodes[].programs": [SETUP],
  "nodes[].files": [ROOT, SETUP],
  "nodes[].env": [SETUP],
  "nodes[].workload": [],
  "nodes[].check": [],
  "nodes[].restart": [],
  "nodes[].ready": [],
  "nodes[].guest": [SETUP],
  "nodes[].root": [ROOT, SETUP],
  "nodes[].setup": [SETUP],
  expect: [],
  "timeouts.bootMs": [SETUP],
  "timeouts.runMs": [],
  "timeouts.checkMs": [],
  "timeouts.setupMs": [SETUP],
  faults: [],
  network: [SETUP],
  client: [],
  recovery: [],
  accel: [],
  budgetMs: [],
};

/** A scenario that sets every field, so that every field of the normalized one has a value. */
async function everyField(dir: string): Promise<Scenario> {
  await Deno.writeFile(join(dir, "wal.raw"), new Uint8Array(1 << 20));
  await Deno.writeTextFile(join(dir, "db.conf"), "fsync = on\n");
  return await normalizeScenario({
    name: "every-field",
    description: "sets every field",
    nodes: {
      db: {
        memory: "512M",
        disks: {
          data: {
            size: "64M",
            filesystem: "ext4",
            mkfsOptions: ["-O", "^has_journal"],
            mount: "/data",
            mountOptions: "barrier=1",
          },
          wal: { image: "wal.raw", mount: "/wal", fstype: "ext4", mountOptions: "noatime" },
        },
        files: [{ host: "db.conf", guest: "/etc/db.conf" }],
        env: { MODE: "fast" },
        workload: "run",
        check: "check",
        restart: "restart",
        ready: true,
        network: true,
        packages: ["postgresql-15"],
        users: [{ name: "postgres", uid: 1000, gid: 1001, home: "/var/lib/postgresql" }],
        rootSetup: "mkdir -p run/postgresql",
        setup: "initdb",
      },
    },
    expect: {
      workload: { exit: 0 },
      check: { exit: [0, 3] },
      output: [{ phase: "check", pattern: "started", absent: false }],
      noLostAcks: true,
    },
    timeouts: { boot: "10s", run: "20s", check: "30s", setup: "40s" },
    faults: [{
      fault: "power-loss",
      points: "flushes",
      expect: { noLostAcks: true, workload: { exit: "any" }, check: { exit: 0 } },
      outcome: "detect",
      with: ["lie-flush"],
    }],
    network: { subnet: "192.0.2.0/24" },
    client: "db",
    recovery: "in-order",
    accel: "kvm",
    budget: "5m",
  }, { source: join(dir, "every-field.json"), baseDir: dir });
}

/** What the keys take from the host besides the scenario, fixed: only the scenario moves. */
const GUESTS = new Map<string, NodeGuest>([["db", {
  kernel: { path: "/cache/vmlinuz", version: "6.1.0-56-cloud-amd64", sha256: "a".repeat(64) },
  initramfs: { path: "/cache/initramfs.cpio", sha256: "b".repeat(64) },
}]]);
const MKFS = "mke2fs 1.47.0 (5-Feb-2023)";

function rootKey(spec: PackageRootSpec): string {
  return packageRootKey(spec, {
    // A host file's bytes stand in for by its path: another path, another file.
    files: spec.files.map((file) => ({
      sha256: sha256Bytes(new TextEncoder().encode(file.hostPath)),
      executable: false,
    })),
    packages: [{ name: "postgresql-15", version: "15.14-0+deb12u1", architecture: "amd64" }],
    busybox: spec.rootSetup === null ? null : "c".repeat(64),
    builtAsRoot: false,
  });
}

/** Every cache key of a scenario, by what it names: `setup`, `disk:N/D` (with its UUID), `root:N`. */
function keysOf(scenario: Scenario): Map<string, string> {
  const keys = new Map<string, string>();
  scenario.nodes.forEach((node, n) => {
    node.disks.forEach((disk, d) => {
      if (disk.kind !== "filesystem") return;
      const key = baseDiskKey(node.name, disk, MKFS);
      keys.set(`disk:${n}/${d}`, `${key} ${filesystemUuid(node.name, disk)}`);
    });
    const spec = nodeRootSpec(node);
    if (spec) keys.set(`root:${n}`, rootKey(spec));
  });
  if (scenario.nodes.some((node) => node.setup)) {
    const inputs = { guests: GUESTS, bases: [], qemu: "QEMU emulator version 7.2.22" };
    keys.set("setup", setupKey(setupScenario(scenario), inputs));
  }
  return keys;
}

/** The path of every leaf of plain data (an empty array or object is a leaf). */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object" || Object.keys(value).length === 0) {
    return [path];
  }
  return Object.entries(value).flatMap(([name, field]) =>
    leaves(field, [...path, Array.isArray(value) ? Number(name) : name])
  );
}

/** `nodes[].disks[].name` for `["nodes", 0, "disks", 1, "name"]`. */
function patternOf(path: readonly (string | number)[]): string {
  return path.map((step) => typeof step === "number" ? "[]" : `.${step}`).join("").slice(1);
}

function classification(pattern: string): Kind[] | undefined {
  const prefixes = Object.keys(FIELDS).filter((field) =>
    pattern === field || pattern.startsWith(`${field}.`) || pattern.startsWith(`${field}[`)
  );
  const longest = prefixes.sort((a, b) => b.length - a.length)[0];
  return longest === undefined ? undefined : FIELDS[longest];
}

/** Another value of the same shape, for a leaf. */
function changed(value: unknown): unknown {
  if (typeof value === "string") return `${value}-changed`;
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  if (Array.isArray(value)) return ["changed"];
  if (value !== null && typeof value === "object") return { changed: true };
  return "changed";
}

function withLeafChanged(scenario: Scenario, path: readonly (string | number)[]): Scenario {
  const copy = structuredClone(scenario);
  let parent = copy as unknown as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  parent[last] = changed(parent[last]);
  return copy;
}

/**
 * The keys a change at `path` may move: the setup's, and those of the node and disk the
 * path is in (all of them for a path outside any node or disk).
 */
function reachable(key: string, path: readonly (string | number)[]): boolean {
  if (key === "setup" || path[0] !== "nodes") return true;
  const [kind, where] = key.split(":");
  const [node, disk] = where.split("/").map(Number);
  if (node !== path[1]) return false;
  return kind !== "disk" || path[2] !== "disks" || disk === path[3];
}

Deno.test("cache keys: each field of a scenario changed in turn moves exactly the keys it must", async () => {
  await using dir = await makePrivateDir();
  const scenario = await everyField(dir.path);
  const before = keysOf(scenario);
  assert.deepEqual([...before.keys()].sort(), ["disk:0/0", "root:0", "setup"]);
  const paths = leaves(scenario);
  for (const path of paths) {
    const pattern = patternOf(path);
    const expected = classification(pattern);
    if (expected === undefined) {
      assert.fail(`${pattern} is not classified in FIELDS: say which cache keys it must change`);
    }
    const after = keysOf(withLeafChanged(scenario, path));
    const names = new Set([...before.keys(), ...after.keys()]);
    const moved = [...names].filter((key) => before.get(key) !== after.get(key));
    const stray = moved.filter((key) => !reachable(key, path));
    assert.deepEqual(stray, [], `${patternOf(path)}: keys of another node or disk moved`);
    const kindOf = (key: string): Kind =>
      key === "setup" ? SETUP : key.startsWith("root:") ? ROOT : DISK;
    const present = new Set([...names].filter((key) => reachable(key, path)).map(kindOf));
    assert.deepEqual(
      [...new Set(moved.map(kindOf))].sort(),
      expected.filter((kind) => present.has(kind)).sort(),
      `${path.join(".")}: the keys that moved`,
    );
  }
  // Every field was seen: the scenario leaves none of FIELDS without a value.
  const seen = new Set(paths.map(patternOf));
  for (const field of Object.keys(FIELDS)) {
    assert.ok(
      [...seen].some((p) => p === field || p.startsWith(`${field}.`) || p.startsWith(`${field}[`)),
      `${field} has no value in the scenario of this test`,
    );
  }
});

Deno.test("cache keys: a field added after a key was written is in the key by itself", async () => {
  await using dir = await makePrivateDir();
  const scenario = await everyField(dir.path);
  const before = keysOf(scenario);
  const added = structuredClone(scenario) as Scenario & { addedLater?: number };
  added.addedLater = 1;
  assert.notEqual(keysOf(added).get("setup"), before.get("setup"), "a scenario field");
  const node = structuredClone(scenario);
  Object.assign(node.nodes[0], { addedLater: 1 });
  assert.notEqual(keysOf(node).get("setup"), before.get("setup"), "a node field");
  const disk = structuredClone(scenario);
  Object.assign(disk.nodes[0].disks[0], { addedLater: 1 });
  const diskKeys = keysOf(disk).get("disk:0/0")!.split(" ");
  const [key, uuid] = before.get("disk:0/0")!.split(" ");
  assert.notEqual(diskKeys[0], key, "a disk field: its key");
  assert.notEqual(diskKeys[1], uuid, "a disk field: its file system's UUID");
  const spec = nodeRootSpec(scenario.nodes[0])!;
  assert.notEqual(rootKey({ ...spec, addedLater: 1 } as PackageRootSpec), rootKey(spec));
});

Deno.test("cache keys: two shipped scenarios that differ in name, workload and faults share the setup and disks", async () => {
  // One after the other: redis-aof-everysec.ts imports redis-aof.ts, and two dynamic imports
  // at once of a graph whose top-level await (src/trace/hash.ts) is still pending can see a
  // module before it is initialized ("Cannot access 'default' before initialization",
  // denoland/deno#29123), which full runs of src/ hit.
  const always = await loadScenario("scenarios/redis-aof.ts");
  const everysec = await loadScenario("scenarios/redis-aof-everysec.ts");
  assert.notEqual(always.name, everysec.name);
  assert.notEqual(always.nodes[0].workload, everysec.nodes[0].workload);
  const guests = new Map([[always.nodes[0].name, GUESTS.get("db")!]]);
  const [a, b] = [always, everysec].map((scenario) => ({
    setup: setupKey(setupScenario(scenario), { guests, bases: [], qemu: "QEMU" }),
    disks: scenario.nodes.flatMap((node) =>
      node.disks.flatMap((disk) =>
        disk.kind === "filesystem" ? [baseDiskKey(node.name, disk, MKFS)] : []
      )
    ),
  }));
  assert.deepEqual(a, b);
});

Deno.test("cache keys: a package root's key holds the content of a directory laid in it, not its path", async () => {
  await using dir = await makePrivateDir();
  const build = join(dir.path, "build");
  await Deno.mkdir(join(build, "bin"), { recursive: true });
  await Deno.writeTextFile(join(build, "bin/app"), "v1");
  const spec: PackageRootSpec = {
    packages: ["postgresql-15"],
    users: [],
    files: [{ hostPath: build, guestPath: "/opt/app/" }],
    rootSetup: null,
    directories: [],
  };
  const key = async () =>
    packageRootKey(spec, {
      files: await rootFileMaterials(spec),
      packages: [{ name: "postgresql-15", version: "15.14-0+deb12u1", architecture: "amd64" }],
      busybox: null,
      builtAsRoot: false,
    });
  const first = await key();
  assert.equal(await key(), first, "the same tree, the same key");
  await Deno.writeTextFile(join(build, "bin/app"), "v2");
  const edited = await key();
  assert.notEqual(edited, first, "a file of the directory changed");
  await Deno.writeTextFile(join(build, "bin/new"), "");
  assert.notEqual(await key(), edited, "a file added to the directory");
});
