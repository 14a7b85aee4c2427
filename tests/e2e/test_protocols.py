"""The wire itself, with raw HTTP: the XML envelopes of the ec2 and query
protocols, JSON errors, how form requests may arrive (GET query strings,
percent-encoding, repeated keys, content types, empty bodies), and that no
garbage ever gets a 500 or takes the server down."""
import http.client
import json
import re
import socket
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EC2_V = "Version=2016-11-15"
STS_V = "Version=2011-06-15"
LOGS = "Logs_20140328."


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def xml(self):
        return ET.fromstring(self.body)

    def json(self):
        return json.loads(self.body)


def send(server, body=b"", headers=None, method="POST", path="/"):
    """One request with exactly these headers (http.client adds only Host,
    Accept-Encoding and, with a body, Content-Length)."""
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, body=body if method != "GET" else None,
                     headers=headers if headers is not None else FORM)
        r = conn.getresponse()
        return Reply(r.status, r.headers, r.read())
    finally:
        conn.close()


def json_call(server, op, body, content_type="application/x-amz-json-1.1"):
    return send(server, body, {"X-Amz-Target": LOGS + op, "Content-Type": content_type})


def q(tag, ns=EC2_NS):
    return "{%s}%s" % (ns, tag)


# ---- ec2: XML envelope, namespace, requestId, <item> lists ----

def test_ec2_envelope(server):
    r = send(server, "Action=DescribeVpcs&" + EC2_V)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/xml")
    assert r.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = r.xml()
    assert root.tag == q("DescribeVpcsResponse")
    request_id = root.find(q("requestId")).text
    assert UUID.match(request_id)
    assert r.headers["x-amzn-RequestId"] == request_id
    items = root.find(q("vpcSet")).findall(q("item"))
    assert len(items) == 1
    vpc = items[0]
    assert vpc.find(q("cidrBlock")).text == "172.31.0.0/16"
    assert vpc.find(q("isDefault")).text == "true"
    assert vpc.find(q("vpcId")).text.startswith("vpc-")
    # Nothing but elements of the model: no private members.
    assert b"<_" not in r.body


def test_ec2_nested_item_lists_and_tags(server):
    r = send(server, "Action=CreateVpc&" + EC2_V + "&CidrBlock=10.3.0.0%2F16"
             "&TagSpecification.1.ResourceType=vpc"
             "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=wire"
             "&TagSpecification.1.Tag.2.Key=team&TagSpecification.1.Tag.2.Value=net")
    assert r.status == 200, r.body
    vpc = r.xml().find(q("vpc"))
    tags = {t.find(q("key")).text: t.find(q("value")).text
            for t in vpc.find(q("tagSet")).findall(q("item"))}
    assert tags == {"Name": "wire", "team": "net"}
    assocs = vpc.find(q("cidrBlockAssociationSet")).findall(q("item"))
    assert [a.find(q("cidrBlock")).text for a in assocs] == ["10.3.0.0/16"]


def test_ec2_error_envelope(server):
    r = send(server, "Action=DescribeVpcs&" + EC2_V + "&VpcId.1=vpc-0123456789abcdef0")
    assert r.status == 400
    assert r.headers["Content-Type"].startswith("text/xml")
    root = r.xml()
    assert root.tag == "Response"           # EC2's errors carry no namespace
    error = root.find("Errors").find("Error")
    assert error.find("Code").text == "InvalidVpcID.NotFound"
    assert error.find("Message").text == "The vpc ID 'vpc-0123456789abcdef0' does not exist"
    assert UUID.match(root.find("RequestID").text)


def test_ec2_void_operation_returns_true(server):
    vpc = send(server, "Action=CreateVpc&" + EC2_V + "&CidrBlock=10.4.0.0%2F16").xml()
    vpc_id = vpc.find(q("vpc")).find(q("vpcId")).text
    r = send(server, "Action=DeleteVpc&" + EC2_V + "&VpcId=" + vpc_id)
    assert r.status == 200
    root = r.xml()
    assert root.tag == q("DeleteVpcResponse")
    assert root.find(q("return")).text == "true"


# ---- query: <OpResult>, ResponseMetadata, ErrorResponse ----

