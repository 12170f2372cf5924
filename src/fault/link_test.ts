import assert from "node:assert/strict";
import { FaultSpecError } from "./errors.ts";
import { checkClusterFaults, nodesNamedBy } from "./link.ts";
import { decide, initialState } from "./plan.ts";
import { kindOf } from "./kinds/mod.ts";
import { parseLinkScope } from "./link_scope.ts";
import { formatFaultSpec, parseFaultSpec } from "./spec.ts";

Deno.test("link faults parse: partition, isolate, drop, delay, duplicate, reorder, bandwidth, heal", () => {
  assert.deepEqual(parseFaultSpec("partition:n1|n2,n3@+2s"), {
    spec: "partition:n1|n2,n3@+2000ms",
    effect: { kind: "partition", sides: [["n1"], ["n2", "n3"]] },
    trigger: { kind: "time", afterMs: 2000 },
  });
  assert.deepEqual(parseFaultSpec("isolate:db2@40").effect, { kind: "isolate", node: "db2" });
  assert.deepEqual(parseFaultSpec("drop").effect, {
    kind: "drop",
    probability: 1,
    link: { kind: "all" },
  });
  assert.deepEqual(parseFaultSpec("drop:30%,n1->n2").effect, {
    kind: "drop",
    probability: 0.3,
    link: { kind: "link", from: "n1", to: "n2", both: false },
  });
  assert.deepEqual(parseFaultSpec("drop:probability=0.25,link=n1").effect, {
    kind: "drop",
    probability: 0.25,
    link: { kind: "node", node: "n1" },
  });
  assert.deepEqual(parseFaultSpec("delay:100ms,jitter=20ms,link=n1<->n2").effect, {
    kind: "link-delay",
    durationMs: 100,
    jitterMs: 20,
    link: { kind: "link", from: "n1", to: "n2", both: true },
  });
  assert.deepEqual(parseFaultSpec("delay:50ms,*").effect, {
    kind: "link-delay",
    durationMs: 50,
    jitterMs: 0,
    link: { kind: "all" },
  });
  assert.deepEqual(parseFaultSpec("delay:5ms@net:tcp:2379").effect, {
    kind: "link-delay",
    durationMs: 5,
    jitterMs: 0,
    link: { kind: "all" },
  }, "a frame filter makes a delay a link delay");
  assert.deepEqual(parseFaultSpec("delay:200ms").effect, { kind: "delay", durationMs: 200 });
  assert.deepEqual(parseFaultSpec("duplicate:0.5").effect, {
    kind: "duplicate",
    probability: 0.5,
    link: { kind: "all" },
  });
  assert.deepEqual(parseFaultSpec("reorder:hold=20ms,link=a->b").effect, {
    kind: "reorder",
    probability: 1,
    holdMs: 20,
    link: { kind: "link", from: "a", to: "b", both: false },
  });
  assert.deepEqual(parseFaultSpec("bandwidth:1M/s,link=a<->b").effect, {
    kind: "bandwidth",
    bytesPerSecond: 1048576,
    link: { kind: "link", from: "a", to: "b", both: true },
  });
  assert.deepEqual(parseFaultSpec("heal@+10s").effect, { kind: "heal", link: { kind: "all" } });
  assert.deepEqual(parseFaultSpec("heal:n1<->n2").effect, {
    kind: "heal",
    link: { kind: "link", from: "n1", to: "n2", both: true },
  });
  assert.equal(kindOf(parseFaultSpec("heal").effect).family, "link");
  assert.equal(kindOf(parseFaultSpec("delay:1ms").effect).family, "block");
  assert.deepEqual(parseLinkScope("node-1->node-2"), {
    kind: "link",
    from: "node-1",
    to: "node-2",
    both: false,
  });
});

Deno.test("frame filters trigger link faults: link, protocol, port, flags, occurrence", () => {
  assert.deepEqual(parseFaultSpec("drop@net:n1->n2/tcp:2379#3").trigger, {
    kind: "frames",
    link: { kind: "link", from: "n1", to: "n2", both: false },
    protocol: "tcp",
    port: 2379,
    occurrence: 3,
  });
  assert.deepEqual(parseFaultSpec("drop@net").trigger, { kind: "frames" });
  assert.deepEqual(parseFaultSpec("drop@net#5").trigger, { kind: "frames", occurrence: 5 });
  assert.deepEqual(parseFaultSpec("partition:a|b@net:syn+ack/a<->b#1").trigger, {
    kind: "frames",
    link: { kind: "link", from: "a", to: "b", both: true },
    protocol: "tcp",
    flags: ["syn", "ack"],
    occurrence: 1,
  });
  assert.deepEqual(parseFaultSpec("drop@net:udp/db1").trigger, {
    kind: "frames",
    link: { kind: "node", node: "db1" },
    protocol: "udp",
  });
  // A block trigger on a disk named "net" keeps its meaning.
  assert.deepEqual(parseFaultSpec("eio@net/write#2").trigger, {
    kind: "match",
    disk: "net",
    type: "write",
    occurrence: 2,
  });
});

