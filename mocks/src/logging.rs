//! Cloud Logging `entries.list` (`POST /v2/entries:list`), as google-cloud-logging-v2 speaks it:
//! a camelCase JSON `ListLogEntriesRequest` (`resourceNames`, `filter`, `orderBy`, `pageSize`,
//! `pageToken`), bearer authentication, and `{"entries":[…],"nextPageToken":…}` answers whose
//! enums are numbers, since the client asks for `$alt=json;enum-encoding=int`.
//!
//! The entries are the world's [`GcpEvent`]s as Admin Activity audit logs write them
//! (`tests/fixtures/audit/gen_fixtures.py`, modelled on real Compute audit logs): a successful
//! call is a long-running operation with a first entry (the request, the RUNNING operation) and
//! a last one 5 seconds later, sharing `operation.id`; a refused call is one entry with
//! `status` and severity ERROR.
//!
//! The filter is parsed as the Logging query language subset mirrorguard uses: comparisons
//! joined by `AND` (upper case, as the language requires), `=` and `:` (has) on
//! `logName`, `protoPayload.serviceName`, `protoPayload.methodName`, `protoPayload.resourceName`,
//! `protoPayload.authenticationInfo.principalEmail` and `resource.type` (case-insensitively,
//! with a parenthesised `("a" OR "b")` list), and `>=`, `>`, `<=`, `<`, `=` on `timestamp`.
//! Values must be double-quoted. Anything else is a 400 INVALID_ARGUMENT, so a filter the
//! real service would read differently fails loudly here.

use crate::gcp::{has_bearer, resource_url, unauthenticated};
use crate::wire::{base36, guid, json_response, pacific, page_offset, page_token, rfc3339_utc};
use crate::world::{distinct_keys, FaultKind, GcpEvent, World, DEFAULT_SOURCE_IP, RPC_CODES};
use crate::{MockState, RequestRecord};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

const CONTENT_TYPE: &str = "application/json; charset=UTF-8";
const ACTIVITY_LOG: &str = "cloudaudit.googleapis.com%2Factivity";
const SERVICE: &str = "compute.googleapis.com";
/// Seconds between the first and the last entry of a successful operation.
const OPERATION_SECONDS: i64 = 5;
/// The API's default and maximum `pageSize`.
const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 1000;
/// `LogSeverity` numbers (`enum-encoding=int`).
const NOTICE: u32 = 300;
const ERROR: u32 = 500;

/// Logging's error envelope (a gRPC status transcoded to JSON: no `errors[]`).
fn logging_error(code: u16, status: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message, "status": status } });
    json_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        CONTENT_TYPE,
        &[],
        body.to_string(),
    )
}

fn invalid(message: &str) -> Response {
    logging_error(400, "INVALID_ARGUMENT", message)
}

/// `ListLogEntriesRequest` in its JSON form; unknown members are refused, as the real
/// service's transcoder does.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListRequest {
    #[serde(default)]
    resource_names: Vec<String>,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    order_by: String,
    /// proto3 JSON writes an int32 as a number or a decimal string.
    #[serde(default)]
    page_size: Option<Value>,
    #[serde(default)]
    page_token: String,
    /// Deprecated spelling of `resourceNames` (`projects/` implied); accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    project_ids: Vec<String>,
}

