"""Phase (ECS, issue 3): RunTask to RUNNING, DescribeTasks/ListTasks
throughput with many tasks, and ecslocal's memory per running task.

- RunTask to RUNNING: 100 tasks started one after the other (FARGATE,
  awsvpc in the default VPC's first default subnet, container command
  `sleep 3600`), each timed from sending RunTask until DescribeTasks shows
  lastStatus RUNNING (polled every millisecond); p50 and p99.
- Memory per task: VmRSS of the server process before and with those 100
  tasks running, divided by 100 (the server's own memory; the processes of
  the tasks themselves are not counted).
- DescribeTasks (10 random task ARNs a call) and ListTasks (the cluster's
  first page) from 16 keep-alive clients for a fixed time each, with
  BENCH_ECS_TASKS (default 1,000) tasks running in the cluster.

A server that answers NotImplemented for an ECS call the phase needs is
skipped with its message.  Every task is stopped and the server reset
(which tears down what ecslocal started) before it is stopped.
"""
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

ECS = "AmazonEC2ContainerServiceV20141113"
RUNS = int(os.environ.get("BENCH_ECS_RUNS", "100"))
TASKS = int(os.environ.get("BENCH_ECS_TASKS", "1000"))
SECONDS = float(os.environ.get("BENCH_ECS_SECONDS", "3"))
CLIENTS = 16
CLUSTER = "bench"


def ecs(server, op, payload):
    return server.json_call(ECS, "ecs", op, payload)


def ecs_line(op, payload):
    return {"tag": op, "body": json.dumps(payload),
            "headers": {"Content-Type": "application/x-amz-json-1.1",
                        "X-Amz-Target": f"{ECS}.{op}",
                        "Authorization": lib.auth_header("ecs")}}


def setup(server):
    """Cluster, task definition and network configuration."""
    if server.name == "moto":
        # moto advances a task's lastStatus one step each time it is read,
        # so RUNNING would be gone by the first DescribeTasks; keep tasks
        # RUNNING (moto runs nothing, its RunTask to RUNNING is one call).
        status, text = server.post(json.dumps({
            "model_name": "ecs::task",
            "transition": {"progression": "manual", "times": 1_000_000}}),
            {"Content-Type": "application/json"}, path="/moto-api/state-manager/set-transition")
        if status != 201 and status != 200:
            raise lib.CallFailed(f"moto set-transition: {status} {text[:200]}")
    ecs(server, "CreateCluster", {"clusterName": CLUSTER})
    doc = server.ec2("DescribeSubnets", {"Filter.1.Name": "default-for-az",
                                         "Filter.1.Value.1": "true"})
    subnets = sorted(lib.xml_all(doc, "subnetId"))
    if not subnets:
        raise lib.CallFailed(f"{server.name}: no default subnet")
    ecs(server, "RegisterTaskDefinition", {
        "family": "bench", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
        "cpu": "256", "memory": "512",
        "containerDefinitions": [{"name": "app", "image": "busybox", "essential": True,
                                  "cpu": 128, "memory": 256,
                                  "command": ["sleep", "3600"]}]})
    vpc = lib.xml_first(doc, "vpcId")
    awsvpc = {"subnets": [subnets[0]], "assignPublicIp": "DISABLED"}
    try:
        # Explicit, as Terraform passes it (moto insists); AWS would use the
        # VPC's default group without it.
        groups = server.ec2("DescribeSecurityGroups", {
            "Filter.1.Name": "vpc-id", "Filter.1.Value.1": vpc,
            "Filter.2.Name": "group-name", "Filter.2.Value.1": "default"})
        awsvpc["securityGroups"] = lib.xml_all(groups, "groupId")[:1]
    except lib.Unsupported:
        pass
    return {"awsvpcConfiguration": awsvpc}


def run_tasks(server, network, count):
    out = ecs(server, "RunTask", {"cluster": CLUSTER, "taskDefinition": "bench",
                                  "launchType": "FARGATE", "count": count,
                                  "networkConfiguration": network})
    if out.get("failures"):
        raise lib.CallFailed(f"{server.name}: RunTask failures: {out['failures'][:3]}")
    return [t["taskArn"] for t in out.get("tasks", [])]


