//! Azure Activity Log records, in the two shapes they are exported in:
//!
//! - [`observe_rest`]: one `EventData` of the REST API (`{"value":[…],"nextLink":…}`, also what
//!   `az monitor activity-log list` prints): camelCase, `operationName`, `status` and
//!   `subStatus` as `{value, localizedValue}`, `eventTimestamp`, `caller`, `claims`,
//!   `eventDataId`, `subscriptionId`, `httpRequest.clientIpAddress`;
//! - [`observe_diagnostic`]: one record of a diagnostic-settings export (Event Hubs
//!   `{"records":[…]}` batches, storage JSON Lines): `operationName` a plain string, often in
//!   upper case, `time`, `resultType`, `resultSignature`, `callerIpAddress`,
//!   `identity.claims`.
//!
//! Read as documented (verified, see `tests/fixtures/audit/NOTES.md`): the fields above,
//! `resourceId`, `correlationId` and `properties.statusCode` in both shapes. Letter case is
//! not significant in Azure names and ids, and exports differ in it: operation names and
//! resource ids are kept as the log writes them (the catalogue and the grouping compare them
//! case-insensitively), while the subscription and the actor, which allowlists name, are
//! lower-cased.
//!
//! Inferred:
//! - `resultType` is read in both spellings (`Start`/`Success`/`Failure` as exports write it,
//!   `Started`/`Succeeded`/`Failed` as the REST status is spelt), and when it is absent the
//!   status in front of `resultSignature` (`Failed.Forbidden`) stands in for it;
//! - a service principal's `caller` is its object id, and its claims carry no UPN or name,
//!   only the `objectidentifier` claim;
//! - where Chronicle puts an Activity Log record's fields is not documented: this project
//!   assumes the operation name goes to `metadata.product_event_type` and the resource id to
//!   `target.resource.name`, which is what the original rule is evaluated on.
//!
//! Never read: a region (Azure scopes are subscription-wide, CONTRACTS §1, so the diagnostic
//! `location` is ignored) and a target (CONTRACTS §3: an Activity Log write names none; the
//! Started record's `properties.requestbody` can, see NOTES.md decision 8).

use super::cloudtrail::nonempty;
use super::gcp::segment_after;
use super::{at, text, timestamp};
use crate::audit::{Location, Observed, Outcome, Phase};
use crate::model::Provider;
use serde_json::Value;

/// The claims that name the caller, in the order they are tried: a user's UPN, else the name
/// claim (users without a UPN, such as guests), else the object id, which is all a service
/// principal or managed identity has. The bare `name` claim is a display name and is not used.
const ACTOR_CLAIMS: [&str; 3] = [
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
];

/// Maps one REST `EventData`. `None` when it names no operation (or is not an object).
pub fn observe_rest(record: &Value, location: &Location) -> Option<Observed> {
    Some(observed(
        record,
        location,
        Shape {
            operation: localized(record, "operationName")?,
            time: text(record, &["eventTimestamp"]),
            status: localized(record, "status"),
            http_status: localized(record, "subStatus"),
            caller: nonempty(record, &["caller"]).or_else(|| claimed(at(record, &["claims"]))),
            object_id: object_id(at(record, &["claims"])),
            source_ip: nonempty(record, &["httpRequest", "clientIpAddress"]),
            record_id: nonempty(record, &["eventDataId"]),
        },
    ))
}

/// Maps one diagnostic-settings record. `None` when it names no operation (or is not an
/// object). The schema has no `eventDataId`: an exact duplicate delivery collapses through the
/// change it belongs to instead.
pub fn observe_diagnostic(record: &Value, location: &Location) -> Option<Observed> {
    // `Started.`, `Succeeded.Created`, `Succeeded.OK`, `Failed.Forbidden`: the status, then the
    // HTTP status the subStatus held.
    let (signed_status, signed_http) = match nonempty(record, &["resultSignature"]) {
        Some(signature) => match signature.split_once('.') {
            Some((status, http)) => (Some(status), Some(http).filter(|h| !h.is_empty())),
            None => (Some(signature), None),
        },
        None => (None, None),
    };
    Some(observed(
        record,
        location,
        Shape {
            operation: localized(record, "operationName")?,
            time: text(record, &["time"]),
            status: nonempty(record, &["resultType"]).or(signed_status),
            http_status: signed_http,
            caller: claimed(at(record, &["identity", "claims"]))
                .or_else(|| nonempty(record, &["caller"])),
            object_id: object_id(at(record, &["identity", "claims"])),
            source_ip: nonempty(record, &["callerIpAddress"]),
            record_id: None,
        },
    ))
}

