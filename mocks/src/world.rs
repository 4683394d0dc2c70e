//! The declarative world a mock cloud serves: the estate (accounts, regions, mirroring
//! resources), the audit-log events the live audit APIs return, and the faults to inject per
//! scope. Worlds are TOML files under `mocks/worlds/`; unknown keys are rejected so a typo in a
//! test world fails loudly instead of silently describing a different estate.
//!
//! ```toml
//! [settings]
//! page_size = 2           # items per page (every listing pages)
//! cloudtrail_rate = 2.0   # LookupEvents requests/s per account and region; 0 = no limit
//!
//! [[aws.sessions]]        # … inventory, see the structs below; sessions, taps and
//! created_at = "2026-12-03T09:00:00Z"   # mirrorings may carry creation metadata: with both
//! created_by = "arn:aws:iam::111122223333:role/NetOpsAdmin"   # keys set, a create event
//!
//! [[aws.events]]          # CloudTrail (LookupEvents), see [`AwsEvent`]
//! [[azure.events]]        # Activity Log, see [`AzureEvent`]
//! [[gcp.events]]          # Cloud Audit Logs Admin Activity (entries.list), see [`GcpEvent`]
//! ```
//!
//! An AWS organisation (AWS Organizations ListAccounts, STS AssumeRole into member accounts):
//!
//! ```toml
//! [aws.organization]
//! id = "o-a1b2c3d4e5"
//! management_account = "111122223333"   # the only account that may call ListAccounts
//!
//! [[aws.accounts]]
//! id = "444455556666"
//! regions = ["us-east-1"]
//! name = "prod"                         # ListAccounts' Name (default "account-ID")
//! email = "prod@example.com"            # default "aws+ID@example.com"
//! status = "ACTIVE"                     # or SUSPENDED (AssumeRole refused), PENDING_CLOSURE
//! outside_organization = false          # true: exists, but ListAccounts does not list it
//! roles = [{ name = "MirrorguardReadOnly", trusted = ["111122223333"], external_id = "x" }]
//! ```
//!
//! A GCP resource hierarchy (Resource Manager v3 `projects:search` and `folders:search`):
//!
//! ```toml
//! [gcp.organization]
//! id = "123456789012"                   # digits
//!
//! [[gcp.folders]]
//! id = "111"                            # digits, unique
//! display_name = "prod"
//! parent = "organizations/123456789012" # the organisation or another of gcp.folders
//! state = "ACTIVE"                      # default; or DELETE_REQUESTED
//!
//! [[gcp.projects]]
//! id = "acme-prod"
//! regions = ["us-central1"]
//! parent = "folders/111"                # default organizations/<gcp.organization.id>, or
//!                                       # none without an organisation; another
//!                                       # organizations/N is a project from outside
//! number = 415104041262                 # default derived from id, stable across runs
//! state = "DELETE_REQUESTED"            # default ACTIVE
//! display_name = "Acme prod"            # default the project id
//! ```
//!
//! [`World::synthetic`] builds large organisations with a deterministic fault mix for
//! benchmarks and fault tests (see [`crate::synthetic`]).
//!
//! Timestamps are RFC 3339 with an offset, quoted or as bare TOML offset date-times.
//!
//! Faults name the API call as `action`: EC2/STS Query actions (`AssumeRole` matches the
//! *target* account), `LookupEvents` and `ListAccounts` under `[[aws.faults]]`; `subscriptions`, `virtualNetworkTaps`, `networkInterfaces`, `activityLogs`
//! and `token` under `[[azure.faults]]`; `packetMirrorings.aggregatedList`,
//! `networkFirewallPolicies.aggregatedList`, `entries.list`, `projects.search`,
//! `folders.search` and `token` under `[[gcp.faults]]`.
//! A fault without `action` applies to every call of its scope, the audit APIs included.
//! [`World::aws_events`], [`World::azure_events`] and [`World::gcp_events`] give the events the
//! mock serves: the explicit ones, then those generated from creation metadata.

use crate::wire::guid;
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

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
    /// CloudTrail LookupEvents' own limit: requests per second per account and region, a token
    /// bucket holding 2 (the small burst the real service tolerates). Requests that find it
    /// empty get `ThrottlingException`. 0 disables the limiter.
    #[serde(default = "default_cloudtrail_rate")]
    pub cloudtrail_rate: f64,
}

fn default_page_size() -> usize {
    2
}

