/**
 * The setup phase: a node's `setup` script (a database's initdb, a schema, a first
 * start) runs once, on freshly made disks, before the run; the disks it leaves become the
 * base images of the run, so record, replay and sweeps all start from the initialized
 * state and never pay for it again.
 *
 * The setup is a run of its own (`runScenario` on the scenario with every node's workload
 * replaced: a node with a setup runs it, then unmounts its disks; the others only boot),
 * through the fault layer with a trace of its own, which is thrown away: its ops are not in
 * the run's trace. The disks it leaves are built from that trace's writes, and checked to
 * be clean: the guest unmounted them (a disk still in use fails the setup), every write was
 * flushed, and the file system's check (`e2fsck -fn`, `xfs_repair -n`) finds nothing to fix. They are stored in the cache by content,
 * under a key derived from everything the setup runs (./cache_keys.ts: the scenario it
 * runs, whole but for what cannot matter, the nodes' setup guests and package roots, the
 * fresh base images, the QEMU), so the scenario's name, workload, check, expectations and
 * declared faults can change without the setup running again.
 *
 * @module
 */

import { join } from "node:path";
import type { Scenario, ScenarioNode } from "../scenario/schema.ts";
import { SCENARIO_DEFAULTS } from "../scenario/schema.ts";
import { loadTrace } from "../trace/load.ts";
import { diskKey } from "../trace/ops.ts";
import { cacheDir, storeFile } from "../util/cache_dir.ts";
import { hostCommand } from "../util/host_command.ts";
import { type Filesystem, filesystemOf } from "../scenario/filesystems.ts";
import { sha256Bytes } from "../util/hash.ts";
import { shellQuote } from "../util/shell_quote.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import type { BaseDisk } from "./base_disks.ts";
import { setupKey } from "./cache_keys.ts";
import { selectCrashWrites, writeCrashImages } from "./crash_state.ts";
import { RunError } from "./errors.ts";
import { type Prepared, prepareGuests } from "./prepare.ts";
import { qemuVersion } from "./qemu_version.ts";
import type { RunEvent, RunOptions, RunResult } from "./run.ts";
import type { AccelChoice } from "../vm/accel.ts";

/** What the setup phase did, for the trace's header. */
export interface SetupFacts {
  /** The cache key of its disks. */
  key: string;
  /** The nodes that ran a setup. */
  nodes: string[];
  /** The disks it left, by `node/disk`: their SHA-256 (the run's base images). */
  images: Record<string, string>;
  /** How long it took when it ran (found in the cache: how long it took then). */
  ms: number;
  /** True when the disks came from the cache. */
  cached: boolean;
}

/** Options of {@linkcode applySetup}. */
export interface SetupOptions {
  /** Runs a scenario (`runScenario`): the setup is a run of its own. */
  run: (options: RunOptions) => Promise<RunResult>;
  /** The accelerator the setup's boots get (src/vm/accel.ts); TCG when absent. */
  accel?: AccelChoice;
  signal?: AbortSignal;
  /** Hears the setup's progress (a step) and its consoles. */
  onEvent?: (event: RunEvent) => void;
  /** The cache root; `cacheDir()` by default. */
  cacheRoot?: string;
}

interface SetupIndex {
  images: Record<string, string>;
  ms: number;
}

/**
 * The prepared scenario with the disks its setup phase leaves as base images (running the
 * setup, or finding its disks in the cache); the prepared scenario as it is when no node
 * has a setup.
 *
 * @throws {RunError} of usage (exit code 2) when a setup fails or leaves a disk unclean.
 * @example
 * ```ts
 * const ready = await applySetup(scenario, await prepareScenario(scenario), { run: runScenario });
 * ```
 */
