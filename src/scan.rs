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

/// Everything `scan` needs, free of CLI types.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// Empty means every available provider.
    pub providers: Vec<Provider>,
    pub allowlist: AllowlistSource,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub color: bool,
    pub demo: bool,
    pub aws: AwsSettings,
    pub azure: AzureSettings,
    pub gcp: GcpSettings,
    pub tuning: Tuning,
    /// The one clock: `None` means the system time (the demo pins its own).
    pub now: Option<OffsetDateTime>,
    /// Audit logs to check and correlate with the inventory (`--audit PATH…`); the demo
    /// brings its own.
    pub audit_paths: Vec<String>,
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
    let deadline_at = request
        .tuning
        .deadline
        .map(|d| std::time::Instant::now() + d);
    let providers = select_providers(&request.providers)?;
    let allowlist = load_allowlist(&request.allowlist)?;

    let mut aws = request.aws.clone();
    let mut azure = request.azure.clone();
    let mut gcp = request.gcp.clone();
    let mut now = request.now;
    // The demo's mock must outlive the scan; it stops when dropped at the end of this function.
    let _demo_cloud = if request.demo {
        let cloud = demo::start_cloud()
            .await
            .map_err(|e| CommandError::Io(format!("cannot start the demo mock cloud: {e}")))?;
        aws = AwsSettings {
            auth: AwsAuth::Static {
                access_key_id: demo::ACCESS_KEY_ID.to_string(),
                secret_access_key: demo::SECRET_ACCESS_KEY.to_string(),
            },
            endpoint: Some(cloud.endpoint()),
            regions: request.aws.regions.clone(),
        };
        azure = AzureSettings {
            auth: AzureAuth::ClientSecret {
                tenant: demo::AZURE_TENANT.to_string(),
                client_id: demo::AZURE_CLIENT_ID.to_string(),
                client_secret: demo::AZURE_CLIENT_SECRET.to_string(),
                authority_host: cloud.endpoint(),
            },
            endpoint: Some(cloud.endpoint()),
            subscriptions: request.azure.subscriptions.clone(),
            exclude: request.azure.exclude.clone(),
        };
        gcp = GcpSettings {
            auth: GcpAuth::AuthorizedUser {
                client_id: demo::GCP_CLIENT_ID.to_string(),
                client_secret: demo::GCP_CLIENT_SECRET.to_string(),
                refresh_token: demo::GCP_REFRESH_TOKEN.to_string(),
                token_uri: format!("{}/token", cloud.endpoint()),
            },
            endpoint: Some(cloud.endpoint()),
            projects: if request.gcp.projects.is_empty() {
                demo::GCP_PROJECTS.iter().map(|p| p.to_string()).collect()
            } else {
                request.gcp.projects.clone()
            },
            exclude: request.gcp.exclude.clone(),
        };
        now = now.or(Some(demo::now()));
        Some(cloud)
    } else {
        None
    };
    let now = now.unwrap_or_else(OffsetDateTime::now_utc);

    let targets = ScanTargets {
        providers: providers.clone(),
        exclusions: exclusions(&allowlist, now, &azure, &gcp),
        aws,
        azure,
        gcp,
        tuning: request.tuning.clone(),
        deadline_at,
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
    let inventory = providers::scan(&targets).await;
    let mut report = posture::evaluate(inventory, &allowlist, &providers, now);
    if let Some((inputs, unreadable)) = audit_inputs {
        let audit =
            crate::audit::command::evaluate(&inputs, unreadable, &request.audit, &allowlist, now);
        crate::audit::correlate::attach(&mut report, audit, &allowlist);
    }

    let mut rendered = Vec::new();
    let written = match request.format {
        Format::Table => report::table::write_scan(&report, &mut rendered, request.color),
        Format::Json => report::json::write_scan(&report, &mut rendered),
    };
    deliver(
        written.map(|()| rendered),
        request.output.as_deref(),
        stdout,
    )?;
    Ok(report.exit_code())
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
