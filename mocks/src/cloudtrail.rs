//! CloudTrail `LookupEvents` over awsJson 1.1, as aws-sdk-cloudtrail speaks it: `POST /` with
//! `X-Amz-Target: CloudTrail_20131101.LookupEvents`, a JSON body whose `StartTime` / `EndTime`
//! are epoch seconds, the account from the SigV4 access key (as for EC2) and the region from
//! the credential scope. Answers are `{"Events":[…],"NextToken":…}`, newest first, each event's
//! `CloudTrailEvent` the full CloudTrail record as a JSON string; errors are awsJson's
//! `{"__type","message"}` with `x-amzn-ErrorType`.
//!
//! The records follow `tests/fixtures/audit/gen_fixtures.py`, which models the traffic-mirror
//! writes on real trails: `userIdentity` (AssumedRole with `sessionContext.sessionIssuer`, or
//! IAMUser), `{"<Name>Request":{…}}` / `{"<Name>Response":{…}}` wrappers, and a refused call
//! with `errorCode` / `errorMessage` and `responseElements: null`.
//!
//! LookupEvents is famously rate-limited (2 requests per second per account and region): the
//! mock enforces that with a token bucket ([`crate::world::Settings::cloudtrail_rate`]), so a
//! client that does not pace itself or retry `ThrottlingException` fails here as it would in
//! production.

use crate::aws_json;
use crate::wire::{guid, page_offset, page_token, rfc3339_utc};
use crate::world::{AwsEvent, FaultKind, World, DEFAULT_SOURCE_IP};
use crate::{MockState, RequestRecord};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Duration;
use time::OffsetDateTime;

const LOOKUP_EVENTS: &str = "CloudTrail_20131101.LookupEvents";
const EC2_NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";
const EC2_SOURCE: &str = "ec2.amazonaws.com";
/// LookupEvents' documented maximum (and default) page size.
const MAX_RESULTS: i64 = 50;
/// The lookup attributes LookupEvents accepts.
const ATTRIBUTE_KEYS: [&str; 8] = [
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];
const UA_CLI: &str = "aws-cli/2.17.40 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython md/command#ec2.";

const SERVICE: &str = "cloudtrail";

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    aws_json::error(
        SERVICE,
        status,
        code,
        json!({ "__type": code, "message": message }),
    )
}

fn bad_request(code: &str, message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, code, message)
}

fn throttled() -> Response {
    bad_request("ThrottlingException", "Rate exceeded")
}

/// The LookupEvents request body; every member is optional.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct LookupRequest {
    #[serde(default)]
    lookup_attributes: Vec<LookupAttribute>,
    #[serde(default)]
    start_time: Option<f64>,
    #[serde(default)]
    end_time: Option<f64>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
    /// `insight` selects Insights events, of which the mock has none.
    #[serde(default)]
    event_category: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

/// `POST /` with an `X-Amz-Target` header.
pub(crate) async fn handle(
    state: &MockState,
    headers: &HeaderMap,
    target: &str,
    body: &[u8],
) -> Response {
    if target != LOOKUP_EVENTS {
        return bad_request(
            "UnknownOperationException",
            &format!("Unknown operation {target}"),
        );
    }
    let (caller, scope) = match aws_json::caller(state, headers, bad_request) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let account = caller.account;
    let region = scope.region.as_str();
    let parsed = aws_json::body::<LookupRequest>(body);
    let request = match parsed {
        Ok(request) => request,
        Err(e) => {
            state.record(record(&account.id, region, Vec::new()));
            return bad_request("SerializationException", &e.to_string());
        }
    };
    let mut params = Vec::new();
    for attribute in &request.lookup_attributes {
        params.push((
            attribute.attribute_key.clone(),
            attribute.attribute_value.clone(),
        ));
    }
    for (name, value) in [
        ("StartTime", request.start_time),
        ("EndTime", request.end_time),
    ] {
        if let Some(t) = value.and_then(epoch) {
            params.push((name.to_string(), rfc3339_utc(t, 0)));
        }
    }
    if let Some(n) = request.max_results {
        params.push(("MaxResults".to_string(), n.to_string()));
    }
    if let Some(token) = &request.next_token {
        params.push(("NextToken".to_string(), token.clone()));
    }
    state.record(record(&account.id, region, params));

    let mut token_loop = false;
    for index in state.aws.faults_for(&account.id) {
        let fault = &state.world.aws.faults[index];
        if !fault.matches(&account.id, region, "LookupEvents") {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                let arn = caller.arn();
                return bad_request(
                    "AccessDeniedException",
                    &format!("User: {arn} is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action"),
                );
            }
            FaultKind::Throttled => {
                if state.hit("aws", index) < fault.times.unwrap_or(1) {
                    return throttled();
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("aws", index) < t) {
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalFailure",
                        "The request processing has failed because of an unknown error, exception or failure.",
                    );
                }
            }
            FaultKind::Slow => {
                tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(1000))).await;
            }
            FaultKind::Malformed => {
                return aws_json::ok(
                    SERVICE,
                    r#"{"Events":[{"EventId":"3b5f7022-3ebc-49fb-ac43-"#.to_string(),
                );
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            FaultKind::TokenLoop => token_loop = true,
        }
    }

    if !account.regions.iter().any(|r| r == region) {
        // What the CloudTrail endpoint of a region the account has not enabled answers.
        return bad_request(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        );
    }
    if !state.take_token(&account.id, region) {
        return throttled();
    }

    if request.lookup_attributes.len() > 1 {
        return bad_request(
            "InvalidLookupAttributesException",
            "You cannot have more than one lookup attribute.",
        );
    }
    let attribute = request.lookup_attributes.first();
    if let Some(a) = attribute {
        if !ATTRIBUTE_KEYS.contains(&a.attribute_key.as_str()) {
            return bad_request(
                "InvalidLookupAttributesException",
                &format!(
                    "Lookup attribute key '{}' is not valid. Valid keys are: {}.",
                    a.attribute_key,
                    ATTRIBUTE_KEYS.join(", ")
                ),
            );
        }
    }
    let max_results = match request.max_results {
        None | Some(0) => MAX_RESULTS,
        Some(n) if (1..=MAX_RESULTS).contains(&n) => n,
        Some(n) => {
            return bad_request(
                "InvalidMaxResultsException",
                &format!("Value {n} for MaxResults is invalid: it must be between 1 and 50."),
            )
        }
    };
    let (Some(start), Some(end)) = (
        bound(request.start_time, f64::NEG_INFINITY),
        bound(request.end_time, f64::INFINITY),
    ) else {
        return bad_request(
            "InvalidTimeRangeException",
            "StartTime and EndTime must be valid epoch times.",
        );
    };
    if start > end {
        return bad_request(
            "InvalidTimeRangeException",
            "Start time cannot be later than end time.",
        );
    }

    let query = format!(
        "{}/{region}/{:?}/{start}/{end}/{:?}",
        account.id,
        attribute.map(|a| (&a.attribute_key, &a.attribute_value)),
        request.event_category
    );
    let offset = match request.next_token.as_deref() {
        None | Some("") => 0,
        Some(token) => match page_offset("cloudtrail", token, &query) {
            Some(offset) => offset,
            None => {
                return bad_request(
                    "InvalidNextTokenException",
                    "Invalid NextToken: it does not belong to this query.",
                )
            }
        },
    };
    // The token-loop fault answers every page as the first one, with the same token.
    let offset = if token_loop { 0 } else { offset };

    let insights = request
        .event_category
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("insight"));
    let events = &state.aws.events;
    let scope_events = if insights {
        &[][..]
    } else {
        state.aws.events_by_scope.get(&account.id, region)
    };
    let mut selected: Vec<(&AwsEvent, Summary)> = scope_events
        .iter()
        .map(|&n| &events[n])
        .filter(|e| {
            let t = e.time.unix_timestamp() as f64;
            start <= t && t <= end
        })
        .map(|e| (e, summary(e)))
        .filter(|(e, s)| attribute.is_none_or(|a| s.matches(e, a)))
        .collect();
    // Newest first, as CloudTrail lists; world order breaks ties so pages are stable.
    selected.sort_by_key(|(e, _)| std::cmp::Reverse(e.time.unix_timestamp()));

    let size = (max_results as usize).min(state.world.settings.page_size.max(1));
    let end_index = (offset + size).min(selected.len());
    let start_index = offset.min(end_index);
    let page: Vec<Value> = selected[start_index..end_index]
        .iter()
        .map(|(e, s)| envelope(&state.world, e, s))
        .collect();
    let mut body = json!({ "Events": page });
    if token_loop {
        body["NextToken"] = json!(page_token("cloudtrail", 0, &query));
    } else if end_index < selected.len() {
        body["NextToken"] = json!(page_token("cloudtrail", end_index, &query));
    }
    aws_json::ok(SERVICE, body.to_string())
}

