//! Inventory × allowlist → verdicts and findings.
//!
//! Each mirror gets a verdict (approved, unapproved, expired) from the `targets` entries; every
//! notable fact becomes a [`Finding`] with a stable kebab-case code and a fingerprint that is the
//! same for the same finding across runs. The exit code is derived from the report here, in one
//! place, so every output format agrees with it.

use crate::allowlist::{Allowlist, EntryRef, Verdict};
use crate::model::{
    CoverageRow, CoverageStatus, Identity, Inventory, Mirror, OrphanTapConfiguration, Provider,
    StagedResource,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;
use time::OffsetDateTime;

/// Entries expiring within this many days are warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// One step less severe (for mirrors that exist but are switched off).
    pub fn lowered(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            Severity::Low | Severity::Info => Severity::Info,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MirrorVerdict {
    Approved,
    Unapproved,
    Expired,
}

impl MirrorVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorVerdict::Approved => "approved",
            MirrorVerdict::Unapproved => "unapproved",
            MirrorVerdict::Expired => "expired",
        }
    }
}

/// A mirror with the allowlist's decision about it.
#[derive(Debug, Clone)]
pub struct EvaluatedMirror {
    pub mirror: Mirror,
    pub verdict: MirrorVerdict,
    /// The entry that approved it, or for `expired` the entry that used to.
    pub approved_by: Option<EntryRef>,
    /// The highest severity among this mirror's findings; `None` when it has none.
    pub severity: Option<Severity>,
    /// The destination's owner is not a member of the organisation the scan listed; `None`
    /// when no organisation is known for the provider, or the owner is not.
    pub outside_organization: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct EvaluatedStaged {
    pub resource: StagedResource,
    pub verdict: MirrorVerdict,
    pub approved_by: Option<EntryRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub fingerprint: String,
    /// `None` only for an allowlist entry that names no provider (an engagement).
    pub provider: Option<Provider>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// The mirror, resource, scope or allowlist entry the finding is about.
    pub resource: String,
    pub message: String,
    /// The logged call behind a finding of the audit check: who, from where, how. Kept out of
    /// scan/v1 and audit/v1 (their events carry it already); OCSF findings stand alone.
    #[serde(skip)]
    pub activity: Option<Box<Activity>>,
}

/// The call an audit finding is about, as OCSF's evidences carry it.
#[derive(Debug, Clone)]
pub struct Activity {
    pub time: Option<OffsetDateTime>,
    pub operation: String,
    /// The catalogue entry that matched (its id).
    pub rule: &'static str,
    pub succeeded: bool,
    pub error_code: Option<String>,
    pub actor: Option<String>,
    pub actor_session: Option<String>,
    pub source_ip: Option<String>,
    pub record_ids: Vec<String>,
}

impl Activity {
    pub fn of(event: &crate::audit::AuditEvent) -> Box<Activity> {
        Box::new(Activity {
            time: event.time,
            operation: event.operation.clone(),
            rule: event.rule,
            succeeded: event.outcome == crate::audit::Outcome::Success,
            error_code: event.error_code.clone(),
            actor: event.actor.clone(),
            actor_session: event.actor_session.clone(),
            source_ip: event.source_ip.clone(),
            record_ids: event.record_ids.clone(),
        })
    }
}

impl Finding {
    fn new(
        code: &'static str,
        severity: Severity,
        provider: impl Into<Option<Provider>>,
        account: Option<&str>,
        region: Option<&str>,
        resource: &str,
        message: String,
    ) -> Finding {
        let provider = provider.into();
        let identity = format!(
            "{code}|{}|{}|{}|{resource}",
            provider.map_or("", Provider::as_str),
            account.unwrap_or(""),
            region.unwrap_or("")
        );
        // ARM does not keep one spelling of an id between calls; the same finding must keep
        // its fingerprint whichever spelling this run saw.
        let identity = if provider == Some(Provider::Azure) {
            identity.to_lowercase()
        } else {
            identity
        };
        Finding {
            code,
            severity,
            fingerprint: fingerprint(&identity),
            provider,
            account: account.map(str::to_string),
            region: region.map(str::to_string),
            resource: resource.to_string(),
            message,
            activity: None,
        }
    }
}

/// A finding about an allowlist entry, fingerprinted by what the entry matches rather than
/// its position, so inserting an entry above it does not change its identity.
fn entry_finding(
    code: &'static str,
    severity: Severity,
    provider: Option<Provider>,
    meta: &crate::allowlist::EntryMeta,
    message: String,
) -> Finding {
    let mut finding = Finding::new(
        code,
        severity,
        provider,
        None,
        None,
        &meta.reference,
        message,
    );
    finding.fingerprint = fingerprint(&format!("{code}|{}", meta.key));
    finding
}

pub(crate) fn fingerprint(identity: &str) -> String {
    format!("{:x}", Sha256::digest(identity.as_bytes()))[..16].to_string()
}

/// The one order findings are reported in: provider, account, region, resource, code.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.provider, &a.account, &a.region, &a.resource, a.code).cmp(&(
            b.provider,
            &b.account,
            &b.region,
            &b.resource,
            b.code,
        ))
    });
}