/// `POST /v2/entries:list`
pub async fn entries_list(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<ListRequest>(&body);
    let project = parsed
        .as_ref()
        .ok()
        .and_then(|r| r.resource_names.first())
        .map(|name| name.strip_prefix("projects/").unwrap_or(name).to_string())
        .unwrap_or_default();
    // Recorded before authentication so tests can see requests that carried no token.
    state.record(RequestRecord {
        service: "logging".to_string(),
        action: "entries.list".to_string(),
        account: project.clone(),
        region: String::new(),
        params: parsed.as_ref().map_or_else(
            |_| Vec::new(),
            |r| {
                vec![
                    ("filter".to_string(), r.filter.clone()),
                    ("pageToken".to_string(), r.page_token.clone()),
                    ("orderBy".to_string(), r.order_by.clone()),
                ]
            },
        ),
    });
    if !has_bearer(&headers) {
        return unauthenticated();
    }
    let request = match parsed {
        Ok(request) => request,
        Err(e) => return invalid(&format!("Invalid JSON payload received. {e}")),
    };
    match request.resource_names.as_slice() {
        [] => return invalid("resource_names: at least one resource name is required"),
        [name] if name.starts_with("projects/") && !project.is_empty() => {}
        [name] => {
            return invalid(&format!(
                "resource_names: '{name}' is not a project (the mock serves projects/P only)"
            ))
        }
        _ => return invalid("resource_names: the mock serves one project per request"),
    }

    let mut token_loop = false;
    for (index, fault) in state.world.gcp.faults.iter().enumerate() {
        if !fault.matches(&project, "", "entries.list") {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                return logging_error(
                    403,
                    "PERMISSION_DENIED",
                    &format!("Permission 'logging.logEntries.list' denied on resource (or it may not exist): projects/{project}"),
                )
            }
            FaultKind::Throttled => {
                if state.hit("gcp", index) < fault.times.unwrap_or(1) {
                    return logging_error(
                        429,
                        "RESOURCE_EXHAUSTED",
                        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'logging.googleapis.com' for consumer 'project_number:000000000000'.",
                    );
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("gcp", index) < t) {
                    return logging_error(500, "INTERNAL", "Internal error encountered.");
                }
            }
            FaultKind::Slow => {
                tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(1000))).await;
            }
            FaultKind::Malformed => {
                return json_response(
                    StatusCode::OK,
                    CONTENT_TYPE,
                    &[],
                    r#"{"entries":[{"protoPayload":{"@type":"type.googleapis.com/google.cl"#
                        .to_string(),
                );
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            FaultKind::TokenLoop => token_loop = true,
        }
    }
    if !state.world.gcp.projects.iter().any(|p| p.id == project) {
        // Logging does not say whether a project exists to a caller who may not read it.
        return logging_error(
            403,
            "PERMISSION_DENIED",
            &format!("Permission 'logging.logEntries.list' denied on resource (or it may not exist): projects/{project}"),
        );
    }

    let filter = match parse_filter(&request.filter) {
        Ok(filter) => filter,
        Err(message) => return invalid(&format!("Unparseable filter: {message}")),
    };
    let order: Vec<String> = request
        .order_by
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let descending = match order.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["timestamp"] | ["timestamp", "asc"] => false,
        ["timestamp", "desc"] => true,
        _ => {
            return invalid(&format!(
                "Invalid order_by '{}': only 'timestamp asc' and 'timestamp desc' are supported",
                request.order_by
            ))
        }
    };
    let page_size = match &request.page_size {
        None => Some(0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    };
    let Some(page_size) = page_size else {
        return invalid("Invalid value at 'page_size': not an int32");
    };
    let size = match page_size {
        0 => DEFAULT_PAGE_SIZE,
        n if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        n => {
            return invalid(&format!(
                "Invalid page_size {n}: must be between 0 and 1000"
            ))
        }
    };
    let size = (size as usize).min(state.world.settings.page_size.max(1));
    let query = format!("{project}\n{}\n{descending}", request.filter);
    let offset = if request.page_token.is_empty() {
        0
    } else {
        match page_offset("logging", &request.page_token, &query) {
            Some(offset) => offset,
            None => {
                return invalid(
                    "page_token doesn't match arguments from the request (or it is not a token this API issued)",
                )
            }
        }
    };
    let offset = if token_loop { 0 } else { offset };

    let events = state.world.gcp_events();
    let keys = event_keys(&events);
    let mut entries: Vec<Entry> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.project == project)
        .flat_map(|(n, e)| entries_of(n, e))
        .filter(|entry| filter.matches(&facts(&events[entry.event], entry)))
        .collect();
    // Stable sorts keep world order between equal timestamps, so pages are deterministic.
    entries.sort_by_key(|entry| entry.time);
    if descending {
        entries.reverse();
    }
    let end = (offset + size).min(entries.len());
    let start = offset.min(end);
    let page: Vec<Value> = entries[start..end]
        .iter()
        .map(|entry| {
            log_entry(
                &state.world,
                &events[entry.event],
                &keys[entry.event],
                entry,
            )
        })
        .collect();
    let mut body = json!({ "entries": page });
    if token_loop {
        body["nextPageToken"] = json!(page_token("logging", 0, &query));
    } else if end < entries.len() {
        body["nextPageToken"] = json!(page_token("logging", end, &query));
    }
    json_response(StatusCode::OK, CONTENT_TYPE, &[], body.to_string())
}

// ---------------------------------------------------------------- filter

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Op(&'static str),
    Open,
    Close,
}

fn tokens(filter: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = filter.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string".to_string()),
                    Some('"') => break,
                    Some('\\') => {
                        text.push(*chars.get(i + 1).ok_or("unterminated string")?);
                        i += 2;
                    }
                    Some(&other) => {
                        text.push(other);
                        i += 1;
                    }
                }
            }
            i += 1;
            out.push(Token::Text(text));
        } else if c == '(' || c == ')' {
            out.push(if c == '(' { Token::Open } else { Token::Close });
            i += 1;
        } else if let Some(op) = [">=", "<=", "!=", "=~", "!~", "=", ":", ">", "<"]
            .into_iter()
            .find(|op| chars[i..].iter().take(op.len()).copied().eq(op.chars()))
        {
            out.push(Token::Op(op));
            i += op.len();
        } else if c.is_alphanumeric() || "._-@$".contains(c) {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "._-@$".contains(chars[i])) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(out)
}