/// What the two shapes spell differently; everything else is read the same way.
struct Shape<'a> {
    operation: &'a str,
    time: Option<&'a str>,
    /// Started, Accepted, Succeeded, Failed, Canceled (REST `status`, diagnostic `resultType`).
    status: Option<&'a str>,
    /// The HTTP status ARM answered with: `Created`, `OK`, `Forbidden` (REST `subStatus`,
    /// diagnostic `resultSignature` after the dot); `properties.statusCode` is read after it.
    http_status: Option<&'a str>,
    caller: Option<&'a str>,
    /// The caller's object id claim: the second name an allowlist may know a user by
    /// (CONTRACTS §4), kept next to the UPN the caller field gives.
    object_id: Option<&'a str>,
    source_ip: Option<&'a str>,
    record_id: Option<&'a str>,
}

/// The call a record of either shape describes, from what its shape spells its own way and
/// the fields both shapes share.
fn observed(record: &Value, location: &Location, shape: Shape) -> Observed {
    let resource = nonempty(record, &["resourceId"]);
    let http_status = [
        shape.http_status,
        nonempty(record, &["properties", "statusCode"]),
    ];
    let is = |names: &[&str]| {
        shape
            .status
            .is_some_and(|s| names.iter().any(|name| s.trim().eq_ignore_ascii_case(name)))
    };
    // A Canceled operation may already have changed the resource: only a failure is reported
    // as one.
    let outcome = if is(&["Failed", "Failure"]) {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    let phase = if is(&["Started", "Start", "Accepted"]) {
        Phase::Intermediate
    } else {
        Phase::Final
    };
    // ARM answers 200 (OK) to a write that replaced an existing resource, 201 (Created) to a
    // creation: the only sign in the log that a write was an update.
    let updated_existing = outcome == Outcome::Success
        && phase == Phase::Final
        && http_status
            .into_iter()
            .flatten()
            .any(|code| code.eq_ignore_ascii_case("OK") || code == "200");
    Observed {
        provider: Provider::Azure,
        time: shape.time.and_then(timestamp),
        account: nonempty(record, &["subscriptionId"])
            .or_else(|| resource.and_then(|r| segment_after(r, "subscriptions")))
            .map(str::to_lowercase),
        region: None,
        operation: shape.operation.to_string(),
        service: None,
        outcome,
        phase,
        dry_run: false,
        error_code: http_status
            .into_iter()
            .flatten()
            .next()
            .filter(|_| outcome == Outcome::Failure)
            .map(str::to_string),
        actor: shape.caller.map(str::to_lowercase),
        actor_session: shape
            .object_id
            .filter(|id| shape.caller.is_none_or(|c| !c.eq_ignore_ascii_case(id)))
            .map(str::to_lowercase),
        source_ip: shape.source_ip.map(str::to_string),
        invoked_by: None,
        resource: resource.map(str::to_string),
        target: None,
        created_mirror_target: None,
        updated_existing,
        record_id: shape.record_id.map(str::to_string),
        // One ARM deployment shares its correlationId across every resource it touches:
        // resource and operation narrow it to one write. Letter case differs between exports
        // of one change, so both are lower-cased.
        change_id: nonempty(record, &["correlationId"]).map(|correlation| {
            format!(
                "{correlation}|{}|{}",
                resource.unwrap_or_default().to_lowercase(),
                shape.operation.to_lowercase()
            )
        }),
        udm_event_type: Some(shape.operation.to_string()),
        udm_resource_name: resource.map(str::to_string),
        location: location.clone(),
    }
}

/// The `value` of a REST `{value, localizedValue}` pair, or the plain string the diagnostic
/// shape writes in its place.
fn localized<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    nonempty(record, &[key, "value"]).or_else(|| nonempty(record, &[key]))
}

