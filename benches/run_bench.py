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
import base64
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
        if method == "POST" and body:
            req.add_header("Content-Type", "application/json")
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
        return [a for a, _ in self.recorded()]

    def recorded(self):
        """The client's calls so far, in order, as (action, request body as JSON or
        None); works while recording goes on (moto appends to one file)."""
        body = self.http("GET", "/moto-api/recorder/download-recording")
        calls = []
        for line in body.splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
            if "x-ecs-emulator-internal" in headers:
                continue
            target = headers.get("x-amz-target")
            payload = entry.get("body")
            try:
                if entry.get("body_encoded"):
                    payload = base64.b64decode(payload).decode("utf-8")
                payload = json.loads(payload) if payload else None
            except (ValueError, TypeError):
                payload = None
            if target:
                calls.append((target.rsplit(".", 1)[-1], payload))
            else:
                calls.append(("%s %s" % (entry.get("method"), entry.get("url")), payload))
        return calls

    def add_fault(self, spec):
        self.http("POST", "/_emulator/faults", json.dumps(spec).encode())

    def clear_faults(self):
        self.http("DELETE", "/_emulator/faults")

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


def pipeline(names, image_tag, breaker=False, await_mode="one", on_failure=False, timeout="5m"):
    """register from each service with a new image, update, await-stable.

    await_mode "one": one `await-stable s0, s1, ...`; "parallel": one
    `await-stable` per service inside `parallel { }`. on_failure: an
    `on-failure { rollback s0 ... }` block, as a careful pipeline has."""
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
    if await_mode == "parallel" and len(names) > 1:
        lines += ["parallel {"] + ["  await-stable s%d { timeout = %s }" % (i, timeout) for i in range(len(names))] + ["}"]
    else:
        lines.append("await-stable %s { timeout = %s }" % (", ".join("s%d" % i for i in range(len(names))), timeout))
    if on_failure:
        lines += ["", "on-failure {"] + ["  rollback s%d" % i for i in range(len(names))] + ["}"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ one run


class RunResult:
    pass


def run_ecsflow(binary, emulator, source, workdir, endpoint=None, on_event=None):
    """Runs `ecsflow run --format json` on `source`; wall-clock epoch times throughout.

    on_event(t, event) is called from the reader thread for each JSON event."""
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
                continue
            if on_event:
                on_event(t, r.events[-1][1])

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


def short_td(arn):
    """The revision: `family:3` -> `3`."""
    return arn.rsplit(":", 1)[-1] if arn else arn


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

    # ---- issue 11: deployment strategies -----------------------------------------

    STRATEGY_CONFIGS = {
        "rolling": {"strategy": "ROLLING"},
        "blue-green": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1},
        "linear": {
            "strategy": "LINEAR",
            "bakeTimeInMinutes": 1,
            "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1},
        },
        "canary": {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 1,
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1},
        },
    }

    def strategies(self):
        """For each strategy, a fresh service configured with it (bake times of one
        minute, which the emulator runs as `--minute` seconds: 60 for real
        minutes), a new revision registered, updated and awaited. Measured: the
        time from the service deployment's SUCCESSFUL (its `finishedAt`, epoch
        seconds on this machine) to the process's exit; and the Describe calls
        (DescribeServices + DescribeServiceDeployments) while the deployment bakes,
        per minute: a watcher reads the emulator's timeline every 50 ms and moto's
        recording at each bake's start and end (the `stage` BAKE_TIME to the
        next stage; for linear and canary also each step bake between two
        `traffic` events)."""
        out = {}
        for strategy in self.args.strategies.split(","):
            config = self.STRATEGY_CONFIGS[strategy]
            runs = []
            for run in range(1, self.args.runs + 1):
                name = self.names("st-" + strategy, run)[0]
                self.emu.ecs.register_task_definition(
                    family=name,
                    containerDefinitions=[{"name": name, "image": "%s:v1" % name, "memory": 128, "essential": True}],
                )
                cfg = dict(config, minimumHealthyPercent=100, maximumPercent=200,
                           deploymentCircuitBreaker={"enable": True, "rollback": True})
                self.emu.ecs.create_service(
                    cluster=CLUSTER, serviceName=name, taskDefinition=name, desiredCount=DESIRED,
                    deploymentConfiguration=cfg,
                )
                self.emu.wait_stable([name])
                self.emu.start_recording()
                windows = []  # (start, end, describes during) of each bake
                stop = threading.Event()

                def describes():
                    return sum(1 for a, _ in self.emu.recorded() if a in ("DescribeServices", "DescribeServiceDeployments"))

                before = len([e for e in self.emu.timeline() if e.get("service") == name])

                def watch(name=name, windows=windows, stop=stop, before=before):
                    seen = before  # the service's creation went through the stages too
                    open_window = None
                    while not stop.is_set():
                        events = [e for e in self.emu.timeline() if e.get("service") == name]
                        for e in events[seen:]:
                            ev = e.get("event")
                            bake_start = (ev == "stage" and e.get("stage") == "BAKE_TIME") or (
                                ev == "traffic" and 0 < (e.get("production") or 0) < 100
                            )
                            ends = ev in ("stage", "traffic", "completed", "rolled-back")
                            if open_window and ends:
                                windows.append((open_window[0], e["time"], describes() - open_window[1]))
                                open_window = None
                            if bake_start:
                                open_window = (e["time"], describes())
                        seen = len(events)
                        time.sleep(0.05)

                watcher = threading.Thread(target=watch, daemon=True)
                watcher.start()
                source = (
                    'cluster = "%s"\nservice s0 = "%s"\n'
                    'let td = register from s0 {\n  container "%s" { image = "%s:v2" }\n}\n'
                    "update s0 { task-definition = td }\n"
                    "await-stable s0 { timeout = 20m }\n" % (CLUSTER, name, name, name)
                )
                r = run_ecsflow(self.args.bin, self.emu, source, self.workdir)
                stop.set()
                watcher.join(5)
                r.strategy = strategy
                r.windows = windows
                current = self.emu.ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
                arn = current.get("currentServiceDeployment")
                sd = self.emu.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0] if arn else {}
                finished = sd.get("finishedAt")
                r.sd_status = sd.get("status")
                if r.code != 0 or r.sd_status != "SUCCESSFUL" or finished is None:
                    self.errors.append("strategy %s run %d: exit %s, service deployment %s" % (strategy, run, r.code, r.sd_status))
                    log("!! strategy %s run %d: exit %s, service deployment %s\n%s" % (strategy, run, r.code, r.sd_status, describe_failure(r)))
                    r.ok = False
                else:
                    r.ok = True
                    r.success_to_exit = r.t_exit - finished.timestamp()
                    r.bake_rates = [calls * 60.0 / (end - start) for start, end, calls in windows if end - start >= 5]
                    log(
                        "  %-10s run %d: SUCCESSFUL->exit %.3f s, wall %.1f s, bakes %s"
                        % (strategy, run, r.success_to_exit, r.wall,
                           ", ".join("%.0f s: %d Describe (%.1f/min)" % (e - s, c, c * 60.0 / (e - s)) for s, e, c in windows) or "none")
                    )
                runs.append(r)
            out[strategy] = runs
        return out

    # ---- issue 10: polling rate and throttling ------------------------------------

    def polling(self):
        """Describe calls per poll and per minute while a long rollout is awaited:
        one service, N services in one `await-stable`, N `await-stable`s in
        `parallel`. The image's `slow-Ns` holds every new task PROVISIONING/PENDING
        for N emulated seconds; moto's recording is read (not stopped) at
        await-stable's start + skip and 60 s later, and the DescribeServices in
        between are counted, with the services each one asked for."""
        n = self.args.services
        hold = self.args.poll_hold
        variants = [("1 service", 1, "one"), ("%d in one await-stable" % n, n, "one"), ("%d await-stables in parallel" % n, n, "parallel")]
        out = {label: [] for label, _, _ in variants}
        for run in range(1, self.args.runs + 1):
            for label, count, mode in variants:
                kind = "poll%d%s" % (count, mode[0])
                names = self.names(kind, run, count)
                self.emu.create_services(names)
                self.emu.start_recording()
                awaiting = threading.Event()
                marks = {}

                def on_event(t, e, awaiting=awaiting, marks=marks):
                    if e.get("event") == "step-started" and e.get("step", "").startswith("await-stable") and "await" not in marks:
                        marks["await"] = t
                        awaiting.set()

                def window(awaiting=awaiting, marks=marks):
                    if not awaiting.wait(120):
                        return
                    time.sleep(max(0.0, marks["await"] + self.args.poll_skip - time.time()))
                    marks["a"] = (time.time(), len(self.emu.recorded()))
                    time.sleep(max(0.0, marks["a"][0] + 60.0 - time.time()))
                    calls = self.emu.recorded()
                    marks["b"] = (time.time(), len(calls))
                    marks["calls"] = calls[marks["a"][1] : marks["b"][1]]

                watcher = threading.Thread(target=window, daemon=True)
                watcher.start()
                source = pipeline(names, "v2-slow-%ds" % hold, False, await_mode=mode, timeout="10m")
                r = run_ecsflow(self.args.bin, self.emu, source, self.workdir, on_event=on_event)
                watcher.join(200)
                r.actions = self.emu.stop_recording()
                r.by_action, r.polls, r.rest = classify(r.actions)
                r.label, r.count = label, count
                timeline = self.emu.timeline()
                r.deployments = deployments_started(r)
                done = [timeline_for(timeline, nm, d, "completed") for nm in names for d in r.deployments]
                done = [e["time"] for e in done if e]
                r.ok = r.code == 0 and "calls" in marks and len(done) == count
                if r.ok and min(done) < marks["b"][0]:
                    r.ok = False
                    self.errors.append("polling %s run %d: a rollout completed inside the minute (raise --poll-hold)" % (label, run))
                elif not r.ok:
                    self.errors.append("polling %s run %d: %s" % (label, run, describe_failure(r)))
                if r.ok:
                    r.window = marks["b"][0] - marks["a"][0]
                    describes = [body for action, body in marks["calls"] if action == "DescribeServices"]
                    r.minute_calls = len(describes)
                    r.per_minute = r.minute_calls * 60.0 / r.window
                    sizes = [len((body or {}).get("services") or []) for body in describes]
                    r.looks = sum(sizes)
                    # one poll = one look at each awaited service
                    r.polls_per_service = r.looks / float(count)
                    r.per_poll = r.minute_calls / r.polls_per_service if r.polls_per_service else float("nan")
                    r.batch = (min(sizes), max(sizes)) if sizes else (0, 0)
                    r.other_in_minute = sorted({a for a, _ in marks["calls"] if a != "DescribeServices"})
                    r.await_s = r.t_exit - marks["await"]
                    log(
                        "  polling  %-30s run %d: %d DescribeServices in %.1f s (%.1f/min), %d service looks "
                        "(%.1f polls per service), %.2f calls per poll, %d-%d services per call; whole await %d calls in %.1f s"
                        % (label, run, r.minute_calls, r.window, r.per_minute, r.looks, r.polls_per_service, r.per_poll,
                           r.batch[0], r.batch[1], r.polls, r.await_s)
                    )
                out[label].append(r)
        return out

    def throttle(self):
        """A rollout that ECS completes, with and without a window of throttled
        DescribeServices opened when `await-stable` starts; the pipeline has
        `on-failure { rollback s0 }`. Calls go through the timestamping proxy so
        the throttled answers (never forwarded to moto) are counted too."""
        seconds = self.args.throttle_seconds
        slow = self.args.throttle_slow
        proxy = TraceProxy(self.emu.port)
        out = {"none": [], "window": []}
        try:
            for run in range(1, self.args.runs + 1):
                for mode in ("none", "window"):
                    names = self.names("thr-" + mode, run)
                    self.emu.create_services(names)
                    old_td = self.emu.ecs.describe_services(cluster=CLUSTER, services=names)["services"][0]["taskDefinition"]
                    with proxy.lock:
                        proxy.calls.clear()
                    marks = {}

                    def on_event(t, e, mode=mode, marks=marks):
                        if e.get("event") == "step-started" and e.get("step", "").startswith("await-stable") and "await" not in marks:
                            marks["await"] = t
                            if mode == "window":
                                self.emu.add_fault({
                                    "action": "DescribeServices",
                                    "seconds": seconds,
                                    "responses": [{"status": 400, "type": "ThrottlingException", "message": "Rate exceeded"}],
                                })
                                marks["open"] = time.time()

                    source = pipeline(names, "v2-slow-%ds" % slow, False, on_failure=True)
                    r = run_ecsflow(self.args.bin, self.emu, source, self.workdir, endpoint=proxy.url, on_event=on_event)
                    self.emu.clear_faults()
                    with proxy.lock:
                        calls = list(proxy.calls)
                    r.mode = mode
                    r.deployments = deployments_started(r)
                    # let ECS settle (bounded) before reading the end state
                    try:
                        self.emu.wait_stable(names, timeout=60)
                    except RuntimeError:
                        pass
                    svc = self.emu.ecs.describe_services(cluster=CLUSTER, services=names)["services"][0]
                    timeline = [e for e in self.emu.timeline() if e.get("service") == names[0]]
                    ours = r.deployments[0] if r.deployments else None
                    done = timeline_for(timeline, names[0], ours, "completed") if ours else None
                    started = timeline_for(timeline, names[0], ours, "started") if ours else None
                    r.final_td = short_td(svc["taskDefinition"])
                    r.old_td = short_td(old_td)
                    r.new_td = short_td(started["taskDefinition"]) if started and started.get("taskDefinition") else None
                    r.later_deployments = sum(1 for e in timeline if e.get("event") == "started" and started and e["time"] > started["time"])
                    r.throttled = sum(1 for c in calls if c["action"] == "DescribeServices" and c.get("status") == 400)
                    r.describes = sum(1 for c in calls if c["action"] == "DescribeServices")
                    r.update_calls = sum(1 for c in calls if c["action"] == "UpdateService")
                    r.retry_notes = sum(1 for _, e in r.events if e.get("event") == "progress" and "retry" in e.get("message", ""))
                    r.step_ends = [
                        "%s: %s%s" % (e.get("step"), "ok" if e.get("ok") else "FAILED", (" (%s)" % (e.get("summary") or e.get("reason") or "")[:160]) if not e.get("ok") else "")
                        for _, e in r.events if e.get("event") == "step-finished"
                    ]
                    r.completed = done["time"] if done else None
                    r.post = r.t_exit - r.completed if done else None
                    if mode == "window" and "open" in marks:
                        r.open = marks["open"] - r.t0
                        r.close = marks["open"] + seconds - r.t0
                        r.completed_in_window = (r.completed - marks["open"]) if done else None
                        r.after_close = r.t_exit - (marks["open"] + seconds)
                    r.ok = r.code == 0 and done is not None
                    if mode == "window" and r.completed is not None and not (0 <= r.completed - marks.get("open", 0) <= seconds):
                        self.errors.append("throttle run %d: COMPLETED fell outside the window (change --throttle-slow)" % run)
                    if not r.ok:
                        self.errors.append("throttle %s run %d: %s" % (mode, run, describe_failure(r)))
                    log(
                        "  throttle %-6s run %d: exit %d, completed->exit %s, %s%d DescribeServices (%d throttled), "
                        "%d UpdateService, %d retry notes; service ends on revision %s (old %s, new %s), %d deployment(s) after ours"
                        % (mode, run, r.code, "%.3f s" % r.post if r.post is not None else "-",
                           ("window %.2f-%.2f s after spawn, completed %.2f s into it, close->exit %.3f s; " % (r.open, r.close, r.completed_in_window if r.completed_in_window is not None else float("nan"), r.after_close)) if mode == "window" and "open" in marks else "",
                           r.describes, r.throttled, r.update_calls, r.retry_notes, r.final_td, r.old_td, r.new_td, r.later_deployments)
                    )
                    if r.code != 0:
                        log("           steps: " + "; ".join(r.step_ends))
                        log("           stderr: " + " | ".join(l.strip() for l in r.stderr)[:1500])
                    out[mode].append(r)
        finally:
            proxy.close()
        return out

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
                            call = pending.pop(0)
                            call["done"] = now
                            try:
                                call["status"] = int(data.split(b" ", 2)[1])
                            except (IndexError, ValueError):
                                call["status"] = None
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


