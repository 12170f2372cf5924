/**
 * Boots the default guest image under QEMU (TCG) for real: the kernel from Debian's cloud
 * kernel package, the busybox initramfs, disks attached by name (virtio-blk serial), and the
 * results disk (serial `faultline-results`) as a raw file that is decoded after QEMU exits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../src/util/tempdir.ts";
import {
  buildInitramfs,
  decodeResultSectors,
  ensureBusybox,
  ensureKernel,
  type InitramfsOptions,
  parseResultLine,
  phaseKernelArg,
  reportedExitCode,
  type ResultLine,
  RESULTS_DISK_SIZE,
  RESULTS_SERIAL,
  type ResultSector,
} from "../src/vm/mod.ts";
import { makeImage, runOk } from "./support/mod.ts";

const QEMU = "qemu-system-x86_64";
/** A boot takes 3 to 6 s under TCG on 2 cores; this only catches a hung guest. */
const BOOT_DEADLINE_MS = 90_000;
const DISK_UUID = "5fa1f00d-0000-4000-8000-000000000001";

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

/** A small ext4 image, the same bytes on every run (fixed time, UUID and hash seed). */
async function makeExt4(path: string, sizeMiB = 32): Promise<void> {
  await makeImage(path, sizeMiB * 1024 * 1024);
  await runOk("mkfs.ext4", [
    "-q",
    "-F",
    "-U",
    DISK_UUID,
    "-E",
    `hash_seed=${DISK_UUID}`,
    path,
  ], { env: { E2FSPROGS_FAKE_TIME: "1" } });
}

/** A disk file and the name (virtio-blk serial) it is attached under. */
interface AttachedDisk {
  name: string;
  path: string;
}

interface BootOptions {
  /** `faultline.phase=` on the kernel command line; none when null. */
  phase: string | null;
  /** Attached in this order, before the results disk. */
  disks?: AttachedDisk[];
  /** Attach the results disk (last); true by default. */
  results?: boolean;
}

interface Boot {
  /** The lines of the results disk, in sector order. */
  results: ResultLine[];
  /** The non-empty sectors of the results disk. */
  sectors: ResultSector[];
  console: string;
  /** Wall time from spawning QEMU to its exit. */
  ms: number;
}

