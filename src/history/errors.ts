/**
 * The history subsystem's error: a history that cannot be read or checked as given.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** Where in a history file a problem is: the file (when known) and the line. */
export interface HistoryPlace {
  /** The file the history came from, for messages. */
  file?: string;
  /** The line, from 1. */
  line?: number;
}

/**
 * A history that is not what its format or its model expects: a line that is not an op
 * map, a completion with no invoke before it, a value the model cannot read, an unknown
 * model. Its message names the file and the line and says what was expected.
 *
 * @example
 * ```ts
 * new HistoryError("expected an op map", { file: "h.edn", line: 3 }).message;
 * // "h.edn:3: expected an op map"
 * ```
 */
export class HistoryError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
  /** The file the problem is in, when known. */
  readonly file?: string;
  /** Its line, from 1, when known. */
  readonly line?: number;

  /** Makes the error; the message is prefixed with `FILE:LINE: ` as far as they are known. */
  constructor(message: string, place: HistoryPlace = {}) {
    super(`${placeText(place)}${message}`);
    if (place.file !== undefined) this.file = place.file;
    if (place.line !== undefined) this.line = place.line;
  }
}

function placeText(place: HistoryPlace): string {
  if (place.file === undefined && place.line === undefined) return "";
  if (place.line === undefined) return `${place.file}: `;
  return `${place.file === undefined ? "line " : `${place.file}:`}${place.line}: `;
}
