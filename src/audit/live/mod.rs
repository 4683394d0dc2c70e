//! Live audit sources: the providers' own log APIs queried for the scopes a scan covers, so a
//! scheduled scan needs nobody to export logs first (`audit --live`, `scan --audit-live`).
//!
//! Each source fetches the records of the catalogue's operations in the window and hands them,
//! in the provider's own record format, to the same mappers the file sources use; from there
//! the rule, de-duplication, verdicts and correlation are the files' exactly. [`aws`] queries
//! CloudTrail LookupEvents, [`azure`] the Activity Log, [`gcp`] Cloud Logging.
//!
//! Coverage works as for the inventory (CONTRACTS §1): every scope meant to be queried ends in
//! exactly one [`AuditCoverageRow`]; a query that was denied, throttled out or failed is a gap,
//! never an empty log. A window longer than a provider keeps its logs (CONTRACTS §7) is clipped
//! to the retention, and the part cut off is a gap row of its own.

pub mod aws;
pub mod azure;
pub mod gcp;

use super::sources::Format;
use super::{Location, Observed};
use crate::model::{CoverageRow, CoverageStatus, Provider};
use crate::providers::{ListingError, ScanTargets};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// How far back `--live` reads when `--since` is not given: a day, plus an hour of overlap so
/// a daily schedule does not miss the records a provider delivers minutes after the call (a
/// change inside the overlap is reported by both runs, with the same fingerprint).
pub const DEFAULT_WINDOW: Duration = Duration::hours(25);

/// How far back each provider's live log API reaches (CONTRACTS §7).
pub fn retention(provider: Provider) -> Duration {
    match provider {
        // CloudTrail event history (LookupEvents) and the Activity Log both keep 90 days.
        Provider::Aws | Provider::Azure => Duration::days(90),
        // The _Required bucket keeps Admin Activity audit logs for 400 days.
        Provider::Gcp => Duration::days(400),
        Provider::Network => Duration::ZERO,
    }
}

/// The log API each provider's live source reads, as rows and details name it.
pub fn source_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Aws => "cloudtrail-lookup-events",
        Provider::Azure => "azure-activity-log",
        Provider::Gcp => "gcp-cloud-logging",
        Provider::Network => "none",
    }
}

/// One scope's live log query, as the audit report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditCoverageRow {
    pub provider: Provider,
    /// Account, subscription or project; `null` for a row about the whole provider (no
    /// credentials, the retention limit).
    pub account: Option<String>,
    /// AWS region; `null` where the log is account-wide (Azure, GCP).
    pub region: Option<String>,
    /// The log API: `cloudtrail-lookup-events`, `azure-activity-log`, `gcp-cloud-logging`.
    pub source: &'static str,
    pub status: CoverageStatus,
    /// Why, for every status but `scanned`: the provider's own error code first.
    pub detail: Option<String>,
    /// The part of the window this row is about.
    #[serde(serialize_with = "crate::timefmt::serialize_rfc3339_opt")]
    pub since: Option<OffsetDateTime>,
    #[serde(serialize_with = "crate::timefmt::serialize_rfc3339_opt")]
    pub until: Option<OffsetDateTime>,
    /// API calls made for this scope, retries not included.
    pub requests: u64,
    /// Records the queries returned.
    pub records: u64,
    /// Records that matched the rule (filled in once the rule has run).
    pub matched: u64,
    /// Records that could not be read (a CloudTrailEvent that is not JSON, an entry that is
    /// not an object); any makes the row `failed`.
    pub malformed: u64,
    /// Where this scope's records say they came from (`Location::path`).
    #[serde(skip)]
    pub label: String,
}

impl AuditCoverageRow {
    /// A query that did not cover its part of the window: a gap (exit 3 without a violation).
    pub fn is_gap(&self) -> bool {
        matches!(self.status, CoverageStatus::Denied | CoverageStatus::Failed)
    }
}

