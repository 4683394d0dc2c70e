//! Where the audit logs and the inventory meet (`mirrorguard scan --audit PATH…`).
//!
//! Three things only the two together can tell:
//! * **ephemeral mirror** — a mirror (AWS session, GCP policy, Azure vTAP or tap
//!   configuration) created and deleted inside the log window by an unsanctioned change: it
//!   copied traffic while no scan could see it;
//! * **retargeted mirror** — an unsanctioned, successful change that pointed an existing mirror
//!   at a destination no allowlist entry approves (AWS ModifyTrafficMirrorSession with a new
//!   target, a GCP policy patched to another collector);
//! * **who made it** — for every mirror in the inventory, the change that created it and the
//!   last one that changed it, when the logs hold them.
//!
//! Mirrors are keyed by the id both sides use: the `tms-…`, the GCP policy path, the Azure
//! resource id (compared case-insensitively).

use super::command::is_change;
use super::rule::Lifecycle;
use super::{AuditEvent, AuditVerdict};
use crate::allowlist::normalize_target;
use crate::model::Provider;
use crate::posture::{fingerprint, Finding, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The resource kinds whose create-then-delete is a mirror that existed between two scans.
const MIRROR_KINDS: [&str; 4] = [
    "traffic-mirror-session",
    "packet-mirroring",
    "virtual-network-tap",
    "tap-configuration",
];

/// A change the logs attribute to a mirror, as a scan report shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRef {
    pub actor: Option<String>,
    #[serde(serialize_with = "crate::timefmt::serialize_rfc3339_opt")]
    pub time: Option<time::OffsetDateTime>,
    pub operation: String,
    pub verdict: AuditVerdict,
}

impl From<&AuditEvent> for ChangeRef {
    fn from(event: &AuditEvent) -> Self {
        ChangeRef {
            actor: event.actor.clone(),
            time: event.time,
            operation: event.operation.clone(),
            verdict: event.verdict,
        }
    }
}

/// Who created and last changed one mirror, by the logs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MirrorHistory {
    pub created_by: Option<ChangeRef>,
    pub last_changed_by: Option<ChangeRef>,
}

/// The key both sides of the correlation use for a mirror.
pub fn mirror_key(provider: Provider, id: &str) -> String {
    match provider {
        Provider::Azure => id.to_lowercase(),
        Provider::Gcp => normalize_target(Provider::Gcp, id),
        _ => id.to_string(),
    }
}

fn kind_of(event: &AuditEvent) -> Option<&'static str> {
    super::rule::by_id(event.rule).map(|op| op.resource_kind)
}

/// The history of every mirror id the successful changes in `events` name.
pub fn histories(events: &[AuditEvent]) -> BTreeMap<(Provider, String), MirrorHistory> {
    let mut out: BTreeMap<(Provider, String), MirrorHistory> = BTreeMap::new();
    for event in events.iter().filter(|e| is_change(e)) {
        let (Some(resource), Some(kind)) = (&event.resource, kind_of(event)) else {
            continue;
        };
        if !MIRROR_KINDS.contains(&kind) {
            continue;
        }
        let history = out
            .entry((event.provider, mirror_key(event.provider, resource)))
            .or_default();
        match event.lifecycle {
            Lifecycle::Create if history.created_by.is_none() => {
                history.created_by = Some(event.into())
            }
            Lifecycle::Create | Lifecycle::Modify => history.last_changed_by = Some(event.into()),
            Lifecycle::Delete => {}
        }
    }
    out
}

/// `ephemeral-mirror` and `retargeted-mirror` findings. `exists` says whether a mirror id is
/// in the inventory now.
pub fn findings(
    events: &[AuditEvent],
    allowlist: &crate::allowlist::Allowlist,
    now: time::OffsetDateTime,
    exists: impl Fn(Provider, &str) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut created: BTreeMap<(Provider, String), &AuditEvent> = BTreeMap::new();
    for event in events.iter().filter(|e| is_change(e)) {
        let (Some(resource), Some(kind)) = (&event.resource, kind_of(event)) else {
            continue;
        };
        let key = (event.provider, mirror_key(event.provider, resource));
        match event.lifecycle {
            Lifecycle::Create if MIRROR_KINDS.contains(&kind) => {
                created.insert(key, event);
            }
            Lifecycle::Delete if MIRROR_KINDS.contains(&kind) => {
                let Some(create) = created.remove(&key) else {
                    continue;
                };
                if create.verdict == AuditVerdict::Sanctioned || exists(key.0, &key.1) {
                    continue;
                }
                let lived = match (create.time, event.time) {
                    (Some(a), Some(b)) => format!(" for {}", human(b - a)),
                    _ => String::new(),
                };
                findings.push(finding(
                    "ephemeral-mirror",
                    Severity::High,
                    create,
                    resource,
                    format!(
                        "{resource} was created by {} and deleted by {}{lived}: it copied traffic while no scan could see it",
                        create.actor.as_deref().unwrap_or("an unknown actor"),
                        event.actor.as_deref().unwrap_or("an unknown actor"),
                    ),
                ));
            }
            Lifecycle::Modify
                if event.verdict == AuditVerdict::Unsanctioned && MIRROR_KINDS.contains(&kind) =>
            {
                let Some(target) = event.target.as_deref() else {
                    continue;
                };
                if super::verdict::target_approved(
                    event,
                    target,
                    allowlist,
                    event.time.unwrap_or(now),
                ) {
                    continue;
                }
                let resolved = event
                    .target_resolved
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                findings.push(finding(
                    "retargeted-mirror",
                    Severity::Critical,
                    event,
                    resource,
                    format!(
                        "{} pointed {resource} at {target}{resolved}, which no allowlist entry approves",
                        event.actor.as_deref().unwrap_or("an unknown actor"),
                    ),
                ));
            }
            _ => {}
        }
    }
    findings
}