/** Boots once and waits for QEMU to exit by itself (it is killed after the deadline). */
async function boot(initrd: string, dir: string, options: BootOptions): Promise<Boot> {
  const consoleLog = join(dir, "console.log");
  const resultsDisk = join(dir, "results.raw");
  await Deno.remove(consoleLog).catch(() => {});
  await makeImage(resultsDisk, RESULTS_DISK_SIZE);
  const append = ["console=ttyS0", "panic=-1", "quiet", "no_timer_check"];
  if (options.phase !== null) append.push(phaseKernelArg(options.phase));
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
    append.join(" "),
    "-serial",
    `file:${consoleLog}`,
  ];
  for (const [i, disk] of (options.disks ?? []).entries()) {
    args.push(
      "-drive",
      `file=${disk.path},format=raw,if=none,id=d${i},cache=unsafe,werror=report,rerror=report`,
      "-device",
      `virtio-blk-pci,drive=d${i},serial=${disk.name}`,
    );
  }
  if (options.results ?? true) {
    args.push(
      "-drive",
      `file=${resultsDisk},format=raw,if=none,id=results,cache=none`,
      "-device",
      `virtio-blk-pci,drive=results,serial=${RESULTS_SERIAL}`,
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
    const sectors = decodeResultSectors(await Deno.readFile(resultsDisk), 0);
    const results = sectors.map((s) => parseResultLine(s.line)).filter((l) => l !== undefined);
    return { results, sectors, console: consoleText, ms };
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
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("guest: one image, two phases: run writes and acks in order, check finds it all", async () => {
  await using dir = await makePrivateDir("faultline-boot-test-");
  const data = join(dir.path, "data.raw");
  const scratch = join(dir.path, "scratch.raw");
  await makeExt4(data);
  await makeImage(scratch, 1024 * 1024);
  const initrd = await image({
    disks: [{ name: "data", mountpoint: "/mnt/data" }, { name: "scratch" }],
    phases: {
      run: [
        'report env "$FAULTLINE_PHASE" "$FAULTLINE_RESULTS"',
        "report disks $(readlink /dev/disk/data) $(readlink /dev/disk/scratch)",
        "report mounts $(grep -c -e ' /mnt/data ext4 ' -e '^/dev/vda ' /proc/mounts)",
        "for k in $(seq 1 20); do",
        '  echo "v$k" >/mnt/data/k$k && sync /mnt/data/k$k || exit 1',
        "  report ack $k",
        "done",
        "for k in $(seq 1 8); do report note $k & done",
        "wait",
        "printf 'raw bytes on scratch' | dd of=/dev/disk/scratch bs=512 conv=sync,fsync status=none",
      ].join("\n"),
      check: [
        'report env "$FAULTLINE_PHASE"',
        "for f in /mnt/data/k*; do",
        '  [ "$(cat "$f")" = "v${f#/mnt/data/k}" ] && report have ${f#/mnt/data/k}',
        "done",
        'report scratch "$(head -c 20 /dev/disk/scratch)"',
      ].join("\n"),
    },
  });
  // scratch is attached first, so data is /dev/vdb: the guest goes by serial, not by order.
  const disks = [{ name: "scratch", path: scratch }, { name: "data", path: data }];
  const first = await boot(initrd, dir.path, { phase: "run", disks });
  console.log(`boot to exit, phase run (20 synced writes, 28 reports): ${Math.round(first.ms)} ms`);
  const lines = texts(first.results);
  assert.deepEqual(
    lines.slice(0, 6),
    [
      "phase boot",
      "phase mounted",
      "phase run",
      "env run /dev/vdc",
      "disks /dev/vdb /dev/vda",
      "mounts 1",
    ],
    first.console,
  );
  assert.deepEqual(lines.slice(6, 26), range(1, 20).map((k) => `ack ${k}`), "acks in order");
  assert.deepEqual(
    lines.slice(26, 34).sort(),
    range(1, 8).map((k) => `note ${k}`).sort(),
    "concurrent reports: each once",
  );
  assert.deepEqual(lines.slice(34), ["exit 0"]);
  assert.deepEqual(first.sectors.map((s) => s.sector), range(0, 34), "one sector per line");
  assert.match(first.console, /^faultline: ack 20$/m, "report lines are echoed on the console");

  const second = await boot(initrd, dir.path, { phase: "check", disks });
  console.log(`boot to exit, phase check: ${Math.round(second.ms)} ms`);
  assert.equal(reportedExitCode(second.results), 0, second.console);
  assert.deepEqual(texts(second.results).slice(0, 4), [
    "phase boot",
    "phase mounted",
    "phase check",
    "env check",
  ]);
  const found = second.results.filter((r) => r.kind === "have").map((r) => Number(r.args[0]));
  assert.deepEqual(found.sort((a, b) => a - b), range(1, 20));
  assert.ok(texts(second.results).includes("scratch raw bytes on scratch"), second.console);
  assert.equal(await runOk("debugfs", ["-R", "cat /k20", data]), "v20\n");
});

Deno.test("guest: exit codes, a line on the host before report returns, phases by name", async () => {
  await using dir = await makePrivateDir("faultline-boot-test-");
  const initrd = await image({
    phases: {
      fail: "report ack 7\nexit 3\n",
      // The results disk stays open (no flush at its last close) and the power goes at
      // once (poweroff -n: no sync): the line is on the host only if report waited for it.
      cut: 'exec 3<"$FAULTLINE_RESULTS"\nreport ack 1\npoweroff -n -f\n',
    },
  });
  const failed = await boot(initrd, dir.path, { phase: "fail" });
  console.log(`boot to exit (no disk): ${Math.round(failed.ms)} ms`);
  assert.deepEqual(texts(failed.results), ["phase boot", "phase fail", "ack 7", "exit 3"]);
  assert.equal(reportedExitCode(failed.results), 3);

  const cut = await boot(initrd, dir.path, { phase: "cut" });
  assert.deepEqual(texts(cut.results), ["phase boot", "phase cut", "ack 1"], cut.console);

  const unknown = await boot(initrd, dir.path, { phase: "nope" });
  assert.deepEqual(texts(unknown.results), [
    "phase boot",
    "error unknown phase nope (phases: cut fail)",
  ]);
  const none = await boot(initrd, dir.path, { phase: null });
  assert.deepEqual(texts(none.results), [
    "phase boot",
    "error no faultline.phase= on the kernel command line (phases: cut fail)",
  ]);
});

Deno.test("guest: a disk that never appears is an error line; no results disk, a console line", async () => {
  await using dir = await makePrivateDir("faultline-boot-test-");
  const initrd = await image({
    disks: [{ name: "data", mountpoint: "/mnt/data" }],
    deviceTimeoutSeconds: 1,
    phases: { run: "report ack 1\n" },
  });
  const missing = await boot(initrd, dir.path, { phase: "run" });
  assert.deepEqual(texts(missing.results), [
    "phase boot",
    "error no disk data (virtio-blk serial=data) after 1s",
  ]);
  assert.equal(reportedExitCode(missing.results), undefined);

  const silent = await boot(initrd, dir.path, { phase: "run", results: false });
  assert.deepEqual(silent.results, []);
  assert.match(
    silent.console,
    /^faultline: error no results disk \(virtio-blk serial=faultline-results\) after 1s\r?$/m,
  );
});

const sqlite = await Deno.stat("/usr/bin/sqlite3").then(() => true, () => false);

Deno.test({
  name: "guest: a host program (sqlite3) runs; the check phase finds what the run phase acked",
  ignore: !sqlite,
  async fn() {
    await using dir = await makePrivateDir("faultline-boot-test-");
    const data = join(dir.path, "data.raw");
    await makeExt4(data);
    const initrd = await image({
      disks: [{ name: "data", mountpoint: "/mnt/data", options: "data=ordered" }],
      programs: ["/usr/bin/sqlite3"],
      env: { DB: "/mnt/data/kv.db" },
      phases: {
        run: [
          'sqlite3 "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT);"',
          "for k in 1 2 3; do",
          '  sqlite3 "$DB" "INSERT INTO kv VALUES ($k, \'v$k\');" || exit 1',
          "  report ack $k",
          "done",
        ].join("\n"),
        check: 'for k in $(sqlite3 "$DB" "SELECT k FROM kv ORDER BY k"); do\n' +
          "  report have $k\ndone\n",
      },
    });
    const disks = [{ name: "data", path: data }];
    const first = await boot(initrd, dir.path, { phase: "run", disks });
    console.log(`boot to exit (sqlite3, 3 acked inserts): ${Math.round(first.ms)} ms`);
    assert.equal(reportedExitCode(first.results), 0, first.console);
    const second = await boot(initrd, dir.path, { phase: "check", disks });
    assert.equal(reportedExitCode(second.results), 0, second.console);
    const acked = first.results.filter((r) => r.kind === "ack").map((r) => r.args[0]);
    const found = second.results.filter((r) => r.kind === "have").map((r) => r.args[0]);
    assert.deepEqual(acked, ["1", "2", "3"]);
    assert.deepEqual(found, acked);
  },
});
