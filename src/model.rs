//! The provider-neutral model. Provider adapters translate SDK types into these; everything
//! downstream (allowlist matching, posture, reports) sees only these types.
//!
//! Invariant: every scope a scan meant to cover ends in exactly one [`CoverageRow`].

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A source of mirrors mirrorguard can scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Azure,
    Gcp,
    Network,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::Aws,
        Provider::Azure,
        Provider::Gcp,
        Provider::Network,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Azure => "azure",
            Provider::Gcp => "gcp",
            Provider::Network => "network",
        }
    }

    pub fn parse(text: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A region name as providers spell them (`us-east-1`, `europe-west1`): non-empty, lower-case
/// letters, digits and `-`. Shared by the CLI and the allowlist so both refuse the same text.
pub fn is_region_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An AWS account id: exactly 12 digits.
pub fn is_aws_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// An Azure subscription id: a GUID (any letter case).
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What one listing covers: AWS account × region, Azure subscription, GCP project × region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Scope {
    pub provider: Provider,
    /// Account, subscription or project id; `None` when the scan could not even learn it
    /// (no credentials, identity call failed).
    pub account: Option<String>,
    pub region: Option<String>,
}

/// How a scope's scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CoverageStatus {
    Scanned,
    Disabled,
    Excluded,
    Denied,
    Failed,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Scanned => "scanned",
            CoverageStatus::Disabled => "disabled",
            CoverageStatus::Excluded => "excluded",
            CoverageStatus::Denied => "denied",
            CoverageStatus::Failed => "failed",
        }
    }

    /// A gap is a scope that should have been scanned and was not.
    pub fn is_gap(self) -> bool {
        matches!(self, CoverageStatus::Denied | CoverageStatus::Failed)
    }
}

/// The one coverage row of a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageRow {
    #[serde(flatten)]
    pub scope: Scope,
    pub status: CoverageStatus,
    /// Why, with the provider's own error code first; `None` only for `scanned`.
    pub detail: Option<String>,
}

/// A mirroring configuration that exists right now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mirror {
    pub provider: Provider,
    pub account: String,
    pub region: Option<String>,
    pub id: String,
    /// Provider-specific kind, e.g. `traffic-mirror-session`.
    pub kind: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub sources: Vec<Source>,
    pub target: Target,
    pub filter: Option<FilterSummary>,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// VXLAN network identifier the copies are encapsulated with (AWS).
    pub vni: Option<i64>,
    /// Evaluation order among mirrors of the same source (AWS session number, GCP priority).
    pub priority: Option<i64>,
    /// The VPC network the mirror belongs to, where the provider names one (GCP).
    pub network: Option<String>,
}

impl Mirror {
    /// The destination is owned by another account than the mirror.
    pub fn cross_account(&self) -> bool {
        self.target
            .owner
            .as_deref()
            .is_some_and(|owner| !owner.eq_ignore_ascii_case(&self.account))
    }
}

/// What is being copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// e.g. `network-interface`, `subnetwork`, `instance`, `tag`.
    pub kind: String,
    pub id: String,
    /// `ingress`, `egress` or `both`, where the provider says.
    pub direction: Option<String>,
}

/// What receives the copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// `network-interface`, `network-load-balancer`, `gateway-load-balancer-endpoint`,
    /// `unresolved`, …
    pub kind: String,
    /// The receiving resource: what allowlist entries name.
    pub id: String,
    /// The account (subscription, project) that owns the receiving resource, when known.
    pub owner: Option<String>,
    /// AWS: the `tmt-…` the session points at (it may be approved instead of the resource).
    pub mirror_target_id: Option<String>,
    /// Destination port where the provider has one (Azure vTAP).
    pub port: Option<u16>,
    pub description: Option<String>,
}

/// Which traffic a mirror copies, in provider-neutral words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct FilterSummary {
    /// The filter's own id (AWS `tmf-…`), when it is a separate resource.
    pub id: Option<String>,
    /// Human-readable rules, e.g. `ingress accept tcp 0.0.0.0/0 -> 10.0.0.0/8:443`.
    pub accept: Vec<String>,
    pub reject: Vec<String>,
    /// Bytes of each packet copied; `None` means whole packets.
    pub packet_length: Option<i64>,
    /// Services mirrored besides traffic (AWS `amazon-dns`).
    pub network_services: Vec<String>,
    /// The filter copies nothing (no accept rule and no network service).
    pub copies_nothing: bool,
    /// The filter itself was listed; `false` when only its id is known (listing failed).
    pub resolved: bool,
}

