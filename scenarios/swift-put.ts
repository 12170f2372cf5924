/**
 * An OpenStack Swift 2.30 cluster from Debian 12's packages (scenarios/_swift.ts): three
 * storage nodes, each with its object, container and account servers on an XFS disk of its
 * own, rings with 3 replicas built in the setup phase, and on s1 the proxy (no auth) and the
 * client. The client PUTs 16 small objects through the proxy and acknowledges one only on
 * 201 (a quorum of object servers fsynced it), timing each request itself; the check starts
 * the cluster again on the disks the run left, GETs every object and HEADs the container.
 * Swift fsyncs an object and its directory before its object server answers: no
 * acknowledged object may be lost when the whole cluster loses power.
 */
import { defineScenario } from "../mod.ts";
import { swiftCluster } from "./_swift.ts";

export default defineScenario({
  name: "swift-put",
  description:
    "Swift 2.30, three storage nodes on XFS, proxy on s1: every object acknowledged with 201 survives a power loss of the whole cluster",
  ...swiftCluster(),
  expect: { noLostAcks: true },
  faults: [
    // The whole cluster loses power at flushes of any storage node's disk.
    { fault: "power-loss", points: "flushes,every:200" },
  ],
});
