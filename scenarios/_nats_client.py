"""A tiny NATS JetStream client for the nats-jetstream scenario (Debian 12 ships no NATS CLI).

It speaks NATS's text protocol over a socket, from Python's standard library alone:
INFO, CONNECT, SUB to an inbox, HPUB with a reply subject, MSG and HMSG, PING and PONG
(https://docs.nats.io/reference/reference-protocols/nats-protocol). JetStream's API is
requests on `$JS.API.*` subjects answered in JSON
(https://docs.nats.io/reference/reference-protocols/nats_api_reference).

    python3 jsclient.py create HOST STREAM SUBJECTS   create a file-backed stream of 3 replicas
    python3 jsclient.py ready HOST STREAM             wait until the stream's info answers
    python3 jsclient.py publish HOST SUBJECT COUNT    publish key-1..key-COUNT, `report ack` each acked
    python3 jsclient.py read HOST STREAM              `report have` every message's key
    python3 jsclient.py wait-stop HOST                wait for a message on faultline.stop
    python3 jsclient.py stop LOCAL HOST...            publish faultline.stop until the HOSTs stop answering

Exit codes: 0 done, 3 the server never answered as needed.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import time

PORT = 4222


def address(host):
    """HOST or HOST:PORT, as a socket address (port 4222 by default)."""
    name, _, port = host.partition(":")
    return (name, int(port or PORT))


class Conn:
    """One connection: requests are answered on an inbox of its own."""

    def __init__(self, host, timeout=5.0):
        self.sock = socket.create_connection(address(host), timeout=timeout)
        self.buf = b""
        self.inbox = "_INBOX.%s" % os.urandom(8).hex()
        self.next = 0
        self._line()  # INFO {...}
        self._send(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,'
                   b'"no_responders":true,"protocol":1}\r\n')
        self._send(("SUB %s.* 1\r\n" % self.inbox).encode())
        self._send(b"PING\r\n")
        while self._read_msg(time.monotonic() + timeout) != "PONG":
            pass

    def _send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError()
        self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buf += data

    def _line(self, deadline=None):
        deadline = deadline or time.monotonic() + 5
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def _exactly(self, n, deadline):
        while len(self.buf) < n + 2:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _read_msg(self, deadline):
        """The next protocol message: "PONG", or (subject, headers, payload) of a MSG or HMSG."""
        line = self._line(deadline)
        if line == "PING":
            self._send(b"PONG\r\n")
            return None
        if line.startswith("-ERR"):
            raise ConnectionError(line)
        parts = line.split()
        if parts[0] == "MSG":
            return (parts[1], b"", self._exactly(int(parts[-1]), deadline))
        if parts[0] == "HMSG":
            head, total = int(parts[-2]), int(parts[-1])
            data = self._exactly(total, deadline)
            return (parts[1], data[:head], data[head:])
        return line  # PONG, +OK

    def request(self, subject, payload, headers=None, timeout=5.0):
        """The reply's payload, or None when nobody answered in time (or no responders)."""
        self.next += 1
        reply = "%s.%d" % (self.inbox, self.next)
        body = payload.encode()
        if headers:
            head = "NATS/1.0\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
            head = head.encode()
            self._send(("HPUB %s %s %d %d\r\n" % (subject, reply, len(head), len(head) + len(body)))
                       .encode() + head + body + b"\r\n")
        else:
            self._send(("PUB %s %s %d\r\n" % (subject, reply, len(body))).encode() + body + b"\r\n")
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self._read_msg(deadline)
            except TimeoutError:
                return None
            if isinstance(msg, tuple) and msg[0] == reply:
                # A status reply (503: no responders) has headers and no payload.
                if msg[1].startswith(b"NATS/1.0 ") and not msg[2]:
                    return None
                return msg[2]

    def publish(self, subject, payload):
        body = payload.encode()
        self._send(("PUB %s %d\r\n" % (subject, len(body))).encode() + body + b"\r\n")


