//! The audit report: `mirrorguard/audit/v1` JSON and the terminal table (CONTRACTS §5).
//!
//! The table lists every matched change in time order, then the inputs that were not read
//! whole, then a summary line that says what the exit code will be: lost input is never
//! hidden behind a clean-looking list of events.

use super::inert;
use super::table::new_table;
use crate::audit::command::{is_change, AuditCounts, AuditReport};
use crate::audit::live::AuditCoverageRow;
use crate::audit::sources::InputSummary;
use crate::audit::{AuditEvent, AuditVerdict, RuleChoice};
use crate::model::Provider;
use crate::posture::{Finding, Severity};
use comfy_table::{Cell, Color};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const AUDIT_SCHEMA: &str = "mirrorguard/audit/v1";

#[derive(Serialize)]
struct AuditDocument<'a> {
    schema: &'static str,
    generated_at: Option<String>,
    tool_version: &'static str,
    exit_code: u8,
    /// `corrected` (the catalogue) or `seed` (the original Chronicle rule).
    rule: &'static str,
    window: Window,
    allowlist: AllowlistRef<'a>,
    inputs: &'a [InputSummary],
    /// One row per scope a live source queried (`--live`); empty for files alone.
    audit_coverage: &'a [AuditCoverageRow],
    events: &'a [AuditEvent],
    findings: &'a [Finding],
    summary: Summary,
}

/// The time window the records were limited to (`null` bounds: none).
#[derive(Serialize)]
pub struct Window {
    since: Option<String>,
    until: Option<String>,
}

impl Window {
    pub fn of(since: Option<OffsetDateTime>, until: Option<OffsetDateTime>) -> Window {
        Window {
            since: since.and_then(rfc3339),
            until: until.and_then(rfc3339),
        }
    }
}

#[derive(Serialize)]
struct AllowlistRef<'a> {
    path: &'a str,
    sha256: &'a str,
}

#[derive(Serialize)]
struct Summary {
    #[serde(flatten)]
    total: AuditCounts,
    records: u64,
    malformed: u64,
    inputs_incomplete: usize,
    /// Live queries that left part of the window unread.
    audit_gaps: usize,
    by_provider: BTreeMap<Provider, AuditCounts>,
}

fn rfc3339(t: OffsetDateTime) -> Option<String> {
    t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

pub fn rule_name(rule: RuleChoice) -> &'static str {
    match rule {
        RuleChoice::Corrected => "corrected",
        RuleChoice::Seed => "seed",
    }
}

