/**
 * A running fault layer over one image, in a private directory, for one test.
 *
 * @module
 */

import { join } from "node:path";
import { exportUri } from "../../src/nbd/uri.ts";
import { DiskService, type DiskServiceOptions } from "../../src/service/disk_service.ts";
import { sha256File } from "../../src/util/hash.ts";
import { makePrivateDir, type PrivateDir } from "../../src/util/tempdir.ts";
import { makeImage } from "./images.ts";

/** A served image; disposing of it stops the service and removes its directory. */
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

/** Options of {@link serveImage}: the image, and the service's own options. */
export type ServeImageOptions =
  & { size?: number; fill?: (bytes: Uint8Array) => void; name?: string }
  & Partial<Omit<DiskServiceOptions, "disks" | "listen" | "scratchDir">>;

/**
 * Serves an image (made with `size` and `fill`) through a DiskService with a
 * control socket and a trace.
 *
 * @example
 * ```ts
 * await using served = await serveImage({ size: 1 << 20, plan: { seed: 1, rules: [parseFaultSpec("eio@2")] } });
 * await qemuIo(served.uri(), ["read 0 512"]);
 * ```
 */
export async function serveImage(options: ServeImageOptions = {}): Promise<Served> {
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
      onRecord: options.onRecord,
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
