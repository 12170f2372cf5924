/**
 * What a scenario file may say (the input schema, validated with zod), and the
 * normalized scenario it becomes: plain data with sizes in bytes and durations
 * in milliseconds, stored in every trace's header so that a replay never needs
 * the file.
 *
 * @module
 */

import { z } from "zod";
import { HISTORY_MODEL_NAMES } from "../history/models/mod.ts";
import { parseDuration, parseSize } from "../util/units.ts";
import {
  checkGuestLayout,
  diskName,
  envName,
  envValue,
  fstype,
  guestFilePath,
  hasGuestPrefixLength,
  mountOptions,
  mountpoint,
  programPath,
  shellScript,
} from "./guest_rules.ts";
import { checkPackageFields, debianPackage, guestUser } from "./package_rules.ts";
import { FILESYSTEM_NAMES } from "./filesystems.ts";
import { RECOVERY_MODES, type RecoveryMode } from "./recovery.ts";

const NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** A size: bytes as a number, or a string such as `64M`. */
const size = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  try {
    const bytes = parseSize(value);
    if (bytes > 0) return bytes;
  } catch { /* reported below */ }
  ctx.addIssue({ code: "custom", message: `expected a size like 64M` });
  return z.NEVER;
});

/** A duration: milliseconds as a number, or a string such as `30s`. */
const duration = z.union([z.number().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  try {
    return parseDuration(value);
  } catch {
    ctx.addIssue({ code: "custom", message: "expected a duration like 30s" });
    return z.NEVER;
  }
});

const exitCodes = z.union([
  z.literal("any"),
  z.number().int().min(0).max(255),
  z.array(z.number().int().min(0).max(255)).min(1),
]);

const filesystemDisk = z.strictObject({
  size,
  /** `none`: a blank disk of zeroes. */
  filesystem: z.enum([...FILESYSTEM_NAMES, "none"]).optional(),
  mkfsOptions: z.array(z.string()).optional(),
  mount: mountpoint.optional(),
  mountOptions: mountOptions.optional(),
});

const imageDisk = z.strictObject({
  image: z.string().min(1),
  mount: mountpoint.optional(),
  fstype: fstype.optional(),
  mountOptions: mountOptions.optional(),
});

const node = z.strictObject({
  memory: size.optional(),
  disks: z.record(diskName, z.union([filesystemDisk, imageDisk])),
  programs: z.array(programPath).optional(),
  files: z.union([
    z.array(z.strictObject({ host: z.string().min(1), guest: guestFilePath })),
    z.record(guestFilePath, z.string().min(1)),
  ]).optional(),
  /**
   * Your own guest instead of faultline's: a kernel (bzImage) and an initramfs whose
   * init keeps the guest contract of src/vm/initramfs.ts (it runs the phase named by
   * `faultline.phase=`, finds disks by their virtio serial, and writes result lines to
   * the disk with serial `faultline-results`). `programs`, `files` and `env` then do not apply,
   * and `workload` and `check` only say which phases to boot (a check boot when `check` is given).
   */
  kernel: z.string().min(1).optional(),
  initramfs: z.string().min(1).optional(),
  env: z.record(envName, envValue).optional(),
  workload: shellScript,
  check: shellScript.optional(),
  restart: shellScript.optional(),
  ready: z.boolean().optional(),
  network: z.boolean().optional(),
  packages: z.array(debianPackage).min(1).optional(),
  users: z.array(guestUser).optional(),
  rootSetup: shellScript.optional(),
  setup: shellScript.optional(),
});

const outputExpectation = z.strictObject({
  phase: z.enum(["run", "check"]),
  pattern: z.union([z.string(), z.instanceof(RegExp)]),
  absent: z.boolean().optional(),
});