/// Writes the audit report as one pretty-printed JSON document.
pub fn write_json(report: &AuditReport, out: &mut dyn io::Write) -> io::Result<()> {
    let mut by_provider = BTreeMap::new();
    for provider in Provider::ALL {
        let events: Vec<_> = report
            .events
            .iter()
            .filter(|e| e.provider == provider)
            .collect();
        if !events.is_empty() {
            by_provider.insert(provider, AuditCounts::of(events));
        }
    }
    let document = AuditDocument {
        schema: AUDIT_SCHEMA,
        generated_at: rfc3339(report.generated_at),
        tool_version: env!("CARGO_PKG_VERSION"),
        exit_code: report.exit_code(),
        rule: rule_name(report.rule),
        window: Window::of(report.since, report.until),
        allowlist: AllowlistRef {
            path: &report.allowlist_path,
            sha256: &report.allowlist_sha256,
        },
        inputs: &report.inputs,
        audit_coverage: &report.audit_coverage,
        events: &report.events,
        findings: &report.findings,
        summary: Summary {
            total: AuditCounts::of(&report.events),
            records: records_read(report),
            malformed: malformed_read(report),
            inputs_incomplete: report.inputs.iter().filter(|i| i.lost_input()).count(),
            audit_gaps: report.audit_coverage.iter().filter(|r| r.is_gap()).count(),
            by_provider,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
    writeln!(out)
}

/// Writes the audit report as text tables.
pub fn write_table(report: &AuditReport, out: &mut dyn io::Write, color: bool) -> io::Result<()> {
    writeln!(
        out,
        "Audit · rule: {} · {}{}",
        match report.rule {
            RuleChoice::Corrected => "corrected (catalogue)",
            RuleChoice::Seed => "seed (the original Chronicle rule, as written)",
        },
        sources_line(report),
        window_text(report.since, report.until)
            .map(|w| format!(" · {w}"))
            .unwrap_or_default(),
    )?;
    write_events(&report.events, out, color)?;
    write_incomplete_inputs(&report.inputs, out, color)?;
    write_audit_coverage(&report.audit_coverage, out, color)?;
    writeln!(out)?;
    writeln!(out, "{}", summary_line(report))
}

/// `2 inputs · 120 records` and, with live sources, `· live: 6 scopes queried, 14 calls`.
pub fn sources_line(report: &AuditReport) -> String {
    let records: u64 = report.inputs.iter().map(|i| i.records).sum();
    let mut line = String::new();
    if !report.inputs.is_empty() || report.audit_coverage.is_empty() {
        line = format!(
            "{} input{} · {records} record{}",
            report.inputs.len(),
            if report.inputs.len() == 1 { "" } else { "s" },
            if records == 1 { "" } else { "s" },
        );
    }
    if !report.audit_coverage.is_empty() {
        let queried = report
            .audit_coverage
            .iter()
            .filter(|r| r.account.is_some() && r.requests > 0)
            .count();
        let requests: u64 = report.audit_coverage.iter().map(|r| r.requests).sum();
        let live_records: u64 = report.audit_coverage.iter().map(|r| r.records).sum();
        if !line.is_empty() {
            line.push_str(" · ");
        }
        line.push_str(&format!(
            "live: {queried} scope{} queried, {requests} API call{}, {live_records} record{}",
            if queried == 1 { "" } else { "s" },
            if requests == 1 { "" } else { "s" },
            if live_records == 1 { "" } else { "s" },
        ));
    }
    line
}

/// `window 2026-12-03T00:00:00Z → 2026-12-04T00:00:00Z`, when the records were limited.
fn window_text(since: Option<OffsetDateTime>, until: Option<OffsetDateTime>) -> Option<String> {
    match (since, until) {
        (None, None) => None,
        (since, until) => Some(format!(
            "window {} → {}",
            since
                .and_then(rfc3339)
                .unwrap_or_else(|| "the beginning".into()),
            until.and_then(rfc3339).unwrap_or_else(|| "now".into()),
        )),
    }
}

/// The scopes whose logs were not read, with why: the gaps, and the scopes out of reach on
/// purpose. When every query worked, nothing (the sources line says how many ran).
pub fn write_audit_coverage(
    rows: &[AuditCoverageRow],
    out: &mut dyn io::Write,
    color: bool,
) -> io::Result<()> {
    let paint = |cell: Cell, c: Color| if color { cell.fg(c) } else { cell };
    let gaps: Vec<_> = rows
        .iter()
        .filter(|r| r.status != crate::model::CoverageStatus::Scanned)
        .collect();
    if gaps.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "Audit coverage (scopes whose logs were not read: DENIED and FAILED are gaps, their changes unseen; disabled and excluded are out of reach on purpose)"
    )?;
    let mut table = new_table(
        &["SCOPE", "SOURCE", "STATUS", "PART OF THE WINDOW", "DETAIL"],
        color,
    );
    for row in gaps {
        let scope = match (&row.account, &row.region) {
            (Some(account), Some(region)) => {
                format!("{} {}\n{}", row.provider, inert(account), inert(region))
            }
            (Some(account), None) => format!("{} {}", row.provider, inert(account)),
            (None, _) => format!("{} (all)", row.provider),
        };
        let status = paint(
            Cell::new(row.status.as_str().to_uppercase()),
            if row.is_gap() {
                Color::Red
            } else {
                Color::DarkGrey
            },
        );
        table.add_row(vec![
            Cell::new(scope),
            Cell::new(row.source),
            status,
            Cell::new(format!(
                "{}\n→ {}",
                row.since.and_then(rfc3339).unwrap_or_default(),
                row.until.and_then(rfc3339).unwrap_or_default()
            )),
            Cell::new(inert(row.detail.as_deref().unwrap_or("-"))),
        ]);
    }
    writeln!(out, "{table}")
}

/// Records read from files and from live queries.
fn records_read(report: &AuditReport) -> u64 {
    report.inputs.iter().map(|i| i.records).sum::<u64>()
        + report.audit_coverage.iter().map(|r| r.records).sum::<u64>()
}

/// Records that could not be read, from files and from live queries.
fn malformed_read(report: &AuditReport) -> u64 {
    report.inputs.iter().map(|i| i.malformed).sum::<u64>()
        + report
            .audit_coverage
            .iter()
            .map(|r| r.malformed)
            .sum::<u64>()
}

/// `5 changes (2 unsanctioned), 1 attempt · 12 records, 0 malformed · exit 1 (violation)`
pub fn summary_line(report: &AuditReport) -> String {
    let counts = AuditCounts::of(&report.events);
    let exit = report.exit_code();
    let meaning = match exit {
        0 => "clean",
        1 => "violation",
        3 => "incomplete: input lost or an audit gap",
        _ => "error",
    };
    let worst = report.findings.iter().map(|f| f.severity).max();
    let unsanctioned_changes = report
        .events
        .iter()
        .filter(|e| is_change(e) && e.verdict == AuditVerdict::Unsanctioned)
        .count();
    let gaps = report.audit_coverage.iter().filter(|r| r.is_gap()).count();
    let gaps = if report.audit_coverage.is_empty() {
        String::new()
    } else {
        format!(", {gaps} audit gap{}", if gaps == 1 { "" } else { "s" })
    };
    format!(
        "{} change{} ({unsanctioned_changes} unsanctioned), {} failed attempt{} · {} record{}, {} malformed, {} input{} incomplete{gaps} · worst finding: {} · exit {exit} ({meaning})",
        counts.changes,
        if counts.changes == 1 { "" } else { "s" },
        counts.attempts,
        if counts.attempts == 1 { "" } else { "s" },
        records_read(report),
        if records_read(report) == 1 { "" } else { "s" },
        malformed_read(report),
        report.inputs.iter().filter(|i| i.lost_input()).count(),
        if report.inputs.iter().filter(|i| i.lost_input()).count() == 1 { "" } else { "s" },
        worst.map_or("none", Severity::as_str),
    )
}

/// The matched changes, in time order, as one table.
pub fn write_events(events: &[AuditEvent], out: &mut dyn io::Write, color: bool) -> io::Result<()> {
    let paint = |cell: Cell, c: Color| if color { cell.fg(c) } else { cell };
    if events.is_empty() {
        writeln!(out, "  no mirroring change in the records that were read")?;
    } else {
        let mut table = new_table(
            &[
                "TIME",
                "WHERE",
                "OPERATION",
                "ACTOR",
                "RESOURCE / TARGET",
                "VERDICT",
            ],
            color,
        );
        for event in events {
            let outcome = match (is_change(event), event.dry_run) {
                (true, _) => event.lifecycle.as_str().to_string(),
                (false, true) => format!("{} · DRY RUN", event.lifecycle.as_str()),
                (false, false) => format!(
                    "{} · FAILED{}",
                    event.lifecycle.as_str(),
                    event
                        .error_code
                        .as_deref()
                        .map(|c| format!(" {}", inert(c)))
                        .unwrap_or_default()
                ),
            };
            let mut actor = inert(event.actor.as_deref().unwrap_or("?")).into_owned();
            if let Some(ip) = &event.source_ip {
                actor.push_str(&format!("\nfrom {}", inert(ip)));
            }
            if let Some(by) = &event.invoked_by {
                actor.push_str(&format!("\nvia {}", inert(by)));
            }
            let mut resource = inert(event.resource.as_deref().unwrap_or("-")).into_owned();
            match (&event.target, &event.target_resolved) {
                (Some(t), Some(r)) => {
                    resource.push_str(&format!("\n→ {} ({})", inert(t), inert(r)))
                }
                (Some(t), None) => resource.push_str(&format!("\n→ {}", inert(t))),
                (None, _) if event.provider == Provider::Azure => {
                    resource.push_str("\n→ target: unknown")
                }
                _ => {}
            }
            let verdict = match (&event.verdict, &event.sanctioned_by) {
                (AuditVerdict::Sanctioned, Some(entry)) => {
                    format!("sanctioned\n{} {}", entry.entry, inert(&entry.ticket))
                }
                _ => format!("UNSANCTIONED\n{}", event.severity.as_str()),
            };
            table.add_row(vec![
                Cell::new(event.time.and_then(rfc3339).unwrap_or_else(|| "?".into())),
                Cell::new(format!(
                    "{} {}\n{}",
                    event.provider,
                    inert(event.account.as_deref().unwrap_or("?")),
                    inert(event.region.as_deref().unwrap_or("-"))
                )),
                Cell::new(format!("{}\n{outcome}", inert(&event.operation))),
                Cell::new(actor),
                Cell::new(resource),
                paint(
                    Cell::new(verdict),
                    match event.verdict {
                        AuditVerdict::Sanctioned => Color::Green,
                        AuditVerdict::Unsanctioned if is_change(event) => Color::Red,
                        AuditVerdict::Unsanctioned => Color::Yellow,
                    },
                ),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    Ok(())
}

/// The inputs that were not read whole, with why: lost input is never silent.
pub fn write_incomplete_inputs(
    inputs: &[InputSummary],
    out: &mut dyn io::Write,
    color: bool,
) -> io::Result<()> {
    let paint = |cell: Cell, c: Color| if color { cell.fg(c) } else { cell };
    let incomplete: Vec<_> = inputs.iter().filter(|i| i.lost_input()).collect();
    if !incomplete.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Inputs not read whole (changes in the lost part are not seen)"
        )?;
        let mut table = new_table(&["INPUT", "FORMAT", "RECORDS", "PROBLEM"], color);
        for input in incomplete {
            let mut problems: Vec<String> = input
                .malformed_records
                .iter()
                .map(|m| format!("line {}: {}", m.line, inert(&m.reason)))
                .collect();
            if input.malformed as usize > input.malformed_records.len() {
                problems.push(format!("… {} malformed in all", input.malformed));
            }
            for why in input.error.iter().chain(&input.stopped) {
                problems.push(inert(why).into_owned());
            }
            table.add_row(vec![
                Cell::new(inert(&input.path)),
                Cell::new(input.format.as_str()),
                Cell::new(input.records),
                paint(Cell::new(problems.join("\n")), Color::Yellow),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    Ok(())
}
