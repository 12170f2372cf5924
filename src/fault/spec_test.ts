import assert from "node:assert/strict";
import { FaultSpecError } from "./errors.ts";
import { formatFaultSpec, parseFaultSpec, parseTrigger } from "./spec.ts";

Deno.test("fault specs parse into effects and triggers", () => {
  assert.deepEqual(parseFaultSpec("eio@17"), {
    spec: "eio@17",
    effect: { kind: "error", errno: "eio" },
    trigger: { kind: "index", index: 17 },
  });
  assert.deepEqual(parseFaultSpec("delay:200ms@write#3").effect, {
    kind: "delay",
    durationMs: 200,
  });
  assert.deepEqual(parseFaultSpec("delay:200ms@write#3").trigger, {
    kind: "match",
    type: "write",
    occurrence: 3,
  });
  assert.deepEqual(parseFaultSpec("hang:5s@+2s"), {
    spec: "hang:5000ms@+2000ms",
    effect: { kind: "hang", durationMs: 5000 },
    trigger: { kind: "time", afterMs: 2000 },
  });
  assert.deepEqual(parseFaultSpec("limp:10ms").effect, { kind: "limp", latencyMs: 10 });
  assert.deepEqual(parseFaultSpec("limp:1M/s").effect, {
    kind: "limp",
    latencyMs: 0,
    bytesPerSecond: 1048576,
  });
  assert.deepEqual(parseFaultSpec("limp:latency=5ms,bandwidth=2M/s").effect, {
    kind: "limp",
    latencyMs: 5,
    bytesPerSecond: 2097152,
  });
  assert.deepEqual(parseFaultSpec("error").effect, { kind: "error", errno: "eio" });
  assert.deepEqual(parseFaultSpec("error:enospc").effect, { kind: "error", errno: "enospc" });
  assert.deepEqual(parseFaultSpec("fail:eperm").effect, { kind: "fail", errno: "eperm" });
  assert.deepEqual(parseFaultSpec("torn-write:keep=3").effect, {
    kind: "torn-write",
    keepSectors: 3,
  });
  assert.deepEqual(parseFaultSpec("corrupt").effect, {
    kind: "corrupt",
    direction: "read",
    bits: 1,
  });
  assert.deepEqual(parseFaultSpec("corrupt:write,bits=8").effect, {
    kind: "corrupt",
    direction: "write",
    bits: 8,
  });
  assert.deepEqual(parseFaultSpec("power-loss@40").effect, { kind: "power-loss", variant: "drop" });
  assert.deepEqual(parseFaultSpec("power-loss:subset@40").effect, {
    kind: "power-loss",
    variant: "subset",
  });
  assert.deepEqual(parseFaultSpec("lost-write@vda/write:4096+512#2").trigger, {
    kind: "match",
    disk: "vda",
    type: "write",
    exact: { offset: 4096, length: 512 },
    occurrence: 2,
  });
});

Deno.test("triggers name disks, nodes, ranges and occurrences", () => {
  assert.deepEqual(parseTrigger("n1/vdb/flush#1"), {
    kind: "match",
    node: "n1",
    disk: "vdb",
    type: "flush",
    occurrence: 1,
  });
  assert.deepEqual(parseTrigger("write:1M-2M"), {
    kind: "match",
    type: "write",
    range: { start: 1048576, end: 2097152 },
  });
  assert.deepEqual(parseTrigger("vdb/any"), { kind: "match", disk: "vdb" });
  assert.deepEqual(parseTrigger("+1.5s"), { kind: "time", afterMs: 1500 });
});

Deno.test("the canonical text reads back as the same rule", () => {
  for (
    const spec of [
      "eio@17",
      "DELAY:0.2s@WRITE#3",
      "hang",
      "hang:1s@+500ms",
      "limp:10ms,1M/s@vda/read:0-4096",
      "torn-write@write#2",
      "corrupt:write,bits=3@n1/vdb/write:4096+512#1",
      "fail:enospc@any#10",
      "lost-write",
    ]
  ) {
    const rule = parseFaultSpec(spec);
    assert.deepEqual(parseFaultSpec(formatFaultSpec(rule)), rule, spec);
  }
});

Deno.test("bad fault specs name the spec and what was expected", () => {
  const cases: [string, RegExp][] = [
    ["melt", /unknown fault kind "melt"/],
    ["delay", /delay needs a duration/],
    ["delay:fast", /"fast" is not a duration/],
    ["eio@", /trigger after @ is empty/],
    ["eio@write#0", /occurrence after # must be a whole number of at least 1/],
    ["eio@scribble", /"scribble" .* is not an op type/],
    ["eio@write:5-3", /range "5-3" is empty/],
    ["eio:x=1", /eio does not take "x="/],
    ["limp", /limp needs a latency/],
    ["corrupt:sideways", /does not take "sideways"/],
    ["hang:5parsecs", /"5parsecs" is not a duration/],
    ["torn-write:many", /keep must be a whole number/],
    ["eio@a/b/c/write", /more than NODE\/DISK\/TYPE/],
    ["error:eagain", /errno "eagain" is not one NBD carries/],
  ];
  for (const [spec, pattern] of cases) {
    assert.throws(() => parseFaultSpec(spec), (e: unknown) => {
      assert.ok(e instanceof FaultSpecError, `${spec}: ${e}`);
      assert.match(
        e.message,
        new RegExp(`^fault "${spec.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`),
      );
      assert.match(e.message, pattern);
      return true;
    });
  }
});
