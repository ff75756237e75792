"""Service deployments and the deployment strategies: what DescribeServiceDeployments shows.

Reproduces, from the ECS developer guide and API reference:

- "View service history using Amazon ECS service deployments"
  (developerguide/service-deployment.html) and the API reference's
  `ServiceDeployment`, `ServiceDeploymentBrief`, `ServiceRevisionSummary`,
  `Rollback`, `ServiceDeploymentCircuitBreaker` and `ServiceDeploymentAlarms`:
  CreateService, and an UpdateService that starts a deployment, create a service
  deployment (`arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID`).
  It starts PENDING; ongoing states are IN_PROGRESS, STOP_REQUESTED,
  ROLLBACK_REQUESTED and ROLLBACK_IN_PROGRESS; completed ones SUCCESSFUL, STOPPED,
  ROLLBACK_SUCCESSFUL and ROLLBACK_FAILED. It names its source service revisions
  (what ran before) and its target revision, with requested/running/pending task
  counts and traffic weights; the circuit breaker's failureCount and threshold
  (the applied one: services.py's, from `thresholdConfiguration`); the alarms and the triggered ones; the
  rollback (reason, startedAt, the revision rolled back to); createdAt,
  startedAt, updatedAt, finishedAt and stoppedAt.
- "Stopping Amazon ECS service deployments" (developerguide/
  stop-service-deployment.html): StopServiceDeployment with stopType ROLLBACK
  moves a PENDING or IN_PROGRESS deployment to ROLLBACK_REQUESTED and then rolls
  back to the previous service revision, even without the rollback option;
  STOP_REQUESTED and ROLLBACK_* deployments continue what they do.
- The API reference's `DeploymentConfiguration.strategy` (ROLLING, BLUE_GREEN,
  LINEAR, CANARY), `bakeTimeInMinutes`, `LinearConfiguration` (stepPercent,
  default 10.0; stepBakeTimeInMinutes, default 6, not applied after 100 %),
  `CanaryConfiguration` (canaryPercent, default 5.0; canaryBakeTimeInMinutes,
  default 10) and `ServiceDeployment.lifecycleStage`, with the developer guide's
  "Amazon ECS blue/green service deployments workflow"
  (developerguide/blue-green-deployment-how-it-works.html): RECONCILE_SERVICE
  (only when more than one revision is ACTIVE at the start), PRE_SCALE_UP,
  SCALE_UP (the green revision scales to 100 % of desiredCount while blue keeps
  serving), POST_SCALE_UP, TEST_TRAFFIC_SHIFT (test traffic 0 → 100 % green),
  POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT (in one step for blue/green;
  in steps of stepPercent with stepBakeTimeInMinutes between them for linear;
  canaryPercent, canaryBakeTimeInMinutes, then the rest for canary),
  POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME (both revisions run for
  bakeTimeInMinutes) and CLEAN_UP (blue scales to 0; then SUCCESSFUL). A failure
  before the end (circuit breaker, StopServiceDeployment) rolls back: production
  traffic goes back to blue, which is still running, and green scales in.
- the API reference's `DeploymentEarlySuccessCriteria` (rolling only): with
  `enable`, the service deployment is SUCCESSFUL once `healthyPercent` of
  desiredCount tasks of the target revision run healthy and `bakeTimeInMinutes`
  has passed since; `sourceServiceRevisionCleanup` BLOCKING waits for the source
  revisions' tasks to be gone first, DEFERRED does not. ECS goes on scaling the
  target to 100 % (the ECS deployment completes later, as before);
- the developer guide's "How CloudWatch alarms detect Amazon ECS deployment
  failures": `alarms` with `enable` are watched while the deployment is in
  progress (the scheduler's check_alarms asks moto's CloudWatch); an alarm in
  ALARM fails it, names it in triggeredAlarmNames, and with `rollback` rolls back;
- `DeploymentLifecycleHook` / `DeploymentLifecycleHookDetail`, the developer
  guide's "Pause hooks for Amazon ECS service deployments"
  (developerguide/pause-lifecycle-hooks.html) and "Continuing service
  deployments" (continue-service-deployment.html): a PAUSE hook at a stage
  pauses the deployment there with a new hookId (`ecs-pause-…`), hook status
  AWAITING_ACTION and expiresAt after timeoutConfiguration.timeoutInMinutes
  (default 1440), until ContinueServiceDeployment(serviceDeploymentArn, hookId,
  action CONTINUE | ROLLBACK) or the timeout, which takes
  timeoutConfiguration.action (default ROLLBACK). PAUSE is allowed at
  RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, POST_TEST_TRAFFIC_SHIFT,
  PRE_PRODUCTION_TRAFFIC_SHIFT and POST_PRODUCTION_TRAFFIC_SHIFT (the guide's
  valid values); a PRE_PRODUCTION_TRAFFIC_SHIFT hook runs before every
  production traffic step (for linear and canary, each step).

Where it assumes (harness/README.md, "Known differences from real ECS"):

- a deployment moves PENDING → IN_PROGRESS on the next scheduler tick;
- a rolling deployment runs lifecycle hooks (the developer guide's "Lifecycle
  hooks for Amazon ECS service deployments", developerguide/
  deployment-lifecycle-hooks.html, and "Pause hooks", pause-lifecycle-hooks.html,
  apply hooks to service deployments without restricting them to blue/green, but
  list no stages for a rolling one): assumed RECONCILE_SERVICE (only with more
  than one revision with tasks), PRE_SCALE_UP (nothing started or stopped yet),
  SCALE_UP (the rolling replacement, until the new revision runs desiredCount
  healthy tasks) and POST_SCALE_UP (the deployment completes only after it);
  hooks at the traffic-shift stages never run for it. A rolling deployment shows
  these as lifecycleStage only when it has lifecycle hooks; without, it has no
  stages and shows no lifecycleStage, as before;
- a circuit-breaker failure without rollback ends the service deployment
  STOPPED, with the breaker's reason; a service deployment that a newer one
  replaces ends STOPPED too ("Replaced by service deployment ARN."), and so does
  one whose service is deleted ("The service was deleted.");
- a rolling rollback starts a new ECS deployment (`deployments[]`) on the last
  completed revision, whose revision ARN is the old one; a blue/green, linear or
  canary rollback makes the blue deployment PRIMARY again without relaunching it;
  a rollback with no earlier completed revision is ROLLBACK_FAILED;
- every stage, and a blue/green, linear or canary rollback, lasts at least
  STAGE_SECONDS (1 emulated second) so that pollers see it; traffic shifts are instant (no load balancer is modelled), so the
  weights are what ECS requested;
- a "minute" of bake time, step bake time and hook timeout is `minute` emulated
  seconds (60 by default, `--minute` on the command line), then × the time scale;
- AWS_LAMBDA hooks are not invoked (moto cannot run Lambda without Docker): they
  are recorded SUCCEEDED at once; stopType ABORT is refused as not supported;
- a hook resolved with CONTINUE is SUCCEEDED, with ROLLBACK FAILED, and a hook
  past expiresAt TIMED_OUT;
- service revision ARNs are `service-revision/CLUSTER/SERVICE/` plus 19 digits.
"""

