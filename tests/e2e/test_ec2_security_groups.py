"""EC2 security groups and their rules, through boto3 and the AWS CLI v2.

Groups: CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups.
Rules: Authorize/RevokeSecurityGroupIngress/Egress,
DescribeSecurityGroupRules, ModifySecurityGroupRules,
UpdateSecurityGroupRuleDescriptionsIngress/Egress.  Also the patterns
Terraform and Ansible follow, and that a failed call changes nothing.
"""
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

ACCOUNT = "000000000000"


# ---- helpers ----

def new_vpc(ec2, cidr="10.0.0.0/16"):
    return ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def new_group(ec2, vpc_id, name="web", description="web servers", **kw):
    return ec2.create_security_group(GroupName=name, Description=description,
                                     VpcId=vpc_id, **kw)["GroupId"]


def default_vpc(ec2):
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert len(vpcs) == 1
    return vpcs[0]["VpcId"]


def group(ec2, group_id):
    groups = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert len(groups) == 1
    return groups[0]


def rules_of(ec2, group_id):
    return ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]


def rule_keys(rules):
    """What makes a rule a rule: direction, protocol, ports, peer."""
    keys = set()
    for r in rules:
        peer = (r.get("CidrIpv4") or r.get("CidrIpv6") or r.get("PrefixListId")
                or r.get("ReferencedGroupInfo", {}).get("GroupId"))
        keys.add((r["IsEgress"], r["IpProtocol"], r["FromPort"], r["ToPort"], peer))
    return keys


def tcp(port, cidr, **kw):
    rng = {"CidrIp": cidr}
    rng.update(kw)
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [rng]}


def client_error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def raw_ec2(server, action, **params):
    """An EC2 query call without a client (Debian's botocore 1.29 predates
    SecurityGroupArn, SecurityGroupRuleArn and RevokedSecurityGroupRules, so
    boto3 and the CLI drop them): the parsed XML answer."""
    body = urllib.parse.urlencode(dict(Action=action, Version="2016-11-15", **params)).encode()
    req = urllib.request.Request(server.endpoint + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return ET.fromstring(r.read())
    except urllib.error.HTTPError as e:
        return ET.fromstring(e.read())


def xml_texts(root, tag):
    return [e.text for e in root.iter() if e.tag.split("}")[-1] == tag]


def revoked_rules(root):
    """revokedSecurityGroupRuleSet as a list of {member: text}."""
    out = []
    for e in root.iter():
        if e.tag.split("}")[-1] == "revokedSecurityGroupRuleSet":
            for item in e:
                out.append({c.tag.split("}")[-1]: c.text for c in item})
    return out


def cli_fails(server, *args):
    """Run the CLI expecting an AWS error; return its stderr."""
    p = server.aws(*args, check=False)
    assert p.returncode != 0, p.stdout
    return p.stderr


# ---- CreateSecurityGroup ----

def test_create_returns_id_arn_and_tags(server, ec2):
    vpc = new_vpc(ec2)
    r = ec2.create_security_group(
        GroupName="web", Description="web servers", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": "Name", "Value": "web"}]}])
    gid = r["GroupId"]
    assert gid.startswith("sg-") and len(gid) == 20
    assert r["Tags"] == [{"Key": "Name", "Value": "web"}]
    arn = "arn:aws:ec2:us-east-1:%s:security-group/%s" % (ACCOUNT, gid)
    created = raw_ec2(server, "CreateSecurityGroup", GroupName="web2", GroupDescription="d",
                      VpcId=vpc)
    assert xml_texts(created, "securityGroupArn") == [
        "arn:aws:ec2:us-east-1:%s:security-group/%s" % (ACCOUNT, xml_texts(created, "groupId")[0])]
    described = raw_ec2(server, "DescribeSecurityGroups", **{"GroupId.1": gid})
    assert xml_texts(described, "securityGroupArn") == [arn]
    g = group(ec2, gid)
    assert g["GroupName"] == "web"
    assert g["Description"] == "web servers"
    assert g["VpcId"] == vpc
    assert g["OwnerId"] == ACCOUNT
    assert g["Tags"] == [{"Key": "Name", "Value": "web"}]
    # A new group admits nothing and allows all egress.
    assert g["IpPermissions"] == []
    assert g["IpPermissionsEgress"] == [{
        "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
        "PrefixListIds": [], "UserIdGroupPairs": []}]


def test_create_with_cli(server, ec2, aws):
    vpc = new_vpc(ec2, "10.2.0.0/16")
    out = aws("ec2", "create-security-group", "--group-name", "api",
              "--description", "api servers", "--vpc-id", vpc,
              "--tag-specifications", "ResourceType=security-group,Tags=[{Key=team,Value=a}]")
    gid = out["GroupId"]
    assert out["Tags"] == [{"Key": "team", "Value": "a"}]
    groups = aws("ec2", "describe-security-groups", "--group-ids", gid)["SecurityGroups"]
    assert [(g["GroupId"], g["GroupName"], g["VpcId"]) for g in groups] == [(gid, "api", vpc)]
    assert groups[0]["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    err = cli_fails(server, "ec2", "create-security-group", "--group-name", "api",
                    "--description", "again", "--vpc-id", vpc)
    assert "InvalidGroup.Duplicate" in err
    assert "The security group 'api' already exists for VPC '%s'" % vpc in err


def test_create_without_vpc_goes_to_the_default_vpc(ec2):
    gid = ec2.create_security_group(GroupName="plain", Description="d")["GroupId"]
    assert group(ec2, gid)["VpcId"] == default_vpc(ec2)


def test_name_unique_per_vpc_not_across_vpcs(ec2):
    vpc1, vpc2 = new_vpc(ec2, "10.0.0.0/16"), new_vpc(ec2, "10.1.0.0/16")
    g1 = new_group(ec2, vpc1, "app")
    with pytest.raises(ClientError) as e:
        new_group(ec2, vpc1, "app", "another")
    assert client_error(e) == ("InvalidGroup.Duplicate",
                               "The security group 'app' already exists for VPC '%s'" % vpc1)
    g2 = new_group(ec2, vpc2, "app")
    assert g1 != g2
    found = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["app"]}])["SecurityGroups"]
    assert sorted(g["VpcId"] for g in found) == sorted([vpc1, vpc2])


