/**
 * How a guest's time runs, and QEMU's arguments for it. `host`: QEMU's virtual clock
 * follows the host's while the guest runs (`-rtc clock=vm`, as every boot has it), so a
 * guest on a loaded host sees its programs run slower. `icount`: guest time follows the
 * instructions the guest executed (`-icount shift=N`: 2^N ns each; `auto`: QEMU tunes N to
 * keep near real time), on one TCG thread (`-accel tcg,thread=single`, which icount
 * needs), with `sleep=on` (an idle guest's time goes on at the host's pace) or off (it
 * jumps to the next timer) and `align=on` (QEMU slows the guest down to keep its time from
 * running ahead of the host's; with `shift=auto` a guest measured here never booted).
 * docs/determinism.md says what each
 * was measured to cost and to change.
 *
 * @module
 */

import type { Accelerator } from "./accel.ts";
import { VmError } from "./launcher.ts";

/** A guest's clock: the host's pace, or counted instructions. */
export type GuestClock =
  | { mode: "host" }
  | {
    mode: "icount";
    /** Each instruction is 2^shift ns of guest time; `auto`: QEMU adapts it. */
    shift: number | "auto";
    /** An idle guest's time goes on at the host's pace (true) or jumps to its next timer. */
    sleep: boolean;
    /** QEMU delays the guest so that its time does not run ahead of the host's. */
    align: boolean;
  };

/** The clock every boot had before icount: the host's pace. */
export const HOST_CLOCK: GuestClock = { mode: "host" };

/** The largest shift faultline takes: the range QEMU's `shift=auto` keeps to (MAX_ICOUNT_SHIFT in its icount code). */
export const MAX_ICOUNT_SHIFT = 10;

/**
 * The value of QEMU's `-accel` for an accelerator under a guest clock: the accelerator's
 * name, or for icount `tcg,thread=single` (icount counts the instructions of one TCG
 * thread). One `-accel` only: QEMU takes a second as a fallback, not as more options.
 *
 * @throws {VmError} (usage) for icount under KVM, which has none.
 * @example
 * ```ts
 * accelOption("tcg", { mode: "icount", shift: 4, sleep: true, align: false }); // "tcg,thread=single"
 * accelOption("kvm", HOST_CLOCK); // "kvm"
 * ```
 */
export function accelOption(accel: Accelerator, clock: GuestClock): string {
  if (clock.mode === "host") return accel;
  if (accel === "kvm") {
    throw new VmError(
      `the guest clock ${formatGuestClock(clock)} counts TCG's instructions: KVM has no icount`,
      { kind: "usage" },
    );
  }
  return "tcg,thread=single";
}

/**
 * QEMU's `-icount` for a guest clock: none for the host's.
 *
 * @example
 * ```ts
 * icountArgs({ mode: "icount", shift: 4, sleep: true, align: false });
 * // ["-icount", "shift=4,sleep=on,align=off"]
 * ```
 */
export function icountArgs(clock: GuestClock): string[] {
  if (clock.mode === "host") return [];
  const onOff = (on: boolean) => on ? "on" : "off";
  return [
    "-icount",
    `shift=${clock.shift},sleep=${onOff(clock.sleep)},align=${onOff(clock.align)}`,
  ];
}

/**
 * A guest clock as its text says it: `host`, or `icount` with any of `shift=N` (0 to
 * {@link MAX_ICOUNT_SHIFT}, or `auto`, the default), `sleep=off` and `align`, joined by
 * commas after a colon.
 *
 * @throws {RangeError} naming what is wrong, for a text that is not one.
 * @example
 * ```ts
 * parseGuestClock("icount:shift=4"); // { mode: "icount", shift: 4, sleep: true, align: false }
 * ```
 */
export function parseGuestClock(text: string): GuestClock {
  if (text === "host") return HOST_CLOCK;
  const [mode, params = ""] = splitOnce(text, ":");
  if (mode !== "icount") {
    throw new RangeError(
      `a guest clock is host or icount[:shift=N,sleep=off,align], not "${text}"`,
    );
  }
  const clock = {
    mode: "icount" as const,
    shift: "auto" as number | "auto",
    sleep: true,
    align: false,
  };
  for (const param of params.split(",").filter((p) => p !== "")) {
    const [name, value] = splitOnce(param, "=");
    if (name === "shift") clock.shift = shiftOf(value);
    else if (name === "sleep" && (value === "on" || value === "off")) clock.sleep = value === "on";
    else if (name === "align" && (value === undefined || value === "on" || value === "off")) {
      clock.align = value !== "off";
    } else {throw new RangeError(
        `icount takes shift=N|auto, sleep=on|off and align, not "${param}"`,
      );}
  }
  if (clock.align && clock.shift === "auto") {
    throw new RangeError(
      "icount's align needs a fixed shift (with shift=auto no guest booted here)",
    );
  }
  return clock;
}

/**
 * The canonical text of a guest clock, which {@link parseGuestClock} reads back.
 *
 * @example
 * ```ts
 * formatGuestClock({ mode: "icount", shift: "auto", sleep: true, align: false }); // "icount:shift=auto"
 * ```
 */
export function formatGuestClock(clock: GuestClock): string {
  if (clock.mode === "host") return "host";
  return `icount:shift=${clock.shift}${clock.sleep ? "" : ",sleep=off"}${
    clock.align ? ",align" : ""
  }`;
}

/**
 * A guest clock as a trace's header keeps it (a map, as {@link GuestClock}), or null for a
 * value that is not one.
 *
 * @example
 * ```ts
 * guestClockOf({ mode: "icount", shift: 4, sleep: true, align: false }); // the same clock
 * guestClockOf({ mode: "tsc" }); // null
 * ```
 */
export function guestClockOf(value: unknown): GuestClock | null {
  if (typeof value !== "object" || value === null) return null;
  const clock = value as Record<string, unknown>;
  if (clock.mode === "host") return HOST_CLOCK;
  const shift = clock.shift;
  const shiftOk = shift === "auto" ||
    (Number.isInteger(shift) && (shift as number) >= 0 && (shift as number) <= MAX_ICOUNT_SHIFT);
  if (
    clock.mode !== "icount" || !shiftOk || typeof clock.sleep !== "boolean" ||
    typeof clock.align !== "boolean"
  ) return null;
  return {
    mode: "icount",
    shift: shift as number | "auto",
    sleep: clock.sleep,
    align: clock.align,
  };
}

function shiftOf(value: string | undefined): number | "auto" {
  if (value === "auto") return "auto";
  const shift = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || shift > MAX_ICOUNT_SHIFT) {
    throw new RangeError(`icount's shift is auto or 0 to ${MAX_ICOUNT_SHIFT}, not "${value}"`);
  }
  return shift;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
