/**
 * scenarios/etcd-register.ts with serializable reads (`etcdctl get --consistency=s`), which
 * etcd documents may be stale: a member answers from its own state without asking the
 * leader. Cut off from e2 and e3, the old leader e1 goes on answering process 0's reads with
 * values e2's clients have since overwritten, and the history checker finds the stale read
 * (`outcome: "detect"`). Without the partition the reads on e1 come from the leader, and
 * process 0 is the only one that reads there.
 */
import { defineScenario } from "../mod.ts";
import { PARTITION, registerNodes } from "./etcd-register.ts";

export default defineScenario({
  name: "etcd-register-serializable",
  description:
    "etcd 3.4 with serializable reads: a leader cut off by a partition serves stale reads, and the history checker finds one",
  nodes: registerNodes({ serializable: true }),
  client: "e2",
  expect: { history: { model: "register", timeout: "60s" } },
  faults: [
    // The same partition: a stale read of process 0 on e1, with its counterexample.
    { ...PARTITION, outcome: "detect", minRate: 0.5 },
  ],
  timeouts: { boot: "60s", run: "300s", check: "60s" },
});
