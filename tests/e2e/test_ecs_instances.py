"""ECS container instances end to end: registration (with and without an
instance identity document), Describe/List, registered and remaining
resources that follow the tasks placed on an instance, placement failures,
StartTask on a chosen instance, draining (service tasks move to another
ACTIVE instance), deregistration and DeleteCluster refusals, DAEMON
services."""
import json
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import error_code
from test_ecs_services import (check_task_events, events, fails, is_stable, processes_with, register,
                               sample_rollout, check_rollout, service, service_tasks,
                               sleeper, wait_for, wait_stable, wait_task_status,
                               wait_no_processes)

CI_ARN = r"^arn:aws:ecs:us-east-1:000000000000:container-instance/%s/[0-9a-f]{32}$"
AGENT_PORTS = {"22", "2376", "2375", "51678", "51679"}


def resources(inst, which):
    out = {}
    for r in inst[which]:
        if r["type"] == "INTEGER":
            out[r["name"]] = r["integerValue"]
        else:
            out[r["name"]] = set(r.get("stringSetValue", []))
    return out


def attrs(inst):
    return {a["name"]: a.get("value") for a in inst["attributes"]}


def describe_ci(ecs, cluster, arn):
    return ecs.describe_container_instances(cluster=cluster,
                                            containerInstances=[arn])["containerInstances"][0]


def small(cpu, memory):
    return [{"name": "CPU", "type": "INTEGER", "integerValue": cpu},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": memory}]


def test_register_without_identity_document(ecs, ec2):
    ecs.create_cluster(clusterName="reg")
    ci = ecs.register_container_instance(
        cluster="reg", attributes=[{"name": "stack", "value": "prod"}],
        tags=[{"key": "owner", "value": "me"}])["containerInstance"]
    assert re.match(CI_ARN % "reg", ci["containerInstanceArn"]), ci["containerInstanceArn"]
    assert ci["status"] == "ACTIVE"
    assert ci["agentConnected"] is True
    assert ci["runningTasksCount"] == 0 and ci["pendingTasksCount"] == 0
    iid = ci["ec2InstanceId"]
    assert iid.startswith("i-")
    reg = resources(ci, "registeredResources")
    assert reg["CPU"] > 0 and reg["MEMORY"] > 0
    assert reg["PORTS"] == AGENT_PORTS
    assert resources(ci, "remainingResources") == reg
    a = attrs(ci)
    assert a["stack"] == "prod"
    assert a["ecs.os-type"] == "linux"
    assert "ecs.capability.task-eni" in a
    assert a["ecs.instance-type"]
    # ecslocal made the EC2 instance: it is visible on the EC2 side.
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["State"]["Name"] == "running"
    assert inst["InstanceType"] == a["ecs.instance-type"]
    assert a["ecs.availability-zone"] == inst["Placement"]["AvailabilityZone"]
    got = ecs.describe_container_instances(cluster="reg", containerInstances=[ci["containerInstanceArn"]],
                                           include=["TAGS"])["containerInstances"][0]
    assert got["tags"] == [{"key": "owner", "value": "me"}]
    assert got["ec2InstanceId"] == iid


def test_register_with_identity_document(ecs, ec2):
    ecs.create_cluster(clusterName="ident")
    inst = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                             InstanceType="t3.large")["Instances"][0]
    doc = json.dumps({"instanceId": inst["InstanceId"], "instanceType": "t3.large",
                      "region": "us-east-1", "accountId": "000000000000",
                      "availabilityZone": inst["Placement"]["AvailabilityZone"],
                      "imageId": "ami-0123456789abcdef0"})
    ci = ecs.register_container_instance(cluster="ident", instanceIdentityDocument=doc,
                                         instanceIdentityDocumentSignature="")["containerInstance"]
    assert ci["ec2InstanceId"] == inst["InstanceId"]
    a = attrs(ci)
    assert a["ecs.instance-type"] == "t3.large"
    assert a["ecs.ami-id"] == "ami-0123456789abcdef0"
    assert a["ecs.availability-zone"] == inst["Placement"]["AvailabilityZone"]
    assert a["ecs.subnet-id"] == inst["SubnetId"]
    assert a["ecs.vpc-id"] == inst["VpcId"]
    # totalResources overrides what the instance type offers.
    inst2 = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                              InstanceType="m5.large")["Instances"][0]
    doc2 = json.dumps({"instanceId": inst2["InstanceId"], "region": "us-east-1"})
    ci2 = ecs.register_container_instance(cluster="ident", instanceIdentityDocument=doc2,
                                          totalResources=small(1024, 777))["containerInstance"]
    assert ci2["ec2InstanceId"] == inst2["InstanceId"]
    assert attrs(ci2)["ecs.instance-type"] == "m5.large"
    reg = resources(ci2, "registeredResources")
    assert reg["CPU"] == 1024 and reg["MEMORY"] == 777
    # An identity document that names no instance.
    bad = json.dumps({"instanceId": "i-0000000000000dead", "region": "us-east-1"})
    with pytest.raises(ClientError) as e:
        ecs.register_container_instance(cluster="ident", instanceIdentityDocument=bad)
    assert error_code(e) in ("InvalidParameterException", "ClientException")
    with pytest.raises(ClientError) as e:
        ecs.register_container_instance(cluster="ident", instanceIdentityDocument="not json")
    assert error_code(e) in ("InvalidParameterException", "ClientException")
    assert len(ecs.list_container_instances(cluster="ident")["containerInstanceArns"]) == 2
    with pytest.raises(ClientError) as e:
        ecs.register_container_instance(cluster="nope")
    assert error_code(e) == "ClusterNotFoundException"


