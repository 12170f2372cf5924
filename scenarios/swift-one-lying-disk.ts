/**
 * scenarios/swift-put.ts with one storage node's disk lying about flushes: s1's XFS disk
 * acknowledges flushes and makes nothing durable (`lie-flush@s1/data/any`), s2's and s3's
 * are honest. The proxy answers 201 once a quorum (2 of 3) of object servers stored an
 * object, and it writes every replica: after a power loss of the whole cluster, the two
 * honest replicas hold every acknowledged object, whatever s1 lost.
 */
import { defineScenario } from "../mod.ts";
import { swiftCluster } from "./_swift.ts";

export default defineScenario({
  name: "swift-one-lying-disk",
  description:
    "Swift 2.30, three storage nodes on XFS, s1's disk lying about flushes (lie-flush@s1/data/any): the honest replicas keep every object acknowledged with 201 through a power loss of the cluster",
  ...swiftCluster(),
  expect: { noLostAcks: true },
  faults: [
    // Power lost at every 150th flush of any disk, s1's disk lying throughout. Measured: at
    // the eighth object's, 7 of 7 acknowledged objects found (docs/findings.md).
    { fault: "power-loss", points: "flushes,every:150", with: ["lie-flush@s1/data/any"] },
  ],
});