/// The string fields a filter may compare, by their query-language path.
const STRING_FIELDS: [&str; 6] = [
    "logName",
    "protoPayload.serviceName",
    "protoPayload.methodName",
    "protoPayload.resourceName",
    "protoPayload.authenticationInfo.principalEmail",
    "resource.type",
];

#[derive(Debug)]
enum Condition {
    /// `field = any of values` (`has` when `contains`), case-insensitive.
    Text {
        field: &'static str,
        contains: bool,
        values: Vec<String>,
    },
    Time {
        op: &'static str,
        at: OffsetDateTime,
    },
}

#[derive(Debug)]
struct Filter(Vec<Condition>);

fn parse_filter(text: &str) -> Result<Filter, String> {
    let tokens = tokens(text)?;
    let mut conditions = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !conditions.is_empty() {
            match &tokens[i] {
                Token::Word(w) if w == "AND" => i += 1,
                other => return Err(format!("expected AND, found {other:?}")),
            }
        }
        let Some(Token::Word(field)) = tokens.get(i) else {
            return Err(format!("expected a field name at {:?}", tokens.get(i)));
        };
        let Some(Token::Op(op)) = tokens.get(i + 1) else {
            return Err(format!("expected a comparison after {field}"));
        };
        i += 2;
        let mut values = Vec::new();
        match tokens.get(i) {
            Some(Token::Text(value)) => {
                values.push(value.clone());
                i += 1;
            }
            Some(Token::Open) => {
                i += 1;
                loop {
                    let Some(Token::Text(value)) = tokens.get(i) else {
                        return Err(format!("expected a quoted value in the list for {field}"));
                    };
                    values.push(value.clone());
                    i += 1;
                    match tokens.get(i) {
                        Some(Token::Close) => {
                            i += 1;
                            break;
                        }
                        Some(Token::Word(w)) if w == "OR" => i += 1,
                        other => return Err(format!("expected OR or ')', found {other:?}")),
                    }
                }
            }
            other => {
                return Err(format!(
                    "expected a double-quoted value or a list after {field}{op}, found {other:?}"
                ))
            }
        }
        if field == "timestamp" {
            let [value] = &values[..] else {
                return Err("timestamp takes a single value".to_string());
            };
            if !["=", ">=", ">", "<=", "<"].contains(op) {
                return Err(format!("timestamp does not support '{op}'"));
            }
            let at = crate::wire::parse_rfc3339(value)
                .ok_or_else(|| format!("'{value}' is not an RFC 3339 timestamp"))?;
            conditions.push(Condition::Time { op, at });
        } else if let Some(known) = STRING_FIELDS.iter().find(|f| **f == field.as_str()) {
            if !["=", ":"].contains(op) {
                return Err(format!(
                    "{field} supports only '=' and ':' here, not '{op}'"
                ));
            }
            conditions.push(Condition::Text {
                field: known,
                contains: *op == ":",
                values,
            });
        } else {
            return Err(format!("unknown field '{field}'"));
        }
    }
    Ok(Filter(conditions))
}

/// The values of one entry a filter looks at.
struct Facts {
    log_name: String,
    method: String,
    resource_name: String,
    principal: String,
    resource_type: &'static str,
    time: OffsetDateTime,
}

impl Filter {
    fn matches(&self, facts: &Facts) -> bool {
        self.0.iter().all(|condition| match condition {
            Condition::Text {
                field,
                contains,
                values,
            } => {
                let actual = match *field {
                    "logName" => facts.log_name.as_str(),
                    "protoPayload.serviceName" => SERVICE,
                    "protoPayload.methodName" => facts.method.as_str(),
                    "protoPayload.resourceName" => facts.resource_name.as_str(),
                    "protoPayload.authenticationInfo.principalEmail" => facts.principal.as_str(),
                    _ => facts.resource_type,
                }
                .to_lowercase();
                values.iter().any(|v| {
                    let v = v.to_lowercase();
                    if *contains {
                        actual.contains(&v)
                    } else {
                        actual == v
                    }
                })
            }
            Condition::Time { op, at } => match *op {
                "=" => facts.time == *at,
                ">=" => facts.time >= *at,
                ">" => facts.time > *at,
                "<=" => facts.time <= *at,
                _ => facts.time < *at,
            },
        })
    }
}

// ---------------------------------------------------------------- entries

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    First,
    Last,
    Failed,
}

struct Entry {
    event: usize,
    kind: Kind,
    time: OffsetDateTime,
}

