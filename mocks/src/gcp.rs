//! GCP Compute Engine and the OAuth token endpoint, as google-cloud-compute-v1 4.1
//! (`PacketMirrorings::aggregated_list`, `NetworkFirewallPolicies::aggregated_list`) and
//! google-cloud-auth 1.x (authorized-user ADC) speak them: a refresh-token `POST /token`, the
//! aggregated lists under `/compute/v1/projects/{project}/aggregated/…` with their per-scope
//! `items` map, `NO_RESULTS_ON_PAGE` / `UNREACHABLE` scope warnings, `unreachables`, and
//! opaque `nextPageToken`s, and Google's `{"error":{"code","message","errors","status"}}`
//! envelope. `/computeMetadata/v1/…` answers "not on GCE" so a metadata probe pointed here
//! (`GCE_METADATA_HOST`) fails fast on loopback instead of reaching for a real server.
//!
//! Paging works on slots: the project's scopes are sorted, each mirroring (or firewall policy)
//! is one slot, and a scope with nothing in it, or an unreachable one, is a single warning slot.
//! A page is `page_size` consecutive slots grouped by scope, so warnings and results interleave
//! across pages the way a real aggregated list's do.

use crate::wire::{b64url_decode, b64url_encode, fnv64, json_response, matches_unscoped, param};
use crate::world::{
    FaultKind, GcpFirewallPolicy, GcpMirroring, GcpMirroringRule, GcpProject, World,
};
use crate::{MockState, RequestRecord};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const CONTENT_TYPE: &str = "application/json; charset=UTF-8";
pub(crate) const COMPUTE: &str = "https://www.googleapis.com/compute/v1/";
/// The real API's creation timestamps are RFC 3339 in Pacific time; this one stands in for a
/// mirroring without `created_at`.
const CREATED: &str = "2026-10-01T09:00:00.000-07:00";
/// What the `token-loop` fault hands out, and what leads back to the first page.
const LOOP_PAGE: &str = "loop";
/// The real API caps `maxResults` at 500.
const MAX_RESULTS_LIMIT: usize = 500;

/// The two aggregated lists the scanner makes; `action` doubles as the fault action.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    PacketMirrorings,
    FirewallPolicies,
}

impl Listing {
    fn action(self) -> &'static str {
        match self {
            Listing::PacketMirrorings => "packetMirrorings.aggregatedList",
            Listing::FirewallPolicies => "networkFirewallPolicies.aggregatedList",
        }
    }

    fn permission(self) -> &'static str {
        match self {
            Listing::PacketMirrorings => "compute.packetMirrorings.list",
            Listing::FirewallPolicies => "compute.networkFirewallPolicies.list",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Listing::PacketMirrorings => "compute#packetMirroringAggregatedList",
            Listing::FirewallPolicies => "compute#networkFirewallPolicyAggregatedList",
        }
    }

    /// The URL path segment after `aggregated/`.
    fn collection(self) -> &'static str {
        match self {
            Listing::PacketMirrorings => "packetMirrorings",
            Listing::FirewallPolicies => "firewallPolicies",
        }
    }

    /// The key of a scope's results list inside `items` (`PacketMirroringsScopedList`,
    /// `FirewallPoliciesScopedList` in the SDK's model).
    fn scoped_list_field(self) -> &'static str {
        match self {
            Listing::PacketMirrorings => "packetMirrorings",
            Listing::FirewallPolicies => "firewallPolicies",
        }
    }
}

/// Google's JSON error envelope, with one `errors[]` entry repeating the message.
fn google_error(code: u16, message: &str, reason: &str, domain: &str, status: &str) -> Response {
    let mut error = json!({
        "code": code,
        "message": message,
        "errors": [{ "message": message, "domain": domain, "reason": reason }],
    });
    if !status.is_empty() {
        error["status"] = json!(status);
    }
    let status_code = StatusCode::from_u16(code).expect("valid HTTP status");
    json_response(
        status_code,
        CONTENT_TYPE,
        &[],
        json!({ "error": error }).to_string(),
    )
}

