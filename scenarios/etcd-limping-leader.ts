/**
 * How long does an etcd 3.4 cluster stall when its leader's disk limps? The same
 * three members as etcd-put.ts; the client on e3 times each put (from
 * /proc/uptime, in centiseconds) and reports it. A limping leader disk (a heavy
 * latency tail: half of its ops 20 ms slower, one in a hundred 800 ms) must not
 * lose an acknowledged key, nor stall a put for 10 s: etcd's fsync of its log on
 * the leader sits on every commit's path.
 */
import { defineScenario } from "../mod.ts";
import { etcdctl, putCluster } from "./_etcd.ts";

const PUTS = 12;

/** Puts keys and reports each put's time; exits 1 when one took 10 s or more. */
const timedPuts = `
now() { read -r up _ </proc/uptime; echo "\${up%.*}\${up#*.}"; }
slowest=0
i=1
while [ "$i" -le ${PUTS} ]; do
  report step "put $i"
  start=$(now)
  ${etcdctl} put "key-$i" "value-$i" >/dev/null && report ack "key-$i"
  took=$(( ($(now) - start) * 10 ))
  report put-ms "$took"
  [ "$took" -gt "$slowest" ] && slowest=$took
  i=$((i + 1))
done
report slowest-put-ms "$slowest"
[ "$slowest" -lt 10000 ]`;

export default defineScenario({
  name: "etcd-limping-leader",
  description: "etcd 3.4 with a limping leader disk: how long each put takes, no key lost",
  ...putCluster(timedPuts),
  expect: { noLostAcks: true },
  faults: [
    // The leader's disk limps from the client's first put on; every put still under 10 s.
    {
      fault: "limp:p50=20ms,p99=800ms",
      at: "e1/data/flush#37",
      expect: { workload: { exit: 0 } },
    },
  ],
  timeouts: { boot: "60s", run: "240s", check: "120s" },
});
