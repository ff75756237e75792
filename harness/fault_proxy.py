#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for AWS clients: a flaky network and a flaky AWS.

Tests start it in front of the emulator (or moto) and point the client at it:

    fault_proxy.py --upstream http://127.0.0.1:4566 [--port 0]

prints `ready http://127.0.0.1:PORT` on stdout once it serves (loopback only;
port 0 picks a free port) and stops on SIGTERM or SIGINT. Every request is
forwarded to the upstream unchanged (method, path, headers, body) and the
upstream's answer comes back unchanged, except while a **fault window** is open
for the request's action: the `X-Amz-Target` suffix (`DescribeServices`,
`UpdateService`, `RegisterScalableTarget`, ...), or the `Action` query/form field
of query-protocol services; `"*"` matches every AWS request. Requests with no
action (`/_emulator/...`, `/moto-api/...`) are never faulted.

A window answers, for `seconds` (real time) and/or `count` matching requests:

- `throttle`: HTTP 400 `ThrottlingException` "Rate exceeded", the error AWS's
  JSON protocols send when a request rate is exceeded (ECS API reference,
  "Common Errors": ThrottlingException, 400). Not forwarded.
- `error`: HTTP `status` (500 by default; 503 is ServiceUnavailable), the
  retryable server errors of "Common Errors". Not forwarded.
- `reset`: the request is read, then the TCP connection is closed with an RST
  (SO_LINGER 0) and no answer. Not forwarded.
- `blackhole`: the request is read and never answered. The connection is held
  until the window's `seconds` run out, the client gives up (closes it), the
  windows are cleared or the proxy stops; then it is closed with no answer. Other
  requests are served meanwhile (one thread per connection).

With `"after_forward": true` (error, reset, blackhole) the request *is* forwarded
and the upstream's answer thrown away: the change took effect but the client
sees a failure, as when an answer is lost on the way back. `throttle` refuses it:
a throttled AWS request is not carried out.

The error bodies are the emulator's injected-fault answers (emulator/faults.py):
AWS JSON 1.1 `{"__type", "message"}` with `x-amzn-ErrorType`, or the query
protocols' XML. Control endpoints (JSON in and out; never forwarded):

    POST   /_proxy/faults   a window spec or a list of them -> {"windows": [...]}
           {"action": "DescribeServices", "kind": "throttle", "seconds": 6}
           {"action": "UpdateService", "kind": "error", "status": 503, "count": 1,
            "after_forward": true}
    GET    /_proxy/faults   the open windows
    DELETE /_proxy/faults   close every window (held blackhole requests are dropped)
    GET    /_proxy/log      every request so far: {"n", "time", "method", "path",
                            "action", "did", "forwarded", "status", "window", "ended"}
    POST   /_proxy/reset    close every window and clear the log
    GET    /_proxy/health   {"ok": true, "upstream": URL}

