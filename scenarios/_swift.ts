/**
 * The pieces the Swift scenarios share: a cluster of three storage nodes s1, s2, s3, each
 * running OpenStack Swift 2.30's object, container and account servers (Debian 12's
 * swift-object, swift-container, swift-account) on an XFS disk of its own, and s1 also the
 * proxy (swift-proxy) and the client. Rings with 3 replicas are built once, in s1's setup
 * phase; the proxy has no auth (the cluster's network is private: no frame leaves
 * faultline's switch). A file whose name starts with `_` is not a scenario: `faultline ci`
 * skips it.
 *
 * Every node starts its servers from one Python process (`swift-servers`, written into the
 * package root): the modules are imported once, then each server runs in a child of its own
 * with `workers = 0` (the child serves, as `swift-object-server CONF` does with that
 * setting). Imports dominate a start under TCG; one import instead of three or four is what
 * makes a cluster's boot fit in minutes. The servers run as root (with `workers = 0`, Swift
 * drops no privileges).
 *
 * Timeouts are longer than Swift's defaults because the guests run under TCG on shared
 * cores: the proxy's `conn_timeout = 5` (0.5 s by default) and `node_timeout = 30` (10 s),
 * the object server's `container_update_timeout = 10` (1 s). A PUT answers 201 once a
 * quorum (2 of 3) of object servers stored it: each wrote the object to a temporary file,
 * fsynced it, renamed it into place and fsynced its directory (Swift's DiskFile).
 */

/** The storage nodes; s1 also runs the proxy and the client. */
export const NODES = ["s1", "s2", "s3"] as const;

/** Objects the workload PUTs. */
export const OBJECTS = 16;

/** Swift's servers and their ports (Swift's defaults), in hex as /proc/net/tcp shows them. */
const PORTS = { object: 6200, container: 6201, account: 6202, proxy: 8080 } as const;

/** The device every storage node mounts its XFS disk at, as Swift names it in the rings. */
const DEVICE = "d1";

/** Where the rings are: on s1's disk, built by its setup (the root image is read-only). */
const RINGS = `/srv/node/${DEVICE}/rings`;

const swiftConf = `[swift-hash]
swift_hash_path_suffix = faultline
swift_hash_path_prefix = faultline

[storage-policy:0]
name = Policy-0
default = yes
`;

function storageConf(kind: "object" | "container" | "account"): string {
  const extra = kind === "object"
    ? "container_update_timeout = 10\nreplication_concurrency = 0\n"
    : "";
  return `[DEFAULT]
devices = /srv/node
mount_check = true
bind_ip = 0.0.0.0
bind_port = ${PORTS[kind]}
workers = 0
user = root
log_name = ${kind}-server

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
${extra}`;
}

const proxyConf = `[DEFAULT]
bind_ip = 0.0.0.0
bind_port = ${PORTS.proxy}
workers = 0
user = root
swift_dir = ${RINGS}
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
conn_timeout = 5
node_timeout = 30

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:proxy-logging]
use = egg:swift#proxy_logging
`;

/** Starts the servers named on its command line from one process (see the module's comment). */
const launcher = `#!/usr/bin/python3
# faultline: Swift's servers of this node from one process. The modules are imported once,
# then each server runs in a child of its own (workers = 0: the child serves, as
# swift-object-server CONF does with that setting). Exits when any of them does.
import os
import sys

from swift.common.wsgi import run_wsgi
import swift.account.server
import swift.container.server
import swift.obj.server

SERVERS = {
    "object": "object-server",
    "container": "container-server",
    "account": "account-server",
    "proxy": "proxy-server",
}
names = sys.argv[1:]
if "proxy" in names:
    import swift.proxy.server
    for middleware in ("catch_errors", "gatekeeper", "listing_formats", "copy", "dlo",
                       "versioned_writes", "proxy_logging"):
        __import__("swift.common.middleware." + middleware)
children = {}
for name in names:
    pid = os.fork()
    if pid == 0:
        options = {}
        if name == "object":
            options["global_conf_callback"] = swift.obj.server.global_conf_callback
        os._exit(run_wsgi("/etc/swift/%s.conf" % SERVERS[name], SERVERS[name], **options))
    children[pid] = name
pid, status = os.wait()
print("swift-servers: %s exited (status %d)" % (children[pid], status), flush=True)
sys.exit(1)
`;