fn default_cloudtrail_rate() -> f64 {
    2.0
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            page_size: default_page_size(),
            cloudtrail_rate: default_cloudtrail_rate(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsWorld {
    /// The AWS Organizations organisation the accounts belong to; without it, ListAccounts
    /// answers `AWSOrganizationsNotInUseException` (AssumeRole works regardless).
    #[serde(default)]
    pub organization: Option<AwsOrganization>,
    #[serde(default)]
    pub accounts: Vec<AwsAccount>,
    #[serde(default)]
    pub sessions: Vec<AwsSession>,
    #[serde(default)]
    pub targets: Vec<AwsTarget>,
    #[serde(default)]
    pub filters: Vec<AwsFilter>,
    /// CloudTrail management events, served by LookupEvents.
    #[serde(default)]
    pub events: Vec<AwsEvent>,
    /// `action` is the Query API action (`DescribeTrafficMirrorSessions`, …,
    /// `GetCallerIdentity`, `AssumeRole`), `LookupEvents` (CloudTrail) or `ListAccounts`
    /// (Organizations); `region` is the SigV4 region; `account` is the caller's account, except
    /// for `AssumeRole`, where it is the account whose role is assumed.
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
    /// The account's name in the organisation (ListAccounts `Name`; default `account-ID`).
    #[serde(default)]
    pub name: Option<String>,
    /// The root user's e-mail address (ListAccounts `Email`; default `aws+ID@example.com`).
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub status: AccountStatus,
    /// The account exists (its own credentials and roles work) but is not a member of the
    /// organisation: ListAccounts does not list it, and it may not call ListAccounts.
    #[serde(default)]
    pub outside_organization: bool,
    /// Roles that STS AssumeRole can assume in this account.
    #[serde(default)]
    pub roles: Vec<AwsRole>,
}

impl AwsAccount {
    /// An account with only the keys every world file gives; the rest at their defaults.
    pub fn new(id: impl Into<String>, regions: Vec<String>) -> AwsAccount {
        AwsAccount {
            id: id.into(),
            access_key: None,
            arn: None,
            regions,
            not_opted_in: Vec::new(),
            name: None,
            email: None,
            status: AccountStatus::default(),
            outside_organization: false,
            roles: Vec::new(),
        }
    }
}

/// `[aws.organization]`: the organisation ListAccounts describes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsOrganization {
    /// `o-` and 10 to 32 lower-case letters or digits, as AWS Organizations spells ids.
    pub id: String,
    /// The management account: one of `aws.accounts`, and the only caller ListAccounts serves.
    pub management_account: String,
}

/// An account's state as AWS Organizations reports it (`Status` and `State`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    #[default]
    Active,
    /// Closed (or suspended by AWS): listed, but no role in it can be assumed.
    Suspended,
    /// Closing: listed and still reachable.
    PendingClosure,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Suspended => "SUSPENDED",
            AccountStatus::PendingClosure => "PENDING_CLOSURE",
        }
    }
}

/// An IAM role STS AssumeRole can assume: `arn:aws:iam::ACCOUNT:role/NAME` (a path in the
/// requested ARN is ignored: the role is found by its name).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsRole {
    pub name: String,
    /// The account ids whose callers the trust policy admits; an empty list admits nobody.
    pub trusted: Vec<String>,
    /// The `sts:ExternalId` condition of the trust policy: a caller must send exactly this.
    #[serde(default)]
    pub external_id: Option<String>,
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
    /// When the session was created; with `created_by`, CloudTrail holds a successful
    /// CreateTrafficMirrorSession naming this session's target, source and filter.
    #[serde(default, deserialize_with = "rfc3339_opt")]
    pub created_at: Option<OffsetDateTime>,
    /// The creating principal's ARN (a role ARN renders as an assumed-role session).
    #[serde(default)]
    pub created_by: Option<String>,
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

/// One CloudTrail management event in an account and region, rendered as the full CloudTrail
/// record (inside LookupEvents' `CloudTrailEvent` string) in the shape the traffic-mirroring
/// writes have in real trails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsEvent {
    pub account: String,
    pub region: String,
    /// `eventTime` (CloudTrail keeps whole seconds; a fraction is dropped).
    #[serde(deserialize_with = "rfc3339")]
    pub time: OffsetDateTime,
    /// `eventName`: one of the 11 traffic-mirror writes (rendered with their own request and
    /// response shapes) or anything else (`Describe*`, `Get*`, `List*` are read-only).
    pub name: String,
    /// Who called: a role ARN (`arn:aws:iam::A:role/PATH/NAME`) renders an `AssumedRole`
    /// identity whose session issuer is that role; a user ARN (`…:user/NAME`) an `IAMUser`;
    /// `…:root` a `Root`; a bare service name (`cloudformation.amazonaws.com`) an `AWSService`.
    pub actor: String,
    /// The assumed-role session name (default `mock-session`).
    #[serde(default)]
    pub session: Option<String>,
    /// The resource the call created, modified or deleted (`tms-…`, `tmt-…`, `tmf-…`,
    /// `tmfr-…`).
    #[serde(default)]
    pub resource: Option<String>,
    /// `TrafficMirrorTargetId` in the request (session calls).
    #[serde(default)]
    pub target: Option<String>,
    /// `NetworkInterfaceId` in the request: a session's source, or a network-interface target's
    /// destination (a `vpce-…` is a Gateway Load Balancer endpoint target).
    #[serde(default)]
    pub source: Option<String>,
    /// `TrafficMirrorFilterId` in the request.
    #[serde(default)]
    pub filter: Option<String>,
    /// `NetworkLoadBalancerArn` in the request (CreateTrafficMirrorTarget).
    #[serde(default)]
    pub load_balancer: Option<String>,
    /// A refused call: `errorCode` (`Client.UnauthorizedOperation`, `Client.DryRunOperation`
    /// for a dry run, …), with `errorMessage` and no `responseElements`.
    #[serde(default)]
    pub error_code: Option<String>,
    /// `errorMessage` (default: the message EC2 gives for the usual codes).
    #[serde(default)]
    pub error_message: Option<String>,
    /// `sourceIPAddress` (default `198.51.100.7`).
    #[serde(default)]
    pub source_ip: Option<String>,
    /// `eventID` (default: a GUID derived from the other fields, so it is stable per world;
    /// [`World::aws_events`] fills it in).
    #[serde(default)]
    pub id: Option<String>,
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
    /// Activity Log operations, served by `eventtypes/management/values`.
    #[serde(default)]
    pub events: Vec<AzureEvent>,
    /// `account` is the subscription id; `action` is `subscriptions`, `virtualNetworkTaps`,
    /// `networkInterfaces`, `activityLogs` or `token`; `region` is ignored.
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
            events: Vec::new(),
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
    /// The subscription's home tenant when it is not the world's (a subscription of another
    /// organisation the identity can see, as through Azure Lighthouse).
    #[serde(default)]
    pub tenant: Option<String>,
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
    /// When the vTAP was created; with `created_by`, the Activity Log holds its
    /// `Microsoft.Network/virtualNetworkTaps/write` (Started and Succeeded/Created).
    #[serde(default, deserialize_with = "rfc3339_opt")]
    pub created_at: Option<OffsetDateTime>,
    /// The creating caller: a UPN, or a service principal's object id.
    #[serde(default)]
    pub created_by: Option<String>,
}

