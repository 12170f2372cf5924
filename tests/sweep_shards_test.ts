/**
 * Shards as a CI system runs them: three `sweep --shard K/3 --json FILE` processes of one
 * trace, merged by `faultline merge`, give the points, verdicts and exit code of the
 * unsharded sweep; the merged report page renders in headless Chromium; shards of two
 * different traces, or a missing shard, are refused with exit 2, naming them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runScenario } from "../src/run/run.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { chromium, chromiumArgs, hasChromium } from "./support/chromium.ts";
import { faultline } from "./support/mod.ts";

const SWEEP = ["--fault", "power-loss", "--points", "48..65"];
const MINUTES = 60_000;

interface PointJson {
  at: number;
  verdict: { pass: boolean; reason: string };
  oracle?: unknown;
  fired: boolean;
  sameCrashAs?: number;
}

function points(json: { points: PointJson[] }) {
  return json.points.map((p) => ({
    at: p.at,
    verdict: p.verdict,
    oracle: p.oracle ?? null,
    fired: p.fired,
    sameCrashAs: p.sameCrashAs ?? null,
  }));
}

Deno.test("shards: three processes merged = the unsharded sweep; the merge refuses what does not fit", async () => {
  await using dir = await makePrivateDir("faultline-shards-");
  const at = (name: string) => join(dir.path, name);
  const scenario = await loadScenario("scenarios/fsync-log.ts");
  const run = await runScenario({
    scenario,
    trace: { path: at("a.trace"), keepData: true },
    command: "record",
  });
  assert.ok(run.verdict.pass, run.verdict.reason);

  const whole = await faultline(
    ["sweep", at("a.trace"), ...SWEEP, "--jobs", "2", "--json"],
    { timeoutMs: 10 * MINUTES },
  );
  assert.ok(whole.code === 0 || whole.code === 1, whole.stderr);
  const wholeJson = JSON.parse(whole.stdout);

  const shards = await Promise.all([1, 2, 3].map((k) =>
    faultline(
      [
        "sweep",
        at("a.trace"),
        ...SWEEP,
        "--jobs",
        "1",
        "--shard",
        `${k}/3`,
        "--json",
        at(`s${k}.json`),
      ],
      { timeoutMs: 10 * MINUTES },
    )
  ));
  for (const shard of shards) assert.ok(shard.code === 0 || shard.code === 1, shard.stderr);
  const sizes = await Promise.all(
    [1, 2, 3].map(async (k) =>
      JSON.parse(await Deno.readTextFile(at(`s${k}.json`))).result.points.length
    ),
  );
  assert.ok(sizes.every((n) => n > 0), `a shard with no points: ${sizes}`);

  const merged = await faultline([
    "merge",
    at("s1.json"),
    at("s2.json"),
    at("s3.json"),
    "--html",
    at("merged.html"),
    "--junit",
    at("merged.xml"),
    "--json",
  ]);
  assert.equal(merged.code, whole.code, merged.stderr);
  const mergedJson = JSON.parse(merged.stdout);
  assert.deepEqual(points(mergedJson), points(wholeJson));
  for (const key of ["passed", "failed", "notFired", "distinctCrashStates", "replays"]) {
    assert.equal(mergedJson[key], wholeJson[key], key);
  }
  const junit = await Deno.readTextFile(at("merged.xml"));
  assert.equal((junit.match(/<testcase /g) ?? []).length, wholeJson.points.length);

  if (hasChromium) {
    const page = `file://${at("merged.html")}`;
    const dom = await chromium([...chromiumArgs(at("profile-dom")), "--dump-dom", page]);
    assert.equal(dom.code, 0, dom.stderr);
    for (const point of wholeJson.points as PointJson[]) {
      assert.match(
        dom.stdout,
        new RegExp(`<tr id="all-p${point.at}"`),
        `no row for op ${point.at}`,
      );
    }
    const png = at("merged.png");
    const shot = await chromium([
      ...chromiumArgs(at("profile-shot")),
      `--screenshot=${png}`,
      "--window-size=1200,900",
      page,
    ]);
    assert.equal(shot.code, 0, shot.stderr);
    assert.ok((await Deno.stat(png)).size > 10_000, "a blank screenshot");
  } else {
    console.log(
      "(the page was not rendered: /usr/bin/chromium is absent; apt-get install chromium)",
    );
  }

  // A shard of another trace (shard 2's file as a sweep of another recording would write
  // it: another path and hash; src/sweep/merge_test.ts refuses the same in the codec):
  // refused, naming both files and both traces.
  const other = JSON.parse(await Deno.readTextFile(at("s2.json")));
  other.trace = { path: at("b.trace"), sha256: "b".repeat(64) };
  await Deno.writeTextFile(at("b2.json"), JSON.stringify(other));
  const mixed = await faultline(["merge", at("s1.json"), at("b2.json"), at("s3.json")]);
  assert.equal(mixed.code, 2, mixed.text);
  assert.match(mixed.stderr, /s1\.json and .*b2\.json are shards of different traces/);
  assert.match(mixed.stderr, /a\.trace/);
  assert.match(mixed.stderr, /b\.trace/);

  const missing = await faultline(["merge", at("s1.json"), at("s3.json")]);
  assert.equal(missing.code, 2, missing.text);
  assert.match(missing.stderr, /shard 2\/3 missing/);
});
