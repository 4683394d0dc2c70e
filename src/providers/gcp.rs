//! GCP Packet Mirroring through google-cloud-compute-v1, with Application Default Credentials.
//!
//! One scope is project × region. Per project, two aggregated listings run at once:
//! `packetMirrorings.aggregatedList` (every region's policies; its per-region entries are the
//! project's region rows, and an `UNREACHABLE` entry makes that region a gap) and
//! `networkFirewallPolicies.aggregatedList` (firewall policies whose packet-mirroring rules with
//! action `mirror` copy traffic to a security profile group — the second way to mirror in GCP;
//! their coverage is the project's `global` row). A listing that fails as a whole gives one row
//! with region null and keeps what it saw.
//!
//! Projects come from `--gcp-projects`; without it, from the environment the way gcloud finds
//! one (`GOOGLE_CLOUD_PROJECT`, `CLOUDSDK_CORE_PROJECT`, the ADC file's project). Discovery of an
//! organisation's projects is [`super::gcp_hierarchy`].

use super::{
    deadline_passed, error_chain, one_line, paginate, within, ListingError, ScanTargets, Tuning,
};
use crate::allowlist::normalize_target;
use crate::model::{
    CoverageRow, CoverageStatus, FilterSummary, Identity, Inventory, Mirror, Organization,
    Provider, Scope, Source, Target,
};
use futures::StreamExt;
use google_cloud_compute_v1::client::{NetworkFirewallPolicies, PacketMirrorings};
use google_cloud_compute_v1::model::{FirewallPolicy, PacketMirroring};
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicy, RetryPolicyExt};
use google_cloud_gax::retry_result::RetryResult;
use google_cloud_gax::retry_state::RetryState;
use std::collections::{BTreeMap, BTreeSet};

/// The public Compute Engine endpoint.
pub const PUBLIC_COMPUTE_ENDPOINT: &str = "https://compute.googleapis.com";

/// Where the GCP credentials come from.
#[derive(Debug, Clone)]
pub enum GcpAuth {
    /// Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS`, the gcloud ADC file,
    /// or the metadata server.
    ApplicationDefault,
    /// An `authorized_user` credential given inline, nothing from the environment: the demo.
    AuthorizedUser {
        client_id: String,
        client_secret: String,
        refresh_token: String,
        token_uri: String,
    },
}

#[derive(Debug, Clone)]
pub struct GcpSettings {
    pub auth: GcpAuth,
    /// The Compute base URL (default [`PUBLIC_COMPUTE_ENDPOINT`]).
    pub endpoint: Option<String>,
    /// The Cloud Logging base URL for the live audit source (default
    /// `https://logging.googleapis.com`).
    pub logging_endpoint: Option<String>,
    /// The Resource Manager base URL (default `https://cloudresourcemanager.googleapis.com`).
    pub resourcemanager_endpoint: Option<String>,
    /// Discover the projects under an organisation or folder (`--gcp-organization`,
    /// `--gcp-folder`) instead of taking them from the flags or the environment.
    pub hierarchy: Option<GcpHierarchy>,
    /// Projects to scan; empty means the environment's default project (with `hierarchy`:
    /// every project found under it).
    pub projects: Vec<String>,
    /// Projects to leave out (`--gcp-exclude-projects`): reported `excluded`.
    pub exclude: Vec<String>,
}

/// Where in the resource hierarchy the projects to scan are found (numeric ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcpHierarchy {
    Organization(String),
    Folder(String),
}

/// What one project's listings returned, per scope key (`regions/R` or `global`).
struct ProjectListing {
    project: String,
    mirrorings: Vec<(String, PacketMirroring)>,
    /// Every region the mirroring listing reported, with the scope's own trouble if any.
    regions: BTreeMap<String, Option<ListingError>>,
    mirroring_error: Option<ListingError>,
    policies: Vec<FirewallPolicy>,
    policy_error: Option<ListingError>,
}

