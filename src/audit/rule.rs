//! The rule catalogue: every operation that creates, modifies or deletes traffic mirroring, per
//! provider, with its lifecycle, resource kind, default severity and its documentation.
//!
//! This is the one list every consumer reads (the matcher, correlation, the table, and the
//! exporters to come): adding an operation here is the whole change. Each entry's doc is the
//! user documentation, ruff-style: what it is, why it matters, and its false positives.
//!
//! Matching is exact on the provider's own operation name, never a regular expression: AWS
//! `eventName` for `eventSource = ec2.amazonaws.com`; the GCP `methodName` without its API
//! version prefix (`v1.`, `beta.`, `alpha.`) for `serviceName = compute.googleapis.com`; the
//! Azure operation name compared case-insensitively (exports spell it in upper case). Read-only
//! calls are not in the catalogue, so they never match.

use crate::model::Provider;
use crate::posture::Severity;
use serde::Serialize;

/// What a change does to mirroring (CONTRACTS §5: attaching a NIC to a vTAP and adding a
/// firewall-policy mirroring rule are `create`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Create,
    Modify,
    Delete,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Create => "create",
            Lifecycle::Modify => "modify",
            Lifecycle::Delete => "delete",
        }
    }
}

/// One catalogued operation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// Stable kebab-case id: what reports name in `rule` and exporters key on.
    pub id: &'static str,
    pub provider: Provider,
    /// The provider's name for the call: AWS eventName, GCP methodName without the version
    /// prefix, Azure operation name (canonical mixed case).
    pub name: &'static str,
    pub lifecycle: Lifecycle,
    /// The mirroring resource the call acts on.
    pub resource_kind: &'static str,
    /// Severity of a successful, unsanctioned call; a failed attempt is one step lower.
    pub severity: Severity,
    /// The provider's record of this call always carries the destination (AWS
    /// `TrafficMirrorTargetId` / the target's interface or load balancer, GCP `collectorIlb`):
    /// a record of it without one was cut down on the way (a UDM event, a redacted export), and
    /// an actor's approval alone cannot sanction a destination nobody can see.
    pub names_destination: bool,
    /// What it is.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// Known false positives.
    pub false_positives: &'static str,
}

/// When the catalogue last changed: the `date` of exported rules, so exports stay the same
/// from one run to the next and change only with the catalogue.
pub const CATALOGUE_REVISED: &str = "2026-12-04";

/// The CloudTrail `eventSource` of every AWS entry.
pub const AWS_EVENT_SOURCE: &str = "ec2.amazonaws.com";
/// The Cloud Audit Logs `serviceName` of every GCP entry.
pub const GCP_SERVICE_NAME: &str = "compute.googleapis.com";

const AWS_FP_PIPELINE: &str = "network-visibility teams and their IaC pipelines (Terraform, CloudFormation — `invokedBy: cloudformation.amazonaws.com`) provisioning approved appliances; approve them as [[principals]]";

