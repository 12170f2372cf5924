import assert from "node:assert/strict";
import { type Served, type ServingWait, startInOrder } from "./recovery.ts";

/** Nodes whose start the test settles by hand, and what happened, in order. */
function fakeNodes() {
  const log: string[] = [];
  const pending = new Map<string, (how: Served) => void>();
  return {
    log,
    start: (node: string) => {
      log.push(`start ${node}`);
      const { promise, resolve } = Promise.withResolvers<Served>();
      pending.set(node, resolve);
      return promise;
    },
    settle: (node: string, how: Served) => {
      log.push(`${how} ${node}`);
      pending.get(node)!(how);
    },
    onWaited: (node: string, how: ServingWait) => log.push(`waited ${node}: ${how}`),
  };
}

/** Lets every timer and promise that is due run. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("in order: each node starts only once the one before it served or its boot ended", async () => {
  const nodes = fakeNodes();
  const done = startInOrder(["n2", "n1", "n3"], {
    start: nodes.start,
    ready: new Set(["n2", "n3"]),
    waitMs: 60_000,
    onWaited: nodes.onWaited,
  });
  for (let i = 0; i < 5; i++) await turn();
  assert.deepEqual(nodes.log, ["start n2"], "n1 waits for n2");
  nodes.settle("n2", "served");
  for (let i = 0; i < 5; i++) await turn();
  assert.deepEqual(nodes.log.slice(1), ["served n2", "waited n2: ready", "start n1"]);
  // n1 says nothing of readiness: it served once its script started.
  nodes.settle("n1", "served");
  await turn();
  nodes.settle("n3", "ended");
  await done;
  assert.deepEqual(nodes.log.slice(4), [
    "served n1",
    "waited n1: started",
    "start n3",
    "ended n3",
    "waited n3: ended",
  ]);
});

Deno.test("in order: a node that never serves holds the next for the wait's bound, then the next starts anyway", async () => {
  const nodes = fakeNodes();
  const waitMs = 30;
  const begun = performance.now();
  let n2StartedAfter = -1;
  await startInOrder(["n1", "n2"], {
    start: (node) => {
      if (node === "n2") {
        n2StartedAfter = performance.now() - begun;
        return Promise.resolve("served" as const);
      }
      return nodes.start(node); // n1 is never settled: it neither serves nor ends
    },
    ready: new Set(["n1", "n2"]),
    waitMs,
    onWaited: nodes.onWaited,
  });
  assert.deepEqual(nodes.log, ["start n1", "waited n1: timeout", "waited n2: ready"]);
  assert.ok(n2StartedAfter >= waitMs - 1, `n2 started ${n2StartedAfter} ms in, before the bound`);
});

Deno.test("in order: an abort ends the wait, and no further node starts", async () => {
  const nodes = fakeNodes();
  const abort = new AbortController();
  const done = startInOrder(["n1", "n2"], {
    start: nodes.start,
    ready: new Set(),
    waitMs: 60_000,
    onWaited: nodes.onWaited,
    signal: abort.signal,
  });
  await turn();
  abort.abort();
  await done;
  assert.deepEqual(nodes.log, ["start n1"]);
});

Deno.test("in order: an empty order starts nothing", async () => {
  const nodes = fakeNodes();
  await startInOrder([], { start: nodes.start, ready: new Set(), waitMs: 10 });
  assert.deepEqual(nodes.log, []);
});
