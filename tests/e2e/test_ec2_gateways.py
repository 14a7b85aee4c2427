"""EC2 internet gateways and DHCP options sets."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def err(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e), e.value.response["Error"]["Message"]


def igw_ids(ec2, *filters):
    f = [{"Name": n, "Values": v} for n, v in filters]
    return sorted(g["InternetGatewayId"]
                  for g in ec2.describe_internet_gateways(Filters=f)["InternetGateways"])


@pytest.fixture
def vpc_id(ec2):
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


# ---- internet gateways ----

def test_create_internet_gateway(ec2):
    igw = ec2.create_internet_gateway(TagSpecifications=[
        {"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "edge"}]}])[
        "InternetGateway"]
    assert igw["InternetGatewayId"].startswith("igw-")
    assert igw["Attachments"] == []
    assert igw["OwnerId"] == "000000000000"
    assert igw["Tags"] == [{"Key": "Name", "Value": "edge"}]
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw["InternetGatewayId"]])[
        "InternetGateways"] == [igw]


def test_attach_and_detach(ec2, vpc_id):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    [g] = ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]
    # Terraform and Ansible wait for exactly this state.
    assert g["Attachments"] == [{"State": "available", "VpcId": vpc_id}]
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    [g] = ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]
    assert g["Attachments"] == []
    # Attach it somewhere else.
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=other)
    assert igw_ids(ec2, ("attachment.vpc-id", [other])) == [igw]


def test_attach_errors(ec2, vpc_id):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    second = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    for target in (vpc_id, other):
        assert err(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=target) == (
            "Resource.AlreadyAssociated",
            "resource %s is already attached to network %s" % (igw, vpc_id))
    assert err(ec2.attach_internet_gateway, InternetGatewayId=second, VpcId=vpc_id) == (
        "InvalidParameterValue", "Network %s already has an internet gateway attached" % vpc_id)
    assert err(ec2.attach_internet_gateway, InternetGatewayId=second,
               VpcId="vpc-0123456789abcdef0")[0] == "InvalidVpcID.NotFound"
    assert err(ec2.attach_internet_gateway, InternetGatewayId="igw-0123456789abcdef0",
               VpcId=vpc_id) == (
        "InvalidInternetGatewayID.NotFound",
        "The internetGateway ID 'igw-0123456789abcdef0' does not exist")
    assert err(ec2.attach_internet_gateway, InternetGatewayId="igw-nothex",
               VpcId=vpc_id)[0] == "InvalidInternetGatewayId.Malformed"
    # Nothing changed.
    assert ec2.describe_internet_gateways(InternetGatewayIds=[second])[
        "InternetGateways"][0]["Attachments"] == []
    assert igw_ids(ec2, ("attachment.vpc-id", [other])) == []


def test_detach_errors(ec2, vpc_id):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    code, msg = err(ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=vpc_id)
    assert code == "Gateway.NotAttached" and igw in msg and vpc_id in msg
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    assert err(ec2.detach_internet_gateway, InternetGatewayId=igw,
               VpcId=other)[0] == "Gateway.NotAttached"
    assert err(ec2.detach_internet_gateway, InternetGatewayId="igw-0123456789abcdef0",
               VpcId=vpc_id)[0] == "InvalidInternetGatewayID.NotFound"
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])[
        "InternetGateways"][0]["Attachments"] == [{"State": "available", "VpcId": vpc_id}]


def test_delete_internet_gateway(ec2, vpc_id):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    assert err(ec2.delete_internet_gateway, InternetGatewayId=igw) == (
        "DependencyViolation",
        "The internetGateway '%s' has dependencies and cannot be deleted." % igw)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    assert err(ec2.describe_internet_gateways, InternetGatewayIds=[igw]) == (
        "InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist" % igw)
    assert err(ec2.delete_internet_gateway, InternetGatewayId=igw)[0] == \
        "InvalidInternetGatewayID.NotFound"


def test_describe_internet_gateways_filters(ec2, vpc_id):
    a = ec2.create_internet_gateway(TagSpecifications=[
        {"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "gw-a"}]}])
    b = ec2.create_internet_gateway(TagSpecifications=[
        {"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "gw-b"}]}])
    a, b = a["InternetGateway"]["InternetGatewayId"], b["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=a, VpcId=vpc_id)
    default_igws = igw_ids(ec2, ("attachment.state", ["available"]))
    assert a in default_igws and b not in default_igws and len(default_igws) == 2
    assert igw_ids(ec2, ("attachment.vpc-id", [vpc_id])) == [a]
    assert igw_ids(ec2, ("internet-gateway-id", [a, b])) == sorted([a, b])
    assert igw_ids(ec2, ("tag:Name", ["gw-*"])) == sorted([a, b])
    assert igw_ids(ec2, ("tag:Name", ["gw-b"])) == [b]
    assert igw_ids(ec2, ("tag-key", ["Name"])) == sorted([a, b])
    assert len(igw_ids(ec2, ("owner-id", ["000000000000"]))) == 3
    assert err(ec2.describe_internet_gateways, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) == (
        "InvalidParameterValue", "The filter 'vpc-id' is invalid")
    p1 = ec2.describe_internet_gateways(MaxResults=5)
    assert len(p1["InternetGateways"]) == 3 and "NextToken" not in p1


def test_internet_gateway_with_the_cli(aws, vpc_id):
    igw = aws("ec2", "create-internet-gateway", "--tag-specifications",
              "ResourceType=internet-gateway,Tags=[{Key=Name,Value=cli}]")[
        "InternetGateway"]["InternetGatewayId"]
    p = aws("ec2", "wait", "internet-gateway-exists", "--internet-gateway-ids", igw, raw=True)
    assert p.returncode == 0, p.stderr
    aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc_id)
    out = aws("ec2", "describe-internet-gateways", "--filters",
              "Name=attachment.vpc-id,Values=" + vpc_id)
    assert [g["InternetGatewayId"] for g in out["InternetGateways"]] == [igw]
    p = aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc_id,
            check=False)
    assert p.returncode != 0 and "Resource.AlreadyAssociated" in p.stderr
    aws("ec2", "detach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc_id)
    aws("ec2", "delete-internet-gateway", "--internet-gateway-id", igw)
    p = aws("ec2", "describe-internet-gateways", "--internet-gateway-ids", igw, check=False)
    assert p.returncode != 0 and "InvalidInternetGatewayID.NotFound" in p.stderr


# ---- DHCP options ----

def test_default_dhcp_options(ec2, vpc_id):
    dopt = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["DhcpOptionsId"]
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    assert default_vpc["DhcpOptionsId"] == dopt
    [d] = ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"]
    assert d["OwnerId"] == "000000000000"
    confs = {c["Key"]: [v["Value"] for v in c["Values"]] for c in d["DhcpConfigurations"]}
    assert confs == {"domain-name": ["ec2.internal"], "domain-name-servers": ["AmazonProvidedDNS"]}
    assert [x["DhcpOptionsId"] for x in ec2.describe_dhcp_options()["DhcpOptions"]] == [dopt]


def test_default_dhcp_options_elsewhere(server):
    ec2 = server.client("ec2", region="eu-west-1")
    [d] = ec2.describe_dhcp_options()["DhcpOptions"]
    confs = {c["Key"]: [v["Value"] for v in c["Values"]] for c in d["DhcpConfigurations"]}
    assert confs["domain-name"] == ["eu-west-1.compute.internal"]


def test_dhcp_options_lifecycle(ec2, aws, vpc_id):
    d = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]},
        {"Key": "domain-name-servers", "Values": ["10.0.0.2", "10.0.0.3"]}],
        TagSpecifications=[{"ResourceType": "dhcp-options",
                            "Tags": [{"Key": "Name", "Value": "corp"}]}])["DhcpOptions"]
    dopt = d["DhcpOptionsId"]
    assert dopt.startswith("dopt-") and d["Tags"] == [{"Key": "Name", "Value": "corp"}]
    assert d["DhcpConfigurations"] == [
        {"Key": "domain-name", "Values": [{"Value": "corp.example"}]},
        {"Key": "domain-name-servers", "Values": [{"Value": "10.0.0.2"}, {"Value": "10.0.0.3"}]}]
    by_key = ec2.describe_dhcp_options(Filters=[{"Name": "value", "Values": ["corp.*"]}])
    assert [x["DhcpOptionsId"] for x in by_key["DhcpOptions"]] == [dopt]
    by_key = ec2.describe_dhcp_options(Filters=[{"Name": "key", "Values": ["domain-name"]},
                                                {"Name": "tag:Name", "Values": ["corp"]}])
    assert [x["DhcpOptionsId"] for x in by_key["DhcpOptions"]] == [dopt]
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=vpc_id)
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["DhcpOptionsId"] == dopt
    found = ec2.describe_vpcs(Filters=[{"Name": "dhcp-options-id", "Values": [dopt]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc_id]
    assert err(ec2.delete_dhcp_options, DhcpOptionsId=dopt) == (
        "DependencyViolation", "The dhcpOptions '%s' has dependencies and cannot be deleted." % dopt)
    aws("ec2", "associate-dhcp-options", "--dhcp-options-id", "default", "--vpc-id", vpc_id)
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["DhcpOptionsId"] == "default"
    ec2.delete_dhcp_options(DhcpOptionsId=dopt)
    assert err(ec2.describe_dhcp_options, DhcpOptionsIds=[dopt]) == (
        "InvalidDhcpOptionID.NotFound", "The dhcpOption ID '%s' does not exist" % dopt)


def test_dhcp_options_errors(ec2, vpc_id):
    before = ec2.describe_dhcp_options()["DhcpOptions"]
    assert err(ec2.create_dhcp_options, DhcpConfigurations=[
        {"Key": "bogus", "Values": ["x"]}])[0] == "InvalidParameterValue"
    assert err(ec2.create_dhcp_options, DhcpConfigurations=[
        {"Key": "domain-name-servers", "Values": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4",
                                                  "5.5.5.5"]}])[0] == "InvalidParameterValue"
    assert ec2.describe_dhcp_options()["DhcpOptions"] == before
    assert err(ec2.associate_dhcp_options, DhcpOptionsId="dopt-0123456789abcdef0",
               VpcId=vpc_id)[0] == "InvalidDhcpOptionID.NotFound"
    assert err(ec2.associate_dhcp_options, DhcpOptionsId=before[0]["DhcpOptionsId"],
               VpcId="vpc-0123456789abcdef0")[0] == "InvalidVpcID.NotFound"
