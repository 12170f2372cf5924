/**
 * Boots the default guest image under QEMU (TCG) for real: the kernel from Debian's cloud
 * kernel package, the busybox initramfs, an ext4 disk made on the host, and the results
 * channel on the second serial port.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../src/util/tempdir.ts";
import {
  buildInitramfs,
  ensureBusybox,
  ensureKernel,
  exitCodeOf,
  type InitramfsOptions,
  type Kernel,
  parseResultLines,
  type ResultLine,
} from "../src/vm/mod.ts";

const QEMU = "qemu-system-x86_64";
/** A boot takes 3 to 6 s under TCG on 2 cores; this only catches a hung guest. */
const BOOT_DEADLINE_MS = 90_000;
const DISK_UUID = "5fa1f00d-0000-4000-8000-000000000001";

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const output = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `${cmd} ${args.join(" ")}: ${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** A small ext4 image, the same bytes on every run (fixed time, UUID and hash seed). */
async function makeExt4(path: string, sizeMiB = 32): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  await file.truncate(sizeMiB * 1024 * 1024);
  file.close();
  await run("mkfs.ext4", [
    "-q",
    "-F",
    "-U",
    DISK_UUID,
    "-E",
    `hash_seed=${DISK_UUID}`,
    path,
  ], { E2FSPROGS_FAKE_TIME: "1" });
}

interface Boot {
  results: ResultLine[];
  console: string;
  /** Wall time from spawning QEMU to its exit. */
  ms: number;
}

/** Boots once and waits for QEMU to exit by itself (it is killed after the deadline). */
async function boot(
  kernel: Kernel,
  initrd: string,
  dir: string,
  disk?: string,
): Promise<Boot> {
  const consoleLog = join(dir, "console.log");
  const resultsLog = join(dir, "results.log");
  await Deno.remove(consoleLog).catch(() => {});
  await Deno.remove(resultsLog).catch(() => {});
  const args = [
    "-machine",
    "q35",
    "-m",
    "256",
    "-smp",
    "1",
    "-nodefaults",
    "-display",
    "none",
    "-no-reboot",
    "-kernel",
    kernel.vmlinuz,
    "-initrd",
    initrd,
    "-append",
    "console=ttyS0 panic=-1 quiet",
    "-serial",
    `file:${consoleLog}`,
    "-serial",
    `file:${resultsLog}`,
  ];
  if (disk) {
    args.push(
      "-drive",
      `file=${disk},format=raw,if=none,id=d0,cache=unsafe,werror=report,rerror=report`,
      "-device",
      "virtio-blk-pci,drive=d0",
    );
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(QEMU, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`${QEMU} not found: apt-get install qemu-system-x86`);
    }
    throw error;
  }
  const start = performance.now();
  const output = child.output();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), BOOT_DEADLINE_MS);
  });
  try {
    const done = await Promise.race([output, deadline]);
    const ms = performance.now() - start;
    const consoleText = await Deno.readTextFile(consoleLog).catch(() => "");
    if (done === "deadline") {
      assert.fail(`QEMU did not exit within ${BOOT_DEADLINE_MS} ms; console:\n${consoleText}`);
    }
    assert.equal(done.code, 0, `QEMU failed: ${new TextDecoder().decode(done.stderr)}`);
    const results = parseResultLines(await Deno.readTextFile(resultsLog)).lines;
    return { results, console: consoleText, ms };
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await output;
  }
}

async function image(options: InitramfsOptions): Promise<string> {
  return (await buildInitramfs({ kernel, busybox, ...options })).path;
}

const texts = (results: ResultLine[]) => results.map((r) => r.text);

Deno.test("guest: boots, mounts an ext4 disk, writes a file, acks and powers off", async () => {
  await using dir = await makePrivateDir("faultline-boot-test-");
  const disk = join(dir.path, "disk.raw");
  await makeExt4(disk);
  const initrd = await image({
    disks: [{ device: "/dev/vda", mountpoint: "/mnt/data" }],
    workload: [
      "echo 'hello from the guest' >/mnt/data/hello.txt",
      "sync /mnt/data/hello.txt",
      "report ack 1",
    ].join("\n"),
  });
  const result = await boot(kernel, initrd, dir.path, disk);
  console.log(`boot to exit (mount, write, sync, ack, poweroff): ${Math.round(result.ms)} ms`);
  assert.deepEqual(
    texts(result.results),
    ["phase boot", "phase mounted", "phase workload", "ack 1", "exit 0"],
    result.console,
  );
  assert.equal(exitCodeOf(result.results), 0);
  const content = await run("debugfs", ["-R", "cat /hello.txt", disk]);
  assert.equal(content, "hello from the guest\n");
});

Deno.test("guest: a workload that exits 3 reports exit 3", async () => {
  await using dir = await makePrivateDir("faultline-boot-test-");
  const initrd = await image({ workload: "report ack 7\nexit 3\n" });
  const result = await boot(kernel, initrd, dir.path);
  console.log(`boot to exit (no disk): ${Math.round(result.ms)} ms`);
  assert.deepEqual(texts(result.results), ["phase boot", "phase workload", "ack 7", "exit 3"]);
  assert.equal(exitCodeOf(result.results), 3);
});

Deno.test("guest: a disk that never appears is an error line, not an exit", async () => {
  await using dir = await makePrivateDir("faultline-boot-test-");
  const initrd = await image({
    disks: [{ device: "/dev/vda", mountpoint: "/mnt/data" }],
    deviceTimeoutSeconds: 1,
    workload: "report ack 1\n",
  });
  const result = await boot(kernel, initrd, dir.path);
  assert.deepEqual(texts(result.results), [
    "phase boot",
    "error no block device /dev/vda after 1s",
  ]);
  assert.equal(exitCodeOf(result.results), undefined);
});

const sqlite = await Deno.stat("/usr/bin/sqlite3").then(() => true, () => false);

Deno.test({
  name: "guest: a host program (sqlite3) runs; a second boot finds what the first acked",
  ignore: !sqlite,
  async fn() {
    await using dir = await makePrivateDir("faultline-boot-test-");
    const disk = join(dir.path, "disk.raw");
    await makeExt4(disk);
    const disks = [{ device: "/dev/vda", mountpoint: "/mnt/data", options: "data=ordered" }];
    const write = await image({
      disks,
      programs: ["/usr/bin/sqlite3"],
      env: { DB: "/mnt/data/kv.db" },
      workload: [
        'sqlite3 "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT);"',
        "for k in 1 2 3; do",
        '  sqlite3 "$DB" "INSERT INTO kv VALUES ($k, \'v$k\');" || exit 1',
        "  report ack $k",
        "done",
      ].join("\n"),
    });
    const first = await boot(kernel, write, dir.path, disk);
    console.log(`boot to exit (sqlite3, 3 acked inserts): ${Math.round(first.ms)} ms`);
    assert.equal(exitCodeOf(first.results), 0, first.console);
    const check = await image({
      disks,
      programs: ["/usr/bin/sqlite3"],
      workload: 'for k in $(sqlite3 /mnt/data/kv.db "SELECT k FROM kv ORDER BY k"); do\n' +
        "  report have $k\ndone\n",
    });
    const second = await boot(kernel, check, dir.path, disk);
    assert.equal(exitCodeOf(second.results), 0, second.console);
    const acked = first.results.filter((r) => r.kind === "ack").map((r) => r.args[0]);
    const found = second.results.filter((r) => r.kind === "have").map((r) => r.args[0]);
    assert.deepEqual(acked, ["1", "2", "3"]);
    assert.deepEqual(found, acked);
  },
});