fn entries_of(index: usize, event: &GcpEvent) -> Vec<Entry> {
    let entry = |kind, time| Entry {
        event: index,
        kind,
        time,
    };
    if event.error.is_some() {
        vec![entry(Kind::Failed, event.time)]
    } else {
        vec![
            entry(Kind::First, event.time),
            entry(
                Kind::Last,
                event.time + time::Duration::seconds(OPERATION_SECONDS),
            ),
        ]
    }
}

fn event_keys(events: &[GcpEvent]) -> Vec<String> {
    distinct_keys(events.iter().map(|e| {
        format!(
            "logging/{}/{}/{}/{}/{}/{:?}/{:?}",
            e.project,
            e.time.unix_timestamp_nanos(),
            e.method,
            e.resource,
            e.principal,
            e.collector,
            e.error
        )
    }))
}

/// `v1.compute.packetMirrorings.insert` → (`v1`, `compute.packetMirrorings.insert`).
fn split_method(method: &str) -> (&str, &str) {
    match method.split_once('.') {
        Some((version, rest))
            if version.starts_with('v') || version == "beta" || version == "alpha" =>
        {
            (version, rest)
        }
        _ => ("v1", method),
    }
}

/// `projects/P/regions/R/COLLECTION/NAME` (or `…/global/…`): the region and the collection.
fn resource_parts(resource: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let segments: Vec<&str> = resource.split('/').collect();
    let region = segments
        .windows(2)
        .find(|w| w[0] == "regions")
        .map(|w| w[1]);
    let n = segments.len();
    let (collection, name) = if n >= 2 {
        (Some(segments[n - 2]), Some(segments[n - 1]))
    } else {
        (None, None)
    };
    (region, collection, name)
}

fn monitored_type(collection: Option<&str>) -> &'static str {
    match collection {
        Some("packetMirrorings") => "gce_packet_mirroring",
        Some("firewallPolicies") => "gce_firewall_policy",
        Some("forwardingRules") => "gce_forwarding_rule",
        Some("instances") => "gce_instance",
        _ => "audited_resource",
    }
}

fn facts(event: &GcpEvent, entry: &Entry) -> Facts {
    let (_, collection, _) = resource_parts(&event.resource);
    Facts {
        log_name: format!("projects/{}/logs/{ACTIVITY_LOG}", event.project),
        method: event.method.clone(),
        resource_name: event.resource.clone(),
        principal: event.principal.clone(),
        resource_type: monitored_type(collection),
        time: entry.time,
    }
}

/// A stable numeric id (Compute resource and operation ids are 64-bit decimals).
fn numeric_id(key: &str) -> String {
    let hex = guid(key).replace('-', "");
    (u64::from_str_radix(&hex[..15], 16).unwrap_or(1)).to_string()
}

/// The IAM permission a Compute method checks.
fn permission(rpc: &str) -> String {
    let mut parts = rpc.rsplitn(2, '.');
    let verb = parts.next().unwrap_or_default();
    let collection = parts
        .next()
        .and_then(|p| p.rsplit('.').next())
        .unwrap_or_default();
    let collection = match collection {
        "networkFirewallPolicies" | "regionNetworkFirewallPolicies" => "firewallPolicies",
        other => other,
    };
    let verb = match verb {
        "insert" => "create",
        "patch" | "update" => "update",
        "delete" => "delete",
        "get" => "get",
        "list" | "aggregatedList" => "list",
        _ => "update",
    };
    format!("compute.{collection}.{verb}")
}

/// The request of the first (or only) entry: for a packet mirroring insert the new resource,
/// from the world's mirroring of that name when there is one; for insert and patch the
/// collector; otherwise only the request type.
fn request_json(world: &World, event: &GcpEvent, version: &str, rpc: &str) -> Value {
    let mut request = json!({ "@type": format!("type.googleapis.com/{rpc}") });
    let (region, _, name) = resource_parts(&event.resource);
    let base = format!("https://www.googleapis.com/compute/{version}/");
    let collector = event.collector.as_deref().map(|c| {
        let url = resource_url(c, |bare| {
            format!(
                "{base}projects/{}/regions/{}/forwardingRules/{bare}",
                event.project,
                region.unwrap_or_default()
            )
        });
        // A `projects/…` path gets the method's own API version, as its client would send.
        if c.starts_with("projects/") || c.starts_with("/projects/") {
            url.replacen(crate::gcp::COMPUTE, &base, 1)
        } else {
            url
        }
    });
    if rpc.ends_with("packetMirrorings.insert") {
        let known = world.gcp.mirrorings.iter().find(|m| {
            event.resource
                == format!(
                    "projects/{}/regions/{}/packetMirrorings/{}",
                    m.project, m.region, m.name
                )
        });
        request["name"] = json!(name.unwrap_or_default());
        if let Some(m) = known {
            request["network"] = json!({
                "url": format!("{base}projects/{}/global/networks/{}", m.project, m.network)
            });
            request["priority"] = json!(m.priority);
            if !m.subnetworks.is_empty() {
                let subnetworks: Vec<Value> = m
                    .subnetworks
                    .iter()
                    .map(|s| {
                        json!({ "url": resource_url(s, |n| format!(
                            "{base}projects/{}/regions/{}/subnetworks/{n}", m.project, m.region
                        )) })
                    })
                    .collect();
                request["mirroredResources"] = json!({ "subnetworks": subnetworks });
            }
            request["filter"] = json!({ "direction": m.direction.as_deref().unwrap_or("BOTH") });
            request["enable"] = json!(if m.enable { "TRUE" } else { "FALSE" });
        }
    }
    if rpc.ends_with("packetMirrorings.insert") || rpc.ends_with("packetMirrorings.patch") {
        if let Some(url) = collector {
            request["collectorIlb"] = json!({ "url": url });
        }
    }
    request
}

