//! AWS VPC Traffic Mirroring through aws-sdk-ec2.
//!
//! One scope is account × region. For each enabled region (DescribeRegions, `AllRegions=true`)
//! the adapter lists every page of sessions, targets and filters, joins each session with its
//! target (resolved to the receiving ENI, NLB ARN or Gateway LB endpoint) and filter, and reports
//! targets and filters no session uses as staged infrastructure. The account comes from STS
//! GetCallerIdentity, which is also the identity the report shows.

use super::aws_xml::WholeXmlBody;
use super::{
    deadline_passed, error_chain, paginate, within, Listing, ListingError, ScanTargets, Tuning,
};
use crate::model::{
    CoverageRow, CoverageStatus, FilterSummary, Identity, Inventory, Mirror, Provider, Scope,
    Source, StagedResource, Target,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_ec2::config::SharedHttpClient;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Tag, TrafficMirrorFilter, TrafficMirrorFilterRule, TrafficMirrorSession, TrafficMirrorTarget,
};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where the AWS credentials come from.
#[derive(Debug, Clone)]
pub enum AwsAuth {
    /// The SDK's default chain (environment, profile, SSO, web identity, IMDS), optionally with
    /// a named profile.
    Environment { profile: Option<String> },
    /// Fixed keys and nothing else from the environment: the demo uses this so ambient
    /// credentials, profiles and endpoint variables can never leak into it.
    Static {
        access_key_id: String,
        secret_access_key: String,
    },
}

#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub auth: AwsAuth,
    /// Overrides every AWS endpoint (as `AWS_ENDPOINT_URL` does).
    pub endpoint: Option<String>,
    /// Regions to scan; empty means every region enabled for the account.
    pub regions: Vec<String>,
}

/// Error codes by which AWS refuses a caller (CONTRACTS §1: `denied`).
const DENIED_CODES: &[&str] = &[
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "UnrecognizedClientException",
];

/// Regions DescribeRegions is asked in when no region is configured.
const DEFAULT_HOME_REGION: &str = "us-east-1";

/// Scans the account the credentials belong to.
pub async fn scan(targets: &ScanTargets) -> Inventory {
    let (settings, tuning) = (&targets.aws, &targets.tuning);
    let mut inventory = Inventory::default();
    let sdk_config = load_config(settings, tuning).await;

    let Some(credentials) = sdk_config.credentials_provider() else {
        inventory.coverage.push(account_row(
            None,
            ListingError::failed("NoCredentials: no AWS credentials provider is configured"),
        ));
        return inventory;
    };
    let Some(credentials) = within(targets.deadline_at, credentials.provide_credentials()).await
    else {
        inventory.coverage.push(account_row(
            None,
            deadline_passed("the AWS credential chain"),
        ));
        return inventory;
    };
    if let Err(error) = credentials {
        inventory.coverage.push(account_row(
            None,
            ListingError::failed(format!(
                "NoCredentials: no usable AWS credentials were found ({})",
                error_chain(&error)
            )),
        ));
        return inventory;
    }

    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&sdk_config)
            .interceptor(WholeXmlBody)
            .build(),
    );
    let Some(identity) = within(targets.deadline_at, sts.get_caller_identity().send()).await else {
        inventory
            .coverage
            .push(account_row(None, deadline_passed("GetCallerIdentity")));
        return inventory;
    };
    let (account, principal) = match identity {
        Ok(identity) => (
            identity.account().unwrap_or_default().to_string(),
            identity.arn().unwrap_or_default().to_string(),
        ),
        Err(error) => {
            inventory
                .coverage
                .push(account_row(None, classify("GetCallerIdentity", &error)));
            return inventory;
        }
    };
    inventory.identities.push(Identity {
        provider: Provider::Aws,
        principal,
        account: Some(account.clone()),
    });

    if let Some(exclusion) = targets.exclusion(Provider::Aws, &account, None) {
        inventory.coverage.push(CoverageRow {
            scope: Scope {
                provider: Provider::Aws,
                account: Some(account.clone()),
                region: None,
            },
            status: CoverageStatus::Excluded,
            detail: Some(exclusion.detail.clone()),
        });
        return inventory;
    }

    let discovery = within(
        targets.deadline_at,
        discover_regions(&sdk_config, &settings.regions),
    )
    .await
    .unwrap_or_else(|| Err(deadline_passed("DescribeRegions")));
    let regions = match discovery {
        Ok(regions) => regions,
        Err(error) => {
            inventory.coverage.push(account_row(Some(&account), error));
            return inventory;
        }
    };

    let mut to_scan = Vec::new();
    for (region, availability) in regions {
        if let Some(exclusion) = targets.exclusion(Provider::Aws, &account, Some(&region)) {
            inventory.coverage.push(CoverageRow {
                scope: scope(&account, &region),
                status: CoverageStatus::Excluded,
                detail: Some(exclusion.detail.clone()),
            });
            continue;
        }
        match availability {
            RegionAvailability::Enabled => to_scan.push(region),
            RegionAvailability::NotOptedIn => inventory.coverage.push(CoverageRow {
                scope: scope(&account, &region),
                status: CoverageStatus::Disabled,
                detail: Some(
                    "not-opted-in: opt-in region not enabled for this account".to_string(),
                ),
            }),
            RegionAvailability::Unknown => inventory.coverage.push(CoverageRow {
                scope: scope(&account, &region),
                status: CoverageStatus::Failed,
                detail: Some(
                    "UnknownRegion: DescribeRegions does not list this region for the account"
                        .to_string(),
                ),
            }),
        }
    }

    if targets.discover_only {
        for region in to_scan {
            inventory
                .coverage
                .push(super::discovered(scope(&account, &region)));
        }
        return inventory;
    }

    let results: Vec<Inventory> = futures::stream::iter(to_scan)
        .map(|region| {
            let sdk_config = &sdk_config;
            let account = &account;
            async move {
                let work = scan_region(sdk_config, account, region.clone(), tuning.max_pages);
                match within(targets.deadline_at, work).await {
                    Some(inventory) => inventory,
                    None => {
                        let mut cut_short = Inventory::default();
                        let error = deadline_passed("this region's listings");
                        cut_short.coverage.push(CoverageRow {
                            scope: scope(account, &region),
                            status: error.status,
                            detail: Some(error.detail),
                        });
                        cut_short
                    }
                }
            }
        })
        .buffer_unordered(tuning.concurrency.max(1))
        .collect()
        .await;
    for result in results {
        inventory.extend(result);
    }
    inventory
}

