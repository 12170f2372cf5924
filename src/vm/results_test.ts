import assert from "node:assert/strict";
import { type BlockOp, type OpType } from "../block/backend.ts";
import {
  decodeResultSectors,
  parseResultLine,
  parseResultLines,
  reportedExitCode,
  type ResultLine,
  RESULTS_DISK_SIZE,
  RESULTS_SERIAL,
  ResultsChannel,
} from "./results.ts";
import { blockOp } from "../../tests/support/ops.ts";

const encoder = new TextEncoder();

Deno.test("results: lines split on LF or CRLF, empty lines skipped, the tail kept", () => {
  const { lines, rest } = parseResultLines("phase boot\r\n\nack 17\nhave  a b\nexit 0\nack 1");
  assert.deepEqual(lines.map((l) => [l.kind, l.args]), [
    ["phase", ["boot"]],
    ["ack", ["17"]],
    ["have", ["a", "b"]],
    ["exit", ["0"]],
  ]);
  assert.equal(lines[0].text, "phase boot");
  assert.equal(rest, "ack 1");
  assert.equal(parseResultLine(" \r"), undefined);
  assert.deepEqual(parseResultLine("error no disk data"), {
    kind: "error",
    args: ["no", "disk", "data"],
    text: "error no disk data",
  });
});

Deno.test("results: the exit code is the last well-formed exit line", () => {
  assert.equal(reportedExitCode(parseResultLines("exit 0\nexit 3\n").lines), 3);
  assert.equal(reportedExitCode(parseResultLines("exit x\n").lines), undefined);
  assert.equal(reportedExitCode(parseResultLines("error no disk\n").lines), undefined);
});

/** Sectors holding the given lines as `report` writes them: line, "\n", NUL padding. */
function sectors(...lines: (string | null)[]): Uint8Array {
  const bytes = new Uint8Array(lines.length * 512);
  lines.forEach((line, i) => {
    if (line !== null) bytes.set(encoder.encode(`${line}\n`), i * 512);
  });
  return bytes;
}

Deno.test("results: decodeResultSectors reads the non-empty sectors up to LF or NUL", () => {
  const bytes = sectors("phase boot", null, "ack 1", "have x");
  bytes[3 * 512 + 100] = 0x41; // bytes after the line ending do not count
  bytes.set(encoder.encode("no newline"), 512 + 1); // a sector that starts with NUL
  assert.deepEqual(decodeResultSectors(bytes, 10), [
    { sector: 10, line: "phase boot" },
    { sector: 11, line: "" },
    { sector: 12, line: "ack 1" },
    { sector: 13, line: "have x" },
  ]);
  assert.deepEqual(decodeResultSectors(new Uint8Array(0), 0), []);
  assert.deepEqual(decodeResultSectors(new Uint8Array(4096), 0), []);
  const full = new Uint8Array(512).fill(0x61); // 512 bytes, no line ending: the whole sector
  assert.equal(decodeResultSectors(full, 0)[0].line, "a".repeat(512));
  assert.deepEqual(decodeResultSectors(encoder.encode("é\n".padEnd(511, "\0")), 0), [
    { sector: 0, line: "é" },
  ]);
  assert.throws(() => decodeResultSectors(new Uint8Array(100), 0), RangeError);
});

let index = 0;
function op(type: OpType, offset: number, data?: Uint8Array, length = data?.length ?? 0): BlockOp {
  return blockOp({ index: index++, disk: RESULTS_SERIAL, type, offset, length, data });
}

function channel() {
  const seen: { line: ResultLine; sector: number; op: number }[] = [];
  const results = new ResultsChannel((line, sector, o) => seen.push({ line, sector, op: o.index }));
  const texts = () => seen.map((s) => `${s.sector}:${s.line.text}`);
  return { results, seen, texts };
}

Deno.test("results channel: each line is handed on once, in sector order, as its write completes", async () => {
  const { results, seen, texts } = channel();
  assert.equal(results.size, RESULTS_DISK_SIZE);
  const first = op("write", 0, sectors("phase boot"));
  await results.execute(first);
  assert.deepEqual(texts(), ["0:phase boot"], "handed on before execute resolved");
  assert.equal(seen[0].op, first.index, "with the op that completed it");
  assert.deepEqual(seen[0].line, { kind: "phase", args: ["boot"], text: "phase boot" });
  await results.execute(op("write", 512, sectors("phase run")));
  await results.execute(op("flush", 0));
  await results.execute(op("write", 1024, sectors("ack 1", "ack 2")));
  assert.deepEqual(texts(), ["0:phase boot", "1:phase run", "2:ack 1", "3:ack 2"]);
  assert.equal(results.nextSector, 4);
  // Reads return what was written, zeros elsewhere.
  const read = await results.execute(op("read", 0, undefined, 5 * 512));
  assert.deepEqual(read, sectors("phase boot", "phase run", "ack 1", "ack 2", null));
  // The same bytes written again are not handed on again.
  await results.execute(op("write", 512, sectors("phase run")));
  assert.equal(seen.length, 4);
});

