//! The `scan` command: load the allowlist, list every mirror through the selected providers,
//! evaluate, and write the report. Returns the exit code CONTRACTS §6 assigns.

use crate::allowlist::{self, Allowlist, AllowlistErrors};
use crate::audit::command::AuditSettings;
use crate::audit::sources as audit_sources;
use crate::demo;
use crate::model::Provider;
use crate::posture;
use crate::providers::aws::{AwsAuth, AwsSettings};
use crate::providers::azure::{AzureAuth, AzureSettings};
use crate::providers::gcp::{GcpAuth, GcpSettings};
use crate::providers::{self, ScanTargets, ScopeExclusion, Tuning};
use crate::report::{self, Format};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Providers that have an adapter today; the default selection (the three clouds).
pub const AVAILABLE_PROVIDERS: &[Provider] = &[Provider::Aws, Provider::Azure, Provider::Gcp];

/// Where the allowlist comes from.
#[derive(Debug, Clone)]
pub enum AllowlistSource {
    File(PathBuf),
    /// The example allowlist compiled into the binary (the demo's).
    Builtin,
}

/// The clouds a command reaches and how: provider selection, credentials, endpoints and
/// politeness, shared by `scan` and `audit --live`.
#[derive(Debug, Clone)]
pub struct CloudSelection {
    /// Empty means every available provider.
    pub providers: Vec<Provider>,
    pub aws: AwsSettings,
    pub azure: AzureSettings,
    pub gcp: GcpSettings,
    pub tuning: Tuning,
    /// CloudTrail LookupEvents calls per second per account and region.
    pub cloudtrail_rate: f64,
    /// `--quiet`: no progress bar.
    pub quiet: bool,
    /// `-v` count: how much to trace on stderr.
    pub verbose: u8,
}

/// Everything `scan` needs, free of CLI types.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub allowlist: AllowlistSource,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub color: bool,
    pub demo: bool,
    pub cloud: CloudSelection,
    /// The one clock: `None` means the system time (the demo pins its own).
    pub now: Option<OffsetDateTime>,
    /// Audit logs to check and correlate with the inventory (`--audit PATH…`); the demo
    /// brings its own.
    pub audit_paths: Vec<String>,
    /// Read the providers' logs live for every scope the scan covers (`--audit-live`; the
    /// demo always does).
    pub audit_live: bool,
    /// An earlier JSON report to compare with (`--baseline`).
    pub baseline: Option<PathBuf>,
    /// The table shows only the mirrors that changed since the baseline (`--changes-only`).
    pub changes_only: bool,
    /// Draw a progress bar on stderr (a terminal, no `--quiet`, no `-v`).
    pub show_progress: bool,
    /// How those logs are read (window, attempts).
    pub audit: AuditSettings,
}

/// Why a command stopped before producing a report (all exit 2).
#[derive(Debug)]
pub enum CommandError {
    Usage(String),
    Allowlist(AllowlistErrors),
    Io(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Usage(message) | CommandError::Io(message) => {
                write!(f, "error: {message}")
            }
            CommandError::Allowlist(errors) => write!(f, "{errors}"),
        }
    }
}

