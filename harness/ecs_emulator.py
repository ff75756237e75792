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
import base64
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

MAX_TIMELINE = 20000
MAX_STOPPED_TASKS = 20000

sys.dont_write_bytecode = True  # as before the split: leave no __pycache__ in harness/
from emulator.common import EcsError, last_segment, log, r3, td_key  # noqa: E402
from emulator.scenarios import container_plans  # noqa: E402
from emulator.services import Deployment, Service, merge_deployment_configuration, resolve_placement  # noqa: E402
from emulator.tasks import Task  # noqa: E402

# --------------------------------------------------------------------------------------
# The emulator: state, scheduler, ECS operations
# --------------------------------------------------------------------------------------


def page(items, params, default_max, limit):
    max_results = params.get("maxResults") or default_max
    try:
        max_results = int(max_results)
    except (TypeError, ValueError):
        raise EcsError("InvalidParameterException", "maxResults must be an integer.")
    if max_results < 1 or max_results > limit:
        raise EcsError("InvalidParameterException", "maxResults must be between 1 and %d." % limit)
    start = 0
    token = params.get("nextToken")
    if token:
        try:
            start = int(json.loads(base64.b64decode(token))["offset"])
        except Exception:
            raise EcsError("InvalidParameterException", "Invalid nextToken.")
    chunk = items[start : start + max_results]
    nxt = None
    if start + max_results < len(items):
        nxt = base64.b64encode(json.dumps({"offset": start + max_results}).encode()).decode()
    return chunk, nxt


