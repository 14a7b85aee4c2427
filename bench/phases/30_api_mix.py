"""Phase: requests per second and latency of a Describe/Create mix.

16 keep-alive clients (bench/load.c, one thread and one connection each)
send, for a fixed time after a 1 s warm-up, requests drawn at random from
a mix of 80% Describe calls by id (DescribeVpcs, DescribeSubnets,
DescribeSecurityGroups, evenly) and 20% Create calls (CreateSecurityGroup
with a unique name in a random VPC, CreateTags on a random VPC, subnet or
group with one of 8 keys), against a server seeded with 50 tagged VPCs,
each with 2 subnets and 2 security groups.

The operations are those ecslocal emulates: one it answers NotImplemented
for is left out of the mix on every server alike (and said so); with no
Create call left, CreateVpc stands in.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

SECONDS = float(os.environ.get("BENCH_MIX_SECONDS", "8"))
WARMUP = 1.0
CLIENTS = 16
SEED_VPCS = 50
MIX_LINES = 1000        # the mix is drawn from this many pre-built requests


def seed(server, with_sgs):
    """50 VPCs with 2 subnets (and 2 groups) each; returns their ids."""
    vpc_line = {"tag": "CreateVpc", "body": lib.form("CreateVpc", {
        "CidrBlock": "10.0.0.0/16", **lib.tag_spec("vpc", "mix-vpc-{seq}")})}
    lib.fill(server, [vpc_line], SEED_VPCS, name="mix-vpcs")
    tagged = {"Filter.1.Name": "tag-key", "Filter.1.Value.1": "Name"}
    vpcs = sorted(set(lib.xml_all(server.ec2("DescribeVpcs", tagged), "vpcId")))
    lines = []
    for v in vpcs:
        for k in range(2):
            lines.append({"tag": "CreateSubnet", "body": lib.form("CreateSubnet", {
                "VpcId": v, "CidrBlock": f"10.0.{k}.0/24",
                **lib.tag_spec("subnet", f"mix-subnet-{k}")})})
    lib.fill(server, lines, len(lines), name="mix-subnets")
    subnets = sorted(set(lib.xml_all(server.ec2("DescribeSubnets", tagged), "subnetId")))
    sgs = []
    if with_sgs:
        lines = [{"tag": "CreateSecurityGroup", "body": lib.form("CreateSecurityGroup", {
            "VpcId": v, "GroupName": f"mix-sg-{k}", "GroupDescription": "bench",
            **lib.tag_spec("security-group", f"mix-sg-{k}")})} for v in vpcs for k in range(2)]
        lib.fill(server, lines, len(lines), name="mix-sgs")
        doc = server.ec2("DescribeSecurityGroups", tagged)
        sgs = sorted(set(lib.xml_all(doc, "groupId")))
    return {"vpc": vpcs, "subnet": subnets, "sg": sgs}


def plan(server):
    """Which operations of the mix this server emulates (probed on ecslocal,
    on a throwaway instance)."""
    vpc = lib.xml_first(server.ec2("CreateVpc", {"CidrBlock": "10.0.0.0/16"}), "vpcId")
    subnet = lib.xml_first(server.ec2("CreateSubnet", {"VpcId": vpc,
                                                       "CidrBlock": "10.0.0.0/24"}), "subnetId")
    state = {}

    def create_sg(s):
        state["sg"] = lib.xml_first(s.ec2("CreateSecurityGroup", {
            "VpcId": vpc, "GroupName": "probe", "GroupDescription": "probe"}), "groupId")

    probes = {
        "DescribeVpcs": lambda s: s.ec2("DescribeVpcs", {"VpcId.1": vpc}),
        "DescribeSubnets": lambda s: s.ec2("DescribeSubnets", {"SubnetId.1": subnet}),
        "CreateSecurityGroup": create_sg,
        "DescribeSecurityGroups": lambda s: s.ec2("DescribeSecurityGroups", {
            "GroupId.1": state["sg"]}) if "sg" in state else s.ec2(
            "DescribeSecurityGroups", {"GroupName.1": "default"}),
        "CreateTags": lambda s: s.ec2("CreateTags", {"ResourceId.1": vpc, "Tag.1.Key": "k",
                                                     "Tag.1.Value": "v"}),
    }
    return lib.supported_ops(server, probes)


def mix_lines(ops, ids, rng):
    describes = [op for op in ("DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups")
                 if op in ops]
    creates = [op for op in ("CreateSecurityGroup", "CreateTags") if op in ops] or ["CreateVpc"]
    taggable = ids["vpc"] + ids["subnet"] + ids["sg"]
    lines = []
    n_desc = int(MIX_LINES * 0.8)
    for i in range(n_desc):
        op = describes[i % len(describes)]
        if op == "DescribeVpcs":
            params = {"VpcId.1": rng.choice(ids["vpc"])}
        elif op == "DescribeSubnets":
            params = {"SubnetId.1": rng.choice(ids["subnet"])}
        else:
            params = {"GroupId.1": rng.choice(ids["sg"])}
        lines.append({"tag": op, "body": lib.form(op, params)})
    for i in range(MIX_LINES - n_desc):
        op = creates[i % len(creates)]
        if op == "CreateSecurityGroup":
            params = {"VpcId": rng.choice(ids["vpc"]), "GroupName": "load-{seq}",
                      "GroupDescription": "bench"}
        elif op == "CreateTags":
            params = {"ResourceId.1": rng.choice(taggable), "Tag.1.Key": "load{seq%8}",
                      "Tag.1.Value": "{seq}"}
        else:
            params = {"CidrBlock": "10.0.0.0/16"}
        lines.append({"tag": op, "body": lib.form(op, params)})
    return lines, describes, creates


def main():
    phase = lib.Phase("api_mix", f"API mix: {CLIENTS} keep-alive clients, {SECONDS:g} s")
    ops = None
    results = {}
    for target in lib.targets():
        if ops is None:
            with lib.Server(target) as probe:
                support = plan(probe)
            ops = {op for op, why in support.items() if why is None}
            for op, why in support.items():
                if why:
                    phase.note(f"{op} left out of the mix: {why}")
        with lib.Server(target) as server:
            ids = seed(server, "CreateSecurityGroup" in ops and "DescribeSecurityGroups" in ops)
            if not ids["sg"]:
                ops.discard("DescribeSecurityGroups")
            lines, describes, creates = mix_lines(ops, ids, random.Random(7))
            cpu0 = server.cpu_seconds()
            res = lib.run_load(server, lines, threads=CLIENTS, duration=SECONDS, warmup=WARMUP,
                               seq_start=1_000_000, name="mix")
            # CPU per request says more than requests/s on a shared machine:
            # other load slows the clock, much less the work per request.
            res["server_cpu_us_per_request"] = (server.cpu_seconds() - cpu0) * 1e6 / max(
                1, res["requests"] + res["warmup_requests"])
            results[target.name] = res
            phase.raw(target.name, res)
            lib.log(f"{target.name}: {res['rps']:.0f} requests/s, p50 "
                    f"{res['latency']['p50_ms']:.2f} ms, p99 {res['latency']['p99_ms']:.2f} ms, "
                    f"status {res['status']}")
            bad = res["requests"] - res["ok"]
            if bad or res["io_errors"]:
                phase.note(f"{target.name}: {bad} of {res['requests']} answers were not 2xx "
                           f"(status counts {res['status']}, {res['io_errors']} connection "
                           f"errors); first: {res['error_sample'][:200]}")

    def per(get):
        return {name: get(r) for name, r in results.items()}
    phase.row("requests per second", "req/s", per(lambda r: r["rps"]), better="higher",
              target={"text": ">= 30x moto", "ratio_min": 30}, key="rps")
    phase.row("server CPU time per request", "us",
              per(lambda r: r["server_cpu_us_per_request"]), key="cpu_us_per_request")
    phase.row("latency p50, all calls", "ms", per(lambda r: r["latency"]["p50_ms"]), key="p50_ms")
    phase.row("latency p99, all calls", "ms", per(lambda r: r["latency"]["p99_ms"]), key="p99_ms")
    for op in describes + creates:
        for p in ("p50", "p99"):
            phase.row(f"{op} {p}", "ms",
                      per(lambda r: r["by_tag"].get(op, {}).get(f"{p}_ms")),
                      key=f"{op}_{p}_ms")
    shares = (f"80% {', '.join(describes)} by id (evenly), 20% {', '.join(creates)} (evenly)")
    phase.note(f"mix: {shares}; seeded with {SEED_VPCS} VPCs, "
               f"{2 * SEED_VPCS} subnets" + (f", {2 * SEED_VPCS} security groups"
                                             if "DescribeSecurityGroups" in describes else "")
               + f"; {WARMUP:g} s warm-up not counted")
    phase.emit()


if __name__ == "__main__":
    main()
