/**
 * Redis 7.0 with `appendfsync everysec` (Redis's default for the append-only file): a
 * write is in the file before Redis replies, but fsynced only about once a second, so a
 * power loss loses the last second of acknowledged writes, as Redis's documentation on
 * persistence says. The sweep must find lost keys, with the check showing that Redis
 * started.
 */
import { defineScenario } from "../mod.ts";
import redisAof from "./redis-aof.ts";
import { redisNode } from "./_redis.ts";

export default defineScenario({
  ...redisAof,
  name: "redis-aof-everysec",
  description: "Redis 7.0, appendfsync everysec: up to a second of acknowledged SETs lost",
  nodes: { redis: redisNode("everysec") },
  faults: [{ fault: "power-loss", points: "flushes:redis/data", outcome: "detect" }],
});
