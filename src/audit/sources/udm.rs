//! Chronicle UDM events: one event in the snake_case JSON of the ingestion API and exports,
//! as Chronicle's parsers made it from a CloudTrail, Azure Activity or Cloud Audit Logs record.
//! [`observe`] maps it into the same [`Observed`] the raw-format mappers produce, so a change
//! logged through Chronicle and logged raw reads the same.
//!
//! Read as documented (verified, see `tests/fixtures/audit/NOTES.md`):
//! `metadata.{product_event_type, vendor_name, product_name, product_log_id, event_timestamp}`,
//! `principal.user.{userid, email_addresses}`, `principal.ip` (a list), `target.resource.name`,
//! `security_result` (a list, `action` a list holding ALLOW/BLOCK), and `additional.fields` as a
//! list of `{key, value:{string_value}}`.
//!
//! Inferred (NOTES.md convention 12): account and region in
//! `target.resource.attribute.cloud.{project.name, availability_zone}`; the AWS errorCode in
//! the blocking `security_result.rule_id`; the record's own id (eventID, eventDataId,
//! insertId) in `product_log_id`; Azure `correlationId` / `status` / `statusCode` and GCP
//! `operation_id` / `operation_first` / `operation_last` in `additional.fields`. UDM keeps no
//! destination and no service name, so `target` and `service` stay `None`; an AWS role ARN is
//! rebuilt from the session ARN in `principal.user.userid`, which loses the role's path.

use super::cloudtrail::{is_dry_run, nonempty, role_of_session};
use super::{at, text, timestamp};
use crate::audit::{Location, Observed, Outcome, Phase};
use crate::model::Provider;
use serde_json::Value;

/// Maps one UDM event. The operation is `metadata.product_event_type` (the provider's own name
/// for the call, which the catalogue keys on), else the generic `metadata.event_type`, which
/// no catalogue entry matches but the original rule's `target.resource.name` pattern may.
/// `None` when it has neither (or is not an object).
pub fn observe(record: &Value, location: &Location) -> Option<Observed> {
    let product_event_type = nonempty(record, &["metadata", "product_event_type"]);
    let operation = product_event_type.or_else(|| nonempty(record, &["metadata", "event_type"]))?;
    let provider = provider(
        record,
        operation,
        nonempty(record, &["target", "resource", "name"]),
    );
    let resource = nonempty(record, &["target", "resource", "name"]);
    let cloud = at(record, &["target", "resource", "attribute", "cloud"]);
    let blocked = blocking_result(record);
    // Azure's own status, where the parser kept it, says Failed even when no security result
    // blocks (that Chronicle's Azure parser sets BLOCK is only inferred).
    let azure_failed = provider == Provider::Azure
        && field(record, "status")
            .is_some_and(|s| s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("Failure"));
    let error_code = blocked.and_then(|result| nonempty(result, &["rule_id"]));
    let (actor, actor_session) = actor(record, provider);
    let account = cloud.and_then(|c| nonempty(c, &["project", "name"]));
    Some(Observed {
        provider,
        time: text(record, &["metadata", "event_timestamp"]).and_then(timestamp),
        account: account.map(|a| match provider {
            Provider::Azure => a.to_lowercase(),
            _ => a.to_string(),
        }),
        region: cloud
            .and_then(|c| nonempty(c, &["availability_zone"]))
            .map(str::to_string),
        operation: operation.to_string(),
        service: None,
        outcome: if blocked.is_some() || azure_failed {
            Outcome::Failure
        } else {
            Outcome::Success
        },
        phase: phase(record, provider),
        dry_run: error_code.is_some_and(is_dry_run),
        error_code: error_code.map(str::to_string),
        actor,
        actor_session,
        source_ip: first_text(at(record, &["principal", "ip"])).map(str::to_string),
        invoked_by: None,
        resource: resource.map(str::to_string),
        target: None,
        // Without the destination there is nothing to resolve a `tmt-…` to.
        created_mirror_target: None,
        // ARM answers 200 (OK) to a write that updated an existing resource, 201 to a creation.
        updated_existing: provider == Provider::Azure
            && field(record, "statusCode")
                .is_some_and(|code| code.eq_ignore_ascii_case("OK") || code == "200"),
        record_id: nonempty(record, &["metadata", "product_log_id"]).map(str::to_string),
        change_id: change_id(record, provider, operation, resource, account),
        udm_event_type: product_event_type.map(str::to_string),
        udm_resource_name: resource.map(str::to_string),
        location: location.clone(),
    })
}