/// What the report says about the allowlist itself.
#[derive(Debug, Clone, Serialize)]
pub struct AllowlistSummary {
    pub path: String,
    pub sha256: String,
    pub unused: Vec<EntryRef>,
    pub expiring: Vec<EntryRef>,
}

/// Everything one scan found, ready for any output format.
#[derive(Debug, Clone)]
pub struct Report {
    pub generated_at: OffsetDateTime,
    pub providers: Vec<Provider>,
    pub identities: Vec<Identity>,
    pub allowlist: AllowlistSummary,
    pub mirrors: Vec<EvaluatedMirror>,
    pub staged: Vec<EvaluatedStaged>,
    pub coverage: Vec<CoverageRow>,
    pub findings: Vec<Finding>,
    /// A NIC is mirrored into a vTAP whose subscription was listed, or not part of the scan,
    /// and the vTAP is not there: a destination nobody can check (see `orphan_finding`).
    pub orphan_violation: bool,
    /// The audit-log check run with the scan (`scan --audit`), correlated with the inventory.
    pub audit: Option<crate::audit::correlate::ScanAudit>,
    /// What changed since an earlier report (`scan --baseline`).
    pub baseline: Option<crate::baseline::Comparison>,
}

impl Report {
    /// CONTRACTS §6 for `scan`: 1 on a violation, else 3 on a coverage gap, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.has_violation() {
            1
        } else if self.coverage.iter().any(|row| row.status.is_gap())
            || self.audit.as_ref().is_some_and(|a| a.lost_input())
        {
            3
        } else {
            0
        }
    }

    pub fn has_violation(&self) -> bool {
        self.mirrors
            .iter()
            .any(|m| m.verdict != MirrorVerdict::Approved)
            || self.orphan_violation
            || self.audit.as_ref().is_some_and(|a| a.has_violation())
    }
}

