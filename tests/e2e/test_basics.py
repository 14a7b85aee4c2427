"""The daemon's own surface: health, reset, routing, protocol errors."""
import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def http(server, method, path, body=b"", headers=None):
    req = urllib.request.Request(server.endpoint + path, method=method, data=body,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_health_reports_services_and_listen(server):
    status, body = http(server, "GET", "/_ecslocal/health")
    assert status == 200
    doc = json.loads(body)
    assert doc["status"] == "ok"
    assert doc["version"]
    for svc in ("ec2", "ecs", "sts", "logs"):
        assert doc["services"][svc] == "running"
    # Routed, but every operation answers NotImplemented: not "running".
    for svc in ("elbv2", "servicediscovery"):
        assert doc["services"][svc] == "not emulated"
    assert doc["networking"] in ("real", "off")
    assert isinstance(doc["networking_reason"], str)
    assert doc["listen"]["api"] == "127.0.0.1:%d" % server.port
    assert doc["listen"]["dns"] == "127.0.0.1:%d" % server.dns_port


def test_other_emulators_endpoints(server, ec2):
    ec2.create_vpc(CidrBlock="10.9.0.0/16")
    status, body = http(server, "GET", "/_localstack/health")
    assert status == 200
    services = json.loads(body)["services"]
    assert services["ecs"] == "running" and services["elbv2"] == "disabled"
    status, _ = http(server, "POST", "/moto-api/reset")
    assert status == 200
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.9.0.0/16"]}])["Vpcs"]
    assert vpcs == []


def test_reset_wipes_everything(server, ec2):
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]
    server.reset()
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])
    assert error_code(e) == "InvalidVpcID.NotFound"


def test_sts_identity_follows_access_key(server):
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"
    ident = server.client("sts", account="123456789012").get_caller_identity()
    assert ident["Account"] == "123456789012"
    assert ident["Arn"] == "arn:aws:iam::123456789012:root"
    assert server.aws("sts", "get-caller-identity")["Account"] == "000000000000"


def test_unknown_ec2_action(server):
    status, body = http(server, "POST", "/", b"Action=NoSuchThing&Version=2016-11-15",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in body
    assert b"The action NoSuchThing is not valid for this web service." in body
    assert b"<RequestID>" in body


def test_unknown_json_operation(server):
    status, body = http(server, "POST", "/", b"{}", {
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.NoSuchThing",
        "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400
    assert json.loads(body)["__type"] == "UnknownOperationException"


def test_model_operation_not_emulated_is_named(server):
    ec2 = server.client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.describe_capacity_reservations()
    assert error_code(e) == "NotImplemented"
    assert "ec2:DescribeCapacityReservations" in str(e.value)


def test_malformed_json_body(server):
    status, body = http(server, "POST", "/", b"{not json", {
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
        "Content-Type": "application/x-amz-json-1.1"})
    assert status in (400, 501)
    assert json.loads(body)["__type"] in ("SerializationException", "NotImplemented")


def raw_request(server, head, body=b""):
    import socket
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_body_over_limit_is_413_before_reading(server):
    # Announced as 17 MiB: refused from the headers alone, no body sent.
    head = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % (17 * 1024 * 1024))
    reply = raw_request(server, head)
    assert reply.startswith(b"HTTP/1.1 413")
    # Chunked, with no length up front: cut off when it crosses the limit.
    head = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"a" * (1024 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17)) + b"0\r\n\r\n"
    reply = raw_request(server, head, body)
    assert reply.startswith(b"HTTP/1.1 413")
    # The server is still fine.
    assert server.client("ec2").describe_vpcs()["Vpcs"]


def test_missing_required_parameter_ec2(server):
    status, body = http(server, "POST", "/", b"Action=DeleteVpc&Version=2016-11-15",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400
    assert b"<Code>MissingParameter</Code>" in body
    assert b"The request must contain the parameter vpcId" in body


def test_wrong_type_ec2(server):
    status, body = http(server, "POST", "/",
                        b"Action=DescribeVpcs&Version=2016-11-15&MaxResults=abc",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400
    assert b"<Code>InvalidParameterValue</Code>" in body
