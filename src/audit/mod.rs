//! The audit-log check: who created, changed or deleted mirroring, and was it sanctioned.
//!
//! Data flows one way: [`sources`] walks the inputs, splits each file into records with a
//! structural scan, and turns the few candidate records into provider-neutral [`Observed`]
//! calls; [`rule`] (the catalogue) or [`seed`] (the original Chronicle rule) decides which
//! of them match; [`changes`] collapses the records of one change into one [`AuditEvent`];
//! [`verdict`] applies the sanction rule of the allowlist; [`correlate`] compares the
//! events with a scan's inventory. [`command`] runs it all for `mirrorguard audit` and
//! `scan --audit`.

pub mod changes;
pub mod command;
pub mod correlate;
pub mod live;
pub mod rule;
pub mod seed;
pub mod sources;
pub mod verdict;

use crate::model::Provider;
use crate::posture::Severity;
use rule::Lifecycle;
use serde::Serialize;
use time::OffsetDateTime;

/// Whether the call did what it asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Where a record is: the input it came from, its 1-based number in that input, its line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub path: String,
    pub record: u64,
    pub line: u64,
}

/// How far a multi-record operation got, in the record that says so (Azure `Started` then
/// `Succeeded`; GCP `operation.first` then `operation.last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// A record that does not carry the final status (Azure Started/Accepted, GCP first).
    Intermediate,
    Final,
}

/// One API call as a log record describes it, in provider-neutral words: what every source
/// produces for the records that could matter.
#[derive(Debug, Clone)]
pub struct Observed {
    pub provider: Provider,
    pub time: Option<OffsetDateTime>,
    /// Account, project or subscription (Azure: lower case).
    pub account: Option<String>,
    pub region: Option<String>,
    /// The call as the log spells it: eventName, methodName, operationName.
    pub operation: String,
    /// AWS eventSource / GCP serviceName, where the log has one.
    pub service: Option<String>,
    pub outcome: Outcome,
    pub phase: Phase,
    pub dry_run: bool,
    /// The provider's error code of a failed call.
    pub error_code: Option<String>,
    pub actor: Option<String>,
    /// The actor's second name, which allowlists may use too: the AWS assumed-role session
    /// ARN; the Azure caller's object id when `actor` is its UPN.
    pub actor_session: Option<String>,
    pub source_ip: Option<String>,
    /// Who made the call on the actor's behalf (CloudTrail `invokedBy`).
    pub invoked_by: Option<String>,
    pub resource: Option<String>,
    /// The destination the record names, if any.
    pub target: Option<String>,
    /// For a created AWS mirror target: the `tmt-…` it created (the `resource`) is resolved to
    /// `target`; kept so sessions naming the `tmt-…` can be decided by what it points at.
    pub created_mirror_target: Option<String>,
    /// An Azure write answered 200 (an update) rather than 201 (a creation).
    pub updated_existing: bool,
    /// Identity of the record itself (CloudTrail eventID, Azure eventDataId, GCP insertId):
    /// the same record delivered twice.
    pub record_id: Option<String>,
    /// Identity of the change the record belongs to, when a change spans several records
    /// (GCP operation id; Azure correlationId + resource + operation).
    pub change_id: Option<String>,
    /// The two fields the original Chronicle rule reads, as Chronicle would fill them.
    pub udm_event_type: Option<String>,
    pub udm_resource_name: Option<String>,
    pub location: Location,
}

impl Observed {
    /// A successful, final record that carries only what the original Chronicle rule reads
    /// (`metadata.product_event_type`, `target.resource.name`): how `rule diff-seed` and the
    /// seed rule's tests put an operation in front of it.
    pub fn seed_probe(provider: Provider, event_type: &str, resource_name: &str) -> Observed {
        Observed {
            provider,
            time: None,
            account: None,
            region: None,
            operation: event_type.to_string(),
            service: None,
            outcome: Outcome::Success,
            phase: Phase::Final,
            dry_run: false,
            error_code: None,
            actor: None,
            actor_session: None,
            source_ip: None,
            invoked_by: None,
            resource: Some(resource_name.to_string()).filter(|r| !r.is_empty()),
            target: None,
            created_mirror_target: None,
            updated_existing: false,
            record_id: None,
            change_id: None,
            udm_event_type: Some(event_type.to_string()),
            udm_resource_name: Some(resource_name.to_string()),
            location: Location {
                path: String::new(),
                record: 0,
                line: 0,
            },
        }
    }
}

/// One matched change, after de-duplication, with its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    #[serde(serialize_with = "crate::timefmt::serialize_rfc3339_opt")]
    pub time: Option<OffsetDateTime>,
    pub provider: Provider,
    pub account: Option<String>,
    pub region: Option<String>,
    pub operation: String,
    pub lifecycle: Lifecycle,
    pub outcome: Outcome,
    pub dry_run: bool,
    pub error_code: Option<String>,
    pub actor: Option<String>,
    pub actor_session: Option<String>,
    pub source_ip: Option<String>,
    pub invoked_by: Option<String>,
    pub resource: Option<String>,
    pub target: Option<String>,
    /// What `target` (a `tmt-…`) was resolved to from a CreateTrafficMirrorTarget in the logs.
    pub target_resolved: Option<String>,
    pub verdict: AuditVerdict,
    pub sanctioned_by: Option<crate::allowlist::EntryRef>,
    /// Why the verdict is what it is, in one sentence.
    pub verdict_reason: String,
    /// The catalogue entry id, or `seed` for the original rule.
    pub rule: &'static str,
    pub severity: Severity,
    /// How many log records this change was made of (Started + Succeeded = 2).
    pub records: usize,
    /// The records' own ids as the log writes them (CloudTrail eventID, GCP insertId, Azure
    /// eventDataId, UDM product_log_id), to find them in the SIEM or the bucket.
    pub record_ids: Vec<String>,
    /// The first record of the change.
    #[serde(flatten)]
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditVerdict {
    Sanctioned,
    Unsanctioned,
}

impl AuditVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditVerdict::Sanctioned => "sanctioned",
            AuditVerdict::Unsanctioned => "unsanctioned",
        }
    }
}

/// Which rule evaluates the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleChoice {
    /// The catalogue: exact operation names, outcome-aware, one change one event.
    Corrected,
    /// The original Chronicle YARA-L rule, exactly as written: one event per record it fires on.
    Seed,
}
