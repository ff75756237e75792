"""Tests of the ECS rollout emulator against the real moto server (no mocks).

Run: .venv/bin/pytest harness/   (the fixture starts the emulator, which starts moto)
"""

import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "ecs_emulator.py")
SCALE = 0.2  # one emulated second is 0.2 s
MINUTE = 5.0  # emulated seconds per minute of bake time: one bake minute is 1 s
OWNED = [
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
]


# ---------------------------------------------------------------------------- fixtures


def read_ready_line(proc, timeout):
    """The `ready URL` line from the process's stdout, or fail after `timeout`."""
    box = {}

    def reader():
        box["line"] = proc.stdout.readline()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    line = box.get("line") or ""
    if not line.startswith("ready "):
        proc.kill()
        raise RuntimeError("emulator did not print its ready line: %r" % line)
    return line.split()[1]


def start_process(cmd, stderr_path, timeout=90):
    err = open(stderr_path, "wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        url = read_ready_line(proc, timeout)
    except RuntimeError:
        err.close()
        with open(stderr_path, "rb") as f:
            sys.stderr.write(f.read().decode("utf-8", "replace"))
        raise
    return proc, url, err


def stop_process(proc, err):
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    err.close()
    return code


@pytest.fixture(scope="session")
def emulator():
    logdir = tempfile.mkdtemp(prefix="ecs-emulator-test-")
    proc, url, err = start_process(
        [sys.executable, EMULATOR, "--port", "0", "--time-scale", str(SCALE), "--minute", str(MINUTE)],
        os.path.join(logdir, "stderr.log"),
    )
    yield url
    code = stop_process(proc, err)
    assert code == 0, open(os.path.join(logdir, "stderr.log")).read()


@pytest.fixture(autouse=True)
def fresh(emulator):
    r = requests.post(emulator + "/_emulator/reset", timeout=30)
    assert r.status_code == 200, r.text
    yield


def client(url, service, retries=None):
    cfg = Config(retries=retries or {"mode": "standard", "max_attempts": 3})
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


@pytest.fixture
def ecs(emulator):
    return client(emulator, "ecs")


@pytest.fixture
def ec2(emulator):
    return client(emulator, "ec2")


# ---------------------------------------------------------------------------- helpers


def wait_for(predicate, timeout=10.0, interval=0.03, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


def register(ecs, family, image, **extra):
    container = {"name": extra.pop("container_name", "web"), "image": image, "memory": 128, "essential": True}
    container.update(extra.pop("container", {}))
    td = ecs.register_task_definition(family=family, containerDefinitions=[container], **extra)
    return td["taskDefinition"]["taskDefinitionArn"]


def service(ecs, cluster, name):
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def primary(svc):
    return [d for d in svc["deployments"] if d["status"] == "PRIMARY"][0]


def stable(ecs, cluster, name):
    svc = service(ecs, cluster, name)
    d = svc["deployments"]
    if len(d) == 1 and d[0]["rolloutState"] == "COMPLETED" and svc["events"] and "steady state" in svc["events"][0]["message"]:
        return svc
    return None


def timeline(url):
    return requests.get(url + "/_emulator/timeline", timeout=10).json()


def state(url):
    return requests.get(url + "/_emulator/state", timeout=10).json()


def describe_all(ecs, cluster, arns):
    out = []
    for i in range(0, len(arns), 100):
        out += ecs.describe_tasks(cluster=cluster, tasks=arns[i : i + 100])["tasks"]
    return out


def service_tasks(ecs, cluster, name, desired="RUNNING"):
    arns = []
    kw = {"cluster": cluster, "serviceName": name, "desiredStatus": desired}
    while True:
        page = ecs.list_tasks(**kw)
        arns += page["taskArns"]
        if not page.get("nextToken"):
            break
        kw["nextToken"] = page["nextToken"]
    return describe_all(ecs, cluster, arns) if arns else []


def messages(svc):
    return [e["message"] for e in svc["events"]]


def make_service(ecs, cluster, name, td, desired, minimum=100, maximum=200, breaker=None, **extra):
    cfg = {"minimumHealthyPercent": minimum, "maximumPercent": maximum}
    if breaker is not None:
        cfg["deploymentCircuitBreaker"] = breaker
    ecs.create_service(
        cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=desired, deploymentConfiguration=cfg, **extra
    )
    return wait_for(lambda: stable(ecs, cluster, name), what="service %s steady" % name)


# ---------------------------------------------------------------------------- rollouts


def test_happy_rolling_update_respects_min_healthy_and_max_percent(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-slow-3s")  # a slower start leaves polling a window
    first = make_service(ecs, "prod", "web", td1, 4, minimum=50, maximum=200)
    assert first["runningCount"] == 4 and first["launchType"] == "EC2"
    assert first["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 50,
    }
    old_id = primary(first)["id"]
    assert old_id.startswith("ecs-svc/") and len(old_id) == len("ecs-svc/") + 19

    resp = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]
    assert resp["taskDefinition"] == td2
    assert [d["status"] for d in resp["deployments"]] == ["PRIMARY", "ACTIVE"]
    new = resp["deployments"][0]
    assert new["rolloutState"] == "IN_PROGRESS"
    assert new["rolloutStateReason"] == "ECS deployment %s in progress." % new["id"]

    min_healthy, max_tasks = math.ceil(4 * 50 / 100), math.floor(4 * 200 / 100)
    samples = 0
    deadline = time.time() + 15
    while True:
        # each answer is one snapshot of the emulator's state
        svc = service(ecs, "prod", "web")
        assert svc["runningCount"] >= min_healthy, svc
        assert svc["runningCount"] + svc["pendingCount"] <= max_tasks, svc
        assert len(ecs.list_tasks(cluster="prod", serviceName="web")["taskArns"]) <= max_tasks
        samples += 1
        if len(svc["deployments"]) == 1 and svc["deployments"][0]["rolloutState"] == "COMPLETED":
            break
        assert time.time() < deadline, "rollout did not complete"
    assert samples >= 1

    final = wait_for(lambda: stable(ecs, "prod", "web"), what="steady state")
    dep = final["deployments"][0]
    assert dep["id"] == new["id"] and dep["taskDefinition"] == td2
    assert dep["rolloutStateReason"] == "ECS deployment %s completed." % new["id"]
    assert (dep["runningCount"], dep["pendingCount"], dep["failedTasks"]) == (4, 0, 0)
    assert old_id not in [d["id"] for d in final["deployments"]]
    msgs = messages(final)
    assert msgs[0] == "(service web) has reached a steady state."
    assert msgs[1] == "(service web) (deployment %s) deployment completed." % new["id"]
    assert any(m.startswith("(service web) has stopped ") and "running tasks: (task " in m for m in msgs)
    assert all(e["id"] and isinstance(e["createdAt"], type(final["createdAt"])) for e in final["events"])

    running = service_tasks(ecs, "prod", "web")
    assert len(running) == 4
    assert {t["taskDefinitionArn"] for t in running} == {td2}
    assert {t["startedBy"] for t in running} == {new["id"]}
    assert {t["group"] for t in running} == {"service:web"}
    for t in running:
        assert t["taskArn"].startswith("arn:aws:ecs:us-east-1:123456789012:task/prod/")
        assert t["clusterArn"] == "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
    stopped = service_tasks(ecs, "prod", "web", desired="STOPPED")
    assert len(stopped) == 4
    for t in stopped:
        assert t["lastStatus"] == "STOPPED"
        assert t["stoppedReason"] == "Scaling activity initiated by (deployment %s)" % old_id
        assert t["stopCode"] == "ServiceSchedulerInitiated"

    # the emulator's own record of the invariants, tick by tick
    svc_state = [s for s in state(emulator)["services"] if s["serviceName"] == "web"][0]
    observed = svc_state["deployments"][0]
    assert observed["observedMaxTasks"] <= max_tasks
    assert observed["observedMinRunning"] >= min_healthy
    events = [(e["deployment"], e["event"]) for e in timeline(emulator)]
    assert (new["id"], "started") in events and (new["id"], "completed") in events
    assert (old_id, "removed") in events


def test_awsvpc_fargate_service_and_ec2_bridge_service(emulator, ecs, ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="mixed")
    td = ecs.register_task_definition(
        family="api",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "api", "image": "api:v1", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    # without securityGroups (ECS uses the VPC's default group; moto alone answers 500)
    nc = {"awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": "DISABLED"}}
    svc = make_service(ecs, "mixed", "api", td, 2, launchType="FARGATE", networkConfiguration=nc)
    assert svc["networkConfiguration"] == nc
    assert svc["launchType"] == "FARGATE" and svc["platformVersion"] == "LATEST"
    assert svc["deployments"][0]["platformVersion"] == "1.4.0"
    tasks = service_tasks(ecs, "mixed", "api")
    assert len(tasks) == 2
    for t in tasks:
        assert t["launchType"] == "FARGATE" and t["platformVersion"] == "1.4.0"
        details = {d["name"]: d["value"] for d in t["attachments"][0]["details"]}
        assert details["subnetId"] == subnet and details["privateIPv4Address"]
        assert t["cpu"] == "256" and t["memory"] == "512"
    # with security groups
    nc2 = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}}
    make_service(ecs, "mixed", "api2", td, 1, launchType="FARGATE", networkConfiguration=nc2, platformVersion="1.4.0")
    # EC2/bridge service next to them
    td_bridge = register(ecs, "worker", "worker:v1")
    bridge = make_service(ecs, "mixed", "worker", td_bridge, 1)
    assert bridge["launchType"] == "EC2" and "networkConfiguration" not in bridge
    arns = ecs.list_services(cluster="mixed")["serviceArns"]
    assert sorted(a.rsplit("/", 1)[1] for a in arns) == ["api", "api2", "worker"]
    # awsvpc without a network configuration is refused, as ECS does
    with pytest.raises(ClientError) as e:
        ecs.create_service(cluster="mixed", serviceName="bad", taskDefinition=td, desiredCount=1, launchType="FARGATE")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    # moto kept a record of it; the emulator does not let it surface
    assert ecs.describe_services(cluster="mixed", services=["bad"])["failures"][0]["reason"] == "MISSING"
    assert len(ecs.list_services(cluster="mixed")["serviceArns"]) == 3
    with pytest.raises(ClientError) as e:
        ecs.update_service(cluster="mixed", service="bad", desiredCount=2)
    assert e.value.response["Error"]["Code"] == "ServiceNotFoundException"
    # moto's validation errors come back as moto gives them
    with pytest.raises(ClientError) as e:
        ecs.create_service(
            cluster="mixed",
            serviceName="bad2",
            taskDefinition=td,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-doesnotexist"], "securityGroups": [sg]}},
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_circuit_breaker_with_rollback(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1-slow-3s")  # slow start keeps the FAILED deployment visible
    td2 = register(ecs, "web", "web:v2-crash-1")
    first = make_service(ecs, "prod", "web", td1, 2, breaker={"enable": True, "rollback": True})
    good_id = primary(first)["id"]
    bad_id = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["deployments"][0]["id"]

    seen = wait_for(
        lambda: [d for d in service(ecs, "prod", "web")["deployments"] if d["id"] == bad_id and d["rolloutState"] == "FAILED"],
        timeout=10,
        interval=0.02,
        what="FAILED deployment",
    )
    failed = seen[0]
    threshold = max(3, min(200, math.ceil(2 / 2)))
    assert failed["failedTasks"] >= threshold
    assert failed["status"] == "ACTIVE"
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    svc = service(ecs, "prod", "web")
    assert svc["taskDefinition"] == td1  # reverted
    rollback = svc["deployments"][0]
    assert rollback["status"] == "PRIMARY" and rollback["taskDefinition"] == td1
    assert rollback["id"] not in (good_id, bad_id)

    final = wait_for(lambda: stable(ecs, "prod", "web"), what="rolled back and steady")
    assert final["deployments"][0]["id"] == rollback["id"]
    msgs = messages(final)
    assert "(service web) (deployment %s) deployment failed: tasks failed to start." % bad_id in msgs
    assert "(service web) rolling back to deployment %s." % good_id in msgs
    assert "(service web) (deployment %s) deployment completed." % rollback["id"] in msgs
    assert msgs[0] == "(service web) has reached a steady state."
    assert any(m.startswith("(service web) has started ") for m in msgs)

    crashed = [t for t in service_tasks(ecs, "prod", "web", "STOPPED") if t["taskDefinitionArn"] == td2]
    assert len(crashed) >= threshold
    for t in crashed:
        assert t["stoppedReason"] == "Essential container in task exited"
        assert t["stopCode"] == "EssentialContainerExited"
        assert t["containers"][0]["exitCode"] == 1
        assert "startedAt" not in t  # never reached RUNNING
        assert t["startedBy"] == bad_id

    tl = timeline(emulator)
    by = {(e["deployment"], e["event"]): e for e in tl}
    assert by[(bad_id, "failed")]["failedTasks"] >= threshold
    assert by[(bad_id, "rolled-back")]["to"] == rollback["id"]
    assert by[(rollback["id"], "started")]["rollback"] is True
    # detected within seconds (emulated): start delay plus a tick
    assert by[(bad_id, "failed")]["time"] - by[(bad_id, "started")]["time"] < 3 * SCALE + 1


def test_circuit_breaker_without_rollback_stops_launching(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "registry.example.com/web:v2-pull-error")
    make_service(ecs, "prod", "web", td1, 4, minimum=50, breaker={"enable": True, "rollback": False})
    bad_id = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["deployments"][0]["id"]
    wait_for(lambda: any(e["event"] == "failed" for e in timeline(emulator)), what="breaker")
    svc = service(ecs, "prod", "web")
    p = primary(svc)
    assert p["id"] == bad_id and p["rolloutState"] == "FAILED"
    assert p["failedTasks"] >= 3
    assert svc["taskDefinition"] == td2
    assert len(svc["deployments"]) == 2 and svc["deployments"][1]["status"] == "ACTIVE"
    # tasks already launched may still fail; after that, nothing new is launched
    wait_for(lambda: not [t for t in service_tasks(ecs, "prod", "web") if t["taskDefinitionArn"] == td2], what="in-flight tasks done")
    count = len(service_tasks(ecs, "prod", "web", "STOPPED"))
    time.sleep(6 * SCALE)
    svc = service(ecs, "prod", "web")
    assert primary(svc)["rolloutState"] == "FAILED"
    assert len(service_tasks(ecs, "prod", "web", "STOPPED")) == count
    assert not any(m.startswith("(service web) rolling back") for m in messages(svc))
    assert svc["runningCount"] >= 2  # the old deployment keeps minimumHealthyPercent
    pulled = [t for t in service_tasks(ecs, "prod", "web", "STOPPED") if t["taskDefinitionArn"] == td2]
    assert pulled
    for t in pulled:
        assert t["stopCode"] == "TaskFailedToStart"
        assert t["stoppedReason"].startswith("CannotPullContainerError: pull image manifest has been retried 5 time(s)")
        assert "registry.example.com/web:v2-pull-error: not found" in t["stoppedReason"]
        assert "exitCode" not in t["containers"][0]
        assert t["containers"][0]["reason"] == t["stoppedReason"]


def test_without_breaker_failing_tasks_are_retried_forever(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-crash-2")
    make_service(ecs, "prod", "web", td1, 2)
    ecs.update_service(cluster="prod", service="web", taskDefinition=td2)
    svc = wait_for(lambda: (lambda s: s if primary(s)["failedTasks"] >= 6 else None)(service(ecs, "prod", "web")), what="six failures")
    time.sleep(4 * SCALE)
    svc = service(ecs, "prod", "web")
    p = primary(svc)
    assert p["rolloutState"] == "IN_PROGRESS"
    assert p["failedTasks"] >= 6  # well past the breaker's threshold of 3
    assert svc["runningCount"] == 2  # minimumHealthyPercent 100: the old tasks stay
    starts = [m for m in messages(svc) if m.startswith("(service web) has started ")]
    assert len(starts) >= 3
    assert not any(e["event"] == "failed" for e in timeline(emulator))
    crashed = [t for t in service_tasks(ecs, "prod", "web", "STOPPED") if t["taskDefinitionArn"] == td2]
    assert {t["containers"][0]["exitCode"] for t in crashed} == {2}


def test_crash_after_running_counts_for_the_breaker(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-crash-after-2s-4")
    make_service(ecs, "prod", "web", td1, 2, breaker={"enable": True, "rollback": True})
    bad_id = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["deployments"][0]["id"]
    wait_for(lambda: any(e["event"] == "failed" for e in timeline(emulator)), timeout=15, what="breaker")
    final = wait_for(lambda: stable(ecs, "prod", "web"), what="rolled back")
    assert final["taskDefinition"] == td1
    crashed = [
        t
        for t in service_tasks(ecs, "prod", "web", "STOPPED")
        if t["startedBy"] == bad_id and t["stopCode"] == "EssentialContainerExited"
    ]
    assert len(crashed) >= 3
    for t in crashed:
        assert "startedAt" in t and (t["stoppedAt"] - t["startedAt"]).total_seconds() >= 2 * SCALE * 0.9
        assert t["containers"][0]["exitCode"] == 4
        assert t["stopCode"] == "EssentialContainerExited"


def test_overlapping_deployments(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-slow-5s")
    td3 = register(ecs, "web", "web:v3")
    first = make_service(ecs, "prod", "web", td1, 2)
    d1 = primary(first)["id"]
    d2 = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["deployments"][0]["id"]
    time.sleep(2 * SCALE)
    resp = ecs.update_service(cluster="prod", service="web", taskDefinition=td3)["service"]
    d3 = resp["deployments"][0]["id"]
    assert [(d["id"], d["status"]) for d in resp["deployments"]] == [(d3, "PRIMARY"), (d2, "ACTIVE"), (d1, "ACTIVE")]
    assert resp["deployments"][1]["rolloutState"] == "IN_PROGRESS"
    final = wait_for(lambda: stable(ecs, "prod", "web"), what="last deployment steady")
    assert [d["id"] for d in final["deployments"]] == [d3]
    assert final["taskDefinition"] == td3
    tl = [(e["deployment"], e["event"]) for e in timeline(emulator)]
    assert (d2, "removed") in tl and (d2, "completed") not in tl
    assert (d3, "completed") in tl
    assert {t["taskDefinitionArn"] for t in service_tasks(ecs, "prod", "web")} == {td3}


def test_desired_count_change_scales_without_new_deployment(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    first = make_service(ecs, "prod", "web", td1, 1)
    dep = primary(first)["id"]
    resp = ecs.update_service(cluster="prod", service="web", desiredCount=3)["service"]
    assert [d["id"] for d in resp["deployments"]] == [dep]
    svc = wait_for(lambda: (lambda s: s if s["runningCount"] == 3 and s["events"][0]["message"].endswith("steady state.") else None)(service(ecs, "prod", "web")), what="scaled out")
    assert [d["id"] for d in svc["deployments"]] == [dep]
    ecs.update_service(cluster="prod", service="web", desiredCount=1)
    svc = wait_for(lambda: (lambda s: s if s["runningCount"] == 1 and len(service_tasks(ecs, "prod", "web", "STOPPED")) == 2 else None)(service(ecs, "prod", "web")), what="scaled in")
    assert any(m.startswith("(service web) has stopped 2 running tasks: (task ") for m in messages(svc))
    # forceNewDeployment with the same task definition starts a new deployment
    resp = ecs.update_service(cluster="prod", service="web", forceNewDeployment=True)["service"]
    assert len(resp["deployments"]) == 2 and resp["deployments"][0]["taskDefinition"] == td1
    # the same task definition alone does not
    wait_for(lambda: stable(ecs, "prod", "web"), what="forced deployment done")
    resp = ecs.update_service(cluster="prod", service="web", taskDefinition=td1)["service"]
    assert len(resp["deployments"]) == 1


def test_deployment_configuration_is_kept_whole(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    breaker = {"enable": True, "rollback": True, "resetOnHealthyTask": False,
               "thresholdConfiguration": {"type": "COUNT", "value": 7}}
    alarms = {"alarmNames": ["web-5xx"], "enable": True, "rollback": True}
    ecs.create_service(
        cluster="prod", serviceName="web", taskDefinition=td1, desiredCount=1,
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200,
                                 "deploymentCircuitBreaker": breaker, "alarms": alarms},
    )
    assert service(ecs, "prod", "web")["deploymentConfiguration"]["deploymentCircuitBreaker"] == breaker
    # A field UpdateService gives replaces that field; the others stay.
    ecs.update_service(cluster="prod", service="web", deploymentConfiguration={"maximumPercent": 150})
    cfg = service(ecs, "prod", "web")["deploymentConfiguration"]
    assert cfg == {"minimumHealthyPercent": 100, "maximumPercent": 150,
                   "deploymentCircuitBreaker": breaker, "alarms": alarms}


def test_stop_task_is_replaced_and_delete_service_drains(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    make_service(ecs, "prod", "web", td1, 2)
    victim = service_tasks(ecs, "prod", "web")[0]
    stopped = ecs.stop_task(cluster="prod", task=victim["taskArn"], reason="testing")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    wait_for(lambda: ecs.describe_tasks(cluster="prod", tasks=[victim["taskArn"]])["tasks"][0]["lastStatus"] == "STOPPED", what="stopped")
    t = ecs.describe_tasks(cluster="prod", tasks=[victim["taskArn"]])["tasks"][0]
    assert (t["stoppedReason"], t["stopCode"]) == ("testing", "UserInitiated")
    wait_for(lambda: len([x for x in service_tasks(ecs, "prod", "web") if x["lastStatus"] == "RUNNING"]) == 2, what="replacement")
    with pytest.raises(ClientError) as e:
        ecs.stop_task(cluster="prod", task="0123456789abcdef0123456789abcdef")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"

    with pytest.raises(ClientError) as e:
        ecs.delete_service(cluster="prod", service="web")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert ecs.delete_service(cluster="prod", service="web", force=True)["service"]["status"] == "DRAINING"
    assert ecs.list_services(cluster="prod")["serviceArns"] == []
    wait_for(lambda: service(ecs, "prod", "web")["status"] == "INACTIVE", what="inactive")
    assert service_tasks(ecs, "prod", "web") == []
    with pytest.raises(ClientError) as e:
        ecs.update_service(cluster="prod", service="web", desiredCount=1)
    assert e.value.response["Error"]["Code"] == "ServiceNotActiveException"
    # the name can be used again
    make_service(ecs, "prod", "web", td1, 1)
    with pytest.raises(ClientError) as e:
        ecs.create_service(cluster="prod", serviceName="web", taskDefinition=td1, desiredCount=1)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


# ---------------------------------------------------------------------------- tasks


def test_run_task_exit_codes_and_all_containers(emulator, ecs):
    ecs.create_cluster(clusterName="jobs")
    td = ecs.register_task_definition(
        family="migrate",
        memory="512",  # task-level memory only: moto alone answers RunTask with a 500
        containerDefinitions=[
            {"name": "migrate", "image": "app:v1", "essential": True, "command": ["sh", "-c", "sleep 3; exit 3"]},
            {"name": "log-router", "image": "fluent:v1", "essential": False, "command": ["sh", "-c", "exit 5"]},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    resp = ecs.run_task(cluster="jobs", taskDefinition="migrate", startedBy="ecsflow", launchType="EC2")
    assert resp["failures"] == []
    task = resp["tasks"][0]
    assert task["lastStatus"] == "PROVISIONING" and task["desiredStatus"] == "RUNNING"
    assert task["group"] == "family:migrate" and task["startedBy"] == "ecsflow"
    assert task["taskDefinitionArn"] == td
    arn = task["taskArn"]
    seen = set()

    def done():
        t = ecs.describe_tasks(cluster="jobs", tasks=[arn])["tasks"][0]
        seen.add(t["lastStatus"])
        return t if t["lastStatus"] == "STOPPED" else None

    t = wait_for(done, what="migration stopped")
    assert "RUNNING" in seen
    assert t["stoppedReason"] == "Essential container in task exited"
    assert t["stopCode"] == "EssentialContainerExited"
    containers = {c["name"]: c for c in t["containers"]}
    assert set(containers) == {"migrate", "log-router"}
    assert containers["migrate"]["exitCode"] == 3
    assert containers["log-router"]["exitCode"] == 5
    assert containers["migrate"]["image"] == "app:v1"
    assert all(c["lastStatus"] == "STOPPED" for c in containers.values())
    assert (t["stoppedAt"] - t["startedAt"]).total_seconds() >= 3 * SCALE * 0.9

    # an override's command wins over the task definition's
    ok = ecs.run_task(
        cluster="jobs",
        taskDefinition=td,
        overrides={"containerOverrides": [{"name": "migrate", "command": ["sh", "-c", "exit 0"]}]},
    )["tasks"][0]
    assert ok["overrides"]["containerOverrides"][0]["command"] == ["sh", "-c", "exit 0"]
    t = wait_for(lambda: (lambda x: x if x["lastStatus"] == "STOPPED" else None)(
        ecs.describe_tasks(cluster="jobs", tasks=[ok["taskArn"]])["tasks"][0]), what="ok task stopped")
    assert {c["name"]: c["exitCode"] for c in t["containers"]} == {"migrate": 0, "log-router": 5}

    # an image marker when the command says nothing; crash-N never reaches RUNNING
    register(ecs, "crashy", "app:v9-crash-7")
    c = ecs.run_task(cluster="jobs", taskDefinition="crashy")["tasks"][0]
    t = wait_for(lambda: (lambda x: x if x["lastStatus"] == "STOPPED" else None)(
        ecs.describe_tasks(cluster="jobs", tasks=[c["taskArn"]])["tasks"][0]), what="crashy stopped")
    assert t["containers"][0]["exitCode"] == 7 and "startedAt" not in t

    stopped = ecs.list_tasks(cluster="jobs", family="migrate", desiredStatus="STOPPED")["taskArns"]
    assert set(stopped) == {arn, ok["taskArn"]}
    assert ecs.list_tasks(cluster="jobs", startedBy="ecsflow", desiredStatus="STOPPED")["taskArns"] == [arn]
    assert ecs.list_tasks(cluster="jobs")["taskArns"] == []

    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster="jobs", taskDefinition="nope:1")
    assert e.value.response["Error"]["Code"] == "ClientException"
    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster="missing", taskDefinition=td)
    assert e.value.response["Error"]["Code"] == "ClusterNotFoundException"
    missing = ecs.describe_tasks(cluster="jobs", tasks=["0123456789abcdef0123456789abcdef"])
    assert missing["tasks"] == [] and missing["failures"][0]["reason"] == "MISSING"


def test_run_task_awsvpc_fargate_records_network_configuration(emulator, ecs, ec2):
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    ecs.create_cluster(clusterName="jobs")
    ecs.register_task_definition(
        family="job",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "job", "image": "job:v1", "command": ["sleep", "1"]}],
    )
    nc = {"awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": "ENABLED"}}
    t = ecs.run_task(cluster="jobs", taskDefinition="job", launchType="FARGATE", networkConfiguration=nc, count=2)["tasks"]
    assert len(t) == 2
    assert all(x["launchType"] == "FARGATE" and x["platformVersion"] == "1.4.0" for x in t)
    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster="jobs", taskDefinition="job", launchType="FARGATE")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    done = wait_for(lambda: (lambda xs: xs if all(x["lastStatus"] == "STOPPED" for x in xs) else None)(
        ecs.describe_tasks(cluster="jobs", tasks=[x["taskArn"] for x in t])["tasks"]), what="jobs stopped")
    assert {x["containers"][0]["exitCode"] for x in done} == {0}


def test_list_tasks_honours_service_name(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td_a = register(ecs, "a", "a:v1")
    td_b = register(ecs, "b", "b:v1")
    make_service(ecs, "prod", "svc-a", td_a, 2)
    make_service(ecs, "prod", "svc-b", td_b, 3)
    a = ecs.list_tasks(cluster="prod", serviceName="svc-a")["taskArns"]
    b = ecs.list_tasks(cluster="prod", serviceName="svc-b")["taskArns"]
    assert len(a) == 2 and len(b) == 3 and not set(a) & set(b)
    assert {t["group"] for t in describe_all(ecs, "prod", a)} == {"service:svc-a"}
    assert set(ecs.list_tasks(cluster="prod")["taskArns"]) == set(a) | set(b)
    first = ecs.list_tasks(cluster="prod", maxResults=2)
    assert len(first["taskArns"]) == 2 and first["nextToken"]
    rest = ecs.list_tasks(cluster="prod", maxResults=2, nextToken=first["nextToken"])
    assert not set(first["taskArns"]) & set(rest["taskArns"])
    with pytest.raises(ClientError) as e:
        ecs.list_tasks(cluster="prod", serviceName="nope")
    assert e.value.response["Error"]["Code"] == "ServiceNotFoundException"
    assert ecs.list_tasks(cluster="prod", serviceName="svc-a", desiredStatus="STOPPED")["taskArns"] == []


# ---------------------------------------------------------------------------- faults, recorder, errors


def test_fault_injection_then_success(emulator):
    ecs = client(emulator, "ecs", retries={"mode": "standard", "total_max_attempts": 1})
    ec2 = client(emulator, "ec2", retries={"mode": "standard", "total_max_attempts": 1})
    ecs.create_cluster(clusterName="prod")
    r = requests.post(
        emulator + "/_emulator/faults",
        json={
            "action": "DescribeServices",
            "responses": [
                {"status": 400, "type": "ThrottlingException", "message": "Rate exceeded"},
                {"status": 500, "type": "ServerException", "message": "boom"},
                {"status": 503},
            ],
        },
        timeout=10,
    )
    assert r.status_code == 200
    codes = []
    for _ in range(3):
        with pytest.raises(ClientError) as e:
            ecs.describe_services(cluster="prod", services=["web"])
        codes.append((e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]))
    assert codes == [(400, "ThrottlingException"), (500, "ServerException"), (503, "ServiceUnavailable")]
    ok = ecs.describe_services(cluster="prod", services=["web"])
    assert ok["failures"][0]["reason"] == "MISSING"

    # query protocol (EC2): the Action form field, an EC2-shaped XML error
    requests.post(emulator + "/_emulator/faults", json={"action": "DescribeVpcs", "responses": [
        {"status": 503, "type": "RequestLimitExceeded", "message": "Request limit exceeded."}]}, timeout=10)
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs()
    assert e.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert ec2.describe_vpcs()["Vpcs"]

    # with its default retries the SDK rides through a throttle
    requests.post(emulator + "/_emulator/faults", json={"action": "*", "responses": [
        {"status": 400, "type": "ThrottlingException", "message": "Rate exceeded"}]}, timeout=10)
    retried = client(emulator, "ecs").list_clusters()
    assert retried["ResponseMetadata"]["RetryAttempts"] == 1
    assert requests.get(emulator + "/_emulator/faults", timeout=10).json() == []


def test_every_call_reaches_moto_recorder(emulator, ecs):
    ecs.create_cluster(clusterName="rec")
    td = register(ecs, "web", "web:v1")
    requests.post(emulator + "/moto-api/recorder/reset-recording", timeout=10)
    requests.post(emulator + "/moto-api/recorder/start-recording", timeout=10)
    try:
        requests.post(emulator + "/_emulator/faults", json={"action": "ListServices", "responses": [{"status": 500}]}, timeout=10)
        ecs.create_service(cluster="rec", serviceName="web", taskDefinition=td, desiredCount=1)
        wait_for(lambda: stable(ecs, "rec", "web"), what="steady")
        ecs.update_service(cluster="rec", service="web", desiredCount=0)
        ecs.list_services(cluster="rec")  # fault first (not forwarded), then a retry
        run = ecs.run_task(cluster="rec", taskDefinition=td)["tasks"][0]
        ecs.describe_tasks(cluster="rec", tasks=[run["taskArn"]])
        ecs.list_tasks(cluster="rec", serviceName="web")
        ecs.stop_task(cluster="rec", task=run["taskArn"])
        sd_arn = ecs.list_service_deployments(cluster="rec", service="web")["serviceDeployments"][0]["serviceDeploymentArn"]
        ecs.describe_service_deployments(serviceDeploymentArns=[sd_arn])
        for call in (
            lambda: ecs.stop_service_deployment(serviceDeploymentArn=sd_arn, stopType="ROLLBACK"),
            lambda: ecs.continue_service_deployment(serviceDeploymentArn=sd_arn, hookId="nope", action="CONTINUE"),
        ):
            with pytest.raises(ClientError):  # finished, no such hook: the emulator's errors, after moto saw it
                call()
        ecs.delete_service(cluster="rec", service="web")
        with pytest.raises(ClientError):
            ecs.describe_services(cluster="no-such-cluster", services=["web"])
        recording = requests.get(emulator + "/moto-api/recorder/download-recording", timeout=10).text
    finally:
        requests.post(emulator + "/moto-api/recorder/stop-recording", timeout=10)
    calls = []
    for line in recording.splitlines():
        entry = json.loads(line)
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        if "x-ecs-emulator-internal" in headers:
            continue
        target = headers.get("x-amz-target", "")
        if target:
            calls.append(target.rsplit(".", 1)[1])
    for action in OWNED:
        assert action in calls, (action, calls)
    assert calls.count("ListServices") == 1  # the injected fault never reached moto
    assert calls.count("CreateService") == 1 and calls.count("UpdateService") == 1


def test_control_endpoints(emulator, ecs):
    assert requests.get(emulator + "/_emulator/health", timeout=10).json()["ok"] is True
    ecs.create_cluster(clusterName="prod")
    make_service(ecs, "prod", "web", register(ecs, "web", "web:v1"), 1)
    st = state(emulator)
    assert st["timeScale"] == SCALE and len(st["services"]) == 1 and len(st["tasks"]) == 1
    assert [e["event"] for e in timeline(emulator)] == ["started", "completed", "steady-state"]
    requests.post(emulator + "/_emulator/reset", timeout=30)
    assert state(emulator)["services"] == [] and timeline(emulator) == []
    with pytest.raises(ClientError) as e:
        ecs.describe_services(cluster="prod", services=["web"])  # moto was reset too
    assert e.value.response["Error"]["Code"] == "ClusterNotFoundException"
    assert requests.get(emulator + "/_emulator/nope", timeout=10).status_code == 404


def test_non_owned_services_pass_through(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    make_service(ecs, "prod", "web", register(ecs, "web", "web:v1"), 1)
    ecr = client(emulator, "ecr")
    aas = client(emulator, "application-autoscaling")
    repo = ecr.create_repository(repositoryName="web-app")["repository"]
    assert repo["repositoryName"] == "web-app"
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    assert token
    aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/prod/web",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
        SuspendedState={"DynamicScalingInSuspended": True},
    )
    t = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert t["SuspendedState"]["DynamicScalingInSuspended"] is True


# ---------------------------------------------------------------------------- the one command


def test_start_script_runs_emulator_and_stops_cleanly(tmp_path):
    proc, url, err = start_process(
        ["bash", os.path.join(HERE, "start"), "--port", "0", "--time-scale", str(SCALE)],
        str(tmp_path / "stderr.log"),
    )
    try:
        health = requests.get(url + "/_emulator/health", timeout=10).json()
        moto_url = health["moto"]
        assert client(url, "ecs").list_clusters()["clusterArns"] == []
    finally:
        code = stop_process(proc, err)
    assert code == 0
    hint = (tmp_path / "stderr.log").read_text()
    assert "AWS_ENDPOINT_URL=%s" % url in hint
    # moto went with it
    u = urlsplit(moto_url)
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection((u.hostname, u.port), timeout=0.5).close()
        except OSError:
            break
        assert time.time() < deadline, "moto still listening after the emulator stopped"
        time.sleep(0.1)


# ---------------------------------------------------------------------------- sidecars, consistency


def stopped_task(ecs, cluster, arn, seen=None):
    t = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
    if seen is not None:
        seen.add(t["lastStatus"])
    return t if t["lastStatus"] == "STOPPED" else None


def test_essential_exit_stops_sidecars_with_sigterm(emulator, ecs):
    ecs.create_cluster(clusterName="side")
    ecs.register_task_definition(
        family="job",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": "app:v1", "essential": True, "command": ["sh", "-c", "sleep 2; exit 3"]},
            {"name": "log-router", "image": "fluent-bit:v1", "essential": True},
            {"name": "envoy", "image": "envoy:v1", "essential": False},
        ],
    )
    arn = ecs.run_task(cluster="side", taskDefinition="job")["tasks"][0]["taskArn"]
    t = wait_for(lambda: stopped_task(ecs, "side", arn), what="job stopped")
    assert t["stopCode"] == "EssentialContainerExited"
    assert t["stoppedReason"] == "Essential container in task exited"
    containers = {c["name"]: c for c in t["containers"]}
    assert {n: c["exitCode"] for n, c in containers.items()} == {"app": 3, "log-router": 143, "envoy": 143}
    assert all(c["lastStatus"] == "STOPPED" and "reason" not in c for c in containers.values())
    assert (t["stoppedAt"] - t["startedAt"]).total_seconds() >= 2 * SCALE * 0.9

    # a sidecar that ignores SIGTERM is killed after its stopTimeout: 137
    ecs.register_task_definition(
        family="stubborn",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": "app:v1", "essential": True, "command": ["sh", "-c", "exit 1"]},
            {"name": "agent", "image": "agent:v1", "essential": False, "stopTimeout": 5,
             "command": ["sh", "-c", "trap '' TERM; while :; do :; done"]},
        ],
    )
    arn = ecs.run_task(cluster="side", taskDefinition="stubborn")["tasks"][0]["taskArn"]
    seen = set()
    t = wait_for(lambda: stopped_task(ecs, "side", arn, seen), what="stubborn stopped")
    assert "DEACTIVATING" in seen
    assert {c["name"]: c["exitCode"] for c in t["containers"]} == {"app": 1, "agent": 137}
    assert t["stopCode"] == "EssentialContainerExited"
    # stopped 5 emulated seconds after the app's exit (1 s run duration)
    assert (t["stoppedAt"] - t["startedAt"]).total_seconds() >= (1 + 5) * SCALE * 0.9
    assert (t["stoppingAt"] - t["startedAt"]).total_seconds() < (1 + 5) * SCALE * 0.9

    # without any scenario every container still runs 1 s and exits 0
    ecs.register_task_definition(
        family="plain",
        memory="512",
        containerDefinitions=[{"name": "a", "image": "a:v1"}, {"name": "b", "image": "b:v1", "essential": False}],
    )
    arn = ecs.run_task(cluster="side", taskDefinition="plain")["tasks"][0]["taskArn"]
    t = wait_for(lambda: stopped_task(ecs, "side", arn), what="plain stopped")
    assert {c["name"]: c["exitCode"] for c in t["containers"]} == {"a": 0, "b": 0}


def test_service_crash_stops_its_sidecar_with_143(emulator, ecs):
    ecs.create_cluster(clusterName="sidesvc")
    td = ecs.register_task_definition(
        family="websc",
        containerDefinitions=[
            {"name": "web", "image": "web:v1-crash-after-1s-2", "memory": 128, "essential": True},
            {"name": "proxy", "image": "envoy:v1", "memory": 64, "essential": True},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="sidesvc", serviceName="web", taskDefinition=td, desiredCount=1)

    def a_stopped():
        tasks = service_tasks(ecs, "sidesvc", "web", desired="STOPPED")
        done = [t for t in tasks if t["lastStatus"] == "STOPPED"]
        return done[0] if done else None

    t = wait_for(a_stopped, what="a crashed service task")
    assert {c["name"]: c["exitCode"] for c in t["containers"]} == {"web": 2, "proxy": 143}
    assert t["stopCode"] == "EssentialContainerExited"


def test_eventual_consistency_describe_services_lags_update_service(emulator, ecs):
    assert requests.get(emulator + "/_emulator/consistency", timeout=10).json() == {"describeServicesLag": 0.0}
    ecs.create_cluster(clusterName="ec")
    v1 = register(ecs, "ecweb", "web:v1")
    v2 = register(ecs, "ecweb", "web:v2")
    make_service(ecs, "ec", "web", v1, 2)
    r = requests.post(emulator + "/_emulator/consistency", json={"describeServicesLag": 5}, timeout=10)
    assert r.json() == {"describeServicesLag": 5.0}
    assert requests.post(emulator + "/_emulator/consistency", json={"describeServicesLag": -1}, timeout=10).status_code == 400

    updated = ecs.update_service(cluster="ec", service="web", taskDefinition=v2)["service"]
    t0 = time.time()
    assert updated["taskDefinition"] == v2  # UpdateService's own answer is current
    stale_reads = 0
    while time.time() - t0 < 5 * SCALE * 0.8:
        svc = service(ecs, "ec", "web")
        assert svc["taskDefinition"] == v1
        assert [(d["status"], d["taskDefinition"]) for d in svc["deployments"]] == [("PRIMARY", v1)]
        stale_reads += 1
        time.sleep(0.05)
    assert stale_reads >= 3
    # the rollout went on behind the stale reads; after the lag the reads are current
    wait_for(lambda: service(ecs, "ec", "web")["taskDefinition"] == v2, timeout=5 * SCALE + 2, what="fresh read")
    assert time.time() - t0 >= 5 * SCALE * 0.9
    svc = wait_for(lambda: stable(ecs, "ec", "web"), what="stable on v2")
    assert primary(svc)["taskDefinition"] == v2
    # /_emulator/reset restores the command line's lag (0)
    requests.post(emulator + "/_emulator/reset", timeout=30)
    assert requests.get(emulator + "/_emulator/consistency", timeout=10).json() == {"describeServicesLag": 0.0}


# ---------------------------------------------------------------------------- service deployments


def sdep(ecs, arn):
    return ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]


def sdep_status(ecs, arn, *statuses, timeout=15.0):
    return wait_for(
        lambda: (lambda d: d if d["status"] in statuses else None)(sdep(ecs, arn)),
        timeout=timeout,
        what="service deployment %s" % "/".join(statuses),
    )


def test_service_deployments_api_follows_a_rolling_update(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-slow-2s")
    created = ecs.create_service(cluster="prod", serviceName="web", taskDefinition=td1, desiredCount=2)["service"]
    first = created["currentServiceDeployment"]
    assert first.startswith("arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/")
    wait_for(lambda: stable(ecs, "prod", "web"), what="steady")
    d1 = sdep_status(ecs, first, "SUCCESSFUL")
    assert d1["sourceServiceRevisions"] == []
    rev1 = d1["targetServiceRevision"]["arn"]
    assert rev1.startswith("arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/")
    assert d1["targetServiceRevision"]["runningTaskCount"] == 2
    assert "lifecycleStage" not in d1  # rolling: no stages
    assert d1["deploymentCircuitBreaker"] == {"status": "DISABLED", "failureCount": 0, "threshold": 3}
    assert d1["alarms"]["status"] == "DISABLED"
    assert d1["createdAt"] <= d1["startedAt"] <= d1["finishedAt"]

    t0 = time.time()
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]
    second = svc["currentServiceDeployment"]
    assert second != first
    d2 = sdep(ecs, second)
    assert d2["status"] in ("PENDING", "IN_PROGRESS")
    assert "finishedAt" not in d2
    d2 = sdep_status(ecs, second, "IN_PROGRESS")
    assert [r["arn"] for r in d2["sourceServiceRevisions"]] == [rev1]
    rev2 = d2["targetServiceRevision"]["arn"]
    assert rev2 != rev1
    assert d2["deploymentConfiguration"]["maximumPercent"] == 200
    d2 = sdep_status(ecs, second, "SUCCESSFUL")
    assert d2["finishedAt"] >= d2["startedAt"]
    assert d2["targetServiceRevision"]["runningTaskCount"] == 2
    assert d2["sourceServiceRevisions"][0]["runningTaskCount"] == 0
    final = wait_for(lambda: stable(ecs, "prod", "web"), what="steady")
    assert final["currentServiceDeployment"] == second
    assert [r["arn"] for r in final["currentServiceRevisions"]] == [rev2]

    listed = ecs.list_service_deployments(cluster="prod", service="web")["serviceDeployments"]
    assert [b["serviceDeploymentArn"] for b in listed] == [second, first]  # newest first
    assert listed[0]["targetServiceRevisionArn"] == rev2 and listed[0]["status"] == "SUCCESSFUL"
    assert listed[0]["serviceArn"] == final["serviceArn"] and listed[0]["clusterArn"] == final["clusterArn"]
    after = ecs.list_service_deployments(cluster="prod", service="web", createdAt={"after": t0 - 0.001})
    assert [b["serviceDeploymentArn"] for b in after["serviceDeployments"]] == [second]
    before = ecs.list_service_deployments(cluster="prod", service="web", createdAt={"before": t0 - 0.001})
    assert [b["serviceDeploymentArn"] for b in before["serviceDeployments"]] == [first]
    none = ecs.list_service_deployments(cluster="prod", service="web", status=["IN_PROGRESS", "ROLLBACK_SUCCESSFUL"])
    assert none["serviceDeployments"] == []
    paged = ecs.list_service_deployments(cluster="prod", service="web", maxResults=1)
    assert len(paged["serviceDeployments"]) == 1 and paged["nextToken"]

    missing = first[:-3] + "xyz"
    out = ecs.describe_service_deployments(serviceDeploymentArns=[first, missing])
    assert [d["serviceDeploymentArn"] for d in out["serviceDeployments"]] == [first]
    assert out["failures"] == [{"arn": missing, "reason": "MISSING"}]
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=second, stopType="ROLLBACK")
    assert e.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as e:
        ecs.list_service_deployments(cluster="prod", service="nope")
    assert e.value.response["Error"]["Code"] == "ServiceNotFoundException"
    # a scale alone starts no service deployment
    ecs.update_service(cluster="prod", service="web", desiredCount=3)
    assert len(ecs.list_service_deployments(cluster="prod", service="web")["serviceDeployments"]) == 2


