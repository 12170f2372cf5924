import assert from "node:assert/strict";
import { LinkScheduler } from "./link_scheduler.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const NONE = { drop: false, delayMs: 0, duplicate: false };

function recorder() {
  const sent: { to: string; tag: number; at: number }[] = [];
  const start = performance.now();
  const scheduler = new LinkScheduler((to, bytes) =>
    sent.push({ to, tag: bytes[0], at: performance.now() - start })
  );
  return { sent, scheduler, tags: () => sent.map((s) => s.tag) };
}

Deno.test("link scheduler: undelayed copies go at once; drops never", () => {
  const { scheduler, tags } = recorder();
  scheduler.schedule("a->b", "b", new Uint8Array([1]), NONE);
  scheduler.schedule("a->b", "b", new Uint8Array([2]), { ...NONE, drop: true });
  scheduler.schedule("a->b", "b", new Uint8Array([3]), { ...NONE, duplicate: true });
  assert.deepEqual(tags(), [1, 3, 3]);
  assert.equal(scheduler.pending, 0);
  scheduler.close();
});

Deno.test("link scheduler: a delay keeps the link's order; other links are not held up", async () => {
  const { scheduler, sent, tags } = recorder();
  scheduler.schedule("a->b", "b", new Uint8Array([1]), { ...NONE, delayMs: 60 });
  scheduler.schedule("a->b", "b", new Uint8Array([2]), NONE); // behind 1
  scheduler.schedule("a->c", "c", new Uint8Array([3]), NONE); // another link: at once
  scheduler.schedule("a->b", "b", new Uint8Array([4]), { ...NONE, delayMs: 10 }); // behind 1 and 2
  assert.deepEqual(tags(), [3]);
  assert.equal(scheduler.pending, 3);
  await sleep(120);
  assert.deepEqual(tags(), [3, 1, 2, 4]);
  assert.ok(sent[1].at >= 55, `delayed ${sent[1].at} ms`);
  scheduler.close();
});

Deno.test("link scheduler: bandwidth serialises a link", async () => {
  const { scheduler, sent } = recorder();
  // 1000 bytes at 20000 B/s: 50 ms each.
  for (let i = 0; i < 3; i++) {
    scheduler.schedule("a->b", "b", new Uint8Array(1000).fill(i), {
      ...NONE,
      bytesPerSecond: 20000,
    });
  }
  await sleep(220);
  assert.deepEqual(sent.map((s) => s.tag), [0, 1, 2]);
  assert.ok(sent[0].at >= 45 && sent[2].at >= 145, sent.map((s) => s.at.toFixed(0)).join(" "));
  scheduler.close();
});

Deno.test("link scheduler: a reordered copy is overtaken by the next one, or goes after its hold", async () => {
  const { scheduler, tags } = recorder();
  scheduler.schedule("a->b", "b", new Uint8Array([1]), { ...NONE, holdMs: 1000 });
  scheduler.schedule("a->b", "b", new Uint8Array([2]), NONE);
  scheduler.schedule("a->b", "b", new Uint8Array([3]), NONE);
  assert.deepEqual(tags(), [2, 1, 3]);
  scheduler.schedule("a->b", "b", new Uint8Array([4]), { ...NONE, holdMs: 30 });
  assert.deepEqual(tags(), [2, 1, 3]);
  await sleep(80);
  assert.deepEqual(tags(), [2, 1, 3, 4], "released after its hold");
  scheduler.close();
});

Deno.test("link scheduler: close stops the timers; forget drops a node's copies", async () => {
  const { scheduler, tags } = recorder();
  scheduler.schedule("a->b", "b", new Uint8Array([1]), { ...NONE, delayMs: 20 });
  scheduler.schedule("a->c", "c", new Uint8Array([2]), { ...NONE, delayMs: 20 });
  scheduler.forget("b");
  await sleep(60);
  assert.deepEqual(tags(), [2]);
  scheduler.schedule("a->c", "c", new Uint8Array([3]), { ...NONE, delayMs: 20 });
  scheduler.close();
  await sleep(40);
  assert.deepEqual(tags(), [2]);
});
