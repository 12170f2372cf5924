import assert from "node:assert/strict";
import { roleReports, rolesAt } from "./roles.ts";

const line = (node: string, phase: string, kind: string, args: string[], at: number) => ({
  node,
  phase,
  kind,
  args,
  at,
});

Deno.test("role reports are the run phase's role lines", () => {
  const reports = roleReports([
    line("n1", "run", "role", ["leader"], 4),
    line("n2", "run", "ack", ["k1"], 5),
    line("n2", "check", "role", ["leader"], 90),
    line("n3", "run", "role", [], 6),
    line("n2", "run", "role", ["follower"], 7),
  ]);
  assert.deepEqual(reports, [
    { node: "n1", role: "leader", at: 4 },
    { node: "n2", role: "follower", at: 7 },
  ]);
});

Deno.test("a node's role at a moment is the last it reported by then", () => {
  const reports = [
    { node: "n1", role: "follower", at: 2 },
    { node: "n2", role: "leader", at: 3 },
    { node: "n1", role: "leader", at: 9 },
    { node: "n2", role: "follower", at: 9 },
  ];
  assert.deepEqual(rolesAt(reports, 1), new Map());
  assert.deepEqual(rolesAt(reports, 5), new Map([["n1", "follower"], ["n2", "leader"]]));
  assert.deepEqual(rolesAt(reports, 9), new Map([["n1", "leader"], ["n2", "follower"]]));
});
