//! The Azure Activity Log REST API (`GET /subscriptions/{sub}/providers/Microsoft.Insights/
//! eventtypes/management/values?api-version=2015-04-01&$filter=…`), served from the world's
//! [`AzureEvent`]s after [`crate::azure`] has authenticated the request, injected faults and
//! resolved the subscription.
//!
//! Each operation is written as ARM writes it: a `Started` `EventData` record and, a second
//! later, the final `Succeeded` or `Failed` one, sharing `correlationId` and `operationId`.
//! The shape follows `tests/fixtures/audit/gen_fixtures.py` (`az_rest`), itself modelled on
//! real `az monitor activity-log list` output. Records are listed newest first, `page_size` a
//! page, with an absolute `nextLink` that repeats `api-version` and `$filter` and adds an
//! opaque `$skipToken`, as the real service's does.
//!
//! `$filter` is parsed, not ignored: `eventTimestamp ge '…'` (required), `eventTimestamp le
//! '…'` and `resourceProvider eq '…'`, joined by `and`. Anything else is a 400 `BadRequest`,
//! so a client whose filter the real service would reject fails here too.

use crate::azure::{arm_error, arm_json};
use crate::wire::{guid, page_offset, page_token, param, percent_encode, rfc3339_utc};
use crate::world::{distinct_keys, AzureEvent, AzureSubscription, AzureWorld, DEFAULT_SOURCE_IP};
use crate::MockState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

/// The api-versions the `eventtypes` resource type is registered with.
const API_VERSIONS: [&str; 3] = ["2014-04-01", "2015-04-01", "2017-03-01-preview"];
/// The `$skipToken` a `token-loop` fault hands out: always the first page again.
const LOOP_OFFSET: usize = 0;
/// Azure CLI's well-known client id: what a user's token carries as `appid`.
const AZ_CLI_APP: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const OBJECT_ID_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";
/// Seconds between .NET's epoch (0001-01-01) and Unix's, for the `ticks` in record ids.
const DOTNET_EPOCH_OFFSET: i128 = 62_135_596_800;

/// What `$filter` selects.
#[derive(Debug)]
struct Filter {
    since: OffsetDateTime,
    until: Option<OffsetDateTime>,
    provider: Option<String>,
}

fn bad_filter(message: &str) -> Response {
    arm_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("The $filter query parameter is invalid: {message}"),
    )
}

/// Splits `a and b and c` at the `and`s outside single-quoted values (keywords in any case).
fn clauses(filter: &str) -> Vec<&str> {
    let bytes = filter.as_bytes();
    let lower = filter.to_ascii_lowercase();
    let lower = lower.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut quoted) = (0, 0, false);
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            quoted = !quoted;
        } else if !quoted && bytes[i].is_ascii_whitespace() && lower[i..].starts_with(b" and ") {
            out.push(&filter[start..i]);
            i += 5;
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&filter[start..]);
    out
}

/// A single-quoted OData string (`''` escapes a quote).
fn quoted(value: &str) -> Option<String> {
    let inner = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    (!inner.replace("''", "").contains('\'')).then(|| inner.replace("''", "'"))
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    let (mut since, mut until, mut provider) = (None, None, None);
    for clause in clauses(text) {
        let clause = clause.trim();
        let mut words = clause.splitn(3, char::is_whitespace);
        let (Some(field), Some(op), Some(value)) = (words.next(), words.next(), words.next())
        else {
            return Err(format!("'{clause}' is not a comparison"));
        };
        let value = quoted(value)
            .ok_or_else(|| format!("the value in '{clause}' must be a single-quoted string"))?;
        let field = field.to_ascii_lowercase();
        let op = op.to_ascii_lowercase();
        let slot = match (field.as_str(), op.as_str()) {
            ("eventtimestamp", "ge") => &mut since,
            ("eventtimestamp", "le") => &mut until,
            ("resourceprovider", "eq") => &mut provider,
            _ => return Err(format!("'{clause}' is not a supported condition")),
        };
        if slot.is_some() {
            return Err(format!("'{field} {op}' appears more than once"));
        }
        *slot = Some(value);
    }
    let time = |text: &str| {
        crate::wire::parse_rfc3339(text)
            .ok_or_else(|| format!("'{text}' is not an RFC 3339 date-time"))
    };
    let since = since.ok_or("an eventTimestamp ge condition is required")?;
    Ok(Filter {
        since: time(&since)?,
        until: until.as_deref().map(time).transpose()?,
        provider,
    })
}

