"""ECS capacity providers (built-in FARGATE / FARGATE_SPOT, Auto Scaling
group providers, cluster associations) and account settings."""
import json
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from conftest import error_code

ACCOUNT = "000000000000"
ROOT = "arn:aws:iam::%s:root" % ACCOUNT
CP_ARN = "arn:aws:ecs:us-east-1:%s:capacity-provider/%%s" % ACCOUNT
ASG = ("arn:aws:autoscaling:us-east-1:%s:autoScalingGroup:57ffcb94-11f0-4d6d-bf60-"
       "3bac5EXAMPLE:autoScalingGroupName/%%s" % ACCOUNT)


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


def fails(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return error_code(e), message(e)


def raw_ecs(server, op, body):
    """A signed ECS call with members newer than Debian's botocore (which
    would refuse or drop them): (HTTP status, parsed body)."""
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


def create_asg_provider(ecs, name, asg=None, **kw):
    provider = {"autoScalingGroupArn": ASG % (asg or name)}
    provider.update(kw)
    return ecs.create_capacity_provider(name=name, autoScalingGroupProvider=provider)["capacityProvider"]


# ---- capacity providers ----

def test_fargate_providers_always_exist(ecs, aws):
    out = ecs.describe_capacity_providers()
    assert [(p["name"], p["status"], p["capacityProviderArn"]) for p in out["capacityProviders"]] == [
        ("FARGATE", "ACTIVE", CP_ARN % "FARGATE"), ("FARGATE_SPOT", "ACTIVE", CP_ARN % "FARGATE_SPOT")]
    assert out["failures"] == []
    out = aws("ecs", "describe-capacity-providers", "--capacity-providers", "FARGATE_SPOT")
    assert [p["name"] for p in out["capacityProviders"]] == ["FARGATE_SPOT"]


def test_create_describe_asg_provider(server, ecs, aws):
    p = ecs.create_capacity_provider(
        name="ec2-cp", autoScalingGroupProvider={
            "autoScalingGroupArn": ASG % "MyASG",
            "managedScaling": {"status": "ENABLED", "targetCapacity": 90},
            "managedTerminationProtection": "ENABLED"},
        tags=[{"key": "env", "value": "prod"}])["capacityProvider"]
    assert p["capacityProviderArn"] == CP_ARN % "ec2-cp" and p["status"] == "ACTIVE"
    assert p["autoScalingGroupProvider"] == {
        "autoScalingGroupArn": ASG % "MyASG",
        "managedScaling": {"status": "ENABLED", "targetCapacity": 90, "minimumScalingStepSize": 1,
                           "maximumScalingStepSize": 10000, "instanceWarmupPeriod": 300},
        "managedTerminationProtection": "ENABLED"}
    assert p["tags"] == [{"key": "env", "value": "prod"}]
    # Newer members Debian's botocore does not know.
    status, raw = raw_ecs(server, "DescribeCapacityProviders", {"capacityProviders": ["ec2-cp"]})
    cp = raw["capacityProviders"][0]
    assert status == 200 and cp["type"] == "EC2_AUTOSCALING"
    assert cp["autoScalingGroupProvider"]["managedDraining"] == "ENABLED"

    # Tags only with include TAGS; by name or ARN; the listing has it first.
    got = ecs.describe_capacity_providers(capacityProviders=["ec2-cp"])["capacityProviders"][0]
    assert got["tags"] == []
    got = ecs.describe_capacity_providers(capacityProviders=[CP_ARN % "ec2-cp"], include=["TAGS"])
    assert got["capacityProviders"][0]["tags"] == [{"key": "env", "value": "prod"}]
    names = [x["name"] for x in ecs.describe_capacity_providers()["capacityProviders"]]
    assert names == ["ec2-cp", "FARGATE", "FARGATE_SPOT"]
    out = ecs.describe_capacity_providers(capacityProviders=["ec2-cp", "nope"])
    assert [x["name"] for x in out["capacityProviders"]] == ["ec2-cp"]
    assert out["failures"] == [{"arn": CP_ARN % "nope", "reason": "MISSING"}]
    out = aws("ecs", "describe-capacity-providers", "--capacity-providers", "ec2-cp", "--include", "TAGS")
    assert out["capacityProviders"][0]["tags"] == [{"key": "env", "value": "prod"}]


def test_create_provider_errors(server, ecs):
    for bad in ("awsome", "ECS-cp", "fargate2", "bad name", "x" * 256):
        code, _ = fails(ecs.create_capacity_provider, name=bad,
                        autoScalingGroupProvider={"autoScalingGroupArn": ASG % "a"})
        assert code == "InvalidParameterException", bad
    create_asg_provider(ecs, "one", asg="shared")
    assert fails(ecs.create_capacity_provider, name="one",
                 autoScalingGroupProvider={"autoScalingGroupArn": ASG % "other"}) == (
        "ClientException", "The specified capacity provider already exists. To change the "
        "configuration of an existing capacity provider, update the capacity provider.")
    assert fails(ecs.create_capacity_provider, name="two",
                 autoScalingGroupProvider={"autoScalingGroupArn": ASG % "shared"}) == (
        "ClientException", "The specified Auto Scaling group ARN is already being used by "
        "another capacity provider. Specify a unique Auto Scaling group ARN and try again.")
    status, out = raw_ecs(server, "CreateCapacityProvider", {"name": "three"})
    assert (status, out["__type"]) == (400, "InvalidParameterException")
    code, _ = fails(ecs.create_capacity_provider, name="four", autoScalingGroupProvider={
        "autoScalingGroupArn": ASG % "four",
        "managedScaling": {"minimumScalingStepSize": 10, "maximumScalingStepSize": 2}})
    assert code == "InvalidParameterException"
    names = [x["name"] for x in ecs.describe_capacity_providers()["capacityProviders"]]
    assert names == ["one", "FARGATE", "FARGATE_SPOT"]


def test_update_provider(server, ecs, aws):
    create_asg_provider(ecs, "upd", managedScaling={"status": "ENABLED"})
    status, out = raw_ecs(server, "UpdateCapacityProvider", {
        "name": "upd", "autoScalingGroupProvider": {
            "managedScaling": {"targetCapacity": 50, "maximumScalingStepSize": 30},
            "managedTerminationProtection": "DISABLED", "managedDraining": "DISABLED"}})
    assert status == 200
    assert out["capacityProvider"]["updateStatus"] == "UPDATE_IN_PROGRESS"
    got = ecs.describe_capacity_providers(capacityProviders=["upd"])["capacityProviders"][0]
    assert got["updateStatus"] == "UPDATE_COMPLETE"
    assert got["autoScalingGroupProvider"]["managedScaling"] == {
        "status": "ENABLED", "targetCapacity": 50, "minimumScalingStepSize": 1,
        "maximumScalingStepSize": 30, "instanceWarmupPeriod": 300}
    _, raw = raw_ecs(server, "DescribeCapacityProviders", {"capacityProviders": ["upd"]})
    assert raw["capacityProviders"][0]["autoScalingGroupProvider"]["managedDraining"] == "DISABLED"
    out = aws("ecs", "update-capacity-provider", "--name", CP_ARN % "upd",
              "--auto-scaling-group-provider", "managedScaling={status=DISABLED}")
    assert out["capacityProvider"]["autoScalingGroupProvider"]["managedScaling"]["status"] == "DISABLED"
    assert fails(ecs.update_capacity_provider, name="FARGATE",
                 autoScalingGroupProvider={"managedTerminationProtection": "DISABLED"})[0] == "ClientException"
    assert fails(ecs.update_capacity_provider, name="ghost",
                 autoScalingGroupProvider={"managedTerminationProtection": "DISABLED"})[0] == "ClientException"


def test_delete_provider_only_when_unused(ecs, aws):
    create_asg_provider(ecs, "cp1", managedScaling={"status": "ENABLED"})
    ecs.create_cluster(clusterName="c1")
    c = ecs.put_cluster_capacity_providers(
        cluster="c1", capacityProviders=["cp1"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "cp1", "weight": 1}])["cluster"]
    assert c["capacityProviders"] == ["cp1"]
    att = c["attachments"]
    assert [a["type"] for a in att] == ["as_policy", "managed_draining"]
    assert att[0]["details"][0] == {"name": "capacityProviderName", "value": "cp1"}
    assert c["attachmentsStatus"] == "UPDATE_COMPLETE"
    described = ecs.describe_clusters(clusters=["c1"], include=["ATTACHMENTS"])["clusters"][0]
    assert described["attachments"] == att
    assert "attachments" not in ecs.describe_clusters(clusters=["c1"])["clusters"][0]

    # An Auto Scaling group provider serves one cluster.
    ecs.create_cluster(clusterName="c2")
    code, msg = fails(ecs.put_cluster_capacity_providers, cluster="c2", capacityProviders=["cp1"],
                      defaultCapacityProviderStrategy=[])
    assert code == "InvalidParameterException" and "c1" in msg

    # Deleting while a cluster uses it: accepted, and the deletion fails.
    p = ecs.delete_capacity_provider(capacityProvider="cp1")["capacityProvider"]
    assert p["status"] == "ACTIVE" and p["updateStatus"] == "DELETE_FAILED"
    assert p["updateStatusReason"] == (
        "The capacity provider cannot be deleted because it is associated with cluster: c1. "
        "Remove the capacity provider from the cluster and try again.")
    ecs.put_cluster_capacity_providers(cluster="c1", capacityProviders=[], defaultCapacityProviderStrategy=[])
    p = aws("ecs", "delete-capacity-provider", "--capacity-provider", CP_ARN % "cp1")["capacityProvider"]
    assert p["updateStatus"] == "DELETE_IN_PROGRESS"
    got = ecs.describe_capacity_providers(capacityProviders=["cp1"])["capacityProviders"][0]
    assert got["status"] == "INACTIVE" and got["updateStatus"] == "DELETE_COMPLETE"
    assert [x["name"] for x in ecs.describe_capacity_providers()["capacityProviders"]] == [
        "FARGATE", "FARGATE_SPOT"]
    # An INACTIVE provider cannot be attached, and its name can be reused.
    assert fails(ecs.put_cluster_capacity_providers, cluster="c2", capacityProviders=["cp1"],
                 defaultCapacityProviderStrategy=[]) == (
        "InvalidParameterException", "The specified capacity provider 'cp1' is not in an ACTIVE "
        "state. Specify a valid capacity provider and try again.")
    assert create_asg_provider(ecs, "cp1")["status"] == "ACTIVE"
    assert fails(ecs.delete_capacity_provider, capacityProvider="FARGATE")[0] == "ClientException"
    assert fails(ecs.delete_capacity_provider, capacityProvider="ghost")[0] == "ClientException"