def test_update_service_answers_with_the_service_deployment_it_started(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    td3 = register(ecs, "web", "web:v3")
    first = make_service(ecs, "prod", "web", td1, 2)
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]
    arn = svc["currentServiceDeployment"]
    assert arn != first["currentServiceDeployment"]
    # DescribeServiceDeployments answers at once, and the deployment is the update's
    d = sdep(ecs, arn)
    assert d["status"] in ("PENDING", "IN_PROGRESS") and d["serviceDeploymentArn"] == arn
    assert d["targetServiceRevision"]["arn"] == ecs.list_service_deployments(cluster="prod", service="web")["serviceDeployments"][0]["targetServiceRevisionArn"]
    assert service(ecs, "prod", "web")["currentServiceDeployment"] == arn
    assert [s["arn"] for s in svc["currentServiceRevisions"]][0] == d["targetServiceRevision"]["arn"]
    # a scale alone starts none: the answer keeps naming the same one
    assert ecs.update_service(cluster="prod", service="web", desiredCount=3)["service"]["currentServiceDeployment"] == arn
    wait_for(lambda: stable(ecs, "prod", "web"), what="steady on v2")
    # with --describe-lag, DescribeServices shows the service as before the update (the
    # old currentServiceDeployment) until the lag ends; DescribeServiceDeployments does not lag
    requests.post(emulator + "/_emulator/consistency", json={"describeServicesLag": 5}, timeout=10)
    arn3 = ecs.update_service(cluster="prod", service="web", taskDefinition=td3)["service"]["currentServiceDeployment"]
    assert service(ecs, "prod", "web")["currentServiceDeployment"] == arn
    assert sdep(ecs, arn3)["status"] in ("PENDING", "IN_PROGRESS", "SUCCESSFUL")
    wait_for(lambda: service(ecs, "prod", "web")["currentServiceDeployment"] == arn3, timeout=5 * SCALE + 2, what="fresh read")


