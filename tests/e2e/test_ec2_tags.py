"""EC2 CreateTags, DeleteTags and DescribeTags over every taggable kind."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def err(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_code(e), e.value.response["Error"]["Message"]


def tags_of(ec2, resource_id):
    out = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in out}


@pytest.fixture
def net(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    return {"vpc": vpc, "subnet": subnet}


def own_kinds(ec2, net):
    """One resource of each kind this area and the VPC code make:
    (resource type, id, how its own Describe call shows its tags)."""
    vpc = net["vpc"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    dopt = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"]
    return [
        ("vpc", vpc, lambda: ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]),
        ("subnet", net["subnet"],
         lambda: ec2.describe_subnets(SubnetIds=[net["subnet"]])["Subnets"][0]["Tags"]),
        ("internet-gateway", igw, lambda: ec2.describe_internet_gateways(
            InternetGatewayIds=[igw])["InternetGateways"][0]["Tags"]),
        ("route-table", rtb,
         lambda: ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Tags"]),
        ("network-acl", acl,
         lambda: ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Tags"]),
        ("dhcp-options", dopt,
         lambda: ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"][0]["Tags"]),
    ]


def check_kinds(ec2, kinds):
    ids = [k[1] for k in kinds]
    ec2.create_tags(Resources=ids, Tags=[{"Key": "team", "Value": "net"},
                                         {"Key": "Name", "Value": "x"}])
    for rtype, rid, own in kinds:
        assert sorted((t["Key"], t["Value"]) for t in own()) == [("Name", "x"), ("team", "net")], rtype
        described = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [rid]}])["Tags"]
        assert sorted(described, key=lambda t: t["Key"]) == [
            {"Key": "Name", "ResourceId": rid, "ResourceType": rtype, "Value": "x"},
            {"Key": "team", "ResourceId": rid, "ResourceType": rtype, "Value": "net"}], rtype
        found = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": [rtype]},
                                           {"Name": "key", "Values": ["team"]}])["Tags"]
        assert [t["ResourceId"] for t in found] == [rid], rtype
    ec2.delete_tags(Resources=ids, Tags=[{"Key": "Name"}])
    for rtype, rid, own in kinds:
        assert own() == [{"Key": "team", "Value": "net"}], rtype


def test_tags_on_vpc_kinds(ec2, net):
    check_kinds(ec2, own_kinds(ec2, net))


def test_tags_on_security_groups_and_rules(ec2, net):
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=net["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    [rule] = [r for r in ec2.describe_security_group_rules(Filters=[
        {"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"] if not r["IsEgress"]]
    rid = rule["SecurityGroupRuleId"]
    check_kinds(ec2, [
        ("security-group", sg,
         lambda: ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["Tags"]),
        ("security-group-rule", rid, lambda: ec2.describe_security_group_rules(
            SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]["Tags"]),
    ])


def test_tags_on_network_interfaces_and_instances(ec2, net):
    eni = ec2.create_network_interface(SubnetId=net["subnet"])["NetworkInterface"][
        "NetworkInterfaceId"]
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=net["subnet"])["Instances"][0]["InstanceId"]
    check_kinds(ec2, [
        # A network interface names its list TagSet.
        ("network-interface", eni, lambda: ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["TagSet"]),
        ("instance", inst, lambda: ec2.describe_instances(
            InstanceIds=[inst])["Reservations"][0]["Instances"][0]["Tags"]),
    ])


def test_create_tags_overwrites_and_defaults_the_value(ec2, net):
    vpc = net["vpc"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b"}])
    assert tags_of(ec2, vpc) == {"a": "1", "b": ""}
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "a", "Value": "2"}, {"Key": "c", "Value": ""}])
    assert tags_of(ec2, vpc) == {"a": "2", "b": "", "c": ""}
    # The resource's own document keeps one entry per key.
    tags = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]
    assert sorted(t["Key"] for t in tags) == ["a", "b", "c"]


def test_delete_tags_by_key_and_value(ec2, net):
    vpc = net["vpc"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"},
                                           {"Key": "c", "Value": ""}, {"Key": "d", "Value": "4"}])
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "a", "Value": "not-1"}])
    assert "a" in tags_of(ec2, vpc)
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "a", "Value": "1"}])
    assert "a" not in tags_of(ec2, vpc)
    # An empty value only deletes a tag whose value is empty.
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "b", "Value": ""}, {"Key": "c", "Value": ""}])
    assert tags_of(ec2, vpc) == {"b": "2", "d": "4"}
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "b"}, {"Key": "missing"}])
    assert tags_of(ec2, vpc) == {"d": "4"}


def test_delete_tags_without_tags_removes_all(ec2, aws, net):
    vpc, subnet = net["vpc"], net["subnet"]
    ec2.create_tags(Resources=[vpc, subnet], Tags=[{"Key": "a", "Value": "1"},
                                                   {"Key": "b", "Value": "2"}])
    aws("ec2", "delete-tags", "--resources", vpc, subnet)
    assert tags_of(ec2, vpc) == {} and tags_of(ec2, subnet) == {}
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"] == []


def test_tags_with_the_cli(aws, ec2, net):
    vpc = net["vpc"]
    aws("ec2", "create-tags", "--resources", vpc, "--tags", "Key=Name,Value=cli", "Key=env,Value=dev")
    out = aws("ec2", "describe-tags", "--filters", "Name=resource-id,Values=" + vpc)
    assert sorted((t["Key"], t["Value"], t["ResourceType"]) for t in out["Tags"]) == [
        ("Name", "cli", "vpc"), ("env", "dev", "vpc")]
    aws("ec2", "delete-tags", "--resources", vpc, "--tags", "Key=env")
    assert tags_of(ec2, vpc) == {"Name": "cli"}


@pytest.mark.parametrize("bad", ["vpc-xyz", "foo-0123456789abcdef0", "rtbassoc-0123456789abcdef0",
                                 "vpc-0123456789ABCDEF0", "nothing", ""])
def test_malformed_ids_are_invalid(ec2, bad):
    assert err(ec2.create_tags, Resources=[bad], Tags=[{"Key": "a", "Value": "b"}]) == (
        "InvalidID", "The ID '%s' is not valid" % bad)
    assert err(ec2.delete_tags, Resources=[bad])[0] == "InvalidID"


@pytest.mark.parametrize("rid,code", [
    ("vpc-0123456789abcdef0", "InvalidVpcID.NotFound"),
    ("subnet-0123456789abcdef0", "InvalidSubnetID.NotFound"),
    ("sg-0123456789abcdef0", "InvalidGroup.NotFound"),
    ("sgr-0123456789abcdef0", "InvalidSecurityGroupRuleId.NotFound"),
    ("eni-0123456789abcdef0", "InvalidNetworkInterfaceID.NotFound"),
    ("igw-0123456789abcdef0", "InvalidInternetGatewayID.NotFound"),
    ("rtb-0123456789abcdef0", "InvalidRouteTableID.NotFound"),
    ("acl-0123456789abcdef0", "InvalidNetworkAclID.NotFound"),
    ("dopt-0123456789abcdef0", "InvalidDhcpOptionID.NotFound"),
    ("i-0123456789abcdef0", "InvalidInstanceID.NotFound"),
    ("vpce-0123456789abcdef0", "InvalidVpcEndpointId.NotFound"),
    ("vpc-12345678", "InvalidVpcID.NotFound"),
])
def test_unknown_ids_are_not_found(ec2, rid, code):
    c, msg = err(ec2.create_tags, Resources=[rid], Tags=[{"Key": "a", "Value": "b"}])
    assert c == code and rid in msg
    assert err(ec2.delete_tags, Resources=[rid])[0] == code


def test_tagging_is_all_or_nothing(ec2, net):
    vpc = net["vpc"]
    assert err(ec2.create_tags, Resources=[vpc, "subnet-0123456789abcdef0"],
               Tags=[{"Key": "a", "Value": "b"}])[0] == "InvalidSubnetID.NotFound"
    assert err(ec2.create_tags, Resources=[vpc, "bad"], Tags=[{"Key": "a", "Value": "b"}])[0] == \
        "InvalidID"
    assert tags_of(ec2, vpc) == {}
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "keep", "Value": "1"}])
    assert err(ec2.delete_tags, Resources=[vpc, "igw-0123456789abcdef0"])[0] == \
        "InvalidInternetGatewayID.NotFound"
    assert tags_of(ec2, vpc) == {"keep": "1"}


def test_tag_validation(ec2, net):
    vpc = net["vpc"]
    assert err(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "aws:owned", "Value": "x"}]) == (
        "InvalidParameterValue",
        "Value ( aws:owned ) for parameter key is invalid. Tag keys starting with 'aws:' are "
        "reserved for internal use")
    assert err(ec2.delete_tags, Resources=[vpc], Tags=[{"Key": "aws:owned"}])[0] == \
        "InvalidParameterValue"
    assert err(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "k" * 129, "Value": "x"}])[0] == \
        "InvalidParameterValue"
    assert err(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "k", "Value": "v" * 257}])[0] == \
        "InvalidParameterValue"
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
    assert err(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "one-more", "Value": "v"}]) == (
        "TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
    # Overwriting an existing key is not a new tag.
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k0", "Value": "changed"}])
    assert len(tags_of(ec2, vpc)) == 50


def test_describe_tags_filters(ec2, net):
    vpc, subnet = net["vpc"], net["subnet"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "main-vpc"},
                                           {"Key": "owner", "Value": "alice"}])
    ec2.create_tags(Resources=[subnet], Tags=[{"Key": "Name", "Value": "main-subnet"},
                                              {"Key": "tier", "Value": "web"}])

    def pairs(*filters):
        f = [{"Name": n, "Values": v} for n, v in filters]
        return sorted((t["ResourceId"], t["Key"]) for t in ec2.describe_tags(Filters=f)["Tags"])

    assert pairs() == sorted([(vpc, "Name"), (vpc, "owner"), (subnet, "Name"), (subnet, "tier")])
    assert pairs(("key", ["Name"])) == sorted([(vpc, "Name"), (subnet, "Name")])
    assert pairs(("key", ["own*", "ti?r"])) == sorted([(vpc, "owner"), (subnet, "tier")])
    assert pairs(("value", ["main-*"])) == sorted([(vpc, "Name"), (subnet, "Name")])
    assert pairs(("resource-type", ["subnet"])) == sorted([(subnet, "Name"), (subnet, "tier")])
    assert pairs(("resource-id", [vpc])) == sorted([(vpc, "Name"), (vpc, "owner")])
    assert pairs(("resource-id", ["vpc-*"])) == sorted([(vpc, "Name"), (vpc, "owner")])
    assert pairs(("resource-id", [vpc, subnet]), ("key", ["Name"])) == sorted(
        [(vpc, "Name"), (subnet, "Name")])
    # tag:<key> selects resources; all their tags come back.
    assert pairs(("tag:owner", ["alice"])) == sorted([(vpc, "Name"), (vpc, "owner")])
    assert pairs(("tag:owner", ["bob"])) == []
    # What Ansible's ensure_ec2_tags sends.
    assert pairs(("resource-id", [subnet]), ("resource-type", ["subnet"])) == sorted(
        [(subnet, "Name"), (subnet, "tier")])
    assert pairs(("resource-id", ["vpc-0123456789abcdef0"])) == []
    for bad in ("tag-key", "bogus"):
        assert err(ec2.describe_tags, Filters=[{"Name": bad, "Values": ["x"]}]) == (
            "InvalidParameterValue", "The filter '%s' is invalid" % bad)


def test_describe_tags_pagination(ec2, server, net):
    vpc, subnet = net["vpc"], net["subnet"]
    ec2.create_tags(Resources=[vpc, subnet], Tags=[{"Key": "k%d" % i, "Value": str(i)}
                                                   for i in range(6)])
    everything = {(t["ResourceId"], t["Key"]) for t in ec2.describe_tags()["Tags"]}
    assert len(everything) == 12
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        out = ec2.describe_tags(**kw)
        seen += [(t["ResourceId"], t["Key"]) for t in out["Tags"]]
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
    assert pages == 3 and len(seen) == 12 and set(seen) == everything
    # The CLI follows the tokens itself.
    out = server.aws("ec2", "describe-tags", "--page-size", "5")
    assert {(t["ResourceId"], t["Key"]) for t in out["Tags"]} == everything
    assert err(ec2.describe_tags, NextToken="garbage") == (
        "InvalidParameterValue",
        "Value ( garbage ) for parameter NextToken is invalid. The token is invalid.")
    for bad in (4, 1001):
        code, msg = err(ec2.describe_tags, MaxResults=bad)
        assert code == "InvalidParameterValue" and "( %d )" % bad in msg
