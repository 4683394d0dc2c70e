//! Scheduled scans over time (`scan --baseline previous.json`): what changed since an earlier
//! JSON report.
//!
//! A mirror of this scan that the baseline did not have is `new`; one whose destination moved
//! is `retargeted`. A baseline mirror this scan does not have has `disappeared` only if its
//! scope was scanned this time — if the scope was denied, failed, excluded or not selected, the
//! mirror is `unknown`, never reported gone (CONTRACTS §1). A mirror that existed only between
//! the two scans is what the audit check catches; one that vanished right after being seen is a
//! `disappeared-mirror` finding, because cleaning up after a capture looks exactly like that.

use crate::audit::correlate::mirror_key;
use crate::model::{CoverageStatus, Provider};
use crate::posture::{fingerprint, Finding, Report, Severity};
use crate::scan::CommandError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One mirror of the baseline report, as much as the comparison needs.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineMirror {
    pub provider: Provider,
    pub account: String,
    pub region: Option<String>,
    pub id: String,
    /// The destination it sent to then (`target.id`).
    pub target: String,
    /// Its verdict then.
    pub verdict: String,
}

/// An earlier scan report.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: String,
    pub generated_at: Option<String>,
    pub mirrors: Vec<BaselineMirror>,
}

/// How a mirror of this scan compares with the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Retargeted,
    Unchanged,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Retargeted => "retargeted",
            Change::Unchanged => "unchanged",
        }
    }
}

/// A baseline mirror this scan does not list, and why it is not called gone.
#[derive(Debug, Clone, Serialize)]
pub struct Unknown {
    #[serde(flatten)]
    pub mirror: BaselineMirror,
    /// The scope's status this time, and its detail (or that it was not in this scan).
    pub reason: String,
}

/// What changed since the baseline.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub path: String,
    pub generated_at: Option<String>,
    /// Per mirror of this scan (by provider and [`mirror_key`]): how it compares.
    pub changes: BTreeMap<(Provider, String), Change>,
    /// For a retargeted mirror (by provider and its id as listed now): where it sent to
    /// before.
    pub previous_targets: BTreeMap<(Provider, String), String>,
    pub disappeared: Vec<BaselineMirror>,
    pub unknown: Vec<Unknown>,
}

impl Comparison {
    /// How one mirror of this scan compares with the baseline.
    pub fn change(&self, provider: Provider, id: &str) -> Option<Change> {
        self.changes
            .get(&(provider, mirror_key(provider, id)))
            .copied()
    }
}

/// Reads a baseline: a `mirrorguard/scan/v1` JSON report. Anything else, or a mirror without
/// the fields the comparison needs, is a usage error that names the file and the field.
pub fn load(path: &Path) -> Result<Baseline, CommandError> {
    let json = crate::approve::read_scan_report(path, "--baseline")?;
    let mut mirrors = Vec::new();
    let listed = json["mirrors"].as_array().ok_or_else(|| {
        CommandError::Usage(format!(
            "--baseline {}: `mirrors` is not a list",
            path.display()
        ))
    })?;
    for (index, mirror) in listed.iter().enumerate() {
        let field = |name: &str, value: Option<&str>| {
            value.map(str::to_string).ok_or_else(|| {
                CommandError::Usage(format!(
                    "--baseline {}: mirrors[{index}].{name} is missing or not a string",
                    path.display()
                ))
            })
        };
        let provider = field("provider", mirror["provider"].as_str())?;
        let provider = Provider::parse(&provider).ok_or_else(|| {
            CommandError::Usage(format!(
                "--baseline {}: mirrors[{index}].provider {provider:?} is not a provider",
                path.display()
            ))
        })?;
        mirrors.push(BaselineMirror {
            provider,
            account: field("account", mirror["account"].as_str())?,
            region: mirror["region"].as_str().map(str::to_string),
            id: field("id", mirror["id"].as_str())?,
            target: field("target.id", mirror["target"]["id"].as_str())?,
            verdict: field("verdict", mirror["verdict"].as_str())?,
        });
    }
    Ok(Baseline {
        path: path.display().to_string(),
        generated_at: json["generated_at"].as_str().map(str::to_string),
        mirrors,
    })
}

