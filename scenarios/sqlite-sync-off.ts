/**
 * sqlite3 with `PRAGMA synchronous=OFF`: COMMIT returns without fsync, so a
 * power loss loses commits the application acknowledged. The power-loss sweep
 * must find that; with synchronous=FULL (sqlite-commit.ts) it finds none.
 */
import { defineScenario } from "../mod.ts";
import sqliteCommit from "./sqlite-commit.ts";

const app = sqliteCommit.nodes.app;

export default defineScenario({
  ...sqliteCommit,
  name: "sqlite-sync-off",
  description: "sqlite3 synchronous=OFF: acknowledged commits are lost on power loss",
  nodes: {
    app: { ...app, workload: app.workload.replaceAll("synchronous=FULL", "synchronous=OFF") },
  },
  faults: [{ fault: "power-loss", points: "all", outcome: "detect" }],
});