def test_service_deployment_replaced_by_a_newer_one_is_stopped(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-slow-5s")
    make_service(ecs, "prod", "web", td1, 1)
    second = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["currentServiceDeployment"]
    third = ecs.update_service(cluster="prod", service="web", taskDefinition=td1, forceNewDeployment=True)["service"][
        "currentServiceDeployment"
    ]
    d2 = sdep(ecs, second)
    assert d2["status"] == "STOPPED" and d2["stoppedAt"] and d2["finishedAt"]
    assert d2["statusReason"] == "Replaced by service deployment %s." % third
    assert sdep_status(ecs, third, "SUCCESSFUL")["status"] == "SUCCESSFUL"


def test_deleting_the_service_stops_its_service_deployment(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    make_service(ecs, "prod", "web", register(ecs, "web", "web:v1"), 1)
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=register(ecs, "web", "web:v2-slow-20s"))["service"]
    arn = svc["currentServiceDeployment"]
    ecs.delete_service(cluster="prod", service="web", force=True)
    d = sdep(ecs, arn)
    assert d["status"] == "STOPPED" and d["statusReason"] == "The service was deleted."


def test_circuit_breaker_rollback_in_the_service_deployment(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-crash-1")
    first = make_service(ecs, "prod", "web", td1, 2, breaker={"enable": True, "rollback": True})
    rev1 = sdep(ecs, first["currentServiceDeployment"])["targetServiceRevision"]["arn"]
    arn = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["currentServiceDeployment"]
    seen = sdep_status(ecs, arn, "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    d = sdep_status(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert d["rollback"]["serviceRevisionArn"] == rev1
    assert d["rollback"]["reason"].startswith("Circuit breaker triggered the rollback")
    assert d["rollback"]["startedAt"] >= d["startedAt"]
    assert d["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert d["deploymentCircuitBreaker"]["threshold"] == 3
    assert d["deploymentCircuitBreaker"]["failureCount"] >= 3
    assert d["finishedAt"] >= d["rollback"]["startedAt"]
    assert seen["status"] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    final = wait_for(lambda: stable(ecs, "prod", "web"), what="rolled back")
    assert final["taskDefinition"] == td1
    assert final["currentServiceDeployment"] == arn  # the rollback is part of the same service deployment


def test_circuit_breaker_without_rollback_stops_the_service_deployment(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-crash-1")
    make_service(ecs, "prod", "web", td1, 1, breaker={"enable": True, "rollback": False})
    arn = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["currentServiceDeployment"]
    d = sdep_status(ecs, arn, "STOPPED")
    assert d["statusReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert d["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert "rollback" not in d


def breaker_services(ecs, td, breakers):
    """One service per name in `breakers` (desired 1, 100/200, the breaker as given), all steady."""
    for name, breaker in breakers.items():
        cfg = {"minimumHealthyPercent": 100, "maximumPercent": 200, "deploymentCircuitBreaker": breaker}
        ecs.create_service(cluster="prod", serviceName=name, taskDefinition=td, desiredCount=1, deploymentConfiguration=cfg)
    for name in breakers:
        wait_for(lambda: stable(ecs, "prod", name), what="service %s steady" % name)


def test_breaker_threshold_configuration_sets_the_threshold(emulator, ecs):
    # API reference, ThresholdConfiguration / ThresholdType: COUNT is the value itself;
    # BOUNDED_PERCENT (default, value 50) is value% of desiredCount clamped to 3..200;
    # UNBOUNDED_PERCENT is not clamped.
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-pull-error")
    on = {"enable": True, "rollback": True}
    breakers = {
        "default": dict(on),
        "count": dict(on, thresholdConfiguration={"type": "COUNT", "value": 2}),
        "bounded": dict(on, thresholdConfiguration={"type": "BOUNDED_PERCENT", "value": 10}),
        "unbounded": dict(on, thresholdConfiguration={"type": "UNBOUNDED_PERCENT", "value": 10}),
    }
    breaker_services(ecs, td1, breakers)
    assert service(ecs, "prod", "count")["deploymentConfiguration"]["deploymentCircuitBreaker"] == breakers["count"]
    arns = {n: ecs.update_service(cluster="prod", service=n, taskDefinition=td2)["service"]["currentServiceDeployment"] for n in breakers}
    expected = {"default": 3, "count": 2, "bounded": 3, "unbounded": 1}
    for name, threshold in expected.items():
        d = sdep_status(ecs, arns[name], "ROLLBACK_SUCCESSFUL")
        cb = d["deploymentCircuitBreaker"]
        # desired 1 at 100/200: one task at a time, so the breaker trips at the threshold exactly
        assert (cb["status"], cb["threshold"], cb["failureCount"]) == ("TRIGGERED", threshold, threshold), name
        failed = [e for e in timeline(emulator) if e["event"] == "failed" and e["service"] == name]
        assert failed and failed[0]["threshold"] == threshold, name
    with pytest.raises(ClientError) as e:
        ecs.update_service(
            cluster="prod",
            service="count",
            deploymentConfiguration={"deploymentCircuitBreaker": dict(on, thresholdConfiguration={"type": "PERCENT", "value": 5})},
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_breaker_reset_on_healthy_task(emulator, ecs):
    # DeploymentCircuitBreaker.resetOnHealthyTask (default true): a task that reaches a
    # healthy state resets the failure count to 0; with false the count is kept.
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-flaky-pull-2")  # the deployment's first 2 tasks fail to pull
    count = {"type": "COUNT", "value": 3}
    breakers = {
        "resets": {"enable": True, "rollback": True, "thresholdConfiguration": count},
        "keeps": {"enable": True, "rollback": True, "thresholdConfiguration": count, "resetOnHealthyTask": False},
    }
    breaker_services(ecs, td1, breakers)
    arns = {n: ecs.update_service(cluster="prod", service=n, taskDefinition=td2)["service"]["currentServiceDeployment"] for n in breakers}
    for name, failures in (("resets", 0), ("keeps", 2)):
        d = sdep_status(ecs, arns[name], "SUCCESSFUL")
        assert d["deploymentCircuitBreaker"]["failureCount"] == failures, name
        assert d["deploymentCircuitBreaker"]["status"] == "MONITORING_COMPLETE", name
        svc = wait_for(lambda: stable(ecs, "prod", name), what="%s steady" % name)
        assert primary(svc)["failedTasks"] == failures, name
        stopped = service_tasks(ecs, "prod", name, desired="STOPPED")
        assert len([t for t in stopped if t.get("stopCode") == "TaskFailedToStart"]) == 2, name


def test_stop_service_deployment_rolls_back(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-slow-20s")
    first = make_service(ecs, "prod", "web", td1, 2)
    rev1 = sdep(ecs, first["currentServiceDeployment"])["targetServiceRevision"]["arn"]
    arn = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["currentServiceDeployment"]
    sdep_status(ecs, arn, "IN_PROGRESS")
    assert ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")["serviceDeploymentArn"] == arn
    d = sdep(ecs, arn)
    assert d["status"] in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
    # stopping again continues the rollback
    ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    d = sdep_status(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert d["rollback"]["serviceRevisionArn"] == rev1
    assert d["deploymentCircuitBreaker"]["status"] == "DISABLED"
    final = wait_for(lambda: stable(ecs, "prod", "web"), what="rolled back")
    assert final["taskDefinition"] == td1
    assert {t["taskDefinitionArn"] for t in service_tasks(ecs, "prod", "web")} == {td1}
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=arn[:-2] + "zz")
    assert e.value.response["Error"]["Code"] == "ServiceDeploymentNotFoundException"


# ---------------------------------------------------------------------------- blue/green, linear, canary

STAGES = [
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
]


def follow(ecs, arn, until=("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"), timeout=30.0):
    """Every DescribeServiceDeployments answer until the deployment finishes."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sdep(ecs, arn)
        seen.append(d)
        if d["status"] in until:
            return seen
        time.sleep(0.02)
    raise AssertionError("service deployment not finished: %r" % seen[-1])


def stage_notes(url, arn):
    return [e for e in timeline(url) if e.get("serviceDeployment") == arn and e["event"] == "stage"]


def traffic_notes(url, dep_id):
    return [e for e in timeline(url) if e["deployment"] == dep_id and e["event"] == "traffic"]


def test_blue_green_runs_every_stage_and_succeeds_only_after_the_bake(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    cfg = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "minimumHealthyPercent": 100, "maximumPercent": 100}
    ecs.create_service(cluster="prod", serviceName="web", taskDefinition=td1, desiredCount=2, deploymentConfiguration=cfg)
    first = wait_for(lambda: stable(ecs, "prod", "web"), timeout=20, what="first deployment")
    blue = {t["taskArn"] for t in service_tasks(ecs, "prod", "web")}
    assert len(blue) == 2
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]
    assert svc["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert svc["deploymentConfiguration"]["bakeTimeInMinutes"] == 1
    arn = svc["currentServiceDeployment"]
    green_id = svc["deployments"][0]["id"]
    seen = follow(ecs, arn)
    final = seen[-1]
    assert final["status"] == "SUCCESSFUL"
    assert final["lifecycleStage"] == "CLEAN_UP"
    assert final["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    notes = stage_notes(emulator, arn)
    assert [e["stage"] for e in notes] == STAGES  # no RECONCILE_SERVICE: one revision was ACTIVE
    at = {e["stage"]: e["time"] for e in notes}
    # success only after the bake: one minute of bake time is MINUTE emulated seconds
    assert final["finishedAt"].timestamp() >= at["BAKE_TIME"] + MINUTE * SCALE - 0.01
    assert at["CLEAN_UP"] - at["BAKE_TIME"] >= MINUTE * SCALE - 0.01
    for d in seen:
        stage = d.get("lifecycleStage")
        src = d["sourceServiceRevisions"][0]
        tgt = d["targetServiceRevision"]
        if stage in STAGES[:8]:
            assert src["runningTaskCount"] == 2, d  # blue keeps serving until CLEAN_UP
        if stage in ("PRE_SCALE_UP",):
            assert tgt["runningTaskCount"] + tgt["pendingTaskCount"] == 0, d
        if stage in ("POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "BAKE_TIME"):
            assert tgt["runningTaskCount"] == 2, d  # green at 100 % beside blue, maximumPercent notwithstanding
        if stage in ("PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP"):
            assert (tgt["requestedTestTrafficWeight"], tgt["requestedProductionTrafficWeight"]) == (0.0, 0.0), d
        if stage in ("POST_TEST_TRAFFIC_SHIFT",):
            assert (tgt["requestedTestTrafficWeight"], tgt["requestedProductionTrafficWeight"]) == (100.0, 0.0), d
            assert src["requestedProductionTrafficWeight"] == 100.0
        if stage in ("POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"):
            assert tgt["requestedProductionTrafficWeight"] == 100.0 and src["requestedProductionTrafficWeight"] == 0.0
    assert {d.get("lifecycleStage") for d in seen} >= {"SCALE_UP", "BAKE_TIME"}
    assert [e["production"] for e in traffic_notes(emulator, green_id)] == [0.0, 100.0]
    done = wait_for(lambda: stable(ecs, "prod", "web"), what="steady on green")
    assert [d["id"] for d in done["deployments"]] == [green_id] and done["taskDefinition"] == td2
    stopped_blue = {t["taskArn"] for t in service_tasks(ecs, "prod", "web", "STOPPED")}
    assert blue <= stopped_blue
    # blue stopped only at CLEAN_UP
    stops = [t for t in service_tasks(ecs, "prod", "web", "STOPPED") if t["taskArn"] in blue]
    assert min(t["stoppingAt"].timestamp() for t in stops) >= at["CLEAN_UP"] - 0.01
    assert first["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"


def test_blue_green_crash_rolls_back_to_blue_which_kept_running(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-crash-1")
    cfg = {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 0,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    }
    ecs.create_service(cluster="prod", serviceName="web", taskDefinition=td1, desiredCount=2, deploymentConfiguration=cfg)
    first = wait_for(lambda: stable(ecs, "prod", "web"), timeout=20, what="first deployment")
    blue_id = primary(first)["id"]
    blue_rev = sdep(ecs, first["currentServiceDeployment"])["targetServiceRevision"]["arn"]
    blue = {t["taskArn"] for t in service_tasks(ecs, "prod", "web")}
    arn = ecs.update_service(cluster="prod", service="web", taskDefinition=td2)["service"]["currentServiceDeployment"]
    seen = follow(ecs, arn)
    final = seen[-1]
    assert final["status"] == "ROLLBACK_SUCCESSFUL"
    assert final["lifecycleStage"] == "SCALE_UP"  # the stage reached
    assert final["rollback"]["serviceRevisionArn"] == blue_rev
    assert final["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert final["deploymentCircuitBreaker"]["failureCount"] >= 3
    assert final["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
    assert any(d["status"] == "ROLLBACK_IN_PROGRESS" for d in seen)
    done = wait_for(lambda: stable(ecs, "prod", "web"), what="back on blue")
    assert done["taskDefinition"] == td1
    assert [d["id"] for d in done["deployments"]] == [blue_id]  # blue takes production back, not relaunched
    assert {t["taskArn"] for t in service_tasks(ecs, "prod", "web")} == blue
    assert "(service web) rolling back to deployment %s." % blue_id in messages(done)


def test_linear_shifts_production_traffic_in_steps(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    cfg = {"strategy": "LINEAR", "bakeTimeInMinutes": 0, "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}}
    make_service(ecs, "prod", "web", td1, 2)
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2, deploymentConfiguration=cfg)["service"]
    assert svc["deploymentConfiguration"]["linearConfiguration"] == {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}
    arn, green_id = svc["currentServiceDeployment"], svc["deployments"][0]["id"]
    seen = follow(ecs, arn)
    assert seen[-1]["status"] == "SUCCESSFUL"
    during = [
        d["targetServiceRevision"]["requestedProductionTrafficWeight"]
        for d in seen
        if d.get("lifecycleStage") == "PRODUCTION_TRAFFIC_SHIFT"
    ]
    assert {25.0, 50.0, 75.0} <= set(during) <= {0.0, 25.0, 50.0, 75.0, 100.0}  # 0 % until the first step
    assert during == sorted(during)
    steps = [e for e in traffic_notes(emulator, green_id) if e["production"] > 0]
    assert [e["production"] for e in steps] == [25.0, 50.0, 75.0, 100.0]
    for a, b in zip(steps, steps[1:]):
        assert b["time"] - a["time"] >= MINUTE * SCALE - 0.01  # stepBakeTimeInMinutes between steps
    assert [e["stage"] for e in stage_notes(emulator, arn)] == STAGES


def test_canary_shifts_the_canary_then_the_rest(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    cfg = {"strategy": "CANARY", "bakeTimeInMinutes": 0, "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1}}
    make_service(ecs, "prod", "web", td1, 2)
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2, deploymentConfiguration=cfg)["service"]
    arn, green_id = svc["currentServiceDeployment"], svc["deployments"][0]["id"]
    seen = follow(ecs, arn)
    assert seen[-1]["status"] == "SUCCESSFUL"
    canary = [d for d in seen if d.get("lifecycleStage") == "PRODUCTION_TRAFFIC_SHIFT"
              and d["targetServiceRevision"]["requestedProductionTrafficWeight"] == 10.0]
    assert canary and canary[0]["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 90.0
    steps = [e for e in traffic_notes(emulator, green_id) if e["production"] > 0]
    assert [e["production"] for e in steps] == [10.0, 100.0]
    assert steps[1]["time"] - steps[0]["time"] >= MINUTE * SCALE - 0.01


def test_strategy_settings_are_checked(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    make_service(ecs, "prod", "web", td1, 1)
    for cfg in (
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441},
        {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0}},
        {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}},
        {"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "AWS_LAMBDA", "lifecycleStages": ["POST_SCALE_UP"]}]},
    ):
        with pytest.raises(ClientError) as e:
            ecs.update_service(cluster="prod", service="web", deploymentConfiguration=cfg)
        assert e.value.response["Error"]["Code"] == "InvalidParameterException", cfg


# ---------------------------------------------------------------------------- deployment alarms


def put_alarm(cw, name):
    cw.put_metric_alarm(
        AlarmName=name,
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )


def test_alarm_in_alarm_rolls_back_a_canary_and_is_named(emulator, ecs):
    cw = client(emulator, "cloudwatch")
    put_alarm(cw, "web-5xx")
    put_alarm(cw, "web-latency")
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    cfg = {
        "strategy": "CANARY",
        "bakeTimeInMinutes": 0,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 10},
        "alarms": {"alarmNames": ["web-5xx", "web-latency"], "enable": True, "rollback": True},
    }
    first = make_service(ecs, "prod", "web", td1, 2)
    blue_rev = sdep(ecs, first["currentServiceDeployment"])["targetServiceRevision"]["arn"]
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2, deploymentConfiguration=cfg)["service"]
    assert svc["deploymentConfiguration"]["alarms"] == cfg["alarms"]
    arn = svc["currentServiceDeployment"]
    canary = wait_for(
        lambda: (lambda d: d if d["targetServiceRevision"].get("requestedProductionTrafficWeight") == 10.0 else None)(sdep(ecs, arn)),
        timeout=15,
        what="the canary step",
    )
    assert canary["alarms"] == {"status": "MONITORING", "alarmNames": ["web-5xx", "web-latency"], "triggeredAlarmNames": []}
    cw.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="5xx during the canary")
    d = sdep_status(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert d["alarms"]["status"] == "TRIGGERED"
    assert d["alarms"]["triggeredAlarmNames"] == ["web-5xx"]
    assert d["rollback"]["reason"] == "CloudWatch alarm(s) web-5xx in ALARM state. Rolling back."
    assert d["rollback"]["serviceRevisionArn"] == blue_rev
    assert d["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    assert d["deploymentCircuitBreaker"]["status"] == "DISABLED"
    done = wait_for(lambda: stable(ecs, "prod", "web"), what="back on blue")
    assert done["taskDefinition"] == td1
    assert any(m.endswith("deployment failed: alarm detected.") for m in messages(done))


def test_alarm_without_rollback_stops_a_rolling_deployment(emulator, ecs):
    cw = client(emulator, "cloudwatch")
    put_alarm(cw, "web-5xx")
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2-slow-20s")
    make_service(ecs, "prod", "web", td1, 1)
    cfg = {"alarms": {"alarmNames": ["web-5xx"], "enable": True, "rollback": False}}
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2, deploymentConfiguration=cfg)["service"]
    arn = svc["currentServiceDeployment"]
    sdep_status(ecs, arn, "IN_PROGRESS")
    time.sleep(0.3)
    assert sdep(ecs, arn)["status"] == "IN_PROGRESS"  # OK alarms change nothing
    cw.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    d = sdep_status(ecs, arn, "STOPPED")
    assert d["statusReason"] == "CloudWatch alarm(s) web-5xx in ALARM state."
    assert d["alarms"]["triggeredAlarmNames"] == ["web-5xx"] and "rollback" not in d
    p = primary(service(ecs, "prod", "web"))
    assert p["rolloutState"] == "FAILED" and p["taskDefinition"] == td2


# ---------------------------------------------------------------------------- lifecycle hooks


def awaiting(ecs, arn, stage, timeout=15.0):
    def check():
        d = sdep(ecs, arn)
        hooks = [h for h in d.get("lifecycleHookDetails", []) if h["status"] == "AWAITING_ACTION"]
        return (d, hooks[0]) if hooks and d.get("lifecycleStage") == stage else None

    return wait_for(check, timeout=timeout, what="a pause at %s" % stage)


def test_pause_hook_waits_for_continue(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    make_service(ecs, "prod", "web", td1, 2)
    cfg = {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 0,
        "lifecycleHooks": [
            {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"], "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}},
            {"targetType": "AWS_LAMBDA", "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke", "roleArn": "arn:aws:iam::123456789012:role/hooks", "lifecycleStages": ["POST_SCALE_UP"]},
        ],
    }
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2, deploymentConfiguration=cfg)["service"]
    assert svc["deploymentConfiguration"]["lifecycleHooks"] == cfg["lifecycleHooks"]
    arn = svc["currentServiceDeployment"]
    d, hook = awaiting(ecs, arn, "POST_TEST_TRAFFIC_SHIFT")
    assert hook["hookId"].startswith("ecs-pause-") and hook["targetType"] == "PAUSE" and "targetArn" not in hook
    assert hook["timeoutAction"] == "ROLLBACK"
    assert hook["expiresAt"].timestamp() > time.time() + 50 * MINUTE * SCALE
    lam = [h for h in d["lifecycleHookDetails"] if h["targetType"] == "AWS_LAMBDA"]
    assert lam and lam[0]["status"] == "SUCCEEDED" and lam[0]["targetArn"].endswith(":function:smoke")
    time.sleep(4 * SCALE)  # well past a stage's one second: still paused
    d = sdep(ecs, arn)
    assert d["status"] == "IN_PROGRESS" and d["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert d["targetServiceRevision"]["requestedTestTrafficWeight"] == 100.0
    assert d["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
    with pytest.raises(ClientError) as e:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="ecs-pause-nope", action="CONTINUE")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    out = ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    assert out["serviceDeploymentArn"] == arn
    d = sdep_status(ecs, arn, "SUCCESSFUL")
    assert [h["status"] for h in d["lifecycleHookDetails"] if h["hookId"] == hook["hookId"]] == ["SUCCEEDED"]
    with pytest.raises(ClientError) as e:  # no longer awaiting
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    final = wait_for(lambda: stable(ecs, "prod", "web"), what="steady on green")
    assert final["taskDefinition"] == td2


def test_pause_hook_rollback_and_timeout(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    td3 = register(ecs, "web", "web:v3")
    first = make_service(ecs, "prod", "web", td1, 1)
    rev1 = sdep(ecs, first["currentServiceDeployment"])["targetServiceRevision"]["arn"]
    pause = lambda stage, **timeout: {"targetType": "PAUSE", "lifecycleStages": [stage], "timeoutConfiguration": timeout}
    # ROLLBACK from ContinueServiceDeployment
    cfg = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [pause("POST_SCALE_UP")]}
    arn = ecs.update_service(cluster="prod", service="web", taskDefinition=td2, deploymentConfiguration=cfg)["service"]["currentServiceDeployment"]
    _, hook = awaiting(ecs, arn, "POST_SCALE_UP")
    assert hook["timeoutAction"] == "ROLLBACK"  # the default
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="ROLLBACK")
    d = sdep_status(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert d["rollback"]["serviceRevisionArn"] == rev1 and d["lifecycleStage"] == "POST_SCALE_UP"
    assert d["lifecycleHookDetails"][0]["status"] == "FAILED"
    assert wait_for(lambda: stable(ecs, "prod", "web"), what="back on v1")["taskDefinition"] == td1
    # a timeout takes the timeout action: CONTINUE, before each canary step
    cfg = {
        "strategy": "CANARY",
        "bakeTimeInMinutes": 0,
        "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 0},
        "lifecycleHooks": [pause("PRE_PRODUCTION_TRAFFIC_SHIFT", timeoutInMinutes=1, action="CONTINUE")],
    }
    arn = ecs.update_service(cluster="prod", service="web", taskDefinition=td3, deploymentConfiguration=cfg)["service"]["currentServiceDeployment"]
    d = sdep_status(ecs, arn, "SUCCESSFUL", timeout=20)
    hooks = d["lifecycleHookDetails"]
    assert [h["status"] for h in hooks] == ["TIMED_OUT", "TIMED_OUT"]  # before 20 %, before 100 %
    steps = [e for e in traffic_notes(emulator, primary(service(ecs, "prod", "web"))["id"]) if e["production"] > 0]
    assert [e["production"] for e in steps] == [20.0, 100.0]
    assert steps[1]["time"] - steps[0]["time"] >= MINUTE * SCALE - 0.01  # the second pause's timeout
    # PAUSE at a traffic shift stage is refused, as the guide lists it for none
    for stage in ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"):
        with pytest.raises(ClientError) as e:
            ecs.update_service(cluster="prod", service="web", deploymentConfiguration={"lifecycleHooks": [pause(stage)]})
        assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_pause_hooks_on_a_rolling_deployment(emulator, ecs):
    # Assumed stages of a rolling deployment with hooks (the guide does not list them):
    # RECONCILE_SERVICE (only with more than one revision), PRE_SCALE_UP, SCALE_UP,
    # POST_SCALE_UP; lifecycleStage shows them.
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    td3 = register(ecs, "web", "web:v3")
    make_service(ecs, "prod", "web", td1, 2, minimum=50, maximum=200)
    pause = lambda stage: {"targetType": "PAUSE", "lifecycleStages": [stage], "timeoutConfiguration": {"timeoutInMinutes": 60}}
    cfg = {"lifecycleHooks": [pause("PRE_SCALE_UP"), pause("POST_SCALE_UP")]}
    svc = ecs.update_service(cluster="prod", service="web", taskDefinition=td2, deploymentConfiguration=cfg)["service"]
    arn = svc["currentServiceDeployment"]
    d, hook = awaiting(ecs, arn, "PRE_SCALE_UP")
    time.sleep(4 * SCALE)  # paused before scale-up: v2 starts nothing, v1 keeps both tasks
    svc = service(ecs, "prod", "web")
    assert (primary(svc)["runningCount"], primary(svc)["pendingCount"], svc["runningCount"]) == (0, 0, 2)
    assert sdep(ecs, arn)["lifecycleStage"] == "PRE_SCALE_UP"
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    d, hook2 = awaiting(ecs, arn, "POST_SCALE_UP")
    assert d["targetServiceRevision"]["runningTaskCount"] == 2
    time.sleep(4 * SCALE)  # paused after scale-up: not yet SUCCESSFUL, the ECS deployment not completed
    d = sdep(ecs, arn)
    assert d["status"] == "IN_PROGRESS" and d["lifecycleStage"] == "POST_SCALE_UP"
    assert primary(service(ecs, "prod", "web"))["rolloutState"] == "IN_PROGRESS"
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook2["hookId"], action="CONTINUE")
    d = sdep_status(ecs, arn, "SUCCESSFUL")
    assert [h["status"] for h in d["lifecycleHookDetails"]] == ["SUCCEEDED", "SUCCEEDED"]
    rev2 = d["targetServiceRevision"]["arn"]
    assert wait_for(lambda: stable(ecs, "prod", "web"), what="steady on v2")["taskDefinition"] == td2
    # ROLLBACK from the pause after scale-up rolls back to v2
    cfg = {"lifecycleHooks": [pause("POST_SCALE_UP")]}
    arn = ecs.update_service(cluster="prod", service="web", taskDefinition=td3, deploymentConfiguration=cfg)["service"]["currentServiceDeployment"]
    _, hook = awaiting(ecs, arn, "POST_SCALE_UP")
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="ROLLBACK")
    d = sdep_status(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert d["rollback"]["serviceRevisionArn"] == rev2 and d["lifecycleStage"] == "POST_SCALE_UP"
    assert d["lifecycleHookDetails"][0]["status"] == "FAILED"
    assert wait_for(lambda: stable(ecs, "prod", "web"), what="back on v2")["taskDefinition"] == td2


# ---------------------------------------------------------------------------- CODE_DEPLOY and EXTERNAL controllers


def test_code_deploy_and_external_controllers(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    td2 = register(ecs, "web", "web:v2")
    ecs.create_service(cluster="prod", serviceName="cd", taskDefinition=td1, desiredCount=2, deploymentController={"type": "CODE_DEPLOY"})
    ecs.create_service(cluster="prod", serviceName="ext", desiredCount=1, deploymentController={"type": "EXTERNAL"})
    time.sleep(4 * SCALE)  # the scheduler leaves them alone
    cd, ext = ecs.describe_services(cluster="prod", services=["cd", "ext"])["services"]
    assert cd["deploymentController"] == {"type": "CODE_DEPLOY"} and cd["taskDefinition"] == td1
    assert ext["deploymentController"] == {"type": "EXTERNAL"} and "taskDefinition" not in ext
    assert (cd["status"], cd["desiredCount"], cd["runningCount"], cd["deployments"]) == ("ACTIVE", 2, 0, [])
    assert "currentServiceDeployment" not in cd
    assert sorted(ecs.list_services(cluster="prod")["serviceArns"]) == sorted([cd["serviceArn"], ext["serviceArn"]])

    def refused(name, **update):
        with pytest.raises(ClientError) as e:
            ecs.update_service(cluster="prod", service=name, **update)
        assert e.value.response["Error"]["Code"] == "InvalidParameterException", update
        return e.value.response["Error"]["Message"]

    assert refused("cd", taskDefinition=td2) == (
        "Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
        "Use AWS CodeDeploy to trigger a new deployment."
    )
    assert refused("cd", forceNewDeployment=True).startswith("Cannot force a new deployment on services with a CODE_DEPLOY")
    refused("cd", deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    refused("cd", deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    refused("cd", deploymentConfiguration={"maximumPercent": 150})  # EC2 launch type: no custom percentages
    refused("ext", taskDefinition=td2)
    refused("ext", deploymentConfiguration={"maximumPercent": 200})
    # what the API reference lets them change
    out = ecs.update_service(cluster="prod", service="cd", desiredCount=3, healthCheckGracePeriodSeconds=30)["service"]
    assert (out["desiredCount"], out["taskDefinition"], out["healthCheckGracePeriodSeconds"]) == (3, td1, 30)
    assert ecs.update_service(cluster="prod", service="ext", desiredCount=4)["service"]["desiredCount"] == 4
    cd = service(ecs, "prod", "cd")
    assert (cd["desiredCount"], cd["taskDefinition"], cd["deployments"]) == (3, td1, [])
    assert ecs.list_service_deployments(cluster="prod", service="cd")["serviceDeployments"] == []
    ecs.delete_service(cluster="prod", service="cd", force=True)
    wait_for(lambda: service(ecs, "prod", "cd")["status"] == "INACTIVE", what="cd inactive")


# ---------------------------------------------------------------------------- early success criteria


def test_early_success_criteria_end_a_rolling_deployment_before_it_completes(emulator, ecs):
    ecs.create_cluster(clusterName="prod")
    td1 = register(ecs, "web", "web:v1")
    make_service(ecs, "prod", "web", td1, 4, minimum=50, maximum=100)
    for cleanup, image in (("DEFERRED", "web:v2"), ("BLOCKING", "web:v3")):
        cfg = {"earlySuccessCriteria": {"enable": True, "healthyPercent": 50, "sourceServiceRevisionCleanup": cleanup}}
        svc = ecs.update_service(cluster="prod", service="web", taskDefinition=register(ecs, "web", image), deploymentConfiguration=cfg)["service"]
        assert svc["deploymentConfiguration"]["earlySuccessCriteria"] == cfg["earlySuccessCriteria"]
        arn, dep_id = svc["currentServiceDeployment"], svc["deployments"][0]["id"]
        d = sdep_status(ecs, arn, "SUCCESSFUL")
        assert d["statusReason"] == "Service deployment met its early success criteria."
        wait_for(lambda: stable(ecs, "prod", "web"), what="rollout finished in the background")
        tl = timeline(emulator)
        early = [e for e in tl if e["event"] == "early-success" and e["serviceDeployment"] == arn][0]
        completed = [e for e in tl if e["event"] == "completed" and e["deployment"] == dep_id][0]
        assert early["time"] < completed["time"], cleanup
        assert early["healthy"] == 2
        if cleanup == "DEFERRED":
            assert early["sourceTasksLeft"] > 0  # old tasks removed after success
        else:
            assert early["sourceTasksLeft"] == 0
        assert d["finishedAt"].timestamp() <= completed["time"] + 0.001
    for cfg in (
        {"strategy": "CANARY", "earlySuccessCriteria": {"enable": True, "healthyPercent": 50, "sourceServiceRevisionCleanup": "BLOCKING"}},
        {"earlySuccessCriteria": {"enable": True, "healthyPercent": 50}},
        {"minimumHealthyPercent": 75, "earlySuccessCriteria": {"enable": True, "healthyPercent": 50, "sourceServiceRevisionCleanup": "DEFERRED"}},
    ):
        with pytest.raises(ClientError) as e:
            ecs.update_service(cluster="prod", service="web", deploymentConfiguration=cfg)
        assert e.value.response["Error"]["Code"] == "InvalidParameterException", cfg
