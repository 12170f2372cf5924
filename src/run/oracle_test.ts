import assert from "node:assert/strict";
import { durabilityOracle, type GuestLine, runOracle } from "./oracle.ts";

function line(
  phase: "run" | "check",
  kind: string,
  key: string,
  at: number,
  node = "app",
): GuestLine {
  return { node, phase, kind, args: key.split(" "), at };
}
const ack = (key: string, at: number, node?: string) => line("run", "ack", key, at, node);
const have = (key: string, node?: string) => line("check", "have", key, 1000, node);

Deno.test("oracle: every acknowledged key found passes; found keys never acknowledged are allowed", () => {
  assert.deepEqual(
    durabilityOracle([ack("1", 3), ack("2", 5), have("1"), have("2"), have("extra")]),
    { acked: 2, found: 2, lost: 0, lostKeys: [] },
  );
  assert.deepEqual(durabilityOracle([]), { acked: 0, found: 0, lost: 0, lostKeys: [] });
  assert.deepEqual(durabilityOracle([have("1")]), { acked: 0, found: 0, lost: 0, lostKeys: [] });
});

Deno.test("oracle: a cut at op N counts the acks that arrived before op N did (at <= N)", () => {
  const lines = [ack("1", 3), ack("2", 7), ack("3", 8), have("1")];
  assert.deepEqual(durabilityOracle(lines), { acked: 3, found: 1, lost: 2, lostKeys: ["2", "3"] });
  assert.deepEqual(durabilityOracle(lines, 7), { acked: 2, found: 1, lost: 1, lostKeys: ["2"] });
  assert.deepEqual(durabilityOracle(lines, 6), { acked: 1, found: 1, lost: 0, lostKeys: [] });
  assert.deepEqual(durabilityOracle(lines, 2), { acked: 0, found: 0, lost: 0, lostKeys: [] });
  assert.deepEqual(durabilityOracle(lines, 0).acked, 0);
});

Deno.test("oracle: an acknowledged key counts once, in the order of its first ack", () => {
  const lines = [ack("b", 1), ack("a", 2), ack("b", 3), ack("a", 40), ack("c", 41)];
  assert.deepEqual(durabilityOracle(lines), {
    acked: 3,
    found: 0,
    lost: 3,
    lostKeys: ["b", "a", "c"],
  });
  // A repeated ack after the cut does not hide the first one before it.
  assert.deepEqual(durabilityOracle(lines, 2).lostKeys, ["b", "a"]);
  assert.deepEqual(durabilityOracle([...lines, have("a"), have("a")]).found, 1);
});

Deno.test("oracle: a key is a key across nodes; only run-phase acks and check-phase haves count", () => {
  const lines = [
    ack("1", 1, "db"),
    ack("1", 2, "app"), // the same key acknowledged twice counts once
    ack("2", 3, "app"),
    have("1", "standby"), // found on another node: a promoted standby has it
    line("check", "ack", "3", 900), // an ack during the check is not the workload's
    line("run", "have", "2", 3, "db"), // a have during the run is not the check's
    line("run", "exit", "0", 4),
  ];
  assert.deepEqual(durabilityOracle(lines), { acked: 2, found: 1, lost: 1, lostKeys: ["2"] });
  assert.deepEqual(durabilityOracle([...lines, have("2", "db")]).lost, 0);
});

Deno.test("oracle: a key of several words is matched whole", () => {
  const lines = [ack("user 7", 1), have("user"), have("7")];
  assert.deepEqual(durabilityOracle(lines).lostKeys, ["user 7"]);
  assert.equal(durabilityOracle([...lines, have("user 7")]).lost, 0);
});

Deno.test("oracle: at most 20 lost keys are listed, in ack order; the count is complete", () => {
  const lines: GuestLine[] = [];
  for (let i = 0; i < 30; i++) lines.push(ack(`k${i}`, i));
  lines.push(have("k3"));
  const result = durabilityOracle(lines);
  assert.deepEqual([result.acked, result.found, result.lost], [30, 1, 29]);
  assert.equal(result.lostKeys.length, 20);
  assert.deepEqual(result.lostKeys.slice(0, 4), ["k0", "k1", "k2", "k4"]);
  assert.equal(result.lostKeys.at(-1), "k20");
});

Deno.test("oracle of a run: no check anywhere, no oracle; else every node's acks against every check, across nodes", () => {
  // fixtures/cluster-fetch.json: every node acks what it fetched, no node has a check. Its
  // record passed and printed "oracle: acked 28, found 0, lost 28" beside PASS.
  const fetch = {
    nodes: ["n1", "n2", "n3"].map((name) => ({ name, check: null })),
    expect: { noLostAcks: false },
  };
  const lines = [ack("n1-n2-1", 3, "n1"), ack("log-1", 4, "n2"), ack("n3-n1-1", 5, "n3")];
  assert.equal(runOracle(lines, { scenario: fetch }), null);
  // A primary and a standby: the client on p1 acks, the check promotes p2 and finds there.
  const replicated = {
    nodes: [{ name: "p1", check: null }, { name: "p2", check: "report have ..." }],
    expect: { noLostAcks: false },
  };
  const standby = [ack("row-1", 9, "p1"), ack("row-2", 12, "p1"), have("row-1", "p2")];
  assert.deepEqual(runOracle(standby, { scenario: replicated }), {
    acked: 2,
    found: 1,
    lost: 1,
    lostKeys: ["row-2"],
  });
  assert.deepEqual(runOracle(standby, { scenario: replicated, cutAt: 10 })?.lost, 0);
  assert.equal(runOracle([], { scenario: replicated }), null, "nothing acknowledged");
  // noLostAcks with nothing acked: the oracle says so (0 of 0), it is not absent.
  assert.deepEqual(
    runOracle([], { scenario: { ...replicated, expect: { noLostAcks: true } } })?.acked,
    0,
  );
});