/// Runs a scan and writes its report to `stdout` (or `--output`). Returns the exit code.
pub async fn run(request: ScanRequest, stdout: &mut dyn Write) -> Result<u8, CommandError> {
    let started = std::time::Instant::now();
    let allowlist = load_allowlist(&request.allowlist)?;
    let mut cloud = request.cloud.clone();
    let mut now = request.now;
    // The demo's mock must outlive the scan; it stops when dropped at the end of this function.
    let _demo_cloud = if request.demo {
        let mock = demo::start_cloud()
            .await
            .map_err(|e| CommandError::Io(format!("cannot start the demo mock cloud: {e}")))?;
        demo_selection(&mut cloud, &mock.endpoint());
        now = now.or(Some(demo::now()));
        Some(mock)
    } else {
        None
    };
    let now = now.unwrap_or_else(OffsetDateTime::now_utc);
    let mut targets = scan_targets(&cloud, &allowlist, now, started, false)?;
    if request.show_progress {
        targets.progress = crate::progress::Progress::on_stderr();
    }
    // Read before any cloud is called: an unreadable baseline is a usage error (exit 2).
    let baseline = match &request.baseline {
        Some(path) => Some(crate::baseline::load(path)?),
        None => None,
    };
    // Log inputs are checked before any cloud is called: a typo in a path is a usage error.
    let audit_inputs = if request.demo {
        if !request.audit_paths.is_empty() {
            return Err(CommandError::Usage(
                "--demo brings its own audit logs; --audit cannot be combined with it".into(),
            ));
        }
        Some((demo::audit_logs(), Vec::new()))
    } else if request.audit_paths.is_empty() {
        None
    } else {
        audit_sources::check_exist(&request.audit_paths)
            .map_err(|e| CommandError::Usage(format!("--audit: {e}")))?;
        let (inputs, unreadable) = audit_sources::expand(&request.audit_paths);
        if inputs.is_empty() {
            return Err(CommandError::Usage(format!(
                "--audit: no log file could be read under {}",
                request.audit_paths.join(", ")
            )));
        }
        Some((inputs, unreadable))
    };
    let mut audit_settings = request.audit.clone();
    if request.demo && audit_settings.since.is_none() {
        audit_settings.since = Some(demo::history_start());
    }
    let live_window = match request.audit_live {
        true => Some(live_window(&mut audit_settings, now)?),
        false => None,
    };
    let inventory = providers::scan(&targets).await;
    targets.progress.clear();
    // The live logs are read for the scopes the inventory reached, and only those: the same
    // accounts, regions, subscriptions and projects, the same exclusions.
    let live = if let Some(window) = live_window {
        let query = crate::audit::live::Query {
            targets: &targets,
            window,
            cloudtrail_rate: cloud.cloudtrail_rate,
        };
        Some(crate::audit::live::fetch(query, &inventory.coverage, now).await)
    } else {
        None
    };
    let providers = targets.providers.clone();
    let mut report = posture::evaluate(inventory, &allowlist, &providers, now);
    if audit_inputs.is_some() || live.is_some() {
        let (inputs, unreadable) = audit_inputs.unwrap_or_default();
        let audit = crate::audit::command::evaluate(
            &inputs,
            unreadable,
            live.unwrap_or_default(),
            &audit_settings,
            &allowlist,
            now,
        );
        crate::audit::correlate::attach(&mut report, audit, &allowlist);
    }

    if let Some(baseline) = &baseline {
        crate::baseline::attach(&mut report, baseline);
    }

    let mut rendered = Vec::new();
    let written = match request.format {
        Format::Table => report::table::write_scan(
            &report,
            &mut rendered,
            report::table::TableOptions {
                color: request.color,
                changes_only: request.changes_only,
            },
        ),
        Format::Json => report::json::write_scan(&report, &mut rendered),
        Format::Ocsf => {
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

/// The window the live sources read, which becomes the whole audit's: `--until` (default now)
/// back to `--since` (default [`DEFAULT_WINDOW`](crate::audit::live::DEFAULT_WINDOW) before
/// it). Filled into `settings`, so files read in the same run share it and the report says
/// what was read; an empty or inverted window is a usage error, not an audit of nothing.
pub fn live_window(
    settings: &mut AuditSettings,
    now: OffsetDateTime,
) -> Result<crate::audit::live::Window, CommandError> {
    let until = settings.until.unwrap_or(now);
    let since = settings
        .since
        .unwrap_or(until - crate::audit::live::DEFAULT_WINDOW);
    if since >= until {
        return Err(CommandError::Usage(format!(
            "the audit window is empty: --since {} is not before --until {}",
            crate::timefmt::rfc3339(since),
            crate::timefmt::rfc3339(until)
        )));
    }
    settings.since = Some(since);
    settings.until = Some(until);
    Ok(crate::audit::live::Window { since, until })
}

/// Points every provider at the demo's mock cloud with its static credentials, leaving the
/// user's selections (regions, subscriptions, projects) as they are.
fn demo_selection(cloud: &mut CloudSelection, endpoint: &str) {
    cloud.aws = AwsSettings {
        auth: AwsAuth::Static {
            access_key_id: demo::ACCESS_KEY_ID.to_string(),
            secret_access_key: demo::SECRET_ACCESS_KEY.to_string(),
        },
        endpoint: Some(endpoint.to_string()),
        // The demo estate is an organisation; --aws-accounts and the exclusions still apply.
        organization: true,
        role: Some(crate::providers::aws::MemberRole {
            name: demo::AWS_MEMBER_ROLE.to_string(),
            external_id: None,
        }),
        ..cloud.aws.clone()
    };
    cloud.azure = AzureSettings {
        auth: AzureAuth::ClientSecret {
            tenant: demo::AZURE_TENANT.to_string(),
            client_id: demo::AZURE_CLIENT_ID.to_string(),
            client_secret: demo::AZURE_CLIENT_SECRET.to_string(),
            authority_host: endpoint.to_string(),
        },
        endpoint: Some(endpoint.to_string()),
        subscriptions: cloud.azure.subscriptions.clone(),
        exclude: cloud.azure.exclude.clone(),
    };
    cloud.gcp = GcpSettings {
        auth: GcpAuth::AuthorizedUser {
            client_id: demo::GCP_CLIENT_ID.to_string(),
            client_secret: demo::GCP_CLIENT_SECRET.to_string(),
            refresh_token: demo::GCP_REFRESH_TOKEN.to_string(),
            token_uri: format!("{endpoint}/token"),
        },
        endpoint: Some(endpoint.to_string()),
        logging_endpoint: Some(endpoint.to_string()),
        resourcemanager_endpoint: Some(endpoint.to_string()),
        hierarchy: cloud.gcp.hierarchy.clone(),
        projects: if cloud.gcp.projects.is_empty() {
            demo::GCP_PROJECTS.iter().map(|p| p.to_string()).collect()
        } else {
            cloud.gcp.projects.clone()
        },
        exclude: cloud.gcp.exclude.clone(),
    };
}

/// What the provider adapters are given: the selected providers, their settings, the
/// exclusions the allowlist and the flags acknowledge, and the deadline counted from
/// `started`. `discover_only` stops each adapter once it knows its scopes.
pub fn scan_targets(
    cloud: &CloudSelection,
    allowlist: &Allowlist,
    now: OffsetDateTime,
    started: std::time::Instant,
    discover_only: bool,
) -> Result<ScanTargets, CommandError> {
    Ok(ScanTargets {
        providers: select_providers(&cloud.providers)?,
        exclusions: exclusions(allowlist, now, &cloud.azure, &cloud.gcp),
        aws: cloud.aws.clone(),
        azure: cloud.azure.clone(),
        gcp: cloud.gcp.clone(),
        tuning: cloud.tuning.clone(),
        deadline_at: cloud.tuning.deadline.map(|d| started + d),
        discover_only,
        aws_sessions: Default::default(),
        progress: Default::default(),
    })
}

/// Writes a rendered report to `output` (atomically) or to `stdout`. The whole report is
/// rendered first, so a failure never leaves half of one behind.
pub fn deliver(
    rendered: io::Result<Vec<u8>>,
    output: Option<&Path>,
    stdout: &mut dyn Write,
) -> Result<(), CommandError> {
    let rendered =
        rendered.map_err(|e| CommandError::Io(format!("cannot render the report: {e}")))?;
    match output {
        None => stdout
            .write_all(&rendered)
            .map_err(|e| CommandError::Io(format!("cannot write the report: {e}"))),
        Some(path) => write_atomically(path, &rendered, true),
    }
}

fn select_providers(requested: &[Provider]) -> Result<Vec<Provider>, CommandError> {
    if requested.is_empty() {
        return Ok(AVAILABLE_PROVIDERS.to_vec());
    }
    let mut selected = Vec::new();
    for provider in requested {
        if !AVAILABLE_PROVIDERS.contains(provider) {
            return Err(CommandError::Usage(format!(
                "provider {provider} is not available in this version of mirrorguard (available: {})",
                AVAILABLE_PROVIDERS
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !selected.contains(provider) {
            selected.push(*provider);
        }
    }
    selected.sort();
    Ok(selected)
}

/// Reads and validates the allowlist. A missing file is an error with a hint, never an empty
/// allowlist: a typo in the path must not turn every mirror into a finding silently, nor hide
/// that the approvals were not read.
pub fn load_allowlist(source: &AllowlistSource) -> Result<Allowlist, CommandError> {
    match source {
        AllowlistSource::Builtin => {
            allowlist::parse(Path::new("<built-in demo allowlist.toml>"), demo::ALLOWLIST)
                .map_err(CommandError::Allowlist)
        }
        AllowlistSource::File(path) => {
            let text = match std::fs::read(path) {
                Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
                    CommandError::Io(format!("{}: not valid UTF-8", path.display()))
                })?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(CommandError::Io(format!(
                        "allowlist {} not found; create one with `mirrorguard allowlist init --path {}` or pass --allowlist PATH",
                        path.display(),
                        path.display()
                    )))
                }
                Err(e) => {
                    return Err(CommandError::Io(format!(
                        "cannot read allowlist {}: {e}",
                        path.display()
                    )))
                }
            };
            allowlist::parse(path, &text).map_err(CommandError::Allowlist)
        }
    }
}

/// The scopes acknowledged as out of reach: unexpired `[[exclusions]]` entries, then the
/// subscriptions and projects excluded on the command line.
fn exclusions(
    allowlist: &Allowlist,
    now: OffsetDateTime,
    azure: &AzureSettings,
    gcp: &GcpSettings,
) -> Vec<ScopeExclusion> {
    let flagged = |provider: Provider, ids: &[String], flag: &str| -> Vec<ScopeExclusion> {
        ids.iter()
            .map(|id| ScopeExclusion {
                provider,
                account: id.clone(),
                region: None,
                detail: format!("excluded by {flag} on the command line"),
            })
            .collect()
    };
    let mut excluded: Vec<ScopeExclusion> = allowlist
        .exclusions
        .iter()
        .filter(|e| !e.meta.expires.as_ref().is_some_and(|x| x.has_passed(now)))
        .map(|e| ScopeExclusion {
            provider: e.provider,
            account: e.account.clone(),
            region: e.region.clone(),
            detail: format!(
                "excluded by {} (line {}, {}, owner {}{})",
                e.meta.reference,
                e.meta.line,
                e.meta.ticket,
                e.meta.owner,
                e.meta
                    .expires
                    .as_ref()
                    .map(|x| format!(", until {}", x.written))
                    .unwrap_or_default()
            ),
        })
        .collect();
    excluded.extend(flagged(
        Provider::Azure,
        &azure.exclude,
        "--azure-exclude-subscriptions",
    ));
    excluded.extend(flagged(
        Provider::Gcp,
        &gcp.exclude,
        "--gcp-exclude-projects",
    ));
    excluded
}

/// Writes `bytes` to `path` through a temporary file in the same directory, an fsync and a
/// rename, so a reader never sees half a file. With `replace = false` an existing file is
/// never replaced, even by a concurrent writer.
pub fn write_atomically(path: &Path, bytes: &[u8], replace: bool) -> Result<(), CommandError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let fail = |e: &dyn std::fmt::Display| {
        CommandError::Io(format!("cannot write {}: {e}", path.display()))
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(&e))?;
    file.write_all(bytes).map_err(|e| fail(&e))?;
    file.as_file().sync_all().map_err(|e| fail(&e))?;
    let persisted = if replace {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    persisted.map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            CommandError::Usage(format!(
                "{} already exists; not overwriting it",
                path.display()
            ))
        } else {
            fail(&e.error)
        }
    })?;
    Ok(())
}