def test_create_rejects_reserved_and_bad_names(ec2):
    vpc = new_vpc(ec2)
    with pytest.raises(ClientError) as e:
        new_group(ec2, vpc, "sg-web")
    assert client_error(e) == (
        "InvalidParameterValue",
        "Value (sg-web) for parameter GroupName is invalid. Group names may not be in the format sg-*.")
    with pytest.raises(ClientError) as e:
        new_group(ec2, vpc, "default")
    assert error_code(e) == "InvalidGroup.Reserved"
    with pytest.raises(ClientError) as e:
        new_group(ec2, vpc, "ok", "")
    assert error_code(e) == "MissingParameter"
    with pytest.raises(ClientError) as e:
        new_group(ec2, vpc, "x" * 256)
    assert error_code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        new_group(ec2, vpc, "ok", "caf\u00e9")
    assert error_code(e) == "InvalidParameterValue"
    assert "Character sets beyond ASCII are not supported" in client_error(e)[1]
    # Nothing was created by any of them.
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert [g["GroupName"] for g in groups["SecurityGroups"]] == ["default"]


def test_create_in_unknown_or_malformed_vpc(ec2):
    with pytest.raises(ClientError) as e:
        new_group(ec2, "vpc-0123456789abcdef0")
    assert client_error(e) == ("InvalidVpcID.NotFound",
                               "The vpc ID 'vpc-0123456789abcdef0' does not exist")
    with pytest.raises(ClientError) as e:
        new_group(ec2, "vpc-nothex")
    assert error_code(e) == "InvalidVpcId.Malformed"


def test_create_with_tags_for_another_resource_type_fails(ec2):
    vpc = new_vpc(ec2)
    with pytest.raises(ClientError) as e:
        new_group(ec2, vpc, TagSpecifications=[{"ResourceType": "subnet",
                                                "Tags": [{"Key": "a", "Value": "b"}]}])
    assert error_code(e) == "InvalidParameterValue"
    assert ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["web"]}])["SecurityGroups"] == []


# ---- default groups ----

def test_every_vpc_has_a_default_group_with_aws_default_rules(server, ec2):
    vpc = new_vpc(ec2)
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]},
                 {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    assert len(groups) == 1
    g = groups[0]
    gid = g["GroupId"]
    assert g["Description"] == "default VPC security group"
    assert g["IpPermissions"] == [{
        "IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
        "UserIdGroupPairs": [{"GroupId": gid, "UserId": ACCOUNT}]}]
    assert g["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    rules = rules_of(ec2, gid)
    assert len(rules) == 2
    ingress = [r for r in rules if not r["IsEgress"]][0]
    egress = [r for r in rules if r["IsEgress"]][0]
    assert ingress["ReferencedGroupInfo"] == {"GroupId": gid, "UserId": ACCOUNT}
    assert (ingress["IpProtocol"], ingress["FromPort"], ingress["ToPort"]) == ("-1", -1, -1)
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("-1", -1, -1)
    assert egress["CidrIpv4"] == "0.0.0.0/0"
    for r in rules:
        assert r["SecurityGroupRuleId"].startswith("sgr-")
        assert r["GroupId"] == gid and r["GroupOwnerId"] == ACCOUNT
    raw = raw_ec2(server, "DescribeSecurityGroupRules", **{"Filter.1.Name": "group-id",
                                                           "Filter.1.Value.1": gid})
    assert sorted(xml_texts(raw, "securityGroupRuleArn")) == sorted(
        "arn:aws:ec2:us-east-1:%s:security-group-rule/%s" % (ACCOUNT, r["SecurityGroupRuleId"])
        for r in rules)


def test_default_group_cannot_be_deleted(server, ec2):
    gid = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=gid)
    assert client_error(e) == (
        "CannotDelete",
        'the specified group: "%s" name: "default" cannot be deleted by a user' % gid)
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupName="default")
    assert error_code(e) == "CannotDelete"
    err = cli_fails(server, "ec2", "delete-security-group", "--group-id", gid)
    assert "CannotDelete" in err
    assert group(ec2, gid)["GroupName"] == "default"


def test_describe_without_arguments_lists_default_vpc_group(ec2):
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert [(g["GroupName"], g["VpcId"]) for g in groups] == [("default", default_vpc(ec2))]


# ---- DeleteSecurityGroup ----

def test_delete_by_id_removes_group_and_rules(server, ec2):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8")])
    r = raw_ec2(server, "DeleteSecurityGroup", GroupId=gid)
    assert (xml_texts(r, "return"), xml_texts(r, "groupId")) == (["true"], [gid])
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupIds=[gid])
    assert client_error(e) == ("InvalidGroup.NotFound",
                               "The security group '%s' does not exist" % gid)
    assert rules_of(ec2, gid) == []
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=gid)
    assert error_code(e) == "InvalidGroup.NotFound"


def test_delete_by_name_in_default_vpc(ec2):
    gid = ec2.create_security_group(GroupName="byname", Description="d")["GroupId"]
    ec2.delete_security_group(GroupName="byname")
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupIds=[gid])
    assert error_code(e) == "InvalidGroup.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupName="byname")
    assert client_error(e) == (
        "InvalidGroup.NotFound",
        "The security group 'byname' does not exist in default VPC '%s'" % default_vpc(ec2))
    # A group of another VPC is not found by name.
    vpc = new_vpc(ec2)
    new_group(ec2, vpc, "elsewhere")
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupName="elsewhere")
    assert error_code(e) == "InvalidGroup.NotFound"


def test_delete_with_cli(server, ec2, aws):
    gid = new_group(ec2, new_vpc(ec2))
    aws("ec2", "delete-security-group", "--group-id", gid)
    err = cli_fails(server, "ec2", "describe-security-groups", "--group-ids", gid)
    assert "InvalidGroup.NotFound" in err
    assert "The security group '%s' does not exist" % gid in err


def test_delete_blocked_while_another_group_refers_to_it(server, ec2):
    vpc = new_vpc(ec2)
    db = new_group(ec2, vpc, "db")
    app = new_group(ec2, vpc, "app")
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": app}]}])
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=app)
    assert client_error(e) == ("DependencyViolation", "resource %s has a dependent object" % app)
    err = cli_fails(server, "ec2", "delete-security-group", "--group-id", app)
    assert "DependencyViolation" in err
    assert group(ec2, app)["GroupName"] == "app"
    # A group that refers to itself can still be deleted; the referrer, once
    # its rule is gone, no longer holds the other back.
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[{
        "IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": db}]}])
    ec2.revoke_security_group_ingress(GroupId=db, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": app}]}])
    ec2.delete_security_group(GroupId=app)
    ec2.delete_security_group(GroupId=db)


def test_delete_blocked_while_a_network_interface_uses_it(ec2):
    vpc = new_vpc(ec2)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    gid = new_group(ec2, vpc)
    try:
        eni = ec2.create_network_interface(SubnetId=subnet, Groups=[gid])["NetworkInterface"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("CreateNetworkInterface is not emulated yet")
        raise
    assert [g["GroupId"] for g in eni["Groups"]] == [gid]
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=gid)
    assert client_error(e) == ("DependencyViolation", "resource %s has a dependent object" % gid)
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_security_group(GroupId=gid)


def test_unknown_and_malformed_group_ids(server, ec2):
    unknown = "sg-0123456789abcdef0"
    for call in (lambda: ec2.describe_security_groups(GroupIds=[unknown]),
                 lambda: ec2.delete_security_group(GroupId=unknown),
                 lambda: ec2.authorize_security_group_ingress(
                     GroupId=unknown, IpPermissions=[tcp(22, "10.0.0.0/8")]),
                 lambda: ec2.authorize_security_group_egress(
                     GroupId=unknown, IpPermissions=[tcp(22, "10.0.0.0/8")]),
                 lambda: ec2.revoke_security_group_ingress(
                     GroupId=unknown, IpPermissions=[tcp(22, "10.0.0.0/8")])):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error(e) == ("InvalidGroup.NotFound",
                                   "The security group '%s' does not exist" % unknown)
    for bad in ("sg-xyz", "vpc-0123456789abcdef0", "sg-0123"):
        with pytest.raises(ClientError) as e:
            ec2.describe_security_groups(GroupIds=[bad])
        assert client_error(e) == ("InvalidGroupId.Malformed",
                                   'Invalid id: "%s" (expecting "sg-...")' % bad)
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId="")
    assert client_error(e) == ("InvalidParameterValue",
                               "Value () for parameter groupId is invalid. The value cannot be empty")
    err = cli_fails(server, "ec2", "describe-security-groups", "--group-ids", "sg-nope")
    assert "InvalidGroupId.Malformed" in err


