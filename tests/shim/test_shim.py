"""The task supervisor (`ecslocal shim DIR`) and the placeholder server,
driven through their files as the daemon drives them (docs/task-runtime.md):
hand-written spec.json files in temporary directories; assertions on
status.json, the container logs, process trees and namespaces.

Run through tests/shim/run.sh (as root).  Every test removes what it made:
task directories, network namespaces, processes.
"""
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

BIN = os.environ["ECSLOCAL_BIN"]
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")

if os.geteuid() != 0:
    pytest.skip("the shim tests need root (namespaces)", allow_module_level=True)


def wait_for(what, fn, timeout=30.0):
    """Polls fn until it returns something truthy; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def container(name, argv=None, **kw):
    c = {
        "name": name, "argv": argv, "env": [PATH_ENV], "cwd": "/", "user": None,
        "essential": True, "stop_timeout": 5, "depends_on": [], "health": None,
        "placeholder": None, "netns": None,
    }
    c.update(kw)
    return c


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def pid_ns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def pids_in_ns(ns):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit() and pid_ns(p) == ns:
            out.append(int(p))
    return out


class Task:
    def __init__(self, root, containers, stop_first=False, wrap=(), **spec):
        self.dir = os.path.join(root, "task-" + uuid.uuid4().hex[:8])
        os.mkdir(self.dir)
        self.spec = {
            "task_id": uuid.uuid4().hex, "task_arn": "arn:aws:ecs:us-east-1:000000000000:task/t",
            "hostname": None, "isolate": False, "netns": None, "hosts": None,
            "resolv_conf": None, "containers": containers,
        }
        self.spec.update(spec)
        with open(os.path.join(self.dir, "spec.json"), "w") as f:
            json.dump(self.spec, f)
        if stop_first:
            self.stop_file()
        self.proc = subprocess.Popen([*wrap, BIN, "shim", self.dir], stdin=subprocess.DEVNULL)
        self.seen_pids = set()

    def path(self, name):
        return os.path.join(self.dir, name)

    def status(self):
        try:
            with open(self.path("status.json")) as f:
                st = json.load(f)
        except FileNotFoundError:
            return None
        for c in st["containers"].values():
            if c["pid"]:
                self.seen_pids.add(c["pid"])
        if st["pause_pid"]:
            self.seen_pids.add(st["pause_pid"])
        return st

    def wait(self, what, pred, timeout=30.0):
        last = {}

        def check():
            st = last["st"] = self.status()
            return st if st and pred(st) else None
        try:
            return wait_for(what, check, timeout)
        except pytest.fail.Exception:
            try:
                with open(self.path("shim.log")) as f:
                    shimlog = f.read()
            except FileNotFoundError:
                shimlog = "(none)"
            pytest.fail(f"timed out waiting for {what}; status: {last.get('st')}\n"
                        f"shim.log:\n{shimlog}")

    def ctr(self, name):
        return self.status()["containers"][name]

    def wait_state(self, name, state):
        return self.wait(f"{name} {state}", lambda s: s["containers"][name]["state"] == state)

    def wait_done(self, timeout=30.0, rc=0):
        st = self.wait("done", lambda s: s["done"], timeout)
        assert self.proc.wait(timeout=timeout) == rc
        for pid in self.seen_pids:
            assert not pid_alive(pid), f"pid {pid} of the task survived the shim"
        return st

    def log(self, name):
        """[(ms, fd, text)] from <name>.log."""
        try:
            with open(self.path(name + ".log"), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in data.split(b"\n")[:-1]:
            ms, fd, text = line.split(b" ", 2)
            out.append((int(ms), int(fd), text.decode(errors="replace")))
        return out

    def texts(self, name, fd=None):
        return [t for _, f, t in self.log(name) if fd is None or f == fd]

    def wait_log(self, name, text):
        return wait_for(f"{text!r} in {name}.log", lambda: text in self.texts(name))

    def stop_file(self):
        open(self.path("stop"), "w").close()

    def cleanup(self):
        if self.proc.poll() is None:
            # A stop ends everything the shim started; SIGKILL only if it hangs.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.seen_pids:
            wait_for(f"pid {pid} to go", lambda: not pid_alive(pid), 10)
        try:
            with open(self.path("shim.log")) as f:
                shimlog = f.read()
        except FileNotFoundError:
            shimlog = ""
        logs = ""
        for n in os.listdir(self.dir):
            if n.endswith(".log"):
                with open(self.path(n), errors="replace") as f:
                    logs += f.read()
        return shimlog, logs


@pytest.fixture
def task():
    """task(containers, **spec) starts a shim; all are cleaned up after."""
    root = tempfile.mkdtemp(prefix="ecsl-shimtest-")
    tasks = []

    def start(containers, stop_first=False, wrap=(), **spec):
        t = Task(root, containers, stop_first, wrap, **spec)
        tasks.append(t)
        return t
    yield start
    reports = []
    for t in tasks:
        shimlog, logs = t.cleanup()
        if SANITIZER.search(shimlog) or SANITIZER.search(logs):
            reports.append(shimlog + logs)
    subprocess.run(["rm", "-rf", root], check=True)
    assert not reports, "sanitizer report:\n" + "\n".join(reports)


@pytest.fixture
def scratch():
    """A directory for the test's own files, removed afterwards."""
    d = tempfile.mkdtemp(prefix="ecsl-shimtest-")
    yield pathlib.Path(d)
    subprocess.run(["rm", "-rf", d], check=True)


