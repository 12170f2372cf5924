/**
 * PostgreSQL 15 with `fsync=off`: the server never asks for its writes to be made durable,
 * so what survives a power loss is whatever the kernel happened to write back: commits the
 * client was told of are lost, and the server may not start at all ("Do not turn off
 * fsync" unless the data can be recreated, in PostgreSQL's manual). The sweep must find it.
 */
import { defineScenario } from "../mod.ts";
import postgresCommit from "./postgres-commit.ts";
import { postgresNode } from "./_postgres.ts";

export default defineScenario({
  ...postgresCommit,
  name: "postgres-fsync-off",
  description: "PostgreSQL 15, fsync=off: acknowledged commits are lost on power loss",
  nodes: { db: postgresNode("-c fsync=off") },
  faults: [{ fault: "power-loss", points: "flushes:db/data", outcome: "detect" }],
});
