import assert from "node:assert/strict";
import { FaultSpecError } from "./errors.ts";
import { crashStateId, parseCrashStateId } from "./kinds/power_loss.ts";
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

Deno.test("disk models: lie-flush, limp distributions, stall and bad sectors parse", () => {
  assert.deepEqual(parseFaultSpec("lie-flush").effect, { kind: "lie-flush", fuaOnly: false });
  assert.deepEqual(parseFaultSpec("lie-flush:fua@+5s").effect, {
    kind: "lie-flush",
    fuaOnly: true,
  });
  assert.deepEqual(parseFaultSpec("limp:p50=2ms,p99=150ms").effect, {
    kind: "limp",
    latencyMs: 0,
    distribution: { kind: "lognormal", points: [[50, 2], [99, 150]], maxMs: 10_000 },
  });
  // Percentiles in either order, a cap, and a bandwidth beside.
  assert.deepEqual(parseFaultSpec("limp:p99.9=1s,p90=10ms,max=2s,1M/s").effect, {
    kind: "limp",
    latencyMs: 0,
    bytesPerSecond: 1048576,
    distribution: { kind: "lognormal", points: [[90, 10], [99.9, 1000]], maxMs: 2000 },
  });
  assert.deepEqual(parseFaultSpec("limp:pareto,scale=1ms,alpha=1.5").effect, {
    kind: "limp",
    latencyMs: 0,
    distribution: { kind: "pareto", scaleMs: 1, alpha: 1.5, maxMs: 10_000 },
  });
  assert.deepEqual(parseFaultSpec("stall:every=10s,for=800ms").effect, {
    kind: "stall",
    everyMs: 10_000,
    forMs: 800,
  });
  // Byte ranges rounded out to whole sectors, START-END or OFFSET+LENGTH.
  assert.deepEqual(parseFaultSpec("bad-sectors:1M+4K").effect, {
    kind: "bad-sectors",
    startSector: 2048,
    endSector: 2056,
    errno: "eio",
  });
  assert.deepEqual(parseFaultSpec("bad-sectors:1000-1100,enospc").effect, {
    kind: "bad-sectors",
    startSector: 1,
    endSector: 3,
    errno: "enospc",
  });
});

Deno.test("power-loss explores crash states: each, orders=K, all[,max=B], state=ID", () => {
  const effect = (spec: string) => parseFaultSpec(spec).effect;
  assert.deepEqual(effect("power-loss:each"), {
    kind: "power-loss",
    variant: "drop",
    states: { kind: "each" },
  });
  assert.deepEqual(effect("power-loss:orders=5"), {
    kind: "power-loss",
    variant: "drop",
    states: { kind: "orders", count: 5 },
  });
  assert.deepEqual(effect("power-loss:all"), {
    kind: "power-loss",
    variant: "drop",
    states: { kind: "all", max: 10 },
  });
  assert.deepEqual(effect("power-loss:all,max=4,orders=8"), {
    kind: "power-loss",
    variant: "drop",
    states: { kind: "all", max: 4, count: 8 },
  });
  assert.deepEqual(effect("power-loss:state=61+57"), {
    kind: "power-loss",
    variant: "drop",
    states: { kind: "state", dropped: [57, 61] },
  });
  assert.deepEqual(effect("power-loss:state=none"), {
    kind: "power-loss",
    variant: "drop",
    states: { kind: "state", dropped: [] },
  });
  assert.equal(parseFaultSpec("power-loss:state=61+57@40").spec, "power-loss:state=57+61@40");
  assert.equal(crashStateId([9, 3]), "3+9");
  assert.deepEqual(parseCrashStateId("3+9+3"), { kind: "state", dropped: [3, 9] });
});

Deno.test("the new kinds' canonical text reads back as the same rule", () => {
  for (
    const spec of [
      "lie-flush",
      "lie-flush:fua@vdb/any",
      "limp:p50=2ms,p99=150ms",
      "limp:p90=1ms,p99.9=0.5s,max=1s,2M/s@+2s",
      "limp:pareto,scale=1ms,alpha=1.5",
      "limp:pareto,scale=500us,alpha=2,max=3s",
      "stall:every=10s,for=800ms@+1s",
      "bad-sectors:1M+4K",
      "bad-sectors:512-1024,enospc@write#2",
      "power-loss:subset",
      "power-loss:each",
      "power-loss:orders=16",
      "power-loss:all",
      "power-loss:all,max=6,orders=20",
      "power-loss:state=4+9",
      "power-loss:state=none@17",
    ]
  ) {
    const rule = parseFaultSpec(spec);
    assert.deepEqual(parseFaultSpec(formatFaultSpec(rule)), rule, spec);
  }
});

Deno.test("bad specs of the new kinds say what was expected", () => {
  const cases: [string, RegExp][] = [
    ["lie-flush:sometimes", /lie-flush does not take "sometimes"/],
    ["limp:p50=2ms", /two percentiles/],
    ["limp:p50=2ms,p99=1ms", /higher percentile needs the higher latency/],
    ["limp:p50=2ms,p99=150ms,5ms", /a fixed latency or a distribution/],
    ["limp:p100=1s,p50=1ms", /p100 is not a percentile/],
    ["limp:pareto,scale=1ms", /scale= and alpha=/],
    ["limp:pareto,scale=1ms,alpha=0", /alpha must be a number above 0/],
    ["limp:10ms,max=1s", /max= caps a distribution/],
    ["stall:every=1s", /stall needs every= and for=/],
    ["stall:every=1s,for=2s", /less than its period/],
    ["bad-sectors", /bad-sectors needs a range/],
    ["bad-sectors:4096-4096", /is empty/],
    ["power-loss:sometimes", /power-loss keeps drop, subset, torn, each/],
    ["power-loss:subset,max=3", /max= bounds power-loss:all/],
    ["power-loss:each,orders=3", /takes no orders=/],
    ["power-loss:all,max=21", /too many/],
    ["power-loss:state=a+b", /crash state "a\+b"/],
    ["power-loss:each,state=3", /takes nothing else/],
  ];
  for (const [spec, pattern] of cases) {
    assert.throws(() => parseFaultSpec(spec), (e: unknown) => {
      assert.ok(e instanceof FaultSpecError, `${spec}: ${e}`);
      assert.match(e.message, pattern, spec);
      return true;
    });
  }
});
