"""EC2 network interfaces: create (addresses from the subnet's pool, groups,
tags, idempotency), describe (filters, pagination), delete, attach/detach to
instances, attributes, secondary addresses, the waiter, 32 clients racing
for the addresses of one small subnet, and the requester-managed interfaces
of ECS awsvpc tasks."""
import ipaddress
import re
import threading
import time

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import error_code

MAC = re.compile(r"^0e(:[0-9a-f]{2}){5}$")
FULL = "The specified subnet does not have enough free addresses to satisfy the request."


def err(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e), e.value.response["Error"]["Message"]


@pytest.fixture
def vpc_id(ec2):
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def subnet(ec2, vpc_id):
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24",
                             AvailabilityZone="us-east-1a")["Subnet"]


@pytest.fixture
def small(ec2, vpc_id):
    """A /28: 16 addresses, 11 of them usable (.4 to .14)."""
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/28",
                             AvailabilityZone="us-east-1a")["Subnet"]


def available(ec2, subnet_id):
    return ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["AvailableIpAddressCount"]


def eni(ec2, subnet_id, **kw):
    return ec2.create_network_interface(SubnetId=subnet_id, **kw)["NetworkInterface"]


def describe(ec2, eni_id):
    return ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]


def default_group(ec2, vpc_id):
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                 {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    return groups[0]["GroupId"]


# ---- create ----

def test_create_network_interface(ec2, vpc_id, subnet):
    n = eni(ec2, subnet["SubnetId"], Description="app",
            TagSpecifications=[{"ResourceType": "network-interface",
                                "Tags": [{"Key": "Name", "Value": "web"}]}])
    assert re.match(r"^eni-[0-9a-f]{17}$", n["NetworkInterfaceId"])
    assert n["SubnetId"] == subnet["SubnetId"]
    assert n["VpcId"] == vpc_id
    assert n["AvailabilityZone"] == "us-east-1a"
    assert n["Description"] == "app"
    assert n["Groups"] == [{"GroupId": default_group(ec2, vpc_id), "GroupName": "default"}]
    assert n["InterfaceType"] == "interface"
    assert n["Ipv6Addresses"] == []
    assert MAC.match(n["MacAddress"])
    assert n["OwnerId"] == "000000000000"
    # The lowest address the subnet hands out: its first four are AWS's.
    assert n["PrivateIpAddress"] == "10.0.1.4"
    assert n["PrivateDnsName"] == "ip-10-0-1-4.ec2.internal"
    assert n["PrivateIpAddresses"] == [{"Primary": True, "PrivateIpAddress": "10.0.1.4",
                                        "PrivateDnsName": "ip-10-0-1-4.ec2.internal"}]
    assert n["RequesterManaged"] is False
    assert "RequesterId" not in n
    assert n["SourceDestCheck"] is True
    assert n["TagSet"] == [{"Key": "Name", "Value": "web"}]
    assert "Attachment" not in n
    # AWS answers while the interface is set up; it is available right after.
    assert n["Status"] == "pending"
    d = describe(ec2, n["NetworkInterfaceId"])
    assert d == dict(n, Status="available")


def test_private_dns_name_outside_us_east_1(server):
    ec2 = server.client("ec2", region="eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    s = ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.0.0/24")["Subnet"]["SubnetId"]
    n = eni(ec2, s)
    assert n["PrivateDnsName"] == "ip-10-3-0-4.eu-west-1.compute.internal"
    assert n["AvailabilityZone"].startswith("eu-west-1")


def test_mac_addresses_are_distinct(ec2, subnet):
    macs = {eni(ec2, subnet["SubnetId"])["MacAddress"] for _ in range(20)}
    assert len(macs) == 20
    assert all(MAC.match(m) for m in macs)


def test_requested_addresses(ec2, subnet):
    sid = subnet["SubnetId"]
    n = eni(ec2, sid, PrivateIpAddress="10.0.1.77")
    assert n["PrivateIpAddress"] == "10.0.1.77"
    assert n["PrivateDnsName"] == "ip-10-0-1-77.ec2.internal"
    m = eni(ec2, sid, PrivateIpAddresses=[{"PrivateIpAddress": "10.0.1.80", "Primary": True},
                                          {"PrivateIpAddress": "10.0.1.81", "Primary": False}])
    assert m["PrivateIpAddress"] == "10.0.1.80"
    assert [(a["PrivateIpAddress"], a["Primary"]) for a in m["PrivateIpAddresses"]] == [
        ("10.0.1.80", True), ("10.0.1.81", False)]
    s = eni(ec2, sid, SecondaryPrivateIpAddressCount=2)
    assert [(a["PrivateIpAddress"], a["Primary"]) for a in s["PrivateIpAddresses"]] == [
        ("10.0.1.4", True), ("10.0.1.5", False), ("10.0.1.6", False)]
    assert available(ec2, sid) == 251 - 1 - 2 - 3


def test_requested_address_taken(ec2, subnet):
    sid = subnet["SubnetId"]
    first = eni(ec2, sid, PrivateIpAddress="10.0.1.4")
    assert err(ec2.create_network_interface, SubnetId=sid, PrivateIpAddress="10.0.1.4") == (
        "InvalidIPAddress.InUse", "The specified address is already in use")
    # A secondary address counts as taken too.
    ec2.assign_private_ip_addresses(NetworkInterfaceId=first["NetworkInterfaceId"],
                                    PrivateIpAddresses=["10.0.1.5"])
    assert err(ec2.create_network_interface, SubnetId=sid, PrivateIpAddress="10.0.1.5")[0] == \
        "InvalidIPAddress.InUse"
    # Automatic addresses skip what was requested.
    assert eni(ec2, sid)["PrivateIpAddress"] == "10.0.1.6"


@pytest.mark.parametrize("address", ["10.0.2.0", "10.0.2.1", "10.0.2.2", "10.0.2.3",
                                     "10.0.2.15"])
def test_reserved_addresses_cannot_be_requested(ec2, small, address):
    code, message = err(ec2.create_network_interface, SubnetId=small["SubnetId"],
                        PrivateIpAddress=address)
    assert code == "InvalidParameterValue"
    assert address in message
    assert available(ec2, small["SubnetId"]) == 11


def test_addresses_outside_the_subnet_or_malformed(ec2, small):
    sid = small["SubnetId"]
    assert err(ec2.create_network_interface, SubnetId=sid, PrivateIpAddress="10.0.3.5") == (
        "InvalidParameterValue", "Address does not fall within the subnet's address range")
    assert err(ec2.create_network_interface, SubnetId=sid, PrivateIpAddress="10.0.2.300") == (
        "InvalidParameterValue", "invalid value for parameter address: 10.0.2.300")
    assert ec2.describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [sid]}])["NetworkInterfaces"] == []


