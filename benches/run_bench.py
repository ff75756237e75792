#!/usr/bin/env python3
"""The execution-engine benchmark of `ecsflow run` against the ECS rollout emulator.

Started by benches/run.sh (which builds the binary and starts the emulator);
it can also be run by hand against a running emulator:

    .venv/bin/python benches/run_bench.py --endpoint http://127.0.0.1:PORT \
        --bin target/release/ecsflow [--runs 5] [--services 10] [--json out.json]

Scenarios, each run on fresh services (desired 2, 50/200, circuit breaker with
rollback, so a run never sees an earlier run's state):

  happy     register from the service with a new image, update, await-stable.
            wall = spawn to exit of `ecsflow run`; rollout = the emulator
            timeline's `started` to `completed` of the deployment ecsflow
            started; beyond = wall - rollout. API calls by action from moto's
            recorder (the emulator's own look-ups, marked
            X-Ecs-Emulator-Internal, left out); polling = DescribeServices after
            the last UpdateService.
  failure   the same with an image containing `crash-1` and
            `circuit-breaker = rollback`: latency = process exit - the
            timeline's `failed` (both wall-clock epoch seconds, same machine).
  parallel  N services (default 10) registered and updated in `parallel { }`
            and awaited in one `await-stable`, interleaved with the same
            pipeline for one service; ratio = wall(N) / wall(1).

Optional diagnostics (not part of the statistics):

  --trace   one happy and one failed run through a timestamping TCP proxy:
            every call ecsflow makes, when, and how long it took, next to the
            timeline's events.
  --model   a Python poller with ecsflow's poll schedule (and alternatives)
            following real rollouts: how late each schedule sees `completed`
            and `failed`, and how many polls it makes.

With `serve-emulator-nodelay ARGS…` as its first arguments it runs
harness/ecs_emulator.py unchanged except that every accepted connection gets
TCP_NODELAY (benches/run.sh --emulator-nodelay): the emulator writes a
response's headers and body in two send() calls, and with Nagle on, the body
waits for the client's delayed ACK of the headers (about 40 ms on Linux).

It asserts no timings (a benchmark, not a test). It exits 1 if a run that
should succeed fails, or a run that should fail does not fail as expected.
"""

import argparse
import atexit
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

CLUSTER = "bench"
REGION = "us-east-1"
DESIRED = 2


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the emulator


class Emulator:
    def __init__(self, url):
        self.url = url.rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])
        cfg = Config(retries={"mode": "standard", "max_attempts": 5})
        self.ecs = boto3.client(
            "ecs",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=cfg,
        )

    def http(self, method, path, body=b""):
        req = urllib.request.Request(self.url + path, data=body if method == "POST" else None, method=method)
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read().decode("utf-8", "replace")

    def timeline(self):
        return json.loads(self.http("GET", "/_emulator/timeline"))

    def start_recording(self):
        self.http("POST", "/moto-api/recorder/reset-recording")
        self.http("POST", "/moto-api/recorder/start-recording")

    def stop_recording(self):
        """The client's calls, in order: X-Amz-Target suffixes, internal look-ups left out."""
        self.http("POST", "/moto-api/recorder/stop-recording")
        body = self.http("GET", "/moto-api/recorder/download-recording")
        actions = []
        for line in body.splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
            if "x-ecs-emulator-internal" in headers:
                continue
            target = headers.get("x-amz-target")
            if target:
                actions.append(target.rsplit(".", 1)[-1])
            else:
                actions.append("%s %s" % (entry.get("method"), entry.get("url")))
        return actions

    # ---- fresh services ----------------------------------------------------------

    def create_services(self, names):
        for name in names:
            self.ecs.register_task_definition(
                family=name,
                containerDefinitions=[{"name": name, "image": "%s:v1" % name, "memory": 128, "essential": True}],
            )
            self.ecs.create_service(
                cluster=CLUSTER,
                serviceName=name,
                taskDefinition=name,
                desiredCount=DESIRED,
                deploymentConfiguration={
                    "minimumHealthyPercent": 50,
                    "maximumPercent": 200,
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                },
            )
        self.wait_stable(names)

    def wait_stable(self, names, timeout=120):
        deadline = time.time() + timeout
        pending = list(names)
        while pending:
            if time.time() > deadline:
                raise RuntimeError("services did not become stable: %s" % pending)
            still = []
            for i in range(0, len(pending), 10):
                batch = pending[i : i + 10]
                out = self.ecs.describe_services(cluster=CLUSTER, services=batch)
                for svc in out["services"]:
                    deps = svc.get("deployments") or []
                    ok = (
                        len(deps) == 1
                        and deps[0].get("rolloutState") == "COMPLETED"
                        and deps[0].get("runningCount") == DESIRED
                    )
                    if not ok:
                        still.append(svc["serviceName"])
            pending = still
            if pending:
                time.sleep(0.1)


