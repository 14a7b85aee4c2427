"""Shared helpers of the bench phases (bench/phases/*.py).

A phase measures one thing on every server in the run (ecslocal and, when
installed, moto_server) and writes one JSON document to $BENCH_OUT:

    {"phase": "api-mix", "title": "...",
     "rows": [{"metric": ..., "unit": ..., "better": "lower"|"higher",
               "values": {"ecslocal": 1.2, "moto": 30.0},
               "target": {"text": "< 10 ms", "max": 10}}],
     "notes": ["..."], "skipped": {"moto": "why"}, "raw": {...}}

bench/report.py turns those into the Markdown table and latest.json.  When
a server answers NotImplemented (or the service's unknown-operation error)
for an operation a phase needs, the phase raises Unsupported and records a
skip with the server's own message instead of a number.

Only the standard library is used, so the phases run under any python3.
"""
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

WORK = os.environ.get("BENCH_WORK") or tempfile.mkdtemp(prefix="ecsl-bench.")
LOAD = os.environ.get("BENCH_LOAD", "")
FIRSTREPLY = os.environ.get("BENCH_FIRSTREPLY", "")
REGION = "us-east-1"
EC2_VERSION = "2016-11-15"
# Every request carries a SigV4-shaped Authorization header with a real
# credential scope (both servers take the region and service from it) and a
# signature nobody checks (ecslocal runs with --auth off, moto never checks).
AUTH_TEMPLATE = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/{region}/"
                 "{service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                 "Signature=" + "0" * 64)
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

# Error codes that mean "this server does not do that operation".
UNSUPPORTED_CODES = {"NotImplemented", "InvalidAction", "UnknownOperationException",
                     "UnknownOperation", "InvalidAction.NotImplemented"}


class Unsupported(Exception):
    """The server does not emulate an operation a phase needs."""


class CallFailed(Exception):
    pass


def log(msg):
    print(f"  [{os.environ.get('BENCH_PHASE', 'bench')}] {msg}", file=sys.stderr, flush=True)


def auth_header(service, region=REGION):
    return AUTH_TEMPLATE.format(service=service, region=region)


def ec2_headers():
    return {"Content-Type": FORM_TYPE, "Authorization": auth_header("ec2")}


def form(action, params=None, version=EC2_VERSION):
    """URL-encode an EC2/query request body; params keep their order."""
    from urllib.parse import quote
    items = [("Action", action), ("Version", version)] + list((params or {}).items())
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='{}%')}" for k, v in items)


