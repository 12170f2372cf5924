/**
 * PostgreSQL 15 from Debian's packages, default durability settings (fsync=on,
 * synchronous_commit=on): a client commits rows one by one and acknowledges each after
 * COMMIT returned; the check starts the server on the disks the run left (crash recovery)
 * and reports every row it finds. The WAL is flushed before COMMIT returns: a power loss
 * at any flush loses no acknowledged row. The pieces are in scenarios/_postgres.ts.
 */
import { defineScenario } from "../mod.ts";
import { postgresNode } from "./_postgres.ts";

export default defineScenario({
  name: "postgres-commit",
  description: "PostgreSQL 15, fsync=on, synchronous_commit=on: every acknowledged commit survives",
  nodes: { db: postgresNode() },
  expect: {
    noLostAcks: true,
    output: [{ phase: "check", pattern: "faultline check: the server started" }],
  },
  // Power lost as a flush of the data disk arrives (every third: each point boots a check).
  faults: [{ fault: "power-loss", points: "flushes:db/data,every:4" }],
  timeouts: { run: "180s", check: "120s" },
});
