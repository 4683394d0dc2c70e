//! Azure virtual network TAP through azure_mgmt_network (2024-03-01) and azure_identity.
//!
//! One scope is a subscription (its listings are subscription-wide, so `region` is null). The
//! subscriptions are every one the identity can see (`GET /subscriptions`) unless the user names
//! them. Each subscription lists every page of vTAPs and of network interfaces; a mirror is a
//! vTAP, its sources are the NICs whose tapConfigurations point at it — joined across all
//! subscriptions, because a NIC may tap into a vTAP of another subscription — and its target is
//! the destination NIC IP configuration or load-balancer frontend IP configuration.
//!
//! Azure resource ids are case-insensitive, and the API does not keep one spelling (a NIC's
//! tapConfiguration may name `resourceGroups/RG` where the vTAP says `resourcegroups/rg`), so
//! every join here compares lower-cased ids; the ids shown keep the API's own spelling.

use super::{
    deadline_passed, error_chain, one_line, paginate_stream, within, Listing, ListingError,
    ScanTargets, Tuning,
};
use crate::model::{
    CoverageRow, CoverageStatus, Identity, Inventory, Mirror, Organization, OrphanTapConfiguration,
    Provider, Scope, Source, StagedResource, Target,
};
use azure_core::auth::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::{ExponentialRetryOptions, RetryOptions, TransportOptions};
use azure_identity::{
    ClientSecretCredential, DefaultAzureCredentialBuilder, TokenCredentialOptions,
};
use azure_mgmt_network::package_2024_03::models::{NetworkInterface, VirtualNetworkTap};
use azure_mgmt_subscription::package_2021_10::models::subscription::State as SubscriptionState;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Azure Resource Manager in the public cloud; sovereign clouds pass their own with
/// `--azure-endpoint` (and their login host with `AZURE_AUTHORITY_HOST`).
pub const PUBLIC_ARM_ENDPOINT: &str = "https://management.azure.com";

/// Where the Azure credentials come from.
#[derive(Debug, Clone)]
pub enum AzureAuth {
    /// azure_identity's chain: environment (client secret, certificate, workload identity),
    /// App Service managed identity, VM managed identity (IMDS), Azure CLI.
    Chain {
        /// `false` leaves the VM managed-identity probe of 169.254.169.254 out of the chain
        /// (tests, and hosts where that address is not Azure's).
        managed_identity: bool,
    },
    /// A fixed service principal and token endpoint, nothing from the environment: the demo.
    ClientSecret {
        tenant: String,
        client_id: String,
        client_secret: String,
        authority_host: String,
    },
}

#[derive(Debug, Clone)]
pub struct AzureSettings {
    pub auth: AzureAuth,
    /// The ARM base URL (default [`PUBLIC_ARM_ENDPOINT`]).
    pub endpoint: Option<String>,
    /// Subscriptions to scan; empty means every subscription the identity can see.
    pub subscriptions: Vec<String>,
    /// Subscriptions to leave out (`--azure-exclude-subscriptions`): reported `excluded`.
    pub exclude: Vec<String>,
}

/// What one subscription's listings returned.
struct SubscriptionListing {
    subscription: String,
    taps: Listing<VirtualNetworkTap>,
    nics: Listing<NetworkInterface>,
}

