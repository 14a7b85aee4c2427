"""EC2 DescribeAvailabilityZones, DescribeRegions, DescribeAccountAttributes."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def err(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e), e.value.response["Error"]["Message"]


# ---- availability zones ----

def test_describe_availability_zones(ec2):
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == ["us-east-1%s" % c for c in "abcdef"]
    assert [z["ZoneId"] for z in zones] == ["use1-az%d" % i for i in range(1, 7)]
    for z in zones:
        assert z["State"] == "available"
        assert z["RegionName"] == "us-east-1"
        assert z["ZoneType"] == "availability-zone"
        assert z["OptInStatus"] == "opt-in-not-required"
        assert z["GroupName"] == "us-east-1"
        assert z["NetworkBorderGroup"] == "us-east-1"
        assert z["Messages"] == []


def test_zones_are_where_subnets_can_go(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for i, z in enumerate(ec2.describe_availability_zones()["AvailabilityZones"]):
        s = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i,
                              AvailabilityZoneId=z["ZoneId"])["Subnet"]
        assert s["AvailabilityZone"] == z["ZoneName"]


def test_describe_availability_zones_by_name_id_and_filter(ec2, aws):
    def names(**kw):
        return [z["ZoneName"] for z in ec2.describe_availability_zones(**kw)["AvailabilityZones"]]

    assert names(ZoneNames=["us-east-1c", "us-east-1a"]) == ["us-east-1a", "us-east-1c"]
    assert names(ZoneIds=["use1-az2"]) == ["us-east-1b"]
    assert names(ZoneNames=["us-east-1a"], ZoneIds=["use1-az2"]) == ["us-east-1a", "us-east-1b"]
    assert names(Filters=[{"Name": "zone-name", "Values": ["us-east-1[ab]", "*f"]}]) == ["us-east-1f"]
    assert names(Filters=[{"Name": "zone-id", "Values": ["use1-az?"]},
                          {"Name": "state", "Values": ["available"]}]) == names()
    assert names(Filters=[{"Name": "region-name", "Values": ["eu-west-1"]}]) == []
    assert names(Filters=[{"Name": "zone-type", "Values": ["local-zone"]}]) == []
    assert names(Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required"]}]) == names()
    assert names(AllAvailabilityZones=True) == names()
    out = aws("ec2", "describe-availability-zones", "--zone-names", "us-east-1d")
    assert [z["ZoneId"] for z in out["AvailabilityZones"]] == ["use1-az4"]


def test_describe_availability_zones_errors(ec2):
    assert err(ec2.describe_availability_zones, ZoneNames=["us-east-1z"]) == (
        "InvalidParameterValue", "Invalid availability zone: [us-east-1z]")
    assert err(ec2.describe_availability_zones, ZoneIds=["use1-az9"]) == (
        "InvalidParameterValue", "Invalid availability zone: [use1-az9]")
    assert err(ec2.describe_availability_zones, Filters=[{"Name": "bogus", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'bogus' is invalid")


@pytest.mark.parametrize("region,names,ids", [
    ("eu-west-1", ["eu-west-1a", "eu-west-1b", "eu-west-1c"], ["euw1-az1", "euw1-az2", "euw1-az3"]),
    ("ap-southeast-2", ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"],
     ["apse2-az1", "apse2-az2", "apse2-az3"]),
])
def test_zones_of_other_regions(server, region, names, ids):
    zones = server.client("ec2", region=region).describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == names
    assert [z["ZoneId"] for z in zones] == ids
    assert {z["RegionName"] for z in zones} == {region}
    out = server.aws("ec2", "describe-availability-zones", region=region)
    assert [z["ZoneName"] for z in out["AvailabilityZones"]] == names


# ---- regions ----

def test_describe_regions(ec2):
    regions = {r["RegionName"]: r for r in ec2.describe_regions()["Regions"]}
    for name in ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1",
                 "ap-northeast-1", "sa-east-1"):
        assert regions[name] == {"RegionName": name, "Endpoint": "ec2.%s.amazonaws.com" % name,
                                 "OptInStatus": "opt-in-not-required"}
    assert regions["af-south-1"]["OptInStatus"] == "opted-in"
    assert {r["RegionName"] for r in ec2.describe_regions(AllRegions=True)["Regions"]} == set(regions)


def test_describe_regions_by_name_and_filter(ec2, aws):
    def names(**kw):
        return sorted(r["RegionName"] for r in ec2.describe_regions(**kw)["Regions"])

    assert names(RegionNames=["eu-west-1", "us-east-1"]) == ["eu-west-1", "us-east-1"]
    assert names(Filters=[{"Name": "region-name", "Values": ["us-*"]}]) == [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2"]
    assert names(Filters=[{"Name": "endpoint", "Values": ["ec2.eu-west-3.amazonaws.com"]}]) == [
        "eu-west-3"]
    opted = names(Filters=[{"Name": "opt-in-status", "Values": ["opted-in"]}])
    assert "me-south-1" in opted and "us-east-1" not in opted
    out = aws("ec2", "describe-regions", "--region-names", "ca-central-1")
    assert [r["RegionName"] for r in out["Regions"]] == ["ca-central-1"]
    assert err(ec2.describe_regions, RegionNames=["xx-nowhere-1"]) == (
        "InvalidParameterValue", "Invalid region: [xx-nowhere-1]")
    assert err(ec2.describe_regions, Filters=[{"Name": "zone-name", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'zone-name' is invalid")


# ---- account attributes ----

def attributes(ec2, **kw):
    out = ec2.describe_account_attributes(**kw)["AccountAttributes"]
    return {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]] for a in out}


def test_describe_account_attributes(ec2):
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
        "Vpcs"][0]["VpcId"]
    assert attributes(ec2) == {
        "supported-platforms": ["VPC"],
        "default-vpc": [default_vpc],
        "max-instances": ["20"],
        "vpc-max-security-groups-per-interface": ["5"],
        "max-elastic-ips": ["5"],
        "vpc-max-elastic-ips": ["5"],
    }
    assert attributes(ec2, AttributeNames=["default-vpc"]) == {"default-vpc": [default_vpc]}
    assert attributes(ec2, AttributeNames=["supported-platforms"]) == {
        "supported-platforms": ["VPC"]}


def test_default_vpc_attribute_follows_the_default_vpc(ec2, aws):
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
        "Vpcs"][0]["VpcId"]
    for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    [igw] = ec2.describe_internet_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
    ec2.delete_vpc(VpcId=vpc_id)
    assert attributes(ec2, AttributeNames=["default-vpc"]) == {"default-vpc": ["none"]}
    new = ec2.create_default_vpc()["Vpc"]["VpcId"]
    out = aws("ec2", "describe-account-attributes", "--attribute-names", "default-vpc")
    assert out["AccountAttributes"] == [{"AttributeName": "default-vpc",
                                         "AttributeValues": [{"AttributeValue": new}]}]


def test_default_vpc_attribute_per_region(server):
    east = server.client("ec2")
    west = server.client("ec2", region="us-west-2")
    e = attributes(east, AttributeNames=["default-vpc"])["default-vpc"][0]
    w = attributes(west, AttributeNames=["default-vpc"])["default-vpc"][0]
    assert e != w
    assert west.describe_vpcs(VpcIds=[w])["Vpcs"][0]["IsDefault"] is True