# ------------------------------------------------------------------ pipelines


def pipeline(names, image_tag, breaker=False):
    """register from each service with a new image, update, await-stable."""
    lines = ['cluster = "%s"' % CLUSTER, ""]
    for i, name in enumerate(names):
        lines.append('service s%d = "%s"' % (i, name))
    lines.append("")
    cb = ", circuit-breaker = rollback" if breaker else ""
    registers = [
        'let td%d = register from s%d {\n  container "%s" { image = "%s:%s" }\n}' % (i, i, n, n, image_tag)
        for i, n in enumerate(names)
    ]
    updates = ["update s%d { task-definition = td%d%s }" % (i, i, cb) for i in range(len(names))]
    if len(names) == 1:
        lines += registers + updates
    else:
        indent = lambda s: "\n".join("  " + l for l in s.splitlines())
        lines += ["parallel {"] + [indent(r) for r in registers] + ["}"]
        lines += ["parallel {"] + [indent(u) for u in updates] + ["}"]
    lines.append("await-stable %s { timeout = 5m }" % ", ".join("s%d" % i for i in range(len(names))))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ one run


class RunResult:
    pass


def run_ecsflow(binary, emulator, source, workdir, endpoint=None):
    """Runs `ecsflow run --format json` on `source`; wall-clock epoch times throughout."""
    path = os.path.join(workdir, "bench.ecsflow")
    with open(path, "w") as f:
        f.write(source)
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)
    env.update(
        AWS_ENDPOINT_URL=endpoint or emulator.url,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION=REGION,
        NO_COLOR="1",
    )
    r = RunResult()
    r.events = []
    r.stderr = []
    r.t0 = time.time()
    proc = subprocess.Popen(
        [binary, "run", "--format", "json", path], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )

    def read_out():
        for line in proc.stdout:
            t = time.time()
            try:
                r.events.append((t, json.loads(line)))
            except ValueError:
                r.events.append((t, {"event": "text", "text": line.decode("utf-8", "replace")}))

    def read_err():
        for line in proc.stderr:
            r.stderr.append(line.decode("utf-8", "replace"))

    threads = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    r.t_exit = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join(10)
    r.code = proc.returncode
    r.wall = r.t_exit - r.t0
    r.cpu = usage.ru_utime + usage.ru_stime
    r.maxrss_mb = usage.ru_maxrss / 1024.0
    r.first_event = r.events[0][0] - r.t0 if r.events else None
    r.finished = next((e for _, e in r.events if e.get("event") == "finished"), None)
    return r


def step_finished(r, prefix):
    for t, e in r.events:
        if e.get("event") == "step-finished" and e.get("step", "").startswith(prefix):
            return t, e
    return None, None


def deployments_started(r):
    ids = []
    for _, e in r.events:
        if e.get("event") == "step-finished" and e.get("step", "").startswith("update"):
            m = re.search(r"started deployment (ecs-svc/\d+)", e.get("summary", ""))
            if m:
                ids.append(m.group(1))
    return ids


def timeline_for(timeline, name, deployment, event):
    for entry in timeline:
        if entry.get("service") == name and entry.get("deployment") == deployment and entry.get("event") == event:
            return entry
    return None