/// What the live sources returned: one row per scope, and the calls their records describe.
#[derive(Debug, Default)]
pub struct LiveLogs {
    pub coverage: Vec<AuditCoverageRow>,
    pub calls: Vec<Observed>,
}

/// The time range a live query covers: records at or after `since` and before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
}

impl Window {
    /// `since` to the second at or before it: what the APIs' filters are given.
    pub fn since_seconds(&self) -> OffsetDateTime {
        self.since.replace_nanosecond(0).unwrap_or(self.since)
    }

    /// `until` to the second at or after it.
    pub fn until_seconds(&self) -> OffsetDateTime {
        let whole = self.until.replace_nanosecond(0).unwrap_or(self.until);
        if whole == self.until {
            whole
        } else {
            whole + Duration::SECOND
        }
    }
}

/// How fast CloudTrail LookupEvents is called per account and region by default: below its
/// documented 2 requests/s, with a margin for clock skew and request jitter.
pub const DEFAULT_CLOUDTRAIL_RATE: f64 = 1.8;

/// What one provider's source needs besides its scopes.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub targets: &'a ScanTargets,
    pub window: Window,
    /// LookupEvents calls per second per account and region.
    pub cloudtrail_rate: f64,
}

/// One scope a source queries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogScope {
    pub account: String,
    pub region: Option<String>,
}

/// What one scope's queries returned.
#[derive(Debug)]
pub struct ScopeLog {
    pub row: AuditCoverageRow,
    pub calls: Vec<Observed>,
    /// The exact window the records are kept for.
    window: Window,
}

impl ScopeLog {
    /// A scope with its label and window, nothing fetched yet.
    pub fn new(provider: Provider, scope: &LogScope, window: Window) -> ScopeLog {
        let label = match &scope.region {
            Some(region) => format!("live:{}/{}/{region}", source_name(provider), scope.account),
            None => format!("live:{}/{}", source_name(provider), scope.account),
        };
        ScopeLog {
            row: AuditCoverageRow {
                provider,
                account: Some(scope.account.clone()),
                region: scope.region.clone(),
                source: source_name(provider),
                status: CoverageStatus::Scanned,
                detail: None,
                since: Some(window.since),
                until: Some(window.until),
                requests: 0,
                records: 0,
                matched: 0,
                malformed: 0,
                label,
            },
            calls: Vec::new(),
            window,
        }
    }

    /// Maps one record in `format` and keeps the call if a rule could match it and it falls in
    /// the window (the APIs are asked in whole seconds, a little wider). A record the mapper
    /// cannot read counts as malformed.
    pub fn add_record(&mut self, format: Format, record: &serde_json::Value) {
        self.row.records += 1;
        let location = Location {
            path: self.row.label.clone(),
            record: self.row.records,
            line: 0,
        };
        let (since, until) = (self.window.since, self.window.until);
        match format.observe(record, &location) {
            Some(call) => {
                let in_window = call.time.is_none_or(|t| t >= since && t < until);
                let could_match =
                    super::rule::for_call(&call).is_some() || super::seed::fires(&call);
                if in_window && could_match {
                    self.calls.push(call);
                }
            }
            None => self.row.malformed += 1,
        }
    }

    /// Every scope of a source that could not even start (no client, no credentials), each
    /// with the same error.
    pub fn all_failed(
        provider: Provider,
        scopes: &[LogScope],
        window: Window,
        error: ListingError,
    ) -> Vec<ScopeLog> {
        scopes
            .iter()
            .map(|scope| {
                let mut log = ScopeLog::new(provider, scope, window);
                log.fail(error.clone());
                log
            })
            .collect()
    }

    /// Records that the query stopped on an error; what was fetched before it is kept.
    pub fn fail(&mut self, error: ListingError) {
        let previous = self.row.detail.take();
        self.row.status = self.row.status.max(error.status);
        self.row.detail = Some(match previous {
            Some(previous) => format!("{previous}; {}", error.detail),
            None => error.detail,
        });
    }

