#!/usr/bin/env python3
"""ECS rollout emulator: moto's server plus the documented ECS rolling-update behaviour.

One HTTP endpoint on 127.0.0.1 that AWS clients use (AWS_ENDPOINT_URL). Every AWS
request is forwarded to moto first, so moto's request recorder sees every call and
moto stays the source of truth for everything the emulator does not own (clusters,
task definitions, ECR, Application Auto Scaling, EC2, ...). The emulator owns the
ECS actions that moto does not roll out (see OWNED_ACTIONS) and answers them from
its own state: rolling updates within minimumHealthyPercent/maximumPercent, task
failures driven by ordinary inputs (image reference, command), the deployment
circuit breaker with rollback, overlapping deployments, service events and
run-task exit codes. harness/README.md documents every behaviour.

Standard library only (plus the moto it starts). Usage:

    ecs_emulator.py [--port 4566] [--time-scale 1.0] [--moto-url URL]

prints `ready http://127.0.0.1:PORT` on stdout once both servers are serving.
"""

import argparse
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
OWNED_ACTIONS = {
    "CreateService",
    "UpdateService",
    "DescribeServices",
    "DeleteService",
    "ListServices",
    "RunTask",
    "DescribeTasks",
    "ListTasks",
    "StopTask",
}
# moto answers these with HTTP 500 for reasons that are moto's limits, not ECS
# behaviour (RunTask: no container-level memory, no container instances for EC2,
# awsvpc without EnableDnsHostnames or security groups; StopTask: a task that only
# the emulator knows). Their 5xx answers are ignored; their 4xx answers are not.
IGNORE_MOTO_5XX = {"RunTask", "StopTask"}
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
INTERNAL_HEADER = "X-Ecs-Emulator-Internal"
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

sys.dont_write_bytecode = True  # as before the split: leave no __pycache__ in harness/
from emulator.api import Emulator  # noqa: E402
from emulator.common import EcsError, log  # noqa: E402

# --------------------------------------------------------------------------------------
# moto: the process and the forwarding
# --------------------------------------------------------------------------------------


class Moto:
    def __init__(self, url):
        u = urlsplit(url)
        self.url = url.rstrip("/")
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80

    def request(self, method, path, headers, body, timeout=120):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.getheaders(), data
        finally:
            conn.close()

    def internal_ecs_call(self, ctx, action, payload):
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": ECS_TARGET_PREFIX + action,
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20200101/%s/ecs/aws4_request, "
            "SignedHeaders=host;x-amz-target, Signature=0" % (ctx["access_key"], ctx["region"]),
            INTERNAL_HEADER: "1",
            "User-Agent": "ecs-emulator-internal",
            "Host": "%s:%d" % (self.host, self.port),
        }
        return self.request("POST", "/", headers, json.dumps(payload).encode())

    def reset(self):
        return self.request("POST", "/moto-api/reset", {"Content-Length": "0"}, b"")


RE_CREDENTIAL = re.compile(r"Credential=([^/\s,]+)/[^/]+/([^/]+)/([^/]+)/")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """Linux: deliver SIGTERM to the child when the emulator dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def start_moto(workdir, log_path):
    exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
    port = free_port()
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "moto.server"]
    cmd += ["-H", "127.0.0.1", "-p", str(port)]
    env = dict(os.environ)
    env.setdefault("MOTO_RECORDER_FILEPATH", os.path.join(workdir, "moto_recording"))
    env.pop("MOTO_ECS_SERVICE_RUNNING", None)
    out = subprocess.DEVNULL if log_path is None else (None if log_path == "-" else open(log_path, "ab"))
    proc = subprocess.Popen(
        cmd, cwd=workdir, env=env, stdout=out, stderr=out, preexec_fn=die_with_parent
    )
    return proc, "http://127.0.0.1:%d" % port


def wait_for_moto(moto, proc, timeout=90.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("moto_server exited with status %s" % proc.returncode)
        try:
            status, _, _ = moto.request("GET", "/moto-api/", {}, None, timeout=5)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("moto_server did not answer within %.0f s" % timeout)


# --------------------------------------------------------------------------------------
# HTTP front end
# --------------------------------------------------------------------------------------


def json_error_body(type_, message):
    return json.dumps({"__type": type_, "message": message}).encode()


DEFAULT_FAULT_TYPES = {
    400: "ThrottlingException",
    429: "TooManyRequestsException",
    500: "InternalFailure",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


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
                if fault is not None:
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
        status = int(fault.get("status", 500))
        type_ = fault.get("type") or DEFAULT_FAULT_TYPES.get(status, "ServiceError")
        message = fault.get("message") or "Injected by ecs-emulator"
        rid = str(uuid.uuid4())
        if json_protocol:
            headers = [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-RequestId", rid),
                ("x-amzn-ErrorType", type_),
            ]
            return self.send(status, headers, json_error_body(type_, message))
        auth = self.headers.get("Authorization") or ""
        m = RE_CREDENTIAL.search(auth)
        service = m.group(3) if m else ""
        esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if service == "ec2":
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
                "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
                % (esc(type_), esc(message), rid)
            )
        else:
            kind = "Sender" if status < 500 else "Receiver"
            xml = (
                "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>%s</RequestId></ErrorResponse>" % (kind, esc(type_), esc(message), rid)
            )
        return self.send(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], xml.encode())

    def owned(self, action, headers, body):
        ctx = self.context()
        try:
            params = json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            params = None
        replace = None
        if action == "CreateService" and params:
            # moto answers an awsvpc configuration without securityGroups with an HTML
            # 500; ECS then uses the VPC's default group. Give moto an empty list.
            awsvpc = (params.get("networkConfiguration") or {}).get("awsvpcConfiguration")
            if isinstance(awsvpc, dict) and "securityGroups" not in awsvpc:
                p2 = json.loads(json.dumps(params))
                p2["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] = []
                replace = json.dumps(p2).encode()
        status, rheaders, rbody = self.forward(headers, body, replace_body=replace)
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
        if route == "/_emulator/tick" and method == "POST":
            emu.tick()
            return self.send_json(200, {"ticked": True})
        return self.send_json(404, {"error": "unknown control endpoint %s %s" % (method, route)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


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
        )
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


if __name__ == "__main__":
    sys.exit(main())
