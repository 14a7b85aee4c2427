"""Phase: Describe latency as the number of stored resources grows.

One server is filled with VPCs in steps (100, 1,000, 10,000 stored VPCs,
the default VPC included); at each step one client (so the figure is the
server's own latency, not queueing) sends DescribeVpcs with one VpcId,
picked at random from 200 stored VPCs, for a fixed time.  A lookup by id
that is O(log n) grows by at most about log(10,000)/log(100) = 2x from the
first step to the last; O(n) grows 100x.

moto is filled only up to BENCH_MOTO_MAX_VPCS (default 1,000): it creates
VPCs slowly (its measured rate is reported), which would blow the run's
time budget.
"""
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

SIZES = [int(x) for x in os.environ.get("BENCH_SCALING_SIZES", "100 1000 10000").split()]
MOTO_MAX = int(os.environ.get("BENCH_MOTO_MAX_VPCS", "1000"))
SECONDS = float(os.environ.get("BENCH_SCALING_SECONDS", "1.5"))
SAMPLE = 200


def list_vpc_ids(server):
    """Every stored VPC id, following NextToken (a server that ignores
    MaxResults answers everything at once and no token)."""
    ids, token = [], None
    while True:
        params = {"MaxResults": "1000"}
        if token:
            params["NextToken"] = token
        doc = server.ec2("DescribeVpcs", params)
        ids += lib.xml_all(doc, "vpcId")
        token = lib.xml_first(doc, "nextToken")
        if not token:
            return sorted(set(ids))


def main():
    phase = lib.Phase("describe_scaling", "DescribeVpcs by id as stored VPCs grow (1 client)")
    p50, p99, fill_rate, reached = {}, {}, {}, {}
    rng = random.Random(11)
    create = {"tag": "CreateVpc", "body": lib.form("CreateVpc", {"CidrBlock": "10.0.0.0/16"})}
    for target in lib.targets():
        cap = MOTO_MAX if target.name == "moto" else max(SIZES)
        p50[target.name], p99[target.name] = {}, {}
        with lib.Server(target) as server:
            stored = len(list_vpc_ids(server))
            created, fill_seconds = 0, 0.0
            for size in SIZES:
                if size > cap:
                    break
                if size > stored:
                    res = lib.fill(server, [create], size - stored, threads=8,
                                   seq_start=stored, name=f"scale-{size}")
                    created += size - stored
                    fill_seconds += res["seconds"]
                ids = list_vpc_ids(server)
                stored = len(ids)
                lines = [{"tag": "DescribeVpcs", "body": lib.form("DescribeVpcs", {"VpcId.1": v})}
                         for v in rng.sample(ids, min(SAMPLE, len(ids)))]
                res = lib.run_load(server, lines, threads=1, duration=SECONDS, warmup=0.3,
                                   name=f"scale-describe-{size}")
                if res["ok"] != res["requests"] or not res["requests"]:
                    raise lib.CallFailed(f"{target.name}: DescribeVpcs failed at {size}: "
                                         f"{res['status']} {res['error_sample'][:200]}")
                p50[target.name][size] = res["latency"]["p50_ms"]
                p99[target.name][size] = res["latency"]["p99_ms"]
                reached[target.name] = stored
                phase.raw(f"{target.name}-{size}", res)
                lib.log(f"{target.name}: {stored} VPCs stored: DescribeVpcs p50 "
                        f"{res['latency']['p50_ms']:.3f} ms, p99 {res['latency']['p99_ms']:.3f} ms "
                        f"({res['requests']} calls)")
            fill_rate[target.name] = created / fill_seconds if fill_seconds else None
    names = list(p50)
    for size in SIZES:
        phase.row(f"p50 with {size:,} VPCs stored", "ms",
                  {n: p50[n].get(size) for n in names}, key=f"p50_ms_{size}")
    for size in SIZES:
        phase.row(f"p99 with {size:,} VPCs stored", "ms",
                  {n: p99[n].get(size) for n in names}, key=f"p99_ms_{size}")
    first, biggest = SIZES[0], max(SIZES)
    for size in SIZES[1:]:
        growth = {n: p50[n][size] / p50[n][first] if p50[n].get(size) and p50[n].get(first)
                  else None for n in names}
        bound = math.log(size) / math.log(first)
        phase.row(f"p50 growth from {first:,} to {size:,} VPCs", "x", growth,
                  target={"text": f"<= {bound:.1f}x (log n)", "max": bound},
                  key=f"p50_growth_{size}")
    phase.row("CreateVpc rate while filling (8 clients)", "VPCs/s", fill_rate, better="higher",
              key="fill_rate")
    if "moto" in names and reached.get("moto", 0) < biggest:
        rate = fill_rate.get("moto")
        est = f"; at its rate here, {biggest:,} would take about {biggest / rate:.0f} s" \
            if rate else ""
        phase.note(f"moto filled only to {reached.get('moto', 0):,} VPCs "
                   f"(BENCH_MOTO_MAX_VPCS={MOTO_MAX}){est}")
    phase.note("sizes count every stored VPC, the default VPC included; each CreateVpc also "
               "stores the VPC's default security group, main route table and network ACL")
    phase.emit()


if __name__ == "__main__":
    main()