impl AzureTap {
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworkTaps/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

/// One Activity Log operation, rendered as the two REST `EventData` records ARM writes for it:
/// `Started` one second before `time`, and the final `Succeeded` or `Failed` at `time`, sharing
/// `correlationId` and `operationId`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureEvent {
    pub subscription: String,
    #[serde(deserialize_with = "rfc3339")]
    pub time: OffsetDateTime,
    /// `operationName`, kept as written (any case), e.g.
    /// `Microsoft.Network/virtualNetworkTaps/write`; its provider namespace (before the first
    /// `/`) is what `resourceProvider eq` filters on.
    pub operation: String,
    /// `resourceId`: the full ARM id of the resource operated on.
    pub resource: String,
    /// `caller`: a UPN, or a service principal's object id.
    pub caller: String,
    /// The `objectidentifier` claim (default: a GUID derived from `caller`, or `caller` itself
    /// when it is a GUID).
    #[serde(default)]
    pub object_id: Option<String>,
    /// `Succeeded` (default) or `Failed` (a 403, `AuthorizationFailed`).
    #[serde(default = "default_event_status")]
    pub status: String,
    /// The write updated an existing resource: 200 `OK` instead of 201 `Created`.
    #[serde(default)]
    pub updated: bool,
    /// `httpRequest.clientIpAddress` (default `198.51.100.7`).
    #[serde(default)]
    pub source_ip: Option<String>,
}

fn default_event_status() -> String {
    "Succeeded".to_string()
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

/// GCP Compute Engine, Resource Manager, Cloud Logging and the OAuth token endpoint of the
/// credentials files tests use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpWorld {
    /// The organisation at the top of the resource hierarchy Resource Manager search shows;
    /// without it, projects have no parent unless they name one, and folders cannot exist.
    #[serde(default)]
    pub organization: Option<GcpOrganization>,
    /// Folders under the organisation (or under each other), served by `folders:search`.
    #[serde(default)]
    pub folders: Vec<GcpFolder>,
    #[serde(default)]
    pub projects: Vec<GcpProject>,
    #[serde(default)]
    pub mirrorings: Vec<GcpMirroring>,
    #[serde(default)]
    pub firewall_policies: Vec<GcpFirewallPolicy>,
    /// Admin Activity audit-log calls, served by Cloud Logging `entries:list`.
    #[serde(default)]
    pub events: Vec<GcpEvent>,
    /// `account` is the project id; `action` is `packetMirrorings.aggregatedList`,
    /// `networkFirewallPolicies.aggregatedList`, `entries.list` (Cloud Logging),
    /// `projects.search`, `folders.search` (Resource Manager) or `token`; `region` is ignored.
    /// The search calls and `token` belong to no project: only faults naming their action
    /// apply to them, whatever their `account`.
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
    /// The project's parent in the resource hierarchy: `organizations/N` (any organisation:
    /// another one models a project shared from outside, still visible to search) or
    /// `folders/N` (one of `gcp.folders`). Default: `organizations/<gcp.organization.id>`
    /// when an organisation is defined, otherwise no parent.
    #[serde(default)]
    pub parent: Option<String>,
    /// The project number (`projects/<number>`; also what Compute's `canonicalUrl`s name).
    /// Default: a 12-digit number derived from `id`, the same on every run.
    #[serde(default)]
    pub number: Option<u64>,
    /// The lifecycle state Resource Manager reports.
    #[serde(default)]
    pub state: GcpState,
    /// `displayName` (default: the project id).
    #[serde(default)]
    pub display_name: Option<String>,
}

impl GcpProject {
    /// The project number: `number`, or the one derived from the id.
    pub fn number(&self) -> u64 {
        self.number
            .unwrap_or_else(|| derived_project_number(&self.id))
    }
}

/// The number a project without `number` has: 12 digits derived from its id, stable across
/// runs (FNV-1a).
pub(crate) fn derived_project_number(id: &str) -> u64 {
    100_000_000_000 + crate::wire::fnv64(0, id.as_bytes()) % 900_000_000_000
}

/// `[gcp.organization]`: the organisation node of the resource hierarchy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpOrganization {
    /// The organisation's numeric id (`organizations/<id>`): digits only.
    pub id: String,
}

