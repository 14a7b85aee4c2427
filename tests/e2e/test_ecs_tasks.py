"""ECS tasks that really run: lifecycle, exit codes, logs, dependencies,
health checks, metadata, calls back into ecslocal, stop, recovery."""
import json
import os
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import BIN, error_code, processes_with, wait_for


def register(ecs, family, containers, **kw):
    return ecs.register_task_definition(family=family, containerDefinitions=containers,
                                        **kw)["taskDefinition"]


def describe(ecs, arn, cluster="default"):
    return ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]


def wait_status(ecs, arn, status, cluster="default", timeout=60):
    return wait_for(lambda: (lambda t: t if t["lastStatus"] == status else None)(
        describe(ecs, arn, cluster)), timeout=timeout, what="task %s" % status)


@pytest.fixture
def cluster(ecs):
    ecs.create_cluster(clusterName="default")
    return "default"


def test_exit_code_reason_and_log_line(server, ecs, cluster):
    register(ecs, "hi", [{"name": "main", "image": "busybox", "memory": 64,
                          "command": ["sh", "-c", "echo hi; exit 3"]}])
    run = ecs.run_task(cluster=cluster, taskDefinition="hi")
    assert run["failures"] == []
    task = run["tasks"][0]
    assert task["lastStatus"] == "PROVISIONING"
    assert task["desiredStatus"] == "RUNNING"
    assert task["launchType"] == "EC2"
    assert task["containerInstanceArn"].startswith("arn:aws:ecs:us-east-1:000000000000:container-instance/default/")
    stopped = wait_status(ecs, task["taskArn"], "STOPPED")
    c = stopped["containers"][0]
    assert c["exitCode"] == 3
    assert c["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["desiredStatus"] == "STOPPED"
    for ts in ("createdAt", "pullStartedAt", "stoppingAt", "stoppedAt", "executionStoppedAt"):
        assert ts in stopped, ts
    logs = subprocess.run([BIN, "logs", "--endpoint", server.endpoint, task["taskArn"], "main"],
                          capture_output=True, text=True, timeout=30)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["hi"]
    # The CLI waiter agrees.
    server.aws("ecs", "wait", "tasks-stopped", "--cluster", cluster, "--tasks", task["taskArn"])


def test_awslogs_driver_writes_to_cloudwatch_logs(server, ecs, cluster):
    logs = server.client("logs")
    register(ecs, "logger", [{
        "name": "app", "image": "busybox", "memory": 64,
        "command": ["sh", "-c", "echo first; echo second"],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/logger", "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "web", "awslogs-create-group": "true"}}}])
    task = ecs.run_task(cluster=cluster, taskDefinition="logger")["tasks"][0]
    task_id = task["taskArn"].rsplit("/", 1)[1]
    wait_status(ecs, task["taskArn"], "STOPPED")
    stream = "web/app/" + task_id
    events = logs.get_log_events(logGroupName="/ecs/logger", logStreamName=stream,
                                 startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["first", "second"]


def test_command_that_cannot_start(ecs, cluster):
    register(ecs, "broken", [{"name": "main", "image": "busybox", "memory": 64,
                              "command": ["/nonexistent/program-%s" % uuid.uuid4().hex]}])
    task = ecs.run_task(cluster=cluster, taskDefinition="broken")["tasks"][0]
    stopped = wait_status(ecs, task["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "TaskFailedToStart"
    reason = stopped["containers"][0]["reason"]
    assert reason.startswith("CannotStartContainerError"), reason
    assert "exitCode" not in stopped["containers"][0]


def test_depends_on_and_health_check(ecs, cluster, server):
    marker = uuid.uuid4().hex
    register(ecs, "deps", [
        {"name": "db", "image": "busybox", "memory": 64, "essential": True,
         "command": ["sh", "-c", "sleep 300 # db-%s" % marker],
         "healthCheck": {"command": ["CMD-SHELL", "exit 0"], "interval": 5,
                         "timeout": 2, "retries": 1, "startPeriod": 0}},
        {"name": "app", "image": "busybox", "memory": 64,
         "command": ["sh", "-c", "sleep 300 # app-%s" % marker],
         "dependsOn": [{"containerName": "db", "condition": "HEALTHY"}]},
    ])
    task = ecs.run_task(cluster=cluster, taskDefinition="deps")["tasks"][0]
    running = wait_status(ecs, task["taskArn"], "RUNNING", timeout=60)
    by_name = {c["name"]: c for c in running["containers"]}
    assert by_name["db"]["healthStatus"] == "HEALTHY"
    assert by_name["app"]["lastStatus"] == "RUNNING"
    assert running["healthStatus"] == "HEALTHY"
    server.aws("ecs", "wait", "tasks-running", "--cluster", cluster, "--tasks", task["taskArn"])
    ecs.stop_task(cluster=cluster, task=task["taskArn"], reason="done here")
    stopped = wait_status(ecs, task["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "done here"
    assert processes_with(marker) == []


def test_stop_sends_sigterm_then_sigkill(ecs, cluster):
    marker = uuid.uuid4().hex
    register(ecs, "stubborn", [{"name": "main", "image": "busybox", "memory": 64,
                                "stopTimeout": 2,
                                "command": ["sh", "-c", "trap '' TERM; while :; do sleep 1; done # %s" % marker]}])
    task = ecs.run_task(cluster=cluster, taskDefinition="stubborn")["tasks"][0]
    wait_status(ecs, task["taskArn"], "RUNNING")
    ecs.stop_task(cluster=cluster, task=task["taskArn"])
    stopped = wait_status(ecs, task["taskArn"], "STOPPED", timeout=30)
    assert stopped["containers"][0]["exitCode"] == 137
    assert stopped["stopCode"] == "UserInitiated"
    assert processes_with(marker) == []


def test_task_reads_metadata_and_calls_ecs_from_inside(server, ecs, cluster):
    script = r"""
import json, os, subprocess, urllib.request
md = json.load(urllib.request.urlopen(os.environ["ECS_CONTAINER_METADATA_URI_V4"] + "/task"))
me = json.load(urllib.request.urlopen(os.environ["ECS_CONTAINER_METADATA_URI_V4"]))
out = subprocess.run(["/usr/bin/aws", "--endpoint-url", os.environ["AWS_ENDPOINT_URL"],
                      "ecs", "describe-tasks", "--cluster", md["Cluster"],
                      "--tasks", md["TaskARN"], "--output", "json"],
                     capture_output=True, text=True, env=dict(os.environ, AWS_PAGER=""))
described = json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr}
print(json.dumps({"task": md, "container": me, "described": described,
                  "region": os.environ.get("AWS_REGION"),
                  "execution_env": os.environ.get("AWS_EXECUTION_ENV")}))
"""
    register(ecs, "inside", [{
        "name": "probe", "image": "python", "memory": 128,
        "command": ["python3", "-c", script]}])
    task = ecs.run_task(cluster=cluster, taskDefinition="inside")["tasks"][0]
    stopped = wait_status(ecs, task["taskArn"], "STOPPED", timeout=90)
    assert stopped["containers"][0]["exitCode"] == 0, stopped["containers"][0]
    out = subprocess.run([BIN, "logs", "--endpoint", server.endpoint, task["taskArn"], "probe"],
                         capture_output=True, text=True, timeout=30).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["task"]["TaskARN"] == task["taskArn"]
    assert doc["task"]["Cluster"] == "default"
    assert doc["task"]["Family"] == "inside"
    assert doc["task"]["Revision"] == "1"
    assert doc["container"]["Name"] == "probe"
    assert doc["container"]["Labels"]["com.amazonaws.ecs.task-arn"] == task["taskArn"]
    assert doc["described"]["tasks"][0]["taskArn"] == task["taskArn"]
    assert doc["region"] == "us-east-1"
    assert doc["execution_env"] == "AWS_ECS_EC2"


def test_describe_and_list_tasks(ecs, cluster):
    register(ecs, "sleeper", [{"name": "main", "image": "busybox", "memory": 64,
                               "command": ["sleep", "300"]}])
    run = ecs.run_task(cluster=cluster, taskDefinition="sleeper", count=2,
                       startedBy="tester", tags=[{"key": "k", "value": "v"}])
    arns = [t["taskArn"] for t in run["tasks"]]
    assert len(arns) == 2
    for a in arns:
        wait_status(ecs, a, "RUNNING")
    listed = ecs.list_tasks(cluster=cluster)["taskArns"]
    assert sorted(listed) == sorted(arns)
    assert sorted(ecs.list_tasks(cluster=cluster, family="sleeper")["taskArns"]) == sorted(arns)
    assert ecs.list_tasks(cluster=cluster, startedBy="nobody")["taskArns"] == []
    page = ecs.list_tasks(cluster=cluster, maxResults=1)
    assert len(page["taskArns"]) == 1 and "nextToken" in page
    rest = ecs.list_tasks(cluster=cluster, maxResults=1, nextToken=page["nextToken"])
    assert sorted(page["taskArns"] + rest["taskArns"]) == sorted(arns)
    got = ecs.describe_tasks(cluster=cluster, tasks=arns + ["0" * 32], include=["TAGS"])
    assert len(got["tasks"]) == 2
    assert got["failures"][0]["reason"] == "MISSING"
    assert got["tasks"][0]["tags"] == [{"key": "k", "value": "v"}]
    assert got["tasks"][0]["group"] == "family:sleeper"
    assert got["tasks"][0]["startedBy"] == "tester"
    for a in arns:
        ecs.stop_task(cluster=cluster, task=a)
    for a in arns:
        wait_status(ecs, a, "STOPPED")
    assert ecs.list_tasks(cluster=cluster)["taskArns"] == []
    assert sorted(ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]) == sorted(arns)


def test_run_task_errors(ecs, cluster):
    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster="nope", taskDefinition="x")
    assert error_code(e) == "ClusterNotFoundException"
    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster=cluster, taskDefinition="missing")
    assert error_code(e) == "ClientException"
    register(ecs, "vpc", [{"name": "m", "image": "x", "memory": 64}], networkMode="awsvpc")
    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster=cluster, taskDefinition="vpc")
    assert error_code(e) == "InvalidParameterException"
    assert "Network Configuration must be provided" in str(e.value)
    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster=cluster, taskDefinition="vpc", count=11,
                     networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-0"]}})
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        ecs.run_task(cluster=cluster, taskDefinition="vpc",
                     networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-0123456789abcdef0"]}})
    assert error_code(e) == "InvalidParameterException"
    assert "InvalidSubnetID.NotFound" in str(e.value)
    with pytest.raises(ClientError) as e:
        ecs.stop_task(cluster=cluster, task="0" * 32)
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        ecs.describe_tasks(cluster=cluster, tasks=[])
    assert error_code(e) == "InvalidParameterException"
    # Nothing was created by the failed calls.
    assert ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"] == []


def test_fargate_awsvpc_task_gets_an_eni(server, ecs, ec2, cluster):
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]
    register(ecs, "web", [{"name": "web", "image": "nginx", "portMappings": [{"containerPort": 8080}]}],
             networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
    task = ecs.run_task(cluster=cluster, taskDefinition="web", launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet["SubnetId"]]}})["tasks"][0]
    att = task["attachments"][0]
    assert att["type"] == "ElasticNetworkInterface"
    details = {d["name"]: d["value"] for d in att["details"]}
    assert set(details) == {"subnetId", "networkInterfaceId", "macAddress", "privateDnsName",
                            "privateIPv4Address"}
    assert details["subnetId"] == subnet["SubnetId"]
    assert details["privateIPv4Address"].startswith("10.20.1.")
    assert details["privateDnsName"] == "ip-%s.ec2.internal" % details["privateIPv4Address"].replace(".", "-")
    assert task["containers"][0]["networkInterfaces"] == [
        {"attachmentId": att["id"], "privateIpv4Address": details["privateIPv4Address"]}]
    assert task["platformVersion"] == "1.4.0"
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[details["networkInterfaceId"]])["NetworkInterfaces"][0]
    assert eni["PrivateIpAddress"] == details["privateIPv4Address"]
    assert eni["MacAddress"] == details["macAddress"]
    assert eni["Status"] == "in-use"
    assert eni["RequesterManaged"] is True
    wait_status(ecs, task["taskArn"], "RUNNING")
    ecs.stop_task(cluster=cluster, task=task["taskArn"])
    stopped = wait_status(ecs, task["taskArn"], "STOPPED")
    assert stopped["attachments"][0]["status"] == "DELETED"
    with pytest.raises(ClientError) as e:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[details["networkInterfaceId"]])
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"