/// Scans every selected project.
pub async fn scan(targets: &ScanTargets) -> Inventory {
    let (settings, tuning) = (&targets.gcp, &targets.tuning);
    let mut inventory = Inventory::default();
    let adc = AdcFile::read();

    let credentials = match build_credentials(&settings.auth) {
        Ok(credentials) => credentials,
        Err(error) => {
            inventory.coverage.push(project_row(None, None, error));
            return inventory;
        }
    };
    // Asking for the auth headers once up front turns "no credentials anywhere" into one clear
    // row instead of the same error once per project.
    let probe = within(
        targets.deadline_at,
        credentials.headers(http::Extensions::new()),
    )
    .await;
    match probe {
        None => {
            inventory.coverage.push(project_row(
                None,
                None,
                deadline_passed("the GCP credential chain"),
            ));
            return inventory;
        }
        Some(Err(error)) => {
            inventory.coverage.push(project_row(
                None,
                None,
                ListingError::failed(format!(
                    "NoCredentials: no usable Application Default Credentials ({})",
                    one_line(&error_chain(&error))
                )),
            ));
            return inventory;
        }
        Some(Ok(_)) => {}
    }
    inventory.identities.push(Identity {
        provider: Provider::Gcp,
        principal: match &settings.auth {
            GcpAuth::ApplicationDefault => adc.principal(),
            GcpAuth::AuthorizedUser { client_id, .. } => format!("authorized_user {client_id}"),
        },
        account: None,
    });

    let projects = match &settings.hierarchy {
        None => projects_to_scan(settings, &adc),
        Some(root) => {
            match hierarchy_projects(targets, credentials.clone(), root, &mut inventory).await {
                Some(projects) => projects,
                None => return inventory,
            }
        }
    };
    if projects.is_empty() {
        inventory.coverage.push(project_row(
            None,
            None,
            ListingError::failed(
                "NoProject: no GCP project selected; pass --gcp-projects or set GOOGLE_CLOUD_PROJECT",
            ),
        ));
        return inventory;
    }

    let endpoint = settings
        .endpoint
        .as_deref()
        .unwrap_or(PUBLIC_COMPUTE_ENDPOINT)
        .trim_end_matches('/')
        .to_string();
    let clients = within(
        targets.deadline_at,
        build_clients(&endpoint, credentials, tuning),
    )
    .await;
    let (mirroring_api, policy_api) = match clients {
        Some(Ok(clients)) => clients,
        Some(Err(error)) => {
            inventory.coverage.push(project_row(None, None, error));
            return inventory;
        }
        None => {
            inventory.coverage.push(project_row(
                None,
                None,
                deadline_passed("the Compute client setup"),
            ));
            return inventory;
        }
    };

    let mut to_scan = Vec::new();
    for project in projects {
        match targets.exclusion(Provider::Gcp, &project, None) {
            Some(exclusion) => inventory.coverage.push(CoverageRow {
                scope: scope(&project, None),
                status: CoverageStatus::Excluded,
                detail: Some(exclusion.detail.clone()),
            }),
            None => to_scan.push(project),
        }
    }

    if targets.discover_only {
        for project in to_scan {
            inventory
                .coverage
                .push(super::discovered(scope(&project, None)));
        }
        return inventory;
    }

    let listings: Vec<ProjectListing> = futures::stream::iter(to_scan)
        .map(|project| {
            let (mirroring_api, policy_api) = (&mirroring_api, &policy_api);
            async move {
                let work = list_project(mirroring_api, policy_api, &project, tuning.max_pages);
                match within(targets.deadline_at, work).await {
                    Some(listing) => listing,
                    None => ProjectListing {
                        mirrorings: Vec::new(),
                        regions: BTreeMap::new(),
                        mirroring_error: Some(deadline_passed("this project's listings")),
                        policies: Vec::new(),
                        policy_error: Some(deadline_passed("this project's listings")),
                        project,
                    },
                }
            }
        })
        .buffer_unordered(tuning.concurrency.max(1))
        .collect()
        .await;
    for listing in listings {
        let quota_project = match settings.auth {
            GcpAuth::ApplicationDefault => adc.quota_project.as_deref(),
            GcpAuth::AuthorizedUser { .. } => None,
        };
        inventory.extend(project_inventory(targets, listing, quota_project));
    }
    inventory
}

pub(crate) fn build_credentials(
    auth: &GcpAuth,
) -> Result<google_cloud_auth::credentials::Credentials, ListingError> {
    let built = match auth {
        GcpAuth::ApplicationDefault => google_cloud_auth::credentials::Builder::default().build(),
        GcpAuth::AuthorizedUser {
            client_id,
            client_secret,
            refresh_token,
            token_uri,
        } => google_cloud_auth::credentials::user_account::Builder::new(serde_json::json!({
            "type": "authorized_user",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            "token_uri": token_uri,
        }))
        .build(),
    };
    built.map_err(|error| {
        ListingError::failed(format!(
            "NoCredentials: Application Default Credentials could not be loaded ({})",
            one_line(&error_chain(&error))
        ))
    })
}

