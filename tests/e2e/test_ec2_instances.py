"""EC2 instances, the minimal model ECS container instances need: run
(subnets, groups, addresses, counts, tags), describe (reservations,
filters), terminate, stop and start, and their primary network interfaces."""
import re

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

IMAGE = "ami-0abcdef1234567890"


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
                             AvailabilityZone="us-east-1b")["Subnet"]


def run(ec2, **kw):
    kw.setdefault("ImageId", IMAGE)
    kw.setdefault("MinCount", 1)
    kw.setdefault("MaxCount", 1)
    return ec2.run_instances(**kw)


def available(ec2, subnet_id):
    return ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["AvailableIpAddressCount"]


def view(ec2, iid):
    res = ec2.describe_instances(InstanceIds=[iid])["Reservations"]
    assert len(res) == 1 and len(res[0]["Instances"]) == 1
    return res[0]["Instances"][0]


def default_group(ec2, vpc_id):
    return ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                 {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]


def test_run_instance_in_the_default_subnet(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    first = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]},
                                          {"Name": "availability-zone",
                                           "Values": ["us-east-1a"]}])["Subnets"][0]
    r = run(ec2, TagSpecifications=[{"ResourceType": "instance",
                                     "Tags": [{"Key": "Name", "Value": "box"}]}])
    assert re.match(r"^r-[0-9a-f]{17}$", r["ReservationId"])
    assert r["OwnerId"] == "000000000000"
    (i,) = r["Instances"]
    assert re.match(r"^i-[0-9a-f]{17}$", i["InstanceId"])
    assert i["ImageId"] == IMAGE
    assert i["InstanceType"] == "t3.micro"
    assert i["State"] == {"Code": 16, "Name": "running"}
    assert i["SubnetId"] == first["SubnetId"]
    assert i["VpcId"] == vpc["VpcId"]
    assert i["Placement"]["AvailabilityZone"] == "us-east-1a"
    assert i["Placement"]["Tenancy"] == "default"
    assert i["PrivateIpAddress"] == "172.31.0.4"
    assert i["PrivateDnsName"] == "ip-172-31-0-4.ec2.internal"
    assert i["AmiLaunchIndex"] == 0
    assert i["SourceDestCheck"] is True
    assert i["Tags"] == [{"Key": "Name", "Value": "box"}]
    assert i["SecurityGroups"] == [{"GroupId": default_group(ec2, vpc["VpcId"]),
                                    "GroupName": "default"}]
    (nic,) = i["NetworkInterfaces"]
    assert nic["PrivateIpAddress"] == "172.31.0.4"
    assert nic["SubnetId"] == first["SubnetId"]
    assert nic["Status"] == "in-use"
    assert nic["InterfaceType"] == "interface"
    assert re.match(r"^0e(:[0-9a-f]{2}){5}$", nic["MacAddress"])
    assert nic["Groups"] == i["SecurityGroups"]
    assert nic["PrivateIpAddresses"] == [{"Primary": True, "PrivateIpAddress": "172.31.0.4",
                                          "PrivateDnsName": "ip-172-31-0-4.ec2.internal"}]
    att = nic["Attachment"]
    assert att["DeviceIndex"] == 0
    assert att["DeleteOnTermination"] is True
    assert att["Status"] == "attached"
    assert att["AttachmentId"].startswith("eni-attach-")
    assert available(ec2, first["SubnetId"]) == 4090

    described = ec2.describe_instances(InstanceIds=[i["InstanceId"]])["Reservations"]
    assert described == [{"ReservationId": r["ReservationId"], "OwnerId": "000000000000",
                          "Groups": [], "Instances": [i]}]

    enis = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [i["InstanceId"]]}])
    (e,) = enis["NetworkInterfaces"]
    assert e["NetworkInterfaceId"] == nic["NetworkInterfaceId"]
    assert e["Attachment"]["InstanceId"] == i["InstanceId"]
    assert e["Attachment"]["InstanceOwnerId"] == "000000000000"
    assert e["MacAddress"] == nic["MacAddress"]
    assert e["Status"] == "in-use"


