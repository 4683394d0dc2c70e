//! AWS CloudTrail records, in the two shapes CloudTrail hands them out:
//!
//! - [`observe`]: one record, as S3 delivery files (`{"Records":[…]}`) and NDJSON exports hold it;
//! - [`observe_lookup`]: one LookupEvents / CloudTrail Lake `Event`, whose `CloudTrailEvent` is
//!   that same record serialised as a JSON string.
//!
//! Read as documented (verified, see `tests/fixtures/audit/NOTES.md`): the envelope
//! (`eventTime`, `eventSource`, `eventName`, `awsRegion`, `sourceIPAddress`, `errorCode`,
//! `eventID`, `recipientAccountId`), `userIdentity` with `sessionContext.sessionIssuer`, and the
//! `{"<Action>Request":{…}}` / `{"<Action>Response":{…}}` wrappers newer EC2 APIs put around
//! `requestParameters` and `responseElements` (both wrapped and bare shapes are read).
//!
//! Inferred: the contents of the traffic-mirroring `responseElements` (modelled on the EC2 XML
//! response, hence ids read in both `TrafficMirrorTargetId` and `trafficMirrorTargetId`
//! casing); the CloudFormation service-role identity (`invokedBy`); and, for an assumed-role
//! record without `sessionIssuer`, the role ARN rebuilt from the session ARN, which cannot carry
//! the role's path.
//!
//! Two helpers here are shared with the [`udm`](super::udm) mapper, which reads CloudTrail
//! events as Chronicle re-encoded them: [`role_of_session`] and [`is_dry_run`].

use super::{at, text, timestamp};
use crate::audit::{Location, Observed, Outcome, Phase};
use crate::model::Provider;
use serde_json::Value;

/// A mirror target's destination, as CreateTrafficMirrorTarget's request names it (one of the
/// three is set).
const TARGET_DESTINATIONS: [&str; 3] = [
    "NetworkInterfaceId",
    "NetworkLoadBalancerArn",
    "GatewayLoadBalancerEndpointId",
];

/// The id a Modify*/Delete* request acts on, most specific first: a session request also names
/// its target and a filter-rule request may name its filter, but the call acts on the session
/// or the rule.
const ACTED_ON: [&str; 4] = [
    "TrafficMirrorSessionId",
    "TrafficMirrorFilterRuleId",
    "TrafficMirrorFilterId",
    "TrafficMirrorTargetId",
];

/// Maps one CloudTrail record. `None` when it has no `eventName` (or is not an object): every
/// other field is optional, because partial records still say who called what.
pub fn observe(record: &Value, location: &Location) -> Option<Observed> {
    let operation = nonempty(record, &["eventName"])?;
    let identity = at(record, &["userIdentity"]);
    let error_code = nonempty(record, &["errorCode"]);
    let outcome = match error_code {
        Some(_) => Outcome::Failure,
        None => Outcome::Success,
    };
    let request = unwrapped(record, "requestParameters", operation, "Request");
    let response = unwrapped(record, "responseElements", operation, "Response");
    let resource = resource(operation, outcome, request, response).map(str::to_string);
    let assumed_role = identity.and_then(|i| text(i, &["type"])) == Some("AssumedRole");
    Some(Observed {
        provider: Provider::Aws,
        time: text(record, &["eventTime"]).and_then(timestamp),
        account: nonempty(record, &["recipientAccountId"])
            .or_else(|| identity.and_then(|i| nonempty(i, &["accountId"])))
            .map(str::to_string),
        region: nonempty(record, &["awsRegion"]).map(str::to_string),
        operation: operation.to_string(),
        service: nonempty(record, &["eventSource"]).map(str::to_string),
        outcome,
        // CloudTrail writes one record per call, with its final result.
        phase: Phase::Final,
        dry_run: error_code.is_some_and(is_dry_run),
        error_code: error_code.map(str::to_string),
        actor: identity.and_then(|i| actor(i, assumed_role)),
        actor_session: identity
            .filter(|_| assumed_role)
            .and_then(|i| nonempty(i, &["arn"]))
            .map(str::to_string),
        source_ip: nonempty(record, &["sourceIPAddress"]).map(str::to_string),
        invoked_by: identity
            .and_then(|i| nonempty(i, &["invokedBy"]))
            .map(str::to_string),
        target: target(operation, request).map(str::to_string),
        created_mirror_target: resource
            .clone()
            .filter(|_| operation == "CreateTrafficMirrorTarget" && outcome == Outcome::Success),
        resource,
        updated_existing: false,
        record_id: nonempty(record, &["eventID"]).map(str::to_string),
        change_id: None,
        udm_event_type: Some(operation.to_string()),
        // Chronicle's CloudTrail parser leaves target.resource.name empty for these calls: the
        // original rule is evaluated on what Chronicle would have stored, not on the raw record.
        udm_resource_name: None,
        location: location.clone(),
    })
}

