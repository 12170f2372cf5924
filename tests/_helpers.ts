/**
 * Shared test fixtures: images, a running fault layer, and real NBD clients
 * (qemu-io, qemu-img, nbdinfo, nbdcopy) run without a shell.
 *
 * @module
 */

import { join } from "node:path";
import { DiskService, type DiskServiceOptions } from "../src/service/disk_service.ts";
import { sha256File } from "../src/util/hash.ts";
import { makePrivateDir, type PrivateDir } from "../src/util/tempdir.ts";
import { exportUri } from "../src/nbd/uri.ts";

export { sha256File };

/** The output of a finished command. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together. */
  text: string;
}

/** Runs a program (never through a shell) and collects its output. */
export async function run(
  command: string,
  args: string[],
  options: { stdin?: Uint8Array; timeoutMs?: number } = {},
): Promise<Ran> {
  const child = new Deno.Command(command, {
    args,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  return { code: output.code, stdout, stderr, text: stdout + stderr };
}

/** Runs the faultline CLI (`deno run -A mod.ts ARGS...`) with the real deno binary. */
export function faultline(args: string[], options: { timeoutMs?: number } = {}): Promise<Ran> {
  return run(Deno.execPath(), ["run", "-A", "mod.ts", ...args], options);
}

/** Creates a raw image of `size` bytes; `fill` gives its content (default: zeroes, sparse). */
export async function makeImage(
  path: string,
  size: number,
  fill?: (bytes: Uint8Array) => void,
): Promise<string> {
  const file = await Deno.open(path, { create: true, write: true, truncate: true });
  try {
    await file.truncate(size);
    if (fill) {
      const bytes = new Uint8Array(size);
      fill(bytes);
      let written = 0;
      while (written < size) written += await file.write(bytes.subarray(written));
    }
  } finally {
    file.close();
  }
  return path;
}

/** Fills bytes from a seeded generator (not crypto: just reproducible). */
export function seededFill(seed: number): (bytes: Uint8Array) => void {
  return (bytes) => {
    let state = seed >>> 0 || 1;
    for (let i = 0; i < bytes.length; i += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const word = state >>> 0;
      bytes[i] = word & 0xff;
      if (i + 1 < bytes.length) bytes[i + 1] = (word >>> 8) & 0xff;
      if (i + 2 < bytes.length) bytes[i + 2] = (word >>> 16) & 0xff;
      if (i + 3 < bytes.length) bytes[i + 3] = word >>> 24;
    }
  };
}

/** A running fault layer over one image, in a private directory, for one test. */
export interface Served extends AsyncDisposable {
  dir: PrivateDir;
  service: DiskService;
  image: string;
  /** The image's sha256 before serving. */
  imageHash: string;
  uri: (disk?: string) => string;
  control: string;
  trace: string;
  /** Stops the service and checks that the base image was never written. */
  stop(): Promise<void>;
}

/** Serves an image (made with `size` and `fill`) through a DiskService with a control socket and a trace. */
export async function serveImage(
  options:
    & { size?: number; fill?: (bytes: Uint8Array) => void; name?: string }
    & Partial<
      Omit<DiskServiceOptions, "disks" | "listen" | "scratchDir">
    > = {},
): Promise<Served> {
  const dir = await makePrivateDir("faultline-test-");
  const name = options.name ?? "vda";
  const image = await makeImage(
    join(dir.path, "base.raw"),
    options.size ?? 16 * 1024 * 1024,
    options.fill,
  );
  const imageHash = await sha256File(image);
  const trace = join(dir.path, "test.trace");
  const control = join(dir.path, "control.sock");
  let service: DiskService;
  try {
    service = await DiskService.start({
      disks: [{ name, image }],
      listen: { transport: "unix", path: join(dir.path, "nbd.sock") },
      controlPath: control,
      plan: options.plan ?? { seed: 1, rules: [] },
      scratchDir: dir.path,
      trace: options.trace ?? { path: trace, keepData: true, command: "test" },
      modifyImage: options.modifyImage,
      onEvent: options.onEvent,
    });
  } catch (error) {
    await dir.remove();
    throw error;
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await service.close("test finished");
      if (!options.modifyImage) {
        const after = await sha256File(image);
        if (after !== imageHash) {
          throw new Error(`the base image changed: ${imageHash} -> ${after}`);
        }
      }
    } finally {
      await dir.remove();
    }
  };
  return {
    dir,
    service,
    image,
    imageHash,
    control,
    trace,
    uri: (disk = name) => exportUri(service.address, disk),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Runs qemu-io commands against an NBD URI. */
export function qemuIo(uri: string, commands: string[], extra: string[] = []): Promise<Ran> {
  return run("qemu-io", ["-f", "raw", ...extra, uri, ...commands.flatMap((c) => ["-c", c])]);
}

/** True when qemu-io printed an error for any of its commands. */
export function qemuIoFailed(result: Ran): boolean {
  return result.code !== 0 || /failed|error/i.test(result.text);
}
