//! Command-line definitions. Clap lives only here: arguments become plain request structs that
//! the rest of the library understands.

use crate::audit::command::{AuditRequest, AuditSettings};
use crate::audit::RuleChoice;
use crate::model::{is_guid, is_region_name, Provider};
use crate::providers::aws::{AwsAuth, AwsSettings, MemberRole};
use crate::providers::azure::{AzureAuth, AzureSettings};
use crate::providers::gcp::{GcpAuth, GcpHierarchy, GcpSettings};
use crate::providers::{Tuning, DEFAULT_CONCURRENCY, DEFAULT_PER_ACCOUNT};
use crate::report::Format;
use crate::scan::{AllowlistSource, CloudSelection, ScanRequest};
use crate::timefmt::{parse_duration, parse_instant};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

#[derive(Debug, Parser)]
#[command(
    name = "mirrorguard",
    version,
    about = "Find every cloud traffic mirror and check it against the approved list (MITRE ATT&CK T1020.001)",
    after_help = "Exit codes (scan, audit): 0 clean · 1 violation (unapproved or expired mirror, unsanctioned change) · 2 usage or allowlist error · 3 incomplete coverage or lost log input. approve/revoke: 0 written · 2 refused, nothing written. allowlist check: 0 valid · 1 expired or too long · 2 invalid. rule: 0 written · 2 usage"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every traffic mirror through the providers' live APIs and check its destination
    /// against the allowlist.
    Scan(Box<ScanArgs>),
    /// Check audit logs (CloudTrail, GCP Cloud Audit Logs, Azure Activity Log, Chronicle UDM)
    /// for who created, changed or deleted mirroring, and whether the allowlist sanctions it.
    Audit(Box<AuditArgs>),
    /// Approve a mirror destination ([[targets]]), an actor ([[principals]]) or an engagement
    /// window ([[engagements]]): one entry added to the allowlist, validated, written safely.
    Approve(Box<ApproveArgs>),
    /// Remove one allowlist entry, by reference (`targets[2]`) or by the target or actor it
    /// names.
    Revoke(RevokeArgs),
    /// Work with allowlist.toml.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
    /// The detection rule: show the catalogue, compare it with the original Chronicle rule,
    /// or export it to a SIEM's language.
    #[command(subcommand)]
    Rule(RuleCommand),
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Print the catalogue: every operation that creates, modifies or deletes mirroring.
    Show,
    /// Print which catalogued operations the original Chronicle rule misses or catches only by
    /// accident.
    DiffSeed,
    /// Write the rule in a SIEM's query language (to standard output unless --output).
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    /// Chronicle YARA-L 2.0: the corrected seed rule.
    #[value(name = "yara-l")]
    YaraL,
    /// Sigma: one rule per log source, as one multi-document YAML stream.
    Sigma,
    /// Microsoft Sentinel KQL (AWSCloudTrail, AzureActivity, GCPAuditLogs).
    Kql,
    /// Splunk SPL (aws:cloudtrail, mscs:azure:eventhub, google:gcp:pubsub:message).
    Spl,
    /// Amazon Athena SQL over the CloudTrail table (AWS only).
    #[value(name = "sql-athena")]
    SqlAthena,
    /// BigQuery SQL over a Cloud Audit Logs sink table (GCP only).
    #[value(name = "sql-bigquery")]
    SqlBigquery,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The language to write.
    #[arg(long, value_enum)]
    pub format: ExportFormatArg,

    /// Clouds to cover, comma-separated (default: every cloud the format reads).
    #[arg(long = "provider", alias = "providers", value_delimiter = ',', value_parser = parse_provider)]
    pub providers: Vec<Provider>,

    /// Report failed calls too (refused calls, DryRun probes), marked as failures.
    #[arg(long)]
    pub include_attempts: bool,

    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ExportArgs {
    pub fn into_request(self) -> Result<crate::rules::RuleRequest, String> {
        use crate::export::{ExportFormat, Selection};
        let format = match self.format {
            ExportFormatArg::YaraL => ExportFormat::YaraL,
            ExportFormatArg::Sigma => ExportFormat::Sigma,
            ExportFormatArg::Kql => ExportFormat::Kql,
            ExportFormatArg::Spl => ExportFormat::Spl,
            ExportFormatArg::SqlAthena => ExportFormat::SqlAthena,
            ExportFormatArg::SqlBigquery => ExportFormat::SqlBigquery,
        };
        if self.providers.contains(&Provider::Network) {
            return Err(
                "--provider network: the rule catalogue has no network operations yet".into(),
            );
        }
        Ok(crate::rules::RuleRequest::Export {
            format,
            selection: Selection::new(format, &self.providers, self.include_attempts)?,
            output: self.output,
        })
    }
}

