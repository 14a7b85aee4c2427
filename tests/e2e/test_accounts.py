"""Accounts (the 12-digit access key id) and regions are isolated: neither
sees the other's resources, and each has its own default VPC."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code

A, B = "111111111111", "222222222222"


def code_of(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e)


def build(ec2, name="mine"):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}])["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    assoc = ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)["AssociationId"]
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "NetworkAcls"][0]["NetworkAclId"]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    dopt = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"]
    return {"vpc": vpc, "subnet": subnet, "igw": igw, "rt": rt, "assoc": assoc, "acl": acl,
            "sg": sg, "dopt": dopt, "name": name}


def assert_invisible(other, r):
    """other (a client of another account or region) sees none of r."""
    assert code_of(other.describe_vpcs, VpcIds=[r["vpc"]]) == "InvalidVpcID.NotFound"
    assert code_of(other.describe_subnets, SubnetIds=[r["subnet"]]) == "InvalidSubnetID.NotFound"
    assert code_of(other.describe_internet_gateways, InternetGatewayIds=[r["igw"]]) == \
        "InvalidInternetGatewayID.NotFound"
    assert code_of(other.describe_route_tables, RouteTableIds=[r["rt"]]) == \
        "InvalidRouteTableID.NotFound"
    assert code_of(other.describe_network_acls, NetworkAclIds=[r["acl"]]) == \
        "InvalidNetworkAclID.NotFound"
    assert code_of(other.describe_security_groups, GroupIds=[r["sg"]]) == "InvalidGroup.NotFound"
    assert code_of(other.describe_dhcp_options, DhcpOptionsIds=[r["dopt"]]) == \
        "InvalidDhcpOptionID.NotFound"
    # Nor can it touch them.
    assert code_of(other.create_tags, Resources=[r["vpc"]],
                   Tags=[{"Key": "x", "Value": "y"}]) == "InvalidVpcID.NotFound"
    assert code_of(other.delete_vpc, VpcId=r["vpc"]) == "InvalidVpcID.NotFound"
    assert code_of(other.disassociate_route_table, AssociationId=r["assoc"]) == \
        "InvalidAssociationID.NotFound"
    assert code_of(other.create_subnet, VpcId=r["vpc"], CidrBlock="10.0.2.0/24") == \
        "InvalidVpcID.NotFound"
    # And listing shows nothing of it.
    assert r["vpc"] not in {v["VpcId"] for v in other.describe_vpcs()["Vpcs"]}
    assert other.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [r["name"]]}])["Vpcs"] == []
    assert other.describe_tags(Filters=[{"Name": "resource-id", "Values": [r["vpc"]]}])["Tags"] == []
    assert r["igw"] not in {g["InternetGatewayId"] for g in
                            other.describe_internet_gateways()["InternetGateways"]}


def test_accounts_are_isolated(server):
    a, b = server.client("ec2", account=A), server.client("ec2", account=B)
    ra = build(a)
    assert a.describe_vpcs(VpcIds=[ra["vpc"]])["Vpcs"][0]["OwnerId"] == A
    assert_invisible(b, ra)
    assert_invisible(server.client("ec2"), ra)  # the default account
    # B may build the same network with the same CIDRs.
    rb = build(b, "theirs")
    assert b.describe_vpcs(VpcIds=[rb["vpc"]])["Vpcs"][0]["OwnerId"] == B
    assert_invisible(a, rb)
    # Each still has exactly its own.
    assert a.describe_tags(Filters=[{"Name": "key", "Values": ["Name"]}])["Tags"] == [
        {"Key": "Name", "ResourceId": ra["vpc"], "ResourceType": "vpc", "Value": "mine"}]
    assert b.describe_tags(Filters=[{"Name": "key", "Values": ["Name"]}])["Tags"] == [
        {"Key": "Name", "ResourceId": rb["vpc"], "ResourceType": "vpc", "Value": "theirs"}]


def test_regions_are_isolated(server):
    east, west = server.client("ec2", account=A), server.client("ec2", account=A,
                                                                region="eu-west-1")
    r = build(east)
    assert_invisible(west, r)


def test_each_account_and_region_has_its_own_default_vpc(server):
    defaults = {}
    for account in (A, B):
        for region in ("us-east-1", "eu-west-1"):
            ec2 = server.client("ec2", account=account, region=region)
            [vpc] = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
            assert vpc["CidrBlock"] == "172.31.0.0/16"
            assert vpc["OwnerId"] == account
            subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
            zones = {s["AvailabilityZone"] for s in subnets["Subnets"]}
            assert zones == {z["ZoneName"] for z in
                             ec2.describe_availability_zones()["AvailabilityZones"]}
            assert all(s["SubnetArn"].startswith("arn:aws:ec2:%s:%s:subnet/" % (region, account))
                       for s in subnets["Subnets"])
            defaults[(account, region)] = vpc["VpcId"]
    assert len(set(defaults.values())) == 4
    # Deleting one account's default VPC leaves the others alone.
    a = server.client("ec2", account=A)
    vpc_id = defaults[(A, "us-east-1")]
    for s in a.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
        a.delete_subnet(SubnetId=s["SubnetId"])
    [igw] = a.describe_internet_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    a.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
    a.delete_vpc(VpcId=vpc_id)
    b = server.client("ec2", account=B)
    assert b.describe_vpcs(VpcIds=[defaults[(B, "us-east-1")]])["Vpcs"][0]["IsDefault"]
    assert a.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"] == []


def test_accounts_with_the_cli(server):
    vpc = server.aws("ec2", "create-vpc", "--cidr-block", "10.5.0.0/16", account=A)["Vpc"]
    assert vpc["OwnerId"] == A
    assert server.aws("sts", "get-caller-identity", account=A)["Account"] == A
    p = server.aws("ec2", "describe-vpcs", "--vpc-ids", vpc["VpcId"], account=B, check=False)
    assert p.returncode != 0 and "InvalidVpcID.NotFound" in p.stderr
    out = server.aws("ec2", "describe-vpcs", "--vpc-ids", vpc["VpcId"], account=A)
    assert out["Vpcs"][0]["VpcId"] == vpc["VpcId"]
