/**
 * NBD URIs, as QEMU, qemu-io, nbdinfo and nbdcopy take them
 * (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/uri.md).
 *
 * @module
 */

import type { ListenAddress } from "./server.ts";

/**
 * The URI of an export on a listening address.
 *
 * @example
 * ```ts
 * exportUri({ transport: "unix", path: "/tmp/x/nbd.sock" }, "vda"); // "nbd+unix:///vda?socket=/tmp/x/nbd.sock"
 * exportUri({ transport: "tcp", hostname: "127.0.0.1", port: 10809 }, "vda"); // "nbd://127.0.0.1:10809/vda"
 * ```
 */
export function exportUri(address: ListenAddress, name: string): string {
  if (address.transport === "unix") {
    return `nbd+unix:///${encodeURIComponent(name)}?socket=${address.path}`;
  }
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `nbd://${host}:${address.port}/${encodeURIComponent(name)}`;
}