/// How a report is written: shared by every command that writes one.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,

    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Colour in the table: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

impl ReportArgs {
    pub fn format(&self) -> Format {
        match self.format {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Ocsf => Format::Ocsf,
        }
    }

    /// Whether the table is coloured; `by_default` is what `auto` means here.
    pub fn color(&self, by_default: bool) -> bool {
        match self.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => by_default,
        }
    }
}

/// Which audit records count (`audit`, `scan --audit`).
#[derive(Debug, Args)]
pub struct AuditWindowArgs {
    /// Only audit records at or after this time: RFC 3339, a date, or a duration back from
    /// now (24h, 7d).
    #[arg(long, value_parser = parse_time_bound, value_name = "WHEN")]
    pub since: Option<TimeBound>,

    /// Only audit records before this time (same forms as --since).
    #[arg(long, value_parser = parse_time_bound, value_name = "WHEN")]
    pub until: Option<TimeBound>,

    /// Unsanctioned failed attempts (refused calls, DryRun probes) exit 1 too.
    #[arg(long)]
    pub fail_on_attempts: bool,
}

impl AuditWindowArgs {
    /// The audit settings these flags give, durations counted back from `now`.
    fn settings(
        &self,
        rule: RuleChoice,
        workers: usize,
        now: OffsetDateTime,
    ) -> Result<AuditSettings, String> {
        let since = self.since.map(|b| b.resolve(now));
        let until = self.until.map(|b| b.resolve(now));
        if let (Some(since), Some(until)) = (since, until) {
            if until <= since {
                return Err("--until must be after --since".to_string());
            }
        }
        Ok(AuditSettings {
            rule,
            since,
            until,
            fail_on_attempts: self.fail_on_attempts,
            workers,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleArg {
    /// The catalogue: exact operation names, outcome-aware, one change one event.
    Corrected,
    /// The original Chronicle YARA-L rule exactly as written (to compare what it misses).
    Seed,
}

/// A time bound: an RFC 3339 instant, a date, or a duration back from now (`24h`, `7d`).
#[derive(Debug, Clone, Copy)]
pub enum TimeBound {
    At(OffsetDateTime),
    Ago(Duration),
}

impl TimeBound {
    pub fn resolve(self, now: OffsetDateTime) -> OffsetDateTime {
        match self {
            TimeBound::At(t) => t,
            TimeBound::Ago(d) => now
                .checked_sub(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }
}

/// Inputs read at once by default: one per core.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn parse_time_bound(text: &str) -> Result<TimeBound, String> {
    let text = text.trim();
    if text.ends_with(['s', 'm', 'h', 'd'])
        && text.starts_with(|c: char| c.is_ascii_digit())
        && !text.contains('-')
    {
        return parse_duration(text).map(TimeBound::Ago);
    }
    parse_instant(text).map(TimeBound::At)
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Log files and directories (walked recursively; `.gz` and plain), or `-` for standard
    /// input. The format of each file is detected.
    #[arg(value_name = "PATH", required_unless_present = "live")]
    pub paths: Vec<String>,

    /// Read the providers' audit logs live (CloudTrail LookupEvents, the Azure Activity Log,
    /// GCP Cloud Logging) for every scope a scan would cover, over --since (default 25h: a day
    /// and an hour of overlap for records that arrive late).
    #[arg(long)]
    pub live: bool,

    #[command(flatten)]
    pub cloud: CloudArgs,

    /// The allowlist whose [[principals]] and [[engagements]] sanction changes.
    #[arg(long, value_name = "PATH", default_value = "allowlist.toml")]
    pub allowlist: PathBuf,

    /// Which rule evaluates the records.
    #[arg(long, value_enum, default_value_t = RuleArg::Corrected)]
    pub rule: RuleArg,

    #[command(flatten)]
    pub window: AuditWindowArgs,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Files read at once (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,

    /// Pin the clock (RFC 3339 or YYYY-MM-DD) so reports are reproducible.
    #[arg(long, value_parser = parse_instant, hide = true)]
    pub now: Option<OffsetDateTime>,
}

impl AuditArgs {
    /// The plain request the library runs; `color_by_default` as for [`ScanArgs::into_request`].
    pub fn into_request(self, color_by_default: bool) -> Result<AuditRequest, String> {
        let now = self.now.unwrap_or_else(OffsetDateTime::now_utc);
        let rule = match self.rule {
            RuleArg::Corrected => RuleChoice::Corrected,
            RuleArg::Seed => RuleChoice::Seed,
        };
        let workers = self.jobs.map_or_else(default_workers, |n| n as usize);
        let live = if self.live {
            Some(self.cloud.selection(false)?)
        } else {
            if let Some(flag) = self.cloud.cloud_flag_given() {
                return Err(format!(
                    "{flag} selects what live logs to read; it needs --live"
                ));
            }
            None
        };
        Ok(AuditRequest {
            live,
            paths: self.paths,
            allowlist: AllowlistSource::File(self.allowlist),
            format: self.report.format(),
            color: self.report.color(color_by_default),
            output: self.report.output,
            settings: self.window.settings(rule, workers, now)?,
            now: Some(now),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum AllowlistCommand {
    /// Write a commented allowlist template (refuses to overwrite an existing file).
    Init {
        #[arg(long, default_value = "allowlist.toml")]
        path: PathBuf,
    },
    /// Validate the allowlist; list expired entries, entries expiring soon, entries longer
    /// than max_lifetime_days and, with --scan, entries that matched nothing. Exit 1 when
    /// something is expired or too long, 2 when the file is invalid.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The allowlist to check.
    #[arg(long, value_name = "PATH", default_value = "allowlist.toml")]
    pub allowlist: PathBuf,
    /// A JSON scan report (`scan --format json`) made with this allowlist: list the entries
    /// that matched nothing in it.
    #[arg(long, value_name = "REPORT")]
    pub scan: Option<PathBuf>,
    /// How far ahead an expiry counts as soon.
    #[arg(long, value_name = "DURATION", default_value = "14d", value_parser = parse_duration)]
    pub within: Duration,
    #[arg(long, hide = true, value_parser = parse_instant)]
    pub now: Option<OffsetDateTime>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["target", "mirror", "principal", "engagement"])))]
pub struct ApproveArgs {
    /// The destination to approve, exactly as the scan prints it (target.id).
    pub target: Option<String>,
    /// Approve the destination of this mirror (its id as the scan prints it) from --from-scan.
    #[arg(long, requires = "from_scan", value_name = "MIRROR_ID")]
    pub mirror: Option<String>,
    /// The JSON scan report (`scan --format json --output FILE`) --mirror is read from.
    #[arg(long, value_name = "REPORT")]
    pub from_scan: Option<PathBuf>,
    /// With --mirror: do not restrict the entry to the mirror's account and region.
    #[arg(long, requires = "mirror")]
    pub anywhere: bool,
    /// Approve an actor whose changes are sanctioned ([[principals]]).
    #[arg(long, value_name = "ACTOR")]
    pub principal: Option<String>,
    /// Approve an actor's changes inside a window ([[engagements]]), with --starts and --ends.
    #[arg(long, value_name = "ACTOR", requires_all = ["starts", "ends"])]
    pub engagement: Option<String>,
    /// With --engagement: when the window opens (RFC 3339 or a date, UTC).
    #[arg(long, value_parser = parse_instant)]
    pub starts: Option<OffsetDateTime>,
    /// With --engagement: when it closes (exclusive).
    #[arg(long, value_parser = parse_instant)]
    pub ends: Option<OffsetDateTime>,
    /// With --engagement: only changes to these destinations.
    #[arg(long, value_delimiter = ',', requires = "engagement")]
    pub targets: Option<Vec<String>>,
    /// aws, azure, gcp or network (required for a target or principal; optional for an
    /// engagement; read from the report with --mirror).
    #[arg(long, value_parser = parse_provider)]
    pub provider: Option<Provider>,
    /// Who answers for the entry (a team address).
    #[arg(long)]
    pub owner: String,
    /// The ticket that approved it.
    #[arg(long)]
    pub ticket: String,
    /// Why it is sanctioned (required for targets and principals).
    #[arg(long)]
    pub reason: Option<String>,
    /// Last day (or instant) the entry applies: 2027-06-30 or RFC 3339.
    #[arg(long, value_name = "DATE", conflicts_with = "for_")]
    pub expires: Option<String>,
    /// How long the entry applies, from today: 90d.
    #[arg(long = "for", id = "for_", value_name = "DURATION", value_parser = parse_duration)]
    pub for_: Option<Duration>,
    /// Restrict to these accounts (subscriptions, projects) — the mirror's own.
    #[arg(long, value_delimiter = ',')]
    pub accounts: Option<Vec<String>>,
    /// Restrict to these regions — the mirror's own.
    #[arg(long, value_delimiter = ',')]
    pub regions: Option<Vec<String>>,
    /// The allowlist to edit.
    #[arg(long, value_name = "PATH", default_value = "allowlist.toml")]
    pub allowlist: PathBuf,
    #[arg(long, hide = true, value_parser = parse_instant)]
    pub now: Option<OffsetDateTime>,
}

impl ApproveArgs {
    pub fn into_request(self) -> Result<crate::approve::ApproveRequest, String> {
        use crate::approve::{Approval, ExpiryRequest};
        let now = self.now.unwrap_or_else(OffsetDateTime::now_utc);
        let need_provider = |what: &str| {
            self.provider
                .ok_or_else(|| format!("--provider is required to approve {what}"))
        };
        let approval = if let Some(target) = &self.target {
            Approval::Target {
                provider: need_provider("a target")?,
                target: target.clone(),
            }
        } else if let Some(mirror) = &self.mirror {
            if self.provider.is_some() {
                return Err(
                    "--provider: with --mirror the provider is the mirror's, from the report"
                        .into(),
                );
            }
            Approval::FromScan {
                mirror: mirror.clone(),
                report: self.from_scan.clone().unwrap_or_default(),
                anywhere: self.anywhere,
            }
        } else if let Some(actor) = &self.principal {
            Approval::Principal {
                provider: need_provider("a principal")?,
                actor: actor.clone(),
            }
        } else if let Some(actor) = &self.engagement {
            if self.expires.is_some() || self.for_.is_some() {
                return Err("--expires/--for: an engagement ends at --ends".into());
            }
            Approval::Engagement {
                actor: actor.clone(),
                provider: self.provider,
                starts: self.starts.ok_or("--starts is required")?,
                ends: self.ends.ok_or("--ends is required")?,
                targets: self.targets.clone(),
            }
        } else {
            return Err(
                "name what to approve: TARGET, --mirror, --principal or --engagement".into(),
            );
        };
        let expiry = match (&self.expires, self.for_) {
            (Some(text), _) => Some(parse_expiry(text)?),
            (None, Some(duration)) => Some(ExpiryRequest::For(duration)),
            (None, None) => None,
        };
        Ok(crate::approve::ApproveRequest {
            allowlist: self.allowlist,
            approval,
            owner: self.owner,
            ticket: self.ticket,
            reason: self.reason,
            expiry,
            accounts: self.accounts,
            regions: self.regions,
            now,
        })
    }
}

/// `2027-06-30` stays a date (valid through that day); anything else must be RFC 3339.
fn parse_expiry(text: &str) -> Result<crate::approve::ExpiryRequest, String> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text.trim(), date_format) {
        return Ok(crate::approve::ExpiryRequest::Date(date));
    }
    parse_instant(text.trim())
        .map(crate::approve::ExpiryRequest::Instant)
        .map_err(|e| format!("--expires: {e}"))
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// `targets[2]` (as `allowlist check` prints it), or the target, actor or scope the entry
    /// names, exactly as written.
    pub entry: String,
    /// The allowlist to edit.
    #[arg(long, value_name = "PATH", default_value = "allowlist.toml")]
    pub allowlist: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    /// One OCSF 1.5.0 finding per line (Detection Finding for log detections, Compliance
    /// Finding for posture results).
    Ocsf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// Which clouds, scopes and credentials a command reaches, and how politely: shared by `scan`
/// and `audit --live`, so the live logs are read for exactly the scopes a scan would list.
#[derive(Debug, Args)]
pub struct CloudArgs {
    /// Providers to scan (for `audit --live`: whose logs to read), comma-separated: aws,
    /// azure, gcp (default: all three clouds; network is not available yet).
    #[arg(long = "provider", alias = "providers", value_delimiter = ',', value_parser = parse_provider)]
    pub providers: Vec<Provider>,

    /// AWS regions to scan, comma-separated (default: every region enabled for the account).
    #[arg(
        long = "aws-regions",
        alias = "aws-region",
        value_delimiter = ',',
        value_name = "REGION",
        value_parser = parse_region
    )]
    pub aws_regions: Vec<String>,

    /// Named AWS profile to take credentials from.
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,

    /// Override every AWS endpoint (same as AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub aws_endpoint: Option<String>,

    /// Scan every active account of the caller's AWS organisation (Organizations
    /// ListAccounts; run it from the management or a delegated-administrator account),
    /// assuming --aws-role-name in each.
    #[arg(long)]
    pub aws_organization: bool,

    /// The role to assume in every account but the caller's own (a name, optionally with its
    /// path: security/MirrorguardReadOnly). The session is named mirrorguard-scan.
    #[arg(long, value_name = "NAME", value_parser = parse_role_name)]
    pub aws_role_name: Option<String>,

    /// The external id the role's trust policy asks for (sts:ExternalId).
    #[arg(long, value_name = "ID", requires = "aws_role_name")]
    pub aws_external_id: Option<String>,

    /// AWS accounts to scan, comma-separated: with --aws-organization, the members to keep;
    /// without, the accounts to reach through --aws-role-name.
    #[arg(
        long = "aws-accounts",
        alias = "aws-account",
        value_delimiter = ',',
        value_name = "ID",
        value_parser = parse_account
    )]
    pub aws_accounts: Vec<String>,

    /// AWS accounts to leave out (reported `excluded`, never silently dropped).
    #[arg(
        long = "aws-exclude-accounts",
        alias = "aws-exclude-account",
        value_delimiter = ',',
        value_name = "ID",
        value_parser = parse_account
    )]
    pub aws_exclude_accounts: Vec<String>,

