"""Tests of fault_proxy.py in front of the real emulator (which runs moto): no mocks.

Run: .venv/bin/pytest harness/   (the fixture starts an emulator and the proxy)
"""

import os
import socket
import sys
import tempfile
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from test_emulator import start_process, stop_process

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def upstream():
    logdir = tempfile.mkdtemp(prefix="fault-proxy-test-")
    proc, url, err = start_process(
        [sys.executable, os.path.join(HERE, "ecs_emulator.py"), "--port", "0", "--time-scale", "0.2"],
        os.path.join(logdir, "emulator.log"),
    )
    yield url
    stop_process(proc, err)


@pytest.fixture(scope="module")
def proxy_process(upstream):
    logdir = tempfile.mkdtemp(prefix="fault-proxy-test-")
    proc, url, err = start_process(
        [sys.executable, os.path.join(HERE, "fault_proxy.py"), "--upstream", upstream, "--port", "0"],
        os.path.join(logdir, "proxy.log"),
        timeout=30,
    )
    yield proc, url
    assert stop_process(proc, err) == 0


@pytest.fixture
def proxy(proxy_process, upstream):
    url = proxy_process[1]
    assert requests.post(url + "/_proxy/reset", timeout=10).status_code == 200
    assert requests.post(upstream + "/_emulator/reset", timeout=30).status_code == 200
    return url


