/**
 * The same etcd 3.4 cluster as etcd-put.ts, on disks that acknowledge every flush
 * (and FUA write) at once and make nothing durable: a cache flush claimed and never
 * done, the story of a file system mounted without barriers, at the disk itself.
 * etcd fsyncs its write-ahead log before every acknowledgement, on every member;
 * each fsync "succeeds". A power loss of the whole cluster then loses what every
 * replica acknowledged: faultline must find it (`detect`).
 */
import { defineScenario } from "../mod.ts";
import { putCluster, putKeys } from "./_etcd.ts";

export default defineScenario({
  name: "etcd-lying-disks",
  description:
    "etcd 3.4 on disks that lie about flushes: a cluster power loss loses acknowledged keys",
  ...putCluster(putKeys(8)),
  expect: { noLostAcks: true },
  faults: [
    // Every disk lies from its first op; the whole cluster loses power at flushes late in the run.
    {
      fault: "power-loss",
      points: "flushes,every:60",
      with: ["lie-flush"],
      outcome: "detect",
    },
  ],
  timeouts: { boot: "60s", run: "180s", check: "120s" },
});
