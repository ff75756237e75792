"""The service deployment actions: ListServiceDeployments, DescribeServiceDeployments,
StopServiceDeployment and ContinueServiceDeployment, and the checks on
DeploymentConfiguration that CreateService and UpdateService make.

Reproduces the API reference for those four actions (request and response shapes
as botocore's model has them; errors ServiceNotFoundException,
ServiceDeploymentNotFoundException, ConflictException,
InvalidParameterException, UnsupportedFeatureException) and the ranges that the
API reference gives for `DeploymentConfiguration`: `strategy` one of ROLLING,
BLUE_GREEN, LINEAR, CANARY; `bakeTimeInMinutes`, `stepBakeTimeInMinutes` and
`canaryBakeTimeInMinutes` 0-1440; `stepPercent` 3.0-100.0; `canaryPercent`
0.1-100.0; an AWS_LAMBDA hook needs `hookTargetArn`; hook stages are
DeploymentLifecycleHookStage's, and PAUSE only at the stages that the developer
guide's "Pause hooks for Amazon ECS service deployments" lists (not
TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT). ContinueServiceDeployment needs
the hook AWAITING_ACTION and the deployment IN_PROGRESS
(continue-service-deployment.html). `earlySuccessCriteria` with `enable` needs
`healthyPercent` (0-100, at least minimumHealthyPercent) and
`sourceServiceRevisionCleanup` (BLOCKING, DEFERRED), and the ROLLING strategy
(the API reference calls it "the early success criteria configuration for a
rolling deployment"; assumed: refused with the others). The strategy and
minimumHealthyPercent checked are those given in the same request. The service deployments
themselves, their statuses and stages are strategies.py's; the scheduler
(scheduler.py) moves them.

Where it assumes (harness/README.md, "Service deployments" and "Known
differences from real ECS"):

- ListServiceDeployments lists newest first; DescribeServiceDeployments takes at
  most 20 ARNs; the error messages are the emulator's own wording;
- StopServiceDeployment without stopType means ROLLBACK; ABORT is refused with
  UnsupportedFeatureException (the developer guide lists only rollback);
- ContinueServiceDeployment without action means CONTINUE; a hook that is not
  AWAITING_ACTION gives InvalidParameterException.
"""

import base64
import json
import time

from .common import EcsError, last_segment
from .strategies import STRATEGIES

THRESHOLD_TYPES = ("COUNT", "BOUNDED_PERCENT", "UNBOUNDED_PERCENT")  # ThresholdType
# botocore's DeploymentLifecycleHookStage, and the stages the developer guide's
# "Pause hooks for Amazon ECS service deployments" lists as valid for PAUSE.
HOOK_STAGES = (
    "RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
)
PAUSE_STAGES = (
    "RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
)


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


def validate_deployment_configuration(dc):
    """The ranges and values that the API reference gives for DeploymentConfiguration."""
    if not dc:
        return
    strategy = dc.get("strategy")
    if strategy is not None and strategy not in STRATEGIES:
        raise EcsError("InvalidParameterException", "strategy must be one of %s." % ", ".join(STRATEGIES))
    bake = dc.get("bakeTimeInMinutes")
    if bake is not None and not 0 <= int(bake) <= 1440:
        raise EcsError("InvalidParameterException", "bakeTimeInMinutes must be between 0 and 1440.")
    lc = dc.get("linearConfiguration") or {}
    if lc.get("stepPercent") is not None and not 3.0 <= float(lc["stepPercent"]) <= 100.0:
        raise EcsError("InvalidParameterException", "linearConfiguration.stepPercent must be between 3.0 and 100.0.")
    cc = dc.get("canaryConfiguration") or {}
    if cc.get("canaryPercent") is not None and not 0.1 <= float(cc["canaryPercent"]) <= 100.0:
        raise EcsError("InvalidParameterException", "canaryConfiguration.canaryPercent must be between 0.1 and 100.0.")
    for c, key in ((lc, "stepBakeTimeInMinutes"), (cc, "canaryBakeTimeInMinutes")):
        if c.get(key) is not None and not 0 <= int(c[key]) <= 1440:
            raise EcsError("InvalidParameterException", "%s must be between 0 and 1440." % key)
    tc = (dc.get("deploymentCircuitBreaker") or {}).get("thresholdConfiguration")
    if tc is not None:
        if tc.get("type") not in THRESHOLD_TYPES:
            raise EcsError("InvalidParameterException", "thresholdConfiguration.type must be one of %s." % ", ".join(THRESHOLD_TYPES))
        if not isinstance(tc.get("value"), int) or isinstance(tc.get("value"), bool) or tc["value"] < 1:
            raise EcsError("InvalidParameterException", "thresholdConfiguration.value must be a positive integer.")
    esc = dc.get("earlySuccessCriteria") or {}
    if esc.get("enable"):
        if strategy not in (None, "ROLLING"):
            raise EcsError("InvalidParameterException", "earlySuccessCriteria is supported only with the ROLLING strategy.")
        hp = esc.get("healthyPercent")
        if hp is None or esc.get("sourceServiceRevisionCleanup") not in ("BLOCKING", "DEFERRED"):
            raise EcsError(
                "InvalidParameterException",
                "earlySuccessCriteria needs healthyPercent and sourceServiceRevisionCleanup (BLOCKING or DEFERRED).",
            )
        if not 0 <= int(hp) <= 100:
            raise EcsError("InvalidParameterException", "earlySuccessCriteria.healthyPercent must be between 0 and 100.")
        if dc.get("minimumHealthyPercent") is not None and int(hp) < int(dc["minimumHealthyPercent"]):
            raise EcsError("InvalidParameterException", "earlySuccessCriteria.healthyPercent must be at least minimumHealthyPercent.")
    for hook in dc.get("lifecycleHooks") or []:
        target_type = hook.get("targetType") or "AWS_LAMBDA"
        if target_type not in ("AWS_LAMBDA", "PAUSE"):
            raise EcsError("InvalidParameterException", "targetType must be AWS_LAMBDA or PAUSE.")
        if target_type == "AWS_LAMBDA" and not hook.get("hookTargetArn"):
            raise EcsError("InvalidParameterException", "hookTargetArn is required for an AWS_LAMBDA lifecycle hook.")
        if not hook.get("lifecycleStages"):
            raise EcsError("InvalidParameterException", "lifecycleStages can not be empty.")
        for stage in hook["lifecycleStages"]:
            if stage not in HOOK_STAGES:
                raise EcsError("InvalidParameterException", "Invalid lifecycle stage %s." % stage)
            if target_type == "PAUSE" and stage not in PAUSE_STAGES:
                raise EcsError("InvalidParameterException", "A PAUSE hook can not be used at %s." % stage)