/// Scans every subscription the identity can see (or the ones asked for).
pub async fn scan(targets: &ScanTargets) -> Inventory {
    let (settings, tuning) = (&targets.azure, &targets.tuning);
    let mut inventory = Inventory::default();
    let endpoint = settings
        .endpoint
        .as_deref()
        .unwrap_or(PUBLIC_ARM_ENDPOINT)
        .trim_end_matches('/')
        .to_string();
    let endpoint_url = match url::Url::parse(&endpoint) {
        Ok(url) => url,
        Err(error) => {
            inventory.coverage.push(subscription_row(
                None,
                ListingError::failed(format!("InvalidEndpoint: {endpoint}: {error}")),
            ));
            return inventory;
        }
    };
    let http = match http_client(tuning) {
        Ok(http) => http,
        Err(error) => {
            inventory.coverage.push(subscription_row(None, error));
            return inventory;
        }
    };
    let credential = match credential(&settings.auth, http.clone()) {
        Ok(credential) => credential,
        Err(error) => {
            inventory.coverage.push(subscription_row(None, error));
            return inventory;
        }
    };

    // Asking for a token up front turns "no credentials anywhere" into one clear row instead of
    // the same error once per subscription, and the token's claims name who the scan ran as.
    let scope = format!("{endpoint}/.default");
    let token = within(targets.deadline_at, credential.get_token(&[scope.as_str()])).await;
    let token = match token {
        None => {
            inventory.coverage.push(subscription_row(
                None,
                deadline_passed("the Azure credential chain"),
            ));
            return inventory;
        }
        Some(Err(error)) => {
            inventory.coverage.push(subscription_row(
                None,
                ListingError::failed(format!(
                    "NoCredentials: no usable Azure credentials were found ({})",
                    one_line(&error.to_string())
                )),
            ));
            return inventory;
        }
        Some(Ok(token)) => token,
    };
    let claims = TokenClaims::decode(token.token.secret());
    inventory.identities.push(Identity {
        provider: Provider::Azure,
        principal: claims.principal(),
        account: claims.tenant.clone(),
    });

    let retry = RetryOptions::exponential(
        ExponentialRetryOptions::default()
            .max_retries(tuning.max_attempts.saturating_sub(1))
            .initial_delay(tuning.initial_backoff)
            .max_total_elapsed(tuning.timeout * tuning.max_attempts.max(1)),
    );
    let transport = TransportOptions::new(http);
    let network = azure_mgmt_network::package_2024_03::Client::builder(credential.clone())
        .endpoint(endpoint_url.clone())
        .retry(retry.clone())
        .transport(transport.clone())
        .build();
    let subscriptions_api =
        azure_mgmt_subscription::package_2021_10::Client::builder(credential.clone())
            .endpoint(endpoint_url)
            .retry(retry)
            .transport(transport)
            .build();
    let (network, subscriptions_api) = match (network, subscriptions_api) {
        (Ok(network), Ok(subscriptions_api)) => (network, subscriptions_api),
        (Err(error), _) | (_, Err(error)) => {
            inventory.coverage.push(subscription_row(
                None,
                ListingError::failed(format!("ClientError: {}", one_line(&error.to_string()))),
            ));
            return inventory;
        }
    };

    let (subscriptions, listing_error, tenants) = within(
        targets.deadline_at,
        discover_subscriptions(&subscriptions_api, &settings.subscriptions, tuning),
    )
    .await
    .unwrap_or_else(|| {
        (
            Vec::new(),
            Some(deadline_passed("the subscription listing")),
            SubscriptionTenants::new(),
        )
    });
    inventory
        .organizations
        .extend(tenant_organization(claims.tenant.as_deref(), &tenants));
    // A subscription listing cut short still scans what it listed; the subscriptions it never
    // reached are one gap row with no account.
    if let Some(error) = listing_error {
        inventory.coverage.push(subscription_row(None, error));
    } else if subscriptions.is_empty() {
        // An identity that sees no subscription scans nothing; that must not read as a clean
        // cloud.
        inventory.coverage.push(subscription_row(
            None,
            ListingError::failed(
                "NoSubscriptions: the identity can see no subscription; grant it Reader on the subscriptions to scan, or pass --azure-subscriptions",
            ),
        ));
    }

    let mut to_scan = Vec::new();
    for (subscription, state) in subscriptions {
        if let Some(exclusion) = targets.exclusion(Provider::Azure, &subscription, None) {
            inventory.coverage.push(CoverageRow {
                scope: scope_of(&subscription),
                status: CoverageStatus::Excluded,
                detail: Some(exclusion.detail.clone()),
            });
            continue;
        }
        match state {
            Some(state @ (SubscriptionState::Disabled | SubscriptionState::Deleted)) => {
                inventory.coverage.push(CoverageRow {
                    scope: scope_of(&subscription),
                    status: CoverageStatus::Disabled,
                    detail: Some(format!(
                        "{state:?}: the subscription is {} and holds no running resources",
                        format!("{state:?}").to_lowercase()
                    )),
                })
            }
            _ => to_scan.push(subscription),
        }
    }

    if targets.discover_only {
        for subscription in to_scan {
            inventory
                .coverage
                .push(super::discovered(scope_of(&subscription)));
        }
        return inventory;
    }

    let listings: Vec<SubscriptionListing> = futures::stream::iter(to_scan)
        .map(|subscription| {
            let network = &network;
            async move {
                let work = list_subscription(network, &subscription, tuning.max_pages);
                match within(targets.deadline_at, work).await {
                    Some(listing) => listing,
                    None => SubscriptionListing {
                        taps: Listing {
                            items: Vec::new(),
                            error: Some(deadline_passed("this subscription's listings")),
                        },
                        nics: Listing {
                            items: Vec::new(),
                            error: None,
                        },
                        subscription,
                    },
                }
            }
        })
        .buffer_unordered(tuning.concurrency.max(1))
        .collect()
        .await;
    inventory.extend(join_subscriptions(listings));
    inventory
}

