"""Phase: time from exec to the first answered request.

bench/firstreply (C) takes the clock, spawns the server and polls its port
every 20 us until a DescribeVpcs answers 200; the median of several starts
is reported.  Each ecslocal start gets a fresh --data-dir, so the number
includes creating the SQLite database and, for both servers, whatever the
first EC2 call sets up (ecslocal's default VPC, moto's lazily loaded EC2
backend).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

STARTS = {"ecslocal": int(os.environ.get("BENCH_STARTS", "11")),
          "moto": int(os.environ.get("BENCH_STARTS_MOTO", "3"))}


def one_start(target):
    return start_argv(target.name, target.argv)


def start_argv(name, argv_for_port):
    port = lib.free_port()
    argv = [lib.FIRSTREPLY, "--target", f"127.0.0.1:{port}",
            "--header", "Authorization: " + lib.auth_header("ec2"),
            "--body", lib.form("DescribeVpcs"),
            "--log", os.path.join(lib.WORK, f"startup-{name}.log"),
            "--"] + argv_for_port(port)
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=lib.WORK)
    return json.loads(out.stdout)


def exec_ms(argv, runs=11):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return lib.median(times)


def main():
    phase = lib.Phase("startup", "Start-up: exec to first answered request")
    first, listen = {}, {}
    for target in lib.targets():
        n = STARTS.get(target.name, 3)
        runs = [one_start(target) for _ in range(n)]
        first[target.name] = lib.median([r["first_answer_ms"] for r in runs])
        listen[target.name] = lib.median([r["listen_ms"] for r in runs])
        phase.raw(target.name, runs)
        every = ", ".join("%.1f" % r["first_answer_ms"] for r in runs)
        lib.log(f"{target.name}: first answer {first[target.name]:.1f} ms "
                f"(median of {n}; all: {every})")
    phase.row("exec to first answered DescribeVpcs (median)", "ms", first,
              target={"text": "< 10 ms", "max": 10}, key="first_answer_ms")
    phase.row("exec to port accepting connections (median)", "ms", listen,
              key="listen_ms")
    # ecslocal only: how much of the first figure is creating the database.
    data = os.path.join(lib.WORK, "startup-existing")
    variants = [
        ("restart on an existing --data-dir", "first_answer_restart_ms",
         lambda port: lib.ecslocal_argv(port, data_dir=data)),
        ("--in-memory", "first_answer_in_memory_ms",
         lambda port: lib.ecslocal_argv(port, in_memory=True)),
    ]
    start_argv("ecslocal", variants[0][2])     # creates the data dir
    for label, key, argv in variants:
        runs = [start_argv("ecslocal", argv) for _ in range(STARTS["ecslocal"])]
        phase.raw(key, runs)
        phase.row(f"exec to first answered DescribeVpcs, {label} (median)", "ms",
                  {"ecslocal": lib.median([r["first_answer_ms"] for r in runs])}, key=key)
    # What any start costs on this machine right now: on a busy machine
    # these grow too, which tells noise from a slow start.
    ecsl = os.environ["ECSLOCAL_BIN"]
    for label, argv, key in (
            ("`ecslocal --version` (exec and loading its shared libraries)", [ecsl, "--version"],
             "exec_version_ms"),
            ("`/bin/true` (this machine's process start)", ["/bin/true"], "exec_true_ms")):
        phase.row(f"baseline: {label} (median)", "ms", {"ecslocal": exec_ms(argv)}, key=key)
    phase.note(f"median of {STARTS['ecslocal']} ecslocal starts (each with a fresh --data-dir, "
               f"so it includes creating the database) and {STARTS['moto']} moto starts "
               "(moto_server run through its own script, not pyenv's shim); the first "
               "DescribeVpcs also creates ecslocal's default VPC and loads moto's EC2 backend")
    phase.emit()


if __name__ == "__main__":
    main()
