"""The ECS API the emulator owns, answered from its state once moto has accepted a request.

The owned actions are CreateService, UpdateService, DescribeServices,
DeleteService, ListServices, RunTask, DescribeTasks, ListTasks and StopTask
(AWS JSON 1.1), plus the service deployment actions of deployments_api.py:
OWNED_ACTIONS. Each `op_<Action>(ctx, params, moto_status,
moto_json)` runs after moto has validated and answered the same request (the
HTTP front end, server.py, forwards it and calls the op), and returns the
emulator's answer, or None to let moto's answer stand. moto's 4xx answers always
stand, and so do its 5xx answers except for IGNORE_MOTO_5XX.

Reproduces the ECS API reference for those actions: UpdateService starts a new
PRIMARY deployment when the task definition, `forceNewDeployment`,
`networkConfiguration`, `platformVersion`, `capacityProviderStrategy`,
`loadBalancers` or `serviceRegistries` changes, and otherwise only scales (a
new deployment, and CreateService's first one, is also a service deployment:
strategies.py);
DeleteService drains (DRAINING, then INACTIVE); DescribeServices takes at most
10 names and DescribeTasks 100, unknown ones in `failures` with reason MISSING;
ListServices and ListTasks paginate with `maxResults`/`nextToken` (10 and 100
by default); RunTask takes `count` 1-10; ListTasks filters on `serviceName`,
`family`, `startedBy`, `launchType` and `desiredStatus`; StopTask stops with
`UserInitiated`. Errors are ECS's: InvalidParameterException (awsvpc without a
network configuration, a service name already ACTIVE: "Creation of service was
not idempotent."), ServiceNotActiveException, ServiceNotFoundException.

Where it assumes (harness/README.md, "How a request flows" and "Known
differences from real ECS"):

- moto's limits are worked around, not reproduced: its 500s for RunTask and
  StopTask are ignored, and CreateService's awsvpc configuration without
  securityGroups reaches moto with an empty list (body_for_moto);
- moto goes first: when the emulator refuses what moto accepted, moto's copy has
  changed anyway; `rejected` remembers such CreateService calls so that moto's
  record of them is not taken for a service;
- services and tasks that only moto knows are used too: DescribeServices and
  UpdateService adopt such a service as steady (COMPLETED, default deployment
  configuration, since moto does not keep one), List* and DescribeTasks include
  moto's own tasks but not the shadow tasks moto keeps for an emulated RunTask;
- CODE_DEPLOY and EXTERNAL services (controllers.py) are created, described,
  updated within what the API reference allows, and deleted, but run no tasks:
  their task sets and CodeDeploy deployments are not emulated;
- INACTIVE services stay describable until the name is reused;
  `propagateTags: TASK_DEFINITION` is not applied; `include` supports TAGS only.
"""

import json
import time

from .common import EcsError, last_segment
from .consistency import Consistency
from .controllers import check_controller, check_deployment_configuration, check_update
from .deployments_api import ServiceDeploymentsApi, page, validate_deployment_configuration
from .faults import Faults
from .scenarios import container_plans
from .scheduler import Scheduler
from .services import Deployment, Service, merge_deployment_configuration, resolve_placement
from .state import State
from .tasks import Task

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
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "StopServiceDeployment",
    "ContinueServiceDeployment",
}
# moto answers these with HTTP 500 for reasons that are moto's limits, not ECS
# behaviour (RunTask: no container-level memory, no container instances for EC2,
# awsvpc without EnableDnsHostnames or security groups; StopTask: a task that only
# the emulator knows). Their 5xx answers are ignored; their 4xx answers are not.
# moto 5.2.5 implements none of the service deployment actions: it answers them with
# an HTML 500, which is ignored too (the request still reaches its recorder).
IGNORE_MOTO_5XX = {
    "RunTask",
    "StopTask",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "StopServiceDeployment",
    "ContinueServiceDeployment",
}