# ---- DescribeSecurityGroups ----

def test_describe_by_group_names_means_default_vpc(ec2):
    dvpc = default_vpc(ec2)
    gid = ec2.create_security_group(GroupName="named", Description="d")["GroupId"]
    found = ec2.describe_security_groups(GroupNames=["named", "default"])["SecurityGroups"]
    assert sorted(g["GroupName"] for g in found) == ["default", "named"]
    assert all(g["VpcId"] == dvpc for g in found)
    assert gid in [g["GroupId"] for g in found]
    vpc = new_vpc(ec2)
    new_group(ec2, vpc, "private")
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupNames=["private"])
    assert client_error(e) == (
        "InvalidGroup.NotFound",
        "The security group 'private' does not exist in default VPC '%s'" % dvpc)


def test_describe_filters(ec2):
    vpc = new_vpc(ec2)
    web = new_group(ec2, vpc, "web", "web tier", TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "tier", "Value": "front"}]}])
    db = new_group(ec2, vpc, "db", "database tier", TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "tier", "Value": "back"},
                                                    {"Key": "pii", "Value": "yes"}]}])
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        tcp(443, "0.0.0.0/0"),
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5433,
         "UserIdGroupPairs": [{"GroupId": web}]},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
         "PrefixListIds": [{"PrefixListId": "pl-63a5400a"}]}])
    ec2.authorize_security_group_egress(GroupId=web, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5433,
        "UserIdGroupPairs": [{"GroupId": db}]}])
    ec2.authorize_security_group_egress(GroupId=db, IpPermissions=[{
        "IpProtocol": "icmp", "FromPort": 8, "ToPort": 0, "IpRanges": [{"CidrIp": "10.9.0.0/16"}],
        "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}], "PrefixListIds": [{"PrefixListId": "pl-11111111"}]}])

    def names(*filters):
        fl = [{"Name": "vpc-id", "Values": [vpc]}] + [
            {"Name": n, "Values": v if isinstance(v, list) else [v]} for n, v in filters]
        return sorted(g["GroupName"] for g in ec2.describe_security_groups(Filters=fl)["SecurityGroups"])

    assert names() == ["db", "default", "web"]
    assert names(("description", "*tier")) == ["db", "web"]
    assert names(("group-id", [web, db])) == ["db", "web"]
    assert names(("group-name", "d*")) == ["db", "default"]
    assert names(("owner-id", ACCOUNT)) == ["db", "default", "web"]
    assert names(("owner-id", "111111111111")) == []
    assert names(("tag:tier", "front")) == ["web"]
    assert names(("tag-key", "pii")) == ["db"]
    assert names(("ip-permission.cidr", "0.0.0.0/0")) == ["web"]
    assert names(("ip-permission.ipv6-cidr", "::/0")) == ["web"]
    assert names(("ip-permission.from-port", "5432")) == ["db"]
    assert names(("ip-permission.to-port", "5433")) == ["db"]
    assert names(("ip-permission.protocol", "udp")) == ["db"]
    assert names(("ip-permission.protocol", "-1")) == ["default"]
    assert names(("ip-permission.group-id", web)) == ["db"]
    assert names(("ip-permission.group-name", "web")) == ["db"]
    assert names(("ip-permission.user-id", ACCOUNT)) == ["db", "default"]
    assert names(("ip-permission.prefix-list-id", "pl-63a5400a")) == ["db"]
    assert names(("egress.ip-permission.cidr", "10.9.0.0/16")) == ["db"]
    assert names(("egress.ip-permission.cidr", "0.0.0.0/0")) == ["db", "default", "web"]
    assert names(("egress.ip-permission.ipv6-cidr", "2001:db8::/32")) == ["db"]
    assert names(("egress.ip-permission.from-port", "8")) == ["db"]
    assert names(("egress.ip-permission.to-port", "5433")) == ["web"]
    assert names(("egress.ip-permission.protocol", "icmp")) == ["db"]
    assert names(("egress.ip-permission.group-id", db)) == ["web"]
    assert names(("egress.ip-permission.group-name", "db")) == ["web"]
    assert names(("egress.ip-permission.user-id", ACCOUNT)) == ["web"]
    assert names(("egress.ip-permission.prefix-list-id", "pl-11111111")) == ["db"]
    # Filters AND together, values OR.
    assert names(("ip-permission.protocol", ["udp", "tcp"]), ("tag:tier", "back")) == ["db"]
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert client_error(e) == ("InvalidParameterValue", "The filter 'colour' is invalid")


def test_describe_pagination(server, ec2, aws):
    vpc = new_vpc(ec2)
    made = {new_group(ec2, vpc, "g%d" % i) for i in range(7)}
    flt = [{"Name": "vpc-id", "Values": [vpc]}]
    page = ec2.describe_security_groups(Filters=flt, MaxResults=5)
    assert len(page["SecurityGroups"]) == 5 and page["NextToken"]
    rest = ec2.describe_security_groups(Filters=flt, MaxResults=5, NextToken=page["NextToken"])
    assert "NextToken" not in rest
    seen = [g["GroupId"] for g in page["SecurityGroups"] + rest["SecurityGroups"]]
    assert len(seen) == len(set(seen)) == 8
    assert made <= set(seen)
    # The CLI follows NextToken by itself.
    out = aws("ec2", "describe-security-groups", "--filters", "Name=vpc-id,Values=%s" % vpc,
              "--page-size", "5")
    assert sorted(g["GroupId"] for g in out["SecurityGroups"]) == sorted(seen)
    # Clients refuse MaxResults below 5 themselves; the server does too.
    r = raw_ec2(server, "DescribeSecurityGroups", MaxResults="4")
    assert xml_texts(r, "Code") == ["InvalidParameterValue"]
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupIds=list(made)[:1], MaxResults=5)
    assert error_code(e) == "InvalidParameterCombination"


# ---- AuthorizeSecurityGroupIngress / Egress ----

def test_authorize_ingress_creates_rules_and_composes_permissions(ec2):
    vpc = new_vpc(ec2)
    lb = new_group(ec2, vpc, "lb")
    app = new_group(ec2, vpc, "app")
    r = ec2.authorize_security_group_ingress(
        GroupId=app,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
             "IpRanges": [{"CidrIp": "10.0.1.0/24", "Description": "subnet a"},
                          {"CidrIp": "10.0.2.0/24"}],
             "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/64", "Description": "v6"}],
             "PrefixListIds": [{"PrefixListId": "pl-63a5400a", "Description": "s3"}],
             "UserIdGroupPairs": [{"GroupId": lb, "Description": "from the lb"}]},
            {"IpProtocol": "udp", "FromPort": 1000, "ToPort": 2000,
             "IpRanges": [{"CidrIp": "192.168.0.0/16"}]},
        ],
        TagSpecifications=[{"ResourceType": "security-group-rule",
                            "Tags": [{"Key": "owner", "Value": "team-a"}]}])
    assert r["Return"] is True
    created = r["SecurityGroupRules"]
    assert len(created) == 6
    for rule in created:
        assert rule["GroupId"] == app and rule["IsEgress"] is False
        assert rule["GroupOwnerId"] == ACCOUNT
        assert rule["Tags"] == [{"Key": "owner", "Value": "team-a"}]
        assert rule["SecurityGroupRuleId"].startswith("sgr-")
    by_peer = {(c.get("CidrIpv4") or c.get("CidrIpv6") or c.get("PrefixListId")
                or c["ReferencedGroupInfo"]["GroupId"]): c for c in created}
    assert by_peer["10.0.1.0/24"]["Description"] == "subnet a"
    assert "Description" not in by_peer["10.0.2.0/24"]
    assert by_peer[lb]["ReferencedGroupInfo"] == {"GroupId": lb, "UserId": ACCOUNT}
    assert by_peer["pl-63a5400a"]["Description"] == "s3"
    assert (by_peer["192.168.0.0/16"]["IpProtocol"], by_peer["192.168.0.0/16"]["FromPort"],
            by_peer["192.168.0.0/16"]["ToPort"]) == ("udp", 1000, 2000)
    # DescribeSecurityGroupRules shows the same rules.
    described = {x["SecurityGroupRuleId"]: x for x in rules_of(ec2, app) if not x["IsEgress"]}
    assert described == {x["SecurityGroupRuleId"]: x for x in created}
    # DescribeSecurityGroups groups them by protocol and ports.
    perms = sorted(group(ec2, app)["IpPermissions"], key=lambda p: p["IpProtocol"])
    perms[0]["IpRanges"].sort(key=lambda r: r["CidrIp"])
    assert perms == [
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
         "IpRanges": [{"CidrIp": "10.0.1.0/24", "Description": "subnet a"},
                      {"CidrIp": "10.0.2.0/24"}],
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/64", "Description": "v6"}],
         "PrefixListIds": [{"PrefixListId": "pl-63a5400a", "Description": "s3"}],
         "UserIdGroupPairs": [{"GroupId": lb, "UserId": ACCOUNT, "Description": "from the lb"}]},
        {"IpProtocol": "udp", "FromPort": 1000, "ToPort": 2000,
         "IpRanges": [{"CidrIp": "192.168.0.0/16"}], "Ipv6Ranges": [], "PrefixListIds": [],
         "UserIdGroupPairs": []},
    ]