/// What Compute answers in a project where its API is not enabled: 403 `PERMISSION_DENIED`,
/// told apart from a refusal only by the `SERVICE_DISABLED` reason in the error details.
fn compute_api_disabled(project: &GcpProject) -> Response {
    let number = project.number();
    let message = format!("Compute Engine API has not been used in project {number} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/compute.googleapis.com/overview?project={number} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.");
    let body = json!({ "error": {
        "code": 403,
        "message": message,
        "errors": [{ "message": message, "domain": "usageLimits", "reason": "accessNotConfigured", "extendedHelp": "https://console.developers.google.com" }],
        "status": "PERMISSION_DENIED",
        "details": [{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": { "service": "compute.googleapis.com", "consumer": format!("projects/{number}") }
        }]
    }});
    json_response(StatusCode::FORBIDDEN, CONTENT_TYPE, &[], body.to_string())
}

/// The OAuth 2.0 error shape of Google's token endpoint.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    json_response(status, CONTENT_TYPE, &[], body.to_string())
}

/// `POST /token`: the `token_uri` of an authorized-user ADC file. google-cloud-auth sends the
/// refresh as JSON; other Google clients send a form, so both are accepted.
pub async fn token(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    let fields: Vec<(String, String)> = if is_json {
        match serde_json::from_slice::<Map<String, Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (k, v)
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    } else {
        form_urlencoded::parse(&body).into_owned().collect()
    };
    let field = |name: &str| param(&fields, name).unwrap_or("");
    state.record(RequestRecord {
        service: "oauth2".to_string(),
        action: "token".to_string(),
        account: String::new(),
        region: String::new(),
        // Secrets stay out of the request log.
        params: fields
            .iter()
            .map(|(k, v)| {
                let secret = k == "client_secret" || k == "refresh_token";
                (
                    k.clone(),
                    if secret {
                        "[redacted]".to_string()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect(),
    });

    for (index, fault) in state.world.gcp.faults.iter().enumerate() {
        if !matches_unscoped(fault, "token") {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Token has been expired or revoked.",
                )
            }
            FaultKind::Throttled => {
                if state.hit("gcp", index) < fault.times.unwrap_or(1) {
                    return oauth_error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate_limit_exceeded",
                        "Rate limit exceeded. Try again later.",
                    );
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("gcp", index) < t) {
                    return oauth_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal_failure",
                        "Backend Error",
                    );
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
                    r#"{"access_token":"ya29.mock-"#.to_string(),
                )
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            // A token response has no continuation to loop on.
            FaultKind::TokenLoop => {}
        }
    }

    match field("grant_type") {
        "refresh_token" => {}
        "" => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: grant_type",
            )
        }
        other => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Invalid grant_type: {other}"),
            )
        }
    }
    for required in ["client_id", "refresh_token"] {
        if field(required).is_empty() {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("Missing required parameter: {required}"),
            );
        }
    }
    // Stable per credential, so tests can tell two identities' tokens apart.
    let digest = fnv64(
        0,
        format!("{}\n{}", field("client_id"), field("refresh_token")).as_bytes(),
    );
    let body = json!({
        "access_token": format!("ya29.mock-{digest:016x}"),
        "expires_in": 3599,
        "token_type": "Bearer",
        "scope": "https://www.googleapis.com/auth/cloud-platform",
    });
    json_response(StatusCode::OK, CONTENT_TYPE, &[], body.to_string())
}

/// `GET /computeMetadata/v1/{*rest}`: not a metadata server (no `Metadata-Flavor: Google`).
pub async fn metadata() -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/plain")],
        "Not on GCE",
    )
        .into_response()
}

/// `GET /compute/v1/projects/{project}/aggregated/packetMirrorings`
pub async fn packet_mirrorings(
    State(state): State<Arc<MockState>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    aggregated_list(&state, Listing::PacketMirrorings, &project, query, &headers).await
}

/// `GET /compute/v1/projects/{project}/aggregated/firewallPolicies`, the path
/// `NetworkFirewallPolicies::aggregated_list` calls.
pub async fn firewall_policies(
    State(state): State<Arc<MockState>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    aggregated_list(&state, Listing::FirewallPolicies, &project, query, &headers).await
}

/// Whether the request carries a bearer token (any: the mock's GCP tokens are opaque).
pub(crate) fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
        })
}

