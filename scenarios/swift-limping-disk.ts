/**
 * scenarios/swift-put.ts with one storage node's disk limping during the PUTs: from s2's
 * fifth flush on (the first PUTs), every op of its XFS disk takes a latency drawn from a
 * log-normal whose median is 50 ms and whose 99th percentile is 2 s
 * (`limp:p50=50ms,p99=2s`). The proxy keeps sending s2 its replica of every object and
 * answers once a quorum (2 of 3) stored it: no acknowledged object may be lost, and the
 * client's own timings (`latency put-N` lines) show what the limping disk costs a PUT.
 * Measured (docs/findings.md): 16 of 16 acknowledged objects found; the client's PUTs took
 * 1961 ms at the median, 5070 ms at most (load average 9 to 13 on 2 cores), against 1602 ms
 * and 7455 ms without the limp (load 15 to 20): TCG under load, not the disk, sets a PUT's
 * time here.
 */
import { defineScenario } from "../mod.ts";
import { swiftCluster } from "./_swift.ts";

export default defineScenario({
  name: "swift-limping-disk",
  description:
    "Swift 2.30, three storage nodes on XFS, s2's disk limping (p50 50 ms, p99 2 s) during the PUTs: no object acknowledged with 201 is lost",
  ...swiftCluster(),
  expect: { noLostAcks: true },
  faults: [
    { fault: "limp:p50=50ms,p99=2s", at: "s2/data/flush#5" },
  ],
});
