/**
 * The sweep's HTML report in a real browser: Debian's headless Chromium
 * renders a report of a hand-built trace (about 200 ops on three disks, run and
 * check phases) and sweep (40 points, a few failing, two never fired), with
 * scripts disabled and no network, into a screenshot and a DOM dump.
 *
 * Skipped, saying why, when /usr/bin/chromium is absent (`apt-get install chromium`).
 * Set FAULTLINE_REPORT_SCREENSHOT=PATH to keep the screenshot.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { ParentTrace } from "../src/replay/replay.ts";
import { sweepReportHtml } from "../src/report/html.ts";
import type { SweepPoint, SweepResult } from "../src/sweep/result.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { CHROMIUM, chromium, chromiumArgs, hasChromium } from "./support/chromium.ts";
import { fakeParentTrace, opRecord, prng } from "./support/mod.ts";

const SKIP = hasChromium ? "" : ` (skipped: ${CHROMIUM} is absent; apt-get install chromium)`;

/** A trace of ~200 ops: db/data, db/wal and app/data; run then check phase. */
function fakeParent(path: string): ParentTrace {
  const random = prng(12345).float;
  const ops: OpRecord[] = [];
  let time = 0;
  const add = (
    node: string,
    disk: string,
    op: OpRecord["op"],
    offset: number,
    length: number,
    phase: string,
  ) => {
    const index = ops.length;
    const start = time;
    time += 2 + random() * 12;
    const end = start + (op === "flush" ? 6 : 1) + random() * 8;
    ops.push(opRecord({ index, node, disk, op, offset, length, start, end, phase }));
  };
  const GiB = 1024 ** 3;
  for (let i = 0; i < 160; i++) {
    const r = random();
    if (i < 20) add("db", "data", "read", Math.floor(random() * 4096) * 4096, 16384, "run");
    else if (i % 9 === 0) add(i % 2 ? "db" : "app", i % 2 ? "wal" : "data", "flush", 0, 0, "run");
    else if (r < 0.35) add("db", "wal", "write", (i * 8192) % (64 * 1024 ** 2), 8192, "run");
    else if (r < 0.6) {
      add("db", "data", "write", Math.floor(random() * 200_000) * 4096, 4096 * 4, "run");
    } else if (r < 0.7) {
      add("app", "data", "trim", Math.floor(random() * 1000) * 65536, 1 << 20, "run");
    } else if (r < 0.78) add("app", "data", "write-zeroes", 512 * 1024 ** 2, 1 << 22, "run");
    else add("app", "data", "read", Math.floor(random() * (GiB / 4096)) * 4096, 65536, "run");
  }
  time += 2500; // the reboot into the check phase
  for (let i = 0; i < 40; i++) {
    const r = random();
    if (r < 0.75) {
      add(
        "db",
        r < 0.4 ? "wal" : "data",
        "read",
        Math.floor(random() * 8000) * 4096,
        4096,
        "check",
      );
    } else if (r < 0.9) {
      add("app", "data", "read", Math.floor(random() * 1000) * 1024 ** 2, 4096, "check");
    } else add("db", "wal", "flush", 0, 0, "check");
  }
  const disks = [
    {
      node: "db",
      name: "data",
      size: GiB,
      base: { path: "/images/db-data.img", sha256: "0".repeat(64) },
    },
    {
      node: "db",
      name: "wal",
      size: 64 * 1024 ** 2,
      base: { path: "/images/db-wal.img", sha256: "1".repeat(64) },
    },
    {
      node: "app",
      name: "data",
      size: GiB,
      base: { path: "/images/app.img", sha256: "2".repeat(64) },
    },
  ];
  return fakeParentTrace({ records: ops, path, name: "kv-wal", header: { disks } });
}

/** A power-loss sweep over the run phase's writes and flushes: 40 points, 4 failing, 2 never fired. */
function fakeSweep(parent: ParentTrace): SweepResult {
  const candidates = parent.ordered.filter((op) =>
    op.phase === "run" && (op.op === "write" || op.op === "flush")
  ).slice(0, 40);
  const failAt = new Set([candidates[11].index, candidates[12].index, candidates[25].index]);
  const points: SweepPoint[] = candidates.map((op, i) => {
    const reproduce = `faultline replay ${parent.path} --fault power-loss --fault-at ${op.index}`;
    const base = {
      at: op.index,
      op: op.op === "flush" ? "flush" : `${op.op} ${op.offset}+${op.length}`,
      reproduce,
      trace: `/tmp/sweep/point-${op.index}.trace`,
    };
    if (i === 30) {
      return {
        ...base,
        verdict: {
          pass: false,
          reason: "the replay failed: qemu <script>alert(1)</script> exited",
        },
        oracle: null,
        fired: false,
        error: "qemu exited",
      };
    }
    if (i >= 38) {
      return {
        ...base,
        verdict: { pass: false, reason: "the fault never fired: op not reached" },
        oracle: null,
        fired: false,
      };
    }
    if (failAt.has(op.index)) {
      return {
        ...base,
        verdict: { pass: false, reason: "2 acknowledged keys lost: the check found 10 of 12" },
        oracle: { acked: 12, found: 10, lost: 2, lostKeys: ["k11", "k12"] },
        fired: true,
      };
    }
    return {
      ...base,
      verdict: { pass: true, reason: "every acknowledged key was found" },
      oracle: { acked: i, found: i, lost: 0, lostKeys: [] },
      fired: true,
      ...(i % 3 === 1 ? { sameCrashAs: candidates[i - 1].index } : {}),
    };
  });
  return {
    fault: "power-loss",
    points,
    passed: points.filter((p) => p.fired && p.verdict.pass).length,
    failed: points.filter((p) => (p.fired && !p.verdict.pass) || p.error).length,
    notFired: points.filter((p) => !p.fired && !p.error).length,
    distinctCrashStates: 27,
    replays: 27,
    durationMs: 93_400,
  };
}