/** Writes a file in the root from rootSetup (busybox sh, in the unpacked tree). */
function writeFile(path: string, content: string, mode = "644"): string {
  return `cat >${path} <<'FAULTLINE_EOF'\n${content}FAULTLINE_EOF\nchmod ${mode} ${path}\n`;
}

/** The root's setup: Swift's configuration and the launcher, as a deployment would lay them. */
const rootSetup = `mkdir -p etc/swift usr/local/bin
${writeFile("etc/swift/swift.conf", swiftConf)}
${writeFile("etc/swift/object-server.conf", storageConf("object"))}
${writeFile("etc/swift/container-server.conf", storageConf("container"))}
${writeFile("etc/swift/account-server.conf", storageConf("account"))}
${writeFile("etc/swift/proxy-server.conf", proxyConf)}
${writeFile("usr/local/bin/swift-servers", launcher, "755")}`;

/** The port as /proc/net/tcp writes it (4 hex digits, upper case). */
function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Starts this node's servers in the background (the proxy too on s1), logging through
 * busybox's syslogd to /tmp/swift.log, then waits until each listens (at most about 5
 * minutes: the imports take one to two under TCG); if the launcher exits first, prints its
 * log and exits 3.
 */
export function startServers(proxy: boolean): string {
  const servers: (keyof typeof PORTS)[] = ["object", "container", "account"];
  if (proxy) servers.push("proxy");
  const listening = servers.map((s) => `:${hexPort(PORTS[s])} 00000000:0000 0A`);
  return `
/faultline/bin/busybox syslogd -O /tmp/swift.log
started=$(cut -d' ' -f1 /proc/uptime)
swift-servers ${servers.join(" ")} >/tmp/servers.log 2>&1 &
servers=$!
i=0
for port in ${listening.map((l) => `'${l}'`).join(" ")}; do
  until grep -q "$port" /proc/net/tcp; do
    kill -0 "$servers" 2>/dev/null || { echo "swift-servers exited:"; cat /tmp/servers.log /tmp/swift.log; exit 3; }
    i=$((i + 1)); [ "$i" -gt 600 ] && { echo "swift never listened"; cat /tmp/servers.log /tmp/swift.log; exit 3; }
    sleep 0.5
  done
done
echo "swift: ${
    servers.join(", ")
  } listening $(awk -v s="$started" '{print $1 - s}' /proc/uptime) s after start; $(grep -E '^(MemTotal|MemAvailable)' /proc/meminfo | tr -s ' ' | tr '\\n' ' ')"
`;
}

/**
 * s1's setup: the rings with 3 replicas, one device per storage node in a zone of its own,
 * built with Swift's RingBuilder (what swift-ring-builder runs, in one process: each
 * swift-ring-builder command would import Swift again), rebalanced with a fixed seed, on
 * its disk.
 */
export const buildRings = `
mkdir -p ${RINGS} && cd ${RINGS} || exit 1
python3 - <<'FAULTLINE_EOF' || exit 1
import socket
from swift.common.ring import RingBuilder

NODES = ${JSON.stringify(NODES)}
for name, port in (("account", ${PORTS.account}), ("container", ${PORTS.container}), ("object", ${PORTS.object})):
    builder = RingBuilder(6, 3, 1)
    for i, node in enumerate(NODES):
        builder.add_dev({"id": i, "region": 1, "zone": i + 1, "ip": socket.gethostbyname(node),
                         "port": port, "device": "${DEVICE}", "weight": 100})
    builder.rebalance(seed=1)
    builder.save(name + ".builder")
    builder.get_ring().save(name + ".ring.gz")
    print(name, "ring:", builder.parts, "partitions,", builder.replicas, "replicas")
FAULTLINE_EOF
`;