/// Every catalogued operation. Order: provider, then resource, then lifecycle.
pub const CATALOGUE: &[Operation] = &[
    // ---- AWS VPC Traffic Mirroring: 11 write calls -------------------------------------
    Operation {
        id: "aws-create-traffic-mirror-target",
        provider: Provider::Aws,
        name: "CreateTrafficMirrorTarget",
        lifecycle: Lifecycle::Create,
        resource_kind: "traffic-mirror-target",
        severity: Severity::High,
        names_destination: true,
        what: "Registers a destination for mirrored traffic: an ENI, a Network Load Balancer or a Gateway Load Balancer endpoint, possibly in another account.",
        why: "The first step of T1020.001 in AWS: the target decides where copies of a victim's packets go. A target pointing outside approved appliances is staged exfiltration.",
        false_positives: AWS_FP_PIPELINE,
    },
    Operation {
        id: "aws-create-traffic-mirror-filter",
        provider: Provider::Aws,
        name: "CreateTrafficMirrorFilter",
        lifecycle: Lifecycle::Create,
        resource_kind: "traffic-mirror-filter",
        severity: Severity::Medium,
        names_destination: false,
        what: "Creates a traffic mirror filter (the set of rules that chooses which packets a session copies).",
        why: "Needed for every session; on its own it copies nothing, so it is a preparation signal.",
        false_positives: AWS_FP_PIPELINE,
    },
    Operation {
        id: "aws-create-traffic-mirror-filter-rule",
        provider: Provider::Aws,
        name: "CreateTrafficMirrorFilterRule",
        lifecycle: Lifecycle::Create,
        resource_kind: "traffic-mirror-filter-rule",
        severity: Severity::Medium,
        names_destination: false,
        what: "Adds an accept or reject rule to a traffic mirror filter.",
        why: "Widening what an existing session copies (say, to all TCP) needs no new session: a quiet way to start capturing credentials.",
        false_positives: AWS_FP_PIPELINE,
    },
    Operation {
        id: "aws-create-traffic-mirror-session",
        provider: Provider::Aws,
        name: "CreateTrafficMirrorSession",
        lifecycle: Lifecycle::Create,
        resource_kind: "traffic-mirror-session",
        severity: Severity::High,
        names_destination: true,
        what: "Starts copying a network interface's traffic to a traffic mirror target.",
        why: "The moment traffic duplication begins: every packet the source ENI sends or receives, within the filter, now also goes to the target.",
        false_positives: AWS_FP_PIPELINE,
    },
    Operation {
        id: "aws-modify-traffic-mirror-filter-network-services",
        provider: Provider::Aws,
        name: "ModifyTrafficMirrorFilterNetworkServices",
        lifecycle: Lifecycle::Modify,
        resource_kind: "traffic-mirror-filter",
        severity: Severity::Medium,
        names_destination: false,
        what: "Adds or removes network services (amazon-dns) that a filter mirrors.",
        why: "Mirroring Amazon DNS traffic reveals every name a workload resolves; the original rule missed this call.",
        false_positives: AWS_FP_PIPELINE,
    },
    Operation {
        id: "aws-modify-traffic-mirror-filter-rule",
        provider: Provider::Aws,
        name: "ModifyTrafficMirrorFilterRule",
        lifecycle: Lifecycle::Modify,
        resource_kind: "traffic-mirror-filter-rule",
        severity: Severity::Medium,
        names_destination: false,
        what: "Changes an existing filter rule (ports, CIDRs, protocol, accept/reject).",
        why: "Turns a narrow, approved capture into a broad one without touching the session.",
        false_positives: AWS_FP_PIPELINE,
    },
    Operation {
        id: "aws-modify-traffic-mirror-session",
        provider: Provider::Aws,
        name: "ModifyTrafficMirrorSession",
        lifecycle: Lifecycle::Modify,
        resource_kind: "traffic-mirror-session",
        severity: Severity::High,
        names_destination: false,
        what: "Changes a session: its target, filter, packet length, VNI or session number.",
        why: "Retargeting an approved session to an attacker's target keeps the approved-looking session and redirects its copies.",
        false_positives: AWS_FP_PIPELINE,
    },
    Operation {
        id: "aws-delete-traffic-mirror-filter",
        provider: Provider::Aws,
        name: "DeleteTrafficMirrorFilter",
        lifecycle: Lifecycle::Delete,
        resource_kind: "traffic-mirror-filter",
        severity: Severity::Low,
        names_destination: false,
        what: "Deletes a traffic mirror filter.",
        why: "Clean-up after a capture; together with the create it bounds a mirror's life. The original rule missed this call.",
        false_positives: "routine teardown by the teams that created the filter",
    },
    Operation {
        id: "aws-delete-traffic-mirror-filter-rule",
        provider: Provider::Aws,
        name: "DeleteTrafficMirrorFilterRule",
        lifecycle: Lifecycle::Delete,
        resource_kind: "traffic-mirror-filter-rule",
        severity: Severity::Low,
        names_destination: false,
        what: "Deletes a filter rule.",
        why: "Deleting a reject rule widens what a session copies. The original rule missed this call.",
        false_positives: "routine tuning by the teams that own the filter",
    },
    Operation {
        id: "aws-delete-traffic-mirror-session",
        provider: Provider::Aws,
        name: "DeleteTrafficMirrorSession",
        lifecycle: Lifecycle::Delete,
        resource_kind: "traffic-mirror-session",
        severity: Severity::Medium,
        names_destination: false,
        what: "Stops and deletes a traffic mirror session.",
        why: "An attacker removes the session after capturing: with the create, it marks a mirror no scan ever saw.",
        false_positives: "routine teardown by the teams that created the session",
    },
    Operation {
        id: "aws-delete-traffic-mirror-target",
        provider: Provider::Aws,
        name: "DeleteTrafficMirrorTarget",
        lifecycle: Lifecycle::Delete,
        resource_kind: "traffic-mirror-target",
        severity: Severity::Low,
        names_destination: false,
        what: "Deletes a traffic mirror target.",
        why: "The last step of cleaning up a mirror's infrastructure. The original rule missed this call.",
        false_positives: "routine teardown by the teams that created the target",
    },
    // ---- GCP Packet Mirroring policies ------------------------------------------------
    Operation {
        id: "gcp-packet-mirroring-insert",
        provider: Provider::Gcp,
        name: "compute.packetMirrorings.insert",
        lifecycle: Lifecycle::Create,
        resource_kind: "packet-mirroring",
        severity: Severity::High,
        names_destination: true,
        what: "Creates a Packet Mirroring policy: subnetworks, instances or tags copied to a collector internal load balancer.",
        why: "One call mirrors whole subnetworks of a VPC to a collector of the caller's choosing. The original rule's `insertPacketMirroring` pattern never matched this methodName.",
        false_positives: "network-visibility teams and IaC service accounts deploying approved IDS collectors; approve them as [[principals]]",
    },
    Operation {
        id: "gcp-packet-mirroring-patch",
        provider: Provider::Gcp,
        name: "compute.packetMirrorings.patch",
        lifecycle: Lifecycle::Modify,
        resource_kind: "packet-mirroring",
        severity: Severity::High,
        names_destination: false,
        what: "Changes a Packet Mirroring policy: its collector, mirrored resources, filter or enable state.",
        why: "Pointing an approved policy at a new collector, or adding subnetworks to it, redirects or widens the copy.",
        false_positives: "IaC service accounts reconciling approved policies",
    },
    Operation {
        id: "gcp-packet-mirroring-delete",
        provider: Provider::Gcp,
        name: "compute.packetMirrorings.delete",
        lifecycle: Lifecycle::Delete,
        resource_kind: "packet-mirroring",
        severity: Severity::Medium,
        names_destination: false,
        what: "Deletes a Packet Mirroring policy.",
        why: "With the insert, it bounds a mirror that may have lived between two scans.",
        false_positives: "routine teardown",
    },
    Operation {
        id: "gcp-firewall-policy-add-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.networkFirewallPolicies.addPacketMirroringRule",
        lifecycle: Lifecycle::Create,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::High,
        names_destination: false,
        what: "Adds a packet mirroring rule to a global network firewall policy (Network Security Integration out-of-band mirroring).",
        why: "A second way to mirror in GCP that no packetMirrorings listing shows: matched traffic is copied to a mirroring endpoint group.",
        false_positives: "security teams deploying approved third-party packet brokers",
    },
    Operation {
        id: "gcp-firewall-policy-patch-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.networkFirewallPolicies.patchPacketMirroringRule",
        lifecycle: Lifecycle::Modify,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::High,
        names_destination: false,
        what: "Changes a packet mirroring rule of a global network firewall policy.",
        why: "Widens what the rule copies, or sends it to another security profile group.",
        false_positives: "security teams tuning approved packet brokers",
    },
    Operation {
        id: "gcp-firewall-policy-remove-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.networkFirewallPolicies.removePacketMirroringRule",
        lifecycle: Lifecycle::Delete,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::Medium,
        names_destination: false,
        what: "Removes a packet mirroring rule from a global network firewall policy.",
        why: "With the add, it bounds a rule that may have lived between two scans.",
        false_positives: "routine teardown",
    },
    Operation {
        id: "gcp-region-firewall-policy-add-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.regionNetworkFirewallPolicies.addPacketMirroringRule",
        lifecycle: Lifecycle::Create,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::High,
        names_destination: false,
        what: "Adds a packet mirroring rule to a regional network firewall policy. Listed because the issue asks for the regional form; no public API surface checked shows this method today (see tests/fixtures/audit/NOTES.md), so it is matched in case it appears, never assumed.",
        why: "The regional form of the firewall-policy mirroring path.",
        false_positives: "security teams deploying approved third-party packet brokers",
    },
    Operation {
        id: "gcp-region-firewall-policy-patch-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.regionNetworkFirewallPolicies.patchPacketMirroringRule",
        lifecycle: Lifecycle::Modify,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::High,
        names_destination: false,
        what: "Changes a packet mirroring rule of a regional network firewall policy.",
        why: "Widens what the rule copies, or sends it elsewhere.",
        false_positives: "security teams tuning approved packet brokers",
    },
    Operation {
        id: "gcp-region-firewall-policy-remove-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.regionNetworkFirewallPolicies.removePacketMirroringRule",
        lifecycle: Lifecycle::Delete,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::Medium,
        names_destination: false,
        what: "Removes a packet mirroring rule from a regional network firewall policy.",
        why: "With the add, it bounds a rule that may have lived between two scans.",
        false_positives: "routine teardown",
    },
    Operation {
        id: "gcp-org-firewall-policy-add-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.firewallPolicies.addPacketMirroringRule",
        lifecycle: Lifecycle::Create,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::High,
        names_destination: false,
        what: "Adds a packet mirroring rule to a hierarchical (organization or folder) firewall policy (beta).",
        why: "One rule at the organization level mirrors matching traffic of every VPC the policy is associated with; it is logged in the organization's audit log, not a project's.",
        false_positives: "security teams deploying approved out-of-band inspection across the organization",
    },
    Operation {
        id: "gcp-org-firewall-policy-patch-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.firewallPolicies.patchPacketMirroringRule",
        lifecycle: Lifecycle::Modify,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::High,
        names_destination: false,
        what: "Changes a packet mirroring rule of a hierarchical firewall policy (beta).",
        why: "Widens what an organization-wide rule copies, or sends it to another security profile group.",
        false_positives: "security teams tuning approved packet brokers",
    },
    Operation {
        id: "gcp-org-firewall-policy-remove-mirroring-rule",
        provider: Provider::Gcp,
        name: "compute.firewallPolicies.removePacketMirroringRule",
        lifecycle: Lifecycle::Delete,
        resource_kind: "firewall-policy-mirroring-rule",
        severity: Severity::Medium,
        names_destination: false,
        what: "Removes a packet mirroring rule from a hierarchical firewall policy (beta).",
        why: "With the add, it bounds an organization-wide rule that may have lived between two scans.",
        false_positives: "routine teardown",
    },
    // ---- Azure virtual network TAP ----------------------------------------------------
    Operation {
        id: "azure-virtual-network-tap-write",
        provider: Provider::Azure,
        name: "Microsoft.Network/virtualNetworkTaps/write",
        lifecycle: Lifecycle::Create,
        resource_kind: "virtual-network-tap",
        severity: Severity::High,
        names_destination: false,
        what: "Creates or updates a virtual network TAP: the destination (a NIC IP configuration or a load-balancer frontend) that tapped NICs copy to.",
        why: "Sets or changes where mirrored traffic goes. A write answered 200 (OK) updates an existing vTAP and is reported as `modify`.",
        false_positives: "network teams deploying approved packet collectors; ARM deployments re-applying an unchanged template",
    },
    Operation {
        id: "azure-virtual-network-tap-delete",
        provider: Provider::Azure,
        name: "Microsoft.Network/virtualNetworkTaps/delete",
        lifecycle: Lifecycle::Delete,
        resource_kind: "virtual-network-tap",
        severity: Severity::Medium,
        names_destination: false,
        what: "Deletes a virtual network TAP.",
        why: "With the write, it bounds a vTAP that may have lived between two scans.",
        false_positives: "routine teardown",
    },
    Operation {
        id: "azure-virtual-network-tap-join",
        provider: Provider::Azure,
        name: "Microsoft.Network/virtualNetworkTaps/join/action",
        lifecycle: Lifecycle::Create,
        resource_kind: "virtual-network-tap",
        severity: Severity::High,
        names_destination: false,
        what: "Joins a network interface to a virtual network TAP (the permission check ARM logs when a tapConfiguration references the vTAP).",
        why: "Attaching a NIC starts copying its traffic; the vTAP may live in another subscription than the NIC.",
        false_positives: "network teams attaching workloads to an approved collector",
    },
    Operation {
        id: "azure-tap-configuration-write",
        provider: Provider::Azure,
        name: "Microsoft.Network/networkInterfaces/tapConfigurations/write",
        lifecycle: Lifecycle::Create,
        resource_kind: "tap-configuration",
        severity: Severity::High,
        names_destination: false,
        what: "Creates or updates a NIC's tap configuration, which copies the NIC's traffic to a vTAP.",
        why: "The moment a victim NIC's traffic starts flowing to the vTAP's destination. A write answered 200 (OK) is reported as `modify`.",
        false_positives: "network teams attaching workloads to an approved collector",
    },
    Operation {
        id: "azure-tap-configuration-delete",
        provider: Provider::Azure,
        name: "Microsoft.Network/networkInterfaces/tapConfigurations/delete",
        lifecycle: Lifecycle::Delete,
        resource_kind: "tap-configuration",
        severity: Severity::Medium,
        names_destination: false,
        what: "Removes a NIC's tap configuration.",
        why: "With the write, it bounds a copy that may have lived between two scans.",
        false_positives: "routine teardown",
    },
];

