//! GCP Cloud Audit Logs: one `LogEntry` whose `protoPayload` is an `AuditLog`, as
//! `gcloud logging read --format=json` prints it (a JSON array) and Cloud Storage sinks write
//! it (one entry a line, often gzip). [`observe`] maps it into an [`Observed`] call.
//!
//! Read as documented (verified, see `tests/fixtures/audit/NOTES.md`): the entry's `insertId`,
//! `timestamp`, `logName`, `resource.labels.{project_id, region}` and
//! `operation.{id, first, last}`; the AuditLog's `serviceName`, `methodName`, `resourceName`,
//! `authenticationInfo.principalEmail`, `requestMetadata.callerIp`, `status.code` and `request`
//! (the body, in the first entry of a long-running operation; only `@type` in its last entry).
//! Chronicle's GCP parser puts `methodName` in `metadata.product_event_type` and
//! `resourceName` in `target.resource.name` (`shared/reference/audit-events.md`): those are the
//! two fields the original rule is evaluated on.
//!
//! Inferred:
//! - a refused call is one entry without `operation`; an operation that fails after it started
//!   says so in its last entry only, so only that entry's outcome is final;
//! - `resourceName` has the REST path's shape (`projects/P/regions/R/…`), which gives project
//!   and region when the monitored resource's labels do not (firewall policies have no region
//!   label);
//! - an organisation-level entry names its organisation only in `logName`
//!   (`organizations/O/logs/…`), so its account is `organizations/O`;
//! - `principalSubject` stands in for the actor when `principalEmail` is absent (identities
//!   without an e-mail address, such as workforce-federated users).

use super::cloudtrail::nonempty;
use super::{at, text, timestamp};
use crate::audit::rule;
use crate::audit::{Location, Observed, Outcome, Phase};
use crate::model::Provider;
use serde_json::Value;

/// The calls whose request names the collector (`collectorIlb`): the only GCP writes with a
/// destination in the log. A firewall-policy mirroring rule names a security profile group
/// instead, which is not reported as a target (NOTES.md decision 7).
const SETS_COLLECTOR: [&str; 2] = [
    "compute.packetMirrorings.insert",
    "compute.packetMirrorings.patch",
];

/// `google.rpc.Code` names by number: the status `code` is a bare number, and the name is
/// what makes it readable in a report.
const CODE_NAMES: [&str; 17] = [
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

/// Maps one LogEntry. `None` when it has no `protoPayload` object with a `methodName` (or is
/// not an object): every other field is optional, because a partial entry still says who
/// called what.
pub fn observe(record: &Value, location: &Location) -> Option<Observed> {
    let payload = at(record, &["protoPayload"]).filter(|p| p.is_object())?;
    let operation = nonempty(payload, &["methodName"])?;
    let service = nonempty(payload, &["serviceName"]);
    let resource = nonempty(payload, &["resourceName"]);
    let account = account(record, resource);
    let error_code = error_code(payload);
    // Operation ids are unique within their project only: the project keeps two projects'
    // operations apart when one input holds both (an organisation's aggregated sink).
    let change_id = nonempty(record, &["operation", "id"]).map(|id| match &account {
        Some(account) => format!("{account}|{id}"),
        None => id.to_string(),
    });
    // insertId is unique per project and timestamp only: de-duplication scopes it so.
    let record_id = nonempty(record, &["insertId"]).map(str::to_string);
    Some(Observed {
        provider: Provider::Gcp,
        time: text(record, &["timestamp"]).and_then(timestamp),
        region: nonempty(record, &["resource", "labels", "region"])
            .or_else(|| resource.and_then(|r| segment_after(r, "regions")))
            .map(str::to_string),
        account,
        operation: operation.to_string(),
        service: service.map(str::to_string),
        outcome: match error_code {
            Some(_) => Outcome::Failure,
            None => Outcome::Success,
        },
        phase: phase(record),
        // Compute has no dry-run mode for these calls.
        dry_run: false,
        error_code,
        actor: nonempty(payload, &["authenticationInfo", "principalEmail"])
            .or_else(|| nonempty(payload, &["authenticationInfo", "principalSubject"]))
            .map(str::to_string),
        actor_session: None,
        source_ip: nonempty(payload, &["requestMetadata", "callerIp"]).map(str::to_string),
        invoked_by: None,
        resource: resource.map(str::to_string),
        target: target(service, operation, payload).map(str::to_string),
        created_mirror_target: None,
        updated_existing: false,
        record_id,
        change_id,
        udm_event_type: Some(operation.to_string()),
        udm_resource_name: resource.map(str::to_string),
        location: location.clone(),
    })
}

/// The segment that follows the segment `name` in a `/`-separated resource path, compared
/// case-insensitively: `regions` in `projects/P/regions/R/…`, `subscriptions` in an Azure
/// resource id (which exports write in any case). Full resource names
/// (`//compute.googleapis.com/projects/…`) work too.
pub(super) fn segment_after<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let mut segments = path.split('/');
    segments.by_ref().find(|s| s.eq_ignore_ascii_case(name))?;
    segments.next().filter(|s| !s.is_empty())
}

