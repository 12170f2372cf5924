/**
 * The pieces the PostgreSQL scenarios share: a node built from Debian's postgresql-15 (its
 * dependency closure and the essential set make the root), a `postgres` user, the server's
 * programs put on PATH by `rootSetup` (what the postgresql-common wrappers would do), and a
 * data directory on a faultline disk, made once by the setup phase (initdb and the table),
 * so that record, replay and sweeps start from the initialized cluster. A file whose name
 * starts with `_` is not a scenario: `faultline ci` skips it.
 *
 * The workload starts the server with the scenario's settings, then one client session
 * commits rows one by one, each in a transaction of its own, and acknowledges a row after
 * its COMMIT returned; it stops the server (a clean shutdown) at the end. The check starts the server on the disks the
 * run left (crash recovery), says so, and reports every row it finds.
 */

/** Rows the workload commits. */
export const ROWS = 16;

/** Runs a command as the postgres user. */
const asPostgres = "setpriv --reuid=postgres --regid=postgres --clear-groups --";

/**
 * Starts the server on /data/pg with the given settings (`-c NAME=VALUE ...`), listening on
 * a unix socket in /tmp only, and waits until it accepts connections; if it exits first,
 * prints its log and exits 3. (Not `pg_ctl start -w`: after a crash, the old postmaster.pid
 * may hold the very PID the new server gets in a guest that boots the same way each time,
 * and pg_ctl then takes it for ready at once.)
 */
function startServer(settings: string): string {
  return `${asPostgres} postgres -D /data/pg -k /tmp -c listen_addresses='' ${settings} \\
  >/tmp/pg.log 2>&1 &
server=$!
until pg_isready -q -h /tmp; do
  kill -0 "$server" 2>/dev/null || { echo "the server did not start:"; cat /tmp/pg.log; exit 3; }
  sleep 0.2
done`;
}

/** Stops the server started by startServer (a fast shutdown: a checkpoint, then exit). */
const stopServer = `kill -INT "$server" && wait "$server"`;

/** psql as the postgres role over the socket (run as root, so that its `\!` commands may report). */
const psql = "psql -h /tmp -U postgres -X -q -A -t -v ON_ERROR_STOP=1";

/** A node running PostgreSQL 15 with these server settings. */
export function postgresNode(settings = "") {
  return {
    memory: "512M",
    packages: ["postgresql-15"],
    users: [{ name: "postgres", uid: 1000, home: "/var/lib/postgresql" }],
    // Run by the host's busybox in the unpacked tree: the server's programs on PATH.
    rootSetup: `
      mkdir -p usr/local/bin
      for program in usr/lib/postgresql/15/bin/*; do
        ln -s "/$program" usr/local/bin/
      done
    `,
    disks: { data: { size: "256M", filesystem: "ext4" as const, mount: "/data" } },
    // Once, before the run: the cluster and its table (initdb takes seconds under TCG).
    setup: `
      mkdir -p /data/pg && chown postgres:postgres /data/pg && chmod 700 /data/pg
      ${asPostgres} initdb -D /data/pg -A trust -U postgres --no-sync >/dev/null || exit 1
      ${startServer("")}
      ${psql} -c "CREATE TABLE t (k integer PRIMARY KEY, v text NOT NULL)" || exit 1
      ${stopServer}
    `,
    // One client session: each row in a transaction of its own, acknowledged (psql's \!
    // runs report) once its COMMIT returned; psql stops at the first error.
    workload: `
      ${startServer(settings)}
      i=1
      while [ "$i" -le ${ROWS} ]; do
        echo "\\\\! report step 'commit $i'"
        echo "BEGIN; INSERT INTO t VALUES ($i, 'value $i'); COMMIT;"
        echo "\\\\! report ack $i"
        i=$((i + 1))
      done >/tmp/commits.sql
      ${psql} -f /tmp/commits.sql || exit 1
      ${stopServer}
    `,
    check: `
      ${startServer("")}
      echo "faultline check: the server started"
      ${psql} -c "SELECT k FROM t ORDER BY k" >/tmp/rows || exit 4
      while read -r k; do report have "$k"; done </tmp/rows
    `,
  };
}