/// One HTTPS client for every AWS client of the run, so all regions share one connection pool
/// and one TLS setup (the SDK would otherwise build both again for each regional client).
/// Proxies come from `HTTPS_PROXY` / `NO_PROXY` and roots from the system store, as with the
/// SDK's own default client.
pub(crate) fn shared_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, runtime_components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

pub(crate) async fn load_config(settings: &AwsSettings, tuning: &Tuning) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(tuning.max_attempts.max(1))
        .with_initial_backoff(tuning.initial_backoff);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(tuning.timeout)
        .operation_attempt_timeout(tuning.timeout)
        .build();
    match &settings.auth {
        AwsAuth::Environment { profile } => {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .http_client(shared_http_client())
                .retry_config(retry)
                .timeout_config(timeouts);
            if let Some(profile) = profile {
                loader = loader.profile_name(profile);
            }
            if let Some(endpoint) = &settings.endpoint {
                loader = loader.endpoint_url(endpoint);
            }
            let config = loader.load().await;
            if config.region().is_some() {
                config
            } else {
                config
                    .into_builder()
                    .region(Region::new(DEFAULT_HOME_REGION))
                    .build()
            }
        }
        AwsAuth::Static {
            access_key_id,
            secret_access_key,
        } => {
            let credentials = Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "mirrorguard-static",
            );
            let mut builder = SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(DEFAULT_HOME_REGION))
                .http_client(shared_http_client())
                .credentials_provider(SharedCredentialsProvider::new(credentials))
                .retry_config(retry)
                .timeout_config(timeouts);
            if let Some(endpoint) = &settings.endpoint {
                builder = builder.endpoint_url(endpoint);
            }
            builder.build()
        }
    }
}

enum RegionAvailability {
    Enabled,
    NotOptedIn,
    /// Asked for by the user but not listed for the account.
    Unknown,
}

