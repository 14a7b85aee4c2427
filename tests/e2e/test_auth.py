"""Authentication: `--auth strict` verifies SigV4 against configured keys
(--auth-key, --auth-file) and answers each protocol's own errors; the
default mode reads only the credential scope, where a 12-digit access key
id is the account.

Error codes, statuses and messages: docs/research/aws-errors.md, "Authentication".
"""
import os
import subprocess
import urllib.error
import urllib.request

import boto3
import botocore.config
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import AWS_CLI, REGION

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
STRICT = ["--auth", "strict", "--auth-key", "%s:%s" % (KEY, SECRET)]
MISMATCH = ("The request signature we calculated does not match the signature you "
            "provided. Check your AWS Secret Access Key and signing method. Consult "
            "the service documentation for details.")


def client(server, service, key=KEY, secret=SECRET, region=REGION, unsigned=False):
    cfg = {"retries": {"max_attempts": 1}}
    if unsigned:
        cfg["signature_version"] = UNSIGNED
    return boto3.client(service, endpoint_url=server.endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(**cfg))


def cli(server, *args, key=KEY, secret=SECRET):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_PAGER="",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_SESSION_TOKEN", None)
    cmd = [AWS_CLI, "--endpoint-url", server.endpoint, "--output", "json"] + list(args)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def failure(call, **kw):
    """(code, HTTP status, message) of a call that must fail."""
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message")


@pytest.fixture
def strict(make_server):
    return make_server(persistent=False, extra=STRICT)


