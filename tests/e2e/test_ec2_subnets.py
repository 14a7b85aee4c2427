"""EC2 subnets: create (ranges, conflicts, zones), describe (filters,
pagination), attributes, delete, default subnets, waiters."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code

US_EAST_1_ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e",
                   "us-east-1f"]


def err(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e), e.value.response["Error"]["Message"]


@pytest.fixture
def vpc_id(ec2):
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def test_create_subnet(ec2, vpc_id):
    s = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1b",
                          TagSpecifications=[{"ResourceType": "subnet",
                                              "Tags": [{"Key": "Name", "Value": "app"}]}])["Subnet"]
    assert s["SubnetId"].startswith("subnet-")
    assert s["SubnetArn"] == "arn:aws:ec2:us-east-1:000000000000:subnet/%s" % s["SubnetId"]
    assert s["VpcId"] == vpc_id
    assert s["CidrBlock"] == "10.0.1.0/24"
    assert s["State"] == "available"
    assert s["AvailabilityZone"] == "us-east-1b"
    assert s["AvailabilityZoneId"] == "use1-az2"
    assert s["AvailableIpAddressCount"] == 251
    assert s["MapPublicIpOnLaunch"] is False
    assert s["DefaultForAz"] is False
    assert s["AssignIpv6AddressOnCreation"] is False
    assert s["Ipv6CidrBlockAssociationSet"] == []
    assert s["OwnerId"] == "000000000000"
    assert s["PrivateDnsNameOptionsOnLaunch"]["HostnameType"] == "ip-name"
    assert s["Tags"] == [{"Key": "Name", "Value": "app"}]
    assert ec2.describe_subnets(SubnetIds=[s["SubnetId"]])["Subnets"] == [s]


@pytest.mark.parametrize("cidr,available", [("10.0.0.0/16", 65531), ("10.0.1.0/24", 251),
                                            ("10.0.1.0/28", 11)])
def test_available_ip_address_count(ec2, vpc_id, cidr, available):
    s = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr)["Subnet"]
    assert s["AvailableIpAddressCount"] == available


def test_create_subnet_with_the_cli(aws, vpc_id):
    s = aws("ec2", "create-subnet", "--vpc-id", vpc_id, "--cidr-block", "10.0.9.0/24",
            "--availability-zone-id", "use1-az3")["Subnet"]
    assert s["AvailabilityZone"] == "us-east-1c"
    out = aws("ec2", "describe-subnets", "--filters", "Name=vpc-id,Values=" + vpc_id)
    assert [x["SubnetId"] for x in out["Subnets"]] == [s["SubnetId"]]


@pytest.mark.parametrize("cidr", ["10.1.0.0/24", "10.0.0.0/29", "10.0.0.0/15", "9.255.255.0/24"])
def test_create_subnet_out_of_range(ec2, vpc_id, cidr):
    assert err(ec2.create_subnet, VpcId=vpc_id, CidrBlock=cidr) == (
        "InvalidSubnet.Range", "The CIDR '%s' is invalid." % cidr)


def test_create_subnet_conflicts(ec2, vpc_id):
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")
    for cidr in ("10.0.1.0/24", "10.0.1.128/25", "10.0.0.0/23"):
        assert err(ec2.create_subnet, VpcId=vpc_id, CidrBlock=cidr) == (
            "InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet" % cidr)
    # Adjacent blocks are fine, and so is the same block in another VPC.
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24")
    other = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=other, CidrBlock="10.0.1.0/24")


@pytest.mark.parametrize("cidr", ["10.0.1.0", "10.0.1.0/40", "x"])
def test_create_subnet_malformed_cidr(ec2, vpc_id, cidr):
    assert err(ec2.create_subnet, VpcId=vpc_id, CidrBlock=cidr) == (
        "InvalidParameterValue",
        "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block." % cidr)


def test_create_subnet_unknown_vpc(ec2):
    assert err(ec2.create_subnet, VpcId="vpc-0123456789abcdef0", CidrBlock="10.0.0.0/24") == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")


def test_create_subnet_zones(ec2, vpc_id):
    by_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24",
                              AvailabilityZoneId="use1-az6")["Subnet"]
    assert (by_id["AvailabilityZone"], by_id["AvailabilityZoneId"]) == ("us-east-1f", "use1-az6")
    by_name = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24",
                                AvailabilityZone="us-east-1d")["Subnet"]
    assert (by_name["AvailabilityZone"], by_name["AvailabilityZoneId"]) == ("us-east-1d", "use1-az4")
    chosen = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.3.0/24")["Subnet"]
    assert chosen["AvailabilityZone"] in US_EAST_1_ZONES


@pytest.mark.parametrize("zone", ["us-east-1z", "eu-west-1a", "test-region-1b"])
def test_create_subnet_bad_zone(ec2, vpc_id, zone):
    assert err(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.1.0/24",
               AvailabilityZone=zone) == (
        "InvalidParameterValue",
        "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be "
        "created in the following availability zones: %s." % (zone, ", ".join(US_EAST_1_ZONES)))
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"] == []


def test_create_subnet_zone_name_and_id_together(ec2, vpc_id):
    code, _ = err(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.1.0/24",
                  AvailabilityZone="us-east-1a", AvailabilityZoneId="use1-az1")
    assert code == "InvalidParameterCombination"


def test_zones_in_another_region(server):
    ec2 = server.client("ec2", region="eu-west-1")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    s = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24", AvailabilityZone="eu-west-1b")
    assert s["Subnet"]["AvailabilityZoneId"] == "euw1-az2"
    assert s["Subnet"]["SubnetArn"].startswith("arn:aws:ec2:eu-west-1:000000000000:subnet/")
    assert err(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.2.0/24",
               AvailabilityZone="us-east-1a")[1].endswith(
        "availability zones: eu-west-1a, eu-west-1b, eu-west-1c.")


# ---- attributes ----

def test_modify_subnet_map_public_ip(ec2, vpc_id):
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["MapPublicIpOnLaunch"] is True
    f = [{"Name": "map-public-ip-on-launch", "Values": ["true"]},
         {"Name": "vpc-id", "Values": [vpc_id]}]
    assert [s["SubnetId"] for s in ec2.describe_subnets(Filters=f)["Subnets"]] == [sid]
    ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": False})
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["MapPublicIpOnLaunch"] is False


def test_modify_subnet_attribute_with_the_cli(aws, ec2, vpc_id):
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    aws("ec2", "modify-subnet-attribute", "--subnet-id", sid, "--map-public-ip-on-launch")
    assert aws("ec2", "describe-subnets", "--subnet-ids", sid)["Subnets"][0]["MapPublicIpOnLaunch"]
    aws("ec2", "modify-subnet-attribute", "--subnet-id", sid, "--no-map-public-ip-on-launch")
    assert not aws("ec2", "describe-subnets", "--subnet-ids", sid)["Subnets"][0]["MapPublicIpOnLaunch"]


def test_modify_subnet_attribute_errors(ec2, vpc_id):
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    code, msg = err(ec2.modify_subnet_attribute, SubnetId=sid,
                    AssignIpv6AddressOnCreation={"Value": True})
    assert code == "InvalidParameterValue" and sid in msg
    assert err(ec2.modify_subnet_attribute, SubnetId="subnet-0123456789abcdef0",
               MapPublicIpOnLaunch={"Value": True}) == (
        "InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")


# ---- DescribeSubnets ----

def test_describe_subnets_filters(ec2, vpc_id):
    a = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a",
                          TagSpecifications=[{"ResourceType": "subnet",
                                              "Tags": [{"Key": "Name", "Value": "public-a"}]}])
    b = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/28", AvailabilityZone="us-east-1b",
                          TagSpecifications=[{"ResourceType": "subnet",
                                              "Tags": [{"Key": "Name", "Value": "private-b"}]}])
    a, b = a["Subnet"]["SubnetId"], b["Subnet"]["SubnetId"]

    def ids(*filters):
        f = [{"Name": "vpc-id", "Values": [vpc_id]}] + [
            {"Name": n, "Values": v} for n, v in filters]
        return sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=f)["Subnets"])

    assert ids() == sorted([a, b])
    assert ids(("cidr-block", ["10.0.2.0/28"])) == [b]
    assert ids(("cidrBlock", ["10.0.1.0/24"])) == [a]
    assert ids(("cidr", ["10.0.1.0/24", "10.0.2.0/28"])) == sorted([a, b])
    assert ids(("availability-zone", ["us-east-1a"])) == [a]
    assert ids(("availability-zone-id", ["use1-az2"])) == [b]
    assert ids(("tag:Name", ["public-*"])) == [a]
    assert ids(("tag-key", ["Name"])) == sorted([a, b])
    assert ids(("subnet-id", [b])) == [b]
    assert ids(("state", ["available"])) == sorted([a, b])
    assert ids(("default-for-az", ["false"])) == sorted([a, b])
    assert ids(("available-ip-address-count", ["11"])) == [b]
    assert ids(("owner-id", ["000000000000"])) == sorted([a, b])
    assert ids(("tag:Name", ["public-a"]), ("availability-zone", ["us-east-1b"])) == []
    assert err(ec2.describe_subnets, Filters=[{"Name": "nope", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'nope' is invalid")


def test_describe_subnets_unknown_ids(ec2):
    assert err(ec2.describe_subnets, SubnetIds=["subnet-0123456789abcdef0"]) == (
        "InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")


def test_describe_subnets_pagination(ec2, vpc_id):
    made = {ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.%d.0/24" % i)["Subnet"]["SubnetId"]
            for i in range(7)}
    f = [{"Name": "vpc-id", "Values": [vpc_id]}]
    p1 = ec2.describe_subnets(Filters=f, MaxResults=5)
    assert len(p1["Subnets"]) == 5
    p2 = ec2.describe_subnets(Filters=f, MaxResults=5, NextToken=p1["NextToken"])
    assert len(p2["Subnets"]) == 2 and "NextToken" not in p2
    assert {s["SubnetId"] for s in p1["Subnets"] + p2["Subnets"]} == made


# ---- DeleteSubnet ----

def test_delete_subnet(ec2, vpc_id):
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    assert ec2.describe_network_acls(Filters=[
        {"Name": "association.subnet-id", "Values": [sid]}])["NetworkAcls"][0]["IsDefault"]
    ec2.delete_subnet(SubnetId=sid)
    # What Ansible's subnet_deleted waiter waits for.
    assert err(ec2.describe_subnets, SubnetIds=[sid])[0] == "InvalidSubnetID.NotFound"
    assert ec2.describe_network_acls(Filters=[
        {"Name": "association.subnet-id", "Values": [sid]}])["NetworkAcls"] == []
    assert err(ec2.delete_subnet, SubnetId=sid) == (
        "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist" % sid)
    # The block is free again.
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")


def test_delete_subnet_drops_its_route_table_association(ec2, vpc_id):
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    rt = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rt, SubnetId=sid)
    ec2.delete_subnet(SubnetId=sid)
    assert ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]["Associations"] == []
    ec2.delete_route_table(RouteTableId=rt)


def test_delete_subnet_with_a_network_interface(ec2, vpc_id):
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=sid)["NetworkInterface"]
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"] == 250
    assert err(ec2.delete_subnet, SubnetId=sid) == (
        "DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted." % sid)
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"] == 251
    ec2.delete_subnet(SubnetId=sid)


# ---- default subnets ----

def test_default_subnet_errors_and_recreation(ec2):
    assert err(ec2.create_default_subnet, AvailabilityZone="us-east-1a") == (
        "DefaultSubnetAlreadyExistsInAvailabilityZone",
        "A default subnet already exists in availability zone us-east-1a")
    [old] = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]},
                                          {"Name": "availability-zone",
                                           "Values": ["us-east-1c"]}])["Subnets"]
    ec2.delete_subnet(SubnetId=old["SubnetId"])
    new = ec2.create_default_subnet(AvailabilityZone="us-east-1c")["Subnet"]
    assert new["DefaultForAz"] is True and new["MapPublicIpOnLaunch"] is True
    assert new["VpcId"] == old["VpcId"]
    assert new["CidrBlock"] == old["CidrBlock"]  # the free /20 it left
    assert new["AvailableIpAddressCount"] == 4091


# ---- waiters ----

def test_subnet_waiters(ec2, aws, vpc_id):
    sid = aws("ec2", "create-subnet", "--vpc-id", vpc_id, "--cidr-block",
              "10.0.1.0/24")["Subnet"]["SubnetId"]
    p = aws("ec2", "wait", "subnet-available", "--subnet-ids", sid, raw=True)
    assert p.returncode == 0, p.stderr
    ec2.get_waiter("subnet_available").wait(SubnetIds=[sid])
    ec2.get_waiter("subnet_available").wait(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