/// The regions to scan and whether each is enabled. With an explicit region list the list is
/// still checked against DescribeRegions (so a not-opted-in region is `disabled`, not a gap);
/// if that check itself fails, the requested regions are scanned anyway.
async fn discover_regions(
    config: &SdkConfig,
    requested: &[String],
) -> Result<Vec<(String, RegionAvailability)>, ListingError> {
    let mut requested: Vec<&String> = requested.iter().collect();
    requested.sort();
    requested.dedup();
    let ec2 = ec2_client(config, None);
    let listed = match ec2.describe_regions().all_regions(true).send().await {
        Ok(output) => output
            .regions()
            .iter()
            .filter_map(|r| {
                let name = r.region_name()?.to_string();
                let enabled = !matches!(r.opt_in_status(), Some("not-opted-in"));
                Some((name, enabled))
            })
            .collect::<BTreeMap<_, _>>(),
        Err(_) if !requested.is_empty() => {
            // The requested regions are still worth scanning: each ends in its own status (a
            // region not enabled answers AuthFailure, a gap), so going ahead hides nothing.
            return Ok(requested
                .into_iter()
                .map(|r| (r.clone(), RegionAvailability::Enabled))
                .collect());
        }
        Err(error) => return Err(classify("DescribeRegions", &error)),
    };
    let availability = |enabled: bool| {
        if enabled {
            RegionAvailability::Enabled
        } else {
            RegionAvailability::NotOptedIn
        }
    };
    if requested.is_empty() {
        return Ok(listed
            .into_iter()
            .map(|(name, enabled)| (name, availability(enabled)))
            .collect());
    }
    Ok(requested
        .into_iter()
        .map(|region| match listed.get(region) {
            Some(&enabled) => (region.clone(), availability(enabled)),
            None => (region.clone(), RegionAvailability::Unknown),
        })
        .collect())
}

/// An EC2 client for `region` (or the configured home region) that refuses cut-off bodies.
fn ec2_client(config: &SdkConfig, region: Option<&str>) -> aws_sdk_ec2::Client {
    let mut builder = aws_sdk_ec2::config::Builder::from(config).interceptor(WholeXmlBody);
    if let Some(region) = region {
        builder = builder.region(Region::new(region.to_string()));
    }
    aws_sdk_ec2::Client::from_conf(builder.build())
}

/// Lists one region's sessions, targets and filters and joins them into mirrors.
async fn scan_region(
    config: &SdkConfig,
    account: &str,
    region: String,
    max_pages: usize,
) -> Inventory {
    let ec2 = ec2_client(config, Some(&region));

    let sessions = paginate("DescribeTrafficMirrorSessions", max_pages, |token| {
        let request = ec2
            .describe_traffic_mirror_sessions()
            .max_results(1000)
            .set_next_token(token);
        async move {
            let output = request
                .send()
                .await
                .map_err(|e| classify("DescribeTrafficMirrorSessions", &e))?;
            Ok((
                output.traffic_mirror_sessions().to_vec(),
                output.next_token().map(str::to_string),
            ))
        }
    });
    let targets = paginate("DescribeTrafficMirrorTargets", max_pages, |token| {
        let request = ec2
            .describe_traffic_mirror_targets()
            .max_results(1000)
            .set_next_token(token);
        async move {
            let output = request
                .send()
                .await
                .map_err(|e| classify("DescribeTrafficMirrorTargets", &e))?;
            Ok((
                output.traffic_mirror_targets().to_vec(),
                output.next_token().map(str::to_string),
            ))
        }
    });
    let filters = paginate("DescribeTrafficMirrorFilters", max_pages, |token| {
        let request = ec2
            .describe_traffic_mirror_filters()
            .max_results(1000)
            .set_next_token(token);
        async move {
            let output = request
                .send()
                .await
                .map_err(|e| classify("DescribeTrafficMirrorFilters", &e))?;
            Ok((
                output.traffic_mirror_filters().to_vec(),
                output.next_token().map(str::to_string),
            ))
        }
    });
    let (sessions, targets, filters) = tokio::join!(sessions, targets, filters);
    join_region(account, &region, sessions, targets, filters)
}