class ServiceDeploymentsApi:
    """The service deployment actions, mixed into Emulator over State."""

    def find_service_deployment(self, ctx, arn):
        sd = self.service_deployments.get(arn or "")
        if sd is None or sd.svc.region != ctx["region"]:
            return None
        return sd

    def op_ListServiceDeployments(self, ctx, params, moto_status, moto_json):
        cluster = last_segment(params.get("cluster") or "default")
        name = params.get("service")
        if not name:
            raise EcsError("InvalidParameterException", "service can not be empty.")
        statuses = params.get("status") or []
        created = params.get("createdAt") or {}
        with self.lock:
            svc = self.find_service(ctx, cluster, name)
            if svc is None:
                raise EcsError("ServiceNotFoundException", "Service not found.")
            out = []
            for sd in reversed(svc.service_deployments):  # newest first
                if statuses and sd.status not in statuses:
                    continue
                if created.get("before") is not None and not sd.created_at < float(created["before"]):
                    continue
                if created.get("after") is not None and not sd.created_at > float(created["after"]):
                    continue
                out.append(sd.brief())
        chunk, nxt = page(out, params, 20, 100)
        res = {"serviceDeployments": chunk}
        if nxt:
            res["nextToken"] = nxt
        return res

    def op_DescribeServiceDeployments(self, ctx, params, moto_status, moto_json):
        arns = params.get("serviceDeploymentArns") or []
        if not arns:
            raise EcsError("InvalidParameterException", "serviceDeploymentArns can not be empty.")
        if len(arns) > 20:
            raise EcsError("InvalidParameterException", "serviceDeploymentArns can have at most 20 items.")
        found, failures = [], []
        with self.lock:
            for arn in arns:
                sd = self.find_service_deployment(ctx, arn)
                if sd is None:
                    failures.append({"arn": arn, "reason": "MISSING"})
                else:
                    found.append(sd.to_json())
        return {"serviceDeployments": found, "failures": failures}

    def op_StopServiceDeployment(self, ctx, params, moto_status, moto_json):
        stop_type = params.get("stopType") or "ROLLBACK"
        if stop_type not in ("ROLLBACK", "ABORT"):
            raise EcsError("InvalidParameterException", "stopType must be ROLLBACK or ABORT.")
        if stop_type == "ABORT":
            raise EcsError("UnsupportedFeatureException", "The ABORT stop type is not supported.")
        now = time.time()
        with self.lock:
            sd = self.find_service_deployment(ctx, params.get("serviceDeploymentArn"))
            if sd is None:
                raise EcsError("ServiceDeploymentNotFoundException", "The service deployment was not found.")
            if sd.finished:
                raise EcsError("ConflictException", "The service deployment is %s and can not be stopped." % sd.status)
            if sd.status in ("PENDING", "IN_PROGRESS"):
                sd.set_status(now, "ROLLBACK_REQUESTED", "Service deployment rolled back because of a stop request.")
                self.note(now, sd.svc, sd.target, "rollback-requested", serviceDeployment=sd.arn)
            return {"serviceDeploymentArn": sd.arn}

    def op_ContinueServiceDeployment(self, ctx, params, moto_status, moto_json):
        action = params.get("action") or "CONTINUE"
        if action not in ("CONTINUE", "ROLLBACK"):
            raise EcsError("InvalidParameterException", "action must be CONTINUE or ROLLBACK.")
        hook_id = params.get("hookId")
        if not hook_id:
            raise EcsError("InvalidParameterException", "hookId can not be empty.")
        with self.lock:
            sd = self.find_service_deployment(ctx, params.get("serviceDeploymentArn"))
            if sd is None:
                raise EcsError("ServiceDeploymentNotFoundException", "The service deployment was not found.")
            hook = [h for h in sd.hooks if h["hookId"] == hook_id]
            if not hook:
                raise EcsError("InvalidParameterException", "No lifecycle hook %s in this service deployment." % hook_id)
            if sd.status != "IN_PROGRESS" or hook[0]["status"] != "AWAITING_ACTION":
                raise EcsError("InvalidParameterException", "The lifecycle hook %s is not awaiting an action." % hook_id)
            sd.pending_action = (action, hook_id)
            self.note(time.time(), sd.svc, sd.target, "hook-" + action.lower(), hookId=hook_id)
            return {"serviceDeploymentArn": sd.arn}
