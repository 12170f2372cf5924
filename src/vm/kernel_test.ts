import assert from "node:assert/strict";
import { sha256File } from "../util/hash.ts";
import { readElfDynamic } from "./_elf.ts";
import { GuestImageError } from "./guest_image_error.ts";
import { GUEST_MODULES } from "./initramfs.ts";
import { ensureBusybox, ensureKernel, normalizeModuleName, resolveModules } from "./kernel.ts";
import { runOk } from "../../tests/support/process.ts";

// These use the user's cache (downloading about 28 MB the first time), as faultline does.
const kernel = await ensureKernel();

Deno.test("kernel: the cloud kernel is unpacked with its modules", async () => {
  assert.match(kernel.package, /^linux-image-.*-cloud-amd64$/);
  assert.equal(kernel.package, `linux-image-${kernel.version}`);
  assert.ok((await Deno.stat(kernel.vmlinuz)).size > 1_000_000);
  assert.ok((await Deno.stat(kernel.modulesDir)).isDirectory);
  assert.equal(kernel.sha256, await sha256File(kernel.vmlinuz));
  assert.match(kernel.debSha256, /^[0-9a-f]{64}$/);
  assert.ok(["none", "xz", "zstd", "gzip"].includes(kernel.moduleCompression));
  const again = await ensureKernel({ package: kernel.package });
  assert.deepEqual(again, kernel);
});

Deno.test("kernel: the guest's modules resolve in the documented load order", async () => {
  const modules = await resolveModules(kernel, GUEST_MODULES);
  assert.deepEqual(modules.map((m) => m.name), [...GUEST_MODULES]);
  for (const module of modules) {
    // A plain ELF .ko, whatever the package stores.
    assert.deepEqual([...module.data.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    assert.match(module.sha256, /^[0-9a-f]{64}$/);
  }
  assert.deepEqual(modules.find((m) => m.name === "virtio_blk")!.depends, [
    "virtio",
    "virtio_ring",
  ]);
});

Deno.test("kernel: dependencies come first; built-in modules are left out", async () => {
  assert.deepEqual((await resolveModules(kernel, ["virtio-console"])).map((m) => m.name), [
    "virtio_ring",
    "virtio",
    "virtio_console",
  ]);
  assert.deepEqual(await resolveModules(kernel, ["ext4", "jbd2"]), []);
  assert.equal(normalizeModuleName("virtio-pci"), "virtio_pci");
  await assert.rejects(
    resolveModules(kernel, ["faultline_nope"]),
    (e: GuestImageError) =>
      e instanceof GuestImageError && e.usage && /faultline_nope/.test(e.message),
  );
});

Deno.test("kernel: busybox comes from busybox-static and is static", async () => {
  const busybox = await ensureBusybox();
  assert.equal(busybox.source, "debian");
  assert.equal(readElfDynamic(await Deno.readFile(busybox.path)).isStatic, true);
  assert.match(busybox.version, /^1\.\d+/);
  assert.equal(busybox.sha256, await sha256File(busybox.path));
});

const hostBusyboxIsStatic = await Deno.readFile("/bin/busybox").then(
  (bytes) => readElfDynamic(bytes).isStatic,
  () => false,
);

Deno.test({
  name: "kernel: without apt, the missing tool is named and busybox falls back to the host's",
  ignore: !hostBusyboxIsStatic,
  async fn() {
    const kernelModule = new URL("./kernel.ts", import.meta.url).href;
    const script = `
      import { ensureBusybox, ensureKernel } from ${JSON.stringify(kernelModule)};
      const kernelError = await ensureKernel().then(() => "no error", (e) => e.message);
      const busybox = await ensureBusybox();
      console.log(JSON.stringify({ kernelError, busybox }));
    `;
    // An empty cache: apt's answers kept in the cache would spare asking apt.
    const cache = await Deno.makeTempDir({ prefix: "faultline-no-apt-" });
    const output = await runOk(Deno.execPath(), ["eval", script], {
      env: { PATH: "/nonexistent", FAULTLINE_CACHE_DIR: cache },
    }).finally(() => Deno.remove(cache, { recursive: true }));
    const { kernelError, busybox } = JSON.parse(output);
    assert.match(
      kernelError,
      /apt-cache is not installed \(not found on PATH\); it comes in the Debian package apt: .*Debian's apt/,
    );
    assert.equal(busybox.source, "host");
    assert.equal(busybox.path, "/bin/busybox");
  },
});
