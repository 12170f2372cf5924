/**
 * Redis 7.0 from Debian's packages with `appendonly yes` and `appendfsync always`: Redis
 * writes and fsyncs the append-only file before it replies to a write, so a key
 * acknowledged after SET replied OK survives a power loss at any flush. The pieces are in
 * scenarios/_redis.ts; with `appendfsync everysec`, see redis-aof-everysec.ts.
 */
import { defineScenario } from "../mod.ts";
import { redisNode } from "./_redis.ts";

export default defineScenario({
  name: "redis-aof",
  description: "Redis 7.0, appendonly yes, appendfsync always: every acknowledged SET survives",
  nodes: { redis: redisNode("always") },
  expect: {
    noLostAcks: true,
    output: [{ phase: "check", pattern: "faultline check: redis started" }],
  },
  // Power lost as a flush of the data disk arrives (every third: each point boots a check).
  faults: [{ fault: "power-loss", points: "flushes:redis/data,every:3" }],
  timeouts: { run: "120s", check: "60s" },
});
