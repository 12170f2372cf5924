/**
 * The pieces the NATS scenario shares: three servers n1, n2, n3 of a NATS 2.9 cluster
 * (Debian 12's nats-server) with JetStream on, each with its store directory on its own
 * faultline disk, so every write of a stream's messages and of its Raft logs goes through
 * the fault layer. Debian 12 ships no NATS command-line client: `_nats_client.py`, a
 * small client in Python's standard library, speaks NATS's text protocol and
 * JetStream's JSON API. A file whose name starts with `_` is not a scenario: `faultline
 * ci` skips it.
 *
 * The pattern is scenarios/_etcd.ts's: a start script that launches the server on its
 * disk in the background, members that serve until the client is done, `restart` that
 * starts the server again and says `report ready` once the stream answers (`ready:
 * true`), and a client node whose workload creates the stream and publishes, and whose
 * check reads every message back. Unlike etcd's members, these stop cleanly at the end
 * of the run: the client publishes on `faultline.stop`, each member stops its server
 * and its script ends (the guest syncs its disks and powers off), so the recording's own
 * check finds every acknowledged message even though NATS 2.9 fsyncs its files only in
 * the background.
 */

/** The servers, in the order of the scenario's nodes. */
export const SERVERS = ["n1", "n2", "n3"];

/** The stream the client publishes to, and its subjects. */
export const STREAM = "LOG";

/** The client, laid into the guest from `_nats_client.py` (see `files` in {@linkcode server}). */
export const jsclient = "python3 /opt/faultline/jsclient.py";

const routes = SERVERS.map((s) => `nats-route://${s}:6222`).join(", ");

/**
 * Starts this node's server on /data/nats in the background (its process in `$server`).
 * JetStream takes up the store it finds there, and the cluster forms through the routes.
 */
export const startNats = `
mkdir -p /data/nats
cat >/tmp/nats.conf <<CONF
server_name: $FAULTLINE_NODE
listen: 0.0.0.0:4222
jetstream { store_dir: /data/nats, max_memory_store: 16MB, max_file_store: 100MB }
cluster { name: faultline, listen: 0.0.0.0:6222, routes: [ ${routes} ] }
CONF
nats-server -c /tmp/nats.conf -l /tmp/nats.log &
server=$!
`;

/** Waits until the stream's info answers (the stream's Raft group has a leader), at most 100 s. */
export const waitStream = `
${jsclient} ready 127.0.0.1 ${STREAM} || { tail -20 /tmp/nats.log; exit 3; }
`;

/** Stops this node's server (SIGINT: its clean shutdown, then exit 0; SIGTERM exits 1) and waits for it. */
const stopNats = `kill -INT "$server"; wait "$server"`;

/**
 * The client's workload: creates the stream (file storage, 3 replicas), publishes
 * key-1 .. key-COUNT, each acknowledged once JetStream's publish ack came back, then
 * stops the other members and its own server.
 */
export function publish(count: number): string {
  return `${startNats}
${jsclient} create 127.0.0.1 ${STREAM} 'log.>' || { tail -20 /tmp/nats.log; exit 3; }
report step created
${jsclient} publish 127.0.0.1 log.key ${count}
report step stop
${jsclient} stop 127.0.0.1 ${SERVERS.filter((s) => s !== "n3").join(" ")}
${stopNats}`;
}

/** The check: start the server, wait for the stream, say it is ready, report every message. */
export const readBack = `${startNats}
${waitStream}
report ready
${jsclient} read 127.0.0.1 ${STREAM}`;

/** A member: its disk, nats-server and Python from Debian, the client laid at /opt/faultline. */
export function server(extra: Record<string, unknown> = {}) {
  return {
    packages: ["nats-server", "python3"],
    files: { "/opt/faultline/jsclient.py": "./_nats_client.py" },
    disks: { data: { size: "128M", filesystem: "ext4" as const, mount: "/data" } },
    // Serves until the client asks it to stop, then stops cleanly.
    workload: `${startNats}\n${jsclient} wait-stop 127.0.0.1\n${stopNats}`,
    // Serving the check, a member says it is ready once the stream answers.
    restart: `${startNats}\n${waitStream}\nreport ready\nwait`,
    ready: true,
    ...extra,
  };
}
