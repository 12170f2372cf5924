/**
 * QmpClient against a real QEMU (`-machine none`, which starts at once), and against a
 * fake server only for what QEMU cannot be made to send (replies out of order, a wrong
 * greeting, garbage bytes).
 */

import assert from "node:assert/strict";
import { makePrivateDir, type PrivateDir } from "../src/util/tempdir.ts";
import {
  decodeMessages,
  encodeMessage,
  type JsonObject,
  QmpAbortError,
  QmpClient,
  QmpCommandError,
  QmpConnectionError,
  type QmpEvent,
  QmpFramingError,
  QmpProtocolError,
  QmpStateError,
  QmpTimeoutError,
} from "../src/qmp/mod.ts";
import {
  cont,
  humanMonitorCommand,
  queryBlock,
  queryMigrate,
  queryStatus,
  quit,
  runOk,
  setLink,
  stop,
} from "./support/mod.ts";

const QEMU = "qemu-system-x86_64";

interface Qemu extends AsyncDisposable {
  readonly socket: string;
  readonly child: Deno.ChildProcess;
  /** Sends a signal; ignores a process that has already exited. */
  signal(signal: Deno.Signal): void;
  /** Stops QEMU (SIGSTOP) and waits until every one of its threads has stopped. */
  freeze(): Promise<void>;
  /** Lets QEMU run again (SIGCONT). */
  thaw(): void;
}

/** True when every thread of process `pid` is stopped (state T in /proc). */
async function allThreadsStopped(pid: number): Promise<boolean> {
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    const stat = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state !== "T") return false;
  }
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * True when a unix socket at `path` is listening. The socket file appears at bind(2),
 * a moment before listen(2); /proc/net/unix shows the listening flag (0x10000,
 * __SO_ACCEPTCON) without connecting, which would take QEMU's one QMP connection.
 */
async function isListening(path: string): Promise<boolean> {
  const table = await Deno.readTextFile("/proc/net/unix");
  return table.split("\n").some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[7] === path && (parseInt(fields[3], 16) & 0x10000) !== 0;
  });
}