/// Maps one LookupEvents / CloudTrail Lake `Event` through the record in its `CloudTrailEvent`.
/// The envelope's own fields (`EventName`, `Username`, `Resources`) are summaries of that
/// record, so only the record is read.
pub fn observe_lookup(record: &Value, location: &Location) -> Option<Observed> {
    match at(record, &["CloudTrailEvent"])? {
        Value::String(json) => observe(&serde_json::from_str(json).ok()?, location),
        // Tolerated: a tool that decoded the string before saving the event.
        inner @ Value::Object(_) => observe(inner, location),
        _ => None,
    }
}

/// The role ARN of an STS assumed-role session ARN: `arn:aws:sts::A:assumed-role/R/S` →
/// `arn:aws:iam::A:role/R`, in the session's partition. The session ARN does not carry the
/// role's path, so a role under `role/security/` comes back without it.
pub(super) fn role_of_session(session: &str) -> Option<String> {
    let mut parts = session.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("sts"), Some(_region), Some(account), Some(name)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let (role, session_name) = name.strip_prefix("assumed-role/")?.split_once('/')?;
    if partition.is_empty() || account.is_empty() || role.is_empty() || session_name.is_empty() {
        return None;
    }
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// The error code of a call that was refused only because it asked for a dry run: the EC2
/// API's spelling, and the bare one some SDKs and forwarders write.
pub(super) fn is_dry_run(error_code: &str) -> bool {
    matches!(error_code, "Client.DryRunOperation" | "DryRunOperation")
}

/// The string at `path`, unless empty: CloudTrail writes `""` for absent values (empty sets,
/// blank descriptions), which must not pass for an id or an error code.
pub(super) fn nonempty<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    text(value, path).filter(|s| !s.is_empty())
}

/// `requestParameters` / `responseElements`, inside their `<Action>Request` /
/// `<Action>Response` wrapper when the record has one. `None` when absent, `null` or not an
/// object (an error response, a dry run).
fn unwrapped<'a>(record: &'a Value, key: &str, operation: &str, suffix: &str) -> Option<&'a Value> {
    let outer = at(record, &[key]).filter(|v| v.is_object())?;
    let wrapper = format!("{operation}{suffix}");
    Some(
        at(outer, &[&wrapper])
            .filter(|v| v.is_object())
            .unwrap_or(outer),
    )
}

/// The member `key` of an element in either casing: requests spell members in UpperCamelCase
/// (`TrafficMirrorTargetId`), responses in lowerCamelCase (`trafficMirrorTargetId`).
fn member<'a>(element: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    let element = element?;
    at(element, &[key]).or_else(|| {
        let mut chars = key.chars();
        let first = chars.next()?.to_ascii_lowercase();
        at(element, &[&format!("{first}{}", chars.as_str())])
    })
}

/// An id member of an element, in either casing.
fn id<'a>(element: Option<&'a Value>, key: &str) -> Option<&'a str> {
    member(element, key)?.as_str().filter(|s| !s.is_empty())
}

/// What the call acted on: the id a successful `Create<Noun>` created, else the id a request
/// names.
fn resource<'a>(
    operation: &str,
    outcome: Outcome,
    request: Option<&'a Value>,
    response: Option<&'a Value>,
) -> Option<&'a str> {
    let Some(noun) = operation.strip_prefix("Create") else {
        return ACTED_ON.iter().find_map(|key| id(request, key));
    };
    // The response holds the created object as `<noun>` with its id as `<noun>Id`.
    let created = match outcome {
        Outcome::Success => id(member(response, noun), &format!("{noun}Id")),
        Outcome::Failure => None,
    };
    // A refused Create* made nothing, so it names no resource; except a filter rule, which is
    // made inside its filter: the attempt still acts on that filter.
    created.or_else(|| {
        (operation == "CreateTrafficMirrorFilterRule")
            .then(|| id(request, "TrafficMirrorFilterId"))
            .flatten()
    })
}

