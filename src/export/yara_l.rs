//! The corrected Chronicle YARA-L 2.0 rule: what `detect_traffic_duplication_t1020_001` (the
//! seed, `shared/seed/`) meant to catch, with every gap `reference/audit-events.md` lists fixed.
//!
//! - every catalogued operation, as an anchored regular expression over
//!   `metadata.product_event_type` (the seed's unanchored alternation matched
//!   `CreateTrafficMirrorFilterRule` and `patchPacketMirroringRule` by accident, missed four AWS
//!   writes and every real GCP `packetMirrorings` method);
//! - Azure by operation name, not by a substring of `target.resource.name` (which fired on a
//!   resource group called `…virtualnetworktaps…` and on tags writes under a vTAP);
//! - an outcome condition: `security_result.action = "ALLOW"` unless attempts are asked for,
//!   and Azure Started/Accepted records and GCP first-of-operation entries left out (their
//!   final record carries the outcome);
//! - one detection per change: a `match` over the change (GCP `operation_id`, Azure
//!   `correlationId` with resource and operation, else the record's `product_log_id`), so a
//!   record delivered twice or an operation logged twice is one detection.
//!
//! Where the UDM fields come from is as `audit::sources::udm` reads them (the inferred ones are
//! named there); a Chronicle tenant whose parsers fill other fields needs those lines changed.

use super::{
    gcp_method_regex, names, operations, regex_escape, title, Selection, ATTACK_TACTIC,
    ATTACK_TACTIC_ID, ATTACK_TECHNIQUE, ATTACK_TECHNIQUE_ID, ATTACK_URL, AZURE_INTERMEDIATE,
};
use crate::model::Provider;
use crate::posture::Severity;
use std::fmt::Write;

/// The rule's name (YARA-L rule names are identifiers).
pub const RULE_NAME: &str = "mirrorguard_traffic_duplication_t1020_001";

fn aws_regex() -> String {
    let names: Vec<String> = names(Provider::Aws).into_iter().map(regex_escape).collect();
    format!("^({})$", names.join("|"))
}

fn azure_regex() -> String {
    let names: Vec<String> = names(Provider::Azure)
        .into_iter()
        .map(regex_escape)
        .collect();
    format!("(?i)^({})$", names.join("|"))
}

/// The regular expression of one provider's operations in the selection.
fn provider_regex(provider: Provider) -> String {
    match provider {
        Provider::Aws => aws_regex(),
        Provider::Azure => azure_regex(),
        Provider::Gcp => gcp_method_regex(),
        Provider::Network => String::new(),
    }
}

/// Risk score of a catalogued severity (Chronicle scores run 0-100).
fn risk(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 95,
        Severity::High => 80,
        Severity::Medium => 55,
        Severity::Low => 30,
        Severity::Info => 10,
    }
}

/// The names of the selected providers' operations of one severity, as one anchored regex.
fn severity_regex(selection: &Selection, severity: Severity) -> Option<String> {
    let mut groups: Vec<String> = Vec::new();
    for provider in &selection.providers {
        let names: Vec<String> = operations(*provider)
            .filter(|op| op.severity == severity)
            .map(|op| regex_escape(op.name.strip_prefix("compute.").unwrap_or(op.name)))
            .collect();
        if names.is_empty() {
            continue;
        }
        groups.push(match provider {
            Provider::Gcp => format!(
                r"((v[0-9][A-Za-z0-9]*|beta|alpha)\.)?compute\.({})",
                names.join("|")
            ),
            _ => names.join("|"),
        });
    }
    (!groups.is_empty()).then(|| format!("(?i)^({})$", groups.join("|")))
}

