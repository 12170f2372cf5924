/**
 * The switch against peers that speak QEMU's stream framing on its unix sockets (the
 * real QEMU guests are in tests/net_switch_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OpClock } from "../block/op_clock.ts";
import { FaultSpecError } from "../fault/errors.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import type { FrameRecord } from "../trace/schema.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { NetError, NodeNotConnectedError } from "./errors.ts";
import { parseMac } from "./frame.ts";
import { encodeStreamFrame, FrameSplitter } from "./stream_framing.ts";
import { type NetEvent, NetSwitch } from "./switch.ts";

const BROADCAST = "ff:ff:ff:ff:ff:ff";

/** An Ethernet frame from `src` to `dst` (EtherType 0x88b5, local experimental) carrying `tag`. */
function frame(dst: string, src: string, tag: number, size = 60): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(parseMac(dst), 0);
  bytes.set(parseMac(src), 6);
  bytes[12] = 0x88;
  bytes[13] = 0xb5;
  bytes[14] = tag;
  return bytes;
}

/** A stand-in for a node's QEMU: connects to its port, sends and receives frames. */
class Peer {
  readonly received: Uint8Array[] = [];
  private readonly splitter = new FrameSplitter();
  private readonly reading: Promise<void>;

  private constructor(readonly conn: Deno.UnixConn) {
    this.reading = (async () => {
      const buffer = new Uint8Array(65536);
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) return;
          for (const f of this.splitter.push(buffer.subarray(0, n))) this.received.push(f.slice());
        }
      } catch { /* closed */ }
    })();
  }

  static async connect(path: string): Promise<Peer> {
    return new Peer(await Deno.connect({ transport: "unix", path }));
  }

  async send(...frames: Uint8Array[]): Promise<void> {
    for (const f of frames) await this.conn.write(encodeStreamFrame(f));
  }

  tags(): number[] {
    return this.received.map((f) => f[14]);
  }

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch { /* closed already */ }
    await this.reading;
  }
}

