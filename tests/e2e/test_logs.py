"""CloudWatch Logs: groups, streams, events, filter patterns, retention, tags.

Driven with boto3 and the AWS CLI v2 the way the awslogs log driver, the
CLI (`aws logs tail`) and infrastructure tools use the API.  Members newer
than Debian's botocore (logGroupArn, logGroupClass, deletion protection)
are checked with raw JSON requests.
"""
import json
import re
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

DAY_MS = 24 * 3600 * 1000
GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"


@pytest.fixture
def logs(server):
    return server.client("logs")


def now_ms():
    return int(time.time() * 1000)


def raw(server, op, body):
    """A JSON 1.1 request as any SDK sends it; (status, parsed body)."""
    req = urllib.request.Request(
        server.endpoint + "/", method="POST", data=json.dumps(body).encode(),
        headers={"X-Amz-Target": "Logs_20140328." + op,
                 "Content-Type": "application/x-amz-json-1.1"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def error_of(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def make_stream(logs, group, stream, messages=(), start=None, step=1):
    """Create group (if needed) and stream, put messages one ms apart."""
    try:
        logs.create_log_group(logGroupName=group)
    except ClientError as e:
        assert error_code_of(e) == "ResourceAlreadyExistsException"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    start = now_ms() - 60000 if start is None else start
    events = [{"timestamp": start + i * step, "message": m} for i, m in enumerate(messages)]
    if events:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    return events


def error_code_of(e):
    return e.response["Error"]["Code"]


# ---- log groups ----

def test_create_and_describe_log_group(server, logs):
    before = now_ms()
    logs.create_log_group(logGroupName="/ecs/web", tags={"team": "a"})
    groups = logs.describe_log_groups()["logGroups"]
    assert len(groups) == 1
    g = groups[0]
    assert g["logGroupName"] == "/ecs/web"
    assert g["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/web:*"
    assert before - 1000 <= g["creationTime"] <= now_ms() + 1000
    assert g["storedBytes"] == 0
    assert g["metricFilterCount"] == 0
    assert "retentionInDays" not in g
    # Members newer than Debian's botocore, as the wire carries them.
    status, body = raw(server, "DescribeLogGroups", {})
    assert status == 200
    wire = body["logGroups"][0]
    assert wire["logGroupArn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/web"
    assert wire["logGroupClass"] == "STANDARD"
    assert wire["deletionProtectionEnabled"] is False
    assert "_tags" not in wire
    assert logs.list_tags_log_group(logGroupName="/ecs/web")["tags"] == {"team": "a"}


def test_create_log_group_errors(logs):
    logs.create_log_group(logGroupName="dup")
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="dup")
    assert error_of(e) == ("ResourceAlreadyExistsException",
                           "The specified log group already exists")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="bad name!")
    assert error_of(e) == (
        "InvalidParameterException",
        "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: " + GROUP_PATTERN)
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="aws/lambda/x")
    assert error_of(e) == ("InvalidParameterException",
                           "Log groups starting with AWS/ are reserved for AWS.")
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="x" * 513)
    assert error_code(e) == "InvalidParameterException"
    assert "Member must have length less than or equal to 512" in str(e.value)
    # Nothing of the failed calls was stored.
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == ["dup"]


def test_create_log_group_class_kms_and_deletion_protection(server, logs):
    status, _ = raw(server, "CreateLogGroup", {
        "logGroupName": "protected", "logGroupClass": "INFREQUENT_ACCESS",
        "kmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/abc",
        "deletionProtectionEnabled": True})
    assert status == 200
    logs.create_log_stream(logGroupName="protected", logStreamName="s")
    _, body = raw(server, "DescribeLogGroups", {"logGroupNamePrefix": "protected"})
    g = body["logGroups"][0]
    assert g["logGroupClass"] == "INFREQUENT_ACCESS"
    assert g["kmsKeyId"] == "arn:aws:kms:us-east-1:000000000000:key/abc"
    assert g["deletionProtectionEnabled"] is True
    _, body = raw(server, "DescribeLogGroups", {"logGroupClass": "STANDARD"})
    assert body["logGroups"] == []
    for op, args in (("DeleteLogGroup", {"logGroupName": "protected"}),
                     ("DeleteLogStream", {"logGroupName": "protected", "logStreamName": "s"})):
        status, body = raw(server, op, args)
        assert status == 400
        assert body["__type"] == "ValidationException"
        assert "deletion protection" in body["message"]
    status, _ = raw(server, "PutLogGroupDeletionProtection", {
        "logGroupIdentifier": "arn:aws:logs:us-east-1:000000000000:log-group:protected",
        "deletionProtectionEnabled": False})
    assert status == 200
    logs.delete_log_group(logGroupName="protected")
    assert logs.describe_log_groups()["logGroups"] == []


def test_describe_log_groups_prefix_pattern_and_paging(server, logs):
    names = ["/ecs/b", "/ecs/a", "/other/DataLogs", "Z", "/ecs/c", "a#1"]
    for n in names:
        logs.create_log_group(logGroupName=n)
    # ASCII order, as AWS sorts them.
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == sorted(names)
    got = logs.describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]
    assert [g["logGroupName"] for g in got] == ["/ecs/a", "/ecs/b", "/ecs/c"]
    # A pattern is a case-sensitive substring and returns three members only.
    got = logs.describe_log_groups(logGroupNamePattern="DataLogs")["logGroups"]
    assert got == [{"logGroupName": "/other/DataLogs", "creationTime": got[0]["creationTime"],
                    "arn": "arn:aws:logs:us-east-1:000000000000:log-group:/other/DataLogs:*"}]
    assert logs.describe_log_groups(logGroupNamePattern="datalogs")["logGroups"] == []
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(logGroupNamePrefix="/ecs", logGroupNamePattern="ecs")
    assert error_code(e) == "InvalidParameterException"
    # limit / nextToken: pages of two, the last one without a token.
    seen, token, pages = [], None, 0
    while True:
        kw = {"limit": 2, "nextToken": token} if token else {"limit": 2}
        page = logs.describe_log_groups(**kw)
        pages += 1
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == sorted(names) and pages == 3
    paginated = [g["logGroupName"] for p in logs.get_paginator("describe_log_groups").paginate(
        PaginationConfig={"PageSize": 4}) for g in p["logGroups"]]
    assert paginated == sorted(names)
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(nextToken="not-a-token")
    assert error_of(e) == ("InvalidParameterException", "The specified nextToken is invalid.")
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(limit=51)
    assert error_code(e) == "InvalidParameterException"


