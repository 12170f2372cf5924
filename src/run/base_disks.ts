/**
 * The base images of a scenario's disks: file systems made on the host,
 * reproducibly (fixed time, UUID and hash seed, so the same disk gives the same
 * bytes and a replay can check them by hash), or given images (qcow2
 * converted to raw). Stored in the cache under their content hash; never
 * written afterwards: every run puts an overlay on top. A file system made
 * before from the same disk and mkfs is found by its key (./cache_keys.ts),
 * without running mkfs or hashing it again.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { ScenarioDisk } from "../scenario/schema.ts";
import { cacheDir, storeFile } from "../util/cache_dir.ts";
import { sha256File } from "../util/hash.ts";
import { hostCommand } from "../util/host_command.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { type Filesystem, FILESYSTEMS } from "../scenario/filesystems.ts";
import { baseDiskKey, filesystemUuid } from "./cache_keys.ts";
import { fixXfsTimes } from "./_xfs_times.ts";
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
  const output = await hostCommand(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new RunError(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
}

/**
 * Makes (or finds) the base image of one of a node's disks. A file system's image depends
 * on the node's name and the disk alone (./cache_keys.ts), never on the scenario's name: the
 * same disk in two scenarios is one image.
 *
 * @throws {RunError} when mkfs or qemu-img fails, naming the command; {ToolMissingError} when
 *   one is not installed.
 * @example
 * ```ts
 * const base = await prepareBaseDisk("app", disk);
 * ```
 */
export async function prepareBaseDisk(node: string, disk: ScenarioDisk): Promise<BaseDisk> {
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

  const fs = disk.filesystem === "none" ? null : FILESYSTEMS[disk.filesystem];
  const key = baseDiskKey(node, disk, fs ? await mkfsVersionLine(fs) : null);
  const made = await madeBefore(key, disk.sizeBytes);
  if (made) return { node, name: disk.name, ...made, sizeBytes: disk.sizeBytes };
  await using dir = await makePrivateDir("faultline-mkfs-");
  const raw = join(dir.path, "disk.raw");
  const file = await Deno.open(raw, { create: true, write: true });
  await file.truncate(disk.sizeBytes);
  file.close();
  if (fs) {
    await makeFilesystem(fs, {
      uuid: filesystemUuid(node, disk),
      image: raw,
      extra: disk.mkfsOptions,
    });
  }
  const stored = await storeFile(raw, { kind: "disks", extension: ".raw", move: true });
  await Deno.chmod(stored.path, 0o444);
  await rememberMade(key, stored.sha256);
  return { node, name: disk.name, ...stored, sizeBytes: disk.sizeBytes };
}

/**
 * Makes a file system on `image` reproducibly: a fixed UUID (and hash seed), and every time
 * it holds fixed (ext2/3/4: E2FSPROGS_FAKE_TIME; XFS: set afterwards, ./_xfs_times.ts).
 *
 * @throws {RunError} when mkfs fails; {ToolMissingError} when it is not installed.
 * @example
 * ```ts
 * await makeFilesystem(FILESYSTEMS.xfs, { uuid, image: "/tmp/disk.raw", extra: [] });
 * ```
 */
export async function makeFilesystem(
  fs: Filesystem,
  options: { uuid: string; image: string; extra: readonly string[] },
): Promise<void> {
  const call = fs.mkfs(options);
  await runTool(call.tool, call.args, call.env);
  if (fs.times === "xfs_db") await fixXfsTimes(options.image);
}

const mkfsVersions = new Map<string, Promise<string>>();

/**
 * The first line a file system's mkfs prints about itself (its version), once per process
 * and tool. A missing mkfs is named here, before anything is made.
 */
function mkfsVersionLine(fs: Filesystem): Promise<string> {
  const { tool, args } = fs.version;
  let version = mkfsVersions.get(tool);
  if (version === undefined) {
    version = hostCommand(tool, { args, stdout: "piped", stderr: "piped" })
      .output()
      .then((output) => {
        const decoder = new TextDecoder();
        const text = `${decoder.decode(output.stderr)}\n${decoder.decode(output.stdout)}`;
        return text.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? tool;
      })
      .catch((error) => {
        mkfsVersions.delete(tool);
        throw error;
      });
    mkfsVersions.set(tool, version);
  }
  return version;
}

/** Where the image made under a key is remembered: `<cache>/disks/made/<key>.json`. */
function madePath(key: string): string {
  return join(cacheDir(), "disks", "made", `${key}.json`);
}

/**
 * The image made before under the same key (it is the same bytes: mkfs runs with a fixed
 * time, UUID and hash seed), when it is still in the cache: no mkfs, no hashing.
 */
async function madeBefore(
  key: string,
  sizeBytes: number,
): Promise<{ path: string; sha256: string } | null> {
  try {
    const { sha256 } = JSON.parse(await Deno.readTextFile(madePath(key))) as { sha256: string };
    const path = join(cacheDir(), "disks", `${sha256}.raw`);
    const info = await Deno.stat(path);
    return info.size === sizeBytes ? { path, sha256 } : null;
  } catch {
    return null;
  }
}

async function rememberMade(key: string, sha256: string): Promise<void> {
  const path = madePath(key);
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(`${path}.tmp-${Deno.pid}`, JSON.stringify({ sha256 }));
  await Deno.rename(`${path}.tmp-${Deno.pid}`, path);
}