def test_authorize_egress(ec2):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    r = ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[tcp(443, "0.0.0.0/0")])
    assert r["Return"] is True
    [rule] = r["SecurityGroupRules"]
    assert rule["IsEgress"] is True and rule["CidrIpv4"] == "0.0.0.0/0"
    egress = group(ec2, gid)["IpPermissionsEgress"]
    assert sorted(p["IpProtocol"] for p in egress) == ["-1", "tcp"]
    assert group(ec2, gid)["IpPermissions"] == []
    # The legacy top-level form is not supported for egress.
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_egress(GroupId=gid, IpProtocol="tcp", FromPort=1,
                                            ToPort=2, CidrIp="10.0.0.0/8")
    assert error_code(e) == "InvalidParameterCombination"


def test_protocols_are_normalised_as_aws_does(ec2):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    cases = [("6", 22, 22, "tcp", 22, 22), ("17", 53, 53, "udp", 53, 53),
             ("1", 8, -1, "icmp", 8, -1), ("TCP", 80, 81, "tcp", 80, 81),
             ("-1", 0, 0, "-1", -1, -1), ("50", 10, 20, "50", -1, -1),
             ("58", 128, 0, "icmpv6", 128, 0)]
    for i, (proto, f, t, want, wf, wt) in enumerate(cases):
        [rule] = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
            "IpProtocol": proto, "FromPort": f, "ToPort": t,
            "IpRanges": [{"CidrIp": "10.%d.0.0/16" % i}]}])["SecurityGroupRules"]
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == (want, wf, wt)
    perms = {p["IpProtocol"]: p for p in group(ec2, gid)["IpPermissions"]}
    # Protocols without ports carry none in IpPermissions.
    assert "FromPort" not in perms["-1"] and "ToPort" not in perms["-1"]
    assert "FromPort" not in perms["50"]
    assert (perms["icmp"]["FromPort"], perms["icmp"]["ToPort"]) == (8, -1)
    # "6" names the same rule as "tcp".
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/16")])
    assert error_code(e) == "InvalidPermission.Duplicate"