import base64
import copy
import math
import os
import random
import string
import uuid

from .common import r3

STAGE_SECONDS = 1.0
FINISHED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
ONGOING = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")


def new_revision_arn(svc):
    return "arn:aws:ecs:%s:%s:service-revision/%s/%s/%d" % (
        svc.region, svc.account, svc.cluster_name, svc.name, random.randint(10**18, 10**19 - 1))


def new_service_deployment_id():
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choice(alphabet) for _ in range(8)) + "-" + "".join(random.choice(alphabet) for _ in range(12))


def new_hook_id(target_type):
    """Like the developer guide's example `ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw`."""
    if target_type == "PAUSE":
        return "ecs-pause-" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return uuid.uuid4().hex


def production_steps(cfg):
    """The production traffic weights of the green revision, step by step, and the
    bake (in minutes) after each step but the last."""
    strategy = cfg.get("strategy") or "ROLLING"
    if strategy == "LINEAR":
        lc = cfg.get("linearConfiguration") or {}
        step = float(lc.get("stepPercent") or 10.0)
        bake = lc.get("stepBakeTimeInMinutes")
        bake = 6 if bake is None else int(bake)
        n = int(math.ceil(100.0 / step - 1e-9))
        return [round(min(100.0, step * (i + 1)), 1) for i in range(n)], bake
    if strategy == "CANARY":
        cc = cfg.get("canaryConfiguration") or {}
        pct = float(cc.get("canaryPercent") if cc.get("canaryPercent") is not None else 5.0)
        bake = cc.get("canaryBakeTimeInMinutes")
        bake = 10 if bake is None else int(bake)
        return ([pct, 100.0] if pct < 100.0 else [100.0]), bake
    return [100.0], 0