@pytest.fixture
def netns():
    """A network namespace of the test's own, removed afterwards."""
    names = []

    def make():
        name = "ecsl-shimtest-" + uuid.uuid4().hex[:8]
        subprocess.run(["ip", "netns", "add", name], check=True)
        names.append(name)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        return name
    yield make
    for name in names:
        subprocess.run(["ip", "netns", "del", name], check=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- running, exit codes, logs -------------------------------------------

def test_exit_code_and_log_lines(task):
    t = task([container("app", ["sh", "-c", "echo hello; echo oops >&2; printf tail; exit 3"])])
    st = t.wait_done()
    app = st["containers"]["app"]
    assert app["state"] == "STOPPED"
    assert app["exit_code"] == 3
    assert app["reason"] is None
    assert app["started_at"] <= app["finished_at"]
    assert st["stop_code"] == "EssentialContainerExited"
    assert st["stop_reason"] == "Essential container in task exited"
    assert st["shim_pid"] == t.proc.pid
    log = t.log("app")
    assert [(fd, text) for _, fd, text in log if fd == 1] == [(1, "hello"), (1, "tail")]
    assert [(fd, text) for _, fd, text in log if fd == 2] == [(2, "oops")]
    for ms, _, _ in log:
        assert abs(ms / 1000 - app["started_at"]) < 3600


def test_killed_by_signal_is_128_plus_signal(task):
    t = task([container("app", ["sh", "-c", "kill -SEGV $$"])])
    assert t.wait_done()["containers"]["app"]["exit_code"] == 139


def test_env_is_exactly_the_spec_and_cwd(task, scratch):
    t = task([container("app", ["/usr/bin/env"], env=[PATH_ENV, "K=V", "EMPTY="], cwd="/tmp",
                        essential=False),
              container("pwd", ["pwd"], cwd="/tmp", essential=False)])
    t.wait_done()
    assert sorted(t.texts("app")) == sorted([PATH_ENV, "K=V", "EMPTY="])
    assert t.texts("pwd") == ["/tmp"]


def test_long_lines_are_split(task):
    t = task([container("app", ["sh", "-c", "head -c 600000 /dev/zero | tr '\\0' a; echo; echo end"])])
    t.wait_done()
    lens = [len(x) for x in t.texts("app", 1)]
    assert lens == [262144, 262144, 600000 - 2 * 262144, 3]


def test_lots_of_output_in_order(task):
    t = task([container("app", ["sh", "-c", "seq 1 200000; seq 1 1000 >&2"])])
    t.wait_done()
    assert t.texts("app", 1) == [str(i) for i in range(1, 200001)]
    assert t.texts("app", 2) == [str(i) for i in range(1, 1001)]


def test_no_inherited_fds(task):
    t = task([container("app", ["ls", "-l", "/proc/self/fd/"])])
    t.wait_done()
    fds = {}
    for line in t.texts("app"):
        m = re.search(r" (\d+) -> (.*)$", line)
        if m:
            fds[int(m.group(1))] = m.group(2)
    # ls has the directory it lists open; nothing else beyond stdio.
    extra = {fd: tgt for fd, tgt in fds.items() if fd > 2 and not tgt.endswith("/fd")}
    assert extra == {}
    assert fds[0] == "/dev/null"
    assert fds[1].startswith("pipe:") and fds[2].startswith("pipe:")


def test_user(task):
    t = task([container("app", ["id"], user="nobody", essential=False),
              container("num", ["id", "-u"], user="4321:4322", essential=False)])
    t.wait_done()
    out = t.texts("app")[0]
    assert out.startswith("uid=65534(nobody) gid=65534(nogroup)")
    assert t.texts("num") == ["4321"]


# ---- containers that cannot start -----------------------------------------

@pytest.mark.parametrize("argv,kw,reason", [
    (["nosuch-ecsl"], {},
     'CannotStartContainerError: exec: "nosuch-ecsl": executable file not found in $PATH'),
    (["/nosuch/prog"], {},
     'CannotStartContainerError: exec: "/nosuch/prog": stat /nosuch/prog: no such file or directory'),
    (["/etc/shadow"], {},
     'CannotStartContainerError: exec: "/etc/shadow": permission denied'),
    (["true"], {"cwd": "/nosuch-dir"},
     'CannotStartContainerError: chdir to cwd ("/nosuch-dir") set in config.json failed: '
     'no such file or directory'),
    (["true"], {"user": "nosuch-user"},
     "CannotStartContainerError: unable to find user nosuch-user: no matching entries in passwd file"),
])
def test_cannot_start(task, argv, kw, reason):
    t = task([container("app", argv, **kw)])
    st = t.wait_done()
    app = st["containers"]["app"]
    assert app["state"] == "STOPPED"
    assert app["exit_code"] is None
    assert app["reason"] == reason
    assert app["started_at"] is None
    assert st["stop_code"] == "TaskFailedToStart"
    assert st["stop_reason"] == reason


def test_exec_failure_of_a_non_executable_format(task, scratch):
    prog = scratch / "notelf"
    prog.write_bytes(b"\x00\x01\x02garbage")
    prog.chmod(0o755)
    t = task([container("app", [str(prog)])])
    st = t.wait_done()
    assert st["containers"]["app"]["reason"] == \
        f"CannotStartContainerError: exec {prog}: exec format error"


def test_non_essential_cannot_start_does_not_stop_the_task(task):
    t = task([container("app", ["sleep", "1000"]),
              container("side", ["nosuch-ecsl"], essential=False)])
    t.wait("side stopped, app running",
           lambda s: s["containers"]["side"]["state"] == "STOPPED"
           and s["containers"]["app"]["state"] == "RUNNING")
    st = t.status()
    assert st["stopping"] is False
    assert st["stop_code"] is None
    t.stop_file()
    st = t.wait_done()
    assert st["stop_code"] is None
    assert st["containers"]["app"]["exit_code"] == 143


# ---- essential and non-essential -------------------------------------------

def test_non_essential_exit_keeps_the_task(task):
    t = task([container("app", ["sleep", "1000"]),
              container("job", ["sh", "-c", "exit 4"], essential=False)])
    st = t.wait_state("job", "STOPPED")
    assert st["containers"]["job"]["exit_code"] == 4
    assert st["containers"]["app"]["state"] == "RUNNING"
    assert st["stopping"] is False and st["done"] is False
    t.stop_file()
    st = t.wait_done()
    assert st["stop_code"] is None and st["stop_reason"] is None
    assert st["containers"]["app"]["exit_code"] == 143


def test_essential_exit_stops_the_others(task):
    t = task([container("side", ["sleep", "1000"], essential=False),
              container("app", ["sh", "-c", "exit 1"])])
    st = t.wait_done()
    assert st["stop_code"] == "EssentialContainerExited"
    assert st["containers"]["app"]["exit_code"] == 1
    assert st["containers"]["side"]["exit_code"] == 143


def test_all_non_essential_exited_is_done(task):
    t = task([container("a", ["true"], essential=False),
              container("b", ["sh", "-c", "exit 2"], essential=False)])
    st = t.wait_done()
    assert st["stop_code"] is None
    assert st["containers"]["a"]["exit_code"] == 0
    assert st["containers"]["b"]["exit_code"] == 2


# ---- dependsOn ---------------------------------------------------------------

def test_depends_on_start_complete_success(task):
    t = task([
        container("app", ["sleep", "1000"], depends_on=[
            {"container": "init", "condition": "SUCCESS"},
            {"container": "side", "condition": "START"},
            {"container": "migrate", "condition": "COMPLETE"}]),
        container("init", ["sh", "-c", "echo init"], essential=False),
        container("migrate", ["sh", "-c", "exit 5"], essential=False,
                  depends_on=[{"container": "init", "condition": "COMPLETE"}]),
        container("side", ["sleep", "1000"], essential=False),
    ])
    st = t.wait_state("app", "RUNNING")
    c = st["containers"]
    assert c["init"]["exit_code"] == 0
    assert c["migrate"]["exit_code"] == 5
    assert c["app"]["started_at"] >= c["init"]["finished_at"]
    assert c["app"]["started_at"] >= c["migrate"]["finished_at"]
    assert c["app"]["started_at"] >= c["side"]["started_at"]
    assert c["migrate"]["started_at"] >= c["init"]["finished_at"]
    t.stop_file()
    st = t.wait_done()
    # Reverse order on the way down: side (which app depends on) outlives app.
    assert st["containers"]["side"]["finished_at"] >= st["containers"]["app"]["finished_at"]


def test_depends_on_success_that_fails(task):
    t = task([container("app", ["sleep", "1000"],
                        depends_on=[{"container": "init", "condition": "SUCCESS"}]),
              container("init", ["sh", "-c", "exit 1"], essential=False)])
    st = t.wait_done()
    app = st["containers"]["app"]
    assert app["state"] == "STOPPED"
    assert app["exit_code"] is None
    assert app["reason"] == ("CannotStartContainerError: dependency graph: failed to resolve "
                             "container ordering dependency [init] for target [app] as "
                             "dependency did not exit successfully.")
    assert st["stop_code"] == "TaskFailedToStart"
    assert st["stop_reason"] == app["reason"]


def test_depends_on_healthy(task, scratch):
    ready = scratch / "ready"
    t = task([
        container("app", ["sleep", "1000"], depends_on=[{"container": "db", "condition": "HEALTHY"}]),
        container("db", ["sleep", "1000"], essential=False,
                  health={"command": ["CMD-SHELL", f"test -f {ready}"], "interval": 0.1,
                          "timeout": 5, "retries": 100, "start_period": 0}),
    ])
    st = t.wait("a failed check", lambda s: s["containers"]["db"]["health_exit_code"] == 1)
    assert st["containers"]["app"]["state"] == "PENDING"
    assert st["containers"]["db"]["health"] == "UNKNOWN"
    ready.touch()
    st = t.wait_state("app", "RUNNING")
    db = st["containers"]["db"]
    assert db["health"] == "HEALTHY"
    assert st["containers"]["app"]["started_at"] >= db["health_since"]
    t.stop_file()
    t.wait_done()


def test_depends_on_healthy_of_a_container_that_exits(task):
    t = task([
        container("app", ["sleep", "1000"], depends_on=[{"container": "db", "condition": "HEALTHY"}]),
        container("db", ["sh", "-c", "exit 0"], essential=False,
                  health={"command": ["CMD", "false"], "interval": 10, "timeout": 5,
                          "retries": 3, "start_period": 0}),
    ])
    st = t.wait_done()
    assert "as dependency stopped before becoming healthy" in st["containers"]["app"]["reason"]
    assert st["stop_code"] == "TaskFailedToStart"


# ---- health checks -------------------------------------------------------------

def test_health_check_healthy(task):
    t = task([container("app", ["sleep", "1000"],
                        health={"command": ["CMD-SHELL", "echo fine;", "echo $K"], "interval": 0.1,
                                "timeout": 5, "retries": 3, "start_period": 0},
                        env=[PATH_ENV, "K=from-env"])])
    st = t.wait("healthy", lambda s: s["containers"]["app"]["health"] == "HEALTHY")
    app = st["containers"]["app"]
    assert app["health_exit_code"] == 0
    assert app["health_output"] == "fine\nfrom-env\n"
    assert app["health_since"] >= app["started_at"]
    t.stop_file()
    t.wait_done()


def test_health_check_unhealthy_after_retries(task, scratch):
    runs = scratch / "runs"
    t = task([container("app", ["sleep", "1000"],
                        health={"command": ["CMD", "sh", "-c", f"echo x >> {runs}; echo bad; exit 2"],
                                "interval": 0.1, "timeout": 5, "retries": 3, "start_period": 0})])
    st = t.wait("unhealthy", lambda s: s["containers"]["app"]["health"] == "UNHEALTHY")
    assert runs.read_text().count("x") >= 3
    app = st["containers"]["app"]
    assert app["health_exit_code"] == 2
    assert app["health_output"] == "bad\n"
    # Unhealthy does not stop anything by itself (the daemon decides).
    assert app["state"] == "RUNNING" and st["stopping"] is False
    t.stop_file()
    t.wait_done()


def test_health_check_start_period_and_recovery(task, scratch):
    runs, ok = scratch / "runs", scratch / "ok"
    t = task([container("app", ["sleep", "1000"],
                        health={"command": ["CMD-SHELL", f"echo x >> {runs}; test -f {ok}"],
                                "interval": 0.05, "timeout": 5, "retries": 1,
                                "start_period": 3600})])
    wait_for("5 checks", lambda: runs.exists() and runs.read_text().count("x") >= 5)
    app = t.ctr("app")
    assert app["health"] == "UNKNOWN"          # failures in the start period do not count
    assert app["health_exit_code"] == 1
    ok.touch()
    t.wait("healthy", lambda s: s["containers"]["app"]["health"] == "HEALTHY")
    ok.unlink()
    # After the first success, failures count even in the start period.
    t.wait("unhealthy", lambda s: s["containers"]["app"]["health"] == "UNHEALTHY")
    t.stop_file()
    t.wait_done()


def test_health_check_output_is_cut_at_1_kib(task):
    t = task([container("app", ["sleep", "1000"],
                        health={"command": ["CMD-SHELL", "head -c 5000 /dev/zero | tr '\\0' z"],
                                "interval": 0.1, "timeout": 5, "retries": 1, "start_period": 0})])
    st = t.wait("healthy", lambda s: s["containers"]["app"]["health"] == "HEALTHY")
    assert st["containers"]["app"]["health_output"] == "z" * 1024
    t.stop_file()
    t.wait_done()


def test_health_check_timeout(task):
    t = task([container("app", ["sleep", "1000"],
                        health={"command": ["CMD-SHELL", "sleep 1000"], "interval": 0.1,
                                "timeout": 0.2, "retries": 1, "start_period": 0})])
    st = t.wait("unhealthy", lambda s: s["containers"]["app"]["health"] == "UNHEALTHY")
    app = st["containers"]["app"]
    assert app["health_exit_code"] == -1
    assert app["health_output"] == "Health check exceeded timeout (0.2s)"
    t.stop_file()
    t.wait_done()


def test_health_check_command_not_found(task):
    t = task([container("app", ["sleep", "1000"],
                        health={"command": ["CMD", "nosuch-check"], "interval": 0.1,
                                "timeout": 1, "retries": 1, "start_period": 0})])
    st = t.wait("unhealthy", lambda s: s["containers"]["app"]["health"] == "UNHEALTHY")
    assert st["containers"]["app"]["health_exit_code"] == 127
    assert "executable file not found in $PATH" in st["containers"]["app"]["health_output"]
    t.stop_file()
    t.wait_done()


# ---- stopping ------------------------------------------------------------------

STUBBORN = "trap '' TERM; echo ready; while :; do sleep 0.05; done"


@pytest.mark.parametrize("how", ["stop_file", "sigterm"])
def test_stop_kills_after_stop_timeout(task, how):
    t = task([container("app", ["sh", "-c", STUBBORN], stop_timeout=1),
              container("nice", ["sleep", "1000"], essential=False)])
    t.wait_log("app", "ready")
    t.wait_state("nice", "RUNNING")
    if how == "stop_file":
        t.stop_file()
    else:
        t.proc.send_signal(signal.SIGTERM)
    st = t.wait("stopping", lambda s: s["stopping"])
    assert st["stop_code"] is None
    st = t.wait_done()
    assert st["containers"]["app"]["exit_code"] == 137
    assert st["containers"]["nice"]["exit_code"] == 143
    assert st["stop_code"] is None and st["stop_reason"] is None


def test_stop_before_start_leaves_pending_containers_stopped(task, scratch):
    t = task([container("app", ["sleep", "1000"],
                        depends_on=[{"container": "never", "condition": "SUCCESS"}]),
              container("never", ["sleep", "1000"], essential=False)])
    t.wait_state("never", "RUNNING")
    t.stop_file()
    st = t.wait_done()
    assert st["containers"]["app"]["state"] == "STOPPED"
    assert st["containers"]["app"]["exit_code"] is None
    assert st["containers"]["app"]["started_at"] is None


def test_stop_file_present_at_start(task):
    t = task([container("app", ["sleep", "1000"])], stop_first=True)
    st = t.wait_done()
    assert st["containers"]["app"]["state"] == "STOPPED"
    assert st["containers"]["app"]["started_at"] is None
    assert st["stop_code"] is None


def test_stop_file_alone_stops_the_task(task):
    # Without the daemon's SIGTERM, the stop file alone is noticed (the
    # shim looks for it every second).
    t = task([container("app", ["sleep", "1000"])])
    t.wait_state("app", "RUNNING")
    t.stop_file()
    st = t.wait_done()
    assert st["containers"]["app"]["exit_code"] == 143


def test_orphans_and_escaped_groups_are_killed_without_isolation(task, scratch):
    pidfile = scratch / "bg"
    t = task([container("app", ["sh", "-c", f"setsid sleep 1000 & echo $! > {pidfile}; "
                                           "sleep 1000 & exit 0"])])
    t.wait_done()
    bg = int(pidfile.read_text())
    assert not pid_alive(bg)


def test_shim_killed_takes_the_task_with_it(task):
    t = task([container("app", ["sleep", "1000"])], isolate=True)
    st = t.wait_state("app", "RUNNING")
    ns = pid_ns(st["pause_pid"])
    app_pid = st["containers"]["app"]["pid"]
    t.proc.kill()
    t.proc.wait()
    wait_for("the task's processes to go", lambda: not pids_in_ns(ns) and not pid_alive(app_pid))


# ---- isolation -----------------------------------------------------------------

def test_isolation(task):
    host_name = socket.gethostname()
    with open("/etc/hosts") as f:
        host_hosts = f.read()
    hosts = "127.0.0.1 localhost\n10.0.1.5 ip-10-0-1-5.ec2.internal\n"
    resolv = "nameserver 10.0.0.2\nsearch ec2.internal\n"
    script = ("hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; "
              "cat /etc/hostname; echo ---; ps -e -o pid=,comm=; echo ---; echo $$; "
              "ls /proc | grep -c '^[0-9]'; echo END")
    # app starts once other has (so other is past its exec when app runs ps).
    t = task([container("app", ["sh", "-c", script + "; exec sleep 1000"],
                        depends_on=[{"container": "other", "condition": "START"}]),
              container("other", ["sleep", "1000"], essential=False)],
             isolate=True, hostname="ip-10-0-1-5.ec2.internal", hosts=hosts, resolv_conf=resolv)
    st = t.wait_state("app", "RUNNING")
    t.wait_log("app", "END")
    out = "\n".join(t.texts("app")[:-1]).split("\n---\n")
    assert out[0] == "ip-10-0-1-5.ec2.internal"
    assert out[1] + "\n" == hosts
    assert out[2] + "\n" == resolv
    assert out[3] == "ip-10-0-1-5.ec2.internal"
    procs = {}
    for line in out[4].splitlines():
        pid, comm = line.split()
        procs[int(pid)] = comm
    assert procs[1] == "ecsl-pause"
    assert set(procs.values()) <= {"ecsl-pause", "sh", "sleep", "ps"}, procs
    assert "ecsl-shim" not in procs.values()
    my_pid, nproc = out[5].splitlines()
    assert int(my_pid) in procs
    # /proc is the task's: pause, app's sh, the other sleep (ls and grep
    # have pids too while they run).
    assert 3 <= int(nproc) <= 6

    # From the host: the pause is a child of the shim, in its own pid namespace
    # with exactly the task's processes.
    pause = st["pause_pid"]
    with open(f"/proc/{pause}/stat") as f:
        assert f.read().split(") ")[1].split()[1] == str(t.proc.pid)
    with open(f"/proc/{pause}/comm") as f:
        assert f.read().strip() == "ecsl-pause"
    with open(f"/proc/{t.proc.pid}/comm") as f:
        assert f.read().strip() == "ecsl-shim"
    for name in ("app", "other"):
        pid = st["containers"][name]["pid"]
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().split(") ")[1].split()
        assert int(fields[1]) == t.proc.pid         # a child of the shim
        assert int(fields[2]) == pid                # leading its own process group
    ns = pid_ns(pause)
    assert ns != pid_ns(os.getpid())
    assert set(pids_in_ns(ns)) == {pause, st["containers"]["app"]["pid"],
                                   st["containers"]["other"]["pid"]}
    # The host is untouched.
    assert socket.gethostname() == host_name
    with open("/etc/hosts") as f:
        assert f.read() == host_hosts
    t.stop_file()
    t.wait_done()
    assert not pids_in_ns(ns)


def test_isolated_orphans_die_with_the_task(task, scratch):
    flag = scratch / "detached"
    # app exits once its setsid child has left app's process group.
    script = (f"setsid sh -c 'touch {flag}; exec sleep 1000' & sleep 1000 & "
              f"while [ ! -e {flag} ]; do sleep 0.01; done; exit 0")
    t = task([container("app", ["sh", "-c", script], essential=False),
              container("keep", ["sleep", "1000"])], isolate=True)
    st = t.wait_state("app", "STOPPED")
    assert st["containers"]["app"]["exit_code"] == 0
    ns = pid_ns(st["pause_pid"])
    # The setsid orphan lives on in the task (with pause and keep); the
    # other was in app's process group and goes with it.
    wait_for("3 processes in the task", lambda: len(pids_in_ns(ns)) == 3)
    t.stop_file()
    t.wait_done()
    assert not pids_in_ns(ns)


def add_link(ns, name):
    """A veth pair <name>a/<name>b inside the namespace."""
    subprocess.run(["ip", "-n", ns, "link", "add", name + "a", "type", "veth",
                    "peer", "name", name + "b"], check=True)


LINKS = "ip -br link | cut -d' ' -f1 | cut -d@ -f1"


def test_netns(task, netns):
    ns = netns()
    add_link(ns, "ecsl-t")
    t = task([container("app", ["sh", "-c", LINKS + "; echo ---; ls /sys/class/net"])],
             isolate=True, netns=f"/var/run/netns/{ns}")
    t.wait_done()
    ip, sys = "\n".join(t.texts("app")).split("\n---\n")
    assert sorted(ip.split()) == ["ecsl-ta", "ecsl-tb", "lo"]
    assert sorted(sys.split()) == ["ecsl-ta", "ecsl-tb", "lo"]


def test_container_with_its_own_netns(task, netns):
    task_ns, own_ns = netns(), netns()
    add_link(own_ns, "ecsl-o")
    t = task([container("own", ["sh", "-c", LINKS], essential=False,
                        netns=f"/var/run/netns/{own_ns}"),
              container("shared", ["sh", "-c", LINKS], essential=False)],
             isolate=True, netns=f"/var/run/netns/{task_ns}")
    t.wait_done()
    assert sorted(t.texts("own")) == ["ecsl-oa", "ecsl-ob", "lo"]
    assert t.texts("shared") == ["lo"]


def test_health_check_in_the_containers_netns(task, netns):
    own_ns = netns()
    add_link(own_ns, "ecsl-h")
    t = task([container("own", ["sleep", "1000"], netns=f"/var/run/netns/{own_ns}",
                        health={"command": ["CMD-SHELL", "ip -o link | grep -q ecsl-ha"],
                                "interval": 0.1, "timeout": 5, "retries": 1, "start_period": 0})],
             isolate=True)
    t.wait("healthy", lambda s: s["containers"]["own"]["health"] == "HEALTHY")
    t.stop_file()
    t.wait_done()


def test_bad_netns_fails_the_task(task):
    t = task([container("app", ["true"])], isolate=True, netns="/var/run/netns/ecsl-shimtest-none")
    st = t.wait_done(rc=1)
    assert st["stop_code"] == "TaskFailedToStart"
    assert st["stop_reason"].startswith("ResourceInitializationError: opening network namespace")
    assert st["containers"]["app"]["state"] == "STOPPED"
    assert st["containers"]["app"]["reason"] == st["stop_reason"]


def test_resolv_conf_symlink_and_missing_hostname(task, scratch):
    # A private /etc for this shim (run under `unshare -m`): resolv.conf a
    # symlink, no hostname file.
    etc = scratch / "etc"
    subprocess.run(["cp", "-a", "/etc", str(etc)], check=True)
    real = scratch / "real-resolv.conf"
    real.write_text("nameserver 192.0.2.1\n")
    (etc / "resolv.conf").unlink()
    (etc / "resolv.conf").symlink_to(real)
    if (etc / "hostname").exists():
        (etc / "hostname").unlink()
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            f'mount --bind {etc} /etc && exec "$0" "$@"']
    resolv = "nameserver 10.0.0.2\n"
    t = task([container("app", ["sh", "-c", "cat /etc/resolv.conf; hostname; "
                                            "test -e /etc/hostname || echo no-hostname-file"])],
             wrap=wrap, isolate=True, hostname="ip-10-0-9-9.ec2.internal", resolv_conf=resolv)
    t.wait_done()
    assert t.texts("app") == ["nameserver 10.0.0.2", "ip-10-0-9-9.ec2.internal", "no-hostname-file"]
    assert real.read_text() == "nameserver 192.0.2.1\n"


