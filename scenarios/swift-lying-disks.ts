/**
 * scenarios/swift-put.ts on disks that lie about flushes: every storage node's XFS disk
 * acknowledges a flush (and FUA) at once and makes nothing durable (`with: ["lie-flush"]`).
 * This is what XFS's `nobarrier` mount option did, the configuration the proposal names:
 * XFS removed `nobarrier` in Linux 4.19 and Debian 12's kernel refuses it, so the disk
 * lies instead of the file system. Swift's object servers fsync every object and its
 * directory before they answer, and the proxy answers 201 on a quorum of them; a power loss
 * of the whole cluster then loses what every replica acknowledged.
 */
import { defineScenario } from "../mod.ts";
import { swiftCluster } from "./_swift.ts";

export default defineScenario({
  name: "swift-lying-disks",
  description:
    "Swift 2.30, three storage nodes on XFS whose disks lie about flushes (lie-flush: what nobarrier did before Linux 4.19 removed it): a power loss of the cluster loses objects acknowledged with 201",
  ...swiftCluster(),
  expect: { noLostAcks: true },
  faults: [
    // Power lost at every 150th flush of any disk (the container's PUT, the eighth object's),
    // every disk lying about flushes. Measured: at the eighth object's, 7 acknowledged
    // objects lost (acked 7, found 0), stable 3/3 (docs/findings.md).
    {
      fault: "power-loss",
      points: "flushes,every:150",
      with: ["lie-flush"],
      outcome: "detect",
    },
  ],
});