/// The object id claim, whoever the caller is.
fn object_id(claims: Option<&Value>) -> Option<&str> {
    nonempty(claims?, &[ACTOR_CLAIMS[2]])
}

/// The caller the token's claims name (see [`ACTOR_CLAIMS`]).
fn claimed(claims: Option<&Value>) -> Option<&str> {
    let claims = claims?;
    ACTOR_CLAIMS
        .iter()
        .find_map(|claim| nonempty(claims, &[claim]))
}

#[cfg(test)]
mod tests {
    use super::super::cloudtrail::tests::{check_oracle, location};
    use super::super::gcp::tests::{by_record, observe_records};
    use super::*;
    use serde_json::json;

    const SUBSCRIPTION: &str = "6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f";
    const VTAP: &str = "/subscriptions/6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f/resourceGroups/rg-netmon/providers/Microsoft.Network/virtualNetworkTaps/vtap-debug";
    const VTAP_IDS: &str = "/SUBSCRIPTIONS/6F1C2E3D-4B5A-4C6D-8E7F-0A1B2C3D4E5F/RESOURCEGROUPS/RG-NETMON/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/VTAP-IDS";
    const SERVICE_PRINCIPAL: &str = "3f2e1d0c-9b8a-4765-8432-10fedcba9876";

    fn rest() -> Vec<Observed> {
        observe_records("azure/seed-test2-rest.json", observe_rest)
    }

    fn diagnostic() -> Vec<Observed> {
        observe_records("azure/all-operations-diagnostic.json", observe_diagnostic)
    }