def test_restart_and_kill9_keep_tasks(make_server):
    s = make_server()
    ecs = s.client("ecs")
    ecs.create_cluster(clusterName="default")
    marker = uuid.uuid4().hex
    short_marker = uuid.uuid4().hex
    register(ecs, "long", [{"name": "main", "image": "busybox", "memory": 64,
                            "command": ["sh", "-c", "sleep 300 # %s" % marker]}])
    register(ecs, "short", [{"name": "main", "image": "busybox", "memory": 64,
                             "command": ["sh", "-c", "sleep 2; exit 7 # %s" % short_marker]}])
    long_arn = ecs.run_task(taskDefinition="long")["tasks"][0]["taskArn"]
    short_arn = ecs.run_task(taskDefinition="short")["tasks"][0]["taskArn"]
    wait_status(ecs, long_arn, "RUNNING")
    wait_status(ecs, short_arn, "RUNNING")
    pids = processes_with(marker)
    assert pids
    s.kill9()
    # The task outlives the daemon; the short one exits meanwhile.
    assert processes_with(marker) == pids
    # The short task exits while no daemon runs.
    wait_for(lambda: not processes_with(short_marker), what="the short task to exit")
    s.start()
    ecs = s.client("ecs")
    assert describe(ecs, long_arn)["lastStatus"] == "RUNNING"
    stopped = wait_status(ecs, short_arn, "STOPPED")
    assert stopped["containers"][0]["exitCode"] == 7
    ecs.stop_task(task=long_arn)
    wait_status(ecs, long_arn, "STOPPED")
    assert processes_with(marker) == []
    s.reset()


