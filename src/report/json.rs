//! `mirrorguard/scan/v1`: flat, versioned JSON. Fields are added within a version, never renamed
//! or dropped; absent values are `null`; timestamps are RFC 3339 UTC (CONTRACTS §5).

use crate::allowlist::EntryRef;
use crate::audit::correlate::ChangeRef;
use crate::model::{CoverageRow, FilterSummary, Identity, Provider, Source, Target};
use crate::posture::{coverage_counts, Finding, MirrorVerdict, Report, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use time::format_description::well_known::Rfc3339;

pub const SCAN_SCHEMA: &str = "mirrorguard/scan/v1";

#[derive(Serialize)]
struct ScanDocument<'a> {
    schema: &'static str,
    generated_at: String,
    tool_version: &'static str,
    exit_code: u8,
    identities: BTreeMap<Provider, &'a Identity>,
    allowlist: &'a crate::posture::AllowlistSummary,
    mirrors: Vec<JsonMirror<'a>>,
    staged: Vec<JsonStaged<'a>>,
    coverage: &'a [CoverageRow],
    findings: &'a [Finding],
    /// The audit-log check run with the scan (`--audit`, the demo); `null` without one.
    audit: Option<JsonAudit<'a>>,
    /// What changed since `--baseline`; `null` without one.
    baseline: Option<JsonBaseline<'a>>,
    summary: Summary,
}

/// The baseline part of a scan report.
#[derive(Serialize)]
struct JsonBaseline<'a> {
    path: &'a str,
    generated_at: Option<&'a str>,
    new: usize,
    retargeted: Vec<JsonRetarget<'a>>,
    disappeared: &'a [crate::baseline::BaselineMirror],
    unknown: &'a [crate::baseline::Unknown],
}

#[derive(Serialize)]
struct JsonRetarget<'a> {
    provider: Provider,
    id: &'a str,
    previous_target: &'a str,
}

/// The audit part of a scan report: the same inputs and events as `audit/v1`.
#[derive(Serialize)]
struct JsonAudit<'a> {
    rule: &'static str,
    window: super::audit::Window,
    inputs: &'a [crate::audit::sources::InputSummary],
    audit_coverage: &'a [crate::audit::live::AuditCoverageRow],
    events: &'a [crate::audit::AuditEvent],
    summary: crate::audit::command::AuditCounts,
}

#[derive(Serialize)]
struct JsonMirror<'a> {
    provider: Provider,
    account: &'a str,
    region: Option<&'a str>,
    id: &'a str,
    kind: &'a str,
    name: Option<&'a str>,
    enabled: bool,
    sources: &'a [Source],
    target: &'a Target,
    cross_account: bool,
    /// `null` when no organisation is known for the provider.
    outside_organization: Option<bool>,
    filter: Option<&'a FilterSummary>,
    description: Option<&'a str>,
    tags: &'a BTreeMap<String, String>,
    vni: Option<i64>,
    priority: Option<i64>,
    network: Option<&'a str>,
    verdict: MirrorVerdict,
    approved_by: Option<&'a EntryRef>,
    severity: Option<Severity>,
    /// `new`, `retargeted` or `unchanged` since `--baseline`; `null` without one.
    baseline: Option<crate::baseline::Change>,
    /// From the audit logs, when the scan read them and they hold the change.
    created_by: Option<&'a ChangeRef>,
    last_changed_by: Option<&'a ChangeRef>,
}

#[derive(Serialize)]
struct JsonStaged<'a> {
    provider: Provider,
    account: &'a str,
    region: Option<&'a str>,
    kind: &'a str,
    id: &'a str,
    target: Option<&'a Target>,
    description: Option<&'a str>,
    tags: &'a BTreeMap<String, String>,
    /// `null` for a filter: only a destination can be approved.
    verdict: Option<MirrorVerdict>,
    approved_by: Option<&'a EntryRef>,
}

