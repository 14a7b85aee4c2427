"""What was acknowledged survives a restart (SIGTERM) and kill -9: every
EC2 networking resource comes back identical, the default VPC is not made
twice, and ids handed out afterwards never collide with earlier ones."""
import signal

import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def build(ec2):
    """A small network with one of every kind; returns its ids."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "persist"}]}])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=10, Protocol="tcp",
                                 RuleAction="allow", Egress=False, CidrBlock="0.0.0.0/0",
                                 PortRange={"From": 22, "To": 22})
    dopt = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["persist.internal"]}])["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=vpc)
    ec2.create_tags(Resources=[subnet, igw, rt, acl, sg], Tags=[{"Key": "team", "Value": "net"}])
    return {"vpc": vpc, "subnet": subnet, "sg": sg, "igw": igw, "rt": rt, "acl": acl,
            "dopt": dopt}


def snapshot(ec2):
    """Everything the EC2 networking Describe calls return, without the
    per-request metadata."""
    calls = {
        "vpcs": lambda: ec2.describe_vpcs()["Vpcs"],
        "subnets": lambda: ec2.describe_subnets()["Subnets"],
        "groups": lambda: ec2.describe_security_groups()["SecurityGroups"],
        "igws": lambda: ec2.describe_internet_gateways()["InternetGateways"],
        "route_tables": lambda: ec2.describe_route_tables()["RouteTables"],
        "acls": lambda: ec2.describe_network_acls()["NetworkAcls"],
        "dhcp": lambda: ec2.describe_dhcp_options()["DhcpOptions"],
        "tags": lambda: ec2.describe_tags()["Tags"],
        "account": lambda: ec2.describe_account_attributes()["AccountAttributes"],
    }
    snap = {name: call() for name, call in calls.items()}
    for vpc in snap["vpcs"]:
        for attr in ("enableDnsSupport", "enableDnsHostnames", "enableNetworkAddressUsageMetrics"):
            out = ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attr)
            out.pop("ResponseMetadata")
            snap.setdefault("attributes", []).append(out)
    return snap


def all_ids(snap):
    ids = set()
    keys = ("VpcId", "SubnetId", "GroupId", "InternetGatewayId", "RouteTableId", "NetworkAclId",
            "DhcpOptionsId", "RouteTableAssociationId", "NetworkAclAssociationId")

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in keys and isinstance(v, str):
                    ids.add(v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(snap)
    return ids


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_state_survives_restart(make_server, how):
    server = make_server()
    ec2 = server.client("ec2")
    made = build(ec2)
    before = snapshot(ec2)
    assert made["vpc"] in {v["VpcId"] for v in before["vpcs"]}
    if how == "sigterm":
        assert server.stop(signal.SIGTERM) == 0
    else:
        server.kill9()
    server.start()
    ec2 = server.client("ec2")
    after = snapshot(ec2)
    assert after == before
    # The default VPC was not made a second time.
    assert len([v for v in after["vpcs"] if v["IsDefault"]]) == 1

    # The restored state still behaves: dependencies hold, ids stay unique.
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=made["vpc"])
    assert error_code(e) == "DependencyViolation"
    old_ids = all_ids(before)
    vpc2 = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet2 = ec2.create_subnet(VpcId=made["vpc"], CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    rt2 = ec2.create_route_table(VpcId=made["vpc"])["RouteTable"]["RouteTableId"]
    igw2 = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    assoc2 = ec2.associate_route_table(RouteTableId=rt2, SubnetId=subnet2)["AssociationId"]
    # The new VPC brings its own default group, main table and ACL.
    new_ids = all_ids(snapshot(ec2)) - old_ids
    assert {vpc2, subnet2, rt2, igw2, assoc2} <= new_ids
    assert len(new_ids) >= 8


def test_state_survives_two_restarts_in_a_row(make_server):
    server = make_server()
    build(server.client("ec2"))
    before = snapshot(server.client("ec2"))
    server.kill9()
    server.start()
    server.stop()
    server.start()
    assert snapshot(server.client("ec2")) == before


def test_other_regions_and_accounts_persist(make_server):
    server = make_server()
    west = server.client("ec2", region="eu-west-1", account="111111111111")
    vpc = west.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    before = snapshot(west)
    server.kill9()
    server.start()
    west = server.client("ec2", region="eu-west-1", account="111111111111")
    assert snapshot(west) == before
    assert west.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlock"] == "10.9.0.0/16"