/// Evaluates an inventory against the allowlist at `now`.
pub fn evaluate(
    inventory: Inventory,
    allowlist: &Allowlist,
    providers: &[Provider],
    now: OffsetDateTime,
) -> Report {
    let mut findings = Vec::new();
    let mut used = vec![false; allowlist.targets.len()];

    let mut mirrors = Vec::new();
    let outside: Vec<Option<bool>> = inventory
        .mirrors
        .iter()
        .map(|m| inventory.outside_organization(m))
        .collect();
    for (mirror, outside_organization) in inventory.mirrors.into_iter().zip(outside) {
        let verdict = allowlist.verdict(&mirror, now);
        // Every matching entry counts as used, not just the first: an entry shadowed by another
        // still does its job and should not be reported as dead.
        for (index, entry) in allowlist.targets.iter().enumerate() {
            if entry.matches(&mirror) {
                used[index] = true;
            }
        }
        let (verdict, approved_by) = decided_by(allowlist, verdict);
        let mut own = mirror_findings(&mirror, verdict, approved_by.as_ref(), outside_organization);
        let severity = own.iter().map(|f| f.severity).max();
        findings.append(&mut own);
        mirrors.push(EvaluatedMirror {
            mirror,
            verdict,
            approved_by,
            severity,
            outside_organization,
        });
    }

    let mut staged = Vec::new();
    for resource in inventory.staged {
        let verdict = match &resource.target {
            Some(target) => {
                let matches = |entry: &crate::allowlist::TargetEntry| {
                    entry.provider == resource.provider
                        && entry.names(target, resource.provider)
                        && entry.admits_scope(&resource.account, resource.region.as_deref())
                };
                for (index, entry) in allowlist.targets.iter().enumerate() {
                    if matches(entry) {
                        used[index] = true;
                    }
                }
                allowlist.verdict_for(matches, now)
            }
            None => Verdict::Unapproved,
        };
        let (verdict, approved_by) = decided_by(allowlist, verdict);
        if let Some(finding) = staged_finding(&resource, verdict) {
            findings.push(finding);
        }
        staged.push(EvaluatedStaged {
            resource,
            verdict,
            approved_by,
        });
    }

    let mut orphan_violation = false;
    for orphan in &inventory.orphans {
        let (finding, violation) = orphan_finding(orphan, &inventory.coverage);
        orphan_violation |= violation;
        findings.push(finding);
    }

    for row in &inventory.coverage {
        if row.status.is_gap() {
            let scope = scope_name(row);
            findings.push(Finding::new(
                "coverage-gap",
                Severity::Medium,
                row.scope.provider,
                row.scope.account.as_deref(),
                row.scope.region.as_deref(),
                &scope,
                format!(
                    "{} {scope} was not scanned ({}): {}",
                    row.scope.provider,
                    row.status.as_str(),
                    row.detail.as_deref().unwrap_or("no detail")
                ),
            ));
        }
    }

    let mut unused = Vec::new();
    for (index, entry) in allowlist.targets.iter().enumerate() {
        if used[index] || !providers.contains(&entry.provider) {
            continue;
        }
        // An entry whose scopes were not all listed may well match something unseen.
        let blind = inventory.coverage.iter().any(|row| {
            row.scope.provider == entry.provider
                && row.status.is_gap()
                && entry.may_cover(row.scope.account.as_deref(), row.scope.region.as_deref())
        });
        if blind {
            continue;
        }
        let reference = EntryRef::from(&entry.meta);
        findings.push(entry_finding(
            "allowlist-unused",
            Severity::Low,
            Some(entry.provider),
            &entry.meta,
            format!(
                "{} (line {}, {}) approves {} but matched no mirror or target in this scan",
                entry.meta.reference, entry.meta.line, entry.meta.ticket, entry.target.written
            ),
        ));
        unused.push(reference);
    }

    let mut expiring = Vec::new();
    let horizon = now
        .checked_add(time::Duration::days(EXPIRY_WARNING_DAYS))
        .unwrap_or(now);
    for (provider, meta) in allowlist.all_entries() {
        let Some(expires) = &meta.expires else {
            continue;
        };
        if !expires.has_passed(now) && expires.ends_at <= horizon {
            let days = (expires.ends_at - now).whole_days();
            findings.push(entry_finding(
                "allowlist-expiring",
                Severity::Low,
                provider,
                meta,
                format!(
                    "{} (line {}, {}, owner {}) expires {} ({} day{} left)",
                    meta.reference,
                    meta.line,
                    meta.ticket,
                    meta.owner,
                    expires.written,
                    days,
                    if days == 1 { "" } else { "s" }
                ),
            ));
            expiring.push(EntryRef::from(meta));
        }
    }

    sort_findings(&mut findings);

    Report {
        generated_at: now,
        providers: providers.to_vec(),
        identities: inventory.identities,
        allowlist: AllowlistSummary {
            path: display_path(&allowlist.path),
            sha256: allowlist.sha256.clone(),
            unused,
            expiring,
        },
        mirrors,
        staged,
        coverage: inventory.coverage,
        findings,
        orphan_violation,
        audit: None,
        baseline: None,
    }
}