def classify(actions):
    """(by action, polls, the rest): polls are the DescribeServices after the last UpdateService."""
    by = {}
    for a in actions:
        by[a] = by.get(a, 0) + 1
    last_update = max((i for i, a in enumerate(actions) if a == "UpdateService"), default=-1)
    polls = sum(1 for i, a in enumerate(actions) if a == "DescribeServices" and i > last_update >= 0)
    return by, polls, len(actions) - polls


def describe_failure(r):
    out = "".join(json.dumps(e) + "\n" for _, e in r.events) + "".join(r.stderr)
    return "exit %s\n%s" % (r.code, out[-4000:])


# ------------------------------------------------------------------ scenarios


class Bench:
    def __init__(self, args):
        self.args = args
        self.emu = Emulator(args.endpoint)
        self.workdir = tempfile.mkdtemp(prefix="ecsflow-run-bench-")
        atexit.register(shutil.rmtree, self.workdir, True)
        self.tag = "%x" % (int(time.time()) % 0xFFFFF)
        self.errors = []
        self.emu.ecs.create_cluster(clusterName=CLUSTER)

    def names(self, kind, run, n=1):
        if n == 1:
            return ["%s-%s-r%d" % (kind, self.tag, run)]
        return ["%s-%s-r%d-s%02d" % (kind, self.tag, run, i) for i in range(n)]

    def one_rollout(self, kind, run, names, image_tag, breaker, expect_ok, endpoint=None):
        self.emu.create_services(names)
        self.emu.start_recording()
        r = run_ecsflow(self.args.bin, self.emu, pipeline(names, image_tag, breaker), self.workdir, endpoint)
        r.actions = self.emu.stop_recording()
        r.by_action, r.polls, r.rest = classify(r.actions)
        r.names = names
        timeline = self.emu.timeline()
        r.deployments = deployments_started(r)
        ok = (r.code == 0) if expect_ok else (r.code == 1)
        if not ok:
            self.errors.append("%s run %d: %s" % (kind, run, describe_failure(r)))
            log("!! %s run %d did not end as expected:\n%s" % (kind, run, describe_failure(r)))
            r.ok = False
            return r
        r.ok = True
        starts, ends, fails = [], [], []
        for name in names:
            started = next(
                (
                    e
                    for e in timeline
                    if e.get("service") == name and e.get("event") == "started" and e.get("deployment") in r.deployments
                ),
                None,
            )
            if started is None:
                self.errors.append("%s run %d: no `started` on the timeline for %s" % (kind, run, name))
                r.ok = False
                return r
            starts.append(started["time"])
            done = timeline_for(timeline, name, started["deployment"], "completed")
            failed = timeline_for(timeline, name, started["deployment"], "failed")
            if done:
                ends.append(done["time"])
            if failed:
                fails.append(failed["time"])
        r.started = min(starts)
        r.last_started = max(starts)
        if expect_ok:
            if len(ends) != len(names):
                self.errors.append("%s run %d: no `completed` on the timeline" % (kind, run))
                r.ok = False
                return r
            r.completed = max(ends)
            r.rollout = r.completed - r.started
            r.beyond = r.wall - r.rollout
            r.pre = r.started - r.t0
            r.post = r.t_exit - r.completed
            t_seen, _ = step_finished(r, "await-stable")
            r.seen = t_seen - r.completed if t_seen else None
        else:
            if not fails:
                self.errors.append("%s run %d: no `failed` on the timeline" % (kind, run))
                r.ok = False
                return r
            r.failed = min(fails)
            r.latency = r.t_exit - r.failed
            t_seen, e = step_finished(r, "await-stable")
            r.seen = t_seen - r.failed if t_seen else None
            r.after_seen = r.t_exit - t_seen if t_seen else None
            r.pre = r.started - r.t0
            r.summary = e.get("summary") if e else None
        return r

    def happy(self):
        out = []
        for run in range(1, self.args.runs + 1):
            r = self.one_rollout("happy", run, self.names("happy", run), "v2", False, True)
            if r.ok:
                log(
                    "  happy    run %d: wall %.3f s, rollout %.3f s, beyond %.3f s "
                    "(spawn->started %.3f, completed->exit %.3f), %d calls (%d polls)"
                    % (run, r.wall, r.rollout, r.beyond, r.pre, r.post, len(r.actions), r.polls)
                )
            out.append(r)
        return out

    def failure(self):
        out = []
        for run in range(1, self.args.runs + 1):
            r = self.one_rollout("fail", run, self.names("fail", run), "v2-crash-1", True, False)
            if r.ok:
                log(
                    "  failure  run %d: FAILED->exit %.3f s (FAILED->step failed %.3f s), wall %.3f s, %d calls (%d polls)"
                    % (run, r.latency, r.seen, r.wall, len(r.actions), r.polls)
                )
            out.append(r)
        return out

    def parallel(self):
        n = self.args.services
        ones, manys = [], []
        for run in range(1, self.args.runs + 1):
            r1 = self.one_rollout("par1", run, self.names("par1", run), "v2", False, True)
            rn = self.one_rollout("par%d" % n, run, self.names("par%d" % n, run, n), "v2", False, True)
            if r1.ok and rn.ok:
                log(
                    "  parallel run %d: 1 service %.3f s, %d services %.3f s (ratio %.2f); rollouts %.3f / %.3f s"
                    % (run, r1.wall, n, rn.wall, rn.wall / r1.wall, r1.rollout, rn.rollout)
                )
            ones.append(r1)
            manys.append(rn)
        return ones, manys

    # ---- diagnostics -------------------------------------------------------------

    def trace(self):
        proxy = TraceProxy(self.emu.port)
        traces = {}
        for kind, tag, breaker, ok in (("happy", "v2", False, True), ("failure", "v2-crash-1", True, False)):
            proxy.calls.clear()
            names = self.names("trace-" + kind, 1)
            r = self.one_rollout("trace-" + kind, 1, names, tag, breaker, ok, endpoint=proxy.url)
            if not r.ok:
                continue
            timeline = [
                e for e in self.emu.timeline() if e.get("service") in names and e.get("deployment") in r.deployments
            ]
            traces[kind] = (r, list(proxy.calls), timeline)
        proxy.close()
        return traces

    def model(self):
        """A Python poller with ecsflow's schedule and alternatives, on real rollouts."""
        policies = [
            ("ecsflow: 0.5 s x1.5 to 2 s, reset on progress", 0.5, 1.5, 2.0),
            ("0.25 s x1.5 to 2 s, reset on progress", 0.25, 1.5, 2.0),
            ("0.25 s x1.5 to 1 s, reset on progress", 0.25, 1.5, 1.0),
            ("fixed 0.25 s", 0.25, 1.0, 0.25),
        ]
        results = []
        for label, first, factor, cap in policies:
            for kind, tag in (("happy", "v2"), ("failure", "v2-crash-1")):
                for run in range(1, self.args.runs + 1):
                    name = self.names("model-%d-%s" % (policies.index((label, first, factor, cap)), kind), run)[0]
                    self.emu.create_services([name])
                    lag, polls, rollout = model_poll(self.emu, name, tag, first, factor, cap)
                    results.append({"policy": label, "kind": kind, "lag": lag, "polls": polls, "rollout": rollout})
                    log("  model    %-48s %-7s run %d: seen %.3f s after, %d polls" % (label, kind, run, lag, polls))
        return results