/** A fault the scenario is tested with, and what must hold under it. */
const faultExpectation = z.strictObject({
  /** The fault without its trigger: `power-loss`, `eio`, `lost-write`, ... */
  fault: z.string().min(1),
  /** A single point: a recorded op index, or an op signature (`data/write:4096+1024#2`). */
  at: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
  /** A sweep: `all`, `reads`, `writes`, `flushes`, `N..M` or `every:K`. */
  points: z.string().optional(),
  /** What must hold at each point; defaults: no acknowledged key lost, any workload exit, the scenario's check exit. */
  expect: z.strictObject({
    noLostAcks: z.boolean().optional(),
    workload: z.strictObject({ exit: exitCodes.optional() }).optional(),
    check: z.strictObject({ exit: exitCodes.optional() }).optional(),
  }).optional(),
  /**
   * `pass` (default): every point must pass. `detect`: at least one point must
   * fail; for a configuration known to be unsafe, kept as proof that the fault is found.
   */
  outcome: z.enum(["pass", "detect"]).optional(),
  /**
   * With `detect`: the fraction of a finding's runs that must fail (0..1) for it to count;
   * without it, every run must (a stable finding).
   */
  minRate: z.number().min(0).max(1).optional(),
  /** Faults in force at every point besides this one (`lie-flush`, `limp:5ms@e1/data/any`). */
  with: z.array(z.string().min(1)).optional(),
});

/** A client history to check (docs/history.md): its model, and what of it. */
const historyExpectation = z.strictObject({
  /** `register`, `kv`, `set` or `queue`. */
  model: z.enum(HISTORY_MODEL_NAMES as [string, ...string[]]),
  /** The search's budget; past it the answer is unknown, never valid (30s by default). */
  timeout: duration.optional(),
  /** `register`: the value before anything is written, as EDN (`nil` by default). */
  initial: z.string().optional(),
  /** `queue`: `at-least-once` (default) or `exactly-once`. */
  mode: z.string().optional(),
  /** Check the check phase's ops too, after the run's (false by default). */
  check: z.boolean().optional(),
});

/** The schema of a scenario file's content. */
export const scenarioInputSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a name like fsync-log"),
  description: z.string().optional(),
  nodes: z.record(z.string().regex(NAME, "expected a node name like app or db1"), node)
    .refine((nodes) => Object.keys(nodes).length > 0, "expected at least one node"),
  expect: z.strictObject({
    workload: z.strictObject({ exit: exitCodes.optional() }).optional(),
    check: z.strictObject({ exit: exitCodes.optional() }).optional(),
    output: z.array(outputExpectation).optional(),
    noLostAcks: z.boolean().optional(),
    history: historyExpectation.optional(),
  }).optional(),
  timeouts: z.strictObject({
    boot: duration.optional(),
    run: duration.optional(),
    check: duration.optional(),
    setup: duration.optional(),
  }).optional(),
  faults: z.array(faultExpectation).optional(),
  network: z.strictObject({
    subnet: z.string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, {
        message: "expected an IPv4 network like 192.0.2.0/24",
        abort: true,
      })
      .refine(hasGuestPrefixLength, "expected a prefix length from /1 to /30, such as /24")
      .optional(),
  }).optional(),
  client: z.string().regex(NAME, "expected a node name like app or db1").optional(),
  recovery: z.enum(RECOVERY_MODES).optional(),
  accel: z.enum(["auto", "kvm", "tcg"]).optional(),
  budget: duration.optional(),
}).superRefine((scenario, ctx) => {
  const network = joinsNetwork(scenario.nodes);
  for (const [name, node] of Object.entries(scenario.nodes)) {
    const at = ["nodes", name];
    checkGuestLayout({
      mounts: Object.entries(node.disks).flatMap(([disk, { mount }]) =>
        mount === undefined ? [] : [{ at: [...at, "disks", disk, "mount"], path: mount }]
      ),
      // The guest path is the list form's `guest` field, the object form's key.
      files: hostFileEntries(node.files).map((file) => ({
        at: typeof file.at[1] === "number" ? [...at, ...file.at, "guest"] : [...at, ...file.at],
        path: file.guest,
      })),
      network,
    }, ctx);
    checkPackageFields(node, at, ctx);
  }
});

/**
 * A node's host files as one list, each with its field in the scenario file: `files[0]`
 * in the list form, `files["/opt/app/"]` in the object form (guest path to host path).
 *
 * @example
 * ```ts
 * hostFileEntries({ "/opt/app/": "./build/" }); // [{ at: ["files", "/opt/app/"], host: "./build/", guest: "/opt/app/" }]
 * ```
 */