/// The cloud the event came from: the parser's vendor and product say it (AMAZON / AWS
/// CloudTrail, MICROSOFT / Azure Activity, GOOGLE / Google Cloud Platform), and when they are
/// missing or unknown, the shape of the operation name does.
fn provider(record: &Value, operation: &str, resource: Option<&str>) -> Provider {
    let metadata =
        ["vendor_name", "product_name", "log_type"].map(|key| text(record, &["metadata", key]));
    let environment = text(
        record,
        &["target", "resource", "attribute", "cloud", "environment"],
    );
    metadata
        .into_iter()
        .chain([environment])
        .flatten()
        .find_map(provider_named)
        .or_else(|| resource.and_then(provider_of_resource))
        .unwrap_or_else(|| provider_of_operation(operation))
}

fn provider_named(name: &str) -> Option<Provider> {
    let name = name.to_ascii_lowercase();
    if name.contains("amazon") || name.contains("aws") {
        Some(Provider::Aws)
    } else if name.contains("microsoft") || name.contains("azure") {
        Some(Provider::Azure)
    } else if name.contains("google") || name.contains("gcp") {
        Some(Provider::Gcp)
    } else {
        None
    }
}

/// An ARM resource id (`/subscriptions/…/providers/Microsoft.…`) is Azure's, a `projects/…`
/// name GCP's: what tells the cloud of an event whose operation is only a generic event type.
fn provider_of_resource(resource: &str) -> Option<Provider> {
    let lower = resource.to_ascii_lowercase();
    if lower.starts_with("/subscriptions/") || lower.contains("/providers/microsoft.") {
        Some(Provider::Azure)
    } else if lower.starts_with("projects/") || lower.contains("googleapis.com/") {
        Some(Provider::Gcp)
    } else {
        None
    }
}

/// Azure operations are `Microsoft.<Provider>/<type>/<verb>`, GCP methodNames dotted
/// (`v1.compute.packetMirrorings.insert`), AWS eventNames bare (`CreateTrafficMirrorSession`).
fn provider_of_operation(operation: &str) -> Provider {
    if operation.contains('/') {
        Provider::Azure
    } else if operation.contains('.') {
        Provider::Gcp
    } else {
        Provider::Aws
    }
}

/// Who made the call, spelled as the raw-format mappers spell it, and the AWS session.
fn actor(record: &Value, provider: Provider) -> (Option<String>, Option<String>) {
    let userid = nonempty(record, &["principal", "user", "userid"]);
    let email = first_text(at(record, &["principal", "user", "email_addresses"]));
    match provider {
        // Chronicle keeps CloudTrail's userIdentity.arn, which for a role is the session.
        Provider::Aws => match userid.and_then(role_of_session) {
            Some(role) => (Some(role), userid.map(str::to_string)),
            None => (userid.or(email).map(str::to_string), None),
        },
        // Azure callers are compared case-insensitively: one spelling, lower case.
        Provider::Azure => (userid.or(email).map(str::to_lowercase), None),
        _ => (email.or(userid).map(str::to_string), None),
    }
}

/// The first security result that blocked the call. Chronicle's GCP parser sets BLOCK from
/// `authorizationInfo.granted: false`; that its CloudTrail and Azure parsers do so for a
/// refused call is inferred.
fn blocking_result(record: &Value) -> Option<&Value> {
    listed(at(record, &["security_result"]))
        .iter()
        .find(|result| {
            listed(at(result, &["action"])).iter().any(|action| {
                action
                    .as_str()
                    .is_some_and(|a| a.eq_ignore_ascii_case("BLOCK"))
            })
        })
}

/// Whether the event is a record that does not carry the change's final status: an Azure
/// Started/Accepted record, or a GCP operation's first entry that is not also its last.
fn phase(record: &Value, provider: Provider) -> Phase {
    let is =
        |key: &str, value: &str| field(record, key).is_some_and(|v| v.eq_ignore_ascii_case(value));
    let intermediate = match provider {
        Provider::Azure => is("status", "Started") || is("status", "Accepted"),
        Provider::Gcp => is("operation_first", "true") && !is("operation_last", "true"),
        _ => false,
    };
    if intermediate {
        Phase::Intermediate
    } else {
        Phase::Final
    }
}

