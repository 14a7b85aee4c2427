"""Real connectivity of awsvpc tasks (issue 4): tasks reach each other across
the subnets of a VPC by address and by private DNS name, the containers of a
task share localhost, VPCs with the same CIDR are separate networks, task
ENIs are what DescribeNetworkInterfaces says, security groups allow and block
real packets and their changes apply to running tasks, `ecslocal exec` and
`ecslocal port-forward` reach into tasks, and the host DNS listener answers
private names.

Every outcome is proven with traffic: a client task whose command is curl,
sh or python3 and whose exit code (read with DescribeTasks) and output
(`ecslocal logs`) tell what happened.  Traffic goes only to loopback and to
addresses inside the namespaces ecslocal made.

The helpers here are shared with test_network_modes.py and
test_host_safety.py.
"""
import ipaddress
import json
import os
import random
import re
import socket
import struct
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import BIN, error_code, free_port, wait_for

# A web server answering every GET with a token (its first argument), so a
# client's output says which server it reached.  HTTP/1.1 keep-alive, for
# clients that hold one connection open.  It prints READY once listening.
WEB = r"""
import http.server, sys
token = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(token)))
        self.end_headers()
        self.wfile.write(token)
    def log_message(self, *args):
        pass
srv = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2])), H)
print("READY", flush=True)
srv.serve_forever()
"""

# A client that keeps one TCP connection open and sends a request on it
# every 0.2 s (waiting up to 3 s for each answer): "OK <connection number>
# <token>" or "FAIL <connection
# number> <error>"; after a failure it opens a new connection.
PERSISTENT_CLIENT = r"""
import http.client, sys, time
host, port = sys.argv[1], int(sys.argv[2])
conn, n = None, 0
while True:
    try:
        if conn is None:
            n += 1
            conn = http.client.HTTPConnection(host, port, timeout=3)
            conn.connect()
        conn.request("GET", "/")
        print("OK", n, conn.getresponse().read().decode(), flush=True)
    except Exception as e:
        print("FAIL", n, type(e).__name__, flush=True)
        try:
            conn.close()
        except Exception:
            pass
        conn = None
    time.sleep(0.2)
"""

# curl's exit code when the connection timed out: what a security group's
# silent drop looks like from the client.
CURL_TIMEOUT = 28


def token():
    return "tok-" + uuid.uuid4().hex


def web_container(name, tok, port=8080, host_port=None, **kw):
    pm = {"containerPort": port, "protocol": "tcp"}
    if host_port is not None:
        pm["hostPort"] = host_port
    c = {"name": name, "image": "python", "essential": True,
         "command": ["python3", "-c", WEB, tok, str(port)], "portMappings": [pm]}
    c.update(kw)
    return c


def sh_container(name, script, **kw):
    c = {"name": name, "image": "busybox", "essential": True, "command": ["sh", "-c", script]}
    c.update(kw)
    return c


def curl(url, timeout=10):
    """A shell fragment: fetch url, print the body.  The time limit is generous
    where a connection must succeed (a busy machine is slow); checks that
    expect a block pass a short one (the drop makes curl wait it out)."""
    return "curl -sS -m %d %s" % (timeout, url)


def curl_loop(url):
    """A shell script: fetch url every 0.2 s on a new connection, printing
    "OK <body>" or "FAIL <curl exit code>" per attempt."""
    return ('while :; do if out=$(curl -sS -m 1 %s 2>&1); then echo "OK $out"; '
            'else echo "FAIL $?"; fi; sleep 0.2; done' % url)


def detail(task, name):
    for att in task.get("attachments", []):
        for d in att["details"]:
            if d["name"] == name:
                return d["value"]
    return None