/// Compares this scan with the baseline, adds a `disappeared-mirror` finding for every mirror
/// that is gone from a scope scanned both times, and keeps the comparison for the outputs.
pub fn attach(report: &mut Report, baseline: &Baseline) {
    let then: BTreeMap<(Provider, String), &BaselineMirror> = baseline
        .mirrors
        .iter()
        .map(|m| ((m.provider, mirror_key(m.provider, &m.id)), m))
        .collect();
    let mut changes = BTreeMap::new();
    let mut previous_targets = BTreeMap::new();
    for evaluated in &report.mirrors {
        let mirror = &evaluated.mirror;
        let key = (mirror.provider, mirror_key(mirror.provider, &mirror.id));
        let change = match then.get(&key) {
            None => Change::New,
            Some(before) if same_target(mirror.provider, &before.target, &mirror.target.id) => {
                Change::Unchanged
            }
            Some(before) => {
                previous_targets
                    .insert((mirror.provider, mirror.id.clone()), before.target.clone());
                Change::Retargeted
            }
        };
        changes.insert(key, change);
    }
    let mut disappeared = Vec::new();
    let mut unknown = Vec::new();
    for (key, before) in &then {
        if changes.contains_key(key) {
            continue;
        }
        match scope_status(report, before) {
            Ok(()) => disappeared.push((*before).clone()),
            Err(reason) => unknown.push(Unknown {
                mirror: (*before).clone(),
                reason,
            }),
        }
    }
    for gone in &disappeared {
        // An unapproved mirror that vanished right after a scan saw it is the shape of a
        // capture cleaned up; an approved one going away is worth a look, no more.
        let severity = if gone.verdict == "approved" {
            Severity::Low
        } else {
            Severity::Medium
        };
        report.findings.push(Finding {
            code: "disappeared-mirror",
            severity,
            fingerprint: fingerprint(&format!(
                "disappeared-mirror|{}|{}|{}",
                gone.provider,
                gone.account.to_lowercase(),
                mirror_key(gone.provider, &gone.id)
            )),
            provider: Some(gone.provider),
            account: Some(gone.account.clone()),
            region: gone.region.clone(),
            resource: gone.id.clone(),
            message: format!(
                "{} (to {}, {} then) was in the baseline of {} and is gone from a scope scanned both times",
                gone.id,
                gone.target,
                gone.verdict,
                baseline.generated_at.as_deref().unwrap_or("an unknown time")
            ),
            activity: None,
        });
    }
    crate::posture::sort_findings(&mut report.findings);
    report.baseline = Some(Comparison {
        path: baseline.path.clone(),
        generated_at: baseline.generated_at.clone(),
        changes,
        previous_targets,
        disappeared,
        unknown,
    });
}

fn same_target(provider: Provider, before: &str, now: &str) -> bool {
    crate::allowlist::normalize_target(provider, before)
        == crate::allowlist::normalize_target(provider, now)
}

/// `Ok` when the baseline mirror's scope was scanned this time (so its absence means it is
/// gone); otherwise why its absence proves nothing. Scopes are matched as the inventory reports
/// them: the mirror's own region first, then the account-wide row (an Azure subscription, a
/// GCP project listed as a whole).
fn scope_status(report: &Report, mirror: &BaselineMirror) -> Result<(), String> {
    let same_account = |row: &&crate::model::CoverageRow| {
        row.scope.provider == mirror.provider
            && row
                .scope
                .account
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(&mirror.account))
    };
    let rows: Vec<_> = report.coverage.iter().filter(same_account).collect();
    let row = rows
        .iter()
        .find(|r| r.scope.region.is_some() && r.scope.region == mirror.region)
        .or_else(|| rows.iter().find(|r| r.scope.region.is_none()));
    match row {
        Some(row) if row.status == CoverageStatus::Scanned => Ok(()),
        Some(row) => Err(format!(
            "its scope was {} this time{}",
            row.status.as_str(),
            row.detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )),
        None => Err("its scope was not part of this scan".to_string()),
    }
}
