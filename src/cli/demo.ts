/**
 * `faultline demo`: a walk-through of the fault layer on a built-in image:
 * serve it, write and read it with qemu-io, switch faults on and off over the
 * control socket, and read back the trace.
 *
 * @module
 */

import { join } from "node:path";
import { QmpClient } from "../qmp/client.ts";
import { DiskService } from "../service/disk_service.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { exportUri } from "../nbd/uri.ts";
import { ensurePackages } from "./setup.ts";
import { traceStatsCommand } from "./trace.ts";

async function qemuIo(
  uri: string,
  commands: string[],
): Promise<{ ok: boolean; text: string; ms: number }> {
  const started = performance.now();
  const output = await new Deno.Command("qemu-io", {
    args: ["-f", "raw", uri, ...commands.flatMap((c) => ["-c", c])],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const text = (decoder.decode(output.stdout) + decoder.decode(output.stderr)).trim();
  const failed = !output.success || /error|failed/i.test(text);
  return { ok: !failed, text, ms: performance.now() - started };
}

/** Runs the demo; `keep` leaves the trace in the current directory. */
export async function demoCommand(options: { trace?: string }): Promise<number> {
  const step = (text: string) => console.log(`\n== ${text}`);
  step("setup: Debian packages");
  await ensurePackages({ quiet: false });

  await using dir = await makePrivateDir("faultline-demo-");
  const image = join(dir.path, "demo.raw");
  const file = await Deno.open(image, { create: true, write: true });
  await file.truncate(64 * 1024 * 1024);
  file.close();
  const tracePath = options.trace ?? join(dir.path, "demo.trace");

  step(`serve: a 64 MiB image as export "demo", recording to ${tracePath}`);
  const service = await DiskService.start({
    disks: [{ name: "demo", image }],
    listen: { transport: "unix", path: join(dir.path, "nbd.sock") },
    controlPath: join(dir.path, "control.sock"),
    plan: { seed: 1, rules: [] },
    scratchDir: dir.path,
    trace: { path: tracePath, keepData: true, command: "serve" },
  });
  const uri = exportUri(service.server.address, "demo");
  console.log(`  ${uri}`);
  try {
    const show = (label: string, result: { ok: boolean; text: string; ms: number }) =>
      console.log(
        `  ${label}: ${result.ok ? "ok" : "FAILED"} in ${Math.round(result.ms)} ms\n    ${
          result.text.split("\n")[0]
        }`,
      );
    await using control = await QmpClient.connect(join(dir.path, "control.sock"), {
      timeoutMs: 5000,
    });
    const setState = (args: Record<string, unknown>) =>
      control.execute("set-block-fault-state", args);

    step("qemu-io writes a pattern, flushes and reads it back");
    show(
      "write+flush+read",
      await qemuIo(uri, ["write -P 0x5a 0 1M", "flush", "read -P 0x5a 0 1M"]),
    );

    step('control socket: set-block-fault-state {"id": "demo", "state": "error"}');
    await setState({ id: "demo", state: "error" });
    show("read with the disk failing", await qemuIo(uri, ["read 0 4k"]));

    step('set-block-fault-state {"state": "delay", "duration-ms": 200}');
    await setState({ id: "demo", state: "delay", "duration-ms": 200 });
    show("read with a 200 ms delay", await qemuIo(uri, ["read 0 4k"]));

    step('set-block-fault-state {"state": "none"}');
    await setState({ id: "demo", state: "none" });
    show("read with the disk back", await qemuIo(uri, ["read -P 0x5a 0 4k"]));
    console.log(
      `  query-block-fault-state: ${
        JSON.stringify(await control.execute("query-block-fault-state", { id: "demo" }))
      }`,
    );
  } finally {
    await service.close("demo finished");
  }

  step("faultline trace stats");
  await traceStatsCommand(tracePath, { json: false });
  console.log("\nNext: faultline serve --image disk.raw, and point any VM at the URI it prints.");
  return 0;
}
