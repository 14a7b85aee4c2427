"""Helpers of the networking phases (60_net_tasks, 70_net_throughput).

They start ecslocal with real networking (--networking auto, --in-memory),
build one VPC with one large subnet and a security group that lets the
VPC reach the bench ports, and run tasks whose command is the bench's own
`netprobe` (bench/netprobe.c, compiled by run.sh).  Traffic goes only to
addresses inside the namespaces ecslocal creates.

moto runs nothing, so these phases measure ecslocal alone.
"""
import http.client
import json
import os
import subprocess
import time

import lib

ECS = "AmazonEC2ContainerServiceV20141113"
NETPROBE = os.environ.get("BENCH_NETPROBE", "")
CLUSTER = "benchnet"
VPC_CIDR = "10.90.0.0/16"
SUBNET_CIDR = "10.90.0.0/20"      # 4,091 addresses: room for every task
PORT = 8080
ENI_MTU = 9001                    # what ecslocal gives an ENI, as AWS does


class NoNetworking(Exception):
    """ecslocal runs, but cannot build networks here (no privileges)."""


def target():
    """The ecslocal target with real networking and nothing on disk."""
    def argv(port):
        a = lib.ecslocal_argv(port, in_memory=True)
        # ecslocal_argv appends the API phases' --networking off; the
        # option table takes the last value, so this one wins.
        return a + ["--networking", "auto"]
    return lib.Target("ecslocal", argv)


def health(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/_ecslocal/health")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def ecs(server, op, payload):
    return server.json_call(ECS, "ecs", op, payload)


def setup(server, families):
    """VPC, subnet, security group, cluster and one task definition per
    {family: command}.  Returns the awsvpc network configuration."""
    h = health(server)
    if h.get("networking") != "real":
        raise NoNetworking(f"ecslocal runs without networking here: "
                           f"{h.get('networking_reason') or h}")
    vpc = lib.xml_first(server.ec2("CreateVpc", {"CidrBlock": VPC_CIDR}), "vpcId")
    subnet = lib.xml_first(server.ec2("CreateSubnet", {
        "VpcId": vpc, "CidrBlock": SUBNET_CIDR, "AvailabilityZone": "us-east-1a"}), "subnetId")
    group = lib.xml_first(server.ec2("CreateSecurityGroup", {
        "VpcId": vpc, "GroupName": "bench-net", "GroupDescription": "bench"}), "groupId")
    server.ec2("AuthorizeSecurityGroupIngress", {
        "GroupId": group, "IpPermissions.1.IpProtocol": "tcp",
        "IpPermissions.1.FromPort": str(PORT), "IpPermissions.1.ToPort": str(PORT),
        "IpPermissions.1.IpRanges.1.CidrIp": VPC_CIDR})
    ecs(server, "CreateCluster", {"clusterName": CLUSTER})
    for family, command in families.items():
        ecs(server, "RegisterTaskDefinition", {
            "family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "256", "memory": "512",
            "containerDefinitions": [{
                "name": "app", "image": "netprobe", "essential": True,
                "command": command,
                "portMappings": [{"containerPort": PORT, "protocol": "tcp"}]}]})
    return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group],
                                    "assignPublicIp": "DISABLED"}}


def run_task(server, family, network):
    out = ecs(server, "RunTask", {"cluster": CLUSTER, "taskDefinition": family,
                                  "launchType": "FARGATE", "networkConfiguration": network})
    if out.get("failures") or not out.get("tasks"):
        raise lib.CallFailed(f"RunTask {family}: {out.get('failures')}")
    return out["tasks"][0]


def task_ip(task):
    for att in task.get("attachments", []):
        for d in att.get("details", []):
            if d.get("name") == "privateIPv4Address":
                return d["value"]
    return None


def describe(server, arn):
    tasks = ecs(server, "DescribeTasks", {"cluster": CLUSTER, "tasks": [arn]})["tasks"]
    return tasks[0] if tasks else {}


def wait_ip(server, task, timeout=30):
    """The task's ENI address: in RunTask's answer when the ENI was made in
    the same transaction, else as soon as DescribeTasks shows it."""
    ip = task_ip(task)
    deadline = time.monotonic() + timeout
    while not ip:
        if time.monotonic() > deadline:
            raise lib.CallFailed(f"task {task['taskArn']} has no address after {timeout} s")
        time.sleep(0.001)
        ip = task_ip(describe(server, task["taskArn"]))
    return ip


def wait_running(server, arn, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = describe(server, arn)
        if t.get("lastStatus") == "RUNNING":
            return t
        if t.get("lastStatus") == "STOPPED":
            raise lib.CallFailed(f"task stopped: {t.get('stoppedReason')}")
        time.sleep(0.005)
    raise lib.CallFailed(f"task not RUNNING within {timeout} s")


def exec_in(server, arn, argv, **popen):
    """`ecslocal exec TASK -- argv` (joins the task's namespaces)."""
    cmd = [os.environ["ECSLOCAL_BIN"], "exec", "--endpoint", f"http://{server.addr}",
           arn, "--"] + argv
    return subprocess.Popen(cmd, **popen)


def stop_all(server, arns):
    for arn in arns:
        try:
            ecs(server, "StopTask", {"cluster": CLUSTER, "task": arn, "reason": "bench done"})
        except lib.CallFailed as e:
            lib.log(f"stopping {arn}: {e}")
    server.reset()


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0