/// A NIC mirrored into a vTAP that no listing returned, and whether that is a violation.
///
/// When the vTAP's subscription was listed cleanly, or is not part of the scan at all (another
/// tenant's, or one this identity cannot see), the destination cannot be checked and no
/// approval can cover it: a violation (exit 1), like an unapproved mirror. When the vTAP's
/// subscription is a coverage gap, or excluded or disabled on purpose, the vTAP is merely
/// unseen this time: the finding is kept at lower severity and decides nothing (CONTRACTS §1:
/// missing because not scanned is unknown, never a conclusion).
fn orphan_finding(orphan: &OrphanTapConfiguration, coverage: &[CoverageRow]) -> (Finding, bool) {
    let tap_subscription = orphan.tap_subscription.as_deref().unwrap_or("(unknown)");
    let row = coverage.iter().find(|row| {
        row.scope.provider == orphan.provider
            && row
                .scope
                .account
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(tap_subscription))
    });
    let (why, violation) = match row {
        Some(row) if row.status.is_gap() => (
            format!(
                "its subscription {tap_subscription} could not be listed ({})",
                row.status.as_str()
            ),
            false,
        ),
        Some(row) if row.status == CoverageStatus::Scanned => (
            "its subscription was listed and the vTAP is not in it (deleted, or hidden from this identity)".to_string(),
            true,
        ),
        // Excluded or disabled on purpose: acknowledged as out of reach, not a conclusion.
        Some(row) => (
            format!(
                "its subscription {tap_subscription} is {} in this scan ({})",
                row.status.as_str(),
                row.detail.as_deref().unwrap_or("no detail")
            ),
            false,
        ),
        None => (
            format!("its subscription {tap_subscription} is not part of this scan"),
            true,
        ),
    };
    let finding = Finding::new(
        "orphan-tap-configuration",
        if violation {
            Severity::High
        } else {
            Severity::Medium
        },
        orphan.provider,
        Some(&orphan.account),
        orphan.region.as_deref(),
        orphan
            .tap_configuration
            .as_deref()
            .unwrap_or(&orphan.network_interface),
        format!(
            "{} is mirrored into vTAP {}, which this scan cannot see: {why}",
            orphan.network_interface, orphan.virtual_network_tap
        ),
    );
    (finding, violation)
}

/// A mirror's findings. The destination's owner ranks them: outside the organisation (when
/// it is known) is the worst case, then another account (critical while the organisation is
/// unknown, since it may be outside; high once the owner is known to be a member), then the
/// mirror's own account.
fn mirror_findings(
    mirror: &Mirror,
    verdict: MirrorVerdict,
    entry: Option<&EntryRef>,
    outside_organization: Option<bool>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let cross_account = mirror.cross_account();
    let outside = outside_organization == Some(true);
    let unapproved_severity = match (outside_organization, cross_account) {
        (Some(true), _) | (None, true) => Severity::Critical,
        _ => Severity::High,
    };
    let damp = |severity: Severity| {
        if mirror.enabled {
            severity
        } else {
            severity.lowered()
        }
    };
    let finding = |code, severity, message| {
        Finding::new(
            code,
            damp(severity),
            mirror.provider,
            Some(&mirror.account),
            mirror.region.as_deref(),
            &mirror.id,
            message,
        )
    };
    match verdict {
        MirrorVerdict::Approved => {}
        MirrorVerdict::Unapproved => findings.push(finding(
            "unapproved-mirror",
            unapproved_severity,
            format!(
                "{} copies traffic to {} {}, which no allowlist entry approves",
                mirror.id, mirror.target.kind, mirror.target.id
            ),
        )),
        MirrorVerdict::Expired => {
            let entry = entry.expect("an expired verdict names its entry");
            findings.push(finding(
                "expired-approval",
                if cross_account { Severity::High } else { Severity::Medium },
                format!(
                    "{} copies traffic to {} {}, approved by {} (line {}, {}) until {}, which has passed",
                    mirror.id,
                    mirror.target.kind,
                    mirror.target.id,
                    entry.entry,
                    entry.line,
                    entry.ticket,
                    entry.expires.as_deref().unwrap_or("?")
                ),
            ))
        }
    }
    if outside {
        findings.push(finding(
            "outside-organization-target",
            if verdict == MirrorVerdict::Approved {
                Severity::Low
            } else {
                Severity::Critical
            },
            format!(
                "{} in account {} sends its copies to {} owned by {}, which is not a member of the organisation",
                mirror.id,
                mirror.account,
                mirror.target.id,
                mirror.target.owner.as_deref().unwrap_or("?")
            ),
        ));
    } else if cross_account {
        findings.push(finding(
            "cross-account-target",
            if verdict == MirrorVerdict::Approved {
                Severity::Low
            } else {
                Severity::High
            },
            format!(
                "{} in account {} sends its copies to {} owned by account {}",
                mirror.id,
                mirror.account,
                mirror.target.id,
                mirror.target.owner.as_deref().unwrap_or("?")
            ),
        ));
    }
    findings
}

