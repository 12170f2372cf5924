/**
 * `faultline serve` as a process, under a real QEMU guest: the guest boots with its
 * disk served over NBD, makes and writes an ext4 file system, and powers off; the
 * trace holds its reads, writes and flushes, and `trace stats` counts them. Also:
 * SIGINT closes the trace with its footer, SIGKILL leaves a trace that still reads.
 */

import { TCG } from "../src/vm/accel.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { TraceReader } from "../src/trace/reader.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { buildInitramfs, ensureBusybox, ensureKernel } from "../src/vm/mod.ts";
import { Vm } from "../src/vm/launcher.ts";
import { decodeResultSectors, RESULTS_DISK_SIZE, RESULTS_SERIAL } from "../src/vm/results.ts";
import { sha256File } from "../src/util/hash.ts";
import { faultline, makeImage, qemuIo, qemuIoFailed, waitFor } from "./support/mod.ts";

const MiB = 1024 * 1024;

/** A `serve` process started with --json, and the line it printed on start. */
interface ServeProcess {
  child: Deno.ChildProcess;
  started: { exports: { name: string; uri: string }[]; control: string; trace: string | null };
  /** Everything it printed after the first line, once it exits. */
  rest: Promise<string>;
}

/** Starts `serve --json ARGS`; `env` is added to its environment. */
async function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", "serve", "--json", ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited before it was ready: ${text}`);
    text += value;
  }
  const newline = text.indexOf("\n");
  const started = JSON.parse(text.slice(0, newline));
  const rest = (async () => {
    let more = text.slice(newline + 1);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return more;
      more += value;
    }
  })();
  return { child, started, rest };
}

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

Deno.test("a guest booted on a disk served by `serve` makes and writes ext4; the trace and trace stats show it", async () => {
  await using dir = await makePrivateDir("faultline-serve-guest-");
  const image = await makeImage(join(dir.path, "disk.raw"), 64 * MiB);
  const imageHash = await sha256File(image);
  const trace = join(dir.path, "guest.trace");
  const serve = await startServe([
    "--image",
    `vda=${image}`,
    "--socket",
    join(dir.path, "nbd.sock"),
    "--trace",
    trace,
  ]);
  try {
    const initrd = await buildInitramfs({
      kernel,
      busybox,
      programs: ["/sbin/mke2fs"],
      files: [{ hostPath: "/etc/mke2fs.conf", guestPath: "/etc/mke2fs.conf" }],
      disks: [{ name: "vda" }],
      phases: {
        run: [
          "set -e",
          "/sbin/mke2fs -q -F -t ext4 /dev/disk/vda",
          "mkdir -p /mnt/data",
          "mount -t ext4 /dev/disk/vda /mnt/data",
          "echo 'written through the fault layer' > /mnt/data/hello.txt",
          "sync /mnt/data/hello.txt",
          "umount /mnt/data",
          "report ack 1",
        ].join("\n"),
      },
    });
    const results = await makeImage(join(dir.path, "results.raw"), RESULTS_DISK_SIZE);
    await using vm = await Vm.start({
      kernel: kernel.vmlinuz,
      accel: TCG,
      initrd: initrd.path,
      phase: "run",
      memoryBytes: 256 * MiB,
      disks: [{ name: "vda", uri: serve.started.exports[0].uri }],
      results: { name: RESULTS_SERIAL, uri: results },
      qmpSocket: join(dir.path, "qmp.sock"),
      rtcBase: "2026-01-01T00:00:00",
    }, { consoleLog: join(dir.path, "console.log") });
    const exit = await vm.wait(120_000);
    const lines = decodeResultSectors(await Deno.readFile(results), 0).map((s) => s.line);
    const consoleText = await Deno.readTextFile(join(dir.path, "console.log")).catch(() => "");
    assert.equal(exit.how, "exited", exit.stderr);
    assert.deepEqual(lines, ["phase boot", "phase run", "ack 1", "exit 0"], consoleText);
  } finally {
    serve.child.kill("SIGINT");
  }
  const status = await serve.child.status;
  assert.equal(status.code, 0, "serve stops cleanly on SIGINT");
  const stopped = JSON.parse((await serve.rest).trim().split("\n").at(-1)!);
  assert.equal(stopped.stopped, "SIGINT");

  const stats = await faultline(["trace", "stats", trace, "--json"]);
  assert.equal(stats.code, 0, stats.text);
  const summary = JSON.parse(stats.stdout);
  assert.equal(summary.complete, true, "SIGINT wrote the footer");
  assert.ok(summary.byType.read.count > 0, "reads");
  assert.ok(summary.byType.write.count > 10, "mkfs and the file wrote");
  assert.ok(summary.byType.flush.count > 0, "ext4 flushed");
  assert.deepEqual(summary.byType, stopped.stats.byType, "the trace counts what serve served");
  assert.equal(await sha256File(image), imageHash, "the base image never changed");

  // trace show --json prints one object per op, with the documented keys.
  const show = await faultline(["trace", "show", trace, "--json"]);
  const first = JSON.parse(show.stdout.split("\n")[0]);
  for (const key of ["index", "node", "disk", "op", "offset", "length", "result"]) {
    assert.ok(key in first, key);
  }
});