def test_describe_provider_pages_and_cluster_filter(server, ecs):
    for i in range(3):
        create_asg_provider(ecs, "p%d" % i)
    everything = ["p0", "p1", "p2", "FARGATE", "FARGATE_SPOT"]
    got, token = [], None
    while True:
        page = ecs.describe_capacity_providers(maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["capacityProviders"]) <= 2
        got += [p["name"] for p in page["capacityProviders"]]
        token = page.get("nextToken")
        if not token:
            break
    assert got == everything
    assert fails(ecs.describe_capacity_providers, maxResults=11)[0] == "InvalidParameterException"
    ecs.create_cluster(clusterName="cl", capacityProviders=["p1", "FARGATE"])
    _, page = raw_ecs(server, "DescribeCapacityProviders", {"cluster": "cl"})
    assert [p["name"] for p in page["capacityProviders"]] == ["p1", "FARGATE"]
    status, out = raw_ecs(server, "DescribeCapacityProviders", {"cluster": "nocluster"})
    assert (status, out) == (400, {"__type": "ClusterNotFoundException", "message": "Cluster not found."})


def test_cluster_scoped_provider_blocks_cluster_delete(server, ecs):
    ecs.create_cluster(clusterName="mi")
    status, out = raw_ecs(server, "CreateCapacityProvider", {
        "name": "mi-cp", "cluster": "mi", "managedInstancesProvider": {
            "infrastructureRoleArn": "arn:aws:iam::%s:role/ecsInfra" % ACCOUNT,
            "instanceLaunchTemplate": {
                "ec2InstanceProfileArn": "arn:aws:iam::%s:instance-profile/ecs" % ACCOUNT,
                "networkConfiguration": {"subnets": ["subnet-0123456789abcdef0"]}}}})
    assert status == 200, out
    assert out["capacityProvider"]["type"] == "MANAGED_INSTANCES"
    assert out["capacityProvider"]["cluster"] == "mi"
    assert fails(ecs.delete_cluster, cluster="mi")[0] == "ClusterContainsCapacityProviderException"
    status, out = raw_ecs(server, "CreateCapacityProvider", {
        "name": "mi-2", "cluster": "ghost", "managedInstancesProvider": {
            "infrastructureRoleArn": "arn:aws:iam::%s:role/ecsInfra" % ACCOUNT,
            "instanceLaunchTemplate": {
                "ec2InstanceProfileArn": "arn:aws:iam::%s:instance-profile/ecs" % ACCOUNT,
                "networkConfiguration": {"subnets": ["subnet-0123456789abcdef0"]}}}})
    assert (status, out["__type"]) == (400, "ClusterNotFoundException")
    ecs.delete_capacity_provider(capacityProvider="mi-cp")
    assert ecs.delete_cluster(cluster="mi")["cluster"]["status"] == "INACTIVE"


