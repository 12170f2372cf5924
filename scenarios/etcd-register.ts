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

/**
 * The partition and its heal, at moments of the workload: process 1 marks its 5th and its
 * 15th op on e2's `mark` disk (scenarios/_etcd.ts). A count of e2's flushes would not do: how
 * many come before the clients start differs from boot to boot.
 */
export const PARTITION = {
  fault: "partition:e1|e2,e3",
  at: "e2/mark/write#1",
  with: ["heal@e2/mark/write#2"],
};

/** Ops of each client on e2: the run ends when both are done. */
const CLIENT_OPS = 25;

/**
 * The nodes: process 0 on e1 reads until the run ends, processes 1 and 2 on e2 read, write
 * and cas. e2's workload waits for its clients alone (a bare `wait` would wait for etcd too,
 * and the run would last until its deadline).
 */
export function registerNodes(options: { serializable: boolean }) {
  const client = registerClient(options);
  return {
    e1: member({
      workload: `${startEtcd}\n${waitHealthy}\n${client}\nclient 0 400 reads &\nwait`,
    }),
    e2: member({
      disks: { ...member().disks, mark: { size: "1M", filesystem: "none" as const } },
      workload:
        `${startEtcd}\n${waitHealthy}\n${leaderE1}\n${client}\nreport step clients\nclient 1 ${CLIENT_OPS} all "5 15" &\na=$!\nclient 2 ${CLIENT_OPS} all &\nb=$!\nwait $a $b`,
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