Deno.test("SIGKILL in the middle of serving leaves a trace that reads up to its last batch", async () => {
  await using dir = await makePrivateDir("faultline-serve-kill-");
  const image = await makeImage(join(dir.path, "disk.raw"), 8 * MiB);
  const trace = join(dir.path, "killed.trace");
  // A killed serve cannot remove its scratch directory (its overlay is the image's size): it
  // goes into the test's own, which the test removes.
  const serve = await startServe(["--image", image, "--trace", trace], { TMPDIR: dir.path });
  const uri = serve.started.exports[0].uri;
  const io = await qemuIo(uri, ["write -P 0x61 0 1M", "flush", "read 0 1M"]);
  assert.equal(qemuIoFailed(io), false, io.text);
  // A batch with the writes reaches the file within the writer's interval; wait for it.
  const written = await waitFor("the writes in the trace file", async () => {
    const reader = await TraceReader.open(trace).catch(() => null);
    let writes = 0;
    for await (const record of reader?.records() ?? []) {
      if (record.record === "op" && record.op === "write") writes++;
    }
    return writes > 0 && writes;
  });
  serve.child.kill("SIGKILL");
  await serve.child.status;
  await serve.rest;
  const stats = await faultline(["trace", "stats", trace, "--json"]);
  assert.equal(stats.code, 0, stats.text);
  const summary = JSON.parse(stats.stdout);
  assert.equal(summary.complete, false);
  assert.match(stats.stderr, /warning: .*(no footer|was cut)/);
  assert.ok(summary.byType.write.count >= written, "every write that reached the file reads");
  const left = [...Deno.readDirSync(dir.path)].map((entry) => entry.name);
  assert.ok(left.some((name) => name.startsWith("faultline-serve-")), "serve's scratch is here");
});

Deno.test("serve refuses bad input with exit code 2 and one line naming it", async () => {
  await using dir = await makePrivateDir("faultline-serve-bad-");
  const image = await makeImage(join(dir.path, "disk.raw"), MiB);
  const cases: [string[], RegExp][] = [
    [["--image", join(dir.path, "missing.raw")], /missing\.raw does not exist/],
    [["--image", image, "--fault", "melt@3"], /unknown fault kind "melt"/],
    [["--image", image, "--fault", "power-loss@3"], /power-loss needs record or replay/],
    [["--image", image, "--tcp", "0.0.0.0:10809"], /loopback only/],
    [["--image", image, "--tcp", "nonsense"], /HOST:PORT/],
    [["--image", image, "--image", image], /two images would be served as "disk"/],
    [["--image", image, "--image", image, "--export", "x"], /--export names a single image/],
    [[], /at least one --image/],
  ];
  for (const [args, pattern] of cases) {
    const result = await faultline(["serve", ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.text}`);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});