#[derive(Serialize, Default)]
struct Counts {
    mirrors: usize,
    approved: usize,
    unapproved: usize,
    expired: usize,
    staged: usize,
    scopes: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct Summary {
    #[serde(flatten)]
    total: Counts,
    by_provider: BTreeMap<Provider, Counts>,
}

fn counts(report: &Report, keep: impl Fn(Provider) -> bool + Copy) -> Counts {
    let mirrors: Vec<_> = report
        .mirrors
        .iter()
        .filter(|m| keep(m.mirror.provider))
        .collect();
    let verdicts = |v: MirrorVerdict| mirrors.iter().filter(|m| m.verdict == v).count();
    let rows: Vec<CoverageRow> = report
        .coverage
        .iter()
        .filter(|r| keep(r.scope.provider))
        .cloned()
        .collect();
    Counts {
        mirrors: mirrors.len(),
        approved: verdicts(MirrorVerdict::Approved),
        unapproved: verdicts(MirrorVerdict::Unapproved),
        expired: verdicts(MirrorVerdict::Expired),
        staged: report
            .staged
            .iter()
            .filter(|s| keep(s.resource.provider))
            .count(),
        scopes: coverage_counts(&rows)
            .into_iter()
            .map(|(status, n)| (status.as_str(), n))
            .collect(),
    }
}

/// Writes the scan report as one pretty-printed JSON document.
pub fn write_scan(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mirrors = report
        .mirrors
        .iter()
        .map(|m| {
            let history = report
                .audit
                .as_ref()
                .and_then(|a| a.history(m.mirror.provider, &m.mirror.id));
            JsonMirror {
                provider: m.mirror.provider,
                account: &m.mirror.account,
                region: m.mirror.region.as_deref(),
                id: &m.mirror.id,
                kind: &m.mirror.kind,
                name: m.mirror.name.as_deref(),
                enabled: m.mirror.enabled,
                sources: &m.mirror.sources,
                target: &m.mirror.target,
                cross_account: m.mirror.cross_account(),
                outside_organization: m.outside_organization,
                filter: m.mirror.filter.as_ref(),
                description: m.mirror.description.as_deref(),
                tags: &m.mirror.tags,
                vni: m.mirror.vni,
                priority: m.mirror.priority,
                network: m.mirror.network.as_deref(),
                verdict: m.verdict,
                approved_by: m.approved_by.as_ref(),
                severity: m.severity,
                baseline: report
                    .baseline
                    .as_ref()
                    .and_then(|b| b.change(m.mirror.provider, &m.mirror.id)),
                created_by: history.and_then(|h| h.created_by.as_ref()),
                last_changed_by: history.and_then(|h| h.last_changed_by.as_ref()),
            }
        })
        .collect();
    let staged = report
        .staged
        .iter()
        .map(|s| JsonStaged {
            provider: s.resource.provider,
            account: &s.resource.account,
            region: s.resource.region.as_deref(),
            kind: &s.resource.kind,
            id: &s.resource.id,
            target: s.resource.target.as_ref(),
            description: s.resource.description.as_deref(),
            tags: &s.resource.tags,
            verdict: s.resource.target.as_ref().map(|_| s.verdict),
            approved_by: s.approved_by.as_ref(),
        })
        .collect();
    let document = ScanDocument {
        schema: SCAN_SCHEMA,
        generated_at: report
            .generated_at
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| report.generated_at.to_string()),
        tool_version: env!("CARGO_PKG_VERSION"),
        exit_code: report.exit_code(),
        identities: report.identities.iter().map(|i| (i.provider, i)).collect(),
        allowlist: &report.allowlist,
        mirrors,
        staged,
        coverage: &report.coverage,
        findings: &report.findings,
        baseline: report.baseline.as_ref().map(|b| JsonBaseline {
            path: &b.path,
            generated_at: b.generated_at.as_deref(),
            new: b
                .changes
                .values()
                .filter(|c| **c == crate::baseline::Change::New)
                .count(),
            retargeted: b
                .previous_targets
                .iter()
                .map(|((provider, id), before)| JsonRetarget {
                    provider: *provider,
                    id,
                    previous_target: before,
                })
                .collect(),
            disappeared: &b.disappeared,
            unknown: &b.unknown,
        }),
        audit: report.audit.as_ref().map(|a| JsonAudit {
            rule: super::audit::rule_name(a.report.rule),
            window: super::audit::Window::of(a.report.since, a.report.until),
            inputs: &a.report.inputs,
            audit_coverage: &a.report.audit_coverage,
            events: &a.report.events,
            summary: crate::audit::command::AuditCounts::of(&a.report.events),
        }),
        summary: Summary {
            total: counts(report, |_| true),
            by_provider: report
                .providers
                .iter()
                .map(|&p| (p, counts(report, move |q| q == p)))
                .collect(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
    writeln!(out)
}