/// The backoff every GCP client of a run uses: from `--retry-backoff`, doubling, at most eight
/// times it (and at least 8 s).
pub(crate) fn backoff(
    tuning: &Tuning,
) -> Result<google_cloud_gax::exponential_backoff::ExponentialBackoff, ListingError> {
    ExponentialBackoffBuilder::new()
        .with_initial_delay(tuning.initial_backoff)
        .with_maximum_delay(
            tuning
                .initial_backoff
                .max(std::time::Duration::from_secs(1))
                * 8,
        )
        .build()
        .map_err(|e| ListingError::failed(format!("ClientError: {e}")))
}

/// The two Compute clients, sharing credentials, retry and timeout settings: see
/// [`ListRetryPolicy`]; exponential backoff, up to `--max-attempts`.
async fn build_clients(
    endpoint: &str,
    credentials: google_cloud_auth::credentials::Credentials,
    tuning: &Tuning,
) -> Result<(PacketMirrorings, NetworkFirewallPolicies), ListingError> {
    let backoff = || backoff(tuning);
    let retry = || ListRetryPolicy.with_attempt_limit(tuning.max_attempts.max(1));
    let mirrorings = PacketMirrorings::builder()
        .with_endpoint(endpoint)
        .with_credentials(credentials.clone())
        .with_retry_policy(retry())
        .with_backoff_policy(backoff()?)
        .with_attempt_timeout(tuning.timeout)
        .build()
        .await
        .map_err(|e| ListingError::failed(format!("ClientError: {}", one_line(&e.to_string()))))?;
    let policies = NetworkFirewallPolicies::builder()
        .with_endpoint(endpoint)
        .with_credentials(credentials)
        .with_retry_policy(retry())
        .with_backoff_policy(backoff()?)
        .with_attempt_timeout(tuning.timeout)
        .build()
        .await
        .map_err(|e| ListingError::failed(format!("ClientError: {}", one_line(&e.to_string()))))?;
    Ok((mirrorings, policies))
}

/// What the Compute clients retry: everything AIP-194 calls retryable (503 `UNAVAILABLE`,
/// connection errors), plus 429 `RESOURCE_EXHAUSTED` — GCP's throttling signal, which the
/// default policy gives up on — and the other 5xx answers (500 `INTERNAL`, 502, 504). AIP-194
/// holds those back because a write may have happened; these are read-only list calls, so
/// retrying them is safe, and CONTRACTS §1 asks for 5xx to fail only after retries.
#[derive(Debug)]
pub(crate) struct ListRetryPolicy;

impl RetryPolicy for ListRetryPolicy {
    fn on_error(&self, state: &RetryState, error: google_cloud_gax::error::Error) -> RetryResult {
        let retryable_status = error
            .http_status_code()
            .is_some_and(|code| code == 429 || (500..600).contains(&code));
        if state.idempotent && retryable_status {
            return RetryResult::Continue(error);
        }
        Aip194Strict.on_error(state, error)
    }
}

/// The active projects under `--gcp-organization` / `--gcp-folder`, narrowed by
/// `--gcp-projects`, with the rows of the projects not scanned and the organisation's
/// membership added to `inventory`. `None` when discovery itself failed (its row is added).
async fn hierarchy_projects(
    targets: &ScanTargets,
    credentials: google_cloud_auth::credentials::Credentials,
    root: &GcpHierarchy,
    inventory: &mut Inventory,
) -> Option<Vec<String>> {
    let settings = &targets.gcp;
    let discovery = super::gcp_hierarchy::discover(
        settings.resourcemanager_endpoint.as_deref(),
        credentials,
        &targets.tuning,
        root,
    );
    let found = match within(targets.deadline_at, discovery).await {
        Some(Ok(found)) => found,
        failed => {
            let error = match failed {
                Some(Err(error)) => error,
                _ => deadline_passed("the Resource Manager search"),
            };
            // The projects the user named are still scanned (each ends in its own row); with
            // none named, nothing is, since a partial search would pass for the whole.
            let named = !settings.projects.is_empty();
            inventory.coverage.push(project_row(
                None,
                None,
                ListingError {
                    status: error.status,
                    detail: if named {
                        format!(
                            "{}; only the --gcp-projects named are scanned",
                            error.detail
                        )
                    } else {
                        format!("{}; no project is scanned", error.detail)
                    },
                },
            ));
            return named.then(|| settings.projects.clone());
        }
    };
    if !found.group_of.is_empty() {
        inventory.organizations.push(Organization {
            provider: Provider::Gcp,
            id: found.organization.clone(),
            group_of: found
                .group_of
                .iter()
                .map(|(project, organization)| (project.to_ascii_lowercase(), organization.clone()))
                .collect(),
            complete: found.complete,
        });
    }
    // --gcp-projects narrows the hierarchy down; a named project outside it is not
    // scanned, and says so.
    let wanted: BTreeSet<&String> = settings.projects.iter().collect();
    let keep = |project: &String| wanted.is_empty() || wanted.contains(project);
    let inactive: BTreeSet<String> = found
        .inactive
        .iter()
        .filter_map(|row| row.scope.account.clone())
        .collect();
    inventory.coverage.extend(
        found
            .inactive
            .into_iter()
            .filter(|row| row.scope.account.as_ref().is_some_and(keep)),
    );
    let found_anywhere = |p: &String| found.active.contains(p) || inactive.contains(p);
    for project in wanted.iter().filter(|p| !found_anywhere(p)) {
        inventory.coverage.push(project_row(
            Some(project),
            None,
            ListingError::failed(format!(
                "NotInHierarchy: --gcp-projects names {project}, which the Resource Manager search does not find active under the selected organisation or folder; not scanned"
            )),
        ));
    }
    let active: Vec<String> = found.active.into_iter().filter(keep).collect();
    if active.is_empty() && !wanted.is_empty() {
        // Every project named has its row already (disabled or NotInHierarchy).
        return None;
    }
    if active.is_empty() {
        inventory.coverage.push(project_row(
            None,
            None,
            ListingError::failed(
                "NoProject: the Resource Manager search found no active project under the selected organisation or folder (the caller needs resourcemanager.projects.get on them)",
            ),
        ));
        return None;
    }
    Some(active)
}