/// The destination the request names (also when the call was refused: what was asked for is
/// what matters).
fn target<'a>(operation: &str, request: Option<&'a Value>) -> Option<&'a str> {
    match operation {
        "CreateTrafficMirrorTarget" => TARGET_DESTINATIONS.iter().find_map(|key| id(request, key)),
        "CreateTrafficMirrorSession" | "ModifyTrafficMirrorSession" => {
            id(request, "TrafficMirrorTargetId")
        }
        _ => None,
    }
}

/// Who made the call, as an allowlist names principals: an assumed role by its role ARN (the
/// session stays in `actor_session`), an IAM user or root by its ARN, an AWS service (no ARN)
/// by the service that invoked the call or its principal id.
fn actor(identity: &Value, assumed_role: bool) -> Option<String> {
    let arn = nonempty(identity, &["arn"]);
    let role = assumed_role
        .then(|| {
            nonempty(identity, &["sessionContext", "sessionIssuer", "arn"])
                .map(str::to_string)
                .or_else(|| arn.and_then(role_of_session))
        })
        .flatten();
    role.or_else(|| {
        arn.or_else(|| nonempty(identity, &["invokedBy"]))
            .or_else(|| nonempty(identity, &["principalId"]))
            .map(str::to_string)
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Read;

    /// A record mapper, as the oracle checks take it.
    pub(in crate::audit::sources) type Mapper = fn(&Value, &Location) -> Option<Observed>;

    /// The records of a fixture under `tests/fixtures/audit`, in file order: the array of a
    /// `{"Records":[…]}` or `{"Events":[…]}` document, else one record per line with lines that
    /// are not JSON (malformed, or cut by a truncated gzip stream) skipped.
    pub(in crate::audit::sources) fn fixture(relative: &str) -> Vec<Value> {
        let path = format!(
            "{}/tests/fixtures/audit/{relative}",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut bytes = Vec::new();
            // A cut stream is one of the fixtures: keep what decompressed before the cut.
            let _ = flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut bytes);
            bytes
        } else {
            raw
        };
        if let Ok(document) = serde_json::from_slice::<Value>(&bytes) {
            for key in ["Records", "Events"] {
                if let Some(Value::Array(records)) = document.get(key) {
                    return records.clone();
                }
            }
        }
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Every record of a fixture through `map`, located by its 1-based number.
    pub(in crate::audit::sources) fn observe_fixture(relative: &str, map: Mapper) -> Vec<Observed> {
        fixture(relative)
            .iter()
            .enumerate()
            .filter_map(|(i, record)| map(record, &location(i as u64 + 1)))
            .collect()
    }

    pub(in crate::audit::sources) fn location(record: u64) -> Location {
        Location {
            path: "test".into(),
            record,
            line: record,
        }
    }

    /// Checks every `[[file.event]]` of `relative` in expected.toml against the record that
    /// starts it (same operation, same instant): each field the oracle names must be in that
    /// Observed as it is, and each field it leaves out must be `None`. Returns how many events
    /// were checked.
    pub(in crate::audit::sources) fn check_oracle(relative: &str, map: Mapper) -> usize {
        let path = format!(
            "{}/tests/fixtures/audit/expected.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let manifest = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let manifest: toml_edit::DocumentMut = manifest.parse().expect("expected.toml parses");
        let file = manifest
            .get("file")
            .and_then(toml_edit::Item::as_array_of_tables)
            .and_then(|files| {
                files
                    .iter()
                    .find(|f| f.get("path").and_then(|p| p.as_str()) == Some(relative))
            })
            .unwrap_or_else(|| panic!("{relative} is not in expected.toml"));
        let Some(events) = file
            .get("event")
            .and_then(toml_edit::Item::as_array_of_tables)
        else {
            return 0;
        };
        let observed = observe_fixture(relative, map);
        let mut problems = Vec::new();
        for (n, event) in events.iter().enumerate() {
            let want = |key: &str| event.get(key).and_then(|v| v.as_str());
            let operation = want("operation").unwrap_or_default();
            let time = want("time").and_then(timestamp);
            let candidates: Vec<&Observed> = observed
                .iter()
                .filter(|o| o.operation == operation && o.time == time)
                .collect();
            let differences = |o: &Observed| {
                let strings = [
                    ("account", &o.account),
                    ("region", &o.region),
                    ("actor", &o.actor),
                    ("actor_session", &o.actor_session),
                    ("source_ip", &o.source_ip),
                    ("resource", &o.resource),
                    ("target", &o.target),
                ];
                let mut differences: Vec<String> = strings
                    .iter()
                    .filter(|(key, got)| got.as_deref() != want(key))
                    .map(|(key, got)| format!("{key}: got {got:?}, want {:?}", want(key)))
                    .collect();
                if Some(o.outcome.as_str()) != want("outcome") {
                    differences.push(format!("outcome: got {:?}", o.outcome));
                }
                if Some(o.dry_run) != event.get("dry_run").and_then(|v| v.as_bool()) {
                    differences.push(format!("dry_run: got {}", o.dry_run));
                }
                differences
            };
            match candidates.first() {
                None => problems.push(format!(
                    "event {}: no {operation} record at {time:?}",
                    n + 1
                )),
                Some(first) if candidates.iter().all(|o| !differences(o).is_empty()) => problems
                    .push(format!(
                        "event {} ({operation}): {:?}",
                        n + 1,
                        differences(first)
                    )),
                Some(_) => {}
            }
        }
        assert!(problems.is_empty(), "{relative}:\n{}", problems.join("\n"));
        events.len()
    }

    fn by_id<'a>(observed: &'a [Observed], event_id: &str) -> &'a Observed {
        observed
            .iter()
            .find(|o| o.record_id.as_deref() == Some(event_id))
            .unwrap_or_else(|| panic!("no record {event_id}"))
    }

    fn all_operations() -> Vec<Observed> {
        observe_fixture("cloudtrail/all-operations.json", observe)
    }

    #[test]
    fn every_fixture_event_reads_straight_from_its_record() {
        for (file, map, events) in [
            ("cloudtrail/seed-test1.json.gz", observe as Mapper, 5),
            ("cloudtrail/all-operations.json", observe, 24),
            ("cloudtrail/events.ndjson", observe, 3),
            ("cloudtrail/lookup-events.json", observe_lookup, 3),
            ("malformed/truncated-lines.ndjson.gz", observe, 1),
            ("malformed/bad-records.ndjson", observe, 1),
        ] {
            assert_eq!(check_oracle(file, map), events, "{file}");
        }
    }

    #[test]
    fn every_record_with_an_event_name_is_mapped() {
        let observed = all_operations();
        assert_eq!(observed.len(), 32);
        assert!(observed.iter().all(|o| o.provider == Provider::Aws
            && o.phase == Phase::Final
            && !o.updated_existing
            && o.change_id.is_none()
            && o.udm_resource_name.is_none()
            && o.udm_event_type.as_deref() == Some(o.operation.as_str())));
        // Records keep their place in the input: the third record is the third Observed.
        assert_eq!(observed[2].location, location(3));
        assert_eq!(observed[2].operation, "ModifyTrafficMirrorFilterRule");
        assert_eq!(
            observe_fixture("cloudtrail/seed-test1.json.gz", observe).len(),
            9
        );
        assert_eq!(
            observe_fixture("cloudtrail/events.ndjson", observe).len(),
            5
        );
    }

    #[test]
    fn assumed_role_with_a_path_keeps_the_path_from_the_session_issuer() {
        let observed = all_operations();
        let rule = by_id(&observed, "2102c23e-c064-4940-9bd3-84530f1681c9");
        assert_eq!(rule.operation, "ModifyTrafficMirrorFilterRule");
        assert_eq!(
            rule.actor.as_deref(),
            Some("arn:aws:iam::111122223333:role/security/MirrorAdmin")
        );
        assert_eq!(
            rule.actor_session.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/MirrorAdmin/alice.ng")
        );
        assert_eq!(rule.account.as_deref(), Some("111122223333"));
        assert_eq!(rule.region.as_deref(), Some("us-east-1"));
        assert_eq!(rule.service.as_deref(), Some("ec2.amazonaws.com"));
        assert_eq!(rule.source_ip.as_deref(), Some("198.51.100.23"));
        assert_eq!(rule.resource.as_deref(), Some("tmfr-03000ec075bb5c3e0"));
        assert_eq!(rule.target, None);
        assert_eq!(rule.invoked_by, None);
        assert_eq!(rule.outcome, Outcome::Success);
        assert_eq!(rule.error_code, None);
        assert_eq!(rule.time, timestamp("2026-11-11T08:21:15Z"));
    }

    #[test]
    fn cloudformation_call_keeps_the_service_as_source_and_invoker() {
        let observed = all_operations();
        let made = by_id(&observed, "cdea6d05-299f-43f2-a20d-900ca2fe4fa1");
        assert_eq!(made.operation, "CreateTrafficMirrorTarget");
        assert_eq!(
            made.actor.as_deref(),
            Some("arn:aws:iam::111122223333:role/cfn-exec-role")
        );
        assert_eq!(
            made.actor_session.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/cfn-exec-role/AWSCloudFormation")
        );
        assert_eq!(
            made.source_ip.as_deref(),
            Some("cloudformation.amazonaws.com")
        );
        assert_eq!(
            made.invoked_by.as_deref(),
            Some("cloudformation.amazonaws.com")
        );
        assert_eq!(made.resource.as_deref(), Some("tmt-0100e0af52b4e5bb3"));
        assert_eq!(
            made.created_mirror_target.as_deref(),
            Some("tmt-0100e0af52b4e5bb3")
        );
        assert_eq!(made.target.as_deref(), Some("vpce-0fdc7650e159c178c"));

        let nlb = by_id(&observed, "9469176a-2cf0-40c5-bad5-beb72160919b");
        assert_eq!(
            nlb.actor.as_deref(),
            Some("arn:aws:iam::111122223333:user/ci-deployer")
        );
        assert_eq!(nlb.actor_session, None);
        assert_eq!(
            nlb.target.as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/ids-nlb/84d10d96ddb45ce6")
        );
    }

    #[test]
    fn refused_creates_name_what_was_asked_for_but_no_created_resource() {
        let observed = all_operations();
        let target = by_id(&observed, "1d85b941-eca7-4769-8c1f-fe915a164daa");
        assert_eq!(target.operation, "CreateTrafficMirrorTarget");
        assert_eq!(target.outcome, Outcome::Failure);
        assert_eq!(
            target.error_code.as_deref(),
            Some("Client.UnauthorizedOperation")
        );
        assert!(!target.dry_run);
        assert_eq!(target.resource, None);
        assert_eq!(target.created_mirror_target, None);
        assert_eq!(target.target.as_deref(), Some("eni-061a9c691d0b65bb2"));
        assert_eq!(target.source_ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(
            target.actor.as_deref(),
            Some("arn:aws:iam::111122223333:role/dev-readonly")
        );

        let session = by_id(&observed, "97762eb0-8b8a-4b08-9f5c-c5cbc7328e35");
        assert_eq!(
            session.resource, None,
            "the filter is not the session's resource"
        );
        assert_eq!(session.target.as_deref(), Some("tmt-0100e0af52b4e5bb3"));

        let rule = by_id(&observed, "febe4971-c640-492c-b3c8-a1e0daa453e8");
        assert_eq!(rule.operation, "CreateTrafficMirrorFilterRule");
        assert_eq!(rule.outcome, Outcome::Failure);
        assert_eq!(rule.resource.as_deref(), Some("tmf-04350386178cad880"));

        let delete = by_id(&observed, "b2b44f27-06c0-4505-9c83-cffee1a77ded");
        assert_eq!(delete.operation, "DeleteTrafficMirrorSession");
        assert_eq!(delete.resource.as_deref(), Some("tms-0297c3fe586a9d9b8"));
    }

    #[test]
    fn dry_run_is_a_failure_marked_as_such() {
        let observed = all_operations();
        let dry = by_id(&observed, "3b0764d3-b800-41ad-9e3f-62eecf8d1131");
        assert_eq!(dry.operation, "CreateTrafficMirrorSession");
        assert!(dry.dry_run);
        assert_eq!(dry.outcome, Outcome::Failure);
        assert_eq!(dry.error_code.as_deref(), Some("Client.DryRunOperation"));
        assert_eq!(dry.region.as_deref(), Some("us-west-2"));
        assert_eq!(
            dry.actor.as_deref(),
            Some("arn:aws:iam::111122223333:user/ci-deployer")
        );
        assert_eq!(dry.actor_session, None);
        assert_eq!(dry.resource, None);
        assert_eq!(dry.target.as_deref(), Some("tmt-002f88d8e8a0eedce"));
        assert!(is_dry_run("DryRunOperation"));
        assert!(!is_dry_run("Client.UnauthorizedOperation"));
    }

    #[test]
    fn retargeting_a_session_names_the_session_and_its_new_target() {
        let observed = observe_fixture("cloudtrail/events.ndjson", observe);
        let modify = by_id(&observed, "2b523ac7-dfb9-4ee5-874a-59b0dcf26ab7");
        assert_eq!(modify.operation, "ModifyTrafficMirrorSession");
        assert_eq!(modify.resource.as_deref(), Some("tms-08d55a018cb0b18e1"));
        assert_eq!(modify.target.as_deref(), Some("tmt-059dfd7175a3c2c48"));
        assert_eq!(modify.created_mirror_target, None);
        assert_eq!(modify.region.as_deref(), Some("us-west-2"));

        let refused = by_id(&observed, "f6c28385-9426-4508-814f-d4bbf95cadce");
        assert_eq!(
            refused.error_code.as_deref(),
            Some("Client.InvalidTrafficMirrorSessionId.NotFound")
        );
        assert_eq!(refused.resource.as_deref(), Some("tms-070228f6e7ef24d70"));
    }

    #[test]
    fn lookup_events_are_read_through_their_cloudtrail_event_string() {
        let observed = observe_fixture("cloudtrail/lookup-events.json", observe_lookup);
        assert_eq!(observed.len(), 4);
        let session = by_id(&observed, "6f1ee5e2-1949-4d36-8365-53377f945875");
        assert_eq!(session.operation, "CreateTrafficMirrorSession");
        assert_eq!(session.location, location(3));
        assert_eq!(session.time, timestamp("2026-11-13T10:02:11Z"));
        assert_eq!(session.resource.as_deref(), Some("tms-0658f7745855e8dbe"));
        assert_eq!(session.target.as_deref(), Some("tmt-06596a8c796671017"));
        assert_eq!(
            session.actor.as_deref(),
            Some("arn:aws:iam::111122223333:role/NetOpsAdmin")
        );

        // The record itself, already decoded, is accepted too; anything else is not a record.
        let inner: Value = fixture("cloudtrail/lookup-events.json")[2]["CloudTrailEvent"]
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let decoded = observe_lookup(&json!({ "CloudTrailEvent": inner }), &location(1));
        assert_eq!(
            decoded.and_then(|o| o.resource).as_deref(),
            Some("tms-0658f7745855e8dbe")
        );
        for broken in [
            json!({"CloudTrailEvent": "{\"eventName\": \"CreateTrafficMirrorSession\""}),
            json!({"CloudTrailEvent": 7}),
            json!({"CloudTrailEvent": null}),
            json!({"EventName": "CreateTrafficMirrorSession"}),
            json!("CreateTrafficMirrorSession"),
        ] {
            assert!(observe_lookup(&broken, &location(1)).is_none(), "{broken}");
        }
    }

    #[test]
    fn session_arns_give_their_role() {
        assert_eq!(
            role_of_session("arn:aws:sts::111122223333:assumed-role/NetOpsAdmin/jdoe").as_deref(),
            Some("arn:aws:iam::111122223333:role/NetOpsAdmin")
        );
        assert_eq!(
            role_of_session("arn:aws-cn:sts::111122223333:assumed-role/R/i-0abc/x").as_deref(),
            Some("arn:aws-cn:iam::111122223333:role/R")
        );
        for not_a_session in [
            "arn:aws:iam::111122223333:user/ci-deployer",
            "arn:aws:sts::111122223333:federated-user/bob",
            "arn:aws:sts::111122223333:assumed-role/NoSession",
            "arn:aws:sts::111122223333:assumed-role//jdoe",
            "arn:aws:sts:::assumed-role/R/S",
            "arn:aws:sts::111122223333",
            "",
        ] {
            assert_eq!(role_of_session(not_a_session), None, "{not_a_session}");
        }
    }

    #[test]
    fn identities_without_an_issuer_or_an_arn() {
        let record = |identity: Value| {
            observe(
                &json!({"eventName": "DeleteTrafficMirrorSession", "userIdentity": identity}),
                &location(1),
            )
            .expect("has an eventName")
        };
        let no_issuer = record(json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/NetOpsAdmin/jdoe",
            "accountId": "444455556666"
        }));
        assert_eq!(
            no_issuer.actor.as_deref(),
            Some("arn:aws:iam::111122223333:role/NetOpsAdmin")
        );
        assert_eq!(
            no_issuer.actor_session.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/NetOpsAdmin/jdoe")
        );
        assert_eq!(no_issuer.account.as_deref(), Some("444455556666"));

        let service = record(json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}));
        assert_eq!(service.actor.as_deref(), Some("ec2.amazonaws.com"));
        assert_eq!(service.invoked_by.as_deref(), Some("ec2.amazonaws.com"));
        assert_eq!(service.actor_session, None);

        let principal = record(json!({"type": "AWSAccount", "principalId": "AIDAEXAMPLE"}));
        assert_eq!(principal.actor.as_deref(), Some("AIDAEXAMPLE"));

        let missing = record(Value::Null);
        assert_eq!(
            (
                missing.actor,
                missing.actor_session,
                missing.invoked_by,
                missing.account
            ),
            (None, None, None, None)
        );
    }

    #[test]
    fn bare_and_lower_camel_parameters_are_read() {
        let made = observe(
            &json!({
                "eventName": "CreateTrafficMirrorTarget",
                "requestParameters": {"networkInterfaceId": "eni-0aaa"},
                "responseElements": {"TrafficMirrorTarget": {"TrafficMirrorTargetId": "tmt-0bbb"}}
            }),
            &location(1),
        )
        .expect("mapped");
        assert_eq!(made.target.as_deref(), Some("eni-0aaa"));
        assert_eq!(made.resource.as_deref(), Some("tmt-0bbb"));
        assert_eq!(made.created_mirror_target.as_deref(), Some("tmt-0bbb"));

        // A successful filter rule whose response was not logged still acts on its filter.
        let rule = observe(
            &json!({
                "eventName": "CreateTrafficMirrorFilterRule",
                "requestParameters": {"CreateTrafficMirrorFilterRuleRequest": {"TrafficMirrorFilterId": "tmf-0ccc"}},
                "responseElements": null
            }),
            &location(1),
        )
        .expect("mapped");
        assert_eq!(rule.resource.as_deref(), Some("tmf-0ccc"));
        assert_eq!(rule.outcome, Outcome::Success);
    }

    #[test]
    fn wrong_shapes_give_none_not_a_panic() {
        for not_a_record in [
            json!(null),
            json!([]),
            json!("CreateTrafficMirrorSession"),
            json!({}),
            json!({"eventName": 5}),
            json!({"eventName": ""}),
            json!({"eventName": ["CreateTrafficMirrorSession"]}),
        ] {
            assert!(
                observe(&not_a_record, &location(1)).is_none(),
                "{not_a_record}"
            );
        }
        let odd = observe(
            &json!({
                "eventName": "CreateTrafficMirrorSession",
                "eventTime": "yesterday",
                "eventSource": 1,
                "awsRegion": ["us-east-1"],
                "recipientAccountId": 111122223333_u64,
                "sourceIPAddress": {},
                "errorCode": 403,
                "eventID": true,
                "userIdentity": "arn:aws:iam::111122223333:user/ci-deployer",
                "requestParameters": "TrafficMirrorTargetId=tmt-0ddd",
                "responseElements": ["tms-0eee"]
            }),
            &location(1),
        )
        .expect("the eventName is enough");
        assert_eq!(odd.operation, "CreateTrafficMirrorSession");
        assert_eq!(
            (
                odd.time,
                odd.service,
                odd.region,
                odd.account,
                odd.source_ip,
                odd.record_id
            ),
            (None, None, None, None, None, None)
        );
        assert_eq!((odd.actor, odd.resource, odd.target), (None, None, None));
        assert_eq!(odd.outcome, Outcome::Success);

        let empty = observe(
            &json!({
                "eventName": "ModifyTrafficMirrorSession",
                "errorCode": "",
                "requestParameters": {"ModifyTrafficMirrorSessionRequest": "", "TrafficMirrorSessionId": ""},
                "responseElements": null
            }),
            &location(1),
        )
        .expect("mapped");
        assert_eq!(
            empty.outcome,
            Outcome::Success,
            "an empty errorCode is no error"
        );
        assert_eq!((empty.resource, empty.target), (None, None));
    }
}