    /// Azure subscriptions to scan, comma-separated (default: every subscription the identity
    /// can see).
    #[arg(
        long = "azure-subscriptions",
        alias = "azure-subscription",
        value_delimiter = ',',
        value_name = "ID",
        value_parser = parse_subscription
    )]
    pub azure_subscriptions: Vec<String>,

    /// Azure subscriptions to leave out (reported `excluded`, never silently dropped).
    #[arg(
        long = "azure-exclude-subscriptions",
        alias = "azure-exclude-subscription",
        value_delimiter = ',',
        value_name = "ID",
        value_parser = parse_subscription
    )]
    pub azure_exclude_subscriptions: Vec<String>,

    /// Azure Resource Manager base URL (sovereign clouds, tests) [env:
    /// MIRRORGUARD_AZURE_ENDPOINT; ignored by --demo].
    #[arg(long, value_name = "URL", value_parser = parse_endpoint)]
    pub azure_endpoint: Option<String>,

    /// Leave the VM managed-identity probe (169.254.169.254) out of the Azure credential chain.
    #[arg(long, env = "MIRRORGUARD_AZURE_NO_MANAGED_IDENTITY", value_parser = clap::builder::FalseyValueParser::new())]
    pub azure_no_managed_identity: bool,

    /// GCP projects to scan, comma-separated (default: GOOGLE_CLOUD_PROJECT, else the
    /// Application Default Credentials' project).
    #[arg(
        long = "gcp-projects",
        alias = "gcp-project",
        value_delimiter = ',',
        value_name = "ID",
        value_parser = parse_project
    )]
    pub gcp_projects: Vec<String>,

    /// GCP projects to leave out (reported `excluded`, never silently dropped).
    #[arg(
        long = "gcp-exclude-projects",
        alias = "gcp-exclude-project",
        value_delimiter = ',',
        value_name = "ID",
        value_parser = parse_project
    )]
    pub gcp_exclude_projects: Vec<String>,

    /// Scan every active project under this GCP organisation (its numeric id), found with
    /// Resource Manager v3 search.
    #[arg(long, value_name = "ID", value_parser = parse_organization_id, conflicts_with = "gcp_folder")]
    pub gcp_organization: Option<String>,

    /// Scan every active project under this GCP folder (its numeric id), at any depth.
    #[arg(long, value_name = "ID", value_parser = parse_folder_id)]
    pub gcp_folder: Option<String>,

    /// GCP Resource Manager base URL [env: MIRRORGUARD_GCP_RESOURCEMANAGER_ENDPOINT; ignored
    /// by --demo].
    #[arg(long, value_name = "URL", value_parser = parse_endpoint)]
    pub gcp_resourcemanager_endpoint: Option<String>,

    /// GCP Compute base URL (tests, private endpoints) [env: MIRRORGUARD_GCP_ENDPOINT; ignored
    /// by --demo].
    #[arg(long, value_name = "URL", value_parser = parse_endpoint)]
    pub gcp_endpoint: Option<String>,

    /// GCP Cloud Logging base URL for the live audit source [env:
    /// MIRRORGUARD_GCP_LOGGING_ENDPOINT; ignored by --demo].
    #[arg(long, value_name = "URL", value_parser = parse_endpoint)]
    pub gcp_logging_endpoint: Option<String>,

    /// Timeout for each attempt of one API call.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Bound on the whole scan: scopes not finished by then are reported `failed` and the
    /// report is still written.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub deadline: Option<Duration>,

    /// Attempts per API call, retries included (throttling and 5xx are retried with backoff).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,

    /// Units of work in flight at once across every account: one scope's listings, one
    /// AssumeRole, one DescribeRegions.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// Regions of one AWS account listed at once, so no single account is hammered (an Azure
    /// subscription and a GCP project are one listing each already).
    #[arg(long, default_value_t = DEFAULT_PER_ACCOUNT as u32, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub account_concurrency: u32,

    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Log what happens on stderr: -v for each scope, -vv for every API call (RUST_LOG
    /// overrides).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// First retry delay (tests shorten it).
    #[arg(long, default_value = "1s", value_parser = parse_duration, hide = true)]
    pub retry_backoff: Duration,

    /// Pages per listing before the scope is declared failed.
    #[arg(long, default_value_t = 1000, hide = true)]
    pub max_pages: usize,

    /// CloudTrail LookupEvents calls per second per account and region (AWS allows 2).
    #[arg(long, default_value_t = crate::audit::live::DEFAULT_CLOUDTRAIL_RATE, hide = true)]
    pub cloudtrail_rate: f64,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The allowlist of approved mirror destinations.
    #[arg(long, value_name = "PATH")]
    pub allowlist: Option<PathBuf>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Scan the bundled demo estate on an in-process mock cloud (no credentials, no network).
    #[arg(long)]
    pub demo: bool,

    #[command(flatten)]
    pub cloud: CloudArgs,

    /// Audit logs to check with the scan and correlate with the inventory (who created each
    /// mirror, mirrors created and deleted between scans, retargeted mirrors). Files or
    /// directories; repeat the flag for several.
    #[arg(long = "audit", value_name = "PATH")]
    pub audit: Vec<String>,

    /// Compare with an earlier JSON report (`scan --format json --output FILE`): mirrors new
    /// or retargeted since then are marked, and mirrors gone from a scope scanned both times
    /// are `disappeared-mirror` findings (gone from a scope not scanned now: `unknown`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// The table shows only the mirrors that changed since --baseline (the JSON report stays
    /// whole); coverage gaps are always shown.
    #[arg(long, requires = "baseline")]
    pub changes_only: bool,

    /// Also read the providers' audit logs live (CloudTrail LookupEvents, the Azure Activity
    /// Log, GCP Cloud Logging) for every scope the scan covers, over --since (default 25h: a
    /// day and an hour of overlap for records that arrive late).
    #[arg(long)]
    pub audit_live: bool,

    #[command(flatten)]
    pub window: AuditWindowArgs,

    /// Pin the clock (RFC 3339 or YYYY-MM-DD) so reports are reproducible.
    #[arg(long, value_parser = parse_instant, hide = true)]
    pub now: Option<OffsetDateTime>,
}