/// The projects to scan without `--gcp-organization` / `--gcp-folder`: the ones named, else
/// the environment's default project.
fn projects_to_scan(settings: &GcpSettings, adc: &AdcFile) -> Vec<String> {
    let mut projects: Vec<String> = if settings.projects.is_empty() {
        match settings.auth {
            GcpAuth::ApplicationDefault => ["GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"]
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
                .or_else(|| adc.project.clone())
                .into_iter()
                .collect(),
            GcpAuth::AuthorizedUser { .. } => Vec::new(),
        }
    } else {
        settings.projects.clone()
    };
    projects.sort();
    projects.dedup();
    projects
}

/// Lists one project's packet mirrorings and network firewall policies, every page of both.
async fn list_project(
    mirroring_api: &PacketMirrorings,
    policy_api: &NetworkFirewallPolicies,
    project: &str,
    max_pages: usize,
) -> ProjectListing {
    const MIRRORINGS: &str = "packetMirrorings.aggregatedList";
    const POLICIES: &str = "networkFirewallPolicies.aggregatedList";
    let mirrorings = paginate(MIRRORINGS, max_pages, |token| {
        let request = mirroring_api
            .aggregated_list()
            .set_project(project)
            .set_max_results(500u32)
            .set_page_token(token.unwrap_or_default());
        async move {
            let page = request.send().await.map_err(|e| classify(MIRRORINGS, &e))?;
            let mut scopes = Vec::new();
            for (key, scoped) in page.items {
                let warning = scoped.warning.as_ref().and_then(|w| {
                    let code = w.code.as_ref().and_then(|c| c.name()).unwrap_or("UNKNOWN");
                    scope_warning(code, w.message.as_deref())
                });
                scopes.push(ScopeEntry::Scope(key.clone(), warning));
                for mirroring in scoped.packet_mirrorings {
                    scopes.push(ScopeEntry::Mirroring(key.clone(), Box::new(mirroring)));
                }
            }
            // `unreachables` names scopes that may be absent from `items` altogether.
            for key in page.unreachables {
                scopes.push(ScopeEntry::Scope(
                    key,
                    scope_warning("UNREACHABLE", Some("listed in unreachables")),
                ));
            }
            Ok((scopes, page.next_page_token))
        }
    });
    let policies = paginate(POLICIES, max_pages, |token| {
        let request = policy_api
            .aggregated_list()
            .set_project(project)
            .set_max_results(500u32)
            .set_page_token(token.unwrap_or_default());
        async move {
            let page = request.send().await.map_err(|e| classify(POLICIES, &e))?;
            let mut found = Vec::new();
            for (key, scoped) in page.items {
                let warning = scoped.warning.as_ref().and_then(|w| {
                    let code = w.code.as_ref().and_then(|c| c.name()).unwrap_or("UNKNOWN");
                    scope_warning(code, w.message.as_deref())
                });
                found.push(PolicyEntry::Scope(key, warning));
                found.extend(
                    scoped
                        .firewall_policies
                        .into_iter()
                        .map(|policy| PolicyEntry::Policy(Box::new(policy))),
                );
            }
            for key in page.unreachables {
                found.push(PolicyEntry::Scope(
                    key,
                    scope_warning("UNREACHABLE", Some("listed in unreachables")),
                ));
            }
            Ok((found, page.next_page_token))
        }
    });
    let (mirrorings, policies) = tokio::join!(mirrorings, policies);

    let mut listing = ProjectListing {
        project: project.to_string(),
        mirrorings: Vec::new(),
        regions: BTreeMap::new(),
        mirroring_error: mirrorings.error,
        policies: Vec::new(),
        policy_error: policies.error,
    };
    for entry in mirrorings.items {
        match entry {
            ScopeEntry::Scope(key, warning) => {
                let slot = listing.regions.entry(key).or_insert(None);
                if let Some(warning) = warning {
                    *slot = Some(match slot.take() {
                        Some(earlier) => earlier.worst(warning),
                        None => warning,
                    });
                }
            }
            ScopeEntry::Mirroring(key, mirroring) => listing.mirrorings.push((key, *mirroring)),
        }
    }
    for entry in policies.items {
        match entry {
            // Mirroring rules can only sit in global policies today; a regional scope that is
            // unreachable still hides regional policies, so it darkens the region's row.
            PolicyEntry::Scope(key, Some(warning)) if key != "global" => {
                let slot = listing.regions.entry(key).or_insert(None);
                *slot = Some(match slot.take() {
                    Some(earlier) => earlier.worst(warning),
                    None => warning,
                });
            }
            PolicyEntry::Scope(_, Some(warning)) => {
                listing.policy_error = Some(match listing.policy_error.take() {
                    Some(earlier) => earlier.worst(warning),
                    None => warning,
                });
            }
            PolicyEntry::Scope(_, None) => {}
            PolicyEntry::Policy(policy) => listing.policies.push(*policy),
        }
    }
    listing
}

