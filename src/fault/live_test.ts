import assert from "node:assert/strict";
import { FaultSpecError } from "./errors.ts";
import { LIVE_STATES, liveArguments, parseLiveArguments } from "./live.ts";
import { parseFaultSpec } from "./spec.ts";

Deno.test("live: lie-flush, stall and bad-sectors are set by name, and read back as arguments", () => {
  for (const state of ["lie-flush", "stall", "bad-sectors"]) assert.ok(LIVE_STATES.includes(state));
  assert.deepEqual(parseLiveArguments({ id: "vda", state: "lie-flush" }), {
    disk: "vda",
    fault: { effect: { kind: "lie-flush", fuaOnly: false } },
  });
  assert.deepEqual(parseLiveArguments({ id: "vda", state: "lie-flush", "fua-only": true }).fault, {
    effect: { kind: "lie-flush", fuaOnly: true },
  });
  assert.deepEqual(
    parseLiveArguments({ id: "vda", state: "stall", "every-ms": 1000, "for-ms": 100 }).fault,
    { effect: { kind: "stall", everyMs: 1000, forMs: 100 } },
  );
  assert.deepEqual(
    parseLiveArguments({ id: "vda", state: "bad-sectors", offset: 4096, length: 1000 }).fault,
    { effect: { kind: "bad-sectors", startSector: 8, endSector: 10, errno: "eio" } },
  );
  // The CLI client writes the same faults as specs: each spec gives back its arguments.
  for (
    const spec of [
      "lie-flush",
      "lie-flush:fua",
      "stall:every=1s,for=100ms",
      "bad-sectors:4096+1024,enospc",
    ]
  ) {
    const effect = parseFaultSpec(spec).effect;
    const args = liveArguments("vda", effect);
    assert.deepEqual(parseLiveArguments(args).fault?.effect, effect, spec);
  }
});

Deno.test("live: the new states refuse what they cannot take", () => {
  const refuses = (args: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => parseLiveArguments({ id: "vda", ...args }),
      (e: unknown) => e instanceof FaultSpecError && pattern.test(e.message),
    );
  refuses({ state: "lie-flush", "fua-only": "yes" }, /'fua-only' expects a boolean/);
  refuses({ state: "stall", "every-ms": 100 }, /stall needs 'every-ms' and 'for-ms'/);
  refuses({ state: "stall", "every-ms": 100, "for-ms": 100 }, /'for-ms' must be above 0/);
  refuses({ state: "bad-sectors", offset: 0 }, /needs 'offset' and 'length'/);
  refuses({ state: "bad-sectors", offset: 0, length: 512, count: 2 }, /'count' is unexpected/);
  assert.throws(
    () => liveArguments("vda", parseFaultSpec("limp:p50=2ms,p99=150ms").effect),
    /cannot be set live/,
  );
  assert.throws(
    () => liveArguments("vda", parseFaultSpec("bad-sectors:0+512").effect, 3),
    /lasts until none/,
  );
});