/// The catalogue entry for an AWS CloudTrail event, if it is a mirroring write.
pub fn aws(event_source: &str, event_name: &str) -> Option<&'static Operation> {
    if event_source != AWS_EVENT_SOURCE {
        return None;
    }
    CATALOGUE
        .iter()
        .find(|op| op.provider == Provider::Aws && op.name == event_name)
}

/// The catalogue entry for a GCP audit methodName (`v1.compute.packetMirrorings.insert`), if it
/// is a mirroring write. The version prefix is optional and any API version is accepted;
/// a service other than Compute never matches.
pub fn gcp(service_name: Option<&str>, method_name: &str) -> Option<&'static Operation> {
    if service_name.is_some_and(|s| s != GCP_SERVICE_NAME) {
        return None;
    }
    let method = match method_name.split_once('.') {
        Some((version, rest)) if is_api_version(version) && rest.starts_with("compute.") => rest,
        _ => method_name,
    };
    CATALOGUE
        .iter()
        .find(|op| op.provider == Provider::Gcp && op.name == method)
}

/// `v1`, `beta`, `alpha`, `v2beta1`…: the prefixes Compute audit methodNames carry.
fn is_api_version(text: &str) -> bool {
    matches!(text, "beta" | "alpha")
        || text.starts_with('v')
            && text.len() > 1
            && text[1..].bytes().all(|b| b.is_ascii_alphanumeric())
            && text.as_bytes()[1].is_ascii_digit()
}