fn parse_region(text: &str) -> Result<String, String> {
    let region = text.trim();
    if !is_region_name(region) {
        return Err(format!(
            "{text:?} is not a region name (lower-case letters, digits and `-`, like us-east-1)"
        ));
    }
    Ok(region.to_string())
}

/// An endpoint override: an absolute http(s) URL with a host.
fn parse_endpoint(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{text:?} is not an http(s) URL with a host, like https://management.azure.com"
        ));
    }
    Ok(text.trim().trim_end_matches('/').to_string())
}

/// An Azure subscription id: a GUID.
fn parse_subscription(text: &str) -> Result<String, String> {
    let id = text.trim();
    if !is_guid(id) {
        return Err(format!(
            "{text:?} is not a subscription id (a GUID like 00000000-0000-0000-0000-000000000000)"
        ));
    }
    Ok(id.to_ascii_lowercase())
}

/// A GCP project id: 6–30 lower-case letters, digits and hyphens, starting with a letter,
/// optionally behind the domain of a legacy domain-scoped project (`example.com:my-project`).
fn parse_project(text: &str) -> Result<String, String> {
    let id = text.trim();
    let (domain, name) = match id.split_once(':') {
        Some((domain, name)) => (Some(domain), name),
        None => (None, id),
    };
    let domain_ok = domain.is_none_or(|d| {
        d.contains('.')
            && d.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    });
    let valid = domain_ok
        && (6..=30).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-');
    if !valid {
        return Err(format!(
            "{text:?} is not a project id (6-30 lower-case letters, digits and hyphens, starting with a letter)"
        ));
    }
    Ok(id.to_string())
}

