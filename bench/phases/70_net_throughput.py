"""Phase (networking, issue 4): TCP throughput between two tasks against
the same transfer over the machine's loopback.

A sink task (`netprobe sink 8080`) and a client task run in the same
subnet with a security group allowing 8080 from the VPC.  `netprobe send`,
run inside the client through `ecslocal exec`, writes BENCH_NET_MIB
(default 2048) MiB to the sink's ENI address and stops its clock when the
sink has read it all.  The baseline is the same two programs on
127.0.0.1 of the machine.  Median of BENCH_NET_ROUNDS (default 5)
alternating rounds of each.

The task path crosses two veth pairs, a bridge, the VPC router and the
nftables security-group chain; loopback crosses none of that.  Loopback
also has a 65,536-byte MTU where an ENI has AWS's 9,001, and TCP's cost
is per segment: a third column runs the same two programs over the
loopback of a scratch namespace (ecsl-bench-lo, removed after) whose MTU
is the ENI's, which tells the path's cost from the MTU's.

moto runs nothing, so this phase measures ecslocal alone.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402
import netlib  # noqa: E402

MIB = int(os.environ.get("BENCH_NET_MIB", "2048"))
ROUNDS = int(os.environ.get("BENCH_NET_ROUNDS", "5"))


def gbits(result):
    return result["bytes"] * 8 / result["seconds"] / 1e9


def send(argv):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise lib.CallFailed(f"{' '.join(argv[-5:])}: exit {out.returncode}: "
                             f"{out.stderr.strip()[:300]}")
    return gbits(json.loads(out.stdout.strip().splitlines()[-1]))


def loopback_sink():
    port = lib.free_port()
    proc = subprocess.Popen([netlib.NETPROBE, "sink", str(port)], preexec_fn=lib._die_with_parent)
    deadline = time.monotonic() + 10
    import socket
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise lib.CallFailed("loopback sink did not listen")


LO_NS = "ecsl-bench-lo"


def mtu_loopback(mtu):
    """A scratch namespace whose loopback has the ENIs' MTU, and a sink in
    it: (sink process, argv of a sender in it)."""
    subprocess.run(["ip", "netns", "del", LO_NS], capture_output=True)
    for argv in (["ip", "netns", "add", LO_NS],
                 ["ip", "-n", LO_NS, "link", "set", "lo", "mtu", str(mtu), "up"]):
        out = subprocess.run(argv, capture_output=True, text=True)
        if out.returncode != 0:
            raise lib.CallFailed(f"{' '.join(argv)}: {out.stderr.strip()}")
    proc = subprocess.Popen(["ip", "netns", "exec", LO_NS, netlib.NETPROBE, "sink",
                             str(netlib.PORT)], preexec_fn=lib._die_with_parent)
    probe = ["ip", "netns", "exec", LO_NS, netlib.NETPROBE, "probe"]
    out = subprocess.run(probe, input=f"127.0.0.1 {netlib.PORT}\n", capture_output=True,
                         text=True, timeout=60)
    if not out.stdout.startswith("ok"):
        proc.kill()
        raise lib.CallFailed(f"the sink in {LO_NS} did not listen: {out.stdout.strip()}")
    return proc, ["ip", "netns", "exec", LO_NS, netlib.NETPROBE, "send", "127.0.0.1",
                  str(netlib.PORT), str(MIB)]


def measure(server):
    network = netlib.setup(server, {
        "sink": [netlib.NETPROBE, "sink", str(netlib.PORT)],
        "client": ["sleep", "3600"]})
    arns = []
    lo_proc = mtu_proc = None
    try:
        sink = netlib.run_task(server, "sink", network)
        client = netlib.run_task(server, "client", network)
        arns = [sink["taskArn"], client["taskArn"]]
        ip = netlib.wait_ip(server, sink)
        for arn in arns:
            netlib.wait_running(server, arn)
        lo_proc, lo_port = loopback_sink()
        task_argv = [os.environ["ECSLOCAL_BIN"], "exec", "--endpoint",
                     f"http://{server.addr}", client["taskArn"], "--",
                     netlib.NETPROBE, "send", ip, str(netlib.PORT), str(MIB)]
        lo_argv = [netlib.NETPROBE, "send", "127.0.0.1", str(lo_port), str(MIB)]
        mtu_proc, mtu_argv = mtu_loopback(netlib.ENI_MTU)
        tasks, loop, loop_mtu = [], [], []
        for _ in range(ROUNDS):
            tasks.append(send(task_argv))
            loop.append(send(lo_argv))
            loop_mtu.append(send(mtu_argv))
        return {"tasks_gbits": lib.median(tasks), "loopback_gbits": lib.median(loop),
                "loopback_mtu_gbits": lib.median(loop_mtu),
                "rounds": {"tasks": tasks, "loopback": loop, "loopback_mtu": loop_mtu}}
    finally:
        for p in (lo_proc, mtu_proc):
            if p:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", LO_NS], capture_output=True)
        netlib.stop_all(server, arns)


def main():
    phase = lib.Phase("net_throughput", "Networking: TCP throughput between two tasks")
    if not netlib.NETPROBE:
        raise SystemExit("BENCH_NETPROBE is not set (run the phases through bench/run.sh)")
    if os.environ.get("MOTO_BIN"):
        phase.skip("moto", "moto runs no tasks and has no network")
    r = None
    with lib.Server(netlib.target()) as server:
        try:
            r = measure(server)
        except (lib.Unsupported, netlib.NoNetworking) as e:
            phase.skip("ecslocal", str(e))
        except lib.CallFailed as e:
            phase.note(f"ecslocal: not measured: {e}")
    if not r:
        phase.emit()
        return
    phase.raw("ecslocal", r)
    share = 100.0 * r["tasks_gbits"] / r["loopback_gbits"]
    share_mtu = 100.0 * r["tasks_gbits"] / r["loopback_mtu_gbits"]
    lib.log(f"task to task {r['tasks_gbits']:.2f} Gbit/s, loopback "
            f"{r['loopback_gbits']:.2f} Gbit/s ({share:.0f}%), loopback at MTU "
            f"{netlib.ENI_MTU} {r['loopback_mtu_gbits']:.2f} Gbit/s ({share_mtu:.0f}%)")
    phase.row("task to task (awsvpc, same subnet)", "Gbit/s",
              {"ecslocal": r["tasks_gbits"], "moto": None}, better="higher",
              key="task_to_task_gbits")
    phase.row("the same transfer over the machine's loopback", "Gbit/s",
              {"ecslocal": r["loopback_gbits"], "moto": None}, better="higher",
              key="loopback_gbits")
    phase.row("task to task as a share of loopback", "%", {"ecslocal": share, "moto": None},
              better="higher", target={"text": ">= 80 %", "min": 80},
              key="task_to_task_share_pct")
    phase.row(f"the same transfer over a loopback with the ENIs' MTU ({netlib.ENI_MTU})",
              "Gbit/s", {"ecslocal": r["loopback_mtu_gbits"], "moto": None}, better="higher",
              key="loopback_eni_mtu_gbits")
    phase.row(f"task to task as a share of loopback at MTU {netlib.ENI_MTU}", "%",
              {"ecslocal": share_mtu, "moto": None}, better="higher",
              key="task_to_task_share_of_mtu_loopback_pct")
    phase.note(f"{MIB} MiB per transfer, median of {ROUNDS} alternating rounds; one TCP "
               "connection, 256 KiB writes, clock stopped when the receiver has read all")
    phase.emit()


if __name__ == "__main__":
    main()