def test_describe_and_list(server, ecs):
    ecs.create_cluster(clusterName="lst")
    arns = sorted(ecs.register_container_instance(cluster="lst")["containerInstance"]
                  ["containerInstanceArn"] for _ in range(3))
    assert sorted(ecs.list_container_instances(cluster="lst")["containerInstanceArns"]) == arns
    page = ecs.list_container_instances(cluster="lst", maxResults=2)
    assert len(page["containerInstanceArns"]) == 2 and page.get("nextToken")
    rest = ecs.list_container_instances(cluster="lst", maxResults=2, nextToken=page["nextToken"])
    assert "nextToken" not in rest
    assert sorted(page["containerInstanceArns"] + rest["containerInstanceArns"]) == arns

    drained = server.aws("ecs", "update-container-instances-state", "--cluster", "lst",
                         "--container-instances", arns[0], "--status", "DRAINING")
    assert drained["containerInstances"][0]["status"] == "DRAINING"
    assert drained["failures"] == []
    assert ecs.list_container_instances(cluster="lst", status="DRAINING")["containerInstanceArns"] == [arns[0]]
    assert sorted(ecs.list_container_instances(cluster="lst", status="ACTIVE")
                  ["containerInstanceArns"]) == arns[1:]
    assert sorted(ecs.list_container_instances(cluster="lst")["containerInstanceArns"]) == arns

    missing = "0" * 32
    upd = ecs.update_container_instances_state(cluster="lst", containerInstances=[missing],
                                               status="DRAINING")
    assert upd["containerInstances"] == []
    assert upd["failures"][0]["reason"] == "MISSING"
    assert upd["failures"][0]["arn"].endswith("/lst/" + missing)
    got = ecs.describe_container_instances(cluster="lst", containerInstances=[arns[1], missing])
    assert [c["containerInstanceArn"] for c in got["containerInstances"]] == [arns[1]]
    assert got["failures"] == [{
        "arn": "arn:aws:ecs:us-east-1:000000000000:container-instance/lst/" + missing,
        "reason": "MISSING"}]
    # By id, too.
    assert describe_ci(ecs, "lst", arns[2].rsplit("/", 1)[1])["containerInstanceArn"] == arns[2]
    # An instance of another cluster is MISSING here.
    ecs.create_cluster(clusterName="other")
    assert ecs.describe_container_instances(cluster="other", containerInstances=[arns[0]])[
        "failures"][0]["reason"] == "MISSING"

    ecs.deregister_container_instance(cluster="lst", containerInstance=arns[2])
    assert describe_ci(ecs, "lst", arns[2])["status"] == "INACTIVE"
    assert sorted(ecs.list_container_instances(cluster="lst")["containerInstanceArns"]) == arns[:2]


