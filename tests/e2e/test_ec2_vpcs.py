"""EC2 VPCs: create, describe (filters, pagination), delete, attributes,
the default VPC, through boto3 and the AWS CLI v2."""
import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def err(fn, **kw):
    """(code, message) of the AWS error fn(**kw) raises."""
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e), e.value.response["Error"]["Message"]


def unvalidated(server):
    """An EC2 client that sends what it is given (botocore would refuse
    out-of-range values before they reach the server)."""
    return boto3.client("ec2", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=botocore.config.Config(parameter_validation=False,
                                                      retries={"max_attempts": 1}))


def cli_error(p):
    assert p.returncode != 0
    return p.stderr


def vpc_filter(vpc_id, *more):
    return [{"Name": "vpc-id", "Values": [vpc_id]}] + list(more)


# ---- CreateVpc ----

def test_create_vpc_returns_the_vpc_with_its_tags(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"},
                                         {"Key": "env", "Value": "test"}]}])["Vpc"]
    assert vpc["VpcId"].startswith("vpc-") and len(vpc["VpcId"]) == 21
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert vpc["State"] == "available"
    assert vpc["IsDefault"] is False
    assert vpc["InstanceTenancy"] == "default"
    assert vpc["OwnerId"] == "000000000000"
    assert vpc["DhcpOptionsId"].startswith("dopt-")
    assert vpc["CidrBlockAssociationSet"][0]["CidrBlock"] == "10.0.0.0/16"
    assert vpc["CidrBlockAssociationSet"][0]["CidrBlockState"]["State"] == "associated"
    assert sorted((t["Key"], t["Value"]) for t in vpc["Tags"]) == [("Name", "main"), ("env", "test")]
    described = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"]
    assert described == [vpc]


def test_create_vpc_with_the_cli(aws):
    vpc = aws("ec2", "create-vpc", "--cidr-block", "10.20.0.0/16", "--tag-specifications",
              "ResourceType=vpc,Tags=[{Key=Name,Value=cli}]")["Vpc"]
    assert vpc["CidrBlock"] == "10.20.0.0/16"
    assert vpc["Tags"] == [{"Key": "Name", "Value": "cli"}]
    out = aws("ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=cli")
    assert [v["VpcId"] for v in out["Vpcs"]] == [vpc["VpcId"]]


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.0.0.0/28", "192.168.0.0/24"])
def test_create_vpc_accepts_16_to_28(ec2, cidr):
    assert ec2.create_vpc(CidrBlock=cidr)["Vpc"]["CidrBlock"] == cidr


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "10.0.0.0/15", "10.0.0.0/29", "10.0.0.0/32"])
def test_create_vpc_outside_16_to_28_is_invalid_range(ec2, cidr):
    assert err(ec2.create_vpc, CidrBlock=cidr) == (
        "InvalidVpc.Range", "The CIDR '%s' is invalid." % cidr)


@pytest.mark.parametrize("cidr", ["10.0.0.0", "10.0.0.0/33", "300.0.0.0/16", "abc", "10.0.0/16"])
def test_create_vpc_malformed_cidr(ec2, cidr):
    assert err(ec2.create_vpc, CidrBlock=cidr) == (
        "InvalidParameterValue",
        "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block." % cidr)


def test_create_vpc_without_cidr(ec2):
    assert err(ec2.create_vpc) == (
        "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")


def test_create_vpc_clears_host_bits(ec2):
    assert ec2.create_vpc(CidrBlock="10.1.2.3/16")["Vpc"]["CidrBlock"] == "10.1.0.0/16"


def test_create_vpc_tag_spec_for_another_type_is_refused(ec2):
    code, _ = err(ec2.create_vpc, CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "subnet", "Tags": [{"Key": "a", "Value": "b"}]}])
    assert code == "InvalidParameterValue"
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}])["Vpcs"] == []


def test_bad_create_changes_nothing(ec2):
    before = ec2.describe_vpcs()["Vpcs"]
    err(ec2.create_vpc, CidrBlock="10.0.0.0/8")
    err(ec2.create_vpc, CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "aws:reserved", "Value": "x"}]}])
    assert ec2.describe_vpcs()["Vpcs"] == before