def test_bad_protocols_ports_and_cidrs(ec2):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    before = rules_of(ec2, gid)

    def fails(perm):
        with pytest.raises(ClientError) as e:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
        return client_error(e)

    rng = [{"CidrIp": "10.0.0.0/8"}]
    assert fails({"IpProtocol": "all", "IpRanges": rng}) == (
        "InvalidParameterValue", "Invalid value 'all' for IP protocol. Unknown protocol.")
    assert fails({"IpProtocol": "bogus", "IpRanges": rng}) == (
        "InvalidParameterValue", "Invalid value 'bogus' for IP protocol. Unknown protocol.")
    assert fails({"IpProtocol": "256", "IpRanges": rng})[0] == "InvalidParameterValue"
    assert fails({"IpRanges": rng}) == (
        "InvalidParameterValue",
        "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.")
    assert fails({"IpProtocol": "tcp", "FromPort": 22, "IpRanges": rng}) == (
        "InvalidParameterValue",
        "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
    assert fails({"IpProtocol": "tcp", "FromPort": -1, "ToPort": -1, "IpRanges": rng}) == (
        "InvalidParameterValue", "TCP/UDP (from) port (-1) out of range")
    assert fails({"IpProtocol": "udp", "FromPort": 1, "ToPort": 65536, "IpRanges": rng}) == (
        "InvalidParameterValue", "TCP/UDP (to) port (65536) out of range")
    assert fails({"IpProtocol": "tcp", "FromPort": 100, "ToPort": 10, "IpRanges": rng})[0] == \
        "InvalidParameterValue"
    assert fails({"IpProtocol": "icmp", "IpRanges": rng}) == (
        "InvalidParameterValue",
        "Invalid value 'Must specify both from and to ports with ICMP.' for portRange.")
    assert fails({"IpProtocol": "icmp", "FromPort": 256, "ToPort": 0, "IpRanges": rng})[0] == \
        "InvalidParameterValue"
    assert fails({"IpProtocol": "icmp", "FromPort": -1, "ToPort": 3, "IpRanges": rng})[0] == \
        "InvalidParameterValue"
    for bad in ("10.0.0.0/33", "bogus", "10.0.0.0", "300.1.1.1/8"):
        assert fails({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2,
                      "IpRanges": [{"CidrIp": bad}]}) == (
            "InvalidParameterValue", "CIDR block %s is malformed" % bad)
    assert fails({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2,
                  "Ipv6Ranges": [{"CidrIpv6": "10.0.0.0/8"}]}) == (
        "InvalidParameterValue", "CIDR block 10.0.0.0/8 is malformed")
    assert fails({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2,
                  "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "no <tags>"}]})[0] == \
        "InvalidParameterValue"
    assert rules_of(ec2, gid) == before


def test_cidrs_are_canonicalised(ec2):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    rules = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 1, "ToPort": 1,
        "IpRanges": [{"CidrIp": "100.68.0.18/18"}],
        "Ipv6Ranges": [{"CidrIpv6": "2001:DB8:0:0:1::1/64"}]}])["SecurityGroupRules"]
    assert sorted(r.get("CidrIpv4") or r.get("CidrIpv6") for r in rules) == \
        ["100.68.0.0/18", "2001:db8::/64"]
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(1, "100.68.1.1/18")])
    assert client_error(e) == (
        "InvalidPermission.Duplicate",
        'the specified rule "peer: 100.68.0.0/18, TCP, from port: 1, to port: 1, ALLOW" already exists')


def test_duplicate_rules(server, ec2):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    other = new_group(ec2, vpc, "other")
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(22, "10.0.0.0/8"),
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "192.168.0.0/16"}]},
        {"IpProtocol": "50", "IpRanges": [{"CidrIp": "172.16.0.0/12"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": other}]}])
    before = rules_of(ec2, gid)
    expected = [
        (tcp(22, "10.0.0.0/8", Description="same rule, new words"),
         'the specified rule "peer: 10.0.0.0/8, TCP, from port: 22, to port: 22, ALLOW" already exists'),
        ({"IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]},
         'the specified rule "peer: 192.168.0.0/16, ALL, ALLOW" already exists'),
        ({"IpProtocol": "50", "IpRanges": [{"CidrIp": "172.16.0.0/12"}]},
         'the specified rule "peer: 172.16.0.0/12, protocol: 50, ALLOW" already exists'),
        ({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": other}]},
         'the specified rule "peer: %s, TCP, from port: 80, to port: 80, ALLOW" already exists' % other),
    ]
    for perm, message in expected:
        with pytest.raises(ClientError) as e:
            # A new rule next to the duplicate is not created either.
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(9999, "1.2.3.4/32"), perm])
        assert client_error(e) == ("InvalidPermission.Duplicate", message)
    # The same rule twice in one request.
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.1.0.0/16"}, {"CidrIp": "10.1.0.0/16"}]}])
    assert client_error(e) == ("InvalidParameterValue",
                               "The same permission must not appear multiple times")
    err = cli_fails(server, "ec2", "authorize-security-group-ingress", "--group-id", gid,
                    "--protocol", "tcp", "--port", "22", "--cidr", "10.0.0.0/8")
    assert "InvalidPermission.Duplicate" in err
    assert rules_of(ec2, gid) == before
    # The same rule in the other direction is a different rule.
    ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8")])


def test_referenced_group_must_exist_in_the_same_vpc(ec2):
    vpc1, vpc2 = new_vpc(ec2, "10.0.0.0/16"), new_vpc(ec2, "10.1.0.0/16")
    gid = new_group(ec2, vpc1)
    elsewhere = new_group(ec2, vpc2, "elsewhere")
    same = new_group(ec2, vpc1, "same")

    def pair(p):
        return [{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "UserIdGroupPairs": [p]}]

    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=pair({"GroupId": "sg-0123456789abcdef0"}))
    assert client_error(e) == ("InvalidGroup.NotFound",
                               "The security group 'sg-0123456789abcdef0' does not exist")
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=pair({"GroupId": "sg-bad"}))
    assert error_code(e) == "InvalidGroupId.Malformed"
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=pair({"GroupId": elsewhere}))
    assert client_error(e) == ("InvalidGroup.NotFound",
                               "You have specified two resources that belong to different networks.")
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=pair({"GroupName": "elsewhere"}))
    assert client_error(e) == ("InvalidGroup.NotFound",
                               "The security group 'elsewhere' does not exist in VPC '%s'" % vpc1)
    # By name in the group's own VPC it resolves to the id.
    [rule] = ec2.authorize_security_group_ingress(
        GroupId=gid, IpPermissions=pair({"GroupName": "same"}))["SecurityGroupRules"]
    assert rule["ReferencedGroupInfo"] == {"GroupId": same, "UserId": ACCOUNT}
    assert len(rules_of(ec2, gid)) == 2


