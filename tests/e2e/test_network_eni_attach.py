"""Network interfaces of EC2 instances in the kernel (DESIGN.md, "The
network"): an ENI attached at device index N is eth<N> of the instance's
namespace, with the ENI's MAC and address, and carries traffic; a detached
ENI has no interface anywhere (neither in the instance nor on its subnet's
bridge); another ENI attached at the same index takes its place, even when
the detach and the attach come together; an ECS task's ENI on the same
instance is left alone; and a VPC namespace or bridge whose setup was left
half-done is finished by the next sync.

Traffic goes only between namespaces ecslocal made: a listener run with
`ip netns exec` in one instance's namespace, a probe in another's.
"""
import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid
from contextlib import contextmanager

import pytest

from conftest import wait_for
from test_network import (Net, curl, detail, eni_veth, ip_of, link_mac, links_in, sh_container,
                          vpc_netns)
from test_network_modes import client_subnets, instance_netns, instance_of

IMAGE = "ami-0abcdef1234567890"
ZONE = "us-east-1a"
PORT = 7000

# Answers every connection with its token (argv[1]); prints READY once
# listening.
LISTENER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2])))
s.listen(16)
print("READY", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[1].encode())
    c.close()
"""

# Connects to argv[1]:argv[2] within argv[3] seconds and prints what the
# listener said, or FAIL and the error.
PROBE = r"""
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])) as s:
        print(s.recv(100).decode())
except OSError as e:
    print("FAIL", type(e).__name__)
