import assert from "node:assert/strict";
import {
  formatBytes,
  formatDuration,
  parseBandwidth,
  parseDuration,
  parseSize,
  UnitError,
} from "./units.ts";
import { prng } from "../../tests/support/random.ts";

function refused(parse: (text: string) => number, text: string, pattern: RegExp): void {
  assert.throws(
    () => parse(text),
    (e: unknown) => e instanceof UnitError && e.kind === "usage" && pattern.test(e.message),
    `${parse.name}(${JSON.stringify(text)})`,
  );
}

Deno.test("parseSize: bytes, binary suffixes in every spelling, fractions that make whole bytes, hex", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["512", 512],
    ["512b", 512],
    ["4k", 4096],
    ["4K", 4096],
    ["4kb", 4096],
    ["4KiB", 4096],
    ["32M", 32 * 1024 ** 2],
    ["32mib", 32 * 1024 ** 2],
    ["1G", 1024 ** 3],
    ["2GB", 2 * 1024 ** 3],
    ["1T", 1024 ** 4],
    ["1.5K", 1536],
    ["0.5M", 512 * 1024],
    [" 64 M ", 64 * 1024 ** 2],
    ["0x1000", 4096],
    ["0XfF", 255],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

Deno.test("parseSize refuses what is not a whole number of bytes, naming the text", () => {
  for (const text of ["", "lots", "-1", "1e3", "4P", "4 K B", "0x", "K", "1,5K"]) {
    refused(
      parseSize,
      text,
      new RegExp(`"${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" is not a size`),
    );
  }
  refused(parseSize, "1.5", /"1\.5" is not a whole number of bytes/);
  refused(parseSize, "0.1K", /not a whole number of bytes/);
  refused(parseSize, "99999999999T", /not a whole number of bytes/);
});

Deno.test("parseDuration: every unit, fractions, any case, spaces", () => {
  const cases: [string, number][] = [
    ["200ms", 200],
    ["1.5s", 1500],
    ["250us", 0.25],
    ["2m", 120_000],
    ["2min", 120_000],
    ["1h", 3_600_000],
    ["5S", 5000],
    [" 3 s ", 3000],
    ["0ms", 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  for (const text of ["5", "s", "-1s", "5 sec", "1.2.3s", "", "5ns", "1d"]) {
    refused(parseDuration, text, /is not a duration \(expected a number with a unit/);
  }
});

Deno.test("parseBandwidth: a size per second, more than zero", () => {
  assert.equal(parseBandwidth("1MiB/s"), 1024 ** 2);
  assert.equal(parseBandwidth("10M/s"), 10 * 1024 ** 2);
  assert.equal(parseBandwidth("512/s"), 512);
  assert.equal(parseBandwidth(" 2k/S "), 2048);
  refused(parseBandwidth, "1M", /"1M" is not a bandwidth/);
  refused(parseBandwidth, "0/s", /bandwidth "0\/s" must be more than zero/);
  refused(parseBandwidth, "/s", /"\/s" is not a bandwidth/);
  refused(parseBandwidth, "fast/s", /"fast" is not a size/);
});

Deno.test("formatBytes: bytes below 1 KiB, then one decimal below 10 of a unit, none above", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [10 * 1024, "10 KiB"],
    [1024 ** 2, "1.0 MiB"],
    [5.25 * 1024 ** 3, "5.3 GiB"],
    [1024 ** 4, "1.0 TiB"],
    [2048 * 1024 ** 4, "2048 TiB"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatBytes(bytes), text, String(bytes));
});

Deno.test("formatDuration: ms below a second, seconds with a decimal below a minute, then minutes and seconds", () => {
  const cases: [number, string][] = [
    [0, "0 ms"],
    [849.6, "850 ms"],
    [999.4, "999 ms"],
    [1000, "1.0 s"],
    [3200, "3.2 s"],
    [59_900, "59.9 s"],
    [60_000, "1 min 0 s"],
    [125_000, "2 min 5 s"],
    [3_600_000, "60 min 0 s"],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

Deno.test("parseSize and formatBytes agree on whole units", () => {
  const random = prng(3);
  for (let i = 0; i < 500; i++) {
    const unit = random.pick(["K", "M", "G", "T"]);
    const n = 10 + random.below(1014);
    assert.equal(formatBytes(parseSize(`${n}${unit}`)), `${n} ${unit}iB`);
  }
});

Deno.test({
  name: "formatBytes and formatDuration never round up to a full next unit",
  fn() {
    assert.equal(formatDuration(119_600), "2 min 0 s");
    assert.equal(formatDuration(999.6), "1.0 s");
    assert.equal(formatDuration(59_960), "1 min 0 s");
    assert.equal(formatBytes(1048575), "1.0 MiB");
    const random = prng(9);
    for (let i = 0; i < 10_000; i++) {
      const ms = random.float() * 600_000;
      const text = formatDuration(ms);
      assert.doesNotMatch(text, /^1000 ms$|^60\.0 s$| 60 s$/, `${ms} ms: ${text}`);
      const bytes = random.below(2 ** 40);
      assert.doesNotMatch(formatBytes(bytes), /^1024 (KiB|MiB|GiB)$/, `${bytes} B`);
    }
  },
});
