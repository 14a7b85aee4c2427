"""ECS task definitions: register (whole container definitions round-trip,
AWS's defaults, validation), describe, list, families, deregister, delete."""
import json
import os
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from conftest import ROOT, error_code

FIXTURES = os.path.join(ROOT, "fixtures", "taskdefs")
ACCOUNT = "000000000000"


def raw_ecs(server, op, body):
    """A signed ECS call for operations newer than Debian's botocore and
    CLI (DeleteTaskDefinitions): returns (HTTP status, parsed body)."""
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=server.endpoint + "/", data=json.dumps(body).encode(),
        headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + op,
                 "Content-Type": "application/x-amz-json-1.1"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "ecs",
                            "us-east-1").add_auth(req)
    r = urllib.request.Request(req.url, data=req.body, method="POST", headers=dict(req.headers))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


def assert_subset(want, got, path="$"):
    """Everything the request said is in the answer, unchanged."""
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        for k, v in want.items():
            assert k in got, "%s.%s missing" % (path, k)
            assert_subset(v, got[k], "%s.%s" % (path, k))
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (w, g) in enumerate(zip(want, got)):
            assert_subset(w, g, "%s[%d]" % (path, i))
    else:
        assert want == got, "%s: %r != %r" % (path, want, got)


def container(name="app", **kw):
    c = {"name": name, "image": "busybox", "memory": 64}
    c.update(kw)
    return c


def register(ecs, family="fam", containers=None, **kw):
    return ecs.register_task_definition(
        family=family, containerDefinitions=containers or [container()], **kw)["taskDefinition"]


def client_error(ecs, **kw):
    with pytest.raises(ClientError) as e:
        ecs.register_task_definition(**kw)
    return error_code(e), message(e)


# ---- register: round trip and AWS's defaults ----

def test_register_full_fargate_fixture_with_cli_round_trips(aws, ecs):
    path = os.path.join(FIXTURES, "web-fargate.json")
    want = fixture("web-fargate.json")
    out = aws("ecs", "register-task-definition", "--cli-input-json", "file://" + path)
    td = out["taskDefinition"]
    assert td["taskDefinitionArn"] == "arn:aws:ecs:us-east-1:%s:task-definition/web-fargate:1" % ACCOUNT
    assert td["revision"] == 1 and td["status"] == "ACTIVE"
    assert out["tags"] == want["tags"]
    for key in ("family", "taskRoleArn", "executionRoleArn", "networkMode",
                "requiresCompatibilities", "cpu", "memory", "runtimePlatform",
                "ephemeralStorage", "volumes"):
        assert td[key] == want[key], key
    for w, g in zip(want["containerDefinitions"], td["containerDefinitions"]):
        assert_subset(w, g, w["name"])
    app, envoy, init = td["containerDefinitions"]
    # What AWS adds, and nothing else.
    assert envoy["cpu"] == 0 and init["essential"] is False
    assert envoy["portMappings"] == [{"containerPort": 9901, "hostPort": 9901, "protocol": "tcp"}]
    assert envoy["healthCheck"] == {
        "command": want["containerDefinitions"][1]["healthCheck"]["command"],
        "interval": 30, "timeout": 5, "retries": 3}
    assert envoy["environment"] == [] and envoy["mountPoints"] == [] and envoy["volumesFrom"] == []
    assert "links" not in envoy and "logConfiguration" in envoy
    assert set(app) - set(want["containerDefinitions"][0]) <= {"volumesFrom", "systemControls"}
    assert td["placementConstraints"] == []
    assert td["compatibilities"] == ["EC2", "FARGATE"]
    assert td["registeredBy"] == "arn:aws:iam::%s:root" % ACCOUNT
    assert "registeredAt" in td
    attrs = {a["name"] for a in td["requiresAttributes"]}
    assert {"ecs.capability.task-eni", "com.amazonaws.ecs.capability.logging-driver.awslogs",
            "ecs.capability.execution-role-awslogs", "com.amazonaws.ecs.capability.ecr-auth",
            "com.amazonaws.ecs.capability.task-iam-role", "ecs.capability.container-health-check",
            "ecs.capability.container-ordering",
            "ecs.capability.secrets.asm.environment-variables",
            "ecs.capability.secrets.ssm.environment-variables"} <= attrs

    # Describe answers the same document, with the tags only when asked.
    got = ecs.describe_task_definition(taskDefinition="web-fargate")
    assert "tags" not in got
    assert got["taskDefinition"]["containerDefinitions"] == td["containerDefinitions"]
    got = ecs.describe_task_definition(taskDefinition="web-fargate:1", include=["TAGS"])
    assert got["tags"] == want["tags"]