"""


def networking(server):
    with urllib.request.urlopen(server.endpoint + "/_ecslocal/health", timeout=10) as r:
        return json.load(r)["networking"] == "real"


@pytest.fixture(autouse=True)
def _needs_network(request):
    s = request.getfixturevalue("server")
    if not networking(s):
        pytest.skip("ecslocal runs without network namespaces here (needs CAP_NET_ADMIN)")


# ---- what the kernel shows ----

def addresses(netns, ifname):
    """The IPv4 addresses (with prefix) of a link, in order."""
    out = subprocess.run(["ip", "-n", netns, "-o", "-4", "addr", "show", "dev", ifname],
                         capture_output=True, text=True).stdout
    return re.findall(r"inet (\S+)", out)


def sysctl(netns, path):
    out = subprocess.run(["ip", "netns", "exec", netns, "cat", "/proc/sys/" + path],
                         capture_output=True, text=True)
    return out.stdout.strip()


def link_up(netns, ifname):
    out = subprocess.run(["ip", "-n", netns, "-o", "link", "show", "dev", ifname],
                         capture_output=True, text=True).stdout
    m = re.search(r"<([^>]*)>", out)
    return bool(m) and "UP" in m.group(1).split(",")


def bridge(subnet_id):
    return "ecsl-b" + subnet_id.split("-", 1)[1][-9:]


def plugged(netns, ifname, eni):
    """Whether ifname in netns is this ENI: its MAC and its address."""
    return (link_mac(netns, ifname) == eni["MacAddress"] and
            addresses(netns, ifname) == [eni["PrivateIpAddress"] + "/24"])


# ---- traffic between instance namespaces ----

@contextmanager
def listener(netns, tok):
    p = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", LISTENER, tok,
                          str(PORT)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "READY"
        yield
    finally:
        p.kill()
        p.wait()


def probe(netns, ip, timeout=10):
    p = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", PROBE, ip,
                        str(PORT), str(timeout)], capture_output=True, text=True,
                       timeout=timeout + 30)
    return p.stdout.strip()


# ---- EC2 ----

class Vpc:
    """A VPC with two subnets in one zone, and instances and ENIs in it."""

    def __init__(self, ec2):
        self.ec2 = ec2
        self.id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [ec2.create_subnet(VpcId=self.id, CidrBlock=c,
                                          AvailabilityZone=ZONE)["Subnet"]["SubnetId"]
                        for c in ("10.0.1.0/24", "10.0.2.0/24")]
        self.netns = vpc_netns(self.id)

    def instance(self, subnet):
        """A running instance, once its eth0 is up: (instance, namespace)."""
        i = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1,
                                   SubnetId=subnet)["Instances"][0]
        ns = instance_netns(i)
        wait_for(lambda: plugged(ns, "eth0", i["NetworkInterfaces"][0]),
                 what="eth0 of %s" % i["InstanceId"])
        return i, ns

    def eni(self, subnet):
        return self.ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]

    def attach(self, eni, instance, index):
        return self.ec2.attach_network_interface(
            NetworkInterfaceId=eni["NetworkInterfaceId"], InstanceId=instance["InstanceId"],
            DeviceIndex=index)["AttachmentId"]

    def detach(self, attachment):
        self.ec2.detach_network_interface(AttachmentId=attachment)

    def status(self, eni):
        return self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni["NetworkInterfaceId"]])["NetworkInterfaces"][0]["Status"]

    def veth(self, eni):
        """Whether the ENI's veth is on its subnet's bridge."""
        return eni_veth(eni["NetworkInterfaceId"]) in links_in(self.netns)


@pytest.fixture
def vpc(ec2):
    return Vpc(ec2)


def test_attach_detach_and_another_eni_at_the_same_index(vpc):
    a, ns_a = vpc.instance(vpc.subnets[0])
    # B is in the second subnet, as the attached ENIs are: A answers it
    # from eth1, the ENI's own link.
    b, ns_b = vpc.instance(vpc.subnets[1])
    x, y = vpc.eni(vpc.subnets[1]), vpc.eni(vpc.subnets[1])
    assert not vpc.veth(x) and not vpc.veth(y)
    tok = "tok-" + uuid.uuid4().hex
    with listener(ns_a, tok):
        att = vpc.attach(x, a, 1)
        wait_for(lambda: plugged(ns_a, "eth1", x), what="eth1 to be %s" % x["NetworkInterfaceId"])
        assert vpc.veth(x)
        assert probe(ns_b, x["PrivateIpAddress"]) == tok

        # Detached: gone from the instance and from the bridge.
        vpc.detach(att)
        wait_for(lambda: "eth1" not in links_in(ns_a), what="eth1 to go")
        assert not vpc.veth(x)
        assert vpc.status(x) == "available"
        assert sorted(links_in(ns_a)) == ["eth0", "lo"]

        # Another ENI at the same index is eth1 now, with its own MAC and
        # address; the first one's address leads nowhere.
        att = vpc.attach(y, a, 1)
        wait_for(lambda: plugged(ns_a, "eth1", y), what="eth1 to be %s" % y["NetworkInterfaceId"])
        assert probe(ns_b, y["PrivateIpAddress"]) == tok
        assert probe(ns_b, x["PrivateIpAddress"], timeout=2).startswith("FAIL")

        vpc.detach(att)
        wait_for(lambda: "eth1" not in links_in(ns_a), what="eth1 to go")
    for eni in (x, y):
        vpc.ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert not vpc.veth(x) and not vpc.veth(y)
    assert sorted(links_in(ns_a)) == ["eth0", "lo"]
    # The instances' own ENIs are all that is left on the bridges.
    veths = sorted(l for l in links_in(vpc.netns) if l.startswith("ecsl-e"))
    assert veths == sorted(eni_veth(i["NetworkInterfaces"][0]["NetworkInterfaceId"])
                           for i in (a, b))


def test_detach_and_attach_together(vpc):
    """The detach and the attaches reach the kernel in one sync or in
    several: either way each index ends up with the ENI attached there."""
    # Both instances in the first subnet, the ENIs in the second: each
    # instance has one link there, so replies leave by the link the
    # request came in on.
    a, ns_a = vpc.instance(vpc.subnets[0])
    b, ns_b = vpc.instance(vpc.subnets[0])
    x, y = vpc.eni(vpc.subnets[1]), vpc.eni(vpc.subnets[1])
    att = vpc.attach(x, a, 1)
    wait_for(lambda: plugged(ns_a, "eth1", x), what="eth1 to be %s" % x["NetworkInterfaceId"])
    # Y takes X's index and X moves to index 2, at once.
    vpc.detach(att)
    vpc.attach(y, a, 1)
    att = vpc.attach(x, a, 2)
    wait_for(lambda: plugged(ns_a, "eth1", y) and plugged(ns_a, "eth2", x),
             what="eth1 to be Y and eth2 X")
    assert sorted(links_in(ns_a)) == ["eth0", "eth1", "eth2", "lo"]
    # X moves to the other instance at once.
    vpc.detach(att)
    vpc.attach(x, b, 1)
    wait_for(lambda: plugged(ns_b, "eth1", x) and "eth2" not in links_in(ns_a),
             what="X to move to the other instance")
    assert plugged(ns_a, "eth1", y)
    assert vpc.veth(x) and vpc.veth(y)
    tok = "tok-" + uuid.uuid4().hex
    with listener(ns_b, tok):
        assert probe(ns_a, x["PrivateIpAddress"]) == tok


def test_terminating_an_instance_unplugs_its_enis(vpc):
    a, ns_a = vpc.instance(vpc.subnets[0])
    x = vpc.eni(vpc.subnets[1])
    vpc.attach(x, a, 1)
    wait_for(lambda: plugged(ns_a, "eth1", x), what="eth1 to be %s" % x["NetworkInterfaceId"])
    vpc.ec2.terminate_instances(InstanceIds=[a["InstanceId"]])
    wait_for(lambda: ns_a not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                text=True).stdout,
             what="the instance's namespace to go")
    wait_for(lambda: not vpc.veth(x), what="the detached ENI's veth to go")
    assert vpc.status(x) == "available"


def test_a_tasks_eni_on_the_instance_is_left_alone(server):
    """An awsvpc task of the EC2 launch type has an ENI attached to its
    container instance in EC2's books but plugged into the task's own
    namespace: ENIs of the instance coming and going leave it be."""
    net = Net(server)
    sleeper = net.run([sh_container("sleeper", "sleep 600", memory=64)], mode="bridge",
                      launch="EC2")
    instance = instance_of(net, sleeper)
    web, tok = net.web(launch="EC2", subnets=[instance["SubnetId"]])
    task_eni = detail(web, "networkInterfaceId")
    ns_vpc = vpc_netns(instance["VpcId"])
    ns_i = instance_netns(instance)
    assert eni_veth(task_eni) in links_in(ns_vpc)
    other = net.ec2.create_network_interface(SubnetId=instance["SubnetId"])["NetworkInterface"]
    used = {n["Attachment"]["DeviceIndex"] for n in net.ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id",
                  "Values": [instance["InstanceId"]]}])["NetworkInterfaces"]}
    index = min(set(range(1, 8)) - used)
    att = net.ec2.attach_network_interface(NetworkInterfaceId=other["NetworkInterfaceId"],
                                           InstanceId=instance["InstanceId"],
                                           DeviceIndex=index)["AttachmentId"]
    ifname = "eth%d" % index
    wait_for(lambda: link_mac(ns_i, ifname) == other["MacAddress"], what=ifname)
    net.ec2.detach_network_interface(AttachmentId=att)
    wait_for(lambda: ifname not in links_in(ns_i), what="%s to go" % ifname)
    net.ec2.delete_network_interface(NetworkInterfaceId=other["NetworkInterfaceId"])
    wait_for(lambda: eni_veth(other["NetworkInterfaceId"]) not in links_in(ns_vpc),
             what="the deleted ENI's veth to go")
    assert eni_veth(task_eni) in links_in(ns_vpc)
    code, out = net.result(net.client(curl("http://%s:8080/" % ip_of(web)),
                                      subnets=[client_subnets(net, instance)[0]]))
    assert (code, out.strip()) == (0, tok)
    net.stop(web["taskArn"])
    net.stop(sleeper["taskArn"])


def test_a_half_done_vpc_setup_is_finished_by_the_next_sync(make_server):
    """A server stopped (or killed) in the middle of setting up a VPC's
    namespace and bridge leaves them existing but unconfigured; the next
    server's first sync finishes the job rather than taking their existence
    for completion.  (A setup that failed half-way in a running server is
    the same state, retried by the same code on its next sync.)"""
    s = make_server()
    vpc = Vpc(s.client("ec2"))
    a, ns_a = vpc.instance(vpc.subnets[0])
    b, ns_b = vpc.instance(vpc.subnets[0])
    br = bridge(vpc.subnets[0])
    ns = vpc.netns

    def router_ready():
        return (sysctl(ns, "net/ipv4/ip_forward") == "1" and
                sysctl(ns, "net/ipv4/conf/%s/proxy_arp_pvlan" % br) == "1" and
                addresses(ns, br) == ["10.0.1.1/24"] and link_up(ns, br) and
                "10.0.0.2/32" in addresses(ns, "lo"))

    wait_for(router_ready, what="the VPC router to be set up")
    mac = link_mac(ns, br)
    s.stop()
    # What a setup interrupted right after creating them leaves: the
    # kernel's defaults, no addresses, the bridge down with a MAC not its own.
    for cmd in (["ip", "netns", "exec", ns, "sh", "-c",
                 "echo 0 > /proc/sys/net/ipv4/ip_forward; "
                 "echo 0 > /proc/sys/net/ipv4/conf/%s/proxy_arp_pvlan" % br],
                ["ip", "-n", ns, "addr", "flush", "dev", br],
                ["ip", "-n", ns, "addr", "del", "10.0.0.2/32", "dev", "lo"],
                ["ip", "-n", ns, "link", "set", br, "down", "address", "02:00:00:00:00:01"]):
        subprocess.run(cmd, check=True)
    assert not router_ready() and link_mac(ns, br) != mac
    s.start()
    wait_for(router_ready, what="the VPC router to be set up again")
    assert link_mac(ns, br) == mac
    # Two instances of one subnet reach each other only through the router.
    tok = "tok-" + uuid.uuid4().hex
    with listener(ns_a, tok):
        assert probe(ns_b, a["PrivateIpAddress"]) == tok


def test_secondary_addresses_come_and_go_on_the_instance(vpc):
    a, ns_a = vpc.instance(vpc.subnets[0])
    b, ns_b = vpc.instance(vpc.subnets[0])
    eni = a["NetworkInterfaces"][0]
    primary = eni["PrivateIpAddress"]
    vpc.ec2.assign_private_ip_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                        SecondaryPrivateIpAddressCount=1)
    ips = [p["PrivateIpAddress"] for p in vpc.ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni["NetworkInterfaceId"]])["NetworkInterfaces"][0][
        "PrivateIpAddresses"]]
    second = [ip for ip in ips if ip != primary][0]
    wait_for(lambda: sorted(addresses(ns_a, "eth0")) == sorted([primary + "/24", second + "/24"]),
             what="the secondary address on eth0")
    tok = "tok-" + uuid.uuid4().hex
    with listener(ns_a, tok):
        # The router knows it too (neighbour entry, security group sets).
        assert probe(ns_b, second) == tok
        vpc.ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                              PrivateIpAddresses=[second])
        wait_for(lambda: addresses(ns_a, "eth0") == [primary + "/24"],
                 what="the secondary address to go")
        assert probe(ns_b, second, timeout=2).startswith("FAIL")
        assert probe(ns_b, primary) == tok


def test_a_deleted_subnets_bridge_goes_and_its_cidr_can_be_used_again(vpc):
    sub = vpc.ec2.create_subnet(VpcId=vpc.id, CidrBlock="10.0.3.0/24",
                                AvailabilityZone=ZONE)["Subnet"]["SubnetId"]
    wait_for(lambda: addresses(vpc.netns, bridge(sub)) == ["10.0.3.1/24"],
             what="the bridge of %s" % sub)
    vpc.ec2.delete_subnet(SubnetId=sub)
    wait_for(lambda: bridge(sub) not in links_in(vpc.netns), what="the bridge to go")
    again = vpc.ec2.create_subnet(VpcId=vpc.id, CidrBlock="10.0.3.0/24",
                                  AvailabilityZone=ZONE)["Subnet"]["SubnetId"]
    wait_for(lambda: addresses(vpc.netns, bridge(again)) == ["10.0.3.1/24"],
             what="the bridge of %s" % again)
    # Instances in it reach each other through the new bridge.
    (a, ns_a), (b, ns_b) = vpc.instance(again), vpc.instance(again)
    tok = "tok-" + uuid.uuid4().hex
    with listener(ns_a, tok):
        assert probe(ns_b, a["PrivateIpAddress"]) == tok


def test_a_sync_the_kernel_refused_is_tried_again_without_a_change(make_server):
    """A VPC whose namespace cannot be made (here: something else sits on
    its name) is tried again a moment later, not only at the next API
    change: once the way is clear the network comes up by itself."""
    s = make_server()
    vpc = Vpc(s.client("ec2"))
    a, ns_a = vpc.instance(vpc.subnets[0])
    b, ns_b = vpc.instance(vpc.subnets[0])
    s.stop()
    subprocess.run(["ip", "netns", "del", vpc.netns], check=True)
    pin = "/var/run/netns/" + vpc.netns
    with open(pin, "w") as f:
        f.write("not a namespace\n")
    try:
        s.start()
        # The first sync fails on it (a plain file cannot be joined).
        wait_for(lambda: "network: VPC %s" % vpc.id in s.read_log(),
                 what="the sync to fail on %s" % vpc.netns)
    finally:
        os.remove(pin)
    # No API call from here on: only the retry can bring it back.
    wait_for(lambda: addresses(vpc.netns, bridge(vpc.subnets[0])) == ["10.0.1.1/24"] and
             plugged(ns_a, "eth0", a["NetworkInterfaces"][0]) and
             plugged(ns_b, "eth0", b["NetworkInterfaces"][0]),
             timeout=30, what="the VPC to come back")
    tok = "tok-" + uuid.uuid4().hex
    with listener(ns_a, tok):
        assert probe(ns_b, a["PrivateIpAddress"]) == tok