class Net:
    """Tasks and networks of one server, with waits on what a user sees."""

    def __init__(self, server, cluster="default"):
        self.server = server
        self.ecs = server.client("ecs")
        self.ec2 = server.client("ec2")
        self.cluster = cluster
        self.ecs.create_cluster(clusterName=cluster)
        self.families = 0

    # ---- EC2 ----

    def vpc(self, cidr, *subnets):
        """A VPC and its subnets: (vpc id, [subnet ids])."""
        vpc = self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        ids = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=s)["Subnet"]["SubnetId"]
               for s in subnets]
        return vpc, ids

    def group(self, vpc, name=None):
        name = name or "group-" + uuid.uuid4().hex[:8]
        return self.ec2.create_security_group(GroupName=name, Description=name,
                                              VpcId=vpc)["GroupId"]

    def default_group(self, vpc):
        return self.ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]

    def allow(self, group, port, cidr=None, source=None, egress=False, revoke=False):
        perm = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
        if cidr:
            perm["IpRanges"] = [{"CidrIp": cidr}]
        if source:
            perm["UserIdGroupPairs"] = [{"GroupId": source}]
        fn = {(False, False): self.ec2.authorize_security_group_ingress,
              (False, True): self.ec2.revoke_security_group_ingress,
              (True, False): self.ec2.authorize_security_group_egress,
              (True, True): self.ec2.revoke_security_group_egress}[(egress, revoke)]
        fn(GroupId=group, IpPermissions=[perm])

    # ---- ECS ----

    def register(self, containers, mode="awsvpc", launch="FARGATE"):
        self.families += 1
        family = "f%d-%s" % (self.families, uuid.uuid4().hex[:6])
        kw = {"networkMode": mode}
        if launch == "FARGATE":
            kw.update(requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        else:
            for c in containers:
                c.setdefault("memory", 64)
        self.ecs.register_task_definition(family=family, containerDefinitions=containers, **kw)
        return family

    def run(self, containers, mode="awsvpc", launch="FARGATE", subnets=None, groups=None,
            **kw):
        """Run a task of a new task definition; return the RunTask task."""
        family = self.register(containers, mode, launch)
        args = {"cluster": self.cluster, "taskDefinition": family}
        if launch == "FARGATE":
            args["launchType"] = "FARGATE"
        if mode == "awsvpc":
            cfg = {"subnets": subnets}
            if groups:
                cfg["securityGroups"] = groups
            args["networkConfiguration"] = {"awsvpcConfiguration": cfg}
        args.update(kw)
        out = self.ecs.run_task(**args)
        assert out["failures"] == [], out["failures"]
        return out["tasks"][0]

    def describe(self, arn):
        return self.ecs.describe_tasks(cluster=self.cluster, tasks=[arn])["tasks"][0]

    def wait_status(self, arn, status, timeout=60):
        return wait_for(lambda: (lambda t: t if t["lastStatus"] == status else None)(
            self.describe(arn)), timeout=timeout, what="task %s %s" % (arn, status))

    def stop(self, arn):
        self.ecs.stop_task(cluster=self.cluster, task=arn)
        return self.wait_status(arn, "STOPPED")

    def logs(self, arn, container, started=True):
        p = subprocess.run([BIN, "logs", "--endpoint", self.server.endpoint, arn, container],
                           capture_output=True, text=True, timeout=30)
        if not started and p.returncode != 0:
            return None     # a task that has not started yet has no output
        assert p.returncode == 0, p.stderr
        return p.stdout

    def wait_log(self, arn, container, pred, what, timeout=60):
        """Poll the container's output until pred(lines) is truthy."""
        def check():
            out = self.logs(arn, container, started=False)
            return pred(out.splitlines()) if out is not None else None
        return wait_for(check, timeout=timeout, interval=0.2, what=what)

    def web(self, tok=None, port=8080, containers=None, **kw):
        """A running web task answering tok on port, once it listens:
        (task as DescribeTasks shows it, token)."""
        tok = tok or token()
        containers = containers or [web_container("web", tok, port)]
        task = self.run(containers, **kw)
        arn = task["taskArn"]
        self.wait_status(arn, "RUNNING")
        for c in containers:
            if c["command"][:2] == ["python3", "-c"] and c["command"][2] == WEB:
                self.wait_log(arn, c["name"], lambda lines: "READY" in lines,
                              "%s to listen" % c["name"])
        return self.describe(arn), tok

    def client(self, script, **kw):
        """Start a client task running a shell script; return its arn."""
        return self.run([sh_container("client", script)], **kw)["taskArn"]

    def result(self, arn, timeout=90):
        """Wait for a client task to end: (exit code, output)."""
        task = self.wait_status(arn, "STOPPED", timeout=timeout)
        c = task["containers"][0]
        assert "exitCode" in c, "%s: %s / %s" % (task.get("stopCode"), task.get("stoppedReason"),
                                                 c.get("reason"))
        return c["exitCode"], self.logs(arn, c["name"])

    def results(self, arns, timeout=90):
        return [self.result(a, timeout) for a in arns]


@pytest.fixture
def net(server):
    return Net(server)


@pytest.fixture
def vpc(net):
    """10.0.0.0/16 with subnets A to D: 10.0.1.0/24 ... 10.0.4.0/24.

    Clients that run side by side go to subnets of their own: a subnet's
    bridge lends one of its ports' MACs to the gateway, so a task leaving a
    subnet can cut off the others there (a bug of its own, see
    test_tasks_keep_their_gateway_while_others_come_and_go)."""
    vpc, (a, b, c, d) = net.vpc("10.0.0.0/16", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24",
                                "10.0.4.0/24")
    return {"id": vpc, "a": a, "b": b, "c": c, "d": d}


def eni_of(task):
    return detail(task, "networkInterfaceId")


def ip_of(task):
    return detail(task, "privateIPv4Address")


def netns_names():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def links_in(netns):
    out = subprocess.run(["ip", "-n", netns, "-o", "link", "show"], capture_output=True,
                         text=True)
    return [line.split(":")[1].strip().split("@")[0] for line in out.stdout.splitlines()]


def vpc_netns(vpc_id):
    return "ecsl-v-" + vpc_id.split("-", 1)[1]


def eni_veth(eni_id):
    """The VPC-side end of an ENI's veth."""
    return "ecsl-e" + eni_id.split("-", 1)[1][-9:]


def task_netns(arn):
    return "ecsl-t-" + arn.rsplit("/", 1)[1][:12]


def asan_build():
    """Whether ECSLOCAL_BIN is the ASan/UBSan build (make test runs the suite
    against it)."""
    out = subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout
    return "libasan" in out


# `ecslocal exec` of the ASan build never exits when LeakSanitizer runs (see
# test_exec_exits_with_its_commands_status): the helper the other tests use
# runs it without the leak check, so they test what they are about.
EXEC_ENV = dict(os.environ, ASAN_OPTIONS=":".join(
    filter(None, [os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0"])))


def ecslocal_exec(server, arn, *cmd, container=None, env=EXEC_ENV, timeout=60):
    args = [BIN, "exec", "--endpoint", server.endpoint, arn]
    if container:
        args.append(container)
    return subprocess.run(args + ["--"] + list(cmd), capture_output=True, text=True,
                          timeout=timeout, env=env)


# ---- DNS wire format, by hand (no DNS library on the machine) ----

def dns_query(name, qtype=1):
    qid = random.randrange(65536)
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    return qid, header + qname + struct.pack("!HH", qtype, 1)


def read_name(msg, off):
    """(dotted name, offset after it), following compression pointers."""
    labels, end = [], None
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n == 0:
            return ".".join(labels), (end if end is not None else off + 1)
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n


def dns_parse(qid, msg):
    """(rcode, [answers: A addresses and PTR names]) of a response."""
    rid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    assert rid == qid and flags & 0x8000
    off = 12
    for _ in range(qd):
        off = read_name(msg, off)[1] + 4
    answers = []
    for _ in range(an):
        off = read_name(msg, off)[1]
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            answers.append(socket.inet_ntoa(msg[off:off + 4]))
        elif rtype == 12:
            answers.append(read_name(msg, off)[0])
        off += rdlen
    return flags & 0xF, answers


def reverse_name(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def resolve_udp(port, name, qtype=1):
    qid, q = dns_query(name, qtype)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(q, ("127.0.0.1", port))
        return dns_parse(qid, s.recv(4096))


def resolve_tcp(port, name):
    qid, q = dns_query(name)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack("!H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            chunk = s.recv(4096)
            assert chunk, "the DNS server closed the connection early"
            buf += chunk
        return dns_parse(qid, buf[2:])


# ---- awsvpc ----

def test_reached_across_subnets_by_ip_and_private_dns_name(net, vpc):
    web, tok = net.web(subnets=[vpc["a"]])
    ip, name = ip_of(web), detail(web, "privateDnsName")
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.0.1.0/24")
    assert name == "ip-%s.ec2.internal" % ip.replace(".", "-")
    script = ("cat /etc/resolv.conf; echo; %s; echo; %s; echo; getent hosts %s"
              % (curl("http://%s:8080/" % ip), curl("http://%s:8080/" % name), name))
    client = net.client(script, subnets=[vpc["b"]])
    code, out = net.result(client)
    assert code == 0, out
    lines = out.splitlines()
    # The task's resolver is the VPC's (base + 2) and it answers the name.
    assert "nameserver 10.0.0.2" in lines
    assert lines.count(tok) == 2, out
    assert lines[-1].split() == [ip, name]
    client_ip = ip_of(net.describe(client))
    assert ipaddress.ip_address(client_ip) in ipaddress.ip_network("10.0.2.0/24")


def test_containers_of_a_task_talk_over_localhost(net, vpc):
    tok = token()
    task = net.run([
        web_container("web", tok, essential=False),
        sh_container("probe", "for i in $(seq 100); do out=$(curl -s -m 2 http://localhost:8080/) "
                              "&& echo \"$out\" && exit 0; sleep 0.1; done; exit 1"),
    ], subnets=[vpc["a"]])
    stopped = net.wait_status(task["taskArn"], "STOPPED")
    probe = [c for c in stopped["containers"] if c["name"] == "probe"][0]
    assert probe["exitCode"] == 0, net.logs(task["taskArn"], "probe")
    assert net.logs(task["taskArn"], "probe").splitlines() == [tok]


def test_same_cidr_in_two_vpcs_is_two_networks(net):
    vpc1, (a1,) = net.vpc("10.0.0.0/16", "10.0.1.0/24")
    vpc2, (a2, b2) = net.vpc("10.0.0.0/16", "10.0.1.0/24", "10.0.2.0/24")
    web1, tok1 = net.web(subnets=[a1])
    web2, tok2 = net.web(subnets=[a2])
    # Each VPC has its own address space: the same address is handed out in
    # both (ecslocal takes the lowest free one), and each is a different task.
    assert ip_of(web1) == ip_of(web2)
    ip = ip_of(web1)
    from_vpc2 = net.client(curl("http://%s:8080/" % ip), subnets=[b2])
    code, out = net.result(from_vpc2)
    assert code == 0, out
    assert out.strip() == tok2
    assert tok1 not in out
    # With VPC 2's server gone, the address leads nowhere from VPC 2: VPC 1's
    # server, at that very address, is out of reach.
    net.stop(web2["taskArn"])
    again = net.client(curl("http://%s:8080/" % ip, timeout=2), subnets=[b2])
    code, out = net.result(again)
    assert code != 0, out
    assert tok1 not in out
    # VPC 1's server is still there for its own VPC.
    inside = net.client(curl("http://%s:8080/" % ip), subnets=[a1])
    code, out = net.result(inside)
    assert (code, out.strip()) == (0, tok1)


def test_task_eni_is_real_and_goes_away_with_the_task(net, vpc, server):
    web, tok = net.web(subnets=[vpc["a"]])
    arn, eni_id, ip = web["taskArn"], eni_of(web), ip_of(web)
    eni = net.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    assert eni["PrivateIpAddress"] == ip
    assert eni["PrivateIpAddresses"][0]["PrivateIpAddress"] == ip
    assert eni["MacAddress"] == detail(web, "macAddress")
    assert eni["SubnetId"] == vpc["a"] and eni["VpcId"] == vpc["id"]
    assert eni["Status"] == "in-use"
    assert eni["InterfaceType"] == "interface"
    assert eni["RequesterManaged"] is True
    assert eni["Description"].startswith("arn:aws:ecs:us-east-1:000000000000:attachment/")
    assert eni["PrivateDnsName"] == detail(web, "privateDnsName")
    assert [g["GroupId"] for g in eni["Groups"]] == [net.default_group(vpc["id"])]
    by_subnet = net.ec2.describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [vpc["a"]]}])["NetworkInterfaces"]
    assert eni_id in [e["NetworkInterfaceId"] for e in by_subnet]
    # Inside the task, eth0 has that address and MAC.
    p = ecslocal_exec(server, arn, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
    assert p.returncode == 0, p.stderr
    assert " %s/24 " % ip in p.stdout, p.stdout
    p = ecslocal_exec(server, arn, "ip", "-o", "link", "show", "dev", "eth0")
    assert "link/ether %s " % eni["MacAddress"] in p.stdout, p.stdout
    # Jumbo frames, as the ECS ENI plugin configures a task's eth0.
    assert " mtu 9001 " in p.stdout, p.stdout
    # Its default route goes through the subnet's gateway (base + 1).
    p = ecslocal_exec(server, arn, "ip", "-4", "route", "show", "default")
    assert p.stdout.split()[:3] == ["default", "via", "10.0.1.1"], p.stdout
    assert task_netns(arn) in netns_names()
    assert eni_veth(eni_id) in links_in(vpc_netns(vpc["id"]))
    # The VPC router knows the ENI's MAC without asking (no ARP wait for a
    # task's first packets), and forgets it with the ENI.
    assert router_neighbour(vpc["id"], ip) == "%s PERMANENT" % eni["MacAddress"]

    stopped = net.stop(arn)
    assert stopped["attachments"][0]["status"] == "DELETED"
    with pytest.raises(ClientError) as e:
        net.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"
    assert task_netns(arn) not in netns_names()
    assert eni_veth(eni_id) not in links_in(vpc_netns(vpc["id"]))
    wait_for(lambda: router_neighbour(vpc["id"], ip) is None, timeout=10,
             what="the router to forget the ENI")
    # The address is free again: the next task gets it.
    nxt = net.run([web_container("web", token())], subnets=[vpc["a"]])
    assert ip_of(nxt) == ip


def test_stopped_tasks_address_no_longer_answers(net, vpc):
    web, tok = net.web(subnets=[vpc["a"]])
    net.stop(web["taskArn"])
    code, out = net.result(net.client(curl("http://%s:8080/" % ip_of(web), timeout=2),
                                      subnets=[vpc["b"]]))
    assert code != 0 and tok not in out, out


def router_neighbour(vpc_id, ip):
    """'MAC STATE' of the VPC router's permanent neighbour entry for ip."""
    out = subprocess.run(["ip", "-n", vpc_netns(vpc_id), "neigh", "show", ip, "nud",
                          "permanent"], capture_output=True, text=True).stdout
    m = re.search(r"lladdr ([0-9a-f:]{17}) (\w+)", out)
    return "%s %s" % (m.group(1), m.group(2)) if m else None


def link_mac(netns, ifname):
    out = subprocess.run(["ip", "-n", netns, "-o", "link", "show", "dev", ifname],
                         capture_output=True, text=True).stdout
    m = re.search(r"link/ether ([0-9a-f:]{17})", out)
    return m.group(1) if m else None


def neighbour_mac(server, arn, ip):
    out = ecslocal_exec(server, arn, "ip", "neigh", "show", ip).stdout
    m = re.search(r"lladdr ([0-9a-f:]{17})", out)
    return m.group(1) if m else None


def test_tasks_keep_their_gateway_while_others_come_and_go(net, vpc, server):
    web, tok = net.web(subnets=[vpc["a"]])
    url = "http://%s:8080/" % ip_of(web)
    others = [net.client("sleep 600", subnets=[vpc["b"]]) for _ in range(6)]
    for arn in others:
        net.wait_status(arn, "RUNNING")
    others_macs = {link_mac(vpc_netns(vpc["id"]), eni_veth(eni_of(net.describe(arn))))
                   for arn in others}
    # A client learns its gateway's MAC while the other tasks are in the
    # subnet: the bridge's own, never one of its ports' (a bridge that
    # borrows the lowest port MAC changes it as ports go).
    client = net.client(curl_loop(url), subnets=[vpc["b"]])
    net.wait_log(client, "client", lambda ls: "OK " + tok in ls, "the client to get through")
    assert neighbour_mac(server, client, "10.0.2.1") not in others_macs
    for arn in others:
        net.ecs.stop_task(cluster=net.cluster, task=arn)
    for arn in others:
        net.wait_status(arn, "STOPPED")
    # The client's next attempts all get through.
    seen = len(net.logs(client, "client").splitlines())
    lines = net.wait_log(client, "client", lambda ls: ls if len(ls) >= seen + 5 else None,
                         "five more attempts")
    assert lines[seen:seen + 5] == ["OK " + tok] * 5, lines[seen:]
    net.stop(client)


# ---- security groups ----

def test_security_group_allows_by_cidr_and_port(net, vpc):
    w, c = net.group(vpc["id"]), net.group(vpc["id"])
    # Subnets B and C, on 8080.
    net.allow(w, 8080, cidr="10.0.2.0/23")
    tok, tok9 = token(), token()
    web, _ = net.web(containers=[web_container("web", tok), web_container("other", tok9, 9090)],
                     subnets=[vpc["a"]], groups=[w])
    ip = ip_of(web)
    arns = [
        net.client(curl("http://%s:8080/" % ip), subnets=[vpc["b"]], groups=[c]),
        net.client(curl("http://%s:8080/" % ip, 2), subnets=[vpc["d"]], groups=[c]),
        net.client(curl("http://%s:9090/" % ip, 2), subnets=[vpc["c"]], groups=[c]),
    ]
    (ok, ok_out), (other_subnet, o1), (other_port, o2) = net.results(arns)
    assert (ok, ok_out.strip()) == (0, tok)
    # A blocked connection is dropped, as in AWS: the client times out.
    assert other_subnet == CURL_TIMEOUT, o1
    assert other_port == CURL_TIMEOUT, o2
    assert tok9 not in o2


def test_security_group_allows_by_source_group(net, vpc):
    w, c, d = net.group(vpc["id"]), net.group(vpc["id"]), net.group(vpc["id"])
    net.allow(w, 8080, source=c)
    web, tok = net.web(subnets=[vpc["a"]], groups=[w])
    url = "http://%s:8080/" % ip_of(web)
    results = net.results([net.client(curl(url), subnets=[vpc["b"]], groups=[c]),
                           net.client(curl(url, 2), subnets=[vpc["c"]], groups=[d])])
    # Traffic inside one subnet is filtered too.
    results += net.results([net.client(curl(url), subnets=[vpc["a"]], groups=[d, c]),
                            net.client(curl(url, 2), subnets=[vpc["a"]], groups=[d])])
    assert [r[0] for r in results] == [0, CURL_TIMEOUT, 0, CURL_TIMEOUT], results
    assert results[0][1].strip() == tok and results[2][1].strip() == tok


def test_tasks_started_later_join_their_groups(net, vpc):
    # After the first task of a combination of groups, starting another
    # only adds its address to the sets and maps (the sync's fast path):
    # later members of the source group get in, later strangers do not.
    w, c, d = net.group(vpc["id"]), net.group(vpc["id"]), net.group(vpc["id"])
    net.allow(w, 8080, source=c)
    web, tok = net.web(subnets=[vpc["a"]], groups=[w])
    url = "http://%s:8080/" % ip_of(web)
    results = []
    for _ in range(3):
        results += net.results([net.client(curl(url), subnets=[vpc["b"]], groups=[c]),
                                net.client(curl(url, 2), subnets=[vpc["b"]], groups=[d])])
    assert [r[0] for r in results] == [0, CURL_TIMEOUT] * 3, results
    assert [r[1].strip() for r in results[::2]] == [tok] * 3


def test_default_group_admits_its_own_members_only(net, vpc):
    web, tok = net.web(subnets=[vpc["a"]])
    url = "http://%s:8080/" % ip_of(web)
    other = net.group(vpc["id"])
    arns = [net.client(curl(url), subnets=[vpc["b"]]),
            net.client(curl(url, 2), subnets=[vpc["c"]], groups=[other])]
    (member, out1), (stranger, out2) = net.results(arns)
    assert (member, out1.strip()) == (0, tok)
    assert stranger == CURL_TIMEOUT, out2


def test_rule_changes_apply_to_running_tasks(net, vpc):
    w, c = net.group(vpc["id"]), net.group(vpc["id"])
    web, tok = net.web(subnets=[vpc["a"]], groups=[w])
    url = "http://%s:8080/" % ip_of(web)
    loop = net.client(curl_loop(url), subnets=[vpc["b"]], groups=[c])
    net.wait_status(loop, "RUNNING")
    net.wait_log(loop, "client", lambda ls: any(l.startswith("FAIL") for l in ls),
                 "the looping client to be blocked")

    net.allow(w, 8080, source=c)
    # The running client sees the new rule on a following attempt ...
    net.wait_log(loop, "client", lambda ls: "OK " + tok in ls, "the looping client to get through")
    # ... and a client started after the call gets through at once.
    code, out = net.result(net.client(curl(url), subnets=[vpc["b"]], groups=[c]))
    assert (code, out.strip()) == (0, tok)

    net.allow(w, 8080, source=c, revoke=True)
    def blocked_again(lines):
        last_ok = max(i for i, l in enumerate(lines) if l == "OK " + tok)
        return any(l.startswith("FAIL") for l in lines[last_ok + 1:])
    net.wait_log(loop, "client", blocked_again, "the looping client to be blocked again")
    code, out = net.result(net.client(curl(url, 2), subnets=[vpc["b"]], groups=[c]))
    assert code == CURL_TIMEOUT, out
    net.stop(loop)


def test_revoke_cuts_an_established_connection(net, vpc):
    w, c = net.group(vpc["id"]), net.group(vpc["id"])
    net.allow(w, 8080, cidr="10.0.2.0/24")
    web, tok = net.web(subnets=[vpc["a"]], groups=[w])
    client = net.run([{"name": "client", "image": "python", "essential": True,
                       "command": ["python3", "-c", PERSISTENT_CLIENT, ip_of(web), "8080"]}],
                     subnets=[vpc["b"]], groups=[c])["taskArn"]
    # Several answers on the first connection: it is established.
    net.wait_log(client, "client", lambda ls: ls.count("OK 1 " + tok) >= 3,
                 "answers on one connection")
    net.allow(w, 8080, cidr="10.0.2.0/24", revoke=True)
    # The next request on that same connection goes unanswered.
    lines = net.wait_log(client, "client",
                         lambda ls: [l for l in ls if l.startswith("FAIL")] or None,
                         "the connection to be cut")
    assert lines[0].startswith("FAIL 1 "), lines
    net.allow(w, 8080, cidr="10.0.2.0/24")
    net.wait_log(client, "client",
                 lambda ls: any(l.startswith("OK ") and l.split()[1] != "1" for l in ls),
                 "a new connection to get through")
    net.stop(client)


def test_egress_rules_restrict_outbound(net, vpc, server):
    w, c = net.group(vpc["id"]), net.group(vpc["id"])
    net.allow(w, 8080, cidr="10.0.0.0/16")
    net.allow(w, 9090, cidr="10.0.0.0/16")
    tok8, tok9 = token(), token()
    web, _ = net.web(containers=[web_container("web", tok8), web_container("other", tok9, 9090)],
                     subnets=[vpc["a"]], groups=[w])
    ip = ip_of(web)
    client = net.client("sleep 600", subnets=[vpc["b"]], groups=[c])
    net.wait_status(client, "RUNNING")

    def fetch(port, timeout=10):
        p = ecslocal_exec(server, client, "curl", "-sS", "-m", str(timeout),
                          "http://%s:%d/" % (ip, port))
        return p.returncode, p.stdout.strip()

    # The default egress rule lets everything out.
    assert fetch(9090) == (0, tok9)
    net.ec2.revoke_security_group_egress(GroupId=c, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    # Revoked: nothing gets out any more (a rule change reaches the kernel
    # a moment after the call returns; then it holds).
    wait_for(lambda: fetch(8080, 2)[0] == CURL_TIMEOUT, what="egress to be blocked")
    assert fetch(9090, 2)[0] == CURL_TIMEOUT
    # Out to subnet A on 8080 only.
    net.allow(c, 8080, cidr="10.0.1.0/24", egress=True)
    assert wait_for(lambda: (lambda r: r if r[0] == 0 else None)(fetch(8080)),
                    what="egress on 8080") == (0, tok8)
    assert fetch(9090, 2)[0] == CURL_TIMEOUT
    net.stop(client)


def test_egress_rules_hold_from_a_tasks_first_packet(net, vpc):
    w, c, unrelated = net.group(vpc["id"]), net.group(vpc["id"]), net.group(vpc["id"])
    net.allow(w, 9090, cidr="10.0.0.0/16")
    web, tok = net.web(subnets=[vpc["a"]], port=9090, groups=[w])
    net.ec2.revoke_security_group_egress(GroupId=c, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    family = net.register([sh_container("client", curl("http://%s:9090/" % ip_of(web), 2))])
    # Bringing the network up to date covers every VPC: with more of them it
    # takes longer, and tasks created meanwhile are more surely among those
    # the race catches.
    for k in range(15):
        net.vpc("10.%d.0.0/16" % (100 + k), "10.%d.1.0/24" % (100 + k))
    outputs = []
    for n in range(2):
        # Tasks started while the network is being brought up to date after
        # another change: their group lets nothing out, from the start.
        net.allow(unrelated, 1000 + n, cidr="10.9.9.9/32")
        tasks = net.ecs.run_task(cluster="default", taskDefinition=family, launchType="FARGATE",
                                 count=10, networkConfiguration={"awsvpcConfiguration": {
                                     "subnets": [vpc["b"]], "securityGroups": [c]}})["tasks"]
        outputs += net.results([t["taskArn"] for t in tasks])
    leaked = [out for code, out in outputs if tok in out]
    assert leaked == [], "%d of %d clients got out" % (len(leaked), len(outputs))
    assert all(code == CURL_TIMEOUT for code, _ in outputs), outputs


# ---- reaching into tasks from the machine ----

def test_exec_runs_in_the_tasks_namespaces(net, vpc, server):
    net.ec2.modify_vpc_attribute(VpcId=vpc["id"], EnableDnsHostnames={"Value": True})
    web, tok = net.web(subnets=[vpc["a"]])
    arn, ip = web["taskArn"], ip_of(web)
    p = ecslocal_exec(server, arn, "hostname")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == detail(web, "privateDnsName")
    assert p.stdout.strip() != socket.gethostname()
    p = ecslocal_exec(server, arn, "ip", "-o", "-4", "addr", "show")
    addrs = sorted(l.split()[3] for l in p.stdout.splitlines())
    assert addrs == sorted(["127.0.0.1/8", "169.254.170.2/32", ip + "/24"]), p.stdout
    # Only the task's processes are visible: its web server and (pid 1)
    # the task's init; the listing's own process is left out.
    script = ("import json, os\n"
              "me = os.getpid()\n"
              "procs = {}\n"
              "for p in os.listdir('/proc'):\n"
              "    if p.isdigit() and int(p) != me:\n"
              "        with open('/proc/%s/cmdline' % p, 'rb') as f:\n"
              "            procs[p] = f.read().decode(errors='replace').replace('\\0', ' ')\n"
              "print(json.dumps(procs))\n")
    p = ecslocal_exec(server, arn, "python3", "-c", script)
    assert p.returncode == 0, p.stderr
    procs = json.loads(p.stdout)
    web_procs = [pid for pid, cmd in procs.items() if tok in cmd]
    assert len(web_procs) == 1, procs
    others = {pid: cmd for pid, cmd in procs.items() if pid not in web_procs}
    assert len(others) <= 1 and set(others) <= {"1"}, procs
    # The exit code of the command is exec's.
    assert ecslocal_exec(server, arn, "sh", "-c", "exit 7").returncode == 7
    # A container by name; a missing one is an error.
    assert ecslocal_exec(server, arn, "true", container="web").returncode == 0
    assert ecslocal_exec(server, arn, "true", container="nosuch").returncode != 0


LEAK_CHECKED_EXEC = asan_build() and "detect_leaks=0" not in os.environ.get("ASAN_OPTIONS", "")


def test_exec_exits_with_its_commands_status(net, vpc, server):
    web, _ = net.web(subnets=[vpc["a"]])
    # With the sanitizers as configured, except that a report (or the file a
    # killed process leaves) goes to stderr rather than the run's log directory.
    options = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":")
               if o and not o.startswith("log_path=")]
    try:
        p = ecslocal_exec(server, web["taskArn"], "sh", "-c", "echo out; exit 3",
                          env=dict(os.environ, ASAN_OPTIONS=":".join(options)), timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("ecslocal exec did not exit after its command did")
    assert (p.returncode, p.stdout) == (3, "out\n"), p.stderr[-3000:]


def test_port_forward_reaches_the_tasks_port(net, vpc, server):
    web, tok = net.web(subnets=[vpc["a"]])
    port = free_port()
    pf = subprocess.Popen([BIN, "port-forward", "--endpoint", server.endpoint, web["taskArn"],
                           "%d:8080" % port], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    try:
        line = pf.stdout.readline()
        assert line.startswith("Forwarding from 127.0.0.1:%d" % port), (line, pf.poll())
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            assert data.startswith(b"HTTP/1.") and data.endswith(tok.encode()), data
    finally:
        pf.terminate()
        pf.wait(timeout=10)


# ---- DNS ----

def test_host_dns_listener_answers_private_names(net, vpc, server):
    eni = net.ec2.create_network_interface(SubnetId=vpc["c"])["NetworkInterface"]
    ip, name = eni["PrivateIpAddress"], eni["PrivateDnsName"]
    assert name == "ip-%s.ec2.internal" % ip.replace(".", "-")
    assert resolve_udp(server.dns_port, name) == (0, [ip])
    assert resolve_tcp(server.dns_port, name) == (0, [ip])
    assert resolve_udp(server.dns_port, name.upper()) == (0, [ip])
    # A name of the zone that no interface has: NXDOMAIN; outside the zones
    # ecslocal owns: REFUSED (there is nothing to recurse to).
    assert resolve_udp(server.dns_port, "ip-10-0-3-250.ec2.internal") == (3, [])
    assert resolve_udp(server.dns_port, "example.com") == (5, [])
    # Another region's names.
    west = server.client("ec2", region="eu-west-1")
    wvpc = west.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    wsub = west.create_subnet(VpcId=wvpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    weni = west.create_network_interface(SubnetId=wsub)["NetworkInterface"]
    assert weni["PrivateDnsName"] == "ip-%s.eu-west-1.compute.internal" % (
        weni["PrivateIpAddress"].replace(".", "-"))
    assert resolve_udp(server.dns_port, weni["PrivateDnsName"]) == (0, [weni["PrivateIpAddress"]])
    # Addresses resolve back to the names (PTR).
    assert resolve_udp(server.dns_port, reverse_name(ip), 12) == (0, [name])

    # The interface gone, the name goes.
    net.ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert resolve_udp(server.dns_port, name) == (3, [])


def test_host_dns_listener_reverse_names_follow_the_region(server):
    west = server.client("ec2", region="eu-west-1")
    vpc = west.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = west.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    eni = west.create_network_interface(SubnetId=subnet)["NetworkInterface"]
    assert resolve_udp(server.dns_port, reverse_name(eni["PrivateIpAddress"]), 12) == (
        0, [eni["PrivateDnsName"]])


def test_vpc_resolver_honours_enable_dns_support(net, vpc):
    web, tok = net.web(subnets=[vpc["a"]])
    name = detail(web, "privateDnsName")
    net.ec2.modify_vpc_attribute(VpcId=vpc["id"], EnableDnsSupport={"Value": False})
    code, out = net.result(net.client("getent hosts %s" % name, subnets=[vpc["b"]]))
    assert code != 0, out
    net.ec2.modify_vpc_attribute(VpcId=vpc["id"], EnableDnsSupport={"Value": True})
    code, out = net.result(net.client("getent hosts %s" % name, subnets=[vpc["b"]]))
    assert (code, out.split()) == (0, [ip_of(web), name])


# ---- restarts ----

def test_kill9_and_restart_keep_the_network(make_server):
    s = make_server()
    net = Net(s)
    vpc, (a, b) = net.vpc("10.0.0.0/16", "10.0.1.0/24", "10.0.2.0/24")
    web, tok = net.web(subnets=[a])
    ip = ip_of(web)
    s.kill9()
    s.start()
    net = Net(s)
    assert net.describe(web["taskArn"])["lastStatus"] == "RUNNING"
    eni = net.ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni_of(web)])["NetworkInterfaces"][0]
    assert eni["PrivateIpAddress"] == ip
    client = net.client("%s; echo; %s" % (curl("http://%s:8080/" % ip),
                                          curl("http://%s:8080/" % detail(web, "privateDnsName"))),
                        subnets=[a])
    code, out = net.result(client)
    assert code == 0, out
    assert out.split() == [tok, tok]
    # A new task does not get an address that is taken.
    assert ip_of(net.describe(client)) != ip
    net.stop(web["taskArn"])


# ---- the tasks' mount namespaces ----

def test_a_tasks_mounts_hold_no_namespace_pins(net, vpc, server):
    # Several tasks, each a pin under /run/netns on the host: none of them
    # is copied into a task's mount namespace (that copy would keep other
    # tasks' networks alive and cost one mount per running task).
    webs = [net.web(subnets=[vpc["a"]])[0] for _ in range(3)]
    with open("/proc/self/mountinfo") as f:
        assert sum("/netns/ecsl-" in line for line in f) >= 3
    p = ecslocal_exec(server, webs[-1]["taskArn"], "cat", "/proc/self/mountinfo")
    assert p.returncode == 0, p.stderr
    pins = [line for line in p.stdout.splitlines() if "/netns/" in line]
    assert pins == [], pins


def test_a_mount_made_after_the_start_is_seen_by_new_tasks(net, vpc):
    # Tasks' mounts are copied from a namespace that follows the host's:
    # what the host mounts while ecslocal runs, a task started later sees.
    where = "/tmp/ecsl-test-mnt-" + uuid.uuid4().hex[:8]
    os.mkdir(where)
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "ecsl-test", where], check=True)
        try:
            tok = token()
            with open(os.path.join(where, "f"), "w") as f:
                f.write(tok)
            code, out = net.result(net.client("cat %s/f" % where, subnets=[vpc["b"]]))
            assert (code, out.strip()) == (0, tok)
        finally:
            subprocess.run(["umount", where], check=True)
    finally:
        os.rmdir(where)
