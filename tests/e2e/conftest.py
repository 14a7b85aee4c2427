"""End-to-end test harness: a real ecslocal process driven by real clients.

Every test gets a server that was reset just before it (POST
/_ecslocal/reset), boto3 clients pointed at it, and `aws`, which runs the
AWS CLI v2 from Debian's package (/usr/bin/aws) against it and returns the
parsed JSON.  Tests that restart or kill the server use `make_server` to
get one of their own with a data directory.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import boto3
import botocore.config
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ECSLOCAL_BIN", os.path.join(ROOT, "build", "release", "ecslocal"))
AWS_CLI = os.environ.get("AWS_CLI", "/usr/bin/aws")
# tests/run.sh points the sanitizers' log_path here (one file per process).
SANITIZER_LOG_DIR = os.environ.get("ECSLOCAL_SANITIZER_LOG_DIR")
REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ecslocal process."""

    def __init__(self, data_dir=None, extra=()):
        self.port = free_port()
        self.dns_port = free_port()
        self.data_dir = data_dir
        self.extra = list(extra)
        self.proc = None
        self.log_path = None
        self.prefix = []            # e.g. setpriv, to run it unprivileged

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        args = self.prefix + [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port,
                "--dns-listen", "127.0.0.1:%d" % self.dns_port]
        args += ["--data-dir", self.data_dir] if self.data_dir else ["--in-memory"]
        args += self.extra
        fd, self.log_path = tempfile.mkstemp(prefix="ecslocal-test-", suffix=".log")
        self.log = os.fdopen(fd, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ecslocal exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                with urllib.request.urlopen(self.endpoint + "/_ecslocal/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("ecslocal did not answer within 30 s:\n" + self.read_log())

    def read_log(self):
        # The log quotes client bytes, which need not be UTF-8.
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def discard_log(self):
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def reset(self):
        req = urllib.request.Request(self.endpoint + "/_ecslocal/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 200

    def client(self, service, account=None, region=REGION, **kw):
        key = account or "test"
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=key, aws_secret_access_key="test",
            config=botocore.config.Config(retries={"max_attempts": 1}), **kw)

    def aws(self, *args, account=None, region=REGION, check=True, raw=False):
        """Run the AWS CLI v2; return parsed JSON (or the CompletedProcess
        when check is False or raw is True)."""
        env = dict(os.environ)
        env.update({
            "AWS_ACCESS_KEY_ID": account or "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_PAGER": "",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        })
        cmd = [AWS_CLI, "--endpoint-url", self.endpoint, "--output", "json"] + [str(a) for a in args]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        if raw or not check:
            return p
        if p.returncode != 0:
            raise AssertionError("aws %s failed (%d): %s" % (" ".join(map(str, args)), p.returncode, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}


@pytest.fixture(scope="session")
def server():
    s = Server().start()
    yield s
    rc = s.stop()
    assert rc == 0, "ecslocal did not exit cleanly (%s):\n%s" % (rc, s.read_log()[-4000:])
    s.discard_log()


def sanitizer_reports():
    if not SANITIZER_LOG_DIR or not os.path.isdir(SANITIZER_LOG_DIR):
        return set()
    return set(os.listdir(SANITIZER_LOG_DIR))


@pytest.fixture(autouse=True)
def _no_sanitizer_reports():
    """Fail the test during which any ecslocal process wrote a sanitizer
    report (including leaks reported at exit)."""
    before = sanitizer_reports()
    yield
    text = []
    for name in sorted(sanitizer_reports() - before):
        with open(os.path.join(SANITIZER_LOG_DIR, name), errors="replace") as f:
            report = f.read()
        if re.search(r"ERROR: \w+Sanitizer|runtime error:", report):
            text.append("--- %s\n%s" % (name, report[:6000]))
    if text:
        pytest.fail("sanitizer report(s) during this test:\n" + "\n".join(text), pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_state(request):
    if "server" in request.fixturenames:
        request.getfixturevalue("server").reset()
    yield


@pytest.fixture
def make_server():
    """Factory for servers of a test's own (restarts, kill -9, options)."""
    made = []
    dirs = []

    def make(persistent=True, extra=()):
        d = tempfile.mkdtemp(prefix="ecslocal-data-") if persistent else None
        if d:
            dirs.append(d)
        s = Server(data_dir=d, extra=extra)
        made.append(s)
        return s.start()

    yield make
    for s in made:
        # Tasks outlive a persistent server by design: bring it back if the
        # test killed it, and reset it, so nothing of the test stays.
        try:
            if s.proc is None:
                s.start()
            s.reset()
        except Exception:
            pass
        s.stop()
        s.discard_log()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def ec2(server):
    return server.client("ec2")


@pytest.fixture
def ecs(server):
    return server.client("ecs")


@pytest.fixture
def sts(server):
    return server.client("sts")


@pytest.fixture
def aws(server):
    return server.aws


def error_code(excinfo):
    """The AWS error code of a botocore ClientError."""
    return excinfo.value.response["Error"]["Code"]


def wait_for(fn, timeout=120, interval=0.1, what="condition"):
    """Poll fn until it returns something truthy; return that."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def processes_with(marker):
    """pids (sorted) of the processes whose command line contains marker."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return sorted(pids)