/// A mirroring resource that no mirror uses yet: infrastructure staged for later use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagedResource {
    pub provider: Provider,
    pub account: String,
    pub region: Option<String>,
    /// `traffic-mirror-target` or `traffic-mirror-filter`.
    pub kind: String,
    pub id: String,
    /// For a staged target: where it would send copies.
    pub target: Option<Target>,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// An Azure NIC tapConfiguration that points at a vTAP no listing of this scan returned: the
/// NIC's traffic is copied to a destination the scan cannot see (a subscription it does not
/// cover, or one it could not list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrphanTapConfiguration {
    pub provider: Provider,
    /// The NIC's subscription and location.
    pub account: String,
    pub region: Option<String>,
    pub network_interface: String,
    pub tap_configuration: Option<String>,
    /// The vTAP the configuration names, as the NIC spells it.
    pub virtual_network_tap: String,
    /// The subscription in the vTAP's id.
    pub tap_subscription: Option<String>,
}

/// Who the scan ran as, per provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub provider: Provider,
    pub principal: String,
    pub account: Option<String>,
}

/// What the providers returned for one scan.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub mirrors: Vec<Mirror>,
    pub staged: Vec<StagedResource>,
    pub coverage: Vec<CoverageRow>,
    pub identities: Vec<Identity>,
    pub orphans: Vec<OrphanTapConfiguration>,
    /// The organisations whose membership the scan learned (AWS Organizations, a GCP
    /// organisation's projects): what "outside the organisation" is measured against.
    pub organizations: Vec<Organization>,
}

/// What a scan learned about who belongs where: each known account (subscription, project),
/// lower-case, with the organisation it belongs to (AWS: the organisation; GCP: the
/// organisation above the projects; Azure: each subscription's tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub provider: Provider,
    /// `o-…` (AWS), `organizations/N` (GCP), the identity's tenant (Azure), where known.
    pub id: Option<String>,
    /// Account → the organisation (tenant) it belongs to.
    pub group_of: std::collections::BTreeMap<String, String>,
    /// `group_of` lists the whole organisation (AWS ListAccounts, a GCP organisation every
    /// folder of which was visible): an account missing from it is outside. Otherwise a
    /// missing account is undecided.
    pub complete: bool,
}

impl Inventory {
    /// Whether the mirror's destination is owned outside the organisation of the mirror's own
    /// account: `None` when no organisation of its provider is known, the owner is not, or the
    /// membership is partial and the owner is not in it.
    pub fn outside_organization(&self, mirror: &Mirror) -> Option<bool> {
        let owner = mirror.target.owner.as_deref()?.to_ascii_lowercase();
        let account = mirror.account.to_ascii_lowercase();
        let organization = self
            .organizations
            .iter()
            .find(|o| o.provider == mirror.provider)?;
        if owner == account {
            return Some(false);
        }
        match (
            organization.group_of.get(&account),
            organization.group_of.get(&owner),
        ) {
            (Some(mine), Some(theirs)) => Some(mine != theirs),
            (Some(_), None) => organization.complete.then_some(true),
            (None, _) => None,
        }
    }

    pub fn extend(&mut self, other: Inventory) {
        self.organizations.extend(other.organizations);
        self.mirrors.extend(other.mirrors);
        self.orphans.extend(other.orphans);
        self.staged.extend(other.staged);
        self.coverage.extend(other.coverage);
        self.identities.extend(other.identities);
    }

    /// Sorts everything by provider, account, region, id so output never depends on the order
    /// concurrent listings finished in.
    pub fn sort(&mut self) {
        self.mirrors.sort_by(|a, b| {
            (a.provider, &a.account, &a.region, &a.id)
                .cmp(&(b.provider, &b.account, &b.region, &b.id))
        });
        // A paginator that served one page twice (a loop the guard stopped) must not list a
        // mirror twice.
        self.mirrors.dedup_by(|a, b| {
            (a.provider, &a.account, &a.region, &a.id) == (b.provider, &b.account, &b.region, &b.id)
        });
        self.staged.sort_by(|a, b| {
            (a.provider, &a.account, &a.region, &a.kind, &a.id)
                .cmp(&(b.provider, &b.account, &b.region, &b.kind, &b.id))
        });
        self.staged.dedup_by(|a, b| {
            (a.provider, &a.account, &a.region, &a.kind, &a.id)
                == (b.provider, &b.account, &b.region, &b.kind, &b.id)
        });
        self.coverage.sort_by(|a, b| a.scope.cmp(&b.scope));
        self.orphans.sort_by(|a, b| {
            (&a.account, &a.network_interface, &a.tap_configuration).cmp(&(
                &b.account,
                &b.network_interface,
                &b.tap_configuration,
            ))
        });
        self.identities.sort_by_key(|a| a.provider);
    }
}