fn record(account: &str, region: &str, params: Vec<(String, String)>) -> RequestRecord {
    RequestRecord {
        service: "cloudtrail".to_string(),
        action: "LookupEvents".to_string(),
        account: account.to_string(),
        region: region.to_string(),
        params,
    }
}

/// An epoch-seconds timestamp (possibly fractional) as a date-time.
fn epoch(seconds: f64) -> Option<OffsetDateTime> {
    if !seconds.is_finite() {
        return None;
    }
    OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9).round() as i128).ok()
}

/// A window bound: `absent` when not given, `None` when not a usable time.
fn bound(value: Option<f64>, absent: f64) -> Option<f64> {
    match value {
        None => Some(absent),
        Some(v) => epoch(v).map(|_| v),
    }
}

/// Who called, as CloudTrail's `userIdentity` says it.
enum Principal {
    /// An assumed role: the role ARN (path kept), its name, and the session.
    Role {
        partition: String,
        account: String,
        arn: String,
        name: String,
        session: String,
    },
    User {
        account: String,
        arn: String,
        name: String,
    },
    Root {
        account: String,
        arn: String,
    },
    /// An AWS service acting on its own (`invokedBy`), or anything that is not an IAM ARN.
    Service(String),
}

fn principal(event: &AwsEvent) -> Principal {
    let actor = event.actor.trim();
    let session = event
        .session
        .clone()
        .unwrap_or_else(|| "mock-session".to_string());
    let parts: Vec<&str> = actor.splitn(6, ':').collect();
    let [arn_prefix, partition, service, _region, account, resource] = parts[..] else {
        return Principal::Service(actor.to_string());
    };
    if arn_prefix != "arn" {
        return Principal::Service(actor.to_string());
    }
    let (partition, account) = (partition.to_string(), account.to_string());
    match (service, resource.split_once('/')) {
        ("iam", Some(("role", path))) => Principal::Role {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            arn: actor.to_string(),
            partition,
            account,
            session,
        },
        // A session ARN given as the actor: the role is rebuilt without a path.
        ("sts", Some(("assumed-role", rest))) => {
            let (name, session) = rest.split_once('/').unwrap_or((rest, session.as_str()));
            Principal::Role {
                arn: format!("arn:{partition}:iam::{account}:role/{name}"),
                name: name.to_string(),
                session: session.to_string(),
                partition,
                account,
            }
        }
        ("iam", Some(("user", path))) => Principal::User {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            arn: actor.to_string(),
            account,
        },
        ("iam", None) if resource == "root" => Principal::Root {
            arn: actor.to_string(),
            account,
        },
        _ => Principal::Service(actor.to_string()),
    }
}

/// An upper-case id of `len` characters after `prefix`, stable per key (AROA…, ASIA…).
fn aws_id(prefix: &str, key: &str, len: usize) -> String {
    let hex = format!("{}{}", guid(key), guid(&format!("{key}/2"))).replace('-', "");
    format!("{prefix}{}", hex[..len].to_ascii_uppercase())
}