def test_register_bridge_fixture_keeps_bridge_semantics(aws, ecs):
    path = os.path.join(FIXTURES, "worker-bridge.json")
    want = fixture("worker-bridge.json")
    td = aws("ecs", "register-task-definition", "--cli-input-json", "file://" + path)["taskDefinition"]
    for w, g in zip(want["containerDefinitions"], td["containerDefinitions"]):
        assert_subset(w, g, w["name"])
    worker = td["containerDefinitions"][0]
    # No hostPort is invented in bridge mode: an absent one is dynamic.
    assert worker["portMappings"][0] == {"containerPort": 8000, "protocol": "tcp"}
    assert worker["portMappings"][1] == {"containerPort": 8001, "hostPort": 18001, "protocol": "udp"}
    assert td["placementConstraints"] == want["placementConstraints"]
    assert td["volumes"] == want["volumes"]
    assert td["compatibilities"] == ["EC2"]
    assert "requiresAttributes" not in td or all(
        a["name"] != "ecs.capability.task-eni" for a in td["requiresAttributes"])


def test_revisions_count_per_family(server, ecs):
    assert register(ecs, "a")["revision"] == 1
    assert register(ecs, "a")["revision"] == 2
    assert register(ecs, "b")["revision"] == 1
    assert register(ecs, "a")["revision"] == 3
    # Revisions are never reused, even after deletion.
    ecs.deregister_task_definition(taskDefinition="a:3")
    assert raw_ecs(server, "DeleteTaskDefinitions", {"taskDefinitions": ["a:3"]})[0] == 200
    assert register(ecs, "a")["revision"] == 4


def test_task_size_units_are_converted(ecs):
    td = register(ecs, containers=[{"name": "c", "image": "x"}],
                  cpu="0.25 vCPU", memory="0.5GB", networkMode="awsvpc",
                  requiresCompatibilities=["FARGATE"])
    assert td["cpu"] == "256" and td["memory"] == "512"
    td = register(ecs, cpu="1 vcpu", memory="2 GB")
    assert td["cpu"] == "1024" and td["memory"] == "2048"
    assert client_error(ecs, family="f", containerDefinitions=[container()], cpu="lots") == \
        ("ClientException", "Invalid 'cpu' setting for task.")