def test_delete_log_group_removes_streams_and_events(logs):
    make_stream(logs, "g", "s1", ["one", "two"])
    make_stream(logs, "g", "s2", ["three"])
    make_stream(logs, "keep", "s1", ["kept"])
    logs.delete_log_group(logGroupName="g")
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == ["keep"]
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName="g")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")
    # A new group of the same name starts empty.
    logs.create_log_group(logGroupName="g")
    assert logs.describe_log_streams(logGroupName="g")["logStreams"] == []
    assert logs.filter_log_events(logGroupName="g")["events"] == []
    assert logs.describe_log_groups(logGroupNamePrefix="g")["logGroups"][0]["storedBytes"] == 0
    assert [e["message"] for e in logs.filter_log_events(logGroupName="keep")["events"]] == ["kept"]
    with pytest.raises(ClientError) as e:
        logs.delete_log_group(logGroupName="missing")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_groups_are_isolated_by_account_and_region(server, logs):
    logs.create_log_group(logGroupName="mine")
    other = server.client("logs", account="123456789012")
    assert other.describe_log_groups()["logGroups"] == []
    other.create_log_group(logGroupName="mine")
    g = other.describe_log_groups()["logGroups"][0]
    assert g["arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:mine:*"
    west = server.client("logs", region="eu-west-1")
    assert west.describe_log_groups()["logGroups"] == []


# ---- retention ----

def test_retention_policy(logs):
    logs.create_log_group(logGroupName="r")
    logs.put_retention_policy(logGroupName="r", retentionInDays=7)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 7
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName="r", retentionInDays=2)
    assert error_of(e) == (
        "InvalidParameterException",
        "Invalid retention value. Valid values are: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, "
        "180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]")
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 7
    logs.delete_retention_policy(logGroupName="r")
    assert "retentionInDays" not in logs.describe_log_groups()["logGroups"][0]
    for call in (lambda: logs.put_retention_policy(logGroupName="nope", retentionInDays=1),
                 lambda: logs.delete_retention_policy(logGroupName="nope")):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "ResourceNotFoundException"


