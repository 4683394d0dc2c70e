//! The `audit` command: read every input, run the chosen rule, collapse records into changes,
//! decide each against the allowlist, and write the report. Returns the exit code CONTRACTS §6
//! assigns to `audit`.

use super::live::{AuditCoverageRow, LiveLogs};
use super::sources::{self, Format, InputSummary};
use super::{changes, seed, verdict, AuditEvent, AuditVerdict, Outcome, RuleChoice};
use crate::allowlist::Allowlist;
use crate::model::Provider;
use crate::posture::{fingerprint, Finding, Severity};
use crate::report::{self, Format as ReportFormat};
use crate::scan::{deliver, load_allowlist, AllowlistSource, CommandError};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use time::OffsetDateTime;

/// Everything `audit` needs, free of CLI types.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// Files, directories (walked recursively) and `-` for standard input.
    pub paths: Vec<String>,
    /// Read the providers' logs live too (`--live`): which clouds, scopes and credentials.
    pub live: Option<crate::scan::CloudSelection>,
    pub allowlist: AllowlistSource,
    pub format: ReportFormat,
    pub output: Option<PathBuf>,
    pub color: bool,
    /// Rule, window, attempts, parallelism.
    pub settings: AuditSettings,
    pub now: Option<OffsetDateTime>,
}

/// What an audit found, ready to render.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub generated_at: OffsetDateTime,
    pub rule: RuleChoice,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub allowlist_path: String,
    pub allowlist_sha256: String,
    pub inputs: Vec<InputSummary>,
    /// One row per scope the live sources queried (empty without `--live`).
    pub audit_coverage: Vec<AuditCoverageRow>,
    pub events: Vec<AuditEvent>,
    pub findings: Vec<Finding>,
    pub fail_on_attempts: bool,
}

impl AuditReport {
    /// CONTRACTS §6: 1 for an unsanctioned successful change (or, with `--fail-on-attempts`,
    /// an unsanctioned attempt); else 3 when input was lost or a live query left a gap; else
    /// 0.
    pub fn exit_code(&self) -> u8 {
        let violation = self.events.iter().any(|e| {
            e.verdict == AuditVerdict::Unsanctioned && (is_change(e) || self.fail_on_attempts)
        });
        if violation {
            1
        } else if self.incomplete() {
            3
        } else {
            0
        }
    }
}

impl AuditReport {
    /// Some of what should have been read was not: a file not read whole, or a live query
    /// that was denied, failed or could not reach back far enough.
    pub fn incomplete(&self) -> bool {
        self.inputs.iter().any(InputSummary::lost_input)
            || self.audit_coverage.iter().any(AuditCoverageRow::is_gap)
    }
}

/// A call that changed something: it succeeded and was not a DryRun probe.
pub fn is_change(event: &AuditEvent) -> bool {
    event.outcome == Outcome::Success && !event.dry_run
}

/// Runs an audit over files and, with `--live`, the providers' logs, and writes its report to
/// `stdout` (or `--output`).
pub async fn run(request: AuditRequest, stdout: &mut dyn Write) -> Result<u8, CommandError> {
    let started = std::time::Instant::now();
    let allowlist = load_allowlist(&request.allowlist)?;
    let now = request.now.unwrap_or_else(OffsetDateTime::now_utc);
    if request.paths.is_empty() && request.live.is_none() {
        return Err(CommandError::Usage(
            "no input: name log files or directories, `-` for standard input, or --live".into(),
        ));
    }
    let report = audit(&request, &allowlist, now, started).await?;
    let mut rendered = Vec::new();
    let written = match request.format {
        ReportFormat::Table => report::audit::write_table(&report, &mut rendered, request.color),
        ReportFormat::Json => report::audit::write_json(&report, &mut rendered),
        ReportFormat::Ocsf => {
            report::ocsf::write_findings(&report.findings, report.generated_at, &mut rendered)
        }
    };
    deliver(
        written.map(|()| rendered),
        request.output.as_deref(),
        stdout,
    )?;
    Ok(report.exit_code())
}

/// How an audit is run, whatever its inputs.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub rule: RuleChoice,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub fail_on_attempts: bool,
    pub workers: usize,
}

