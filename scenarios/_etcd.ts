/**
 * The pieces the etcd scenarios share: three members e1, e2, e3 of an etcd 3.4
 * cluster (Debian's etcd-server), each with its data directory on its own
 * faultline disk, so every write-ahead-log write, fsync and snapshot goes through
 * the fault layer. A file whose name starts with `_` is not a scenario: `faultline
 * ci` skips it. A recipe for another system: a `start` script that launches the
 * daemon on its disk in the background (and picks up its state when it is there), a
 * member's workload `start; wait`, its `restart` the same until its member is healthy, then
 * `report ready` (with `ready: true`: the check starts once the members are, and a
 * member never healthy is unavailable, not a loss), and a client node whose workload
 * drives the daemons and whose check reads back what was acknowledged.
 */

export const MEMBERS = ["e1", "e2", "e3"];

const cluster = MEMBERS.map((m) => `${m}=http://${m}:2380`).join(",");

/**
 * Starts this node's member on /data/etcd in the background. Every start says
 * `--initial-cluster-state new`, as a statically configured cluster's members do: etcd
 * ignores it once the member has a write-ahead log, and without one bootstraps (or, if its
 * peers know the member as started, refuses: "has already been bootstrapped"). Choosing
 * `existing` when /data/etcd/member was there was wrong: a member cut between creating its
 * database and its log then asked to join as a new member and exited ("incompatible with
 * current running cluster"), and its cluster never answered again.
 */
export const startEtcd = `
etcd --name "$FAULTLINE_NODE" --data-dir /data/etcd \\
  --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls "http://$FAULTLINE_NODE:2380" \\
  --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://$FAULTLINE_NODE:2379" \\
  --initial-cluster ${cluster} --initial-cluster-state new \\
  --initial-cluster-token faultline --heartbeat-interval 200 --election-timeout 2000 \\
  --logger zap --log-level error >/tmp/etcd.log 2>&1 &
etcd_pid=$!
`;

/**
 * etcdctl against every member, each call bounded by busybox `timeout`: etcdctl's own
 * timeouts do not bound every wait (a dial can hang past `--dial-timeout`, etcd-io/etcd#18335),
 * and a call that never returns would hold its phase to the deadline.
 */
export const etcdctl = `timeout 15 etcdctl --endpoints ${
  MEMBERS.map((m) => `http://${m}:2379`).join(",")
} --dial-timeout 2s --command-timeout 5s`;

/** Succeeds once the cluster answers a linearizable read. */
const answers = `${etcdctl} get --prefix never-a-key >/dev/null 2>&1`;

/**
 * Waits until the cluster answers a linearizable read: 60 tries, each up to etcdctl's 5 s
 * command timeout (a minute to six), then exits 3.
 */
export const waitHealthy = `
i=0
until ${answers}; do
  i=$((i + 1)); [ "$i" -gt 60 ] && { echo "etcd never became healthy"; cat /tmp/etcd.log; exit 3; }
  sleep 1
done
`;

/**
 * Succeeds once this node's member has a leader and answers a quorum read (etcd's /health,
 * asked with busybox nc: 0.05 s a request in a guest under TCG, where an `etcdctl` call
 * takes 0.15 to 0.35 s).
 */
const memberHealthy =
  `printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | timeout 3 nc 127.0.0.1 2379 2>/dev/null | grep -q '"health":"true"'`;

/**
 * A member restarting waits for its etcd to be healthy without giving up: giving up
 * would end its script, power its guest off and take its vote from the others. The check
 * phase bounds the wait (a member not ready by then makes the point unavailable,
 * docs/scenarios.md). Only when its etcd has exited (a member that lost its log and is
 * refused: "has already been bootstrapped") it exits 3 at once, saying why in etcd's words.
 */
const untilHealthy = `
until ${memberHealthy}; do
  if ! kill -0 "$etcd_pid" 2>/dev/null; then
    why=$(grep '"level":"fatal"' /tmp/etcd.log | tail -n 1 | sed 's/.*"msg":"\\([^"]*\\)".*"error":"\\([^"]*\\)".*/\\1: \\2/')
    echo "etcd exited: \${why:-$(tail -n 1 /tmp/etcd.log | cut -c 1-200)}"
    exit 3
  fi
  sleep 0.2
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
 * The check: start the member, wait until it is healthy, say it is ready, report every key a
 * linearizable get returns. A get that fails or hangs (an election under way) is asked again;
 * after 5 tries the check exits 5, since a read that never came back says nothing of which
 * keys were kept (reporting none would count every one as lost).
 */
