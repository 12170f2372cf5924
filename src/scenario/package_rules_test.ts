import assert from "node:assert/strict";
import { ScenarioError } from "./errors.ts";
import { normalizeScenario } from "./load.ts";

const node = {
  packages: ["redis-server", "postgresql-15", "redis-server"],
  users: [{ name: "postgres", uid: 1000, home: "/var/lib/postgresql" }, {
    name: "app",
    uid: 1001,
    gid: 50,
  }],
  rootSetup: "mkdir -p usr/local/bin",
  disks: { data: { size: "32M", mount: "/data" } },
  setup: "mkdir /data/x",
  workload: "true",
};

function load(input: unknown) {
  return normalizeScenario(input, { source: "s.json", baseDir: "/" });
}

async function rejects(input: unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(load(input), (e: unknown) => {
    assert.ok(e instanceof ScenarioError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("packages: a node's root and setup normalize, packages sorted once, users with their groups", async () => {
  const scenario = await load({ name: "p", nodes: { db: node }, timeouts: { setup: "10m" } });
  assert.deepEqual(scenario.nodes[0].root, {
    packages: ["postgresql-15", "redis-server"],
    users: [
      { name: "postgres", uid: 1000, gid: 1000, home: "/var/lib/postgresql" },
      { name: "app", uid: 1001, gid: 50, home: "/nonexistent" },
    ],
    rootSetup: "mkdir -p usr/local/bin",
  });
  assert.equal(scenario.nodes[0].setup, "mkdir /data/x");
  assert.equal(scenario.timeouts.setupMs, 600_000);
  const plain = await load({ name: "p", nodes: { db: { disks: {}, workload: "true" } } });
  assert.equal(plain.nodes[0].root, null);
  assert.equal(plain.nodes[0].setup, null);
  assert.equal(plain.timeouts.setupMs, 300_000);
});

Deno.test("packages: each mistake names its field", async () => {
  const scenario = (changes: Record<string, unknown>) => ({
    name: "p",
    nodes: { db: { ...node, ...changes } },
  });
  await rejects(
    scenario({ packages: ["Postgres"] }),
    /nodes\.db\.packages\[0\]: expected a Debian package name/,
  );
  await rejects(scenario({ packages: [] }), /nodes\.db\.packages: /);
  await rejects(
    scenario({ programs: ["/usr/bin/sqlite3"] }),
    /nodes\.db\.programs: expected no programs with packages/,
  );
  await rejects(
    scenario({ kernel: "k", initramfs: "i" }),
    /nodes\.db\.kernel: expected no kernel with packages/,
  );
  await rejects(
    scenario({ users: [{ name: "root", uid: 5 }] }),
    /nodes\.db\.users\[0\]\.name: expected a user other than root and nobody/,
  );
  await rejects(
    scenario({ users: [{ name: "a", uid: 5 }, { name: "b", uid: 5 }] }),
    /nodes\.db\.users\[1\]\.uid: expected a uid used once/,
  );
  await rejects(
    scenario({ users: [{ name: "a", uid: 5 }, { name: "b", uid: 6, gid: 5 }] }),
    /nodes\.db\.users\[1\]\.gid: expected a gid used once/,
  );
  await rejects(scenario({ users: [{ name: "a", uid: 0 }] }), /nodes\.db\.users\[0\]\.uid: /);
  const { packages: _, ...withoutPackages } = node;
  await rejects(
    { name: "p", nodes: { db: withoutPackages } },
    /nodes\.db\.users: expected packages beside it/,
  );
  await rejects(
    { name: "p", nodes: { db: { disks: {}, workload: "", setup: "", initramfs: "i" } } },
    /nodes\.db\.setup: expected no setup with an initramfs of your own/,
  );
  await rejects(
    scenario({ disks: { "faultline-root": { size: "1M" } } }),
    /expected a name other than faultline-root/,
  );
});