def test_run_in_a_subnet_with_groups_and_address(ec2, vpc_id, subnet):
    g = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
    i = run(ec2, SubnetId=subnet["SubnetId"], SecurityGroupIds=[g], PrivateIpAddress="10.0.1.99",
            InstanceType="m5.large", KeyName="mykey")["Instances"][0]
    assert i["PrivateIpAddress"] == "10.0.1.99"
    assert i["Placement"]["AvailabilityZone"] == "us-east-1b"
    assert i["InstanceType"] == "m5.large"
    assert i["KeyName"] == "mykey"
    assert i["SecurityGroups"] == [{"GroupId": g, "GroupName": "app"}]
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
               SubnetId=subnet["SubnetId"], PrivateIpAddress="10.0.1.99") == (
        "InvalidIPAddress.InUse", "Address 10.0.1.99 is in use.")
    other = default_group(ec2, ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"])
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
               SubnetId=subnet["SubnetId"], SecurityGroupIds=[other]) == (
        "InvalidParameter", "Security group %s and subnet %s belong to different networks."
        % (other, subnet["SubnetId"]))
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
               SubnetId="subnet-0123456789abcdef0")[0] == "InvalidSubnetID.NotFound"
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
               SubnetId=subnet["SubnetId"], Placement={"AvailabilityZone": "us-east-1c"}) == (
        "InvalidParameterValue",
        "Value (us-east-1c) for parameter availabilityZone is invalid. Subnet '%s' is in the "
        "availability zone us-east-1b" % subnet["SubnetId"])
    assert available(ec2, subnet["SubnetId"]) == 250


def test_security_group_names_in_the_default_vpc(ec2, subnet):
    i = run(ec2, SecurityGroups=["default"], Placement={"AvailabilityZone": "us-east-1c"})
    i = i["Instances"][0]
    assert i["SecurityGroups"][0]["GroupName"] == "default"
    assert i["Placement"]["AvailabilityZone"] == "us-east-1c"
    assert i["PrivateIpAddress"] == "172.31.32.4"
    code, message = err(ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
                        SecurityGroups=["nope"])
    assert code == "InvalidGroup.NotFound"
    assert message.startswith("The security group 'nope' does not exist in default VPC 'vpc-")
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
               SubnetId=subnet["SubnetId"], SecurityGroups=["default"]) == (
        "InvalidParameterCombination",
        "The parameter groupName cannot be used with the parameter subnet")


def test_counts(ec2, vpc_id, subnet):
    r = run(ec2, SubnetId=subnet["SubnetId"], MinCount=3, MaxCount=3)
    assert [i["AmiLaunchIndex"] for i in r["Instances"]] == [0, 1, 2]
    assert [i["PrivateIpAddress"] for i in r["Instances"]] == ["10.0.1.4", "10.0.1.5",
                                                             "10.0.1.6"]
    res = ec2.describe_instances(
        Filters=[{"Name": "reservation-id", "Values": [r["ReservationId"]]}])["Reservations"]
    assert len(res) == 1 and len(res[0]["Instances"]) == 3
    small = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/28",
                              AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    # More than fits: as many as there are addresses, when that is at least MinCount.
    r = run(ec2, SubnetId=small, MinCount=2, MaxCount=20)
    assert len(r["Instances"]) == 11
    assert available(ec2, small) == 0
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=small) == (
        "InsufficientFreeAddressesInSubnet",
        "The specified subnet does not have enough free addresses to satisfy the request.")
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=0, MaxCount=1)[0] == \
        "InvalidParameterValue"
    assert err(ec2.run_instances, ImageId=IMAGE, MinCount=3, MaxCount=2)[0] == \
        "InvalidParameterValue"


