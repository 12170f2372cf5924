/**
 * A three-member etcd 3.4 cluster (scenarios/_etcd.ts). The client on e3 makes e1
 * the leader, then puts keys one by one and acknowledges a key only after
 * `etcdctl put` returned 0. The check starts every member again on the disks the
 * run left, all at once (`recovery: "with-checks"`: e3, the checker, is a member too,
 * and recovers with the others), and reports every key a linearizable `etcdctl get`
 * returns. etcd
 * fsyncs its log before it acknowledges: no acknowledged key may be lost, under a
 * crash of the leader, a power loss of the whole cluster, a partition, a limping
 * disk or an I/O error.
 */
import { defineScenario } from "../mod.ts";
import { putCluster, putKeys } from "./_etcd.ts";

export default defineScenario({
  name: "etcd-put",
  description: "etcd 3.4, three members: every key acknowledged after a successful put survives",
  ...putCluster(putKeys(16)),
  expect: { noLostAcks: true },
  // Every member, e3's check with them, starts at once, as power coming back would start them.
  recovery: "with-checks",
  // What must hold under each: no acknowledged key lost, and every member starts again (the check).
  // The points are few: each replays the three-node cluster (about a minute under TCG).
  faults: [
    // The leader's node loses power at flushes of its disk (at bootstrap, and during the puts), and comes back.
    { fault: "restart:e1,after=1s", points: "flushes:e1/data,every:30" },
    // The whole cluster loses power at flushes of any member.
    { fault: "power-loss", points: "flushes,every:90" },
    // The leader is cut off from the others during the puts, until the run ends (`run:`: left
    // in force, it would keep e1 and e2 from ever forming a quorum in the check).
    { fault: "partition:e1|e2,e3", at: "run:e1/data/flush#50" },
    // The leader's disk limps: 200 ms more for every op, from the middle of the puts on.
    { fault: "limp:200ms", at: "e1/data/flush#50" },
    // An I/O error on one of the leader's write-ahead-log writes.
    { fault: "eio", at: "e1/data/write#60" },
  ],
  timeouts: { boot: "60s", run: "180s", check: "120s" },
});