    /// The diagnostic records (which have no id of their own) of `operation` at `time`.
    fn at_time<'a>(observed: &'a [Observed], operation: &str, time: &str) -> Vec<&'a Observed> {
        observed
            .iter()
            .filter(|o| o.operation == operation && o.time == timestamp(time))
            .collect()
    }

    fn one<'a>(observed: &'a [Observed], operation: &str, time: &str) -> &'a Observed {
        let found = at_time(observed, operation, time);
        assert_eq!(found.len(), 1, "{operation} at {time}");
        found[0]
    }

    #[test]
    fn every_fixture_event_reads_straight_from_its_record() {
        assert_eq!(
            check_oracle("azure/events-diagnostic.ndjson", observe_diagnostic),
            2
        );
    }

    #[test]
    fn every_record_with_an_operation_is_mapped() {
        for (observed, records) in [
            (rest(), 8),
            (diagnostic(), 26),
            (
                observe_records("azure/events-diagnostic.ndjson", observe_diagnostic),
                6,
            ),
        ] {
            assert_eq!(observed.len(), records);
            assert!(observed.iter().all(|o| o.provider == Provider::Azure
                && o.account.as_deref() == Some(SUBSCRIPTION)
                && o.region.is_none()
                && o.service.is_none()
                && o.target.is_none()
                && !o.dry_run
                && o.change_id.is_some()
                && o.udm_event_type.as_deref() == Some(o.operation.as_str())
                && o.udm_resource_name == o.resource));
        }
        assert!(diagnostic().iter().all(|o| o.record_id.is_none()));
    }

    #[test]
    fn rest_started_and_succeeded_records_of_one_write() {
        let observed = rest();
        let started = by_record(&observed, "bb3026f1-f74f-4f87-ab16-28a01effb718");
        let succeeded = by_record(&observed, "4724c578-b935-4044-aa50-a144d1fa36eb");
        for record in [started, succeeded] {
            assert_eq!(
                record.operation,
                "Microsoft.Network/virtualNetworkTaps/write"
            );
            assert_eq!(record.account.as_deref(), Some(SUBSCRIPTION));
            assert_eq!(record.actor.as_deref(), Some("dana.okafor@acme.example"));
            assert_eq!(record.source_ip.as_deref(), Some("198.51.100.61"));
            assert_eq!(record.resource.as_deref(), Some(VTAP));
            assert_eq!(record.outcome, Outcome::Success);
            assert_eq!(record.error_code, None);
            assert!(!record.updated_existing, "201 Created is a creation");
        }
        assert_eq!(
            (started.phase, succeeded.phase),
            (Phase::Intermediate, Phase::Final)
        );
        assert_eq!(started.time, timestamp("2026-11-10T11:02:24.7716041Z"));
        assert_eq!(succeeded.time, timestamp("2026-11-10T11:02:31.2290518Z"));
        assert_eq!(
            started.change_id.as_deref(),
            Some("47d71c79-2b9b-43f4-abf6-e4829fe1edba|/subscriptions/6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f/resourcegroups/rg-netmon/providers/microsoft.network/virtualnetworktaps/vtap-debug|microsoft.network/virtualnetworktaps/write")
        );
        assert_eq!(succeeded.change_id, started.change_id);

        // The tapConfiguration of the same deployment is a change of its own.
        let tap = by_record(&observed, "706ccffd-862b-4b5b-8424-5dea6dcb1097");
        assert_eq!(
            tap.operation,
            "Microsoft.Network/networkInterfaces/tapConfigurations/write"
        );
        assert_eq!(tap.time, timestamp("2026-11-10T11:02:40.1358807Z"));
        assert_eq!(tap.phase, Phase::Intermediate);
        assert_eq!(
            tap.resource.as_deref(),
            Some("/subscriptions/6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f/resourceGroups/rg-netmon/providers/Microsoft.Network/networkInterfaces/nic-web-01/tapConfigurations/tapcfg-web-01")
        );
        assert_ne!(tap.change_id, started.change_id);
        assert!(tap
            .change_id
            .as_deref()
            .is_some_and(|c| c.starts_with("47d71c79-")));

        // 200 OK to a write: the NIC already existed.
        let nic = by_record(&observed, "77b9b852-0604-4d0d-8f7f-716ffd4a2231");
        assert_eq!(nic.operation, "Microsoft.Network/networkInterfaces/write");
        assert!(nic.updated_existing);
        assert_eq!(nic.phase, Phase::Final);
    }

    #[test]
    fn upper_case_exports_keep_their_names_and_lower_case_who_and_where() {
        let observed = diagnostic();
        let start = one(
            &observed,
            "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE",
            "2026-11-11T12:00:04.1102213Z",
        );
        let success = one(
            &observed,
            "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE",
            "2026-11-11T12:00:10.2302213Z",
        );
        assert_eq!(start.resource.as_deref(), Some(VTAP_IDS));
        assert_eq!(start.account.as_deref(), Some(SUBSCRIPTION));
        assert_eq!(start.actor.as_deref(), Some("dana.okafor@acme.example"));
        assert_eq!(start.source_ip.as_deref(), Some("198.51.100.61"));
        assert_eq!(
            (start.phase, success.phase),
            (Phase::Intermediate, Phase::Final)
        );
        assert_eq!(
            (start.outcome, success.outcome),
            (Outcome::Success, Outcome::Success)
        );
        assert_eq!(success.change_id, start.change_id);
        assert!(!success.updated_existing, "Succeeded.Created");
        assert_eq!(
            start.change_id.as_deref(),
            Some("fcfa2ccc-edeb-409b-a1f4-70aea0e1bfdc|/subscriptions/6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f/resourcegroups/rg-netmon/providers/microsoft.network/virtualnetworktaps/vtap-ids|microsoft.network/virtualnetworktaps/write")
        );
    }

    #[test]
    fn a_service_principal_update_is_named_by_its_object_id() {
        let observed = diagnostic();
        let start = one(
            &observed,
            "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE",
            "2026-11-11T12:20:30.5540021Z",
        );
        let update = one(
            &observed,
            "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE",
            "2026-11-11T12:20:34.9640021Z",
        );
        assert_eq!(start.actor.as_deref(), Some(SERVICE_PRINCIPAL));
        assert_eq!(update.actor.as_deref(), Some(SERVICE_PRINCIPAL));
        assert_eq!(update.source_ip.as_deref(), Some("20.50.1.10"));
        assert!(update.updated_existing, "Succeeded.OK is an update");
        assert!(!start.updated_existing, "a Started record says nothing yet");
        assert_eq!(update.change_id, start.change_id);

        let tap_update = one(
            &observed,
            "MICROSOFT.NETWORK/NETWORKINTERFACES/TAPCONFIGURATIONS/WRITE",
            "2026-11-11T13:05:25.3921009Z",
        );
        assert!(tap_update.updated_existing);
        assert_eq!(tap_update.actor.as_deref(), Some(SERVICE_PRINCIPAL));
    }

    #[test]
    fn refused_calls_are_single_final_failures() {
        let observed = diagnostic();
        let refused = one(
            &observed,
            "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE",
            "2026-11-11T12:31:12.9005133Z",
        );
        assert_eq!(refused.outcome, Outcome::Failure);
        assert_eq!(refused.phase, Phase::Final);
        assert_eq!(refused.error_code.as_deref(), Some("Forbidden"));
        assert!(!refused.updated_existing);
        assert_eq!(refused.actor.as_deref(), Some("mallory.kane@acme.example"));
        assert_eq!(refused.source_ip.as_deref(), Some("203.0.113.77"));
        assert_eq!(
            refused.resource.as_deref(),
            Some("/SUBSCRIPTIONS/6F1C2E3D-4B5A-4C6D-8E7F-0A1B2C3D4E5F/RESOURCEGROUPS/RG-NETMON/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/VTAP-EXFIL")
        );
        // The refused join/action and the tapConfiguration write it was for share a
        // correlationId but are two changes.
        let join = one(
            &observed,
            "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/JOIN/ACTION",
            "2026-11-11T12:52:44.1904415Z",
        );
        let linked = one(
            &observed,
            "MICROSOFT.NETWORK/NETWORKINTERFACES/TAPCONFIGURATIONS/WRITE",
            "2026-11-11T12:52:44.2512960Z",
        );
        assert_eq!(
            (join.outcome, linked.outcome),
            (Outcome::Failure, Outcome::Failure)
        );
        assert_ne!(join.change_id, linked.change_id);
        assert!(linked
            .change_id
            .as_deref()
            .is_some_and(|c| c.starts_with("398d9703-")));
        assert!(join
            .change_id
            .as_deref()
            .is_some_and(|c| c.starts_with("398d9703-")));
    }

    #[test]
    fn an_exact_duplicate_delivery_joins_its_change() {
        let observed = diagnostic();
        let copies = at_time(
            &observed,
            "MICROSOFT.NETWORK/NETWORKINTERFACES/TAPCONFIGURATIONS/WRITE",
            "2026-11-11T12:40:11.8687702Z",
        );
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[0].change_id, copies[1].change_id);
        assert_ne!(copies[0].location, copies[1].location);
        let started = one(
            &observed,
            "MICROSOFT.NETWORK/NETWORKINTERFACES/TAPCONFIGURATIONS/WRITE",
            "2026-11-11T12:40:01.9987702Z",
        );
        assert_eq!(started.change_id, copies[0].change_id);
    }

    #[test]
    fn mixed_case_names_and_upn_in_json_lines() {
        let observed = observe_records("azure/events-diagnostic.ndjson", observe_diagnostic);
        let tap = one(
            &observed,
            "microsoft.network/networkinterfaces/tapconfigurations/write",
            "2026-11-12T22:16:40.8702116Z",
        );
        assert_eq!(tap.actor.as_deref(), Some("ops.bot@acme.example"));
        assert_eq!(tap.phase, Phase::Intermediate);
        assert_eq!(
            tap.resource.as_deref(),
            Some("/subscriptions/6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f/resourceGroups/rg-debug/providers/Microsoft.Network/networkInterfaces/nic-pay-02/tapConfigurations/tapcfg-pay-02")
        );
    }

    #[test]
    fn statuses_in_every_spelling() {
        let diagnostic = |result_type: Value, signature: Value| {
            observe_diagnostic(
                &json!({
                    "operationName": "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE",
                    "resultType": result_type,
                    "resultSignature": signature
                }),
                &location(1),
            )
            .map(|o| (o.outcome, o.phase, o.error_code, o.updated_existing))
            .expect("mapped")
        };
        use Outcome::{Failure, Success};
        use Phase::{Final, Intermediate};
        for (result_type, signature, want) in [
            (
                json!("Start"),
                json!("Started."),
                (Success, Intermediate, None, false),
            ),
            (
                json!("Started"),
                Value::Null,
                (Success, Intermediate, None, false),
            ),
            (
                json!("Accepted"),
                json!("Accepted.Accepted"),
                (Success, Intermediate, None, false),
            ),
            (
                json!("Success"),
                json!("Succeeded.OK"),
                (Success, Final, None, true),
            ),
            (
                json!("SUCCEEDED"),
                json!("SUCCEEDED.CREATED"),
                (Success, Final, None, false),
            ),
            (
                json!("Failure"),
                json!("Failed.Forbidden"),
                (Failure, Final, Some("Forbidden".into()), false),
            ),
            (
                json!("failed"),
                json!("Failed.Conflict"),
                (Failure, Final, Some("Conflict".into()), false),
            ),
            (
                json!("Canceled"),
                Value::Null,
                (Success, Final, None, false),
            ),
            // No resultType: the signature's status stands in.
            (
                Value::Null,
                json!("FAILED.FORBIDDEN"),
                (Failure, Final, Some("FORBIDDEN".into()), false),
            ),
            (
                Value::Null,
                json!("Started."),
                (Success, Intermediate, None, false),
            ),
            (
                json!(""),
                json!("Succeeded.OK"),
                (Success, Final, None, true),
            ),
            (Value::Null, Value::Null, (Success, Final, None, false)),
            (
                json!(3),
                json!(["Failed.Forbidden"]),
                (Success, Final, None, false),
            ),
        ] {
            assert_eq!(
                diagnostic(result_type.clone(), signature.clone()),
                want,
                "{result_type} {signature}"
            );
        }

        let rest = |status: Value, sub_status: Value, properties: Value| {
            observe_rest(
                &json!({
                    "operationName": {"value": "Microsoft.Network/virtualNetworkTaps/delete"},
                    "status": status,
                    "subStatus": sub_status,
                    "properties": properties
                }),
                &location(1),
            )
            .map(|o| (o.outcome, o.phase, o.error_code, o.updated_existing))
            .expect("mapped")
        };
        assert_eq!(
            rest(Value::Null, Value::Null, Value::Null),
            (Success, Final, None, false)
        );
        assert_eq!(
            rest(
                json!({"value": "Accepted"}),
                json!({"value": ""}),
                json!({})
            ),
            (Success, Intermediate, None, false)
        );
        assert_eq!(
            rest(json!("Succeeded"), json!("OK"), json!({})),
            (Success, Final, None, true)
        );
        assert_eq!(
            rest(
                json!({"value": "Succeeded"}),
                json!({"value": ""}),
                json!({"statusCode": "OK"})
            ),
            (Success, Final, None, true)
        );
        assert_eq!(
            rest(
                json!({"value": "Succeeded"}),
                json!({"value": "Created"}),
                json!({"statusCode": "Created"})
            ),
            (Success, Final, None, false)
        );
        assert_eq!(
            rest(
                json!({"value": "Failed"}),
                json!({"value": ""}),
                json!({"statusCode": "Forbidden"})
            ),
            (Failure, Final, Some("Forbidden".into()), false)
        );
        assert_eq!(
            rest(
                json!({"value": "Failed"}),
                json!({"value": "NotFound"}),
                json!({"statusCode": "Conflict"})
            ),
            (Failure, Final, Some("NotFound".into()), false)
        );
    }

    #[test]
    fn callers_claims_and_subscriptions() {
        let upn = ACTOR_CLAIMS[0];
        let name = ACTOR_CLAIMS[1];
        let oid = ACTOR_CLAIMS[2];
        let actor = |claims: Value, caller: Value| {
            observe_diagnostic(
                &json!({"operationName": "x/write", "identity": {"claims": claims}, "caller": caller}),
                &location(1),
            )
            .and_then(|o| o.actor)
        };
        let both =
            json!({upn: "A@X.example", name: "b@x.example", oid: "C-1", "name": "Display Name"});
        assert_eq!(actor(both, Value::Null).as_deref(), Some("a@x.example"));
        assert_eq!(
            actor(
                json!({name: "Guest#EXT#@x.example", oid: "c-1"}),
                Value::Null
            )
            .as_deref(),
            Some("guest#ext#@x.example")
        );
        assert_eq!(
            actor(json!({oid: "C-1", "name": "Display Name"}), Value::Null).as_deref(),
            Some("c-1")
        );
        assert_eq!(
            actor(json!({"name": "Display Name"}), json!("Caller@X.example")).as_deref(),
            Some("caller@x.example")
        );
        assert_eq!(actor(json!("not claims"), Value::Null), None);

        // REST: `caller` first, the claims when it is missing.
        let rest = observe_rest(
            &json!({
                "operationName": {"value": "x/write"},
                "claims": {oid: "D-2"},
                "resourceId": "/subscriptions/AAAA-1/resourceGroups/rg/providers/p/t/n",
                "correlationId": "c-9"
            }),
            &location(1),
        )
        .expect("mapped");
        assert_eq!(rest.actor.as_deref(), Some("d-2"));
        assert_eq!(rest.account.as_deref(), Some("aaaa-1"));
        assert_eq!(
            rest.change_id.as_deref(),
            Some("c-9|/subscriptions/aaaa-1/resourcegroups/rg/providers/p/t/n|x/write")
        );
        let named = observe_rest(
            &json!({"operationName": {"value": "x/write"}, "caller": "SP-Object-Id", "claims": {upn: "u@x"}, "subscriptionId": "BBBB-2", "resourceId": "/subscriptions/aaaa-1/x"}),
            &location(1),
        )
        .expect("mapped");
        assert_eq!(named.actor.as_deref(), Some("sp-object-id"));
        assert_eq!(
            named.account.as_deref(),
            Some("bbbb-2"),
            "subscriptionId wins over the path"
        );
    }

    #[test]
    fn wrong_shapes_give_none_not_a_panic() {
        for not_a_record in [
            json!(null),
            json!([]),
            json!("Microsoft.Network/virtualNetworkTaps/write"),
            json!({}),
            json!({"operationName": null}),
            json!({"operationName": 5}),
            json!({"operationName": ""}),
            json!({"operationName": {"value": ""}}),
            json!({"operationName": {"localizedValue": "Microsoft.Network/virtualNetworkTaps/write"}}),
            json!({"operationName": ["Microsoft.Network/virtualNetworkTaps/write"]}),
        ] {
            assert!(
                observe_rest(&not_a_record, &location(1)).is_none(),
                "{not_a_record}"
            );
            assert!(
                observe_diagnostic(&not_a_record, &location(1)).is_none(),
                "{not_a_record}"
            );
        }
        let odd = json!({
            "operationName": {"value": "Microsoft.Network/virtualNetworkTaps/write"},
            "eventTimestamp": "yesterday",
            "time": 1,
            "status": null,
            "subStatus": 201,
            "caller": ["x"],
            "claims": null,
            "identity": "x",
            "httpRequest": "198.51.100.1",
            "callerIpAddress": {},
            "resourceId": "/resourceGroups/rg",
            "subscriptionId": 7,
            "correlationId": "",
            "eventDataId": false,
            "properties": "statusCode=OK"
        });
        for mapped in [
            observe_rest(&odd, &location(1)),
            observe_diagnostic(&odd, &location(1)),
        ] {
            let odd = mapped.expect("the operation name is enough");
            assert_eq!(odd.operation, "Microsoft.Network/virtualNetworkTaps/write");
            assert_eq!(
                (odd.time, odd.account, odd.actor, odd.source_ip),
                (None, None, None, None)
            );
            assert_eq!(
                (odd.record_id, odd.change_id, odd.error_code),
                (None, None, None)
            );
            assert_eq!(odd.resource.as_deref(), Some("/resourceGroups/rg"));
            assert_eq!(
                (odd.outcome, odd.phase, odd.updated_existing),
                (Outcome::Success, Phase::Final, false)
            );
        }
    }
}