def test_legacy_ingress_form(server, ec2, aws):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    r = ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=22,
                                             ToPort=22, CidrIp="203.0.113.0/24")
    [rule] = r["SecurityGroupRules"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIpv4"]) == \
        ("tcp", 22, 22, "203.0.113.0/24")
    # A source group by name without a protocol grants TCP, UDP and ICMP.
    dflt = ec2.create_security_group(GroupName="legacy", Description="d")["GroupId"]
    ec2.create_security_group(GroupName="source", Description="d")
    r = ec2.authorize_security_group_ingress(GroupName="legacy", SourceSecurityGroupName="source")
    got = sorted((x["IpProtocol"], x["FromPort"], x["ToPort"]) for x in r["SecurityGroupRules"])
    assert got == [("icmp", -1, -1), ("tcp", 0, 65535), ("udp", 0, 65535)]
    assert all(x["GroupId"] == dflt for x in r["SecurityGroupRules"])
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=1, ToPort=1,
                                             IpPermissions=[tcp(2, "10.0.0.0/8")])
    assert error_code(e) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, SourceSecurityGroupOwnerId=ACCOUNT)
    assert client_error(e) == ("MissingParameter", "Source group ID missing.")
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid)
    assert error_code(e) == "MissingParameter"
    # The CLI's shorthand options.
    out = aws("ec2", "authorize-security-group-ingress", "--group-id", gid, "--protocol", "udp",
              "--port", "1000-2000", "--cidr", "198.51.100.0/24")
    assert out["Return"] is True
    [rule] = out["SecurityGroupRules"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("udp", 1000, 2000)
    out = aws("ec2", "authorize-security-group-ingress", "--group-id", gid, "--protocol", "tcp",
              "--port", "8080", "--source-group", gid)
    assert out["SecurityGroupRules"][0]["ReferencedGroupInfo"]["GroupId"] == gid
    out = aws("ec2", "authorize-security-group-ingress", "--group-id", gid, "--ip-permissions",
              json.dumps([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]))
    assert out["SecurityGroupRules"][0]["FromPort"] == -1
    assert len(rules_of(ec2, gid)) == 5  # four ingress + the default egress


def test_authorize_by_group_name_in_default_vpc(ec2):
    ec2.create_security_group(GroupName="dflt", Description="d")
    ec2.authorize_security_group_ingress(GroupName="dflt", IpPermissions=[tcp(22, "10.0.0.0/8")])
    g = ec2.describe_security_groups(GroupNames=["dflt"])["SecurityGroups"][0]
    assert g["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupName="nope", IpPermissions=[tcp(22, "10.0.0.0/8")])
    assert client_error(e) == (
        "InvalidGroup.NotFound",
        "The security group 'nope' does not exist in default VPC '%s'" % default_vpc(ec2))


# ---- RevokeSecurityGroupIngress / Egress ----

def test_revoke_by_permissions(server, ec2, aws):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    other = new_group(ec2, vpc, "other")
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(22, "10.0.0.0/8", Description="ssh"), tcp(443, "0.0.0.0/0"),
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": other}]}])
    ssh_id = [r for r in rules_of(ec2, gid) if r.get("CidrIpv4") == "10.0.0.0/8"][0]["SecurityGroupRuleId"]
    # The description need not be given; the rule is named by what it allows.
    r = raw_ec2(server, "RevokeSecurityGroupIngress", GroupId=gid, **{
        "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "22",
        "IpPermissions.1.ToPort": "22", "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8"})
    assert xml_texts(r, "return") == ["true"]
    assert revoked_rules(r) == [{
        "securityGroupRuleId": ssh_id, "groupId": gid, "isEgress": "false", "ipProtocol": "tcp",
        "fromPort": "22", "toPort": "22", "cidrIpv4": "10.0.0.0/8", "description": "ssh"}]
    r = ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": other}]}])
    assert r["Return"] is True
    assert rule_keys(rules_of(ec2, gid)) == {
        (False, "tcp", 443, 443, "0.0.0.0/0"), (True, "-1", -1, -1, "0.0.0.0/0")}
    # An absent rule fails the call, and the rules named with it stay.
    with pytest.raises(ClientError) as e:
        ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[
            tcp(443, "0.0.0.0/0"), tcp(8443, "0.0.0.0/0")])
    assert client_error(e) == ("InvalidPermission.NotFound",
                               "The specified rule does not exist in this security group.")
    assert rule_keys(rules_of(ec2, gid)) == {
        (False, "tcp", 443, 443, "0.0.0.0/0"), (True, "-1", -1, -1, "0.0.0.0/0")}
    # Ingress rules are not revoked by the egress call, nor the other way.
    with pytest.raises(ClientError) as e:
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[tcp(443, "0.0.0.0/0")])
    assert error_code(e) == "InvalidPermission.NotFound"
    err = cli_fails(server, "ec2", "revoke-security-group-ingress", "--group-id", gid,
                    "--protocol", "tcp", "--port", "1", "--cidr", "0.0.0.0/0")
    assert "InvalidPermission.NotFound" in err
    out = aws("ec2", "revoke-security-group-ingress", "--group-id", gid, "--protocol", "tcp",
              "--port", "443", "--cidr", "0.0.0.0/0")
    assert out["Return"] is True
    assert group(ec2, gid)["IpPermissions"] == []


def test_revoke_by_rule_ids(server, ec2, aws):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    other = new_group(ec2, vpc, "other")
    created = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(22, "10.0.0.0/8"), tcp(23, "10.0.0.0/8")])["SecurityGroupRules"]
    egress_id = [r for r in rules_of(ec2, gid) if r["IsEgress"]][0]["SecurityGroupRuleId"]
    other_id = rules_of(ec2, other)[0]["SecurityGroupRuleId"]
    for bad, code in ((egress_id, "InvalidSecurityGroupRuleId.NotFound"),
                      (other_id, "InvalidSecurityGroupRuleId.NotFound"),
                      ("sgr-0123456789abcdef0", "InvalidSecurityGroupRuleId.NotFound"),
                      ("sgr-nope", "InvalidSecurityGroupRuleId.Malformed")):
        with pytest.raises(ClientError) as e:
            ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=[
                created[0]["SecurityGroupRuleId"], bad])
        assert error_code(e) == code
    with pytest.raises(ClientError) as e:
        ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=["sgr-0123456789abcdef0"])
    assert client_error(e)[1] == "The security group rule ID 'sgr-0123456789abcdef0' does not exist"
    assert len(rules_of(ec2, gid)) == 3
    r = raw_ec2(server, "RevokeSecurityGroupIngress", GroupId=gid,
                **{"SecurityGroupRuleId.1": created[0]["SecurityGroupRuleId"]})
    assert xml_texts(r, "return") == ["true"]
    assert [x["securityGroupRuleId"] for x in revoked_rules(r)] == [created[0]["SecurityGroupRuleId"]]
    out = aws("ec2", "revoke-security-group-egress", "--group-id", gid,
              "--security-group-rule-ids", egress_id)
    assert out["Return"] is True
    assert [r["SecurityGroupRuleId"] for r in rules_of(ec2, gid)] == [created[1]["SecurityGroupRuleId"]]