def test_retention_expires_old_events_and_rejects_them(logs):
    t = now_ms()
    make_stream(logs, "r", "s", [])
    logs.put_log_events(logGroupName="r", logStreamName="s", logEvents=[
        {"timestamp": t - 3 * DAY_MS, "message": "three days old"},
        {"timestamp": t - 3 * DAY_MS + 1, "message": "also old"}])
    logs.put_log_events(logGroupName="r", logStreamName="s", logEvents=[
        {"timestamp": t - 1000, "message": "fresh"}])
    logs.put_retention_policy(logGroupName="r", retentionInDays=1)
    got = logs.get_log_events(logGroupName="r", logStreamName="s", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["fresh"]
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == len("fresh")
    # Older than the retention: rejected as expired, the rest written.
    r = logs.put_log_events(logGroupName="r", logStreamName="s", logEvents=[
        {"timestamp": t - 2 * DAY_MS, "message": "expired"},
        {"timestamp": t, "message": "kept"}])
    assert r["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    got = logs.get_log_events(logGroupName="r", logStreamName="s", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["fresh", "kept"]


# ---- tags ----

def test_tag_log_group_family(logs):
    logs.create_log_group(logGroupName="t", tags={"a": "1"})
    logs.tag_log_group(logGroupName="t", tags={"b": "2", "a": "changed"})
    assert logs.list_tags_log_group(logGroupName="t")["tags"] == {"a": "changed", "b": "2"}
    logs.untag_log_group(logGroupName="t", tags=["a", "absent"])
    assert logs.list_tags_log_group(logGroupName="t")["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        logs.tag_log_group(logGroupName="nope", tags={"a": "b"})
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")
    with pytest.raises(ClientError) as e:
        logs.tag_log_group(logGroupName="t", tags={"bad!key": "v"})
    assert error_code(e) == "InvalidParameterException"
    assert "at 'tags' failed to satisfy constraint: Map keys must satisfy constraint" in str(e.value)


def test_tag_resource_family(server, logs):
    logs.create_log_group(logGroupName="/t/r")
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/t/r"
    logs.tag_resource(resourceArn=arn, tags={"env": "dev", "x": "y"})
    logs.untag_resource(resourceArn=arn, tagKeys=["x"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}
    assert logs.list_tags_log_group(logGroupName="/t/r")["tags"] == {"env": "dev"}
    # DescribeLogGroups' arn ends in ":*", which the tagging APIs refuse.
    star = logs.describe_log_groups()["logGroups"][0]["arn"]
    with pytest.raises(ClientError) as e:
        logs.list_tags_for_resource(resourceArn=star)
    assert error_of(e) == ("ValidationException", "Invalid resourceArn")
    with pytest.raises(ClientError) as e:
        logs.tag_resource(resourceArn="not-an-arn", tags={"a": "b"})
    assert error_of(e) == ("ValidationException", "Invalid resourceArn")
    with pytest.raises(ClientError) as e:
        logs.list_tags_for_resource(resourceArn=arn.replace("/t/r", "/missing"))
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")
    with pytest.raises(ClientError) as e:
        logs.list_tags_for_resource(resourceArn=arn.replace("000000000000", "123456789012"))
    assert error_code(e) == "ResourceNotFoundException"
    logs.tag_resource(resourceArn=arn, tags={"k%d" % i: "v" for i in range(49)})
    with pytest.raises(ClientError) as e:
        logs.tag_resource(resourceArn=arn, tags={"k%d" % i: "v" for i in range(49, 60)})
    assert error_code(e) == "TooManyTagsException"
    assert len(logs.list_tags_for_resource(resourceArn=arn)["tags"]) == 50


# ---- log streams ----

def test_create_and_describe_log_streams(logs):
    logs.create_log_group(logGroupName="g")
    before = now_ms()
    logs.create_log_stream(logGroupName="g", logStreamName="ecs/web/1")
    s = logs.describe_log_streams(logGroupName="g")["logStreams"][0]
    assert s["logStreamName"] == "ecs/web/1"
    assert s["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:ecs/web/1"
    assert before - 1000 <= s["creationTime"] <= now_ms() + 1000
    assert s["storedBytes"] == 0
    for absent in ("firstEventTimestamp", "lastEventTimestamp", "lastIngestionTime",
                   "uploadSequenceToken"):
        assert absent not in s
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName="g", logStreamName="ecs/web/1")
    assert error_of(e) == ("ResourceAlreadyExistsException",
                           "The specified log stream already exists")
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName="nope", logStreamName="s")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName="g", logStreamName="a:b")
    assert error_of(e) == (
        "InvalidParameterException",
        "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [^:*]*")
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName="bad!", logStreamName="a*b")
    assert str(e.value).count("failed to satisfy constraint") == 2
    assert "2 validation errors detected" in str(e.value)
    # The same stream name in another group is another stream.
    logs.create_log_group(logGroupName="g2")
    logs.create_log_stream(logGroupName="g2", logStreamName="ecs/web/1")
    assert len(logs.describe_log_streams(logGroupName="g2")["logStreams"]) == 1


def test_describe_log_streams_order_prefix_and_paging(server, logs):
    t = now_ms() - 60000
    make_stream(logs, "g", "b", ["x"], start=t + 300)
    make_stream(logs, "g", "a", ["x"], start=t + 100)
    make_stream(logs, "g", "c", ["x"], start=t + 200)
    logs.create_log_stream(logGroupName="g", logStreamName="d-empty")
    names = lambda r: [s["logStreamName"] for s in r["logStreams"]]
    assert names(logs.describe_log_streams(logGroupName="g")) == ["a", "b", "c", "d-empty"]
    assert names(logs.describe_log_streams(logGroupName="g", descending=True)) == \
        ["d-empty", "c", "b", "a"]
    assert names(logs.describe_log_streams(logGroupName="g", logStreamNamePrefix="d")) == \
        ["d-empty"]
    by_time = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime",
                                        descending=True)
    assert names(by_time) == ["b", "c", "a", "d-empty"]
    assert names(logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime")) == \
        ["d-empty", "a", "c", "b"]
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime",
                                  logStreamNamePrefix="a")
    assert error_of(e) == ("InvalidParameterException",
                           "Cannot order by LastEventTime with a logStreamNamePrefix.")
    # Paging by time, descending, two at a time.
    first = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime",
                                      descending=True, limit=2)
    assert names(first) == ["b", "c"]
    second = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime",
                                       descending=True, limit=2, nextToken=first["nextToken"])
    assert names(second) == ["a", "d-empty"] and "nextToken" not in second
    # A token is tied to the order it was made for.
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName="g", limit=2, nextToken=first["nextToken"])
    assert error_of(e) == ("InvalidParameterException", "The specified nextToken is invalid.")
    paged = [s["logStreamName"] for p in logs.get_paginator("describe_log_streams").paginate(
        logGroupName="g", PaginationConfig={"PageSize": 1}) for s in p["logStreams"]]
    assert paged == ["a", "b", "c", "d-empty"]
    # logGroupIdentifier takes the name or the ARN without ":*" (the model's
    # pattern has no '*'); Debian's botocore still requires logGroupName,
    # so these go raw.
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:g"
    for ident in ("g", arn):
        status, body = raw(server, "DescribeLogStreams", {"logGroupIdentifier": ident})
        assert status == 200 and len(body["logStreams"]) == 4
    status, body = raw(server, "DescribeLogStreams", {"logGroupIdentifier": arn + ":*"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    assert body["message"] == (
        "1 validation error detected: Value '%s:*' at 'logGroupIdentifier' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: "
        "[\\w#+=/:,.@-]*" % arn)
    status, body = raw(server, "DescribeLogStreams",
                       {"logGroupIdentifier": arn.replace("000000000000", "123456789012")})
    assert (status, body["__type"]) == (400, "ResourceNotFoundException")
    status, body = raw(server, "DescribeLogStreams",
                       {"logGroupName": "g", "logGroupIdentifier": "g"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = raw(server, "DescribeLogStreams", {})
    assert (status, body["__type"]) == (400, "InvalidParameterException")


def test_delete_log_stream(logs):
    make_stream(logs, "g", "s", ["hello", "world!"])
    make_stream(logs, "g", "other", ["abc"])
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 14
    logs.delete_log_stream(logGroupName="g", logStreamName="s")
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="g")["logStreams"]] \
        == ["other"]
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 3
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []
    with pytest.raises(ClientError) as e:
        logs.delete_log_stream(logGroupName="g", logStreamName="missing")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log stream does not exist.")
    with pytest.raises(ClientError) as e:
        logs.delete_log_stream(logGroupName="missing", logStreamName="s")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")


# ---- PutLogEvents ----

def test_put_log_events_updates_stream(logs):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms() - 5000
    r1 = logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t, "message": "a"}, {"timestamp": t + 10, "message": "bb"}])
    assert re.fullmatch(r"\d{56}", r1["nextSequenceToken"])
    assert "rejectedLogEventsInfo" not in r1
    # The sequence token is accepted but not checked (AWS since 2023).
    r2 = logs.put_log_events(logGroupName="g", logStreamName="s", sequenceToken="whatever",
                             logEvents=[{"timestamp": t - 100, "message": "earlier"}])
    assert int(r2["nextSequenceToken"]) > int(r1["nextSequenceToken"])
    s = logs.describe_log_streams(logGroupName="g")["logStreams"][0]
    assert s["firstEventTimestamp"] == t - 100
    assert s["lastEventTimestamp"] == t + 10
    assert s["uploadSequenceToken"] == r2["nextSequenceToken"]
    assert now_ms() - 60000 <= s["lastIngestionTime"] <= now_ms() + 1000
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 1 + 2 + 7
    events = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["earlier", "a", "bb"]
    assert all(e["ingestionTime"] >= e["timestamp"] for e in events)


