/**
 * Histories for tests, written as Jepsen logs them (`0 invoke write 1`: process, type, f,
 * value as EDN) and turned into EDN op maps, one a line.
 *
 * @module
 */

/**
 * The EDN history of `lines`, each `PROCESS TYPE F [VALUE] [| EXTRA]`: VALUE is EDN text
 * (nil when absent), EXTRA more EDN map entries such as `:key "x"`.
 *
 * @example
 * ```ts
 * ednHistory(["0 invoke write 1", "0 ok write 1"]);
 * // "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n"
 * ```
 */
export function ednHistory(lines: readonly string[]): string {
  return lines.map((line) => {
    const [op, extra] = line.split(" | ");
    const [process, type, f, ...value] = op.trim().split(/\s+/);
    const more = extra ? `, ${extra}` : "";
    return `{:process ${process}, :type :${type}, :f :${f}, :value ${
      value.join(" ") || "nil"
    }${more}}`;
  }).join("\n") + "\n";
}