/// `[[gcp.folders]]`: a folder, served by Resource Manager `folders:search`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpFolder {
    /// The folder's numeric id (`folders/<id>`): digits only, unique.
    pub id: String,
    pub display_name: String,
    /// `organizations/<gcp.organization.id>` or `folders/N` of another of `gcp.folders`
    /// (without cycles).
    pub parent: String,
    #[serde(default)]
    pub state: GcpState,
}

/// A resource-hierarchy parent reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GcpParent<'a> {
    Organization(&'a str),
    Folder(&'a str),
}

/// `organizations/N` or `folders/N` with a numeric N; `None` for anything else.
pub(crate) fn parse_gcp_parent(text: &str) -> Option<GcpParent<'_>> {
    let numeric = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    if let Some(id) = text.strip_prefix("organizations/").filter(|id| numeric(id)) {
        Some(GcpParent::Organization(id))
    } else {
        text.strip_prefix("folders/")
            .filter(|id| numeric(id))
            .map(GcpParent::Folder)
    }
}

/// A project's or folder's lifecycle state (`Project.State`, `Folder.State`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GcpState {
    #[default]
    Active,
    /// Marked for deletion (recoverable for 30 days); still listed by search.
    DeleteRequested,
}

impl GcpState {
    pub fn as_str(self) -> &'static str {
        match self {
            GcpState::Active => "ACTIVE",
            GcpState::DeleteRequested => "DELETE_REQUESTED",
        }
    }

    /// The proto enum number (`enum-encoding=int`): `STATE_UNSPECIFIED` is 0.
    pub fn number(self) -> u32 {
        match self {
            GcpState::Active => 1,
            GcpState::DeleteRequested => 2,
        }
    }
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
    /// `creationTimestamp`; with `created_by`, the Admin Activity log holds its
    /// `v1.compute.packetMirrorings.insert` (first and last entry) naming the collector.
    #[serde(default, deserialize_with = "rfc3339_opt")]
    pub created_at: Option<OffsetDateTime>,
    /// The creating principal's e-mail address.
    #[serde(default)]
    pub created_by: Option<String>,
}

/// One Admin Activity audit-log call, rendered as Cloud Audit Logs `LogEntry`s: a successful
/// call is a long-running operation logged twice (its first entry at `time` with the request,
/// its last 5 seconds later), a failed one a single entry with `status` and severity ERROR.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpEvent {
    pub project: String,
    #[serde(deserialize_with = "rfc3339")]
    pub time: OffsetDateTime,
    /// `protoPayload.methodName` exactly as given (`v1.compute.packetMirrorings.insert`,
    /// `beta.compute.networkFirewallPolicies.addPacketMirroringRule`, …).
    pub method: String,
    /// `protoPayload.resourceName` (`projects/P/regions/R/packetMirrorings/NAME`).
    pub resource: String,
    /// `authenticationInfo.principalEmail`.
    pub principal: String,
    /// The request's `collectorIlb.url` (insert and patch): a `projects/…` path, a full URL or
    /// a forwarding-rule name in the resource's project and region.
    #[serde(default)]
    pub collector: Option<String>,
    /// A failed call: a `google.rpc.Code` name (`PERMISSION_DENIED`, …) or number.
    #[serde(default)]
    pub error: Option<String>,
    /// `requestMetadata.callerIp` (default `198.51.100.7`).
    #[serde(default)]
    pub source_ip: Option<String>,
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

/// `google.rpc.Code` names, indexed by code.
pub(crate) const RPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

impl GcpEvent {
    /// The `google.rpc.Code` of `error`, if the call failed and the code is known.
    pub fn error_code(&self) -> Option<u32> {
        let error = self.error.as_deref()?.trim();
        RPC_CODES
            .iter()
            .position(|name| name.eq_ignore_ascii_case(error))
            .map(|n| n as u32)
            .or_else(|| error.parse().ok().filter(|&n: &u32| n < 17))
    }
}

/// The default source IP of every audit event (a documentation address).
pub const DEFAULT_SOURCE_IP: &str = "198.51.100.7";

/// The keys derived ids are made from, with a repeated key numbered so identical events keep
/// distinct ids (mirrorguard de-duplicates on event ids, as it must for real double deliveries).
pub(crate) fn distinct_keys(keys: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    keys.into_iter()
        .map(|key| {
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                key
            } else {
                format!("{key}#{n}")
            }
        })
        .collect()
}

impl World {
    /// Parses a world file's text; the error names the line and key that failed.
    pub fn from_toml(text: &str) -> Result<World, String> {
        let world: World = toml::from_str(text).map_err(|e| e.to_string())?;
        world.validate()?;
        Ok(world)
    }

