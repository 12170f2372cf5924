import assert from "node:assert/strict";
import { formatGuestClock, type GuestClock, guestClockOf, parseGuestClock } from "./guest_clock.ts";

Deno.test("guest clock: host, and icount with its defaults (shift=auto, sleep on, no align)", () => {
  assert.deepEqual(parseGuestClock("host"), { mode: "host" });
  assert.deepEqual(parseGuestClock("icount"), {
    mode: "icount",
    shift: "auto",
    sleep: true,
    align: false,
  });
  assert.deepEqual(parseGuestClock("icount:shift=4,sleep=off"), {
    mode: "icount",
    shift: 4,
    sleep: false,
    align: false,
  });
  assert.deepEqual(parseGuestClock("icount:shift=0,align"), {
    mode: "icount",
    shift: 0,
    sleep: true,
    align: true,
  });
});

Deno.test("guest clock: the canonical text reads back as the same clock", () => {
  const clocks: GuestClock[] = [
    { mode: "host" },
    { mode: "icount", shift: "auto", sleep: true, align: false },
    { mode: "icount", shift: 10, sleep: false, align: true },
    { mode: "icount", shift: 0, sleep: true, align: false },
  ];
  for (const clock of clocks) assert.deepEqual(parseGuestClock(formatGuestClock(clock)), clock);
  assert.equal(formatGuestClock(clocks[1]), "icount:shift=auto");
});

Deno.test("guest clock: refuses what QEMU would not run, naming it", () => {
  for (
    const [text, words] of [
      ["tsc", /not "tsc"/],
      ["icount:shift=11", /0 to 10, not "11"/],
      ["icount:shift=-1", /not "-1"/],
      ["icount:shift=", /not ""/],
      ["icount:speed=2", /not "speed=2"/],
      ["icount:sleep=maybe", /not "sleep=maybe"/],
      ["icount:align", /align needs a fixed shift/],
    ] as const
  ) assert.throws(() => parseGuestClock(text), words, text);
});

Deno.test("guest clock: a trace's header map reads as the clock, anything else as null", () => {
  const icount = { mode: "icount", shift: 4, sleep: false, align: true } as const;
  assert.deepEqual(guestClockOf({ ...icount }), icount);
  assert.deepEqual(guestClockOf({ mode: "host" }), { mode: "host" });
  for (
    const value of [
      null,
      "host",
      { mode: "tsc" },
      { ...icount, shift: 11 },
      { ...icount, shift: 1.5 },
      { ...icount, sleep: "on" },
      { mode: "icount", shift: "auto" },
    ]
  ) assert.equal(guestClockOf(value), null, JSON.stringify(value));
});
