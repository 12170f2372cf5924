/**
 * Faults seen from the client's side: the control socket switching faults on a
 * live export, and every fault kind's effect on qemu-io.
 */

import assert from "node:assert/strict";
import { parseFaultSpec } from "../src/fault/spec.ts";
import { QmpClient } from "../src/qmp/client.ts";
import { QmpCommandError } from "../src/qmp/errors.ts";
import {
  faultline,
  qemuIo,
  qemuIoFailed,
  readTraceRecords,
  seededFill,
  serveImage,
  waitFor,
} from "./support/mod.ts";

const MiB = 1024 * 1024;

async function control(path: string): Promise<QmpClient> {
  return await QmpClient.connect(path, { timeoutMs: 5000 });
}

Deno.test("set-block-fault-state error fails the next read with EIO, none restores it, query tells the state", async () => {
  await using served = await serveImage({ size: MiB });
  await using qmp = await control(served.control);
  assert.deepEqual(await qmp.execute("set-block-fault-state", { id: "vda", state: "error" }), {});
  const state = await qmp.execute("query-block-fault-state", { id: "vda" }) as Record<
    string,
    unknown
  >;
  assert.equal(state.state, "error");
  assert.equal(state.errno, "eio");

  const failing = await qemuIo(served.uri(), ["read 0 4096"]);
  assert.match(failing.text, /read failed: Input\/output error/);

  await qmp.execute("set-block-fault-state", { id: "vda", state: "none" });
  assert.equal(
    (await qmp.execute("query-block-fault-state", { id: "vda" }) as { state: string }).state,
    "none",
  );
  const working = await qemuIo(served.uri(), ["read 0 4096"]);
  assert.equal(qemuIoFailed(working), false, working.text);
});

Deno.test("the control socket refuses an unknown disk, an unknown state and bad parameters with QMP errors", async () => {
  await using served = await serveImage({ size: MiB });
  await using qmp = await control(served.control);
  await assert.rejects(
    qmp.execute("set-block-fault-state", { id: "vdz", state: "error" }),
    (e: unknown) =>
      e instanceof QmpCommandError && e.errorClass === "DeviceNotFound" && /vdz/.test(e.desc),
  );
  await assert.rejects(
    qmp.execute("query-block-fault-state", { id: "nope" }),
    (e: unknown) => e instanceof QmpCommandError && e.errorClass === "DeviceNotFound",
  );
  await assert.rejects(
    qmp.execute("set-block-fault-state", { id: "vda", state: "melt" }),
    (e: unknown) => e instanceof QmpCommandError && /state/.test(e.desc),
  );
  await assert.rejects(
    qmp.execute("set-block-fault-state", { id: "vda", state: "delay" }),
    (e: unknown) => e instanceof QmpCommandError && /duration-ms/.test(e.desc),
  );
  await assert.rejects(
    qmp.execute("set-block-fault-state", { id: "vda", state: "error", colour: "red" }),
    (e: unknown) => e instanceof QmpCommandError && /colour/.test(e.desc),
  );
  await assert.rejects(
    qmp.execute("no-such-command"),
    (e: unknown) => e instanceof QmpCommandError && e.errorClass === "CommandNotFound",
  );
});

Deno.test("a live hang holds reads until none releases them", async () => {
  await using served = await serveImage({ size: MiB });
  await using qmp = await control(served.control);
  await qmp.execute("set-block-fault-state", { id: "vda", state: "hang" });
  let finished = false;
  const reading = qemuIo(served.uri(), ["read 0 4096"]).finally(() => finished = true);
  // The read is held: wait until the fault layer says so.
  await waitFor("the fault layer to hold the read", async () => {
    const state = await qmp.execute("query-block-fault-state", { id: "vda" }) as Record<
      string,
      number
    >;
    return state["held-ops"] >= 1;
  });
  const heldAt = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(finished, false, "the read is still held 300 ms later");
  const held = await qmp.execute("query-block-fault-state", { id: "vda" }) as Record<
    string,
    number
  >;
  assert.equal(held["held-ops"], 1, "and the fault layer still counts it");
  const releasedAt = performance.now();
  await qmp.execute("set-block-fault-state", { id: "vda", state: "none" });
  const result = await reading;
  assert.equal(qemuIoFailed(result), false, result.text);
  // The fault layer's own record of the read: it took at least as long as it was seen held.
  await served.service.close("done");
  const read = (await readTraceRecords(served.trace)).ops.find((op) =>
    op.op === "read" && op.offset === 0
  );
  assert.ok(read, "the read is in the trace");
  assert.equal(read.result, "ok");
  const took = read.end - read.start;
  assert.ok(
    took >= releasedAt - heldAt,
    `the read took ${took} ms, held ${releasedAt - heldAt} ms`,
  );
});

