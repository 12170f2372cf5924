/**
 * The guest-to-host results channel: lines of text that the guest writes to its second
 * serial port (`/dev/ttyS1`, QEMU's second `-serial`), such as `phase workload`, `ack 17`,
 * `have 17`, `exit 0`. A workload writes them with the guest's `report` command
 * (`report ack 17`); the generated `/init` writes the others itself: `phase boot` (the
 * channel is up), `phase mounted` (every disk is mounted; only when there are disks),
 * `phase workload` (the workload starts), `exit CODE` (its exit code), or `error TEXT` when
 * it cannot set the guest up (then no `exit` line follows).
 *
 * A write to the emulated UART traps into QEMU at once, so a line reaches the host before
 * the guest's next instruction: an `ack` cannot overtake the disk operations issued after
 * it.
 *
 * @module
 */

/** The serial device of the results channel in the guest. */
export const RESULTS_DEVICE = "/dev/ttyS1";

/** Kinds of line that faultline itself writes or reads; a workload may write others. */
export type ResultKind = "phase" | "ack" | "have" | "exit" | "error";

/** One line of the results channel. */
export interface ResultLine {
  /** The first word, such as `ack`. */
  readonly kind: string;
  /** The words after it. */
  readonly args: readonly string[];
  /** The whole line, without its line ending. */
  readonly text: string;
}

/** What {@linkcode parseResultLines} found. */
export interface ParsedResults {
  readonly lines: ResultLine[];
  /** Text after the last line ending: a line still being written, or cut off. */
  readonly rest: string;
}

/**
 * Splits results-channel text into lines (LF or CRLF), skipping empty ones.
 *
 * @example
 * ```ts
 * parseResultLines("phase workload\r\nack 1\nexit 0\n").lines.map((l) => l.kind);
 * // ["phase", "ack", "exit"]
 * ```
 */
export function parseResultLines(text: string): ParsedResults {
  const parts = text.split("\n");
  const rest = parts.pop() ?? "";
  const lines: ResultLine[] = [];
  for (const part of parts) {
    const line = part.replace(/\r+$/, "").replace(/^\r+/, "");
    const words = line.trim().split(/\s+/).filter((w) => w !== "");
    if (words.length === 0) continue;
    lines.push({ kind: words[0], args: words.slice(1), text: line });
  }
  return { lines, rest };
}

/**
 * The workload's exit code from an `exit CODE` line, or undefined when there is none.
 *
 * @example
 * ```ts
 * exitCodeOf(parseResultLines("ack 1\nexit 3\n").lines); // 3
 * ```
 */
export function exitCodeOf(lines: readonly ResultLine[]): number | undefined {
  const line = lines.findLast((l) => l.kind === "exit" && /^\d+$/.test(l.args[0] ?? ""));
  return line ? Number(line.args[0]) : undefined;
}