Deno.test("results channel: lines past the old 16,384-line disk, across chunks, kept sparse", async () => {
  const { results, texts } = channel();
  assert.equal(RESULTS_DISK_SIZE / 512, 2_097_152, "lines a boot");
  const { results: resumed, texts: resumedTexts } = (() => {
    const seen: string[] = [];
    const r = new ResultsChannel((line, sector) => seen.push(`${sector}:${line.text}`), {
      firstSector: 20_000,
    });
    return { results: r, texts: () => seen };
  })();
  // A boot resumed at line 20,000, beyond the 16,384 lines of the old 8 MiB disk.
  await resumed.execute(op("write", 20_000 * 512, sectors("invoke 0 read x nil")));
  assert.deepEqual(resumedTexts(), ["20000:invoke 0 read x nil"]);
  await results.execute(
    op("write", 0, sectors(...Array.from({ length: 127 }, (_, i) => `l ${i}`))),
  );
  // Two lines in one write that straddles a 64 KiB chunk boundary (sector 127 | 128).
  await results.execute(op("write", 127 * 512, sectors("ok 0 read x 1", "ok 1 write x 2")));
  assert.deepEqual(texts().slice(-2), ["127:ok 0 read x 1", "128:ok 1 write x 2"]);
  const read = await results.execute(op("read", 127 * 512, undefined, 3 * 512));
  assert.deepEqual(read, sectors("ok 0 read x 1", "ok 1 write x 2", null));
  const far = await resumed.execute(op("read", RESULTS_DISK_SIZE - 512, undefined, 512));
  assert.deepEqual(far, new Uint8Array(512), "never written: zeros");
});

Deno.test("results channel: a line beyond a gap waits until the gap is filled", async () => {
  const { results, seen, texts } = channel();
  await results.execute(op("write", 0, sectors("phase boot")));
  const late = op("write", 3 * 512, sectors("ack 3"));
  await results.execute(late);
  await results.execute(op("write", 2 * 512, sectors("ack 2")));
  assert.deepEqual(texts(), ["0:phase boot"], "sector 1 is still empty");
  const filling = op("write", 512, sectors("ack 1"));
  await results.execute(filling);
  assert.deepEqual(texts(), ["0:phase boot", "1:ack 1", "2:ack 2", "3:ack 3"]);
  assert.deepEqual(seen.slice(1).map((s) => s.op), [filling.index, filling.index, filling.index]);
});

Deno.test("results channel: page-sized read-modify-writes hand on only the new lines", async () => {
  // A guest without O_DIRECT writes through its page cache: each report becomes a 4 KiB
  // write of the whole page (the earlier lines again, the new one, zeros after it), and the
  // page may be written again after more lines joined it.
  const { results, texts } = channel();
  const page = (...lines: string[]) => {
    const bytes = new Uint8Array(4096);
    bytes.set(sectors(...lines));
    return bytes;
  };
  await results.execute(op("write", 0, page("phase boot")));
  assert.deepEqual(texts(), ["0:phase boot"]);
  await results.execute(op("write", 0, page("phase boot", "phase run")));
  await results.execute(op("write", 0, page("phase boot", "phase run", "ack 1")));
  assert.deepEqual(texts(), ["0:phase boot", "1:phase run", "2:ack 1"]);
  // Two lines land in one write, and the next page starts.
  const eight = ["phase boot", "phase run", "ack 1", "ack 2", "ack 3", "ack 4", "ack 5", "ack 6"];
  await results.execute(op("write", 0, page(...eight)));
  await results.execute(op("write", 4096, page("exit 0")));
  assert.deepEqual(texts().slice(3), [
    "3:ack 2",
    "4:ack 3",
    "5:ack 4",
    "6:ack 5",
    "7:ack 6",
    "8:exit 0",
  ]);
  // A writeback of the first page again changes nothing.
  await results.execute(op("write", 0, page(...eight)));
  assert.equal(texts().length, 9);
});

Deno.test("results channel: trim and write-zeroes store zeros; blank lines are skipped", async () => {
  const { results, texts } = channel();
  await results.execute(op("write", 0, sectors("phase boot", "ack 1")));
  await results.execute(op("trim", 0, undefined, 512));
  await results.execute(op("write-zeroes", 512, undefined, 512));
  await results.execute(op("cache", 0, undefined, 4096));
  assert.deepEqual(await results.execute(op("read", 0, undefined, 1024)), new Uint8Array(1024));
  assert.deepEqual(texts(), ["0:phase boot", "1:ack 1"]);
  const blank = new Uint8Array(512);
  blank[0] = 0x20;
  blank[1] = 0x0a;
  await results.execute(op("write", 1024, blank));
  await results.execute(op("write", 1536, sectors("ack 2")));
  assert.deepEqual(texts(), ["0:phase boot", "1:ack 1", "3:ack 2"]);
  assert.equal(results.nextSector, 4);
});

Deno.test("results channel: bad ops and a closed channel are refused with an errno", async () => {
  const { results } = channel();
  await assert.rejects(
    results.execute(op("write", RESULTS_DISK_SIZE, sectors("x"))),
    (e: Error & { errno?: string }) =>
      e.errno === "einval" && /outside the results disk/.test(e.message),
  );
  await assert.rejects(
    results.execute(op("write", 0, new Uint8Array(512), 1024)),
    (e: Error & { errno?: string }) => e.errno === "einval",
  );
  const small = new ResultsChannel(() => {}, { size: 1024 });
  assert.equal(small.size, 1024);
  assert.throws(() => new ResultsChannel(() => {}, { size: 1000 }), RangeError);
  await results.close();
  await assert.rejects(
    results.execute(op("read", 0, undefined, 512)),
    (e: Error & { errno?: string }) => e.errno === "eshutdown",
  );
});

Deno.test("results channel: a callback that throws rejects the op and is not called twice", async () => {
  let calls = 0;
  const results = new ResultsChannel(() => {
    calls++;
    throw new Error("boom");
  });
  await assert.rejects(results.execute(op("write", 0, sectors("ack 1"))), /boom/);
  await results.execute(op("flush", 0)).catch(() => {});
  await assert.rejects(results.execute(op("write", 512, sectors("ack 2"))), /boom/);
  assert.equal(calls, 2);
  assert.equal(results.nextSector, 2);
});
