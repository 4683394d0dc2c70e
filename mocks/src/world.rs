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