def test_reserved_addresses_are_never_handed_out(ec2, small):
    sid = small["SubnetId"]
    ips = [eni(ec2, sid)["PrivateIpAddress"] for _ in range(11)]
    assert ips == ["10.0.2.%d" % i for i in range(4, 15)]
    assert available(ec2, sid) == 0
    assert err(ec2.create_network_interface, SubnetId=sid) == (
        "InsufficientFreeAddressesInSubnet", FULL)
    assert err(ec2.create_network_interface, SubnetId=sid, SecondaryPrivateIpAddressCount=1)[0] \
        == "InsufficientFreeAddressesInSubnet"


def test_a_failed_create_takes_nothing(ec2, small):
    sid = small["SubnetId"]
    for _ in range(9):
        eni(ec2, sid)
    # Needs three addresses, two are left: nothing may stay taken.
    assert err(ec2.create_network_interface, SubnetId=sid,
               SecondaryPrivateIpAddressCount=2)[0] == "InsufficientFreeAddressesInSubnet"
    assert available(ec2, sid) == 2
    assert len(ec2.describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [sid]}])["NetworkInterfaces"]) == 9


def test_available_ip_address_count_goes_down_and_up(ec2, small):
    sid = small["SubnetId"]
    assert available(ec2, sid) == 11
    n = eni(ec2, sid)
    assert available(ec2, sid) == 10
    nid = n["NetworkInterfaceId"]
    out = ec2.assign_private_ip_addresses(NetworkInterfaceId=nid, SecondaryPrivateIpAddressCount=2)
    assert out["NetworkInterfaceId"] == nid
    assert [a["PrivateIpAddress"] for a in out["AssignedPrivateIpAddresses"]] == [
        "10.0.2.5", "10.0.2.6"]
    assert available(ec2, sid) == 8
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=nid, PrivateIpAddresses=["10.0.2.5"])
    assert available(ec2, sid) == 9
    assert [a["PrivateIpAddress"] for a in describe(ec2, nid)["PrivateIpAddresses"]] == [
        "10.0.2.4", "10.0.2.6"]
    ec2.delete_network_interface(NetworkInterfaceId=nid)
    assert available(ec2, sid) == 11
    # Released addresses are handed out again.
    assert eni(ec2, sid)["PrivateIpAddress"] == "10.0.2.4"


