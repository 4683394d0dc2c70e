//! The declarative world a mock cloud serves: the estate (accounts, regions, mirroring
//! resources) and the faults to inject per scope. Worlds are TOML files under `mocks/worlds/`;
//! unknown keys are rejected so a typo in a test world fails loudly instead of silently
//! describing a different estate.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Everything one mock cloud serves.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub aws: AwsWorld,
    #[serde(default)]
    pub azure: AzureWorld,
    #[serde(default)]
    pub gcp: GcpWorld,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Items per page when the client asks for more. Small by default so that every test
    /// exercises pagination.
    #[serde(default = "default_page_size")]
    pub page_size: usize,
}

fn default_page_size() -> usize {
    2
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            page_size: default_page_size(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsWorld {
    #[serde(default)]
    pub accounts: Vec<AwsAccount>,
    #[serde(default)]
    pub sessions: Vec<AwsSession>,
    #[serde(default)]
    pub targets: Vec<AwsTarget>,
    #[serde(default)]
    pub filters: Vec<AwsFilter>,
    #[serde(default)]
    pub faults: Vec<Fault>,
}

/// An AWS account. Requests are attributed to an account by the access key id in their SigV4
/// credential scope; an account without `access_key` answers to any key no other account claims.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsAccount {
    pub id: String,
    #[serde(default)]
    pub access_key: Option<String>,
    /// The caller ARN GetCallerIdentity returns (default: the account's root-like user).
    #[serde(default)]
    pub arn: Option<String>,
    /// Regions enabled for the account (opt-in not required, or opted in).
    pub regions: Vec<String>,
    /// Opt-in regions the account has not enabled: listed by DescribeRegions with
    /// `optInStatus = not-opted-in`, and every call to them fails with AuthFailure.
    #[serde(default)]
    pub not_opted_in: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSession {
    pub account: String,
    pub region: String,
    pub id: String,
    pub target: String,
    pub filter: String,
    /// The mirrored network interface.
    pub source: String,
    #[serde(default = "default_session_number")]
    pub session_number: i32,
    #[serde(default)]
    pub vni: Option<i32>,
    #[serde(default)]
    pub packet_length: Option<i32>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_session_number() -> i32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsTarget {
    pub account: String,
    pub region: String,
    pub id: String,
    /// `network-interface`, `network-load-balancer` or `gateway-load-balancer-endpoint`.
    #[serde(rename = "type")]
    pub target_type: String,
    /// The receiving resource: an `eni-…`, an NLB ARN, or a `vpce-…`.
    pub resource: String,
    /// The owning account when the target is shared from another account.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsFilter {
    pub account: String,
    pub region: String,
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub network_services: Vec<String>,
    #[serde(default)]
    pub rules: Vec<AwsFilterRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsFilterRule {
    /// `ingress` or `egress`.
    pub direction: String,
    pub number: i32,
    /// `accept` or `reject`.
    pub action: String,
    #[serde(default)]
    pub protocol: Option<i32>,
    pub source_cidr: String,
    pub destination_cidr: String,
    #[serde(default)]
    pub source_ports: Option<[i32; 2]>,
    #[serde(default)]
    pub destination_ports: Option<[i32; 2]>,
}

/// Azure Resource Manager and the Microsoft identity platform's token endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureWorld {
    /// The tenant the token endpoint issues tokens for (`POST /{tenant}/oauth2/v2.0/token`).
    #[serde(default = "default_azure_tenant")]
    pub tenant: String,
    /// Service principals the token endpoint accepts; empty accepts any client id and secret
    /// (the object id is then derived from the client id).
    #[serde(default)]
    pub clients: Vec<AzureClient>,
    #[serde(default)]
    pub subscriptions: Vec<AzureSubscription>,
    #[serde(default)]
    pub taps: Vec<AzureTap>,
    #[serde(default)]
    pub nics: Vec<AzureNic>,
    /// `account` is the subscription id; `action` is `subscriptions`, `virtualNetworkTaps`,
    /// `networkInterfaces` or `token`; `region` is ignored.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

fn default_azure_tenant() -> String {
    "72f988bf-86f1-41af-91ab-2d7cd011db47".to_string()
}

impl Default for AzureWorld {
    fn default() -> Self {
        AzureWorld {
            tenant: default_azure_tenant(),
            clients: Vec::new(),
            subscriptions: Vec::new(),
            taps: Vec::new(),
            nics: Vec::new(),
            faults: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureClient {
    pub client_id: String,
    pub client_secret: String,
    /// The service principal's object id, carried as `oid` in the issued token.
    pub object_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSubscription {
    /// The subscription GUID.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`.
    #[serde(default = "default_subscription_state")]
    pub state: String,
}

fn default_subscription_state() -> String {
    "Enabled".to_string()
}

/// A virtual network TAP. Exactly one destination is expected; a world may give none or both to
/// exercise how the scanner copes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureTap {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    /// Full resource id of the destination NIC IP configuration
    /// (`/subscriptions/…/networkInterfaces/NIC/ipConfigurations/CFG`).
    #[serde(default)]
    pub destination_ip_configuration: Option<String>,
    /// Full resource id of the destination load-balancer frontend IP configuration.
    #[serde(default)]
    pub destination_frontend: Option<String>,
    #[serde(default)]
    pub destination_port: Option<i64>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl AzureTap {
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworkTaps/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

/// A network interface; `taps` lists the vTAP resource ids its tapConfigurations point at (in
/// any subscription, in any letter case).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureNic {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub taps: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl AzureNic {
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkInterfaces/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

/// GCP Compute Engine and the OAuth token endpoint of the credentials files tests use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpWorld {
    #[serde(default)]
    pub projects: Vec<GcpProject>,
    #[serde(default)]
    pub mirrorings: Vec<GcpMirroring>,
    #[serde(default)]
    pub firewall_policies: Vec<GcpFirewallPolicy>,
    /// `account` is the project id; `action` is `packetMirrorings.aggregatedList`,
    /// `networkFirewallPolicies.aggregatedList` or `token`; `region` is ignored.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpProject {
    pub id: String,
    /// Regions aggregatedList reports for the project (each with its mirrorings, or a
    /// `NO_RESULTS_ON_PAGE` warning when it has none).
    pub regions: Vec<String>,
    /// Regions whose scope carries an `UNREACHABLE` warning instead of results.
    #[serde(default)]
    pub unreachable: Vec<String>,
    /// The Compute Engine API is not enabled in the project: every Compute call answers 403
    /// with `SERVICE_DISABLED` in its error details.
    #[serde(default)]
    pub compute_api_disabled: bool,
}

/// A packet mirroring policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpMirroring {
    pub project: String,
    pub region: String,
    pub name: String,
    pub id: u64,
    /// The VPC network name (in the same project).
    pub network: String,
    /// The collector internal load balancer's forwarding rule: a bare name (same project and
    /// region) or a full URL / `projects/…` path (another project).
    pub collector: String,
    #[serde(default)]
    pub subnetworks: Vec<String>,
    #[serde(default)]
    pub instances: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub protocols: Vec<String>,
    #[serde(default)]
    pub cidrs: Vec<String>,
    /// `BOTH`, `INGRESS` or `EGRESS`.
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default = "default_true")]
    pub enable: bool,
    #[serde(default = "default_priority")]
    pub priority: u32,
    #[serde(default)]
    pub description: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_priority() -> u32 {
    1000
}

/// A network firewall policy (global when `region` is absent) with packet-mirroring rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpFirewallPolicy {
    pub project: String,
    #[serde(default)]
    pub region: Option<String>,
    pub name: String,
    pub id: u64,
    /// Networks (names in the same project) the policy is associated with.
    #[serde(default)]
    pub networks: Vec<String>,
    #[serde(default)]
    pub mirroring_rules: Vec<GcpMirroringRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpMirroringRule {
    pub priority: i32,
    /// `mirror`, `do_not_mirror` or `goto_next`.
    pub action: String,
    /// `INGRESS` or `EGRESS`.
    #[serde(default = "default_rule_direction")]
    pub direction: String,
    /// Where `mirror` sends copies: a security profile group URL.
    #[serde(default)]
    pub security_profile_group: Option<String>,
    #[serde(default)]
    pub src_ip_ranges: Vec<String>,
    #[serde(default)]
    pub dest_ip_ranges: Vec<String>,
    /// Layer-4 protocols (`tcp`, `udp`, `all`, …).
    #[serde(default)]
    pub protocols: Vec<String>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub rule_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

fn default_rule_direction() -> String {
    "INGRESS".to_string()
}

/// A fault injected into every request that matches `account`, `region` and `action` (each
/// absent field matches anything).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    pub kind: FaultKind,
    /// For `throttled` and `failing`: how many matching requests fail before the fault clears
    /// (`failing` without `times` fails forever).
    #[serde(default)]
    pub times: Option<u32>,
    /// For `slow`: the delay added to each matching request.
    #[serde(default)]
    pub ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The provider's access-denied error.
    Denied,
    /// The provider's throttling signal `times` times, then success.
    Throttled,
    /// HTTP 500 with the provider's internal-error body.
    Failing,
    /// A delay of `ms` before an otherwise normal answer.
    Slow,
    /// HTTP 200 with a body that does not parse.
    Malformed,
    /// No answer at all; the connection stays open.
    Hang,
    /// Every page returns the same continuation token.
    TokenLoop,
}

impl Fault {
    pub fn matches(&self, account: &str, region: &str, action: &str) -> bool {
        self.account.as_deref().is_none_or(|a| a == account)
            && self.region.as_deref().is_none_or(|r| r == region)
            && self.action.as_deref().is_none_or(|a| a == action)
    }
}

impl World {
    /// Parses a world file's text; the error names the line and key that failed.
    pub fn from_toml(text: &str) -> Result<World, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