# ---- account settings ----

def test_effective_settings_defaults(server, ecs, aws):
    pages = ecs.get_paginator("list_account_settings").paginate(effectiveSettings=True)
    got = {"settings": [s for p in pages for s in p["settings"]]}
    settings = {s["name"]: s for s in got["settings"]}
    assert settings["taskLongArnFormat"]["value"] == "enabled"
    assert settings["serviceLongArnFormat"]["value"] == "enabled"
    assert settings["containerInstanceLongArnFormat"]["value"] == "enabled"
    assert settings["awsvpcTrunking"]["value"] == "disabled"
    assert settings["containerInsights"]["value"] == "disabled"
    assert all(s["principalArn"] == ROOT for s in got["settings"])
    # What Ansible's ecs_task asks before tagging.
    got = ecs.list_account_settings(name="taskLongArnFormat", effectiveSettings=True)
    assert got["settings"] == [{"name": "taskLongArnFormat", "value": "enabled", "principalArn": ROOT}]
    # Nothing set explicitly yet.
    assert ecs.list_account_settings()["settings"] == []
    # All eleven names, in pages of ten at most.
    names = [s["name"] for s in aws("ecs", "list-account-settings", "--effective-settings")["settings"]]
    assert names == sorted(names) and len(names) == 11
    status, raw = raw_ecs(server, "ListAccountSettings", {"effectiveSettings": True, "name": "tagResourceAuthorization"})
    assert raw["settings"][0]["value"] == "on" and raw["settings"][0]["type"] == "aws_managed"