def _health(server):
    import urllib.request
    with urllib.request.urlopen(server.endpoint + "/_ecslocal/health", timeout=10) as r:
        return json.loads(r.read())


def test_networking_off_still_runs_tasks(make_server):
    s = make_server(persistent=False, extra=["--networking", "off"])
    health = _health(s)
    assert health["networking"] == "off"
    assert "--networking off" in health["networking_reason"]
    ecs = s.client("ecs")
    ecs.create_cluster(clusterName="default")
    register(ecs, "plain", [{"name": "main", "image": "busybox", "memory": 64,
                             "command": ["sh", "-c", "echo ran; exit 4"]}])
    task = ecs.run_task(taskDefinition="plain")["tasks"][0]
    stopped = wait_status(ecs, task["taskArn"], "STOPPED")
    assert stopped["containers"][0]["exitCode"] == 4


def test_unprivileged_server_serves_everything_without_namespaces():
    """As an ordinary user, ecslocal serves every API and runs tasks with
    no network of their own, and says so."""
    import shutil
    import tempfile
    from conftest import Server
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    top = tempfile.mkdtemp(prefix="ecslocal-unprivileged-")
    os.chmod(top, 0o755)
    data = os.path.join(top, "data")
    os.mkdir(data)
    os.chown(data, 65534, 65534)
    s = Server(data_dir=data)
    s.prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"]
    s.start()
    try:
        health = _health(s)
        assert health["networking"] == "off"
        assert "root" in health["networking_reason"]
        ecs = s.client("ecs")
        ec2 = s.client("ec2")
        assert ec2.describe_vpcs()["Vpcs"]
        ecs.create_cluster(clusterName="default")
        register(ecs, "plain", [{"name": "main", "image": "busybox", "memory": 64,
                                 "command": ["sh", "-c", "id -u; exit 5"]}])
        task = ecs.run_task(taskDefinition="plain")["tasks"][0]
        stopped = wait_status(ecs, task["taskArn"], "STOPPED")
        assert stopped["containers"][0]["exitCode"] == 5
        out = subprocess.run([BIN, "logs", "--endpoint", s.endpoint, task["taskArn"], "main"],
                             capture_output=True, text=True, timeout=30).stdout
        assert out.strip() == "65534"
    finally:
        s.reset()
        s.stop()
        s.discard_log()
        shutil.rmtree(top, ignore_errors=True)