def test_query_envelope(server):
    r = send(server, "Action=GetCallerIdentity&" + STS_V)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/xml")
    root = r.xml()
    assert root.tag == q("GetCallerIdentityResponse", STS_NS)
    result = root.find(q("GetCallerIdentityResult", STS_NS))
    assert result.find(q("Account", STS_NS)).text == "000000000000"
    assert result.find(q("Arn", STS_NS)).text == "arn:aws:iam::000000000000:root"
    assert result.find(q("UserId", STS_NS)).text
    request_id = root.find(q("ResponseMetadata", STS_NS)).find(q("RequestId", STS_NS)).text
    assert UUID.match(request_id)
    assert r.headers["x-amzn-RequestId"] == request_id


def test_query_error_envelope(server):
    r = send(server, "Action=NoSuchThing&" + STS_V)
    assert r.status == 400
    root = r.xml()
    assert root.tag == q("ErrorResponse", STS_NS)
    error = root.find(q("Error", STS_NS))
    assert error.find(q("Type", STS_NS)).text == "Sender"
    assert error.find(q("Code", STS_NS)).text == "InvalidAction"
    assert "NoSuchThing" in error.find(q("Message", STS_NS)).text
    assert UUID.match(root.find(q("RequestId", STS_NS)).text)


# ---- json: __type errors ----

def test_json_errors_have_type_and_message(server):
    r = json_call(server, "DescribeLogGroups", '{"limit":"ten"}')
    assert r.status == 400
    assert r.headers["Content-Type"] == "application/x-amz-json-1.1"
    doc = r.json()
    assert doc["__type"] == "SerializationException"
    assert doc["message"]
    assert UUID.match(r.headers["x-amzn-RequestId"])

    r = json_call(server, "DescribeLogGroups", '{"limit":0}')
    assert r.status == 400
    assert r.json()["__type"] == "InvalidParameterException"
    assert "Member must have value greater than or equal to 1" in r.json()["message"]

    r = json_call(server, "NoSuchOperation", "{}")
    assert r.status == 400
    assert r.json()["__type"] == "UnknownOperationException"


def test_json_success_is_json(server):
    r = json_call(server, "DescribeLogGroups", "{}")
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert r.json() == {"logGroups": []}


# ---- how form requests may arrive ----

def test_get_with_query_string(server):
    r = send(server, method="GET", path="/?Action=GetCallerIdentity&" + STS_V, headers={})
    assert r.status == 200
    assert r.xml().tag == q("GetCallerIdentityResponse", STS_NS)
    r = send(server, method="GET", path="/?Action=DescribeVpcs&" + EC2_V +
             "&Filter.1.Name=is-default&Filter.1.Value.1=true", headers={})
    assert r.status == 200
    assert len(r.xml().find(q("vpcSet")).findall(q("item"))) == 1


def test_query_string_and_body_together(server):
    r = send(server, "Version=2016-11-15&Filter.1.Name=is-default&Filter.1.Value.1=true",
             path="/?Action=DescribeVpcs")
    assert r.status == 200, r.body
    assert r.xml().tag == q("DescribeVpcsResponse")


def test_percent_encoded_values(server):
    value = "a b+c&d=e/f%g é ✓"
    body = "Action=CreateVpc&" + EC2_V + "&CidrBlock=10.5.0.0%2F16" + \
        "&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=" + \
        urllib.parse.quote("k/ey", safe="") + \
        "&TagSpecification.1.Tag.1.Value=" + urllib.parse.quote(value, safe="")
    r = send(server, body)
    assert r.status == 200, r.body
    vpc_id = r.xml().find(q("vpc")).find(q("vpcId")).text
    described = server.client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert described["Tags"] == [{"Key": "k/ey", "Value": value}]
    # '+' is a space in a form.
    r = send(server, "Action=DescribeVpcs&" + EC2_V +
             "&Filter.1.Name=tag%3Ak%2Fey&Filter.1.Value.1=" + urllib.parse.quote_plus(value))
    assert r.status == 200
    items = r.xml().find(q("vpcSet")).findall(q("item"))
    assert [i.find(q("vpcId")).text for i in items] == [vpc_id]