/// Which of the two records of an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Started,
    Final,
}

/// The provider namespace of an operation (`Microsoft.Network/…` → `Microsoft.Network`).
fn namespace(operation: &str) -> &str {
    operation.split('/').next().unwrap_or(operation)
}

fn timestamp(event: &AzureEvent, phase: Phase) -> OffsetDateTime {
    match phase {
        Phase::Started => event.time - Duration::seconds(1),
        Phase::Final => event.time,
    }
}

/// One page of the Activity Log of `subscription`.
pub(crate) fn page(
    state: &MockState,
    subscription: &AzureSubscription,
    params: &[(String, String)],
    api_version: &str,
    base: &str,
    token_loop: bool,
) -> Response {
    if !API_VERSIONS.contains(&api_version) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "NoRegisteredProviderFound",
            &format!(
                "No registered resource provider found for location 'global' and API version '{api_version}' for type 'eventtypes'. The supported api-versions are '{}'.",
                API_VERSIONS.join(", ")
            ),
        );
    }
    let Some(filter_text) = param(params, "$filter") else {
        return bad_filter("it is required and must contain an eventTimestamp ge condition");
    };
    let filter = match parse_filter(filter_text) {
        Ok(filter) => filter,
        Err(message) => return bad_filter(&message),
    };
    let query = format!("{}/{filter_text}", subscription.id.to_ascii_lowercase());
    let offset = match param(params, "$skipToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => match page_offset("activity", token, &query) {
            Some(offset) => offset,
            None => {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidSkipToken",
                    &format!("The provided skip token '{token}' is not valid for this query."),
                )
            }
        },
    };
    let offset = if token_loop { LOOP_OFFSET } else { offset };

    let world = &state.world.azure;
    let events = state.world.azure_events();
    let keys = event_keys(&events);
    let mut records: Vec<(OffsetDateTime, usize, Phase)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.subscription.eq_ignore_ascii_case(&subscription.id))
        .filter(|(_, e)| {
            filter
                .provider
                .as_deref()
                .is_none_or(|p| namespace(&e.operation).eq_ignore_ascii_case(p))
        })
        .flat_map(|(n, e)| {
            [Phase::Final, Phase::Started].map(|phase| (timestamp(e, phase), n, phase))
        })
        .filter(|(t, _, _)| *t >= filter.since && filter.until.is_none_or(|u| *t <= u))
        .collect();
    // Newest first; a sort that is stable on world order keeps pages deterministic.
    records.sort_by_key(|(t, _, _)| std::cmp::Reverse(*t));

    let size = state.world.settings.page_size.max(1);
    let end = (offset + size).min(records.len());
    let start = offset.min(end);
    let value: Vec<Value> = records[start..end]
        .iter()
        .map(|(_, n, phase)| event_data(world, &events[*n], &keys[*n], *phase))
        .collect();
    let next = if token_loop {
        Some(LOOP_OFFSET)
    } else {
        (end < records.len()).then_some(end)
    };
    let mut body = json!({ "value": value });
    if let Some(next) = next {
        let mut link = format!(
            "{base}?api-version={}&$filter={}",
            percent_encode(api_version),
            percent_encode(filter_text)
        );
        if let Some(select) = param(params, "$select") {
            link.push_str(&format!("&$select={}", percent_encode(select)));
        }
        link.push_str(&format!(
            "&$skipToken={}",
            page_token("activity", next, &query)
        ));
        body["nextLink"] = json!(link);
    }
    arm_json(StatusCode::OK, &[], body.to_string())
}

