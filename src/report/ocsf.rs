//! `--format ocsf`: every finding as one OCSF 1.5.0 event per line (newline-delimited JSON),
//! so Amazon Security Lake and SIEM pipelines ingest mirrorguard's findings without glue.
//!
//! Class per finding, following the OCSF definitions of the two Findings classes:
//! - **Detection Finding (2004)** — "a detection or an anomaly": the audit-log findings
//!   (`unsanctioned-change`, `failed-attempt`, `ephemeral-mirror`, `retargeted-mirror`) and
//!   `disappeared-mirror` (a change seen between two scans). They carry the logged call in
//!   `evidences[]`: `api.operation`, the request's record id, `actor.user` and `src_endpoint.ip`.
//! - **Compliance Finding (2003)** — "the result of an evaluation against a control": every
//!   posture result of the scan (the mirror against the allowlist), with `compliance.control` =
//!   the finding's code and `compliance.status_id` Fail (a violation), Pass (an approved
//!   cross-account or outside-organisation destination, reported for the record) or Warning
//!   ("did not yield a result due to missing information": coverage gaps, lost audit input,
//!   allowlist hygiene).
//!
//! Every finding has `finding_info.uid` = its fingerprint (stable across runs), the MITRE
//! ATT&CK mapping (TA0010 Exfiltration, T1020 Automated Exfiltration, T1020.001 Traffic
//! Duplication), `cloud` (provider, region, account) and the resource. Coverage gaps are
//! findings too. Times are epoch milliseconds, as OCSF's `timestamp_t` is.

use crate::model::Provider;
use crate::posture::{Finding, Severity};
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use time::OffsetDateTime;

/// The OCSF schema version every event declares (`metadata.version`).
pub const OCSF_VERSION: &str = "1.5.0";

/// The standard `compliance.standards` names: the control is the allowlist's.
const STANDARD: &str = "mirrorguard allowlist (approved mirror destinations)";

/// The OCSF class of a finding code (see the module doc for why).
pub fn class_of(code: &str) -> (u32, &'static str) {
    match code {
        "unsanctioned-change"
        | "failed-attempt"
        | "ephemeral-mirror"
        | "retargeted-mirror"
        | "disappeared-mirror" => (2004, "Detection Finding"),
        _ => (2003, "Compliance Finding"),
    }
}

/// `compliance.status_id`: 1 Pass, 2 Warning, 3 Fail.
fn compliance_status(finding: &Finding) -> (u8, &'static str) {
    match finding.code {
        "coverage-gap"
        | "audit-coverage-gap"
        | "audit-input-incomplete"
        | "allowlist-unused"
        | "allowlist-expiring"
        | "staged-filter" => (2, "Warning"),
        _ if finding.severity <= Severity::Low => (1, "Pass"),
        _ => (3, "Fail"),
    }
}

fn severity(severity: Severity) -> (u8, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

fn millis(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1_000_000) as i64
}

/// OCSF `cloud.provider` and the account's type (AWS Account is OCSF's type 10; subscriptions
/// and projects have no id of their own in 1.5.0, so they are Other with their name).
fn cloud_names(provider: Provider) -> (&'static str, u8, &'static str) {
    match provider {
        Provider::Aws => ("AWS", 10, "AWS Account"),
        Provider::Azure => ("Azure", 99, "Azure Subscription"),
        Provider::Gcp => ("GCP", 99, "GCP Project"),
        Provider::Network => ("On-premises", 99, "Network Device"),
    }
}

fn account(provider: Provider, uid: &str) -> Value {
    let (_, type_id, type_name) = cloud_names(provider);
    json!({ "uid": uid, "name": uid, "type_id": type_id, "type": type_name })
}

fn title(finding: &Finding) -> String {
    let what = match finding.code {
        "unapproved-mirror" => "Traffic mirror to an unapproved destination",
        "outside-organization-target" => "Traffic mirror destination outside the organisation",
        "expired-approval" => "Traffic mirror approved only by an expired entry",
        "cross-account-target" => "Traffic mirror destination in another account",
        "staged-target" => "Unused mirror target pointing at an unapproved destination",
        "staged-filter" => "Unused traffic mirror filter",
        "orphan-tap-configuration" => "NIC tapped into a virtual network TAP nobody can see",
        "coverage-gap" => "Scope not scanned: mirrors there are unknown",
        "unsanctioned-change" => "Unsanctioned traffic mirroring change",
        "failed-attempt" => "Failed attempt to change traffic mirroring",
        "ephemeral-mirror" => "Traffic mirror created and deleted between scans",
        "retargeted-mirror" => "Traffic mirror pointed at an unapproved destination",
        "audit-input-incomplete" => "Audit log input not read whole",
        "disappeared-mirror" => "Traffic mirror disappeared since the baseline scan",
        "audit-coverage-gap" => "Audit log window not read",
        "allowlist-unused" => "Allowlist entry that matched nothing",
        "allowlist-expiring" => "Allowlist entry about to expire",
        other => other,
    };
    format!("{what}: {}", finding.resource)
}