enum ScopeEntry {
    Scope(String, Option<ListingError>),
    Mirroring(String, Box<PacketMirroring>),
}

enum PolicyEntry {
    Scope(String, Option<ListingError>),
    Policy(Box<FirewallPolicy>),
}

/// A per-scope warning of an aggregated list: `UNREACHABLE` is a gap, `NO_RESULTS_ON_PAGE` (and
/// other informational codes) an empty scope.
fn scope_warning(code: &str, message: Option<&str>) -> Option<ListingError> {
    (code == "UNREACHABLE").then(|| {
        ListingError::failed(format!(
            "UNREACHABLE: {}",
            message
                .map(one_line)
                .unwrap_or_else(|| "the region did not answer".into())
        ))
    })
}

/// Turns one project's listings into mirrors and coverage rows.
fn project_inventory(
    targets: &ScanTargets,
    listing: ProjectListing,
    quota_project: Option<&str>,
) -> Inventory {
    let mut inventory = Inventory::default();
    let project = listing.project.clone();
    // With a quota project other than the scanned one, Google checks the API is enabled in the
    // quota project (`x-goog-user-project`): a SERVICE_DISABLED answer may be about it, and
    // taking it as "this project is disabled" would turn a scan that read nothing into a clean
    // one. It stays a gap.
    let ambiguous = |error: ListingError| {
        match quota_project {
        Some(quota) if error.status == CoverageStatus::Disabled && quota != project => {
            ListingError::failed(format!(
                "{}; the credentials' quota project {quota} may be the one without the API, so this is not taken as {project} being disabled",
                error.detail
            ))
        }
        _ => error,
    }
    };
    let listing = ProjectListing {
        mirroring_error: listing.mirroring_error.map(ambiguous),
        policy_error: listing.policy_error.map(ambiguous),
        ..listing
    };
    for (key, mirroring) in listing.mirrorings {
        inventory
            .mirrors
            .push(mirroring_mirror(&project, &key, mirroring));
    }
    for policy in &listing.policies {
        inventory.mirrors.extend(policy_mirrors(&project, policy));
    }

    let mut rows = Vec::new();
    match listing.mirroring_error {
        Some(error) => rows.push((None, Some(error))),
        None => {
            for (key, warning) in listing.regions {
                let region = key.strip_prefix("regions/").unwrap_or(&key).to_string();
                rows.push((Some(region), warning));
            }
        }
    }
    rows.push((Some("global".to_string()), listing.policy_error));
    for (region, error) in rows {
        if let Some(exclusion) = region
            .as_deref()
            .and_then(|r| targets.exclusion(Provider::Gcp, &project, Some(r)))
        {
            inventory.coverage.push(CoverageRow {
                scope: scope(&project, region.as_deref()),
                status: CoverageStatus::Excluded,
                detail: Some(exclusion.detail.clone()),
            });
            continue;
        }
        inventory.coverage.push(CoverageRow {
            scope: scope(&project, region.as_deref()),
            status: error.as_ref().map_or(CoverageStatus::Scanned, |e| e.status),
            detail: error.map(|e| e.detail),
        });
    }
    inventory
}