export function hostFileEntries(
  files: NodeInput["files"],
): { at: ["files", number | string]; host: string; guest: string }[] {
  if (files === undefined) return [];
  if (Array.isArray(files)) {
    return files.map((file, i) => ({ at: ["files", i], host: file.host, guest: file.guest }));
  }
  return Object.entries(files).map(([guest, host]) => ({ at: ["files", guest], host, guest }));
}

/**
 * True when the nodes join a network: a cluster (more than one node), or a node that asks.
 *
 * @example
 * ```ts
 * joinsNetwork({ app: { network: true } }); // true
 * ```
 */
export function joinsNetwork(nodes: Readonly<Record<string, { network?: boolean }>>): boolean {
  return Object.keys(nodes).length > 1 || Object.values(nodes).some((node) => node.network);
}

/** Exit codes a phase may end with: one, several, or `any`. */
export type ExitCodesInput = "any" | number | number[];

/** A disk with a file system made on the host (or blank, with `filesystem: "none"`). */
export interface FilesystemDiskInput {
  /** Bytes, or a size such as `64M`; at least 1M, a multiple of 512. */
  size: number | string;
  /**
   * `ext4` (the default), `ext3`, `ext2`, `xfs` (a disk of at least 300M: mkfs.xfs refuses
   * less), or `none` for a disk of zeroes.
   */
  filesystem?: "ext4" | "ext3" | "ext2" | "xfs" | "none";
  /** More arguments for mkfs. */
  mkfsOptions?: string[];
  /**
   * Where the guest mounts it, such as `/data`: a directory of its own, not one that would
   * hide the guest image's (`/`, `/proc`, `/sys`, `/dev`, `/bin`, `/sbin`, `/usr`, `/lib`, ...).
   */
  mount?: string;
  /** Mount options, such as `barrier=0,data=ordered`. */
  mountOptions?: string;
}

/** A disk from an image file (raw, or qcow2 converted to raw). */
export interface ImageDiskInput {
  /** The image; relative to the scenario file. */
  image: string;
  /** Where the guest mounts it: a directory of its own, as for a file system disk. */
  mount?: string;
  /** Its file system type, for the mount; `ext4` by default. */
  fstype?: string;
  /** Mount options. */
  mountOptions?: string;
}

/** One node (VM) of a scenario, as its author writes it. */
export interface NodeInput {
  /** The guest's memory, such as `256M` (the default). */
  memory?: number | string;
  /** Its disks by name (the name is the virtio serial: at most 20 characters). */
  disks: Record<string, FilesystemDiskInput | ImageDiskInput>;
  /**
   * Host programs copied into the guest with their libraries, such as `/usr/bin/sqlite3`;
   * not the guest image's own (`/init`, `/bin/busybox`, `/bin/sh`, `/bin/report`, ...).
   */
  programs?: string[];
  /**
   * Host files copied into the guest, each at its own guest path: not the guest image's
   * own paths or directories, and not `/etc/hosts` on a node with a network. A host
   * directory, or a tarball (`.tar`, `.tar.gz`, `.tgz`) given a guest path ending in `/`,
   * is laid over the guest at that directory: your own build
   * (`{ "/opt/app/": "./build/" }`, guest path to host path, is the same as
   * `[{ host: "./build/", guest: "/opt/app/" }]`). Relative host paths are the scenario
   * file's directory's.
   */
  files?: { host: string; guest: string }[] | Record<string, string>;
  /**
   * Your own guest instead of faultline's: a kernel (bzImage) and an initramfs whose
   * init keeps the guest contract of src/vm/initramfs.ts. `programs`, `files` and `env`
   * then do not apply, and `workload` and `check` only say which phases to boot.
   */
  kernel?: string;
  /** The initramfs of your own guest (with or without your own kernel). */
  initramfs?: string;
  /** Environment variables of every phase (not `FAULTLINE_*`: the guest sets those). */
  env?: Record<string, string>;
  /** The run phase: a busybox shell script in the guest. */
  workload: string;
  /** The check phase: a fresh boot on the disks the run left behind. */
  check?: string;
  /**
   * What the node runs when it boots again after a crash in the run (`restart:NODE`),
   * and in the check phase when it has no check of its own: typically, start its
   * daemon on its disks and wait.
   */
  restart?: string;
  /**
   * The node's restart script and check say `report ready` once its service answers (etcd:
   * a health check passed). In the check phase faultline then starts the checks once every
   * serving node said it (not when they booted), and a node that boots and never says it is
   * `unavailable`: the system did not recover, a failure of its own, never counted as a loss.
   */
  ready?: boolean;
  /** Join the network in a one-node scenario too (nodes of a cluster always do). */
  network?: boolean;
  /**
   * Debian packages the node's root is built from, as in a Dockerfile: `["postgresql-15"]`.
   * Their dependencies and Debian's essential set (dash, coreutils, ...) come with them; the
   * root image is read-only and every phase runs chrooted into it (with `dash` as `/bin/sh`),
   * the disks mounted inside. Not with `programs`, `kernel` or `initramfs`; `files` go into
   * the root image.
   */
  packages?: string[];
  /** Users of the package root's passwd, each with a group of its own name (gid = uid by default). */
  users?: { name: string; uid: number; gid?: number; home?: string }[];
  /**
   * A shell script run once when the package root is built, by the host's busybox (never the
   * host's shell), in the unpacked tree (its directory is the current one and `$ROOT`; use
   * relative paths): what a package's maintainer script would have done.
   */
  rootSetup?: string;
  /**
   * A shell script run once, in `record`, on freshly made disks, before the run: the disks it
   * leaves (unmounted cleanly) become the base images of every run, replay and sweep.
   * Cached by the scenario's content; its ops are not in the run's trace.
   */
  setup?: string;
}

