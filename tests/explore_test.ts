/**
 * `faultline explore` on real VMs, with a planted bug: fixtures/two-errors.json survives one
 * failed write and, after two, acknowledges a record it never wrote. The seed is the first
 * whose schedule 0 holds two errors at writes of two different records (chosen from the
 * recording, as the draw is pure); the explore must find the failure, confirm it stable 2/2,
 * and shrinking must keep both faults: removing either one makes it pass. The workload says
 * its role (`report role writer`), so the finding is named by it; its page shows the finding
 * with both faults on the recording's timeline. On the way, 200
 * schedules of every kind the recording takes are checked to be plans replay accepts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { recordingOf } from "../src/explore/replayed.ts";
import { drawPlan, drawSchedule } from "../src/explore/draw.ts";
import { readParent, replayPlan } from "../src/replay/replay.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline } from "./support/mod.ts";

Deno.test("explore finds a planted two-fault bug, confirms it stable and shrinks it to exactly those two faults", async () => {
  await using dir = await makePrivateDir("faultline-explore-");
  const trace = join(dir.path, "two-errors.trace");
  const recorded = await faultline(["record", "fixtures/two-errors.json", "-o", trace, "--json"], {
    timeoutMs: 240_000,
  });
  assert.equal(recorded.code, 0, recorded.text);

  const parent = await readParent(trace);
  const recording = recordingOf(parent);
  // Every schedule of every kind the recording takes is one replay accepts as written.
  const everyKind = drawPlan(recording, { seed: 5, maxFaults: 3 });
  for (let i = 0; i < 200; i++) {
    const faults = drawSchedule(everyKind, i).faults.map((f) => f.spec);
    assert.doesNotThrow(() => replayPlan(parent, { faults }), faults.join(" "));
  }
  // A write's step: a failed flush of a raw device's fsync is not one the workload sees fail.
  const stepOf = (index: number) => {
    const op = parent.ordered.find((op) => op.index === index);
    return op?.op === "write" ? op.step : undefined;
  };
  let seed = 1;
  let planted: string[] = [];
  for (; seed < 500; seed++) {
    const schedule = drawSchedule(
      drawPlan(recording, { seed, maxFaults: 2, kinds: ["error"] }),
      0,
    );
    const steps = new Set(schedule.faults.map((f) => stepOf(f.at)));
    if (schedule.faults.length === 2 && steps.size === 2 && !steps.has(undefined)) {
      planted = schedule.faults.map((f) => f.spec);
      break;
    }
  }
  assert.equal(planted.length, 2, "no seed below 500 draws two errors in two records");

  const explored = await faultline([
    "explore",
    trace,
    "--budget",
    "1",
    "--seed",
    String(seed),
    "--kinds",
    "error",
    "--max-faults",
    "2",
    "--confirm",
    "2",
    "--shrink-replays",
    "2",
    "--json",
    "--junit",
    join(dir.path, "explore.xml"),
    "--html",
    join(dir.path, "explore.html"),
  ], { timeoutMs: 600_000 });
  assert.equal(explored.code, 1, explored.text);
  const report = JSON.parse(explored.stdout);
  assert.equal(report.seed, seed);
  assert.equal(report.findings.length, 1, explored.stdout);
  const [finding] = report.findings;
  assert.deepEqual(finding.original, planted);
  assert.deepEqual(finding.minimal, planted);
  assert.deepEqual(finding.originalRate, { failed: 2, runs: 2 });
  assert.match(finding.reason, /acknowledged key/);
  // The workload says its node's role (report role writer): the finding is named by it.
  assert.equal(finding.shape, "error@writer + error@writer");
  assert.deepEqual(finding.roles, [{ app: "writer" }, { app: "writer" }]);
  // Both removals were tried and refused; the budget of 2 replays then ended shrinking.
  assert.deepEqual(
    { tried: finding.shrink.tried, kept: finding.shrink.kept },
    { tried: 2, kept: 0 },
  );
  assert.equal(finding.shrink.stoppedEarly, "it ran its 2 replays");
  for (const spec of planted) assert.ok(finding.replay.includes(spec), finding.replay);
  assert.deepEqual(report.coverage.kinds, [{ kind: "error", drawn: 2, fired: 2 }]);
  const xml = await Deno.readTextFile(join(dir.path, "explore.xml"));
  assert.match(xml, /<testsuites tests="1" failures="1" skipped="0">/);
  // The page: the finding's section with both faults marked on the recording's timeline.
  const html = await Deno.readTextFile(join(dir.path, "explore.html"));
  const section = html.slice(html.indexOf('<section class="finding" id="f1">'));
  assert.match(section, /<h3>#1 <code>error@writer \+ error@writer<\/code>/);
  assert.match(section, /<dt>roles<\/dt><dd>error: app writer; error: app writer<\/dd>/);
  assert.equal(section.match(/<path class="pt pt-fail"/g)?.length, 2);
  assert.match(html, /<tr id="kind-error"><td><code>error<\/code><\/td><td class="num">2<\/td>/);
  assert.ok((await Deno.stat(join(dir.path, "explore.perfetto.json"))).size > 0);
});
