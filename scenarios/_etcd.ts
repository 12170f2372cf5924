/**
 * The pieces the etcd scenarios share: three members e1, e2, e3 of an etcd 3.4
 * cluster (Debian's etcd-server), each with its data directory on its own
 * faultline disk, so every write-ahead-log write, fsync and snapshot goes through
 * the fault layer. A file whose name starts with `_` is not a scenario: `faultline
 * ci` skips it. A recipe for another system: a `start` script that launches the
 * daemon on its disk in the background (and picks up its state when it is there), a
 * member's workload `start; wait`, its `restart` the same until the cluster answers, then
 * `report ready` (with `ready: true`: the check starts once the members answer, and a
 * member that never does is unavailable, not a loss), and a client node whose workload
 * drives the daemons and whose check reads back what was acknowledged.
 */

export const MEMBERS = ["e1", "e2", "e3"];

const cluster = MEMBERS.map((m) => `${m}=http://${m}:2380`).join(",");

/** Starts this node's member on /data/etcd in the background (a new cluster the first time). */
export const startEtcd = `
state=new
[ -d /data/etcd/member ] && state=existing
etcd --name "$FAULTLINE_NODE" --data-dir /data/etcd \\
  --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls "http://$FAULTLINE_NODE:2380" \\
  --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://$FAULTLINE_NODE:2379" \\
  --initial-cluster ${cluster} --initial-cluster-state "$state" \\
  --initial-cluster-token faultline --heartbeat-interval 200 --election-timeout 2000 \\
  --logger zap --log-level error >/tmp/etcd.log 2>&1 &
`;

/** etcdctl against every member. */
export const etcdctl = `etcdctl --endpoints ${
  MEMBERS.map((m) => `http://${m}:2379`).join(",")
} --dial-timeout 2s --command-timeout 5s`;

/** Waits until the cluster answers a linearizable read (at most about a minute). */
export const waitHealthy = `
i=0
until ${etcdctl} get --prefix never-a-key >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -gt 60 ] && { echo "etcd never became healthy"; cat /tmp/etcd.log; exit 3; }
  sleep 1
done
`;

/** Makes e1 the leader, so that the leader's faults can name its node. */
export const leaderE1 = `
leader=$(${etcdctl} endpoint status -w simple | awk -F', ' '$5 == "true" {print $2}')
e1=$(${etcdctl} endpoint status -w simple | awk -F', ' '$1 == "http://e1:2379" {print $2}')
[ "$leader" = "$e1" ] || ${etcdctl} move-leader "$e1" >/dev/null || exit 4
report step leader-e1
`;

/** Puts key-1 .. key-N one by one, each acknowledged once `etcdctl put` returned 0 (retried while the cluster elects). */
export function putKeys(count: number): string {
  return `
i=1
while [ "$i" -le ${count} ]; do
  report step "put $i"
  tries=0
  until ${etcdctl} put "key-$i" "value-$i" >/dev/null; do
    tries=$((tries + 1)); [ "$tries" -ge 20 ] && break
    sleep 0.5
  done
  [ "$tries" -lt 20 ] && report ack "key-$i"
  i=$((i + 1))
done`;
}

/**
 * The check: start the member, wait for the cluster, say it is ready (it answered a
 * linearizable read), report every key a linearizable get returns.
 */
export const checkKeys = `${startEtcd}
${waitHealthy}
report ready
${etcdctl} get --prefix key- | while read -r key; do
  read -r value
  [ "$value" = "value-\${key#key-}" ] && report have "$key"
done`;

/** A member: its disk, etcd brought in from the host, serving until the run ends. */
export function member(extra: Record<string, unknown> = {}, mountOptions?: string) {
  return {
    // etcd preallocates its write-ahead log in segments of 64 MiB.
    disks: {
      data: {
        size: "256M",
        filesystem: "ext4" as const,
        mount: "/data",
        ...(mountOptions ? { mountOptions } : {}),
      },
    },
    programs: ["/usr/bin/etcd", "/usr/bin/etcdctl"],
    workload: `${startEtcd}\nwait`,
    // Serving the check, a member says it is ready once the cluster answers (a quorum of two).
    restart: `${startEtcd}\n${waitHealthy}\nreport ready\nwait`,
    ready: true,
    ...extra,
  };
}