fn identity(principal: &Principal, event: &AwsEvent) -> Value {
    match principal {
        Principal::Role {
            partition,
            account,
            arn,
            name,
            session,
        } => {
            let role_id = aws_id("AROA", &format!("role/{arn}"), 17);
            let created = event.time - time::Duration::hours(1);
            json!({
                "type": "AssumedRole",
                "principalId": format!("{role_id}:{session}"),
                "arn": format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session}"),
                "accountId": account,
                "accessKeyId": aws_id("ASIA", &format!("key/{arn}/{session}"), 16),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": arn,
                        "accountId": account,
                        "userName": name,
                    },
                    "attributes": {
                        "creationDate": rfc3339_utc(created, 0),
                        "mfaAuthenticated": "false",
                    },
                },
            })
        }
        Principal::User { account, arn, name } => json!({
            "type": "IAMUser",
            "principalId": aws_id("AIDA", &format!("user/{arn}"), 17),
            "arn": arn,
            "accountId": account,
            "accessKeyId": aws_id("AKIA", &format!("key/{arn}"), 16),
            "userName": name,
        }),
        Principal::Root { account, arn } => json!({
            "type": "Root",
            "principalId": account,
            "arn": arn,
            "accountId": account,
            "accessKeyId": aws_id("AKIA", &format!("key/{arn}"), 16),
        }),
        Principal::Service(service) => json!({
            "type": "AWSService",
            "invokedBy": service,
        }),
    }
}

/// What LookupEvents' envelope summarises and its lookup attributes match.
struct Summary {
    username: String,
    access_key: String,
    read_only: bool,
    resources: Vec<(&'static str, String)>,
}

impl Summary {
    fn matches(&self, event: &AwsEvent, attribute: &LookupAttribute) -> bool {
        let value = attribute.attribute_value.as_str();
        match attribute.attribute_key.as_str() {
            "EventId" => event.id.as_deref() == Some(value),
            "EventName" => event.name == value,
            "ReadOnly" => value == if self.read_only { "true" } else { "false" },
            "Username" => self.username == value,
            "ResourceType" => self.resources.iter().any(|(t, _)| *t == value),
            "ResourceName" => self.resources.iter().any(|(_, n)| n == value),
            "EventSource" => value == EC2_SOURCE,
            "AccessKeyId" => self.access_key == value,
            _ => false,
        }
    }
}

fn summary(event: &AwsEvent) -> Summary {
    let principal = principal(event);
    let identity = identity(&principal, event);
    let username = match &principal {
        Principal::Role { session, .. } => session.clone(),
        Principal::User { name, .. } => name.clone(),
        Principal::Root { .. } => "root".to_string(),
        Principal::Service(service) => service.clone(),
    };
    let refused_create = event.error_code.is_some() && event.name.starts_with("Create");
    let created = event.resource.iter().filter(|_| !refused_create);
    let resources = created
        .chain(&event.source)
        .chain(&event.target)
        .chain(&event.filter)
        .chain(&event.load_balancer)
        .filter_map(|id| resource_type(id).map(|t| (t, id.clone())))
        .collect();
    Summary {
        username,
        access_key: identity["accessKeyId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        read_only: read_only(&event.name),
        resources,
    }
}

fn read_only(name: &str) -> bool {
    ["Describe", "Get", "List", "Lookup"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

fn resource_type(id: &str) -> Option<&'static str> {
    let types = [
        ("tms-", "AWS::EC2::TrafficMirrorSession"),
        ("tmt-", "AWS::EC2::TrafficMirrorTarget"),
        ("tmfr-", "AWS::EC2::TrafficMirrorFilterRule"),
        ("tmf-", "AWS::EC2::TrafficMirrorFilter"),
        ("eni-", "AWS::EC2::NetworkInterface"),
        ("vpce-", "AWS::EC2::VPCEndpoint"),
        (
            "arn:aws:elasticloadbalancing:",
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
        ),
    ];
    types
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))
        .map(|(_, t)| *t)
}

/// One LookupEvents `Event`: the summary fields and the record as a JSON string.
fn envelope(world: &World, event: &AwsEvent, summary: &Summary) -> Value {
    let record = cloudtrail_record(world, event, summary.read_only);
    let resources: Vec<Value> = summary
        .resources
        .iter()
        .map(|(t, n)| json!({ "ResourceType": t, "ResourceName": n }))
        .collect();
    json!({
        "EventId": event.id,
        "EventName": event.name,
        "ReadOnly": if summary.read_only { "true" } else { "false" },
        "AccessKeyId": summary.access_key,
        "EventTime": event.time.unix_timestamp(),
        "EventSource": EC2_SOURCE,
        "Username": summary.username,
        "Resources": resources,
        "CloudTrailEvent": record.to_string(),
    })
}

/// `AbcDef` → `abc-def`, for the CLI's `md/command#ec2.…` user-agent suffix.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The full CloudTrail record of one event.
fn cloudtrail_record(world: &World, event: &AwsEvent, read_only: bool) -> Value {
    let principal = principal(event);
    let event_id = event.id.clone().unwrap_or_default();
    let request_id = guid(&format!("requestID/{event_id}"));
    let (source_ip, user_agent) = match (&principal, &event.source_ip) {
        (_, Some(ip)) => (ip.clone(), format!("{UA_CLI}{}", kebab(&event.name))),
        // A service calling on its own behalf shows up as itself in both fields.
        (Principal::Service(service), None) => (service.clone(), service.clone()),
        (_, None) => (
            DEFAULT_SOURCE_IP.to_string(),
            format!("{UA_CLI}{}", kebab(&event.name)),
        ),
    };
    let (request, response) = calls(world, event, &request_id, read_only);
    let mut record = json!({
        "eventVersion": "1.10",
        "userIdentity": identity(&principal, event),
        "eventTime": rfc3339_utc(event.time, 0),
        "eventSource": EC2_SOURCE,
        "eventName": event.name,
        "awsRegion": event.region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    });
    if let Some(code) = &event.error_code {
        record["errorCode"] = json!(code);
        record["errorMessage"] = json!(event
            .error_message
            .clone()
            .unwrap_or_else(|| error_message(event, code)));
    }
    record["requestParameters"] = request;
    record["responseElements"] = response;
    for (key, value) in [
        ("requestID", json!(request_id)),
        ("eventID", json!(event_id)),
        ("readOnly", json!(read_only)),
        ("eventType", json!("AwsApiCall")),
        ("managementEvent", json!(true)),
        ("recipientAccountId", json!(event.account)),
        ("eventCategory", json!("Management")),
    ] {
        record[key] = value;
    }
    if !matches!(principal, Principal::Service(_)) {
        record["tlsDetails"] = json!({
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": format!("ec2.{}.amazonaws.com", event.region),
        });
    }
    record
}

/// What EC2 says for the usual refusals.
fn error_message(event: &AwsEvent, code: &str) -> String {
    match code.strip_prefix("Client.").unwrap_or(code) {
        "DryRunOperation" => "Request would have succeeded, but DryRun flag is set.".to_string(),
        "UnauthorizedOperation" => {
            let caller = match principal(event) {
                Principal::Role {
                    partition,
                    account,
                    name,
                    session,
                    ..
                } => format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session}"),
                Principal::User { arn, .. } | Principal::Root { arn, .. } => arn,
                Principal::Service(service) => service,
            };
            let noun = match event.name.as_str() {
                n if n.contains("FilterRule") => "traffic-mirror-filter-rule",
                n if n.contains("Filter") => "traffic-mirror-filter",
                n if n.contains("Target") => "traffic-mirror-target",
                n if n.contains("Session") => "traffic-mirror-session",
                _ => "*",
            };
            let id = event
                .resource
                .as_deref()
                .filter(|_| !event.name.starts_with("Create"))
                .unwrap_or("*");
            format!(
                "You are not authorized to perform this operation. User: {caller} is not authorized to perform: ec2:{} on resource: arn:aws:ec2:{}:{}:{noun}/{id} because no identity-based policy allows the ec2:{} action. Encoded authorization failure message: {}",
                event.name,
                event.region,
                event.account,
                event.name,
                guid(&format!("encoded/{}", event.id.as_deref().unwrap_or_default())).replace('-', "")
            )
        }
        other => format!("The request failed: {other}"),
    }
}