/// Google's answer to a request without credentials.
pub(crate) fn unauthenticated() -> Response {
    let body = json!({"error": {
        "code": 401,
        "message": "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "errors": [{
            "message": "Login Required.",
            "domain": "global",
            "reason": "required",
            "location": "Authorization",
            "locationType": "header",
        }],
        "status": "UNAUTHENTICATED",
    }});
    json_response(
        StatusCode::UNAUTHORIZED,
        CONTENT_TYPE,
        &[(
            "www-authenticate",
            "Bearer realm=\"https://accounts.google.com/\"".to_string(),
        )],
        body.to_string(),
    )
}

/// The shared flow of both aggregated lists: record, authenticate, inject faults, resolve the
/// project, then serve one page of slots.
async fn aggregated_list(
    state: &MockState,
    listing: Listing,
    project_id: &str,
    query: Option<String>,
    headers: &HeaderMap,
) -> Response {
    let params = crate::wire::query_params(query.as_deref());
    // Recorded before authentication so tests can see requests that carried no token.
    state.record(RequestRecord {
        service: "compute".to_string(),
        action: listing.action().to_string(),
        account: project_id.to_string(),
        region: String::new(),
        params: params.clone(),
    });

    if !has_bearer(headers) {
        return unauthenticated();
    }

    let mut token_loop = false;
    for (index, fault) in state.world.gcp.faults.iter().enumerate() {
        if !fault.matches(project_id, "", listing.action()) {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                return google_error(
                    403,
                    &format!(
                        "Required '{}' permission for 'projects/{project_id}'",
                        listing.permission()
                    ),
                    "forbidden",
                    "global",
                    "PERMISSION_DENIED",
                )
            }
            FaultKind::Throttled => {
                if state.hit("gcp", index) < fault.times.unwrap_or(1) {
                    return google_error(
                        429,
                        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'compute.googleapis.com' for consumer 'project_number:000000000000'.",
                        "rateLimitExceeded",
                        "usageLimits",
                        "RESOURCE_EXHAUSTED",
                    );
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("gcp", index) < t) {
                    return google_error(
                        500,
                        "Internal error. Please try again or contact Google Support.",
                        "backendError",
                        "global",
                        "INTERNAL",
                    );
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
                    format!(r#"{{"kind":"{}","items":{{"regions/"#, listing.kind()),
                )
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            FaultKind::TokenLoop => token_loop = true,
        }
    }

    let Some(project) = state.world.gcp.projects.iter().find(|p| p.id == project_id) else {
        let message = format!("The resource 'projects/{project_id}' was not found");
        return google_error(404, &message, "notFound", "global", "");
    };
    if project.compute_api_disabled {
        return compute_api_disabled(project);
    }

    let max_results = match param(&params, "maxResults").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n <= MAX_RESULTS_LIMIT => Some(n),
            _ => {
                return google_error(
                    400,
                    &format!("Invalid value for field 'maxResults': '{raw}'. Must be less than or equal to 500"),
                    "invalid",
                    "global",
                    "",
                )
            }
        },
    };
    // The SDK sends `pageToken=` (empty) on the first request; that means "from the start".
    let (offset, looped) = match param(&params, "pageToken").filter(|v| !v.is_empty()) {
        None => (0, false),
        Some(token) => match decode_page_token(token) {
            Some(PageToken::Loop) => (0, true),
            Some(PageToken::Offset(n)) => (n, false),
            None => {
                return google_error(
                    400,
                    &format!("Invalid value for field 'pageToken': '{token}'. Invalid page token."),
                    "invalid",
                    "global",
                    "",
                )
            }
        },
    };
    let page_size = state.world.settings.page_size.max(1);
    // maxResults=0 is how the API spells "the default"; a smaller value shrinks the page.
    let size = max_results
        .filter(|&n| n > 0)
        .map_or(page_size, |n| n.min(page_size));

    let gcp = &state.world.gcp;
    let page = match listing {
        Listing::PacketMirrorings => {
            let mirrorings = gcp.mirrorings.iter().filter(|m| m.project == project.id);
            let scoped = mirrorings.map(|m| (format!("regions/{}", m.region), m));
            let slots = slots(project, false, scoped);
            render_page(&slots, offset, size, listing, |m| {
                mirroring_json(&state.world, m)
            })
        }
        Listing::FirewallPolicies => {
            let policies = gcp
                .firewall_policies
                .iter()
                .filter(|p| p.project == project.id);
            let scoped = policies.map(|p| {
                let scope = match &p.region {
                    Some(region) => format!("regions/{region}"),
                    None => "global".to_string(),
                };
                (scope, p)
            });
            let slots = slots(project, true, scoped);
            render_page(&slots, offset, size, listing, firewall_policy_json)
        }
    };

    let collection = listing.collection();
    let mut body = json!({
        "kind": listing.kind(),
        "id": format!("projects/{project_id}/aggregated/{collection}"),
        "items": page.items,
        "selfLink": format!("{COMPUTE}projects/{project_id}/aggregated/{collection}"),
    });
    if !page.unreachables.is_empty() {
        body["unreachables"] = json!(page.unreachables);
    }
    if token_loop || looped {
        body["nextPageToken"] = json!(encode_page_token(LOOP_PAGE));
    } else if let Some(next) = page.next {
        body["nextPageToken"] = json!(encode_page_token(&next.to_string()));
    }
    json_response(StatusCode::OK, CONTENT_TYPE, &[], body.to_string())
}

