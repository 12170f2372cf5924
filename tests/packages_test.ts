/**
 * Real systems by their Debian package names: an unknown package refused; PostgreSQL 15
 * (scenarios/postgres-commit.ts) recorded once with its initdb in the setup phase, the
 * setup's disks and the root found in the cache by the next prepare, a replay refused when
 * the root changed; Redis with `appendfsync everysec` (scenarios/redis-aof-everysec.ts)
 * losing acknowledged keys at a power loss (found alike by a replay's cold check and a
 * sweep's warm one), its root image built again byte for byte. The
 * first run on a machine downloads the packages (about 100 MB) and builds the roots and
 * the setups; later runs find them in the cache.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareForReplay, readParent } from "../src/replay/replay.ts";
import { ReplayError } from "../src/replay/errors.ts";
import { prepareRun } from "../src/run/run.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { loadTrace } from "../src/trace/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { ensureBusybox } from "../src/vm/kernel.ts";
import { nodeRootSpec } from "../src/vm/node_root.ts";
import { ensurePackageRoot } from "../src/vm/package_root.ts";
import { faultline } from "./support/mod.ts";

Deno.test("package root: an unknown package exits 2, naming it", async () => {
  await using dir = await makePrivateDir("faultline-packages-");
  const scenario = join(dir.path, "unknown.json");
  await Deno.writeTextFile(
    scenario,
    JSON.stringify({
      name: "unknown-package",
      nodes: { app: { packages: ["dash", "no-such-package-x"], disks: {}, workload: "true" } },
    }),
  );
  const refused = await faultline(["record", scenario, "-o", join(dir.path, "x.trace")]);
  assert.equal(refused.code, 2, refused.text);
  assert.match(refused.stderr, /^faultline: apt knows no Debian package "no-such-package-x"$/m);
});

Deno.test("postgres-commit: recorded once, every acknowledged row found; the next prepare finds the root and the setup's disks; a changed root refuses the replay", async () => {
  await using dir = await makePrivateDir("faultline-postgres-");
  const trace = join(dir.path, "postgres.trace");
  const recorded = await faultline(
    ["record", "scenarios/postgres-commit.ts", "-o", trace, "--json"],
    { timeoutMs: 600_000 },
  );
  assert.equal(recorded.code, 0, recorded.text);
  const run = JSON.parse(recorded.stdout);
  assert.equal(run.oracle.acked, 16);
  assert.equal(run.oracle.lost, 0, run.verdict.reason);

  const parent = await readParent(trace);
  const guest = (parent.header.guests as Record<string, { root?: { sha256: string } }>).db;
  assert.match(guest.root?.sha256 ?? "", /^[0-9a-f]{64}$/, "the root's hash is in the header");
  const setup = parent.header.setup as { nodes: string[]; images: Record<string, string> };
  assert.deepEqual(setup.nodes, ["db"]);
  const base = parent.header.disks.find((d) => d.node === "db" && d.name === "data")!;
  assert.equal(base.base.sha256, setup.images["db/data"], "the setup's disk is the run's base");
  const shown = await faultline(["trace", "show", trace, "--limit", "1"]);
  assert.match(
    shown.stdout,
    /^setup: node db ran its setup before the run .*its ops are not in this trace/m,
  );

  const started = performance.now();
  const prepared = await prepareRun(await loadScenario("scenarios/postgres-commit.ts"));
  const prepareMs = performance.now() - started;
  assert.equal(prepared.setup?.cached, true, "the setup's disks come from the cache");
  assert.equal(prepared.guests.get("db")!.root?.sha256, guest.root!.sha256);
  assert.ok(prepareMs < 5000, `the second prepare took ${Math.round(prepareMs)} ms`);

  // As if recorded before a security update of postgresql-15.
  const changed = structuredClone(parent);
  const root = (changed.header.guests as Record<
    string,
    { root: { sha256: string; packages: string[] } }
  >).db.root;
  root.sha256 = "0".repeat(64);
  root.packages = root.packages.map((p) =>
    p.startsWith("postgresql-15=") ? "postgresql-15=15.0-1" : p
  );
  await assert.rejects(
    () => prepareForReplay(changed),
    (error: unknown) =>
      error instanceof ReplayError &&
      /package root of node db changed .*: postgresql-15 15\.0-1 -> /.test(error.message),
  );
});

Deno.test("redis-aof-everysec: a power loss at an fsync after acknowledged SETs loses them, Redis starts; its root rebuilt gives the same bytes", async () => {
  await using dir = await makePrivateDir("faultline-redis-");
  const trace = join(dir.path, "redis.trace");
  const recorded = await faultline(["record", "scenarios/redis-aof-everysec.ts", "-o", trace], {
    timeoutMs: 600_000,
  });
  assert.equal(recorded.code, 0, recorded.text);

  // The flushes of the data disk after the first ack: the once-a-second fsyncs of the
  // append-only file. Which of them finds acknowledged keys still volatile depends on how
  // the recording's SETs fell between them; the first few are tried in order.
  const parent = await loadTrace(trace);
  const ack = parent.lines.find((l) => l.kind === "ack" && l.phase === "run")!;
  const flushes = parent.ordered.filter((op) =>
    op.disk === "data" && op.phase === "run" && op.op === "flush" && op.index > ack.at
  );
  const tried: string[] = [];
  let lost: { oracle: { lost: number }; phases: { phase: string; exit: number }[] } | null = null;
  for (const flush of flushes.slice(0, 4)) {
    const replayed = await faultline([
      "replay",
      trace,
      "--fault",
      "power-loss",
      "--fault-at",
      String(flush.index),
      "-o",
      join(dir.path, `lost-${flush.index}.trace`),
      "--json",
    ], { timeoutMs: 300_000 });
    assert.ok(replayed.code === 0 || replayed.code === 1, replayed.text);
    const result = JSON.parse(replayed.stdout);
    tried.push(`op ${flush.index}: ${result.verdict.reason}`);
    if (replayed.code === 1) {
      lost = result;
      break;
    }
  }
  assert.ok(lost && lost.oracle.lost > 0, tried.join("; "));
  assert.deepEqual(
    lost.phases.map((p) => [p.phase, p.exit]),
    [["check", 0]],
    `Redis started on the disk the power loss left: ${tried.at(-1)}`,
  );

  // The same point swept: its check starts from the saved check guest (with the root
  // drive) and finds what the replay's cold boot found.
  const at = flushes[tried.length - 1].index;
  const swept = await faultline([
    "sweep",
    trace,
    "--fault",
    "power-loss",
    "--points",
    `${at}..${at}`,
    "-o",
    join(dir.path, "sweep"),
    "--json",
  ], { timeoutMs: 300_000 });
  assert.equal(swept.code, 1, swept.text);
  const sweptJson = JSON.parse(swept.stdout);
  assert.deepEqual(sweptJson.checks.warm, ["redis"], "the check started warm");
  assert.equal(sweptJson.points[0].oracle.lost, lost.oracle.lost, "warm finds what cold found");

  // The root image the recording booted, built again from the same packages: the same bytes.
  const scenario = await loadScenario("scenarios/redis-aof-everysec.ts");
  const rebuilt = await ensurePackageRoot(nodeRootSpec(scenario.nodes[0])!, {
    busybox: await ensureBusybox(),
    rebuild: true,
  });
  assert.equal(rebuilt.built, true);
  const recordedRoot = (parent.header.guests as Record<string, { root: { sha256: string } }>)
    .redis.root;
  assert.equal(rebuilt.sha256, recordedRoot.sha256, "built twice, the same bytes");
  assert.ok(rebuilt.packages.some((p) => p.startsWith("dash=")), "the essential set is in");
});