/// The change a multi-record operation's events share: Azure's correlationId spans a whole
/// deployment, so resource and operation (case-insensitive, as Azure compares them) narrow it
/// to one write; GCP's operation id is one operation already.
fn change_id(
    record: &Value,
    provider: Provider,
    operation: &str,
    resource: Option<&str>,
    project: Option<&str>,
) -> Option<String> {
    match provider {
        Provider::Azure => field(record, "correlationId").map(|correlation| {
            format!(
                "{correlation}|{}|{}",
                resource.unwrap_or_default().to_lowercase(),
                operation.to_lowercase()
            )
        }),
        // Scoped by project as the raw GCP mapper scopes it: operation ids are unique within
        // their project only.
        Provider::Gcp => field(record, "operation_id").map(|id| match project {
            Some(project) => format!("{project}|{id}"),
            None => id.to_string(),
        }),
        _ => None,
    }
}

/// The string value of `additional.fields` entry `key` (keys compared case-insensitively).
fn field<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    listed(at(record, &["additional", "fields"]))
        .iter()
        .find(|entry| text(entry, &["key"]).is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .and_then(|entry| nonempty(entry, &["value", "string_value"]))
}

/// The items of a UDM repeated field. A lone value is read as a list of one rather than
/// dropped: losing the outcome or the caller's IP to a flattened list would be worse.
fn listed(value: Option<&Value>) -> &[Value] {
    match value {
        None => &[],
        Some(Value::Array(items)) => items,
        Some(one) => std::slice::from_ref(one),
    }
}