def test_strict_accepts_correctly_signed_boto3_requests(strict):
    vpcs = client(strict, "ec2").describe_vpcs()["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs if v["IsDefault"]] == ["172.31.0.0/16"]
    ident = client(strict, "sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert "logGroups" in client(strict, "logs").describe_log_groups()
    # Writes too: a signed POST with a body.
    vpc = client(strict, "ec2").create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    assert client(strict, "ec2").describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc
    client(strict, "logs").create_log_group(logGroupName="/strict/ok")


def test_strict_accepts_correctly_signed_cli_requests(strict):
    for args in (["ec2", "describe-vpcs"], ["sts", "get-caller-identity"],
                 ["logs", "describe-log-groups"],
                 ["ec2", "describe-vpcs", "--filters", "Name=cidr,Values=172.31.0.0/16"]):
        p = cli(strict, *args)
        assert p.returncode == 0, (args, p.stderr)


def test_strict_wrong_secret(strict):
    # One call per protocol: ec2, query (STS) and JSON (CloudWatch Logs).
    code, status, msg = failure(client(strict, "ec2", secret="wrong").describe_vpcs)
    assert (code, status, msg) == ("SignatureDoesNotMatch", 403, MISMATCH)
    code, status, msg = failure(client(strict, "sts", secret="wrong").get_caller_identity)
    assert (code, status, msg) == ("SignatureDoesNotMatch", 403, MISMATCH)
    code, status, msg = failure(client(strict, "logs", secret="wrong").describe_log_groups)
    assert (code, status, msg) == ("InvalidSignatureException", 400, MISMATCH)


def test_strict_wrong_secret_changes_nothing(strict):
    with pytest.raises(ClientError):
        client(strict, "ec2", secret="wrong").create_vpc(CidrBlock="10.8.0.0/16")
    vpcs = client(strict, "ec2").describe_vpcs()["Vpcs"]
    assert "10.8.0.0/16" not in [v["CidrBlock"] for v in vpcs]


def test_strict_wrong_secret_with_the_cli(strict):
    p = cli(strict, "ec2", "describe-vpcs", secret="wrong")
    assert p.returncode != 0
    assert "SignatureDoesNotMatch" in p.stderr
    p = cli(strict, "logs", "describe-log-groups", secret="wrong")
    assert p.returncode != 0
    assert "InvalidSignatureException" in p.stderr


def test_strict_unknown_access_key(strict):
    other = dict(key="AKIDUNKNOWN", secret=SECRET)
    assert failure(client(strict, "ec2", **other).describe_vpcs) == (
        "AuthFailure", 401, "AWS was not able to validate the provided access credentials")
    code, status, msg = failure(client(strict, "sts", **other).get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)
    assert msg.startswith("The security token included in the request is invalid")
    assert failure(client(strict, "logs", **other).describe_log_groups) == (
        "UnrecognizedClientException", 400,
        "The security token included in the request is invalid.")


def test_strict_unsigned_requests_are_rejected(strict):
    # Real EC2 asks for the access key id of the missing signature
    # (test-kitchen/kitchen-ec2#440: MissingParameter, "The request must
    # contain the parameter AWSAccessKeyId").
    code, status, msg = failure(client(strict, "ec2", unsigned=True).describe_vpcs)
    assert (code, status) == ("MissingParameter", 400)
    assert msg == "The request must contain the parameter AWSAccessKeyId"
    assert failure(client(strict, "sts", unsigned=True).get_caller_identity) == (
        "MissingAuthenticationToken", 403, "Request is missing Authentication Token")
    assert failure(client(strict, "logs", unsigned=True).describe_log_groups) == (
        "MissingAuthenticationTokenException", 400, "Missing Authentication Token")


def raw(server, body, headers):
    req = urllib.request.Request(server.endpoint + "/", data=body, method="POST",
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


INCOMPLETE = ("AWS4-HMAC-SHA256 Credential=%s/20240102/us-east-1/sts/aws4_request" % KEY)


@pytest.mark.parametrize("mode", ["strict", "default"])
def test_malformed_authorization_is_an_incomplete_signature(make_server, mode):
    s = make_server(persistent=False, extra=STRICT if mode == "strict" else [])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = raw(s, b"Action=GetCallerIdentity&Version=2011-06-15",
                       dict(form, Authorization=INCOMPLETE))
    assert status == 400
    assert "<Code>IncompleteSignature</Code>" in body
    assert "Authorization header requires &apos;Signature&apos; parameter." in body or \
        "Authorization header requires 'Signature' parameter." in body
    status, body = raw(s, b"Action=DescribeVpcs&Version=2016-11-15",
                       dict(form, Authorization="Bearer abc"))
    assert status == 400
    assert "<Code>IncompleteSignature</Code>" in body
    status, body = raw(s, b"{}", {"Content-Type": "application/x-amz-json-1.1",
                                  "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                                  "Authorization": INCOMPLETE})
    assert status == 400
    assert '"__type":"IncompleteSignatureException"' in body.replace(" ", "")


def test_strict_auth_file(make_server, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# access key id and secret, one pair a line\n"
                    "AKIDFROMFILE s3cr3t/from+file\n\n"
                    "123456789012 another-secret\n")
    s = make_server(persistent=False, extra=["--auth", "strict", "--auth-file", str(keys)])
    ident = client(s, "sts", key="AKIDFROMFILE", secret="s3cr3t/from+file").get_caller_identity()
    assert ident["Account"] == "000000000000"
    ident = client(s, "sts", key="123456789012", secret="another-secret").get_caller_identity()
    assert ident["Account"] == "123456789012"
    assert client(s, "ec2", key="AKIDFROMFILE", secret="s3cr3t/from+file").describe_vpcs()
    p = cli(s, "sts", "get-caller-identity", key="AKIDFROMFILE", secret="s3cr3t/from+file")
    assert p.returncode == 0, p.stderr
    # Only the file's keys are known.
    assert failure(client(s, "sts").get_caller_identity)[0] == "InvalidClientTokenId"
    assert failure(client(s, "sts", key="AKIDFROMFILE", secret="nope").get_caller_identity)[0] \
        == "SignatureDoesNotMatch"


def test_strict_key_that_is_an_account_id(make_server):
    s = make_server(persistent=False, extra=["--auth", "strict", "--auth-key",
                                             "210987654321:topsecret"])
    ident = client(s, "sts", key="210987654321", secret="topsecret").get_caller_identity()
    assert ident["Account"] == "210987654321"
    assert ident["Arn"] == "arn:aws:iam::210987654321:root"


def test_default_mode_account_comes_from_a_12_digit_access_key(server):
    assert client(server, "sts", key="123456789012").get_caller_identity()["Account"] == \
        "123456789012"
    # Anything else is the default account.
    for key in ("AKIDEXAMPLE", "12345678901", "1234567890123", "12345678901a"):
        assert client(server, "sts", key=key).get_caller_identity()["Account"] == \
            "000000000000", key


def test_default_mode_does_not_check_signatures(server):
    # Any secret, any key: the signature is not verified by default.
    a = client(server, "sts", key="123456789012", secret="whatever")
    b = client(server, "sts", key="123456789012", secret="something else")
    assert a.get_caller_identity()["Account"] == b.get_caller_identity()["Account"]
    assert client(server, "logs", secret="x").describe_log_groups()["logGroups"] == []
    p = cli(server, "sts", "get-caller-identity", key="123456789012", secret="zzz")
    assert p.returncode == 0, p.stderr
    assert '"Account": "123456789012"' in p.stdout


def test_default_account_option(make_server):
    s = make_server(persistent=False, extra=["--account", "111122223333"])
    assert client(s, "sts", key="test").get_caller_identity()["Account"] == "111122223333"
    assert client(s, "sts", key="444455556666").get_caller_identity()["Account"] == \
        "444455556666"
