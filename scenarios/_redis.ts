/**
 * The pieces the Redis scenarios share: a node built from Debian's redis-server (7.0), a
 * `redis` user, and the append-only file on a faultline disk, made once by the setup
 * phase (the first start creates the AOF directory, its base and its manifest). Redis
 * listens on a unix socket only. A file whose name starts with `_` is not a scenario:
 * `faultline ci` skips it.
 *
 * The workload starts Redis with `appendonly yes` and the scenario's `appendfsync`, sets
 * keys one by one, each from a fresh redis-cli, and acknowledges a key after its SET
 * replied OK; it shuts Redis down at the end. The check starts Redis on the disks the run
 * left (it loads the AOF), says so, and reports every key it finds with its value.
 */

/** Keys the workload sets. */
export const KEYS = 16;

const asRedis = "setpriv --reuid=redis --regid=redis --clear-groups --";
const cli = "redis-cli -s /tmp/redis.sock";

/**
 * Starts Redis on /data/redis with the append-only file and this fsync policy, and waits
 * until it answers; if it exits first, prints its log and exits 3.
 */
function startRedis(appendfsync: string): string {
  return `${asRedis} redis-server --port 0 --unixsocket /tmp/redis.sock --unixsocketperm 700 \\
  --dir /data/redis --appendonly yes --appendfsync ${appendfsync} --save '' \\
  --logfile /tmp/redis.log &
server=$!
until [ "$(${cli} ping 2>/dev/null)" = PONG ]; do
  kill -0 "$server" 2>/dev/null || { echo "redis did not start:"; cat /tmp/redis.log; exit 3; }
  sleep 0.2
done`;
}

/** Shuts Redis down (it fsyncs the AOF) and waits for it. */
const stopRedis = `${cli} shutdown >/dev/null 2>&1; wait "$server"`;

/** A node running redis-server with `appendfsync` set to this policy. */
export function redisNode(appendfsync: "always" | "everysec") {
  return {
    packages: ["redis-server"],
    users: [{ name: "redis", uid: 1000, home: "/var/lib/redis" }],
    disks: { data: { size: "64M", filesystem: "ext4" as const, mount: "/data" } },
    // Once, before the run: the data directory, and a first start that makes the AOF.
    setup: `
      mkdir -p /data/redis && chown redis:redis /data/redis
      ${startRedis("always")}
      ${stopRedis}
      ls /data/redis/appendonlydir >/dev/null || exit 1
    `,
    workload: `
      ${startRedis(appendfsync)}
      i=1
      while [ "$i" -le ${KEYS} ]; do
        report step "set $i"
        [ "$(${cli} set "key-$i" "value-$i")" = OK ] || exit 1
        report ack "key-$i"
        i=$((i + 1))
      done
      ${stopRedis}
    `,
    check: `
      ${startRedis("always")}
      echo "faultline check: redis started"
      ${cli} --scan --pattern 'key-*' >/tmp/keys || exit 4
      while read -r key; do
        [ "$(${cli} get "$key")" = "value-\${key#key-}" ] && report have "$key"
      done </tmp/keys
    `,
  };
}
