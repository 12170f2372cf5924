/**
 * The fsync log of fsync-log.ts on ext4 mounted with `barrier=0`, as a
 * deployment guide once suggested without caution. fsync then returns before
 * the disk's volatile cache is flushed, so a power loss loses records the
 * application acknowledged: the power-loss sweep must find that.
 */
import { defineScenario } from "../mod.ts";
import fsyncLog from "./fsync-log.ts";

const app = fsyncLog.nodes.app;

export default defineScenario({
  ...fsyncLog,
  name: "fsync-log-nobarrier",
  description: "fsync on ext4 with barrier=0: acknowledged records are lost on power loss",
  nodes: { app: { ...app, disks: { data: { ...app.disks.data, mountOptions: "barrier=0" } } } },
  // Kept as proof that faultline finds the bug: the sweep must detect lost acknowledgements.
  faults: [{ fault: "power-loss", points: "all", outcome: "detect" }],
});
