import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import { ControlChannel, controlInitLines, encodeControlCommand } from "./control.ts";
import { renderInit } from "./initramfs.ts";
import { ensureBusybox } from "./kernel.ts";
import { run } from "../../tests/support/process.ts";

const busybox = await ensureBusybox();

Deno.test("control: a command is one line, a jump in whole seconds", () => {
  assert.equal(encodeControlCommand({ do: "jump-clock", ms: -30000 }), "jump-clock -30000\n");
  assert.equal(encodeControlCommand({ do: "jump-clock", ms: 3_600_000 }), "jump-clock 3600000\n");
  assert.throws(() => encodeControlCommand({ do: "jump-clock", ms: 1500 }), RangeError);
});

Deno.test("control: /init waits for the port faultline.control after the disks and reads it in the background; valid shell", async () => {
  const plan = {
    modulePaths: [],
    phases: ["run"],
    disks: [],
    env: {},
    libraryDirs: [],
    deviceTimeoutSeconds: 3,
  };
  assert.ok(!renderInit(plan).includes("faultline.control"), "no channel unless asked");
  const init = renderInit({ ...plan, control: true });
  assert.match(init, /\[ "\$port_name" = 'faultline\.control' \] \|\| continue/);
  assert.match(
    init,
    /fail 'no control channel \(virtio-serial port faultline\.control\) after 3s'/,
  );
  assert.match(init, /^read_control <\/dev\/null >\/dev\/console 2>&1 &$/m);
  assert.ok(init.indexOf("read_control </dev/null") > init.indexOf("no disk $missing"));
  assert.ok(init.indexOf("read_control </dev/null") < init.indexOf('report phase "$phase"'));
  await using dir = await makePrivateDir("faultline-control-test-");
  await Deno.writeTextFile(join(dir.path, "init"), init);
  const check = await run(busybox.path, ["sh", "-n", join(dir.path, "init")]);
  assert.equal(check.code, 0, check.stderr);
});

Deno.test("control: the guest sets its clock to the second nearest to where the jump takes it, and reports the jump; other values are skipped", async () => {
  const lines = controlInitLines(10, "1s");
  const start = lines.indexOf("jump_clock() {");
  const jumpClock = lines.slice(start, lines.indexOf("}", start) + 1).join("\n");
  // busybox's date and report, stood in for: what the function asked of them, on stderr
  // (the function sends date's output to /dev/null).
  const script = [
    'date() { echo "date $*" >&2; }',
    'report() { echo "report $*" >&2; }',
    jumpClock,
    "for ms in -30000 5000 3600000 '' 12x -3-4 --5; do jump_clock \"$ms\"; done",
  ].join("\n");
  for (let round = 0; round < 5; round++) {
    const ran = await run(busybox.path, ["sh", "-c", script]);
    assert.equal(ran.code, 0, ran.stderr);
    const out = ran.stderr.trim().split("\n");
    assert.equal(out.length, 6, ran.stderr);
    for (const [i, ms] of [-30000, 5000, 3_600_000].entries()) {
      const set = /^date -s @(\d+)$/.exec(out[2 * i]);
      const report = /^report clock jumped (-?\d+) (\d+\.\d{6}) (\d+\.\d{6})$/.exec(out[2 * i + 1]);
      assert.ok(set && report, ran.stderr);
      assert.equal(Number(report[1]), ms);
      const before = Number(report[2]);
      const after = Number(report[3]);
      const seconds = Number(set[1]);
      assert.ok(
        seconds >= Math.round(before + ms / 1000) && seconds <= Math.round(after + ms / 1000),
        `${seconds} between round(${before} + ${ms / 1000}) and round(${after} + ${ms / 1000})`,
      );
    }
  }
});

Deno.test("control: the host end listens before QEMU starts, writes commands in order once it connects, and says when it could not", async () => {
  await using dir = await makePrivateDir("faultline-control-test-");
  const channel = ControlChannel.listen(join(dir.path, "n2.control"));
  const first = channel.send({ do: "jump-clock", ms: -30000 });
  const peer = await Deno.connect({ transport: "unix", path: channel.path });
  const second = channel.send({ do: "jump-clock", ms: 5000 });
  assert.deepEqual(await Promise.all([first, second]), [true, true]);
  const expected = "jump-clock -30000\njump-clock 5000\n";
  const buffer = new Uint8Array(64);
  let text = "";
  while (text.length < expected.length) {
    const n = await peer.read(buffer);
    assert.ok(n !== null, "the peer reads both lines");
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  assert.equal(text, expected);
  peer.close();
  // A peer that is gone: the write fails sooner or later, never throws.
  let written = true;
  for (let i = 0; i < 50 && written; i++) {
    written = await channel.send({ do: "jump-clock", ms: 1000 });
  }
  assert.equal(written, false);
  await channel.close();
  assert.equal(await channel.send({ do: "jump-clock", ms: 1000 }), false);

  const never = ControlChannel.listen(join(dir.path, "never.control"));
  const waiting = never.send({ do: "jump-clock", ms: 1000 });
  await never.close();
  assert.equal(await waiting, false, "QEMU never connected");
});
