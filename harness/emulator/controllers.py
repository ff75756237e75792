"""The CODE_DEPLOY and EXTERNAL deployment controllers: what CreateService and
UpdateService accept for a service whose deployments ECS's scheduler does not make.

Reproduces the ECS API reference:

- `DeploymentController` (APIReference/API_DeploymentController.html): `type` ECS
  (the default), CODE_DEPLOY (blue/green powered by CodeDeploy) or EXTERNAL (a
  third-party controller); DescribeServices shows `deploymentController`;
- `CreateService`: "A task definition must be specified if the service uses either
  the ECS or CODE_DEPLOY deployment controllers" (optional for EXTERNAL);
- `UpdateService` (APIReference/API_UpdateService.html): "For services using the
  blue/green (CODE_DEPLOY) deployment controller, only the desired count,
  deployment configuration, health check grace period, task placement constraints
  and strategies, enable ECS managed tags option, and propagate tags can be updated
  using this API. If the network configuration, platform version, task definition,
  or load balancer need to be updated, create a new CodeDeploy deployment." and "For
  services using an external deployment controller, you can update only the desired
  count, task placement constraints and strategies, health check grace period,
  enable ECS managed tags option, and propagate tags option";
- `DeploymentCircuitBreaker`: "can only be used for services using the rolling
  update (ECS) deployment type"; `DeploymentConfiguration`: no custom
  `minimumHealthyPercent` / `maximumPercent` for a CODE_DEPLOY or EXTERNAL service
  whose tasks use the EC2 launch type; the `strategy` values are those of the ECS
  deployment controller.

The error for a task definition change on a CODE_DEPLOY service is ECS's, as users
report it: InvalidParameterException "Unable to update task definition on services
with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new
deployment."; for a capacity provider strategy, ECS answers "Cannot force a new
deployment on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy
to trigger a new deployment.".

Where it assumes (harness/README.md, "Known differences from real ECS"):

- the "Cannot force a new deployment …" message is also what ECS gives for
  `forceNewDeployment`, `networkConfiguration`, `platformVersion`, `loadBalancers`
  and `serviceRegistries` on a CODE_DEPLOY service (every field that would start a
  deployment);
- the EXTERNAL messages ("Unable to update task definition on services with an
  EXTERNAL deployment controller. Use a task set to deploy a new task definition."
  and "Unable to update FIELD on services with an EXTERNAL deployment
  controller.") and the deploymentConfiguration messages are the emulator's own
  wording; all are InvalidParameterException;
- such a service runs no tasks and has no task sets, no deployments and no
  service deployments (CodeDeploy and CreateTaskSet are not emulated); its
  runningCount stays 0.
"""

from .common import EcsError

CONTROLLERS = ("ECS", "CODE_DEPLOY", "EXTERNAL")
# UpdateService fields that start a new deployment (the API reference's "This
# parameter triggers a new service deployment"), as the emulator reads them.
DEPLOYING_FIELDS = (
    "forceNewDeployment",
    "networkConfiguration",
    "platformVersion",
    "loadBalancers",
    "serviceRegistries",
    "capacityProviderStrategy",
)


def check_controller(params):
    """The deploymentController given to CreateService: its type."""
    ctrl = (params.get("deploymentController") or {}).get("type") or "ECS"
    if ctrl not in CONTROLLERS:
        raise EcsError("InvalidParameterException", "deploymentController.type must be one of %s." % ", ".join(CONTROLLERS))
    return ctrl


def check_deployment_configuration(ctrl, dc, launch_type):
    """A deploymentConfiguration for a CODE_DEPLOY or EXTERNAL service."""
    if not dc or ctrl == "ECS":
        return
    if (dc.get("deploymentCircuitBreaker") or {}).get("enable"):
        raise EcsError(
            "InvalidParameterException",
            "The deployment circuit breaker can only be used for services using the rolling update (ECS) deployment type.",
        )
    if (dc.get("strategy") or "ROLLING") != "ROLLING" or dc.get("lifecycleHooks"):
        raise EcsError(
            "InvalidParameterException",
            "Deployment strategies and lifecycle hooks can only be used with the ECS deployment controller.",
        )
    if launch_type == "EC2":
        for key, default in (("minimumHealthyPercent", 100), ("maximumPercent", 200)):
            if dc.get(key) is not None and int(dc[key]) != default:
                raise EcsError(
                    "InvalidParameterException",
                    "A custom %s can not be used with the %s deployment controller and the EC2 launch type." % (key, ctrl),
                )


def check_update(svc, params):
    """What UpdateService may change on a CODE_DEPLOY or EXTERNAL service."""
    ctrl = svc.controller
    if ctrl == "CODE_DEPLOY":
        if params.get("taskDefinition"):
            raise EcsError(
                "InvalidParameterException",
                "Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
                "Use AWS CodeDeploy to trigger a new deployment.",
            )
        for field in DEPLOYING_FIELDS:
            if params.get(field):
                raise EcsError(
                    "InvalidParameterException",
                    "Cannot force a new deployment on services with a CODE_DEPLOY deployment controller. "
                    "Use AWS CodeDeploy to trigger a new deployment.",
                )
        check_deployment_configuration(ctrl, params.get("deploymentConfiguration"), svc.launch_type)
    elif ctrl == "EXTERNAL":
        if params.get("taskDefinition"):
            raise EcsError(
                "InvalidParameterException",
                "Unable to update task definition on services with an EXTERNAL deployment controller. "
                "Use a task set to deploy a new task definition.",
            )
        for field in DEPLOYING_FIELDS + ("deploymentConfiguration",):
            if params.get(field):
                raise EcsError(
                    "InvalidParameterException",
                    "Unable to update %s on services with an EXTERNAL deployment controller." % field,
                )