/// An AWS account id: 12 digits.
fn parse_account(text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not an AWS account id (12 digits)"));
    }
    Ok(id.to_string())
}

/// An IAM role name (`[A-Za-z0-9+=,.@_-]`, 1–64), optionally behind a path of the same
/// characters (`security/ReadOnly`).
fn parse_role_name(text: &str) -> Result<String, String> {
    let name = text.trim().trim_matches('/');
    let segment_ok = |segment: &str| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    };
    let last = name.rsplit('/').next().unwrap_or_default();
    if name.len() > 512 || last.len() > 64 || !name.split('/').all(segment_ok) {
        return Err(format!(
            "{text:?} is not an IAM role name (letters, digits and +=,.@_-, optionally behind a path like security/)"
        ));
    }
    Ok(name.to_string())
}

/// A GCP organisation id: digits, optionally as `organizations/N`.
fn parse_organization_id(text: &str) -> Result<String, String> {
    parse_numeric_id(text, "organizations/", "organisation")
}

/// A GCP folder id: digits, optionally as `folders/N`.
fn parse_folder_id(text: &str) -> Result<String, String> {
    parse_numeric_id(text, "folders/", "folder")
}

fn parse_numeric_id(text: &str, prefix: &str, what: &str) -> Result<String, String> {
    let id = text.trim();
    let id = id.strip_prefix(prefix).unwrap_or(id);
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text:?} is not a numeric {what} id (digits, or {prefix}DIGITS)"
        ));
    }
    Ok(id.to_string())
}

