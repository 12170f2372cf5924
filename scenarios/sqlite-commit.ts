/**
 * sqlite3 with `PRAGMA synchronous=FULL` commits numbered rows one transaction
 * at a time and acknowledges each after COMMIT returned; the check lists the
 * rows present. In WAL mode, FULL syncs the log at every commit: a committed
 * row survives any power loss. (In the default DELETE journal mode FULL does
 * not: see sqlite-delete-full.ts.)
 */
import { defineScenario } from "../mod.ts";

export default defineScenario({
  name: "sqlite-commit",
  description: "sqlite3 WAL, synchronous=FULL: every acknowledged commit survives",
  nodes: {
    app: {
      disks: { data: { size: "32M", filesystem: "ext4", mount: "/data" } },
      programs: ["/usr/bin/sqlite3"],
      workload: `
        db=/data/kv.db
        report step "create table"
        sqlite3 "$db" "PRAGMA journal_mode=WAL; CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL);" >/dev/null || exit 1
        i=1
        while [ "$i" -le 8 ]; do
          report step "commit $i"
          sqlite3 "$db" "PRAGMA synchronous=FULL; BEGIN; INSERT INTO kv VALUES ($i, 'value $i'); COMMIT;" || exit 1
          report ack "$i"
          i=$((i + 1))
        done
      `,
      check: `
        db=/data/kv.db
        [ -f "$db" ] || exit 0
        sqlite3 "$db" "PRAGMA integrity_check;" | grep -qx ok || { echo "integrity check failed"; exit 2; }
        for k in $(sqlite3 "$db" "SELECT k FROM kv ORDER BY k;"); do
          report have "$k"
        done
      `,
    },
  },
  expect: { noLostAcks: true },
  // Power lost as any flush arrives: every acknowledged commit survives, and the database is intact.
  faults: [{ fault: "power-loss", points: "flushes" }],
  timeouts: { run: "120s", check: "60s" },
});
