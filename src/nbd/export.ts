/**
 * An export: a named disk that the server offers, and the transmission flags
 * it advertises.
 *
 * @module
 */

import type { BlockBackend } from "../block/backend.ts";
import * as P from "./protocol.ts";

/** A disk the server offers under a name. */
export interface NbdExport {
  /** The export name clients ask for (`vda`). */
  readonly name: string;
  /** Shown by `nbdinfo` and in `NBD_OPT_LIST`. */
  readonly description?: string;
  /** The top of the disk's layer stack (recorder, fault layer, store). */
  readonly backend: BlockBackend;
  /** Refuse writes with EPERM and advertise `NBD_FLAG_READ_ONLY`. */
  readonly readOnly?: boolean;
}

/**
 * The transmission flags an export advertises: flush, FUA, trim, write-zeroes
 * and cache are always served; `NBD_FLAG_SEND_DF` only with structured replies,
 * as the spec requires. Multi-conn is safe: one store serves every connection,
 * so a flush on one covers writes completed on all.
 *
 * @example
 * ```ts
 * transmissionFlags({ readOnly: false }, true) & P.FLAG_SEND_FUA; // non-zero
 * ```
 */
export function transmissionFlags(exp: Pick<NbdExport, "readOnly">, structured: boolean): number {
  let flags = P.FLAG_HAS_FLAGS | P.FLAG_SEND_FLUSH | P.FLAG_SEND_FUA | P.FLAG_SEND_TRIM |
    P.FLAG_SEND_WRITE_ZEROES | P.FLAG_SEND_CACHE | P.FLAG_CAN_MULTI_CONN;
  if (structured) flags |= P.FLAG_SEND_DF;
  if (exp.readOnly) flags |= P.FLAG_READ_ONLY;
  return flags;
}