def test_revoke_in_default_vpc_reports_unknown_permissions(ec2):
    gid = ec2.create_security_group(GroupName="dv", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8")])
    r = ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(22, "10.0.0.0/8"), tcp(23, "10.0.0.0/8")])
    assert r["Return"] is False
    assert r["UnknownIpPermissions"] == [{
        "IpProtocol": "tcp", "FromPort": 23, "ToPort": 23, "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
        "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]
    assert group(ec2, gid)["IpPermissions"] == []


# ---- DescribeSecurityGroupRules ----

def test_describe_rules_ids_filters_and_pagination(server, ec2, aws):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    other = new_group(ec2, vpc, "other")
    created = ec2.authorize_security_group_ingress(
        GroupId=gid, IpPermissions=[tcp(p, "10.0.0.0/8") for p in range(1, 8)],
        TagSpecifications=[{"ResourceType": "security-group-rule",
                            "Tags": [{"Key": "batch", "Value": "one"}]}])["SecurityGroupRules"]
    ids = [r["SecurityGroupRuleId"] for r in created]
    got = ec2.describe_security_group_rules(SecurityGroupRuleIds=ids[:2])["SecurityGroupRules"]
    assert sorted(r["SecurityGroupRuleId"] for r in got) == sorted(ids[:2])
    got = ec2.describe_security_group_rules(
        Filters=[{"Name": "security-group-rule-id", "Values": ids[2:4]}])["SecurityGroupRules"]
    assert sorted(r["SecurityGroupRuleId"] for r in got) == sorted(ids[2:4])
    assert len(rules_of(ec2, gid)) == 8
    assert len(ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [gid, other]}])["SecurityGroupRules"]) == 9
    got = ec2.describe_security_group_rules(
        Filters=[{"Name": "tag:batch", "Values": ["one"]}])["SecurityGroupRules"]
    assert sorted(r["SecurityGroupRuleId"] for r in got) == sorted(ids)
    got = ec2.describe_security_group_rules(
        Filters=[{"Name": "tag-key", "Values": ["batch"]}])["SecurityGroupRules"]
    assert len(got) == 7
    # Pages of five.
    flt = [{"Name": "group-id", "Values": [gid]}]
    page = ec2.describe_security_group_rules(Filters=flt, MaxResults=5)
    assert len(page["SecurityGroupRules"]) == 5
    rest = ec2.describe_security_group_rules(Filters=flt, MaxResults=5, NextToken=page["NextToken"])
    assert len(rest["SecurityGroupRules"]) == 3 and "NextToken" not in rest
    seen = {r["SecurityGroupRuleId"] for r in page["SecurityGroupRules"] + rest["SecurityGroupRules"]}
    assert seen >= set(ids)
    out = aws("ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values=%s" % gid,
              "--page-size", "5")
    assert {r["SecurityGroupRuleId"] for r in out["SecurityGroupRules"]} == seen
    r = raw_ec2(server, "DescribeSecurityGroupRules", MaxResults="1001")
    assert xml_texts(r, "Code") == ["InvalidParameterValue"]
    with pytest.raises(ClientError) as e:
        ec2.describe_security_group_rules(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert client_error(e) == ("InvalidParameterValue", "The filter 'vpc-id' is invalid")
    with pytest.raises(ClientError) as e:
        ec2.describe_security_group_rules(SecurityGroupRuleIds=["sgr-0123456789abcdef0"])
    assert client_error(e) == ("InvalidSecurityGroupRuleId.NotFound",
                               "The security group rule ID 'sgr-0123456789abcdef0' does not exist")
    with pytest.raises(ClientError) as e:
        ec2.describe_security_group_rules(SecurityGroupRuleIds=["sgr-x"])
    assert error_code(e) == "InvalidSecurityGroupRuleId.Malformed"


# ---- ModifySecurityGroupRules ----

def test_modify_security_group_rules(server, ec2, aws):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    peer = new_group(ec2, vpc, "peer")
    a, b = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(22, "10.0.0.0/8", Description="old"), tcp(80, "10.0.0.0/8")])["SecurityGroupRules"]
    r = ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": a["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 2222, "ToPort": 2223,
                              "CidrIpv4": "192.168.0.0/16", "Description": "new"}}])
    assert r["Return"] is True
    [got] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[a["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert (got["IpProtocol"], got["FromPort"], got["ToPort"], got["CidrIpv4"], got["Description"],
            got["IsEgress"]) == ("tcp", 2222, 2223, "192.168.0.0/16", "new", False)
    # To a group reference, and without a description.
    ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": a["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "-1", "ReferencedGroupId": peer}}])
    [got] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[a["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert got["ReferencedGroupInfo"] == {"GroupId": peer, "UserId": ACCOUNT}
    assert (got["FromPort"], got["ToPort"]) == (-1, -1)
    assert "CidrIpv4" not in got and "Description" not in got
    before = rules_of(ec2, gid)
    # Into a copy of another rule: a duplicate.
    with pytest.raises(ClientError) as e:
        ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[{
            "SecurityGroupRuleId": a["SecurityGroupRuleId"],
            "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv4": "10.0.0.0/8"}}])
    assert error_code(e) == "InvalidPermission.Duplicate"
    # A rule of another group, an unknown rule, no peer, two peers, bad ports.
    peer_rule = rules_of(ec2, peer)[0]["SecurityGroupRuleId"]
    bad = [
        ({"SecurityGroupRuleId": peer_rule, "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "1.0.0.0/8"}},
         "InvalidSecurityGroupRuleId.NotFound"),
        ({"SecurityGroupRuleId": "sgr-0123456789abcdef0", "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "1.0.0.0/8"}},
         "InvalidSecurityGroupRuleId.NotFound"),
        ({"SecurityGroupRuleId": b["SecurityGroupRuleId"], "SecurityGroupRule": {"IpProtocol": "-1"}},
         "MissingParameter"),
        ({"SecurityGroupRuleId": b["SecurityGroupRuleId"],
          "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "1.0.0.0/8", "CidrIpv6": "::/0"}},
         "InvalidParameterCombination"),
        ({"SecurityGroupRuleId": b["SecurityGroupRuleId"],
          "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 5, "CidrIpv4": "1.0.0.0/8"}},
         "InvalidParameterValue"),
    ]
    for update, code in bad:
        with pytest.raises(ClientError) as e:
            # The valid change next to the bad one is not made either.
            ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[{
                "SecurityGroupRuleId": b["SecurityGroupRuleId"],
                "SecurityGroupRule": {"IpProtocol": "udp", "FromPort": 1, "ToPort": 1, "CidrIpv4": "9.0.0.0/8"}},
                update])
        assert error_code(e) == code
    assert rules_of(ec2, gid) == before
    # Two rules may swap places in one call.
    ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[
        {"SecurityGroupRuleId": b["SecurityGroupRuleId"],
         "SecurityGroupRule": {"IpProtocol": "-1", "ReferencedGroupId": peer}},
        {"SecurityGroupRuleId": a["SecurityGroupRuleId"],
         "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv4": "10.0.0.0/8"}}])
    out = aws("ec2", "modify-security-group-rules", "--group-id", gid, "--security-group-rules",
              "SecurityGroupRuleId=%s,SecurityGroupRule={IpProtocol=tcp,FromPort=81,ToPort=81,CidrIpv4=10.0.0.0/8}"
              % a["SecurityGroupRuleId"])
    assert out["Return"] is True
    assert rule_keys(rules_of(ec2, gid)) == {
        (False, "tcp", 81, 81, "10.0.0.0/8"), (False, "-1", -1, -1, peer), (True, "-1", -1, -1, "0.0.0.0/0")}


# ---- UpdateSecurityGroupRuleDescriptionsIngress / Egress ----

def test_update_rule_descriptions(server, ec2, aws):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    [rule] = ec2.authorize_security_group_ingress(
        GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8", Description="old")])["SecurityGroupRules"]
    r = ec2.update_security_group_rule_descriptions_ingress(
        GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8", Description="ssh from the office")])
    assert r["Return"] is True
    assert group(ec2, gid)["IpPermissions"][0]["IpRanges"] == [
        {"CidrIp": "10.0.0.0/8", "Description": "ssh from the office"}]
    # Without a description the description goes.
    ec2.update_security_group_rule_descriptions_ingress(GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8")])
    assert group(ec2, gid)["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]
    # By rule id.
    ec2.update_security_group_rule_descriptions_ingress(GroupId=gid, SecurityGroupRuleDescriptions=[
        {"SecurityGroupRuleId": rule["SecurityGroupRuleId"], "Description": "by id"}])
    [got] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert got["Description"] == "by id"
    # Egress, through the CLI.
    egress_id = [x for x in rules_of(ec2, gid) if x["IsEgress"]][0]["SecurityGroupRuleId"]
    out = aws("ec2", "update-security-group-rule-descriptions-egress", "--group-id", gid,
              "--ip-permissions", json.dumps([{"IpProtocol": "-1", "IpRanges": [
                  {"CidrIp": "0.0.0.0/0", "Description": "anywhere"}]}]))
    assert out["Return"] is True
    [got] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[egress_id])["SecurityGroupRules"]
    assert got["Description"] == "anywhere"
    # Absent rules, the wrong direction, unknown ids: errors, nothing changed.
    with pytest.raises(ClientError) as e:
        ec2.update_security_group_rule_descriptions_ingress(
            GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8", Description="x"),
                                        tcp(23, "10.0.0.0/8", Description="x")])
    assert client_error(e) == ("InvalidPermission.NotFound",
                               "The specified rule does not exist in this security group.")
    with pytest.raises(ClientError) as e:
        ec2.update_security_group_rule_descriptions_egress(GroupId=gid, SecurityGroupRuleDescriptions=[
            {"SecurityGroupRuleId": rule["SecurityGroupRuleId"], "Description": "x"}])
    assert error_code(e) == "InvalidSecurityGroupRuleId.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.update_security_group_rule_descriptions_ingress(GroupId=gid)
    assert error_code(e) == "MissingParameter"
    err = cli_fails(server, "ec2", "update-security-group-rule-descriptions-ingress", "--group-id", gid,
                    "--security-group-rule-descriptions",
                    "SecurityGroupRuleId=sgr-0123456789abcdef0,Description=x")
    assert "InvalidSecurityGroupRuleId.NotFound" in err
    [got] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert got["Description"] == "by id"


# ---- what tools do ----

def test_terraform_security_group_and_rule_resources(ec2):
    vpc = new_vpc(ec2)
    # aws_security_group: create, wait, drop the default egress rules.
    gid = ec2.create_security_group(
        GroupName="tf-sg", Description="Managed by Terraform", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "Name", "Value": "tf"}]}])["GroupId"]
    for _ in range(3):
        assert group(ec2, gid)["GroupId"] == gid
    ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    with pytest.raises(ClientError) as e:
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[{
            "IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    assert error_code(e) == "InvalidPermission.NotFound"
    assert group(ec2, gid)["IpPermissionsEgress"] == []
    # aws_vpc_security_group_ingress_rule: one permission, read back by id.
    r = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "https"}]}],
        TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "Name", "Value": "https"}]}])
    rule_id = r["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
    assert rule == r["SecurityGroupRules"][0]
    assert rule["IsEgress"] is False and rule["Tags"] == [{"Key": "Name", "Value": "https"}]
    # aws_vpc_security_group_egress_rule with all protocols: ports read back as -1.
    r = ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    egress_rule = r["SecurityGroupRules"][0]
    assert (egress_rule["FromPort"], egress_rule["ToPort"]) == (-1, -1)
    # A read with filter group-id sees exactly these two.
    assert {x["SecurityGroupRuleId"] for x in rules_of(ec2, gid)} == {rule_id, egress_rule["SecurityGroupRuleId"]}
    # Update, then destroy by rule id, then the group.
    ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule_id,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
                              "CidrIpv4": "10.0.0.0/16", "Description": "https-alt"}}])
    assert group(ec2, gid)["IpPermissions"][0]["FromPort"] == 8443
    ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=[rule_id])
    ec2.revoke_security_group_egress(GroupId=gid, SecurityGroupRuleIds=[egress_rule["SecurityGroupRuleId"]])
    with pytest.raises(ClientError) as e:
        ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])
    assert error_code(e) == "InvalidSecurityGroupRuleId.NotFound"
    ec2.delete_security_group(GroupId=gid)
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupIds=[gid])
    assert error_code(e) == "InvalidGroup.NotFound"