def test_put_log_events_errors(server, logs):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms()
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": t, "message": "later"}, {"timestamp": t - 1, "message": "earlier"}])
    assert error_of(e) == ("InvalidParameterException",
                           "Log events in a single PutLogEvents request must be in "
                           "chronological order.")
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": t - 25 * 3600 * 1000, "message": "a"},
            {"timestamp": t, "message": "b"}])
    assert error_of(e) == ("InvalidParameterException",
                           "The batch of log events in a single PutLogEvents request cannot "
                           "span more than 24 hours.")
    big = "x" * (1048576 - 26 + 1)
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="g", logStreamName="s",
                            logEvents=[{"timestamp": t, "message": big}])
    assert error_of(e) == ("InvalidParameterException",
                           "Log event too large: 1048577 bytes exceeds limit of 1048576")
    half = "y" * 600000
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": t, "message": half}, {"timestamp": t, "message": half}])
    assert error_of(e) == ("InvalidParameterException",
                           "Upload too large: 1200052 bytes exceeds limit of 1048576")
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="g", logStreamName="nope",
                            logEvents=[{"timestamp": t, "message": "m"}])
    assert error_of(e) == ("ResourceNotFoundException", "The specified log stream does not exist.")
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="nope", logStreamName="s",
                            logEvents=[{"timestamp": t, "message": "m"}])
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")
    status, body = raw(server, "PutLogEvents",
                       {"logGroupName": "g", "logStreamName": "s", "logEvents": []})
    assert status == 400 and body["__type"] == "InvalidParameterException"
    assert "Member must have length greater than or equal to 1" in body["message"]
    # None of it was written.
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []
    assert "uploadSequenceToken" not in logs.describe_log_streams(logGroupName="g")["logStreams"][0]


