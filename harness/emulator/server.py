"""The HTTP front end and the command line: one endpoint on 127.0.0.1 for AWS clients.

A request flows like this (harness/README.md, "How a request flows"):

1. control endpoints (`/_emulator/...`) are answered here and never reach moto;
2. a pending injected fault for the request's action (faults.py) is answered at
   once and not forwarded;
3. every other request is forwarded to moto first (upstream.py), with the same
   method, path, headers and body, and moto's answer is passed back unchanged;
4. except for the owned ECS actions (api.py): once moto has accepted one, the
   emulator answers it from its own state.

Task definitions in moto's answers are cached, and `/moto-api/reset` also resets
the emulator's state.

The region and access key come from the request's SigV4 credential scope
(`us-east-1` when a request is unsigned); the account is moto's, learned from
its ARNs (123456789012 until then).

`main` starts moto (or uses `--moto-url`), waits until it answers, starts the
scheduler's ticker and prints `ready http://127.0.0.1:PORT` on stdout once both
serve. SIGTERM or SIGINT stops the emulator and its moto; if moto dies, the
emulator exits with status 1.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .api import IGNORE_MOTO_5XX, OWNED_ACTIONS, Emulator, body_for_moto
from .common import ECS_TARGET_PREFIX, EcsError, json_error_body, log
from .faults import fault_answer
from .upstream import Moto, start_moto, wait_for_moto

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
}
RE_CREDENTIAL = re.compile(r"Credential=([^/\s,]+)/[^/]+/([^/]+)/([^/]+)/")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ecs-emulator"
    emu = None  # set on the class by serve()
    moto = None
    log_requests = False

    def setup(self):
        super().setup()
        # Headers and body go out as separate writes; without TCP_NODELAY the
        # body waits ~40 ms for the client's delayed ACK (benches/run.sh).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if self.log_requests:
            log("%s %s" % (self.address_string(), fmt % args))

    # every method goes through one place
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, headers, body, head=False):
        lost, self.lost_answer = getattr(self, "lost_answer", None), None
        if lost is not None:
            return self.answer_fault(*lost)
        self.send_response_only(status)
        seen_type = False
        length = None
        for k, v in headers:
            lk = k.lower()
            if lk in HOP_BY_HOP:
                if lk == "content-length" and head:
                    length = v
                continue
            if lk == "content-type":
                seen_type = True
            self.send_header(k, v)
        if not seen_type and body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", length if (head and length is not None) else str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send(status, [("Content-Type", "application/json")] + list(extra), body)

    def send_ecs(self, status, obj, request_id=None):
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-RequestId", request_id or str(uuid.uuid4())),
        ]
        self.send(status, headers, json.dumps(obj).encode())

    def send_ecs_error(self, err, request_id=None):
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-RequestId", request_id or str(uuid.uuid4())),
            ("x-amzn-ErrorType", err.type),
        ]
        self.send(err.status, headers, json_error_body(err.type, err.message))

    def context(self):
        auth = self.headers.get("Authorization") or ""
        m = RE_CREDENTIAL.search(auth)
        access_key = m.group(1) if m else "test"
        region = m.group(2) if m else (self.headers.get("X-Amz-Region") or DEFAULT_REGION)
        return {
            "access_key": access_key,
            "region": region,
            "account": self.emu.accounts.get(access_key, DEFAULT_ACCOUNT),
        }

    def dispatch(self):
        try:
            body = self.read_body()
            path = self.path
            if path.startswith("/_emulator/") or path == "/_emulator":
                return self.control(path, body)
            headers = [(k, v) for k, v in self.headers.items()]
            target = self.headers.get("X-Amz-Target") or ""
            action = target.rsplit(".", 1)[-1] if target else self.query_action(path, body)
            if action and not path.startswith("/moto-api/"):
                fault = self.emu.take_fault(action)
                if fault is not None and fault.get("forward"):
                    # The request takes effect; its answer is lost (see faults.py).
                    self.lost_answer = (fault, bool(target))
                elif fault is not None:
                    return self.answer_fault(fault, bool(target))
            if target.startswith(ECS_TARGET_PREFIX) and action in OWNED_ACTIONS:
                return self.owned(action, headers, body)
            status, rheaders, rbody = self.forward(headers, body)
            if status == 200 and target.startswith(ECS_TARGET_PREFIX) and action in (
                "RegisterTaskDefinition",
                "DescribeTaskDefinition",
            ):
                try:
                    self.emu.cache_task_definition(self.context()["region"], json.loads(rbody).get("taskDefinition"))
                except ValueError:
                    pass
            if path.startswith("/moto-api/reset") and status == 200:
                self.emu.reset_state()
            self.send(status, rheaders, rbody, head=self.command == "HEAD")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # an emulator bug: say so, in the protocol's shape
            traceback.print_exc()
            try:
                self.send_ecs_error(EcsError("ServerException", "ecs-emulator: %s" % e, 500))
            except Exception:
                pass

    def query_action(self, path, body):
        q = urlsplit(path).query
        if q:
            a = parse_qs(q).get("Action")
            if a:
                return a[0]
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "x-www-form-urlencoded" in ctype and body:
            try:
                a = parse_qs(body.decode("utf-8", "replace")).get("Action")
            except Exception:
                a = None
            if a:
                return a[0]
        return None

    def forward(self, headers, body, replace_body=None):
        hdrs = {}
        for k, v in headers:
            if k.lower() in HOP_BY_HOP:
                continue
            hdrs[k] = v
        payload = body if replace_body is None else replace_body
        if payload or self.command in ("POST", "PUT", "PATCH"):
            hdrs["Content-Length"] = str(len(payload))
        try:
            return self.moto.request(self.command, self.path, hdrs, payload)
        except OSError as e:
            return 503, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "ServiceUnavailable")], json_error_body(
                "ServiceUnavailable", "ecs-emulator: moto is not reachable: %s" % e
            )

    def answer_fault(self, fault, json_protocol):
        delay = fault.get("delay")
        if delay:
            time.sleep(float(delay))
        m = RE_CREDENTIAL.search(self.headers.get("Authorization") or "")
        return self.send(*fault_answer(fault, json_protocol, m.group(3) if m else ""))

    def owned(self, action, headers, body):
        ctx = self.context()
        try:
            params = json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            params = None
        status, rheaders, rbody = self.forward(headers, body, replace_body=body_for_moto(action, params))
        if params is None or 400 <= status < 500 or (status >= 500 and action not in IGNORE_MOTO_5XX):
            return self.send(status, rheaders, rbody)
        request_id = None
        for k, v in rheaders:
            if k.lower() == "x-amzn-requestid":
                request_id = v
        moto_json = None
        if status == 200:
            try:
                moto_json = json.loads(rbody)
            except ValueError:
                moto_json = None
        try:
            result = getattr(self.emu, "op_" + action)(ctx, params, status, moto_json)
        except EcsError as e:
            return self.send_ecs_error(e, request_id)
        if result is None:
            return self.send(status, rheaders, rbody)
        return self.send_ecs(200, result, request_id)

    def control(self, path, body):
        route = urlsplit(path).path.rstrip("/")
        method = self.command
        emu = self.emu
        if route == "/_emulator/health":
            return self.send_json(200, {"ok": True, "moto": self.moto.url})
        if route == "/_emulator/timeline" and method == "GET":
            with emu.lock:
                return self.send_json(200, list(emu.timeline))
        if route == "/_emulator/state" and method == "GET":
            return self.send_json(200, emu.dump_state())
        if route == "/_emulator/reset" and method == "POST":
            status, _, rbody = self.moto.reset()
            emu.reset_state()
            emu.reset_faults()
            emu.reset_consistency()
            return self.send_json(200 if status == 200 else 502, {"reset": True, "motoStatus": status})
        if route == "/_emulator/faults":
            if method == "GET":
                with emu.lock:
                    return self.send_json(200, emu.faults)
            if method == "DELETE":
                emu.reset_faults()
                return self.send_json(200, {"faults": []})
            if method == "POST":
                try:
                    spec = json.loads(body or b"{}")
                    specs = spec if isinstance(spec, list) else [spec]
                    for s in specs:
                        emu.add_fault(s)
                except (ValueError, AttributeError) as e:
                    return self.send_json(400, {"error": str(e)})
                with emu.lock:
                    return self.send_json(200, emu.faults)
        if route == "/_emulator/consistency":
            if method == "POST":
                try:
                    emu.set_describe_lag(json.loads(body or b"{}").get("describeServicesLag"))
                except (ValueError, AttributeError) as e:
                    return self.send_json(400, {"error": str(e)})
            return self.send_json(200, emu.consistency_settings())
        if route == "/_emulator/tick" and method == "POST":
            emu.tick()
            return self.send_json(200, {"ticked": True})
        return self.send_json(404, {"error": "unknown control endpoint %s %s" % (method, route)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128




def main(argv=None):
    ap = argparse.ArgumentParser(description="ECS rollout emulator on top of moto's server")
    ap.add_argument("--port", type=int, default=4566, help="port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--time-scale", type=float, default=1.0, help="real seconds per emulated second (e.g. 0.2)")
    ap.add_argument("--moto-url", help="use this running moto server instead of starting one")
    ap.add_argument("--moto-log", help="file for moto_server's output ('-': this process's stderr)")
    ap.add_argument("--start-delay", type=float, default=1.0, help="seconds a task takes to reach RUNNING")
    ap.add_argument("--stop-delay", type=float, default=0.5, help="seconds a stopping task takes to reach STOPPED")
    ap.add_argument("--run-duration", type=float, default=1.0, help="seconds a run-task container runs by default")
    ap.add_argument("--tick", type=float, help="scheduler period in real seconds (default 0.25 x time scale)")
    ap.add_argument(
        "--describe-lag",
        type=float,
        default=0.0,
        help="seconds DescribeServices keeps showing a service as it was before an UpdateService (eventual consistency)",
    )
    ap.add_argument(
        "--minute",
        type=float,
        default=60.0,
        help="emulated seconds per minute of bake time, step bake time and hook timeout (default 60)",
    )
    ap.add_argument("--log-requests", action="store_true", help="log every request on stderr")
    ap.add_argument("--hint", action="store_true", help="print how to point clients at the emulator")
    args = ap.parse_args(argv)
    if args.time_scale <= 0:
        ap.error("--time-scale must be positive")

    workdir = tempfile.mkdtemp(prefix="ecs-emulator-")
    proc = None
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        if args.moto_url:
            moto_url = args.moto_url
        else:
            log_path = args.moto_log or os.path.join(workdir, "moto.log")
            proc, moto_url = start_moto(workdir, log_path)
        moto = Moto(moto_url)
        wait_for_moto(moto, proc)
        emu = Emulator(
            moto,
            scale=args.time_scale,
            start_delay=args.start_delay,
            stop_delay=args.stop_delay,
            run_duration=args.run_duration,
            tick=args.tick,
            minute=args.minute,
        )
        emu.describe_lag = max(0.0, args.describe_lag)
        emu.reset_consistency()
        Handler.emu = emu
        Handler.moto = moto
        Handler.log_requests = args.log_requests
        server = Server(("127.0.0.1", args.port), Handler)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

        def ticker():
            while not stop.is_set():
                try:
                    emu.tick()
                    emu.check_alarms()
                except Exception:
                    traceback.print_exc()
                stop.wait(emu.tick_interval)

        threading.Thread(target=ticker, daemon=True).start()
        url = "http://127.0.0.1:%d" % port
        print("ready %s" % url, flush=True)
        if args.hint:
            log(
                "moto at %s; point clients at the emulator:\n"
                "  export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1\n"
                "  (time scale %g; control endpoints under %s/_emulator/; Ctrl-C stops both)" % (moto_url, url, args.time_scale, url)
            )
        while not stop.is_set():
            if proc is not None and proc.poll() is not None:
                log("moto_server exited with status %s; stopping" % proc.returncode)
                return 1
            stop.wait(0.5)
        server.shutdown()
        server.server_close()
        return 0
    except (RuntimeError, OSError) as e:
        log(str(e))
        moto_log = os.path.join(workdir, "moto.log")
        if not args.moto_log and os.path.exists(moto_log):
            with open(moto_log, "rb") as f:
                tail = f.read()[-4000:].decode("utf-8", "replace")
            log("moto_server output:\n" + tail)
        return 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