def test_terraform_default_security_group_force_revoke(ec2):
    vpc = new_vpc(ec2)
    [dflt] = ec2.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["default"]},
        {"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    gid = dflt["GroupId"]
    for r in rules_of(ec2, gid):
        if r["IsEgress"]:
            ec2.revoke_security_group_egress(GroupId=gid, SecurityGroupRuleIds=[r["SecurityGroupRuleId"]])
        else:
            ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=[r["SecurityGroupRuleId"]])
    assert rules_of(ec2, gid) == []
    g = group(ec2, gid)
    assert g["IpPermissions"] == [] and g["IpPermissionsEgress"] == []
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "UserIdGroupPairs": [{"GroupId": gid}]}])
    assert group(ec2, gid)["IpPermissions"][0]["UserIdGroupPairs"] == [{"GroupId": gid, "UserId": ACCOUNT}]


def test_groups_are_isolated_per_account_and_region(server, ec2):
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    for other in (server.client("ec2", account="123456789012"), server.client("ec2", region="eu-west-1")):
        with pytest.raises(ClientError) as e:
            other.describe_security_groups(GroupIds=[gid])
        assert error_code(e) == "InvalidGroup.NotFound"


def test_state_survives_restart(make_server):
    s = make_server()
    ec2 = s.client("ec2")
    vpc = new_vpc(ec2)
    gid = new_group(ec2, vpc)
    rule = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8")])[
        "SecurityGroupRules"][0]
    s.restart()
    ec2 = s.client("ec2")
    [got] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert got == rule
    assert group(ec2, gid)["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]