/// A packet mirroring policy as a neutral mirror.
fn mirroring_mirror(project: &str, scope_key: &str, mirroring: PacketMirroring) -> Mirror {
    use google_cloud_compute_v1::model::packet_mirroring::Enable;
    let region = mirroring
        .region
        .as_deref()
        .map(last_segment)
        .or_else(|| scope_key.strip_prefix("regions/"))
        .unwrap_or(scope_key)
        .to_string();
    let name = mirroring.name.clone().unwrap_or_default();
    let id = mirroring
        .self_link
        .as_deref()
        .map(|link| normalize_target(Provider::Gcp, link))
        .unwrap_or_else(|| format!("projects/{project}/regions/{region}/packetMirrorings/{name}"));
    let direction = mirroring
        .filter
        .as_ref()
        .and_then(|f| f.direction.as_ref())
        .and_then(|d| d.name())
        .unwrap_or("BOTH")
        .to_ascii_lowercase();

    let mut sources = Vec::new();
    if let Some(resources) = &mirroring.mirrored_resources {
        for subnetwork in resources
            .subnetworks
            .iter()
            .filter_map(|s| s.url.as_deref())
        {
            sources.push(Source {
                kind: "subnetwork".to_string(),
                id: normalize_target(Provider::Gcp, subnetwork),
                direction: Some(direction.clone()),
            });
        }
        for instance in resources.instances.iter().filter_map(|i| i.url.as_deref()) {
            sources.push(Source {
                kind: "instance".to_string(),
                id: normalize_target(Provider::Gcp, instance),
                direction: Some(direction.clone()),
            });
        }
        for tag in &resources.tags {
            sources.push(Source {
                kind: "network-tag".to_string(),
                id: tag.clone(),
                direction: Some(direction.clone()),
            });
        }
    }

    let target = match mirroring
        .collector_ilb
        .as_ref()
        .and_then(|c| c.url.as_deref())
    {
        Some(url) => {
            let id = normalize_target(Provider::Gcp, url);
            Target {
                kind: "internal-load-balancer".to_string(),
                owner: project_of(&id).map(str::to_string),
                id,
                mirror_target_id: None,
                port: None,
                description: None,
            }
        }
        None => unresolved_target(),
    };

    let filter = mirroring.filter.as_ref().map(|filter| {
        let protocols = if filter.ip_protocols.is_empty() {
            "all protocols".to_string()
        } else {
            filter.ip_protocols.join(",")
        };
        let ranges = if filter.cidr_ranges.is_empty() {
            "any address".to_string()
        } else {
            filter.cidr_ranges.join(",")
        };
        FilterSummary {
            id: None,
            accept: vec![format!("{direction} {protocols} {ranges}")],
            reject: Vec::new(),
            packet_length: None,
            network_services: Vec::new(),
            copies_nothing: false,
            resolved: true,
        }
    });

    let network = mirroring
        .network
        .as_ref()
        .and_then(|n| n.url.as_deref())
        .map(|url| normalize_target(Provider::Gcp, url));

    Mirror {
        provider: Provider::Gcp,
        account: project.to_string(),
        region: Some(region),
        id,
        kind: "packet-mirroring".to_string(),
        name: mirroring.name.clone(),
        // A policy with `enable: FALSE` exists and can be switched on at any moment; it is
        // listed and judged like any other, at lower severity.
        enabled: mirroring.enable != Some(Enable::False),
        sources,
        target,
        filter,
        description: mirroring.description.clone(),
        // Packet mirroring policies carry no labels.
        tags: BTreeMap::new(),
        vni: None,
        priority: mirroring.priority.map(i64::from),
        network,
    }
}

