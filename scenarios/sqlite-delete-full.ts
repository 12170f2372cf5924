/**
 * The same commits with sqlite3's default rollback journal (journal_mode=DELETE)
 * and `PRAGMA synchronous=FULL`. A transaction commits when its journal is
 * deleted, and FULL does not sync the directory after that unlink: if the power
 * goes before the file system commits the unlink, the journal comes back, and
 * the next open rolls the acknowledged transaction back. SQLite documents
 * `synchronous=EXTRA` for exactly this. faultline's power-loss sweep finds it.
 */
import { defineScenario } from "../mod.ts";
import sqliteCommit from "./sqlite-commit.ts";

const app = sqliteCommit.nodes.app;

export default defineScenario({
  ...sqliteCommit,
  name: "sqlite-delete-full",
  description:
    "sqlite3 journal_mode=DELETE, synchronous=FULL: the last acknowledged commit can roll back",
  nodes: {
    app: { ...app, workload: app.workload.replaceAll("journal_mode=WAL", "journal_mode=DELETE") },
  },
  faults: [{ fault: "power-loss", points: "flushes", outcome: "detect" }],
});
