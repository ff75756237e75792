"""Tasks and their containers: the task lifecycle and the Task and Container shapes.

Reproduces the ECS developer guide's task lifecycle (PROVISIONING → PENDING →
RUNNING → DEACTIVATING → STOPPED, with desiredStatus STOPPED as soon as a stop is
asked for), its stopped-task error codes (stopCode `EssentialContainerExited`,
`TaskFailedToStart`, `ServiceSchedulerInitiated`, `UserInitiated`, with their
stoppedReason) and the API reference's `Task` and `Container` shapes: every
container listed, `exitCode` and `reason`, the lifecycle timestamps, an ENI
attachment for awsvpc tasks.

What a container does comes from its scenario plan (scenarios.py); the scheduler
(scheduler.py) moves each task along with `advance` and stops tasks with
`request_stop`.

Where it assumes (harness/README.md, "Known differences from real ECS"):

- a task takes the start delay of its slowest container; PROVISIONING lasts the
  first quarter of it, and a stop takes the stop delay (both × the time scale);
- when an essential container exits, ECS stops the task's other containers
  (ContainerDefinition `essential`: "If the essential parameter of a container is
  marked as true, and that container fails or stops for any reason, all other
  containers that are part of the task are stopped"; StopTask: a SIGTERM, then
  SIGKILL after the stop timeout, 30 s by default). Those still running exit 143
  (killed by SIGTERM, 128 + 15), or 137 (SIGKILL, 128 + 9) after their
  `stopTimeout` if their command ignores SIGTERM (`trap '' TERM`); the task is
  STOPPED once the last has. They get no container `reason` (assumed: ECS sets
  one for failures such as OutOfMemoryError or CannotPullContainerError, not for
  its own SIGTERM), and the task's `stopCode`/`stoppedReason` are
  `EssentialContainerExited` / `Essential container in task exited`;
- containers that a scheduler or user stop (StopTask, a rolling update) stops
  exit 0 (a real app may exit 143, or 137 after SIGKILL), and containers that
  never ran have no exit code;
- container health checks are not modelled: `healthStatus` is UNKNOWN, and a task
  is not healthy while an essential container is scheduled to exit (will_exit);
- the ENI, its addresses and the availability zone (REGIONa) are made up; fields
  without emulated meaning (containerInstanceArn, runtimeId, imageDigest, ...) are
  omitted.
"""

import random
import uuid

from .common import r3
from .scenarios import qualified_image

LIVE = ("PROVISIONING", "PENDING", "RUNNING")


class Container:
    def __init__(self, task, plan):
        self.plan = plan
        self.arn = "arn:aws:ecs:%s:%s:container/%s/%s/%s" % (
            task.region,
            task.account,
            task.cluster_name,
            task.id,
            uuid.uuid4(),
        )
        self.last_status = "PENDING"
        self.exit_code = None
        self.reason = None
        self.exit_at = None  # planned exit time (real seconds), set when RUNNING

    def stop(self, code, reason=None):
        if self.last_status == "STOPPED":
            return
        self.last_status = "STOPPED"
        self.exit_code = code
        if reason:
            self.reason = reason