fn staged_finding(resource: &StagedResource, verdict: MirrorVerdict) -> Option<Finding> {
    let (code, severity, message) = match (resource.kind.as_str(), &resource.target) {
        (_, Some(target)) => {
            if verdict == MirrorVerdict::Approved {
                return None;
            }
            let owner_note = match target.owner.as_deref() {
                Some(owner) if !owner.eq_ignore_ascii_case(&resource.account) => {
                    format!(" owned by account {owner}")
                }
                _ => String::new(),
            };
            (
                "staged-target",
                if owner_note.is_empty() {
                    Severity::Medium
                } else {
                    Severity::High
                },
                format!(
                    "{} ({}) is staged: nothing mirrors through it yet; it points at {} {} {}{owner_note}",
                    resource.id,
                    resource.kind,
                    verdict.as_str(),
                    target.kind,
                    target.id
                ),
            )
        }
        _ => (
            "staged-filter",
            Severity::Info,
            format!("{} is a mirror filter no session uses", resource.id),
        ),
    };
    Some(Finding::new(
        code,
        severity,
        resource.provider,
        Some(&resource.account),
        resource.region.as_deref(),
        &resource.id,
        message,
    ))
}

/// The report's form of a verdict: what was decided, and by which entry.
fn decided_by(allowlist: &Allowlist, verdict: Verdict) -> (MirrorVerdict, Option<EntryRef>) {
    let entry = |i: usize| Some(EntryRef::from(&allowlist.targets[i].meta));
    match verdict {
        Verdict::Approved(i) => (MirrorVerdict::Approved, entry(i)),
        Verdict::Expired(i) => (MirrorVerdict::Expired, entry(i)),
        Verdict::Unapproved => (MirrorVerdict::Unapproved, None),
    }
}

/// `111122223333/us-east-1`, or the account alone, or `(unknown account)`.
pub fn scope_name(row: &CoverageRow) -> String {
    match (&row.scope.account, &row.scope.region) {
        (Some(account), Some(region)) => format!("{account}/{region}"),
        (Some(account), None) => account.clone(),
        (None, Some(region)) => format!("(unknown account)/{region}"),
        (None, None) => "(unknown account)".to_string(),
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

/// Counts per coverage status, in a fixed order, for summaries.
pub fn coverage_counts(rows: &[CoverageRow]) -> Vec<(CoverageStatus, usize)> {
    [
        CoverageStatus::Scanned,
        CoverageStatus::Disabled,
        CoverageStatus::Excluded,
        CoverageStatus::Denied,
        CoverageStatus::Failed,
    ]
    .into_iter()
    .map(|status| (status, rows.iter().filter(|r| r.status == status).count()))
    .filter(|(_, n)| *n > 0)
    .collect()
}
