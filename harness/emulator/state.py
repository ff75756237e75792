"""The emulator's state: services, tasks, the timeline, and what it learned from moto.

State is the base of the Emulator class (api.py); the scheduler (scheduler.py),
the fault queue (faults.py) and the ECS operations (api.py) are mixed in over it
and share its one lock.

Keeps the documented ECS behaviour that is about identity rather than rollouts:
state per region (taken from the request's SigV4 credential scope) and per
cluster, long ARNs (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`), task definition
revisions that never change once registered. It also keeps the timeline
(`/_emulator/timeline`, at most 20000 entries), which is the emulator's own.

Where it assumes (harness/README.md, "How a request flows"):

- the account is the one moto's ARNs show (moto's default 123456789012 until an
  answer says otherwise), learned per access key;
- task definitions are moto's: the emulator caches the ones that pass through it
  and asks moto for the others with its own DescribeTaskDefinition, which moto's
  recorder shows (marked `X-Ecs-Emulator-Internal: 1`, see upstream.py). A bare
  family means "latest ACTIVE", so moto is always asked about it.
"""

import json
import threading

from .common import EcsError, last_segment, r3, td_key
from .strategies import ServiceDeployment

MAX_TIMELINE = 20000


class State:
    """Services, tasks, timeline and caches, under one lock; the base of Emulator."""

    def __init__(self, moto, scale=1.0, start_delay=1.0, stop_delay=0.5, run_duration=1.0, tick=None, retention=3600.0, minute=60.0):
        self.moto = moto
        self.scale = scale
        self.start_delay = start_delay
        self.stop_delay = stop_delay
        self.run_duration = run_duration
        self.tick_interval = tick if tick is not None else max(0.01, 0.25 * scale)
        self.retention = retention
        self.minute = minute  # emulated seconds per minute of bake time and hook timeout
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
            # (region, cluster, clientToken) -> RunTask's answer
            self.run_task_tokens = {}
            self.timeline = []
            self.td_cache.clear()
            self.service_deployments = {}  # ARN -> strategies.ServiceDeployment

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

    def new_service_deployment(self, svc, target, sources, now):
        """Record a service deployment of `target` (strategies.ServiceDeployment)."""
        current = svc.current_sd
        sd = ServiceDeployment(svc, target, sources, now)
        if current is not None and not current.finished:
            current.set_status(now, "STOPPED", "Replaced by service deployment %s." % sd.arn)
        svc.service_deployments.append(sd)
        self.service_deployments[sd.arn] = sd
        return sd

    def add_task(self, task):
        self.cluster_tasks({"region": task.region}, task.cluster_name)[task.id] = task

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