export const checkKeys = `${startEtcd}
${untilHealthy}
report ready
tries=0
until keys=$(${etcdctl} get --prefix key-); do
  tries=$((tries + 1)); [ "$tries" -ge 5 ] && { echo "etcdctl get failed $tries times"; exit 5; }
  sleep 1
done
# No key at all (a cut before the first put): nothing to report, and nothing for the loop to read.
[ -n "$keys" ] || exit 0
printf '%s\\n' "$keys" | while read -r key; do
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
    // Serving the check, a member says it is ready once it is healthy (a leader, a quorum read).
    restart: `${startEtcd}\n${untilHealthy}\nreport ready\nwait`,
    ready: true,
    ...extra,
  };
}

/** Client processes in all: a process that times out hands its slot to process + CLIENT_SLOTS. */
const CLIENT_SLOTS = 3;

/**
 * One client of a register history (docs/history.md): process SLOT against this node's own
 * member, OPS ops on the keys k0, k1, k2, each between `report invoke` and `report ok`,
 * `fail` (a cas whose compare failed) or `info` (etcdctl failed or timed out: the op may or
 * may not have happened, and the process never invokes again: the next one takes over as
 * process + 3, as Jepsen's do). Reads go through `etcdctl get` (`--consistency=s` when
 * `serializable`), writes through `etcdctl put` of values unique to the process, a cas through
 * `etcdctl txn` comparing the value it last read of that key. The ops are drawn from a seed of
 * the slot: every run asks the same. `reads` only: a client that only reads. MARKS, a list
 * of op numbers such as "5 20": after each of those ops the client writes one sector of the
 * node's blank `mark` disk, so that a fault can be placed at a moment of the workload
 * (`@e2/mark/write#1`) whatever the boot's timing.
 */
export function registerClient(options: { serializable: boolean }): string {
  const consistency = options.serializable ? " --consistency=s" : "";
  const ctl =
    `timeout 10 etcdctl --endpoints http://127.0.0.1:2379 --dial-timeout 2s --command-timeout 3s`;
  return `
client() {
  slot=$1; p=$1; ops=$2; mode=$3; marks=" \${4:-} "
  seed=$((slot * 7919 + 17)); i=0
  while [ "$i" -lt "$ops" ]; do
    i=$((i + 1))
    seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
    k="k$(( (seed / 65536) % 3 ))"
    f=$(( (seed / 8) % 4 ))
    [ "$mode" = reads ] && f=0
    v=$((slot * 1000 + i))
    eval "from=\\\${last_$k:-}"
    [ "$f" = 3 ] && [ -z "$from" ] && f=2
    case $f in
    0 | 1)
      report invoke "$p" read "$k" nil
      if out=$(${ctl} get "$k" --print-value-only${consistency} 2>/dev/null); then
        report ok "$p" read "$k" "\${out:-nil}"
        [ -n "$out" ] && eval "last_$k=$out"
      else
        report info "$p" read "$k" nil; p=$((p + ${CLIENT_SLOTS}))
      fi ;;
    2)
      report invoke "$p" write "$k" "$v"
      if ${ctl} put "$k" "$v" >/dev/null 2>&1; then report ok "$p" write "$k" "$v"
      else report info "$p" write "$k" "$v"; p=$((p + ${CLIENT_SLOTS})); fi ;;
    3)
      report invoke "$p" cas "$k" "[$from $v]"
      out=$(printf 'value("%s") = "%s"\\n\\nput %s %s\\n\\n\\n' "$k" "$from" "$k" "$v" | ${ctl} txn 2>/dev/null)
      case $out in
      SUCCESS*) report ok "$p" cas "$k" "[$from $v]"; eval "last_$k=$v" ;;
      FAILURE*) report fail "$p" cas "$k" "[$from $v]" ;;
      *) report info "$p" cas "$k" "[$from $v]"; p=$((p + ${CLIENT_SLOTS})) ;;
      esac ;;
    esac
    case $marks in
    *" $i "*) dd if=/dev/zero of=/dev/disk/mark bs=512 count=1 seek="$i" oflag=direct conv=notrunc status=none ;;
    esac
  done
}`;
}

/**
 * The cluster of the put scenarios: e1 and e2 serve; e3 serves too and is the client, which
 * makes e1 the leader and runs PUTS, and whose check reads every acknowledged key back. The
 * run ends when the client is done (the members are powered off then).
 */
export function putCluster(puts: string) {
  return {
    nodes: {
      e1: member(),
      e2: member(),
      e3: member({
        workload: `${startEtcd}\n${waitHealthy}\n${leaderE1}\n${puts}`,
        check: checkKeys,
      }),
    },
    client: "e3",
  };
}