/// One HTTP client for every Azure call of the run (token and ARM): the per-attempt timeout
/// lives here, proxies come from `HTTPS_PROXY` / `NO_PROXY` (reqwest's default), and the
/// system's CA roots are trusted next to the bundled ones so TLS-inspecting proxies work.
pub(crate) fn http_client(tuning: &Tuning) -> Result<Arc<reqwest::Client>, ListingError> {
    let mut builder = reqwest::Client::builder()
        .timeout(tuning.timeout)
        .connect_timeout(tuning.timeout);
    for certificate in rustls_native_certs::load_native_certs().certs {
        if let Ok(certificate) = reqwest::Certificate::from_der(certificate.as_ref()) {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder
        .build()
        .map(Arc::new)
        .map_err(|e| ListingError::failed(format!("ClientError: {e}")))
}

pub(crate) fn credential(
    auth: &AzureAuth,
    http: Arc<reqwest::Client>,
) -> Result<Arc<dyn TokenCredential>, ListingError> {
    let options = TokenCredentialOptions::from(http.clone() as Arc<dyn azure_core::HttpClient>);
    match auth {
        AzureAuth::Chain { managed_identity } => {
            let mut builder = DefaultAzureCredentialBuilder::new();
            builder.with_options(options);
            if !managed_identity {
                builder.exclude_virtual_machine_managed_identity_credential();
            }
            builder
                .build()
                .map(|c| Arc::new(c) as Arc<dyn TokenCredential>)
                .map_err(|e| {
                    ListingError::failed(format!(
                        "NoCredentials: the Azure credential chain could not be set up ({})",
                        one_line(&e.to_string())
                    ))
                })
        }
        AzureAuth::ClientSecret {
            tenant,
            client_id,
            client_secret,
            authority_host,
        } => {
            let authority = url::Url::parse(authority_host).map_err(|e| {
                ListingError::failed(format!("InvalidEndpoint: {authority_host}: {e}"))
            })?;
            Ok(Arc::new(ClientSecretCredential::new(
                http,
                authority,
                tenant.clone(),
                client_id.clone(),
                client_secret.clone(),
            )))
        }
    }
}

/// The subscriptions to scan, with their state where the listing gave one, and the error that
/// cut the listing short. Named subscriptions are checked against the listing (a disabled one
/// is `disabled`, not a gap); one the listing does not show is still scanned, and its own
/// listing's answer decides its row, so with names a failed listing is no gap of its own.
async fn discover_subscriptions(
    api: &azure_mgmt_subscription::package_2021_10::Client,
    requested: &[String],
    tuning: &Tuning,
) -> (
    Vec<(String, Option<SubscriptionState>)>,
    Option<ListingError>,
    SubscriptionTenants,
) {
    let pages = api.subscriptions_client().list().into_stream().map(|page| {
        page.map(|page| (page.value, page.next_link))
            .map_err(|e| classify("Subscriptions.List", &e))
    });
    let listing = paginate_stream("Subscriptions.List", tuning.max_pages, pages).await;
    let mut listed: BTreeMap<String, (String, Option<SubscriptionState>)> = BTreeMap::new();
    let mut tenants = SubscriptionTenants::new();
    for subscription in listing.items {
        if let Some(id) = subscription.subscription_id {
            if let Some(tenant) = &subscription.tenant_id {
                tenants.insert(id.to_lowercase(), tenant.to_lowercase());
            }
            listed.insert(id.to_lowercase(), (id, subscription.state));
        }
    }
    if requested.is_empty() {
        return (listed.into_values().collect(), listing.error, tenants);
    }
    let mut chosen: BTreeMap<String, (String, Option<SubscriptionState>)> = BTreeMap::new();
    for id in requested {
        let key = id.to_lowercase();
        let entry = listed.get(&key).cloned().unwrap_or((id.clone(), None));
        chosen.insert(key, entry);
    }
    (chosen.into_values().collect(), None, tenants)
}

/// The tenant of every subscription the listing showed, by lower-case subscription id.
type SubscriptionTenants = BTreeMap<String, String>;

/// What the subscription listing says about tenants: each visible subscription's home tenant.
/// A destination in a subscription of another tenant than its mirror's (a Lighthouse
/// delegation, guest access) is outside the organisation; a subscription the identity cannot
/// see could be in either, so the membership is partial and such a destination is undecided.
fn tenant_organization(home: Option<&str>, tenants: &SubscriptionTenants) -> Option<Organization> {
    if tenants.is_empty() {
        return None;
    }
    Some(Organization {
        provider: Provider::Azure,
        id: home.map(str::to_lowercase),
        group_of: tenants.clone(),
        complete: false,
    })
}

/// Lists one subscription's vTAPs and network interfaces, every page of both.
async fn list_subscription(
    network: &azure_mgmt_network::package_2024_03::Client,
    subscription: &str,
    max_pages: usize,
) -> SubscriptionListing {
    let taps_client = network.virtual_network_taps_client();
    let nics_client = network.network_interfaces_client();
    let tap_pages = taps_client
        .list_all(subscription)
        .into_stream()
        .map(|page| {
            page.map(|page| (page.value, page.next_link))
                .map_err(|e| classify("VirtualNetworkTaps.ListAll", &e))
        });
    let nic_pages = nics_client
        .list_all(subscription)
        .into_stream()
        .map(|page| {
            page.map(|page| (page.value, page.next_link))
                .map_err(|e| classify("NetworkInterfaces.ListAll", &e))
        });
    let (taps, nics) = tokio::join!(
        paginate_stream("VirtualNetworkTaps.ListAll", max_pages, tap_pages),
        paginate_stream("NetworkInterfaces.ListAll", max_pages, nic_pages),
    );
    SubscriptionListing {
        subscription: subscription.to_string(),
        taps,
        nics,
    }
}

/// A NIC's tapConfiguration, reduced to what the join needs.
struct Tapping {
    nic_id: String,
    nic_subscription: String,
    nic_location: Option<String>,
    tap_configuration_id: Option<String>,
}

/// Joins every subscription's listings: vTAPs become mirrors (or staged, with no NIC attached),
/// NICs become their sources, and tapConfigurations naming a vTAP no listing returned become
/// orphans.
fn join_subscriptions(listings: Vec<SubscriptionListing>) -> Inventory {
    let mut inventory = Inventory::default();
    let mut tappings: HashMap<String, Vec<Tapping>> = HashMap::new();
    let mut tap_names: HashMap<String, String> = HashMap::new();
    let mut taps = Vec::new();
    for listing in listings {
        let error = match (listing.taps.error, listing.nics.error) {
            (Some(a), Some(b)) => Some(a.worst(b)),
            (a, b) => a.or(b),
        };
        inventory.coverage.push(CoverageRow {
            scope: scope_of(&listing.subscription),
            status: error.as_ref().map_or(CoverageStatus::Scanned, |e| e.status),
            detail: error.map(|e| e.detail),
        });
        for nic in listing.nics.items {
            let Some(nic_id) = nic.resource.id.clone() else {
                continue;
            };
            for configuration in nic
                .properties
                .iter()
                .flat_map(|p| p.tap_configurations.iter())
            {
                let Some(tap_id) = configuration
                    .properties
                    .as_ref()
                    .and_then(|p| p.virtual_network_tap.as_ref())
                    .and_then(|tap| tap.resource.id.clone())
                else {
                    continue;
                };
                tap_names
                    .entry(tap_id.to_lowercase())
                    .or_insert(tap_id.clone());
                tappings
                    .entry(tap_id.to_lowercase())
                    .or_default()
                    .push(Tapping {
                        nic_id: nic_id.clone(),
                        nic_subscription: listing.subscription.clone(),
                        nic_location: nic.resource.location.clone(),
                        tap_configuration_id: configuration.sub_resource.id.clone(),
                    });
            }
        }
        taps.extend(
            listing
                .taps
                .items
                .into_iter()
                .map(|tap| (listing.subscription.clone(), tap)),
        );
    }

    // A page served twice (a loop the guard stopped) lists a vTAP twice; ids are compared
    // without case, like every Azure id here.
    let mut seen_taps = std::collections::HashSet::new();
    for (subscription, tap) in taps {
        let Some(id) = tap.resource.id.clone() else {
            continue;
        };
        if !seen_taps.insert(id.to_lowercase()) {
            continue;
        }
        let properties = tap.properties.clone().unwrap_or_default();
        // Sources from both sides: the NICs listed here, and the vTAP's own list of tap
        // configurations, which also names NICs in subscriptions this scan does not cover.
        let mut sources: BTreeMap<String, Source> = BTreeMap::new();
        for tapping in tappings.remove(&id.to_lowercase()).unwrap_or_default() {
            sources.insert(tapping.nic_id.to_lowercase(), nic_source(&tapping.nic_id));
        }
        for configuration in &properties.network_interface_tap_configurations {
            if let Some(nic_id) = configuration
                .sub_resource
                .id
                .as_deref()
                .and_then(nic_of_tap_configuration)
            {
                sources
                    .entry(nic_id.to_lowercase())
                    .or_insert_with(|| nic_source(nic_id));
            }
        }
        let target = tap_target(&properties);
        let tags = tags(tap.resource.tags.as_ref());
        if sources.is_empty() {
            inventory.staged.push(StagedResource {
                provider: Provider::Azure,
                account: subscription,
                region: tap.resource.location.clone(),
                kind: "virtual-network-tap".to_string(),
                id,
                target: Some(target),
                description: None,
                tags,
            });
            continue;
        }
        inventory.mirrors.push(Mirror {
            provider: Provider::Azure,
            account: subscription,
            region: tap.resource.location.clone(),
            id,
            kind: "virtual-network-tap".to_string(),
            name: tap.resource.name.clone(),
            // A vTAP has no on/off switch: attached NICs are mirrored.
            enabled: true,
            sources: sources.into_values().collect(),
            target,
            // A vTAP has no filter: it copies every packet of every attached NIC.
            filter: None,
            description: None,
            tags,
            vni: None,
            priority: None,
            network: None,
        });
    }

    for (key, tappings) in tappings {
        let tap_id = tap_names.remove(&key).unwrap_or(key);
        for tapping in tappings {
            inventory.orphans.push(OrphanTapConfiguration {
                provider: Provider::Azure,
                account: tapping.nic_subscription,
                region: tapping.nic_location,
                network_interface: tapping.nic_id,
                tap_configuration: tapping.tap_configuration_id,
                virtual_network_tap: tap_id.clone(),
                tap_subscription: subscription_of(&tap_id).map(str::to_string),
            });
        }
    }
    inventory
}

fn nic_source(nic_id: &str) -> Source {
    Source {
        kind: "network-interface".to_string(),
        id: nic_id.to_string(),
        // A vTAP copies both directions of an attached NIC; there is no setting.
        direction: Some("both".to_string()),
    }
}

/// `…/networkInterfaces/NIC/tapConfigurations/CFG` → `…/networkInterfaces/NIC`.
fn nic_of_tap_configuration(id: &str) -> Option<&str> {
    let at = id.to_ascii_lowercase().rfind("/tapconfigurations/")?;
    Some(&id[..at])
}

/// The subscription a resource id belongs to.
pub fn subscription_of(id: &str) -> Option<&str> {
    let rest = id
        .get(..15)
        .filter(|p| p.eq_ignore_ascii_case("/subscriptions/"))
        .map(|_| &id[15..])?;
    rest.split('/').next().filter(|s| !s.is_empty())
}

/// What receives a vTAP's copies: the destination NIC IP configuration or load-balancer
/// frontend IP configuration (CONTRACTS §4), with the VXLAN destination port.
fn tap_target(
    properties: &azure_mgmt_network::package_2024_03::models::VirtualNetworkTapPropertiesFormat,
) -> Target {
    let ip_configuration = properties
        .destination_network_interface_ip_configuration
        .as_ref()
        .and_then(|c| c.sub_resource.id.clone());
    let frontend = properties
        .destination_load_balancer_front_end_ip_configuration
        .as_ref()
        .and_then(|c| c.sub_resource.id.clone());
    let (kind, id) = match (ip_configuration, frontend) {
        (Some(id), _) => ("network-interface-ip-configuration", id),
        (None, Some(id)) => ("load-balancer-frontend-ip-configuration", id),
        (None, None) => ("unresolved", "(no destination)".to_string()),
    };
    Target {
        kind: kind.to_string(),
        owner: subscription_of(&id).map(str::to_string),
        id,
        mirror_target_id: None,
        port: properties
            .destination_port
            .and_then(|p| u16::try_from(p).ok()),
        description: None,
    }
}

/// ARM tags are a JSON object of strings; anything else is kept as its JSON text.
fn tags(value: Option<&serde_json::Value>) -> BTreeMap<String, String> {
    let Some(serde_json::Value::Object(map)) = value else {
        return BTreeMap::new();
    };
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn scope_of(subscription: &str) -> Scope {
    Scope {
        provider: Provider::Azure,
        account: Some(subscription.to_string()),
        region: None,
    }
}

fn subscription_row(subscription: Option<&str>, error: ListingError) -> CoverageRow {
    CoverageRow {
        scope: Scope {
            provider: Provider::Azure,
            account: subscription.map(str::to_string),
            region: None,
        },
        status: error.status,
        detail: Some(error.detail),
    }
}

/// Error codes and statuses by which Azure refuses a caller (CONTRACTS §1: `denied`).
const DENIED_CODES: &[&str] = &[
    "AuthorizationFailed",
    "AuthenticationFailed",
    "InvalidAuthenticationToken",
    "InvalidAuthenticationTokenTenant",
    "LinkedAuthorizationFailed",
];

/// Turns an azure_core error into a coverage status and a detail that starts with Azure's own
/// error code.
pub(crate) fn classify(operation: &str, error: &azure_core::Error) -> ListingError {
    match error.kind() {
        ErrorKind::HttpResponse { status, error_code } => {
            let status = u16::from(*status);
            let code = error_code
                .clone()
                .unwrap_or_else(|| format!("HTTP{status}"));
            let message = error
                .as_http_error()
                .and_then(|e| e.error_message().map(one_line))
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let detail = format!("{code}: {operation} answered HTTP {status}{message}");
            if matches!(status, 401 | 403) || DENIED_CODES.contains(&code.as_str()) {
                ListingError {
                    status: CoverageStatus::Denied,
                    detail,
                }
            } else {
                ListingError::failed(detail)
            }
        }
        ErrorKind::Io if is_timeout(error) => ListingError::failed(format!(
            "Timeout: {operation} did not answer within --timeout"
        )),
        ErrorKind::Io => ListingError::failed(format!(
            "ConnectionError: {operation}: {}",
            one_line(&error_chain(error))
        )),
        ErrorKind::DataConversion => ListingError::failed(format!(
            "MalformedResponse: {operation} returned a body that is not the documented JSON ({})",
            one_line(&error_chain(error))
        )),
        ErrorKind::Credential => ListingError::failed(format!(
            "NoCredentials: {operation}: {}",
            one_line(&error_chain(error))
        )),
        _ => ListingError::failed(format!(
            "Error: {operation}: {}",
            one_line(&error_chain(error))
        )),
    }
}

fn is_timeout(error: &azure_core::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
        {
            return true;
        }
        source = current.source();
    }
    error_chain(error).contains("timed out")
}

/// The claims of an ARM access token that say who the caller is. The token is not verified
/// here (ARM does that); it is only read for the report's identity line.
#[derive(Debug, Default)]
struct TokenClaims {
    tenant: Option<String>,
    object_id: Option<String>,
    user: Option<String>,
    app_id: Option<String>,
}

impl TokenClaims {
    fn decode(token: &str) -> TokenClaims {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        });
        let Some(claims) =
            payload.and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        else {
            return TokenClaims::default();
        };
        let text = |key: &str| claims.get(key).and_then(|v| v.as_str()).map(str::to_string);
        TokenClaims {
            tenant: text("tid"),
            object_id: text("oid"),
            user: text("upn").or_else(|| text("unique_name")),
            app_id: text("appid").or_else(|| text("azp")),
        }
    }

    /// `tenant T, object O (user U | app A)`, with whatever the token carried.
    fn principal(&self) -> String {
        let mut parts = Vec::new();
        if let Some(tenant) = &self.tenant {
            parts.push(format!("tenant {tenant}"));
        }
        if let Some(object_id) = &self.object_id {
            parts.push(format!("object {object_id}"));
        }
        if let Some(user) = &self.user {
            parts.push(format!("user {user}"));
        } else if let Some(app) = &self.app_id {
            parts.push(format!("app {app}"));
        }
        if parts.is_empty() {
            "unknown (the access token carries no identity claims)".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_of_reads_the_id_case_insensitively() {
        assert_eq!(
            subscription_of("/SUBSCRIPTIONS/abc/resourceGroups/rg"),
            Some("abc")
        );
        assert_eq!(subscription_of("/subscriptions/"), None);
        assert_eq!(subscription_of("subscriptions/abc"), None);
    }

    #[test]
    fn nic_of_tap_configuration_strips_the_child() {
        assert_eq!(
            nic_of_tap_configuration(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n1/TapConfigurations/c"
            ),
            Some("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n1")
        );
        assert_eq!(nic_of_tap_configuration("/subscriptions/s/x"), None);
    }
}