Deno.test("faultline fault SOCKET set/query/list/stats drive the control socket from the CLI", async () => {
  await using served = await serveImage({ size: MiB });
  const cli = (action: string, socket: string, ...args: string[]) =>
    faultline(["fault", socket, action, ...args]);
  const set = await cli("set", served.control, "vda", "error");
  assert.equal(set.code, 0, set.text);
  const query = await cli("query", served.control, "vda", "--json");
  assert.equal(JSON.parse(query.stdout).state, "error");
  assert.match((await qemuIo(served.uri(), ["read 0 512"])).text, /Input\/output error/);
  assert.equal((await cli("set", served.control, "vda", "none")).code, 0);
  assert.equal(
    JSON.parse((await cli("query", served.control, "vda", "--json")).stdout).state,
    "none",
  );
  const list = await cli("list", served.control, "--json");
  assert.deepEqual(JSON.parse(list.stdout).live, []);
  const stats = await cli("stats", served.control, "--json");
  assert.ok(JSON.parse(stats.stdout).ops >= 1);
  const bad = await cli("set", served.control, "vda", "eio@17");
  assert.equal(bad.code, 2, "a trigger on a live fault is a usage error");
  assert.match(bad.stderr, /--count/);
});

// Every fault kind, as the client sees it. Each case serves a fresh image with a one-rule plan.
Deno.test("every fault kind shows its effect on qemu-io", async (t) => {
  await t.step("eio / enospc / eperm: the op fails with that errno", async () => {
    for (
      const [spec, text] of [["eio@write#1", "Input/output error"], [
        "enospc@write#1",
        "No space left on device",
      ], ["eperm@read#1", "Operation not permitted"]]
    ) {
      await using served = await serveImage({
        size: MiB,
        plan: { seed: 1, rules: [parseFaultSpec(spec)] },
      });
      const result = await qemuIo(served.uri(), ["write 0 4096", "read 0 4096"]);
      assert.match(result.text, new RegExp(text), `${spec}: ${result.text}`);
    }
  });

  await t.step("delay: one op takes at least the delay", async () => {
    await using served = await serveImage({
      size: MiB,
      plan: { seed: 1, rules: [parseFaultSpec("delay:300ms@read#1")] },
    });
    const started = performance.now();
    const result = await qemuIo(served.uri(), ["read 0 4096"]);
    assert.equal(qemuIoFailed(result), false, result.text);
    assert.ok(performance.now() - started >= 300);
  });

  await t.step("slow-flush: every flush takes at least the delay, and only flushes", async () => {
    await using served = await serveImage({
      size: MiB,
      plan: { seed: 1, rules: [parseFaultSpec("slow-flush:300ms")] },
    });
    const started = performance.now();
    const result = await qemuIo(served.uri(), ["write 0 4096", "flush", "read 0 4096"]);
    assert.equal(qemuIoFailed(result), false, result.text);
    assert.ok(performance.now() - started >= 300);
    await served.service.close("done");
    const ops = (await readTraceRecords(served.trace)).ops;
    const slowed = ops.filter((op) => op.fault?.kind === "slow-flush");
    assert.ok(slowed.length >= 1, "the flush waited");
    assert.ok(slowed.every((op) => op.op === "flush" && op.end - op.start >= 300));
    assert.ok(ops.some((op) => op.op === "write" && !op.fault), "writes go at full speed");
    assert.ok(ops.some((op) => op.op === "read" && !op.fault), "reads go at full speed");
  });

  await t.step("hang with a duration: the disk is silent, then answers", async () => {
    await using served = await serveImage({
      size: MiB,
      plan: { seed: 1, rules: [parseFaultSpec("hang:400ms@read#1")] },
    });
    const started = performance.now();
    const result = await qemuIo(served.uri(), ["read 0 4096", "read 4096 4096"]);
    assert.equal(qemuIoFailed(result), false, result.text);
    assert.ok(performance.now() - started >= 400);
  });

  await t.step("limp: latency on every op from the trigger on, and a bandwidth cap", async () => {
    await using served = await serveImage({
      size: 4 * MiB,
      plan: { seed: 1, rules: [parseFaultSpec("limp:20ms,2M/s")] },
    });
    const started = performance.now();
    // 1 MiB at 2 MiB/s takes at least 500 ms, plus 20 ms per op.
    const result = await qemuIo(served.uri(), ["read 0 1M"]);
    assert.equal(qemuIoFailed(result), false, result.text);
    assert.ok(performance.now() - started >= 520, `took ${performance.now() - started} ms`);
  });

  await t.step("lost-write: acknowledged, never stored", async () => {
    await using served = await serveImage({
      size: MiB,
      plan: { seed: 1, rules: [parseFaultSpec("lost-write@write#1")] },
    });
    const write = await qemuIo(served.uri(), ["write -P 0x66 0 4096"]);
    assert.equal(qemuIoFailed(write), false, "the write is acknowledged");
    const read = await qemuIo(served.uri(), ["read -P 0 0 4096"]);
    assert.equal(qemuIoFailed(read), false, `the old bytes are still there: ${read.text}`);
  });

  await t.step("torn-write: only the first sectors are stored", async () => {
    await using served = await serveImage({
      size: MiB,
      plan: { seed: 1, rules: [parseFaultSpec("torn-write:keep=3@write#1")] },
    });
    assert.equal(qemuIoFailed(await qemuIo(served.uri(), ["write -P 0x55 0 4096"])), false);
    const read = await qemuIo(served.uri(), ["read -P 0x55 0 1536", "read -P 0 1536 2560"]);
    assert.equal(qemuIoFailed(read), false, read.text);
  });

  await t.step(
    "corrupt: seeded bit flips in what is read, the same for the same seed",
    async () => {
      const flipped: string[] = [];
      for (let i = 0; i < 2; i++) {
        await using served = await serveImage({
          size: MiB,
          fill: seededFill(3),
          plan: { seed: 99, rules: [parseFaultSpec("corrupt:read,bits=4@read#1")] },
        });
        const result = await qemuIo(served.uri(), ["read -v 0 512"]);
        const clean = await qemuIo(served.uri(), ["read -v 0 512"]);
        assert.notEqual(result.stdout, clean.stdout, "the first read is corrupted");
        flipped.push(
          result.stdout.split("\n").filter((line) => /^[0-9a-f]{8}:/.test(line)).join("\n"),
        );
      }
      assert.equal(flipped[0], flipped[1], "the same seed flips the same bits");
    },
  );

  await t.step("corrupt on write: what is stored differs from what was sent", async () => {
    await using served = await serveImage({
      size: MiB,
      plan: { seed: 5, rules: [parseFaultSpec("corrupt:write,bits=1@write#1")] },
    });
    assert.equal(qemuIoFailed(await qemuIo(served.uri(), ["write -P 0x00 0 4096"])), false);
    const read = await qemuIo(served.uri(), ["read -P 0x00 0 4096"]);
    assert.match(read.text, /Pattern verification failed/);
  });

  await t.step("fail: from the trigger on every op fails", async () => {
    await using served = await serveImage({
      size: MiB,
      plan: { seed: 1, rules: [parseFaultSpec("fail@write#2")] },
    });
    const result = await qemuIo(served.uri(), ["write 0 512", "write 512 512", "read 0 512"]);
    const lines = result.text.split("\n");
    assert.match(lines[0], /wrote 512\/512/);
    assert.equal(lines.filter((l) => /Input\/output error/.test(l)).length, 2, result.text);
  });

  await t.step(
    "every injected fault is in the trace, as the op's fault and as an event",
    async () => {
      await using served = await serveImage({
        size: MiB,
        plan: { seed: 1, rules: [parseFaultSpec("eio@write#2")] },
      });
      await qemuIo(served.uri(), ["write 0 512", "write 512 512"]);
      await served.service.close("done");
      const { ops, events: all } = await readTraceRecords(served.trace);
      const failed = ops.filter((op) => op.result === "eio");
      assert.equal(failed.length, 1);
      assert.deepEqual(failed[0].fault, { kind: "eio", rule: "eio@write#2" });
      const events = all.filter((e) => e.event === "fault");
      assert.equal(events.length, 1);
      assert.equal(events[0].index, failed[0].index);
    },
  );
});