pub fn render(selection: &Selection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "// {}", title(selection));
    let _ = writeln!(
        out,
        "// Corrects detect_traffic_duplication_t1020_001: anchored names for every catalogued operation,"
    );
    let _ = writeln!(
        out,
        "// Azure by operation name, an outcome condition, one detection per change."
    );
    let _ = writeln!(out, "rule {RULE_NAME} {{");
    let _ = writeln!(out, "  meta:");
    let covered: Vec<&str> = selection.providers.iter().map(|p| p.as_str()).collect();
    let count: usize = selection
        .providers
        .iter()
        .map(|p| operations(*p).count())
        .sum();
    for (key, value) in [
        ("author", "mirrorguard".to_string()),
        (
            "description",
            format!(
                "{} of traffic mirroring ({}): the {count} operations of mirrorguard's rule catalogue, one detection per change.",
                if selection.include_attempts {
                    "Creation, modification, deletion or attempts"
                } else {
                    "Successful creation, modification or deletion"
                },
                covered.join(", ")
            ),
        ),
        ("mitre_attack_tactic", format!("{ATTACK_TACTIC} ({ATTACK_TACTIC_ID})")),
        ("mitre_attack_technique", ATTACK_TECHNIQUE.to_string()),
        ("mitre_attack_technique_id", ATTACK_TECHNIQUE_ID.to_string()),
        ("reference", ATTACK_URL.to_string()),
        ("severity", "HIGH".to_string()),
        ("priority", "HIGH".to_string()),
        ("rule_version", "2.0".to_string()),
        ("replaces", "detect_traffic_duplication_t1020_001".to_string()),
        (
            "false_positives",
            "Approved network-visibility teams and their IaC service accounts; authorised red-team engagements. Allowlist them by principal."
                .to_string(),
        ),
    ] {
        let _ = writeln!(out, "    {key} = \"{}\"", value.replace('"', "'"));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  events:");
    let _ = writeln!(out, "    (");
    for (i, provider) in selection.providers.iter().enumerate() {
        let comment = match provider {
            Provider::Aws => "AWS CloudTrail: the VPC Traffic Mirroring writes (eventName)",
            Provider::Azure => "Azure Activity Log: virtual network TAP operations, any letter case",
            Provider::Gcp => "GCP Cloud Audit Logs: Packet Mirroring and firewall-policy mirroring rules, any API version prefix",
            Provider::Network => "",
        };
        let _ = writeln!(out, "      // {comment}");
        let _ = writeln!(
            out,
            "      {}re.regex($e.metadata.product_event_type, `{}`)",
            if i == 0 { "" } else { "or " },
            provider_regex(*provider)
        );
    }
    let _ = writeln!(out, "    )");
    if !selection.include_attempts {
        let _ = writeln!(
            out,
            "    // Successful calls only: refused calls and DryRun probes are attempts, not changes."
        );
        let _ = writeln!(out, "    $e.security_result.action = \"ALLOW\"");
    }
    if selection.has(Provider::Azure) {
        let _ = writeln!(
            out,
            "    // An Azure operation's Started/Accepted record says only that it began."
        );
        let _ = writeln!(
            out,
            "    not re.regex($e.additional.fields[\"status\"], `(?i)^({})$`)",
            AZURE_INTERMEDIATE.join("|")
        );
    }
    if selection.has(Provider::Gcp) {
        let _ = writeln!(
            out,
            "    // A GCP operation's first entry (unless also its last) says only that it began."
        );
        let _ = writeln!(
            out,
            "    not ($e.additional.fields[\"operation_first\"] = \"true\" nocase and not $e.additional.fields[\"operation_last\"] = \"true\" nocase)"
        );
    }
    let _ = writeln!(out, "    $operation = $e.metadata.product_event_type");
    let _ = writeln!(out, "    $resource = $e.target.resource.name");
    let _ = writeln!(
        out,
        "    $change = strings.coalesce($e.additional.fields[\"operation_id\"], $e.additional.fields[\"correlationId\"], $e.metadata.product_log_id)"
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "  match:");
    let _ = writeln!(out, "    $change, $operation, $resource over 1h");
    let _ = writeln!(out);
    let _ = writeln!(out, "  outcome:");
    let mut score = String::from("10");
    for severity in [Severity::Low, Severity::Medium, Severity::High] {
        if let Some(regex) = severity_regex(selection, severity) {
            score = format!(
                "if(re.regex($e.metadata.product_event_type, `{regex}`), {}, {score})",
                risk(severity)
            );
        }
    }
    let _ = writeln!(out, "    $risk_score = max({score})");
    let _ = writeln!(out, "    $actor = array_distinct($e.principal.user.userid)");
    let _ = writeln!(out, "    $source_ip = array_distinct($e.principal.ip)");
    let _ = writeln!(
        out,
        "    $account = array_distinct($e.target.resource.attribute.cloud.project.name)"
    );
    let _ = writeln!(
        out,
        "    $region = array_distinct($e.target.resource.attribute.cloud.availability_zone)"
    );
    if selection.include_attempts {
        let _ = writeln!(
            out,
            "    $attempt = max(if($e.security_result.action = \"BLOCK\", 1, 0))"
        );
    }
    let _ = writeln!(out, "    $records = count($e.metadata.product_log_id)");
    let _ = writeln!(out);
    let _ = writeln!(out, "  condition:");
    let _ = writeln!(out, "    $e");
    let _ = writeln!(out, "}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::seed;
    use crate::export::ExportFormat;

    /// The seed's gaps, checked against the export's own patterns: every catalogued name
    /// matches exactly one provider's anchored pattern, and the names the seed matched only by
    /// a prefix do not match the operation they are a prefix of.
    #[test]
    fn every_operation_matches_its_anchored_pattern_and_no_prefix_does() {
        let selection = Selection::new(ExportFormat::YaraL, &[], false).unwrap();
        let rule = render(&selection);
        for provider in &selection.providers {
            let regex = regex_lite::Regex::new(&provider_regex(*provider)).unwrap();
            for op in operations(*provider) {
                assert!(regex.is_match(op.name), "{}", op.name);
            }
        }
        let aws = regex_lite::Regex::new(&aws_regex()).unwrap();
        assert!(!aws.is_match("CreateTrafficMirrorFilterRuleX"));
        assert!(!aws.is_match("DescribeTrafficMirrorSessions"));
        let azure = regex_lite::Regex::new(&azure_regex()).unwrap();
        assert!(azure.is_match("MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE"));
        assert!(!azure.is_match("Microsoft.Network/virtualNetworks/write"));
        assert!(rule.contains("$e.security_result.action = \"ALLOW\""));
        // The seed's own patterns are not what the export uses.
        for (_, pattern) in seed::PATTERNS {
            assert!(!rule.contains(pattern));
        }
    }
}