def body_for_moto(action, params):
    """The body to forward to moto instead of the client's, or None to forward it as is."""
    if action == "CreateService" and params:
        # moto answers an awsvpc configuration without securityGroups with an HTML
        # 500; ECS then uses the VPC's default group. Give moto an empty list.
        awsvpc = (params.get("networkConfiguration") or {}).get("awsvpcConfiguration")
        if isinstance(awsvpc, dict) and "securityGroups" not in awsvpc:
            p2 = json.loads(json.dumps(params))
            p2["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] = []
            return json.dumps(p2).encode()
    return None


class Emulator(ServiceDeploymentsApi, Scheduler, Faults, Consistency, State):
    """The whole emulator: State, with the Scheduler, the Faults queue, eventual
    consistency and the ECS operations."""

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
            sd = self.new_service_deployment(svc, p, [], now)
            sd.started_at = now
            sd.set_status(now, "SUCCESSFUL")
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
        key = (ctx["region"], cluster, name)
        try:
            ctrl = check_controller(params)
            return self.create_service(ctx, cluster, name, key, params, moto_svc, ctrl)
        except EcsError:
            with self.lock:
                old = self.services.get(key)
                if old is None or old.status == "INACTIVE":
                    self.rejected.add(key)
            raise

    def create_service(self, ctx, cluster, name, key, params, moto_svc, ctrl="ECS"):
        td_ref = params.get("taskDefinition")
        if not td_ref and ctrl != "EXTERNAL":
            raise EcsError("InvalidParameterException", "TaskDefinition must be specified for the %s deployment controller." % ctrl)
        td = self.task_definition(ctx, td_ref, moto_svc.get("taskDefinition")) if td_ref else None
        nc = params.get("networkConfiguration")
        if td is not None and td.get("networkMode") == "awsvpc" and not nc:
            raise EcsError(
                "InvalidParameterException",
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            )
        if params.get("launchType") and params.get("capacityProviderStrategy"):
            raise EcsError(
                "InvalidParameterException",
                "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.",
            )
        validate_deployment_configuration(params.get("deploymentConfiguration"))
        launch_type = resolve_placement(params.get("launchType"), params.get("capacityProviderStrategy"), None)[0]
        check_deployment_configuration(ctrl, params.get("deploymentConfiguration"), launch_type)
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
            if ctrl == "ECS":
                self.new_service_deployment(svc, svc.primary, [], now)
                self.note(now, svc, svc.primary, "started", initial=True)
            else:
                self.note(now, svc, None, "created", controller=ctrl)
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
        validate_deployment_configuration(params.get("deploymentConfiguration"))
        if svc.controller != "ECS":
            return self.update_controller_service(svc, params)
        td = None
        if params.get("taskDefinition"):
            td = self.task_definition(ctx, params["taskDefinition"])
        now = time.time()
        with self.lock:
            if svc.status != "ACTIVE":
                raise EcsError("ServiceNotActiveException", "Service was not ACTIVE.")
            self.before_update(svc, now)
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
                sources = [d for d in svc.deployments if d.running_count or d.pending_count] or svc.deployments[:1]
                svc.deployments.insert(0, dep)
                self.new_service_deployment(svc, dep, sources, now)
                svc.steady = False
                self.note(now, svc, dep, "started", superseded=[d.id for d in svc.deployments[1:]])
            else:
                svc.primary.desired_count = svc.desired_count
            self.schedule_counts_only(svc)
            return {"service": svc.to_json()}

    def update_controller_service(self, svc, params):
        """UpdateService of a CODE_DEPLOY or EXTERNAL service: only the fields that the
        API reference lets it change (controllers.py); no deployment starts."""
        check_update(svc, params)
        with self.lock:
            if svc.status != "ACTIVE":
                raise EcsError("ServiceNotActiveException", "Service was not ACTIVE.")
            self.before_update(svc, time.time())
            if params.get("desiredCount") is not None:
                svc.desired_count = int(params["desiredCount"])
            if params.get("deploymentConfiguration") is not None:
                svc.deployment_configuration = merge_deployment_configuration(
                    svc.deployment_configuration, params["deploymentConfiguration"]
                )
            for field, attr in (
                ("placementConstraints", "placement_constraints"),
                ("placementStrategy", "placement_strategy"),
                ("healthCheckGracePeriodSeconds", "health_check_grace_period"),
                ("enableECSManagedTags", "enable_ecs_managed_tags"),
                ("propagateTags", "propagate_tags"),
            ):
                if params.get(field) is not None:
                    setattr(svc, attr, params[field])
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
                    services.append(self.described(svc, now, tags, include_tags))
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
            sd = svc.current_sd
            if sd is not None and not sd.finished:
                sd.set_status(now, "STOPPED", "The service was deleted.")
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
        # ECS starts a clientToken's tasks once and answers retries alike.
        token = params.get("clientToken")
        key = (ctx["region"], cluster, token)
        with self.lock:
            started = self.run_task_tokens.get(key) if token else None
        if started is not None:
            return started
        answer = self.run_task(ctx, params, moto_json, cluster)
        if token:
            with self.lock:
                self.run_task_tokens[key] = answer
        return answer

    def run_task(self, ctx, params, moto_json, cluster):
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
