/**
 * A client history from a real guest (fixtures/history-cache.ts, one busybox node): the
 * run's verdict names the stale read; `trace history` prints the history as EDN that
 * `history check` reads to the same answer, and as JSON lines; the host's stamps bound each
 * op from outside (a write's invocation is heard before its first disk op arrives, its
 * completion after its fsync completed); and the `--html` page, rendered by Chromium, draws
 * the offending read in red (its rendered DOM is read, not the screenshot's pixels).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseHistory } from "../src/history/parse.ts";
import { OFFENDING_COLOR } from "../src/report/history_timeline.ts";
import { TraceReader } from "../src/trace/reader.ts";
import type { EventRecord, OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { chromium, chromiumArgs, hasChromium } from "./support/chromium.ts";
import { faultline } from "./support/mod.ts";

Deno.test("history: a guest's client history is stamped, printed for Jepsen, checked and drawn", async () => {
  await using dir = await makePrivateDir("faultline-history-test-");
  const at = (name: string) => join(dir.path, name);
  const recorded = await faultline(["record", "fixtures/history-cache.ts", "-o", at("h.trace")], {
    timeoutMs: 240_000,
  });
  assert.equal(recorded.code, 1, recorded.text);
  assert.match(
    recorded.stdout,
    /verdict: FAIL: stale read of key r: process 1 read 1 at [\d.]+ s after write 2 completed at [\d.]+ s/,
  );
  assert.match(
    recorded.stdout,
    /key r: process 1's read -> 1 \(lines \d+-\d+\) cannot be linearized/,
  );

  const edn = await faultline(["trace", "history", at("h.trace")]);
  assert.equal(edn.code, 0, edn.stderr);
  const ops = parseHistory(edn.stdout, { format: "edn" });
  assert.equal(
    ops.length,
    31,
    "4 writes, 4 cached reads, 6 reads, an info write, a read never completed",
  );
  assert.deepEqual(ops.filter((op) => op.type === "info").map((op) => op.process), [3]);
  await Deno.writeTextFile(at("h.edn"), edn.stdout);
  const checked = await faultline(["history", "check", at("h.edn"), "--model", "register"]);
  assert.equal(checked.code, 1, checked.text);
  assert.match(checked.stdout, /process 1's read -> 1 .* cannot be linearized/);
  const json = await faultline(["trace", "history", at("h.trace"), "--json"]);
  const first = JSON.parse(json.stdout.split("\n")[0]);
  assert.deepEqual(Object.keys(first), [
    "index",
    "type",
    "process",
    "f",
    "key",
    "value",
    "time",
    "node",
  ]);

  await stampsBoundTheWrites(at("h.trace"));
  const page = await faultline(["trace", "history", at("h.trace"), "--html", at("h.html")]);
  assert.equal(page.code, 1, page.stderr);
  assert.match(await Deno.readTextFile(at("h.html")), /class="op offending in-example"/);
  await offendingReadDrawn(at("h.html"), dir.path);
});

/** Each write of process 0: a data-disk op arrives after its invoke, its fsync completes before its ok. */
async function stampsBoundTheWrites(trace: string): Promise<void> {
  const reader = await TraceReader.open(trace);
  const ops: OpRecord[] = [];
  const lines: EventRecord[] = [];
  for await (const record of reader.records()) {
    if (record.record === "op") ops.push(record);
    if (record.record === "event" && record.event === "guest") lines.push(record);
  }
  const at = (text: string) => lines.find((line) => line.line === text)!.at;
  for (const value of [1, 2, 3, 4]) {
    const [invoked, done] = [at(`invoke 0 write r ${value}`), at(`ok 0 write r ${value}`)];
    const inside = ops.filter((op) =>
      op.disk === "data" && op.op === "flush" && op.index >= invoked && op.done <= done
    );
    assert.ok(
      inside.length > 0,
      `write ${value}: no fsync between invoke (${invoked}) and ok (${done})`,
    );
  }
}

/**
 * Chromium renders the page: a screenshot is taken, and in the DOM it rendered the chart
 * holds one offending op, a red bar of the read inside the chart, beside the other ops.
 */
async function offendingReadDrawn(page: string, dir: string): Promise<void> {
  if (!hasChromium) {
    console.log(
      "(the page was not rendered: /usr/bin/chromium is absent; apt-get install chromium)",
    );
    return;
  }
  const png = join(dir, "h.png");
  const shot = await chromium([
    ...chromiumArgs(join(dir, "profile-shot")),
    `--screenshot=${png}`,
    "--window-size=1280,500",
    `file://${page}`,
  ]);
  assert.equal(shot.code, 0, shot.stderr);
  assert.ok((await Deno.stat(png)).size > 10_000, "a blank screenshot");
  const dom = await chromium([
    ...chromiumArgs(join(dir, "profile-dom")),
    "--dump-dom",
    `file://${page}`,
  ]);
  assert.equal(dom.code, 0, dom.stderr);
  const svg = /<svg class="history-timeline"[^>]* width="(\d+)"[\s\S]*?<\/svg>/.exec(dom.stdout);
  assert.ok(svg, "no timeline in the rendered page");
  const offending = [...svg[0].matchAll(/<g class="op offending[^"]*"><rect ([^>]*)>/g)];
  assert.equal(offending.length, 1, "one op cannot be linearized");
  const attribute = (name: string) =>
    Number(new RegExp(`(?:^| )${name}="([\\d.]+)"`).exec(offending[0][1])?.[1]);
  assert.match(offending[0][1], new RegExp(`fill="${OFFENDING_COLOR}"`));
  assert.ok(attribute("width") >= 2, `the offending bar is ${attribute("width")} px wide`);
  assert.ok(attribute("x") + attribute("width") <= Number(svg[1]), "the bar leaves the chart");
  assert.ok(
    (svg[0].match(/<g class="op[ "]/g) ?? []).length > 1,
    "the read is drawn beside other ops",
  );
  assert.match(offending[0][0] + svg[0], /cannot be linearized/);
}