def test_resources_follow_tasks_and_start_task(ecs):
    ecs.create_cluster(clusterName="res")
    a = ecs.register_container_instance(cluster="res", totalResources=small(2048, 2048))[
        "containerInstance"]["containerInstanceArn"]
    b = ecs.register_container_instance(cluster="res", totalResources=small(2048, 2048))[
        "containerInstance"]["containerInstanceArn"]
    marker = "ci-res-" + uuid.uuid4().hex
    register(ecs, "porty", None, containers=[{
        "name": "main", "image": "busybox", "cpu": 256, "memory": 300,
        "command": sleeper(marker),
        "portMappings": [{"containerPort": 8080, "hostPort": 8081},
                         {"containerPort": 9090, "hostPort": 0}]}])

    # StartTask on the second instance.
    started = ecs.start_task(cluster="res", taskDefinition="porty", containerInstances=[b])
    assert started["failures"] == []
    (task,) = started["tasks"]
    assert task["containerInstanceArn"] == b
    bindings = {nb["containerPort"]: nb for nb in task["containers"][0]["networkBindings"]}
    assert bindings[8080]["hostPort"] == 8081
    assert 49153 <= bindings[9090]["hostPort"] <= 65535
    running = wait_task_status(ecs, "res", task["taskArn"], "RUNNING")
    assert running["containerInstanceArn"] == b

    inst = describe_ci(ecs, "res", b)
    assert inst["runningTasksCount"] == 1 and inst["pendingTasksCount"] == 0
    rem = resources(inst, "remainingResources")
    assert rem["CPU"] == 2048 - 256
    assert rem["MEMORY"] == 2048 - 300
    assert rem["PORTS"] == AGENT_PORTS | {"8081"}
    assert resources(inst, "registeredResources")["MEMORY"] == 2048
    other = describe_ci(ecs, "res", a)
    assert other["runningTasksCount"] == 0
    assert resources(other, "remainingResources")["MEMORY"] == 2048
    assert ecs.list_tasks(cluster="res", containerInstance=b)["taskArns"] == [task["taskArn"]]
    assert ecs.list_tasks(cluster="res", containerInstance=a)["taskArns"] == []

    # The static host port is taken on b: a second copy cannot go there.
    second = ecs.start_task(cluster="res", taskDefinition="porty", containerInstances=[b])
    assert second["tasks"] == []
    assert second["failures"] == [{"arn": b, "reason": "RESOURCE:PORTS"}]
    # StartTask on an instance that does not exist.
    missing = ecs.start_task(cluster="res", taskDefinition="porty",
                             containerInstances=["f" * 32])
    assert missing["tasks"] == []
    assert missing["failures"][0]["reason"] == "MISSING"

    ecs.stop_task(cluster="res", task=task["taskArn"])
    wait_task_status(ecs, "res", task["taskArn"], "STOPPED")
    inst = describe_ci(ecs, "res", b)
    assert inst["runningTasksCount"] == 0
    assert resources(inst, "remainingResources") == resources(inst, "registeredResources")
    wait_no_processes(marker)
    # The port is free again.
    again = ecs.start_task(cluster="res", taskDefinition="porty", containerInstances=[b])
    assert again["failures"] == [] and len(again["tasks"]) == 1
    ecs.stop_task(cluster="res", task=again["tasks"][0]["taskArn"])
    wait_task_status(ecs, "res", again["tasks"][0]["taskArn"], "STOPPED")


def test_placement_failures(ecs):
    ecs.create_cluster(clusterName="tiny")
    arn = ecs.register_container_instance(cluster="tiny", totalResources=small(1024, 512))[
        "containerInstance"]["containerInstanceArn"]
    register(ecs, "fat", ["sleep", "60"], ctr_memory=1024)
    register(ecs, "hungry", None, containers=[{"name": "main", "image": "busybox", "cpu": 2048,
                                               "memory": 64, "command": ["sleep", "60"]}])
    run = ecs.run_task(cluster="tiny", taskDefinition="fat")
    assert run["tasks"] == []
    assert run["failures"] == [{"arn": arn, "reason": "RESOURCE:MEMORY"}]
    run = ecs.run_task(cluster="tiny", taskDefinition="hungry")
    assert run["tasks"] == []
    assert run["failures"] == [{"arn": arn, "reason": "RESOURCE:CPU"}]
    # The cluster has an instance: none is provisioned on demand.
    assert ecs.list_container_instances(cluster="tiny")["containerInstanceArns"] == [arn]
    assert ecs.list_tasks(cluster="tiny", desiredStatus="STOPPED")["taskArns"] == []