def connect(host, deadline):
    """A connection to HOST, retried until the deadline; None after it."""
    while time.monotonic() < deadline:
        try:
            return Conn(host)
        except (OSError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    return None


def api(conn, subject, request, timeout=5.0):
    """A JetStream API request: its JSON reply, or None."""
    answer = conn.request(subject, json.dumps(request) if request is not None else "",
                          timeout=timeout)
    return json.loads(answer) if answer else None


def report(*words):
    subprocess.run(["report", *words], check=True)


def create(host, stream, subjects):
    """Creates the stream (file storage, 3 replicas); an existing one will do."""
    deadline = time.monotonic() + 120
    config = {"name": stream, "subjects": [subjects], "storage": "file", "num_replicas": 3}
    conn = None
    while time.monotonic() < deadline:
        conn = conn or connect(host, deadline)
        try:
            reply = api(conn, "$JS.API.STREAM.CREATE." + stream, config)
        except (OSError, ConnectionError):
            conn = None
            continue
        if reply and ("config" in reply or reply.get("error", {}).get("err_code") == 10058):
            return 0
        time.sleep(1)
    print("the stream was never created:", reply)
    return 3


def info(conn, stream):
    """The stream's info; {} when the cluster says it has no such stream; None otherwise."""
    reply = api(conn, "$JS.API.STREAM.INFO." + stream, None)
    if reply and "config" in reply:
        return reply
    if reply and reply.get("error", {}).get("err_code") == 10059:  # stream not found
        return {}
    return None


def ready(host, stream, seconds=100):
    """Waits until the stream's info answers, or the cluster says the stream is not there."""
    deadline = time.monotonic() + seconds
    conn = None
    while time.monotonic() < deadline:
        conn = conn or connect(host, deadline)
        try:
            if conn and info(conn, stream) is not None:
                return 0
        except (OSError, ConnectionError):
            conn = None
        time.sleep(1)
    print("the stream's info never answered")
    return 3


def publish(host, subject, count):
    """Publishes key-1..key-COUNT; a key is acknowledged once JetStream's ack came back."""
    conn = connect(host, time.monotonic() + 60)
    for i in range(1, count + 1):
        key = "key-%d" % i
        report("step", "publish %d" % i)
        for _ in range(20):
            try:
                reply = conn.request(subject, key, headers={"Nats-Msg-Id": key})
            except (OSError, ConnectionError):
                conn, reply = connect(host, time.monotonic() + 30), None
            ack = json.loads(reply) if reply else {}
            if "seq" in ack and "error" not in ack:
                report("ack", key)
                break
            time.sleep(0.5)
    return 0


def read(host, stream):
    """Reports `have KEY` for every message of the stream."""
    conn = connect(host, time.monotonic() + 60)
    state = (info(conn, stream) or {}).get("state")
    if not state:
        print("no stream", stream)
        return 0
    for seq in range(state["first_seq"], state["last_seq"] + 1):
        reply = api(conn, "$JS.API.STREAM.MSG.GET." + stream, {"seq": seq})
        message = (reply or {}).get("message")
        if message:
            report("have", base64.b64decode(message["data"]).decode())
    return 0


def wait_stop(host):
    """Waits until someone publishes on faultline.stop."""
    conn = connect(host, time.monotonic() + 120)
    if not conn:
        print("the server never answered")
        return 3
    conn._send(b"SUB faultline.stop 2\r\n")
    while True:
        try:
            msg = conn._read_msg(time.monotonic() + 3600)
        except TimeoutError:
            continue
        if isinstance(msg, tuple) and msg[0] == "faultline.stop":
            return 0


def answers(host):
    try:
        socket.create_connection(address(host), timeout=2).close()
        return True
    except OSError:
        return False


def stop(local, hosts):
    """Asks the members to stop, through LOCAL, until none of HOSTS answers (at most a minute)."""
    conn = connect(local, time.monotonic() + 10)
    deadline = time.monotonic() + 60
    while conn and time.monotonic() < deadline:
        if not [host for host in hosts if answers(host)]:
            return 0
        conn.publish("faultline.stop", "stop")
        conn._send(b"PING\r\n")
        time.sleep(1)
    print("the members did not stop")
    return 3


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "create":
        return create(args[0], args[1], args[2])
    if command == "ready":
        return ready(args[0], args[1])
    if command == "publish":
        return publish(args[0], args[1], int(args[2]))
    if command == "read":
        return read(args[0], args[1])
    if command == "wait-stop":
        return wait_stop(args[0])
    if command == "stop":
        return stop(args[0], args[1:])
    print("unknown command", command)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