/// Reads the inputs the user named (files, live logs) and evaluates them: the whole audit
/// without rendering.
pub async fn audit(
    request: &AuditRequest,
    allowlist: &Allowlist,
    now: OffsetDateTime,
    started: std::time::Instant,
) -> Result<AuditReport, CommandError> {
    sources::check_exist(&request.paths).map_err(CommandError::Usage)?;
    let (inputs, unreadable) = sources::expand(&request.paths);
    let mut settings = request.settings.clone();
    let live = match &request.live {
        None => LiveLogs::default(),
        Some(cloud) => {
            let window = crate::scan::live_window(&mut settings, now)?;
            // The scopes a scan would list, found the way a scan finds them, but not listed.
            let targets = crate::scan::scan_targets(cloud, allowlist, now, started, true)?;
            let discovery = crate::providers::scan(&targets).await;
            let query = super::live::Query {
                targets: &targets,
                window,
                cloudtrail_rate: cloud.cloudtrail_rate,
            };
            super::live::fetch(query, &discovery.coverage, now).await
        }
    };
    if inputs.is_empty() && request.live.is_none() {
        let why = unreadable
            .iter()
            .map(|u| format!("{}: {}", u.path, u.error.as_deref().unwrap_or("unreadable")))
            .collect::<Vec<_>>();
        return Err(CommandError::Usage(if why.is_empty() {
            format!("no input files under {}", request.paths.join(", "))
        } else {
            format!("no input could be read ({})", why.join("; "))
        }));
    }
    Ok(evaluate(
        &inputs, unreadable, live, &settings, allowlist, now,
    ))
}

/// Reads `inputs` (plus the paths already found unreadable), adds what the live sources
/// fetched, and evaluates it all together: a change whose records are split between a file
/// and a live query is still one change.
pub fn evaluate(
    inputs: &[sources::InputPath],
    unreadable: Vec<InputSummary>,
    live: LiveLogs,
    settings: &AuditSettings,
    allowlist: &Allowlist,
    now: OffsetDateTime,
) -> AuditReport {
    let mut summaries = Vec::new();
    let mut calls = live.calls;
    let mut audit_coverage = live.coverage;
    for (summary, observed) in sources::read_all(inputs, settings.workers) {
        summaries.push(summary);
        calls.extend(observed);
    }
    summaries.extend(unreadable);
    let created = changes::created_mirror_targets(&calls);
    // An undated record cannot be shown to fall outside the window, so it stays in.
    let in_window = |c: &super::Observed| {
        c.time.is_none_or(|t| {
            settings.since.is_none_or(|s| t >= s) && settings.until.is_none_or(|u| t < u)
        })
    };
    // A change is in the window when one of its records is: a GCP operation whose first entry
    // (the one with the request and the collector) fell just before `--since` keeps it. The
    // original rule has no notion of a change and is windowed record by record.
    let changes_in_window: std::collections::HashSet<(crate::model::Provider, String)> =
        match settings.rule {
            RuleChoice::Corrected => calls
                .iter()
                .filter(|c| in_window(c))
                .filter_map(|c| {
                    Some((
                        c.provider,
                        changes::change_key(c.provider, c.change_id.as_deref()?),
                    ))
                })
                .collect(),
            RuleChoice::Seed => Default::default(),
        };
    let calls: Vec<&super::Observed> = calls
        .iter()
        .filter(|c| {
            in_window(c)
                || c.change_id.as_deref().is_some_and(|id| {
                    changes_in_window.contains(&(c.provider, changes::change_key(c.provider, id)))
                })
        })
        .collect();
    let matched = |call: &super::Observed| match settings.rule {
        RuleChoice::Corrected => super::rule::for_call(call).is_some(),
        RuleChoice::Seed => seed::fires(call),
    };
    let mut matched_per_input: std::collections::HashMap<&str, u64> = Default::default();
    for call in calls.iter().copied().filter(|c| matched(c)) {
        *matched_per_input
            .entry(call.location.path.as_str())
            .or_default() += 1;
    }
    for summary in &mut summaries {
        summary.matched = matched_per_input
            .get(summary.path.as_str())
            .copied()
            .unwrap_or(0);
    }
    for row in &mut audit_coverage {
        row.matched = matched_per_input
            .get(row.label.as_str())
            .copied()
            .unwrap_or(0);
    }
    let mut events = match settings.rule {
        RuleChoice::Corrected => changes::corrected(&calls, &created),
        RuleChoice::Seed => changes::seed(&calls, &created),
    };
    verdict::apply(&mut events, allowlist, now);
    let findings = findings(&events, &summaries, &audit_coverage);
    AuditReport {
        generated_at: now,
        rule: settings.rule,
        since: settings.since,
        until: settings.until,
        allowlist_path: allowlist.path.display().to_string(),
        allowlist_sha256: allowlist.sha256.clone(),
        inputs: summaries,
        audit_coverage,
        events,
        findings,
        fail_on_attempts: settings.fail_on_attempts,
    }
}

