#!/usr/bin/env python3
"""Writes the demo's audit logs (one per provider, in each provider's own export format).

They tell the story behind the demo estate in mocks/worlds/demo.toml: who made each mirror,
which changes the allowlist sanctions, a session that was briefly pointed at the outside
NLB and back, and a session that was created and deleted between two scans (an ephemeral
mirror no inventory could see). Run from anywhere; the output is deterministic.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "111122223333"


def identity(role, session, path=""):
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{role.upper()[:9]}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEDEMO00001",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{path}{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-11-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def trail(n, time, name, who, ip, request, response=None, error=None, region="us-east-1"):
    record = {
        "eventVersion": "1.10",
        "userIdentity": who,
        "eventTime": time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.17.40 md/command#ec2",
        "requestParameters": {f"{name}Request": request} if request is not None else None,
        "responseElements": (
            {f"{name}Response": dict(response, xmlns="http://ec2.amazonaws.com/doc/2016-11-15/")}
            if response is not None
            else None
        ),
        "requestID": f"7d1e0000-0000-4000-8000-{n:012d}",
        "eventID": f"e0e10000-0000-4000-8000-{n:012d}",
        "readOnly": name.startswith("Describe"),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    return record


def cloudtrail():
    terraform = identity("netsec-terraform", "terraform-run-8812", "")
    mallory = identity("NetOpsAdmin", "mallory")
    scanner = identity("mirrorguard-readonly", "mirrorguard")
    ci = {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLECIBOT0001",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/ci-bot",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAEXAMPLECIBOT0001",
        "userName": "ci-bot",
    }
    records = [
        # The approved IDS mirror, made by the sanctioned Terraform pipeline.
        trail(1, "2026-11-02T09:30:11Z", "CreateTrafficMirrorTarget", terraform, "10.20.0.15",
              {"NetworkInterfaceId": "eni-0fee1dead00000a01", "Description": "Suricata sensor"},
              {"trafficMirrorTarget": {"trafficMirrorTargetId": "tmt-0a1b2c3d4e5f60001",
                                       "networkInterfaceId": "eni-0fee1dead00000a01",
                                       "type": "network-interface", "ownerId": ACCOUNT}}),
        trail(2, "2026-11-02T09:30:42Z", "CreateTrafficMirrorSession", terraform, "10.20.0.15",
              {"NetworkInterfaceId": "eni-0aa0000000000e0e1", "TrafficMirrorTargetId": "tmt-0a1b2c3d4e5f60001",
               "TrafficMirrorFilterId": "tmf-0f1e2d3c4b5a60001", "SessionNumber": 1},
              {"trafficMirrorSession": {"trafficMirrorSessionId": "tms-0a11c0ffee0000001",
                                        "trafficMirrorTargetId": "tmt-0a1b2c3d4e5f60001",
                                        "networkInterfaceId": "eni-0aa0000000000e0e1"}}),
        # The "debug" mirror to an NLB in an account outside the organisation.
        trail(3, "2026-11-12T22:41:05Z", "CreateTrafficMirrorTarget", mallory, "203.0.113.66",
              {"NetworkLoadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/net/capture/5f1e2d3c4b5a6978"},
              {"trafficMirrorTarget": {"trafficMirrorTargetId": "tmt-0a1b2c3d4e5f6bad1",
                                       "networkLoadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/net/capture/5f1e2d3c4b5a6978",
                                       "type": "network-load-balancer", "ownerId": "999988887777"}}),
        trail(4, "2026-11-12T22:43:19Z", "CreateTrafficMirrorSession", mallory, "203.0.113.66",
              {"NetworkInterfaceId": "eni-0aa0000000000ba91", "TrafficMirrorTargetId": "tmt-0a1b2c3d4e5f6bad1",
               "TrafficMirrorFilterId": "tmf-0f1e2d3c4b5a6bad1", "SessionNumber": 1, "PacketLength": 9001},
              {"trafficMirrorSession": {"trafficMirrorSessionId": "tms-0badc0de00000bad1",
                                        "trafficMirrorTargetId": "tmt-0a1b2c3d4e5f6bad1",
                                        "networkInterfaceId": "eni-0aa0000000000ba91"}}),
        # The approved session pointed at the outside NLB for an hour, then back.
        trail(5, "2026-11-13T03:02:40Z", "ModifyTrafficMirrorSession", mallory, "203.0.113.66",
              {"TrafficMirrorSessionId": "tms-0a11c0ffee0000001", "TrafficMirrorTargetId": "tmt-0a1b2c3d4e5f6bad1"},
              {"trafficMirrorSession": {"trafficMirrorSessionId": "tms-0a11c0ffee0000001",
                                        "trafficMirrorTargetId": "tmt-0a1b2c3d4e5f6bad1"}}),
        trail(6, "2026-11-13T04:05:12Z", "ModifyTrafficMirrorSession", mallory, "203.0.113.66",
              {"TrafficMirrorSessionId": "tms-0a11c0ffee0000001", "TrafficMirrorTargetId": "tmt-0a1b2c3d4e5f60001"},
              {"trafficMirrorSession": {"trafficMirrorSessionId": "tms-0a11c0ffee0000001",
                                        "trafficMirrorTargetId": "tmt-0a1b2c3d4e5f60001"}}),
        # A session that copied the web tier for three hours between two scans.
        trail(7, "2026-11-14T01:12:09Z", "CreateTrafficMirrorSession", mallory, "203.0.113.66",
              {"NetworkInterfaceId": "eni-0aa0000000000e0e1", "TrafficMirrorTargetId": "tmt-0a1b2c3d4e5f6bad1",
               "TrafficMirrorFilterId": "tmf-0f1e2d3c4b5a6bad1", "SessionNumber": 2},
              {"trafficMirrorSession": {"trafficMirrorSessionId": "tms-0e9e3e1a1c0ffee77",
                                        "trafficMirrorTargetId": "tmt-0a1b2c3d4e5f6bad1",
                                        "networkInterfaceId": "eni-0aa0000000000e0e1"}}),
        trail(8, "2026-11-14T04:19:51Z", "DeleteTrafficMirrorSession", mallory, "203.0.113.66",
              {"TrafficMirrorSessionId": "tms-0e9e3e1a1c0ffee77"},
              {"trafficMirrorSessionId": "tms-0e9e3e1a1c0ffee77"}),
        # A refused attempt (probing), and the scanner's own reads (never a change).
        trail(9, "2026-11-14T07:55:00Z", "CreateTrafficMirrorTarget", ci, "198.51.100.200",
              {"NetworkInterfaceId": "eni-0ee0000000000e0e9"}, None,
              ("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")),
        trail(10, "2026-11-15T11:00:03Z", "DescribeTrafficMirrorSessions", scanner, "10.20.0.9", {}, {}),
        trail(11, "2026-11-15T11:00:04Z", "DescribeTrafficMirrorTargets", scanner, "10.20.0.9", {}, {}),
    ]
    return {"Records": records}


def azure_record(n, time, op, resource, status, sub_status, caller, correlation):
    subscription = resource.split("/")[2]
    return {
        "authorization": {"action": op, "scope": resource},
        "caller": caller,
        "channels": "Operation",
        "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller},
        "correlationId": correlation,
        "eventDataId": f"a2d10000-0000-4000-8000-{n:012d}",
        "eventName": {"value": "EndRequest" if status != "Started" else "BeginRequest",
                      "localizedValue": "End request" if status != "Started" else "Begin request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": time,
        "httpRequest": {"clientRequestId": f"c1e0{n:04d}", "clientIpAddress": "203.0.113.88", "method": "PUT"},
        "id": f"{resource}/events/a2d10000-0000-4000-8000-{n:012d}/ticks/6392990{n:011d}",
        "level": "Informational",
        "operationId": f"0be10000-0000-4000-8000-{n:012d}",
        "operationName": {"value": op, "localizedValue": op},
        "resourceId": resource,
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": sub_status, "localizedValue": sub_status},
        "submissionTimestamp": time,
        "subscriptionId": subscription,
        "properties": {"statusCode": sub_status} if sub_status else {},
    }


def azure():
    vtap = "/subscriptions/3f2b8c1e-5a6d-4e7f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-payments/providers/Microsoft.Network/virtualNetworkTaps/vtap-debug-capture"
    tap = "/subscriptions/3f2b8c1e-5a6d-4e7f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-payments/providers/Microsoft.Network/networkInterfaces/nic-payments-01/tapConfigurations/tapcfg-debug"
    eve = "eve.contractor@acme.example"
    value = [
        azure_record(4, "2026-11-13T19:20:31.0000000Z", "Microsoft.Network/networkInterfaces/tapConfigurations/write", tap, "Succeeded", "Created", eve, "7c0a0000-0000-4000-8000-000000000002"),
        azure_record(3, "2026-11-13T19:20:02.0000000Z", "Microsoft.Network/networkInterfaces/tapConfigurations/write", tap, "Started", "", eve, "7c0a0000-0000-4000-8000-000000000002"),
        azure_record(2, "2026-11-13T19:14:47.0000000Z", "Microsoft.Network/virtualNetworkTaps/write", vtap, "Succeeded", "Created", eve, "7c0a0000-0000-4000-8000-000000000001"),
        azure_record(1, "2026-11-13T19:14:20.0000000Z", "Microsoft.Network/virtualNetworkTaps/write", vtap, "Started", "", eve, "7c0a0000-0000-4000-8000-000000000001"),
    ]
    return {"value": value, "nextLink": None}


def gcp_entry(insert_id, time, method, resource, who, ip, operation, first, request=None):
    entry = {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": who},
            "requestMetadata": {"callerIp": ip},
            "serviceName": "compute.googleapis.com",
            "methodName": method,
            "resourceName": resource,
            "request": request or {"@type": "type.googleapis.com/compute.packetMirrorings.insert"},
        },
        "insertId": insert_id,
        "resource": {"type": "gce_packet_mirroring",
                     "labels": {"project_id": resource.split("/")[1], "region": resource.split("/")[3]}},
        "timestamp": time,
        "severity": "NOTICE",
        "logName": f"projects/{resource.split('/')[1]}/logs/cloudaudit.googleapis.com%2Factivity",
        "operation": {"id": operation, "producer": "compute.googleapis.com", ("first" if first else "last"): True},
    }
    return entry


def gcp():
    policy = "projects/acme-prod-platform/regions/europe-west1/packetMirrorings/pm-payments-all"
    ids = "projects/acme-prod-platform/regions/us-central1/packetMirrorings/pm-ids-frontend"
    dev = "dev-debug@acme-prod-platform.iam.gserviceaccount.com"
    terraform = "netsec-terraform@acme-shared-tools.iam.gserviceaccount.com"
    base = "https://www.googleapis.com/compute/v1/"
    return [
        gcp_entry("-1ids0first", "2026-11-03T08:00:01.000000Z", "v1.compute.packetMirrorings.insert", ids, terraform, "10.30.0.5",
                  "operation-1793000000001-ids", True,
                  {"@type": "type.googleapis.com/compute.packetMirrorings.insert", "name": "pm-ids-frontend",
                   "collectorIlb": {"url": base + "projects/acme-shared-tools/regions/us-central1/forwardingRules/fr-ids-collector"}}),
        gcp_entry("-1ids0last", "2026-11-03T08:00:14.000000Z", "v1.compute.packetMirrorings.insert", ids, terraform, "10.30.0.5",
                  "operation-1793000000001-ids", False),
        gcp_entry("-2pay0first", "2026-11-14T16:40:09.000000Z", "v1.compute.packetMirrorings.insert", policy, dev, "203.0.113.91",
                  "operation-1793990000002-pay", True,
                  {"@type": "type.googleapis.com/compute.packetMirrorings.insert", "name": "pm-payments-all",
                   "collectorIlb": {"url": base + "projects/acme-prod-platform/regions/europe-west1/forwardingRules/fr-capture-temp"},
                   "mirroredResources": {"subnetworks": [{"url": base + "projects/acme-prod-platform/regions/europe-west1/subnetworks/subnet-payments"}]}}),
        gcp_entry("-2pay0last", "2026-11-14T16:40:22.000000Z", "v1.compute.packetMirrorings.insert", policy, dev, "203.0.113.91",
                  "operation-1793990000002-pay", False),
    ]


def write(name, document):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")


write("cloudtrail.json", cloudtrail())
write("azure-activity.json", azure())
write("gcp-audit.json", gcp())
