/**
 * What a node built from Debian packages may say, defined once: package names, the users
 * of its root's passwd and group, and the fields that do not go with a package root
 * (`programs`, its own `kernel` and `initramfs`) or need one (`users`, `rootSetup`). The
 * scenario schema (`schema.ts`) checks every node with these rules when a scenario loads,
 * so a mistake names the scenario's field (`nodes.db.users[1].uid`).
 *
 * @module
 */

import { z } from "zod";

/**
 * A Debian package name (Debian policy 5.6.1): lowercase letters, digits, `+`, `-` and `.`,
 * starting with a letter or digit, at least two characters.
 */
export const DEBIAN_PACKAGE_PATTERN: RegExp = /^[a-z0-9][a-z0-9+.-]+$/;

/** A user name of the root's passwd: what Debian's adduser accepts by default, at most 32. */
export const USER_NAME_PATTERN: RegExp = /^[a-z_][a-z0-9_-]{0,31}$/;

/** The users every package root has: root (0) and nobody (65534, group nogroup). */
export const BUILTIN_USERS: readonly { name: string; uid: number }[] = [
  { name: "root", uid: 0 },
  { name: "nobody", uid: 65534 },
];

/** The groups every package root has besides the users' own: root (0) and nogroup (65534). */
export const BUILTIN_GROUPS: readonly string[] = ["root", "nogroup"];

/** A Debian package the node's root is built from, such as `postgresql-15`. */
export const debianPackage = z.string().regex(
  DEBIAN_PACKAGE_PATTERN,
  "expected a Debian package name like postgresql-15 (lowercase letters, digits, +, - and .)",
);

const id = z.number().int().min(1).max(65533);

/** A user of the root's passwd (with a group of the same name). */
export const guestUser = z.strictObject({
  name: z.string().regex(
    USER_NAME_PATTERN,
    "expected a user name like postgres (lowercase letters, digits, _ and -, at most 32)",
  ).refine(
    (name) => !BUILTIN_USERS.some((user) => user.name === name) && !BUILTIN_GROUPS.includes(name),
    `expected a user other than ${BUILTIN_USERS.map((user) => user.name).join(" and ")} ` +
      "(every package root has them)",
  ),
  uid: id,
  gid: id.optional(),
  home: z.string().regex(/^\/[A-Za-z0-9._+/-]*$/, "expected an absolute path like /var/lib/app")
    .optional(),
});

/** A node's fields that these rules read. */
export interface PackageFields {
  packages?: readonly string[];
  users?: readonly { name: string; uid: number; gid?: number }[];
  rootSetup?: string;
  setup?: string;
  programs?: readonly string[];
  kernel?: string;
  initramfs?: string;
}

/** A field's place in the checked value, as zod gives it. */
type FieldAt = readonly PropertyKey[];

/**
 * Checks what a node's package fields do together (and that `setup` runs in faultline's
 * guest, not with an initramfs of the user's own): `users` and `rootSetup` only with
 * `packages`; no `programs`, `kernel` or `initramfs` with them (the phases run in the
 * package root, which host programs and another guest do not reach); each user's name,
 * uid and gid (its own group's, the uid by default) used once. Adds an issue to `ctx` for each problem.
 *
 * @example
 * ```ts
 * node.superRefine((node, ctx) => checkPackageFields(node, ["nodes", "db"], ctx));
 * ```
 */
export function checkPackageFields(
  node: PackageFields,
  at: FieldAt,
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  const problem = (field: FieldAt, input: unknown, message: string) =>
    ctx.addIssue({ code: "custom", path: [...at, ...field], input, message });
  if (node.setup !== undefined && node.initramfs !== undefined) {
    problem(
      ["setup"],
      node.setup,
      "expected no setup with an initramfs of your own (faultline's guest runs the setup)",
    );
  }
  if (node.packages === undefined) {
    for (const field of ["users", "rootSetup"] as const) {
      if (node[field] !== undefined) {
        problem(
          [field],
          node[field],
          "expected packages beside it (users and rootSetup make a package root)",
        );
      }
    }
    return;
  }
  for (const field of ["programs", "kernel", "initramfs"] as const) {
    if (node[field] !== undefined) {
      problem(
        [field],
        node[field],
        "expected no " + field + " with packages (the phases run in the package root: " +
          "name the program's Debian package, or bring a file with files)",
      );
    }
  }
  const names = new Set<string>();
  const uids = new Set<number>();
  const gids = new Set<number>();
  for (const [i, user] of (node.users ?? []).entries()) {
    if (names.has(user.name)) problem(["users", i, "name"], user.name, "expected a name used once");
    if (uids.has(user.uid)) problem(["users", i, "uid"], user.uid, "expected a uid used once");
    const gid = user.gid ?? user.uid;
    if (gids.has(gid)) {
      problem(
        ["users", i, user.gid === undefined ? "uid" : "gid"],
        gid,
        "expected a gid used once",
      );
    }
    names.add(user.name);
    uids.add(user.uid);
    gids.add(gid);
  }
}