class Task:
    def __init__(self, emu, ctx, cluster_name, cluster_arn, td, plans, now, **kw):
        self.emu = emu
        self.region = ctx["region"]
        self.account = ctx["account"]
        self.id = uuid.uuid4().hex
        self.cluster_name = cluster_name
        self.cluster_arn = cluster_arn
        self.arn = "arn:aws:ecs:%s:%s:task/%s/%s" % (self.region, self.account, cluster_name, self.id)
        self.td = td
        self.td_arn = td["taskDefinitionArn"]
        self.family = td.get("family")
        self.group = kw.get("group") or "family:%s" % self.family
        self.started_by = kw.get("started_by")
        self.launch_type = kw.get("launch_type")
        self.capacity_provider_name = kw.get("capacity_provider_name")
        self.platform_version = kw.get("platform_version")
        self.platform_family = kw.get("platform_family")
        self.network_configuration = kw.get("network_configuration")
        self.overrides = kw.get("overrides") or {}
        self.tags = kw.get("tags") or []
        self.service = kw.get("service")
        self.deployment = kw.get("deployment")
        self.enable_execute_command = bool(kw.get("enable_execute_command"))
        self.created_at = now
        self.last_status = "PROVISIONING"
        self.desired_status = "RUNNING"
        self.started_at = None
        self.stopping_at = None
        self.execution_stopped_at = None
        self.stopped_at = None
        self.pull_started_at = None
        self.pull_stopped_at = None
        self.connectivity_at = None
        self.stopped_reason = None
        self.stop_code = None
        self.stop_complete_at = None
        self.version = 1
        self.failed = False
        self.sigterm_after_exit = False  # an essential container exited: ECS stops the rest
        self.containers = [Container(self, p) for p in plans]
        scale = emu.scale
        start = max([p.start_delay for p in plans] or [emu.start_delay]) * scale
        self.t_pending = now + 0.25 * start
        self.t_start = now + start
        self.attachments = []
        if (td.get("networkMode") == "awsvpc") and self.network_configuration:
            conf = self.network_configuration.get("awsvpcConfiguration") or {}
            subnet = (conf.get("subnets") or ["subnet-00000000"])[0]
            ip = "10.0.%d.%d" % (random.randint(0, 255), random.randint(2, 254))
            self.attachments.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "ElasticNetworkInterface",
                    "status": "PRECREATED",
                    "details": [
                        {"name": "subnetId", "value": subnet},
                        {"name": "networkInterfaceId", "value": "eni-%017x" % random.getrandbits(68)},
                        {
                            "name": "macAddress",
                            "value": ":".join("%02x" % random.randint(0, 255) for _ in range(6)),
                        },
                        {
                            "name": "privateDnsName",
                            "value": "ip-%s.ec2.internal" % ip.replace(".", "-"),
                        },
                        {"name": "privateIPv4Address", "value": ip},
                    ],
                }
            )
            self.private_ip = ip
        else:
            self.private_ip = None

    # ---- lifecycle -----------------------------------------------------------------

    def is_live(self):
        return self.desired_status == "RUNNING" and self.last_status in LIVE

    def will_exit(self):
        """An essential container is scheduled to exit: the task is not healthy."""
        return any(c.plan.essential and c.exit_at is not None and c.last_status == "RUNNING" for c in self.containers)

    def is_stopping(self):
        return self.desired_status == "STOPPED" and self.last_status != "STOPPED"

    def _set_attachments(self, status):
        for a in self.attachments:
            a["status"] = status

    def _stop_now(self, at, reason, code, container_reason=None):
        """The task reaches STOPPED at time `at` (its own containers have exited)."""
        for c in self.containers:
            if c.last_status != "STOPPED":
                # containers that never ran have no exit code; after an essential
                # container's exit, the ones left ignored SIGTERM and get SIGKILL
                # (137); running ones stopped by a scheduler or user stop exit
                # gracefully (0).
                if self.sigterm_after_exit and self.started_at is not None:
                    c.stop(137 if c.plan.ignores_sigterm else 143)
                else:
                    c.stop(0 if self.started_at is not None else None)
        self.last_status = "STOPPED"
        self.desired_status = "STOPPED"
        self.stopping_at = self.stopping_at or at
        self.execution_stopped_at = at
        self.stopped_at = at
        if self.stopped_reason is None:
            self.stopped_reason = reason
        if self.stop_code is None:
            self.stop_code = code
        self._set_attachments("DELETED")
        self.version += 1

    def _essential_exited(self, at):
        """ECS stops the task's other containers: SIGTERM, then SIGKILL after their
        stopTimeout. A process killed by SIGTERM exits 143; one that ignores it (a
        `trap '' TERM` command) is killed and exits 137, and the task is STOPPED
        only then."""
        reason, code = "Essential container in task exited", "EssentialContainerExited"
        self.sigterm_after_exit = True
        slow = [c for c in self.containers if c.last_status == "RUNNING" and c.plan.ignores_sigterm]
        for c in self.containers:
            if c.last_status == "RUNNING" and not c.plan.ignores_sigterm:
                c.stop(143)
        if not slow:
            return self._stop_now(at, reason, code)
        self.request_stop(at, reason, code)
        self.stop_complete_at = at + max(c.plan.stop_timeout for c in slow) * self.emu.scale

    def request_stop(self, now, reason, code):
        """Scheduler- or user-initiated stop: desiredStatus STOPPED now, STOPPED later."""
        if self.desired_status == "STOPPED" or self.last_status == "STOPPED":
            return False
        self.desired_status = "STOPPED"
        self.stopping_at = now
        self.stopped_reason = reason
        self.stop_code = code
        self.stop_complete_at = now + self.emu.stop_delay * self.emu.scale
        if self.last_status == "RUNNING":
            self.last_status = "DEACTIVATING"
        self.version += 1
        return True

    def advance(self, now):
        """Move along the planned lifecycle up to `now`. Returns outcome words."""
        out = []
        if self.last_status == "STOPPED":
            return out
        if self.desired_status == "STOPPED":
            if now >= self.stop_complete_at:
                self._stop_now(self.stop_complete_at, self.stopped_reason, self.stop_code)
                out.append("stopped")
            return out
        if self.last_status == "PROVISIONING" and now >= self.t_pending:
            self.last_status = "PENDING"
            self.pull_started_at = self.t_pending
            self._set_attachments("ATTACHED")
            self.version += 1
        if self.last_status == "PENDING" and now >= self.t_start:
            at = self.t_start
            pull = [c for c in self.containers if c.plan.pull_error]
            crash = [c for c in self.containers if c.plan.essential and c.plan.exits_at_start]
            if pull:
                c = pull[0]
                msg = (
                    "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                    "failed to resolve ref %s: %s: not found"
                    % (qualified_image(c.plan.image), qualified_image(c.plan.image))
                )
                c.reason = msg
                self.failed = True
                self._stop_now(at, msg, "TaskFailedToStart")
                out.append("failed")
                return out
            self.pull_stopped_at = at - 0.1 * (self.t_start - self.t_pending)
            if crash:
                # The essential container exits before the task is reported RUNNING.
                for c in self.containers:
                    if c.plan.exits_at_start:
                        c.stop(c.plan.exit_code)
                self.failed = True
                self._stop_now(at, "Essential container in task exited", "EssentialContainerExited")
                out.append("failed")
                return out
            self.last_status = "RUNNING"
            self.started_at = at
            self.connectivity_at = at - 0.2 * (self.t_start - self.t_pending)
            for c in self.containers:
                if c.plan.exits_at_start:
                    c.stop(c.plan.exit_code)
                else:
                    c.last_status = "RUNNING"
                    if c.plan.run_duration is not None:
                        c.exit_at = at + c.plan.run_duration * self.emu.scale
            self.version += 1
            out.append("running")
        if self.last_status == "RUNNING":
            running = sorted(
                (c for c in self.containers if c.last_status == "RUNNING" and c.exit_at is not None),
                key=lambda c: (c.exit_at, c.plan.essential),  # same instant: all record their codes
            )
            for c in running:
                if c.exit_at > now:
                    break
                c.stop(c.plan.exit_code)
                self.version += 1
                if c.plan.essential:
                    if self.service is not None:
                        self.failed = True
                        out.append("failed")
                    self._essential_exited(c.exit_at)
                    out.append("exited")
                    break
        return out

    # ---- wire shape ----------------------------------------------------------------

    def to_json(self, include_tags=False):
        td = self.td
        cdefs = td.get("containerDefinitions") or []
        cpu = td.get("cpu") or str(sum(int(c.get("cpu") or 0) for c in cdefs))
        memory = td.get("memory")
        if memory is None:
            mem = sum(int(c.get("memory") or c.get("memoryReservation") or 0) for c in cdefs)
            memory = str(mem) if mem else None
        containers = []
        for c in self.containers:
            cj = {
                "containerArn": c.arn,
                "taskArn": self.arn,
                "name": c.plan.name,
                "image": c.plan.image,
                "lastStatus": c.last_status,
                "networkBindings": [],
                "networkInterfaces": [],
                "healthStatus": "UNKNOWN",
                "cpu": str(c.plan.cpu or 0),
            }
            if c.plan.memory:
                cj["memory"] = str(c.plan.memory)
            if c.exit_code is not None:
                cj["exitCode"] = c.exit_code
            if c.reason:
                cj["reason"] = c.reason
            if self.private_ip and self.attachments:
                cj["networkInterfaces"] = [
                    {"attachmentId": self.attachments[0]["id"], "privateIpv4Address": self.private_ip}
                ]
            containers.append(cj)
        overrides = {
            "containerOverrides": self.overrides.get("containerOverrides")
            or [{"name": c.plan.name} for c in self.containers],
            "inferenceAcceleratorOverrides": self.overrides.get("inferenceAcceleratorOverrides") or [],
        }
        for k, v in self.overrides.items():
            if k not in overrides:
                overrides[k] = v
        j = {
            "attachments": self.attachments,
            "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
            "availabilityZone": self.region + "a",
            "clusterArn": self.cluster_arn,
            "containers": containers,
            "cpu": cpu,
            "createdAt": r3(self.created_at),
            "desiredStatus": self.desired_status,
            "enableExecuteCommand": self.enable_execute_command,
            "group": self.group,
            "healthStatus": "UNKNOWN",
            "lastStatus": self.last_status,
            "overrides": overrides,
            "taskArn": self.arn,
            "taskDefinitionArn": self.td_arn,
            "version": self.version,
        }
        if memory is not None:
            j["memory"] = memory
        if self.launch_type:
            j["launchType"] = self.launch_type
        if self.capacity_provider_name:
            j["capacityProviderName"] = self.capacity_provider_name
        if self.platform_version:
            j["platformVersion"] = self.platform_version
        if self.platform_family:
            j["platformFamily"] = self.platform_family
        if self.started_by:
            j["startedBy"] = self.started_by
        if self.last_status == "RUNNING" or self.connectivity_at:
            j["connectivity"] = "CONNECTED" if self.last_status != "STOPPED" else "DISCONNECTED"
        for field, value in (
            ("connectivityAt", self.connectivity_at),
            ("pullStartedAt", self.pull_started_at),
            ("pullStoppedAt", self.pull_stopped_at),
            ("startedAt", self.started_at),
            ("stoppingAt", self.stopping_at),
            ("executionStoppedAt", self.execution_stopped_at),
            ("stoppedAt", self.stopped_at),
        ):
            if value is not None:
                j[field] = r3(value)
        if self.stopped_reason is not None and self.desired_status == "STOPPED":
            j["stoppedReason"] = self.stopped_reason
        if self.stop_code is not None and self.desired_status == "STOPPED":
            j["stopCode"] = self.stop_code
        if include_tags:
            j["tags"] = self.tags
        return j
