"""The ECS network modes with real traffic (issue 4): bridge (ports
published on the container instance's address, dynamic host ports), host
(the instance's own namespace, port conflicts fail placement), none
(loopback only), awsvpc on the EC2 launch type, and the metadata endpoint
and the API reached from inside tasks of every mode.

Tasks of the EC2 launch type land on the cluster's auto-provisioned
container instance: an emulated EC2 instance in the default VPC's first
default subnet, in that VPC's default security group, which admits its own
members -- so clients in the default VPC and group reach it.
"""
import json

import pytest

from test_network import (CURL_TIMEOUT, Net, curl, curl_loop, detail, ecslocal_exec, ip_of,
                          link_mac, neighbour_mac, sh_container, token, web_container)


@pytest.fixture
def net(server):
    return Net(server)


def default_vpc(net):
    vpc = net.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = net.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    return vpc, sorted(s["SubnetId"] for s in subnets["Subnets"])


def instance_of(net, task):
    """The EC2 instance behind a task's container instance."""
    ci = net.ecs.describe_container_instances(
        cluster=net.cluster,
        containerInstances=[task["containerInstanceArn"]])["containerInstances"][0]
    reservations = net.ec2.describe_instances(InstanceIds=[ci["ec2InstanceId"]])["Reservations"]
    return reservations[0]["Instances"][0]


def client_subnets(net, instance):
    """Default subnets other than the instance's, for clients of its tasks:
    each client that runs beside another gets one of its own (see the vpc
    fixture of test_network.py)."""
    return [s for s in default_vpc(net)[1] if s != instance["SubnetId"]]


def host_port(task, container=0, index=0):
    return task["containers"][container]["networkBindings"][index]["hostPort"]


def bridge_web(net, tok=None, host_port=0):
    """A bridge-mode web task on the cluster's instance: (task, token)."""
    tok = tok or token()
    return net.web(tok, containers=[web_container("web", tok, 8080, host_port=host_port)],
                   mode="bridge", launch="EC2")


# ---- bridge ----

def test_bridge_dynamic_port_is_published_on_the_instance(net):
    web, tok = bridge_web(net)
    port = host_port(web)
    assert 49153 <= port <= 65535
    binding = web["containers"][0]["networkBindings"][0]
    assert binding["containerPort"] == 8080 and binding["protocol"] == "tcp"
    instance = instance_of(net, web)
    ip = instance["PrivateIpAddress"]
    vpc, _ = default_vpc(net)
    assert instance["VpcId"] == vpc["VpcId"]
    subnets = client_subnets(net, instance)
    url = "http://%s:%d/" % (ip, port)
    # From an awsvpc task in the default VPC (and group), and from another
    # bridge-mode task on the same instance; not from a task outside the
    # instance's security group.
    awsvpc_client = net.client(curl(url), subnets=[subnets[0]])
    bridge_client = net.run([sh_container("client", curl(url), memory=64)], mode="bridge",
                            launch="EC2")["taskArn"]
    stranger = net.client(curl(url, 2), subnets=[subnets[1]],
                          groups=[net.group(vpc["VpcId"])])
    (c1, out1), (c2, out2), (c3, out3) = net.results([awsvpc_client, bridge_client, stranger])
    assert (c1, out1.strip()) == (0, tok)
    assert (c2, out2.strip()) == (0, tok)
    assert c3 == CURL_TIMEOUT, out3
    # The container port itself is not open on the instance's address.
    code, out = net.result(net.client(curl("http://%s:8080/" % ip, 2), subnets=[subnets[0]]))
    assert code != 0 and tok not in out, out


def test_bridge_tasks_with_host_port_zero_get_different_ports(net):
    (web1, tok1), (web2, tok2) = bridge_web(net), bridge_web(net)
    assert web1["containerInstanceArn"] == web2["containerInstanceArn"]
    p1, p2 = host_port(web1), host_port(web2)
    assert p1 != p2 and min(p1, p2) >= 49153
    instance = instance_of(net, web1)
    ip, subnets = instance["PrivateIpAddress"], client_subnets(net, instance)
    arns = [net.client(curl("http://%s:%d/" % (ip, p)), subnets=[subnet])
            for p, subnet in ((p1, subnets[0]), (p2, subnets[1]))]
    assert [(c, o.strip()) for c, o in net.results(arns)] == [(0, tok1), (0, tok2)]


def test_bridge_fixed_host_port_and_its_conflict(net):
    web, tok = bridge_web(net, host_port=18080)
    assert host_port(web) == 18080
    instance = instance_of(net, web)
    ip, subnets = instance["PrivateIpAddress"], client_subnets(net, instance)
    code, out = net.result(net.client(curl("http://%s:18080/" % ip), subnets=[subnets[0]]))
    assert (code, out.strip()) == (0, tok)
    family = net.register([web_container("web", token(), 8080, host_port=18080)], "bridge", "EC2")
    out = net.ecs.run_task(cluster=net.cluster, taskDefinition=family)
    assert out["tasks"] == []
    assert [f["reason"] for f in out["failures"]] == ["RESOURCE:PORTS"]
    assert out["failures"][0]["arn"] == web["containerInstanceArn"]