def free_port(udp=False):
    """A free port below the ephemeral range: polling an ephemeral port that
    nobody listens on can self-connect and steal it from the server.  With
    udp, free for both TCP and UDP (a DNS server takes both)."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        kinds = [socket.SOCK_STREAM] + ([socket.SOCK_DGRAM] if udp else [])
        try:
            for kind in kinds:
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port between 20000 and 32000")


def median(xs):
    return statistics.median(xs) if xs else None


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


# --- servers -----------------------------------------------------------------

class Target:
    """A server kind the bench can start: its name and how to run it."""

    def __init__(self, name, argv_for_port):
        self.name = name
        self.argv_for_port = argv_for_port

    def argv(self, port):
        return self.argv_for_port(port)


# ecslocal runs with --networking off unless BENCH_ECSLOCAL_ARGS says
# otherwise: the API phases create thousands of VPCs, which with networking
# would be thousands of namespaces on a machine others use; the kernel side
# has phases of its own.
ECSLOCAL_ARGS = os.environ.get("BENCH_ECSLOCAL_ARGS", "--networking off").split()


def ecslocal_argv(port, data_dir=None, in_memory=False):
    """ecslocal serving on port, its DNS server on another free port (two
    servers cannot share the default 4553), state in data_dir (default: a
    fresh directory) or in memory."""
    argv = [os.environ["ECSLOCAL_BIN"], "serve", "--listen", f"127.0.0.1:{port}",
            "--dns-listen", f"127.0.0.1:{free_port(udp=True)}"]
    if in_memory:
        argv.append("--in-memory")
    else:
        argv += ["--data-dir", data_dir or tempfile.mkdtemp(prefix="ecslocal-data.", dir=WORK)]
    return argv + ECSLOCAL_ARGS


def targets():
    """ecslocal always; moto_server when installed (and not disabled)."""
    out = []
    ecsl = os.environ.get("ECSLOCAL_BIN")
    if not ecsl or not os.access(ecsl, os.X_OK):
        raise SystemExit(f"ECSLOCAL_BIN={ecsl!r} is not an executable")
    out.append(Target("ecslocal", ecslocal_argv))
    moto = os.environ.get("MOTO_BIN")
    if moto:
        out.append(Target("moto", lambda port: [moto, "-H", "127.0.0.1", "-p", str(port)]))
    return out


def _die_with_parent():
    """In the child before exec: the kernel kills the server if the phase
    that started it dies, so no server outlives an interrupted run."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Server:
    """A running server: started fresh, stopped (and reaped) on exit."""

    def __init__(self, target, ecslocal_args=()):
        """ecslocal_args: extra flags when the target is ecslocal."""
        self.target = target
        self.name = target.name
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.logpath = os.path.join(WORK, f"{target.name}-{self.port}.log")
        self.logfile = open(self.logpath, "ab")
        argv = target.argv(self.port)
        if target.name == "ecslocal":
            argv += list(ecslocal_args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.logfile, stderr=subprocess.STDOUT,
                                     cwd=WORK, preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        self.conn = None

    def __enter__(self):
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def wait_listening(self, timeout=120):
        """Until the port accepts a connection; sends no request."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; "
                                   f"see {self.logpath}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                return
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not listen within {timeout} s")

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; "
                                   f"see {self.logpath}")
            try:
                status, _ = self.post(form("DescribeVpcs"), ec2_headers(), fresh=True)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not answer DescribeVpcs within {timeout} s")

    def stop(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()

    def cpu_seconds(self):
        """User + system CPU time the server has used so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        return self.proc_status("VmRSS")

    def proc_status(self, field):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field} for pid {self.pid}")

    def post(self, body, headers, path="/", fresh=False):
        """One request on a kept-alive connection; (status, text)."""
        for attempt in range(2):
            if fresh or self.conn is None:
                if self.conn:
                    self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request("POST", path, body=body.encode(), headers=headers)
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, text
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def reset(self):
        status, text = self.post("", {"Content-Length": "0"}, path="/moto-api/reset")
        if status != 200:
            raise CallFailed(f"{self.name}: POST /moto-api/reset answered {status}: {text[:200]}")

    def ec2(self, action, params=None):
        """An EC2 call; the response XML on success.  Raises Unsupported when
        the server does not emulate the action, CallFailed on other errors."""
        status, text = self.post(form(action, params), ec2_headers())
        if status == 200:
            return text
        code = xml_first(text, "Code") or "?"
        if status == 501 or code in UNSUPPORTED_CODES:
            raise Unsupported(f"{self.name} answers {code} for ec2:{action}: "
                              f"{xml_first(text, 'Message') or text[:200]}")
        raise CallFailed(f"{self.name} ec2:{action} -> HTTP {status} {code}: "
                         f"{xml_first(text, 'Message') or text[:300]}")

    def json_call(self, target_prefix, service, operation, payload):
        """A JSON 1.1 call (ECS, Cloud Map, Logs); the decoded answer."""
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": f"{target_prefix}.{operation}",
                   "Authorization": auth_header(service)}
        status, text = self.post(json.dumps(payload), headers)
        try:
            doc = json.loads(text) if text else {}
        except ValueError:
            doc = {"__raw": text[:300]}
        if status == 200:
            return doc
        code = str(doc.get("__type", doc.get("code", "?"))).split("#")[-1]
        msg = doc.get("message", doc.get("Message", text[:300]))
        if status == 501 or code in UNSUPPORTED_CODES:
            raise Unsupported(f"{self.name} answers {code} for {service}:{operation}: {msg}")
        raise CallFailed(f"{self.name} {service}:{operation} -> HTTP {status} {code}: {msg}")