/** The client's Python: PUTs, timed one by one, each acknowledged on 201 only. */
const client = `
import subprocess, sys, time, urllib.error, urllib.request

URL = "http://127.0.0.1:${PORTS.proxy}/v1/AUTH_test/c"

def report(*words):
    subprocess.run(["report", *words], check=False)

def request(method, url, data=None):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method), timeout=120) as reply:
            reply.read()
            status = reply.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        status = "error:%s" % type(error).__name__
    return status, (time.monotonic() - started) * 1000

report("step", "container")
for attempt in range(60):
    status, ms = request("PUT", URL, b"")
    if status in (201, 202):
        break
    time.sleep(2)
else:
    print("the container was never created:", status)
    sys.exit(3)
print("container PUT %s after %d attempts" % (status, attempt + 1), flush=True)
for i in range(1, int(sys.argv[1]) + 1):
    report("step", "put %d" % i)
    status, ms = request("PUT", "%s/o-%d" % (URL, i), b"object %d of faultline\\n" % i)
    print("put %d: %s in %.0f ms" % (i, status, ms), flush=True)
    report("latency", "put-%d" % i, "%.0fms" % ms, str(status))
    if status == 201:
        report("ack", "o-%d" % i)
`;

/** The check's Python: GETs every object, HEADs the container. */
const checker = `
import subprocess, sys, time, urllib.error, urllib.request

URL = "http://127.0.0.1:${PORTS.proxy}/v1/AUTH_test/c"

def report(*words):
    subprocess.run(["report", *words], check=False)

def get(method, url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=120) as reply:
            return reply.status, reply.read(), reply.headers
    except urllib.error.HTTPError as error:
        return error.code, b"", error.headers
    except OSError as error:
        return "error:%s" % type(error).__name__, b"", {}

for attempt in range(60):
    status, _, headers = get("HEAD", URL)
    if status in (204, 404):
        break
    time.sleep(2)
else:
    print("the proxy never answered a HEAD of the container:", status)
    sys.exit(3)
report("ready")
print("container HEAD %s: %s objects" % (status, headers.get("X-Container-Object-Count")), flush=True)
report("listing", str(headers.get("X-Container-Object-Count")))
for i in range(1, int(sys.argv[1]) + 1):
    status, body, _ = get("GET", "%s/o-%d" % (URL, i))
    print("get %d: %s" % (i, status), flush=True)
    if status == 200 and body == b"object %d of faultline\\n" % i:
        report("have", "o-%d" % i)
`;

/**
 * The check's count of one storage node's replicas: a HEAD of every object straight at that
 * node's object server, where the object ring places a replica (Swift's direct_client, as
 * swift-get-nodes would show), the proxy left out. Reports `replicas WHEN NODE HELD PLACED`
 * (WHEN: `before` or `after` the replicator's pass) and prints each object the node lacks.
 */
const replicaCounter = `
import socket, subprocess, sys
from swift.common.direct_client import direct_head_object
from swift.common.exceptions import ClientException
from swift.common.ring import Ring

when, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ring = Ring("${RINGS}", ring_name="object")
address = socket.gethostbyname(name)
held = placed = 0
for i in range(1, count + 1):
    part, nodes = ring.get_nodes("AUTH_test", "c", "o-%d" % i)
    for node in nodes:
        if node["ip"] != address:
            continue
        placed += 1
        try:
            direct_head_object(node, part, "AUTH_test", "c", "o-%d" % i, response_timeout=30)
            held += 1
        except ClientException as error:
            print("o-%d: %s answered %s" % (i, name, error.http_status), flush=True)
        except OSError as error:
            print("o-%d: %s: %s" % (i, name, type(error).__name__), flush=True)
print("%s replication: %s holds %d of the %d replicas the ring places on it" % (when, name, held, placed), flush=True)
subprocess.run(["report", "replicas", when, name, str(held), str(placed)], check=False)
`;