def test_put_log_events_rejects_too_old_and_too_new(logs):
    make_stream(logs, "g", "s")
    t = now_ms()
    r = logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t - 15 * DAY_MS, "message": "too old"},
        {"timestamp": t - 15 * DAY_MS + 1, "message": "too old too"},
        {"timestamp": t - 1000, "message": "ok 1"},
        {"timestamp": t, "message": "ok 2"},
        {"timestamp": t + 3 * 3600 * 1000, "message": "too new"}])
    assert r["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1,
                                          "tooNewLogEventStartIndex": 4}
    events = logs.get_log_events(logGroupName="g", logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["ok 1", "ok 2"]
    # A batch of rejected events only is accepted and writes nothing.
    r = logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t + 5 * 3600 * 1000, "message": "future"}])
    assert r["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 0}
    assert len(logs.get_log_events(logGroupName="g", logStreamName="s")["events"]) == 2


# ---- GetLogEvents ----

def put_numbered(logs, group, stream, n, start):
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": start + i, "message": "event %d" % i} for i in range(n)])


def messages(resp):
    return [e["message"] for e in resp["events"]]


def test_get_log_events_from_tail_and_backward(logs):
    make_stream(logs, "g", "s")
    t = now_ms() - 60000
    put_numbered(logs, "g", "s", 10, t)
    # Default: the newest events, oldest first.
    page = logs.get_log_events(logGroupName="g", logStreamName="s", limit=3)
    assert messages(page) == ["event 7", "event 8", "event 9"]
    assert re.fullmatch(r"f/\d{56}/s", page["nextForwardToken"])
    assert re.fullmatch(r"b/\d{56}/s", page["nextBackwardToken"])
    seen = messages(page)
    token = page["nextBackwardToken"]
    while True:
        page = logs.get_log_events(logGroupName="g", logStreamName="s", limit=3, nextToken=token)
        if page["nextBackwardToken"] == token:
            assert page["events"] == []
            break
        seen = messages(page) + seen
        token = page["nextBackwardToken"]
    assert seen == ["event %d" % i for i in range(10)]


def test_get_log_events_forward_loop_sees_new_events(logs):
    make_stream(logs, "g", "s")
    t = now_ms() - 60000
    put_numbered(logs, "g", "s", 5, t)
    page = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True, limit=2)
    assert messages(page) == ["event 0", "event 1"]
    seen, token = messages(page), page["nextForwardToken"]
    while True:
        page = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True,
                                   limit=2, nextToken=token)
        if page["nextForwardToken"] == token:
            break
        seen += messages(page)
        token = page["nextForwardToken"]
    assert seen == ["event %d" % i for i in range(5)]
    # At the end the same token comes back, again and again ...
    again = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True,
                                nextToken=token)
    assert again["events"] == [] and again["nextForwardToken"] == token
    # ... until something is written; then it moves on.
    logs.put_log_events(logGroupName="g", logStreamName="s",
                        logEvents=[{"timestamp": t + 100, "message": "new"}])
    page = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True,
                               nextToken=token)
    assert messages(page) == ["new"]
    assert page["nextForwardToken"] != token
    last = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True,
                               nextToken=page["nextForwardToken"])
    assert last["events"] == [] and last["nextForwardToken"] == page["nextForwardToken"]