/** What must hold, as the author writes it. */
export interface ExpectationsInput {
  /** The workload's exit code(s); 0 by default. */
  workload?: { exit?: ExitCodesInput };
  /** The check's exit code(s); 0 by default. */
  check?: { exit?: ExitCodesInput };
  /** Patterns a phase's console must show (or, with `absent`, must not). */
  output?: { phase: "run" | "check"; pattern: string | RegExp; absent?: boolean }[];
  /** No key acknowledged with `report ack KEY` may be missing from the check's `report have KEY`. */
  noLostAcks?: boolean;
  /**
   * The clients' history (`report invoke|ok|fail|info PROCESS F [KEY] [VALUE]`) must hold
   * under a model: `{ model: "register" }` (docs/history.md).
   */
  history?: HistoryExpectationInput;
}

/** A client history to check, as the author writes it. */
export interface HistoryExpectationInput {
  /** `register`, `kv`, `set` or `queue`. */
  model: string;
  /** The search's budget, such as `30s` (the default); past it the answer is unknown. */
  timeout?: number | string;
  /** `register`: the value before anything is written, as EDN (`nil` by default). */
  initial?: string;
  /** `queue`: `at-least-once` (default) or `exactly-once`. */
  mode?: string;
  /** Check the check phase's ops too, after the run's. */
  check?: boolean;
}

/** A fault the scenario is tested with in `faultline ci`, as the author writes it. */
export interface FaultExpectationInput {
  /** The fault without its trigger: `power-loss`, `eio`, `lost-write`, ... */
  fault: string;
  /** A single point: a recorded op index, or an op signature (`data/write:4096+1024#2`). */
  at?: number | string;
  /** A sweep: `all`, `reads`, `writes`, `flushes`, `N..M` or `every:K`. */
  points?: string;
  /** What must hold at each point; defaults: no acknowledged key lost, any workload exit, the scenario's check exit. */
  expect?: {
    noLostAcks?: boolean;
    workload?: { exit?: ExitCodesInput };
    check?: { exit?: ExitCodesInput };
  };
  /** `pass` (default): every point must pass. `detect`: at least one point must fail. */
  outcome?: "pass" | "detect";
  /**
   * With `detect`: the fraction of a finding's runs that must fail (0..1) for it to count;
   * without it, every run must (a stable finding).
   */
  minRate?: number;
  /** Faults in force at every point besides this one (`lie-flush`, `limp:5ms@e1/data/any`). */
  with?: string[];
}