/// `unsanctioned-change` for every unsanctioned change, `failed-attempt` for every
/// unsanctioned failed or DryRun call, `audit-input-incomplete` for every input that was not
/// read whole, `audit-coverage-gap` for every live query that left part of the window unread.
pub fn findings(
    events: &[AuditEvent],
    inputs: &[InputSummary],
    audit_coverage: &[AuditCoverageRow],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for event in events
        .iter()
        .filter(|e| e.verdict == AuditVerdict::Unsanctioned)
    {
        let code = if is_change(event) {
            "unsanctioned-change"
        } else {
            "failed-attempt"
        };
        let what = event
            .resource
            .clone()
            .or_else(|| event.target.clone())
            .unwrap_or_else(|| "(no resource named)".to_string());
        let when = event
            .time
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| "an unknown time".into());
        let actor = event.actor.as_deref().unwrap_or("an unknown actor");
        let message = if code == "unsanctioned-change" {
            format!(
                "{actor} ran {} ({}) on {what} at {when}: {}",
                event.operation,
                event.lifecycle.as_str(),
                event.verdict_reason
            )
        } else {
            format!(
                "{actor} tried {} on {what} at {when} and it {}{}",
                event.operation,
                if event.dry_run {
                    "was a DryRun probe"
                } else {
                    "failed"
                },
                event
                    .error_code
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            )
        };
        // Same change, same fingerprint: keyed by what happened, not by where it was read.
        let identity = format!(
            "{code}|{}|{}|{}|{}|{}|{}|{}",
            event.provider,
            event.account.as_deref().unwrap_or(""),
            event.operation.to_lowercase(),
            what.to_lowercase(),
            event.actor.as_deref().unwrap_or(""),
            event.time.map(|t| t.unix_timestamp()).unwrap_or_default(),
            event.rule
        );
        findings.push(Finding {
            code,
            severity: event.severity,
            fingerprint: fingerprint(&identity),
            provider: Some(event.provider),
            account: event.account.clone(),
            region: event.region.clone(),
            resource: what,
            message,
            activity: Some(crate::posture::Activity::of(event)),
        });
    }
    for input in inputs.iter().filter(|i| i.lost_input()) {
        let mut problems = Vec::new();
        if input.malformed > 0 {
            problems.push(format!(
                "{} malformed record{} (first at line {})",
                input.malformed,
                if input.malformed == 1 { "" } else { "s" },
                input.malformed_records.first().map_or(0, |m| m.line)
            ));
        }
        problems.extend(input.error.iter().chain(&input.stopped).cloned());
        findings.push(Finding {
            code: "audit-input-incomplete",
            severity: Severity::Medium,
            fingerprint: fingerprint(&format!("audit-input-incomplete|{}", input.path)),
            provider: provider_of(input.format),
            account: None,
            region: None,
            resource: input.path.clone(),
            message: format!(
                "{} was not read whole: {}; changes in the lost part are not seen",
                input.path,
                problems.join("; ")
            ),
            activity: None,
        });
    }
    for row in audit_coverage.iter().filter(|r| r.is_gap()) {
        let scope = match (&row.account, &row.region) {
            (Some(account), Some(region)) => format!("{account}/{region}"),
            (Some(account), None) => account.clone(),
            (None, _) => format!("{} (all scopes)", row.provider),
        };
        let window = |t: Option<OffsetDateTime>| t.map(crate::timefmt::rfc3339).unwrap_or_default();
        findings.push(Finding {
            code: "audit-coverage-gap",
            severity: Severity::Medium,
            // Keyed by the scope and the kind of gap (the detail's leading code), not by the
            // times, which move every run: the same gap, the same fingerprint.
            fingerprint: fingerprint(&format!(
                "audit-coverage-gap|{}|{}|{}|{}|{}",
                row.provider,
                row.account.as_deref().unwrap_or(""),
                row.region.as_deref().unwrap_or(""),
                row.source,
                row.detail
                    .as_deref()
                    .and_then(|d| d.split(':').next())
                    .unwrap_or("")
            )),
            provider: Some(row.provider),
            account: row.account.clone(),
            region: row.region.clone(),
            resource: scope.clone(),
            message: format!(
                "{} of {scope} from {} to {} was not read ({}); changes in it are not seen",
                row.source,
                window(row.since),
                window(row.until),
                row.detail.as_deref().unwrap_or("no detail"),
            ),
            activity: None,
        });
    }
    findings
}

fn provider_of(format: Format) -> Option<Provider> {
    match format {
        Format::Cloudtrail
        | Format::CloudtrailLookup
        | Format::CloudtrailDigest
        | Format::CloudtrailInsight => Some(Provider::Aws),
        Format::GcpAudit => Some(Provider::Gcp),
        Format::AzureActivity | Format::AzureDiagnostic => Some(Provider::Azure),
        Format::Udm | Format::Unknown => None,
    }
}

/// Counts for the summary line and the JSON `summary`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditCounts {
    pub events: usize,
    pub changes: usize,
    pub attempts: usize,
    pub sanctioned: usize,
    pub unsanctioned: usize,
}

impl AuditCounts {
    pub fn of<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> AuditCounts {
        let mut counts = AuditCounts::default();
        for event in events {
            counts.events += 1;
            if is_change(event) {
                counts.changes += 1;
            } else {
                counts.attempts += 1;
            }
            match event.verdict {
                AuditVerdict::Sanctioned => counts.sanctioned += 1,
                AuditVerdict::Unsanctioned => counts.unsanctioned += 1,
            }
        }
        counts
    }
}