async function until(test: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Cluster {
  net: NetSwitch;
  peers: Record<string, Peer>;
  records: FrameRecord[];
  events: NetEvent[];
  mac: (node: string) => string;
  close(): Promise<void>;
}

async function cluster(
  nodes: string[],
  options: { plan?: string[]; clock?: OpClock } = {},
): Promise<Cluster> {
  const records: FrameRecord[] = [];
  const events: NetEvent[] = [];
  const net = await NetSwitch.start({
    nodes,
    clock: options.clock,
    plan: { seed: 3, rules: (options.plan ?? []).map(parseFaultSpec) },
    sinks: [(r) => records.push(r)],
    onEvent: (e) => events.push(e),
  });
  const peers: Record<string, Peer> = {};
  for (const node of nodes) peers[node] = await Peer.connect(net.socketPath(node));
  await net.waitAllConnected(2000);
  return {
    net,
    peers,
    records,
    events,
    mac: (node) => net.address(node).mac,
    close: async () => {
      for (const peer of Object.values(peers)) await peer.close();
      await net.close();
    },
  };
}

Deno.test("switch: unicast by MAC, broadcast to every other node, unknown unicast dropped and counted", async () => {
  const clock = new OpClock();
  const c = await cluster(["a", "b", "c"], { clock });
  try {
    clock.next(); // a block op takes index 0: frames share the clock
    await c.peers.a.send(frame(c.mac("b"), c.mac("a"), 1));
    await until(() => c.peers.b.received.length === 1, "a->b");
    await c.peers.b.send(frame(BROADCAST, c.mac("b"), 2));
    await until(() => c.peers.a.received.length === 1 && c.peers.c.received.length === 1, "bcast");
    await c.peers.c.send(frame("02:00:00:00:00:99", c.mac("c"), 3));
    await until(() => c.records.length === 3, "three records");
    assert.deepEqual(c.peers.a.tags(), [2]);
    assert.deepEqual(c.peers.b.tags(), [1]);
    assert.deepEqual(c.peers.c.tags(), [2]);
    assert.deepEqual(
      c.records.map((r) => [r.index, r.from, r.to, r.broadcast ?? false, r.unknown ?? false]),
      [[1, "a", ["b"], false, false], [2, "b", ["a", "c"], true, false], [3, "c", [], false, true]],
    );
    assert.equal(c.records[0].ethertype, 0x88b5);
    assert.deepEqual(c.records[0].data, frame(c.mac("b"), c.mac("a"), 1));
    assert.equal(clock.arrivals, 4);
    const counters = c.net.counters();
    assert.equal(counters.frames, 3);
    assert.equal(counters.unknown, 1);
    assert.deepEqual(Object.keys(counters.byLink), ["a->b", "b->a", "b->c"]);
    assert.equal(counters.byLink["b->c"].bytes, 60);
  } finally {
    await c.close();
  }
});

Deno.test("switch: a partition from the plan drops across it and is recorded; live heal restores", async () => {
  const c = await cluster(["a", "b", "c"], { plan: ["partition:a|b,c@2", "eio@0"] });
  try {
    await c.peers.a.send(frame(c.mac("b"), c.mac("a"), 1), frame(c.mac("b"), c.mac("a"), 2));
    await until(() => c.records.length === 2 && c.peers.b.received.length === 2, "two frames");
    await c.peers.a.send(frame(c.mac("b"), c.mac("a"), 3), frame(BROADCAST, c.mac("a"), 4));
    await c.peers.b.send(frame(c.mac("c"), c.mac("b"), 5));
    await until(() => c.records.length === 5 && c.peers.c.received.length === 1, "five");
    assert.deepEqual(c.peers.b.tags(), [1, 2], "frames from index 2 on are cut");
    assert.deepEqual(c.peers.c.tags(), [5], "b and c still talk");
    assert.deepEqual(c.records[2].dropped, ["b"]);
    assert.deepEqual(c.records[3].dropped, ["b", "c"]);
    assert.deepEqual(c.records[3].faults, [{
      kind: "partition",
      rule: "partition:a|b,c@2",
      to: ["b", "c"],
    }]);
    assert.ok(
      c.events.some((e) => e.type === "link-fault" && e.action === "in-force" && e.index === 2),
    );
    assert.equal(c.net.counters().byLink["a->b"].dropped, 2);

    c.net.setLinkFaultState({ state: "none" });
    await c.peers.a.send(frame(c.mac("b"), c.mac("a"), 6));
    await until(() => c.peers.b.received.length === 3, "healed");
    assert.equal(c.records[5].faults, undefined);
    const query = c.net.queryLinkFaultState() as { rules: { state: string }[]; nodes: unknown[] };
    assert.deepEqual(query.rules.map((r) => r.state), ["done"]);
    assert.equal(query.nodes.length, 3);

    // Live faults: a one-way drop with a count, then a delay.
    c.net.setLinkFaultState({ state: "drop", link: "b->a", count: 1 });
    await c.peers.b.send(frame(c.mac("a"), c.mac("b"), 7), frame(c.mac("a"), c.mac("b"), 8));
    await until(() => c.peers.a.received.length === 1, "one of two");
    assert.deepEqual(c.peers.a.tags(), [8]);
    c.net.setLinkFaultState({ state: "delay", link: "a->c", "duration-ms": 150 });
    const sent = performance.now();
    await c.peers.a.send(frame(c.mac("c"), c.mac("a"), 9));
    await until(() => c.peers.c.received.length === 2, "delayed");
    assert.ok(performance.now() - sent >= 140, "delayed by the live fault");
    assert.deepEqual(c.records.at(-1)!.faults, [{
      kind: "delay",
      rule: "live",
      to: ["c"],
      detail: { delayMs: 150 },
    }]);
    assert.throws(
      () => c.net.setLinkFaultState({ state: "isolate", node: "z" }),
      (e: unknown) => e instanceof FaultSpecError && /no node z/.test(e.message),
    );
    assert.ok(c.events.some((e) => e.type === "control" && e.error !== undefined));
  } finally {
    await c.close();
  }
});

Deno.test("switch: a node that never connects is named; a node reconnects after a crash", async () => {
  const net = await NetSwitch.start({ nodes: ["n1", "n2", "n3"] });
  try {
    const n1 = await Peer.connect(net.socketPath("n1"));
    await net.waitConnected("n1", 1000);
    await assert.rejects(
      () => net.waitConnected("n2", 100),
      (e: unknown) =>
        e instanceof NodeNotConnectedError && e.node === "n2" &&
        /node n2 never connected to the switch within 100 ms/.test(e.message),
    );
    assert.throws(
      () => net.checkConnected(),
      (e: unknown) =>
        e instanceof NodeNotConnectedError && e.node === "n2" && /nor did n3/.test(e.message),
    );
    // n1 crashes (its QEMU goes away) and boots again on the same path.
    await n1.close();
    await until(() => !net.connected("n1"), "n1 gone");
    const again = await Peer.connect(net.socketPath("n1"));
    await net.waitConnected("n1", 1000);
    assert.equal(net.counters().ports[0].connections, 2);
    await again.close();
  } finally {
    await net.close();
  }
});

Deno.test("switch: a bad frame length closes only that connection", async () => {
  const events: NetEvent[] = [];
  const net = await NetSwitch.start({ nodes: ["a", "b"], onEvent: (e) => events.push(e) });
  const a = await Peer.connect(net.socketPath("a"));
  const b = await Peer.connect(net.socketPath("b"));
  try {
    await net.waitAllConnected(1000);
    await a.conn.write(new Uint8Array([0, 0, 0, 0]));
    await until(() => !net.connected("a"), "a dropped");
    assert.ok(events.some((e) => e.type === "framing-error" && e.node === "a"));
    assert.ok(net.connected("b"));
    assert.equal(net.counters().framingErrors, 1);
  } finally {
    await a.close();
    await b.close();
    await net.close();
  }
});

Deno.test("switch: it refuses a stale socket path, a shared directory and plans that do not fit", async () => {
  await using dir = await makePrivateDir("faultline-net-test-");
  await Deno.writeFile(join(dir.path, "b.sock"), new Uint8Array());
  await assert.rejects(
    () => NetSwitch.start({ nodes: ["a", "b"], dir: dir.path }),
    (e: unknown) =>
      e instanceof NetError && /b\.sock exists already \(a stale socket\?\)/.test(e.message),
  );
  assert.equal(await Deno.lstat(join(dir.path, "a.sock")).then(() => true, () => false), false);
  await Deno.chmod(dir.path, 0o755);
  await assert.rejects(
    () => NetSwitch.start({ nodes: ["a"], dir: dir.path }),
    /is open to other users \(mode 755\); it must be 0700/,
  );
  await Deno.chmod(dir.path, 0o700);
  await assert.rejects(
    () => NetSwitch.start({ nodes: ["a"], plan: { seed: 1, rules: [parseFaultSpec("drop")] } }),
    /link faults need two nodes or more/,
  );
  // Listening on a directory the caller gave, and leaving it behind on close.
  await Deno.remove(join(dir.path, "b.sock"));
  const net = await NetSwitch.start({ nodes: ["a", "b"], dir: dir.path });
  assert.equal(net.socketPath("a"), join(dir.path, "a.sock"));
  assert.deepEqual(net.qemuNetwork("b"), {
    socket: join(dir.path, "b.sock"),
    mac: net.address("b").mac,
  });
  assert.equal(net.guestNetwork("a").hosts.length, 2);
  await net.close();
  assert.equal(await Deno.lstat(join(dir.path, "a.sock")).then(() => true, () => false), false);
});