/// One finding as one OCSF event.
pub fn event(finding: &Finding, generated_at: OffsetDateTime) -> Value {
    let (class_uid, class_name) = class_of(finding.code);
    let (severity_id, severity_name) = severity(finding.severity);
    let activity = finding.activity.as_deref();
    let time = activity.and_then(|a| a.time).unwrap_or(generated_at);
    let mut info = Map::new();
    info.insert("uid".into(), json!(finding.fingerprint));
    info.insert("title".into(), json!(title(finding)));
    info.insert("desc".into(), json!(finding.message));
    info.insert("types".into(), json!([finding.code]));
    info.insert("created_time".into(), json!(millis(generated_at)));
    info.insert("first_seen_time".into(), json!(millis(time)));
    info.insert(
        "attacks".into(),
        json!([{
            "version": "16.1",
            "tactic": { "uid": "TA0010", "name": "Exfiltration" },
            "technique": { "uid": "T1020", "name": "Automated Exfiltration" },
            "sub_technique": { "uid": "T1020.001", "name": "Traffic Duplication" },
        }]),
    );
    if let Some(activity) = activity {
        info.insert(
            "data_sources".into(),
            json!([data_source(finding.provider)]),
        );
        info.insert(
            "analytic".into(),
            json!({ "uid": activity.rule, "name": activity.rule, "type_id": 1, "type": "Rule" }),
        );
    }
    let mut out = Map::new();
    out.insert("class_uid".into(), json!(class_uid));
    out.insert("class_name".into(), json!(class_name));
    out.insert("category_uid".into(), json!(2));
    out.insert("category_name".into(), json!("Findings"));
    out.insert("activity_id".into(), json!(1));
    out.insert("activity_name".into(), json!("Create"));
    out.insert("type_uid".into(), json!(class_uid * 100 + 1));
    out.insert("type_name".into(), json!(format!("{class_name}: Create")));
    out.insert("severity_id".into(), json!(severity_id));
    out.insert("severity".into(), json!(severity_name));
    out.insert("status_id".into(), json!(1));
    out.insert("status".into(), json!("New"));
    out.insert("time".into(), json!(millis(time)));
    out.insert("message".into(), json!(finding.message));
    out.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "product": {
                "name": "mirrorguard",
                "vendor_name": "mirrorguard",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "profiles": ["cloud"],
            "event_code": finding.code,
        }),
    );
    out.insert("finding_info".into(), Value::Object(info));
    if let Some(provider) = finding.provider {
        let mut cloud = Map::new();
        cloud.insert("provider".into(), json!(cloud_names(provider).0));
        if let Some(region) = &finding.region {
            cloud.insert("region".into(), json!(region));
        }
        if let Some(uid) = &finding.account {
            cloud.insert("account".into(), account(provider, uid));
        }
        out.insert("cloud".into(), Value::Object(cloud));
    }
    let mut resource = Map::new();
    resource.insert("uid".into(), json!(finding.resource));
    resource.insert("name".into(), json!(finding.resource));
    if let Some(region) = &finding.region {
        resource.insert("region".into(), json!(region));
    }
    out.insert("resources".into(), json!([Value::Object(resource)]));
    if class_uid == 2003 {
        let (status_id, status) = compliance_status(finding);
        out.insert(
            "compliance".into(),
            json!({
                "control": finding.code,
                "standards": [STANDARD],
                "status_id": status_id,
                "desc": finding.message,
            }),
        );
        out.insert("status_code".into(), json!(status));
        out.insert("status_detail".into(), json!(finding.message));
    }
    if let Some(activity) = activity {
        out.insert("evidences".into(), json!([evidence(finding, activity)]));
    }
    Value::Object(out)
}

/// What the log said about the call: the API operation and record, the actor, the source IP.
fn evidence(finding: &Finding, activity: &crate::posture::Activity) -> Value {
    let mut api = Map::new();
    api.insert("operation".into(), json!(activity.operation));
    if let Some(id) = activity.record_ids.first() {
        api.insert("request".into(), json!({ "uid": id }));
    }
    let mut evidence = Map::new();
    evidence.insert("api".into(), Value::Object(api));
    if let Some(actor) = &activity.actor {
        let mut user = Map::new();
        user.insert("name".into(), json!(actor));
        user.insert("uid".into(), json!(actor));
        user.insert("type_id".into(), json!(0));
        if let (Some(provider), Some(uid)) = (finding.provider, &finding.account) {
            user.insert("account".into(), account(provider, uid));
        }
        if let Some(session) = &activity.actor_session {
            user.insert("uid_alt".into(), json!(session));
        }
        evidence.insert("actor".into(), json!({ "user": Value::Object(user) }));
    }
    // CloudTrail names an AWS service as the source of calls it makes for a user
    // (`cloudformation.amazonaws.com`): that is a service, not an address.
    if let Some(source) = &activity.source_ip {
        let endpoint = if source.parse::<std::net::IpAddr>().is_ok() {
            json!({ "ip": source })
        } else {
            json!({ "svc_name": source })
        };
        evidence.insert("src_endpoint".into(), endpoint);
    }
    evidence.insert(
        "data".into(),
        json!({
            "outcome": if activity.succeeded { "success" } else { "failure" },
            "error_code": activity.error_code,
            "record_ids": activity.record_ids,
        }),
    );
    Value::Object(evidence)
}

fn data_source(provider: Option<Provider>) -> &'static str {
    match provider {
        Some(Provider::Aws) => "AWS CloudTrail",
        Some(Provider::Azure) => "Azure Activity Log",
        Some(Provider::Gcp) => "GCP Cloud Audit Logs",
        _ => "audit log",
    }
}

/// Every finding as one line of OCSF JSON.
pub fn write_findings(
    findings: &[Finding],
    generated_at: OffsetDateTime,
    out: &mut dyn Write,
) -> io::Result<()> {
    for finding in findings {
        serde_json::to_writer(&mut *out, &event(finding, generated_at))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posture_results_are_compliance_findings_and_log_detections_detection_findings() {
        assert_eq!(class_of("unapproved-mirror").0, 2003);
        assert_eq!(class_of("coverage-gap").0, 2003);
        assert_eq!(class_of("unsanctioned-change").0, 2004);
        assert_eq!(class_of("ephemeral-mirror").0, 2004);
    }
}