enum PageToken {
    Offset(usize),
    Loop,
}

/// Page tokens look opaque, as the real ones do, so clients cannot be tempted to parse them.
fn encode_page_token(position: &str) -> String {
    b64url_encode(format!("mirrorguard-mocks:{position}").as_bytes())
}

fn decode_page_token(token: &str) -> Option<PageToken> {
    let text = String::from_utf8(b64url_decode(token)?).ok()?;
    match text.strip_prefix("mirrorguard-mocks:")? {
        LOOP_PAGE => Some(PageToken::Loop),
        n => n.parse().ok().map(PageToken::Offset),
    }
}

/// One entry of the flattened aggregated list.
enum Slot<'a, T> {
    Item(String, &'a T),
    /// A reachable scope with nothing in it: `NO_RESULTS_ON_PAGE`.
    Empty(String),
    /// `UNREACHABLE`, whatever the scope holds.
    Unreachable(String),
}

impl<T> Slot<'_, T> {
    fn scope(&self) -> &str {
        match self {
            Slot::Item(scope, _) | Slot::Empty(scope) | Slot::Unreachable(scope) => scope,
        }
    }
}

/// The project's scopes (`global` first when asked for, then `regions/…` sorted) flattened into
/// slots. Scopes are the project's `regions` and `unreachable` plus any region an item names,
/// so a world that forgets to list a region still shows its resources.
fn slots<'a, T>(
    project: &GcpProject,
    with_global: bool,
    items: impl Iterator<Item = (String, &'a T)>,
) -> Vec<Slot<'a, T>> {
    let mut scopes: BTreeMap<String, Vec<&'a T>> = BTreeMap::new();
    if with_global {
        scopes.entry("global".to_string()).or_default();
    }
    for region in project.regions.iter().chain(&project.unreachable) {
        scopes.entry(format!("regions/{region}")).or_default();
    }
    for (scope, item) in items {
        scopes.entry(scope).or_default().push(item);
    }
    let mut slots = Vec::new();
    for (scope, items) in scopes {
        let unreachable = scope
            .strip_prefix("regions/")
            .is_some_and(|r| project.unreachable.iter().any(|u| u == r));
        if unreachable {
            slots.push(Slot::Unreachable(scope));
        } else if items.is_empty() {
            slots.push(Slot::Empty(scope));
        } else {
            slots.extend(
                items
                    .into_iter()
                    .map(|item| Slot::Item(scope.clone(), item)),
            );
        }
    }
    slots
}

struct RenderedPage {
    items: Map<String, Value>,
    unreachables: Vec<String>,
    next: Option<usize>,
}

fn scope_warning(code: &str, message: String, scope: &str) -> Value {
    json!({ "warning": {
        "code": code,
        "message": message,
        "data": [{ "key": "scope", "value": scope }],
    }})
}