/// The first non-empty string of a repeated field.
fn first_text(value: Option<&Value>) -> Option<&str> {
    listed(value)
        .iter()
        .find_map(|item| item.as_str().filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::super::cloudtrail::tests::{check_oracle, location, observe_fixture};
    use super::*;
    use serde_json::json;

    fn events() -> Vec<Observed> {
        observe_fixture("udm/events.ndjson", observe)
    }

    fn by_id<'a>(observed: &'a [Observed], log_id: &str) -> Vec<&'a Observed> {
        observed
            .iter()
            .filter(|o| o.record_id.as_deref() == Some(log_id))
            .collect()
    }

    fn one<'a>(observed: &'a [Observed], log_id: &str) -> &'a Observed {
        by_id(observed, log_id)
            .first()
            .copied()
            .unwrap_or_else(|| panic!("no event {log_id}"))
    }

    #[test]
    fn every_fixture_event_reads_straight_from_its_record() {
        assert_eq!(check_oracle("udm/events.ndjson", observe), 11);
    }

    #[test]
    fn every_event_is_mapped_with_its_provider() {
        let observed = events();
        assert_eq!(observed.len(), 19);
        let providers: Vec<Provider> = observed.iter().map(|o| o.provider).collect();
        let mut expected = vec![Provider::Aws; 8];
        expected.extend([Provider::Azure; 5]);
        expected.extend([Provider::Gcp; 5]);
        expected.push(Provider::Aws);
        assert_eq!(providers, expected);
        assert!(observed.iter().all(|o| o.service.is_none()
            && o.target.is_none()
            && o.invoked_by.is_none()
            && o.udm_event_type.as_deref() == Some(o.operation.as_str())
            && o.udm_resource_name == o.resource));
        // The duplicate delivery keeps its record id, for dedup downstream.
        assert_eq!(
            by_id(&observed, "faa7d9d5-9679-4eef-bc62-63311df260c5").len(),
            2
        );
    }

    #[test]
    fn aws_events_give_the_role_and_keep_the_session() {
        let observed = events();
        let target = one(&observed, "a73bd036-5217-4021-b511-01a8ad6b32d2");
        assert_eq!(target.operation, "CreateTrafficMirrorTarget");
        assert_eq!(
            target.actor.as_deref(),
            Some("arn:aws:iam::111122223333:role/NetOpsAdmin")
        );
        assert_eq!(
            target.actor_session.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/NetOpsAdmin/jdoe")
        );
        assert_eq!(target.account.as_deref(), Some("111122223333"));
        assert_eq!(target.region.as_deref(), Some("us-east-1"));
        assert_eq!(target.source_ip.as_deref(), Some("198.51.100.7"));
        assert_eq!(target.resource.as_deref(), Some("tmt-0fd6c233ac284baef"));
        assert_eq!(target.time, timestamp("2026-11-14T09:14:03Z"));
        assert_eq!(
            (target.outcome, target.phase),
            (Outcome::Success, Phase::Final)
        );
        assert_eq!(target.change_id, None);

        let refused = one(&observed, "4c6a7500-a762-4da8-95a0-e14303bacf28");
        assert_eq!(refused.outcome, Outcome::Failure);
        assert_eq!(
            refused.error_code.as_deref(),
            Some("Client.UnauthorizedOperation")
        );
        assert!(!refused.dry_run);
        assert_eq!(refused.resource, None);
        assert_eq!(
            refused.actor.as_deref(),
            Some("arn:aws:iam::111122223333:role/dev-readonly")
        );
    }

    #[test]
    fn azure_records_of_one_write_share_a_change_and_only_the_last_is_final() {
        let observed = events();
        let started = one(&observed, "a4c84d3d-4cb2-46ef-a697-bafdcb40c3b9");
        let succeeded = one(&observed, "6fcc7e77-66d0-4f0f-929b-e09a147f852a");
        let tap = one(&observed, "65121385-4adf-4108-8944-8651f316ed27");
        assert_eq!(started.phase, Phase::Intermediate);
        assert_eq!(succeeded.phase, Phase::Final);
        assert_eq!(
            started.change_id.as_deref(),
            Some("63e281f2-d688-42c2-ba95-0734429c1485|/subscriptions/6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f/resourcegroups/rg-netmon/providers/microsoft.network/virtualnetworktaps/vtap-udm|microsoft.network/virtualnetworktaps/write")
        );
        assert_eq!(started.change_id, succeeded.change_id);
        assert_ne!(
            started.change_id, tap.change_id,
            "same deployment, another write"
        );
        assert_eq!(started.actor.as_deref(), Some("dana.okafor@acme.example"));
        assert_eq!(
            started.account.as_deref(),
            Some("6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f")
        );
        assert_eq!(started.region, None);
        assert!(!succeeded.updated_existing, "201 Created");
        // The decoy NIC write answered 200: an update.
        assert!(one(&observed, "84b44f9d-7335-4ce1-831e-92c4df37f5a4").updated_existing);
    }

    #[test]
    fn gcp_entries_of_one_operation_share_its_id() {
        let observed = events();
        let first = one(&observed, "-y8ojh1m20qhv");
        let last = one(&observed, "-8g7mu11f5sre");
        assert_eq!(
            (first.phase, last.phase),
            (Phase::Intermediate, Phase::Final)
        );
        assert_eq!(
            first.change_id.as_deref(),
            Some("acme-prod-platform|operation-1794657601000-07e19c903a336-7ba4ac82-dc0327a4")
        );
        assert_eq!(first.change_id, last.change_id);
        assert_eq!(first.actor.as_deref(), Some("priya.natarajan@acme.example"));
        assert_eq!(first.account.as_deref(), Some("acme-prod-platform"));
        assert_eq!(first.region.as_deref(), Some("us-central1"));
        assert_eq!(
            first.resource.as_deref(),
            Some("projects/acme-prod-platform/regions/us-central1/packetMirrorings/pm-udm")
        );
        assert_eq!(one(&observed, "-eb1dk5j9vlx9").region, None);
    }

    #[test]
    fn provider_falls_back_on_the_operation_name() {
        let provider_of = |operation: &str| {
            observe(
                &json!({"metadata": {"product_event_type": operation}}),
                &location(1),
            )
            .map(|o| o.provider)
        };
        assert_eq!(
            provider_of("Microsoft.Network/virtualNetworkTaps/write"),
            Some(Provider::Azure)
        );
        assert_eq!(
            provider_of("beta.compute.packetMirrorings.patch"),
            Some(Provider::Gcp)
        );
        assert_eq!(
            provider_of("CreateTrafficMirrorSession"),
            Some(Provider::Aws)
        );
        let unknown_vendor = observe(
            &json!({"metadata": {"product_event_type": "v1.compute.packetMirrorings.insert",
                                 "vendor_name": "ACME", "log_type": 3}}),
            &location(1),
        );
        assert_eq!(unknown_vendor.map(|o| o.provider), Some(Provider::Gcp));
        let by_environment = observe(
            &json!({"metadata": {"product_event_type": "Write"},
                    "target": {"resource": {"attribute": {"cloud": {"environment": "MICROSOFT_AZURE"}}}}}),
            &location(1),
        );
        assert_eq!(by_environment.map(|o| o.provider), Some(Provider::Azure));
    }

    #[test]
    fn azure_spellings_are_lower_cased_and_intermediate_states_recognised() {
        let accepted = observe(
            &json!({
                "metadata": {"product_event_type": "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE",
                             "vendor_name": "Microsoft"},
                "principal": {"user": {"email_addresses": ["Dana.Okafor@ACME.example"]}},
                "target": {"resource": {"name": "/SUBSCRIPTIONS/6F1C/RG/VTAP",
                                        "attribute": {"cloud": {"project": {"name": "6F1C"}}}}},
                "additional": {"fields": [{"key": "status", "value": {"string_value": "accepted"}},
                                          {"key": "CorrelationId", "value": {"string_value": "C-1"}}]}
            }),
            &location(1),
        )
        .expect("mapped");
        assert_eq!(accepted.actor.as_deref(), Some("dana.okafor@acme.example"));
        assert_eq!(accepted.account.as_deref(), Some("6f1c"));
        assert_eq!(accepted.phase, Phase::Intermediate);
        assert_eq!(
            accepted.change_id.as_deref(),
            Some("C-1|/subscriptions/6f1c/rg/vtap|microsoft.network/virtualnetworktaps/write")
        );
        assert_eq!(
            accepted.resource.as_deref(),
            Some("/SUBSCRIPTIONS/6F1C/RG/VTAP")
        );
    }

    #[test]
    fn a_single_entry_operation_is_final_and_a_dry_run_is_recognised() {
        let only = observe(
            &json!({
                "metadata": {"product_event_type": "v1.compute.packetMirrorings.delete", "vendor_name": "GOOGLE"},
                "additional": {"fields": [{"key": "operation_first", "value": {"string_value": "true"}},
                                          {"key": "operation_last", "value": {"string_value": "true"}}]}
            }),
            &location(1),
        )
        .expect("mapped");
        assert_eq!(only.phase, Phase::Final);

        let dry = observe(
            &json!({
                "metadata": {"product_event_type": "CreateTrafficMirrorSession", "vendor_name": "AMAZON"},
                "principal": {"user": {"userid": "arn:aws:iam::111122223333:user/ci-deployer"}, "ip": "192.0.2.10"},
                "security_result": {"action": "BLOCK", "rule_id": "Client.DryRunOperation"}
            }),
            &location(1),
        )
        .expect("mapped");
        assert!(dry.dry_run);
        assert_eq!(dry.outcome, Outcome::Failure);
        assert_eq!(
            dry.actor.as_deref(),
            Some("arn:aws:iam::111122223333:user/ci-deployer")
        );
        assert_eq!(dry.actor_session, None);
        assert_eq!(dry.source_ip.as_deref(), Some("192.0.2.10"));
    }

    #[test]
    fn an_event_without_a_product_event_type_is_read_for_the_original_rule() {
        // The original rule's Azure pattern reads target.resource.name alone; the generic
        // event type stands in as the operation, which no catalogue entry matches.
        let event = json!({
            "metadata": {"event_type": "RESOURCE_CREATION", "vendor_name": "Microsoft"},
            "target": {"resource": {"name": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworkTaps/t"}}
        });
        let observed = observe(&event, &location(1)).expect("read");
        assert_eq!(observed.operation, "RESOURCE_CREATION");
        assert_eq!(observed.udm_event_type, None);
        assert!(crate::audit::seed::fires(&observed));
        assert!(crate::audit::rule::for_call(&observed).is_none());
    }

    #[test]
    fn wrong_shapes_give_none_not_a_panic() {
        for not_an_event in [
            json!(null),
            json!([]),
            json!("CreateTrafficMirrorSession"),
            json!({"metadata": "CreateTrafficMirrorSession"}),
            json!({"metadata": {"product_event_type": 1}}),
            json!({"metadata": {"product_event_type": ""}}),
        ] {
            assert!(
                observe(&not_an_event, &location(1)).is_none(),
                "{not_an_event}"
            );
        }
        let odd = observe(
            &json!({
                "metadata": {"product_event_type": "CreateTrafficMirrorTarget", "event_timestamp": 1794646443,
                             "product_log_id": ["x"], "vendor_name": null},
                "principal": {"user": {"userid": 7, "email_addresses": "nobody"}, "ip": [1, {}]},
                "target": {"resource": {"name": {"id": "tmt-0"}, "attribute": {"cloud": []}}},
                "security_result": [{"action": [7, null]}, "BLOCK"],
                "additional": {"fields": {"key": "status"}}
            }),
            &location(1),
        )
        .expect("the operation name is enough");
        assert_eq!(odd.provider, Provider::Aws);
        assert_eq!((odd.time, odd.record_id.clone()), (None, None));
        assert_eq!(odd.actor.as_deref(), Some("nobody"));
        assert_eq!(
            (odd.source_ip, odd.resource, odd.account, odd.region),
            (None, None, None, None)
        );
        assert_eq!(
            (odd.outcome, odd.error_code, odd.phase),
            (Outcome::Success, None, Phase::Final)
        );
    }
}
