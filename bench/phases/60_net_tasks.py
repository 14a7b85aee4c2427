"""Phase (networking, issue 4): RunTask to reachable over the network, and
what 200 concurrently running awsvpc tasks cost.

One client task (`sleep 3600`) runs `netprobe probe` inside its namespace
through `ecslocal exec`.  Then BENCH_NET_TASKS (default 200) web tasks are
started one after the other and left running, each an awsvpc FARGATE task
whose command is `netprobe sink 8080`.  Each is timed from sending RunTask
until the client, from its own ENI in the same VPC, completes a TCP
connect to the web task's ENI address on 8080 (the probe retries every
millisecond): namespace, veth, addresses, routes, security group rules and
the process listening, all done.

Reported: p50/p99 over the first 100 tasks; the median of the first ten
against the median of the last ten (setup must not grow with the number
of tasks); ecslocal's VmRSS before and with all tasks running, and the
machine's memory per task (MemAvailable; shim, process, namespace).

moto runs nothing, so this phase measures ecslocal alone.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402
import netlib  # noqa: E402

TASKS = int(os.environ.get("BENCH_NET_TASKS", "200"))


def measure(server, phase):
    network = netlib.setup(server, {
        "web": [netlib.NETPROBE, "sink", str(netlib.PORT)],
        "client": ["sleep", "3600"]})
    arns = []
    prober = None
    try:
        client = netlib.run_task(server, "client", network)
        arns.append(client["taskArn"])
        netlib.wait_running(server, client["taskArn"])
        prober = netlib.exec_in(server, client["taskArn"], [netlib.NETPROBE, "probe"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(0.2)
        rss0 = server.rss_kib()
        avail0 = netlib.mem_available_kib()
        lat, running = [], []
        for i in range(TASKS):
            t0 = time.monotonic()
            task = netlib.run_task(server, "web", network)
            arns.append(task["taskArn"])
            ip = netlib.wait_ip(server, task)
            prober.stdin.write(f"{ip} {netlib.PORT}\n")
            prober.stdin.flush()
            answer = prober.stdout.readline().split()
            if not answer or answer[0] != "ok":
                raise lib.CallFailed(f"web task {i + 1} ({ip}) not reachable: {answer}")
            lat.append((time.monotonic() - t0) * 1000)
        # RUNNING, as ECS reports it, comes after the port answers (the
        # reconciler's next look); every task must get there.
        for arn in arns[1:]:
            running.append(netlib.wait_running(server, arn))
        time.sleep(0.5)
        rss = server.rss_kib()
        host_per_task = max(0, avail0 - netlib.mem_available_kib()) / TASKS
        first = lat[:min(10, len(lat))]
        last = lat[-min(10, len(lat)):]
        return {"p50": lib.percentile(lat[:100], 50), "p99": lib.percentile(lat[:100], 99),
                "first10": lib.median(first), "last10": lib.median(last),
                "rss0": rss0, "rss": rss, "host_per_task": host_per_task,
                "tasks": TASKS, "latencies_ms": lat}
    finally:
        if prober:
            prober.stdin.close()
            try:
                prober.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prober.kill()
        netlib.stop_all(server, arns)


def main():
    phase = lib.Phase("net_tasks", f"Networking: RunTask to reachable, {TASKS} running "
                                   "awsvpc tasks")
    if not netlib.NETPROBE:
        raise SystemExit("BENCH_NETPROBE is not set (run the phases through bench/run.sh)")
    if os.environ.get("MOTO_BIN"):
        phase.skip("moto", "moto runs no tasks and has no network")
    r = None
    with lib.Server(netlib.target()) as server:
        try:
            r = measure(server, phase)
        except (lib.Unsupported, netlib.NoNetworking) as e:
            phase.skip("ecslocal", str(e))
        except lib.CallFailed as e:
            phase.note(f"ecslocal: not measured: {e}")
    if not r:
        phase.emit()
        return
    phase.raw("ecslocal", r)
    lib.log(f"RunTask to reachable p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms; "
            f"first ten {r['first10']:.1f} ms, last ten {r['last10']:.1f} ms; RSS "
            f"{r['rss0']} -> {r['rss']} KiB")

    def one(v):
        return {"ecslocal": v, "moto": None}
    phase.row("RunTask to reachable p50 (first 100 tasks)", "ms", one(r["p50"]),
              target={"text": "< 100 ms", "max": 100}, key="run_to_reachable_p50_ms")
    phase.row("RunTask to reachable p99 (first 100 tasks)", "ms", one(r["p99"]),
              key="run_to_reachable_p99_ms")
    phase.row("RunTask to reachable, tasks 1-10 (median)", "ms", one(r["first10"]),
              key="reachable_first10_ms")
    phase.row(f"RunTask to reachable, tasks {r['tasks'] - 9}-{r['tasks']} (median)", "ms",
              one(r["last10"]), key="reachable_last10_ms")
    phase.row(f"ecslocal VmRSS with {r['tasks']} tasks running", "KiB", one(r["rss"]),
              key="rss_with_tasks_kib")
    phase.row("ecslocal VmRSS growth per running task", "KiB",
              one((r["rss"] - r["rss0"]) / r["tasks"]), key="rss_per_net_task_kib")
    phase.row("machine memory per running task (MemAvailable)", "KiB",
              one(r["host_per_task"]), key="host_mem_per_net_task_kib")
    phase.note("reachable = a TCP connect from a client task in the same VPC (through its "
               "ENI, the VPC router and the security group) to the new task's ENI address "
               "succeeds; tasks are started one after the other and all left running")
    phase.emit()


if __name__ == "__main__":
    main()