def test_client_token_makes_run_idempotent(ec2, subnet):
    a = run(ec2, SubnetId=subnet["SubnetId"], MinCount=2, MaxCount=2, ClientToken="launch-1")
    b = run(ec2, SubnetId=subnet["SubnetId"], MinCount=2, MaxCount=2, ClientToken="launch-1")
    assert b["ReservationId"] == a["ReservationId"]
    assert [i["InstanceId"] for i in b["Instances"]] == [i["InstanceId"] for i in a["Instances"]]
    assert available(ec2, subnet["SubnetId"]) == 249


def test_unemulated_parameters_are_refused(ec2, subnet):
    assert err(ec2.run_instances, MinCount=1, MaxCount=1,
               NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet["SubnetId"]}])[0] == \
        "UnsupportedOperation"
    assert err(ec2.run_instances, MinCount=1, MaxCount=1)[0] == "MissingParameter"


def test_describe_instances_filters(ec2, vpc_id, subnet):
    a = run(ec2, SubnetId=subnet["SubnetId"],
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "role", "Value": "web"}]}])["Instances"][0]
    b = run(ec2, TagSpecifications=[{"ResourceType": "instance",
                                     "Tags": [{"Key": "role", "Value": "db"},
                                              {"Key": "backup", "Value": "yes"}]}])["Instances"][0]
    ec2.stop_instances(InstanceIds=[b["InstanceId"]])

    def ids(*filters):
        res = ec2.describe_instances(
            Filters=[{"Name": n, "Values": v} for n, v in filters])["Reservations"]
        return sorted(i["InstanceId"] for r in res for i in r["Instances"])

    ia, ib = a["InstanceId"], b["InstanceId"]
    assert ids() == sorted([ia, ib])
    assert ids(("instance-id", [ia])) == [ia]
    assert ids(("instance-state-name", ["running"])) == [ia]
    assert ids(("instance-state-name", ["stopped"])) == [ib]
    assert ids(("instance-state-code", ["80"])) == [ib]
    assert ids(("subnet-id", [subnet["SubnetId"]])) == [ia]
    assert ids(("vpc-id", [vpc_id])) == [ia]
    assert ids(("private-ip-address", [a["PrivateIpAddress"]])) == [ia]
    assert ids(("network-interface.network-interface-id",
                [b["NetworkInterfaces"][0]["NetworkInterfaceId"]])) == [ib]
    assert ids(("tag:role", ["web"])) == [ia]
    assert ids(("tag:role", ["web", "db"])) == sorted([ia, ib])
    assert ids(("tag-key", ["backup"])) == [ib]
    assert ids(("availability-zone", ["us-east-1b"])) == [ia]
    assert ids(("instance-type", ["t3.micro"])) == sorted([ia, ib])
    assert ids(("image-id", [IMAGE]), ("tag:role", ["db"])) == [ib]
    assert err(ec2.describe_instances, Filters=[{"Name": "bogus", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'bogus' is invalid")
    assert err(ec2.describe_instances, InstanceIds=["i-0123456789abcdef0"]) == (
        "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist")
    assert err(ec2.describe_instances, InstanceIds=["i-nope"])[0] == "InvalidInstanceID.Malformed"


def test_describe_instances_pagination(ec2, subnet):
    made = sorted(i["InstanceId"] for i in
                  run(ec2, SubnetId=subnet["SubnetId"], MinCount=7, MaxCount=7)["Instances"])
    pages = list(ec2.get_paginator("describe_instances").paginate(
        PaginationConfig={"PageSize": 5}))
    assert len(pages) == 2
    assert sorted(i["InstanceId"] for p in pages for r in p["Reservations"]
                  for i in r["Instances"]) == made


def test_terminate(ec2, subnet):
    sid = subnet["SubnetId"]
    i = run(ec2, SubnetId=sid)["Instances"][0]
    iid = i["InstanceId"]
    primary = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    kept = ec2.create_network_interface(SubnetId=sid)["NetworkInterface"]["NetworkInterfaceId"]
    doomed = ec2.create_network_interface(SubnetId=sid)["NetworkInterface"]["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=kept, InstanceId=iid, DeviceIndex=1)
    aid = ec2.attach_network_interface(NetworkInterfaceId=doomed, InstanceId=iid,
                                       DeviceIndex=2)["AttachmentId"]
    ec2.modify_network_interface_attribute(
        NetworkInterfaceId=doomed, Attachment={"AttachmentId": aid, "DeleteOnTermination": True})
    assert available(ec2, sid) == 248

    out = ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"]
    assert out == [{"InstanceId": iid, "CurrentState": {"Code": 32, "Name": "shutting-down"},
                    "PreviousState": {"Code": 16, "Name": "running"}}]
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[iid])
    t = view(ec2, iid)
    assert t["State"] == {"Code": 48, "Name": "terminated"}
    assert t["NetworkInterfaces"] == []
    assert t["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    assert t["StateTransitionReason"].startswith("User initiated (")
    assert "PrivateIpAddress" not in t
    # The primary interface and the one deleted on termination are gone with
    # their addresses; the other one is detached and available again.
    for gone in (primary, doomed):
        assert err(ec2.describe_network_interfaces, NetworkInterfaceIds=[gone])[0] == \
            "InvalidNetworkInterfaceID.NotFound"
    k = ec2.describe_network_interfaces(NetworkInterfaceIds=[kept])["NetworkInterfaces"][0]
    assert k["Status"] == "available" and "Attachment" not in k
    assert available(ec2, sid) == 250
    assert ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["NetworkInterfaces"] == []
    # Terminating again changes nothing.
    again = ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"][0]
    assert again["CurrentState"]["Name"] == "terminated"
    assert again["PreviousState"]["Name"] == "terminated"
    ec2.delete_network_interface(NetworkInterfaceId=kept)
    ec2.delete_subnet(SubnetId=sid)


def test_terminate_errors(ec2):
    assert err(ec2.terminate_instances, InstanceIds=["i-0123456789abcdef0"]) == (
        "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist")


def test_a_failed_terminate_changes_nothing(ec2, subnet):
    iid = run(ec2, SubnetId=subnet["SubnetId"])["Instances"][0]["InstanceId"]
    assert err(ec2.terminate_instances, InstanceIds=[iid, "i-0123456789abcdef0"])[0] == \
        "InvalidInstanceID.NotFound"
    assert view(ec2, iid)["State"]["Name"] == "running"
    assert available(ec2, subnet["SubnetId"]) == 250


def test_stop_and_start(ec2, subnet):
    i = run(ec2, SubnetId=subnet["SubnetId"])["Instances"][0]
    iid = i["InstanceId"]
    out = ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"]
    assert out == [{"InstanceId": iid, "CurrentState": {"Code": 64, "Name": "stopping"},
                    "PreviousState": {"Code": 16, "Name": "running"}}]
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[iid])
    s = view(ec2, iid)
    assert s["State"] == {"Code": 80, "Name": "stopped"}
    # A stopped instance keeps its interface and address.
    assert s["PrivateIpAddress"] == i["PrivateIpAddress"]
    assert s["NetworkInterfaces"][0]["NetworkInterfaceId"] == \
        i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    again = ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]
    assert again["CurrentState"]["Name"] == "stopped"
    out = ec2.start_instances(InstanceIds=[iid])["StartingInstances"]
    assert out == [{"InstanceId": iid, "CurrentState": {"Code": 0, "Name": "pending"},
                    "PreviousState": {"Code": 80, "Name": "stopped"}}]
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid])
    assert view(ec2, iid)["State"] == {"Code": 16, "Name": "running"}
    assert "StateReason" not in view(ec2, iid)
    ec2.terminate_instances(InstanceIds=[iid])
    assert err(ec2.stop_instances, InstanceIds=[iid]) == (
        "IncorrectInstanceState",
        "This instance '%s' is not in a state from which it can be stopped." % iid)
    assert err(ec2.start_instances, InstanceIds=[iid]) == (
        "IncorrectInstanceState",
        "The instance '%s' is not in a state from which it can be started." % iid)


def test_attach_and_detach_a_second_interface(ec2, vpc_id, subnet):
    i = run(ec2, SubnetId=subnet["SubnetId"])["Instances"][0]
    iid = i["InstanceId"]
    g = ec2.create_security_group(GroupName="extra", Description="x", VpcId=vpc_id)["GroupId"]
    nid = ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                       Groups=[g])["NetworkInterface"]["NetworkInterfaceId"]
    aid = ec2.attach_network_interface(NetworkInterfaceId=nid, InstanceId=iid,
                                       DeviceIndex=1)["AttachmentId"]
    v = view(ec2, iid)
    assert [(n["Attachment"]["DeviceIndex"], n["NetworkInterfaceId"])
            for n in v["NetworkInterfaces"]] == [
        (0, i["NetworkInterfaces"][0]["NetworkInterfaceId"]), (1, nid)]
    assert v["NetworkInterfaces"][1]["Attachment"]["AttachmentId"] == aid
    # The instance's address stays the primary interface's.
    assert v["PrivateIpAddress"] == i["PrivateIpAddress"]
    assert {x["GroupId"] for x in v["SecurityGroups"]} == {default_group(ec2, vpc_id), g}
    res = ec2.describe_instances(Filters=[{"Name": "network-interface.network-interface-id",
                                           "Values": [nid]}])["Reservations"]
    assert [x["InstanceId"] for r in res for x in r["Instances"]] == [iid]
    ec2.detach_network_interface(AttachmentId=aid)
    v = view(ec2, iid)
    assert len(v["NetworkInterfaces"]) == 1
    assert v["SecurityGroups"] == i["SecurityGroups"]


