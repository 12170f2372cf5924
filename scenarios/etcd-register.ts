/**
 * A three-member etcd 3.4 cluster (scenarios/_etcd.ts) as a set of registers k0, k1, k2,
 * and a client history checked for linearizability. e2 makes e1 the leader; then process 0
 * on e1 reads through e1, and processes 1 and 2 on e2 read, write and cas through e2 (every
 * op between `report invoke` and its completion, stamped by the host). A partition cuts
 * the leader e1 off from e2 and e3 for a while, and heals. Reads are linearizable (etcd's
 * default, which etcd documents as linearizable): e1's reads under the partition time out
 * (`info`), and the history must be linearizable. scenarios/etcd-register-serializable.ts is
 * the same with serializable reads, where the checker finds a stale read.
 */
import { defineScenario } from "../mod.ts";
import { leaderE1, member, registerClient, startEtcd, waitHealthy } from "./_etcd.ts";

/** The partition and its heal: at flushes of e2's disk once the clients write. */
export const PARTITION = {
  fault: "partition:e1|e2,e3",
  at: "e2/data/flush#60",
  with: ["heal@e2/data/flush#110"],
};

/** The nodes: process 0 on e1 reads, processes 1 and 2 on e2 read, write and cas. */
export function registerNodes(options: { serializable: boolean }) {
  const client = registerClient(options);
  return {
    e1: member({
      workload: `${startEtcd}\n${waitHealthy}\n${client}\nclient 0 400 reads &\nwait`,
    }),
    e2: member({
      workload:
        `${startEtcd}\n${waitHealthy}\n${leaderE1}\n${client}\nreport step clients\nclient 1 40 all &\nclient 2 40 all &\nwait`,
    }),
    e3: member(),
  };
}

export default defineScenario({
  name: "etcd-register",
  description:
    "etcd 3.4, three members, registers read (linearizable), written and cas'd by three clients: the history is linearizable, under a partition of the leader too",
  nodes: registerNodes({ serializable: false }),
  // The run ends when e2's clients are done; the members are powered off then.
  client: "e2",
  expect: { history: { model: "register", timeout: "60s" } },
  faults: [
    // The leader is cut off from the others while the clients run, then the partition heals.
    { ...PARTITION },
  ],
  timeouts: { boot: "60s", run: "300s", check: "60s" },
});