/** What a scenario file says, as its author writes it (what `defineScenario` takes). */
export interface ScenarioInput {
  /** Lowercase letters, digits and `-`, such as `fsync-log`. */
  name: string;
  /** What it shows, for people. */
  description?: string;
  /** The nodes (VMs) by name, such as `app` or `db1`. */
  nodes: Record<string, NodeInput>;
  /** What must hold. */
  expect?: ExpectationsInput;
  /** How long each phase may take, such as `30s` (`setup`: the setup phase, 300s by default). */
  timeouts?: {
    boot?: number | string;
    run?: number | string;
    check?: number | string;
    setup?: number | string;
  };
  /** Faults the scenario is tested with (`faultline ci`). */
  faults?: FaultExpectationInput[];
  /** The cluster's network: its IPv4 subnet (192.0.2.0/24 by default; node k gets host .10+k). */
  network?: { subnet?: string };
  /**
   * The node whose workload's end ends the run phase (a client driving daemons on the
   * other nodes): the other nodes are then powered off. Without it, the run phase ends
   * when every node's workload has ended.
   */
  client?: string;
  /**
   * How the check phase starts the nodes that serve the checks (those without a check, which
   * run their `restart` script): `together` (the default) at once; `in-order` one after
   * another in node order, each once it said `report ready` (or, without `ready`, once its
   * script started); `each-order` every order of them in a sweep, each point checked in
   * each (a single run checks the first, the node order).
   */
  recovery?: RecoveryMode;
  /**
   * The accelerator its guests run on: `kvm`, `tcg`, or `auto` (KVM when /dev/kvm is
   * usable, the default); `--accel` overrides it.
   */
  accel?: "auto" | "kvm" | "tcg";
  /**
   * How long `faultline ci` may spend on the scenario's declared faults, such as `5m`: it
   * samples points to fit, from a seed it prints (docs/scenarios.md).
   */
  budget?: number | string;
}

/** A disk of a node, normalized. */
export type ScenarioDisk =
  | {
    name: string;
    kind: "filesystem";
    sizeBytes: number;
    filesystem: "ext4" | "ext3" | "ext2" | "xfs" | "none";
    mkfsOptions: string[];
    mount: string | null;
    mountOptions: string | null;
  }
  | {
    name: string;
    kind: "image";
    /** Absolute path on the host (relative paths are resolved against the scenario's directory). */
    image: string;
    fstype: string;
    mount: string | null;
    mountOptions: string | null;
  };

/** A node (one VM), normalized. */
export interface ScenarioNode {
  /** The node's name (also its host name in a cluster). */
  name: string;
  /** The guest's memory. */
  memoryBytes: number;
  /** Its disks, each served through the fault layer. */
  disks: ScenarioDisk[];
  /** Host programs copied into the guest with their libraries. */
  programs: string[];
  /** Host files copied into the guest. */
  files: { host: string; guest: string }[];
  /** Environment variables of every phase. */
  env: Record<string, string>;
  /** The run phase's shell script. */
  workload: string;
  /** The check phase's shell script, run on a fresh boot on the disks the run left. */
  check: string | null;
  /** The user's own guest, by absolute path; faultline builds its own when absent. */
  guest: { kernel: string | null; initramfs: string } | null;
  /** What the node runs when it boots again after a crash, or in the check phase without a check. */
  restart: string | null;
  /** Its restart script and check say `report ready` once its service answers (absent in older traces). */
  ready?: boolean;
  /** The root built from Debian packages, when the node names packages (absent in older traces). */
  root?: NodeRoot | null;
  /** The setup phase's script (absent in older traces). */
  setup?: string | null;
}

/** A user of a package root's passwd, normalized. */
export interface NodeUser {
  /** The user's name, such as `postgres`. */
  name: string;
  /** Its uid. */
  uid: number;
  /** Its group's gid (the group has the user's name). */
  gid: number;
  /** Its home directory. */
  home: string;
}

/** A node's root built from Debian packages, normalized. */
export interface NodeRoot {
  /** The packages named, sorted. */
  packages: string[];
  /** The users of its passwd besides root and nobody. */
  users: NodeUser[];
  /** The script run in the unpacked tree when the root is built. */
  rootSetup: string | null;
}