def test_get_log_events_empty_stream_tokens(logs):
    make_stream(logs, "g", "s")
    first = logs.get_log_events(logGroupName="g", logStreamName="s")
    assert first["events"] == []
    token = first["nextForwardToken"]
    assert logs.get_log_events(logGroupName="g", logStreamName="s",
                               nextToken=token)["nextForwardToken"] == token
    back = first["nextBackwardToken"]
    assert logs.get_log_events(logGroupName="g", logStreamName="s",
                               nextToken=back)["nextBackwardToken"] == back
    logs.put_log_events(logGroupName="g", logStreamName="s",
                        logEvents=[{"timestamp": now_ms(), "message": "arrived"}])
    assert messages(logs.get_log_events(logGroupName="g", logStreamName="s",
                                        nextToken=token)) == ["arrived"]


def test_get_log_events_time_window_and_order(logs):
    make_stream(logs, "g", "s")
    t = now_ms() - 60000
    put_numbered(logs, "g", "s", 8, t)
    # startTime inclusive, endTime exclusive.
    page = logs.get_log_events(logGroupName="g", logStreamName="s", startTime=t + 2,
                               endTime=t + 5, startFromHead=True)
    assert messages(page) == ["event 2", "event 3", "event 4"]
    # Equal timestamps keep the order they were written in.
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t + 100, "message": "same %d" % i} for i in range(3)])
    page = logs.get_log_events(logGroupName="g", logStreamName="s", startTime=t + 100)
    assert messages(page) == ["same 0", "same 1", "same 2"]