fn log_entry(world: &World, event: &GcpEvent, key: &str, entry: &Entry) -> Value {
    let (version, rpc) = split_method(&event.method);
    let (region, collection, name) = resource_parts(&event.resource);
    let project = &event.project;
    let ip = event.source_ip.as_deref().unwrap_or(DEFAULT_SOURCE_IP);
    let verb = rpc.rsplit('.').next().unwrap_or_default();
    let kebab_collection: String = collection
        .unwrap_or_default()
        .chars()
        .flat_map(|c| {
            if c.is_ascii_uppercase() {
                vec!['-', c.to_ascii_lowercase()]
            } else {
                vec![c]
            }
        })
        .collect();
    let user_agent = format!(
        "google-cloud-sdk gcloud/499.0.0 command/gcloud.compute.{kebab_collection}.{verb} invocation-id/{} environment/None environment-version/None interactive/False from-script/True python/3.12.6,gzip(gfe)",
        guid(&format!("{key}/invocation")).replace('-', "")
    );
    let subject = if event.principal.ends_with(".gserviceaccount.com") {
        "serviceAccount"
    } else {
        "user"
    };
    let timestamp = rfc3339_utc(entry.time, 6);
    let mut request_metadata = json!({ "callerIp": ip, "callerSuppliedUserAgent": user_agent });
    if entry.kind != Kind::Last {
        request_metadata["requestAttributes"] = json!({ "time": timestamp, "auth": {} });
        request_metadata["destinationAttributes"] = json!({});
    }
    let resource_id = match collection {
        Some("packetMirrorings") => world
            .gcp
            .mirrorings
            .iter()
            .find(|m| {
                event.resource
                    == format!(
                        "projects/{}/regions/{}/packetMirrorings/{}",
                        m.project, m.region, m.name
                    )
            })
            .map(|m| m.id.to_string())
            .unwrap_or_else(|| numeric_id(&format!("resource/{}", event.resource))),
        _ => numeric_id(&format!("resource/{}", event.resource)),
    };
    let mut payload = json!({
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {
            "principalEmail": event.principal,
            "principalSubject": format!("{subject}:{}", event.principal),
        },
        "requestMetadata": request_metadata,
        "serviceName": SERVICE,
        "methodName": event.method,
        "resourceName": event.resource,
    });
    let location = region.unwrap_or("global");
    let failed = entry.kind == Kind::Failed;
    let operation_name = {
        let h = guid(&format!("{key}/operation")).replace('-', "");
        format!(
            "operation-{}-{}-{}-{}",
            event.time.unix_timestamp_nanos() / 1_000_000,
            &h[..13],
            &h[13..21],
            &h[21..29]
        )
    };
    if entry.kind != Kind::Last {
        let granted = !failed;
        let mut authorization = json!({
            "permission": permission(rpc),
            "granted": granted,
            "resourceAttributes": {
                "service": "compute",
                "name": event.resource,
                "type": format!("compute.{}", collection.unwrap_or_default()),
            },
            "permissionType": "ADMIN_WRITE",
        });
        if granted {
            authorization["resource"] = json!(event.resource);
        }
        payload["authorizationInfo"] = json!([authorization]);
        payload["request"] = request_json(world, event, version, rpc);
        payload["resourceLocation"] = json!({ "currentLocations": [location] });
    } else {
        payload["request"] = json!({ "@type": format!("type.googleapis.com/{rpc}") });
    }
    if entry.kind == Kind::First {
        let base = format!("https://www.googleapis.com/compute/{version}/projects/{project}");
        let scope = match region {
            Some(r) => format!("regions/{r}"),
            None => "global".to_string(),
        };
        let op_id = numeric_id(&format!("{key}/operation-id"));
        let mut response = json!({
            "@type": "type.googleapis.com/operation",
            "id": op_id,
            "name": operation_name,
            "operationType": verb,
            "progress": "0",
            "insertTime": pacific(entry.time, 3),
            "startTime": pacific(entry.time, 3),
            "selfLink": format!("{base}/{scope}/operations/{operation_name}"),
            "selfLinkWithId": format!("{base}/{scope}/operations/{op_id}"),
            "status": "RUNNING",
            "targetId": resource_id,
            "targetLink": format!(
                "{base}/{scope}/{}/{}",
                collection.unwrap_or_default(),
                name.unwrap_or_default()
            ),
            "user": event.principal,
        });
        if let Some(r) = region {
            response["region"] = json!(format!("{base}/regions/{r}"));
        }
        payload["response"] = response;
    }
    if failed {
        let code = event.error_code().unwrap_or(2);
        payload["status"] = json!({
            "code": code,
            "message": RPC_CODES.get(code as usize).copied().unwrap_or("UNKNOWN"),
        });
    }
    let resource_type = monitored_type(collection);
    let labels = match resource_type {
        "gce_packet_mirroring" => json!({
            "project_id": project,
            "packet_mirroring_id": if failed { String::new() } else { resource_id.clone() },
            "region": location,
        }),
        "gce_firewall_policy" => json!({
            "project_id": project,
            "firewall_policy_id": if failed { String::new() } else { resource_id.clone() },
        }),
        "gce_forwarding_rule" => json!({
            "project_id": project,
            "forwarding_rule_id": resource_id,
            "region": location,
        }),
        "gce_instance" => {
            json!({ "project_id": project, "instance_id": resource_id, "zone": location })
        }
        _ => json!({ "project_id": project, "service": SERVICE, "method": event.method }),
    };
    let phase = match entry.kind {
        Kind::First => "first",
        Kind::Last => "last",
        Kind::Failed => "failed",
    };
    let receive = entry.time
        + time::Duration::nanoseconds(
            231_457_118 + (entry.time.nanosecond() % 97) as i64 * 1_000_003,
        );
    let mut log_entry = json!({
        "protoPayload": payload,
        "insertId": format!("-{}", base36(&format!("{key}/{phase}"), 12)),
        "resource": { "type": resource_type, "labels": labels },
        "timestamp": timestamp,
        "severity": if failed { ERROR } else { NOTICE },
        "logName": format!("projects/{project}/logs/{ACTIVITY_LOG}"),
        "receiveTimestamp": rfc3339_utc(receive, 9),
    });
    if !failed {
        let mut operation = json!({ "id": operation_name, "producer": SERVICE });
        operation[if entry.kind == Kind::First {
            "first"
        } else {
            "last"
        }] = json!(true);
        log_entry["operation"] = operation;
    }
    log_entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_http::{request, Reply};
    use crate::MockCloud;

    const FILTER: &str = "logName=\"projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity\" AND protoPayload.serviceName=\"compute.googleapis.com\"\n AND protoPayload.methodName:(\"compute.packetMirrorings.insert\" OR \"compute.packetMirrorings.patch\" OR \"compute.packetMirrorings.delete\")\n AND timestamp>=\"2026-12-03T00:00:00Z\" AND timestamp<\"2026-12-04T00:00:00Z\"";

    fn world(extra: &str) -> World {
        World::from_toml(&format!(
            r#"
[settings]
page_size = 2
[[gcp.projects]]
id = "acme-prod"
regions = ["us-central1"]
[[gcp.mirrorings]]
project = "acme-prod"
region = "us-central1"
name = "pm-web"
id = 4242
network = "prod-vpc"
collector = "ids-fr"
subnetworks = ["web"]
created_at = "2026-12-03T08:00:00Z"
created_by = "priya@acme.example"
[[gcp.events]]
project = "acme-prod"
time = "2026-12-03T09:00:00Z"
method = "beta.compute.packetMirrorings.patch"
resource = "projects/acme-prod/regions/us-central1/packetMirrorings/pm-web"
principal = "mallory@acme.example"
collector = "projects/evil/regions/us-central1/forwardingRules/fr-x"
error = "PERMISSION_DENIED"
source_ip = "203.0.113.91"
[[gcp.events]]
project = "acme-prod"
time = "2026-12-03T10:00:00Z"
method = "v1.compute.packetMirrorings.delete"
resource = "projects/acme-prod/regions/us-central1/packetMirrorings/pm-web"
principal = "tf@acme-prod.iam.gserviceaccount.com"
[[gcp.events]]
project = "acme-prod"
time = "2026-12-03T11:00:00Z"
method = "v1.compute.instances.insert"
resource = "projects/acme-prod/zones/us-central1-a/instances/vm-1"
principal = "priya@acme.example"
[[gcp.events]]
project = "acme-prod"
time = "2026-12-04T00:00:00Z"
method = "v1.compute.packetMirrorings.insert"
resource = "projects/acme-prod/regions/us-central1/packetMirrorings/pm-late"
principal = "priya@acme.example"
collector = "fr-late"
{extra}
"#
        ))
        .expect("world parses")
    }

    async fn list(mock: &MockCloud, body: &Value) -> Reply {
        request(
            mock.addr(),
            "POST",
            "/v2/entries:list?$alt=json;enum-encoding=int",
            &[
                ("Authorization", "Bearer ya29.mock-test"),
                ("Content-Type", "application/json"),
            ],
            &body.to_string(),
        )
        .await
    }

    async fn all_entries(mock: &MockCloud, mut body: Value) -> Vec<Value> {
        let mut out = Vec::new();
        for _ in 0..20 {
            let reply = list(mock, &body).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let page = reply.json();
            out.extend(page["entries"].as_array().unwrap().iter().cloned());
            match page.get("nextPageToken") {
                Some(token) => body["pageToken"] = token.clone(),
                None => return out,
            }
        }
        panic!("pagination did not end");
    }

    fn query(filter: &str, order: &str) -> Value {
        json!({ "resourceNames": ["projects/acme-prod"], "filter": filter, "orderBy": order, "pageSize": 1000 })
    }

    #[test]
    fn filters_parse_strictly() {
        let f = parse_filter(FILTER).unwrap();
        assert_eq!(f.0.len(), 5);
        assert!(parse_filter("").unwrap().0.is_empty());
        for bad in [
            "protoPayload.methodname=\"x\"",
            "logName=projects/p",
            "logName=\"a\" and timestamp>=\"2026-12-03T00:00:00Z\"",
            "timestamp>=\"yesterday\"",
            "logName>\"a\"",
            "protoPayload.methodName:(\"a\" \"b\")",
            "logName=\"a\" OR logName=\"b\"",
            "NOT logName=\"a\"",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
        assert_eq!(
            permission("compute.packetMirrorings.insert"),
            "compute.packetMirrorings.create"
        );
        assert_eq!(
            permission("compute.networkFirewallPolicies.addPacketMirroringRule"),
            "compute.firewallPolicies.update"
        );
    }

    #[tokio::test]
    async fn pages_audit_entries_in_order_within_the_window() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let entries = all_entries(&mock, query(FILTER, "timestamp asc")).await;
        // insert (first, last), refused patch (one), delete (first, last); not the instance,
        // not the insert at the window's exclusive end.
        assert_eq!(entries.len(), 5, "{entries:#?}");
        let times: Vec<&str> = entries
            .iter()
            .map(|e| e["timestamp"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        let mut ids: Vec<&str> = entries
            .iter()
            .map(|e| e["insertId"].as_str().unwrap())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 5);

        let (first, last) = (&entries[0], &entries[1]);
        assert_eq!(first["operation"]["first"], true);
        assert_eq!(last["operation"]["last"], true);
        assert_eq!(first["operation"]["id"], last["operation"]["id"]);
        assert_eq!(first["timestamp"], "2026-12-03T08:00:00.000000Z");
        assert_eq!(last["timestamp"], "2026-12-03T08:00:05.000000Z");
        assert_eq!(first["severity"], 300);
        assert_eq!(
            first["logName"],
            "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity"
        );
        let payload = &first["protoPayload"];
        assert_eq!(
            payload["@type"],
            "type.googleapis.com/google.cloud.audit.AuditLog"
        );
        assert_eq!(payload["methodName"], "v1.compute.packetMirrorings.insert");
        assert_eq!(
            payload["authenticationInfo"]["principalEmail"],
            "priya@acme.example"
        );
        assert_eq!(payload["requestMetadata"]["callerIp"], "198.51.100.7");
        assert_eq!(
            payload["request"]["collectorIlb"]["url"],
            "https://www.googleapis.com/compute/v1/projects/acme-prod/regions/us-central1/forwardingRules/ids-fr"
        );
        assert_eq!(
            payload["request"]["@type"],
            "type.googleapis.com/compute.packetMirrorings.insert"
        );
        assert_eq!(payload["response"]["status"], "RUNNING");
        assert_eq!(payload["response"]["targetId"], "4242");
        assert_eq!(first["resource"]["type"], "gce_packet_mirroring");
        assert_eq!(first["resource"]["labels"]["region"], "us-central1");
        assert_eq!(
            last["protoPayload"]["request"],
            json!({ "@type": "type.googleapis.com/compute.packetMirrorings.insert" })
        );

        let refused = &entries[2];
        assert_eq!(refused["severity"], 500);
        assert!(refused.get("operation").is_none());
        assert_eq!(
            refused["protoPayload"]["status"],
            json!({ "code": 7, "message": "PERMISSION_DENIED" })
        );
        assert_eq!(
            refused["protoPayload"]["requestMetadata"]["callerIp"],
            "203.0.113.91"
        );
        assert_eq!(
            refused["protoPayload"]["request"]["collectorIlb"]["url"],
            "https://www.googleapis.com/compute/beta/projects/evil/regions/us-central1/forwardingRules/fr-x"
        );

        let desc = all_entries(&mock, query(FILTER, "timestamp desc")).await;
        let reversed: Vec<_> = entries
            .iter()
            .rev()
            .map(|e| e["insertId"].clone())
            .collect();
        assert_eq!(
            desc.iter()
                .map(|e| e["insertId"].clone())
                .collect::<Vec<_>>(),
            reversed
        );
        let inclusive = FILTER.replace("timestamp<\"", "timestamp<=\"");
        assert_eq!(all_entries(&mock, query(&inclusive, "")).await.len(), 6);
        let everything =
            all_entries(&mock, json!({ "resourceNames": ["projects/acme-prod"] })).await;
        assert_eq!(everything.len(), 9);

        let log = mock.requests();
        let first_request = log.iter().find(|r| r.service == "logging").unwrap();
        assert_eq!(first_request.action, "entries.list");
        assert_eq!(first_request.account, "acme-prod");
        assert!(first_request
            .params
            .contains(&("filter".to_string(), FILTER.to_string())));
        assert_eq!(mock.world().gcp_events().len(), 5);
    }

    #[tokio::test]
    async fn errors_and_faults_use_googles_codes() {
        let mock = MockCloud::start(world(
            "[[gcp.faults]]\naccount = \"acme-prod\"\naction = \"entries.list\"\nkind = \"throttled\"\ntimes = 1\n",
        ))
        .await
        .unwrap();
        let status = |reply: &Reply| {
            reply.json()["error"]["status"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let throttled = list(&mock, &query(FILTER, "")).await;
        assert_eq!(throttled.status, 429);
        assert_eq!(status(&throttled), "RESOURCE_EXHAUSTED");
        let first = list(&mock, &query(FILTER, "")).await;
        assert_eq!(first.status, 200);
        let token = first.json()["nextPageToken"].clone();
        let mut other = query("timestamp>=\"2026-12-03T00:00:00Z\"", "");
        other["pageToken"] = token;
        let mismatch = list(&mock, &other).await;
        assert_eq!(mismatch.status, 400);
        assert_eq!(status(&mismatch), "INVALID_ARGUMENT");
        let typo = list(&mock, &query("protoPayload.methodNmae:\"x\"", "")).await;
        assert_eq!(status(&typo), "INVALID_ARGUMENT");
        let order = list(&mock, &query(FILTER, "receiveTimestamp asc")).await;
        assert_eq!(status(&order), "INVALID_ARGUMENT");
        let unknown_member =
            list(&mock, &json!({ "resource_names": ["projects/acme-prod"] })).await;
        assert_eq!(status(&unknown_member), "INVALID_ARGUMENT");
        let stranger = list(&mock, &json!({ "resourceNames": ["projects/elsewhere"] })).await;
        assert_eq!(stranger.status, 403);
        assert_eq!(status(&stranger), "PERMISSION_DENIED");
        let anonymous = request(mock.addr(), "POST", "/v2/entries:list", &[], "{}").await;
        assert_eq!(anonymous.status, 401);

        for (kind, code, name) in [
            ("denied", 403, "PERMISSION_DENIED"),
            ("failing", 500, "INTERNAL"),
        ] {
            let mock = MockCloud::start(world(&format!(
                "[[gcp.faults]]\naction = \"entries.list\"\nkind = \"{kind}\"\n"
            )))
            .await
            .unwrap();
            let reply = list(&mock, &query(FILTER, "")).await;
            assert_eq!(reply.status, code);
            assert_eq!(status(&reply), name);
        }
        let mock = MockCloud::start(world(
            "[[gcp.faults]]\naction = \"entries.list\"\nkind = \"token-loop\"\n",
        ))
        .await
        .unwrap();
        let first = list(&mock, &query(FILTER, "")).await.json();
        let mut again = query(FILTER, "");
        again["pageToken"] = first["nextPageToken"].clone();
        let second = list(&mock, &again).await.json();
        assert_eq!(first, second);
        let mock = MockCloud::start(world(
            "[[gcp.faults]]\naction = \"entries.list\"\nkind = \"malformed\"\n",
        ))
        .await
        .unwrap();
        let reply = list(&mock, &query(FILTER, "")).await;
        assert_eq!(reply.status, 200);
        assert!(serde_json::from_str::<Value>(&reply.body).is_err());
    }
}