    /// Settles the row once every query ran: unreadable records make it a gap.
    fn finish(mut self) -> ScopeLog {
        if self.row.malformed > 0 {
            let count = self.row.malformed;
            self.fail(ListingError::failed(format!(
                "MalformedRecord: {count} record{} from {} could not be read; the changes they hold are not checked",
                if count == 1 { "" } else { "s" },
                self.row.source
            )));
        }
        self
    }
}

/// Queries every selected provider's log for the scopes in `scopes` (the coverage rows of a
/// scan or of a discover-only run) over `window`, clipped to each provider's retention.
pub async fn fetch(query: Query<'_>, scopes: &[CoverageRow], now: OffsetDateTime) -> LiveLogs {
    let mut logs = LiveLogs::default();
    let mut work: BTreeMap<Provider, (Window, Vec<LogScope>)> = BTreeMap::new();
    let with_logs = query
        .targets
        .providers
        .iter()
        .copied()
        .filter(|p| *p != Provider::Network);
    for provider in with_logs {
        // A cloud the scan could not enter at all (no credentials, no region list) cannot be
        // asked either: its rows say why, whatever the window.
        for row in scopes.iter().filter(|r| {
            r.scope.provider == provider && r.scope.account.is_none() && r.status.is_gap()
        }) {
            logs.coverage.push(AuditCoverageRow {
                provider,
                account: None,
                region: None,
                source: source_name(provider),
                status: row.status,
                detail: row.detail.clone(),
                since: Some(query.window.since),
                until: Some(query.window.until),
                requests: 0,
                records: 0,
                matched: 0,
                malformed: 0,
                label: String::new(),
            });
        }
        let window = clip(provider, query.window, now, &mut logs.coverage);
        let mut queried = Vec::new();
        for (scope, row) in log_scopes(provider, scopes) {
            match (row, window) {
                (Some(row), _) => logs.coverage.push(row_for(
                    provider,
                    &scope,
                    window.unwrap_or(query.window),
                    row,
                )),
                // Nothing of the window is within the retention: the scope is that gap.
                (None, None) => {
                    let mut log = ScopeLog::new(provider, &scope, query.window);
                    log.fail(retention_gap(provider, query.window, now));
                    logs.coverage.push(log.row);
                }
                (None, Some(_)) => queried.push(scope),
            }
        }
        if let Some(window) = window {
            work.insert(provider, (window, queried));
        }
    }
    let scopes_of = |provider| work.get(&provider).cloned();
    let (aws_logs, azure_logs, gcp_logs) = tokio::join!(
        async {
            match scopes_of(Provider::Aws) {
                Some((window, scopes)) if !scopes.is_empty() => {
                    aws::fetch(Query { window, ..query }, scopes).await
                }
                _ => Vec::new(),
            }
        },
        async {
            match scopes_of(Provider::Azure) {
                Some((window, scopes)) if !scopes.is_empty() => {
                    azure::fetch(Query { window, ..query }, scopes).await
                }
                _ => Vec::new(),
            }
        },
        async {
            match scopes_of(Provider::Gcp) {
                Some((window, scopes)) if !scopes.is_empty() => {
                    gcp::fetch(Query { window, ..query }, scopes).await
                }
                _ => Vec::new(),
            }
        },
    );
    for log in aws_logs.into_iter().chain(azure_logs).chain(gcp_logs) {
        let log = log.finish();
        logs.coverage.push(log.row);
        logs.calls.extend(log.calls);
    }
    logs.coverage.sort_by(|a, b| {
        (a.provider, &a.account, &a.region, a.since)
            .cmp(&(b.provider, &b.account, &b.region, b.since))
    });
    logs
}

