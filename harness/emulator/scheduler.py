"""The scheduler: the rolling update, the deployment circuit breaker, steady state.

Every tick (0.25 s × the time scale, or `POST /_emulator/tick`) moves each task
along its lifecycle, counts failed tasks per deployment, schedules each ACTIVE
or DRAINING service whose deployment controller is `ECS`, and drops stopped
tasks past their retention.

Reproduces the ECS developer guide's rolling update: with D = desiredCount, at
least ceil(D × minimumHealthyPercent / 100) tasks stay RUNNING and at most
floor(D × maximumPercent / 100) tasks are PROVISIONING, PENDING or RUNNING
across all deployments. Each tick, in this order: a scale-in of the PRIMARY
(not-yet-running tasks first), then the older deployments' tasks that are not
RUNNING yet, then their RUNNING tasks (oldest deployment first) while the
minimum stays RUNNING, then new PRIMARY tasks up to D within the maximum. A
deployment completes when the PRIMARY has D RUNNING, healthy tasks, none
pending, and no other deployment has a running or stopping task.

Also the developer guide's deployment circuit breaker (the threshold of
services.py, from `thresholdConfiguration`: by default max(3, min(200,
ceil(D / 2))) failed tasks while the PRIMARY is IN_PROGRESS; a task that reaches
a healthy state resets its deployment's count to 0 unless `resetOnHealthyTask`
is false, as the API reference's DeploymentCircuitBreaker says:
rolloutState FAILED, and with `rollback` a new PRIMARY on the last COMPLETED
deployment's task definition and settings; without a completed deployment
there is no rollback), and the service event messages: "has started N tasks",
"has stopped N running tasks", "deployment completed", "deployment failed:
tasks failed to start", "rolling back to deployment", "has reached a steady
state".

It also moves each service deployment (strategies.py): PENDING → IN_PROGRESS;
SUCCESSFUL when its deployment completes; ROLLBACK_REQUESTED (from
StopServiceDeployment) → ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL, or
ROLLBACK_FAILED when the rollback deployment trips the breaker; and, for the
BLUE_GREEN, LINEAR and CANARY strategies (developer guide, "Amazon ECS blue/green
service deployments workflow"), the lifecycle stages: green scales to
desiredCount beside blue from SCALE_UP on, whatever maximumPercent says, blue's
tasks stay until CLEAN_UP, and the deployment completes only in CLEAN_UP; their
rollback makes the still-running blue deployment PRIMARY again. A rolling
deployment with `earlySuccessCriteria` (API reference,
DeploymentEarlySuccessCriteria) is SUCCESSFUL once healthyPercent of desiredCount
run healthy and bakeTimeInMinutes has passed, after the old tasks are gone
(BLOCKING) or before (DEFERRED), while the rollout goes on to 100 %. Deployment
alarms (check_alarms, after each tick): an alarm of `deploymentConfiguration.alarms`
in ALARM in moto's CloudWatch fails the deployment and, with `rollback`, rolls it
back (developer guide, "How CloudWatch alarms detect Amazon ECS deployment
failures"); the event is "deployment failed: alarm detected." (assumed wording).

Where it assumes (harness/README.md, "Known differences from real ECS"):

- decisions happen on ticks; capacity is unlimited and placement is not applied;
- old RUNNING tasks stop down to minimumHealthyPercent as soon as allowed, not
  only when room is needed; settings that leave no room (100/100) stall;
- no restart throttling: failing tasks are relaunched every tick;
- after a healthy task resets `failedTasks`, the breaker goes on counting (the
  older guide text says it "stops being evaluated"; the API reference's
  resetOnHealthyTask implies it goes on), and a crash after RUNNING always
  counts; "healthy" is RUNNING with no scheduled exit;
- a rollback creates a new deployment id and relaunches the old revision's tasks;
  a rollback deployment that fails does not roll back again;
- after a failure without rollback the service is frozen until the next
  deployment: nothing is launched or drained, not even crashed old tasks (the
  docs say "stop launching new tasks");
- the steady-state event comes on each transition to stable (ECS also repeats
  it about every 6 hours); `DAEMON` scheduling is treated as `REPLICA`;
- stopped tasks stay describable for one emulated hour, at most the newest
  20000 overall.
"""

import math
import time

from .scenarios import container_plans
from .services import Deployment
from .tasks import Task

MAX_STOPPED_TASKS = 20000


