import assert from "node:assert/strict";
import { anomalyOf } from "./anomaly.ts";
import { checkHistory } from "./check.ts";
import { HistoryError } from "./errors.ts";
import { parseHistory } from "./parse.ts";
import { reportedOp } from "./report_line.ts";
import { EdnSymbol } from "./value.ts";

const place = (index: number) => ({ index, time: index * 1000, where: "node e1, run phase" });

Deno.test("report line: process, function, then no form, a value, or a key and a value, as EDN", () => {
  assert.equal(reportedOp("ack 3", place(0)), null);
  assert.equal(reportedOp("phase run", place(0)), null);
  assert.deepEqual(reportedOp("invoke 2 cas x [1 2]", place(5)), {
    index: 5,
    type: "invoke",
    process: 2,
    f: "cas",
    key: new EdnSymbol("x"),
    value: [1, 2],
    time: 5000,
    error: undefined,
    line: 6,
  });
  assert.equal(reportedOp("invoke 0 read", place(0))!.value, null);
  assert.equal(reportedOp("invoke 0 read", place(0))!.key, undefined);
  assert.equal(reportedOp("ok 0 read 3", place(1))!.value, 3);
  assert.equal(reportedOp("ok 0 read 3", place(1))!.key, undefined);
  assert.equal(reportedOp("info 4 read x nil", place(1))!.value, null);
  assert.equal(reportedOp('fail 1 put k "a  b"', place(1))!.value, "a  b", "spaces kept");
  assert.equal(reportedOp("ok 1 cas k [1 2]", place(1))!.type, "ok");
});

Deno.test("report line: a line the host cannot read is named, with where it came from", () => {
  for (
    const [line, pattern] of [
      [
        "invoke x read",
        /node e1, run phase: "invoke x read": expected invoke PROCESS F .*found "x"/,
      ],
      ["invoke -1 read", /PROCESS a client's number, found "-1"/],
      ["ok 0", /expected the op's function after the process, found ""/],
      ["invoke 0 cas x 1 2", /at most a key and a value after "cas", found 3 forms .*\[1 2\]/],
      ["invoke 0 cas x [1 2", /the key and value are not EDN: expected "\]"/],
    ] as const
  ) {
    assert.throws(() => reportedOp(line, place(0)), (e: unknown) => {
      assert.ok(e instanceof HistoryError);
      assert.match(e.message, pattern);
      return true;
    }, line);
  }
});

const stale = `
{:process 0, :type :invoke, :f :write, :key "x", :value 3, :time 1000000000}
{:process 0, :type :ok, :f :write, :key "x", :value 3, :time 2000000000}
{:process 1, :type :invoke, :f :write, :key "x", :value 4, :time 3000000000}
{:process 1, :type :ok, :f :write, :key "x", :value 4, :time 7900000000}
{:process 2, :type :invoke, :f :read, :key "x", :value nil, :time 8200000000}
{:process 2, :type :ok, :f :read, :key "x", :value 3, :time 8300000000}
`;

Deno.test("anomaly: a stale read names the read, its time, and the write it missed", () => {
  const ops = parseHistory(stale, { format: "edn" });
  const result = checkHistory(ops, { model: "register" });
  assert.equal(result.valid, false);
  assert.equal(
    anomalyOf(result.counterexample!, ops),
    `stale read of key "x": process 2 read 3 at 8.2 s after write 4 completed at 7.9 s`,
  );
});

Deno.test("anomaly: a write whose client gave up (info) is said to have taken effect, not to have completed", () => {
  // Process 3 read 4 before process 2's read began: write 4 took effect, though its client
  // gave up at 5 s; process 2's read of 3 is stale (etcd's serializable reads did this).
  const ops = parseHistory(
    `
{:process 0, :type :invoke, :f :write, :key "x", :value 3, :time 1000000000}
{:process 0, :type :ok, :f :write, :key "x", :value 3, :time 2000000000}
{:process 1, :type :invoke, :f :write, :key "x", :value 4, :time 3000000000}
{:process 1, :type :info, :f :write, :key "x", :value 4, :time 5000000000}
{:process 3, :type :invoke, :f :read, :key "x", :value nil, :time 6000000000}
{:process 3, :type :ok, :f :read, :key "x", :value 4, :time 7000000000}
{:process 2, :type :invoke, :f :read, :key "x", :value nil, :time 8200000000}
{:process 2, :type :ok, :f :read, :key "x", :value 3, :time 8300000000}
`,
    { format: "edn" },
  );
  const result = checkHistory(ops, { model: "register" });
  assert.equal(result.valid, false);
  assert.match(
    anomalyOf(result.counterexample!, ops),
    /^stale read of key "x": process 2 read 3 at 8\.2 s after write 4 took effect \(indeterminate: its client gave up at 5\.0 s\)$/,
  );
});

Deno.test("anomaly: a value nobody wrote, and an op that is not a read, in their own words", () => {
  const never = parseHistory(
    stale.replace(":value 3, :time 8300000000", ":value 9, :time 8300000000"),
    {
      format: "edn",
    },
  );
  const result = checkHistory(never, { model: "register" });
  assert.equal(
    anomalyOf(result.counterexample!, never),
    `impossible read of key "x": process 2 read 9 at 8.2 s, a value no op wrote`,
  );
  const cas = parseHistory(
    `{:process 0, :type :invoke, :f :cas, :value [1 2]}\n{:process 0, :type :ok, :f :cas, :value [1 2]}`,
    { format: "edn" },
  );
  const failed = checkHistory(cas, { model: "register" });
  assert.equal(
    anomalyOf(failed.counterexample!, cas),
    "not linearizable: process 0's cas 1 -> 2 (line 1) fits no order of the ops around it",
  );
});