# ---- what a VPC comes with, found the way Terraform finds it ----

def test_vpc_gets_default_security_group(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    groups = ec2.describe_security_groups(Filters=vpc_filter(
        vpc_id, {"Name": "group-name", "Values": ["default"]}))["SecurityGroups"]
    assert len(groups) == 1
    assert groups[0]["Description"] == "default VPC security group"
    assert groups[0]["VpcId"] == vpc_id


def test_vpc_gets_main_route_table_with_local_route(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    tables = ec2.describe_route_tables(Filters=vpc_filter(
        vpc_id, {"Name": "association.main", "Values": ["true"]}))["RouteTables"]
    assert len(tables) == 1
    rt = tables[0]
    assert rt["VpcId"] == vpc_id
    assert rt["Routes"] == [{"DestinationCidrBlock": "10.3.0.0/16", "GatewayId": "local",
                             "Origin": "CreateRouteTable", "State": "active"}]
    [assoc] = rt["Associations"]
    assert assoc["Main"] is True
    assert assoc["RouteTableId"] == rt["RouteTableId"]
    assert assoc["RouteTableAssociationId"].startswith("rtbassoc-")
    assert assoc["AssociationState"] == {"State": "associated"}
    assert rt["PropagatingVgws"] == []


def test_vpc_gets_default_network_acl(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    acls = ec2.describe_network_acls(Filters=vpc_filter(
        vpc_id, {"Name": "default", "Values": ["true"]}))["NetworkAcls"]
    assert len(acls) == 1
    assert acls[0]["IsDefault"] is True
    actions = {(e["Egress"], e["RuleNumber"]): e["RuleAction"] for e in acls[0]["Entries"]}
    assert actions == {(True, 100): "allow", (True, 32767): "deny",
                       (False, 100): "allow", (False, 32767): "deny"}


def test_vpc_attribute_defaults(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")[
        "EnableDnsSupport"] == {"Value": True}
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"] == {"Value": False}
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableNetworkAddressUsageMetrics")[
        "EnableNetworkAddressUsageMetrics"] == {"Value": False}


# ---- DescribeVpcs ----

@pytest.fixture
def three_vpcs(ec2):
    def make(cidr, name, env):
        return ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[{"ResourceType": "vpc", "Tags": [
            {"Key": "Name", "Value": name}, {"Key": "env", "Value": env}]}])["Vpc"]["VpcId"]
    return {"web-a": make("10.1.0.0/16", "web-a", "prod"),
            "web-b": make("10.2.0.0/16", "web-b", "dev"),
            "db": make("10.3.0.0/24", "db", "prod")}


def ids_of(ec2, filters):
    return sorted(v["VpcId"] for v in ec2.describe_vpcs(Filters=filters)["Vpcs"])


def test_describe_vpcs_filters(ec2, three_vpcs):
    v = three_vpcs
    assert ids_of(ec2, [{"Name": "tag:Name", "Values": ["db"]}]) == [v["db"]]
    assert ids_of(ec2, [{"Name": "tag:Name", "Values": ["web-*"]}]) == sorted([v["web-a"], v["web-b"]])
    assert ids_of(ec2, [{"Name": "tag:Name", "Values": ["web-?"]}]) == sorted([v["web-a"], v["web-b"]])
    assert ids_of(ec2, [{"Name": "cidr", "Values": ["10.2.0.0/16"]}]) == [v["web-b"]]
    assert ids_of(ec2, [{"Name": "cidr-block-association.cidr-block",
                         "Values": ["10.3.0.0/24"]}]) == [v["db"]]
    assert ids_of(ec2, [{"Name": "vpc-id", "Values": [v["db"], v["web-a"]]}]) == sorted(
        [v["db"], v["web-a"]])
    assert ids_of(ec2, [{"Name": "tag-key", "Values": ["env"]}]) == sorted(v.values())
    # AND across filters, OR across the values of one.
    assert ids_of(ec2, [{"Name": "tag:env", "Values": ["prod"]},
                        {"Name": "tag:Name", "Values": ["web-*", "nothing"]}]) == [v["web-a"]]
    assert ids_of(ec2, [{"Name": "tag:env", "Values": ["staging"]}]) == []
    nondefault = ids_of(ec2, [{"Name": "is-default", "Values": ["false"]}])
    assert nondefault == sorted(v.values())
    assert len(ids_of(ec2, [{"Name": "is-default", "Values": ["true"]}])) == 1
    assert len(ids_of(ec2, [{"Name": "state", "Values": ["available"]}])) == 4
    assert ids_of(ec2, [{"Name": "state", "Values": ["pending"]}]) == []
    assert len(ids_of(ec2, [{"Name": "owner-id", "Values": ["000000000000"]}])) == 4


def test_describe_vpcs_filter_with_the_cli(aws, three_vpcs):
    out = aws("ec2", "describe-vpcs", "--filters", "Name=tag:env,Values=prod",
              "Name=cidr,Values=10.1.0.0/16")
    assert [x["VpcId"] for x in out["Vpcs"]] == [three_vpcs["web-a"]]


def test_describe_vpcs_unknown_filter(ec2):
    assert err(ec2.describe_vpcs, Filters=[{"Name": "bogus", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'bogus' is invalid")


def test_describe_vpcs_unknown_and_malformed_ids(ec2, aws, server):
    assert err(ec2.describe_vpcs, VpcIds=["vpc-0123456789abcdef0"]) == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")
    assert err(ec2.describe_vpcs, VpcIds=["vpc-xyz"]) == (
        "InvalidVpcId.Malformed", "The vpc ID vpc-xyz is malformed")
    p = server.aws("ec2", "describe-vpcs", "--vpc-ids", "vpc-00000000", check=False)
    assert "InvalidVpcID.NotFound" in cli_error(p)


def test_describe_vpcs_pagination(ec2, server):
    made = {ec2.create_vpc(CidrBlock="10.%d.0.0/16" % i)["Vpc"]["VpcId"] for i in range(7)}
    everything = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert len(everything) == 8 and made <= everything
    page1 = ec2.describe_vpcs(MaxResults=5)
    assert len(page1["Vpcs"]) == 5 and page1["NextToken"]
    page2 = ec2.describe_vpcs(MaxResults=5, NextToken=page1["NextToken"])
    assert len(page2["Vpcs"]) == 3 and "NextToken" not in page2
    assert {v["VpcId"] for v in page1["Vpcs"] + page2["Vpcs"]} == everything
    # Filters apply before the page is cut.
    f = [{"Name": "is-default", "Values": ["false"]}]
    p = ec2.describe_vpcs(Filters=f, MaxResults=5)
    rest = ec2.describe_vpcs(Filters=f, MaxResults=5, NextToken=p["NextToken"])
    assert {v["VpcId"] for v in p["Vpcs"] + rest["Vpcs"]} == made
    # boto3's paginator and the CLI follow NextToken.
    pages = ec2.get_paginator("describe_vpcs").paginate(PaginationConfig={"PageSize": 5})
    assert {v["VpcId"] for page in pages for v in page["Vpcs"]} == everything
    out = server.aws("ec2", "describe-vpcs", "--page-size", "5")
    assert {v["VpcId"] for v in out["Vpcs"]} == everything


def test_describe_vpcs_pagination_errors(ec2, server):
    raw = unvalidated(server)
    assert err(raw.describe_vpcs, NextToken="bogus") == (
        "InvalidParameterValue",
        "Value ( bogus ) for parameter NextToken is invalid. The token is invalid.")
    code, msg = err(raw.describe_vpcs, MaxResults=4)
    assert code == "InvalidParameterValue" and "( 4 )" in msg and "5" in msg
    code, msg = err(raw.describe_vpcs, MaxResults=1001)
    assert code == "InvalidParameterValue" and "( 1001 )" in msg and "1000" in msg
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    assert err(ec2.describe_vpcs, VpcIds=[vpc_id], MaxResults=5) == (
        "InvalidParameterCombination",
        "The parameter vpcSet cannot be used with the parameter maxResults")


# ---- DeleteVpc ----

def test_delete_vpc_removes_it_and_its_defaults(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.delete_vpc(VpcId=vpc_id)
    assert err(ec2.describe_vpcs, VpcIds=[vpc_id])[0] == "InvalidVpcID.NotFound"
    f = vpc_filter(vpc_id)
    assert ec2.describe_route_tables(Filters=f)["RouteTables"] == []
    assert ec2.describe_network_acls(Filters=f)["NetworkAcls"] == []
    assert ec2.describe_security_groups(Filters=f)["SecurityGroups"] == []
    assert err(ec2.delete_vpc, VpcId=vpc_id) == (
        "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist" % vpc_id)


def dependency(vpc_id):
    return ("DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted." % vpc_id)


def test_delete_vpc_with_a_subnet(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    assert err(ec2.delete_vpc, VpcId=vpc_id) == dependency(vpc_id)
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["State"] == "available"
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_delete_vpc_with_a_security_group(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
    assert err(ec2.delete_vpc, VpcId=vpc_id) == dependency(vpc_id)
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_vpc(VpcId=vpc_id)


def test_delete_vpc_with_an_attached_internet_gateway(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    assert err(ec2.delete_vpc, VpcId=vpc_id) == dependency(vpc_id)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_vpc(VpcId=vpc_id)
    # The gateway outlives the VPC, detached.
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])[
        "InternetGateways"][0]["Attachments"] == []


def test_delete_vpc_with_a_route_table_or_network_acl(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    rt = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    assert err(ec2.delete_vpc, VpcId=vpc_id) == dependency(vpc_id)
    ec2.delete_route_table(RouteTableId=rt)
    acl = ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
    assert err(ec2.delete_vpc, VpcId=vpc_id) == dependency(vpc_id)
    ec2.delete_network_acl(NetworkAclId=acl)
    ec2.delete_vpc(VpcId=vpc_id)


def test_delete_vpc_malformed_id(ec2):
    assert err(ec2.delete_vpc, VpcId="vpc-nothex!") == (
        "InvalidVpcId.Malformed", "The vpc ID vpc-nothex! is malformed")


# ---- attributes ----

@pytest.mark.parametrize("member,attribute", [
    ("EnableDnsSupport", "enableDnsSupport"),
    ("EnableDnsHostnames", "enableDnsHostnames"),
    ("EnableNetworkAddressUsageMetrics", "enableNetworkAddressUsageMetrics"),
])
def test_modify_and_describe_each_vpc_attribute(ec2, member, attribute):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for value in (True, False, True):
        ec2.modify_vpc_attribute(VpcId=vpc_id, **{member: {"Value": value}})
        out = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
        assert out["VpcId"] == vpc_id
        assert out[member] == {"Value": value}


def test_vpc_attributes_with_the_cli(aws):
    vpc_id = aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]["VpcId"]
    aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc_id, "--enable-dns-hostnames",
        '{"Value": true}')
    out = aws("ec2", "describe-vpc-attribute", "--vpc-id", vpc_id, "--attribute",
              "enableDnsHostnames")
    assert out["EnableDnsHostnames"] == {"Value": True}


def test_modify_vpc_attribute_errors(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    code, _ = err(ec2.modify_vpc_attribute, VpcId=vpc_id,
                  EnableDnsSupport={"Value": True}, EnableDnsHostnames={"Value": True})
    assert code == "InvalidParameterCombination"
    assert err(ec2.modify_vpc_attribute, VpcId=vpc_id)[0] == "MissingParameter"
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": False})
    code, _ = err(ec2.modify_vpc_attribute, VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    assert code == "InvalidParameterValue"
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"] == {"Value": False}
    assert err(ec2.modify_vpc_attribute, VpcId="vpc-0123456789abcdef0",
               EnableDnsSupport={"Value": True})[0] == "InvalidVpcID.NotFound"
    assert err(ec2.describe_vpc_attribute, VpcId="vpc-0123456789abcdef0",
               Attribute="enableDnsSupport")[0] == "InvalidVpcID.NotFound"


# ---- the default VPC ----

def default_vpc(ec2):
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return vpc


def test_default_vpc(ec2):
    vpc = default_vpc(ec2)
    assert vpc["CidrBlock"] == "172.31.0.0/16"
    assert vpc["IsDefault"] is True
    vpc_id = vpc["VpcId"]
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"] == {"Value": True}
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")[
        "EnableDnsSupport"] == {"Value": True}
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == sorted(zones)
    for s in subnets:
        assert s["VpcId"] == vpc_id
        assert s["CidrBlock"].startswith("172.31.") and s["CidrBlock"].endswith("/20")
        assert s["MapPublicIpOnLaunch"] is True and s["DefaultForAz"] is True
    assert len({s["CidrBlock"] for s in subnets}) == len(subnets)
    [igw] = ec2.describe_internet_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    assert igw["Attachments"] == [{"State": "available", "VpcId": vpc_id}]
    [main] = ec2.describe_route_tables(Filters=vpc_filter(
        vpc_id, {"Name": "association.main", "Values": ["true"]}))["RouteTables"]
    routes = {r["DestinationCidrBlock"]: r for r in main["Routes"]}
    assert routes["172.31.0.0/16"]["GatewayId"] == "local"
    assert routes["0.0.0.0/0"]["GatewayId"] == igw["InternetGatewayId"]
    assert routes["0.0.0.0/0"]["State"] == "active"
    groups = ec2.describe_security_groups(Filters=vpc_filter(
        vpc_id, {"Name": "group-name", "Values": ["default"]}))["SecurityGroups"]
    assert len(groups) == 1
    assert len(ec2.describe_network_acls(Filters=vpc_filter(
        vpc_id, {"Name": "default", "Values": ["true"]}))["NetworkAcls"]) == 1


def test_default_vpc_found_the_terraform_way(ec2):
    # aws_default_vpc filters on the undocumented camelCase name.
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    assert vpc == default_vpc(ec2)


def test_create_default_vpc_when_one_exists(ec2):
    assert err(ec2.create_default_vpc) == (
        "DefaultVpcAlreadyExists", "A Default VPC already exists for this account in this region.")


def delete_default_vpc(ec2):
    vpc_id = default_vpc(ec2)["VpcId"]
    for s in ec2.describe_subnets(Filters=vpc_filter(vpc_id))["Subnets"]:
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    for igw in ec2.describe_internet_gateways(Filters=[
            {"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]:
        ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
        ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vpc_id)
    return vpc_id


def test_default_vpc_can_be_deleted_and_recreated(ec2, aws):
    old = delete_default_vpc(ec2)
    assert ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"] == []
    assert err(ec2.create_default_subnet, AvailabilityZone="us-east-1a") == (
        "DefaultVpcDoesNotExist", "No default VPC for this user")
    vpc = aws("ec2", "create-default-vpc")["Vpc"]
    assert vpc["VpcId"] != old and vpc["IsDefault"] is True
    assert vpc["CidrBlock"] == "172.31.0.0/16"
    assert default_vpc(ec2)["VpcId"] == vpc["VpcId"]
    subnets = ec2.describe_subnets(Filters=vpc_filter(vpc["VpcId"]))["Subnets"]
    assert len(subnets) == len(ec2.describe_availability_zones()["AvailabilityZones"])
    assert all(s["DefaultForAz"] for s in subnets)
    assert len(ec2.describe_internet_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]) == 1


# ---- waiters ----

def test_vpc_waiters(ec2, aws):
    vpc_id = aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]["VpcId"]
    p = aws("ec2", "wait", "vpc-available", "--vpc-ids", vpc_id, raw=True)
    assert p.returncode == 0, p.stderr
    p = aws("ec2", "wait", "vpc-exists", "--vpc-ids", vpc_id, raw=True)
    assert p.returncode == 0, p.stderr
    ec2.get_waiter("vpc_available").wait(VpcIds=[vpc_id])
    ec2.get_waiter("vpc_exists").wait(VpcIds=[vpc_id])
    # Ansible's vpc_available with a tag filter needs the filter to match.
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "waited"}])
    ec2.get_waiter("vpc_available").wait(Filters=[{"Name": "tag:Name", "Values": ["waited"]}])