fn finding(
    code: &'static str,
    severity: Severity,
    event: &AuditEvent,
    resource: &str,
    message: String,
) -> Finding {
    let identity = format!(
        "{code}|{}|{}|{}|{}",
        event.provider,
        event.account.as_deref().unwrap_or(""),
        mirror_key(event.provider, resource),
        event.time.map(|t| t.unix_timestamp()).unwrap_or_default()
    );
    Finding {
        code,
        severity,
        fingerprint: fingerprint(&identity),
        provider: Some(event.provider),
        account: event.account.clone(),
        region: event.region.clone(),
        resource: resource.to_string(),
        message,
        activity: Some(crate::posture::Activity::of(event)),
    }
}

/// `3h 12m`, `45s`: how long a mirror lived.
fn human(duration: time::Duration) -> String {
    let seconds = duration.whole_seconds().max(0);
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// An audit run inside a scan, with what it says about the inventory.
#[derive(Debug, Clone)]
pub struct ScanAudit {
    pub report: super::command::AuditReport,
    /// Mirror → who created and last changed it, by the logs.
    pub histories: BTreeMap<(Provider, String), MirrorHistory>,
    /// An ephemeral or retargeted mirror was found (a violation, exit 1).
    pub correlation_violation: bool,
}

impl ScanAudit {
    /// The audit alone would exit 1 (an unsanctioned change), or the correlation found a
    /// violation.
    pub fn has_violation(&self) -> bool {
        self.correlation_violation || self.report.exit_code() == 1
    }

    /// Input was lost: a log file unreadable, truncated or with malformed records, or a live
    /// query that left part of the window unread.
    pub fn lost_input(&self) -> bool {
        self.report.incomplete()
    }

    /// What the logs say about one mirror of the inventory.
    pub fn history(&self, provider: Provider, id: &str) -> Option<&MirrorHistory> {
        self.histories.get(&(provider, mirror_key(provider, id)))
    }
}

/// Correlates an audit with a scan report: adds the audit's findings and the correlation's
/// to the report's, and keeps the audit for the outputs.
pub fn attach(
    report: &mut crate::posture::Report,
    audit: super::command::AuditReport,
    allowlist: &crate::allowlist::Allowlist,
) {
    let mut audit = audit;
    // A session the logs show pointed at a `tmt-…` whose creation is older than the logs: the
    // inventory knows what it sends to, and the verdict is decided on that, as for a target
    // created in the logs.
    let inventory_targets: BTreeMap<&str, &str> = report
        .mirrors
        .iter()
        .filter(|m| m.mirror.provider == Provider::Aws)
        .filter_map(|m| {
            let target = &m.mirror.target;
            Some((target.mirror_target_id.as_deref()?, target.id.as_str()))
        })
        // A target no session uses now (the session was deleted) is staged, and still known.
        .chain(
            report
                .staged
                .iter()
                .map(|s| &s.resource)
                .filter(|s| s.provider == Provider::Aws && s.kind == "traffic-mirror-target")
                .filter_map(|s| Some((s.id.as_str(), s.target.as_ref()?.id.as_str()))),
        )
        .filter(|(tmt, id)| tmt != id)
        .collect();
    let mut resolved_any = false;
    for event in audit
        .events
        .iter_mut()
        .filter(|e| e.provider == Provider::Aws && e.target_resolved.is_none())
    {
        if let Some(id) = event
            .target
            .as_deref()
            .and_then(|t| inventory_targets.get(t))
        {
            event.target_resolved = Some(id.to_string());
            resolved_any = true;
        }
    }
    if resolved_any {
        super::verdict::apply(&mut audit.events, allowlist, audit.generated_at);
        audit.findings =
            super::command::findings(&audit.events, &audit.inputs, &audit.audit_coverage);
    }
    let present: std::collections::BTreeSet<(Provider, String)> = report
        .mirrors
        .iter()
        .map(|m| {
            (
                m.mirror.provider,
                mirror_key(m.mirror.provider, &m.mirror.id),
            )
        })
        .collect();
    let correlated = findings(
        &audit.events,
        allowlist,
        report.generated_at,
        |provider, key| present.contains(&(provider, key.to_string())),
    );
    let correlation_violation = !correlated.is_empty();
    report.findings.extend(audit.findings.iter().cloned());
    report.findings.extend(correlated);
    crate::posture::sort_findings(&mut report.findings);
    report.audit = Some(ScanAudit {
        histories: histories(&audit.events),
        report: audit,
        correlation_violation,
    });
}
