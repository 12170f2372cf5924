import assert from "node:assert/strict";
import { parseHistory } from "./parse.ts";

const EDN = `{:process 0, :type :invoke, :f :write, :value 1, :time 10}
{:process 0, :type :ok, :f :write, :value 1, :time 20}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 1, :type :invoke, :f :read, :key "k", :value nil, :index 7, :error [:timeout]}
`;

Deno.test("parse: EDN op maps, one a line, with their fields and lines", () => {
  const ops = parseHistory(EDN, { file: "h.edn" });
  assert.deepEqual(ops.map((op) => [op.index, op.type, op.process, op.f, op.line]), [
    [0, "invoke", 0, "write", 1],
    [1, "ok", 0, "write", 2],
    [2, "info", "nemesis", "start", 3],
    [7, "invoke", 1, "read", 4],
  ]);
  assert.equal(ops[0].time, 10);
  assert.equal(ops[3].key, "k");
  assert.equal(ops[3].value, null);
  assert.ok(ops[3].error !== undefined);
  assert.equal(ops[0].key, undefined);
});

Deno.test("parse: one EDN collection of op maps (Knossos's data), each op at its own line", () => {
  const text =
    "; a comment\n[{:process 4, :type :invoke, :f :write, :value 2}\n {:process 4  :type :ok, :f :write, :value 2}]\n";
  const ops = parseHistory(text);
  assert.deepEqual(ops.map((op) => [op.type, op.line]), [["invoke", 2], ["ok", 3]]);
});

Deno.test("parse: JSON lines with jepsen.history's field names; the format from the name or the text", () => {
  const json =
    '{"index": 0, "type": "invoke", "process": 0, "f": "put", "key": "x", "value": "a"}\n\n' +
    '{"index": 1, "type": "ok", "process": 0, "f": "put", "key": "x", "value": "a", "time": 5}\n';
  for (const options of [{}, { file: "h.jsonl" }, { format: "json" as const }]) {
    const ops = parseHistory(json, options);
    assert.deepEqual(ops.map((op) => [op.type, op.f, op.key, op.value, op.line]), [
      ["invoke", "put", "x", "a", 1],
      ["ok", "put", "x", "a", 3],
    ]);
  }
  assert.throws(
    () => parseHistory(json, { file: "h.edn" }),
    /h\.edn:1: expected a keyword.s name after ":"/,
  );
});

Deno.test("parse: a line that is not an op map names the file, the line and what was expected", () => {
  assert.throws(
    () => parseHistory("{:process 0, :type :invoke, :f :read}\n[1 2]\n", { file: "h.edn" }),
    /^HistoryError: h\.edn:2: expected an op map such as \{:process 0, :type :invoke, :f :read, :value nil\}, found 1$/,
  );
  assert.throws(
    () => parseHistory(":read\n", { file: "h.edn" }),
    /h\.edn:1: expected an op map .*found :read/,
  );
  assert.throws(
    () => parseHistory("{:process 0, :type :done, :f :read}", { file: "h.edn" }),
    /h\.edn:1: expected :type :invoke, :ok, :fail or :info, found :done/,
  );
  assert.throws(
    () => parseHistory("{:type :ok, :f :read}", { file: "h.edn" }),
    /h\.edn:1: expected :process, a client's number or a name, found nothing/,
  );
  assert.throws(
    () => parseHistory("{:process 1, :type :ok, :f 3}", { file: "h.edn" }),
    /h\.edn:1: expected :f, the op's function as a keyword, found 3/,
  );
  assert.throws(
    () => parseHistory("{:process 1, :type :ok, :f :read, :time :later}", { file: "h.edn" }),
    /expected :time, a number, found :later/,
  );
  assert.throws(
    () => parseHistory('{"type": "ok"}\nnot json\n', { file: "h.jsonl" }),
    /h\.jsonl:1: expected :process/,
  );
  assert.throws(
    () =>
      parseHistory('{"process": 0, "type": "ok", "f": "read"}\nnot json\n', { file: "h.jsonl" }),
    /h\.jsonl:2: expected a JSON object such as .*: /,
  );
  assert.throws(
    () => parseHistory("[1]\n", { format: "json", file: "h" }),
    /h:1: expected a JSON object/,
  );
});

Deno.test("parse: an empty history has no ops", () => {
  assert.deepEqual(parseHistory(""), []);
  assert.deepEqual(parseHistory("\n; nothing\n"), []);
  assert.deepEqual(parseHistory("\n", { format: "json" }), []);
});