def test_empty_role_arn_from_ansible_is_accepted(ecs):
    td = register(ecs, taskRoleArn="", networkMode="bridge",
                  runtimePlatform={"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"})
    assert "taskRoleArn" not in td
    assert td["networkMode"] == "bridge"
    assert td["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}


def test_awsvpc_fills_host_port_and_host_mode_too(ecs):
    for mode in ("awsvpc", "host"):
        td = register(ecs, containers=[container(portMappings=[{"containerPort": 80}])],
                      networkMode=mode)
        assert td["containerDefinitions"][0]["portMappings"] == [
            {"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
    # Unset network mode means bridge and is not echoed.
    td = register(ecs)
    assert "networkMode" not in td


def test_fargate_compatibility_follows_the_task(ecs):
    td = register(ecs, networkMode="awsvpc", cpu="512", memory="1024")
    assert td["compatibilities"] == ["EC2", "FARGATE"]
    td = register(ecs, networkMode="awsvpc", cpu="512", memory="1000")
    assert td["compatibilities"] == ["EC2"]
    td = register(ecs, requiresCompatibilities=["EXTERNAL"])
    assert td["compatibilities"] == ["EC2", "EXTERNAL"]


# ---- register: validation ----

def test_fargate_validation_errors(ecs):
    fargate = dict(family="f", containerDefinitions=[container()], requiresCompatibilities=["FARGATE"])
    assert client_error(ecs, **fargate, cpu="256", memory="512") == \
        ("ClientException", "Fargate only supports network mode 'awsvpc'.")
    assert client_error(ecs, **fargate, networkMode="awsvpc", memory="512") == \
        ("ClientException", "Fargate requires that 'cpu' be defined at the task level.")
    assert client_error(ecs, **fargate, networkMode="awsvpc", cpu="256") == \
        ("ClientException", "Fargate requires that 'memory' be defined at the task level.")
    assert client_error(ecs, **fargate, networkMode="awsvpc", cpu="256", memory="4096") == \
        ("ClientException", "No Fargate configuration exists for given values: 256 CPU, "
         "4096 memory. See the Amazon ECS documentation for the valid values.")
    assert client_error(ecs, **fargate, networkMode="awsvpc", cpu="8192", memory="18432")[0] == \
        "ClientException"
    for cpu, mem in (("256", "512"), ("256", "2048"), ("512", "4096"), ("2048", "16384"),
                     ("4096", "30720"), ("8192", "61440"), ("16384", "122880")):
        ecs.register_task_definition(networkMode="awsvpc", cpu=cpu, memory=mem, **fargate)
    assert client_error(ecs, **fargate, networkMode="awsvpc", cpu="256", memory="512",
                        ephemeralStorage={"sizeInGiB": 20}) == \
        ("ClientException", "EphemeralStorage size should be at least 21")
    # Nothing was registered by the failed calls.
    arns = ecs.list_task_definitions(familyPrefix="f")["taskDefinitionArns"]
    assert len(arns) == 7


def test_family_validation(ecs):
    assert client_error(ecs, family="", containerDefinitions=[container()]) == \
        ("ClientException", "Family can not be blank.")
    assert client_error(ecs, family="bad family!", containerDefinitions=[container()]) == \
        ("ClientException", "Family contains invalid characters.")
    with pytest.raises(ClientError) as e:
        ecs.register_task_definition(family="x", containerDefinitions=[])
    assert (error_code(e), message(e)) == ("ClientException", "Container list cannot be empty.")


def test_container_validation(ecs):
    def err(containers, **kw):
        return client_error(ecs, family="f", containerDefinitions=containers, **kw)

    assert err([container(name="a")] * 2) == \
        ("ClientException", "Container names must be unique within a Task Definition.")
    assert err([container(name="a b")]) == \
        ("ClientException", "Container.name contains invalid characters.")
    assert err([{"image": "x", "memory": 6}]) == \
        ("ClientException", "Container.name should not be null or empty.")
    assert err([{"name": "a", "memory": 64}]) == \
        ("ClientException", "Container.image should not be null or empty.")
    assert err([container(name="c%d" % i) for i in range(11)]) == ("ClientException", "Too many containers.")
    assert err([{"name": "web", "image": "x"}]) == (
        "ClientException", "Invalid setting for container 'web'. At least one of 'memory' "
        "or 'memoryReservation' must be specified.")
    assert err([container(name="web", memory=512)], memory="256") == (
        "ClientException", "The 'memory' setting for container 'web' is greater than for the task.")
    assert err([container(name="web", memory=128, memoryReservation=256)])[0] == "ClientException"
    assert err([container(name="a", cpu=600), container(name="b", cpu=600)], cpu="1024") == (
        "ClientException", "The sum of all container 'cpu' values cannot be greater than the "
        "value of the task 'cpu'.")
    assert err([{"name": "a", "image": "x", "memoryReservation": 300},
                {"name": "b", "image": "x", "memoryReservation": 300}], memory="512") == (
        "ClientException", "The sum of all container 'memoryReservation' values cannot be "
        "greater than the value of the task 'memory'.")
    assert err([container(essential=False)])[0] == "ClientException"
    # With a task memory no container needs its own.
    td = register(ecs, containers=[{"name": "a", "image": "x"}], memory="512")
    assert "memory" not in td["containerDefinitions"][0]


def test_port_mappings_follow_the_network_mode(ecs):
    def err(pm, mode, **kw):
        return client_error(ecs, family="f", networkMode=mode,
                            containerDefinitions=[container(portMappings=[pm], **kw)])

    assert err({"containerPort": 80, "hostPort": 8080}, "awsvpc") == (
        "ClientException", "When networkMode=awsvpc, the host ports and container ports in "
        "port mappings must match.")
    assert err({"containerPort": 80, "hostPort": 8080}, "host") == (
        "ClientException", "When networkMode=host, the host ports and container ports in "
        "port mappings must match.")
    assert err({"containerPort": 80}, "none")[0] == "ClientException"
    assert err({"containerPort": 70000}, "bridge")[0] == "ClientException"
    assert client_error(ecs, family="f", networkMode="awsvpc", containerDefinitions=[
        container(name="a", links=["b"]), container(name="b")]) == \
        ("ClientException", "Links are not supported when networkMode=awsvpc")
    assert client_error(ecs, family="f", networkMode="awsvpc", containerDefinitions=[
        container(dnsServers=["10.0.0.2"])]) == \
        ("ClientException", "DNS servers are not supported on container when networkMode=awsvpc")
    # bridge: any host port, including 0 (dynamic).
    td = register(ecs, networkMode="bridge", containers=[
        container(portMappings=[{"containerPort": 80, "hostPort": 0}, {"containerPort": 81, "hostPort": 8081}])])
    assert [p["hostPort"] for p in td["containerDefinitions"][0]["portMappings"]] == [0, 8081]


def test_depends_on_and_health_check_validation(ecs):
    def err(containers):
        return client_error(ecs, family="f", containerDefinitions=containers)

    assert err([container(dependsOn=[{"containerName": "ghost", "condition": "START"}])]) == (
        "ClientException", "Cannot depend on container + 'ghost' because it does not exist")
    assert err([container(name="a", dependsOn=[{"containerName": "b", "condition": "SUCCESS"}]),
                container(name="b")]) == (
        "ClientException", "A dependency container with SUCCESS or COMPLETE condition cannot "
        "be an essential container")
    assert err([container(name="a", dependsOn=[{"containerName": "b", "condition": "HEALTHY"}]),
                container(name="b")])[0] == "ClientException"
    assert err([container(name="a", dependsOn=[{"containerName": "b", "condition": "START"}]),
                container(name="b", dependsOn=[{"containerName": "a", "condition": "START"}])])[0] == \
        "ClientException"
    hc = {"command": ["CMD", "true"], "interval": 4}
    assert err([container(healthCheck=hc)])[0] == "ClientException"
    hc = {"command": ["CMD", "true"], "retries": 11}
    assert err([container(healthCheck=hc)])[0] == "ClientException"
    td = register(ecs, containers=[container(healthCheck={"command": ["CMD", "true"], "startPeriod": 0})])
    assert td["containerDefinitions"][0]["healthCheck"] == {
        "command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}


def test_failed_register_changes_nothing(ecs):
    register(ecs, "keep")
    with pytest.raises(ClientError):
        ecs.register_task_definition(family="keep", containerDefinitions=[container(name="a b")])
    assert register(ecs, "keep")["revision"] == 2


# ---- describe ----

def test_describe_by_family_revision_and_arn(ecs):
    one = register(ecs, "svc")
    two = register(ecs, "svc")
    assert ecs.describe_task_definition(taskDefinition="svc")["taskDefinition"]["revision"] == 2
    assert ecs.describe_task_definition(taskDefinition="svc:1")["taskDefinition"] == one
    got = ecs.describe_task_definition(taskDefinition=two["taskDefinitionArn"])["taskDefinition"]
    assert got["revision"] == 2
    ecs.deregister_task_definition(taskDefinition="svc:2")
    # The family names its latest ACTIVE revision; an INACTIVE one is still describable.
    assert ecs.describe_task_definition(taskDefinition="svc")["taskDefinition"]["revision"] == 1
    assert ecs.describe_task_definition(taskDefinition="svc:2")["taskDefinition"]["status"] == "INACTIVE"


def test_describe_errors(ecs, aws):
    register(ecs, "svc")
    for ref in ("nope", "svc:9", "arn:aws:ecs:us-east-1:%s:task-definition/svc:9" % ACCOUNT):
        with pytest.raises(ClientError) as e:
            ecs.describe_task_definition(taskDefinition=ref)
        assert (error_code(e), message(e)) == ("ClientException", "Unable to describe task definition.")
    with pytest.raises(ClientError) as e:
        ecs.describe_task_definition(taskDefinition="svc:abc")
    assert (error_code(e), message(e)) == ("InvalidParameterException", "Invalid revision number. Number: abc")
    p = aws("ecs", "describe-task-definition", "--task-definition", "nope", check=False)
    assert p.returncode != 0
    assert "(ClientException)" in p.stderr and "Unable to describe task definition." in p.stderr


# ---- list ----

def test_list_task_definitions_family_status_sort_and_pages(ecs, aws):
    for fam in ("web", "web", "web-worker", "api", "web"):
        register(ecs, fam)
    ecs.deregister_task_definition(taskDefinition="web:2")
    arn = "arn:aws:ecs:us-east-1:%s:task-definition/%%s" % ACCOUNT
    everything = ecs.list_task_definitions()["taskDefinitionArns"]
    assert everything == [arn % r for r in ("api:1", "web:1", "web:3", "web-worker:1")]
    # familyPrefix is the whole family, not a prefix.
    assert ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"] == [arn % "web:1", arn % "web:3"]
    assert ecs.list_task_definitions(familyPrefix="web", sort="DESC")["taskDefinitionArns"] == \
        [arn % "web:3", arn % "web:1"]
    assert ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"] == [arn % "web:2"]
    assert ecs.list_task_definitions(sort="DESC")["taskDefinitionArns"] == everything[::-1]
    # Pages of two, in both orders.
    for order, want in (("ASC", everything), ("DESC", everything[::-1])):
        got, token = [], None
        while True:
            kw = {"nextToken": token} if token else {}
            page = ecs.list_task_definitions(sort=order, maxResults=2, **kw)
            assert len(page["taskDefinitionArns"]) <= 2
            got += page["taskDefinitionArns"]
            token = page.get("nextToken")
            if not token:
                break
        assert got == want
    pages = ecs.get_paginator("list_task_definitions").paginate(PaginationConfig={"PageSize": 1})
    assert [a for p in pages for a in p["taskDefinitionArns"]] == everything
    # The CLI pages through everything by itself.
    assert aws("ecs", "list-task-definitions", "--page-size", "1")["taskDefinitionArns"] == everything
    with pytest.raises(ClientError) as e:
        ecs.list_task_definitions(nextToken="garbage")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        ecs.list_task_definitions(maxResults=101)
    assert error_code(e) == "InvalidParameterException"


def test_list_families(server, ecs, aws):
    for fam in ("hpcc", "hpcc-c4", "node-app", "web"):
        register(ecs, fam)
    ecs.deregister_task_definition(taskDefinition="web:1")
    assert ecs.list_task_definition_families()["families"] == ["hpcc", "hpcc-c4", "node-app", "web"]
    assert ecs.list_task_definition_families(familyPrefix="hpcc")["families"] == ["hpcc", "hpcc-c4"]
    assert ecs.list_task_definition_families(status="ACTIVE")["families"] == ["hpcc", "hpcc-c4", "node-app"]
    assert ecs.list_task_definition_families(status="INACTIVE")["families"] == ["web"]
    assert ecs.list_task_definition_families(status="ALL")["families"] == ["hpcc", "hpcc-c4", "node-app", "web"]
    page = ecs.list_task_definition_families(maxResults=3)
    assert page["families"] == ["hpcc", "hpcc-c4", "node-app"]
    assert ecs.list_task_definition_families(nextToken=page["nextToken"])["families"] == ["web"]
    assert aws("ecs", "list-task-definition-families", "--family-prefix", "node")["families"] == ["node-app"]
    # A family whose revisions are all deleted is gone.
    assert raw_ecs(server, "DeleteTaskDefinitions", {"taskDefinitions": ["web:1"]})[0] == 200
    assert ecs.list_task_definition_families()["families"] == ["hpcc", "hpcc-c4", "node-app"]


# ---- deregister and delete ----

def test_deregister_then_delete(server, ecs, aws):
    register(ecs, "job")
    register(ecs, "job")
    td = ecs.deregister_task_definition(taskDefinition="job:1")["taskDefinition"]
    assert td["status"] == "INACTIVE" and "deregisteredAt" in td
    with pytest.raises(ClientError) as e:
        ecs.deregister_task_definition(taskDefinition="job:1")
    assert (error_code(e), message(e)) == ("ClientException", "TaskDefinition is inactive")
    with pytest.raises(ClientError) as e:
        ecs.deregister_task_definition(taskDefinition="job")
    assert error_code(e) == "ClientException"
    with pytest.raises(ClientError) as e:
        ecs.deregister_task_definition(taskDefinition="job:7")
    assert (error_code(e), message(e)) == ("ClientException", "Unable to describe task definition.")

    arn2 = "arn:aws:ecs:us-east-1:%s:task-definition/job:2" % ACCOUNT
    status, out = raw_ecs(server, "DeleteTaskDefinitions", {"taskDefinitions": ["job:1", arn2, "job:5"]})
    assert status == 200
    assert [t["revision"] for t in out["taskDefinitions"]] == [1]
    deleted = out["taskDefinitions"][0]
    assert deleted["status"] == "DELETE_IN_PROGRESS" and "deleteRequestedAt" in deleted
    reasons = {f["arn"]: f["reason"] for f in out["failures"]}
    assert set(reasons) == {arn2, "arn:aws:ecs:us-east-1:%s:task-definition/job:5" % ACCOUNT}
    assert "ACTIVE" in reasons[arn2]
    assert ecs.list_task_definitions(status="DELETE_IN_PROGRESS")["taskDefinitionArns"] == \
        ["arn:aws:ecs:us-east-1:%s:task-definition/job:1" % ACCOUNT]
    assert ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"] == []
    got = ecs.describe_task_definition(taskDefinition="job:1")["taskDefinition"]
    assert got["status"] == "DELETE_IN_PROGRESS"
    # The CLI deregisters by ARN as Terraform does.
    out = aws("ecs", "deregister-task-definition", "--task-definition", arn2)
    assert out["taskDefinition"]["status"] == "INACTIVE"
    status, out = raw_ecs(server, "DeleteTaskDefinitions", {"taskDefinitions": [arn2]})
    assert out["failures"] == [] and out["taskDefinitions"][0]["status"] == "DELETE_IN_PROGRESS"
    assert isinstance(out["taskDefinitions"][0]["deleteRequestedAt"], (int, float))
    status, out = raw_ecs(server, "DeleteTaskDefinitions", {"taskDefinitions": ["job:%d" % i for i in range(11)]})
    assert (status, out["__type"]) == (400, "InvalidParameterException")


def test_task_definitions_survive_restart(make_server):
    s = make_server()
    ecs = s.client("ecs")
    td = register(ecs, "durable", tags=[{"key": "k", "value": "v"}])
    s.kill9()
    s.start()
    ecs = s.client("ecs")
    got = ecs.describe_task_definition(taskDefinition="durable", include=["TAGS"])
    assert got["taskDefinition"] == td and got["tags"] == [{"key": "k", "value": "v"}]
    assert register(ecs, "durable")["revision"] == 2


def test_task_definitions_are_per_account_and_region(server, ecs):
    register(ecs, "mine")
    other = server.client("ecs", account="111122223333")
    with pytest.raises(ClientError):
        other.describe_task_definition(taskDefinition="mine")
    assert other.list_task_definitions()["taskDefinitionArns"] == []
    west = server.client("ecs", region="us-west-2")
    assert west.list_task_definition_families()["families"] == []
    td = register(west, "mine")
    assert td["taskDefinitionArn"].startswith("arn:aws:ecs:us-west-2:%s:" % ACCOUNT)
