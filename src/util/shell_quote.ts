/**
 * Quoting for a POSIX shell: the words faultline writes into the guest's scripts, the
 * command QEMU runs through `/bin/sh` for a saved state's migration, and the command
 * line shown to reproduce a replay. faultline itself never runs a host shell on
 * scenario text.
 *
 * @module
 */

/** The characters that need no quoting anywhere in a word. */
const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/;

/**
 * `value` as one word of a POSIX shell: in single quotes, each `'` written as `'\''`.
 * Every word is quoted, so a generated script's text (hashed into cache keys) does not
 * depend on which characters a value holds.
 *
 * @example
 * ```ts
 * shellQuote("it's"); // "'it'\\''s'"
 * shellQuote("/data"); // "'/data'"
 * ```
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A command line for a person to read and paste: the words joined by spaces, each
 * quoted only when it holds a character a shell treats specially.
 *
 * @example
 * ```ts
 * shellCommand(["faultline", "replay", "run.trace", "--fault", "eio@write#3"]);
 * // "faultline replay run.trace --fault 'eio@write#3'"
 * ```
 */
export function shellCommand(words: readonly string[]): string {
  return words.map((word) => SAFE_WORD.test(word) ? word : shellQuote(word)).join(" ");
}
