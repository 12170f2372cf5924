/**
 * The base images of a scenario's disks: file systems made on the host,
 * reproducibly (fixed time, UUID and hash seed, so the same scenario gives the
 * same bytes and a replay can check them by hash), or given images (qcow2
 * converted to raw). Stored in the cache under their content hash; never
 * written afterwards: every run puts an overlay on top. A file system made
 * before from the same size, options, UUID and mkfs is found by its spec,
 * without running mkfs or hashing it again.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { ScenarioDisk } from "../scenario/schema.ts";
import { cacheDir, storeFile } from "../util/cache_dir.ts";
import { sha256Bytes, sha256File } from "../util/hash.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { RunError } from "./errors.ts";

/** A base image ready to serve. */
export interface BaseDisk {
  /** The node it belongs to. */
  node: string;
  /** The disk's name in its node. */
  name: string;
  /** A raw image, only ever opened read-only. */
  path: string;
  /** The image's SHA-256. */
  sha256: string;
  /** Its size. */
  sizeBytes: number;
}

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];

async function runTool(
  command: string,
  args: string[],
  env?: Record<string, string>,
): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new RunError(
        `${command} is not installed (apt-get install e2fsprogs qemu-utils, or faultline setup)`,
      );
    }
    throw error;
  }
  if (!output.success) {
    throw new RunError(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
}

/** A UUID derived from a name, so a file system made twice gets the same one. */
function stableUuid(name: string): string {
  const hex = sha256Bytes(new TextEncoder().encode(name));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${
    hex.slice(20, 32)
  }`;
}

/**
 * Makes (or finds) the base image of one disk.
 *
 * @throws {RunError} when mkfs or qemu-img fails, naming the command.
 * @example
 * ```ts
 * const base = await prepareBaseDisk("fsync-log", "app", disk);
 * ```
 */
export async function prepareBaseDisk(
  scenario: string,
  node: string,
  disk: ScenarioDisk,
): Promise<BaseDisk> {
  if (disk.kind === "image") {
    const file = await Deno.open(disk.image, { read: true });
    const head = new Uint8Array(4);
    const n = await file.read(head);
    file.close();
    if (n === 4 && QCOW2_MAGIC.every((b, i) => head[i] === b)) {
      await using dir = await makePrivateDir("faultline-convert-");
      const raw = join(dir.path, "converted.raw");
      await runTool("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", disk.image, raw]);
      const stored = await storeFile(raw, { kind: "disks", extension: ".raw", move: true });
      return { node, name: disk.name, ...stored, sizeBytes: (await Deno.stat(stored.path)).size };
    }
    return {
      node,
      name: disk.name,
      path: disk.image,
      sha256: await sha256File(disk.image),
      sizeBytes: (await Deno.stat(disk.image)).size,
    };
  }

  const uuid = stableUuid(`${scenario}/${node}/${disk.name}`);
  const made = await madeBefore(disk, uuid);
  if (made) return { node, name: disk.name, ...made, sizeBytes: disk.sizeBytes };
  await using dir = await makePrivateDir("faultline-mkfs-");
  const raw = join(dir.path, "disk.raw");
  const file = await Deno.open(raw, { create: true, write: true });
  await file.truncate(disk.sizeBytes);
  file.close();
  if (disk.filesystem !== "none") {
    await runTool(
      `mkfs.${disk.filesystem}`,
      ["-q", "-F", "-U", uuid, "-E", `hash_seed=${uuid}`, ...disk.mkfsOptions, raw],
      { E2FSPROGS_FAKE_TIME: "1700000000" },
    );
  }
  const stored = await storeFile(raw, { kind: "disks", extension: ".raw", move: true });
  await Deno.chmod(stored.path, 0o444);
  await rememberMade(disk, uuid, stored.sha256);
  return { node, name: disk.name, ...stored, sizeBytes: disk.sizeBytes };
}

let mkfsVersion: Promise<string> | undefined;

/** The first line mke2fs prints about itself (its version), once per process. */
function mkfsVersionLine(): Promise<string> {
  mkfsVersion ??= new Deno.Command("mke2fs", { args: ["-V"], stdout: "piped", stderr: "piped" })
    .output()
    .then((output) => new TextDecoder().decode(output.stderr).split("\n")[0].trim())
    .catch(() => "unknown");
  return mkfsVersion;
}

/** Where the image made from a disk's spec is remembered: `<cache>/disks/made/<key>.json`. */
async function madePath(
  disk: ScenarioDisk & { kind: "filesystem" },
  uuid: string,
): Promise<string> {
  const spec = {
    size: disk.sizeBytes,
    filesystem: disk.filesystem,
    mkfsOptions: disk.mkfsOptions,
    uuid,
    mkfs: disk.filesystem === "none" ? null : await mkfsVersionLine(),
  };
  return join(
    cacheDir(),
    "disks",
    "made",
    `${sha256Bytes(new TextEncoder().encode(JSON.stringify(spec)))}.json`,
  );
}

/**
 * The image made before from the same spec, UUID and mkfs (it is the same bytes: mkfs runs
 * with a fixed time, UUID and hash seed), when it is still in the cache: no mkfs, no hashing.
 */
async function madeBefore(
  disk: ScenarioDisk & { kind: "filesystem" },
  uuid: string,
): Promise<{ path: string; sha256: string } | null> {
  try {
    const { sha256 } = JSON.parse(await Deno.readTextFile(await madePath(disk, uuid))) as {
      sha256: string;
    };
    const path = join(cacheDir(), "disks", `${sha256}.raw`);
    const info = await Deno.stat(path);
    return info.size === disk.sizeBytes ? { path, sha256 } : null;
  } catch {
    return null;
  }
}

async function rememberMade(
  disk: ScenarioDisk & { kind: "filesystem" },
  uuid: string,
  sha256: string,
): Promise<void> {
  const path = await madePath(disk, uuid);
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(`${path}.tmp-${Deno.pid}`, JSON.stringify({ sha256 }));
  await Deno.rename(`${path}.tmp-${Deno.pid}`, path);
}