/// Joins the three listings of one region into mirrors, staged resources and one coverage row.
fn join_region(
    account: &str,
    region: &str,
    sessions: Listing<TrafficMirrorSession>,
    targets: Listing<TrafficMirrorTarget>,
    filters: Listing<TrafficMirrorFilter>,
) -> Inventory {
    let target_by_id: HashMap<&str, &TrafficMirrorTarget> = targets
        .items
        .iter()
        .filter_map(|t| Some((t.traffic_mirror_target_id()?, t)))
        .collect();
    let filter_by_id: HashMap<&str, &TrafficMirrorFilter> = filters
        .items
        .iter()
        .filter_map(|f| Some((f.traffic_mirror_filter_id()?, f)))
        .collect();

    let mut inventory = Inventory::default();
    let mut seen_sessions = HashSet::new();
    for session in &sessions.items {
        let Some(id) = session.traffic_mirror_session_id() else {
            continue;
        };
        // A looping paginator may hand the same page back; a session is one mirror.
        if !seen_sessions.insert(id) {
            continue;
        }
        let target_id = session.traffic_mirror_target_id().unwrap_or_default();
        let filter_id = session.traffic_mirror_filter_id();
        let filter = filter_id.and_then(|f| filter_by_id.get(f).copied());
        let tags = tag_map(session.tags());
        inventory.mirrors.push(Mirror {
            provider: Provider::Aws,
            account: session.owner_id().unwrap_or(account).to_string(),
            region: Some(region.to_string()),
            id: id.to_string(),
            kind: "traffic-mirror-session".to_string(),
            name: tags.get("Name").cloned(),
            enabled: true,
            sources: vec![Source {
                kind: "network-interface".to_string(),
                id: session
                    .network_interface_id()
                    .unwrap_or_default()
                    .to_string(),
                direction: filter.and_then(mirrored_direction),
            }],
            target: match target_by_id.get(target_id) {
                Some(target) => resolve_target(target),
                None => Target {
                    kind: "unresolved".to_string(),
                    id: target_id.to_string(),
                    owner: None,
                    mirror_target_id: Some(target_id.to_string()),
                    port: None,
                    description: None,
                },
            },
            filter: Some(summarize_filter(filter_id, filter, session.packet_length())),
            description: session.description().map(str::to_string),
            tags,
            vni: session.virtual_network_id().map(i64::from),
            priority: session.session_number().map(i64::from),
            network: None,
        });
    }

    // Unused targets and filters can only be named when every session was seen.
    if sessions.error.is_none() {
        let used_targets: HashSet<&str> = sessions
            .items
            .iter()
            .filter_map(|s| s.traffic_mirror_target_id())
            .collect();
        let used_filters: HashSet<&str> = sessions
            .items
            .iter()
            .filter_map(|s| s.traffic_mirror_filter_id())
            .collect();
        for (id, target) in &target_by_id {
            if !used_targets.contains(id) {
                inventory.staged.push(StagedResource {
                    provider: Provider::Aws,
                    account: account.to_string(),
                    region: Some(region.to_string()),
                    kind: "traffic-mirror-target".to_string(),
                    id: id.to_string(),
                    target: Some(resolve_target(target)),
                    description: target.description().map(str::to_string),
                    tags: tag_map(target.tags()),
                });
            }
        }
        for (id, filter) in &filter_by_id {
            if !used_filters.contains(id) {
                inventory.staged.push(StagedResource {
                    provider: Provider::Aws,
                    account: account.to_string(),
                    region: Some(region.to_string()),
                    kind: "traffic-mirror-filter".to_string(),
                    id: id.to_string(),
                    target: None,
                    description: filter.description().map(str::to_string),
                    tags: tag_map(filter.tags()),
                });
            }
        }
    }

    let error = [sessions.error, targets.error, filters.error]
        .into_iter()
        .flatten()
        .reduce(ListingError::worst);
    inventory.coverage.push(match error {
        None => CoverageRow {
            scope: scope(account, region),
            status: CoverageStatus::Scanned,
            detail: None,
        },
        Some(error) => CoverageRow {
            scope: scope(account, region),
            status: error.status,
            detail: Some(error.detail),
        },
    });
    inventory
}

/// The resource that actually receives the copies, with the account that owns it.
fn resolve_target(target: &TrafficMirrorTarget) -> Target {
    let mirror_target_id = target.traffic_mirror_target_id().map(str::to_string);
    let (kind, id) = if let Some(eni) = target.network_interface_id() {
        ("network-interface", eni)
    } else if let Some(arn) = target.network_load_balancer_arn() {
        ("network-load-balancer", arn)
    } else if let Some(vpce) = target.gateway_load_balancer_endpoint_id() {
        ("gateway-load-balancer-endpoint", vpce)
    } else {
        (
            "unresolved",
            target.traffic_mirror_target_id().unwrap_or_default(),
        )
    };
    Target {
        kind: kind.to_string(),
        id: id.to_string(),
        owner: target.owner_id().map(str::to_string),
        mirror_target_id,
        port: None,
        description: target.description().map(str::to_string),
    }
}