Standard library only (plus the emulator package next to this file).
"""

import argparse
import http.client
import json
import select
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True

from emulator.faults import fault_answer  # noqa: E402
from emulator.server import HOP_BY_HOP, RE_CREDENTIAL  # noqa: E402

KINDS = ("throttle", "error", "reset", "blackhole")


class Windows:
    """Open fault windows and the request log, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.windows = []
        self.log = []
        self.every = []  # every window opened since the last clear (spent ones may hold requests)
        self.next_id = 1

    def add(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a window spec is a JSON object")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError("kind must be one of %s" % ", ".join(KINDS))
        seconds, count = spec.get("seconds"), spec.get("count")
        if seconds is None and count is None:
            raise ValueError("give seconds or count (or both)")
        if seconds is not None and (not isinstance(seconds, (int, float)) or seconds <= 0):
            raise ValueError("seconds must be a positive number")
        if count is not None and (not isinstance(count, int) or count <= 0):
            raise ValueError("count must be a positive integer")
        after = bool(spec.get("after_forward"))
        if after and kind == "throttle":
            raise ValueError("a throttled request is not carried out: after_forward does not apply")
        status = spec.get("status", 400 if kind == "throttle" else 500)
        if not isinstance(status, int):
            raise ValueError("status must be an integer")
        with self.lock:
            w = {
                "id": self.next_id,
                "action": spec.get("action") or "*",
                "kind": kind,
                "status": status,
                "type": spec.get("type"),
                "message": spec.get("message") or ("Rate exceeded" if kind == "throttle" else None),
                "after_forward": after,
                "count": count,
                "seconds": seconds,
                "opened": time.time(),
                "until": time.time() + seconds if seconds is not None else None,
                "matched": 0,
                "closed": False,
            }
            self.next_id += 1
            self.windows.append(w)
            self.every.append(w)
            return dict(w)

    def _prune(self, now):
        self.windows = [
            w
            for w in self.windows
            if (w["until"] is None or now < w["until"]) and (w["count"] is None or w["matched"] < w["count"])
        ]

    def take(self, action):
        """The window that answers this request (one of its count is used), or None."""
        now = time.time()
        with self.lock:
            self._prune(now)
            for w in self.windows:
                if w["action"] == "*" or w["action"] == action:
                    w["matched"] += 1
                    return w
        return None

    def holds(self, w):
        """A blackhole window still holds its requests: not cleared, seconds not run out.

        A count window is spent once matched, but the requests it took stay held
        until its seconds run out (without seconds: until the client gives up)."""
        with self.lock:
            return not w["closed"] and (w["until"] is None or time.time() < w["until"])

    def open_windows(self):
        with self.lock:
            self._prune(time.time())
            return [dict(w) for w in self.windows]

    def clear(self, log_too=False):
        with self.lock:
            for w in self.every:
                w["closed"] = True
            self.windows, self.every = [], []
            if log_too:
                self.log = []

    def record(self, **entry):
        with self.lock:
            entry.setdefault("window", None)
            entry.setdefault("status", None)
            entry.setdefault("forwarded", False)
            entry["n"] = len(self.log) + 1
            entry["ended"] = None
            self.log.append(entry)
            return entry

    def end(self, entry, **changes):
        with self.lock:
            entry.update(changes)
            entry["ended"] = time.time()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ecs-fault-proxy"
    upstream = None  # (host, port), set by main()
    upstream_url = None
    state = None
    stopping = None  # threading.Event
    log_requests = False

    def log_message(self, fmt, *args):
        if self.log_requests:
            sys.stderr.write("fault-proxy: %s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        try:
            self.dispatch()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, headers, body):
        self.send_response_only(status)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj):
        self.send(status, [("Content-Type", "application/json")], json.dumps(obj).encode())

    def action(self, body):
        target = self.headers.get("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        q = parse_qs(urlsplit(self.path).query).get("Action")
        if q:
            return q[0]
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "").lower() and body:
            a = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if a:
                return a[0]
        return None

    def dispatch(self):
        body = self.read_body()
        if self.path.startswith("/_proxy/") or self.path == "/_proxy":
            return self.control(body)
        action = self.action(body)
        w = self.state.take(action) if action else None
        entry = self.state.record(
            time=time.time(),
            method=self.command,
            path=self.path,
            action=action,
            did=w["kind"] if w else "forward",
            window=w["id"] if w else None,
        )
        if w is not None and not w["after_forward"]:
            return self.fault(w, entry)
        status, headers, rbody = self.forward(body)
        with self.state.lock:
            entry.update(forwarded=status is not None, upstream_status=status)
        if w is not None:
            return self.fault(w, entry)
        if status is None:
            self.state.end(entry, status=502)
            return self.send_json(502, {"error": "upstream not reachable: %s" % rbody})
        self.state.end(entry, status=status)
        self.send(status, headers, rbody)

    def fault(self, w, entry):
        kind = w["kind"]
        if kind in ("throttle", "error"):
            m = RE_CREDENTIAL.search(self.headers.get("Authorization") or "")
            answer = fault_answer(
                {"status": w["status"], "type": w["type"], "message": w["message"]},
                bool(self.headers.get("X-Amz-Target")),
                m.group(3) if m else "",
            )
            self.state.end(entry, status=answer[0])
            return self.send(*answer)
        if kind == "blackhole":
            why = self.hold(w)
            self.state.end(entry, released=why)
        else:
            self.state.end(entry)
        self.reset_connection()

    def hold(self, w):
        """Keep the request unanswered; say why it was let go."""
        while True:
            if self.stopping.is_set():
                return "proxy-stopped"
            if not self.state.holds(w):
                return "window-closed"
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return "client-closed"
                except OSError:
                    return "client-closed"

    def reset_connection(self):
        """Close with RST and no answer: SO_LINGER on, timeout 0, then close."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # makefile() objects keep the socket open; close them so close() is real.
        self.rfile.close()
        self.connection.close()

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    def forward(self, body):
        """(status, headers, body) from the upstream, or (None, None, error text)."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        except OSError as e:
            return None, None, str(e)
        finally:
            conn.close()

    def control(self, body):
        route, method, st = urlsplit(self.path).path.rstrip("/"), self.command, self.state
        if route == "/_proxy/health":
            return self.send_json(200, {"ok": True, "upstream": self.upstream_url})
        if route == "/_proxy/log" and method == "GET":
            with st.lock:
                return self.send_json(200, [dict(e) for e in st.log])
        if route == "/_proxy/reset" and method == "POST":
            st.clear(log_too=True)
            return self.send_json(200, {"reset": True})
        if route == "/_proxy/faults":
            if method == "GET":
                return self.send_json(200, st.open_windows())
            if method == "DELETE":
                st.clear()
                return self.send_json(200, {"windows": []})
            if method == "POST":
                try:
                    spec = json.loads(body or b"{}")
                    opened = [st.add(s) for s in (spec if isinstance(spec, list) else [spec])]
                except ValueError as e:
                    return self.send_json(400, {"error": str(e)})
                return self.send_json(200, {"windows": opened})
        return self.send_json(404, {"error": "unknown control endpoint %s %s" % (method, route)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description="fault-injecting proxy in front of an AWS endpoint")
    ap.add_argument("--upstream", required=True, help="URL to forward to, e.g. the emulator's")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--log-requests", action="store_true", help="log every request on stderr")
    args = ap.parse_args(argv)
    up = urlsplit(args.upstream)
    if up.scheme != "http" or not up.hostname:
        ap.error("--upstream must be an http:// URL")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Handler.upstream = (up.hostname, up.port or 80)
    Handler.upstream_url = args.upstream.rstrip("/")
    Handler.state = Windows()
    Handler.stopping = stop
    Handler.log_requests = args.log_requests
    server = Server(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print("ready http://127.0.0.1:%d" % server.server_address[1], flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