/** An output expectation, normalized: a regular expression's source and flags. */
export interface OutputExpectation {
  /** Whose console the pattern is matched against. */
  phase: "run" | "check";
  /** The regular expression's source. */
  pattern: string;
  /** The regular expression's flags. */
  flags: string;
  /** The pattern must not match. */
  absent: boolean;
}

/** What must hold, normalized. */
export interface Expectations {
  /** Exit codes the workload may end with. */
  workloadExit: number[] | "any";
  /** Exit codes the check may end with. */
  checkExit: number[] | "any";
  /** Patterns the consoles must (or must not) show. */
  output: OutputExpectation[];
  /** The durability oracle: no key acknowledged in the run is missing from the check's `have` lines. */
  noLostAcks: boolean;
  /** The clients' history must hold under a model (absent in scenarios of version 2 and before). */
  history?: HistoryExpectation;
}

/** A client history to check, normalized. */
export interface HistoryExpectation {
  /** The model's name. */
  model: string;
  /** The search's budget in ms. */
  timeoutMs: number;
  /** `register`: the initial value as EDN text; null: nil. */
  initial: string | null;
  /** `queue`: its mode; null: the default. */
  mode: string | null;
  /** The check phase's ops are checked too. */
  check: boolean;
}

/** A declared fault test, normalized. */
export interface FaultExpectation {
  /** The fault spec without trigger. */
  fault: string;
  /** A single point (an op index or a signature), or a sweep's point selection. */
  at: string | null;
  /** A sweep's points (`flushes`, `every:K`, ...). */
  points: string | null;
  /** The expectations of each replay (the scenario's, with these changes). */
  expect: Expectations;
  /** `pass`: every point must pass; `detect`: at least one must fail. */
  outcome: "pass" | "detect";
  /** With `detect`: the fraction of a finding's runs that must fail; null: every run. */
  minRate: number | null;
  /** Faults in force at every point besides this one (none: empty). */
  with: string[];
}

/**
 * The version of the normalized scenario ({@link Scenario}) that this code writes into a
 * trace's header and runs from one: raised when an older faultline would run a scenario of
 * the new shape differently (a field that changes a run comes in, or a field's meaning
 * changes), so that it refuses the trace instead. Traces of version 1 hold scenarios of
 * version 1, some without `root`, `setup` or `timeouts.setupMs` (they came later and read
 * as absent). Version 2 brought `recovery` (a check phase may start its nodes in order);
 * a scenario of version 1 has none, and starts them together. Version 3 brought
 * `expect.history` (the clients' history is checked); older ones have none. Version 4
 * brought the recovery `with-checks` (the checks start with the serving nodes).
 *
 * @example
 * ```ts
 * const header = { scenario, scenarioVersion: SCENARIO_VERSION };
 * ```
 */
export const SCENARIO_VERSION = 4;

/** A scenario as faultline runs it: plain data, stored in the trace header. */
export interface Scenario {
  /** The scenario's name, such as `fsync-log`. */
  name: string;
  /** What it shows, for people. */
  description: string;
  /** The file it was loaded from, as given. */
  source: string;
  /** Its nodes (VMs), sorted by name. */
  nodes: ScenarioNode[];
  /** What must hold. */
  expect: Expectations;
  /** How long each phase may take (`setupMs` absent in older traces). */
  timeouts: { bootMs: number; runMs: number; checkMs: number; setupMs?: number };
  /** Faults the scenario is tested with (`faultline ci`). */
  faults: FaultExpectation[];
  /** The network joining the nodes, when there are several or a node asked for one (subnet null: the default). */
  network: { subnet: string | null } | null;
  /** The node whose workload's end ends the run phase, when one is named. */
  client: string | null;
  /** How the check phase starts the nodes serving the checks (absent in scenarios of version 1: `together`). */
  recovery?: RecoveryMode;
  /** The accelerator the scenario asks for; absent: `auto`, or what `--accel` says. */
  accel?: "auto" | "kvm" | "tcg";
  /** `faultline ci`'s time for the scenario, in ms; absent: no budget of its own. */
  budgetMs?: number;
}

/** Defaults, in one place. */
export const SCENARIO_DEFAULTS = {
  memoryBytes: 256 * 1024 * 1024,
  bootMs: 60_000,
  runMs: 120_000,
  checkMs: 60_000,
  setupMs: 300_000,
} as const;