/// The `mirror` rules of a network firewall policy, one mirror each: traffic of the policy's
/// networks that matches the rule is copied to the rule's security profile group.
fn policy_mirrors(project: &str, policy: &FirewallPolicy) -> Vec<Mirror> {
    let policy_path = policy
        .self_link
        .as_deref()
        .map(|link| normalize_target(Provider::Gcp, link))
        .unwrap_or_else(|| {
            format!(
                "projects/{project}/global/firewallPolicies/{}",
                policy.name.as_deref().unwrap_or_default()
            )
        });
    let region = policy
        .region
        .as_deref()
        .map(last_segment)
        .unwrap_or("global")
        .to_string();
    let networks: Vec<String> = policy
        .associations
        .iter()
        .filter_map(|a| a.attachment_target.as_deref())
        .map(|t| normalize_target(Provider::Gcp, t))
        .collect();
    let mut mirrors = Vec::new();
    for rule in &policy.packet_mirroring_rules {
        if !rule
            .action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("mirror"))
        {
            continue;
        }
        let priority = rule.priority.unwrap_or_default();
        let direction = rule
            .direction
            .as_ref()
            .and_then(|d| d.name())
            .unwrap_or("INGRESS")
            .to_ascii_lowercase();
        let target = match rule.security_profile_group.as_deref() {
            Some(group) => {
                let id = normalize_target(Provider::Gcp, group);
                Target {
                    kind: "security-profile-group".to_string(),
                    owner: project_of(&id).map(str::to_string),
                    id,
                    mirror_target_id: None,
                    port: None,
                    description: None,
                }
            }
            None => unresolved_target(),
        };
        let matcher = rule.r#match.as_ref();
        let list = |values: Option<&Vec<String>>, empty: &str| {
            values
                .filter(|v| !v.is_empty())
                .map(|v| v.join(","))
                .unwrap_or_else(|| empty.to_string())
        };
        let protocols: Vec<String> = matcher
            .map(|m| {
                m.layer_4_configs
                    .iter()
                    .filter_map(|c| c.ip_protocol.clone())
                    .collect()
            })
            .unwrap_or_default();
        let rule_text = format!(
            "{direction} {} {} -> {}",
            list(Some(&protocols), "all protocols"),
            list(matcher.map(|m| &m.src_ip_ranges), "any"),
            list(matcher.map(|m| &m.dest_ip_ranges), "any"),
        );
        let sources = networks
            .iter()
            .map(|network| Source {
                kind: "network".to_string(),
                id: network.clone(),
                direction: Some(direction.clone()),
            })
            .collect();
        mirrors.push(Mirror {
            provider: Provider::Gcp,
            account: project.to_string(),
            region: Some(region.clone()),
            id: format!("{policy_path}/packetMirroringRules/{priority}"),
            kind: "firewall-policy-mirroring-rule".to_string(),
            name: rule.rule_name.clone().or_else(|| policy.name.clone()),
            enabled: rule.disabled != Some(true),
            sources,
            target,
            filter: Some(FilterSummary {
                id: Some(policy_path.clone()),
                accept: vec![rule_text],
                reject: Vec::new(),
                packet_length: None,
                network_services: Vec::new(),
                copies_nothing: false,
                resolved: true,
            }),
            description: rule.description.clone(),
            tags: BTreeMap::new(),
            vni: None,
            priority: Some(i64::from(priority)),
            // A policy may be associated with several networks: they are its sources.
            network: None,
        });
    }
    mirrors
}