def test_get_log_events_errors_and_identifier(server, logs):
    make_stream(logs, "g", "s", ["only"])
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:g"
    status, body = raw(server, "GetLogEvents", {"logGroupIdentifier": arn, "logStreamName": "s"})
    assert status == 200 and messages(body) == ["only"]
    status, body = raw(server, "FilterLogEvents", {"logGroupIdentifier": arn})
    assert status == 200 and messages(body) == ["only"]
    for bad in ("f/123/s", "x" * 60, "f/" + "1" * 56 + "/s"):
        with pytest.raises(ClientError) as e:
            logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=bad)
        assert error_of(e) == ("InvalidParameterException", "The specified nextToken is invalid.")
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName="g", logStreamName="missing")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log stream does not exist.")
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName="missing", logStreamName="s")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")
    status, body = raw(server, "GetLogEvents",
                       {"logGroupName": "g", "logGroupIdentifier": arn, "logStreamName": "s"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName="g", logStreamName="s", limit=10001)
    assert error_code(e) == "InvalidParameterException"


# ---- FilterLogEvents ----

def test_filter_log_events_interleaves_streams(logs):
    t = now_ms() - 60000
    make_stream(logs, "g", "web/1", ["w0", "w1", "w2"], start=t, step=10)
    make_stream(logs, "g", "web/2", ["x0", "x1"], start=t + 5, step=10)
    make_stream(logs, "g", "db/1", ["d0"], start=t + 1)
    r = logs.filter_log_events(logGroupName="g")
    assert messages(r) == ["w0", "d0", "x0", "w1", "x1", "w2"]
    assert r["searchedLogStreams"] == []
    assert "nextToken" not in r
    e = r["events"][0]
    assert e["logStreamName"] == "web/1" and e["timestamp"] == t
    assert re.fullmatch(r"\d{56}", e["eventId"])
    assert len({ev["eventId"] for ev in r["events"]}) == 6
    assert messages(logs.filter_log_events(logGroupName="g", logStreamNames=["web/2", "db/1"])) \
        == ["d0", "x0", "x1"]
    assert messages(logs.filter_log_events(logGroupName="g", logStreamNamePrefix="web/")) == \
        ["w0", "x0", "w1", "x1", "w2"]
    assert messages(logs.filter_log_events(logGroupName="g", logStreamNames=["nope"])) == []
    # Both ends of the time range are inclusive here.
    assert messages(logs.filter_log_events(logGroupName="g", startTime=t + 5,
                                           endTime=t + 15)) == ["x0", "w1", "x1"]
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="g", logStreamNames=["web/1"],
                               logStreamNamePrefix="web")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="missing")
    assert error_of(e) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_filter_log_events_paging(logs):
    t = now_ms() - 60000
    make_stream(logs, "g", "a", ["a%02d" % i for i in range(13)], start=t, step=2)
    make_stream(logs, "g", "b", ["b%02d" % i for i in range(12)], start=t + 1, step=2)
    everything = messages(logs.filter_log_events(logGroupName="g"))
    assert len(everything) == 25
    pages, token, seen = 0, None, []
    while True:
        kw = {"nextToken": token} if token else {}
        r = logs.filter_log_events(logGroupName="g", limit=10, **kw)
        pages += 1
        seen += messages(r)
        token = r.get("nextToken")
        if not token:
            break
    assert seen == everything and pages == 3
    paginated = [e["message"] for p in logs.get_paginator("filter_log_events").paginate(
        logGroupName="g", PaginationConfig={"PageSize": 7}) for e in p["events"]]
    assert paginated == everything
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="g", nextToken="garbage")
    assert error_of(e) == ("InvalidParameterException", "The specified nextToken is invalid.")


FILTER_LINES = [
    "ERROR: disk full",
    "ERRORS happened",
    "an error in lower case",
    "[ERROR] 500 Internal Server Error",
    "WARN low memory",
    "all fine",
]


@pytest.mark.parametrize("pattern,expected", [
    ("", FILTER_LINES),
    ("ERROR", ["ERROR: disk full", "[ERROR] 500 Internal Server Error"]),
    ("ERROR 500", ["[ERROR] 500 Internal Server Error"]),
    ('"Internal Server Error"', ["[ERROR] 500 Internal Server Error"]),
    ('"disk full"', ["ERROR: disk full"]),
    ("?WARN ?disk", ["ERROR: disk full", "WARN low memory"]),
    ('?WARN ?"lower case"', ["an error in lower case", "WARN low memory"]),
    ("ERROR -disk", ["[ERROR] 500 Internal Server Error"]),
    ("-ERROR -WARN", ["ERRORS happened", "an error in lower case", "all fine"]),
    ("%ERRORS?%", ["ERROR: disk full", "ERRORS happened", "[ERROR] 500 Internal Server Error"]),
    ("%^WARN|fine$%", ["WARN low memory", "all fine"]),
    ("%\\d\\d\\d%", ["[ERROR] 500 Internal Server Error"]),
    ("nothing", []),
])
def test_filter_patterns(logs, pattern, expected):
    make_stream(logs, "g", "s", FILTER_LINES)
    assert messages(logs.filter_log_events(logGroupName="g", filterPattern=pattern)) == expected


@pytest.mark.parametrize("pattern,message", [
    ('{ $.level = "ERROR" }', "JSON filter patterns"),
    ("[ip, user, status=500]", "space-delimited filter patterns"),
    ("?", "Invalid character(s) in term '?'"),
    ("bad:term", "Invalid character(s) in term 'bad:term'"),
    ('""', "Invalid character(s) in term '\"\"'"),
    ('"unclosed', "no closing quote"),
    ("?ERROR WARN", "mix ?alternatives"),
    ("%a(b)%", "contains '(', which filter patterns do not support"),
])
def test_filter_patterns_not_evaluated_are_refused(logs, pattern, message):
    make_stream(logs, "g", "s", ["x"])
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="g", filterPattern=pattern)
    assert error_code(e) == "InvalidParameterException"
    assert message in str(e.value)