fn mirrored_direction(filter: &TrafficMirrorFilter) -> Option<String> {
    let accepts = |rules: &[TrafficMirrorFilterRule]| {
        rules
            .iter()
            .any(|r| r.rule_action().map(|a| a.as_str()) == Some("accept"))
    };
    match (
        accepts(filter.ingress_filter_rules()),
        accepts(filter.egress_filter_rules()),
    ) {
        (true, true) => Some("both".to_string()),
        (true, false) => Some("ingress".to_string()),
        (false, true) => Some("egress".to_string()),
        (false, false) => None,
    }
}

fn summarize_filter(
    filter_id: Option<&str>,
    filter: Option<&TrafficMirrorFilter>,
    packet_length: Option<i32>,
) -> FilterSummary {
    let mut summary = FilterSummary {
        id: filter_id.map(str::to_string),
        packet_length: packet_length.map(i64::from),
        resolved: filter.is_some(),
        ..FilterSummary::default()
    };
    let Some(filter) = filter else {
        return summary;
    };
    let mut rules: Vec<&TrafficMirrorFilterRule> = filter
        .ingress_filter_rules()
        .iter()
        .chain(filter.egress_filter_rules())
        .collect();
    rules.sort_by_key(|r| {
        (
            r.traffic_direction().map(|d| d.as_str().to_string()),
            r.rule_number(),
        )
    });
    for rule in rules {
        let text = describe_rule(rule);
        match rule.rule_action().map(|a| a.as_str()) {
            Some("accept") => summary.accept.push(text),
            _ => summary.reject.push(text),
        }
    }
    summary.network_services = filter
        .network_services()
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    summary.copies_nothing = summary.accept.is_empty() && summary.network_services.is_empty();
    summary
}

/// `ingress #100 tcp 10.0.0.0/8 -> 0.0.0.0/0:443`
fn describe_rule(rule: &TrafficMirrorFilterRule) -> String {
    let direction = rule.traffic_direction().map(|d| d.as_str()).unwrap_or("?");
    let protocol = match rule.protocol() {
        None | Some(0) => "all".to_string(),
        Some(1) => "icmp".to_string(),
        Some(6) => "tcp".to_string(),
        Some(17) => "udp".to_string(),
        Some(other) => format!("proto-{other}"),
    };
    let ports = |range: Option<&aws_sdk_ec2::types::TrafficMirrorPortRange>| match range {
        Some(r) if r.from_port() == r.to_port() => {
            format!(":{}", r.from_port().unwrap_or_default())
        }
        Some(r) => format!(
            ":{}-{}",
            r.from_port().unwrap_or_default(),
            r.to_port().unwrap_or_default()
        ),
        None => String::new(),
    };
    format!(
        "{direction} #{} {protocol} {}{} -> {}{}",
        rule.rule_number().unwrap_or_default(),
        rule.source_cidr_block().unwrap_or("?"),
        ports(rule.source_port_range()),
        rule.destination_cidr_block().unwrap_or("?"),
        ports(rule.destination_port_range()),
    )
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn scope(account: &str, region: &str) -> Scope {
    Scope {
        provider: Provider::Aws,
        account: Some(account.to_string()),
        region: Some(region.to_string()),
    }
}

fn account_row(account: Option<&str>, error: ListingError) -> CoverageRow {
    CoverageRow {
        scope: Scope {
            provider: Provider::Aws,
            account: account.map(str::to_string),
            region: None,
        },
        status: error.status,
        detail: Some(error.detail),
    }
}

/// Turns an SDK error into a coverage status and a detail that starts with AWS's own code.
pub(crate) fn classify<E, R>(operation: &str, error: &SdkError<E, R>) -> ListingError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("UnknownError");
            let message = err.message().unwrap_or("no message");
            let status = if DENIED_CODES.contains(&code) {
                CoverageStatus::Denied
            } else {
                CoverageStatus::Failed
            };
            ListingError {
                status,
                detail: format!("{code}: {message} ({operation})"),
            }
        }
        SdkError::TimeoutError(_) => ListingError::failed(format!(
            "Timeout: {operation} got no answer within the per-call timeout"
        )),
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_timeout() {
                "Timeout"
            } else if failure.is_io() {
                "ConnectionError"
            } else {
                "DispatchFailure"
            };
            ListingError::failed(format!("{kind}: {operation}: {}", error_chain(error)))
        }
        SdkError::ResponseError(_) => ListingError::failed(format!(
            "MalformedResponse: {operation}: {}",
            error_chain(error)
        )),
        _ => ListingError::failed(format!("{operation}: {}", error_chain(error))),
    }
}