def report_polling(args, polling):
    lines = []
    p = lines.append
    p("")
    p("Polling a held rollout (image `slow-%ds`): DescribeServices in a 60 s window from await-stable's start + %g s; %d run(s)" % (args.poll_hold, args.poll_skip, args.runs))
    p("")
    p("| awaited | DescribeServices per minute | services per call | polls per service in the minute | Describe calls per poll | DescribeServices in the whole await-stable | other calls in the minute |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, runs in polling.items():
        ok = [r for r in runs if r.ok]
        if not ok:
            p("| %s | (no valid run) | | | | | |" % label)
            continue
        rng = lambda xs, f="%g": (f % min(xs)) if f % min(xs) == f % max(xs) else ((f + "-" + f) % (min(xs), max(xs)))
        p("| %s | %s | %s | %s | %s | %s | %s |" % (
            label,
            rng([r.per_minute for r in ok], "%.1f"),
            rng([x for r in ok for x in r.batch]),
            rng([r.polls_per_service for r in ok], "%.1f"),
            rng([r.per_poll for r in ok], "%.2f"),
            rng([r.polls for r in ok]),
            ", ".join(sorted({a for r in ok for a in r.other_in_minute})) or "none",
        ))
    return "\n".join(lines)


def report_throttle(args, throttle):
    lines = []
    p = lines.append
    p("")
    p("Throttled DescribeServices for %g s from await-stable's start (rollout `slow-%ds`, `on-failure { rollback s0 }`); %d run(s)" % (args.throttle_seconds, args.throttle_slow, args.runs))
    p("")
    p("| window | run | exit | COMPLETED -> exit | COMPLETED into the window | window close -> exit | DescribeServices (throttled) | UpdateService | retry notes | service ends on revision (old -> new) | deployments after ours |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for mode in ("none", "window"):
        for i, r in enumerate(throttle.get(mode, []), 1):
            f = lambda x: "%.3f s" % x if x is not None else "-"
            p("| %s | %d | %d | %s | %s | %s | %d (%d) | %d | %d | %s (%s -> %s) | %d |" % (
                "none" if mode == "none" else "%g s" % args.throttle_seconds, i, r.code, f(r.post),
                f(getattr(r, "completed_in_window", None)), f(getattr(r, "after_close", None)),
                r.describes, r.throttled, r.update_calls, r.retry_notes, r.final_td, r.old_td, r.new_td, r.later_deployments))
    a = [r.post for r in throttle.get("none", []) if r.ok]
    b = [r.post for r in throttle.get("window", []) if r.ok]
    if a and b:
        p("")
        p("COMPLETED -> exit 0, median: %.3f s without the window, %.3f s with it: %.3f s added" % (med(a), med(b), med(b) - med(a)))
    return "\n".join(lines)


def report_strategies(args, strategies):
    lines = [
        "",
        "Deployment strategies (desired %d, bake times 1 emulated minute; time scale %s):" % (DESIRED, args.time_scale),
        "",
        "| strategy | runs | SUCCESSFUL -> exit, median | max | Describe calls per minute of bake, median | max | bakes measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for strategy, runs in strategies.items():
        ok = [r for r in runs if r.ok]
        rates = [x for r in ok for x in r.bake_rates]
        lines.append(
            "| %s | %d/%d | %s | %s | %s | %s | %d |"
            % (
                strategy, len(ok), len(runs),
                "%.3f s" % med(r.success_to_exit for r in ok) if ok else "-",
                "%.3f s" % mx(r.success_to_exit for r in ok) if ok else "-",
                "%.1f" % med(rates) if rates else "-",
                "%.1f" % mx(rates) if rates else "-",
                len(rates),
            )
        )
    return "\n".join(lines)


def to_json(runs):
    keys = ("wall", "rollout", "beyond", "pre", "post", "seen", "latency", "after_seen", "first_event", "cpu", "maxrss_mb", "code", "polls", "rest", "by_action", "ok",
            "label", "window", "minute_calls", "per_minute", "looks", "polls_per_service", "per_poll", "batch", "await_s",
            "mode", "step_ends", "throttled", "describes", "update_calls", "retry_notes", "final_td", "old_td", "new_td", "later_deployments", "completed_in_window", "after_close", "strategy", "success_to_exit", "bake_rates", "windows", "sd_status")
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
    ap.add_argument("--poll-hold", type=int, default=75, help="polling: the new tasks' start delay (image slow-Ns), emulated s")
    ap.add_argument("--poll-skip", type=float, default=5.0, help="polling: the minute starts this long after await-stable starts")
    ap.add_argument("--throttle-seconds", type=float, default=6.0, help="throttle: the window's length, real s")
    ap.add_argument("--throttle-slow", type=int, default=3, help="throttle: the new tasks' start delay (image slow-Ns)")
    ap.add_argument("--strategies", default="rolling,blue-green,linear,canary", help="strategies: which strategies")
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
    polling = throttle = None
    if "polling" in scenarios:
        log("== polling a held rollout: 1 service, %d in one await-stable, %d await-stables in parallel" % (args.services, args.services))
        polling = bench.polling()
    if "throttle" in scenarios:
        log("== %g s of throttled DescribeServices during await-stable" % args.throttle_seconds)
        throttle = bench.throttle()
    strategies = None
    if "strategies" in scenarios:
        log("== deployment strategies: SUCCESSFUL -> exit, Describe calls per minute of bake")
        strategies = bench.strategies()
    if args.trace:
        log("== traced runs (diagnostic)")
        traces = bench.trace()
    if args.model:
        log("== poll schedules (diagnostic)")
        model = bench.model()
    print(report(args, happy, failure, ones, manys, traces, model))
    if polling:
        print(report_polling(args, polling))
    if throttle:
        print(report_throttle(args, throttle))
    if strategies:
        print(report_strategies(args, strategies))
    if args.json:
        data = {
            "time_scale": args.time_scale,
            "runs": args.runs,
            "happy": to_json(happy or []),
            "failure": to_json(failure or []),
            "parallel_1": to_json(ones or []),
            "parallel_n": to_json(manys or []),
            "model": model or [],
            "polling": {k: to_json(v) for k, v in (polling or {}).items()},
            "throttle": {k: to_json(v) for k, v in (throttle or {}).items()},
            "strategies": {k: to_json(v) for k, v in (strategies or {}).items()},
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
