/**
 * Three real TCG guests (256 MiB each) joined by faultline's switch: each serves a file
 * with busybox `nc -ll -e cat` and fetches the others' with `nc`, in rounds, reporting
 * each fetch on its results disk; a disk of each node is served by the fault layer on
 * the same clock. Every pair exchanges frames; a live partition `a | b c` drops the
 * frames across it (recorded as dropped) while b and c still talk; `none` heals it.
 * Then the trace becomes a pcapng capture that tshark reads.
 */

import { TCG } from "../src/vm/accel.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { OpClock } from "../src/block/op_clock.ts";
import { NbdServer } from "../src/nbd/server.ts";
import { exportUri } from "../src/nbd/uri.ts";
import { NetSwitch } from "../src/net/switch.ts";
import { DiskService } from "../src/service/disk_service.ts";
import type { FrameRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { Vm } from "../src/vm/launcher.ts";
import { buildInitramfs, ensureBusybox, ensureKernel } from "../src/vm/mod.ts";
import { type ResultLine, RESULTS_SERIAL, ResultsChannel } from "../src/vm/results.ts";
import { faultline, makeImage, readTraceRecords, run } from "./support/mod.ts";

const MiB = 1024 * 1024;
const NODES = ["a", "b", "c"];
const TSHARK = "/usr/bin/tshark";
const hasTshark = await Deno.stat(TSHARK).then(() => true, () => false);

/**
 * The workload: serve a file, write a sector of the data disk, fetch the others' files in
 * rounds; each round also writes its number to the disk, so block ops and frames interleave
 * however the boots are timed.
 */
const WORKLOAD = `
echo "file of $FAULTLINE_NODE" >/tmp/file
dd if=/tmp/file of=/dev/disk/data bs=512 count=1 conv=sync,fsync status=none
nc -ll -p 7000 -e cat /tmp/file &
report node "$FAULTLINE_NODE" "$(hostname)" "$(grep -c 192.0.2. /etc/hosts)" $FAULTLINE_NODES
r=0
while [ "$r" -lt 1000 ]; do
  r=$((r + 1))
  echo "$r" | dd of=/dev/disk/data bs=512 seek=1 count=1 conv=sync,fsync status=none
  for peer in $FAULTLINE_NODES; do
    [ "$peer" = "$FAULTLINE_NODE" ] && continue
    got=$(timeout 3 nc -w 1 "$peer" 7000 </dev/null 2>/dev/null)
    if [ "$got" = "file of $peer" ]; then report fetch "$r" "$peer" ok; else report fetch "$r" "$peer" fail; fi
  done
done
`;

interface Fetch {
  node: string;
  round: number;
  peer: string;
  ok: boolean;
}

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

Deno.test("net: three guests fetch each other's files through the switch; a partition cuts a off, heal restores", async () => {
  const started = performance.now();
  await using dir = await makePrivateDir("faultline-net-vm-");
  const clock = new OpClock();
  const net = await NetSwitch.start({ nodes: NODES, clock });
  const lines: { node: string; line: ResultLine }[] = [];
  const results = await NbdServer.start({
    exports: NODES.map((node) => ({
      name: node,
      backend: new ResultsChannel((line) => lines.push({ node, line })),
    })),
    listen: { transport: "unix", path: join(dir.path, "results.sock") },
    clock: new OpClock(),
  });
  const trace = join(dir.path, "net.trace");
  const disks = await Promise.all(
    NODES.map(async (node) => ({
      name: "data",
      node,
      exportName: `${node}-data`,
      image: await makeImage(join(dir.path, `${node}.raw`), MiB),
    })),
  );
  const service = await DiskService.start({
    disks,
    listen: { transport: "unix", path: join(dir.path, "nbd.sock") },
    plan: { seed: 1, rules: [] },
    scratchDir: dir.path,
    clock,
    trace: { path: trace, keepData: true, command: "test", header: { network: net.traceHeader() } },
  });
  const frames: FrameRecord[] = [];
  net.addSink((record) => frames.push(record));
  net.addSink((record) => service.append(record));

  const vms: Vm[] = [];
  try {
    const images = await Promise.all(NODES.map((node) =>
      buildInitramfs({
        kernel,
        busybox,
        disks: [{ name: "data" }],
        phases: { run: WORKLOAD },
        network: net.guestNetwork(node),
      })
    ));
    for (const [i, node] of NODES.entries()) {
      vms.push(
        await Vm.start({
          kernel: kernel.vmlinuz,
          accel: TCG,
          initrd: images[i].path,
          phase: "run",
          memoryBytes: 256 * MiB,
          disks: [{ name: "data", uri: exportUri(service.address, `${node}-data`) }],
          results: { name: RESULTS_SERIAL, uri: exportUri(results.address, node) },
          qmpSocket: join(dir.path, `${node}.qmp`),
          rtcBase: "2026-01-01T00:00:00",
          network: net.qemuNetwork(node),
        }, { consoleLog: join(dir.path, `${node}.console`) }),
      );
    }
    await net.waitAllConnected(10_000);

    const fetches = (): Fetch[] =>
      lines.filter((l) => l.line.kind === "fetch").map(({ node, line }) => ({
        node,
        round: Number(line.args[0]),
        peer: line.args[1],
        ok: line.args[2] === "ok",
      }));
    const consoles = async () =>
      (await Promise.all(
        NODES.map((n) => Deno.readTextFile(join(dir.path, `${n}.console`)).catch(() => "")),
      )).join("\n---\n").slice(-3000);
    const until = async (test: () => boolean, what: string, timeoutMs: number) => {
      const deadline = performance.now() + timeoutMs;
      while (!test()) {
        if (performance.now() > deadline) {
          assert.fail(
            `timed out waiting for ${what}; lines: ${
              lines.map((l) => `${l.node}: ${l.line.text}`).join(" | ")
            }\n${await consoles()}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const lastRound = (node: string) =>
      Math.max(0, ...fetches().filter((f) => f.node === node).map((f) => f.round));
    /** The fetches of the first complete round of each node from round `from[node]` on. */
    const roundsFrom = (from: Record<string, number>) =>
      NODES.map((node) => {
        const mine = fetches().filter((f) => f.node === node && f.round >= from[node]);
        const round = mine[0]?.round;
        const done = mine.filter((f) => f.round === round);
        return done.length === NODES.length - 1 ? done : null;
      });

    // Every pair talks.
    await until(
      () =>
        NODES.every((node) =>
          NODES.every((peer) =>
            peer === node || fetches().some((f) => f.node === node && f.peer === peer && f.ok)
          )
        ),
      "every node to fetch every other node's file",
      45_000,
    );
    for (const node of NODES) {
      const hello = lines.find((l) => l.node === node && l.line.kind === "node")!.line.args;
      assert.deepEqual(
        hello,
        [node, node, "3", ...NODES],
        "FAULTLINE_NODE, hostname, /etc/hosts, FAULTLINE_NODES",
      );
    }

    // A partition: a | b c.
    const cut = clock.arrivals;
    net.setLinkFaultState({ state: "partition", sides: [["a"], ["b", "c"]] });
    const afterCut = Object.fromEntries(NODES.map((n) => [n, lastRound(n) + 2]));
    await until(
      () => roundsFrom(afterCut).every((r) => r !== null),
      "a round in the partition",
      30_000,
    );
    const inside = roundsFrom(afterCut).flat() as Fetch[];
    for (const f of inside) {
      const across = (f.node === "a") !== (f.peer === "a");
      assert.equal(f.ok, !across, `${f.node} fetching from ${f.peer} in the partition`);
    }

    // Heal.
    const healed = clock.arrivals;
    net.setLinkFaultState({ state: "none" });
    const afterHeal = Object.fromEntries(NODES.map((n) => [n, lastRound(n) + 2]));
    await until(
      () => roundsFrom(afterHeal).every((r) => r !== null),
      "a round after the heal",
      30_000,
    );
    const again = roundsFrom(afterHeal).flat() as Fetch[];
    assert.ok(again.every((f) => f.ok), JSON.stringify(again));
    const end = clock.arrivals;

    // The records: frames between every pair; across the partition dropped, b and c untouched.
    const tcp = frames.filter((f) => f.proto === 6);
    for (const from of NODES) {
      for (const to of NODES) {
        if (from === to) continue;
        assert.ok(
          tcp.some((f) => f.from === from && f.to.includes(to) && !f.dropped),
          `TCP frames delivered from ${from} to ${to}`,
        );
      }
    }
    const during = frames.filter((f) => f.index > cut && f.index < healed);
    const acrossDuring = during.filter((f) => f.to.some((to) => (f.from === "a") !== (to === "a")));
    assert.ok(acrossDuring.length > 0, "a kept trying during the partition");
    for (const f of acrossDuring) {
      const crossing = f.to.filter((to) => (f.from === "a") !== (to === "a"));
      assert.deepEqual(f.dropped, crossing, `frame ${f.index} across the partition`);
      assert.deepEqual(f.faults?.map((x) => x.kind), ["partition"]);
      assert.equal(f.faults?.[0].rule, "live");
    }
    assert.ok(
      during.some((f) => f.from === "b" && f.to.includes("c") && f.proto === 6 && !f.dropped),
      "b and c talk during the partition",
    );
    assert.ok(
      frames.some((f) =>
        f.index > healed && f.index < end && f.from === "b" && f.to.includes("a") &&
        f.tcpFlags === "syn,ack" && !f.dropped
      ),
      "after the heal b answers a's connections again",
    );
    const counters = net.counters();
    assert.ok(counters.byLink["a->b"].dropped > 0 && counters.byLink["b->c"].dropped === 0);

    // One clock: the block ops of the data disks and the frames share it.
    await service.flushTrace();
    const { ops } = await readTraceRecords(trace);
    const writes = ops.filter((o) => o.op === "write" && o.disk === "data");
    assert.equal(new Set(writes.map((o) => o.node)).size, 3, "each node wrote its data disk");
    const frameIndexes = new Set(frames.map((f) => f.index));
    assert.ok(ops.every((o) => !frameIndexes.has(o.index)), "ops and frames never share an index");
    assert.ok(
      ops.some((o) => o.index > frames[0].index),
      "ops arrived after the first frame: one clock, interleaved",
    );
    // eslint-disable-next-line no-console
    console.log(
      `  ${frames.length} frames, ${ops.length} ops, partition at ${cut}, heal at ${healed}; ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
  } finally {
    for (const vm of vms) await vm[Symbol.asyncDispose]();
    await service.close("test finished");
    await results.close();
    await net.close();
  }

  // The trace as a capture: tshark sees the TCP conversations and the interfaces by node.
  const stats = await faultline(["trace", "stats", trace, "--json"]);
  assert.equal(stats.code, 0, stats.text);
  const summary = JSON.parse(stats.stdout);
  assert.equal(summary.complete, true);
  assert.ok(summary.net.byLink["a->b"].dropped > 0);
  if (!hasTshark) {
    console.log(`  (tshark checks skipped: ${TSHARK} is absent; apt-get install tshark)`);
    return;
  }
  const pcap = join(dir.path, "net.pcapng");
  const wrote = await faultline(["trace", "pcap", trace, "-o", pcap]);
  assert.equal(wrote.code, 0, wrote.text);
  const conv = await run(TSHARK, ["-r", pcap, "-q", "-z", "conv,tcp"]);
  assert.equal(conv.code, 0, conv.text);
  for (const [x, y] of [["10", "11"], ["10", "12"], ["11", "12"]]) {
    assert.match(
      conv.stdout,
      new RegExp(`192\\.0\\.2\\.(${x}|${y}):\\d+\\s+<->\\s+192\\.0\\.2\\.(${x}|${y}):\\d+`),
      `a conversation between .${x} and .${y}:\n${conv.stdout}`,
    );
  }
  assert.match(conv.stdout, /:7000\s/);
  const names = await run(TSHARK, ["-r", pcap, "-T", "fields", "-e", "frame.interface_name"]);
  assert.deepEqual([...new Set(names.stdout.trim().split("\n"))].sort(), NODES);
  const dropped = await run(TSHARK, [
    "-r",
    pcap,
    "-Y",
    'frame.comment contains "partition"',
    "-T",
    "fields",
    "-e",
    "frame.interface_name",
  ]);
  const droppedOn = new Set(dropped.stdout.trim().split("\n").filter((l) => l !== ""));
  assert.ok(droppedOn.has("a"), `frames a sent across the partition: ${dropped.text}`);
});