def test_service_that_cannot_be_placed_reports_it_once(ecs):
    """A service whose task fits no instance says so in its events, without
    repeating the same event on every scheduler pass."""
    ecs.create_cluster(clusterName="noroom")
    ecs.register_container_instance(cluster="noroom", totalResources=small(1024, 512))
    register(ecs, "fat", ["sleep", "60"], ctr_memory=1024)
    ecs.create_service(cluster="noroom", serviceName="fat", taskDefinition="fat", desiredCount=1)

    def unable():
        msgs = [m for m in events(service(ecs, "noroom", "fat")) if "unable to place" in m]
        return msgs
    msgs = wait_for(unable, what="the placement failure event")
    assert msgs[0].startswith("(service fat) was unable to place a task")
    assert "RESOURCE:MEMORY" in msgs[0] or "memory" in msgs[0]
    # Watch a few scheduler passes (nothing to wait for when nothing changes).
    for _ in range(20):
        time.sleep(0.1)
    svc = service(ecs, "noroom", "fat")
    assert svc["runningCount"] == 0
    assert len([m for m in events(svc) if "unable to place" in m]) == 1, events(svc)[:5]


def test_draining_moves_service_tasks_to_another_instance(server, ecs):
    ecs.create_cluster(clusterName="drain")
    a = ecs.register_container_instance(cluster="drain")["containerInstance"]["containerInstanceArn"]
    marker = "ci-drain-" + uuid.uuid4().hex
    register(ecs, "drain", sleeper(marker))
    ecs.create_service(cluster="drain", serviceName="app", taskDefinition="drain", desiredCount=2)
    wait_stable(ecs, "drain", "app")
    on_a = service_tasks(ecs, "drain", "app")
    assert {t["containerInstanceArn"] for t in on_a} == {a}
    b = ecs.register_container_instance(cluster="drain")["containerInstance"]["containerInstanceArn"]

    server.aws("ecs", "update-container-instances-state", "--cluster", "drain",
               "--container-instances", a, "--status", "DRAINING")

    def moved(svc):
        if not is_stable(svc):
            return False
        tasks = service_tasks(ecs, "drain", "app")
        return len(tasks) == 2 and all(t["containerInstanceArn"] == b for t in tasks)
    samples = sample_rollout(ecs, "drain", "app", moved)
    check_rollout(samples, 2, 100, 200)
    check_task_events(samples[-1])
    stopped = {t["taskArn"] for t in service_tasks(ecs, "drain", "app", "STOPPED")}
    assert stopped == {t["taskArn"] for t in on_a}, "only the tasks on the drained instance stop"
    for t in ecs.describe_tasks(cluster="drain", tasks=sorted(stopped))["tasks"]:
        assert t["stopCode"] == "ServiceSchedulerInitiated"
    inst = wait_for(lambda: (lambda i: i if i["runningTasksCount"] == 0 and
                             i["pendingTasksCount"] == 0 else None)(describe_ci(ecs, "drain", a)),
                    what="the drained instance to be empty")
    assert inst["status"] == "DRAINING"
    wait_for(lambda: len(processes_with(marker)) == 2, what="two processes")

    # A RunTask does not go to the DRAINING instance either.
    t = ecs.run_task(cluster="drain", taskDefinition="drain")["tasks"][0]
    assert t["containerInstanceArn"] == b
    # Back to ACTIVE.
    back = ecs.update_container_instances_state(cluster="drain", containerInstances=[a],
                                                status="ACTIVE")
    assert back["containerInstances"][0]["status"] == "ACTIVE"
    with pytest.raises(ClientError) as e:
        ecs.update_container_instances_state(cluster="drain", containerInstances=[a],
                                             status="INACTIVE")
    assert error_code(e) == "InvalidParameterException"


def test_draining_the_only_instance_provisions_no_other(ecs):
    """With its only instance DRAINING the cluster is not 'without
    instances': no instance is provisioned on demand, the service keeps its
    task where it is (minimumHealthyPercent 100) and says it cannot place
    the replacement."""
    ecs.create_cluster(clusterName="only")
    a = ecs.register_container_instance(cluster="only")["containerInstance"]["containerInstanceArn"]
    register(ecs, "only", sleeper("ci-only-" + uuid.uuid4().hex))
    ecs.create_service(cluster="only", serviceName="app", taskDefinition="only", desiredCount=1)
    wait_stable(ecs, "only", "app")
    ecs.update_container_instances_state(cluster="only", containerInstances=[a],
                                         status="DRAINING")
    wait_for(lambda: any("unable to place" in m for m in events(service(ecs, "only", "app")))
             or len(ecs.list_container_instances(cluster="only")["containerInstanceArns"]) > 1,
             what="the scheduler to try to replace the task")
    assert ecs.list_container_instances(cluster="only")["containerInstanceArns"] == [a]
    tasks = service_tasks(ecs, "only", "app")
    assert [t["containerInstanceArn"] for t in tasks] == [a]


