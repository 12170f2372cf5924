import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import { GuestImageError } from "./guest_image_error.ts";
import {
  buildInitramfs,
  type GuestNetwork,
  type InitramfsOptions,
  renderInit,
  validateInitramfsOptions,
} from "./initramfs.ts";
import { ensureBusybox, ensureKernel } from "./kernel.ts";

const NETWORK: GuestNetwork = {
  node: "n2",
  mac: "02:66:6c:2d:e5:01",
  prefixLength: 24,
  hosts: [{ name: "n1", ip: "192.0.2.10" }, { name: "n2", ip: "192.0.2.11" }],
};

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; input?: Uint8Array } = {},
) {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdin: options.input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.input) {
    const writer = child.stdin.getWriter();
    await writer.write(options.input);
    await writer.close();
  }
  const output = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("initramfs network: /init brings up lo and the interface with the node's MAC, and names the nodes", async () => {
  const init = renderInit({
    modulePaths: [],
    phases: ["run"],
    disks: [],
    env: {},
    libraryDirs: [],
    deviceTimeoutSeconds: 3,
    network: NETWORK,
  });
  assert.match(init, /^ip link set lo up$/m);
  assert.match(init, /\[ "\$mac" = '02:66:6c:2d:e5:01' \]/);
  assert.match(
    init,
    /^ip addr add '192\.0\.2\.11\/24' dev "\$net_if" && ip link set "\$net_if" up/m,
  );
  assert.match(
    init,
    /fail 'no network interface with MAC 02:66:6c:2d:e5:01 \(virtio-net\) after 3s'/,
  );
  assert.match(init, /^hostname 'n2'$/m);
  assert.match(init, /^export FAULTLINE_NODE='n2' FAULTLINE_NODES='n1 n2'$/m);
  assert.ok(
    init.indexOf("ip link set lo up") > init.indexOf("no disk $missing"),
    "after the disks, so that errors reach the results disk",
  );
  assert.ok(init.indexOf("FAULTLINE_NODE=") < init.indexOf('report phase "$phase"'));
  await using dir = await makePrivateDir("faultline-init-net-test-");
  await Deno.writeTextFile(join(dir.path, "init"), init);
  const busybox = await ensureBusybox();
  const check = await run(busybox.path, ["sh", "-n", join(dir.path, "init")]);
  assert.equal(check.code, 0, check.stderr);
  const none = renderInit({
    modulePaths: [],
    phases: ["run"],
    disks: [],
    env: {},
    libraryDirs: [],
    deviceTimeoutSeconds: 3,
  });
  assert.ok(
    !none.includes("FAULTLINE_NODE") && !none.includes("ip link"),
    "no network, none of it",
  );
});

Deno.test("initramfs network: the option is validated field by field", () => {
  const rejects = (network: unknown, pattern: RegExp, extra: Partial<InitramfsOptions> = {}) =>
    assert.throws(
      () =>
        validateInitramfsOptions({ phases: { run: "" }, network, ...extra } as InitramfsOptions),
      (e: unknown) => e instanceof GuestImageError && e.usage && pattern.test(e.message),
      String(pattern),
    );
  validateInitramfsOptions({ phases: { run: "" }, network: NETWORK });
  rejects({ ...NETWORK, node: "N2" }, /network\.node: expected a node name/);
  rejects({ ...NETWORK, mac: "02:66:6C:2D:E5:01" }, /network\.mac: expected a MAC in lowercase/);
  rejects({ ...NETWORK, prefixLength: 31 }, /network\.prefixLength/);
  rejects({ ...NETWORK, hosts: [{ name: "n1", ip: "192.0.2.300" }] }, /hosts\[0\]\.ip/);
  rejects({ ...NETWORK, hosts: [NETWORK.hosts[0]] }, /network\.hosts: expected the node n2 among/);
  rejects(
    { ...NETWORK, hosts: [NETWORK.hosts[1], NETWORK.hosts[1]] },
    /hosts\[1\]\.name: expected a node name used once/,
  );
  rejects({ ...NETWORK, dns: "x" }, /initramfs option network: unknown field "dns"/);
  rejects(NETWORK, /no \/etc\/hosts with a network/, {
    files: [{ hostPath: "/etc/hosts", guestPath: "/etc/hosts" }],
  });
});

Deno.test("initramfs network: the archive loads virtio_net after the virtio modules and carries /etc/hosts", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-net-test-");
  const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);
  const built = await buildInitramfs({
    kernel,
    busybox,
    cacheRoot: dir.path,
    phases: { run: "true" },
    network: NETWORK,
  });
  assert.deepEqual(built.modules.slice(-3), ["failover", "net_failover", "virtio_net"]);
  assert.ok(built.modules.indexOf("virtio_blk") < built.modules.indexOf("failover"));
  const archive = await Deno.readFile(built.path);
  await run(busybox.path, ["cpio", "-i", "-d", "etc/hosts", "init"], {
    cwd: dir.path,
    input: archive,
  });
  assert.equal(
    await Deno.readTextFile(join(dir.path, "etc/hosts")),
    "127.0.0.1 localhost\n192.0.2.10 n1\n192.0.2.11 n2\n",
  );
  const init = await Deno.readTextFile(join(dir.path, "init"));
  const inserts = [...init.matchAll(/^insmod '[^']*\/([a-z_]+)\.ko'/gm)].map((m) => m[1]);
  assert.deepEqual(inserts.slice(-3), ["failover", "net_failover", "virtio_net"]);
  const plain = await buildInitramfs({
    kernel,
    busybox,
    cacheRoot: dir.path,
    phases: { run: "true" },
  });
  assert.notEqual(plain.sha256, built.sha256);
  assert.ok(!plain.modules.includes("virtio_net"));
});
