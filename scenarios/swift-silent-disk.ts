/**
 * scenarios/swift-put.ts with one storage node's disk going silent mid-run: from s2's 45th
 * flush of the run on (during the fifth to seventh of the 16 PUTs: where it falls moves from
 * run to run), every op of its XFS disk waits and none is answered (`hang`, no duration), so
 * s2's object, container and account servers block in the kernel. The proxy must give up on
 * s2 after its `node_timeout` (30 s here, scenarios/_swift.ts) and answer 201 once s1 and s3
 * (a quorum of 2 of 3) stored the object: no acknowledged object may be lost. The client's
 * own timings (`latency put-N` lines) show what the silent disk costs a PUT.
 *
 * The trigger names the run phase (`run:`), so the hang ends where the check begins
 * (docs/fault-spec.md): the check restarts s2 on the disk the run left, as after a power
 * cycle of the hung disk, and GETs every object through the proxy. The run may last long:
 * each PUT after the hang waits for s2 once or twice, so its timeout is 30 minutes.
 * Measured (docs/findings.md), 2 of 2 runs: every PUT answered 201, the nine after the hang
 * in 30.8 to 64.1 s (the seven before in 0.6 to 4.0 s); 16 of 16 acknowledged objects found.
 */
import { defineScenario } from "../mod.ts";
import { swiftCluster } from "./_swift.ts";

const cluster = swiftCluster();

export default defineScenario({
  name: "swift-silent-disk",
  description:
    "Swift 2.30, three storage nodes on XFS, s2's disk silent (hang) from the middle of the PUTs to the end of the run: the proxy times out on s2 and no object acknowledged with 201 is lost",
  ...cluster,
  timeouts: { ...cluster.timeouts, run: "1800s" },
  expect: { noLostAcks: true },
  faults: [
    { fault: "hang", at: "run:s2/data/flush#45" },
  ],
});
