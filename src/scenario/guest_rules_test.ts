import assert from "node:assert/strict";
import { ScenarioError } from "./errors.ts";
import { guestPathKey, hidesImagePath, replacesImagePath } from "./guest_rules.ts";
import { normalizeScenario } from "./load.ts";

/** Every problem a scenario has, as the user reads them. */
async function problems(input: unknown): Promise<string[]> {
  const error = await normalizeScenario(input, { source: "s.json", baseDir: "/" }).then(
    () => assert.fail("the scenario was accepted"),
    (e) => e,
  );
  assert.ok(error instanceof ScenarioError, String(error));
  return error.message.split("\n");
}

const app = (extra: Record<string, unknown>) => ({
  name: "x",
  nodes: { app: { disks: {}, workload: "true", ...extra } },
});

Deno.test("guest rules: a mount that would hide the image's paths fails at load, naming the disk's field", async () => {
  assert.deepEqual(
    await problems(app({ disks: { data: { size: "1M", mount: "/proc" } } })),
    ['s.json: nodes.app.disks.data.mount: expected a directory of its own, such as /mnt/data, found "/proc"'],
  );
  for (
    const mount of [
      "/",
      "/sys",
      "/dev/x",
      "/bin",
      "/sbin",
      "/usr",
      "/usr/local",
      "/lib",
      "/lib64",
      "/init",
      "/faultline",
      "/run",
      "/run/faultline",
    ]
  ) {
    assert.deepEqual(
      await problems(app({ disks: { img: { image: "/etc/hostname", mount } } })),
      [
        `s.json: nodes.app.disks.img.mount: expected a directory of its own, such as /mnt/data, found "${mount}"`,
      ],
    );
  }
  assert.deepEqual(await problems(app({ disks: { data: { size: "1M", mount: "/a/../b" } } })), [
    "s.json: nodes.app.disks.data.mount: expected an absolute guest path like /data " +
    '(names of letters, digits, ., _, + and -; no . or .. names), found "/a/../b"',
  ]);
});

Deno.test("guest rules: a file or program that would replace the image's own fails at load", async () => {
  for (const guest of ["/init", "/bin/busybox", "/bin/sh", "/faultline/phase/run", "/etc", "/"]) {
    assert.deepEqual(
      await problems(app({ files: [{ host: "/etc/hostname", guest }] })),
      [
        `s.json: nodes.app.files[0].guest: expected a path of its own (not the image's), such as /etc/app.conf, found "${guest}"`,
      ],
    );
  }
  assert.deepEqual(
    await problems(app({ programs: ["/bin/busybox"] })),
    [
      "s.json: nodes.app.programs[0]: expected a program of its own (not the image's), such as " +
      '/usr/bin/sqlite3, found "/bin/busybox"',
    ],
  );
  assert.deepEqual(
    await problems(app({
      files: [{ host: "/etc/hostname", guest: "/etc/a" }, { host: "/etc/hosts", guest: "/etc/a/" }],
    })),
    ['s.json: nodes.app.files[1].guest: expected a guest path used once, found "/etc/a/"'],
  );
});

Deno.test("guest rules: the guest's own variables, NUL bytes and the results disk's name fail at load", async () => {
  assert.deepEqual(await problems(app({ env: { FAULTLINE_X: "1" } })), [
    "s.json: nodes.app.env.FAULTLINE_X: expected a variable name not starting with FAULTLINE_ " +
    '(the guest sets those) as the name, found "FAULTLINE_X"',
  ]);
  assert.deepEqual(await problems(app({ env: { A: "a\0b" } })), [
    's.json: nodes.app.env.A: expected a string without NUL bytes, found "a\\u0000b"',
  ]);
  for (const phase of ["workload", "check", "restart"]) {
    assert.deepEqual(await problems(app({ [phase]: "true\0" })), [
      `s.json: nodes.app.${phase}: expected a shell script without NUL bytes, found "true\\u0000"`,
    ]);
  }
  assert.deepEqual(await problems(app({ disks: { "faultline-results": { size: "1M" } } })), [
    "s.json: nodes.app.disks.faultline-results: expected a name other than faultline-results " +
    '(the results disk) as the name, found "faultline-results"',
  ]);
});

Deno.test("guest rules: mountpoints once, and /etc/hosts left to the image on a node with a network", async () => {
  assert.deepEqual(
    await problems(app({
      disks: { a: { size: "1M", mount: "/data" }, b: { size: "1M", mount: "/data/" } },
    })),
    ['s.json: nodes.app.disks.b.mount: expected a mountpoint used once, found "/data/"'],
  );
  const hosts = { files: [{ host: "/etc/hostname", guest: "/etc/hosts" }] };
  await normalizeScenario(app(hosts), { source: "s.json", baseDir: "/" }); // no network
  assert.deepEqual(await problems(app({ ...hosts, network: true })), [
    's.json: nodes.app.files[0].guest: expected no /etc/hosts with a network (the image writes it), found "/etc/hosts"',
  ]);
  const cluster = {
    name: "x",
    nodes: {
      a: { disks: { data: { size: "1M", mount: "/etc" } }, workload: "true" },
      b: { disks: {}, workload: "true" },
    },
  };
  assert.deepEqual(await problems(cluster), [
    's.json: nodes.a.disks.data.mount: expected a directory that does not hide /etc/hosts (the image writes it), found "/etc"',
  ]);
});

Deno.test("guest rules: a cluster's subnet leaves host addresses", async () => {
  const cluster = (subnet: string) => ({
    name: "x",
    nodes: { a: { disks: {}, workload: "true" }, b: { disks: {}, workload: "true" } },
    network: { subnet },
  });
  await normalizeScenario(cluster("10.9.0.0/16"), { source: "s.json", baseDir: "/" });
  for (const subnet of ["0.0.0.0/0", "192.0.2.0/31", "192.0.2.1/32"]) {
    assert.deepEqual(await problems(cluster(subnet)), [
      `s.json: network.subnet: expected a prefix length from /1 to /30, such as /24, found "${subnet}"`,
    ]);
  }
  assert.deepEqual(await problems(cluster("192.0.2.0")), [
    's.json: network.subnet: expected an IPv4 network like 192.0.2.0/24, found "192.0.2.0"',
  ]);
});

Deno.test("guest rules: what a mount hides and what a file replaces", () => {
  assert.equal(guestPathKey("/mnt/data//"), "/mnt/data");
  assert.equal(guestPathKey("/"), "/");
  for (const path of ["/", "/proc", "/dev/disk", "/usr/lib", "/lib", "/run", "/bin/x"]) {
    assert.ok(hidesImagePath(path), path);
  }
  for (const path of ["/data", "/mnt/data", "/tmp", "/etc", "/root/db", "/var/lib/etcd", "/runs"]) {
    assert.ok(!hidesImagePath(path), path);
  }
  for (const path of ["/init", "/bin/busybox", "/lib/modules/x", "/usr/bin", "/tmp", "/run"]) {
    assert.ok(replacesImagePath(path), path);
  }
  for (const path of ["/etc/app.conf", "/usr/bin/sqlite3", "/lib/x86_64-linux-gnu/libc.so.6"]) {
    assert.ok(!replacesImagePath(path), path);
  }
});
