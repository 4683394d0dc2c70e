//! Sigma: one rule per provider log source (`aws/cloudtrail`, `azure/activitylogs`,
//! `gcp/gcp.audit`), written as one multi-document YAML stream.
//!
//! Field names are SigmaHQ's for those log sources (`eventSource`, `eventName`, `errorCode`;
//! `operationName`, `resultType`; `gcp.audit.method_name`, `gcp.audit.service_name`,
//! `gcp.audit.status.code`). Sigma matches records, not changes: it cannot fold an Azure
//! operation's records or a GCP operation's entries into one, so the Azure rule leaves out
//! Started/Accepted records and the GCP rule says in its description that a long-running
//! operation may match twice. The failure filter uses `|exists`, the one form both the Splunk
//! and Kusto backends convert faithfully (a `null` test becomes `isnull()` in KQL, which is
//! never true of a string column). Ids are UUIDs derived from the provider's name, stable from
//! one export to the next.

use super::{
    gcp_method_regex, names, operations, single_quoted as q, title, top_severity, Selection,
    ATTACK_URL, AZURE_FAILURE, AZURE_INTERMEDIATE,
};
use crate::audit::rule::{AWS_EVENT_SOURCE, CATALOGUE_REVISED, GCP_SERVICE_NAME};
use crate::model::Provider;
use crate::posture::Severity;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// A stable UUID (version 8, RFC 9562's custom layout) for the rule of `provider`: the
/// first 16 bytes of SHA-256 over a fixed name, with the version and variant bits set.
pub fn rule_id(provider: Provider) -> String {
    let digest = Sha256::digest(format!("mirrorguard/sigma/{}", provider.as_str()).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low | Severity::Info => "low",
    }
}

fn list(out: &mut String, indent: &str, items: &[&str]) {
    for item in items {
        let _ = writeln!(out, "{indent}- {}", q(item));
    }
}

/// The false positives of the provider's operations, each once, in catalogue order.
fn false_positives(provider: Provider) -> Vec<&'static str> {
    let mut seen = Vec::new();
    for op in operations(provider) {
        if !seen.contains(&op.false_positives) {
            seen.push(op.false_positives);
        }
    }
    seen
}

fn rule(out: &mut String, provider: Provider, selection: &Selection) {
    let (heading, logsource, reference) = match provider {
        Provider::Aws => (
            "AWS VPC Traffic Mirroring",
            ("aws", "cloudtrail"),
            "https://docs.aws.amazon.com/vpc/latest/mirroring/traffic-mirroring-how-it-works.html",
        ),
        Provider::Azure => (
            "Azure virtual network TAP",
            ("azure", "activitylogs"),
            "https://learn.microsoft.com/en-us/azure/virtual-network/virtual-network-tap-overview",
        ),
        _ => (
            "GCP Packet Mirroring",
            ("gcp", "gcp.audit"),
            "https://cloud.google.com/vpc/docs/packet-mirroring",
        ),
    };
    let _ = writeln!(
        out,
        "title: {heading} {}",
        if selection.include_attempts {
            "Change or Attempt"
        } else {
            "Change"
        }
    );
    let _ = writeln!(out, "id: {}", rule_id(provider));
    let _ = writeln!(out, "status: experimental");
    let _ = writeln!(out, "description: |");
    let mut description = format!(
        "{}. Every traffic-mirroring operation of mirrorguard's catalogue for {} ({} operations).",
        title(selection),
        provider.as_str(),
        operations(provider).count()
    );
    match provider {
        Provider::Azure => description.push_str(
            " Started and Accepted records are left out: the operation's final record carries its outcome.",
        ),
        Provider::Gcp => description.push_str(
            " A long-running operation logs a first and a last entry; both may match (Sigma cannot group them: the SQL and KQL exports do).",
        ),
        _ => {}
    }
    let _ = writeln!(out, "    {description}");
    let _ = writeln!(out, "references:");
    list(out, "    ", &[reference, ATTACK_URL]);
    let _ = writeln!(out, "author: mirrorguard");
    let _ = writeln!(out, "date: {CATALOGUE_REVISED}");
    let _ = writeln!(out, "tags:");
    list(out, "    ", &["attack.exfiltration", "attack.t1020.001"]);
    let _ = writeln!(out, "logsource:");
    let _ = writeln!(out, "    product: {}", logsource.0);
    let _ = writeln!(out, "    service: {}", logsource.1);
    let _ = writeln!(out, "detection:");
    let _ = writeln!(out, "    selection:");
    let mut filters: Vec<&str> = Vec::new();
    match provider {
        Provider::Aws => {
            let _ = writeln!(out, "        eventSource: {}", q(AWS_EVENT_SOURCE));
            let _ = writeln!(out, "        eventName:");
            list(out, "            ", &names(Provider::Aws));
            if !selection.include_attempts {
                let _ = writeln!(out, "    filter_main_failed:");
                let _ = writeln!(out, "        errorCode|exists: true");
                filters.push("filter_main_failed");
            }
        }
        Provider::Azure => {
            let _ = writeln!(out, "        operationName:");
            list(out, "            ", &names(Provider::Azure));
            let _ = writeln!(out, "    filter_main_not_final:");
            let _ = writeln!(out, "        resultType:");
            list(out, "            ", &AZURE_INTERMEDIATE);
            filters.push("filter_main_not_final");
            if !selection.include_attempts {
                let _ = writeln!(out, "    filter_main_failed:");
                let _ = writeln!(out, "        resultType:");
                list(out, "            ", &AZURE_FAILURE);
                filters.push("filter_main_failed");
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "        gcp.audit.service_name: {}",
                q(GCP_SERVICE_NAME)
            );
            let _ = writeln!(
                out,
                "        gcp.audit.method_name|re: {}",
                q(&gcp_method_regex())
            );
            if !selection.include_attempts {
                let _ = writeln!(out, "    filter_main_failed:");
                let _ = writeln!(out, "        gcp.audit.status.code|exists: true");
                let _ = writeln!(out, "    filter_main_ok:");
                let _ = writeln!(out, "        gcp.audit.status.code: 0");
            }
        }
    }
    let condition = match (provider, selection.include_attempts) {
        (Provider::Gcp, false) => {
            "selection and not (filter_main_failed and not filter_main_ok)".to_string()
        }
        _ if filters.is_empty() => "selection".to_string(),
        _ => "selection and not 1 of filter_main_*".to_string(),
    };
    let _ = writeln!(out, "    condition: {condition}");
    let _ = writeln!(out, "falsepositives:");
    list(out, "    ", &false_positives(provider));
    let _ = writeln!(out, "level: {}", level(top_severity(provider)));
}

/// The rules of the selected providers, one YAML document each.
pub fn render(selection: &Selection) -> String {
    let mut out = String::new();
    for (i, provider) in selection.providers.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out, "---");
        }
        rule(&mut out, *provider, selection);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_stable_uuids_one_per_provider() {
        let aws = rule_id(Provider::Aws);
        assert_eq!(aws, rule_id(Provider::Aws));
        assert_ne!(aws, rule_id(Provider::Gcp));
        assert_eq!(aws.len(), 36);
        assert_eq!(&aws[14..15], "8");
    }
}
