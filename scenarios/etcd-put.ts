/**
 * A three-node etcd 3.4 cluster (Debian's etcd-server), each member's data
 * directory on its own faultline disk (ext4), so every write-ahead-log write,
 * fsync and snapshot goes through the fault layer. The client on e3 makes e1
 * the leader, then puts keys one by one and acknowledges a key only after
 * `etcdctl put` returned 0. The check starts every member again on the disks
 * the run left and reports every key a linearizable `etcdctl get` returns.
 * etcd fsyncs its log before it acknowledges: no acknowledged key may be lost.
 */
import { defineScenario } from "../mod.ts";

const KEYS = 16;
const members = ["e1", "e2", "e3"];
const cluster = members.map((m) => `${m}=http://${m}:2380`).join(",");

/** Starts this node's member on /data/etcd in the background (a new cluster the first time). */
const startEtcd = `
state=new
[ -d /data/etcd/member ] && state=existing
etcd --name "$FAULTLINE_NODE" --data-dir /data/etcd \\
  --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls "http://$FAULTLINE_NODE:2380" \\
  --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://$FAULTLINE_NODE:2379" \\
  --initial-cluster ${cluster} --initial-cluster-state "$state" \\
  --initial-cluster-token faultline --heartbeat-interval 200 --election-timeout 2000 \\
  --logger zap --log-level error >/tmp/etcd.log 2>&1 &
`;

/** etcdctl against every member, patient with a cluster that is still electing. */
const etcdctl = `etcdctl --endpoints ${
  members.map((m) => `http://${m}:2379`).join(",")
} --dial-timeout 2s --command-timeout 5s`;

/** Waits until the cluster answers a linearizable read (at most about a minute). */
const waitHealthy = `
i=0
until ${etcdctl} get --prefix never-a-key >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -gt 60 ] && { echo "etcd never became healthy"; cat /tmp/etcd.log; exit 3; }
  sleep 1
done
`;

const member = (extra = {}) => ({
  // etcd preallocates its write-ahead log in segments of 64 MiB.
  disks: { data: { size: "256M", filesystem: "ext4" as const, mount: "/data" } },
  programs: ["/usr/bin/etcd", "/usr/bin/etcdctl"],
  // A member serves until the run ends (the client's workload ends it).
  workload: `${startEtcd}\nwait`,
  restart: `${startEtcd}\nwait`,
  ...extra,
});

export default defineScenario({
  name: "etcd-put",
  description: "etcd 3.4, three members: every key acknowledged after a successful put survives",
  nodes: {
    e1: member(),
    e2: member(),
    e3: member({
      workload: `${startEtcd}
${waitHealthy}
leader=$(${etcdctl} endpoint status -w simple | awk -F', ' '$5 == "true" {print $2}')
e1=$(${etcdctl} endpoint status -w simple | awk -F', ' '$1 == "http://e1:2379" {print $2}')
[ "$leader" = "$e1" ] || ${etcdctl} move-leader "$e1" >/dev/null || exit 4
report step leader-e1
i=1
while [ "$i" -le ${KEYS} ]; do
  report step "put $i"
  tries=0
  until ${etcdctl} put "key-$i" "value-$i" >/dev/null; do
    tries=$((tries + 1)); [ "$tries" -ge 20 ] && break
    sleep 0.5
  done
  [ "$tries" -lt 20 ] && report ack "key-$i"
  i=$((i + 1))
done`,
      check: `${startEtcd}
${waitHealthy}
${etcdctl} get --prefix key- --print-value-only=false | while read -r key; do
  read -r value
  [ "$value" = "value-\${key#key-}" ] && report have "$key"
done`,
    }),
  },
  client: "e3",
  expect: { noLostAcks: true },
  timeouts: { boot: "60s", run: "180s", check: "120s" },
});