/// The catalogue entry for an Azure operation name, in any letter case.
pub fn azure(operation_name: &str) -> Option<&'static Operation> {
    CATALOGUE.iter().find(|op| {
        op.provider == Provider::Azure && op.name.eq_ignore_ascii_case(operation_name.trim())
    })
}

/// The catalogue entry for an observed call, whatever log format it came from. A record
/// that names no service (Chronicle UDM) is decided by the operation name alone.
pub fn for_call(call: &crate::audit::Observed) -> Option<&'static Operation> {
    match call.provider {
        Provider::Aws => aws(
            call.service.as_deref().unwrap_or(AWS_EVENT_SOURCE),
            &call.operation,
        ),
        Provider::Gcp => gcp(call.service.as_deref(), &call.operation),
        Provider::Azure => azure(&call.operation),
        Provider::Network => None,
    }
}

/// The entry with this id.
pub fn by_id(id: &str) -> Option<&'static Operation> {
    CATALOGUE.iter().find(|op| op.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_aws_write_is_catalogued_and_no_read() {
        let writes = [
            "CreateTrafficMirrorFilter",
            "CreateTrafficMirrorFilterRule",
            "CreateTrafficMirrorSession",
            "CreateTrafficMirrorTarget",
            "ModifyTrafficMirrorFilterNetworkServices",
            "ModifyTrafficMirrorFilterRule",
            "ModifyTrafficMirrorSession",
            "DeleteTrafficMirrorFilter",
            "DeleteTrafficMirrorFilterRule",
            "DeleteTrafficMirrorSession",
            "DeleteTrafficMirrorTarget",
        ];
        for name in writes {
            assert!(aws(AWS_EVENT_SOURCE, name).is_some(), "{name}");
        }
        assert_eq!(
            CATALOGUE
                .iter()
                .filter(|o| o.provider == Provider::Aws)
                .count(),
            11
        );
        for read in [
            "DescribeTrafficMirrorSessions",
            "DescribeTrafficMirrorTargets",
            "DescribeTrafficMirrorFilters",
            "DescribeTrafficMirrorFilterRules",
        ] {
            assert!(aws(AWS_EVENT_SOURCE, read).is_none(), "{read}");
        }
        // The same names on another service (Alibaba, Huawei exports) are not EC2.
        assert!(aws("vpc.aliyuncs.com", "CreateTrafficMirrorSession").is_none());
        // Exact names: no prefix or substring matching.
        assert!(aws(AWS_EVENT_SOURCE, "CreateTrafficMirrorSessionX").is_none());
        assert!(aws(AWS_EVENT_SOURCE, "createtrafficmirrorsession").is_none());
    }

    #[test]
    fn gcp_methods_with_any_version_prefix() {
        for method in [
            "v1.compute.packetMirrorings.insert",
            "beta.compute.packetMirrorings.insert",
            "compute.packetMirrorings.insert",
        ] {
            assert_eq!(
                gcp(Some(GCP_SERVICE_NAME), method).map(|o| o.id),
                Some("gcp-packet-mirroring-insert"),
                "{method}"
            );
        }
        assert_eq!(
            gcp(
                None,
                "v1.compute.regionNetworkFirewallPolicies.removePacketMirroringRule"
            )
            .map(|o| o.lifecycle),
            Some(Lifecycle::Delete)
        );
        for read in [
            "v1.compute.packetMirrorings.get",
            "v1.compute.packetMirrorings.list",
            "v1.compute.packetMirrorings.aggregatedList",
            "v1.compute.packetMirrorings.testIamPermissions",
            "v1.compute.networkFirewallPolicies.getPacketMirroringRule",
            "insertPacketMirroring",
            "x1.compute.packetMirrorings.insert",
        ] {
            assert!(gcp(Some(GCP_SERVICE_NAME), read).is_none(), "{read}");
        }
        assert!(gcp(
            Some("networksecurity.googleapis.com"),
            "v1.compute.packetMirrorings.insert"
        )
        .is_none());
    }

    #[test]
    fn azure_operations_in_any_case() {
        assert_eq!(
            azure("MICROSOFT.NETWORK/NETWORKINTERFACES/TAPCONFIGURATIONS/WRITE").map(|o| o.id),
            Some("azure-tap-configuration-write")
        );
        assert!(azure("Microsoft.Network/virtualNetworkTaps/read").is_none());
        assert!(azure("Microsoft.Network/virtualNetworks/write").is_none());
    }

    #[test]
    fn the_readme_names_every_catalogued_operation() {
        let readme = include_str!("../../README.md");
        for op in CATALOGUE {
            // `compute.packetMirrorings.insert` may be written `compute.packetMirrorings.insert`
            // or as `compute.packetMirrorings` … `insert` in a list of its siblings.
            let named = readme.contains(op.name)
                || op.name.rsplit_once('.').is_some_and(|(resource, action)| {
                    readme.contains(resource) && readme.contains(&format!("{action}`"))
                });
            assert!(named, "README does not mention {}", op.name);
        }
    }

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        for (i, op) in CATALOGUE.iter().enumerate() {
            assert!(op
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert!(!op.what.is_empty() && !op.why.is_empty() && !op.false_positives.is_empty());
            assert!(CATALOGUE[i + 1..].iter().all(|other| other.id != op.id));
            assert_eq!(by_id(op.id).map(|o| o.name), Some(op.name));
        }
    }
}
