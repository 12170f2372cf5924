import assert from "node:assert/strict";
import { pairHistory } from "./pair.ts";
import { parseHistory } from "./parse.ts";

const pair = (text: string) =>
  pairHistory(parseHistory(text, { file: "h.edn" }), { file: "h.edn" });

Deno.test("pair: each invoke with its process's completion; fail left out, info and the never completed indeterminate", () => {
  const paired = pair(`{:process 0, :type :invoke, :f :write, :value 1}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :ok, :f :read, :value 1}
{:process 2, :type :invoke, :f :write, :value 2}
{:process 2, :type :fail, :f :write, :value 2}
{:process 3, :type :invoke, :f :write, :value 3}
{:process 3, :type :info, :f :write, :value 3}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 4, :type :invoke, :f :write, :value 4}
`);
  assert.deepEqual(
    paired.ops.map((
      op,
    ) => [op.id, op.process, op.f, op.value, op.output, op.status, op.invokeAt, op.completeAt]),
    [
      [0, 0, "write", 1, 1, "ok", 0, 2],
      [1, 1, "read", null, 1, "ok", 1, 3],
      [2, 3, "write", 3, null, "info", 6, Infinity],
      [3, 4, "write", 4, null, "info", 9, Infinity],
    ],
  );
  assert.equal(paired.ops[2].complete?.line, 8);
  assert.equal(paired.ops[3].complete, null);
  assert.deepEqual([paired.failed, paired.notClient, paired.neverCompleted, paired.keys], [
    1,
    1,
    1,
    "none",
  ]);
});

Deno.test("pair: keys from :key, or from jepsen.independent's [key value] tuples", () => {
  const keyed = pair(`{:process 0, :type :invoke, :f :put, :key "a", :value "x"}
{:process 0, :type :ok, :f :put, :key "a", :value "x"}`);
  assert.equal(keyed.keys, "key");
  assert.equal(keyed.ops[0].key, "a");
  const tuples = pair(`{:process 0, :type :invoke, :f :cas, :value [7 [1 2]]}
{:process 0, :type :ok, :f :cas, :value [7 [1 2]]}
{:process 1, :type :invoke, :f :read, :value [8 nil]}
{:process 1, :type :ok, :f :read, :value [8 3]}`);
  assert.equal(tuples.keys, "tuple");
  assert.deepEqual(tuples.ops.map((op) => [op.key, op.value, op.output]), [[7, [1, 2], [1, 2]], [
    8,
    null,
    3,
  ]]);
  // A cas's [from to] alone is not a tuple: reads of nil say there are no keys.
  const plain = pair(`{:process 0, :type :invoke, :f :cas, :value [1 2]}
{:process 0, :type :ok, :f :cas, :value [1 2]}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 2}`);
  assert.equal(plain.keys, "none");
  assert.deepEqual(plain.ops[0].value, [1, 2]);
  assert.throws(
    () =>
      pair(`{:process 1, :type :invoke, :f :read, :value [8 nil]}
{:process 1, :type :ok, :f :read, :value 3}`),
    /h\.edn:2: expected \[key value\] with the key 8 of its invoke \(line 1\), found 3/,
  );
});

Deno.test("pair: bad input names the file, the line and what was expected", () => {
  assert.throws(
    () => pair("{:process 0, :type :ok, :f :read, :value 1}"),
    /^HistoryError: h\.edn:1: a completion \(:ok\) of process 0 with no invoke before it$/,
  );
  assert.throws(
    () => pair("{:process 0, :type :invoke, :f :read}\n{:process 0, :type :invoke, :f :read}"),
    /h\.edn:2: process 0 invokes while its invoke at line 1 has not completed/,
  );
  assert.throws(
    () =>
      pair(`{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :info, :f :write, :value 1}
{:process 0, :type :invoke, :f :read}`),
    /h\.edn:3: process 0 invokes again after its :info at line 2/,
  );
  assert.throws(
    () =>
      pair("{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :write, :value 1}"),
    /h\.edn:2: a completion with :f :write of an invoke with :f :read \(line 1\)/,
  );
});