# ---- AWS CLI v2 ----

def test_cli_round_trip(server, aws):
    aws("logs", "create-log-group", "--log-group-name", "/cli/app")
    aws("logs", "create-log-stream", "--log-group-name", "/cli/app", "--log-stream-name", "s1")
    t = now_ms() - 1000
    r = aws("logs", "put-log-events", "--log-group-name", "/cli/app", "--log-stream-name", "s1",
            "--log-events", "timestamp=%d,message=hello from the cli" % t,
            "timestamp=%d,message=ERROR something broke" % (t + 1))
    assert re.fullmatch(r"\d{56}", r["nextSequenceToken"])
    groups = aws("logs", "describe-log-groups")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/cli/app"]
    got = aws("logs", "get-log-events", "--log-group-name", "/cli/app",
              "--log-stream-name", "s1", "--start-from-head")
    assert messages(got) == ["hello from the cli", "ERROR something broke"]
    got = aws("logs", "filter-log-events", "--log-group-name", "/cli/app",
              "--filter-pattern", "ERROR")
    assert messages(got) == ["ERROR something broke"]
    p = aws("logs", "create-log-group", "--log-group-name", "/cli/app", check=False)
    assert p.returncode != 0
    assert "ResourceAlreadyExistsException" in p.stderr
    assert "The specified log group already exists" in p.stderr


def test_cli_pagination_follows_tokens(aws):
    for i in range(5):
        aws("logs", "create-log-group", "--log-group-name", "g%d" % i)
    got = aws("logs", "describe-log-groups", "--page-size", "2")["logGroups"]
    assert [g["logGroupName"] for g in got] == ["g%d" % i for i in range(5)]
    aws("logs", "create-log-stream", "--log-group-name", "g0", "--log-stream-name", "s")
    t = now_ms() - 1000
    aws("logs", "put-log-events", "--log-group-name", "g0", "--log-stream-name", "s",
        "--log-events", *["timestamp=%d,message=m%d" % (t + i, i) for i in range(7)])
    got = aws("logs", "filter-log-events", "--log-group-name", "g0", "--page-size", "3")
    assert messages(got) == ["m%d" % i for i in range(7)]


def test_cli_logs_tail(server, aws):
    aws("logs", "create-log-group", "--log-group-name", "/ecs/tail")
    for stream in ("web/1", "web/2"):
        aws("logs", "create-log-stream", "--log-group-name", "/ecs/tail",
            "--log-stream-name", stream)
    t = now_ms() - 2000
    aws("logs", "put-log-events", "--log-group-name", "/ecs/tail", "--log-stream-name", "web/1",
        "--log-events", "timestamp=%d,message=first line" % t,
        "timestamp=%d,message=third line" % (t + 2))
    aws("logs", "put-log-events", "--log-group-name", "/ecs/tail", "--log-stream-name", "web/2",
        "--log-events", "timestamp=%d,message=second line" % (t + 1))
    p = aws("logs", "tail", "/ecs/tail", raw=True)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 3
    assert [l.split(" ", 2)[1:] for l in lines] == [
        ["web/1", "first line"], ["web/2", "second line"], ["web/1", "third line"]]
    p = aws("logs", "tail", "/ecs/tail", "--filter-pattern", "second", "--format", "short",
            raw=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().endswith("second line") and len(p.stdout.strip().splitlines()) == 1
    # Only the last ten minutes by default.
    aws("logs", "create-log-stream", "--log-group-name", "/ecs/tail", "--log-stream-name", "old")
    aws("logs", "put-log-events", "--log-group-name", "/ecs/tail", "--log-stream-name", "old",
        "--log-events", "timestamp=%d,message=an hour ago" % (now_ms() - 3600 * 1000))
    p = aws("logs", "tail", "/ecs/tail", raw=True)
    assert "an hour ago" not in p.stdout and len(p.stdout.strip().splitlines()) == 3
    p = aws("logs", "tail", "/ecs/tail", "--since", "2h", raw=True)
    assert "an hour ago" in p.stdout


# ---- durability ----

def test_events_survive_kill9(make_server):
    srv = make_server()
    logs = srv.client("logs")
    make_stream(logs, "g", "s", ["before the crash"])
    srv.kill9()
    srv.start()
    logs = srv.client("logs")
    got = logs.get_log_events(logGroupName="g", logStreamName="s")
    assert messages(got) == ["before the crash"]
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == len("before the crash")
