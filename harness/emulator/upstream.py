"""moto, upstream of the emulator: its process, and the requests the emulator sends it.

Every AWS request goes to moto first (server.py forwards it), so moto's request
recorder sees every call and moto stays the source of truth for what the
emulator does not own (clusters, task definitions, ECR, Application Auto
Scaling, EC2, IAM, ...).

`start_moto` runs moto's server on a free loopback port, with its recorder file
in the emulator's scratch directory unless MOTO_RECORDER_FILEPATH says
otherwise, and without MOTO_ECS_SERVICE_RUNNING (the emulator owns services'
counts). On Linux a parent-death signal stops moto when the emulator is killed
outright.

Where it assumes: the emulator's own look-ups (`internal_ecs_call`, the
DescribeTaskDefinition of state.py; `alarm_states`, CloudWatch DescribeAlarms for
the deployment alarms of scheduler.py) are signed with the client's access key and
region, carry `X-Ecs-Emulator-Internal: 1` and the user agent
`ecs-emulator-internal`, and show up in moto's recorder: skip them when counting
a client's calls.
"""

import ctypes
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from .common import ECS_TARGET_PREFIX

INTERNAL_HEADER = "X-Ecs-Emulator-Internal"


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

    def alarm_states(self, ctx, names):
        """{alarm name: StateValue} from moto's CloudWatch DescribeAlarms (query protocol)."""
        form = [("Action", "DescribeAlarms"), ("Version", "2010-08-01")]
        form += [("AlarmNames.member.%d" % (i + 1), n) for i, n in enumerate(names)]
        body = urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20200101/%s/monitoring/aws4_request, "
            "SignedHeaders=host, Signature=0" % (ctx["access_key"], ctx["region"]),
            INTERNAL_HEADER: "1",
            "User-Agent": "ecs-emulator-internal",
            "Host": "%s:%d" % (self.host, self.port),
            "Content-Length": str(len(body)),
        }
        status, _, data = self.request("POST", "/", headers, body, timeout=10)
        if status != 200:
            raise OSError("CloudWatch DescribeAlarms answered %d" % status)
        out = {}
        root = ElementTree.fromstring(data)
        for el in root.iter():
            if el.tag.endswith("}member") or el.tag == "member":
                name = state = None
                for child in el:
                    tag = child.tag.rsplit("}", 1)[-1]
                    if tag == "AlarmName":
                        name = child.text
                    elif tag == "StateValue":
                        state = child.text
                if name and state:
                    out[name] = state
        return out

    def reset(self):
        return self.request("POST", "/moto-api/reset", {"Content-Length": "0"}, b"")


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