/// The seeds of each operation's derived ids, distinct even for identical operations.
fn event_keys(events: &[AzureEvent]) -> Vec<String> {
    distinct_keys(events.iter().map(|e| {
        format!(
            "activity/{}/{}/{}/{}/{}/{}",
            e.subscription.to_ascii_lowercase(),
            e.time.unix_timestamp_nanos(),
            e.operation,
            e.resource.to_ascii_lowercase(),
            e.caller,
            e.status
        )
    }))
}

fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The caller's object id: given, or the caller itself when it is one, or derived.
fn object_id(event: &AzureEvent) -> String {
    event.object_id.clone().unwrap_or_else(|| {
        if is_guid(&event.caller) {
            event.caller.to_ascii_lowercase()
        } else {
            guid(&format!("object-id/{}", event.caller.to_ascii_lowercase()))
        }
    })
}

/// The token claims ARM copies into each record: a user's carry the UPN, a service
/// principal's only its object and application ids.
fn claims(world: &AzureWorld, event: &AzureEvent, ip: &str) -> Value {
    let oid = object_id(event);
    let tenant = &world.tenant;
    let iat = event.time.unix_timestamp() - 1800;
    let mut claims = json!({
        "aud": "https://management.core.windows.net/",
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": iat.to_string(),
        "nbf": iat.to_string(),
        "exp": (iat + 4500).to_string(),
        OBJECT_ID_CLAIM: oid,
        "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
        "ver": "1.0",
    });
    if event.caller.contains('@') {
        for (key, value) in [
            ("appid", AZ_CLI_APP.to_string()),
            ("appidacr", "0".to_string()),
            ("ipaddr", ip.to_string()),
            (
                "http://schemas.microsoft.com/claims/authnmethodsreferences",
                "pwd,mfa".to_string(),
            ),
            (
                "http://schemas.microsoft.com/identity/claims/scope",
                "user_impersonation".to_string(),
            ),
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
                event.caller.clone(),
            ),
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
                event.caller.clone(),
            ),
        ] {
            claims[key] = json!(value);
        }
    } else {
        let appid = world
            .clients
            .iter()
            .find(|c| c.object_id.eq_ignore_ascii_case(&oid))
            .map(|c| c.client_id.clone())
            .unwrap_or_else(|| guid(&format!("appid/{oid}")));
        for (key, value) in [
            ("appid", appid),
            ("appidacr", "2".to_string()),
            ("idtyp", "app".to_string()),
            (
                "http://schemas.microsoft.com/identity/claims/identityprovider",
                format!("https://sts.windows.net/{tenant}/"),
            ),
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
                oid.clone(),
            ),
        ] {
            claims[key] = json!(value);
        }
    }
    claims
}

fn ends_with_ci(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.is_char_boundary(text.len() - suffix.len())
        && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The resource type an operation acts on: the operation without its verb
/// (`…/virtualNetworkTaps/write`) or its action (`…/networkInterfaces/join/action`).
fn resource_type(operation: &str) -> &str {
    let strip = if ends_with_ci(operation, "/action") {
        2
    } else {
        1
    };
    let mut end = operation.len();
    for _ in 0..strip {
        end = operation[..end].rfind('/').unwrap_or(0);
    }
    if end == 0 {
        operation
    } else {
        &operation[..end]
    }
}

fn resource_group(resource: &str) -> String {
    let segments: Vec<&str> = resource.split('/').collect();
    segments
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("resourceGroups"))
        .map(|w| w[1].to_string())
        .unwrap_or_default()
}

/// The HTTP status name a final record's `subStatus` carries, with its localized text.
fn http_status(event: &AzureEvent) -> (&'static str, &'static str) {
    if event.status == "Failed" {
        ("Forbidden", "Forbidden (HTTP Status Code: 403)")
    } else if ends_with_ci(&event.operation, "/write") && !event.updated {
        ("Created", "Created (HTTP Status Code: 201)")
    } else {
        ("OK", "OK (HTTP Status Code: 200)")
    }
}

fn localized(value: &str) -> Value {
    json!({ "value": value, "localizedValue": value })
}