export async function applySetup(
  scenario: Scenario,
  prepared: Prepared,
  options: SetupOptions,
): Promise<Prepared> {
  const setupNodes = scenario.nodes.filter((node) => node.setup);
  if (setupNodes.length === 0) return prepared;
  const names = setupNodes.map((node) => node.name);
  const derived = setupScenario(scenario);
  const setupGuests = await prepareGuests(derived, options.signal);
  const ready: Prepared = { guests: setupGuests, bases: prepared.bases };
  const key = setupKey(derived, { ...ready, qemu: await qemuVersion() });
  const cache = options.cacheRoot ?? cacheDir();
  const indexPath = join(cache, "setup", `${key}.json`);
  const found = await readIndex(indexPath, cache);
  let index: SetupIndex;
  if (found) {
    index = found;
    options.onEvent?.({
      type: "step",
      step: "prepare",
      detail: `setup of ${names.join(", ")}: its disks are in the cache`,
    });
  } else {
    options.onEvent?.({
      type: "step",
      step: "prepare",
      detail: `setup of ${names.join(", ")} (once: its disks become the base images)`,
    });
    index = await runSetup(derived, ready, names, { ...options, cache });
    await Deno.mkdir(join(cache, "setup"), { recursive: true });
    await Deno.writeTextFile(`${indexPath}.tmp-${Deno.pid}`, JSON.stringify(index, null, 1));
    await Deno.rename(`${indexPath}.tmp-${Deno.pid}`, indexPath);
  }
  const bases: BaseDisk[] = prepared.bases.map((base) => {
    const sha256 = index.images[diskKey(base.node, base.name)];
    return sha256 === undefined
      ? base
      : { ...base, sha256, path: join(cache, "disks", `${sha256}.raw`) };
  });
  return {
    ...prepared,
    bases,
    setup: { key, nodes: names, images: index.images, ms: index.ms, cached: found !== null },
  };
}

/** The cached disks of a setup, when every one of them is still there. */
async function readIndex(path: string, cache: string): Promise<SetupIndex | null> {
  let index: SetupIndex;
  try {
    index = JSON.parse(await Deno.readTextFile(path)) as SetupIndex;
  } catch {
    return null;
  }
  for (const sha256 of Object.values(index.images)) {
    const there = await Deno.stat(join(cache, "disks", `${sha256}.raw`)).then(
      () => true,
      () => false,
    );
    if (!there) return null;
  }
  return index;
}

/**
 * The scenario that the setup runs: each node with a setup runs it, then unmounts its
 * disks; the others only boot (so the network and its addresses are the scenario's). It has
 * no check phase, so no recovery order: a scenario's is left out. Its disks' cache key is
 * made from it (./cache_keys.ts).
 *
 * @example
 * ```ts
 * setupScenario(scenario).nodes[0].check; // null
 * ```
 */
export function setupScenario(scenario: Scenario): Scenario {
  const { recovery: _, ...rest } = scenario;
  return {
    ...rest,
    nodes: scenario.nodes.map((node): ScenarioNode => ({
      ...node,
      workload: node.setup ? setupWorkload(node, node.setup) : "true",
      check: null,
      restart: null,
      ready: false,
      setup: null,
    })),
    expect: { workloadExit: [0], checkExit: [0], output: [], noLostAcks: false },
    faults: [],
    client: null,
    timeouts: {
      ...scenario.timeouts,
      runMs: scenario.timeouts.setupMs ?? SCENARIO_DEFAULTS.setupMs,
    },
  };
}

/**
 * A node's setup workload: the setup script, written to a file by a quoted here-document
 * (nothing in it is expanded), run by the phase's shell, then the node's disks unmounted
 * with busybox (the package root's copy, or the image's own), the deepest first. A disk
 * still in use (a daemon the setup left running) fails the setup with exit 125.
 *
 * @example
 * ```ts
 * setupWorkload(node, "mkdir /data/x"); // "cat >/tmp/faultline-setup <<'FAULTLINE_SETUP_...'\n..."
 * ```
 */
export function setupWorkload(node: ScenarioNode, script: string): string {
  const delimiter = `FAULTLINE_SETUP_${
    sha256Bytes(new TextEncoder().encode(script)).slice(0, 16).toUpperCase()
  }`;
  if (script.split("\n").includes(delimiter)) {
    throw new RunError(`the setup of node ${node.name} holds the line ${delimiter}`, {
      kind: "usage",
    });
  }
  const mountpoints = node.disks.flatMap((disk) => disk.mount === null ? [] : [disk.mount])
    .sort((a, b) => b.length - a.length);
  return [
    "# faultline's setup phase: the node's setup, then its disks unmounted (they become the base images).",
    `cat >/tmp/faultline-setup <<'${delimiter}'`,
    script.endsWith("\n") ? script.slice(0, -1) : script,
    delimiter,
    "/bin/sh /tmp/faultline-setup </dev/null",
    "code=$?",
    "cd /",
    "bb=/bin/busybox",
    "[ -x /faultline/bin/busybox ] && bb=/faultline/bin/busybox",
    '"$bb" sync',
    ...mountpoints.map((mountpoint) =>
      `"$bb" umount ${shellQuote(mountpoint)} || { echo ${
        shellQuote(
          `faultline: the setup left ${mountpoint} in use: stop what it started (a daemon) before it ends`,
        )
      }; exit 125; }`
    ),
    'exit "$code"',
    "",
  ].join("\n");
}

