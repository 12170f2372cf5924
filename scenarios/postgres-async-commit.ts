/**
 * PostgreSQL 15 with `synchronous_commit=off`: COMMIT returns before its WAL is flushed
 * (the WAL writer flushes it within three times wal_writer_delay), so a power loss can
 * lose commits the client was told of, while the database stays consistent and the server
 * starts: PostgreSQL's documented trade-off ("Asynchronous Commit" in its manual). The
 * sweep must find lost commits, with the check showing that the server started.
 */
import { defineScenario } from "../mod.ts";
import postgresCommit from "./postgres-commit.ts";
import { postgresNode } from "./_postgres.ts";

export default defineScenario({
  ...postgresCommit,
  name: "postgres-async-commit",
  description:
    "PostgreSQL 15, synchronous_commit=off: acknowledged commits are lost, the server starts",
  nodes: { db: postgresNode("-c synchronous_commit=off") },
  faults: [{ fault: "power-loss", points: "flushes:db/data,every:4", outcome: "detect" }],
});