/// Builds `{ "Key": value, … }` from the pairs whose value is present.
fn object(pairs: &[(&str, Option<Value>)]) -> Value {
    let map: Map<String, Value> = pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect();
    Value::Object(map)
}

fn some(text: &Option<String>) -> Option<Value> {
    text.as_ref().map(|t| json!(t))
}

/// `requestParameters` and `responseElements` of one call, in the wrapped shape the
/// traffic-mirror APIs log (`{"<Name>Request":{…}}` with the request's PascalCase members,
/// `{"<Name>Response":{…}}` modelled on the XML response). A refused call has no response.
fn calls(world: &World, event: &AwsEvent, request_id: &str, read_only: bool) -> (Value, Value) {
    let name = event.name.as_str();
    let id = event.resource.clone();
    let token = json!(guid(&format!(
        "clientToken/{}",
        event.id.as_deref().unwrap_or_default()
    )));
    let session = world
        .aws
        .sessions
        .iter()
        .find(|s| id.as_deref() == Some(s.id.as_str()));
    let (mut request, response) = match name {
        "CreateTrafficMirrorTarget" => {
            let known = world
                .aws
                .targets
                .iter()
                .find(|t| id.as_deref() == Some(t.id.as_str()));
            let (key, destination, kind) = match (&event.load_balancer, &event.source, known) {
                (Some(lb), _, _) => (
                    "NetworkLoadBalancerArn",
                    lb.clone(),
                    "network-load-balancer",
                ),
                (None, Some(s), _) if s.starts_with("vpce-") => (
                    "GatewayLoadBalancerEndpointId",
                    s.clone(),
                    "gateway-load-balancer-endpoint",
                ),
                (None, Some(s), _) => ("NetworkInterfaceId", s.clone(), "network-interface"),
                (None, None, Some(t)) => (
                    match t.target_type.as_str() {
                        "network-load-balancer" => "NetworkLoadBalancerArn",
                        "gateway-load-balancer-endpoint" => "GatewayLoadBalancerEndpointId",
                        _ => "NetworkInterfaceId",
                    },
                    t.resource.clone(),
                    if t.target_type.is_empty() {
                        "network-interface"
                    } else {
                        t.target_type.as_str()
                    },
                ),
                (None, None, None) => ("NetworkInterfaceId", String::new(), "network-interface"),
            };
            let description = known
                .and_then(|t| t.description.clone())
                .unwrap_or_default();
            let request = object(&[
                (
                    key,
                    Some(json!(destination)).filter(|_| !destination.is_empty()),
                ),
                ("Description", Some(json!(description))),
                ("ClientToken", Some(token.clone())),
            ]);
            let target = object(&[
                ("trafficMirrorTargetId", some(&id)),
                (&lower_first(key), Some(json!(destination))),
                ("type", Some(json!(kind))),
                ("description", Some(json!(description))),
                ("ownerId", Some(json!(event.account))),
                ("tagSet", Some(json!(""))),
            ]);
            (
                request,
                json!({ "clientToken": token, "trafficMirrorTarget": target }),
            )
        }
        "CreateTrafficMirrorFilter" => {
            let filter_id = id.clone().or_else(|| event.filter.clone());
            let description = world
                .aws
                .filters
                .iter()
                .find(|f| filter_id.as_deref() == Some(f.id.as_str()))
                .and_then(|f| f.description.clone())
                .unwrap_or_default();
            (
                json!({ "Description": description, "ClientToken": token }),
                json!({ "clientToken": token, "trafficMirrorFilter": object(&[
                    ("trafficMirrorFilterId", some(&filter_id)),
                    ("ingressFilterRuleSet", Some(json!(""))),
                    ("egressFilterRuleSet", Some(json!(""))),
                    ("networkServiceSet", Some(json!(""))),
                    ("description", Some(json!(description))),
                    ("tagSet", Some(json!(""))),
                ])}),
            )
        }
        "CreateTrafficMirrorFilterRule" => (
            object(&[
                ("TrafficMirrorFilterId", some(&event.filter)),
                ("TrafficDirection", Some(json!("ingress"))),
                ("RuleNumber", Some(json!(100))),
                ("RuleAction", Some(json!("accept"))),
                ("DestinationCidrBlock", Some(json!("0.0.0.0/0"))),
                ("SourceCidrBlock", Some(json!("0.0.0.0/0"))),
                ("ClientToken", Some(token.clone())),
            ]),
            json!({ "clientToken": token, "trafficMirrorFilterRule": filter_rule(event, None) }),
        ),
        "CreateTrafficMirrorSession" => {
            let number = session.map_or(1, |s| s.session_number);
            let description = session.and_then(|s| s.description.clone());
            (
                object(&[
                    ("NetworkInterfaceId", some(&event.source)),
                    ("TrafficMirrorTargetId", some(&event.target)),
                    ("TrafficMirrorFilterId", some(&event.filter)),
                    ("SessionNumber", Some(json!(number))),
                    ("Description", some(&description)),
                    ("ClientToken", Some(token.clone())),
                ]),
                json!({ "clientToken": token, "trafficMirrorSession": session_json(event, world) }),
            )
        }
        "ModifyTrafficMirrorFilterNetworkServices" => {
            let filter_id = id.clone().or_else(|| event.filter.clone());
            (
                object(&[
                    ("TrafficMirrorFilterId", some(&filter_id)),
                    (
                        "AddNetworkService",
                        Some(json!({ "content": "amazon-dns", "tag": 1 })),
                    ),
                ]),
                json!({ "trafficMirrorFilter": object(&[
                    ("trafficMirrorFilterId", some(&filter_id)),
                    ("ingressFilterRuleSet", Some(json!(""))),
                    ("egressFilterRuleSet", Some(json!(""))),
                    ("networkServiceSet", Some(json!({ "item": "amazon-dns" }))),
                    ("description", Some(json!(""))),
                    ("tagSet", Some(json!(""))),
                ])}),
            )
        }
        "ModifyTrafficMirrorFilterRule" => {
            let ports = json!({ "fromPort": 1, "toPort": 65535 });
            (
                object(&[
                    ("TrafficMirrorFilterRuleId", some(&id)),
                    (
                        "DestinationPortRange",
                        Some(json!({ "FromPort": 1, "ToPort": 65535 })),
                    ),
                ]),
                json!({ "trafficMirrorFilterRule": filter_rule(event, Some(ports)) }),
            )
        }
        "ModifyTrafficMirrorSession" => {
            // A modify names what it changes; with nothing to change, drop the packet length.
            let remove = (event.target.is_none() && event.filter.is_none())
                .then(|| json!({ "content": "packet-length", "tag": 1 }));
            (
                object(&[
                    ("TrafficMirrorSessionId", some(&id)),
                    ("TrafficMirrorTargetId", some(&event.target)),
                    ("TrafficMirrorFilterId", some(&event.filter)),
                    ("RemoveField", remove),
                ]),
                json!({ "trafficMirrorSession": session_json(event, world) }),
            )
        }
        "DeleteTrafficMirrorSession"
        | "DeleteTrafficMirrorTarget"
        | "DeleteTrafficMirrorFilter"
        | "DeleteTrafficMirrorFilterRule" => {
            let key = format!("{}Id", &name["Delete".len()..]);
            let id = id.clone().or_else(|| match name {
                "DeleteTrafficMirrorTarget" => event.target.clone(),
                "DeleteTrafficMirrorFilter" => event.filter.clone(),
                _ => None,
            });
            (
                object(&[(&key, some(&id))]),
                object(&[(&lower_first(&key), some(&id))]),
            )
        }
        _ if read_only => (json!({ "MaxResults": 1000 }), Value::Null),
        _ => (
            object(&[("ResourceId", some(&id))]),
            json!({ "return": true }),
        ),
    };
    let mut response = response;
    if event.error_code.as_deref().is_some_and(is_dry_run) {
        request["DryRun"] = json!(true);
    }
    if event.error_code.is_some() {
        response = Value::Null;
    }
    let request = json!({ format!("{name}Request"): request });
    let response = match response {
        Value::Object(mut body) => {
            let mut inner = Map::new();
            inner.insert("xmlns".to_string(), json!(EC2_NS));
            inner.insert("requestId".to_string(), json!(request_id));
            inner.append(&mut body);
            json!({ format!("{name}Response"): inner })
        }
        other => other,
    };
    (request, response)
}