def test_groups(ec2, vpc_id, subnet):
    sid = subnet["SubnetId"]
    a = ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc_id)["GroupId"]
    b = ec2.create_security_group(GroupName="b", Description="b", VpcId=vpc_id)["GroupId"]
    n = eni(ec2, sid, Groups=[b, a, b])
    assert n["Groups"] == [{"GroupId": b, "GroupName": "b"}, {"GroupId": a, "GroupName": "a"}]
    code, message = err(ec2.create_network_interface, SubnetId=sid,
                        Groups=["sg-0123456789abcdef0"])
    assert (code, message) == ("InvalidGroup.NotFound",
                               "The security group 'sg-0123456789abcdef0' does not exist")
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    other = default_group(ec2, other_vpc)
    assert err(ec2.create_network_interface, SubnetId=sid, Groups=[a, other]) == (
        "InvalidParameter",
        "Security group %s and subnet %s belong to different networks." % (other, sid))
    many = [ec2.create_security_group(GroupName="g%d" % i, Description="g",
                                      VpcId=vpc_id)["GroupId"] for i in range(6)]
    assert err(ec2.create_network_interface, SubnetId=sid, Groups=many) == (
        "SecurityGroupsPerInterfaceLimitExceeded",
        "The maximum number of security groups per interface has been reached.")
    assert eni(ec2, sid, Groups=many[:5])["Groups"] == [
        {"GroupId": g, "GroupName": "g%d" % i} for i, g in enumerate(many[:5])]


def test_interface_type(ec2, subnet):
    n = eni(ec2, subnet["SubnetId"], InterfaceType="trunk")
    assert n["InterfaceType"] == "trunk"
    assert err(ec2.create_network_interface, SubnetId=subnet["SubnetId"],
               InterfaceType="bogus")[0] in ("InvalidParameterValue", "ValidationError")


def test_unknown_subnet_and_tag_spec_errors(ec2, subnet):
    assert err(ec2.create_network_interface, SubnetId="subnet-0123456789abcdef0") == (
        "InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")
    code, message = err(ec2.create_network_interface, SubnetId=subnet["SubnetId"],
                        TagSpecifications=[{"ResourceType": "vpc",
                                            "Tags": [{"Key": "a", "Value": "b"}]}])
    assert code == "InvalidParameterValue" and "'vpc'" in message
    assert available(ec2, subnet["SubnetId"]) == 251


def test_client_token_makes_create_idempotent(ec2, subnet):
    sid = subnet["SubnetId"]
    first = ec2.create_network_interface(SubnetId=sid, ClientToken="tok-1")
    again = ec2.create_network_interface(SubnetId=sid, ClientToken="tok-1")
    assert again["ClientToken"] == "tok-1"
    assert again["NetworkInterface"]["NetworkInterfaceId"] == \
        first["NetworkInterface"]["NetworkInterfaceId"]
    assert available(ec2, sid) == 250
    other = ec2.create_subnet(VpcId=subnet["VpcId"], CidrBlock="10.0.5.0/24")["Subnet"]
    assert err(ec2.create_network_interface, SubnetId=other["SubnetId"],
               ClientToken="tok-1")[0] == "IdempotentParameterMismatch"


def test_ipv6_is_refused_not_ignored(ec2, subnet):
    assert err(ec2.create_network_interface, SubnetId=subnet["SubnetId"],
               Ipv6AddressCount=1)[0] == "UnsupportedOperation"


# ---- delete ----

def test_delete_network_interface(ec2, subnet):
    nid = eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    ec2.delete_network_interface(NetworkInterfaceId=nid)
    assert err(ec2.describe_network_interfaces, NetworkInterfaceIds=[nid]) == (
        "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist" % nid)
    assert err(ec2.delete_network_interface, NetworkInterfaceId=nid)[0] == \
        "InvalidNetworkInterfaceID.NotFound"
    assert err(ec2.delete_network_interface, NetworkInterfaceId="eni-xyz") == (
        "InvalidNetworkInterfaceId.Malformed", 'Invalid id: "eni-xyz" (expecting "eni-...")')


def test_delete_subnet_refused_while_an_eni_lives_in_it(ec2, small):
    sid = small["SubnetId"]
    nid = eni(ec2, sid)["NetworkInterfaceId"]
    assert err(ec2.delete_subnet, SubnetId=sid) == (
        "DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted." % sid)
    ec2.delete_network_interface(NetworkInterfaceId=nid)
    ec2.delete_subnet(SubnetId=sid)


# ---- describe ----