/// The part of `window` the provider's log still holds; a gap row for the part it does not.
/// `None` when none of the window is left.
fn clip(
    provider: Provider,
    window: Window,
    now: OffsetDateTime,
    coverage: &mut Vec<AuditCoverageRow>,
) -> Option<Window> {
    let oldest = now - retention(provider);
    if window.until <= oldest {
        return None;
    }
    if window.since >= oldest {
        return Some(window);
    }
    let error = retention_gap(provider, window, now);
    coverage.push(AuditCoverageRow {
        provider,
        account: None,
        region: None,
        source: source_name(provider),
        status: error.status,
        detail: Some(error.detail),
        since: Some(window.since),
        until: Some(oldest),
        requests: 0,
        records: 0,
        matched: 0,
        malformed: 0,
        label: String::new(),
    });
    Some(Window {
        since: oldest,
        until: window.until,
    })
}

/// The gap row's error for the part of `window` older than the provider keeps.
fn retention_gap(provider: Provider, window: Window, now: OffsetDateTime) -> ListingError {
    let oldest = now - retention(provider);
    let (api, remedy) = match provider {
        Provider::Aws => (
            "CloudTrail LookupEvents",
            "read the trail's files from its S3 bucket, or CloudTrail Lake, for that part",
        ),
        Provider::Azure => (
            "the Activity Log API",
            "read the diagnostic-settings export (storage account or Log Analytics) for that part",
        ),
        Provider::Gcp => (
            "the _Required log bucket",
            "read a log sink's export for that part",
        ),
        Provider::Network => ("no live source", ""),
    };
    ListingError::failed(format!(
        "RetentionExceeded: {api} keeps {} days of events; {} to {} is older and not covered by the live source; {remedy}",
        retention(provider).whole_days(),
        crate::timefmt::rfc3339(window.since),
        crate::timefmt::rfc3339(oldest.min(window.until)),
    ))
}

/// The scopes of one provider's log, each with the row it ends in without a query (excluded,
/// disabled, not listable), or `None` to query it. GCP and Azure logs are project- and
/// subscription-wide, so their inventory's per-region rows collapse to one scope.
fn log_scopes(provider: Provider, scopes: &[CoverageRow]) -> Vec<(LogScope, Option<CoverageRow>)> {
    let mut by_scope: BTreeMap<LogScope, Vec<&CoverageRow>> = BTreeMap::new();
    for row in scopes.iter().filter(|r| r.scope.provider == provider) {
        let Some(account) = row.scope.account.clone() else {
            continue;
        };
        let region = match provider {
            Provider::Aws => row.scope.region.clone(),
            _ => None,
        };
        by_scope
            .entry(LogScope { account, region })
            .or_default()
            .push(row);
    }
    by_scope
        .into_iter()
        .filter_map(|(scope, rows)| {
            // An AWS account whose regions could not be listed has no region to ask.
            if provider == Provider::Aws && scope.region.is_none() {
                let row = rows[0];
                if row.status == CoverageStatus::Excluded || row.status == CoverageStatus::Disabled
                {
                    return Some((scope, Some(row.clone())));
                }
                if row.status.is_gap() {
                    let mut row = row.clone();
                    row.status = CoverageStatus::Failed;
                    row.detail = Some(format!(
                        "NoRegions: the account's regions could not be listed, so no region's CloudTrail could be asked ({})",
                        row.detail.as_deref().unwrap_or("no detail")
                    ));
                    return Some((scope, Some(row)));
                }
                return None;
            }
            // Out of reach on purpose: the same row, never queried. A project listed as
            // disabled in some regions only is still queried.
            if rows.iter().all(|r| r.status == CoverageStatus::Excluded) {
                return Some((scope, Some(rows[0].clone())));
            }
            if rows.iter().all(|r| {
                matches!(r.status, CoverageStatus::Disabled | CoverageStatus::Excluded)
            }) {
                return Some((scope, Some(rows[0].clone())));
            }
            Some((scope, None))
        })
        .collect()
}

fn row_for(
    provider: Provider,
    scope: &LogScope,
    window: Window,
    row: CoverageRow,
) -> AuditCoverageRow {
    let mut log = ScopeLog::new(provider, scope, window);
    log.row.status = row.status;
    log.row.detail = row.detail;
    log.row
}