fn unresolved_target() -> Target {
    Target {
        kind: "unresolved".to_string(),
        id: "(no collector)".to_string(),
        owner: None,
        mirror_target_id: None,
        port: None,
        description: None,
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `projects/P/…` → `P`.
fn project_of(path: &str) -> Option<&str> {
    path.strip_prefix("projects/")?
        .split('/')
        .next()
        .filter(|p| !p.is_empty())
}

fn scope(project: &str, region: Option<&str>) -> Scope {
    Scope {
        provider: Provider::Gcp,
        account: Some(project.to_string()),
        region: region.map(str::to_string),
    }
}

fn project_row(project: Option<&str>, region: Option<&str>, error: ListingError) -> CoverageRow {
    CoverageRow {
        scope: Scope {
            provider: Provider::Gcp,
            account: project.map(str::to_string),
            region: region.map(str::to_string),
        },
        status: error.status,
        detail: Some(error.detail),
    }
}

/// Turns a Compute error into a coverage status and a detail that starts with GCP's own status
/// (`PERMISSION_DENIED`, `RESOURCE_EXHAUSTED`, …) or the HTTP status when the body had none.
pub(crate) fn classify(operation: &str, error: &google_cloud_compute_v1::Error) -> ListingError {
    if error.is_timeout() {
        return ListingError::failed(format!(
            "Timeout: {operation} did not answer within --timeout"
        ));
    }
    if error.is_deserialization() {
        return ListingError::failed(format!(
            "MalformedResponse: {operation} returned a body that is not the documented JSON ({})",
            one_line(&error_chain(error))
        ));
    }
    if error.is_authentication() {
        return ListingError::failed(format!(
            "NoCredentials: {operation}: {}",
            one_line(&error_chain(error))
        ));
    }
    let http = error.http_status_code();
    let status = error.status();
    let code = status
        .map(|s| s.code.name().to_string())
        .filter(|name| name != "OK" && name != "UNKNOWN")
        .or_else(|| http.map(|h| format!("HTTP{h}")));
    let Some(code) = code else {
        let kind = if error.is_connect() || error.is_io() {
            "ConnectionError"
        } else {
            "Error"
        };
        return ListingError::failed(format!(
            "{kind}: {operation}: {}",
            one_line(&error_chain(error))
        ));
    };
    let message = status
        .map(|s| one_line(&s.message))
        .filter(|m| !m.is_empty())
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let answered = http
        .map(|h| format!(" answered HTTP {h}"))
        .unwrap_or_default();
    let detail = format!("{code}: {operation}{answered}{message}");
    // A project whose Compute API is switched off holds no Compute resources: out of reach on
    // purpose, not a gap (CONTRACTS §1). Only Google's structured reason for Compute counts
    // (the same words about another API, or in a message alone, prove nothing); whether the
    // disabled consumer is the scanned project is settled in `project_inventory`.
    let service_disabled = status.is_some_and(|s| {
        s.details.iter().any(|d| {
            matches!(d, google_cloud_gax::error::rpc::StatusDetails::ErrorInfo(info)
                if info.reason == "SERVICE_DISABLED"
                    && info.metadata.get("service").map(String::as_str) == Some("compute.googleapis.com"))
        })
    });
    if service_disabled {
        return ListingError {
            status: CoverageStatus::Disabled,
            detail: format!("SERVICE_DISABLED: the Compute Engine API is disabled{message}"),
        };
    }
    if code == "PERMISSION_DENIED" || code == "UNAUTHENTICATED" || matches!(http, Some(401 | 403)) {
        ListingError {
            status: CoverageStatus::Denied,
            detail,
        }
    } else {
        ListingError::failed(detail)
    }
}

/// What the ADC file (when there is one) says about who the scan runs as and which project is
/// the default. Read only for the report; google-cloud-auth does the authenticating.
#[derive(Debug, Default)]
pub(crate) struct AdcFile {
    kind: Option<String>,
    email: Option<String>,
    client_id: Option<String>,
    project: Option<String>,
    /// The project Google bills and checks API enablement against, when it is not the
    /// resource's own (`quota_project_id`, or `GOOGLE_CLOUD_QUOTA_PROJECT`).
    quota_project: Option<String>,
}

impl AdcFile {
    fn read() -> AdcFile {
        let path = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| {
                    std::path::PathBuf::from(home)
                        .join(".config/gcloud/application_default_credentials.json")
                })
            });
        let Some(path) = path else {
            return AdcFile::default();
        };
        let Some(json) = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        else {
            return AdcFile::default();
        };
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let impersonated = text("service_account_impersonation_url").and_then(|url| {
            url.rsplit('/')
                .next()
                .and_then(|tail| tail.split(':').next())
                .map(str::to_string)
        });
        AdcFile {
            kind: text("type"),
            email: text("client_email").or(impersonated),
            client_id: text("client_id"),
            project: text("project_id").or_else(|| text("quota_project_id")),
            quota_project: std::env::var("GOOGLE_CLOUD_QUOTA_PROJECT")
                .ok()
                .filter(|p| !p.is_empty())
                .or_else(|| text("quota_project_id")),
        }
    }

    fn principal(&self) -> String {
        match (&self.kind, &self.email, &self.client_id) {
            (Some(kind), Some(email), _) => format!("{email} ({kind})"),
            (Some(kind), None, Some(client)) => format!("{kind} {client}"),
            (Some(kind), None, None) => kind.clone(),
            (None, _, _) => "the metadata server's service account".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_of_reads_the_path() {
        assert_eq!(
            project_of("projects/p1/regions/r/forwardingRules/f"),
            Some("p1")
        );
        assert_eq!(project_of("organizations/1/locations/global"), None);
    }

    #[test]
    fn only_unreachable_is_a_gap() {
        assert!(scope_warning("UNREACHABLE", None).is_some());
        assert!(scope_warning("NO_RESULTS_ON_PAGE", None).is_none());
    }
}