def test_describe_filters(ec2, vpc_id, subnet, small):
    web = eni(ec2, subnet["SubnetId"], Description="web tier", PrivateIpAddress="10.0.1.50",
              TagSpecifications=[{"ResourceType": "network-interface",
                                  "Tags": [{"Key": "Name", "Value": "web"},
                                           {"Key": "tier", "Value": "front"}]}])
    db = eni(ec2, small["SubnetId"], Description="db",
             TagSpecifications=[{"ResourceType": "network-interface",
                                 "Tags": [{"Key": "Name", "Value": "db"}]}])
    ec2.assign_private_ip_addresses(NetworkInterfaceId=db["NetworkInterfaceId"],
                                    PrivateIpAddresses=["10.0.2.9"])
    ec2.modify_network_interface_attribute(NetworkInterfaceId=db["NetworkInterfaceId"],
                                           SourceDestCheck={"Value": False})
    w, d = web["NetworkInterfaceId"], db["NetworkInterfaceId"]

    def ids(*filters):
        out = ec2.describe_network_interfaces(
            Filters=[{"Name": n, "Values": v} for n, v in filters])["NetworkInterfaces"]
        return sorted(x["NetworkInterfaceId"] for x in out)

    both = sorted([w, d])
    assert ids(("vpc-id", [vpc_id])) == both
    assert ids(("subnet-id", [small["SubnetId"]])) == [d]
    assert ids(("availability-zone", ["us-east-1a"])) == both
    assert ids(("description", ["web*"])) == [w]
    assert ids(("private-ip-address", ["10.0.1.50"])) == [w]
    assert ids(("private-ip-address", ["10.0.2.9"])) == [d]
    assert ids(("addresses.private-ip-address", ["10.0.2.9"])) == [d]
    assert ids(("addresses.primary", ["false"])) == [d]
    assert ids(("private-dns-name", ["ip-10-0-1-50.ec2.internal"])) == [w]
    assert ids(("mac-address", [web["MacAddress"]])) == [w]
    assert ids(("network-interface-id", [d])) == [d]
    assert ids(("group-id", [default_group(ec2, vpc_id)])) == both
    assert ids(("interface-type", ["interface"])) == both
    assert ids(("owner-id", ["000000000000"])) == both
    assert ids(("requester-managed", ["false"])) == both
    assert ids(("source-dest-check", ["false"])) == [d]
    assert ids(("status", ["available"])) == both
    assert ids(("status", ["in-use"])) == []
    assert ids(("tag:Name", ["web", "db"])) == both
    assert ids(("tag:Name", ["web"]), ("tag:tier", ["front"])) == [w]
    assert ids(("tag-key", ["tier"])) == [w]
    assert ids(("subnet-id", [small["SubnetId"]]), ("description", ["web*"])) == []
    code, message = err(ec2.describe_network_interfaces,
                        Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    assert (code, message) == ("InvalidParameterValue", "The filter 'no-such-filter' is invalid")


def test_describe_pagination(server, ec2, subnet):
    made = sorted(eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"] for _ in range(12))
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        out = ec2.describe_network_interfaces(**kw)
        seen += [x["NetworkInterfaceId"] for x in out["NetworkInterfaces"]]
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
    assert sorted(seen) == made and pages == 3
    paginator = ec2.get_paginator("describe_network_interfaces")
    assert sum(len(p["NetworkInterfaces"]) for p in
               paginator.paginate(PaginationConfig={"PageSize": 5})) == 12
    unchecked = boto3.client("ec2", endpoint_url=server.endpoint, region_name="us-east-1",
                             aws_access_key_id="test", aws_secret_access_key="test",
                             config=botocore.config.Config(parameter_validation=False))
    assert err(unchecked.describe_network_interfaces, MaxResults=4)[0] == "InvalidParameterValue"
    assert err(ec2.describe_network_interfaces, MaxResults=5, NetworkInterfaceIds=made[:1])[0] \
        == "InvalidParameterCombination"
    assert err(ec2.describe_network_interfaces, NextToken="garbage")[0] == "InvalidParameterValue"


def test_describe_unknown_id(ec2, subnet):
    nid = eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    assert err(ec2.describe_network_interfaces,
               NetworkInterfaceIds=[nid, "eni-0123456789abcdef0"]) == (
        "InvalidNetworkInterfaceID.NotFound",
        "The networkInterface ID 'eni-0123456789abcdef0' does not exist")


# ---- the AWS CLI ----

def test_cli_create_wait_describe_delete(aws, subnet):
    n = aws("ec2", "create-network-interface", "--subnet-id", subnet["SubnetId"],
            "--description", "from the cli", "--private-ip-address", "10.0.1.20",
            "--tag-specifications",
            "ResourceType=network-interface,Tags=[{Key=Name,Value=cli}]")["NetworkInterface"]
    nid = n["NetworkInterfaceId"]
    assert n["PrivateIpAddress"] == "10.0.1.20"
    assert n["TagSet"] == [{"Key": "Name", "Value": "cli"}]
    p = aws("ec2", "wait", "network-interface-available", "--network-interface-ids", nid,
            raw=True)
    assert p.returncode == 0, p.stderr
    out = aws("ec2", "describe-network-interfaces", "--filters",
              "Name=tag:Name,Values=cli", "Name=subnet-id,Values=" + subnet["SubnetId"])
    assert [x["NetworkInterfaceId"] for x in out["NetworkInterfaces"]] == [nid]
    assert out["NetworkInterfaces"][0]["Status"] == "available"
    aws("ec2", "modify-network-interface-attribute", "--network-interface-id", nid,
        "--description", "Value=changed")
    out = aws("ec2", "describe-network-interface-attribute", "--network-interface-id", nid,
              "--attribute", "description")
    assert out == {"NetworkInterfaceId": nid, "Description": {"Value": "changed"}}
    aws("ec2", "assign-private-ip-addresses", "--network-interface-id", nid,
        "--secondary-private-ip-address-count", "1")
    aws("ec2", "delete-network-interface", "--network-interface-id", nid)
    p = aws("ec2", "describe-network-interfaces", "--network-interface-ids", nid, check=False)
    assert p.returncode != 0 and "InvalidNetworkInterfaceID.NotFound" in p.stderr


def test_cli_waiter_fails_on_unknown_interface(aws):
    p = aws("ec2", "wait", "network-interface-available", "--network-interface-ids",
            "eni-0123456789abcdef0", raw=True)
    assert p.returncode != 0
    assert "InvalidNetworkInterfaceID.NotFound" in p.stderr


def test_boto3_waiter(ec2, subnet):
    nid = eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    ec2.get_waiter("network_interface_available").wait(NetworkInterfaceIds=[nid])


# ---- attach and detach ----

@pytest.fixture
def instance(ec2, subnet):
    return ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=subnet["SubnetId"])["Instances"][0]


def test_attach_and_detach(ec2, subnet, instance):
    iid = instance["InstanceId"]
    nid = eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    out = ec2.attach_network_interface(NetworkInterfaceId=nid, InstanceId=iid, DeviceIndex=1)
    aid = out["AttachmentId"]
    assert re.match(r"^eni-attach-[0-9a-f]{17}$", aid)
    n = describe(ec2, nid)
    assert n["Status"] == "in-use"
    att = n["Attachment"]
    assert att["AttachmentId"] == aid
    assert att["InstanceId"] == iid
    assert att["InstanceOwnerId"] == "000000000000"
    assert att["DeviceIndex"] == 1
    assert att["Status"] == "attached"
    assert att["DeleteOnTermination"] is False
    assert "AttachTime" in att

    by_instance = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["NetworkInterfaces"]
    assert sorted((x["Attachment"]["DeviceIndex"], x["NetworkInterfaceId"]) for x in by_instance) \
        == [(0, instance["NetworkInterfaces"][0]["NetworkInterfaceId"]), (1, nid)]
    assert [x["NetworkInterfaceId"] for x in ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.attachment-id", "Values": [aid]}])["NetworkInterfaces"]] == [nid]
    assert [x["NetworkInterfaceId"] for x in ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [iid]},
                 {"Name": "attachment.device-index", "Values": ["1"]}])["NetworkInterfaces"]] \
        == [nid]
    assert len(ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.status", "Values": ["attached"]}])["NetworkInterfaces"]) == 2
    view = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert [x["NetworkInterfaceId"] for x in view["NetworkInterfaces"]] == [
        instance["NetworkInterfaces"][0]["NetworkInterfaceId"], nid]

    assert err(ec2.delete_network_interface, NetworkInterfaceId=nid) == (
        "InvalidParameterValue", "Network interface '%s' is currently in use." % nid)
    ec2.detach_network_interface(AttachmentId=aid)
    n = describe(ec2, nid)
    assert n["Status"] == "available" and "Attachment" not in n
    view = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert len(view["NetworkInterfaces"]) == 1
    assert err(ec2.detach_network_interface, AttachmentId=aid) == (
        "InvalidAttachmentID.NotFound",
        "The network interface attachment ID '%s' does not exist" % aid)
    ec2.delete_network_interface(NetworkInterfaceId=nid)


def test_attach_errors(ec2, vpc_id, subnet, instance):
    iid = instance["InstanceId"]
    sid = subnet["SubnetId"]
    a = eni(ec2, sid)["NetworkInterfaceId"]
    b = eni(ec2, sid)["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=a, InstanceId=iid, DeviceIndex=1)
    assert err(ec2.attach_network_interface, NetworkInterfaceId=a, InstanceId=iid,
               DeviceIndex=2) == ("InvalidNetworkInterface.InUse", "Interface: [%s] in use." % a)
    assert err(ec2.attach_network_interface, NetworkInterfaceId=b, InstanceId=iid,
               DeviceIndex=1) == (
        "InvalidParameterValue",
        "Instance '%s' already has an interface attached at device index '1'." % iid)
    assert err(ec2.attach_network_interface, NetworkInterfaceId=b, InstanceId=iid,
               DeviceIndex=0)[1].endswith("at device index '0'.")
    assert err(ec2.attach_network_interface, NetworkInterfaceId=b,
               InstanceId="i-0123456789abcdef0", DeviceIndex=2) == (
        "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist")
    assert err(ec2.attach_network_interface, NetworkInterfaceId="eni-0123456789abcdef0",
               InstanceId=iid, DeviceIndex=2)[0] == "InvalidNetworkInterfaceID.NotFound"
    other_zone = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.7.0/24",
                                   AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    c = eni(ec2, other_zone)["NetworkInterfaceId"]
    assert err(ec2.attach_network_interface, NetworkInterfaceId=c, InstanceId=iid,
               DeviceIndex=2)[0] == "InvalidParameterCombination"
    # Nothing of the failed attaches stuck.
    assert describe(ec2, b)["Status"] == "available"
    assert describe(ec2, c)["Status"] == "available"
    ec2.terminate_instances(InstanceIds=[iid])
    assert err(ec2.attach_network_interface, NetworkInterfaceId=b, InstanceId=iid,
               DeviceIndex=2) == ("IncorrectState",
                                  "Instance '%s' is not 'running' or 'stopped'." % iid)


def test_primary_interface_cannot_be_detached(ec2, instance):
    att = instance["NetworkInterfaces"][0]["Attachment"]
    assert err(ec2.detach_network_interface, AttachmentId=att["AttachmentId"]) == (
        "OperationNotPermitted",
        "The network interface at device index 0 and networkCard index 0 cannot be detached.")
    assert err(ec2.detach_network_interface, AttachmentId=att["AttachmentId"], Force=True)[0] \
        == "OperationNotPermitted"


def test_attach_to_a_stopped_instance(ec2, subnet, instance):
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    nid = eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=nid, InstanceId=instance["InstanceId"],
                                 DeviceIndex=3)
    assert describe(ec2, nid)["Attachment"]["DeviceIndex"] == 3


def test_cli_attach_detach(aws, ec2, subnet, instance):
    nid = eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    out = aws("ec2", "attach-network-interface", "--network-interface-id", nid,
              "--instance-id", instance["InstanceId"], "--device-index", "1")
    assert out["AttachmentId"].startswith("eni-attach-")
    aws("ec2", "detach-network-interface", "--attachment-id", out["AttachmentId"], "--force")
    assert describe(ec2, nid)["Status"] == "available"


# ---- attributes ----

def test_modify_and_describe_attributes(ec2, vpc_id, subnet, instance):
    sid = subnet["SubnetId"]
    nid = eni(ec2, sid, Description="before")["NetworkInterfaceId"]

    def attr(name):
        out = ec2.describe_network_interface_attribute(NetworkInterfaceId=nid, Attribute=name)
        assert out["NetworkInterfaceId"] == nid
        out.pop("ResponseMetadata")
        out.pop("NetworkInterfaceId")
        return out

    assert attr("description") == {"Description": {"Value": "before"}}
    ec2.modify_network_interface_attribute(NetworkInterfaceId=nid, Description={"Value": "after"})
    assert attr("description") == {"Description": {"Value": "after"}}
    assert describe(ec2, nid)["Description"] == "after"

    assert attr("sourceDestCheck") == {"SourceDestCheck": {"Value": True}}
    ec2.modify_network_interface_attribute(NetworkInterfaceId=nid,
                                           SourceDestCheck={"Value": False})
    assert attr("sourceDestCheck") == {"SourceDestCheck": {"Value": False}}
    ec2.reset_network_interface_attribute(NetworkInterfaceId=nid, SourceDestCheck="sourceDestCheck")
    assert describe(ec2, nid)["SourceDestCheck"] is True

    g = ec2.create_security_group(GroupName="web", Description="w", VpcId=vpc_id)["GroupId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=nid, Groups=[g])
    assert attr("groupSet") == {"Groups": [{"GroupId": g, "GroupName": "web"}]}
    other = default_group(ec2, ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"])
    assert err(ec2.modify_network_interface_attribute, NetworkInterfaceId=nid,
               Groups=[other])[0] == "InvalidGroup.NotFound"
    assert err(ec2.modify_network_interface_attribute, NetworkInterfaceId=nid,
               Groups=["sg-0123456789abcdef0"])[0] == "InvalidGroup.NotFound"
    assert attr("groupSet") == {"Groups": [{"GroupId": g, "GroupName": "web"}]}

    assert attr("attachment") == {}
    aid = ec2.attach_network_interface(NetworkInterfaceId=nid, InstanceId=instance["InstanceId"],
                                       DeviceIndex=1)["AttachmentId"]
    ec2.modify_network_interface_attribute(
        NetworkInterfaceId=nid, Attachment={"AttachmentId": aid, "DeleteOnTermination": True})
    a = attr("attachment")["Attachment"]
    assert a["AttachmentId"] == aid and a["DeleteOnTermination"] is True
    assert a["InstanceId"] == instance["InstanceId"]
    assert err(ec2.modify_network_interface_attribute, NetworkInterfaceId=nid,
               Attachment={"AttachmentId": "eni-attach-0123456789abcdef0",
                           "DeleteOnTermination": False})[0] == "InvalidAttachmentID.NotFound"

    assert err(ec2.modify_network_interface_attribute, NetworkInterfaceId=nid)[0] == \
        "InvalidParameterCombination"
    assert err(ec2.modify_network_interface_attribute, NetworkInterfaceId=nid,
               Description={"Value": "x"}, SourceDestCheck={"Value": False})[0] == \
        "InvalidParameterCombination"
    assert describe(ec2, nid)["Description"] == "after"
    assert err(ec2.modify_network_interface_attribute, NetworkInterfaceId="eni-0123456789abcdef0",
               Description={"Value": "x"})[0] == "InvalidNetworkInterfaceID.NotFound"


def test_cli_attribute_commands(aws, ec2, subnet):
    nid = eni(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    aws("ec2", "modify-network-interface-attribute", "--network-interface-id", nid,
        "--no-source-dest-check")
    out = aws("ec2", "describe-network-interface-attribute", "--network-interface-id", nid,
              "--attribute", "sourceDestCheck")
    assert out["SourceDestCheck"] == {"Value": False}
    aws("ec2", "reset-network-interface-attribute", "--network-interface-id", nid,
        "--source-dest-check", "true")
    assert describe(ec2, nid)["SourceDestCheck"] is True


# ---- secondary addresses ----

def test_assign_and_unassign(ec2, subnet):
    sid = subnet["SubnetId"]
    a = eni(ec2, sid)["NetworkInterfaceId"]          # 10.0.1.4
    b = eni(ec2, sid)["NetworkInterfaceId"]          # 10.0.1.5
    out = ec2.assign_private_ip_addresses(NetworkInterfaceId=a,
                                          PrivateIpAddresses=["10.0.1.30", "10.0.1.31"])
    assert out["AssignedPrivateIpAddresses"] == [{"PrivateIpAddress": "10.0.1.30"},
                                                 {"PrivateIpAddress": "10.0.1.31"}]
    entries = describe(ec2, a)["PrivateIpAddresses"]
    assert entries[1] == {"Primary": False, "PrivateIpAddress": "10.0.1.30",
                          "PrivateDnsName": "ip-10-0-1-30.ec2.internal"}
    # Taken by a: refused to b unless reassignment is allowed.
    assert err(ec2.assign_private_ip_addresses, NetworkInterfaceId=b,
               PrivateIpAddresses=["10.0.1.31"])[0] == "InvalidIPAddress.InUse"
    ec2.assign_private_ip_addresses(NetworkInterfaceId=b, PrivateIpAddresses=["10.0.1.31"],
                                    AllowReassignment=True)
    assert [x["PrivateIpAddress"] for x in describe(ec2, a)["PrivateIpAddresses"]] == [
        "10.0.1.4", "10.0.1.30"]
    assert [x["PrivateIpAddress"] for x in describe(ec2, b)["PrivateIpAddresses"]] == [
        "10.0.1.5", "10.0.1.31"]
    # A primary address is never reassigned.
    assert err(ec2.assign_private_ip_addresses, NetworkInterfaceId=b,
               PrivateIpAddresses=["10.0.1.4"], AllowReassignment=True)[0] == \
        "InvalidIPAddress.InUse"
    assert err(ec2.assign_private_ip_addresses, NetworkInterfaceId=b,
               PrivateIpAddresses=["10.0.1.2"])[0] == "InvalidParameterValue"
    assert err(ec2.assign_private_ip_addresses, NetworkInterfaceId=b)[0] == "MissingParameter"

    code, message = err(ec2.unassign_private_ip_addresses, NetworkInterfaceId=a,
                        PrivateIpAddresses=["10.0.1.4"])
    assert code == "InvalidParameterValue" and "10.0.1.4" in message
    assert err(ec2.unassign_private_ip_addresses, NetworkInterfaceId=a,
               PrivateIpAddresses=["10.0.1.31"]) == (
        "InvalidParameterValue",
        "Some of the specified addresses are not assigned to interface %s" % a)
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=a, PrivateIpAddresses=["10.0.1.30"])
    assert [x["PrivateIpAddress"] for x in describe(ec2, a)["PrivateIpAddresses"]] == ["10.0.1.4"]
    # The released address is free again.
    assert eni(ec2, sid, PrivateIpAddress="10.0.1.30")["PrivateIpAddress"] == "10.0.1.30"


def test_cli_unassign(aws, ec2, subnet):
    nid = eni(ec2, subnet["SubnetId"], SecondaryPrivateIpAddressCount=1)["NetworkInterfaceId"]
    aws("ec2", "unassign-private-ip-addresses", "--network-interface-id", nid,
        "--private-ip-addresses", "10.0.1.5")
    assert len(describe(ec2, nid)["PrivateIpAddresses"]) == 1


# ---- concurrency ----

def test_32_clients_race_for_a_small_subnet(server, ec2, small):
    sid = small["SubnetId"]
    start = threading.Barrier(32)
    results = [None] * 32

    def create(i):
        client = server.client("ec2")
        start.wait()
        try:
            n = client.create_network_interface(SubnetId=sid)["NetworkInterface"]
            results[i] = ("ok", n["NetworkInterfaceId"], n["PrivateIpAddress"])
        except ClientError as e:
            results[i] = ("error", e.response["Error"]["Code"], e.response["Error"]["Message"])

    threads = [threading.Thread(target=create, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r[0] == "ok"]
    failed = [r for r in results if r[0] == "error"]
    assert len(ok) == 11
    assert len(failed) == 21
    assert {r[1:] for r in failed} == {("InsufficientFreeAddressesInSubnet", FULL)}
    ips = sorted((r[2] for r in ok), key=ipaddress.ip_address)
    assert ips == ["10.0.2.%d" % i for i in range(4, 15)]
    listed = ec2.describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [sid]}])["NetworkInterfaces"]
    assert sorted((x["NetworkInterfaceId"], x["PrivateIpAddress"]) for x in listed) == \
        sorted((r[1], r[2]) for r in ok)
    assert available(ec2, sid) == 0


# ---- interfaces ECS makes for awsvpc tasks ----

def wait_until(condition, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_ecs_task_interfaces_are_requester_managed(server, ec2, vpc_id, small):
    ecs = server.client("ecs")
    sid = small["SubnetId"]
    ecs.create_cluster(clusterName="enis")
    ecs.register_task_definition(
        family="enis", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", containerDefinitions=[{"name": "app", "image": "app", "essential": True,
                                             "command": ["sleep", "300"]}])
    task = ecs.run_task(cluster="enis", taskDefinition="enis", launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {"subnets": [sid]}})
    task = task["tasks"][0]
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    n = describe(ec2, details["networkInterfaceId"])
    nid = n["NetworkInterfaceId"]
    assert n["Description"] == "arn:aws:ecs:us-east-1:000000000000:attachment/%s" % \
        task["attachments"][0]["id"]
    assert n["RequesterManaged"] is True
    assert n["RequesterId"] == "578734482556"
    assert n["InterfaceType"] == "interface"
    assert n["Status"] == "in-use"
    assert n["Attachment"]["Status"] == "attached"
    assert n["Attachment"]["DeleteOnTermination"] is False
    assert "InstanceId" not in n["Attachment"]
    assert n["MacAddress"] == details["macAddress"]
    assert n["PrivateIpAddress"] == details["privateIPv4Address"] == "10.0.2.4"
    assert n["Groups"] == [{"GroupId": default_group(ec2, vpc_id), "GroupName": "default"}]
    assert [x["NetworkInterfaceId"] for x in ec2.describe_network_interfaces(
        Filters=[{"Name": "requester-managed", "Values": ["true"]}])["NetworkInterfaces"]] == [nid]
    assert available(ec2, sid) == 10

    # Users cannot take it away from the task.
    denied = ("AuthFailure", "You do not have permission to access the specified resource.")
    assert err(ec2.detach_network_interface,
               AttachmentId=n["Attachment"]["AttachmentId"]) == denied
    assert err(ec2.modify_network_interface_attribute, NetworkInterfaceId=nid,
               Description={"Value": "mine"}) == denied
    assert err(ec2.assign_private_ip_addresses, NetworkInterfaceId=nid,
               SecondaryPrivateIpAddressCount=1) == denied
    assert err(ec2.delete_network_interface, NetworkInterfaceId=nid) == (
        "InvalidParameterValue", "Network interface '%s' is currently in use." % nid)
    assert err(ec2.delete_subnet, SubnetId=sid)[0] == "DependencyViolation"

    # Stopping the task deletes it and frees its address.
    ecs.stop_task(cluster="enis", task=task["taskArn"])
    assert wait_until(lambda: ec2.describe_network_interfaces(
        Filters=[{"Name": "network-interface-id", "Values": [nid]}])["NetworkInterfaces"] == [])
    assert available(ec2, sid) == 11