def test_deregister_refused_with_tasks_unless_forced(ecs):
    ecs.create_cluster(clusterName="dereg")
    arn = ecs.register_container_instance(cluster="dereg")["containerInstance"]["containerInstanceArn"]
    marker = "ci-dereg-" + uuid.uuid4().hex
    register(ecs, "dereg", sleeper(marker))
    task = ecs.start_task(cluster="dereg", taskDefinition="dereg", containerInstances=[arn])["tasks"][0]
    wait_task_status(ecs, "dereg", task["taskArn"], "RUNNING")
    code, _ = fails(ecs.deregister_container_instance, cluster="dereg", containerInstance=arn)
    assert code == "InvalidParameterException"
    assert describe_ci(ecs, "dereg", arn)["status"] == "ACTIVE"
    with pytest.raises(ClientError) as e:
        ecs.deregister_container_instance(cluster="dereg", containerInstance="0" * 32)
    assert error_code(e) == "InvalidParameterException"

    out = ecs.deregister_container_instance(cluster="dereg", containerInstance=arn,
                                            force=True)["containerInstance"]
    assert out["status"] == "INACTIVE"
    stopped = wait_task_status(ecs, "dereg", task["taskArn"], "STOPPED")
    assert stopped["desiredStatus"] == "STOPPED"
    wait_no_processes(marker)
    assert ecs.list_container_instances(cluster="dereg")["containerInstanceArns"] == []
    # An INACTIVE instance takes no task: with none left, one is provisioned.
    t = ecs.run_task(cluster="dereg", taskDefinition="dereg")["tasks"][0]
    assert t["containerInstanceArn"] != arn
    ecs.stop_task(cluster="dereg", task=t["taskArn"])
    wait_task_status(ecs, "dereg", t["taskArn"], "STOPPED")


def test_delete_cluster_refused_while_instances_registered(ecs):
    ecs.create_cluster(clusterName="busyci")
    arn = ecs.register_container_instance(cluster="busyci")["containerInstance"]["containerInstanceArn"]
    msg = ("ClusterContainsContainerInstancesException",
           "The Cluster cannot be deleted while Container Instances are active or draining.")
    assert fails(ecs.delete_cluster, cluster="busyci") == msg
    ecs.update_container_instances_state(cluster="busyci", containerInstances=[arn],
                                         status="DRAINING")
    assert fails(ecs.delete_cluster, cluster="busyci") == msg
    ecs.deregister_container_instance(cluster="busyci", containerInstance=arn)
    assert ecs.delete_cluster(cluster="busyci")["cluster"]["status"] == "INACTIVE"


def test_daemon_service_runs_one_task_per_instance(server, ecs):
    ecs.create_cluster(clusterName="dmn")
    arns = sorted(ecs.register_container_instance(cluster="dmn")["containerInstance"]
                  ["containerInstanceArn"] for _ in range(2))
    marker = "ci-daemon-" + uuid.uuid4().hex
    register(ecs, "agent", sleeper(marker))
    created = ecs.create_service(cluster="dmn", serviceName="agent", taskDefinition="agent",
                                 schedulingStrategy="DAEMON")["service"]
    assert created["schedulingStrategy"] == "DAEMON"
    wait_for(lambda: len(processes_with(marker)) == 2, what="one task per instance")
    tasks = wait_for(lambda: (lambda ts: ts if len(ts) == 2 and all(
        t["lastStatus"] == "RUNNING" for t in ts) else None)(service_tasks(ecs, "dmn", "agent")),
        what="two RUNNING tasks")
    assert sorted(t["containerInstanceArn"] for t in tasks) == arns
    # ECS reports a daemon service's desired count as the number of
    # instances it runs on, so the services-stable waiter succeeds.
    # (Its tasks run: a few scheduler passes are all it takes.)
    svc = wait_stable(ecs, "dmn", "agent", 2, timeout=20)
    assert svc["desiredCount"] == 2
    s = server.aws("ecs", "describe-services", "--cluster", "dmn", "--services", "agent")
    assert s["services"][0]["runningCount"] == 2
