/**
 * The fixed newstyle handshake, server side: greeting, client flags, then the
 * option haggling until the client chooses an export (`NBD_OPT_EXPORT_NAME` or
 * `NBD_OPT_GO`) or leaves.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md#fixed-newstyle-negotiation
 * and "Option types".
 *
 * @module
 */

import {
  decodeInfoRequest,
  decodeName,
  decodeOptionHeader,
  encodeExportNameReply,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeOptionError,
  encodeOptionReply,
  encodeServerEntry,
  encodeServerGreeting,
  NbdCodecError,
} from "./codec.ts";
import { NbdProtocolError } from "./errors.ts";
import { type NbdExport, transmissionFlags } from "./export.ts";
import * as P from "./protocol.ts";
import type { ReplyWriter } from "./reply_writer.ts";
import type { WireReader } from "./wire_reader.ts";

/** Option data longer than this is taken as a denial of service, and the connection is closed. */
export const MAX_OPTION_LENGTH = 1024 * 1024;

/** Preferred block size advertised with `NBD_INFO_BLOCK_SIZE`: the overlay's unit. */
const PREFERRED_BLOCK = 4096;

/** The exports a handshake can choose from. */
export interface ExportCatalog {
  /** The export of a name; the empty name is the default export. */
  find(name: string): NbdExport | undefined;
  /** Every export, for `NBD_OPT_LIST`. */
  list(): readonly NbdExport[];
}

/** What the handshake agreed on. */
export interface Session {
  export: NbdExport;
  /** Structured replies were negotiated. */
  structured: boolean;
}

/**
 * Runs the server side of the handshake. Resolves with the session, or with
 * `null` when the client aborted.
 *
 * @throws {NbdProtocolError} when the client broke the protocol; the caller
 * closes this connection only.
 * @example
 * ```ts
 * const session = await negotiate(reader, writer, catalog);
 * if (session) await transmit(...);
 * ```
 */
export async function negotiate(
  reader: WireReader,
  writer: ReplyWriter,
  catalog: ExportCatalog,
): Promise<Session | null> {
  writer.send(encodeServerGreeting(P.FLAG_FIXED_NEWSTYLE | P.FLAG_NO_ZEROES));
  const clientFlags = new DataView((await reader.readExact(4)).buffer).getUint32(0);
  if ((clientFlags & ~(P.FLAG_C_FIXED_NEWSTYLE | P.FLAG_C_NO_ZEROES)) !== 0) {
    throw new NbdProtocolError(`unknown client flags 0x${clientFlags.toString(16)}`);
  }
  const noZeroes = (clientFlags & P.FLAG_C_NO_ZEROES) !== 0;
  let structured = false;

  for (;;) {
    const { option, data } = await readOption(reader);
    const reply = (type: number, payload?: Uint8Array) =>
      writer.send(encodeOptionReply(option, type, payload));
    const fail = (type: number, message: string) =>
      writer.send(encodeOptionError(option, type, message));

    switch (option) {
      case P.OPT_EXPORT_NAME: {
        // This option cannot carry an error: an unknown name ends the session.
        const name = decodeNameOrNull(data);
        const chosen = name === null ? undefined : catalog.find(name);
        if (!chosen) {
          throw new NbdProtocolError(`NBD_OPT_EXPORT_NAME asked for unknown export "${name}"`);
        }
        writer.send(
          encodeExportNameReply(
            chosen.backend.size,
            transmissionFlags(chosen, structured),
            noZeroes,
          ),
        );
        return { export: chosen, structured };
      }
      case P.OPT_INFO:
      case P.OPT_GO: {
        const chosen = answerInfo(option, data, catalog, structured, writer);
        if (chosen && option === P.OPT_GO) return { export: chosen, structured };
        break;
      }
      case P.OPT_LIST:
        if (data.length !== 0) {
          fail(P.REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
          break;
        }
        for (const exp of catalog.list()) reply(P.REP_SERVER, encodeServerEntry(exp.name));
        reply(P.REP_ACK);
        break;
      case P.OPT_ABORT:
        reply(P.REP_ACK);
        return null;
      case P.OPT_STRUCTURED_REPLY:
        if (data.length !== 0) fail(P.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
        else if (structured) fail(P.REP_ERR_INVALID, "structured replies are already negotiated");
        else {
          structured = true;
          reply(P.REP_ACK);
        }
        break;
      case P.OPT_STARTTLS:
        fail(
          P.REP_ERR_UNSUP,
          "this server does not offer TLS (it listens on loopback and unix sockets)",
        );
        break;
      default:
        fail(P.REP_ERR_UNSUP, `option ${option} is not supported`);
    }
  }
}

/** Reads one option request, refusing a bad magic or oversized data before reading it. */
async function readOption(reader: WireReader): Promise<{ option: number; data: Uint8Array }> {
  const header = decodeOptionHeader(await reader.readExact(P.OPTION_HEADER_SIZE));
  if (!header.magicOk) throw new NbdProtocolError("option request without the IHAVEOPT magic");
  if (header.length > MAX_OPTION_LENGTH) {
    throw new NbdProtocolError(
      `option ${header.option} with ${header.length} bytes of data (more than ${MAX_OPTION_LENGTH})`,
    );
  }
  return { option: header.option, data: await reader.readExact(header.length) };
}

/**
 * Answers `NBD_OPT_INFO` or `NBD_OPT_GO`: the export's size and flags, then
 * each information the client asked for, then the ack. Returns the export, or
 * undefined after an error reply.
 */
function answerInfo(
  option: number,
  data: Uint8Array,
  catalog: ExportCatalog,
  structured: boolean,
  writer: ReplyWriter,
): NbdExport | undefined {
  const reply = (type: number, payload?: Uint8Array) =>
    writer.send(encodeOptionReply(option, type, payload));
  let request;
  try {
    request = decodeInfoRequest(data);
  } catch (error) {
    if (!(error instanceof NbdCodecError)) throw error;
    writer.send(encodeOptionError(option, P.REP_ERR_INVALID, error.message));
    return undefined;
  }
  const chosen = catalog.find(request.name);
  if (!chosen) {
    writer.send(encodeOptionError(option, P.REP_ERR_UNKNOWN, `no export named "${request.name}"`));
    return undefined;
  }
  reply(P.REP_INFO, encodeInfoExport(chosen.backend.size, transmissionFlags(chosen, structured)));
  if (request.requests.includes(P.INFO_NAME)) {
    reply(P.REP_INFO, encodeInfoString(P.INFO_NAME, chosen.name));
  }
  if (request.requests.includes(P.INFO_DESCRIPTION) && chosen.description) {
    reply(P.REP_INFO, encodeInfoString(P.INFO_DESCRIPTION, chosen.description));
  }
  if (request.requests.includes(P.INFO_BLOCK_SIZE)) {
    reply(P.REP_INFO, encodeInfoBlockSize(1, PREFERRED_BLOCK, P.MAX_PAYLOAD));
  }
  reply(P.REP_ACK);
  return chosen;
}

function decodeNameOrNull(data: Uint8Array): string | null {
  try {
    return decodeName(data);
  } catch {
    return null;
  }
}