    /// Checks what the types cannot: enumerated strings of the audit events.
    fn validate(&self) -> Result<(), String> {
        for (n, event) in self.azure.events.iter().enumerate() {
            if !["Succeeded", "Failed"].contains(&event.status.as_str()) {
                return Err(format!(
                    "azure.events[{n}]: status must be \"Succeeded\" or \"Failed\", not {:?}",
                    event.status
                ));
            }
        }
        for (n, event) in self.gcp.events.iter().enumerate() {
            if event.error.is_some() && event.error_code().is_none_or(|c| c == 0) {
                return Err(format!(
                    "gcp.events[{n}]: error {:?} is not a failing google.rpc.Code name or number",
                    event.error.as_deref().unwrap_or_default()
                ));
            }
        }
        if !(self.settings.cloudtrail_rate >= 0.0 && self.settings.cloudtrail_rate.is_finite()) {
            return Err("settings.cloudtrail_rate must be a finite number >= 0".to_string());
        }
        if let Some(org) = &self.aws.organization {
            let id_ok = org.id.strip_prefix("o-").is_some_and(|rest| {
                (10..=32).contains(&rest.len())
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            if !id_ok {
                return Err(format!(
                    "aws.organization.id {:?} is not an organisation id (o- and 10 to 32 lower-case letters or digits)",
                    org.id
                ));
            }
            match self
                .aws
                .accounts
                .iter()
                .find(|a| a.id == org.management_account)
            {
                None => {
                    return Err(format!(
                        "aws.organization.management_account {:?} is not one of aws.accounts",
                        org.management_account
                    ))
                }
                Some(a) if a.outside_organization => {
                    return Err(format!(
                        "aws.organization.management_account {:?} cannot be outside_organization",
                        org.management_account
                    ))
                }
                Some(_) => {}
            }
        }
        for account in &self.aws.accounts {
            for (n, role) in account.roles.iter().enumerate() {
                if role.name.is_empty() || role.name.contains(['/', ':']) {
                    return Err(format!(
                        "aws.accounts {:?} roles[{n}]: name {:?} must be a bare role name",
                        account.id, role.name
                    ));
                }
            }
        }
        self.validate_gcp_hierarchy()
    }

    /// The GCP resource hierarchy: numeric ids, parents that exist (a folder's in this
    /// organisation, a project's folder among `gcp.folders`), no folder cycles, distinct
    /// project numbers.
    fn validate_gcp_hierarchy(&self) -> Result<(), String> {
        let gcp = &self.gcp;
        let numeric = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let org = gcp.organization.as_ref().map(|o| o.id.as_str());
        if let Some(id) = org.filter(|id| !numeric(id)) {
            return Err(format!(
                "gcp.organization.id {id:?} is not an organization id (digits only)"
            ));
        }
        let mut folders: HashMap<&str, &GcpFolder> = HashMap::new();
        for (n, folder) in gcp.folders.iter().enumerate() {
            if !numeric(&folder.id) {
                return Err(format!(
                    "gcp.folders[{n}]: id {:?} is not a folder id (digits only)",
                    folder.id
                ));
            }
            if folders.insert(&folder.id, folder).is_some() {
                return Err(format!(
                    "gcp.folders[{n}]: id {:?} is defined twice",
                    folder.id
                ));
            }
        }
        for (n, folder) in gcp.folders.iter().enumerate() {
            let known = match parse_gcp_parent(&folder.parent) {
                Some(GcpParent::Organization(id)) => org == Some(id),
                Some(GcpParent::Folder(id)) => folders.contains_key(id),
                None => {
                    return Err(format!(
                        "gcp.folders[{n}] {:?}: parent {:?} is not organizations/N or folders/N",
                        folder.id, folder.parent
                    ))
                }
            };
            if !known {
                return Err(format!(
                    "gcp.folders[{n}] {:?}: parent {:?} is neither gcp.organization nor one of gcp.folders",
                    folder.id, folder.parent
                ));
            }
        }
        for (n, folder) in gcp.folders.iter().enumerate() {
            // Every parent is known by now, so every chain of folders must end at the organisation within as many steps as
            // there are folders.
            let mut at = folder;
            for _ in 0..=gcp.folders.len() {
                match parse_gcp_parent(&at.parent) {
                    Some(GcpParent::Folder(id)) => at = folders[id],
                    _ => break,
                }
            }
            if matches!(parse_gcp_parent(&at.parent), Some(GcpParent::Folder(_))) {
                return Err(format!(
                    "gcp.folders[{n}] {:?}: its parents form a cycle",
                    folder.id
                ));
            }
        }
        let mut numbers: HashMap<u64, &str> = HashMap::new();
        for (n, project) in gcp.projects.iter().enumerate() {
            if let Some(parent) = &project.parent {
                let known = match parse_gcp_parent(parent) {
                    // Another organisation's project is allowed: search still shows it.
                    Some(GcpParent::Organization(_)) => true,
                    Some(GcpParent::Folder(id)) => folders.contains_key(id),
                    None => {
                        return Err(format!(
                            "gcp.projects[{n}] {:?}: parent {parent:?} is not organizations/N or folders/N",
                            project.id
                        ))
                    }
                };
                if !known {
                    return Err(format!(
                        "gcp.projects[{n}] {:?}: parent {parent:?} is not one of gcp.folders",
                        project.id
                    ));
                }
            }
            let number = project.number();
            if number == 0 {
                return Err(format!(
                    "gcp.projects[{n}] {:?}: number must be positive",
                    project.id
                ));
            }
            match numbers.insert(number, &project.id) {
                Some(other) if other != project.id => {
                    return Err(format!(
                        "gcp.projects[{n}] {:?}: number {number} is also project {other:?}'s",
                        project.id
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A project's parent as Resource Manager reports it: its own `parent`, else the
    /// organisation's, else none.
    pub fn gcp_project_parent(&self, project: &GcpProject) -> Option<String> {
        project.parent.clone().or_else(|| {
            self.gcp
                .organization
                .as_ref()
                .map(|org| format!("organizations/{}", org.id))
        })
    }

    /// The number of the project with id `id`: the world's, or the derived one for a project
    /// the world does not hold (a collector's project elsewhere).
    pub fn gcp_project_number(&self, id: &str) -> u64 {
        self.gcp
            .projects
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| derived_project_number(id), GcpProject::number)
    }

    /// Every CloudTrail event the mock holds: `aws.events`, then a CreateTrafficMirrorSession
    /// per session with `created_at` and `created_by`; each with its `id` filled in.
    pub fn aws_events(&self) -> Vec<AwsEvent> {
        let generated = self.aws.sessions.iter().filter_map(|s| {
            Some(AwsEvent {
                account: s.account.clone(),
                region: s.region.clone(),
                time: s.created_at?,
                name: "CreateTrafficMirrorSession".to_string(),
                actor: s.created_by.clone()?,
                session: None,
                resource: Some(s.id.clone()),
                target: Some(s.target.clone()),
                source: Some(s.source.clone()),
                filter: Some(s.filter.clone()),
                load_balancer: None,
                error_code: None,
                error_message: None,
                source_ip: None,
                id: None,
            })
        });
        let mut events: Vec<AwsEvent> = self.aws.events.iter().cloned().chain(generated).collect();
        let keys = distinct_keys(events.iter().map(|e| {
            format!(
                "cloudtrail/{}/{}/{}/{}/{}/{:?}/{:?}/{:?}/{:?}/{:?}/{:?}/{:?}",
                e.account,
                e.region,
                e.time.unix_timestamp(),
                e.name,
                e.actor,
                e.session,
                e.resource,
                e.target,
                e.source,
                e.filter,
                e.load_balancer,
                e.error_code
            )
        }));
        for (event, key) in events.iter_mut().zip(keys) {
            if event.id.is_none() {
                event.id = Some(guid(&key));
            }
        }
        events
    }

    /// Every Activity Log operation the mock holds: `azure.events`, then a successful
    /// `virtualNetworkTaps/write` per vTAP with `created_at` and `created_by`.
    pub fn azure_events(&self) -> Vec<AzureEvent> {
        let generated = self.azure.taps.iter().filter_map(|t| {
            Some(AzureEvent {
                subscription: t.subscription.clone(),
                time: t.created_at?,
                operation: "Microsoft.Network/virtualNetworkTaps/write".to_string(),
                resource: t.id(),
                caller: t.created_by.clone()?,
                object_id: None,
                status: default_event_status(),
                updated: false,
                source_ip: None,
            })
        });
        self.azure.events.iter().cloned().chain(generated).collect()
    }

    /// Every Admin Activity call the mock holds: `gcp.events`, then a successful
    /// `v1.compute.packetMirrorings.insert` per mirroring with `created_at` and `created_by`.
    pub fn gcp_events(&self) -> Vec<GcpEvent> {
        let generated = self.gcp.mirrorings.iter().filter_map(|m| {
            Some(GcpEvent {
                project: m.project.clone(),
                time: m.created_at?,
                method: "v1.compute.packetMirrorings.insert".to_string(),
                resource: format!(
                    "projects/{}/regions/{}/packetMirrorings/{}",
                    m.project, m.region, m.name
                ),
                principal: m.created_by.clone()?,
                collector: Some(m.collector.clone()),
                error: None,
                source_ip: None,
            })
        });
        self.gcp.events.iter().cloned().chain(generated).collect()
    }
}

/// An RFC 3339 date-time with an offset, written as a TOML string or a bare TOML offset
/// date-time (both read the same, so either spelling in a world file works).
fn rfc3339<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    use serde::de::Error;
    let text = match toml::Value::deserialize(deserializer)? {
        toml::Value::String(text) => text,
        toml::Value::Datetime(datetime) => datetime.to_string(),
        other => {
            return Err(D::Error::custom(format!(
                "expected an RFC 3339 date-time, found a {}",
                other.type_str()
            )))
        }
    };
    crate::wire::parse_rfc3339(&text).ok_or_else(|| {
        D::Error::custom(format!(
            "{text:?} is not an RFC 3339 date-time with an offset (2026-12-03T09:00:00Z)"
        ))
    })
}

fn rfc3339_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    rfc3339(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_demo_world_parses() {
        let world = World::from_toml(include_str!("../worlds/demo.toml")).expect("demo world");
        assert!(!world.aws_events().is_empty());
    }

    #[test]
    fn creation_metadata_generates_create_events() {
        let world = World::from_toml(
            r#"
[[aws.sessions]]
account = "1"
region = "r"
id = "tms-1"
target = "tmt-1"
filter = "tmf-1"
source = "eni-1"
created_at = 2026-12-03T09:00:00+01:00
created_by = "arn:aws:iam::1:role/Admin"
[[aws.sessions]]
account = "1"
region = "r"
id = "tms-2"
target = "tmt-1"
filter = "tmf-1"
source = "eni-2"
created_at = "2026-12-03T09:00:00Z"
[[aws.events]]
account = "1"
region = "r"
time = "2026-12-03T10:00:00Z"
name = "DeleteTrafficMirrorSession"
actor = "arn:aws:iam::1:role/Admin"
resource = "tms-1"
[[aws.events]]
account = "1"
region = "r"
time = "2026-12-03T10:00:00Z"
name = "DeleteTrafficMirrorSession"
actor = "arn:aws:iam::1:role/Admin"
resource = "tms-1"
[[azure.taps]]
subscription = "s"
resource_group = "rg"
name = "t"
location = "westus"
created_at = "2026-12-03T09:00:00Z"
created_by = "a@b.example"
[[gcp.mirrorings]]
project = "p"
region = "r"
name = "m"
id = 1
network = "n"
collector = "fr"
created_at = "2026-12-03T09:00:00Z"
created_by = "a@b.example"
"#,
        )
        .expect("world parses");
        let aws = world.aws_events();
        // Two explicit events and one generated: tms-2 has no created_by.
        assert_eq!(aws.len(), 3);
        let created = &aws[2];
        assert_eq!(created.name, "CreateTrafficMirrorSession");
        assert_eq!(created.time.unix_timestamp(), 1_796_284_800);
        assert_eq!(
            (created.target.as_deref(), created.source.as_deref()),
            (Some("tmt-1"), Some("eni-1"))
        );
        // Identical events keep distinct ids.
        assert_ne!(aws[0].id, aws[1].id);
        assert_eq!(aws[0].id, world.aws_events()[0].id);

        let azure = world.azure_events();
        assert_eq!(azure.len(), 1);
        assert_eq!(
            azure[0].operation,
            "Microsoft.Network/virtualNetworkTaps/write"
        );
        assert!(azure[0].resource.ends_with("/virtualNetworkTaps/t"));
        let gcp = world.gcp_events();
        assert_eq!(gcp[0].method, "v1.compute.packetMirrorings.insert");
        assert_eq!(gcp[0].resource, "projects/p/regions/r/packetMirrorings/m");
        assert_eq!(gcp[0].collector.as_deref(), Some("fr"));
    }

    #[test]
    fn organisation_keys_parse_with_their_defaults() {
        let world = World::from_toml(
            r#"
[aws.organization]
id = "o-a1b2c3d4e5"
management_account = "111122223333"
[[aws.accounts]]
id = "111122223333"
regions = ["us-east-1"]
[[aws.accounts]]
id = "444455556666"
regions = ["us-east-1"]
name = "prod"
email = "prod@example.com"
status = "PENDING_CLOSURE"
outside_organization = true
roles = [{ name = "MirrorguardReadOnly", trusted = ["111122223333"], external_id = "x" }]
"#,
        )
        .expect("world parses");
        let org = world.aws.organization.as_ref().unwrap();
        assert_eq!(org.management_account, "111122223333");
        let [management, member] = &world.aws.accounts[..] else {
            panic!("two accounts")
        };
        assert_eq!(management.status, AccountStatus::Active);
        assert!(!management.outside_organization && management.roles.is_empty());
        assert_eq!(member.status.as_str(), "PENDING_CLOSURE");
        assert_eq!(member.roles[0].external_id.as_deref(), Some("x"));
        assert_eq!(member.name.as_deref(), Some("prod"));
    }

    #[test]
    fn bad_organisation_keys_are_refused() {
        let account = |extra: &str| {
            format!("[[aws.accounts]]\nid = \"111122223333\"\nregions = []\n{extra}\n")
        };
        let org = |id: &str, management: &str| {
            format!("[aws.organization]\nid = \"{id}\"\nmanagement_account = \"{management}\"\n")
        };
        for (text, needle) in [
            (account("status = \"CLOSED\""), "unknown variant"),
            (
                account("roles = [{ name = \"R\" }]"),
                "missing field `trusted`",
            ),
            (
                account("roles = [{ name = \"R\", trusted = [], path = \"/\" }]"),
                "unknown field",
            ),
            (
                account("roles = [{ name = \"a/R\", trusted = [] }]"),
                "bare role name",
            ),
            (
                org("org-1", "111122223333") + &account(""),
                "organisation id",
            ),
            (
                org("o-a1b2c3d4e5", "999999999999") + &account(""),
                "not one of aws.accounts",
            ),
            (
                org("o-a1b2c3d4e5", "111122223333") + &account("outside_organization = true"),
                "outside_organization",
            ),
            (
                org("o-a1b2c3d4e5", "111122223333") + "region = \"x\"\n",
                "unknown field",
            ),
        ] {
            let error = World::from_toml(&text).expect_err(&text);
            assert!(error.contains(needle), "{needle}: {error}");
        }
    }

    #[test]
    fn gcp_hierarchy_keys_parse_with_their_defaults() {
        let world = World::from_toml(
            r#"
[gcp.organization]
id = "123456789012"
[[gcp.folders]]
id = "111"
display_name = "prod"
parent = "organizations/123456789012"
[[gcp.folders]]
id = "222"
display_name = "eu"
parent = "folders/111"
state = "DELETE_REQUESTED"
[[gcp.projects]]
id = "p"
regions = []
[[gcp.projects]]
id = "q"
regions = []
parent = "folders/222"
number = 42
state = "DELETE_REQUESTED"
"#,
        )
        .expect("world parses");
        let [p, q] = &world.gcp.projects[..] else {
            panic!("two projects")
        };
        assert_eq!(world.gcp.folders[0].state, GcpState::Active);
        assert_eq!(world.gcp.folders[1].state.as_str(), "DELETE_REQUESTED");
        assert_eq!(
            world.gcp_project_parent(p).as_deref(),
            Some("organizations/123456789012")
        );
        assert_eq!(world.gcp_project_parent(q).as_deref(), Some("folders/222"));
        assert_eq!((p.state, q.state.number()), (GcpState::Active, 2));
        // Derived numbers are 12 digits and stable; an explicit one wins everywhere.
        assert_eq!(p.number(), derived_project_number("p"));
        assert_eq!(
            p.number(),
            World::from_toml("[[gcp.projects]]\nid = \"p\"\nregions = []\n")
                .unwrap()
                .gcp
                .projects[0]
                .number()
        );
        assert!((100_000_000_000..1_000_000_000_000).contains(&p.number()));
        assert_eq!(world.gcp_project_number("q"), 42);
        assert_eq!(
            world.gcp_project_number("elsewhere"),
            derived_project_number("elsewhere")
        );
        // Without an organisation a project has no parent.
        let bare = World::from_toml("[[gcp.projects]]\nid = \"p\"\nregions = []\n").unwrap();
        assert_eq!(bare.gcp_project_parent(&bare.gcp.projects[0]), None);
    }

    #[test]
    fn bad_gcp_hierarchy_is_refused() {
        let org = "[gcp.organization]\nid = \"123456789012\"\n";
        let folder = |id: &str, parent: &str| {
            format!("[[gcp.folders]]\nid = \"{id}\"\ndisplay_name = \"f\"\nparent = \"{parent}\"\n")
        };
        let project =
            |extra: &str| format!("[[gcp.projects]]\nid = \"p\"\nregions = []\n{extra}\n");
        for (text, needle) in [
            (
                "[gcp.organization]\nid = \"org-1\"\n".to_string(),
                "digits only",
            ),
            (format!("{org}region = \"x\"\n"), "unknown field"),
            (
                org.to_string() + &folder("1a", "organizations/123456789012"),
                "not a folder id",
            ),
            (
                org.to_string()
                    + &folder("1", "organizations/123456789012")
                    + &folder("1", "organizations/123456789012"),
                "defined twice",
            ),
            (
                org.to_string() + &folder("1", "organisations/123456789012"),
                "is not organizations/N",
            ),
            // A folder of another organisation, a folder without an organisation, a folder
            // under a folder that does not exist.
            (
                org.to_string() + &folder("1", "organizations/5"),
                "neither gcp.organization",
            ),
            (
                folder("1", "organizations/123456789012"),
                "neither gcp.organization",
            ),
            (
                org.to_string() + &folder("1", "folders/9"),
                "neither gcp.organization",
            ),
            (
                org.to_string() + &folder("1", "folders/2") + &folder("2", "folders/1"),
                "cycle",
            ),
            (org.to_string() + &folder("1", "folders/1"), "cycle"),
            (
                format!(
                    "{org}[[gcp.folders]]\nid = \"1\"\nparent = \"organizations/123456789012\"\n"
                ),
                "missing field `display_name`",
            ),
            (
                org.to_string()
                    + &folder("1", "organizations/123456789012")
                    + "state = \"DELETED\"\n",
                "unknown variant",
            ),
            (project("parent = \"folders/9\""), "not one of gcp.folders"),
            (project("parent = \"projects/1\""), "is not organizations/N"),
            (project("state = \"deleted\""), "unknown variant"),
            (project("number = 0"), "number must be positive"),
            (
                project("number = 7") + "[[gcp.projects]]\nid = \"q\"\nregions = []\nnumber = 7\n",
                "also project \"p\"'s",
            ),
        ] {
            let error = World::from_toml(&text).expect_err(&text);
            assert!(error.contains(needle), "{needle}: {error}");
        }
        // Another organisation's project is allowed, with or without an organisation.
        for prefix in ["", org] {
            let text = format!("{prefix}{}", project("parent = \"organizations/5\""));
            World::from_toml(&text).expect(&text);
        }
    }

    #[test]
    fn bad_event_values_are_refused() {
        for (text, needle) in [
            (
                "[[aws.events]]\naccount = \"1\"\nregion = \"r\"\ntime = \"2026-12-03 09:00\"\nname = \"x\"\nactor = \"y\"\n",
                "RFC 3339",
            ),
            (
                "[[aws.events]]\naccount = \"1\"\nregion = \"r\"\ntime = \"2026-12-03T09:00:00Z\"\nname = \"x\"\nactor = \"y\"\nrequest = 1\n",
                "unknown field",
            ),
            (
                "[[azure.events]]\nsubscription = \"s\"\ntime = \"2026-12-03T09:00:00Z\"\noperation = \"o\"\nresource = \"r\"\ncaller = \"c\"\nstatus = \"Started\"\n",
                "status",
            ),
            (
                "[[gcp.events]]\nproject = \"p\"\ntime = \"2026-12-03T09:00:00Z\"\nmethod = \"m\"\nresource = \"r\"\nprincipal = \"x\"\nerror = \"NOPE\"\n",
                "google.rpc.Code",
            ),
            ("[settings]\ncloudtrail_rate = -1.0\n", "cloudtrail_rate"),
        ] {
            let error = World::from_toml(text).expect_err(text);
            assert!(error.contains(needle), "{needle}: {error}");
        }
        let world = World::from_toml(
            "[[gcp.events]]\nproject = \"p\"\ntime = \"2026-12-03T09:00:00Z\"\nmethod = \"m\"\nresource = \"r\"\nprincipal = \"x\"\nerror = \"permission_denied\"\n",
        )
        .unwrap();
        assert_eq!(world.gcp.events[0].error_code(), Some(7));
    }
}
