/**
 * The host-to-guest control channel: commands from faultline to the guest's `/init`, never
 * to the workload (the results disk, src/vm/results.ts, carries the other way). Every node
 * of a cluster built by faultline has one; it carries the wall clock's jumps
 * (`clock-jump`, docs/fault-spec.md "Node faults").
 *
 * ## The contract
 *
 * QEMU gives the guest one virtio-serial port named {@linkcode CONTROL_PORT_NAME}, whose
 * chardev is a client of a unix socket that faultline listens on before QEMU starts
 * (`qemu_args.ts`): QEMU connects at its start, so the host end is open before the guest
 * boots (a virtio console port read while the host is not connected ends at once).
 * faultline writes one command a line, `WORD ARGS...`:
 *
 * - `jump-clock MS`: the wall clock jumps by MS milliseconds (back when negative; whole
 *   seconds). `/init` reads `$EPOCHREALTIME` (microseconds), sets the clock with busybox
 *   `date -s @SECONDS`, which takes whole seconds, to the second nearest to where the jump
 *   takes it (so within half a second of the exact jump), then reports
 *   `clock jumped MS BEFORE AFTER` on the results channel, BEFORE and AFTER being
 *   `$EPOCHREALTIME` just before and just after.
 *
 * `/init` loads `virtio_console`, waits for the port as it waits for the disks (failing the
 * same way when it does not appear), then reads it in the background for as long as the
 * guest runs; a word it does not know is skipped.
 *
 * @module
 */

import { shellQuote } from "../util/shell_quote.ts";

/** The name of the virtio-serial port (`-device virtserialport,name=`), which the guest finds it by. */
export const CONTROL_PORT_NAME = "faultline.control";

/** The kernel modules the control channel needs, after the virtio modules. */
export const CONTROL_MODULES: readonly string[] = ["virtio_console"];

/** A command to a guest's `/init`. */
export type ControlCommand =
  /** The wall clock jumps by `ms` (back when negative), whole seconds. */
  { do: "jump-clock"; ms: number };

/**
 * One command as the line that carries it.
 *
 * @example
 * ```ts
 * encodeControlCommand({ do: "jump-clock", ms: -30000 }); // "jump-clock -30000\n"
 * ```
 */
export function encodeControlCommand(command: ControlCommand): string {
  if (!Number.isSafeInteger(command.ms) || command.ms % 1000 !== 0) {
    throw new RangeError(`a clock jumps by whole seconds, not ${command.ms} ms`);
  }
  return `${command.do} ${command.ms}\n`;
}

/**
 * The lines of `/init` that wait for the control port (up to `tenths` tenths of a second,
 * `timeout` in words) and read it in the background. They come after the results channel is
 * up: `fail` and `report` are defined.
 *
 * @example
 * ```ts
 * controlInitLines(100, "10s").join("\n").includes("faultline.control"); // true
 * ```
 */
export function controlInitLines(tenths: number, timeout: string): string[] {
  return [
    "# The control channel (src/vm/control.ts): faultline's commands to /init, never the workload's.",
    "control_port=",
    "i=0",
    "while :; do",
    "  for n in /sys/class/virtio-ports/*/name; do",
    '    [ -f "$n" ] || continue',
    "    port_name=",
    '    read -r port_name <"$n"',
    `    [ "$port_name" = ${shellQuote(CONTROL_PORT_NAME)} ] || continue`,
    "    control_port=${n%/name}",
    "    control_port=/dev/${control_port##*/}",
    "  done",
    '  [ -c "$control_port" ] && break',
    `  i=$((i + 1)); [ "$i" -gt ${tenths} ] && break`,
    "  sleep 0.1",
    "done",
    `[ -c "$control_port" ] || fail ${
      shellQuote(`no control channel (virtio-serial port ${CONTROL_PORT_NAME}) after ${timeout}`)
    }`,
    "# busybox date sets whole seconds: the nearest second to where the jump takes the clock.",
    "jump_clock() {",
    "  case \"$1\" in '' | *[!0-9-]* | ?*-*) return 0 ;; esac",
    "  before=$EPOCHREALTIME",
    "  now=$((${before%.*} * 1000000 + 1${before#*.} - 1000000))",
    '  date -s "@$(((now + $1 * 1000 + 500000) / 1000000))" >/dev/null',
    '  report clock jumped "$1" "$before" "$EPOCHREALTIME"',
    "}",
    "read_control() {",
    "  while :; do",
    "    while read -r command value; do",
    '      case "$command" in',
    '      jump-clock) jump_clock "$value" ;;',
    "      esac",
    '    done <"$control_port"',
    "    # End of file: the host end is not connected (yet); read again a moment later.",
    "    sleep 1",
    "  done",
    "}",
    "read_control </dev/null >/dev/console 2>&1 &",
  ];
}

/**
 * The host end of one boot's control channel: a unix socket faultline listens on, which the
 * node's QEMU connects to once, at its start. Commands are written in the order sent.
 *
 * @example
 * ```ts
 * await using control = ControlChannel.listen(`${dir}/n2-run-0.control`);
 * // start QEMU with { control: control.path }, then:
 * await control.send({ do: "jump-clock", ms: -30000 }); // true once written
 * ```
 */
export class ControlChannel implements AsyncDisposable {
  private readonly connection: Promise<Deno.UnixConn | null>;
  private sending: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(readonly path: string, private readonly listener: Deno.UnixListener) {
    this.connection = listener.accept().then(
      (conn) => {
        listener.close();
        if (this.closed) conn.close();
        return this.closed ? null : conn;
      },
      () => null,
    );
  }

  /**
   * Listens on `path` (in a private directory) for the node's QEMU.
   *
   * @throws {Deno.errors.AddrInUse} when the path exists.
   */
  static listen(path: string): ControlChannel {
    return new ControlChannel(path, Deno.listen({ transport: "unix", path }));
  }

  /**
   * Writes one command (after QEMU connected); false when QEMU never connected or is gone.
   */
  send(command: ControlCommand): Promise<boolean> {
    const bytes = new TextEncoder().encode(encodeControlCommand(command));
    const sent = this.sending.then(async () => {
      const conn = await this.connection;
      if (!conn || this.closed) return false;
      try {
        for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
        return true;
      } catch {
        return false; // QEMU is gone
      }
    });
    this.sending = sent;
    return sent;
  }

  /** Stops listening and closes the connection (the boot is over). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.listener.close();
    } catch { /* closed once QEMU connected */ }
    const conn = await this.connection;
    try {
      conn?.close();
    } catch { /* closed already */ }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