def model_poll(emu, name, tag, first, factor, cap):
    """Update like ecsflow, then poll DescribeServices on the given schedule until
    COMPLETED or FAILED; returns (seen - timeline event, polls, rollout)."""
    td = emu.ecs.describe_task_definition(taskDefinition=name)["taskDefinition"]
    emu.ecs.register_task_definition(
        family=name,
        containerDefinitions=[{"name": name, "image": "%s:%s" % (name, tag), "memory": 128, "essential": True}],
    )
    cfg = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}} if "crash" in tag else None
    kwargs = {"deploymentConfiguration": cfg} if cfg else {}
    out = emu.ecs.update_service(cluster=CLUSTER, service=name, taskDefinition=name, **kwargs)
    ours = next(d["id"] for d in out["service"]["deployments"] if d["status"] == "PRIMARY")
    del td
    interval, last, polls = first, None, 0
    while True:
        svc = emu.ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
        polls += 1
        seen = time.time()
        dep = next((d for d in svc["deployments"] if d["id"] == ours), None)
        if dep is None or dep.get("rolloutState") in ("COMPLETED", "FAILED") or dep["status"] != "PRIMARY":
            break
        draining = sum(d.get("runningCount", 0) for d in svc["deployments"] if d["id"] != ours)
        progress = (dep.get("runningCount"), dep.get("pendingCount"), dep.get("failedTasks"), draining)
        if progress != last:
            interval, last = first, progress
        time.sleep(interval)
        interval = min(interval * factor, cap)
    event = "completed" if "crash" not in tag else "failed"
    timeline = emu.timeline()
    started = timeline_for(timeline, name, ours, "started")
    ended = timeline_for(timeline, name, ours, event)
    return seen - ended["time"], polls, ended["time"] - started["time"]


