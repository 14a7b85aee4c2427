#!/usr/bin/python3
"""Print the SigV4 fixtures of tests/unit/test_sigv4.c, signed by botocore.

Offline and deterministic: botocore's clock is pinned, nothing is sent.
Run with Debian's botocore (/usr/bin/python3) and paste the output into
test_sigv4.c when a fixture changes:

    /usr/bin/python3 tests/unit/gen_sigv4_fixtures.py
"""
import datetime

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5)


class PinnedClock(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(WHEN.year, WHEN.month, WHEN.day, WHEN.hour, WHEN.minute,
                   WHEN.second)


botocore.auth.datetime.datetime = PinnedClock

FIXTURES = [
    # name, method, url, params, headers, body, akid, secret, service, region
    ("ec2_post", "POST", "http://127.0.0.1:4566/", None,
     {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
      "Host": "127.0.0.1:4566"},
     b"Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=cidr"
     b"&Filter.1.Value.1=10.0.0.0%2F16",
     "AKIDEXAMPLE", "secret", "ec2", "us-east-1"),
    ("sts_get_query", "GET", "http://localhost:4566/",
     [("Version", "2011-06-15"), ("Action", "GetCallerIdentity"),
      ("Zeta", "a b/c"), ("Alpha", "x~y*z")],
     {"Host": "localhost:4566"}, b"",
     "123456789012", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "sts",
     "eu-west-1"),
    ("ecs_json", "POST", "http://127.0.0.1:4566/", None,
     {"Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
      "X-Custom": "  spaced    out  value ",
      "Host": "127.0.0.1:4566"},
     b'{"maxResults": 10}',
     "AKIDEXAMPLE", "secret", "ecs", "us-west-2"),
]


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


for (name, method, url, params, headers, body, akid, secret, service,
     region) in FIXTURES:
    req = AWSRequest(method=method, url=url, params=params, headers=headers,
                     data=body)
    prepared_url = req.prepare().url
    auth = botocore.auth.SigV4Auth(Credentials(akid, secret), service, region)
    auth.add_auth(req)
    query = prepared_url.split("?", 1)[1] if "?" in prepared_url else ""
    print("/* %s */" % name)
    print("    query = %s;" % c_string(query))
    for k, v in req.headers.items():
        print("    header %s: %s" % (c_string(k), c_string(v)))
    print()