/// The project: the monitored resource's label, else the project in the resource's path, else
/// the log's parent. An organisation, folder or billing-account parent keeps its kind
/// (`organizations/O`, `folders/F`), so its number cannot pass for a project id.
fn account(record: &Value, resource: Option<&str>) -> Option<String> {
    let project = nonempty(record, &["resource", "labels", "project_id"])
        .or_else(|| resource.and_then(|r| segment_after(r, "projects")));
    if let Some(project) = project {
        return Some(project.to_string());
    }
    let (parent, _) = text(record, &["logName"])?.split_once("/logs/")?;
    match parent.split_once('/')? {
        (_, id) if id.is_empty() || id.contains('/') => None,
        ("projects", project) => Some(project.to_string()),
        ("organizations" | "folders" | "billingAccounts", _) => Some(parent.to_string()),
        _ => None,
    }
}

/// A failed call's error: `status.code` when non-zero, with its `google.rpc.Code` name
/// (`7 PERMISSION_DENIED`). The `message` is left out: it is free text (the failed insert's
/// quotes the whole collector URL) and the name already says what the number means. A code
/// written otherwise by a forwarder (`"7"`, `7.0`, `"PERMISSION_DENIED"`) is read too; any
/// code that is not zero (or `OK`) is a failure, kept as written when it is not a known number:
/// an unreadable status must not turn a refused call into a change.
fn error_code(payload: &Value) -> Option<String> {
    let code = at(payload, &["status", "code"])?;
    let number = match code {
        Value::Number(number) => number.as_u64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    match number {
        Some(0) => None,
        Some(code) => Some(
            match usize::try_from(code).ok().and_then(|i| CODE_NAMES.get(i)) {
                Some(name) => format!("{code} {name}"),
                None => code.to_string(),
            },
        ),
        None => match code {
            Value::String(text)
                if text.trim().is_empty() || text.trim().eq_ignore_ascii_case("OK") =>
            {
                None
            }
            Value::String(text) => Some(text.trim().to_string()),
            Value::Bool(false) => None,
            other => Some(other.to_string()),
        },
    }
}

/// A long-running operation's first entry (unless it is also its last) only says the
/// operation started; every other entry, a refused call's single entry included, is final.
fn phase(record: &Value) -> Phase {
    let flag = |key: &str| at(record, &["operation", key]).and_then(Value::as_bool) == Some(true);
    if flag("first") && !flag("last") {
        Phase::Intermediate
    } else {
        Phase::Final
    }
}

/// The collector a Packet Mirroring insert or patch asks for, as CONTRACTS §4 names it. The
/// method is recognised through the catalogue, which knows every API version prefix.
fn target<'a>(service: Option<&str>, method: &str, payload: &'a Value) -> Option<&'a str> {
    rule::gcp(service, method).filter(|op| SETS_COLLECTOR.contains(&op.name))?;
    collector(nonempty(payload, &["request", "collectorIlb", "url"])?)
}

