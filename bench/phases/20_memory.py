"""Phase: resident memory idle and after creating 1,000 VPC resources.

VmRSS of the server process (for moto, the python process) read from
/proc right after start (once one DescribeVpcs has been answered, so both
servers have set up EC2) and again after 1,000 API-created resources: 200
VPCs, then per VPC 2 subnets and 2 security groups, each with a Name tag.
If ecslocal does not emulate CreateSecurityGroup yet, the groups are
replaced by 2 more subnets per VPC (the phase says so), on every server
alike so the comparison stays fair.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

VPCS = 200
SETTLE = 0.5    # seconds for allocators and threads to go quiet before reading


def plan_for(server):
    """Decide the composition on the first server (ecslocal), on a throwaway
    instance so the measured one starts clean."""
    vpc = lib.xml_first(server.ec2("CreateVpc", {"CidrBlock": "10.9.0.0/16"}), "vpcId")
    try:
        server.ec2("CreateSecurityGroup", {"GroupName": "probe", "GroupDescription": "probe",
                                           "VpcId": vpc})
        return True, ""
    except lib.Unsupported as e:
        return False, str(e)


def create_resources(server, sgs):
    """200 VPCs, then 4 children per VPC: 2 subnets + 2 groups (or 4 subnets)."""
    vpc_line = {"tag": "CreateVpc", "body": lib.form("CreateVpc", {
        "CidrBlock": "10.0.0.0/16", **lib.tag_spec("vpc", "bench-vpc-{seq}")})}
    lib.fill(server, [vpc_line], VPCS, name="mem-vpcs")
    doc = server.ec2("DescribeVpcs", {"Filter.1.Name": "tag-key", "Filter.1.Value.1": "Name"})
    vpcs = lib.xml_all(doc, "vpcId")
    vpcs = sorted(set(vpcs))
    if len(vpcs) != VPCS:
        raise lib.CallFailed(f"{server.name}: expected {VPCS} tagged VPCs, found {len(vpcs)}")
    lines = []
    for v in vpcs:
        nsub = 2 if sgs else 4
        for k in range(nsub):
            lines.append({"tag": "CreateSubnet", "body": lib.form("CreateSubnet", {
                "VpcId": v, "CidrBlock": f"10.0.{k}.0/24",
                **lib.tag_spec("subnet", f"bench-subnet-{k}")})})
        if sgs:
            for k in range(2):
                lines.append({"tag": "CreateSecurityGroup", "body": lib.form(
                    "CreateSecurityGroup", {"VpcId": v, "GroupName": f"bench-sg-{k}",
                                            "GroupDescription": "bench",
                                            **lib.tag_spec("security-group", f"bench-sg-{k}")})})
    lib.fill(server, lines, len(lines), name="mem-children")
    return VPCS + len(lines)


def main():
    phase = lib.Phase("memory", "Resident memory (VmRSS)")
    listening, idle, anon, after, per = {}, {}, {}, {}, {}
    sgs, why = None, ""
    created = 0
    for target in lib.targets():
        if sgs is None:
            with lib.Server(target) as probe:
                sgs, why = plan_for(probe)
        server = lib.Server(target)
        try:
            server.wait_listening()
            time.sleep(SETTLE)
            listening[target.name] = server.rss_kib() / 1024.0
            server.wait_ready()
            time.sleep(SETTLE)
            idle[target.name] = server.rss_kib() / 1024.0
            anon[target.name] = server.proc_status("RssAnon") / 1024.0
            t0 = time.monotonic()
            created = create_resources(server, sgs)
            took = time.monotonic() - t0
            time.sleep(SETTLE)
            after[target.name] = server.rss_kib() / 1024.0
            per[target.name] = (after[target.name] - idle[target.name]) * 1024.0 / created
            phase.raw(target.name, {"listening_kib": listening[target.name] * 1024,
                                    "idle_kib": idle[target.name] * 1024,
                                    "after_kib": after[target.name] * 1024,
                                    "peak_kib": server.proc_status("VmHWM"),
                                    "create_seconds": round(took, 3)})
            lib.log(f"{target.name}: idle {idle[target.name]:.1f} MiB, after {created} "
                    f"resources {after[target.name]:.1f} MiB ({took:.1f} s to create)")
        finally:
            server.stop()
    phase.row("idle after start, no request yet", "MiB", listening,
              target={"text": "< 8 MiB", "max": 8}, key="rss_listening_mib")
    phase.row("idle after the first DescribeVpcs", "MiB", idle,
              target={"text": "< 8 MiB", "max": 8}, key="rss_idle_mib")
    phase.row("idle: anonymous part (heap, stacks, TLS; the rest is shared libraries)",
              "MiB", anon, key="rss_idle_anon_mib")
    phase.row(f"after creating {created} VPC resources", "MiB", after, key="rss_1000_mib")
    phase.row("growth per resource", "KiB", per, key="rss_per_resource_kib")
    what = (f"{VPCS} VPCs, {VPCS * 2} subnets, {VPCS * 2} security groups"
            if sgs else f"{VPCS} VPCs and {VPCS * 4} subnets")
    phase.note(f"resources created: {what}, each with a Name tag, from 8 concurrent "
               "clients; each VPC also gets its implicit default security group, main "
               "route table and default network ACL on both servers")
    if not sgs:
        phase.note("security groups left out because " + why)
    phase.note("idle figures are read 0.5 s after the port first accepted a connection "
               "and 0.5 s after the first DescribeVpcs was answered (which makes ecslocal "
               "create the default VPC and moto load its EC2 backend); ecslocal's RSS "
               "includes SQLite's page cache")
    phase.emit()


if __name__ == "__main__":
    main()