class TraceProxy:
    """A byte relay to the emulator that timestamps each request (by X-Amz-Target)
    and the start of its response. Adds well under a millisecond per call."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.calls = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        conn_id = 0
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            conn_id += 1
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
            for s in (client, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pending = []
            threading.Thread(target=self.relay, args=(client, up, pending, conn_id, True), daemon=True).start()
            threading.Thread(target=self.relay, args=(up, client, pending, conn_id, False), daemon=True).start()

    def relay(self, src, dst, pending, conn_id, requests):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                now = time.time()
                if requests:
                    m = re.search(rb"(?i)\r\nx-amz-target:\s*([^\r\n]+)", data)
                    if m or data.startswith((b"POST ", b"GET ")):
                        action = m.group(1).decode().rsplit(".", 1)[-1] if m else "?"
                        call = {"t": now, "action": action, "conn": conn_id, "done": None}
                        with self.lock:
                            self.calls.append(call)
                            pending.append(call)
                elif data.startswith(b"HTTP/"):
                    with self.lock:
                        if pending:
                            pending.pop(0)["done"] = now
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.sock.close()


# ------------------------------------------------------------------ the report


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def mx(xs):
    xs = [x for x in xs if x is not None]
    return max(xs) if xs else float("nan")


def fmt_actions(runs):
    """Action counts as 'median (min-max)' over runs."""
    actions = sorted({a for r in runs for a in r.by_action})
    parts = []
    for a in actions:
        counts = [r.by_action.get(a, 0) for r in runs]
        lo, hi = min(counts), max(counts)
        parts.append("%s %s" % (a, lo if lo == hi else "%d-%d" % (lo, hi)))
    return ", ".join(parts)


def report(args, happy, failure, ones, manys, traces, model):
    rows = []
    lines = []
    p = lines.append
    p("")
    p("ecsflow run benchmark: %d runs per scenario, time scale %s, desired count %d (50/200)" % (args.runs, args.time_scale, DESIRED))
    p("")
    p("| scenario | metric | median | max | goal |")
    p("| --- | --- | ---: | ---: | --- |")
    if happy:
        ok = [r for r in happy if r.ok]
        p("| happy, 1 service | wall time of `ecsflow run` | %.3f s | %.3f s | |" % (med(r.wall for r in ok), mx(r.wall for r in ok)))
        p("| | the rollout (timeline started -> completed) | %.3f s | %.3f s | |" % (med(r.rollout for r in ok), mx(r.rollout for r in ok)))
        b = med(r.beyond for r in ok)
        p("| | **beyond the rollout** (wall - rollout) | **%.3f s** | %.3f s | <= 0.2 s: %s |" % (b, mx(r.beyond for r in ok), "met" if b <= 0.2 else "NOT met"))
        p("| | of which: spawn -> deployment started | %.3f s | %.3f s | |" % (med(r.pre for r in ok), mx(r.pre for r in ok)))
        p("| | of which: completed -> exit | %.3f s | %.3f s | |" % (med(r.post for r in ok), mx(r.post for r in ok)))
        p("| | (spawn -> first JSON event) | %.3f s | %.3f s | |" % (med(r.first_event for r in ok), mx(r.first_event for r in ok)))
        p("| | (CPU time of ecsflow, user+sys) | %.3f s | %.3f s | |" % (med(r.cpu for r in ok), mx(r.cpu for r in ok)))
        rest = med(r.rest for r in ok)
        p("| | **API calls besides polling** | **%g** | %d | <= 10: %s |" % (rest, mx(r.rest for r in ok), "met" if mx(r.rest for r in ok) <= 10 else "NOT met"))
        p("| | polling calls (DescribeServices in await-stable) | %g | %d | |" % (med(r.polls for r in ok), mx(r.polls for r in ok)))
        rows.append(("happy", ok))
    if failure:
        ok = [r for r in failure if r.ok]
        lat = med(r.latency for r in ok)
        p("| circuit breaker (crash-1) | **FAILED -> process exit** | **%.3f s** | %.3f s | <= 2 s: %s |" % (lat, mx(r.latency for r in ok), "met" if mx(r.latency for r in ok) <= 2 else ("met at the median" if lat <= 2 else "NOT met")))
        p("| | FAILED -> await-stable reported failed | %.3f s | %.3f s | |" % (med(r.seen for r in ok), mx(r.seen for r in ok)))
        p("| | step failed -> exit | %.3f s | %.3f s | |" % (med(r.after_seen for r in ok), mx(r.after_seen for r in ok)))
        p("| | wall time | %.3f s | %.3f s | |" % (med(r.wall for r in ok), mx(r.wall for r in ok)))
        p("| | API calls besides polling | %g | %d | |" % (med(r.rest for r in ok), mx(r.rest for r in ok)))
        p("| | polling calls | %g | %d | |" % (med(r.polls for r in ok), mx(r.polls for r in ok)))
    if ones and manys:
        pairs = [(a, b) for a, b in zip(ones, manys) if a.ok and b.ok]
        n = args.services
        w1 = med(a.wall for a, _ in pairs)
        wn = med(b.wall for _, b in pairs)
        ratios = [b.wall / a.wall for a, b in pairs]
        p("| parallel | wall, 1 service | %.3f s | %.3f s | |" % (w1, mx(a.wall for a, _ in pairs)))
        p("| | wall, %d services in `parallel` | %.3f s | %.3f s | |" % (n, wn, mx(b.wall for _, b in pairs)))
        p("| | **ratio %d / 1** (median of walls; max of pairs) | **%.2f** | %.2f | <= 1.5: %s |" % (n, wn / w1 if w1 else float("nan"), mx(ratios), "met" if wn / w1 <= 1.5 else "NOT met"))
        p("| | rollouts, 1 service (started -> completed) | %.3f s | %.3f s | |" % (med(a.rollout for a, _ in pairs), mx(a.rollout for a, _ in pairs)))
        p("| | rollouts, %d services (first started -> last completed) | %.3f s | %.3f s | |" % (n, med(b.rollout for _, b in pairs), mx(b.rollout for _, b in pairs)))
        p("| | beyond the rollouts, 1 / %d services | %.3f / %.3f s | %.3f / %.3f s | |" % (n, med(a.beyond for a, _ in pairs), med(b.beyond for _, b in pairs), mx(a.beyond for a, _ in pairs), mx(b.beyond for _, b in pairs)))
        p("| | spawn -> last deployment started, 1 / %d | %.3f / %.3f s | %.3f / %.3f s | |" % (n, med(a.pre for a, _ in pairs), med(b.last_started - b.t0 for _, b in pairs), mx(a.pre for a, _ in pairs), mx(b.last_started - b.t0 for _, b in pairs)))
        p("| | API calls besides polling, 1 / %d | %g / %g | | |" % (n, med(a.rest for a, _ in pairs), med(b.rest for _, b in pairs)))
        p("| | polling calls, 1 / %d | %g / %g | | |" % (n, med(a.polls for a, _ in pairs), med(b.polls for _, b in pairs)))
    p("")
    p("API calls by action (per run; a range when runs differ):")
    if happy:
        p("  happy:          " + fmt_actions([r for r in happy if r.ok]))
    if failure:
        p("  failure:        " + fmt_actions([r for r in failure if r.ok]))
    if ones and manys:
        p("  parallel, 1:    " + fmt_actions([r for r in ones if r.ok]))
        p("  parallel, %d:   " % args.services + fmt_actions([r for r in manys if r.ok]))
    if traces:
        for kind, (r, calls, timeline) in traces.items():
            p("")
            p("Trace of one %s run (seconds from spawn; call latency in ms):" % kind)
            items = [(c["t"] - r.t0, "call  %-24s %6.1f ms" % (c["action"], 1000 * (c["done"] - c["t"]) if c["done"] else float("nan"))) for c in calls]
            items += [(e["time"] - r.t0, "EMULATOR %s" % e["event"]) for e in timeline]
            items += [(t - r.t0, "event %s %s" % (e.get("event"), e.get("step", "")[:40])) for t, e in r.events if e.get("event") != "progress"]
            items += [(r.wall, "process exit (code %d)" % r.code)]
            for t, what in sorted(items):
                p("  %7.3f  %s" % (t, what))
    if model:
        p("")
        p("Poll schedules on real rollouts (Python poller; lag = poll that saw it - timeline event):")
        p("| schedule | case | lag median | lag max | polls median |")
        p("| --- | --- | ---: | ---: | ---: |")
        for label in dict.fromkeys(m["policy"] for m in model):
            for kind in ("happy", "failure"):
                sel = [m for m in model if m["policy"] == label and m["kind"] == kind]
                p("| %s | %s | %.3f s | %.3f s | %g |" % (label, kind, med(m["lag"] for m in sel), mx(m["lag"] for m in sel), med(m["polls"] for m in sel)))
    return "\n".join(lines)


def to_json(runs):
    keys = ("wall", "rollout", "beyond", "pre", "post", "seen", "latency", "after_seen", "first_event", "cpu", "maxrss_mb", "code", "polls", "rest", "by_action", "ok")
    return [{k: getattr(r, k) for k in keys if hasattr(r, k)} for r in runs]


def serve_emulator_nodelay(argv):
    """harness/ecs_emulator.py with TCP_NODELAY on accepted connections (no file changes)."""
    sys.dont_write_bytecode = True  # leave no __pycache__ in harness/
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
    import ecs_emulator

    setup = ecs_emulator.Handler.setup

    def setup_nodelay(self):
        setup(self)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    ecs_emulator.Handler.setup = setup_nodelay
    return ecs_emulator.main(argv)


def main():
    if sys.argv[1:2] == ["serve-emulator-nodelay"]:
        sys.exit(serve_emulator_nodelay(sys.argv[2:]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="the emulator's URL (its ready line)")
    ap.add_argument("--bin", required=True, help="the ecsflow binary")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--services", type=int, default=10, help="services in the parallel scenario")
    ap.add_argument("--time-scale", default="1.0", help="the emulator's, for the report")
    ap.add_argument("--scenarios", default="happy,failure,parallel")
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--model", action="store_true")
    ap.add_argument("--json", help="write every run's numbers here")
    args = ap.parse_args()
    scenarios = set(args.scenarios.split(","))

    bench = Bench(args)
    happy = failure = ones = manys = None
    traces = model = None
    if "happy" in scenarios:
        log("== happy rollout, one service")
        happy = bench.happy()
    if "failure" in scenarios:
        log("== circuit-breaker failure")
        failure = bench.failure()
    if "parallel" in scenarios:
        log("== %d services in parallel vs one" % args.services)
        ones, manys = bench.parallel()
    if args.trace:
        log("== traced runs (diagnostic)")
        traces = bench.trace()
    if args.model:
        log("== poll schedules (diagnostic)")
        model = bench.model()
    print(report(args, happy, failure, ones, manys, traces, model))
    if args.json:
        data = {
            "time_scale": args.time_scale,
            "runs": args.runs,
            "happy": to_json(happy or []),
            "failure": to_json(failure or []),
            "parallel_1": to_json(ones or []),
            "parallel_n": to_json(manys or []),
            "model": model or [],
        }
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    if bench.errors:
        log("\n%d run(s) did not end as expected:" % len(bench.errors))
        for e in bench.errors:
            log("  " + e.splitlines()[0])
        sys.exit(1)


if __name__ == "__main__":
    main()
