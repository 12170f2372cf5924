/**
 * The check of the guest image's options, for library callers of `buildInitramfs`: a zod
 * schema made of the rules that a scenario's nodes are checked with when the scenario loads
 * (src/scenario/guest_rules.ts: guest paths, mountpoints, mount options, disk names,
 * environment variables, scripts, the image's own paths), and of the options' own rules
 * (phase names, modules, file modes, the device timeout, the cache root, the network).
 * Problems read as a scenario's do, one line each:
 * `initramfs option disks[0].name: expected a disk name like data or vdb (...), found "Data"`.
 *
 * @module
 */

import { z } from "zod";
import {
  checkGuestLayout,
  diskName,
  envName,
  envValue,
  fstype,
  guestFilePath,
  mountOptions,
  mountpoint,
  prefixLength,
  programPath,
  shellScript,
} from "../scenario/guest_rules.ts";
import { issueLines } from "../scenario/issues.ts";
import { GuestImageError } from "./guest_image_error.ts";
import type { InitramfsOptions } from "./initramfs.ts";
import type { Busybox, Kernel } from "./kernel.ts";

/** A phase's name: lowercase letters, digits and `-`, starting with a letter, at most 31. */
export const PHASE_NAME_PATTERN: RegExp = /^[a-z][a-z0-9-]{0,30}$/;

/** Phase names that would read like the lines `/init` writes itself (`phase boot`, `phase mounted`). */
export const RESERVED_PHASES: readonly string[] = ["boot", "mounted"];

/** A node name on the network: what a hostname and /etc/hosts take. */
const NODE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const phaseName = z.string()
  .regex(
    PHASE_NAME_PATTERN,
    "expected a phase name such as run or check (lowercase letters, digits and -, at most 31)",
  )
  .refine(
    (name) => !RESERVED_PHASES.includes(name),
    `expected a phase name other than ${RESERVED_PHASES.join(" or ")} (/init reports those itself)`,
  );

const disk = z.strictObject({
  name: diskName,
  mountpoint: mountpoint.optional(),
  fstype: fstype.optional(),
  options: mountOptions.optional(),
}).superRefine((disk, ctx) => {
  if (disk.mountpoint !== undefined) return;
  for (const key of ["fstype", "options"] as const) {
    if (disk[key] === undefined) continue;
    ctx.addIssue({
      code: "custom",
      path: [key],
      input: disk[key],
      message: "expected nothing on a disk without mountpoint (it is not mounted)",
    });
  }
});

const disks = z.array(disk).superRefine((disks, ctx) => {
  const names = new Set<string>();
  disks.forEach(({ name }, i) => {
    if (names.has(name)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        input: name,
        message: "expected a name used once",
      });
    }
    names.add(name);
  });
});

const file = z.strictObject({
  hostPath: z.string().refine((path) => path !== "", "expected a path on the host"),
  guestPath: guestFilePath,
  mode: z.number()
    .refine(
      (mode) => Number.isInteger(mode) && mode >= 0 && mode <= 0o7777,
      "expected permission bits such as 0o755",
    )
    .optional(),
});

const network = z.strictObject({
  node: z.string().regex(
    NODE_NAME_PATTERN,
    "expected a node name such as db1 (lowercase letters, digits and -)",
  ),
  mac: z.string().regex(
    /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/,
    "expected a MAC in lowercase, such as 02:66:6c:29:2c:00",
  ),
  prefixLength,
  hosts: z.array(z.strictObject({
    name: z.string().regex(
      NODE_NAME_PATTERN,
      "expected a node name such as db1 (lowercase letters, digits and -)",
    ),
    ip: z.string().regex(IPV4_PATTERN, "expected an IPv4 address such as 192.0.2.10"),
  })),
}).superRefine((network, ctx) => {
  const names = new Set<string>();
  network.hosts.forEach(({ name }, i) => {
    if (names.has(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["hosts", i, "name"],
        input: name,
        message: "expected a node name used once",
      });
    }
    names.add(name);
  });
  if (!names.has(network.node)) {
    ctx.addIssue({
      code: "custom",
      path: ["hosts"],
      input: network.hosts,
      message: `expected the node ${network.node} among the hosts`,
    });
  }
});

/** What the guest image takes ({@linkcode InitramfsOptions}), as a zod schema. */
export const initramfsOptionsSchema = z.strictObject({
  phases: z.record(phaseName, shellScript)
    .refine((phases) => Object.keys(phases).length > 0, "expected at least one phase, such as run"),
  kernel: z.custom<Kernel>().optional(),
  busybox: z.custom<Busybox>().optional(),
  modules: z.array(
    z.string().regex(/^[A-Za-z0-9_-]+$/, "expected a module name such as virtio_blk"),
  )
    .optional(),
  disks: disks.optional(),
  env: z.record(envName, envValue).optional(),
  files: z.array(file).optional(),
  programs: z.array(programPath).optional(),
  deviceTimeoutSeconds: z.number().positive().max(3600).optional(),
  network: network.optional(),
  control: z.boolean().optional(),
  packageRoot: z.boolean().optional(),
  cacheRoot: z.string().startsWith("/", "expected an absolute path").optional(),
  signal: z.custom<AbortSignal>().optional(),
}).superRefine((options, ctx) => {
  if (options.packageRoot) {
    for (const field of ["programs", "files"] as const) {
      if ((options[field] ?? []).length === 0) continue;
      ctx.addIssue({
        code: "custom",
        path: [field],
        input: options[field],
        message: "expected none with packageRoot (they go into the package root's image)",
      });
    }
  }
  checkGuestLayout({
    mounts: (options.disks ?? []).flatMap((disk, i) =>
      disk.mountpoint === undefined
        ? []
        : [{ at: ["disks", i, "mountpoint"], path: disk.mountpoint }]
    ),
    files: (options.files ?? []).map((file, i) => ({
      at: ["files", i, "guestPath"],
      path: file.guestPath,
    })),
    network: options.network !== undefined,
  }, ctx);
});

/**
 * The problems of initramfs options, one line each (`initramfs option FIELD: expected ...,
 * found ...`); none when they are valid.
 *
 * @example
 * ```ts
 * initramfsOptionProblems({ phases: { run: "" }, disks: [{ name: "Data" }] });
 * // ['initramfs option disks[0].name: expected a disk name like data or vdb (...), found "Data"']
 * ```
 */
export function initramfsOptionProblems(options: unknown): string[] {
  const parsed = initramfsOptionsSchema.safeParse(options);
  if (parsed.success) return [];
  return issueLines(parsed.error.issues, options).map((line) =>
    line.startsWith("(top level): ")
      ? `initramfs options: ${line.slice("(top level): ".length)}`
      : `initramfs option ${line}`
  );
}

/**
 * Checks initramfs options and throws a {@linkcode GuestImageError} (with `usage` set)
 * whose message has a line for each problem, naming the field, what was expected and what
 * was found. Called by `buildInitramfs`; a scenario's nodes are checked by the same rules
 * when the scenario loads.
 *
 * @example
 * ```ts
 * validateInitramfsOptions({ phases: { run: "" }, disks: [{ name: "Data" }] });
 * // throws: initramfs option disks[0].name: expected a disk name like data or vdb (...), found "Data"
 * ```
 */
export function validateInitramfsOptions(options: InitramfsOptions): void {
  const problems = initramfsOptionProblems(options);
  if (problems.length > 0) throw new GuestImageError(problems.join("\n"), { usage: true });
}