/**
 * One pass of Swift's object replicator on this node (`swift-object-replicator CONF once`),
 * with ssync (Swift's own protocol over the object servers' port: the root has no rsync) and
 * the rings where s1's setup put them. It pushes what this node holds to the other primaries
 * that lack it.
 */
const replicateOnce = `{ cat /etc/swift/object-server.conf
  printf '\\n[object-replicator]\\nsync_method = ssync\\nconcurrency = 1\\nswift_dir = ${RINGS}\\n'
} >/tmp/object-replicator.conf
started=$(cut -d' ' -f1 /proc/uptime)
swift-object-replicator /tmp/object-replicator.conf once >/tmp/replicator.log 2>&1
echo "object replicator: exit $? after $(awk -v s="$started" '{print $1 - s}' /proc/uptime) s"
cat /tmp/replicator.log; grep object-replicator /tmp/swift.log | tail -n 5`;

/** Runs a Python program given as text (written to /tmp by a quoted here-document). */
function python(name: string, program: string, args: string): string {
  return `cat >/tmp/${name}.py <<'FAULTLINE_EOF'\n${program}FAULTLINE_EOF\npython3 /tmp/${name}.py ${args}`;
}

/** What every node is built from and its disk. */
function base(memory: string) {
  return {
    memory,
    packages: ["swift-account", "swift-container", "swift-object", "swift-proxy"],
    rootSetup,
    disks: {
      data: { size: "300M", filesystem: "xfs" as const, mount: `/srv/node/${DEVICE}` },
    },
  };
}

/** A storage node (s2, s3): its servers serve until the run ends; after a crash, again. */
export function storageNode(memory = "512M") {
  return {
    ...base(memory),
    workload: `${startServers(false)}\nwait`,
    restart: `${startServers(false)}\nreport ready\nwait`,
    ready: true,
  };
}

/**
 * s1: the rings in its setup; its servers, the proxy and the client in the run: the client
 * PUTs `count` objects through the proxy; the check starts the servers again on the disks
 * the run left, GETs every object and HEADs the container; with `countReplicasOf`, then
 * counts the replicas that storage node holds, runs the object replicator once, and counts
 * them again (`replicas before|after NODE HELD PLACED`).
 */
export function proxyNode(count = OBJECTS, memory = "512M", countReplicasOf?: string) {
  // After the check's verdict lines, whose exit code the check keeps: the node's replicas
  // counted, one pass of the replicator, counted again.
  const counted = (when: string) =>
    `${python("replicas", replicaCounter, `${when} ${countReplicasOf} ${count}`)} ||` +
    ` echo "the replicas of ${countReplicasOf} were not counted"`;
  const replicas = countReplicasOf === undefined
    ? ""
    : `\nchecked=$?\n${counted("before")}\n${replicateOnce}\n${counted("after")}\nexit $checked`;
  return {
    ...base(memory),
    setup: buildRings,
    workload: `${startServers(true)}\n${python("client", client, String(count))}`,
    check: `${startServers(true)}\n${python("check", checker, String(count))}${replicas}`,
    restart: `${startServers(true)}\nreport ready\nwait`,
    ready: true,
  };
}

/**
 * The cluster every Swift scenario runs: s1 with the proxy and the client, s2 and s3 storage
 * nodes; the run ends when the client is done (s2 and s3 are powered off then). A scenario
 * adds its name, description, expectation and faults; `countReplicasOf` names a storage node
 * whose replicas the check counts after its GETs, before and after a pass of the replicator.
 */
export function swiftCluster(options: { countReplicasOf?: string } = {}) {
  return {
    nodes: {
      [NODES[0]]: proxyNode(OBJECTS, undefined, options.countReplicasOf),
      [NODES[1]]: storageNode(),
      [NODES[2]]: storageNode(),
    },
    client: NODES[0],
    timeouts: { boot: "120s", run: "900s", check: "900s", setup: "900s" },
  };
}