/** Starts QEMU with a QMP socket in a private directory and waits for the socket. */
async function startQemu(): Promise<Qemu> {
  const dir = await makePrivateDir("faultline-qmp-test-");
  const socket = `${dir.path}/qmp.sock`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(QEMU, {
      args: [
        "-machine",
        "none",
        "-nodefaults",
        "-nographic",
        "-display",
        "none",
        "-qmp",
        `unix:${socket},server=on,wait=off`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    await dir.remove();
    throw e;
  }
  const stderr = new Response(child.stderr).text();
  const signal = (sig: Deno.Signal) => {
    try {
      child.kill(sig);
    } catch {
      // Already exited.
    }
  };
  const dispose = async () => {
    signal("SIGKILL");
    await child.status;
    await stderr;
    await dir.remove();
  };
  try {
    let exited = false;
    child.status.then(() => exited = true);
    for (let waited = 0; !(await isListening(socket)); waited += 10) {
      if (exited) throw new Error(`${QEMU} exited before listening on ${socket}: ${await stderr}`);
      if (waited > 10_000) throw new Error(`${QEMU} did not listen on ${socket} within 10 s`);
      await sleep(10);
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  const freeze = async () => {
    signal("SIGSTOP");
    // kill(2) returns before the threads stop; wait, or QEMU may still answer.
    for (let waited = 0; !(await allThreadsStopped(child.pid)); waited += 5) {
      if (waited > 5000) throw new Error(`${QEMU} did not stop within 5 s of SIGSTOP`);
      await sleep(5);
    }
  };
  const thaw = () => signal("SIGCONT");
  return { socket, child, signal, freeze, thaw, [Symbol.asyncDispose]: dispose };
}

function connect(socket: string): Promise<QmpClient> {
  return QmpClient.connect(socket, { timeoutMs: 5000 });
}

async function qemuVersion(): Promise<string> {
  const match = /version (\d+\.\d+\.\d+)/.exec(await runOk(QEMU, ["--version"]));
  assert.ok(match, "qemu --version prints a version");
  return match[1];
}

Deno.test("qmp: greeting carries QEMU's version and capabilities; negotiation done", async () => {
  await using qemu = await startQemu();
  await using qmp = await connect(qemu.socket);
  assert.equal(qmp.state, "ready");
  const { version, capabilities } = qmp.greeting;
  const { major, minor, micro } = version.qemu;
  assert.equal(`${major}.${minor}.${micro}`, await qemuVersion());
  assert.equal(typeof version.package, "string");
  assert.ok(capabilities.includes("oob"), `capabilities ${JSON.stringify(capabilities)}`);
  // QEMU says negotiation is complete: the client already ran qmp_capabilities.
  await assert.rejects(qmp.execute("qmp_capabilities"), (e: unknown) => {
    assert.ok(e instanceof QmpCommandError);
    assert.equal(e.errorClass, "CommandNotFound");
    assert.match(e.desc, /negotiation is already complete/);
    return true;
  });
});

Deno.test("qmp: query-status and the other queries faultline uses", async () => {
  await using qemu = await startQemu();
  await using qmp = await connect(qemu.socket);
  const status = await queryStatus(qmp);
  assert.equal(status.running, true);
  assert.equal(status.status, "running");
  assert.deepEqual(await queryBlock(qmp), []); // -nodefaults: no drives
  assert.deepEqual(await queryMigrate(qmp), {}); // no migration ever started
  assert.equal(
    await humanMonitorCommand(qmp, { "command-line": "info status" }),
    "VM status: running\r\n",
  );
  // Many calls at once: each reply goes to its own call.
  const replies = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) =>
        i % 2 ? queryStatus(qmp) : humanMonitorCommand(qmp, { "command-line": "info status" }),
    ),
  );
  replies.forEach((reply, i) => {
    if (i % 2) assert.equal((reply as { status: string }).status, "running");
    else assert.equal(reply, "VM status: running\r\n");
  });
});

Deno.test("qmp: an error reply carries its class, desc, and what was sent", async () => {
  await using qemu = await startQemu();
  await using qmp = await connect(qemu.socket);
  const error = await qmp.execute("x-faultline-no-such-command", { disk: "vda" }).then(
    () => assert.fail("an unknown command must fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof QmpCommandError);
  assert.equal(error.errorClass, "CommandNotFound");
  assert.equal(error.desc, "The command x-faultline-no-such-command has not been found");
  assert.equal(error.command, "x-faultline-no-such-command");
  assert.deepEqual(error.arguments, { disk: "vda" });
  assert.equal(
    error.message,
    `QMP command 'x-faultline-no-such-command' {"disk":"vda"} failed: CommandNotFound: ` +
      "The command x-faultline-no-such-command has not been found",
  );
  assert.ok(!error.message.includes("\n"));

  await assert.rejects(setLink(qmp, { name: "net0", up: false }), (e: unknown) => {
    assert.ok(e instanceof QmpCommandError);
    assert.equal(e.errorClass, "DeviceNotFound");
    assert.deepEqual(e.arguments, { name: "net0", up: false });
    return true;
  });
  // A wrong argument is refused by QEMU's type check, before any side effect.
  await assert.rejects(qmp.execute("stop", { now: true }), (e: unknown) => {
    assert.ok(e instanceof QmpCommandError);
    assert.equal(e.errorClass, "GenericError");
    return true;
  });
  // The connection is still fine.
  assert.equal((await queryStatus(qmp)).status, "running");
});

Deno.test("qmp: stop and cont give STOP and RESUME events, in order", async () => {
  await using qemu = await startQemu();
  await using qmp = await connect(qemu.socket);
  const events = qmp.events();
  const signal = AbortSignal.timeout(5000);

  const stopped = qmp.waitEvent("STOP", { signal });
  const before = Date.now() / 1000;
  await stop(qmp);
  const stopEvent = await stopped;
  assert.equal(stopEvent.event, "STOP");
  assert.deepEqual(stopEvent.data, {});
  assert.ok(Math.abs(stopEvent.timestamp.seconds - before) < 60, "timestamp is wall-clock time");
  assert.equal((await queryStatus(qmp)).status, "paused");

  const resumed = qmp.waitEvent("RESUME", { signal });
  await cont(qmp);
  await resumed;
  assert.equal((await queryStatus(qmp)).status, "running");

  const seen: QmpEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (seen.length === 2) break;
  }
  assert.deepEqual(seen.map((e) => e.event), ["STOP", "RESUME"]);
  // An event that does not come: the deadline gives a timeout.
  await assert.rejects(
    qmp.waitEvent("BLOCK_IO_ERROR", { signal: AbortSignal.timeout(50) }),
    QmpTimeoutError,
  );
});

Deno.test("qmp: quit gives SHUTDOWN, then QEMU closes the socket and the stream ends", async () => {
  await using qemu = await startQemu();
  await using qmp = await connect(qemu.socket);
  const events = qmp.events();
  const shutdown = qmp.waitEvent("SHUTDOWN", {
    signal: AbortSignal.timeout(5000),
    match: (e) => e.data.reason === "host-qmp-quit",
  });
  await quit(qmp);
  const event = await shutdown;
  assert.deepEqual(event.data, { guest: false, reason: "host-qmp-quit" });
  await qmp.closed;
  assert.equal(qmp.state, "closed");
  assert.match(qmp.closeReason?.message ?? "", /closed by the peer|failed/);
  const names: string[] = [];
  for await (const e of events) names.push(e.event);
  assert.deepEqual(names, ["SHUTDOWN"]);
  assert.equal((await qemu.child.status).code, 0);
  await assert.rejects(queryStatus(qmp), QmpStateError);
});

Deno.test("qmp: QEMU killed while a call is pending rejects it and ends the events", async () => {
  await using qemu = await startQemu();
  await using qmp = await connect(qemu.socket);
  const events = qmp.events();
  // Freeze QEMU so the command is truly in flight (sent, not answered), then kill it.
  await qemu.freeze();
  const pending = queryStatus(qmp);
  const waiting = qmp.waitEvent("STOP");
  await sleep(50);
  qemu.signal("SIGKILL");
  await assert.rejects(pending, (e: unknown) => {
    assert.ok(e instanceof QmpConnectionError, `got ${e}`);
    assert.match(e.message, /while waiting for the reply to 'query-status'/);
    assert.ok(e.message.includes(qemu.socket));
    return true;
  });
  await assert.rejects(waiting, QmpConnectionError);
  const rest: QmpEvent[] = [];
  for await (const e of events) rest.push(e);
  assert.deepEqual(rest, []);
  assert.equal(qmp.state, "closed");
  await assert.rejects(queryStatus(qmp), (e: unknown) => {
    assert.ok(e instanceof QmpStateError);
    assert.equal(e.state, "closed");
    return true;
  });
});

Deno.test("qmp: a deadline on a call gives QmpTimeoutError; its late reply is dropped", async () => {
  await using qemu = await startQemu();
  await using qmp = await connect(qemu.socket);
  await qemu.freeze(); // QEMU will not answer until SIGCONT
  try {
    await assert.rejects(
      queryStatus(qmp, { signal: AbortSignal.timeout(100) }),
      (e: unknown) => {
        assert.ok(e instanceof QmpTimeoutError, `got ${e}`);
        assert.equal(e.message, "QMP timed out waiting for the reply to 'query-status'");
        return true;
      },
    );
    const controller = new AbortController();
    const aborted = humanMonitorCommand(qmp, { "command-line": "info status" }, {
      signal: controller.signal,
    });
    controller.abort(new Error("user gave up"));
    await assert.rejects(aborted, (e: unknown) => {
      assert.ok(e instanceof QmpAbortError && !(e instanceof QmpTimeoutError), `got ${e}`);
      return true;
    });
  } finally {
    qemu.thaw();
  }
  // QEMU now answers the two abandoned calls, then this one; only this one resolves, and
  // with its own reply ("info version" prints the version and the package, unspaced).
  const text = await humanMonitorCommand(qmp, { "command-line": "info version" });
  assert.equal(text, `${await qemuVersion()}${qmp.greeting.version.package}\r\n`);
});

Deno.test("qmp: connect times out when the server never greets", async () => {
  await using qemu = await startQemu();
  await qemu.freeze(); // the kernel accepts the connection; QEMU says nothing
  try {
    const qmp = new QmpClient();
    await assert.rejects(qmp.connect(qemu.socket, { timeoutMs: 100 }), (e: unknown) => {
      assert.ok(e instanceof QmpTimeoutError, `got ${e}`);
      assert.match(e.message, /waiting for the greeting on QMP socket .*qmp\.sock/);
      return true;
    });
    assert.equal(qmp.state, "closed");
    assert.throws(() => qmp.greeting, QmpStateError);
  } finally {
    qemu.thaw();
  }
});

Deno.test("qmp: calls in the wrong state are refused with QmpStateError", async () => {
  const idle = new QmpClient();
  assert.equal(idle.state, "idle");
  await assert.rejects(idle.execute("query-status"), (e: unknown) => {
    assert.ok(e instanceof QmpStateError);
    assert.equal(e.state, "idle");
    assert.equal(e.message, "QMP client cannot execute 'query-status': it is idle, not ready");
    return true;
  });
  assert.throws(() => idle.events(), QmpStateError);
  await assert.rejects(idle.waitEvent("STOP"), QmpStateError);
  await idle.close();
  await idle.close(); // idempotent

  await using qemu = await startQemu();
  const qmp = new QmpClient();
  const connecting = qmp.connect(qemu.socket, { timeoutMs: 5000 });
  assert.equal(qmp.state, "connecting");
  await assert.rejects(qmp.execute("query-status"), (e: unknown) => {
    assert.ok(e instanceof QmpStateError);
    assert.equal(e.state, "connecting");
    return true;
  });
  await connecting;
  await assert.rejects(qmp.connect(qemu.socket), QmpStateError);
  assert.equal((await queryStatus(qmp)).status, "running");
  await qmp.close();
  await qmp.close();
  assert.equal(qmp.state, "closed");
  await assert.rejects(queryStatus(qmp), (e: unknown) => {
    assert.ok(e instanceof QmpStateError);
    assert.match(
      e.message,
      /it is closed, not ready \(QMP connection to .* closed by the client\)/,
    );
    return true;
  });
  assert.throws(() => qmp.events(), QmpStateError);
  // QEMU accepts a new client once the old one is gone.
  await using again = await connect(qemu.socket);
  assert.equal((await queryStatus(again)).status, "running");
});

Deno.test("qmp: close() rejects pending calls and ends event streams", async () => {
  await using qemu = await startQemu();
  const qmp = await connect(qemu.socket);
  await qemu.freeze();
  try {
    const pending = queryStatus(qmp);
    const event = qmp.waitEvent("STOP");
    const events = qmp.events();
    await sleep(20);
    const rejected = assert.rejects(pending, /closed by the client while waiting for the reply/);
    await qmp.close();
    await rejected;
    await assert.rejects(event, QmpConnectionError);
    assert.deepEqual(await events.next(), { value: undefined, done: true });
  } finally {
    qemu.thaw();
  }
});

Deno.test("qmp: connecting to a missing socket names the path", async () => {
  await using dir = await makePrivateDir("faultline-qmp-test-");
  const path = `${dir.path}/absent.sock`;
  await assert.rejects(QmpClient.connect(path), (e: unknown) => {
    assert.ok(e instanceof QmpConnectionError, `got ${e}`);
    assert.ok(e.message.startsWith(`cannot connect to QMP socket ${path}: `), e.message);
    return true;
  });
});

// --- Fake server: only for what a real QEMU cannot be made to send. ---

/** Serves one connection on a unix socket with `script`, then closes everything. */
async function withFakeServer(
  script: (conn: Deno.Conn, read: () => Promise<JsonObject>) => Promise<void>,
  test: (path: string) => Promise<void>,
): Promise<void> {
  await using dir: PrivateDir = await makePrivateDir("faultline-qmp-fake-");
  const path = `${dir.path}/fake.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    const messages = decodeMessages(conn.readable);
    const read = async () => {
      const next = await messages.next();
      if (next.done) throw new Error("client closed");
      return next.value;
    };
    try {
      await script(conn, read);
    } finally {
      await messages.return();
      try {
        conn.close();
      } catch {
        // The stream's end already closed it.
      }
    }
  })();
  try {
    await test(path);
  } finally {
    listener.close();
    await served.catch(() => {});
  }
}

const GREETING = {
  QMP: { version: { qemu: { major: 9, minor: 9, micro: 9 }, package: "fake" }, capabilities: [] },
};

async function send(conn: Deno.Conn, message: object | Uint8Array): Promise<void> {
  const bytes = message instanceof Uint8Array ? message : encodeMessage(message);
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

Deno.test("qmp (fake server): out-of-order replies, unknown ids, events in between", async () => {
  await withFakeServer(async (conn, read) => {
    await send(conn, GREETING);
    const negotiate = await read();
    assert.equal(negotiate.execute, "qmp_capabilities");
    await send(conn, { return: {}, id: negotiate.id });
    const a = await read();
    const b = await read();
    // Everything in one write, no separators: a stray reply, an event, b's reply, a's.
    const bytes = [
      { return: "stray", id: 999 },
      { return: "wrong type", id: "x" },
      { event: "E1", timestamp: { seconds: 1, microseconds: 2 } },
      { return: `b:${b.execute}`, id: b.id },
      { event: "E2", data: { n: 1 }, timestamp: { seconds: 3, microseconds: 4 } },
      { error: { class: "GenericError", desc: "a failed" }, id: a.id },
    ].map((m) => JSON.stringify(m)).join("");
    await send(conn, new TextEncoder().encode(bytes));
    await read().catch(() => {}); // wait for the client to go
  }, async (path) => {
    await using qmp = await QmpClient.connect(path, { timeoutMs: 5000 });
    assert.equal(qmp.greeting.version.package, "fake");
    const events = qmp.events();
    const a = qmp.execute("first", { x: 1 });
    const b = qmp.execute("second");
    await assert.rejects(a, (e: unknown) => {
      assert.ok(e instanceof QmpCommandError);
      assert.equal(e.message, `QMP command 'first' {"x":1} failed: GenericError: a failed`);
      return true;
    });
    assert.equal(await b, "b:second");
    const first = await events.next();
    const second = await events.next();
    assert.deepEqual(first.value, {
      event: "E1",
      data: {},
      timestamp: { seconds: 1, microseconds: 2 },
    });
    assert.deepEqual((second.value as QmpEvent).data, { n: 1 });
    await events.return?.();
  });
});

Deno.test("qmp (fake server): a first message that is not a greeting", async () => {
  await withFakeServer(async (conn, read) => {
    await send(conn, { return: {} });
    await read().catch(() => {});
  }, async (path) => {
    const qmp = new QmpClient();
    await assert.rejects(qmp.connect(path, { timeoutMs: 5000 }), (e: unknown) => {
      assert.ok(e instanceof QmpProtocolError, `got ${e}`);
      assert.match(e.message, /expected the QMP greeting on .*, got \{"return":\{\}\}/);
      return true;
    });
    assert.equal(qmp.state, "closed");
  });
});

Deno.test("qmp (fake server): garbage on the wire drops the connection", async () => {
  await withFakeServer(async (conn, read) => {
    await send(conn, GREETING);
    const negotiate = await read();
    await send(conn, { return: {}, id: negotiate.id });
    await read();
    await send(conn, new TextEncoder().encode("\r\nnot json\r\n"));
    await read().catch(() => {});
  }, async (path) => {
    await using qmp = await QmpClient.connect(path, { timeoutMs: 5000 });
    await assert.rejects(qmp.execute("anything"), (e: unknown) => {
      assert.ok(e instanceof QmpConnectionError, `got ${e}`);
      assert.ok(e.cause instanceof QmpConnectionError);
      assert.ok(e.cause.cause instanceof QmpFramingError);
      assert.match(e.message, /dropped: expected '\{' to begin a QMP message, found 'n'/);
      return true;
    });
    assert.equal(qmp.state, "closed");
  });
});