def test_repeated_keys_last_wins(server):
    default = server.client("ec2").describe_vpcs(
        Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    r = send(server, "Action=DescribeVpcs&" + EC2_V + "&VpcId.1=vpc-0123456789abcdef0"
             "&VpcId.1=" + default)
    assert r.status == 200, r.body
    items = r.xml().find(q("vpcSet")).findall(q("item"))
    assert [i.find(q("vpcId")).text for i in items] == [default]


@pytest.mark.parametrize("content_type", [
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded;charset=UTF-8",
    "text/plain",
])
def test_form_content_types(server, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = send(server, "Action=GetCallerIdentity&" + STS_V, headers=headers)
    assert r.status == 200, r.body
    assert r.xml().tag == q("GetCallerIdentityResponse", STS_NS)


@pytest.mark.parametrize("content_type", [
    "application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json", None,
])
def test_json_content_types(server, content_type):
    headers = {"X-Amz-Target": LOGS + "DescribeLogGroups"}
    if content_type:
        headers["Content-Type"] = content_type
    r = send(server, "{}", headers=headers)
    assert r.status == 200, r.body
    assert r.json() == {"logGroups": []}


def test_empty_bodies(server):
    r = send(server, b"")
    assert r.status == 400
    assert r.xml().find("Errors").find("Error").find("Code").text == "MissingAction"
    r = send(server, b"", headers={"X-Amz-Target": LOGS + "DescribeLogGroups"})
    assert r.status == 200
    assert r.json() == {"logGroups": []}
    r = send(server, "Action=DescribeVpcs")   # no Version, no signature
    assert r.status == 400
    assert r.xml().find("Errors").find("Error").find("Code").text


def test_values_that_are_not_utf8_are_refused_not_dropped(server):
    ec2 = server.client("ec2")
    before = len(ec2.describe_vpcs()["Vpcs"])
    r = send(server, "Action=CreateVpc&" + EC2_V + "&CidrBlock=10.6.0.0%2F16"
             "&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=k"
             "&TagSpecification.1.Tag.1.Value=%ff")
    assert r.status == 400, r.body
    assert r.xml().find("Errors").find("Error").find("Code").text
    assert len(ec2.describe_vpcs()["Vpcs"]) == before
    # An id that is not UTF-8 is not "no id at all" (which would list everything).
    r = send(server, "Action=DescribeVpcs&" + EC2_V + "&VpcId.1=vpc-%ff")
    assert r.status == 400, r.body


# ---- garbage never gets a 500, never kills the server ----

def nasty_forms():
    yield b"\x00\x01\x02\xff\xfe"
    yield b"%"
    yield b"&&&&===&&="
    yield b"=" * 10000
    yield b"a" * (1 << 20)
    yield b"Action=DescribeVpcs&" + EC2_V.encode() + b"&" + b"k" * 5000 + b"=v"
    yield b"Action=DescribeVpcs&" + EC2_V.encode() + b"".join(
        b"&Filter.%d.Name=x" % i for i in range(10001))
    yield b"Action=DescribeVpcs&" + EC2_V.encode() + b"&Filter.1.Name=%00&Filter.1.Value.1=%ff"
    yield b"Action=DescribeVpcs&" + EC2_V.encode() + b"&MaxResults=-99999999999999999999999"
    yield b"Action=DescribeVpcs&" + EC2_V.encode() + b"&MaxResults=1e309&DryRun=maybe"
    yield b"Action=DescribeVpcs&" + EC2_V.encode() + b"&Filter.999999999999.Name=x"
    yield b"Action=DescribeVpcs&" + EC2_V.encode() + b"&VpcId.0=x&VpcId.-1=y&VpcId.01=z"
    yield b"Action=CreateVpc&" + EC2_V.encode() + b"&CidrBlock=%ff%fe%00"
    yield b"Action=CreateVpc&" + EC2_V.encode() + b"&CidrBlock=10.0.0.0%2F16" \
        b"&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=%ff" \
        b"&TagSpecification.1.Tag.1.Value=%c3%28"
    yield b"Action=CreateSubnet&" + EC2_V.encode() + b"&VpcId=" + b"v" * 100000
    yield b"Action=%ff%fe&Version=%00"
    yield b"Action=%ff%fe&" + EC2_V.encode()
    yield b"Action=%82&" + STS_V.encode()
    yield b"Action=GetCallerIdentity&Version=2011-06-15&Action=DescribeVpcs"
    yield b"Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=%ff"
    yield b"Action=DescribeVpcs&Version=2016-11-15&" + b"Filter.1." * 300 + b"Name=x"


def nasty_json():
    yield b"{"
    yield b"[" * 100000 + b"]" * 100000
    yield b'{"a":' * 5000 + b"1" + b"}" * 5000
    yield b"\xff\xfe{}"
    yield b'{"logGroupNamePrefix":"\\u0000\\ud800"}'
    yield b'{"limit":1e999}'
    yield b'{"limit":-9223372036854775809}'
    yield b'{"limit":9223372036854775808}'
    yield b'{"logGroupNamePrefix":' + b'"' + b"x" * (1 << 20) + b'"}'
    yield b'{"logGroupNamePrefix":"a","logGroupNamePrefix":"b"}'
    yield b"null"
    yield b'"just a string"'
    yield b"{}" * 1000


def problem(r, what):
    """What is wrong with the answer to a nasty request, or None."""
    if r.status == 500 or r.status >= 600 or (r.status != 200 and r.status < 400):
        return "%r: HTTP %d: %r" % (what[:120], r.status, r.body[:300])
    ctype = r.headers.get("Content-Type", "")
    try:
        if "json" in ctype:
            r.json()
        elif "xml" in ctype:
            r.xml()             # well-formed, whatever went in
    except (ValueError, ET.ParseError) as e:
        return "%r: unparseable %s answer (%s): %r" % (what[:120], ctype, e, r.body[:300])
    return None


def test_garbage_never_500_and_never_kills_the_server(server):
    problems = []

    def check(what, body, headers=FORM):
        p = problem(send(server, body, headers=headers), what)
        if p:
            problems.append(p)

    for body in nasty_forms():
        check(body, body)
        check(body, body, headers={})
    for body in nasty_json():
        for target in ("DescribeLogGroups", "CreateLogGroup", "PutLogEvents", "Nope"):
            check(body, body, {"X-Amz-Target": LOGS + target,
                               "Content-Type": "application/x-amz-json-1.1"})
    odd_headers = [
        {"X-Amz-Target": ""},
        {"X-Amz-Target": "."},
        {"X-Amz-Target": "NoSuchPrefix.DescribeVpcs"},
        {"X-Amz-Target": LOGS},
        {"X-Amz-Target": "\xff" * 300},
        {"Authorization": "AWS4-HMAC-SHA256 "},
        {"Authorization": "AWS4-HMAC-SHA256 Credential=,SignedHeaders=,Signature="},
        {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request,"
                          "SignedHeaders=host,Signature=" + "0" * 64},
        {"Authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20240102/\xff\xfe/ec2/"
                          "aws4_request, SignedHeaders=host, Signature=00"},
        {"Authorization": "AWS4-HMAC-SHA256 Credential=../../../20240102/../ec2/"
                          "aws4_request, SignedHeaders=host, Signature=00"},
        {"Authorization": "x" * 8000},
    ]
    for extra in odd_headers:
        for body in (b"Action=CreateVpc&CidrBlock=10.9.0.0%2F16", b"{}",
                     b"Action=DescribeVpcs&" + EC2_V.encode()):
            headers = dict(FORM)
            headers.update(extra)
            check(repr(extra) + " " + body.decode(), body, headers)

    # Still healthy, still answering.
    with urllib.request.urlopen(server.endpoint + "/_ecslocal/health", timeout=30) as r:
        assert json.loads(r.read())["status"] == "ok"
    assert server.client("ec2").describe_vpcs()["Vpcs"]
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"
    assert not problems, "\n".join(problems)


def test_broken_http_does_not_kill_the_server(server):
    requests = [
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",       # short body
        b"GARBAGE\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n",
    ]
    for raw in requests:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
            try:
                while sock.recv(65536):
                    pass
            except OSError:
                pass
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"
