"""ECS tagging: TagResource, UntagResource, ListTagsForResource on every
kind of ECS resource ARN, and what Describe calls then show."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code

ACCOUNT = "000000000000"
ARN = "arn:aws:ecs:us-east-1:%s:%%s" % ACCOUNT


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


def fails(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return error_code(e), message(e)


def tags(ecs, arn):
    return ecs.list_tags_for_resource(resourceArn=arn)["tags"]


def test_cluster_tags_round_trip(ecs, aws):
    arn = ecs.create_cluster(clusterName="t", tags=[{"key": "a", "value": "1"}])["cluster"]["clusterArn"]
    assert tags(ecs, arn) == [{"key": "a", "value": "1"}]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "one"}])
    assert tags(ecs, arn) == [{"key": "a", "value": "one"}, {"key": "b", "value": "2"}]
    c = ecs.describe_clusters(clusters=["t"], include=["TAGS"])["clusters"][0]
    assert c["tags"] == [{"key": "a", "value": "one"}, {"key": "b", "value": "2"}]
    ecs.untag_resource(resourceArn=arn, tagKeys=["a", "not-there"])
    assert tags(ecs, arn) == [{"key": "b", "value": "2"}]
    # The same through the CLI.
    aws("ecs", "tag-resource", "--resource-arn", arn, "--tags", "key=team,value=web")
    assert aws("ecs", "list-tags-for-resource", "--resource-arn", arn)["tags"] == [
        {"key": "b", "value": "2"}, {"key": "team", "value": "web"}]
    aws("ecs", "untag-resource", "--resource-arn", arn, "--tag-keys", "b", "team")
    assert aws("ecs", "list-tags-for-resource", "--resource-arn", arn)["tags"] == []
    # An INACTIVE cluster keeps its tags.
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
    ecs.delete_cluster(cluster="t")
    assert tags(ecs, arn) == [{"key": "k", "value": "v"}]


def test_task_definition_tags(ecs):
    td = ecs.register_task_definition(family="tagged", containerDefinitions=[
        {"name": "c", "image": "x", "memory": 32}], tags=[{"key": "a", "value": "1"}])["taskDefinition"]
    arn = td["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    assert tags(ecs, arn) == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    got = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    assert got["tags"] == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    assert "tags" not in got["taskDefinition"]
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.describe_task_definition(taskDefinition="tagged:1", include=["TAGS"])["tags"] == [
        {"key": "b", "value": "2"}]
    # Tags belong to one revision; the family ARN names none.
    assert fails(ecs.tag_resource, resourceArn=ARN % "task-definition/tagged",
                 tags=[{"key": "x", "value": "y"}]) == ("InvalidParameterException", "The ARN provided is invalid.")
    assert fails(ecs.list_tags_for_resource, resourceArn=ARN % "task-definition/tagged:2") == (
        "ResourceNotFoundException", "The specified resource could not be found.")


def test_capacity_provider_tags(ecs):
    ecs.create_capacity_provider(name="cp", autoScalingGroupProvider={
        "autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:%s:autoScalingGroup:1:autoScalingGroupName/a" % ACCOUNT})
    arn = ARN % "capacity-provider/cp"
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "tier", "value": "gold"}])
    assert tags(ecs, arn) == [{"key": "tier", "value": "gold"}]
    got = ecs.describe_capacity_providers(capacityProviders=["cp"], include=["TAGS"])
    assert got["capacityProviders"][0]["tags"] == [{"key": "tier", "value": "gold"}]
    assert fails(ecs.tag_resource, resourceArn=ARN % "capacity-provider/FARGATE",
                 tags=[{"key": "a", "value": "b"}])[0] == "InvalidParameterException"
    assert fails(ecs.list_tags_for_resource, resourceArn=ARN % "capacity-provider/nope")[0] == \
        "ResourceNotFoundException"


def test_tag_errors(ecs):
    arn = ecs.create_cluster(clusterName="e")["cluster"]["clusterArn"]
    for bad in ("not-an-arn", "arn:aws:ec2:us-east-1:%s:vpc/vpc-1" % ACCOUNT, ARN % "widget/x"):
        assert fails(ecs.list_tags_for_resource, resourceArn=bad) == (
            "InvalidParameterException", "The ARN provided is invalid."), bad
    assert fails(ecs.tag_resource, resourceArn=ARN % "cluster/missing", tags=[{"key": "a", "value": "b"}]) == \
        ("ClusterNotFoundException", "Cluster not found.")
    # Tasks, services and instances of a missing cluster, and of one that has none.
    for res in ("task/missing/0123456789abcdef0123456789abcdef", "service/missing/web",
                "container-instance/missing/0123456789abcdef0123456789abcdef"):
        assert fails(ecs.list_tags_for_resource, resourceArn=ARN % res)[0] == "ClusterNotFoundException"
    for res in ("task/e/0123456789abcdef0123456789abcdef", "service/e/web",
                "container-instance/e/0123456789abcdef0123456789abcdef"):
        assert fails(ecs.list_tags_for_resource, resourceArn=ARN % res) == (
            "ResourceNotFoundException", "The specified resource could not be found.")
    assert fails(ecs.tag_resource, resourceArn=ARN % "task/0123456789abcdef0123456789abcdef",
                 tags=[{"key": "a", "value": "b"}]) == (
        "InvalidParameterException", "Long arn format must be used for tagging operations")
    code, _ = fails(ecs.tag_resource, resourceArn=arn, tags=[{"key": "aws:created", "value": "x"}])
    assert code == "InvalidParameterException"
    code, _ = fails(ecs.untag_resource, resourceArn=arn, tagKeys=["aws:created"])
    assert code == "InvalidParameterException"
    code, msg = fails(ecs.tag_resource, resourceArn=arn, tags=[{"key": "bad!key", "value": "x"}])
    assert code == "InvalidParameterException" and "pattern" in msg
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "k%02d" % i, "value": "v"} for i in range(40)])
    code, _ = fails(ecs.tag_resource, resourceArn=arn,
                    tags=[{"key": "n%02d" % i, "value": "v"} for i in range(11)])
    assert code == "InvalidParameterException"
    # The failed calls changed nothing.
    assert len(tags(ecs, arn)) == 40
    # Another account's ARN names nothing here.
    other = "arn:aws:ecs:us-east-1:111122223333:cluster/e"
    assert fails(ecs.list_tags_for_resource, resourceArn=other)[0] == "ClusterNotFoundException"


def test_service_tags_when_services_exist(ecs):
    ecs.create_cluster(clusterName="s")
    ecs.register_task_definition(family="svc", containerDefinitions=[
        {"name": "c", "image": "x", "memory": 32}])
    try:
        svc = ecs.create_service(cluster="s", serviceName="web", taskDefinition="svc", desiredCount=0,
                                 tags=[{"key": "a", "value": "1"}])["service"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("CreateService is not emulated yet")
        raise
    arn = svc["serviceArn"]
    assert arn == ARN % "service/s/web"
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    assert tags(ecs, arn) == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    got = ecs.describe_services(cluster="s", services=["web"], include=["TAGS"])["services"][0]
    assert got["tags"] == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert tags(ecs, arn) == [{"key": "b", "value": "2"}]