def test_put_list_delete_settings(ecs, aws):
    user = "arn:aws:iam::%s:user/alice" % ACCOUNT
    s = ecs.put_account_setting_default(name="containerInsights", value="enabled")["setting"]
    assert s == {"name": "containerInsights", "value": "enabled", "principalArn": ROOT}
    s = aws("ecs", "put-account-setting", "--name", "awsvpcTrunking", "--value", "enabled",
            "--principal-arn", user)["setting"]
    assert s == {"name": "awsvpcTrunking", "value": "enabled", "principalArn": user}
    assert ecs.list_account_settings()["settings"] == [
        {"name": "containerInsights", "value": "enabled", "principalArn": ROOT}]
    assert ecs.list_account_settings(principalArn=user)["settings"] == [
        {"name": "awsvpcTrunking", "value": "enabled", "principalArn": user}]
    # The user's effective settings: its own, else the account default.
    pages = ecs.get_paginator("list_account_settings").paginate(principalArn=user, effectiveSettings=True)
    eff = {s["name"]: s for p in pages for s in p["settings"]}
    assert eff["awsvpcTrunking"] == {"name": "awsvpcTrunking", "value": "enabled", "principalArn": user}
    assert eff["containerInsights"]["value"] == "enabled"
    got = ecs.list_account_settings(effectiveSettings=True, value="enabled", maxResults=10)["settings"]
    assert "awsvpcTrunking" not in [s["name"] for s in got]
    assert "containerInsights" in [s["name"] for s in got]
    # New clusters take the account's containerInsights.
    c = ecs.create_cluster(clusterName="insight")["cluster"]
    assert c["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    s = ecs.delete_account_setting(name="awsvpcTrunking", principalArn=user)["setting"]
    assert s["value"] == "enabled" and s["principalArn"] == user
    assert ecs.list_account_settings(principalArn=user)["settings"] == []
    ecs.delete_account_setting(name="containerInsights")
    assert ecs.list_account_settings()["settings"] == []


def test_settings_pages_and_errors(ecs):
    page = ecs.list_account_settings(effectiveSettings=True, maxResults=4)
    assert len(page["settings"]) == 4
    rest, token = [], page["nextToken"]
    while token:
        p = ecs.list_account_settings(effectiveSettings=True, maxResults=4, nextToken=token)
        rest += p["settings"]
        token = p.get("nextToken")
    names = [s["name"] for s in page["settings"] + rest]
    assert len(names) == 11 and len(set(names)) == 11
    assert fails(ecs.list_account_settings, maxResults=11)[0] == "InvalidParameterException"
    assert fails(ecs.put_account_setting, name="awsvpcTrunking", value="yes")[0] == "InvalidParameterException"
    assert fails(ecs.put_account_setting, name="taskLongArnFormat", value="disabled")[0] == \
        "InvalidParameterException"
    assert fails(ecs.put_account_setting, name="awsvpcTrunking", value="enabled",
                 principalArn="arn:aws:iam::999999999999:user/bob")[0] == "InvalidParameterException"
    assert fails(ecs.put_account_setting, name="awsvpcTrunking", value="enabled",
                 principalArn="not-an-arn")[0] == "InvalidParameterException"
    assert ecs.list_account_settings()["settings"] == []