class ServiceDeployment:
    """One service deployment: its status, stage, revisions, monitors and rollback."""

    def __init__(self, svc, target, sources, now):
        self.svc = svc
        self.id = new_service_deployment_id()
        self.arn = "arn:aws:ecs:%s:%s:service-deployment/%s/%s/%s" % (
            svc.region, svc.account, svc.cluster_name, svc.name, self.id)
        self.target = target
        self.sources = list(sources)
        self.config = copy.deepcopy(svc.deployment_configuration)
        self.strategy = self.config.get("strategy") or "ROLLING"
        self.status = "PENDING"
        self.status_reason = None
        self.created_at = now
        self.started_at = None
        self.updated_at = now
        self.finished_at = None
        self.stopped_at = None
        self.rollback = None
        self.rollback_dep = None
        self.breaker_tripped = False
        self.early_at = None  # when earlySuccessCriteria.healthyPercent was first met
        self.triggered_alarms = []
        self.stage = None
        self.stage_entered = None
        self.stages = []
        self.stages_done = False  # a rolling deployment passed its last stage (POST_SCALE_UP)
        if self.strategy != "ROLLING" or self.config.get("lifecycleHooks"):
            if len([s for s in self.sources if s.running_count or s.pending_count]) > 1:
                self.stages.append("RECONCILE_SERVICE")
            self.stages += ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP"]
        if self.strategy != "ROLLING":
            self.stages += [
                "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
                "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP",
            ]
        self.steps, self.step_bake = production_steps(self.config)
        self.step_index = -1
        self.step_at = None
        self.test_weight = 0.0
        self.prod_weight = 0.0
        self.hooks = []  # DeploymentLifecycleHookDetail, plus "stage"
        self.pending_hook = None
        self.pending_action = None  # (action, hookId) from ContinueServiceDeployment
        target.sd = self
        target.revision_arn = getattr(target, "revision_arn", None) or new_revision_arn(svc)

    # ---- state ------------------------------------------------------------------------

    @property
    def finished(self):
        return self.status in FINISHED

    def set_status(self, now, status, reason=None):
        self.status = status
        if reason is not None:
            self.status_reason = reason
        self.updated_at = now
        if status in FINISHED and self.finished_at is None:
            self.finished_at = now
            if status == "STOPPED":
                self.stopped_at = now
        if self.pending_hook is not None and status in FINISHED + ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
            self.pending_hook["status"] = "FAILED" if status != "SUCCESSFUL" else "SUCCEEDED"
            self.pending_hook = None

    def holds_source(self):
        """True while a blue/green, linear or canary deployment must keep the blue
        (source) tasks running and may run green beside them beyond maximumPercent."""
        return (
            self.strategy != "ROLLING"
            and self.status == "IN_PROGRESS"
            and self.svc.primary is self.target
            and self.stage != "CLEAN_UP"
        )

    def before_scale_up(self):
        """True while a deployment with lifecycle stages has not reached SCALE_UP: the
        new revision starts no task and the old ones keep theirs."""
        return bool(self.stages) and self.status in ("PENDING", "IN_PROGRESS") and self.stage in (
            None, "RECONCILE_SERVICE", "PRE_SCALE_UP")

    def may_complete(self, dep, now, scale):
        """Whether the scheduler may complete `dep`, this service deployment's target or
        rollback: a blue/green, linear or canary target only in CLEAN_UP, and their
        rollback (production traffic back to blue) after at least STAGE_SECONDS; a
        rolling target with lifecycle hooks once it has passed POST_SCALE_UP."""
        if self.strategy == "ROLLING":
            return not (dep is self.target and self.status == "IN_PROGRESS" and self.stages and not self.stages_done)
        if dep is self.target and self.status == "IN_PROGRESS":
            return self.stage == "CLEAN_UP"
        if dep is self.rollback_dep and self.status == "ROLLBACK_IN_PROGRESS":
            return now >= self.rollback["startedAt"] + STAGE_SECONDS * scale
        return True

    # ---- API shapes -------------------------------------------------------------------

    def revision_summary(self, dep, test_weight=None, prod_weight=None):
        tasks = [t for t in self.svc.tasks if t.deployment is dep and t.is_live()]
        running = len([t for t in tasks if t.last_status == "RUNNING"])
        j = {
            "arn": dep.revision_arn,
            "requestedTaskCount": dep.desired_count if self.svc.deployments and dep in self.svc.deployments else 0,
            "runningTaskCount": running,
            "pendingTaskCount": len(tasks) - running,
        }
        if test_weight is not None:
            j["requestedTestTrafficWeight"] = test_weight
            j["requestedProductionTrafficWeight"] = prod_weight
        return j

    def brief(self):
        j = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.svc.arn,
            "clusterArn": self.svc.cluster_arn,
            "createdAt": r3(self.created_at),
            "targetServiceRevisionArn": self.target.revision_arn,
            "status": self.status,
        }
        if self.started_at is not None:
            j["startedAt"] = r3(self.started_at)
        if self.finished_at is not None:
            j["finishedAt"] = r3(self.finished_at)
        if self.status_reason:
            j["statusReason"] = self.status_reason
        return j

    def to_json(self):
        traffic = self.strategy != "ROLLING"
        tw, pw = (self.test_weight, self.prod_weight) if traffic else (None, None)
        j = self.brief()
        j.pop("targetServiceRevisionArn")
        j["updatedAt"] = r3(self.updated_at)
        if self.stopped_at is not None:
            j["stoppedAt"] = r3(self.stopped_at)
        j["sourceServiceRevisions"] = [
            self.revision_summary(s, 100.0 - tw if traffic else None, 100.0 - pw if traffic else None) for s in self.sources
        ]
        j["targetServiceRevision"] = self.revision_summary(self.target, tw, pw)
        if self.stage is not None:
            j["lifecycleStage"] = self.stage
        if self.hooks:
            j["lifecycleHookDetails"] = [
                {k: (r3(v) if k == "expiresAt" else v) for k, v in h.items() if k != "stage" and v is not None}
                for h in self.hooks
            ]
        j["deploymentConfiguration"] = self.config
        if self.rollback is not None:
            j["rollback"] = {
                "reason": self.rollback["reason"],
                "startedAt": r3(self.rollback["startedAt"]),
                "serviceRevisionArn": self.rollback["serviceRevisionArn"],
            }
        cb = self.config.get("deploymentCircuitBreaker") or {}
        j["deploymentCircuitBreaker"] = {
            "status": self.monitor_status(cb.get("enable"), self.breaker_tripped),
            "failureCount": self.target.failed_tasks,
            "threshold": self.svc.breaker_threshold(None if self.svc.current_sd is self else self.config),
        }
        al = self.config.get("alarms") or {}
        j["alarms"] = {
            "status": self.monitor_status(al.get("enable") and al.get("alarmNames"), bool(self.triggered_alarms)),
            "alarmNames": list(al.get("alarmNames") or []),
            "triggeredAlarmNames": list(self.triggered_alarms),
        }
        return j

    def monitor_status(self, enabled, triggered):
        if not enabled:
            return "DISABLED"
        if triggered:
            return "TRIGGERED"
        return "MONITORING_COMPLETE" if self.finished else "MONITORING"

    # ---- the lifecycle stages -----------------------------------------------------------

    def enter(self, now, stage, minute):
        self.stage = stage
        self.stage_entered = now
        self.updated_at = now
        if stage == "TEST_TRAFFIC_SHIFT":
            self.test_weight = 100.0
        self.open_hooks(now, stage, minute)

    def open_hooks(self, now, stage, minute):
        for hook in self.config.get("lifecycleHooks") or []:
            if stage not in (hook.get("lifecycleStages") or []):
                continue
            target_type = hook.get("targetType") or "AWS_LAMBDA"
            timeout = hook.get("timeoutConfiguration") or {}
            detail = {
                "hookId": new_hook_id(target_type),
                "targetType": target_type,
                "targetArn": hook.get("hookTargetArn") if target_type == "AWS_LAMBDA" else None,
                "status": "AWAITING_ACTION" if target_type == "PAUSE" else "SUCCEEDED",
                "expiresAt": None,
                "timeoutAction": timeout.get("action") or "ROLLBACK",
                "stage": stage,
            }
            if target_type == "PAUSE":
                minutes = timeout.get("timeoutInMinutes")
                detail["expiresAt"] = now + (1440 if minutes is None else int(minutes)) * minute
                if self.pending_hook is None:
                    self.pending_hook = detail
            self.hooks.append(detail)

    def paused(self, now):
        """None if no hook holds the deployment; else 'wait' or 'rollback'."""
        h = self.pending_hook
        if h is None:
            return None
        action = None
        if self.pending_action is not None and self.pending_action[1] == h["hookId"]:
            action = self.pending_action[0]
            self.pending_action = None
            h["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
        elif now >= h["expiresAt"]:
            action = h["timeoutAction"]
            h["status"] = "TIMED_OUT"
        if action is None:
            return "wait"
        self.pending_hook = None
        self.updated_at = now
        for other in self.hooks:  # another PAUSE hook opened meanwhile
            if other["status"] == "AWAITING_ACTION":
                self.pending_hook = other
                break
        return "rollback" if action == "ROLLBACK" else None

    def advance(self, now, scale, minute, green_ready):
        """One tick of the stage machine; returns 'rollback' when a hook asks for one."""
        if not self.stages or self.status != "IN_PROGRESS" or self.stages_done:
            return None
        if self.stage is None:
            self.enter(now, self.stages[0], minute * scale)
            return None
        p = self.paused(now)
        if p == "rollback":
            return "rollback"
        if p == "wait":
            return None
        if self.stage == "SCALE_UP" and not green_ready:
            return None
        if self.stage == "PRODUCTION_TRAFFIC_SHIFT":
            if self.step_index < 0 or (
                self.step_index < len(self.steps) - 1 and now >= self.step_at + self.step_bake * minute * scale
            ):
                if self.step_index >= 0 and self.step_index < len(self.steps) - 1 and not getattr(self, "pre_opened", False):
                    self.pre_opened = True
                    self.open_hooks(now, "PRE_PRODUCTION_TRAFFIC_SHIFT", minute * scale)
                    if self.pending_hook is not None:
                        return None
                self.pre_opened = False
                self.step_index += 1
                self.prod_weight = self.steps[self.step_index]
                self.step_at = now
                self.updated_at = now
            if self.prod_weight < 100.0:
                return None
        if self.stage == "BAKE_TIME":
            bake = int(self.config.get("bakeTimeInMinutes") or 0)
            if now < self.stage_entered + bake * minute * scale:
                return None
        if self.stage == "CLEAN_UP":
            return None  # the scheduler's completion ends it
        if now < self.stage_entered + STAGE_SECONDS * scale:
            return None
        i = self.stages.index(self.stage)
        if i == len(self.stages) - 1:  # a rolling deployment's POST_SCALE_UP is its last stage
            self.stages_done = True
            return None
        nxt = self.stages[i + 1]
        if nxt == "PRODUCTION_TRAFFIC_SHIFT":
            self.open_hooks(now, "PRE_PRODUCTION_TRAFFIC_SHIFT", minute * scale)
        self.enter(now, nxt, minute * scale)
        return None
