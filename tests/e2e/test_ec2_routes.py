"""EC2 route tables, routes, associations and network ACLs."""
import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def err(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e), e.value.response["Error"]["Message"]


@pytest.fixture
def net(ec2):
    """A VPC with an attached internet gateway and two subnets."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    main = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    return {"vpc": vpc, "igw": igw, "s1": s1, "s2": s2, "main": main["RouteTableId"],
            "main_assoc": main["Associations"][0]["RouteTableAssociationId"]}


def table(ec2, rt):
    return ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]


def route(ec2, rt, dest):
    for r in table(ec2, rt)["Routes"]:
        if r.get("DestinationCidrBlock") == dest:
            return r
    return None


# ---- route tables ----

def test_create_route_table(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"], TagSpecifications=[
        {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "public"}]}])["RouteTable"]
    assert rt["RouteTableId"].startswith("rtb-")
    assert rt["VpcId"] == net["vpc"]
    assert rt["OwnerId"] == "000000000000"
    assert rt["Routes"] == [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local",
                             "Origin": "CreateRouteTable", "State": "active"}]
    assert rt["Associations"] == []
    assert rt["PropagatingVgws"] == []
    assert rt["Tags"] == [{"Key": "Name", "Value": "public"}]
    assert table(ec2, rt["RouteTableId"]) == rt


def test_create_route_table_errors(ec2):
    assert err(ec2.create_route_table, VpcId="vpc-0123456789abcdef0") == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")
    assert err(ec2.describe_route_tables, RouteTableIds=["rtb-0123456789abcdef0"]) == (
        "InvalidRouteTableID.NotFound", "The routeTable ID 'rtb-0123456789abcdef0' does not exist")
    assert err(ec2.describe_route_tables, RouteTableIds=["rtb-zz"]) == (
        "InvalidRouteTableId.Malformed", 'Invalid id: "rtb-zz"')


def test_route_table_with_the_cli(aws, net):
    rt = aws("ec2", "create-route-table", "--vpc-id", net["vpc"])["RouteTable"]["RouteTableId"]
    assert aws("ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block",
               "0.0.0.0/0", "--gateway-id", net["igw"]) == {"Return": True}
    aws("ec2", "associate-route-table", "--route-table-id", rt, "--subnet-id", net["s1"])
    out = aws("ec2", "describe-route-tables", "--filters", "Name=route.gateway-id,Values=" + net["igw"],
              "Name=association.subnet-id,Values=" + net["s1"])
    assert [t["RouteTableId"] for t in out["RouteTables"]] == [rt]


def test_describe_route_tables_filters(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"], TagSpecifications=[
        {"ResourceType": "route-table", "Tags": [{"Key": "tier", "Value": "public"}]}])
    rt = rt["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=net["igw"])
    assoc = ec2.associate_route_table(RouteTableId=rt, SubnetId=net["s1"])["AssociationId"]
    vpc = {"Name": "vpc-id", "Values": [net["vpc"]]}

    def ids(name, values):
        f = [vpc, {"Name": name, "Values": values}]
        return sorted(t["RouteTableId"] for t in ec2.describe_route_tables(Filters=f)["RouteTables"])

    assert ids("vpc-id", [net["vpc"]]) == sorted([rt, net["main"]])
    assert ids("route-table-id", [rt]) == [rt]
    assert ids("association.main", ["true"]) == [net["main"]]
    assert ids("association.main", ["false"]) == [rt]
    assert ids("association.subnet-id", [net["s1"]]) == [rt]
    assert ids("association.subnet-id", [net["s2"]]) == []  # implicit: no association
    assert ids("association.route-table-association-id", [assoc]) == [rt]
    assert ids("association.route-table-association-id", [net["main_assoc"]]) == [net["main"]]
    assert ids("association.route-table-id", [rt]) == [rt]
    assert ids("route.destination-cidr-block", ["0.0.0.0/0"]) == [rt]
    assert ids("route.destination-cidr-block", ["10.0.0.0/16"]) == sorted([rt, net["main"]])
    assert ids("route.gateway-id", [net["igw"]]) == [rt]
    assert ids("route.gateway-id", ["local"]) == sorted([rt, net["main"]])
    assert ids("route.origin", ["CreateRoute"]) == [rt]
    assert ids("route.origin", ["CreateRouteTable"]) == sorted([rt, net["main"]])
    assert ids("route.state", ["active"]) == sorted([rt, net["main"]])
    assert ids("route.state", ["blackhole"]) == []
    assert ids("tag:tier", ["pub*"]) == [rt]
    assert ids("owner-id", ["000000000000"]) == sorted([rt, net["main"]])
    assert err(ec2.describe_route_tables, Filters=[{"Name": "route.bogus", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'route.bogus' is invalid")


def test_describe_route_tables_pagination(ec2, net):
    made = {ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
            for _ in range(6)} | {net["main"]}
    f = [{"Name": "vpc-id", "Values": [net["vpc"]]}]
    p1 = ec2.describe_route_tables(Filters=f, MaxResults=5)
    p2 = ec2.describe_route_tables(Filters=f, MaxResults=5, NextToken=p1["NextToken"])
    assert len(p1["RouteTables"]) == 5 and len(p2["RouteTables"]) == 2
    assert "NextToken" not in p2
    assert {t["RouteTableId"] for t in p1["RouteTables"] + p2["RouteTables"]} == made
    raw = boto3.client("ec2", endpoint_url=ec2.meta.endpoint_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=botocore.config.Config(parameter_validation=False))
    code, msg = err(raw.describe_route_tables, MaxResults=101)
    assert code == "InvalidParameterValue" and "100" in msg


def test_delete_route_table(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    assoc = ec2.associate_route_table(RouteTableId=rt, SubnetId=net["s1"])["AssociationId"]
    dependency = ("DependencyViolation",
                  "The routeTable '%s' has dependencies and cannot be deleted." % rt)
    assert err(ec2.delete_route_table, RouteTableId=rt) == dependency
    ec2.disassociate_route_table(AssociationId=assoc)
    ec2.delete_route_table(RouteTableId=rt)
    assert err(ec2.describe_route_tables, RouteTableIds=[rt])[0] == "InvalidRouteTableID.NotFound"
    assert err(ec2.delete_route_table, RouteTableId=rt)[0] == "InvalidRouteTableID.NotFound"


def test_main_route_table_cannot_be_deleted(ec2, net):
    assert err(ec2.delete_route_table, RouteTableId=net["main"]) == (
        "DependencyViolation",
        "The routeTable '%s' has dependencies and cannot be deleted." % net["main"])
    assert table(ec2, net["main"])["Associations"][0]["Main"] is True


# ---- associations ----

def test_associate_route_table_with_a_subnet(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    out = ec2.associate_route_table(RouteTableId=rt, SubnetId=net["s1"])
    assert out["AssociationId"].startswith("rtbassoc-")
    assert out["AssociationState"] == {"State": "associated"}
    [a] = table(ec2, rt)["Associations"]
    assert a == {"Main": False, "RouteTableAssociationId": out["AssociationId"],
                 "RouteTableId": rt, "SubnetId": net["s1"],
                 "AssociationState": {"State": "associated"}}
    # Terraform's association read.
    found = ec2.describe_route_tables(Filters=[{"Name": "association.route-table-association-id",
                                                "Values": [out["AssociationId"]]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [rt]


def test_a_subnet_has_one_explicit_association(ec2, net):
    rt1 = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    rt2 = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rt1, SubnetId=net["s1"])
    for rt in (rt1, rt2):
        assert err(ec2.associate_route_table, RouteTableId=rt, SubnetId=net["s1"]) == (
            "Resource.AlreadyAssociated",
            "the specified association for route table %s conflicts with an existing "
            "association" % rt)
    assert table(ec2, rt2)["Associations"] == []


def test_associate_route_table_errors(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    assert err(ec2.associate_route_table, RouteTableId=rt, SubnetId=foreign) == (
        "InvalidParameterValue",
        "route table %s and subnet %s belong to different networks" % (rt, foreign))
    assert err(ec2.associate_route_table, RouteTableId=rt,
               SubnetId="subnet-0123456789abcdef0")[0] == "InvalidSubnetID.NotFound"
    assert err(ec2.associate_route_table, RouteTableId="rtb-0123456789abcdef0",
               SubnetId=net["s1"])[0] == "InvalidRouteTableID.NotFound"
    assert err(ec2.associate_route_table, RouteTableId=rt)[0] == "MissingParameter"
    assert err(ec2.associate_route_table, RouteTableId=rt, SubnetId=net["s1"],
               GatewayId=net["igw"])[0] == "InvalidParameterCombination"
    assert table(ec2, rt)["Associations"] == []


def test_associate_route_table_with_a_gateway(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    assoc = ec2.associate_route_table(RouteTableId=rt, GatewayId=net["igw"])["AssociationId"]
    [a] = table(ec2, rt)["Associations"]
    assert a["GatewayId"] == net["igw"] and a["Main"] is False and "SubnetId" not in a
    found = ec2.describe_route_tables(Filters=[
        {"Name": "association.gateway-id", "Values": [net["igw"]]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [rt]
    assert err(ec2.associate_route_table, RouteTableId=net["main"],
               GatewayId=net["igw"])[0] == "Resource.AlreadyAssociated"
    ec2.disassociate_route_table(AssociationId=assoc)
    loose = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    assert err(ec2.associate_route_table, RouteTableId=rt, GatewayId=loose) == (
        "InvalidParameterValue",
        "route table %s and network gateway %s belong to different networks" % (rt, loose))


def test_disassociate_route_table(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    assoc = ec2.associate_route_table(RouteTableId=rt, SubnetId=net["s1"])["AssociationId"]
    ec2.disassociate_route_table(AssociationId=assoc)
    assert table(ec2, rt)["Associations"] == []
    assert err(ec2.disassociate_route_table, AssociationId=assoc) == (
        "InvalidAssociationID.NotFound", "The association ID '%s' does not exist" % assoc)
    # The subnet can be associated again.
    ec2.associate_route_table(RouteTableId=rt, SubnetId=net["s1"])


def test_main_association_cannot_be_disassociated(ec2, net):
    assert err(ec2.disassociate_route_table, AssociationId=net["main_assoc"]) == (
        "InvalidParameterValue",
        "cannot disassociate the main route table association %s" % net["main_assoc"])


def test_replace_subnet_association(ec2, aws, net):
    rt1 = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    rt2 = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    old = ec2.associate_route_table(RouteTableId=rt1, SubnetId=net["s1"])["AssociationId"]
    out = aws("ec2", "replace-route-table-association", "--association-id", old,
              "--route-table-id", rt2)
    new = out["NewAssociationId"]
    assert new != old and out["AssociationState"] == {"State": "associated"}
    assert table(ec2, rt1)["Associations"] == []
    [a] = table(ec2, rt2)["Associations"]
    assert (a["RouteTableAssociationId"], a["SubnetId"], a["Main"]) == (new, net["s1"], False)
    assert err(ec2.replace_route_table_association, AssociationId=old,
               RouteTableId=rt2)[0] == "InvalidAssociationID.NotFound"


def test_replace_main_association(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    new = ec2.replace_route_table_association(AssociationId=net["main_assoc"],
                                              RouteTableId=rt)["NewAssociationId"]
    [main] = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [net["vpc"]]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    assert main["RouteTableId"] == rt
    assert main["Associations"][0]["RouteTableAssociationId"] == new
    assert main["Associations"][0]["Main"] is True
    # The former main table is an ordinary table now and can go.
    assert table(ec2, net["main"])["Associations"] == []
    ec2.delete_route_table(RouteTableId=net["main"])


def test_replace_association_into_another_vpc(ec2, net):
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_route_table(VpcId=other_vpc)["RouteTable"]["RouteTableId"]
    code, _ = err(ec2.replace_route_table_association, AssociationId=net["main_assoc"],
                  RouteTableId=foreign)
    assert code == "InvalidParameterValue"
    assert table(ec2, net["main"])["Associations"][0]["RouteTableAssociationId"] == net["main_assoc"]


# ---- routes ----

def test_create_route_to_an_internet_gateway(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    assert ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
                            GatewayId=net["igw"])["Return"] is True
    assert route(ec2, rt, "0.0.0.0/0") == {"DestinationCidrBlock": "0.0.0.0/0",
                                           "GatewayId": net["igw"], "Origin": "CreateRoute",
                                           "State": "active"}
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId=net["igw"]) == (
        "RouteAlreadyExists", "The route identified by 0.0.0.0/0 already exists.")
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="10.0.0.0/16",
               GatewayId=net["igw"]) == (
        "RouteAlreadyExists", "The route identified by 10.0.0.0/16 already exists.")
    # A less specific route than the VPC's own is fine.
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="10.0.0.0/8", GatewayId=net["igw"])


def test_create_route_gateway_errors(ec2, net):
    rt = ec2.create_route_table(VpcId=net["vpc"])["RouteTable"]["RouteTableId"]
    loose = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    different = ("InvalidParameterValue",
                 "route table %s and network gateway %s belong to different networks" % (rt, loose))
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId=loose) == different
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.attach_internet_gateway(InternetGatewayId=loose, VpcId=other_vpc)
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId=loose) == different
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId="igw-0123456789abcdef0") == (
        "InvalidInternetGatewayID.NotFound",
        "The internetGateway ID 'igw-0123456789abcdef0' does not exist")
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId="local") == (
        "InvalidGatewayID.NotFound", "The gateway ID 'local' does not exist")
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId="nat-0123456789abcdef0") == (
        "InvalidParameterValue", "invalid value for parameter gateway-id: nat-0123456789abcdef0")
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="10.0.5.0/24",
               GatewayId=net["igw"]) == (
        "InvalidParameterValue",
        "Route target is not supported. This route only supports interface and instance targets.")
    assert err(ec2.create_route, RouteTableId="rtb-0123456789abcdef0",
               DestinationCidrBlock="0.0.0.0/0", GatewayId=net["igw"])[0] == \
        "InvalidRouteTableID.NotFound"
    assert [r["GatewayId"] for r in table(ec2, rt)["Routes"]] == ["local"]


def test_create_route_request_errors(ec2, net):
    rt = net["main"]
    assert err(ec2.create_route, RouteTableId=rt, GatewayId=net["igw"]) == (
        "MissingParameter",
        "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock")
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/33",
               GatewayId=net["igw"]) == (
        "InvalidParameterValue",
        "Value (0.0.0.0/33) for parameter destinationCidrBlock is invalid. This is not a valid "
        "CIDR block.")
    assert err(ec2.create_route, RouteTableId=rt,
               DestinationCidrBlock="0.0.0.0/0")[0] == "MissingParameter"
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId=net["igw"], NetworkInterfaceId="eni-0123456789abcdef0") == (
        "InvalidParameterCombination",
        "The parameter gatewayId cannot be used with the parameter networkInterfaceId")
    code, msg = err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
                    NatGatewayId="nat-0123456789abcdef0")
    assert code == "UnsupportedOperation" and "NAT gateways" in msg
    code, msg = err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
                    VpcPeeringConnectionId="pcx-0123456789abcdef0")
    assert code == "UnsupportedOperation" and "peering" in msg
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               NetworkInterfaceId="eni-0123456789abcdef0")[0] == \
        "InvalidNetworkInterfaceID.NotFound"
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               InstanceId="i-0123456789abcdef0")[0] == "InvalidInstanceID.NotFound"


def test_route_destination_is_canonical(ec2, net):
    rt = net["main"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="192.168.7.9/16", GatewayId=net["igw"])
    assert route(ec2, rt, "192.168.0.0/16")["GatewayId"] == net["igw"]
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="192.168.0.0/16",
               GatewayId=net["igw"])[0] == "RouteAlreadyExists"
    ec2.delete_route(RouteTableId=rt, DestinationCidrBlock="192.168.0.0/16")


def test_delete_route(ec2, net):
    rt = net["main"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=net["igw"])
    ec2.delete_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0")
    assert route(ec2, rt, "0.0.0.0/0") is None
    assert err(ec2.delete_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0") == (
        "InvalidRoute.NotFound",
        "no route with destination-cidr-block 0.0.0.0/0 in route table %s" % rt)
    assert err(ec2.delete_route, RouteTableId=rt, DestinationCidrBlock="10.0.0.0/16") == (
        "InvalidParameterValue", "cannot remove local route 10.0.0.0/16 in route table %s" % rt)
    assert route(ec2, rt, "10.0.0.0/16")["GatewayId"] == "local"


def test_replace_route(ec2, net):
    rt = net["main"]
    assert err(ec2.replace_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               GatewayId=net["igw"]) == (
        "InvalidParameterValue",
        "There is no route defined for '0.0.0.0/0' in the route table. Use CreateRoute instead.")
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=net["igw"])
    ec2.replace_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=net["igw"])
    assert route(ec2, rt, "0.0.0.0/0")["GatewayId"] == net["igw"]
    # The local route keeps its target; restoring it (what Terraform sends
    # for gateway_id = "local") is accepted.
    ec2.replace_route(RouteTableId=rt, DestinationCidrBlock="10.0.0.0/16", LocalTarget=True)
    code, _ = err(ec2.replace_route, RouteTableId=rt, DestinationCidrBlock="10.0.0.0/16",
                  GatewayId=net["igw"])
    assert code == "UnsupportedOperation"
    assert route(ec2, rt, "10.0.0.0/16")["GatewayId"] == "local"
    assert err(ec2.replace_route, RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0",
               LocalTarget=True)[0] == "InvalidParameterValue"


def test_route_to_a_detached_gateway_is_a_blackhole(ec2, net):
    rt = net["main"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=net["igw"])
    ec2.detach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    assert route(ec2, rt, "0.0.0.0/0")["State"] == "blackhole"
    assert [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=[
        {"Name": "route.state", "Values": ["blackhole"]}])["RouteTables"]] == [rt]
    ec2.attach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    assert route(ec2, rt, "0.0.0.0/0")["State"] == "active"
    ec2.detach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=net["igw"])
    assert route(ec2, rt, "0.0.0.0/0")["State"] == "blackhole"
    ec2.delete_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0")


def test_route_to_a_network_interface(ec2, net):
    rt = net["main"]
    eni = ec2.create_network_interface(SubnetId=net["s1"])["NetworkInterface"]["NetworkInterfaceId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="192.168.0.0/16",
                     NetworkInterfaceId=eni)
    r = route(ec2, rt, "192.168.0.0/16")
    assert (r["NetworkInterfaceId"], r["State"], r["Origin"]) == (eni, "active", "CreateRoute")
    # Routes more specific than the VPC's may lead to an interface.
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="10.0.2.0/24", NetworkInterfaceId=eni)
    ec2.replace_route(RouteTableId=rt, DestinationCidrBlock="192.168.0.0/16",
                      GatewayId=net["igw"])
    r = route(ec2, rt, "192.168.0.0/16")
    assert r["GatewayId"] == net["igw"] and "NetworkInterfaceId" not in r
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    foreign = ec2.create_network_interface(SubnetId=other_subnet)["NetworkInterface"][
        "NetworkInterfaceId"]
    assert err(ec2.create_route, RouteTableId=rt, DestinationCidrBlock="172.16.0.0/12",
               NetworkInterfaceId=foreign) == (
        "InvalidParameterValue",
        "route table %s and interface %s belong to different networks" % (rt, foreign))
    ec2.delete_route(RouteTableId=rt, DestinationCidrBlock="10.0.2.0/24")
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert [r for r in table(ec2, rt)["Routes"] if r.get("NetworkInterfaceId")] == []


# ---- network ACLs (recorded, not enforced) ----

def acl_ids(ec2, *filters):
    f = [{"Name": n, "Values": v} for n, v in filters]
    return sorted(a["NetworkAclId"] for a in ec2.describe_network_acls(Filters=f)["NetworkAcls"])


def test_default_network_acl_holds_every_subnet(ec2, net):
    [default] = acl_ids(ec2, ("vpc-id", [net["vpc"]]), ("default", ["true"]))
    acl = ec2.describe_network_acls(NetworkAclIds=[default])["NetworkAcls"][0]
    assert sorted(a["SubnetId"] for a in acl["Associations"]) == sorted([net["s1"], net["s2"]])
    for a in acl["Associations"]:
        assert a["NetworkAclId"] == default
        assert a["NetworkAclAssociationId"].startswith("aclassoc-")
    assert acl_ids(ec2, ("association.subnet-id", [net["s1"]])) == [default]
    assert acl_ids(ec2, ("vpc-id", [net["vpc"]]), ("entry.rule-action", ["deny"])) == [default]
    assert acl_ids(ec2, ("vpc-id", [net["vpc"]]), ("entry.rule-number", ["100"])) == [default]
    assert acl_ids(ec2, ("vpc-id", [net["vpc"]]), ("entry.cidr", ["0.0.0.0/0"])) == [default]
    assert acl_ids(ec2, ("vpc-id", [net["vpc"]]), ("entry.protocol", ["-1"])) == [default]
    assert acl_ids(ec2, ("vpc-id", [net["vpc"]]), ("entry.egress", ["true"])) == [default]
    assert acl_ids(ec2, ("network-acl-id", [default])) == [default]
    assert acl_ids(ec2, ("owner-id", ["000000000000"]), ("vpc-id", [net["vpc"]])) == [default]
    assert err(ec2.describe_network_acls, NetworkAclIds=["acl-0123456789abcdef0"]) == (
        "InvalidNetworkAclID.NotFound", "The networkAcl ID 'acl-0123456789abcdef0' does not exist")


def test_network_acl_lifecycle(ec2, net):
    acl = ec2.create_network_acl(VpcId=net["vpc"], TagSpecifications=[
        {"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "strict"}]}])["NetworkAcl"]
    acl_id = acl["NetworkAclId"]
    assert acl["IsDefault"] is False and acl["Associations"] == []
    assert acl["Tags"] == [{"Key": "Name", "Value": "strict"}]
    assert [(e["Egress"], e["RuleNumber"], e["RuleAction"]) for e in acl["Entries"]] == [
        (True, 32767, "deny"), (False, 32767, "deny")]
    # Move a subnet over, the way Terraform's aws_network_acl does.
    [default] = ec2.describe_network_acls(Filters=[
        {"Name": "association.subnet-id", "Values": [net["s1"]]}])["NetworkAcls"]
    assoc = [a for a in default["Associations"] if a["SubnetId"] == net["s1"]][0]
    new = ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                              NetworkAclId=acl_id)["NewAssociationId"]
    assert acl_ids(ec2, ("association.subnet-id", [net["s1"]])) == [acl_id]
    assert acl_ids(ec2, ("association.association-id", [new])) == [acl_id]
    assert err(ec2.delete_network_acl, NetworkAclId=acl_id) == (
        "DependencyViolation", "The networkAcl '%s' has dependencies and cannot be deleted." % acl_id)
    assert err(ec2.replace_network_acl_association, AssociationId=assoc["NetworkAclAssociationId"],
               NetworkAclId=acl_id)[0] == "InvalidAssociationID.NotFound"
    ec2.replace_network_acl_association(AssociationId=new, NetworkAclId=default["NetworkAclId"])
    ec2.delete_network_acl(NetworkAclId=acl_id)
    assert err(ec2.describe_network_acls, NetworkAclIds=[acl_id])[0] == "InvalidNetworkAclID.NotFound"
    assert err(ec2.delete_network_acl, NetworkAclId=default["NetworkAclId"])[0] == \
        "InvalidParameterValue"


def test_network_acl_entries(ec2, net):
    acl_id = ec2.create_network_acl(VpcId=net["vpc"])["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=200, Protocol="tcp",
                                 RuleAction="allow", Egress=False, CidrBlock="10.0.0.0/16",
                                 PortRange={"From": 443, "To": 443})
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="-1",
                                 RuleAction="allow", Egress=True, CidrBlock="0.0.0.0/0")
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=150, Protocol="1",
                                 RuleAction="deny", Egress=False, CidrBlock="192.168.0.0/24",
                                 IcmpTypeCode={"Type": 8, "Code": 0})

    def entries():
        acl = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]
        return [(e["Egress"], e["RuleNumber"], e["Protocol"], e["RuleAction"], e["CidrBlock"],
                 e.get("PortRange"), e.get("IcmpTypeCode")) for e in acl["Entries"]]

    assert entries() == [
        (True, 100, "-1", "allow", "0.0.0.0/0", None, None),
        (True, 32767, "-1", "deny", "0.0.0.0/0", None, None),
        (False, 150, "1", "deny", "192.168.0.0/24", None, {"Type": 8, "Code": 0}),
        (False, 200, "6", "allow", "10.0.0.0/16", {"From": 443, "To": 443}, None),
        (False, 32767, "-1", "deny", "0.0.0.0/0", None, None),
    ]
    assert acl_ids(ec2, ("entry.port-range.from", ["443"])) == [acl_id]
    assert acl_ids(ec2, ("entry.icmp.type", ["8"])) == [acl_id]
    assert err(ec2.create_network_acl_entry, NetworkAclId=acl_id, RuleNumber=200, Protocol="-1",
               RuleAction="deny", Egress=False, CidrBlock="0.0.0.0/0") == (
        "NetworkAclEntryAlreadyExists", "The network acl entry identified by 200 already exists.")
    ec2.replace_network_acl_entry(NetworkAclId=acl_id, RuleNumber=200, Protocol="udp",
                                  RuleAction="deny", Egress=False, CidrBlock="10.0.0.0/8",
                                  PortRange={"From": 53, "To": 53})
    assert entries()[3] == (False, 200, "17", "deny", "10.0.0.0/8", {"From": 53, "To": 53}, None)
    ec2.delete_network_acl_entry(NetworkAclId=acl_id, RuleNumber=200, Egress=False)
    assert [e[1] for e in entries()] == [100, 32767, 150, 32767]
    assert err(ec2.delete_network_acl_entry, NetworkAclId=acl_id, RuleNumber=200,
               Egress=False)[0] == "InvalidNetworkAclEntry.NotFound"
    assert err(ec2.replace_network_acl_entry, NetworkAclId=acl_id, RuleNumber=300, Protocol="-1",
               RuleAction="deny", Egress=True, CidrBlock="0.0.0.0/0")[0] == \
        "InvalidNetworkAclEntry.NotFound"
    assert err(ec2.delete_network_acl_entry, NetworkAclId=acl_id, RuleNumber=32767,
               Egress=True)[0] == "InvalidNetworkAclEntry.NotFound"
    for bad in (dict(RuleNumber=0), dict(RuleNumber=32767), dict(Protocol="bogus"),
                dict(CidrBlock="10.0.0.0/99"), dict(Protocol="tcp")):
        kw = dict(NetworkAclId=acl_id, RuleNumber=400, Protocol="-1", RuleAction="allow",
                  Egress=True, CidrBlock="0.0.0.0/0")
        kw.update(bad)
        assert err(ec2.create_network_acl_entry, **kw)[0] == "InvalidParameterValue", bad
    assert [e[1] for e in entries()] == [100, 32767, 150, 32767]


def test_route_to_an_instance(ec2, net):
    rt = net["main"]
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=net["s1"])["Instances"][0]
    eni = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="172.16.0.0/12",
                     InstanceId=inst["InstanceId"])
    r = route(ec2, rt, "172.16.0.0/12")
    assert r["InstanceId"] == inst["InstanceId"]
    assert r["InstanceOwnerId"] == "000000000000"
    assert r["NetworkInterfaceId"] == eni
    assert r["State"] == "active"
    assert [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=[
        {"Name": "route.instance-id", "Values": [inst["InstanceId"]]}])["RouteTables"]] == [rt]
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign_rt = ec2.create_route_table(VpcId=other_vpc)["RouteTable"]["RouteTableId"]
    assert err(ec2.create_route, RouteTableId=foreign_rt, DestinationCidrBlock="0.0.0.0/0",
               InstanceId=inst["InstanceId"]) == (
        "InvalidParameterValue",
        "route table %s and instance %s belong to different networks" % (
            foreign_rt, inst["InstanceId"]))
    ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
    assert route(ec2, rt, "172.16.0.0/12")["State"] == "blackhole"