/// `https://www.googleapis.com/compute/v1/projects/P/regions/R/forwardingRules/N` →
/// `projects/P/regions/R/forwardingRules/N`, whatever the host (`www.googleapis.com`,
/// `compute.googleapis.com`) and API version (`v1`, `beta`, …) the caller used. A partial URL
/// (`projects/P/…`, which the API accepts too) is kept as it is.
fn collector(url: &str) -> Option<&str> {
    // `https://host/…` and `//host/…` both have the host after the first `//`.
    let path = match url.split_once("//") {
        Some((_, host_and_path)) => host_and_path.split_once('/')?.1,
        None => url,
    };
    let path = path
        .strip_prefix("compute/")
        .and_then(|versioned| versioned.split_once('/'))
        .map_or(path, |(_version, rest)| rest);
    Some(path.trim_matches('/')).filter(|p| !p.is_empty())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::cloudtrail::tests::{check_oracle, fixture, location, Mapper};
    use super::*;
    use serde_json::json;

    /// The records of a fixture under `tests/fixtures/audit`, in file order. A fixture that is
    /// one JSON document holding its records (a `gcloud --format=json` array, an ARM REST page
    /// `{"value":[…]}`, an Event Hubs batch `{"records":[…]}`) is unpacked here; every other
    /// shape (one record a line, gzip, `{"Records":[…]}`) is read by the shared loader.
    pub(in crate::audit::sources) fn records(relative: &str) -> Vec<Value> {
        let path = format!(
            "{}/tests/fixtures/audit/{relative}",
            env!("CARGO_MANIFEST_DIR")
        );
        let document = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        match document {
            Some(Value::Array(records)) => records,
            Some(Value::Object(mut document)) => match ["value", "records"]
                .iter()
                .find_map(|key| document.remove(*key))
            {
                Some(Value::Array(records)) => records,
                _ => fixture(relative),
            },
            _ => fixture(relative),
        }
    }

    /// Every record of a fixture through `map`, located by its 1-based number.
    pub(in crate::audit::sources) fn observe_records(relative: &str, map: Mapper) -> Vec<Observed> {
        records(relative)
            .iter()
            .enumerate()
            .filter_map(|(i, record)| map(record, &location(i as u64 + 1)))
            .collect()
    }

    /// The (first) Observed of the record with this id (GCP insertId, Azure eventDataId).
    pub(in crate::audit::sources) fn by_record<'a>(
        observed: &'a [Observed],
        id: &str,
    ) -> &'a Observed {
        observed
            .iter()
            .find(|o| record_id_is(o, id))
            .unwrap_or_else(|| panic!("no record {id}"))
    }

    /// Whether the record's id is `id` (the raw insertId).
    pub(in crate::audit::sources) fn record_id_is(observed: &Observed, id: &str) -> bool {
        observed
            .record_id
            .as_deref()
            .is_some_and(|r| r == id || r.ends_with(&format!("|{id}")))
    }

    fn all_operations() -> Vec<Observed> {
        observe_records("gcp/all-operations.ndjson", observe)
    }

    const PROJECT: &str = "acme-prod-platform";
    const POLICY: &str =
        "projects/acme-prod-platform/regions/us-central1/packetMirrorings/pm-web-tier";

    #[test]
    fn every_fixture_event_reads_straight_from_its_record() {
        for (file, map, events) in [
            (
                "gcp/all-operations.ndjson",
                with_final_outcome as Mapper,
                12,
            ),
            ("gcp/sink-part.ndjson.gz", observe, 1),
            (
                "gcp/hypothetical-regional-mirroring-rules.ndjson",
                observe,
                3,
            ),
            ("gcp/org-firewall-policy-mirroring-rules.ndjson", observe, 2),
        ] {
            assert_eq!(check_oracle(file, map), events, "{file}");
        }
    }

    /// `check_oracle` compares an event with the entry that starts it, but an operation that
    /// fails in its last entry (the code-3 insert of all-operations.ndjson) has a successful
    /// first entry: this mapper gives an entry its operation's final outcome, as the grouping
    /// does, so every other field is still compared as read.
    fn with_final_outcome(record: &Value, location: &Location) -> Option<Observed> {
        let mut call = observe(record, location)?;
        if let Some(last) = all_operations().into_iter().find(|o| {
            o.phase == Phase::Final && o.change_id.is_some() && o.change_id == call.change_id
        }) {
            call.outcome = last.outcome;
        }
        Some(call)
    }

    #[test]
    fn every_entry_with_a_method_is_mapped() {
        for (file, entries) in [
            ("gcp/seed-test3.json", 6),
            ("gcp/all-operations.ndjson", 27),
            ("gcp/sink-part.ndjson.gz", 3),
            ("gcp/hypothetical-regional-mirroring-rules.ndjson", 6),
            ("gcp/org-firewall-policy-mirroring-rules.ndjson", 4),
        ] {
            let observed = observe_records(file, observe);
            assert_eq!(observed.len(), entries, "{file}");
            assert!(
                observed.iter().all(|o| o.provider == Provider::Gcp
                    && !o.dry_run
                    && !o.updated_existing
                    && o.actor_session.is_none()
                    && o.invoked_by.is_none()
                    && o.created_mirror_target.is_none()
                    && o.service.as_deref() == Some(rule::GCP_SERVICE_NAME)
                    && o.udm_event_type.as_deref() == Some(o.operation.as_str())
                    && o.udm_resource_name == o.resource),
                "{file}"
            );
        }
    }

    #[test]
    fn first_and_last_entry_of_an_operation_share_its_change() {
        let observed = observe_records("gcp/seed-test3.json", observe);
        let first = by_record(&observed, "-fakgu0b67yt7");
        let last = by_record(&observed, "-08cwlz18je3o");
        assert_eq!(first.operation, "v1.compute.packetMirrorings.insert");
        assert_eq!(last.operation, first.operation);
        assert_eq!(
            first.change_id.as_deref(),
            Some("acme-prod-platform|operation-1794306097118-c23caf104052c-0267dd16-9f6cea37")
        );
        assert_eq!(last.change_id, first.change_id);
        assert_eq!(
            (first.phase, last.phase),
            (Phase::Intermediate, Phase::Final)
        );
        assert_eq!(
            (first.outcome, last.outcome),
            (Outcome::Success, Outcome::Success)
        );
        // What seed Test 3's one event reports, read from the first entry.
        assert_eq!(first.time, timestamp("2026-11-10T10:21:37.118734Z"));
        assert_eq!(first.account.as_deref(), Some(PROJECT));
        assert_eq!(first.region.as_deref(), Some("us-central1"));
        assert_eq!(first.actor.as_deref(), Some("priya.natarajan@acme.example"));
        assert_eq!(first.source_ip.as_deref(), Some("198.51.100.44"));
        assert_eq!(first.resource.as_deref(), Some(POLICY));
        assert_eq!(
            first.target.as_deref(),
            Some(
                "projects/acme-prod-platform/regions/us-central1/forwardingRules/ids-collector-fr"
            )
        );
        assert_eq!(first.error_code, None);
        // The last entry's request is only `@type`: no collector in it.
        assert_eq!(last.target, None);
        assert_eq!(last.time, timestamp("2026-11-10T10:21:49.602217Z"));
        assert_eq!(first.location, location(5));

        // A zonal instance insert has no region label and no `regions/` segment.
        let instance = by_record(&observed, "-nn4mt6fqnd4j");
        assert_eq!(instance.region, None);
        assert_eq!(instance.target, None);
        assert_ne!(instance.change_id, first.change_id);
    }

    #[test]
    fn a_refused_call_is_one_final_failed_entry() {
        let observed = all_operations();
        let refused = by_record(&observed, "-vgjsg6c2237p");
        assert_eq!(refused.operation, "beta.compute.packetMirrorings.patch");
        assert_eq!(refused.outcome, Outcome::Failure);
        assert_eq!(refused.error_code.as_deref(), Some("7 PERMISSION_DENIED"));
        assert_eq!(refused.phase, Phase::Final);
        assert_eq!(refused.change_id, None);
        assert_eq!(refused.target, None);
        assert_eq!(refused.actor.as_deref(), Some("contractor-7@acme.example"));
        assert_eq!(refused.source_ip.as_deref(), Some("203.0.113.91"));
        assert_eq!(refused.resource.as_deref(), Some(POLICY));
        assert_eq!(refused.region.as_deref(), Some("us-central1"));
        assert_eq!(refused.account.as_deref(), Some(PROJECT));
    }

    #[test]
    fn an_operation_that_fails_in_its_last_entry() {
        let observed = all_operations();
        let first = by_record(&observed, "-q0n04j16h392");
        let last = by_record(&observed, "-g5wyrusfndyn");
        assert_eq!(first.operation, "beta.compute.packetMirrorings.insert");
        assert_eq!(
            (first.outcome, first.phase),
            (Outcome::Success, Phase::Intermediate)
        );
        assert_eq!((last.outcome, last.phase), (Outcome::Failure, Phase::Final));
        assert_eq!(last.error_code.as_deref(), Some("3 INVALID_ARGUMENT"));
        assert_eq!(first.error_code, None);
        assert_eq!(last.change_id, first.change_id);
        assert!(first.change_id.is_some());
        assert_eq!(first.region.as_deref(), Some("europe-west1"));
    }

    #[test]
    fn collector_urls_in_every_spelling_give_the_forwarding_rule() {
        let observed = all_operations();
        for (insert_id, host, target) in [
            (
                "-ekltmbkv7kp8",
                "www.googleapis.com/compute/v1",
                "projects/acme-prod-platform/regions/us-central1/forwardingRules/ids-collector-fr",
            ),
            (
                "-jegesk1zv6ae",
                "compute.googleapis.com/compute/v1",
                "projects/acme-shared-net/regions/us-central1/forwardingRules/ext-collector",
            ),
            (
                "-q0n04j16h392",
                "www.googleapis.com/compute/beta",
                "projects/acme-prod-platform/regions/europe-west1/forwardingRules/eu-collector-fr",
            ),
        ] {
            let entry = by_record(&observed, insert_id);
            assert_eq!(entry.target.as_deref(), Some(target), "{host}");
        }
        // The collector in another project does not move the policy's own project.
        let patch = by_record(&observed, "-jegesk1zv6ae");
        assert_eq!(patch.account.as_deref(), Some(PROJECT));
        assert_eq!(
            patch.actor.as_deref(),
            Some("svc-backup@acme-prod-platform.iam.gserviceaccount.com")
        );

        for (url, path) in [
            ("https://www.googleapis.com/compute/v1/projects/p/regions/r/forwardingRules/f", "projects/p/regions/r/forwardingRules/f"),
            ("https://compute.googleapis.com/compute/alpha/projects/p/regions/r/forwardingRules/f", "projects/p/regions/r/forwardingRules/f"),
            ("//compute.googleapis.com/projects/p/regions/r/forwardingRules/f", "projects/p/regions/r/forwardingRules/f"),
            ("projects/p/regions/r/forwardingRules/f", "projects/p/regions/r/forwardingRules/f"),
            ("regions/r/forwardingRules/f", "regions/r/forwardingRules/f"),
        ] {
            assert_eq!(collector(url), Some(path), "{url}");
        }
        for not_a_collector in [
            "",
            "https://www.googleapis.com",
            "https://www.googleapis.com/",
            "/",
        ] {
            assert_eq!(collector(not_a_collector), None, "{not_a_collector:?}");
        }
    }

    #[test]
    fn firewall_policy_rules_are_global_and_name_no_target() {
        let observed = all_operations();
        let add = by_record(&observed, "-m2kqx0uq2aw8");
        assert_eq!(
            add.operation,
            "v1.compute.networkFirewallPolicies.addPacketMirroringRule"
        );
        assert_eq!(
            add.resource.as_deref(),
            Some("projects/acme-prod-platform/global/firewallPolicies/fw-policy-mirror")
        );
        assert_eq!(add.region, None);
        assert_eq!(add.account.as_deref(), Some(PROJECT));
        assert_eq!(
            add.target, None,
            "a security profile group is not reported (decision 7)"
        );
        assert_eq!(add.phase, Phase::Intermediate);

        // The look-alike addRule on the same policy is mapped; the catalogue leaves it out.
        let add_rule = by_record(&observed, "-5aefc53my33h");
        assert_eq!(
            add_rule.operation,
            "v1.compute.networkFirewallPolicies.addRule"
        );
        assert!(rule::gcp(add_rule.service.as_deref(), &add_rule.operation).is_none());

        // A regional policy has no region label: the region comes from its path.
        let regional = observe_records("gcp/hypothetical-regional-mirroring-rules.ndjson", observe);
        assert!(regional
            .iter()
            .all(|o| o.region.as_deref() == Some("us-central1")));
    }

    #[test]
    fn organisation_entries_belong_to_their_organisation() {
        let observed = observe_records("gcp/org-firewall-policy-mirroring-rules.ndjson", observe);
        let add = by_record(&observed, "-50o7figrlgf1");
        assert_eq!(
            add.operation,
            "beta.compute.firewallPolicies.addPacketMirroringRule"
        );
        assert_eq!(add.account.as_deref(), Some("organizations/246813579024"));
        assert_eq!(add.region, None);
        assert_eq!(
            add.resource.as_deref(),
            Some("locations/global/firewallPolicies/918273645501")
        );
        assert_eq!(add.actor.as_deref(), Some("secops-admin@acme.example"));
        assert_eq!(
            add.change_id.as_deref(),
            Some("organizations/246813579024|operation-1794484805555-efb1d94f5bef9-44cba582-23763833")
        );
    }

    #[test]
    fn a_redelivered_entry_keeps_its_insert_id() {
        let observed = all_operations();
        let copies: Vec<&Observed> = observed
            .iter()
            .filter(|o| record_id_is(o, "-ihuvwa16exv3"))
            .collect();
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[0].change_id, copies[1].change_id);
        assert_eq!(copies[1].location, location(27));
    }

    #[test]
    fn wrong_shapes_give_none_not_a_panic() {
        for not_an_entry in [
            json!(null),
            json!([]),
            json!("v1.compute.packetMirrorings.insert"),
            json!({}),
            json!({"protoPayload": null}),
            json!({"protoPayload": "v1.compute.packetMirrorings.insert"}),
            json!({"protoPayload": {}}),
            json!({"protoPayload": {"methodName": 7}}),
            json!({"protoPayload": {"methodName": ""}}),
            json!({"methodName": "v1.compute.packetMirrorings.insert"}),
        ] {
            assert!(
                observe(&not_an_entry, &location(1)).is_none(),
                "{not_an_entry}"
            );
        }

        let odd = observe(
            &json!({
                "protoPayload": {
                    "methodName": "v1.compute.packetMirrorings.insert",
                    "serviceName": ["compute.googleapis.com"],
                    "resourceName": 5,
                    "authenticationInfo": "priya@acme.example",
                    "requestMetadata": {"callerIp": ""},
                    "status": null,
                    "request": {"collectorIlb": "https://www.googleapis.com/compute/v1/projects/p/regions/r/forwardingRules/f"}
                },
                "insertId": 12,
                "timestamp": "10 Nov 2026",
                "logName": "projects//logs/x",
                "resource": {"labels": {"project_id": "", "region": null}},
                "operation": {"id": "op-1", "first": "true"}
            }),
            &location(1),
        )
        .expect("the methodName is enough");
        assert_eq!(odd.operation, "v1.compute.packetMirrorings.insert");
        assert_eq!(
            (odd.time, odd.account, odd.region, odd.service, odd.resource),
            (None, None, None, None, None)
        );
        assert_eq!(
            (odd.actor, odd.source_ip, odd.target, odd.record_id),
            (None, None, None, None)
        );
        assert_eq!((odd.outcome, odd.error_code), (Outcome::Success, None));
        assert_eq!(
            odd.phase,
            Phase::Final,
            "a first flag that is not a boolean is not read"
        );
        assert_eq!(
            odd.change_id.as_deref(),
            Some("op-1"),
            "no project to scope it by"
        );
    }

    #[test]
    fn statuses_and_fallbacks() {
        let entry = |status: Value, operation: Value| {
            observe(
                &json!({
                    "protoPayload": {
                        "methodName": "v1.compute.packetMirrorings.delete",
                        "status": status,
                        "authenticationInfo": {"principalSubject": "principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s"},
                        "resourceName": "//compute.googleapis.com/projects/p-1/regions/asia-east1/packetMirrorings/m"
                    },
                    "logName": "projects/p-2/logs/cloudaudit.googleapis.com%2Factivity",
                    "operation": operation
                }),
                &location(1),
            )
            .expect("mapped")
        };
        let failed = |status: Value| entry(status, Value::Null).error_code;
        assert_eq!(failed(json!({})), None);
        assert_eq!(failed(json!({"code": 0})), None);
        assert_eq!(failed(json!({"code": "0"})), None);
        assert_eq!(
            failed(json!({"code": 7, "message": "PERMISSION_DENIED"})).as_deref(),
            Some("7 PERMISSION_DENIED")
        );
        assert_eq!(
            failed(json!({"code": " 5 "})).as_deref(),
            Some("5 NOT_FOUND")
        );
        assert_eq!(
            failed(json!({"code": 16})).as_deref(),
            Some("16 UNAUTHENTICATED")
        );
        assert_eq!(failed(json!({"code": 42})).as_deref(), Some("42"));
        // Forwarders' spellings: a float, a name; a code that cannot be read as zero is a
        // failure, kept as written.
        assert_eq!(
            failed(json!({"code": 7.0})).as_deref(),
            Some("7 PERMISSION_DENIED")
        );
        assert_eq!(
            failed(json!({"code": "PERMISSION_DENIED"})).as_deref(),
            Some("PERMISSION_DENIED")
        );
        assert_eq!(failed(json!({"code": "OK"})), None);
        assert_eq!(failed(json!({"code": -1})).as_deref(), Some("-1"));
        assert_eq!(failed(json!({"code": true})).as_deref(), Some("true"));
        // A status that is not an object has no code.
        assert_eq!(failed(json!("PERMISSION_DENIED")), None);
        assert_eq!(
            entry(json!({"code": 9}), Value::Null).outcome,
            Outcome::Failure
        );

        let both = entry(
            Value::Null,
            json!({"id": "op-9", "first": true, "last": true}),
        );
        assert_eq!(both.phase, Phase::Final, "a one-entry operation is final");
        assert_eq!(
            entry(Value::Null, json!({"id": "op-9", "first": true})).phase,
            Phase::Intermediate
        );
        assert_eq!(
            entry(Value::Null, json!({"id": "op-9", "last": true})).phase,
            Phase::Final
        );
        // No labels: project and region from the full resource name, before the log's project.
        assert_eq!(both.account.as_deref(), Some("p-1"));
        assert_eq!(both.region.as_deref(), Some("asia-east1"));
        assert_eq!(both.change_id.as_deref(), Some("p-1|op-9"));
        assert_eq!(
            both.actor.as_deref(),
            Some("principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s")
        );
    }

    #[test]
    fn the_account_falls_back_on_the_log_parent() {
        let account = |log_name: &str| {
            observe(
                &json!({"protoPayload": {"methodName": "m"}, "logName": log_name}),
                &location(1),
            )
            .and_then(|o| o.account)
        };
        assert_eq!(
            account("projects/p-3/logs/cloudaudit.googleapis.com%2Factivity").as_deref(),
            Some("p-3")
        );
        assert_eq!(
            account("folders/123/logs/cloudaudit.googleapis.com%2Factivity").as_deref(),
            Some("folders/123")
        );
        assert_eq!(
            account("billingAccounts/0A-1B/logs/x").as_deref(),
            Some("billingAccounts/0A-1B")
        );
        for no_parent in [
            "projects/p-3",
            "projects//logs/x",
            "things/t/logs/x",
            "projects/a/b/logs/x",
            "",
        ] {
            assert_eq!(account(no_parent), None, "{no_parent}");
        }
        assert_eq!(
            segment_after("/SUBSCRIPTIONS/ABC/resourceGroups/rg", "subscriptions"),
            Some("ABC")
        );
        assert_eq!(segment_after("projects/p/regions/", "regions"), None);
        assert_eq!(segment_after("projects/p", "regions"), None);
    }
}