/** Width, height and RGBA pixels of an 8-bit RGB or RGBA, non-interlaced PNG. */
async function decodePng(
  bytes: Uint8Array,
): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...bytes.subarray(0, 8)], signature, "the PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, colorType = 0;
  const idat: Uint8Array[] = [];
  for (let at = 8; at < bytes.length;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      assert.equal(data[8], 8, "bit depth");
      colorType = data[9];
      assert(colorType === 2 || colorType === 6, `colour type ${colorType}`);
      assert.equal(data[12], 0, "not interlaced");
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + length;
  }
  const inflated = new Uint8Array(
    await new Response(
      new Blob(idat as BlobPart[]).stream().pipeThrough(new DecompressionStream("deflate")),
    )
      .arrayBuffer(),
  );
  const channels = colorType === 6 ? 4 : 3;
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = inflated[y * (stride + 1)];
    const line = inflated.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * channels, i * channels + 3), i * 4);
    rgba[i * 4 + 3] = channels === 4 ? pixels[i * channels + 3] : 255;
  }
  return { width, height, rgba };
}

/** Pixels within a small distance of a colour given as `#rrggbb`. */
function countColor(rgba: Uint8Array, hex: string, tolerance = 24): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (
      Math.abs(rgba[i] - r) + Math.abs(rgba[i + 1] - g) + Math.abs(rgba[i + 2] - b) <= tolerance
    ) n++;
  }
  return n;
}

Deno.test({
  name:
    `sweep report: headless Chromium renders the timeline, verdict colours and failing commands${SKIP}`,
  ignore: !hasChromium,
  async fn() {
    await using dir = await makePrivateDir("faultline-report-");
    const parent = fakeParent(join(dir.path, "kv-wal.trace"));
    const result = fakeSweep(parent);
    const html = await sweepReportHtml(parent, result);
    const page = join(dir.path, "report.html");
    await Deno.writeTextFile(page, html);

    const png = join(dir.path, "report.png");
    const shot = await chromium([
      ...chromiumArgs(join(dir.path, "profile-shot")),
      `--screenshot=${png}`,
      "--window-size=1400,1000",
      `file://${page}`,
    ]);
    assert.equal(shot.code, 0, shot.stderr);
    const bytes = await Deno.readFile(png);
    const image = await decodePng(bytes);
    assert.deepEqual([image.width, image.height], [1400, 1000], "the window's size");
    const keep = Deno.env.get("FAULTLINE_REPORT_SCREENSHOT");
    if (keep) await Deno.copyFile(png, keep);

    // Not blank: the page's ink, and each verdict's and op type's colour, are on screen.
    const pixels = image.width * image.height;
    const white = countColor(image.rgba, "#ffffff", 6);
    assert(
      pixels - white > pixels * 0.05,
      `only ${pixels - white} of ${pixels} pixels are not white`,
    );
    for (
      const [what, color] of [["fail", "#d62828"], ["pass", "#2f9e44"], ["write", "#e8900c"], [
        "read",
        "#5aa9e6",
      ]]
    ) {
      assert(countColor(image.rgba, color) > 20, `no ${what} colour (${color}) in the screenshot`);
    }

    // The rendered DOM: the failing points' commands, and the hostile reason as text, not markup.
    const dom = await chromium([
      ...chromiumArgs(join(dir.path, "profile-dom")),
      "--dump-dom",
      `file://${page}`,
    ]);
    assert.equal(dom.code, 0, dom.stderr);
    assert(dom.stdout.includes('id="failing"'), dom.stdout.slice(0, 500));
    for (const point of result.points.filter((p) => p.error || (p.fired && !p.verdict.pass))) {
      const row = new RegExp(`<tr id="p${point.at}">.*?</tr>`, "s").exec(dom.stdout);
      assert.ok(row, `no row for failing point ${point.at}`);
      assert(row[0].includes(point.reproduce), `no reproduce command in ${row[0]}`);
    }
    assert(!/<script/i.test(dom.stdout), "a script element in the DOM");
    assert(dom.stdout.includes("qemu &lt;script&gt;alert(1)&lt;/script&gt; exited"));
    assert.equal((dom.stdout.match(/<svg /g) ?? []).length, 2, "two timelines (op index, time)");
  },
});