def test_depends_on_cycle_is_refused(task):
    t = task([container("a", ["true"], depends_on=[{"container": "b", "condition": "START"}]),
              container("b", ["true"], depends_on=[{"container": "a", "condition": "START"}])])
    st = t.wait_done(rc=1)
    assert st["stop_code"] == "TaskFailedToStart"
    assert "forms a cycle" in st["stop_reason"]


def test_bad_spec_fails_the_task(task):
    t = task([{"name": "bad/name", "argv": ["true"]}])
    st = t.wait_done(rc=1)
    assert st["stop_code"] == "TaskFailedToStart"
    assert "bad container name" in st["stop_reason"]


# ---- the placeholder -----------------------------------------------------------

def curl(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["curl", "-sS", "--max-time", "10", *args]
    r = subprocess.run(cmd, capture_output=True, check=True)
    r.stdout, r.stderr = r.stdout.decode(), r.stderr.decode()
    return r


def test_placeholder_in_a_netns(task, netns):
    ns = netns()
    body = '{"task": "t-1"}'
    p1, p2 = free_port(), free_port()
    t = task([container("web", None, placeholder={"ports": [p1, p2], "body": body})],
             isolate=True, netns=f"/var/run/netns/{ns}")
    t.wait_log("web", f"placeholder: listening on port(s) {p1}, {p2}")
    r = curl("-i", f"http://127.0.0.1:{p1}/any/path?x=1", ns=ns)
    head, got = r.stdout.split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.1 200 OK")
    assert "Content-Type: application/json" in head
    assert f"Content-Length: {len(body)}" in head
    assert got == body
    r = curl("-v", f"http://127.0.0.1:{p2}/a", f"http://127.0.0.1:{p2}/b", ns=ns)
    assert r.stdout == body + body
    assert "Re-using existing connection" in r.stderr or "Reusing existing connection" in r.stderr
    r = curl("-6", "-i", f"http://[::1]:{p1}/", ns=ns)
    assert r.stdout.startswith("HTTP/1.1 200 OK")
    # Only in the task's namespace: nothing listens on the host.
    r = subprocess.run(["curl", "-sS", "--max-time", "5", f"http://127.0.0.1:{p1}/"],
                       capture_output=True, text=True)
    assert r.returncode == 7, r.stderr      # connection refused
    t.stop_file()
    st = t.wait_done()
    assert st["containers"]["web"]["exit_code"] == 0


def test_placeholder_host_mode(task):
    port = free_port()
    t = task([container("web", None, placeholder={"ports": [port], "body": "hello\n"})])
    t.wait_log("web", f"placeholder: listening on port(s) {port}")
    r = curl("-i", f"http://127.0.0.1:{port}/")
    assert "Content-Type: text/plain; charset=utf-8" in r.stdout
    assert r.stdout.endswith("\r\n\r\nhello\n")
    r = curl("-I", f"http://127.0.0.1:{port}/")
    assert "Content-Length: 6" in r.stdout
    r = curl("-X", "POST", "--data-binary", "x" * 100000, f"http://127.0.0.1:{port}/post")
    assert r.stdout == "hello\n"
    t.stop_file()
    assert t.wait_done()["containers"]["web"]["exit_code"] == 0


def test_placeholder_raw_http():
    port = free_port()
    p = subprocess.Popen([BIN, "placeholder", "--port", str(port), "--body", "B"],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("placeholder: listening")
        with socket.create_connection(("127.0.0.1", port)) as s:
            # Two pipelined requests, the first with a body.
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                      b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while data.count(b"HTTP/1.1 200 OK") < 2 or not data.endswith(b"B"):
                chunk = s.recv(4096)
                assert chunk
                data += chunk
            assert data.count(b"\r\n\r\nB") == 2
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            assert b"Connection: close" in data and data.endswith(b"\r\n\r\nB")
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"garbage\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            assert data.startswith(b"HTTP/1.1 400 Bad Request")
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nX: " + b"y" * 20000)
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            assert data.startswith(b"HTTP/1.1 431")
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        p.stdout.close()


def test_placeholder_port_in_use():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 0))
    s.listen()
    try:
        r = subprocess.run([BIN, "placeholder", "--port", str(s.getsockname()[1])],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 1
        assert "cannot listen on 0.0.0.0" in r.stderr
    finally:
        s.close()
    r = subprocess.run([BIN, "placeholder", "--port", "0"], capture_output=True, text=True)
    assert r.returncode == 2