/// The request body a vTAP write logs in its Started record, when the world knows the vTAP.
fn request_body(state_world: &AzureWorld, event: &AzureEvent) -> Option<String> {
    if !ends_with_ci(&event.operation, "virtualNetworkTaps/write") {
        return None;
    }
    let tap = state_world
        .taps
        .iter()
        .find(|t| t.id().eq_ignore_ascii_case(&event.resource))?;
    let mut properties = json!({});
    if let Some(ip) = &tap.destination_ip_configuration {
        properties["destinationNetworkInterfaceIPConfiguration"] = json!({ "id": ip });
    }
    if let Some(frontend) = &tap.destination_frontend {
        properties["destinationLoadBalancerFrontEndIPConfiguration"] = json!({ "id": frontend });
    }
    if let Some(port) = tap.destination_port {
        properties["destinationPort"] = json!(port);
    }
    Some(json!({ "location": tap.location, "properties": properties }).to_string())
}

/// One `EventData` record, as the REST API returns it.
fn event_data(world: &AzureWorld, event: &AzureEvent, key: &str, phase: Phase) -> Value {
    let started = phase == Phase::Started;
    let time = timestamp(event, phase);
    let event_data_id = guid(&format!(
        "{key}/eventDataId/{}",
        if started { "start" } else { "end" }
    ));
    let ticks = (i128::from(time.unix_timestamp()) + DOTNET_EPOCH_OFFSET) * 10_000_000
        + i128::from(time.nanosecond() / 100);
    let ip = event.source_ip.as_deref().unwrap_or(DEFAULT_SOURCE_IP);
    let failed = !started && event.status == "Failed";
    let method = [
        ("/delete", "DELETE"),
        ("/action", "POST"),
        ("/read", "GET"),
        ("/write", "PUT"),
    ]
    .iter()
    .find(|(suffix, _)| ends_with_ci(&event.operation, suffix))
    .map_or("PUT", |(_, m)| *m);
    let (status, sub_status) = if started {
        ("Started", ("", ""))
    } else {
        (event.status.as_str(), http_status(event))
    };
    let mut properties = json!({
        "eventCategory": "Administrative",
        "entity": event.resource,
        "message": event.operation,
        "hierarchy": format!("{}/{}", world.tenant, event.subscription),
    });
    if started {
        if let Some(body) = request_body(world, event) {
            properties["requestbody"] = json!(body);
        }
    } else {
        properties["statusCode"] = json!(sub_status.0);
        properties["serviceRequestId"] = if failed {
            Value::Null
        } else {
            json!(guid(&format!("{key}/serviceRequestId")))
        };
        if failed {
            let message = json!({ "error": {
                "code": "AuthorizationFailed",
                "message": format!(
                    "The client '{}' with object id '{}' does not have authorization to perform action '{}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                    event.caller, object_id(event), event.operation, event.resource
                ),
            }});
            properties["statusMessage"] = json!(message.to_string());
        }
    }
    let provider = namespace(&event.operation);
    json!({
        "authorization": { "action": event.operation, "scope": event.resource },
        "caller": event.caller,
        "channels": "Operation",
        "claims": claims(world, event, ip),
        "correlationId": guid(&format!("{key}/correlationId")),
        "description": "",
        "eventDataId": event_data_id,
        "eventName": if started {
            json!({ "value": "BeginRequest", "localizedValue": "Begin request" })
        } else {
            json!({ "value": "EndRequest", "localizedValue": "End request" })
        },
        "category": localized("Administrative"),
        "eventTimestamp": rfc3339_utc(time, 7),
        "httpRequest": {
            "clientRequestId": guid(&format!("{key}/clientRequestId")),
            "clientIpAddress": ip,
            "method": method,
        },
        "id": format!("{}/events/{event_data_id}/ticks/{ticks}", event.resource),
        "level": if failed { "Error" } else { "Informational" },
        "operationId": guid(&format!("{key}/operationId")),
        "operationName": localized(&event.operation),
        "resourceGroupName": resource_group(&event.resource),
        "resourceProviderName": localized(provider),
        "resourceType": localized(resource_type(&event.operation)),
        "resourceId": event.resource,
        "status": localized(status),
        "subStatus": { "value": sub_status.0, "localizedValue": sub_status.1 },
        "submissionTimestamp": rfc3339_utc(time + Duration::seconds(if started { 12 } else { 17 }), 7),
        "subscriptionId": event.subscription,
        "tenantId": world.tenant,
        "properties": properties,
        "relatedEvents": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_http::{request, Reply};
    use crate::{MockCloud, World};

    const TENANT: &str = "11111111-2222-4333-8444-555555555555";
    const SUB: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const FILTER: &str = "eventTimestamp ge '2026-12-03T00:00:00Z' and eventTimestamp le '2026-12-04T00:00:00Z' and resourceProvider eq 'Microsoft.Network'";

    fn world(extra: &str) -> World {
        World::from_toml(&format!(
            r#"
[settings]
page_size = 3
[azure]
tenant = "{TENANT}"
subscriptions = [{{ id = "{SUB}" }}]
[[azure.taps]]
subscription = "{SUB}"
resource_group = "rg-net"
name = "vtap-ids"
location = "westeurope"
destination_port = 4789
destination_ip_configuration = "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/networkInterfaces/sensor/ipConfigurations/ipconfig1"
created_at = "2026-12-03T08:00:00Z"
created_by = "dana@contoso.example"
[[azure.events]]
subscription = "{SUB}"
time = "2026-12-03T09:00:00.5Z"
operation = "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE"
resource = "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworkTaps/vtap-x"
caller = "mallory@contoso.example"
status = "Failed"
source_ip = "203.0.113.77"
[[azure.events]]
subscription = "{SUB}"
time = "2026-12-03T10:00:00Z"
operation = "Microsoft.Network/networkInterfaces/tapConfigurations/write"
resource = "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/networkInterfaces/web/tapConfigurations/cfg"
caller = "3f2e1d0c-9b8a-4765-8432-10fedcba9876"
updated = true
[[azure.events]]
subscription = "{SUB}"
time = "2026-12-03T11:00:00Z"
operation = "Microsoft.Resources/deployments/write"
resource = "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Resources/deployments/d1"
caller = "dana@contoso.example"
[[azure.events]]
subscription = "{SUB}"
time = "2026-12-05T11:00:00Z"
operation = "Microsoft.Network/virtualNetworkTaps/delete"
resource = "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworkTaps/vtap-ids"
caller = "dana@contoso.example"
{extra}
"#
        ))
        .expect("world parses")
    }

    async fn token(mock: &MockCloud) -> String {
        let reply = request(
            mock.addr(),
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            &[],
            "client_id=app&client_secret=s&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
        )
        .await;
        reply.json()["access_token"].as_str().unwrap().to_string()
    }

    fn path(filter: &str) -> String {
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter={}",
            percent_encode(filter)
        )
    }

    async fn get(mock: &MockCloud, jwt: &str, target: &str) -> Reply {
        let auth = format!("Bearer {jwt}");
        request(mock.addr(), "GET", target, &[("Authorization", &auth)], "").await
    }

    async fn all_records(mock: &MockCloud, jwt: &str, filter: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut target = path(filter);
        for _ in 0..20 {
            let reply = get(mock, jwt, &target).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let page = reply.json();
            out.extend(page["value"].as_array().unwrap().iter().cloned());
            match page["nextLink"].as_str() {
                Some(link) => {
                    let prefix = mock.endpoint();
                    assert!(link.starts_with(&prefix), "{link}");
                    assert!(link.contains("api-version=2015-04-01"));
                    assert!(link.contains(&format!("$filter={}", percent_encode(filter))));
                    target = link[prefix.len()..].to_string();
                }
                None => return out,
            }
        }
        panic!("pagination did not end");
    }

    #[test]
    fn filters_parse_as_odata() {
        let f = parse_filter(FILTER).unwrap();
        assert_eq!(f.provider.as_deref(), Some("Microsoft.Network"));
        assert!(f.until.is_some());
        let f = parse_filter("EVENTTIMESTAMP GE '2026-12-03T00:00:00Z'").unwrap();
        assert!(f.until.is_none() && f.provider.is_none());
        for bad in [
            "eventTimestamp le '2026-12-03T00:00:00Z'",
            "eventTimestamp ge 2026-12-03T00:00:00Z",
            "eventTimestamp ge '2026-12-03' and caller eq 'x'",
            "eventTimestamp ge '2026-12-03T00:00:00Z' or eventTimestamp le '2026-12-04T00:00:00Z'",
            "eventTimestamp ge '2026-12-03T00:00:00Z' and eventTimestamp ge '2026-12-03T00:00:00Z'",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
        assert_eq!(
            resource_type("Microsoft.Network/networkInterfaces/join/action"),
            "Microsoft.Network/networkInterfaces"
        );
        assert_eq!(
            resource_type("Microsoft.Network/virtualNetworkTaps/write"),
            "Microsoft.Network/virtualNetworkTaps"
        );
    }

    #[tokio::test]
    async fn pages_both_records_of_each_operation_newest_first() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let jwt = token(&mock).await;
        let records = all_records(&mock, &jwt, FILTER).await;
        // vtap-ids create (generated), the failed write, the tap configuration: 2 records each;
        // the deployment is another provider, the delete is outside the window.
        assert_eq!(records.len(), 6);
        let times: Vec<&str> = records
            .iter()
            .map(|r| r["eventTimestamp"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
        let mut ids: Vec<&str> = records
            .iter()
            .map(|r| r["eventDataId"].as_str().unwrap())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 6);

        let create: Vec<&Value> = records
            .iter()
            .filter(|r| r["resourceId"].as_str().unwrap().ends_with("/vtap-ids"))
            .collect();
        let (end, start) = (create[0], create[1]);
        assert_eq!(end["status"]["value"], "Succeeded");
        assert_eq!(end["subStatus"]["value"], "Created");
        assert_eq!(end["properties"]["statusCode"], "Created");
        assert_eq!(end["eventTimestamp"], "2026-12-03T08:00:00.0000000Z");
        assert_eq!(start["status"]["value"], "Started");
        assert_eq!(start["eventTimestamp"], "2026-12-03T07:59:59.0000000Z");
        assert_eq!(start["correlationId"], end["correlationId"]);
        assert_eq!(start["operationId"], end["operationId"]);
        assert_eq!(end["caller"], "dana@contoso.example");
        assert_eq!(
            end["claims"]["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"],
            "dana@contoso.example"
        );
        assert_eq!(end["httpRequest"]["method"], "PUT");
        assert_eq!(
            end["resourceType"]["value"],
            "Microsoft.Network/virtualNetworkTaps"
        );
        assert_eq!(end["resourceGroupName"], "rg-net");
        assert_eq!(end["tenantId"], TENANT);
        assert_eq!(end["eventName"]["value"], "EndRequest");
        assert!(end["id"].as_str().unwrap().contains("/events/"));
        assert!(start["properties"]["requestbody"]
            .as_str()
            .unwrap()
            .contains("4789"));

        let failed = records
            .iter()
            .find(|r| r["status"]["value"] == "Failed")
            .unwrap();
        assert_eq!(failed["level"], "Error");
        assert_eq!(
            failed["operationName"]["value"],
            "MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE"
        );
        assert_eq!(failed["httpRequest"]["clientIpAddress"], "203.0.113.77");
        assert_eq!(failed["eventTimestamp"], "2026-12-03T09:00:00.5000000Z");

        let sp = records
            .iter()
            .find(|r| {
                r["resourceId"].as_str().unwrap().ends_with("/cfg")
                    && r["status"]["value"] == "Succeeded"
            })
            .unwrap();
        assert_eq!(sp["subStatus"]["value"], "OK");
        assert_eq!(
            sp["claims"][OBJECT_ID_CLAIM],
            "3f2e1d0c-9b8a-4765-8432-10fedcba9876"
        );
        assert!(sp["claims"]
            .get("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn")
            .is_none());

        // Without the provider clause the deployment shows up; with `le` left out, the delete.
        let wider = all_records(&mock, &jwt, "eventTimestamp ge '2026-12-03T00:00:00Z'").await;
        assert_eq!(wider.len(), 10);
        let delete = &wider[0];
        assert_eq!(delete["httpRequest"]["method"], "DELETE");
        assert_eq!(delete["subStatus"]["value"], "OK");

        let log = mock.requests();
        let first = log.iter().find(|r| r.service == "monitor").unwrap();
        assert_eq!(first.action, "activityLogs");
        assert_eq!(first.account, SUB);
        assert!(first
            .params
            .iter()
            .any(|(k, v)| k == "$filter" && v == FILTER));
        assert_eq!(mock.world().azure_events().len(), 5);
    }

    #[tokio::test]
    async fn bad_requests_and_faults_use_arm_errors() {
        let faults = format!(
            "[[azure.faults]]\naccount = \"{SUB}\"\naction = \"activityLogs\"\nkind = \"throttled\"\ntimes = 1\n"
        );
        let mock = MockCloud::start(world(&faults)).await.unwrap();
        let jwt = token(&mock).await;
        let throttled = get(&mock, &jwt, &path(FILTER)).await;
        assert_eq!(throttled.status, 429);
        assert_eq!(throttled.header("retry-after"), Some("1"));
        assert_eq!(get(&mock, &jwt, &path(FILTER)).await.status, 200);

        let bad = get(
            &mock,
            &jwt,
            &path("eventTimestamp gt '2026-12-03T00:00:00Z'"),
        )
        .await;
        assert_eq!(bad.status, 400);
        assert_eq!(bad.json()["error"]["code"], "BadRequest");
        assert!(bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("$filter"));
        let base = format!(
            "/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"
        );
        let missing = get(&mock, &jwt, &format!("{base}?api-version=2015-04-01")).await;
        assert_eq!(missing.json()["error"]["code"], "BadRequest");
        let no_version = get(&mock, &jwt, &base).await;
        assert_eq!(
            no_version.json()["error"]["code"],
            "MissingApiVersionParameter"
        );
        let wrong_version = get(
            &mock,
            &jwt,
            &path(FILTER).replace("2015-04-01", "2024-03-01"),
        )
        .await;
        assert_eq!(
            wrong_version.json()["error"]["code"],
            "NoRegisteredProviderFound"
        );
        let skip = get(&mock, &jwt, &format!("{}&$skipToken=nope", path(FILTER))).await;
        assert_eq!(skip.json()["error"]["code"], "InvalidSkipToken");
        let anonymous = request(mock.addr(), "GET", &path(FILTER), &[], "").await;
        assert_eq!(anonymous.status, 401);
        let unknown = get(
            &mock,
            &jwt,
            &path(FILTER).replace(SUB, "eeeeeeee-0000-4000-8000-000000000005"),
        )
        .await;
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.json()["error"]["code"], "SubscriptionNotFound");

        for (kind, status, code) in [
            ("denied", 403, "AuthorizationFailed"),
            ("failing", 500, "InternalServerError"),
        ] {
            let mock = MockCloud::start(world(&format!(
                "[[azure.faults]]\naction = \"activityLogs\"\nkind = \"{kind}\"\n"
            )))
            .await
            .unwrap();
            let jwt = token(&mock).await;
            let reply = get(&mock, &jwt, &path(FILTER)).await;
            assert_eq!(reply.status, status);
            assert_eq!(reply.json()["error"]["code"], code);
        }
        let mock = MockCloud::start(world(
            "[[azure.faults]]\naction = \"activityLogs\"\nkind = \"token-loop\"\n",
        ))
        .await
        .unwrap();
        let jwt = token(&mock).await;
        let first = get(&mock, &jwt, &path(FILTER)).await.json();
        let link = first["nextLink"].as_str().unwrap();
        let again = get(&mock, &jwt, &link[mock.endpoint().len()..])
            .await
            .json();
        assert_eq!(again["nextLink"], first["nextLink"]);
        assert_eq!(again["value"], first["value"]);
        let mock = MockCloud::start(world(
            "[[azure.faults]]\naction = \"activityLogs\"\nkind = \"malformed\"\n",
        ))
        .await
        .unwrap();
        let jwt = token(&mock).await;
        let reply = get(&mock, &jwt, &path(FILTER)).await;
        assert_eq!(reply.status, 200);
        assert!(serde_json::from_str::<Value>(&reply.body).is_err());
    }
}
