import assert from "node:assert/strict";
import { exitCodeOf, parseResultLines } from "./results.ts";

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
});

Deno.test("results: the exit code is the last well-formed exit line", () => {
  assert.equal(exitCodeOf(parseResultLines("exit 0\nexit 3\n").lines), 3);
  assert.equal(exitCodeOf(parseResultLines("exit x\n").lines), undefined);
  assert.equal(exitCodeOf(parseResultLines("error no disk\n").lines), undefined);
});
