"""Services and their deployments: the state that DescribeServices shows.

Reproduces the API reference's `Service`, `Deployment` and
`DeploymentConfiguration` (defaults minimumHealthyPercent 100, maximumPercent
200, deploymentCircuitBreaker off), the developer guide's service event messages
(newest first, at most 100) and the limits the rolling update works within: at
least ceil(D × minimumHealthyPercent / 100) tasks RUNNING and at most
floor(D × maximumPercent / 100) tasks PROVISIONING, PENDING or RUNNING. The
deployment circuit breaker's failure threshold is the API reference's
`ThresholdConfiguration` / `ThresholdType` (docs.aws.amazon.com/AmazonECS/latest/
APIReference/API_ThresholdConfiguration.html): BOUNDED_PERCENT (the default, value
50) ceil(value × D / 100) clamped to 3..200, which is the developer guide's
max(3, min(200, ceil(D / 2))); UNBOUNDED_PERCENT without the clamp; COUNT the
value itself; and `DeploymentCircuitBreaker.resetOnHealthyTask` (default true: a
task that reaches a healthy state resets the failure count to 0). Deployment ids look like ECS's: `ecs-svc/` plus 19
digits. A service also shows its current service deployment
(`currentServiceDeployment`) and its revisions (`currentServiceRevisions`), from
strategies.py.

The scheduler (scheduler.py) decides what happens to them; the API (api.py)
creates and changes them.

Where it assumes (harness/README.md, "Known differences from real ECS"):

- a service without a launch type or capacity provider strategy is `EC2` (a
  cluster's default capacity provider strategy is not applied), and Fargate's
  `LATEST` platform version resolves to `1.4.0` on deployments and tasks;
- the threshold is computed from the service's current configuration and
  desiredCount ("the latest service desired count"); a threshold of 0 counts as
  1; value% × D is rounded up (the guide's default formula rounds up);
  deploymentConfiguration fields are stored and returned as given. An
  UpdateService replaces each top-level field it gives and keeps the others;
- placement constraints and strategies, load balancers and service registries
  are stored and returned, never applied.
"""

import json
import math
import random
import uuid

from .common import r3

MAX_EVENTS = 100


def new_deployment_id():
    return "ecs-svc/%d" % random.randint(10**18, 10**19 - 1)


def resolve_placement(launch_type, strategy, platform_version):
    """(task launchType, capacityProviderName, platformVersion, platformFamily)."""
    cp_name = strategy[0].get("capacityProvider") if strategy else None
    if launch_type:
        lt = launch_type
    elif cp_name in ("FARGATE", "FARGATE_SPOT"):
        lt = "FARGATE"
    else:
        lt = "EC2"
    if lt == "FARGATE":
        pv = "1.4.0" if platform_version in (None, "", "LATEST") else platform_version
        return lt, cp_name, pv, "Linux"
    return lt, cp_name, None, None


class Deployment:
    def __init__(self, svc, td, now, rollback=False, settings=None):
        s = settings or svc
        self.id = new_deployment_id()
        self.status = "PRIMARY"
        self.td = td
        self.td_arn = td["taskDefinitionArn"]
        self.desired_count = svc.desired_count
        self.pending_count = 0
        self.running_count = 0
        self.failed_tasks = 0  # consecutive failures: reset by a healthy task (resetOnHealthyTask)
        self.launched = 0  # tasks launched so far (the `flaky-pull-N` scenario marker)
        self.created_at = now
        self.updated_at = now
        self.launch_type = s.launch_type
        self.capacity_provider_strategy = s.capacity_provider_strategy
        self.platform_version_requested = s.platform_version
        self.network_configuration = s.network_configuration
        self.enable_execute_command = s.enable_execute_command
        lt, cp, pv, pf = resolve_placement(self.launch_type, self.capacity_provider_strategy, self.platform_version_requested)
        self.task_launch_type, self.capacity_provider_name = lt, cp
        self.platform_version, self.platform_family = pv, pf
        self.rollout_state = "IN_PROGRESS"
        self.rollout_state_reason = "ECS deployment %s in progress." % self.id
        self.rollback = rollback
        self.observed_max_tasks = 0
        self.observed_min_running = None
        self.sd = None  # the service deployment (strategies.py) this deployment serves
        self.revision_arn = getattr(settings, "revision_arn", None) if rollback else None

    def to_json(self):
        j = {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.td_arn,
            "desiredCount": self.desired_count,
            "pendingCount": self.pending_count,
            "runningCount": self.running_count,
            "failedTasks": self.failed_tasks,
            "createdAt": r3(self.created_at),
            "updatedAt": r3(self.updated_at),
            "rolloutState": self.rollout_state,
            "rolloutStateReason": self.rollout_state_reason,
        }
        if self.capacity_provider_strategy:
            j["capacityProviderStrategy"] = self.capacity_provider_strategy
        if self.launch_type:
            j["launchType"] = self.launch_type
        if self.platform_version:
            j["platformVersion"] = self.platform_version
        if self.platform_family:
            j["platformFamily"] = self.platform_family
        if self.network_configuration:
            j["networkConfiguration"] = self.network_configuration
        return j


DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def merge_deployment_configuration(current, given):
    out = json.loads(json.dumps(current))
    for k, v in (given or {}).items():
        if v is None:
            continue
        if k == "deploymentCircuitBreaker":
            # Kept whole, as ECS keeps it: `enable`, `rollback`, `thresholdConfiguration`
            # and `resetOnHealthyTask` are applied (breaker_threshold).
            out[k] = dict(v, enable=bool(v.get("enable")), rollback=bool(v.get("rollback")))
        else:
            out[k] = v
    return out


class Service:
    def __init__(self, ctx, cluster_name, cluster_arn, params, td, now):
        self.region = ctx["region"]
        self.account = ctx["account"]
        self.access_key = ctx.get("access_key") or "test"  # for the CloudWatch alarm look-ups
        self.cluster_name = cluster_name
        self.cluster_arn = cluster_arn
        self.name = params["serviceName"]
        self.arn = "arn:aws:ecs:%s:%s:service/%s/%s" % (self.region, self.account, cluster_name, self.name)
        self.status = "ACTIVE"
        self.desired_count = int(params.get("desiredCount") or 0)
        self.capacity_provider_strategy = params.get("capacityProviderStrategy") or None
        lt = params.get("launchType")
        if not lt and not self.capacity_provider_strategy:
            lt = "EC2"
        self.launch_type = lt
        self.platform_version = params.get("platformVersion")
        if self.platform_version is None and resolve_placement(lt, self.capacity_provider_strategy, None)[0] == "FARGATE":
            self.platform_version = "LATEST"
        self.network_configuration = params.get("networkConfiguration") or None
        self.deployment_configuration = merge_deployment_configuration(
            DEFAULT_DEPLOYMENT_CONFIGURATION, params.get("deploymentConfiguration")
        )
        self.deployment_controller = params.get("deploymentController") or {"type": "ECS"}
        self.scheduling_strategy = params.get("schedulingStrategy") or "REPLICA"
        self.load_balancers = params.get("loadBalancers") or []
        self.service_registries = params.get("serviceRegistries") or []
        self.placement_constraints = params.get("placementConstraints") or []
        self.placement_strategy = params.get("placementStrategy") or []
        self.role_arn = params.get("role")
        self.health_check_grace_period = params.get("healthCheckGracePeriodSeconds")
        self.enable_ecs_managed_tags = bool(params.get("enableECSManagedTags"))
        self.propagate_tags = params.get("propagateTags") or "NONE"
        self.enable_execute_command = bool(params.get("enableExecuteCommand"))
        self.tags = params.get("tags") or []
        self.created_at = now
        self.events = []
        self.tasks = []
        self.steady = False
        self.last_completed = None
        # CODE_DEPLOY and EXTERNAL: deployments are CodeDeploy's or task sets, not the
        # scheduler's: no Deployment, no tasks (controllers.py)
        self.deployments = [Deployment(self, td, now)] if self.controller == "ECS" else []
        self.controller_td_arn = td["taskDefinitionArn"] if td else None
        self.running_count = 0
        self.pending_count = 0
        self.service_deployments = []  # strategies.ServiceDeployment, oldest first

    @property
    def current_sd(self):
        return self.service_deployments[-1] if self.service_deployments else None

    @property
    def controller(self):
        return (self.deployment_controller or {}).get("type") or "ECS"

    @property
    def primary(self):
        return self.deployments[0]

    @property
    def task_definition(self):
        return self.primary.td_arn if self.deployments else self.controller_td_arn

    def add_event(self, now, message):
        self.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": r3(now), "message": message})
        del self.events[MAX_EVENTS:]

    def limits(self):
        d = self.desired_count if self.status == "ACTIVE" else 0
        dc = self.deployment_configuration
        min_pct = dc.get("minimumHealthyPercent", 100)
        max_pct = dc.get("maximumPercent", 200)
        return d, math.ceil(d * min_pct / 100.0), math.floor(d * max_pct / 100.0)

    def breaker_threshold(self, config=None):
        """The circuit breaker's failure threshold (API reference, ThresholdConfiguration
        and ThresholdType): `value` × the latest desiredCount / 100, rounded up, clamped
        to 3..200 for BOUNDED_PERCENT (the default, value 50); unclamped for
        UNBOUNDED_PERCENT; `value` itself for COUNT."""
        dc = config if config is not None else self.deployment_configuration
        tc = (dc.get("deploymentCircuitBreaker") or {}).get("thresholdConfiguration") or {}
        kind = tc.get("type") or "BOUNDED_PERCENT"
        value = tc.get("value")
        value = 50 if value is None else int(value)
        if kind == "COUNT":
            return value
        threshold = int(math.ceil(value * self.desired_count / 100.0 - 1e-9))
        if kind == "UNBOUNDED_PERCENT":
            return threshold
        return max(3, min(200, threshold))

    def breaker_resets_on_healthy(self):
        """`resetOnHealthyTask` (default true): a task that reaches a healthy state resets
        its deployment's failure count to 0."""
        cb = self.deployment_configuration.get("deploymentCircuitBreaker") or {}
        return cb.get("resetOnHealthyTask") is not False

    def to_json(self, tags=None, include_tags=False):
        j = {
            "serviceArn": self.arn,
            "serviceName": self.name,
            "clusterArn": self.cluster_arn,
            "loadBalancers": self.load_balancers,
            "serviceRegistries": self.service_registries,
            "status": self.status,
            "desiredCount": self.desired_count,
            "runningCount": self.running_count,
            "pendingCount": self.pending_count,
            "deploymentConfiguration": self.deployment_configuration,
            "deployments": [d.to_json() for d in self.deployments],
            "events": list(self.events),
            "createdAt": r3(self.created_at),
            "placementConstraints": self.placement_constraints,
            "placementStrategy": self.placement_strategy,
            "schedulingStrategy": self.scheduling_strategy,
            "deploymentController": self.deployment_controller,
            "enableECSManagedTags": self.enable_ecs_managed_tags,
            "propagateTags": self.propagate_tags,
            "enableExecuteCommand": self.enable_execute_command,
        }
        if self.task_definition:
            j["taskDefinition"] = self.task_definition
        sd = self.current_sd
        if sd is not None:
            j["currentServiceDeployment"] = sd.arn
            j["currentServiceRevisions"] = [
                {k: v for k, v in sd.revision_summary(dep).items()} for dep in self.deployments if dep.revision_arn
            ]
        if self.launch_type:
            j["launchType"] = self.launch_type
        if self.capacity_provider_strategy:
            j["capacityProviderStrategy"] = self.capacity_provider_strategy
        if self.platform_version:
            j["platformVersion"] = self.platform_version
        if self.deployments and self.primary.platform_family:
            j["platformFamily"] = self.primary.platform_family
        if self.network_configuration:
            j["networkConfiguration"] = self.network_configuration
        if self.role_arn:
            j["roleArn"] = self.role_arn
        if self.health_check_grace_period is not None:
            j["healthCheckGracePeriodSeconds"] = self.health_check_grace_period
        if include_tags:
            j["tags"] = tags if tags is not None else self.tags
        return j