def instance_netns(instance):
    return "ecsl-i-" + instance["InstanceId"].split("-", 1)[1]


def test_bridge_containers_keep_their_gateway_while_others_come_and_go(net, server):
    others = [net.run([sh_container("sleeper", "sleep 600", memory=64)], mode="bridge",
                      launch="EC2")["taskArn"] for _ in range(6)]
    for arn in others:
        net.wait_status(arn, "RUNNING")
    instance = instance_of(net, net.describe(others[0]))
    subnets = client_subnets(net, instance)

    def port_mac(arn):
        return link_mac(instance_netns(instance), "ecsl-k%s00" % arn.rsplit("/", 1)[1][:7])

    others_macs = {port_mac(arn) for arn in others}
    # A web container learns its gateway's MAC (answering a client outside
    # the instance) while the other containers are on the bridge: the
    # bridge's own, never one of its ports'.
    web, tok = bridge_web(net)
    url = "http://%s:%d/" % (instance["PrivateIpAddress"], host_port(web))
    client = net.client(curl_loop(url), subnets=[subnets[0]])
    net.wait_log(client, "client", lambda ls: "OK " + tok in ls, "the client to get through")
    assert neighbour_mac(server, web["taskArn"], "172.17.0.1") not in others_macs
    for arn in others:
        net.ecs.stop_task(cluster=net.cluster, task=arn)
    for arn in others:
        net.wait_status(arn, "STOPPED")
    seen = len(net.logs(client, "client").splitlines())
    lines = net.wait_log(client, "client", lambda ls: ls if len(ls) >= seen + 5 else None,
                         "five more attempts")
    assert lines[seen:seen + 5] == ["OK " + tok] * 5, lines[seen:]
    net.stop(client)


# ---- host ----

def test_host_mode_port_is_reachable_at_the_instance_address(net):
    tok = token()
    web, _ = net.web(tok, mode="host", launch="EC2", containers=[web_container("web", tok, 8080)])
    assert web["containers"][0]["networkBindings"][0]["hostPort"] == 8080
    instance = instance_of(net, web)
    ip, subnets = instance["PrivateIpAddress"], client_subnets(net, instance)
    awsvpc_client = net.client(curl("http://%s:8080/" % ip), subnets=[subnets[0]])
    # A host-mode task shares the instance's namespace: its own loopback
    # reaches the other's port.
    host_client = net.run([sh_container("client", curl("http://127.0.0.1:8080/"), memory=64)],
                          mode="host", launch="EC2")["taskArn"]
    # A bridge-mode task reaches it at the instance's address.
    bridge_client = net.run([sh_container("client", curl("http://%s:8080/" % ip), memory=64)],
                            mode="bridge", launch="EC2")["taskArn"]
    results = net.results([awsvpc_client, host_client, bridge_client])
    assert [(c, o.strip()) for c, o in results] == [(0, tok)] * 3, results


def test_host_mode_port_conflict_fails_placement(net):
    first = token()
    web, _ = net.web(first, mode="host", launch="EC2",
                     containers=[web_container("web", first, 8080)])
    family = net.register([web_container("web", token(), 8080)], "host", "EC2")
    out = net.ecs.run_task(cluster=net.cluster, taskDefinition=family)
    assert out["tasks"] == []
    assert out["failures"] == [{"arn": web["containerInstanceArn"], "reason": "RESOURCE:PORTS"}]
    # A different port fits.
    family = net.register([web_container("web", token(), 8081)], "host", "EC2")
    out = net.ecs.run_task(cluster=net.cluster, taskDefinition=family)
    assert out["failures"] == [] and len(out["tasks"]) == 1
    # Once the first task stopped, its port is free again.
    net.stop(web["taskArn"])
    family = net.register([web_container("web", token(), 8080)], "host", "EC2")
    out = net.ecs.run_task(cluster=net.cluster, taskDefinition=family)
    assert out["failures"] == [] and len(out["tasks"]) == 1


# ---- none ----

def test_none_mode_has_only_loopback(net):
    script = ("import json, socket\n"
              "print(json.dumps(sorted(n for _, n in socket.if_nameindex())))\n")
    task = net.run([{"name": "probe", "image": "python", "essential": True, "memory": 64,
                     "command": ["python3", "-c", script]}], mode="none", launch="EC2")
    code, out = net.result(task["taskArn"])
    assert code == 0, out
    assert json.loads(out) == ["lo"]
    assert "attachments" not in task or task["attachments"] == []


# ---- awsvpc on the EC2 launch type ----