fn is_dry_run(code: &str) -> bool {
    matches!(code, "Client.DryRunOperation" | "DryRunOperation")
}

fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => format!("{}{}", first.to_ascii_lowercase(), chars.as_str()),
        None => String::new(),
    }
}

fn filter_rule(event: &AwsEvent, ports: Option<Value>) -> Value {
    object(&[
        ("trafficMirrorFilterRuleId", some(&event.resource)),
        ("trafficMirrorFilterId", some(&event.filter)),
        ("trafficDirection", Some(json!("ingress"))),
        ("ruleNumber", Some(json!(100))),
        ("ruleAction", Some(json!("accept"))),
        ("destinationPortRange", ports),
        ("destinationCidrBlock", Some(json!("0.0.0.0/0"))),
        ("sourceCidrBlock", Some(json!("0.0.0.0/0"))),
    ])
}

/// The session a session call returns: the world's session of that id where it exists (its
/// number, VNI, description), with the event's target, source and filter taking precedence.
fn session_json(event: &AwsEvent, world: &World) -> Value {
    let session = world
        .aws
        .sessions
        .iter()
        .find(|s| event.resource.as_deref() == Some(s.id.as_str()));
    let pick = |given: &Option<String>, known: Option<&String>| {
        given.clone().or_else(|| known.cloned()).map(|v| json!(v))
    };
    let vni = session.and_then(|s| s.vni).unwrap_or_else(|| {
        // Without a world session, a VNI derived from the id, as EC2 assigns one.
        let digest = guid(event.resource.as_deref().unwrap_or_default());
        (u32::from_str_radix(&digest[..6], 16).unwrap_or(0) % 16_777_215) as i32
    });
    object(&[
        ("trafficMirrorSessionId", some(&event.resource)),
        (
            "trafficMirrorTargetId",
            pick(&event.target, session.map(|s| &s.target)),
        ),
        (
            "trafficMirrorFilterId",
            pick(&event.filter, session.map(|s| &s.filter)),
        ),
        (
            "networkInterfaceId",
            pick(&event.source, session.map(|s| &s.source)),
        ),
        ("ownerId", Some(json!(event.account))),
        (
            "packetLength",
            session.and_then(|s| s.packet_length).map(|n| json!(n)),
        ),
        (
            "sessionNumber",
            Some(json!(session.map_or(1, |s| s.session_number))),
        ),
        ("virtualNetworkId", Some(json!(vni))),
        (
            "description",
            Some(json!(session
                .and_then(|s| s.description.clone())
                .unwrap_or_default())),
        ),
        ("tagSet", Some(json!(""))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_http::{request, Reply};
    use crate::MockCloud;

    const ACCOUNT: &str = "111122223333";
    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/cloudtrail/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123456789abcdef";

    fn world(extra: &str) -> World {
        World::from_toml(&format!(
            r#"
[settings]
page_size = 2
cloudtrail_rate = 0
[[aws.accounts]]
id = "{ACCOUNT}"
regions = ["us-east-1", "us-west-2"]
[[aws.sessions]]
account = "{ACCOUNT}"
region = "us-east-1"
id = "tms-0e0e0e0e0e0e0e0e1"
target = "tmt-0a0a0a0a0a0a0a0a1"
filter = "tmf-0b0b0b0b0b0b0b0b1"
source = "eni-0c0c0c0c0c0c0c0c1"
vni = 4101
created_at = "2026-12-03T09:00:00Z"
created_by = "arn:aws:iam::{ACCOUNT}:role/security/NetOpsAdmin"
[[aws.events]]
account = "{ACCOUNT}"
region = "us-east-1"
time = "2026-12-03T08:00:00Z"
name = "CreateTrafficMirrorTarget"
actor = "arn:aws:iam::{ACCOUNT}:user/ci-deployer"
resource = "tmt-0a0a0a0a0a0a0a0a1"
load_balancer = "arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/net/ids/0123"
[[aws.events]]
account = "{ACCOUNT}"
region = "us-east-1"
time = 2026-12-03T10:00:00Z
name = "CreateTrafficMirrorSession"
actor = "arn:aws:iam::{ACCOUNT}:role/dev-readonly"
session = "i-0123"
target = "tmt-0bad"
source = "eni-0c0c0c0c0c0c0c0c1"
error_code = "Client.UnauthorizedOperation"
source_ip = "203.0.113.50"
[[aws.events]]
account = "{ACCOUNT}"
region = "us-east-1"
time = "2026-12-03T11:00:00Z"
name = "DeleteTrafficMirrorSession"
actor = "arn:aws:iam::{ACCOUNT}:role/security/NetOpsAdmin"
session = "jdoe"
resource = "tms-0e0e0e0e0e0e0e0e1"
[[aws.events]]
account = "{ACCOUNT}"
region = "us-east-1"
time = "2026-12-04T11:00:00Z"
name = "DeleteTrafficMirrorSession"
actor = "arn:aws:iam::{ACCOUNT}:role/security/NetOpsAdmin"
resource = "tms-0e0e0e0e0e0e0e0e9"
[[aws.events]]
account = "{ACCOUNT}"
region = "us-west-2"
time = "2026-12-03T11:30:00Z"
name = "CreateTrafficMirrorSession"
actor = "arn:aws:iam::{ACCOUNT}:user/ci-deployer"
error_code = "Client.DryRunOperation"
{extra}
"#
        ))
        .expect("world parses")
    }

    async fn lookup(mock: &MockCloud, body: &str) -> Reply {
        request(
            mock.addr(),
            "POST",
            "/",
            &[
                ("Authorization", AUTH),
                ("X-Amz-Target", LOOKUP_EVENTS),
                ("Content-Type", aws_json::CONTENT_TYPE),
            ],
            body,
        )
        .await
    }

    /// Every page of a query, following NextToken.
    async fn all_events(mock: &MockCloud, query: Value) -> Vec<Value> {
        let mut events = Vec::new();
        let mut query = query;
        for _ in 0..20 {
            let reply = lookup(mock, &query.to_string()).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let page = reply.json();
            events.extend(page["Events"].as_array().unwrap().iter().cloned());
            match page.get("NextToken") {
                Some(token) => query["NextToken"] = token.clone(),
                None => return events,
            }
        }
        panic!("pagination did not end");
    }

    fn record_of(event: &Value) -> Value {
        serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn pages_newest_first_within_the_window() {
        let mock = MockCloud::start(world("")).await.unwrap();
        // 2026-12-03T00:00:00Z .. 2026-12-04T00:00:00Z, the end fractional as the SDK may send.
        let events = all_events(
            &mock,
            json!({ "StartTime": 1796256000, "EndTime": 1796342400.5, "MaxResults": 50 }),
        )
        .await;
        let names: Vec<(&str, &str)> = events
            .iter()
            .map(|e| {
                (
                    e["EventName"].as_str().unwrap(),
                    e["EventId"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(
            names.iter().map(|n| n.0).collect::<Vec<_>>(),
            [
                "DeleteTrafficMirrorSession",
                "CreateTrafficMirrorSession",
                "CreateTrafficMirrorSession",
                "CreateTrafficMirrorTarget"
            ]
        );
        let mut ids: Vec<_> = names.iter().map(|n| n.1).collect();
        ids.dedup();
        assert_eq!(ids.len(), 4);
        let times: Vec<i64> = events
            .iter()
            .map(|e| e["EventTime"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

        let only = all_events(
            &mock,
            json!({ "LookupAttributes": [{ "AttributeKey": "EventName", "AttributeValue": "CreateTrafficMirrorSession" }] }),
        )
        .await;
        assert_eq!(only.len(), 2);
        let all = all_events(&mock, json!({})).await;
        assert_eq!(all.len(), 5);
        let by_source = all_events(
            &mock,
            json!({ "LookupAttributes": [{ "AttributeKey": "EventSource", "AttributeValue": "ec2.amazonaws.com" }] }),
        )
        .await;
        assert_eq!(by_source.len(), 5);

        let log = mock.requests();
        let first = log.iter().find(|r| r.service == "cloudtrail").unwrap();
        assert_eq!(first.action, "LookupEvents");
        assert_eq!(first.account, ACCOUNT);
        assert_eq!(first.region, "us-east-1");
        assert!(first
            .params
            .contains(&("StartTime".to_string(), "2026-12-03T00:00:00Z".to_string())));
    }

    #[tokio::test]
    async fn records_have_cloudtrails_shape() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let events = all_events(&mock, json!({})).await;
        let by_name = |name: &str, error: bool| {
            events
                .iter()
                .find(|e| {
                    e["EventName"] == name && record_of(e).get("errorCode").is_some() == error
                })
                .map(record_of)
                .unwrap()
        };

        // The session generated from created_at / created_by.
        let create = by_name("CreateTrafficMirrorSession", false);
        assert_eq!(create["eventTime"], "2026-12-03T09:00:00Z");
        assert_eq!(create["userIdentity"]["type"], "AssumedRole");
        assert_eq!(
            create["userIdentity"]["arn"],
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/NetOpsAdmin/mock-session")
        );
        assert_eq!(
            create["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
            format!("arn:aws:iam::{ACCOUNT}:role/security/NetOpsAdmin")
        );
        let req = &create["requestParameters"]["CreateTrafficMirrorSessionRequest"];
        assert_eq!(req["TrafficMirrorTargetId"], "tmt-0a0a0a0a0a0a0a0a1");
        assert_eq!(req["NetworkInterfaceId"], "eni-0c0c0c0c0c0c0c0c1");
        assert_eq!(req["TrafficMirrorFilterId"], "tmf-0b0b0b0b0b0b0b0b1");
        let resp = &create["responseElements"]["CreateTrafficMirrorSessionResponse"];
        assert_eq!(resp["xmlns"], EC2_NS);
        assert_eq!(
            resp["trafficMirrorSession"]["trafficMirrorSessionId"],
            "tms-0e0e0e0e0e0e0e0e1"
        );
        assert_eq!(resp["trafficMirrorSession"]["virtualNetworkId"], 4101);
        for (key, value) in [
            ("eventSource", json!("ec2.amazonaws.com")),
            ("awsRegion", json!("us-east-1")),
            ("readOnly", json!(false)),
            ("eventType", json!("AwsApiCall")),
            ("managementEvent", json!(true)),
            ("recipientAccountId", json!(ACCOUNT)),
            ("eventCategory", json!("Management")),
            ("sourceIPAddress", json!("198.51.100.7")),
        ] {
            assert_eq!(create[key], value, "{key}");
        }
        let envelope = events.iter().find(|e| record_of(e) == create).unwrap();
        assert_eq!(envelope["ReadOnly"], "false");
        assert_eq!(envelope["Username"], "mock-session");
        assert_eq!(envelope["EventId"], create["eventID"]);
        assert_eq!(
            envelope["Resources"][0]["ResourceType"],
            "AWS::EC2::TrafficMirrorSession"
        );

        let refused = by_name("CreateTrafficMirrorSession", true);
        assert_eq!(refused["errorCode"], "Client.UnauthorizedOperation");
        assert!(refused["errorMessage"]
            .as_str()
            .unwrap()
            .contains("assumed-role/dev-readonly/i-0123"));
        assert_eq!(refused["responseElements"], Value::Null);
        assert_eq!(refused["sourceIPAddress"], "203.0.113.50");

        let target = by_name("CreateTrafficMirrorTarget", false);
        assert_eq!(target["userIdentity"]["type"], "IAMUser");
        assert_eq!(target["userIdentity"]["userName"], "ci-deployer");
        let target_resp =
            &target["responseElements"]["CreateTrafficMirrorTargetResponse"]["trafficMirrorTarget"];
        assert_eq!(
            target_resp["trafficMirrorTargetId"],
            "tmt-0a0a0a0a0a0a0a0a1"
        );
        assert_eq!(target_resp["type"], "network-load-balancer");
        assert!(
            target["requestParameters"]["CreateTrafficMirrorTargetRequest"]
                ["NetworkLoadBalancerArn"]
                .as_str()
                .unwrap()
                .contains(":loadbalancer/net/ids/")
        );

        let delete = by_name("DeleteTrafficMirrorSession", false);
        assert_eq!(
            delete["requestParameters"]["DeleteTrafficMirrorSessionRequest"]
                ["TrafficMirrorSessionId"],
            "tms-0e0e0e0e0e0e0e0e9"
        );

        // The dry run lives in us-west-2 only.
        let west = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-west-2/cloudtrail/aws4_request, SignedHeaders=host, Signature=00";
        let reply = request(
            mock.addr(),
            "POST",
            "/",
            &[("Authorization", west), ("X-Amz-Target", LOOKUP_EVENTS)],
            "{}",
        )
        .await;
        let dry = record_of(&reply.json()["Events"][0]);
        assert_eq!(dry["errorCode"], "Client.DryRunOperation");
        assert_eq!(
            dry["requestParameters"]["CreateTrafficMirrorSessionRequest"]["DryRun"],
            true
        );
        assert_eq!(mock.world().aws_events().len(), 6);
    }

    #[tokio::test]
    async fn invalid_requests_get_cloudtrails_errors() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let code = |reply: &Reply| reply.json()["__type"].as_str().unwrap().to_string();
        let two = json!({ "LookupAttributes": [
            { "AttributeKey": "EventName", "AttributeValue": "a" },
            { "AttributeKey": "EventName", "AttributeValue": "b" }
        ]});
        let reply = lookup(&mock, &two.to_string()).await;
        assert_eq!(reply.status, 400);
        assert_eq!(code(&reply), "InvalidLookupAttributesException");
        assert_eq!(
            reply.header("x-amzn-ErrorType"),
            Some("InvalidLookupAttributesException")
        );
        let reply = lookup(&mock, r#"{"MaxResults": 51}"#).await;
        assert_eq!(code(&reply), "InvalidMaxResultsException");
        let reply = lookup(&mock, r#"{"StartTime": 20, "EndTime": 10}"#).await;
        assert_eq!(code(&reply), "InvalidTimeRangeException");
        let reply = lookup(&mock, r#"{"NextToken": "bm9wZQ"}"#).await;
        assert_eq!(code(&reply), "InvalidNextTokenException");
        // A token from another query is refused too.
        let first = lookup(&mock, "{}").await.json();
        let token = first["NextToken"].as_str().unwrap();
        let other = json!({ "NextToken": token, "StartTime": 1 });
        assert_eq!(
            code(&lookup(&mock, &other.to_string()).await),
            "InvalidNextTokenException"
        );
        let reply = lookup(&mock, r#"{"StartTime": "yesterday"}"#).await;
        assert_eq!(code(&reply), "SerializationException");
        let unknown = request(
            mock.addr(),
            "POST",
            "/",
            &[
                ("Authorization", AUTH),
                ("X-Amz-Target", "CloudTrail_20131101.DeleteTrail"),
            ],
            "{}",
        )
        .await;
        assert_eq!(code(&unknown), "UnknownOperationException");
    }

    #[tokio::test]
    async fn faults_answer_with_cloudtrails_codes() {
        let faults = format!(
            r#"
[[aws.faults]]
account = "{ACCOUNT}"
region = "us-east-1"
action = "LookupEvents"
kind = "throttled"
times = 2
[[aws.faults]]
region = "us-west-2"
action = "LookupEvents"
kind = "token-loop"
"#
        );
        let mock = MockCloud::start(world(&faults)).await.unwrap();
        for _ in 0..2 {
            let reply = lookup(&mock, "{}").await;
            assert_eq!(reply.status, 400);
            assert_eq!(reply.json()["__type"], "ThrottlingException");
            assert_eq!(reply.json()["message"], "Rate exceeded");
        }
        assert_eq!(lookup(&mock, "{}").await.status, 200);
        assert_eq!(
            mock.rate_limited(),
            0,
            "fault throttling is not the limiter's"
        );

        let west = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-west-2/cloudtrail/aws4_request, SignedHeaders=host, Signature=00";
        let headers = [("Authorization", west), ("X-Amz-Target", LOOKUP_EVENTS)];
        let first = request(mock.addr(), "POST", "/", &headers, "{}")
            .await
            .json();
        let body = json!({ "NextToken": first["NextToken"] }).to_string();
        let second = request(mock.addr(), "POST", "/", &headers, &body)
            .await
            .json();
        assert_eq!(first, second);

        for (kind, status, code) in [
            ("denied", 400, "AccessDeniedException"),
            ("failing", 500, "InternalFailure"),
        ] {
            let mock = MockCloud::start(world(&format!(
                "[[aws.faults]]\naction = \"LookupEvents\"\nkind = \"{kind}\"\n"
            )))
            .await
            .unwrap();
            let reply = lookup(&mock, "{}").await;
            assert_eq!(reply.status, status, "{kind}");
            assert_eq!(reply.json()["__type"], code);
        }
        let mock = MockCloud::start(world(
            "[[aws.faults]]\naction = \"LookupEvents\"\nkind = \"malformed\"\n",
        ))
        .await
        .unwrap();
        let reply = lookup(&mock, "{}").await;
        assert_eq!(reply.status, 200);
        assert!(serde_json::from_str::<Value>(&reply.body).is_err());
        // An EC2 fault with another action leaves CloudTrail alone.
        let mock = MockCloud::start(world(
            "[[aws.faults]]\naction = \"DescribeTrafficMirrorSessions\"\nkind = \"denied\"\n",
        ))
        .await
        .unwrap();
        assert_eq!(lookup(&mock, "{}").await.status, 200);
    }

    #[tokio::test]
    async fn the_limiter_refuses_bursts_and_admits_a_paced_client() {
        let text = format!(
            "[settings]\ncloudtrail_rate = 2.0\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = [\"us-east-1\"]\n"
        );
        let mock = MockCloud::start(World::from_toml(&text).unwrap())
            .await
            .unwrap();
        let mut refused = 0;
        for _ in 0..5 {
            let reply = lookup(&mock, "{}").await;
            if reply.status == 400 {
                assert_eq!(reply.json()["__type"], "ThrottlingException");
                refused += 1;
            } else {
                assert_eq!(reply.status, 200);
            }
        }
        assert!(refused >= 2, "{refused}");
        assert_eq!(mock.rate_limited(), refused);

        tokio::time::sleep(Duration::from_millis(1000)).await;
        let before = mock.rate_limited();
        for _ in 0..3 {
            assert_eq!(lookup(&mock, "{}").await.status, 200);
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        assert_eq!(mock.rate_limited(), before);
    }
}