def xml_first(text, tag):
    m = re.search(rf"<{tag}>([^<]*)</{tag}>", text)
    return m.group(1) if m else None


def xml_all(text, tag):
    return re.findall(rf"<{tag}>([^<]*)</{tag}>", text)


def tag_spec(resource_type, name):
    return {"TagSpecification.1.ResourceType": resource_type,
            "TagSpecification.1.Tag.1.Key": "Name",
            "TagSpecification.1.Tag.1.Value": name}


# --- the load generator ------------------------------------------------------

def write_requests(path, lines):
    """lines: dicts {"tag", "body", optional "headers", "path"}."""
    with open(path, "w") as f:
        for line in lines:
            doc = {"tag": line["tag"], "path": line.get("path", "/"),
                   "headers": line.get("headers") or ec2_headers(), "body": line["body"]}
            f.write(json.dumps(doc) + "\n")


def run_load(server, lines, threads=16, duration=None, count=None, warmup=0.0,
             seq_start=0, name="load"):
    """Run bench/load.c against server; returns its JSON result."""
    if not LOAD:
        raise SystemExit("BENCH_LOAD is not set (run the phases through bench/run.sh)")
    path = os.path.join(WORK, f"{name}-{server.name}-{server.port}.jsonl")
    write_requests(path, lines)
    argv = [LOAD, "--target", server.addr, "--requests", path, "--threads", str(threads),
            "--seq-start", str(seq_start)]
    if duration:
        argv += ["--duration", str(duration), "--warmup", str(warmup)]
    else:
        argv += ["--count", str(count)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True)
    if out.stderr.strip():
        log(out.stderr.strip())
    return json.loads(out.stdout)


def fill(server, lines, count, threads=8, seq_start=0, name="fill"):
    """Send `count` requests cycling through lines (in order) and insist that
    every one succeeded: a fill that silently failed would fake the sizes."""
    res = run_load(server, lines, threads=threads, count=count, seq_start=seq_start,
                   name=name)
    if res["ok"] != count:
        raise CallFailed(f"{server.name}: {name}: {res['ok']} of {count} requests "
                         f"succeeded; status {res['status']}, io errors "
                         f"{res['io_errors']}; first error: {res['error_sample'][:300]}")
    return res


# --- phase output ------------------------------------------------------------

class Phase:
    def __init__(self, name, title):
        self.doc = {"phase": name, "title": title, "rows": [], "notes": [], "skipped": {},
                    "raw": {}}

    def row(self, metric, unit, values, better="lower", target=None, key=None):
        """values: {server name: number or None}.  target: {"text", and one
        of "max", "min" (absolute) or "ratio_min" (times better than moto)}."""
        r = {"metric": metric, "unit": unit, "better": better, "values": values}
        if target:
            r["target"] = target
        if key:
            r["key"] = key
        self.doc["rows"].append(r)

    def note(self, text):
        self.doc["notes"].append(text)
        log(text)

    def skip(self, server_name, reason):
        self.doc["skipped"][server_name] = reason
        log(f"skipped for {server_name}: {reason}")

    def raw(self, key, value):
        self.doc["raw"][key] = value

    def emit(self):
        out = os.environ.get("BENCH_OUT")
        text = json.dumps(self.doc, indent=2)
        if out:
            with open(out, "w") as f:
                f.write(text + "\n")
        else:
            print(text)


def supported_ops(server, probes):
    """probes: {op: callable(server) that performs it}.  Returns {op: None or
    the Unsupported message}."""
    result = {}
    for op, probe in probes.items():
        try:
            probe(server)
            result[op] = None
        except Unsupported as e:
            result[op] = str(e)
    return result