/** Runs the setup and stores the disks it leaves; returns their hashes. */
async function runSetup(
  derived: Scenario,
  ready: Prepared,
  names: readonly string[],
  options: SetupOptions & { cache: string },
): Promise<SetupIndex> {
  const started = performance.now();
  await using dir = await makePrivateDir("faultline-setup-");
  const trace = join(dir.path, "setup.trace");
  const result = await options.run({
    scenario: derived,
    trace: { path: trace, keepData: true },
    command: "setup",
    prepared: ready,
    ...(options.accel ? { accel: options.accel } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onEvent: (event) => {
      if (event.type === "console") options.onEvent?.({ ...event, phase: "setup" });
    },
  });
  for (const outcome of result.outcomes) {
    if (!names.includes(outcome.node)) continue;
    if (outcome.how === "exited" && outcome.exit === 0) continue;
    const said = outcome.console.trim().split("\n")
      .filter((line) => line.trim() !== "" && !/^\[\s*\d+\.\d+\]|^faultline: /.test(line))
      .slice(-3).join(" | ");
    const how = outcome.error
      ? `failed: ${outcome.error}`
      : outcome.how === "exited"
      ? `exited ${outcome.exit ?? "without an exit code"}`
      : outcome.how === "deadline"
      ? `ran out of time (timeouts.setup)`
      : outcome.how;
    throw new RunError(`the setup of node ${outcome.node} ${how}${said ? `: ${said}` : ""}`, {
      kind: "usage",
    });
  }
  const { records } = await loadTrace(trace);
  const mine = records.filter((record) => names.includes(record.node));
  const last = mine.reduce((max, record) => Math.max(max, record.index), -1);
  const selection = selectCrashWrites(mine, last + 1, { kind: "drop" });
  if (selection.volatileCount > 0) {
    throw new RunError(
      `the setup left ${selection.volatileCount} writes unflushed (the guest unmounts and syncs its disks: ` +
        "a bug in faultline or the guest's kernel)",
    );
  }
  const bases = new Map(
    ready.bases.filter((base) => names.includes(base.node))
      .map((base) => [diskKey(base.node, base.name), base.path]),
  );
  const images = await writeCrashImages(selection, bases, dir.path);
  const stored: Record<string, string> = {};
  for (const [key, image] of [...images].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [node, disk] = key.split("/");
    const scenarioDisk = derived.nodes.find((n) => n.name === node)!.disks
      .find((d) => d.name === disk)!;
    const fs = mountedFilesystem(scenarioDisk);
    if (fs) await checkClean(fs, { image: image.path, key });
    const kept = await storeFile(image.path, {
      kind: "disks",
      extension: ".raw",
      root: options.cache,
      move: true,
    });
    await Deno.chmod(kept.path, 0o444);
    stored[key] = kept.sha256;
  }
  return { images: stored, ms: Math.round(performance.now() - started) };
}

/** The file system faultline knows on a disk the setup mounted (made, or an image said to be one). */
function mountedFilesystem(disk: ScenarioNode["disks"][number]): Filesystem | null {
  if (disk.mount === null) return null;
  return filesystemOf(disk.kind === "image" ? disk.fstype : disk.filesystem) ?? null;
}

/**
 * The file system's own read-only check (`e2fsck -fn`, `xfs_repair -n`): the disk the setup
 * left is clean, or the setup fails.
 */
async function checkClean(fs: Filesystem, disk: { image: string; key: string }): Promise<void> {
  const call = fs.clean(disk.image);
  const output = await hostCommand(call.tool, {
    args: call.args,
    ...(call.env ? { env: call.env } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const decoder = new TextDecoder();
    const said = `${decoder.decode(output.stdout)}\n${decoder.decode(output.stderr)}`.trim()
      .split("\n").map((line) => line.trim())
      .filter((line) => line !== "" && !/^(Pass \d|e2fsck \d|Phase \d|- )/.test(line))
      .slice(0, 3).join(" | ");
    throw new RunError(
      `the setup left disk ${disk.key} unclean (${call.tool} ${
        call.args.slice(0, -1).join(" ")
      } exit ${output.code}): ${said}`,
      { kind: "usage" },
    );
  }
}