class Scheduler:
    """The scheduler, mixed into Emulator over State (services, tasks, lock, note)."""

    def tick(self, now=None):
        with self.lock:
            now = now if now is not None else time.time()
            for tasks in self.tasks.values():
                for task in list(tasks.values()):
                    outcomes = task.advance(now)
                    dep = task.deployment
                    if "failed" in outcomes and dep is not None:
                        dep.failed_tasks += 1
                        dep.updated_at = now
                    elif (
                        "running" in outcomes
                        and dep is not None
                        and dep.failed_tasks
                        and not task.will_exit()
                        and task.service.breaker_resets_on_healthy()
                    ):
                        # resetOnHealthyTask (default true): a healthy task resets the count
                        dep.failed_tasks = 0
                        dep.updated_at = now
            for svc in list(self.services.values()):
                if svc.status != "INACTIVE" and svc.controller == "ECS":
                    self.schedule(svc, now)
                elif svc.status == "DRAINING":  # CODE_DEPLOY, EXTERNAL: no tasks of the scheduler's
                    svc.status = "INACTIVE"
                    self.note(now, svc, None, "inactive")
            self.prune(now)

    def schedule(self, svc, now):
        p = svc.primary
        sd = svc.current_sd
        cb = svc.deployment_configuration.get("deploymentCircuitBreaker") or {}
        # 0. The service deployment starts, or rolls back when StopServiceDeployment asked.
        if sd is not None and sd.status == "PENDING":
            sd.started_at = now
            sd.set_status(now, "IN_PROGRESS")
        if sd is not None and sd.status == "ROLLBACK_REQUESTED":
            p = self.roll_back(svc, sd, now, "Service deployment rolled back because of a stop request.")
        # 1. Deployment circuit breaker (PRIMARY, in progress).
        if p.rollout_state == "IN_PROGRESS" and cb.get("enable") and p.failed_tasks >= max(1, svc.breaker_threshold()):
            p.rollout_state = "FAILED"
            p.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start."
            p.updated_at = now
            svc.add_event(now, "(service %s) (deployment %s) deployment failed: tasks failed to start." % (svc.name, p.id))
            self.note(now, svc, p, "failed", failedTasks=p.failed_tasks, threshold=svc.breaker_threshold())
            psd = p.sd
            if psd is not None and p is psd.rollback_dep:
                psd.set_status(now, "ROLLBACK_FAILED", "The rollback failed: ECS deployment circuit breaker: tasks failed to start.")
            elif psd is not None and not psd.finished:
                psd.breaker_tripped = True
                if cb.get("rollback"):
                    p = self.roll_back(svc, psd, now, "Circuit breaker triggered the rollback: tasks failed to start.")
                else:
                    psd.set_status(now, "STOPPED", "ECS deployment circuit breaker: tasks failed to start.")
        hold = sd is not None and sd.target is p and sd.holds_source()
        # before SCALE_UP (lifecycle stages): nothing starts and the old revisions keep their tasks
        waiting = sd is not None and sd.target is p and sd.before_scale_up()
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
            if hold or waiting:
                old_live = []  # blue/green, linear, canary: blue serves until CLEAN_UP
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
            if svc.status == "ACTIVE" and not frozen and not waiting:
                live_after = len(live) - len(to_stop)
                p_live_after = len([t for t in p_live if t not in to_stop])
                room = max_tasks - live_after
                if hold:  # green scales to 100 % beside blue, whatever maximumPercent says
                    room = d - p_live_after
                n = max(0, min(d - p_live_after, room))
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
        # 3a. The lifecycle stages of a blue/green, linear or canary deployment.
        if sd is not None and sd.target is p and sd.status == "IN_PROGRESS":
            before = (sd.stage, sd.test_weight, sd.prod_weight)
            green_ready = p.running_count == d and p.pending_count == 0 and not doomed
            if sd.advance(now, self.scale, self.minute, green_ready) == "rollback":
                self.roll_back(svc, sd, now, "A lifecycle hook rolled back the deployment.")
                return
            if sd.stage != before[0]:
                self.note(now, svc, p, "stage", stage=sd.stage, serviceDeployment=sd.arn)
            if (sd.test_weight, sd.prod_weight) != before[1:]:
                self.note(now, svc, p, "traffic", test=sd.test_weight, production=sd.prod_weight)
        # 3b. Early success criteria of a rolling deployment.
        if sd is not None and sd.target is p and sd.status == "IN_PROGRESS" and sd.strategy == "ROLLING":
            self.early_success(svc, sd, p, d, active, others_busy, now)
        psd = p.sd
        if psd is not None and not psd.may_complete(p, now, self.scale):
            others_busy = True
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
            if psd is not None and p is psd.rollback_dep and psd.status == "ROLLBACK_IN_PROGRESS":
                psd.set_status(now, "ROLLBACK_SUCCESSFUL")
            elif psd is not None and p is psd.target and psd.status == "IN_PROGRESS":
                psd.set_status(now, "SUCCESSFUL", "Service deployment completed.")
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

    def check_alarms(self):
        """Deployment alarms: each ongoing service deployment with `alarms.enable`
        asks moto's CloudWatch for its alarms' states (outside the lock); one in
        ALARM fails the deployment, and with `alarms.rollback` rolls it back."""
        with self.lock:
            watch = []
            for svc in self.services.values():
                sd = svc.current_sd
                al = (sd.config.get("alarms") or {}) if sd is not None else {}
                if (
                    sd is not None
                    and sd.status == "IN_PROGRESS"
                    and sd.stage != "CLEAN_UP"
                    and al.get("enable")
                    and al.get("alarmNames")
                ):
                    ctx = {"access_key": svc.access_key, "region": svc.region}
                    watch.append((svc, sd, ctx, list(al["alarmNames"]), bool(al.get("rollback"))))
        for svc, sd, ctx, names, rollback in watch:
            try:
                states = self.moto.alarm_states(ctx, names)
            except (OSError, ValueError):
                continue
            in_alarm = [n for n in names if states.get(n) == "ALARM"]
            if not in_alarm:
                continue
            with self.lock:
                if sd.status != "IN_PROGRESS" or svc.current_sd is not sd or svc.primary is not sd.target:
                    continue
                now = time.time()
                p = svc.primary
                sd.triggered_alarms = in_alarm
                reason = "CloudWatch alarm(s) %s in ALARM state." % ", ".join(in_alarm)
                svc.add_event(now, "(service %s) (deployment %s) deployment failed: alarm detected." % (svc.name, p.id))
                self.note(now, svc, p, "alarm", alarms=in_alarm, serviceDeployment=sd.arn)
                if rollback:
                    self.roll_back(svc, sd, now, reason + " Rolling back.")
                else:
                    p.rollout_state = "FAILED"
                    p.rollout_state_reason = reason
                    p.updated_at = now
                    sd.set_status(now, "STOPPED", reason)

    def early_success(self, svc, sd, p, d, active, others_busy, now):
        """`earlySuccessCriteria`: SUCCESSFUL once healthyPercent of desiredCount run
        healthy and bakeTimeInMinutes has passed since, after the source revisions'
        tasks are gone (BLOCKING) or before (DEFERRED); the rollout goes on."""
        esc = sd.config.get("earlySuccessCriteria") or {}
        if not esc.get("enable"):
            return
        healthy = len([t for t in active if t.deployment is p and t.last_status == "RUNNING" and not t.will_exit()])
        if healthy < math.ceil(d * int(esc.get("healthyPercent") or 0) / 100.0):
            return
        if sd.early_at is None:
            sd.early_at = now
        bake = int(sd.config.get("bakeTimeInMinutes") or 0)
        if now < sd.early_at + bake * self.minute * self.scale:
            return
        if esc.get("sourceServiceRevisionCleanup") != "DEFERRED" and others_busy:
            return
        sources_left = len([t for t in active if t.deployment is not p and (t.is_live() or t.is_stopping())])
        sd.set_status(now, "SUCCESSFUL", "Service deployment met its early success criteria.")
        self.note(now, svc, p, "early-success", serviceDeployment=sd.arn, healthy=healthy, sourceTasksLeft=sources_left)

    def roll_back(self, svc, sd, now, reason):
        """Roll the service deployment `sd` back to the last completed revision; returns
        the new PRIMARY (the old one when there is nothing to roll back to)."""
        p = svc.primary
        if p.rollout_state == "IN_PROGRESS":
            p.rollout_state = "FAILED"
            p.rollout_state_reason = reason
            p.updated_at = now
        target = svc.last_completed
        if target is None or target is p:
            sd.set_status(now, "ROLLBACK_FAILED", reason + " No earlier service revision to roll back to.")
            return p
        svc.add_event(now, "(service %s) rolling back to deployment %s." % (svc.name, target.id))
        if sd.strategy != "ROLLING" and target in svc.deployments:
            svc.deployments.remove(target)  # blue still runs: it takes production back
            new = target
            new.rollback = True
            new.rollout_state = "IN_PROGRESS"
            new.rollout_state_reason = "ECS deployment %s in progress." % new.id
            new.updated_at = now
        else:
            new = Deployment(svc, target.td, now, rollback=True, settings=target)
        for dep in svc.deployments:
            dep.status = "ACTIVE"
        new.status = "PRIMARY"
        svc.deployments.insert(0, new)
        svc.steady = False
        new.sd = sd
        sd.rollback_dep = new
        sd.rollback = {"reason": reason, "startedAt": now, "serviceRevisionArn": target.revision_arn}
        if sd.strategy != "ROLLING":
            sd.test_weight = sd.prod_weight = 0.0
        sd.set_status(now, "ROLLBACK_IN_PROGRESS", reason)
        self.note(now, svc, p, "rolled-back", to=new.id, target=target.id, serviceDeployment=sd.arn)
        self.note(now, svc, new, "started", rollback=True, target=target.id)
        return new

    def start_service_task(self, svc, dep, now):
        ctx = {"region": svc.region, "account": svc.account}
        plans = container_plans(dep.td, None, True, self.start_delay, self.run_duration)
        dep.launched += 1
        for plan in plans:
            if plan.flaky_pulls and dep.launched <= plan.flaky_pulls:
                plan.pull_error = True  # `flaky-pull-N`: the deployment's first N pulls fail
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