def test_awsvpc_on_ec2_launch_type(net):
    vpc, _ = default_vpc(net)
    # The instance comes with the cluster's first EC2 task; an ENI can only
    # be attached to it from its own zone's subnet.
    sleeper = net.run([sh_container("sleeper", "sleep 600", memory=64)], mode="bridge",
                      launch="EC2")
    instance = instance_of(net, sleeper)
    web, tok = net.web(launch="EC2", subnets=[instance["SubnetId"]])
    assert web["launchType"] == "EC2"
    assert web["containerInstanceArn"] == sleeper["containerInstanceArn"]
    ip = ip_of(web)
    # The task has its own address, not the instance's.
    assert ip != instance["PrivateIpAddress"]
    eni = net.ec2.describe_network_interfaces(
        NetworkInterfaceIds=[detail(web, "networkInterfaceId")])["NetworkInterfaces"][0]
    assert eni["PrivateIpAddress"] == ip
    # Another change to the VPC's network comes and goes; the task stays
    # reachable.
    other = net.ec2.create_network_interface(SubnetId=instance["SubnetId"])["NetworkInterface"]
    group = net.group(vpc["VpcId"])
    net.allow(group, 22, cidr="10.9.9.9/32")
    code, out = net.result(net.client(curl("http://%s:8080/" % ip),
                                      subnets=[client_subnets(net, instance)[0]]))
    assert (code, out.strip()) == (0, tok)
    net.ec2.delete_network_interface(NetworkInterfaceId=other["NetworkInterfaceId"])


# ---- metadata and the API from inside ----

@pytest.mark.parametrize("mode", ["awsvpc", "bridge", "host"])
def test_metadata_and_api_survive_a_restart(make_server, mode):
    s = make_server()
    net = Net(s)
    kw = {"mode": mode, "launch": "FARGATE" if mode == "awsvpc" else "EC2"}
    if mode == "awsvpc":
        vpc, (subnet,) = net.vpc("10.0.0.0/16", "10.0.1.0/24")
        kw["subnets"] = [subnet]
    task = net.run([sh_container("idle", "sleep 600", memory=64)], **kw)
    net.wait_status(task["taskArn"], "RUNNING")
    # Inside the task, the metadata endpoint and the API (through the address
    # AWS_ENDPOINT_URL names).
    script = ('curl -sS -m 10 -f "$ECS_CONTAINER_METADATA_URI_V4/task" >/dev/null '
              '&& echo metadata; '
              '/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ecs list-clusters --output text '
              '>/dev/null && echo api')

    def probe():
        p = ecslocal_exec(s, task["taskArn"], "sh", "-c", script)
        return p.stdout.split()

    assert probe() == ["metadata", "api"]
    s.kill9()
    s.start()
    assert Net(s).describe(task["taskArn"])["lastStatus"] == "RUNNING"
    assert probe() == ["metadata", "api"]

PROBE = r"""
import json, os, subprocess, urllib.request
base = os.environ["ECS_CONTAINER_METADATA_URI_V4"]
task = json.load(urllib.request.urlopen(base + "/task", timeout=10))
me = json.load(urllib.request.urlopen(base, timeout=10))
out = subprocess.run(["/usr/bin/aws", "--endpoint-url", os.environ["AWS_ENDPOINT_URL"],
                      "ecs", "describe-tasks", "--cluster", task["Cluster"],
                      "--tasks", task["TaskARN"], "--output", "json"],
                     capture_output=True, text=True, env=dict(os.environ, AWS_PAGER=""))
print(json.dumps({"task": task, "container": me, "endpoint": os.environ["AWS_ENDPOINT_URL"],
                  "described": json.loads(out.stdout) if out.returncode == 0 else out.stderr}))
"""


@pytest.mark.parametrize("mode", ["awsvpc", "bridge", "host"])
def test_metadata_and_api_reachable_from_inside(net, mode):
    kw = {"mode": mode, "launch": "FARGATE" if mode == "awsvpc" else "EC2"}
    if mode == "awsvpc":
        vpc, (subnet,) = net.vpc("10.0.0.0/16", "10.0.1.0/24")
        kw["subnets"] = [subnet]
    task = net.run([{"name": "probe", "image": "python", "essential": True, "memory": 128,
                     "command": ["python3", "-c", PROBE]}], **kw)
    code, out = net.result(task["taskArn"], timeout=120)
    assert code == 0, out
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["task"]["TaskARN"] == task["taskArn"]
    assert doc["container"]["Name"] == "probe"
    assert doc["described"]["tasks"][0]["taskArn"] == task["taskArn"], doc["described"]
    network = doc["container"]["Networks"][0]
    assert network["NetworkMode"] == mode
    if mode == "awsvpc":
        assert network["IPv4Addresses"] == [ip_of(task)]
        assert network["PrivateDNSName"] == detail(task, "privateDnsName")