Deno.test("link faults: the canonical text reads back as the same rule", () => {
  for (
    const spec of [
      "partition:n1|n2,n3@+2s",
      "isolate:n1@17",
      "drop",
      "drop:0.3,n1->n2@net:n1->n2/tcp:2379#3",
      "delay:100ms,jitter=10ms,link=n1<->n2",
      "delay:100ms,link=*@+1s",
      "delay:3ms@net:udp",
      "duplicate:25%",
      "reorder:0.5,hold=30ms,link=a",
      "bandwidth:128K/s",
      "heal:a<->b@+5s",
      "drop@net:syn/a->b#1",
    ]
  ) {
    const rule = parseFaultSpec(spec);
    assert.deepEqual(parseFaultSpec(formatFaultSpec(rule)), rule, spec);
  }
  assert.equal(parseFaultSpec("delay:3ms@net:udp").spec, "delay:3ms,link=*@net:udp");
  assert.equal(parseFaultSpec("drop:30%,n1->n2").spec, "drop:0.3,link=n1->n2");
});

Deno.test("bad link fault specs name the problem", () => {
  const cases: [string, RegExp][] = [
    ["partition", /partition needs two sides separated by \|/],
    ["partition:n1,n2", /two sides/],
    ["partition:n1|n2|n3", /two sides/],
    ["partition:n1,n2|n2,n3", /the sides overlap: n2 is on both sides/],
    ["partition:n1,n1|n2", /node n1 is named twice on one side/],
    ["partition:n1|", /a node name is empty/],
    ["isolate", /isolate needs a node/],
    ["drop:1.5", /does not take "1.5"|probability "1.5" must be in \(0, 1\]/],
    ["drop:probability=0", /probability "0" must be in \(0, 1\]/],
    ["drop:link=n1->n1", /goes from a node to itself/],
    ["bandwidth", /bandwidth needs a rate/],
    ["delay:link=a->b", /delay needs a duration/],
    [
      "eio@net:a->b",
      /eio is a block fault; a frame filter .* triggers link faults .* and node faults .* only/,
    ],
    ["drop@net:icmp:3", /icmp has no ports/],
    ["drop@net:udp/syn", /TCP flags need tcp, not udp/],
    ["drop@net:tcp:99999", /port "99999" is not a number/],
    ["drop@net:a->b/b->a", /names two links/],
    ["drop@netty", /not an op type/],
    ["drop@net:", /expected net:FILTER/],
    ["drop@net:*", /every link is net, without \*/],
    ["heal:x=1", /heal does not take "x="/],
  ];
  for (const [spec, pattern] of cases) {
    assert.throws(() => parseFaultSpec(spec), (e: unknown) => {
      assert.ok(e instanceof FaultSpecError, `${spec}: ${e}`);
      assert.match(e.message, pattern, spec);
      return true;
    });
  }
});

Deno.test("checkClusterFaults names unknown nodes, overlapping sides and one-node scenarios", () => {
  const nodes = ["n1", "n2", "n3"];
  const ok = ["partition:n1|n2,n3@+1s", "drop:0.5,n2->n3@net:n1/tcp#2", "heal", "eio@17"];
  checkClusterFaults(ok.map(parseFaultSpec), nodes);
  assert.deepEqual(nodesNamedBy(parseFaultSpec("drop:0.5,n2->n3@net:n1/tcp#2")), [
    "n2",
    "n3",
    "n1",
  ]);
  assert.deepEqual(nodesNamedBy(parseFaultSpec("eio")), []);
  const cases: [string, readonly string[], RegExp][] = [
    ["partition:n1|n4", nodes, /fault "partition:n1\|n4": no node n4 \(nodes: n1, n2, n3\)$/],
    ["isolate:x@5", nodes, /no node x/],
    ["drop@net:n1->n9", nodes, /no node n9/],
    ["heal", ["solo"], /is a link fault, and the scenario has one node \(solo\)/],
  ];
  for (const [spec, names, pattern] of cases) {
    assert.throws(() => checkClusterFaults([parseFaultSpec(spec)], names), pattern);
  }
  // Rules built in code are checked too.
  assert.throws(
    () =>
      checkClusterFaults([{
        spec: "by hand",
        effect: { kind: "partition", sides: [["n1", "n2"], ["n2"]] },
        trigger: { kind: "always" },
      }], nodes),
    /the sides overlap: n2 is on both sides/,
  );
  checkClusterFaults([parseFaultSpec("eio")], ["solo"]);
});

Deno.test("the block fault layer ignores link faults", () => {
  const plan = {
    seed: 1,
    rules: ["partition:a|b", "drop", "delay:5ms,*", "eio@1"].map(parseFaultSpec),
  };
  let state = initialState(plan);
  const op = (index: number) => ({
    index,
    disk: "vda",
    type: "write" as const,
    offset: 0,
    length: 512,
    time: index,
  });
  const first = decide(plan, state, op(0));
  assert.deepEqual(first.decisions, []);
  state = first.state;
  const second = decide(plan, state, op(1));
  assert.deepEqual(second.decisions.map((d) => d.fault), ["eio"]);
});