def wait_running(server, arn, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = ecs(server, "DescribeTasks", {"cluster": CLUSTER, "tasks": [arn]})["tasks"]
        status = tasks[0].get("lastStatus") if tasks else None
        if status == "RUNNING":
            return
        if status == "STOPPED":
            raise lib.CallFailed(f"{server.name}: task stopped before RUNNING: "
                                 f"{tasks[0].get('stoppedReason')}")
        time.sleep(0.001)
    raise lib.CallFailed(f"{server.name}: task not RUNNING within {timeout} s")


def wait_all_running(server, arns, timeout=300):
    """Until every task is RUNNING or STOPPED; returns the stopped ones'
    count and first reason."""
    deadline = time.monotonic() + timeout
    pending, stopped, reason = list(arns), 0, None
    while pending:
        settled = set()
        for i in range(0, len(pending), 100):
            batch = pending[i:i + 100]
            for t in ecs(server, "DescribeTasks", {"cluster": CLUSTER, "tasks": batch})["tasks"]:
                if t.get("lastStatus") == "RUNNING":
                    settled.add(t["taskArn"])
                elif t.get("lastStatus") == "STOPPED":
                    settled.add(t["taskArn"])
                    stopped += 1
                    reason = reason or t.get("stoppedReason")
        pending = [a for a in pending if a not in settled]
        if pending and time.monotonic() > deadline:
            raise lib.CallFailed(f"{server.name}: {len(pending)} tasks neither RUNNING nor "
                                 f"STOPPED after {timeout} s")
        if pending and not settled:
            time.sleep(0.1)
    return stopped, reason


def stop_all(server, arns):
    """Stop every task (16 at a time), then reset, which also tears down
    whatever ecslocal started.  moto runs nothing: its reset is enough."""
    if arns and server.name != "moto":
        lines = [ecs_line("StopTask", {"cluster": CLUSTER, "task": arn, "reason": "bench done"})
                 for arn in arns]
        try:
            lib.run_load(server, lines, threads=CLIENTS, count=len(lines), name="ecs-stop")
        except Exception as e:      # the reset below still cleans up
            lib.log(f"{server.name}: stopping tasks: {e}")
    server.reset()


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def measure(server, phase):
    network = setup(server)
    rss0 = server.rss_kib()
    avail0 = mem_available_kib()
    lat, arns = [], []
    try:
        for _ in range(RUNS):
            t0 = time.monotonic()
            arn = run_tasks(server, network, 1)[0]
            arns.append(arn)
            wait_running(server, arn)
            lat.append((time.monotonic() - t0) * 1000)
        time.sleep(0.5)
        per_task = (server.rss_kib() - rss0) / max(1, RUNS)
        # Real tasks are real processes: never let the rest take more than a
        # quarter of the memory the machine has left.
        avail = mem_available_kib()
        host_per_task = max(0, avail0 - avail) / max(1, RUNS)
        want = TASKS
        if host_per_task > 0 and want * host_per_task > avail / 4:
            want = max(RUNS, int(avail / 4 / host_per_task))
            phase.note(f"{server.name}: {want} tasks instead of {TASKS}: each task takes "
                       f"about {host_per_task:.0f} KiB of the machine's memory")
        while len(arns) < want:
            arns += run_tasks(server, network, min(10, want - len(arns)))
        # Measure the steady state, not the server still starting tasks.
        t0 = time.monotonic()
        stopped, reason = wait_all_running(server, arns)
        lib.log(f"{server.name}: {len(arns) - stopped} tasks RUNNING after "
                f"{time.monotonic() - t0:.1f} s more")
        if stopped:
            phase.note(f"{server.name}: {stopped} of {len(arns)} tasks stopped on their own "
                       f"before RUNNING (first reason: {reason}); DescribeTasks/ListTasks were "
                       "measured with them stored")
        rng = random.Random(5)
        describe = [ecs_line("DescribeTasks", {"cluster": CLUSTER,
                                               "tasks": rng.sample(arns, 10)})
                    for _ in range(200)]
        listing = [ecs_line("ListTasks", {"cluster": CLUSTER})]
        d = lib.run_load(server, describe, threads=CLIENTS, duration=SECONDS, warmup=0.5,
                         name="ecs-describe")
        ls = lib.run_load(server, listing, threads=CLIENTS, duration=SECONDS, warmup=0.5,
                          name="ecs-list")
        for name, res in (("DescribeTasks", d), ("ListTasks", ls)):
            if res["ok"] != res["requests"]:
                phase.note(f"{server.name}: {name}: {res['requests'] - res['ok']} of "
                           f"{res['requests']} answers not 2xx: {res['error_sample'][:200]}")
        return {"p50": lib.percentile(lat, 50), "p99": lib.percentile(lat, 99),
                "per_task_kib": per_task, "describe": d, "list": ls, "tasks": len(arns)}
    finally:
        stop_all(server, arns)


def main():
    phase = lib.Phase("ecs_tasks", f"ECS tasks: RunTask to RUNNING ({RUNS} tasks), "
                                   f"DescribeTasks/ListTasks with {TASKS:,} tasks")
    results = {}
    for target in lib.targets():
        with lib.Server(target) as server:
            try:
                results[target.name] = measure(server, phase)
            except lib.Unsupported as e:
                phase.skip(target.name, str(e))
                continue
            except lib.CallFailed as e:
                phase.note(f"{target.name}: not measured: {e}")
                continue
        r = results[target.name]
        phase.raw(target.name, r)
        lib.log(f"{target.name}: RunTask to RUNNING p50 {r['p50']:.1f} ms, p99 "
                f"{r['p99']:.1f} ms; DescribeTasks {r['describe']['rps']:.0f}/s, ListTasks "
                f"{r['list']['rps']:.0f}/s with {r['tasks']} tasks")
    if not results:
        phase.emit()
        return

    def per(get):
        return {n: get(r) for n, r in results.items()}
    phase.row("RunTask to RUNNING p50", "ms", per(lambda r: r["p50"]),
              target={"text": "< 50 ms", "max": 50}, key="run_to_running_p50_ms")
    phase.row("RunTask to RUNNING p99", "ms", per(lambda r: r["p99"]),
              key="run_to_running_p99_ms")
    phase.row("server memory per running task", "KiB", per(lambda r: r["per_task_kib"]),
              key="rss_per_task_kib")
    phase.row("DescribeTasks (10 tasks a call) per second", "req/s",
              per(lambda r: r["describe"]["rps"]), better="higher", key="describe_tasks_rps")
    phase.row("DescribeTasks p99", "ms", per(lambda r: r["describe"]["latency"]["p99_ms"]),
              key="describe_tasks_p99_ms")
    phase.row("ListTasks per second", "req/s", per(lambda r: r["list"]["rps"]),
              better="higher", key="list_tasks_rps")
    phase.row("ListTasks p99", "ms", per(lambda r: r["list"]["latency"]["p99_ms"]),
              key="list_tasks_p99_ms")
    phase.note("tasks: FARGATE, awsvpc in the first default subnet, one container running "
               "`sleep 3600` (real processes; with --networking off no namespaces of their "
               "own: the networking phases measure those); memory per task is the "
               "server process's own VmRSS growth")
    phase.emit()


if __name__ == "__main__":
    main()