fn parse_provider(text: &str) -> Result<Provider, String> {
    Provider::parse(text.trim())
        .ok_or_else(|| format!("unknown provider {text:?} (expected aws, azure, gcp or network)"))
}

impl CloudArgs {
    /// The first scope or endpoint flag given, if any (they mean nothing to an audit of files).
    fn cloud_flag_given(&self) -> Option<&'static str> {
        [
            (!self.providers.is_empty(), "--provider"),
            (!self.aws_regions.is_empty(), "--aws-regions"),
            (self.aws_profile.is_some(), "--aws-profile"),
            (self.aws_endpoint.is_some(), "--aws-endpoint"),
            (self.aws_organization, "--aws-organization"),
            (self.aws_role_name.is_some(), "--aws-role-name"),
            (!self.aws_accounts.is_empty(), "--aws-accounts"),
            (
                !self.aws_exclude_accounts.is_empty(),
                "--aws-exclude-accounts",
            ),
            (
                !self.azure_subscriptions.is_empty(),
                "--azure-subscriptions",
            ),
            (
                !self.azure_exclude_subscriptions.is_empty(),
                "--azure-exclude-subscriptions",
            ),
            (self.azure_endpoint.is_some(), "--azure-endpoint"),
            (!self.gcp_projects.is_empty(), "--gcp-projects"),
            (
                !self.gcp_exclude_projects.is_empty(),
                "--gcp-exclude-projects",
            ),
            (self.gcp_organization.is_some(), "--gcp-organization"),
            (self.gcp_folder.is_some(), "--gcp-folder"),
            (
                self.gcp_resourcemanager_endpoint.is_some(),
                "--gcp-resourcemanager-endpoint",
            ),
            (self.gcp_endpoint.is_some(), "--gcp-endpoint"),
            (
                self.gcp_logging_endpoint.is_some(),
                "--gcp-logging-endpoint",
            ),
            (self.deadline.is_some(), "--deadline"),
            (self.timeout != Duration::from_secs(30), "--timeout"),
            (self.max_attempts != 5, "--max-attempts"),
            (
                self.concurrency as usize != DEFAULT_CONCURRENCY,
                "--concurrency",
            ),
            (
                self.account_concurrency as usize != DEFAULT_PER_ACCOUNT,
                "--account-concurrency",
            ),
            (
                self.cloudtrail_rate != crate::audit::live::DEFAULT_CLOUDTRAIL_RATE,
                "--cloudtrail-rate",
            ),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The clouds and settings these flags select. The endpoint variables are read here, not
    /// by clap, so that `--demo` ignores them entirely (an ambient value, even a broken one,
    /// must not reach or break the demo); a broken one is a usage error otherwise.
    pub fn selection(self, demo: bool) -> Result<CloudSelection, String> {
        let from_env = |flag: Option<String>, variable: &str| -> Result<Option<String>, String> {
            if flag.is_some() || demo {
                return Ok(flag);
            }
            match std::env::var(variable) {
                Ok(value) if !value.trim().is_empty() => parse_endpoint(&value)
                    .map(Some)
                    .map_err(|e| format!("{variable}: {e}")),
                _ => Ok(None),
            }
        };
        let azure_endpoint = from_env(self.azure_endpoint.clone(), "MIRRORGUARD_AZURE_ENDPOINT")?;
        let gcp_endpoint = from_env(self.gcp_endpoint.clone(), "MIRRORGUARD_GCP_ENDPOINT")?;
        let gcp_logging_endpoint = from_env(
            self.gcp_logging_endpoint.clone(),
            "MIRRORGUARD_GCP_LOGGING_ENDPOINT",
        )?;
        let gcp_resourcemanager_endpoint = from_env(
            self.gcp_resourcemanager_endpoint.clone(),
            "MIRRORGUARD_GCP_RESOURCEMANAGER_ENDPOINT",
        )?;
        // The demo brings its own role; elsewhere other accounts are reached only through one.
        if !demo && self.aws_role_name.is_none() {
            if self.aws_organization {
                return Err("--aws-organization needs --aws-role-name, the role to assume in each member account".into());
            }
            if !self.aws_accounts.is_empty() {
                return Err(
                    "--aws-accounts needs --aws-role-name, the role to assume in each account"
                        .into(),
                );
            }
        }
        // Hidden, for tests and benchmarks: AWS allows 2; slower than one call a minute is a
        // mistake.
        if !(self.cloudtrail_rate.is_finite() && (0.016..=1000.0).contains(&self.cloudtrail_rate)) {
            return Err("--cloudtrail-rate must be between 0.016 and 1000 calls per second".into());
        }
        Ok(CloudSelection {
            providers: self.providers,
            aws: AwsSettings {
                auth: AwsAuth::Environment {
                    profile: self.aws_profile,
                },
                endpoint: self.aws_endpoint,
                regions: self.aws_regions,
                organization: self.aws_organization,
                role: self.aws_role_name.map(|name| MemberRole {
                    name,
                    external_id: self.aws_external_id,
                }),
                accounts: self.aws_accounts,
                exclude_accounts: self.aws_exclude_accounts,
            },
            azure: AzureSettings {
                auth: AzureAuth::Chain {
                    managed_identity: !self.azure_no_managed_identity,
                },
                endpoint: azure_endpoint,
                subscriptions: self.azure_subscriptions,
                exclude: self.azure_exclude_subscriptions,
            },
            gcp: GcpSettings {
                auth: GcpAuth::ApplicationDefault,
                endpoint: gcp_endpoint,
                logging_endpoint: gcp_logging_endpoint,
                resourcemanager_endpoint: gcp_resourcemanager_endpoint,
                hierarchy: match (self.gcp_organization, self.gcp_folder) {
                    (Some(id), _) => Some(GcpHierarchy::Organization(id)),
                    (None, Some(id)) => Some(GcpHierarchy::Folder(id)),
                    (None, None) => None,
                },
                projects: self.gcp_projects,
                exclude: self.gcp_exclude_projects,
            },
            tuning: Tuning {
                timeout: self.timeout,
                max_attempts: self.max_attempts,
                initial_backoff: self.retry_backoff,
                max_pages: self.max_pages.max(1),
                concurrency: self.concurrency as usize,
                per_account: self.account_concurrency as usize,
                deadline: self.deadline,
            },
            cloudtrail_rate: self.cloudtrail_rate,
            quiet: self.quiet,
            verbose: self.verbose,
        })
    }
}

impl ScanArgs {
    /// The plain request the library runs. `color_by_default` is what `--color auto` means
    /// here (a terminal without `NO_COLOR`) and `stderr_is_terminal` whether a progress bar
    /// can be drawn, which only the binary can tell.
    pub fn into_request(
        self,
        color_by_default: bool,
        stderr_is_terminal: bool,
    ) -> Result<ScanRequest, String> {
        let color = self.report.color(color_by_default);
        let show_progress = stderr_is_terminal
            && !self.cloud.quiet
            && self.cloud.verbose == 0
            && std::env::var_os("RUST_LOG").is_none_or(|v| v.is_empty());
        // Durations in --since/--until count back from the pinned clock when there is one.
        let audit_now = self
            .now
            .or_else(|| self.demo.then(crate::demo::now))
            .unwrap_or_else(OffsetDateTime::now_utc);
        let allowlist = match (self.allowlist, self.demo) {
            (Some(path), _) => AllowlistSource::File(path),
            (None, true) => AllowlistSource::Builtin,
            (None, false) => AllowlistSource::File(PathBuf::from("allowlist.toml")),
        };
        let audit = self
            .window
            .settings(RuleChoice::Corrected, default_workers(), audit_now)?;
        Ok(ScanRequest {
            format: self.report.format(),
            allowlist,
            output: self.report.output,
            color,
            demo: self.demo,
            cloud: self.cloud.selection(self.demo)?,
            now: self.now,
            audit_paths: self.audit,
            audit_live: self.audit_live || self.demo,
            baseline: self.baseline,
            changes_only: self.changes_only,
            show_progress,
            audit,
        })
    }
}