def ecs_client(url, attempts=1, read_timeout=10):
    cfg = Config(retries={"mode": "standard", "total_max_attempts": attempts}, read_timeout=read_timeout, connect_timeout=5)
    return boto3.client(
        "ecs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


def open_window(url, *specs):
    r = requests.post(url + "/_proxy/faults", json=list(specs), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["windows"]


def log(url):
    return requests.get(url + "/_proxy/log", timeout=10).json()


def raw_request(url, action, body=b"{}"):
    """A socket with one ECS request sent on it (read the answer yourself)."""
    host, port = url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
        b"X-Amz-Target: AmazonEC2ContainerServiceV20141113." + action.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    return s


def test_passes_everything_through_and_logs_it(proxy):
    ecs = ecs_client(proxy)
    ecs.create_cluster(clusterName="p")
    assert ecs.list_clusters()["clusterArns"][0].endswith(":cluster/p")
    entries = log(proxy)
    assert [(e["action"], e["did"], e["status"], e["forwarded"]) for e in entries] == [
        ("CreateCluster", "forward", 200, True),
        ("ListClusters", "forward", 200, True),
    ]
    assert all(e["time"] <= e["ended"] for e in entries)


def test_throttle_window_by_count_is_per_action_and_then_clears(proxy):
    ecs = ecs_client(proxy)
    ecs.create_cluster(clusterName="p")
    open_window(proxy, {"action": "DescribeServices", "kind": "throttle", "count": 2})
    # another action is not affected
    ecs.list_services(cluster="p")
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            ecs.describe_services(cluster="p", services=["nope"])
        err = e.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert ecs.describe_services(cluster="p", services=["nope"])["failures"][0]["reason"] == "MISSING"
    did = [(e["action"], e["did"]) for e in log(proxy)[1:]]
    assert did == [
        ("ListServices", "forward"),
        ("DescribeServices", "throttle"),
        ("DescribeServices", "throttle"),
        ("DescribeServices", "forward"),
    ]
    assert requests.get(proxy + "/_proxy/faults", timeout=10).json() == []


def test_throttle_body_is_the_json_protocol_error(proxy):
    open_window(proxy, {"action": "*", "kind": "throttle", "count": 1})
    r = requests.post(
        proxy + "/",
        data=b"{}",
        headers={"X-Amz-Target": "AnyScaleFrontendService.RegisterScalableTarget", "Content-Type": "application/x-amz-json-1.1"},
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json() == {"__type": "ThrottlingException", "message": "Rate exceeded"}
    assert r.headers["x-amzn-ErrorType"] == "ThrottlingException"
    assert log(proxy)[0]["action"] == "RegisterScalableTarget"


def test_timed_window_then_sdk_retries_get_through(proxy):
    ecs = ecs_client(proxy)
    ecs.create_cluster(clusterName="p")
    open_window(proxy, {"action": "ListServices", "kind": "error", "status": 503, "seconds": 0.6})
    with pytest.raises(ClientError) as e:
        ecs.list_services(cluster="p")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert e.value.response["Error"]["Code"] == "ServiceUnavailable"
    # a retrying client keeps trying through the window and succeeds once it closes
    retrying = ecs_client(proxy, attempts=10)
    assert retrying.list_services(cluster="p")["serviceArns"] == []
    kinds = [e["did"] for e in log(proxy) if e["action"] == "ListServices"]
    assert kinds[-1] == "forward" and "error" in kinds


def test_control_endpoint_paths_are_never_faulted(proxy, upstream):
    open_window(proxy, {"action": "*", "kind": "reset", "seconds": 5})
    assert requests.get(proxy + "/_emulator/health", timeout=10).json()["ok"] is True
    assert requests.get(proxy + "/_proxy/health", timeout=10).json() == {"ok": True, "upstream": upstream}


def test_reset_closes_the_connection_with_rst(proxy):
    open_window(proxy, {"action": "ListClusters", "kind": "reset", "count": 1})
    s = raw_request(proxy, "ListClusters")
    with pytest.raises(ConnectionResetError):
        s.recv(100)
    s.close()
    assert ecs_client(proxy).list_clusters()["clusterArns"] == []  # the window is spent
    assert [e["did"] for e in log(proxy)] == ["reset", "forward"]


def test_reset_is_seen_by_an_sdk_client(proxy):
    open_window(proxy, {"action": "ListClusters", "kind": "reset", "count": 1})
    with pytest.raises(ConnectionClosedError):
        ecs_client(proxy).list_clusters()


def test_blackhole_holds_until_the_client_gives_up_and_serves_others(proxy):
    ecs = ecs_client(proxy)
    ecs.create_cluster(clusterName="p")
    open_window(proxy, {"action": "ListServices", "kind": "blackhole", "count": 1})
    held = raw_request(proxy, "ListServices", b'{"cluster": "p"}')
    held.settimeout(0.5)
    with pytest.raises(socket.timeout):
        held.recv(100)
    # meanwhile other requests (even on other connections) are served
    assert ecs.list_clusters()["clusterArns"]
    entry = [e for e in log(proxy) if e["did"] == "blackhole"][0]
    assert entry["ended"] is None
    held.close()
    deadline = time.time() + 5
    while time.time() < deadline:
        entry = [e for e in log(proxy) if e["did"] == "blackhole"][0]
        if entry["ended"] is not None:
            break
        time.sleep(0.05)
    assert entry["released"] == "client-closed"
    assert entry["forwarded"] is False


def test_blackhole_sdk_times_out_and_window_end_drops_the_connection(proxy):
    ecs = ecs_client(proxy, read_timeout=0.5)
    open_window(proxy, {"action": "ListClusters", "kind": "blackhole", "seconds": 1.5})
    t0 = time.time()
    with pytest.raises(ReadTimeoutError):
        ecs.list_clusters()
    assert time.time() - t0 < 1.4
    held = raw_request(proxy, "ListClusters")
    held.settimeout(5)
    t1 = time.time()
    with pytest.raises(ConnectionResetError):
        held.recv(100)  # closed (RST) without an answer when the window ends
    assert 0.3 < time.time() - t1 < 2.5
    released = [e.get("released") for e in log(proxy)]
    assert released == ["client-closed", "window-closed"]
    assert ecs.list_clusters()["clusterArns"] == []


def test_forward_then_fail_applies_the_change(proxy):
    ecs = ecs_client(proxy)
    open_window(
        proxy,
        {"action": "CreateCluster", "kind": "error", "status": 500, "count": 1, "after_forward": True},
        {"action": "DeleteCluster", "kind": "reset", "count": 1, "after_forward": True},
    )
    with pytest.raises(ClientError) as e:
        ecs.create_cluster(clusterName="maybe")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert ecs.list_clusters()["clusterArns"] == ["arn:aws:ecs:us-east-1:123456789012:cluster/maybe"]
    with pytest.raises(ConnectionClosedError):
        ecs.delete_cluster(cluster="maybe")
    assert ecs.describe_clusters(clusters=["maybe"])["clusters"][0]["status"] == "INACTIVE"
    entries = log(proxy)
    assert [(e["action"], e["did"], e["forwarded"], e.get("upstream_status")) for e in entries] == [
        ("CreateCluster", "error", True, 200),
        ("ListClusters", "forward", True, 200),
        ("DeleteCluster", "reset", True, 200),
        ("DescribeClusters", "forward", True, 200),
    ]


def test_bad_specs_are_refused_and_reset_clears(proxy):
    for spec in (
        {"action": "X", "kind": "nope", "count": 1},
        {"action": "X", "kind": "throttle"},
        {"action": "X", "kind": "throttle", "count": 1, "after_forward": True},
        {"action": "X", "kind": "error", "seconds": -1},
    ):
        assert requests.post(proxy + "/_proxy/faults", json=spec, timeout=10).status_code == 400
    open_window(proxy, {"action": "X", "kind": "error", "seconds": 60})
    assert len(requests.get(proxy + "/_proxy/faults", timeout=10).json()) == 1
    assert requests.delete(proxy + "/_proxy/faults", timeout=10).json() == {"windows": []}
    assert requests.get(proxy + "/_proxy/faults", timeout=10).json() == []