class Emulator:
    def __init__(self, moto, scale=1.0, start_delay=1.0, stop_delay=0.5, run_duration=1.0, tick=None, retention=3600.0):
        self.moto = moto
        self.scale = scale
        self.start_delay = start_delay
        self.stop_delay = stop_delay
        self.run_duration = run_duration
        self.tick_interval = tick if tick is not None else max(0.01, 0.25 * scale)
        self.retention = retention
        self.lock = threading.RLock()
        self.td_cache = {}
        self.accounts = {}
        self.faults = []
        self.reset_state()

    def reset_state(self):
        with self.lock:
            self.services = {}  # (region, cluster, name) -> Service
            self.tasks = {}  # (region, cluster) -> {task_id: Task}
            self.shadow_task_arns = set()  # tasks moto created for RunTask calls
            # (region, cluster, name) of CreateService calls that moto accepted and the
            # emulator refused: moto's record of them is not a service.
            self.rejected = set()
            self.timeline = []
            self.td_cache.clear()

    def reset_faults(self):
        with self.lock:
            self.faults = []

    # ---- context ---------------------------------------------------------------------

    def note(self, now, svc, deployment, event, **extra):
        entry = {
            "time": r3(now),
            "region": svc.region,
            "cluster": svc.cluster_name,
            "service": svc.name,
            "deployment": deployment.id if deployment else None,
            "event": event,
        }
        if deployment is not None:
            entry["taskDefinition"] = deployment.td_arn
        entry.update(extra)
        self.timeline.append(entry)
        del self.timeline[:-MAX_TIMELINE]

    def learn_account(self, ctx, arn):
        if arn and arn.startswith("arn:"):
            parts = arn.split(":")
            if len(parts) > 4 and parts[4]:
                self.accounts[ctx["access_key"]] = parts[4]
                ctx["account"] = parts[4]

    def cluster_arn(self, ctx, name):
        return "arn:aws:ecs:%s:%s:cluster/%s" % (ctx["region"], ctx["account"], name)

    # ---- task definitions ------------------------------------------------------------

    def cache_task_definition(self, region, td):
        if td and td.get("taskDefinitionArn"):
            key = td_key(td["taskDefinitionArn"])
            with self.lock:
                self.td_cache[(region, key)] = td

    def task_definition(self, ctx, ref, resolved_arn=None):
        """The full task definition for `ref`, from the cache or from moto."""
        for candidate in (resolved_arn, ref):
            key = td_key(candidate)
            if key:
                with self.lock:
                    td = self.td_cache.get((ctx["region"], key))
                if td:
                    return td
        status, _, body = self.moto.internal_ecs_call(
            ctx, "DescribeTaskDefinition", {"taskDefinition": resolved_arn or ref}
        )
        if status != 200:
            raise EcsError("ClientException", "Unable to describe task definition.")
        td = json.loads(body)["taskDefinition"]
        self.cache_task_definition(ctx["region"], td)
        return td

    # ---- lookup helpers --------------------------------------------------------------

    def cluster_tasks(self, ctx, cluster):
        return self.tasks.setdefault((ctx["region"], cluster), {})

    def find_service(self, ctx, cluster, name_or_arn):
        return self.services.get((ctx["region"], cluster, last_segment(name_or_arn)))

    def add_task(self, task):
        self.cluster_tasks({"region": task.region}, task.cluster_name)[task.id] = task

    # ---- scheduler -------------------------------------------------------------------

    def tick(self, now=None):
        with self.lock:
            now = now if now is not None else time.time()
            for tasks in self.tasks.values():
                for task in list(tasks.values()):
                    outcomes = task.advance(now)
                    if "failed" in outcomes and task.deployment is not None:
                        task.deployment.failed_tasks += 1
                        task.deployment.updated_at = now
            for svc in list(self.services.values()):
                if svc.status != "INACTIVE" and svc.deployment_controller.get("type", "ECS") == "ECS":
                    self.schedule(svc, now)
            self.prune(now)

    def schedule(self, svc, now):
        p = svc.primary
        cb = svc.deployment_configuration.get("deploymentCircuitBreaker") or {}
        # 1. Deployment circuit breaker (PRIMARY, in progress).
        if p.rollout_state == "IN_PROGRESS" and cb.get("enable") and p.failed_tasks >= svc.breaker_threshold():
            p.rollout_state = "FAILED"
            p.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start."
            p.updated_at = now
            svc.add_event(now, "(service %s) (deployment %s) deployment failed: tasks failed to start." % (svc.name, p.id))
            self.note(now, svc, p, "failed", failedTasks=p.failed_tasks, threshold=svc.breaker_threshold())
            target = svc.last_completed
            if cb.get("rollback") and target is not None and not p.rollback:
                svc.add_event(now, "(service %s) rolling back to deployment %s." % (svc.name, target.id))
                new = Deployment(svc, target.td, now, rollback=True, settings=target)
                p.status = "ACTIVE"
                svc.deployments.insert(0, new)
                self.note(now, svc, p, "rolled-back", to=new.id, target=target.id)
                self.note(now, svc, new, "started", rollback=True, target=target.id)
                p = new
        frozen = p.rollout_state == "FAILED"

        d, min_healthy, max_tasks = svc.limits()
        active = [t for t in svc.tasks if t.last_status != "STOPPED"]
        live = [t for t in active if t.is_live()]
        running = [t for t in live if t.last_status == "RUNNING"]
        to_stop = []
        started = []
        if not frozen or svc.status != "ACTIVE":
            p_live = [t for t in live if t.deployment is p]
            # Scale in the PRIMARY when it has more tasks than desired (no min-healthy limit).
            excess = len(p_live) - d
            if excess > 0:
                order = sorted(p_live, key=lambda t: (t.last_status == "RUNNING", -t.created_at))
                to_stop.extend(order[:excess])
            # Older deployments: tasks not yet RUNNING go at once, RUNNING ones while the
            # service keeps minimumHealthyPercent RUNNING.
            old_live = [t for t in live if t.deployment is not p]
            to_stop.extend(t for t in old_live if t.last_status != "RUNNING")
            running_left = len([t for t in running if t not in to_stop])
            rank = {dep.id: i for i, dep in enumerate(svc.deployments)}
            old_running = sorted(
                (t for t in old_live if t.last_status == "RUNNING"),
                key=lambda t: (-rank.get(t.deployment.id, 0), t.created_at),
            )
            for t in old_running:
                if running_left - 1 >= min_healthy:
                    to_stop.append(t)
                    running_left -= 1
                else:
                    break
            for t in to_stop:
                t.request_stop(
                    now,
                    "Scaling activity initiated by (deployment %s)" % t.deployment.id,
                    "ServiceSchedulerInitiated",
                )
            if to_stop:
                svc.add_event(
                    now,
                    "(service %s) has stopped %d running tasks: %s."
                    % (svc.name, len(to_stop), " ".join("(task %s)" % t.id for t in to_stop)),
                )
            # Start PRIMARY tasks within maximumPercent.
            if svc.status == "ACTIVE" and not frozen:
                live_after = len(live) - len(to_stop)
                p_live_after = len([t for t in p_live if t not in to_stop])
                n = max(0, min(d - p_live_after, max_tasks - live_after))
                for _ in range(n):
                    started.append(self.start_service_task(svc, p, now))
                if started:
                    svc.add_event(
                        now,
                        "(service %s) has started %d tasks: %s."
                        % (svc.name, len(started), " ".join("(task %s)" % t.id for t in started)),
                    )
        # 2. Counts.
        total_live = 0
        total_running = 0
        active = [t for t in svc.tasks if t.last_status != "STOPPED"]  # includes tasks just started
        for dep in svc.deployments:
            dep_tasks = [t for t in active if t.deployment is dep and t.is_live()]
            rc = len([t for t in dep_tasks if t.last_status == "RUNNING"])
            pc = len(dep_tasks) - rc
            dc = d if dep is p else rc + pc
            if (rc, pc, dc) != (dep.running_count, dep.pending_count, dep.desired_count):
                dep.running_count, dep.pending_count, dep.desired_count = rc, pc, dc
                dep.updated_at = now
            total_live += rc + pc
            total_running += rc
        svc.running_count = total_running
        svc.pending_count = total_live - total_running
        if p.rollout_state == "IN_PROGRESS":
            p.observed_max_tasks = max(p.observed_max_tasks, total_live)
            if p.observed_min_running is None or total_running < p.observed_min_running:
                p.observed_min_running = total_running
        # 3. Completion and steady state.
        others_busy = any((t.is_live() or t.is_stopping()) for t in active if t.deployment is not p)
        # A PRIMARY task whose essential container is scheduled to exit (crash-after,
        # exit/sleep commands) is RUNNING but never healthy: its deployment cannot
        # complete, so each of its crashes counts for the circuit breaker.
        doomed = any(t.will_exit() for t in active if t.deployment is p and t.is_live())
        if (
            svc.status == "ACTIVE"
            and p.rollout_state == "IN_PROGRESS"
            and p.running_count == d
            and p.pending_count == 0
            and not others_busy
            and not doomed
        ):
            for dep in svc.deployments[1:]:
                self.note(now, svc, dep, "removed")
            del svc.deployments[1:]
            p.rollout_state = "COMPLETED"
            p.rollout_state_reason = "ECS deployment %s completed." % p.id
            p.updated_at = now
            svc.last_completed = p
            svc.add_event(now, "(service %s) (deployment %s) deployment completed." % (svc.name, p.id))
            self.note(now, svc, p, "completed")
        stable = (
            svc.status == "ACTIVE"
            and len(svc.deployments) == 1
            and p.rollout_state == "COMPLETED"
            and p.running_count == d
            and p.pending_count == 0
            and not any(t.is_stopping() for t in active)
        )
        if stable and not svc.steady:
            svc.add_event(now, "(service %s) has reached a steady state." % svc.name)
            self.note(now, svc, p, "steady-state")
        svc.steady = stable
        if svc.status == "DRAINING" and not active:
            svc.status = "INACTIVE"
            self.note(now, svc, None, "inactive")

    def start_service_task(self, svc, dep, now):
        ctx = {"region": svc.region, "account": svc.account}
        plans = container_plans(dep.td, None, True, self.start_delay, self.run_duration)
        task = Task(
            self,
            ctx,
            svc.cluster_name,
            svc.cluster_arn,
            dep.td,
            plans,
            now,
            group="service:%s" % svc.name,
            started_by=dep.id,
            launch_type=dep.task_launch_type,
            capacity_provider_name=dep.capacity_provider_name,
            platform_version=dep.platform_version,
            platform_family=dep.platform_family,
            network_configuration=dep.network_configuration,
            tags=svc.tags if svc.propagate_tags == "SERVICE" else [],
            service=svc,
            deployment=dep,
            enable_execute_command=dep.enable_execute_command,
        )
        svc.tasks.append(task)
        self.add_task(task)
        return task

    def prune(self, now):
        horizon = now - self.retention * self.scale
        stopped = []
        for key, tasks in self.tasks.items():
            for tid, t in list(tasks.items()):
                if t.last_status == "STOPPED":
                    if t.stopped_at < horizon:
                        self.drop_task(key, tid)
                    else:
                        stopped.append((t.stopped_at, key, tid))
        if len(stopped) > MAX_STOPPED_TASKS:
            stopped.sort()
            for _, key, tid in stopped[: len(stopped) - MAX_STOPPED_TASKS]:
                self.drop_task(key, tid)

    def drop_task(self, key, tid):
        t = self.tasks[key].pop(tid)
        if t.service is not None:
            try:
                t.service.tasks.remove(t)
            except ValueError:
                pass

    # ---- adopting services that only moto knows (e.g. --moto-url with old state) --------

    def adopt(self, ctx, moto_svc, now):
        """Take over a service that moto has and the emulator does not (steady, COMPLETED)."""
        if (moto_svc.get("deploymentController") or {}).get("type", "ECS") != "ECS":
            return None
        td_ref = None
        for dep in moto_svc.get("deployments") or []:
            if dep.get("status") == "PRIMARY":
                td_ref = dep.get("taskDefinition")
        td_ref = td_ref or moto_svc.get("taskDefinition")
        if not td_ref:
            return None
        td = self.task_definition(ctx, td_ref)
        cluster = last_segment(moto_svc.get("clusterArn") or "default")
        if (ctx["region"], cluster, moto_svc.get("serviceName")) in self.rejected:
            return None
        params = dict(moto_svc)
        params["networkConfiguration"] = moto_svc.get("networkConfiguration") or None
        with self.lock:
            existing = self.services.get((ctx["region"], cluster, moto_svc["serviceName"]))
            if existing is not None:
                return existing
            svc = Service(ctx, cluster, moto_svc.get("clusterArn") or self.cluster_arn(ctx, cluster), params, td, now)
            p = svc.primary
            for _ in range(svc.desired_count):
                t = self.start_service_task(svc, p, now - 10)
                t.advance(now)
                t.advance(now)
            p.rollout_state = "COMPLETED"
            p.rollout_state_reason = "ECS deployment %s completed." % p.id
            svc.last_completed = p
            svc.steady = True
            self.services[(ctx["region"], cluster, svc.name)] = svc
            self.schedule(svc, now)
            self.note(now, svc, p, "adopted")
            return svc

    # ---- ECS operations ----------------------------------------------------------------
    # Each takes (ctx, params, moto_status, moto_json) after moto accepted the request.

    def op_CreateService(self, ctx, params, moto_status, moto_json):
        moto_svc = (moto_json or {}).get("service") or {}
        self.learn_account(ctx, moto_svc.get("clusterArn"))
        cluster = last_segment(params.get("cluster") or "default")
        name = params.get("serviceName")
        if not name:
            raise EcsError("InvalidParameterException", "serviceName can not be empty.")
        ctrl = (params.get("deploymentController") or {}).get("type", "ECS")
        if ctrl != "ECS":
            return None  # only rolling updates are emulated: moto's answer stands
        key = (ctx["region"], cluster, name)
        try:
            return self.create_service(ctx, cluster, name, key, params, moto_svc)
        except EcsError:
            with self.lock:
                old = self.services.get(key)
                if old is None or old.status == "INACTIVE":
                    self.rejected.add(key)
            raise

    def create_service(self, ctx, cluster, name, key, params, moto_svc):
        td_ref = params.get("taskDefinition")
        if not td_ref:
            raise EcsError("InvalidParameterException", "TaskDefinition must be specified for the ECS deployment controller.")
        td = self.task_definition(ctx, td_ref, moto_svc.get("taskDefinition"))
        nc = params.get("networkConfiguration")
        if td.get("networkMode") == "awsvpc" and not nc:
            raise EcsError(
                "InvalidParameterException",
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            )
        if params.get("launchType") and params.get("capacityProviderStrategy"):
            raise EcsError(
                "InvalidParameterException",
                "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.",
            )
        now = time.time()
        with self.lock:
            old = self.services.get(key)
            if old is not None and old.status != "INACTIVE":
                raise EcsError("InvalidParameterException", "Creation of service was not idempotent.")
            self.rejected.discard(key)
            svc = Service(ctx, cluster, moto_svc.get("clusterArn") or self.cluster_arn(ctx, cluster), params, td, now)
            if old is not None:
                # the INACTIVE service's stopped tasks stay describable
                svc.tasks = [t for t in old.tasks]
            self.services[key] = svc
            self.note(now, svc, svc.primary, "started", initial=True)
            return {"service": svc.to_json()}

    def op_UpdateService(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        svc_name = last_segment(params.get("service") or "")
        with self.lock:
            svc = self.find_service(ctx, cluster, svc_name)
            if svc is None and (ctx["region"], cluster, svc_name) in self.rejected:
                raise EcsError("ServiceNotFoundException", "Service not found.")
        if svc is None:
            moto_svc = (moto_json or {}).get("service")
            if moto_svc:
                svc = self.adopt(ctx, moto_svc, time.time())
            if svc is None:
                return None
        if svc.status != "ACTIVE":
            raise EcsError("ServiceNotActiveException", "Service was not ACTIVE.")
        td = None
        if params.get("taskDefinition"):
            td = self.task_definition(ctx, params["taskDefinition"])
        now = time.time()
        with self.lock:
            if svc.status != "ACTIVE":
                raise EcsError("ServiceNotActiveException", "Service was not ACTIVE.")
            new_deployment = bool(params.get("forceNewDeployment"))
            if td is not None and td["taskDefinitionArn"] != svc.task_definition:
                new_deployment = True
            if params.get("desiredCount") is not None:
                svc.desired_count = int(params["desiredCount"])
            if params.get("deploymentConfiguration") is not None:
                svc.deployment_configuration = merge_deployment_configuration(
                    svc.deployment_configuration, params["deploymentConfiguration"]
                )
            for field, attr in (
                ("networkConfiguration", "network_configuration"),
                ("platformVersion", "platform_version"),
                ("capacityProviderStrategy", "capacity_provider_strategy"),
                ("loadBalancers", "load_balancers"),
                ("serviceRegistries", "service_registries"),
            ):
                if params.get(field) is not None and params[field] != getattr(svc, attr):
                    setattr(svc, attr, params[field])
                    new_deployment = True
            if params.get("capacityProviderStrategy"):
                svc.launch_type = None
            for field, attr in (
                ("placementConstraints", "placement_constraints"),
                ("placementStrategy", "placement_strategy"),
                ("healthCheckGracePeriodSeconds", "health_check_grace_period"),
                ("enableECSManagedTags", "enable_ecs_managed_tags"),
                ("propagateTags", "propagate_tags"),
                ("enableExecuteCommand", "enable_execute_command"),
            ):
                if params.get(field) is not None:
                    setattr(svc, attr, params[field])
            if new_deployment:
                dep = Deployment(svc, td or svc.primary.td, now)
                for old in svc.deployments:
                    old.status = "ACTIVE"
                svc.deployments.insert(0, dep)
                svc.steady = False
                self.note(now, svc, dep, "started", superseded=[d.id for d in svc.deployments[1:]])
            else:
                svc.primary.desired_count = svc.desired_count
            self.schedule_counts_only(svc)
            return {"service": svc.to_json()}

    def schedule_counts_only(self, svc):
        svc.primary.desired_count = svc.desired_count

    def op_DescribeServices(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        names = params.get("services") or []
        if not names:
            raise EcsError("InvalidParameterException", "Services cannot be empty.")
        if len(names) > 10:
            raise EcsError("InvalidParameterException", "services can have at most 10 items.")
        include_tags = "TAGS" in (params.get("include") or [])
        moto_by_name = {}
        for s in (moto_json or {}).get("services") or []:
            moto_by_name[s.get("serviceName")] = s
            self.learn_account(ctx, s.get("serviceArn"))
        now = time.time()
        for n in names:
            nm = last_segment(n)
            with self.lock:
                known = self.find_service(ctx, cluster, nm)
            if known is None and nm in moto_by_name:
                self.adopt(ctx, moto_by_name[nm], now)
        services, failures = [], []
        with self.lock:
            for n in names:
                nm = last_segment(n)
                svc = self.find_service(ctx, cluster, nm)
                if svc is not None:
                    tags = (moto_by_name.get(nm) or {}).get("tags")
                    services.append(svc.to_json(tags=tags, include_tags=include_tags))
                elif nm in moto_by_name and (ctx["region"], cluster, nm) not in self.rejected:
                    services.append(moto_by_name[nm])  # e.g. CODE_DEPLOY controller: moto's answer
                else:
                    arn = n if n.startswith("arn:") else "arn:aws:ecs:%s:%s:service/%s/%s" % (
                        ctx["region"], ctx["account"], cluster, nm)
                    failures.append({"arn": arn, "reason": "MISSING"})
        return {"services": services, "failures": failures}

    def op_DeleteService(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        now = time.time()
        with self.lock:
            svc = self.find_service(ctx, cluster, params.get("service") or "")
            if svc is None:
                if (ctx["region"], cluster, last_segment(params.get("service") or "")) in self.rejected:
                    raise EcsError("ServiceNotFoundException", "Service not found.")
                return None
            if svc.status != "ACTIVE":
                raise EcsError("ServiceNotActiveException", "Service was not ACTIVE.")
            if svc.desired_count > 0 and not params.get("force"):
                raise EcsError("InvalidParameterException", "The service cannot be stopped while it is scaled above 0.")
            svc.status = "DRAINING"
            svc.desired_count = 0
            svc.steady = False
            self.note(now, svc, None, "deleted")
            return {"service": svc.to_json()}

    def op_ListServices(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        lt = params.get("launchType")
        ss = params.get("schedulingStrategy")
        with self.lock:
            mine = {}
            for (region, c, _), svc in self.services.items():
                if region == ctx["region"] and c == cluster:
                    mine[svc.arn] = svc
            arns = [
                a
                for a, s in mine.items()
                if s.status == "ACTIVE" and (not lt or s.launch_type == lt) and (not ss or s.scheduling_strategy == ss)
            ]
            for a in (moto_json or {}).get("serviceArns") or []:
                # services only moto knows (not created through the emulator)
                name = last_segment(a)
                if (ctx["region"], cluster, name) in self.rejected:
                    continue
                if a not in mine and not any(s.name == name for s in mine.values()):
                    arns.append(a)
        arns.sort()
        chunk, nxt = page(arns, params, 10, 100)
        out = {"serviceArns": chunk}
        if nxt:
            out["nextToken"] = nxt
        return out

    def op_RunTask(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        moto_tasks = (moto_json or {}).get("tasks") or []
        resolved = moto_tasks[0].get("taskDefinitionArn") if moto_tasks else None
        cluster_arn = moto_tasks[0].get("clusterArn") if moto_tasks else None
        if cluster_arn:
            self.learn_account(ctx, cluster_arn)
        if not params.get("taskDefinition"):
            raise EcsError("InvalidParameterException", "TaskDefinition cannot be empty.")
        count = int(params.get("count") or 1)
        if count < 1 or count > 10:
            raise EcsError("InvalidParameterException", "count must be between 1 and 10.")
        lt = params.get("launchType")
        cps = params.get("capacityProviderStrategy")
        if lt and cps:
            raise EcsError(
                "InvalidParameterException",
                "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.",
            )
        td = self.task_definition(ctx, params["taskDefinition"], resolved)
        nc = params.get("networkConfiguration")
        if td.get("networkMode") == "awsvpc" and not nc:
            raise EcsError(
                "InvalidParameterException",
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            )
        task_lt, cp_name, pv, pf = resolve_placement(lt, cps, params.get("platformVersion"))
        now = time.time()
        tasks = []
        with self.lock:
            for mt in moto_tasks:
                if mt.get("taskArn"):
                    self.shadow_task_arns.add(mt["taskArn"])
            for _ in range(count):
                plans = container_plans(td, params.get("overrides"), False, self.start_delay, self.run_duration)
                t = Task(
                    self,
                    ctx,
                    cluster,
                    cluster_arn or self.cluster_arn(ctx, cluster),
                    td,
                    plans,
                    now,
                    group=params.get("group"),
                    started_by=params.get("startedBy"),
                    launch_type=task_lt,
                    capacity_provider_name=cp_name,
                    platform_version=pv,
                    platform_family=pf,
                    network_configuration=nc,
                    overrides=params.get("overrides"),
                    tags=params.get("tags"),
                    enable_execute_command=params.get("enableExecuteCommand"),
                )
                self.add_task(t)
                tasks.append(t.to_json())
        return {"tasks": tasks, "failures": []}

    def op_DescribeTasks(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        refs = params.get("tasks") or []
        if not refs:
            raise EcsError("InvalidParameterException", "Tasks cannot be empty.")
        if len(refs) > 100:
            raise EcsError("InvalidParameterException", "tasks can have at most 100 items.")
        include_tags = "TAGS" in (params.get("include") or [])
        moto_tasks = {}
        for mt in (moto_json or {}).get("tasks") or []:
            moto_tasks[last_segment(mt.get("taskArn", ""))] = mt
        out, failures = [], []
        with self.lock:
            tasks = self.cluster_tasks(ctx, cluster)
            for ref in refs:
                tid = last_segment(ref)
                t = tasks.get(tid)
                if t is not None:
                    out.append(t.to_json(include_tags))
                elif tid in moto_tasks and moto_tasks[tid].get("taskArn") not in self.shadow_task_arns:
                    out.append(moto_tasks[tid])  # e.g. StartTask: moto's own task
                else:
                    arn = ref if ref.startswith("arn:") else "arn:aws:ecs:%s:%s:task/%s/%s" % (
                        ctx["region"], ctx["account"], cluster, tid)
                    failures.append({"arn": arn, "reason": "MISSING"})
        return {"tasks": out, "failures": failures}

    def op_ListTasks(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        service_name = params.get("serviceName")
        family = params.get("family")
        started_by = params.get("startedBy")
        desired = params.get("desiredStatus") or "RUNNING"
        lt = params.get("launchType")
        if desired not in ("RUNNING", "PENDING", "STOPPED"):
            raise EcsError("InvalidParameterException", "desiredStatus must be one of [RUNNING, PENDING, STOPPED].")
        if service_name and family:
            raise EcsError("InvalidParameterException", "Cannot specify both serviceName and family.")
        with self.lock:
            if service_name:
                svc = self.find_service(ctx, cluster, service_name)
                if svc is None:
                    raise EcsError("ServiceNotFoundException", "Service not found.")
            tasks = sorted(self.cluster_tasks(ctx, cluster).values(), key=lambda t: t.created_at)
            arns = []
            for t in tasks:
                if service_name and t.group != "service:%s" % last_segment(service_name):
                    continue
                if family and t.family != family:
                    continue
                if started_by and t.started_by != started_by:
                    continue
                if lt and t.launch_type != lt:
                    continue
                if desired == "PENDING":
                    if not (t.desired_status == "RUNNING" and t.last_status in ("PROVISIONING", "PENDING")):
                        continue
                elif t.desired_status != desired:
                    continue
                arns.append(t.arn)
            if not service_name:
                # tasks that only moto knows (StartTask), not moto's shadows of RunTask
                for a in (moto_json or {}).get("taskArns") or []:
                    if a not in self.shadow_task_arns and last_segment(a) not in self.cluster_tasks(ctx, cluster):
                        arns.append(a)
        chunk, nxt = page(arns, params, 100, 100)
        out = {"taskArns": chunk}
        if nxt:
            out["nextToken"] = nxt
        return out

    def op_StopTask(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        tid = last_segment(params.get("task") or "")
        now = time.time()
        with self.lock:
            t = self.cluster_tasks(ctx, cluster).get(tid)
            if t is None:
                if moto_status == 200 and moto_json and moto_json.get("task"):
                    return moto_json  # a task that only moto knows
                raise EcsError("InvalidParameterException", "The referenced task was not found.")
            t.request_stop(now, params.get("reason") or "Task stopped by user", "UserInitiated")
            return {"task": t.to_json()}

    # ---- introspection -----------------------------------------------------------------

    def dump_state(self):
        with self.lock:
            services = []
            for svc in self.services.values():
                j = svc.to_json(include_tags=True)
                j["region"] = svc.region
                j["steady"] = svc.steady
                j["breakerThreshold"] = svc.breaker_threshold()
                j["lastCompletedDeployment"] = svc.last_completed.id if svc.last_completed else None
                for dj, dep in zip(j["deployments"], svc.deployments):
                    dj["observedMaxTasks"] = dep.observed_max_tasks
                    dj["observedMinRunning"] = dep.observed_min_running
                    dj["rollback"] = dep.rollback
                services.append(j)
            tasks = []
            for tmap in self.tasks.values():
                for t in tmap.values():
                    tj = t.to_json(True)
                    tj["region"] = t.region
                    tasks.append(tj)
            return {
                "timeScale": self.scale,
                "tickSeconds": self.tick_interval,
                "services": services,
                "tasks": tasks,
                "faults": self.faults,
            }

    # ---- fault injection -----------------------------------------------------------------

    def add_fault(self, spec):
        action = spec.get("action") or "*"
        responses = spec.get("responses")
        if not isinstance(responses, list) or not responses:
            raise ValueError("responses must be a non-empty list")
        for r in responses:
            if not isinstance(r, dict) or not isinstance(r.get("status", 0), int):
                raise ValueError("each response must be an object with an integer status")
        with self.lock:
            self.faults.append({"action": action, "responses": list(responses)})

    def take_fault(self, action):
        with self.lock:
            for f in self.faults:
                if f["responses"] and (f["action"] == "*" or f["action"] == action):
                    r = f["responses"].pop(0)
                    self.faults = [x for x in self.faults if x["responses"]]
                    return r
        return None


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