def test_cli_run_wait_describe_terminate(aws, subnet):
    out = aws("ec2", "run-instances", "--image-id", IMAGE, "--count", "2",
              "--instance-type", "t3.small", "--subnet-id", subnet["SubnetId"],
              "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=cli}]",
              "ResourceType=network-interface,Tags=[{Key=Name,Value=cli-eni}]",
              "ResourceType=volume,Tags=[{Key=Name,Value=cli-vol}]")
    ids = [i["InstanceId"] for i in out["Instances"]]
    assert len(ids) == 2
    p = aws("ec2", "wait", "instance-running", "--instance-ids", *ids, raw=True)
    assert p.returncode == 0, p.stderr
    out = aws("ec2", "describe-instances", "--filters", "Name=tag:Name,Values=cli",
              "Name=instance-state-name,Values=running")
    assert sorted(i["InstanceId"] for r in out["Reservations"] for i in r["Instances"]) == \
        sorted(ids)
    enis = aws("ec2", "describe-network-interfaces", "--filters", "Name=tag:Name,Values=cli-eni")
    assert sorted(e["Attachment"]["InstanceId"] for e in enis["NetworkInterfaces"]) == sorted(ids)
    out = aws("ec2", "terminate-instances", "--instance-ids", *ids)
    assert {x["CurrentState"]["Name"] for x in out["TerminatingInstances"]} == {"shutting-down"}
    p = aws("ec2", "wait", "instance-terminated", "--instance-ids", *ids, raw=True)
    assert p.returncode == 0, p.stderr
    out = aws("ec2", "describe-instances", "--instance-ids", *ids)
    assert {i["State"]["Name"] for r in out["Reservations"] for i in r["Instances"]} == \
        {"terminated"}


def test_cli_stop_start(aws, subnet):
    iid = aws("ec2", "run-instances", "--image-id", IMAGE, "--subnet-id",
              subnet["SubnetId"])["Instances"][0]["InstanceId"]
    out = aws("ec2", "stop-instances", "--instance-ids", iid)
    assert out["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"
    p = aws("ec2", "wait", "instance-stopped", "--instance-ids", iid, raw=True)
    assert p.returncode == 0, p.stderr
    out = aws("ec2", "start-instances", "--instance-ids", iid)
    assert out["StartingInstances"][0]["PreviousState"]["Name"] == "stopped"
    p = aws("ec2", "wait", "instance-running", "--instance-ids", iid, raw=True)
    assert p.returncode == 0, p.stderr
