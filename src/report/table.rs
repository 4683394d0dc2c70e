//! The terminal report: one table of mirrors, then coverage gaps, staged infrastructure and
//! allowlist notes, then a one-line summary that says what the exit code will be. Colour only
//! when asked for (the CLI decides: a TTY without `NO_COLOR`, or `--color always`).

use super::inert;
use crate::model::{CoverageRow, CoverageStatus, Mirror, Provider};
use crate::posture::{coverage_counts, scope_name, MirrorVerdict, Report, Severity};
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use std::io;

/// How the scan table is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    pub color: bool,
    /// Only the mirrors new or retargeted since the baseline (gaps and the baseline's own
    /// section are still shown).
    pub changes_only: bool,
}

/// Writes the report as text tables.
pub fn write_scan(
    report: &Report,
    out: &mut dyn io::Write,
    options: TableOptions,
) -> io::Result<()> {
    let color = options.color;
    let changed = |m: &Mirror| {
        report
            .baseline
            .as_ref()
            .and_then(|b| b.change(m.provider, &m.id))
    };
    let paint = |cell: Cell, color_of: Option<Color>| match (color, color_of) {
        (true, Some(c)) => cell.fg(c),
        _ => cell,
    };

    // One section per provider, each with its own summary, so a cloud that found nothing and
    // a cloud that could not be listed never look alike.
    for provider in &report.providers {
        let all_mirrors: Vec<_> = report
            .mirrors
            .iter()
            .filter(|m| m.mirror.provider == *provider)
            .collect();
        let coverage: Vec<_> = report
            .coverage
            .iter()
            .filter(|row| row.scope.provider == *provider)
            .cloned()
            .collect();
        writeln!(
            out,
            "{}",
            provider_heading(report, *provider, &all_mirrors, &coverage)
        )?;
        let mirrors: Vec<_> = all_mirrors
            .into_iter()
            .filter(|m| {
                !options.changes_only
                    || changed(&m.mirror).is_some_and(|c| c != crate::baseline::Change::Unchanged)
            })
            .collect();
        if mirrors.is_empty() && options.changes_only {
            writeln!(out, "  no mirror new or retargeted since the baseline")?;
            writeln!(out)?;
            continue;
        }
        if mirrors.is_empty() {
            let scanned = coverage
                .iter()
                .any(|row| row.status == CoverageStatus::Scanned);
            writeln!(
                out,
                "  {}",
                if scanned {
                    "no mirrors in the scopes that were scanned"
                } else {
                    "no scope was scanned: see Coverage below"
                }
            )?;
            writeln!(out)?;
            continue;
        }
        let mut table = new_table(
            &["ACCOUNT / REGION", "MIRROR", "SOURCE", "TARGET", "VERDICT"],
            color,
        );
        for evaluated in mirrors {
            let m = &evaluated.mirror;
            let verdict_text = match (evaluated.verdict, &evaluated.approved_by) {
                (MirrorVerdict::Approved, Some(entry)) => {
                    format!("approved\n{} {}", entry.entry, inert(&entry.ticket))
                }
                (MirrorVerdict::Expired, Some(entry)) => format!(
                    "EXPIRED {}\n{} {}",
                    inert(entry.expires.as_deref().unwrap_or("?")),
                    entry.entry,
                    inert(&entry.ticket)
                ),
                (verdict, _) => verdict.as_str().to_uppercase(),
            };
            let verdict_text = match evaluated.severity {
                Some(severity) if evaluated.verdict != MirrorVerdict::Approved => {
                    format!("{verdict_text}\n{}", severity.as_str())
                }
                _ => verdict_text,
            };
            let verdict_text = match changed(m) {
                Some(crate::baseline::Change::New) => format!("{verdict_text}\nNEW since baseline"),
                Some(crate::baseline::Change::Retargeted) => {
                    format!("{verdict_text}\nRETARGETED since baseline")
                }
                _ => verdict_text,
            };
            table.add_row(vec![
                Cell::new(format!(
                    "{}\n{}",
                    inert(&m.account),
                    inert(m.region.as_deref().unwrap_or("-"))
                )),
                Cell::new(mirror_cell(m) + &history_lines(report, m)),
                Cell::new(
                    m.sources
                        .iter()
                        .map(|s| match &s.direction {
                            Some(d) => format!("{} {} ({d})", s.kind, inert(&s.id)),
                            None => format!("{} {}", s.kind, inert(&s.id)),
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                Cell::new(target_cell(m, evaluated.outside_organization)),
                paint(
                    Cell::new(verdict_text),
                    match evaluated.verdict {
                        MirrorVerdict::Approved => Some(Color::Green),
                        MirrorVerdict::Expired => Some(Color::Yellow),
                        MirrorVerdict::Unapproved => Some(Color::Red),
                    },
                ),
            ]);
        }
        writeln!(out, "{table}")?;
        writeln!(out)?;
    }

    let orphans: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "orphan-tap-configuration")
        .collect();
    if !orphans.is_empty() {
        writeln!(
            out,
            "Orphan tap configurations (NICs mirrored into a vTAP the scan cannot see)"
        )?;
        let mut table = new_table(&["ACCOUNT / REGION", "TAP CONFIGURATION", "WHY"], color);
        for finding in orphans {
            table.add_row(vec![
                Cell::new(format!(
                    "{}\n{}",
                    inert(finding.account.as_deref().unwrap_or("-")),
                    inert(finding.region.as_deref().unwrap_or("-"))
                )),
                Cell::new(inert(&finding.resource)),
                paint(Cell::new(inert(&finding.message)), Some(Color::Red)),
            ]);
        }
        writeln!(out, "{table}")?;
        writeln!(out)?;
    }

    let gaps: Vec<_> = report
        .coverage
        .iter()
        .filter(|row| row.status != CoverageStatus::Scanned)
        .collect();
    if !gaps.is_empty() {
        writeln!(out, "Coverage (scopes not scanned)")?;
        let mut table = new_table(&["PROVIDER", "SCOPE", "STATUS", "DETAIL"], color);
        for row in gaps {
            table.add_row(vec![
                Cell::new(row.scope.provider.as_str()),
                Cell::new(inert(&scope_name(row))),
                paint(
                    Cell::new(if row.status.is_gap() {
                        row.status.as_str().to_uppercase()
                    } else {
                        row.status.as_str().to_string()
                    }),
                    row.status.is_gap().then_some(Color::Red),
                ),
                Cell::new(inert(row.detail.as_deref().unwrap_or(""))),
            ]);
        }
        writeln!(out, "{table}")?;
        writeln!(out)?;
    }

    if !report.staged.is_empty() {
        writeln!(out, "Staged (mirroring resources no mirror uses yet)")?;
        let mut table = new_table(
            &[
                "PROVIDER",
                "ACCOUNT / REGION",
                "RESOURCE",
                "WOULD SEND TO",
                "VERDICT",
            ],
            color,
        );
        for staged in &report.staged {
            let r = &staged.resource;
            table.add_row(vec![
                Cell::new(r.provider.as_str()),
                Cell::new(format!(
                    "{}\n{}",
                    inert(&r.account),
                    inert(r.region.as_deref().unwrap_or("-"))
                )),
                Cell::new(format!("{}\n{}", inert(&r.id), r.kind)),
                Cell::new(match &r.target {
                    Some(t) => format!(
                        "{} {}{}",
                        t.kind,
                        inert(&t.id),
                        match t.owner.as_deref() {
                            Some(owner) if owner != r.account =>
                                format!("\nowner {} (other account)", inert(owner)),
                            _ => String::new(),
                        }
                    ),
                    None => "-".to_string(),
                }),
                Cell::new(match (&r.target, staged.verdict) {
                    (None, _) => "-".to_string(),
                    (Some(_), verdict) => verdict.as_str().to_string(),
                }),
            ]);
        }
        writeln!(out, "{table}")?;
        writeln!(out)?;
    }

    if let Some(audit) = &report.audit {
        write_audit(audit, report, out, color)?;
    }

    if let Some(baseline) = &report.baseline {
        write_baseline(baseline, out, color)?;
    }

    let notes: Vec<String> = report
        .findings
        .iter()
        .filter(|f| matches!(f.code, "allowlist-unused" | "allowlist-expiring"))
        .map(|f| format!("  {}: {}", f.code, inert(&f.message)))
        .collect();
    if !notes.is_empty() {
        writeln!(out, "Allowlist ({})", inert(&report.allowlist.path))?;
        for note in notes {
            writeln!(out, "{note}")?;
        }
        writeln!(out)?;
    }

    writeln!(out, "{}", summary_line(report))
}

/// `AWS · 3 mirrors: 1 approved, 2 unapproved, 0 expired · 6 scopes: 4 scanned, 1 denied ·
/// as arn:…`
fn provider_heading(
    report: &Report,
    provider: Provider,
    mirrors: &[&crate::posture::EvaluatedMirror],
    coverage: &[CoverageRow],
) -> String {
    let count = |v: MirrorVerdict| mirrors.iter().filter(|m| m.verdict == v).count();
    let scopes: Vec<String> = coverage_counts(coverage)
        .into_iter()
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect();
    let identity = report
        .identities
        .iter()
        .find(|i| i.provider == provider)
        .map(|i| format!(" · as {}", inert(&i.principal)))
        .unwrap_or_default();
    format!(
        "{} · {} mirror{}: {} approved, {} unapproved, {} expired · {} scope{}: {}{identity}",
        provider.as_str().to_uppercase(),
        mirrors.len(),
        if mirrors.len() == 1 { "" } else { "s" },
        count(MirrorVerdict::Approved),
        count(MirrorVerdict::Unapproved),
        count(MirrorVerdict::Expired),
        coverage.len(),
        if coverage.len() == 1 { "" } else { "s" },
        if scopes.is_empty() {
            "none".to_string()
        } else {
            scopes.join(", ")
        },
    )
}

pub(crate) fn new_table(header: &[&str], color: bool) -> Table {
    let mut table = Table::new();
    if color {
        // comfy-table styles only on a TTY by itself; the CLI has already decided.
        table.enforce_styling();
    }
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
    table
}

fn mirror_cell(m: &Mirror) -> String {
    let mut text = inert(&m.id).into_owned();
    if let Some(name) = &m.name {
        text.push_str(&format!("\n\"{}\"", inert(name)));
    }
    if !m.enabled {
        text.push_str("\n(disabled)");
    }
    if let Some(filter) = &m.filter {
        if filter.resolved && filter.copies_nothing {
            text.push_str("\nfilter copies nothing");
        } else if filter.resolved {
            text.push_str(&format!("\nfilter: {} accept rule(s)", filter.accept.len()));
        } else if let Some(id) = &filter.id {
            text.push_str(&format!("\nfilter {} (not listed)", inert(id)));
        }
    }
    text
}

fn target_cell(m: &Mirror, outside_organization: Option<bool>) -> String {
    let t = &m.target;
    let mut text = format!("{}\n{}", t.kind, inert(&t.id));
    if let Some(port) = t.port {
        text.push_str(&format!("\nport {port}"));
    }
    if let Some(tmt) = t.mirror_target_id.as_deref().filter(|tmt| *tmt != t.id) {
        text.push_str(&format!("\nvia {}", inert(tmt)));
    }
    if let Some(owner) = &t.owner {
        if outside_organization == Some(true) {
            text.push_str(&format!(
                "\nowner {} (OUTSIDE THE ORGANISATION)",
                inert(owner)
            ));
        } else if m.cross_account() {
            text.push_str(&format!("\nowner {} (CROSS-ACCOUNT)", inert(owner)));
        }
    }
    text
}

/// `created 2026-11-10T09:15:44Z, unsanctioned / by …`, from the audit logs, under a mirror.
fn history_lines(report: &Report, m: &Mirror) -> String {
    let Some(history) = report
        .audit
        .as_ref()
        .and_then(|a| a.history(m.provider, &m.id))
    else {
        return String::new();
    };
    let line = |label: &str, change: &crate::audit::correlate::ChangeRef| {
        format!(
            "\n{label} {}, {}\nby {}",
            change
                .time
                .and_then(|t| t
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok())
                .unwrap_or_else(|| "?".into()),
            change.verdict.as_str(),
            inert(change.actor.as_deref().unwrap_or("?")),
        )
    };
    let mut text = String::new();
    if let Some(created) = &history.created_by {
        text.push_str(&line("created", created));
    }
    if let Some(changed) = &history.last_changed_by {
        text.push_str(&line("changed", changed));
    }
    text
}

/// What changed since the baseline: the counts, then every mirror gone from a scope scanned
/// both times, every one whose scope was not scanned (unknown, not gone), and every retarget.
fn write_baseline(
    baseline: &crate::baseline::Comparison,
    out: &mut dyn io::Write,
    color: bool,
) -> io::Result<()> {
    use crate::baseline::Change;
    let count = |change: Change| baseline.changes.values().filter(|c| **c == change).count();
    writeln!(
        out,
        "SINCE THE BASELINE ({}, generated {}) · {} new, {} retargeted, {} disappeared, {} unknown",
        inert(&baseline.path),
        inert(baseline.generated_at.as_deref().unwrap_or("?")),
        count(Change::New),
        count(Change::Retargeted),
        baseline.disappeared.len(),
        baseline.unknown.len(),
    )?;
    let rows: Vec<(String, &crate::baseline::BaselineMirror, String)> = baseline
        .disappeared
        .iter()
        .map(|m| {
            (
                "DISAPPEARED".to_string(),
                m,
                "its scope was scanned; it is gone".to_string(),
            )
        })
        .chain(
            baseline
                .unknown
                .iter()
                .map(|u| ("unknown".to_string(), &u.mirror, u.reason.clone())),
        )
        .collect();
    if !rows.is_empty() {
        let mut table = new_table(
            &["", "ACCOUNT / REGION", "MIRROR", "THEN SENT TO", "WHY"],
            color,
        );
        for (what, mirror, why) in rows {
            let cell = Cell::new(format!("{what}\n{}", mirror.verdict));
            table.add_row(vec![
                if color && what == "DISAPPEARED" {
                    cell.fg(Color::Yellow)
                } else {
                    cell
                },
                Cell::new(format!(
                    "{} {}\n{}",
                    mirror.provider,
                    inert(&mirror.account),
                    inert(mirror.region.as_deref().unwrap_or("-"))
                )),
                Cell::new(inert(&mirror.id)),
                Cell::new(inert(&mirror.target)),
                Cell::new(inert(&why)),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    for ((provider, id), before) in &baseline.previous_targets {
        writeln!(
            out,
            "  retargeted: {provider} {} was sending to {}",
            inert(id),
            inert(before)
        )?;
    }
    writeln!(out)
}

/// The audit section of a scan: what only logs and inventory together show, then every
/// matched change, then the log inputs that were not read whole.
fn write_audit(
    audit: &crate::audit::correlate::ScanAudit,
    report: &Report,
    out: &mut dyn io::Write,
    color: bool,
) -> io::Result<()> {
    writeln!(
        out,
        "AUDIT LOGS · {} · {}",
        super::audit::sources_line(&audit.report),
        super::audit::summary_line(&audit.report)
            .split(" · exit")
            .next()
            .unwrap_or_default()
    )?;
    let correlated: Vec<_> = report
        .findings
        .iter()
        .filter(|f| matches!(f.code, "ephemeral-mirror" | "retargeted-mirror"))
        .collect();
    if !correlated.is_empty() {
        let mut table = new_table(
            &[
                "FINDING",
                "ACCOUNT / REGION",
                "MIRROR",
                "WHAT THE LOGS SHOW",
            ],
            color,
        );
        for finding in correlated {
            let cell = Cell::new(format!("{}\n{}", finding.code, finding.severity.as_str()));
            table.add_row(vec![
                if color { cell.fg(Color::Red) } else { cell },
                Cell::new(format!(
                    "{}\n{}",
                    inert(finding.account.as_deref().unwrap_or("-")),
                    inert(finding.region.as_deref().unwrap_or("-"))
                )),
                Cell::new(inert(&finding.resource)),
                Cell::new(inert(&finding.message)),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    super::audit::write_events(&audit.report.events, out, color)?;
    super::audit::write_incomplete_inputs(&audit.report.inputs, out, color)?;
    super::audit::write_audit_coverage(&audit.report.audit_coverage, out, color)?;
    writeln!(out)
}

/// `4 mirrors: 1 approved, 2 unapproved, 1 expired · 5 scopes: … · exit 1 (violation)`
pub fn summary_line(report: &Report) -> String {
    let count = |v: MirrorVerdict| report.mirrors.iter().filter(|m| m.verdict == v).count();
    let scopes: Vec<String> = coverage_counts(&report.coverage)
        .into_iter()
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect();
    let scope_total: usize = report.coverage.len();
    let exit = report.exit_code();
    let meaning = match exit {
        0 => "clean",
        1 => "violation",
        3 => "incomplete coverage",
        _ => "error",
    };
    let worst = report.findings.iter().map(|f| f.severity).max();
    format!(
        "{} mirror{}: {} approved, {} unapproved, {} expired · {} scope{}: {} · worst finding: {} · exit {exit} ({meaning})",
        report.mirrors.len(),
        if report.mirrors.len() == 1 { "" } else { "s" },
        count(MirrorVerdict::Approved),
        count(MirrorVerdict::Unapproved),
        count(MirrorVerdict::Expired),
        scope_total,
        if scope_total == 1 { "" } else { "s" },
        if scopes.is_empty() { "none".to_string() } else { scopes.join(", ") },
        worst.map_or("none", Severity::as_str),
    )
}