/// Groups the page's slots into the `items` map by scope; only the page's items are rendered.
fn render_page<T>(
    slots: &[Slot<'_, T>],
    offset: usize,
    size: usize,
    listing: Listing,
    render: impl Fn(&T) -> Value,
) -> RenderedPage {
    let end = (offset + size).min(slots.len());
    let start = offset.min(end);
    let mut items = Map::new();
    let mut unreachables = Vec::new();
    for slot in &slots[start..end] {
        let scope = slot.scope().to_string();
        match slot {
            Slot::Item(_, item) => {
                let entry = items
                    .entry(scope)
                    .or_insert_with(|| json!({ listing.scoped_list_field(): [] }));
                entry[listing.scoped_list_field()]
                    .as_array_mut()
                    .expect("scoped list is an array")
                    .push(render(item));
            }
            Slot::Empty(_) => {
                let message = format!("There are no results for scope '{scope}' on this page.");
                let warning = scope_warning("NO_RESULTS_ON_PAGE", message, &scope);
                items.insert(scope, warning);
            }
            Slot::Unreachable(_) => {
                let message = format!("There was an error reaching scope '{scope}'.");
                let warning = scope_warning("UNREACHABLE", message, &scope);
                unreachables.push(scope.clone());
                items.insert(scope, warning);
            }
        }
    }
    RenderedPage {
        items,
        unreachables,
        next: (end < slots.len()).then_some(end),
    }
}

/// A full resource URL: kept if it already is one, prefixed if it is a `projects/…` path,
/// otherwise `bare` builds it from a name in the mirroring's own project.
pub(crate) fn resource_url(value: &str, bare: impl FnOnce(&str) -> String) -> String {
    if value.starts_with("https://") || value.starts_with("http://") {
        value.to_string()
    } else if let Some(path) = value
        .strip_prefix('/')
        .filter(|p| p.starts_with("projects/"))
    {
        format!("{COMPUTE}{path}")
    } else if value.starts_with("projects/") {
        format!("{COMPUTE}{value}")
    } else {
        bare(value)
    }
}

/// The canonical form of a Compute URL: the project id replaced by its number (the world's,
/// as Resource Manager reports it, or a derived one for a project the world does not hold).
fn canonical_url(world: &World, url: &str) -> String {
    let Some((head, rest)) = url.split_once("/projects/") else {
        return url.to_string();
    };
    let (project, tail) = rest.split_once('/').unwrap_or((rest, ""));
    format!(
        "{head}/projects/{}/{tail}",
        world.gcp_project_number(project)
    )
}

fn url_info(world: &World, url: String) -> Value {
    json!({ "canonicalUrl": canonical_url(world, &url), "url": url })
}

/// A PacketMirroring with the full URLs the real API returns. `filter` is always present and
/// carries `direction: BOTH` when the world sets none, as the API reports its default;
/// `cidrRanges` and `IPProtocols` appear only when set, and empty `mirroredResources` lists are
/// left out.
fn mirroring_json(world: &World, m: &GcpMirroring) -> Value {
    let p = &m.project;
    let r = &m.region;
    let region_url = format!("{COMPUTE}projects/{p}/regions/{r}");
    let network_url = format!("{COMPUTE}projects/{p}/global/networks/{}", m.network);
    let collector = resource_url(&m.collector, |name| {
        format!("{region_url}/forwardingRules/{name}")
    });
    let mut mirrored = Map::new();
    if !m.subnetworks.is_empty() {
        let subnetworks: Vec<Value> = m
            .subnetworks
            .iter()
            .map(|s| {
                url_info(
                    world,
                    resource_url(s, |n| format!("{region_url}/subnetworks/{n}")),
                )
            })
            .collect();
        mirrored.insert("subnetworks".to_string(), json!(subnetworks));
    }
    if !m.instances.is_empty() {
        let instances: Vec<Value> = m
            .instances
            .iter()
            .map(|i| {
                url_info(
                    world,
                    resource_url(i, |n| {
                        format!("{COMPUTE}projects/{p}/zones/{r}-a/instances/{n}")
                    }),
                )
            })
            .collect();
        mirrored.insert("instances".to_string(), json!(instances));
    }
    if !m.tags.is_empty() {
        mirrored.insert("tags".to_string(), json!(m.tags));
    }
    let mut filter = json!({ "direction": m.direction.as_deref().unwrap_or("BOTH") });
    if !m.cidrs.is_empty() {
        filter["cidrRanges"] = json!(m.cidrs);
    }
    if !m.protocols.is_empty() {
        filter["IPProtocols"] = json!(m.protocols);
    }
    let mut value = json!({
        "kind": "compute#packetMirroring",
        "id": m.id.to_string(),
        "creationTimestamp": m
            .created_at
            .map_or_else(|| CREATED.to_string(), |t| crate::wire::pacific(t, 3)),
        "name": m.name,
        "selfLink": format!("{region_url}/packetMirrorings/{}", m.name),
        "region": region_url,
        "network": url_info(world, network_url),
        "priority": m.priority,
        "collectorIlb": url_info(world, collector),
        "mirroredResources": mirrored,
        "filter": filter,
        "enable": if m.enable { "TRUE" } else { "FALSE" },
    });
    if let Some(description) = &m.description {
        value["description"] = json!(description);
    }
    value
}

/// A network firewall policy (global or regional) with its packet-mirroring rules. `rules`
/// (the ordinary firewall rules) is empty: the mock's worlds only describe mirroring.
fn firewall_policy_json(policy: &GcpFirewallPolicy) -> Value {
    let p = &policy.project;
    let parent = match &policy.region {
        Some(region) => format!("{COMPUTE}projects/{p}/regions/{region}"),
        None => format!("{COMPUTE}projects/{p}/global"),
    };
    let id = policy.id.to_string();
    let associations: Vec<Value> = policy
        .networks
        .iter()
        .map(|network| {
            json!({
                "name": format!("{network}-assoc"),
                "attachmentTarget": format!("{COMPUTE}projects/{p}/global/networks/{network}"),
                "firewallPolicyId": id,
            })
        })
        .collect();
    let rules: Vec<Value> = policy
        .mirroring_rules
        .iter()
        .map(mirroring_rule_json)
        .collect();
    let mut value = json!({
        "kind": "compute#firewallPolicy",
        "id": id,
        "creationTimestamp": CREATED,
        "name": policy.name,
        "selfLink": format!("{parent}/firewallPolicies/{}", policy.name),
        "selfLinkWithId": format!("{parent}/firewallPolicies/{id}"),
        "associations": associations,
        "rules": [],
        "packetMirroringRules": rules,
        "fingerprint": b64url_encode(&fnv64(0, id.as_bytes()).to_be_bytes()),
    });
    if policy.region.is_some() {
        value["region"] = json!(parent);
    }
    value
}

/// A packet-mirroring rule. Without protocols the rule matches everything, which the API
/// spells as one `layer4Configs` entry `{"ipProtocol":"all"}`.
fn mirroring_rule_json(rule: &GcpMirroringRule) -> Value {
    let layer4: Vec<Value> = if rule.protocols.is_empty() {
        vec![json!({ "ipProtocol": "all" })]
    } else {
        rule.protocols
            .iter()
            .map(|p| json!({ "ipProtocol": p }))
            .collect()
    };
    let mut matcher = json!({ "layer4Configs": layer4 });
    if !rule.src_ip_ranges.is_empty() {
        matcher["srcIpRanges"] = json!(rule.src_ip_ranges);
    }
    if !rule.dest_ip_ranges.is_empty() {
        matcher["destIpRanges"] = json!(rule.dest_ip_ranges);
    }
    let mut value = json!({
        "kind": "compute#packetMirroringRule",
        "priority": rule.priority,
        "action": rule.action,
        "direction": rule.direction,
        "match": matcher,
        "disabled": rule.disabled,
    });
    for (key, field) in [
        ("securityProfileGroup", &rule.security_profile_group),
        ("ruleName", &rule.rule_name),
        ("description", &rule.description),
    ] {
        if let Some(text) = field {
            value[key] = json!(text);
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_http::{request, Reply};
    use crate::{MockCloud, World};

    fn world(faults: &str) -> World {
        World::from_toml(&format!(
            r#"
[settings]
page_size = 2
[[gcp.projects]]
id = "proj-a"
regions = ["us-east1", "europe-west1"]
unreachable = ["asia-east1"]
[[gcp.mirrorings]]
project = "proj-a"
region = "us-east1"
name = "ids"
id = 1001
network = "prod"
collector = "ids-ilb"
subnetworks = ["web"]
instances = ["projects/proj-a/zones/us-east1-b/instances/db-1"]
protocols = ["tcp"]
[[gcp.mirrorings]]
project = "proj-a"
region = "us-east1"
name = "debug"
id = 1002
network = "prod"
collector = "https://www.googleapis.com/compute/v1/projects/evil/regions/us-east1/forwardingRules/sink"
tags = ["pci"]
enable = false
[[gcp.mirrorings]]
project = "proj-a"
region = "us-east1"
name = "third"
id = 1003
network = "prod"
collector = "projects/proj-a/regions/us-east1/forwardingRules/ids-ilb"
[[gcp.firewall_policies]]
project = "proj-a"
name = "fw"
id = 77
networks = ["prod"]
mirroring_rules = [{{ priority = 100, action = "mirror", security_profile_group = "//networksecurity.googleapis.com/organizations/1/locations/global/securityProfileGroups/spg", src_ip_ranges = ["0.0.0.0/0"], protocols = ["tcp"] }}]
{faults}
"#
        ))
        .expect("world parses")
    }

    async fn get(mock: &MockCloud, target: &str) -> Reply {
        let auth = [("Authorization", "Bearer ya29.mock-test")];
        request(mock.addr(), "GET", target, &auth, "").await
    }

    /// Every page from the first (sent with an empty `pageToken`, as the SDK does) to the end.
    async fn pages(mock: &MockCloud, collection: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token = String::new();
        for _ in 0..20 {
            let reply = get(
                mock,
                &format!("/compute/v1/projects/proj-a/aggregated/{collection}?pageToken={token}&$alt=json&$apiVersion=2026-09-01"),
            )
            .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let page = reply.json();
            let next = page["nextPageToken"].as_str().map(str::to_string);
            out.push(page);
            match next {
                Some(next) => token = next,
                None => return out,
            }
        }
        panic!("pagination did not end");
    }

    #[test]
    fn slots_flatten_scopes_in_order() {
        let world = world("");
        let project = &world.gcp.projects[0];
        let scoped = world
            .gcp
            .mirrorings
            .iter()
            .map(|m| (format!("regions/{}", m.region), m));
        let slots = slots(project, false, scoped);
        let shape: Vec<String> = slots
            .iter()
            .map(|s| match s {
                Slot::Item(scope, m) => format!("{scope}:{}", m.name),
                Slot::Empty(scope) => format!("{scope}:empty"),
                Slot::Unreachable(scope) => format!("{scope}:unreachable"),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "regions/asia-east1:unreachable",
                "regions/europe-west1:empty",
                "regions/us-east1:ids",
                "regions/us-east1:debug",
                "regions/us-east1:third",
            ]
        );
        let page = render_page(&slots, 2, 2, Listing::PacketMirrorings, |m| json!(m.name));
        assert_eq!(page.next, Some(4));
        assert_eq!(
            Value::Object(page.items),
            json!({ "regions/us-east1": { "packetMirrorings": ["ids", "debug"] } })
        );
        let page = render_page(&slots, 0, 2, Listing::PacketMirrorings, |m| json!(m.name));
        assert_eq!(page.unreachables, ["regions/asia-east1"]);
        assert_eq!(
            page.items["regions/europe-west1"]["warning"]["code"],
            "NO_RESULTS_ON_PAGE"
        );
    }

    #[test]
    fn page_tokens_round_trip() {
        assert!(matches!(
            decode_page_token(&encode_page_token("42")),
            Some(PageToken::Offset(42))
        ));
        assert!(matches!(
            decode_page_token(&encode_page_token(LOOP_PAGE)),
            Some(PageToken::Loop)
        ));
        assert!(decode_page_token("bogus").is_none());
    }

    #[tokio::test]
    async fn mirrorings_page_through_every_scope() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let pages = pages(&mock, "packetMirrorings").await;
        assert_eq!(pages.len(), 3);
        assert_eq!(pages[0]["unreachables"], json!(["regions/asia-east1"]));
        assert!(pages[1].get("unreachables").is_none());
        let ids = &pages[1]["items"]["regions/us-east1"]["packetMirrorings"][0];
        assert_eq!(ids["id"], "1001");
        assert_eq!(
            ids["collectorIlb"]["url"],
            "https://www.googleapis.com/compute/v1/projects/proj-a/regions/us-east1/forwardingRules/ids-ilb"
        );
        assert_eq!(
            ids["mirroredResources"]["subnetworks"][0]["url"],
            "https://www.googleapis.com/compute/v1/projects/proj-a/regions/us-east1/subnetworks/web"
        );
        assert_eq!(
            ids["mirroredResources"]["instances"][0]["url"],
            "https://www.googleapis.com/compute/v1/projects/proj-a/zones/us-east1-b/instances/db-1"
        );
        assert_eq!(
            ids["filter"],
            json!({ "direction": "BOTH", "IPProtocols": ["tcp"] })
        );
        let debug = &pages[1]["items"]["regions/us-east1"]["packetMirrorings"][1];
        assert_eq!(debug["enable"], "FALSE");
        assert!(debug["collectorIlb"]["url"]
            .as_str()
            .unwrap()
            .contains("/projects/evil/"));
        assert!(!debug["collectorIlb"]["canonicalUrl"]
            .as_str()
            .unwrap()
            .contains("/projects/evil/"));
        assert!(
            pages[2]["items"]["regions/us-east1"]["packetMirrorings"][0]["collectorIlb"]["url"]
                .as_str()
                .unwrap()
                .starts_with("https://www.googleapis.com/compute/v1/projects/proj-a/")
        );
    }

    #[tokio::test]
    async fn firewall_policies_have_global_and_regional_scopes() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let pages = pages(&mock, "firewallPolicies").await;
        // global(1 policy) + asia(unreachable) + europe(empty) + us-east1(empty) = 4 slots.
        assert_eq!(pages.len(), 2);
        let policy = &pages[0]["items"]["global"]["firewallPolicies"][0];
        assert_eq!(
            pages[0]["kind"],
            "compute#networkFirewallPolicyAggregatedList"
        );
        assert_eq!(
            policy["packetMirroringRules"][0]["match"]["layer4Configs"][0]["ipProtocol"],
            "tcp"
        );
        assert_eq!(
            policy["associations"][0]["attachmentTarget"],
            "https://www.googleapis.com/compute/v1/projects/proj-a/global/networks/prod"
        );
        assert_eq!(
            pages[1]["items"]["regions/us-east1"]["warning"]["code"],
            "NO_RESULTS_ON_PAGE"
        );
    }

    #[tokio::test]
    async fn auth_faults_and_unknown_projects() {
        let mock = MockCloud::start(world(
            r#"
[[gcp.faults]]
account = "proj-a"
action = "networkFirewallPolicies.aggregatedList"
kind = "denied"
[[gcp.faults]]
action = "packetMirrorings.aggregatedList"
kind = "token-loop"
[[gcp.faults]]
action = "token"
kind = "throttled"
"#,
        ))
        .await
        .unwrap();
        let path = "/compute/v1/projects/proj-a/aggregated/packetMirrorings";
        let anonymous = request(mock.addr(), "GET", path, &[], "").await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(anonymous.json()["error"]["status"], "UNAUTHENTICATED");

        let denied = get(
            &mock,
            "/compute/v1/projects/proj-a/aggregated/firewallPolicies",
        )
        .await;
        assert_eq!(denied.status, 403);
        assert_eq!(denied.json()["error"]["status"], "PERMISSION_DENIED");
        assert!(denied.body.contains("compute.networkFirewallPolicies.list"));

        let first = get(&mock, path).await.json();
        let token = first["nextPageToken"].as_str().unwrap();
        let second = get(&mock, &format!("{path}?pageToken={token}"))
            .await
            .json();
        assert_eq!(second["nextPageToken"], first["nextPageToken"]);

        let missing = get(
            &mock,
            "/compute/v1/projects/nope/aggregated/packetMirrorings",
        )
        .await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.json()["error"]["errors"][0]["reason"], "notFound");

        let body = r#"{"grant_type":"refresh_token","client_id":"c","client_secret":"s","refresh_token":"r"}"#;
        let json_ct = [("Content-Type", "application/json")];
        let throttled = request(mock.addr(), "POST", "/token", &json_ct, body).await;
        assert_eq!(throttled.status, 429);
        let ok = request(mock.addr(), "POST", "/token", &json_ct, body).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(ok.json()["access_token"]
            .as_str()
            .unwrap()
            .starts_with("ya29.mock-"));
        let form = request(
            mock.addr(),
            "POST",
            "/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "grant_type=refresh_token&client_id=c&client_secret=s&refresh_token=r",
        )
        .await;
        assert_eq!(form.json()["access_token"], ok.json()["access_token"]);

        let metadata = request(
            mock.addr(),
            "GET",
            "/computeMetadata/v1/instance/service-accounts/default/token",
            &[],
            "",
        )
        .await;
        assert_eq!(metadata.status, 404);
        assert_eq!(metadata.body, "Not on GCE");
    }
}
