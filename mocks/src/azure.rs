//! Azure Resource Manager and the Microsoft identity platform's token endpoint, as
//! azure_identity 0.21 (`ClientSecretCredential`), azure_mgmt_subscription 0.21 and
//! azure_mgmt_network 0.21 (package-2024-03) speak them: a form-encoded client-credentials
//! `POST /{tenant}/oauth2/v2.0/token` that mints a JWT, bearer-authenticated ARM `GET`s with
//! `{"value":[…],"nextLink":…}` pages whose `nextLink` is an absolute URL back to this server
//! (the SDK replaces its whole URL with it), and ARM's `{"error":{"code","message"}}` envelope
//! with the status codes and headers ARM uses. The Activity Log
//! (`…/providers/Microsoft.Insights/eventtypes/management/values`) goes through the same
//! authentication, fault and subscription checks here before [`crate::activity_log`] serves it.
//!
//! Tokens are checked statelessly: the signature segment is a digest of the header and payload
//! only this mock computes, so any token it minted (even by another instance) is accepted and a
//! hand-made one is not, and the caller's `appid`/`oid` for error messages come from the token.

use crate::wire::{
    b64url_decode, b64url_encode, fnv64, guid, json_response, matches_unscoped, param, query_params,
};
use crate::world::{AzureNic, AzureSubscription, AzureTap, FaultKind};
use crate::{MockState, RequestRecord};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ARM_CONTENT_TYPE: &str = "application/json; charset=utf-8";
const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"RS256"}"#;
/// The `$skiptoken` of the `token-loop` fault: it always leads back to the first page.
const LOOP_SKIPTOKEN: &str = "loop";

/// The ARM listings the scanner makes (the three inventory listings and the Activity Log);
/// each is also a fault `action`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    Subscriptions,
    Taps,
    Nics,
    ActivityLogs,
}

impl Listing {
    fn action(self) -> &'static str {
        match self {
            Listing::Subscriptions => "subscriptions",
            Listing::Taps => "virtualNetworkTaps",
            Listing::Nics => "networkInterfaces",
            Listing::ActivityLogs => "activityLogs",
        }
    }

    /// The `service` of the request log: the Activity Log is Azure Monitor's, behind ARM.
    fn service(self) -> &'static str {
        match self {
            Listing::ActivityLogs => "monitor",
            _ => "arm",
        }
    }

    /// The RBAC operation ARM names in `AuthorizationFailed`.
    fn operation(self) -> &'static str {
        match self {
            Listing::Subscriptions => "Microsoft.Resources/subscriptions/read",
            Listing::Taps => "Microsoft.Network/virtualNetworkTaps/read",
            Listing::Nics => "Microsoft.Network/networkInterfaces/read",
            Listing::ActivityLogs => "Microsoft.Insights/eventtypes/values/read",
        }
    }

    /// What a `malformed` fault sends: the start of a real page, cut off mid-string.
    fn truncated_body(self) -> &'static str {
        match self {
            Listing::Subscriptions => r#"{"value":[{"id":"/subscriptions/"#,
            Listing::Taps => r#"{"value":[{"name":"vtap1","id":"/subscriptions/"#,
            Listing::Nics => r#"{"value":[{"name":"nic1","id":"/subscriptions/"#,
            Listing::ActivityLogs => {
                r#"{"value":[{"authorization":{"action":"Microsoft.Network/virtualNetworkTaps/wr"#
            }
        }
    }
}

/// ARM stamps every response with a fresh request id; support tickets quote it.
fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    guid(&format!(
        "x-ms-request-id/{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

pub(crate) fn arm_json(status: StatusCode, extra: &[(&str, String)], body: String) -> Response {
    let mut headers = vec![("x-ms-request-id", request_id())];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    json_response(status, ARM_CONTENT_TYPE, &headers, body)
}

pub(crate) fn arm_error(status: StatusCode, code: &str, message: &str) -> Response {
    arm_error_with(status, &[], code, message)
}

fn arm_error_with(
    status: StatusCode,
    extra: &[(&str, String)],
    code: &str,
    message: &str,
) -> Response {
    let body = json!({"error": {"code": code, "message": message}});
    arm_json(status, extra, body.to_string())
}

/// The identity platform's error shape (`error`, `error_description`, `error_codes`), which the
/// `oauth2` crate inside azure_identity parses; its `error` must be an RFC 6749 code.
fn aad_error(status: StatusCode, error: &str, aadsts: u32, description: &str) -> Response {
    let trace_id = guid("trace");
    let correlation_id = request_id();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{aadsts}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: 2026-10-01 16:00:00Z"
        ),
        "error_codes": [aadsts],
        "timestamp": "2026-10-01 16:00:00Z",
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
    });
    json_response(status, ARM_CONTENT_TYPE, &[], body.to_string())
}

/// The token's signature segment: a digest over `header.payload` seeded with a mock-only key,
/// so the mock recognises its own tokens without remembering them.
fn signature(signing_input: &str) -> String {
    let bytes: Vec<u8> = (0..4u64)
        .flat_map(|i| fnv64(0x6d69_7272_6f72 + i, signing_input.as_bytes()).to_be_bytes())
        .collect();
    b64url_encode(&bytes)
}

fn mint_jwt(payload: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        b64url_encode(JWT_HEADER.as_bytes()),
        b64url_encode(payload.to_string().as_bytes())
    );
    let sig = signature(&signing_input);
    format!("{signing_input}.{sig}")
}

/// Who a bearer token says the caller is, if the token is one this mock minted.
struct Caller {
    appid: String,
    oid: String,
}

fn caller(headers: &HeaderMap) -> Option<Caller> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    let (signing_input, sig) = token.rsplit_once('.')?;
    if signature(signing_input) != sig {
        return None;
    }
    let payload = signing_input.split_once('.')?.1;
    let claims: Value = serde_json::from_slice(&b64url_decode(payload)?).ok()?;
    Some(Caller {
        appid: claims["appid"].as_str()?.to_string(),
        oid: claims["oid"].as_str()?.to_string(),
    })
}

/// `POST /{tenant}/oauth2/v2.0/token` with a client-credentials grant.
pub async fn token(
    State(state): State<Arc<MockState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| param(&form, name).unwrap_or("");
    state.record(RequestRecord {
        service: "login".to_string(),
        action: "token".to_string(),
        account: String::new(),
        region: String::new(),
        // Secrets stay out of the request log; tests assert on ids and scopes.
        params: form
            .iter()
            .map(|(k, v)| {
                let v = if k == "client_secret" {
                    "[redacted]"
                } else {
                    v
                };
                (k.clone(), v.to_string())
            })
            .collect(),
    });

    let world = &state.world.azure;
    for (index, fault) in world.faults.iter().enumerate() {
        if !matches_unscoped(fault, "token") {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    7000112,
                    &format!("Application '{}' is disabled.", field("client_id")),
                )
            }
            FaultKind::Throttled => {
                if state.hit("azure", index) < fault.times.unwrap_or(1) {
                    let mut response = aad_error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "temporarily_unavailable",
                        90055,
                        "The number of requests has exceeded the limit. Please try again later.",
                    );
                    response
                        .headers_mut()
                        .insert("retry-after", "1".parse().expect("static header"));
                    return response;
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("azure", index) < t) {
                    return aad_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        50000,
                        "There was an error issuing a token or an issue with our sign-in service.",
                    );
                }
            }
            FaultKind::Slow => {
                tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(1000))).await;
            }
            FaultKind::Malformed => {
                return json_response(
                    StatusCode::OK,
                    ARM_CONTENT_TYPE,
                    &[],
                    r#"{"token_type":"Bearer","expires_in":3599,"access_tok"#.to_string(),
                )
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            // A token response has no continuation to loop on.
            FaultKind::TokenLoop => {}
        }
    }

    // Tenant ids are GUIDs and compare case-insensitively in Entra ID.
    if !tenant.eq_ignore_ascii_case(&world.tenant) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        );
    }
    if field("grant_type") != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    let scope = field("scope");
    if scope.is_empty() {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    }
    let client_id = field("client_id");
    let client_secret = field("client_secret");
    let object_id = if world.clients.is_empty() {
        guid(&format!("object-id/{client_id}"))
    } else {
        match world
            .clients
            .iter()
            .find(|c| c.client_id == client_id && c.client_secret == client_secret)
        {
            Some(client) => client.object_id.clone(),
            None => {
                return aad_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    &format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                    ),
                )
            }
        }
    };
    // A v2 token request may carry several space-separated scopes; the audience is the
    // resource of the first, as Entra ID issues one token per resource.
    let first_scope = scope.split_whitespace().next().unwrap_or_default();
    let audience = first_scope.strip_suffix("/.default").unwrap_or(first_scope);
    let access_token = mint_jwt(&json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{}/", world.tenant),
        "tid": world.tenant,
        "oid": object_id,
        "appid": client_id,
        "idtyp": "app",
        "sub": object_id,
    }));
    let body = json!({
        "token_type": "Bearer",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": access_token,
    });
    json_response(StatusCode::OK, ARM_CONTENT_TYPE, &[], body.to_string())
}

/// `GET /subscriptions`
pub async fn subscriptions(
    State(state): State<Arc<MockState>>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    list(&state, Listing::Subscriptions, None, &uri, query, &headers).await
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Network/virtualNetworkTaps`
pub async fn virtual_network_taps(
    State(state): State<Arc<MockState>>,
    Path(subscription): Path<String>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let sub = Some(subscription.as_str());
    list(&state, Listing::Taps, sub, &uri, query, &headers).await
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Network/networkInterfaces`
pub async fn network_interfaces(
    State(state): State<Arc<MockState>>,
    Path(subscription): Path<String>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let sub = Some(subscription.as_str());
    list(&state, Listing::Nics, sub, &uri, query, &headers).await
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values`: the
/// Activity Log, served by [`crate::activity_log`] after the ARM checks every listing shares.
pub async fn activity_logs(
    State(state): State<Arc<MockState>>,
    Path(subscription): Path<String>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let sub = Some(subscription.as_str());
    list(&state, Listing::ActivityLogs, sub, &uri, query, &headers).await
}

/// The shared flow of every ARM listing: record, authenticate, inject faults, resolve the
/// subscription, then serve one page.
async fn list(
    state: &MockState,
    listing: Listing,
    subscription: Option<&str>,
    uri: &Uri,
    query: Option<String>,
    headers: &HeaderMap,
) -> Response {
    let params = query_params(query.as_deref());
    let world = &state.world.azure;
    // Subscription ids are GUIDs; ARM matches them case-insensitively.
    let known = subscription.and_then(|id| {
        world
            .subscriptions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
    });
    let account = known
        .map(|s| s.id.clone())
        .or(subscription.map(str::to_string))
        .unwrap_or_default();
    // Recorded before authentication so tests can see requests that carried no token.
    state.record(RequestRecord {
        service: listing.service().to_string(),
        action: listing.action().to_string(),
        account: account.clone(),
        region: String::new(),
        params: params.clone(),
    });

    let Some(caller) = caller(headers) else {
        return arm_error_with(
            StatusCode::UNAUTHORIZED,
            &[(
                "www-authenticate",
                format!(
                    "Bearer authorization_uri=\"https://login.windows.net/{}\", error=\"invalid_token\", error_description=\"The authentication failed because of missing 'Authorization' header.\"",
                    world.tenant
                ),
            )],
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or invalid.",
        );
    };
    let Some(api_version) = param(&params, "api-version") else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    };

    let mut token_loop = false;
    for (index, fault) in world.faults.iter().enumerate() {
        let applies = match subscription {
            Some(_) => fault.matches(&account, "", listing.action()),
            None => matches_unscoped(fault, listing.action()),
        };
        if !applies {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                let scope = match subscription {
                    Some(_) => format!("/subscriptions/{account}"),
                    None => "/".to_string(),
                };
                return arm_error_with(
                    StatusCode::FORBIDDEN,
                    &[("x-ms-failure-cause", "gateway".to_string())],
                    "AuthorizationFailed",
                    &format!(
                        "The client '{}' with object id '{}' does not have authorization to perform action '{}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                        caller.appid,
                        caller.oid,
                        listing.operation()
                    ),
                );
            }
            FaultKind::Throttled => {
                if state.hit("azure", index) < fault.times.unwrap_or(1) {
                    return arm_error_with(
                        StatusCode::TOO_MANY_REQUESTS,
                        &[("retry-after", "1".to_string())],
                        "TooManyRequests",
                        "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:03:00.",
                    );
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("azure", index) < t) {
                    return arm_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalServerError",
                        "An error has occurred.",
                    );
                }
            }
            FaultKind::Slow => {
                tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(1000))).await;
            }
            FaultKind::Malformed => {
                return arm_json(StatusCode::OK, &[], listing.truncated_body().to_string())
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            FaultKind::TokenLoop => token_loop = true,
        }
    }

    if let Some(id) = subscription {
        let Some(sub) = known else {
            return arm_error(
                StatusCode::NOT_FOUND,
                "SubscriptionNotFound",
                &format!("The subscription '{id}' could not be found."),
            );
        };
        if sub.state.eq_ignore_ascii_case("Disabled") {
            return arm_error(
                StatusCode::CONFLICT,
                "ReadOnlyDisabledSubscription",
                &format!(
                    "The subscription '{}' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.",
                    sub.id
                ),
            );
        }
    }

    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    if let (Listing::ActivityLogs, Some(sub)) = (listing, known) {
        let base = format!("http://{host}{}", uri.path());
        return crate::activity_log::page(state, sub, &params, api_version, &base, token_loop);
    }

    let (offset, looped) = match param(&params, "$skiptoken") {
        None | Some("") => (0, false),
        Some(LOOP_SKIPTOKEN) => (0, true),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) => (n, false),
            Err(_) => {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidSkipToken",
                    &format!("The provided skip token '{raw}' is not valid."),
                )
            }
        },
    };
    let link_to = |skiptoken: &str| {
        let api_version: String = form_urlencoded::byte_serialize(api_version.as_bytes()).collect();
        format!(
            "http://{host}{}?api-version={api_version}&$skiptoken={skiptoken}",
            uri.path()
        )
    };

    let page = Page {
        offset,
        size: state.world.settings.page_size.max(1),
    };
    let (items, more) = match (listing, known) {
        (Listing::Subscriptions, _) => page.render(&world.subscriptions, |s| {
            subscription_json(s, &world.tenant)
        }),
        (Listing::Taps, Some(sub)) => {
            let taps: Vec<&AzureTap> = world
                .taps
                .iter()
                .filter(|t| t.subscription.eq_ignore_ascii_case(&sub.id))
                .collect();
            page.render(&taps, |t| tap_json(t, &world.nics))
        }
        (Listing::Nics, Some(sub)) => {
            let nics: Vec<&AzureNic> = world
                .nics
                .iter()
                .filter(|n| n.subscription.eq_ignore_ascii_case(&sub.id))
                .collect();
            page.render(&nics, |n| nic_json(n, &sub.id))
        }
        // Per-subscription listings returned 404 above, and the Activity Log was served.
        (_, None) | (Listing::ActivityLogs, _) => {
            return arm_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An error has occurred.",
            )
        }
    };
    let mut body = json!({ "value": items });
    if token_loop || looped {
        body["nextLink"] = json!(link_to(LOOP_SKIPTOKEN));
    } else if let Some(next) = more {
        body["nextLink"] = json!(link_to(&next.to_string()));
    }
    arm_json(StatusCode::OK, &[], body.to_string())
}

/// One page of a listing, by offset; only the page's own items are rendered.
struct Page {
    offset: usize,
    size: usize,
}

impl Page {
    /// The page's items and, when more follow, the offset of the next page.
    fn render<T>(&self, items: &[T], render: impl Fn(&T) -> Value) -> (Vec<Value>, Option<usize>) {
        let end = (self.offset + self.size).min(items.len());
        let start = self.offset.min(end);
        let rendered = items[start..end].iter().map(render).collect();
        (rendered, (end < items.len()).then_some(end))
    }
}

fn subscription_json(sub: &AzureSubscription, tenant: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{}", sub.id),
        "subscriptionId": sub.id,
        "tenantId": sub.tenant.as_deref().unwrap_or(tenant),
        "displayName": sub.name.as_deref().unwrap_or(&sub.id),
        "state": sub.state,
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
    })
}

/// ARM's weak etag: a GUID that changes whenever the resource does (here: never).
fn etag(id: &str) -> String {
    format!(
        "W/\"{}\"",
        guid(&format!("etag{}", id.to_ascii_lowercase()))
    )
}

/// The `tapConfigurations` child names of a NIC: `tapcfg1`, `tapcfg2`, … in `taps` order. Both
/// the NIC and the vTAP listing derive ids from this, so the two views of a tap agree.
fn tap_configuration_id(nic: &AzureNic, position: usize) -> String {
    format!("{}/tapConfigurations/tapcfg{}", nic.id(), position + 1)
}

/// Resource tags: ARM leaves `tags` out of a resource that has none.
fn insert_tags(resource: &mut Value, tags: &std::collections::BTreeMap<String, String>) {
    if !tags.is_empty() {
        resource["tags"] = json!(tags);
    }
}

/// A vTAP in the shape of azure-rest-api-specs' `VirtualNetworkTapListAll.json`. Its
/// `networkInterfaceTapConfigurations` span the whole world, since a NIC in any subscription
/// may mirror into it.
fn tap_json(tap: &AzureTap, nics: &[AzureNic]) -> Value {
    let id = tap.id();
    let tap_configurations: Vec<Value> = nics
        .iter()
        .flat_map(|nic| {
            nic.taps
                .iter()
                .enumerate()
                .filter(|(_, t)| t.eq_ignore_ascii_case(&id))
                .map(move |(position, _)| json!({ "id": tap_configuration_id(nic, position) }))
        })
        .collect();
    let mut properties = json!({
        "provisioningState": "Succeeded",
        "resourceGuid": guid(&format!("resourceGuid{}", id.to_ascii_lowercase())),
        "networkInterfaceTapConfigurations": tap_configurations,
    });
    if let Some(ip_configuration) = &tap.destination_ip_configuration {
        properties["destinationNetworkInterfaceIPConfiguration"] =
            json!({ "id": ip_configuration });
    }
    if let Some(frontend) = &tap.destination_frontend {
        properties["destinationLoadBalancerFrontEndIPConfiguration"] = json!({ "id": frontend });
    }
    if let Some(port) = tap.destination_port {
        properties["destinationPort"] = json!(port);
    }
    let mut resource = json!({
        "name": tap.name,
        "id": id,
        "etag": etag(&id),
        "type": "Microsoft.Network/virtualNetworkTaps",
        "location": tap.location,
        "properties": properties,
    });
    insert_tags(&mut resource, &tap.tags);
    resource
}

/// A NIC in the shape of the specs' `NetworkInterfaceListAll.json`, with one primary IP
/// configuration and one tap configuration per entry of `taps` (vTAP ids kept as the world
/// spells them, since real ARM echoes whatever casing the tap configuration was created with).
fn nic_json(nic: &AzureNic, subscription: &str) -> Value {
    let id = nic.id();
    let ip_configuration_id = format!("{id}/ipConfigurations/ipconfig1");
    // A stable, distinct private address per NIC name.
    let host = 4 + fnv64(0, nic.name.as_bytes()) % 250;
    let tap_configurations: Vec<Value> = nic
        .taps
        .iter()
        .enumerate()
        .map(|(position, tap)| {
            let cfg_id = tap_configuration_id(nic, position);
            json!({
                "name": format!("tapcfg{}", position + 1),
                "id": cfg_id,
                "etag": etag(&cfg_id),
                "type": "Microsoft.Network/networkInterfaces/tapConfigurations",
                "properties": {
                    "provisioningState": "Succeeded",
                    "virtualNetworkTap": { "id": tap },
                },
            })
        })
        .collect();
    let mut resource = json!({
        "name": nic.name,
        "id": id,
        "etag": etag(&id),
        "type": "Microsoft.Network/networkInterfaces",
        "location": nic.location,
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": guid(&format!("resourceGuid{}", id.to_ascii_lowercase())),
            "ipConfigurations": [{
                "name": "ipconfig1",
                "id": ip_configuration_id,
                "etag": etag(&ip_configuration_id),
                "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateIPAddress": format!("10.0.0.{host}"),
                    "privateIPAllocationMethod": "Dynamic",
                    "primary": true,
                    "privateIPAddressVersion": "IPv4",
                    "subnet": {
                        "id": format!(
                            "/subscriptions/{subscription}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default",
                            nic.resource_group
                        ),
                    },
                },
            }],
            "tapConfigurations": tap_configurations,
            "enableAcceleratedNetworking": false,
            "enableIPForwarding": false,
            "nicType": "Standard",
        },
    });
    insert_tags(&mut resource, &nic.tags);
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_http::{request, Reply};
    use crate::{MockCloud, World};

    const TENANT: &str = "11111111-2222-4333-8444-555555555555";
    const SUB_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const SUB_B: &str = "bbbbbbbb-0000-4000-8000-000000000002";

    fn world(faults: &str) -> World {
        World::from_toml(&format!(
            r#"
[settings]
page_size = 2
[azure]
tenant = "{TENANT}"
clients = [{{ client_id = "app-1", client_secret = "s3cret", object_id = "0b1ec7-1d" }}]
subscriptions = [{{ id = "{SUB_A}", name = "prod" }}, {{ id = "{SUB_B}" }}, {{ id = "dddddddd-0000-4000-8000-000000000004", state = "Disabled" }}]
taps = [
  {{ subscription = "{SUB_A}", resource_group = "rg", name = "vtap1", location = "westus", destination_port = 4789, destination_ip_configuration = "/subscriptions/{SUB_A}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/sensor/ipConfigurations/ipconfig1" }},
  {{ subscription = "{SUB_A}", resource_group = "rg", name = "vtap2", location = "westus" }},
  {{ subscription = "{SUB_A}", resource_group = "rg", name = "vtap3", location = "westus", tags = {{ env = "prod" }} }},
]
nics = [
  {{ subscription = "{SUB_B}", resource_group = "rg-b", name = "web1", location = "westus", taps = ["/subscriptions/{SUB_A}/resourceGroups/RG/providers/Microsoft.Network/virtualNetworkTaps/VTAP1"] }},
]
{faults}
"#
        ))
        .expect("world parses")
    }

    async fn token(mock: &MockCloud) -> String {
        let reply = request(
            mock.addr(),
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &format!(
                "client_id=app-1&client_secret=s3cret&grant_type=client_credentials&scope={}",
                form_urlencoded::byte_serialize(format!("{}/.default", mock.endpoint()).as_bytes())
                    .collect::<String>()
            ),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["access_token"].as_str().unwrap().to_string()
    }

    async fn get(mock: &MockCloud, bearer: &str, target: &str) -> Reply {
        let auth = format!("Bearer {bearer}");
        request(mock.addr(), "GET", target, &[("Authorization", &auth)], "").await
    }

    /// Follows `nextLink` from `first` to the end, as the SDK's `Pageable` does.
    async fn all_pages(mock: &MockCloud, bearer: &str, first: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut target = first.to_string();
        for _ in 0..20 {
            let reply = get(mock, bearer, &target).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let page = reply.json();
            items.extend(page["value"].as_array().unwrap().iter().cloned());
            match page["nextLink"].as_str() {
                Some(link) => {
                    let prefix = mock.endpoint();
                    assert!(
                        link.starts_with(&prefix),
                        "absolute link to the mock: {link}"
                    );
                    assert!(
                        link.contains("api-version=2024-03-01")
                            || link.contains("api-version=2016-06-01")
                    );
                    target = link[prefix.len()..].to_string();
                }
                None => return items,
            }
        }
        panic!("pagination did not end");
    }

    #[tokio::test]
    async fn token_is_a_jwt_naming_the_client() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let jwt = token(&mock).await;
        let segments: Vec<&str> = jwt.split('.').collect();
        assert_eq!(segments.len(), 3);
        let claims: Value = serde_json::from_slice(&b64url_decode(segments[1]).unwrap()).unwrap();
        assert_eq!(claims["appid"], "app-1");
        assert_eq!(claims["oid"], "0b1ec7-1d");
        assert_eq!(claims["aud"], mock.endpoint());
        assert_eq!(claims["iss"], format!("https://sts.windows.net/{TENANT}/"));

        let bad = request(
            mock.addr(),
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            &[],
            "client_id=app-1&client_secret=nope&grant_type=client_credentials&scope=x%2F.default",
        )
        .await;
        assert_eq!(bad.status, 401);
        assert_eq!(bad.json()["error"], "invalid_client");
        assert_eq!(bad.json()["error_codes"][0], 7000215);
        let tenant = request(
            mock.addr(),
            "POST",
            "/other-tenant/oauth2/v2.0/token",
            &[],
            "client_id=app-1&client_secret=s3cret&grant_type=client_credentials&scope=x%2F.default",
        )
        .await;
        assert_eq!(tenant.status, 400);
        assert_eq!(tenant.json()["error_codes"][0], 90002);
    }

    #[tokio::test]
    async fn arm_requires_a_minted_token() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let path = format!(
            "/subscriptions/{SUB_A}/providers/Microsoft.Network/virtualNetworkTaps?api-version=2024-03-01"
        );
        let none = request(mock.addr(), "GET", &path, &[], "").await;
        assert_eq!(none.status, 401);
        assert_eq!(none.json()["error"]["code"], "AuthenticationFailed");
        assert!(none.header("x-ms-request-id").is_some());
        let jwt = token(&mock).await;
        let forged = format!("{}x", jwt);
        assert_eq!(get(&mock, &forged, &path).await.status, 401);
        assert_eq!(get(&mock, &jwt, &path).await.status, 200);
    }

    #[tokio::test]
    async fn taps_and_nics_page_and_agree_across_subscriptions() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let jwt = token(&mock).await;
        let taps = all_pages(
            &mock,
            &jwt,
            &format!("/subscriptions/{SUB_A}/providers/Microsoft.Network/virtualNetworkTaps?api-version=2024-03-01"),
        )
        .await;
        assert_eq!(taps.len(), 3);
        let vtap1 = &taps[0]["properties"];
        assert_eq!(vtap1["destinationPort"], 4789);
        assert!(vtap1
            .get("destinationLoadBalancerFrontEndIPConfiguration")
            .is_none());
        let cfg = vtap1["networkInterfaceTapConfigurations"][0]["id"]
            .as_str()
            .unwrap();
        assert!(cfg.contains(SUB_B));
        assert_eq!(taps[2]["tags"]["env"], "prod");

        let nics = all_pages(
            &mock,
            &jwt,
            &format!("/subscriptions/{SUB_B}/providers/Microsoft.Network/networkInterfaces?api-version=2024-03-01"),
        )
        .await;
        assert_eq!(nics.len(), 1);
        let nic_cfg = &nics[0]["properties"]["tapConfigurations"][0];
        assert_eq!(nic_cfg["id"], cfg);
        assert!(nic_cfg["properties"]["virtualNetworkTap"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/RG/providers/Microsoft.Network/virtualNetworkTaps/VTAP1"));

        let subs = all_pages(&mock, &jwt, "/subscriptions?api-version=2016-06-01").await;
        assert_eq!(subs.len(), 3);
        assert_eq!(subs[0]["displayName"], "prod");
        assert_eq!(subs[1]["displayName"], SUB_B);

        let missing = get(
            &mock,
            &jwt,
            "/subscriptions/eeeeeeee-0000-4000-8000-000000000005/providers/Microsoft.Network/networkInterfaces?api-version=2024-03-01",
        )
        .await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.json()["error"]["code"], "SubscriptionNotFound");
        let disabled = get(
            &mock,
            &jwt,
            "/subscriptions/dddddddd-0000-4000-8000-000000000004/providers/Microsoft.Network/networkInterfaces?api-version=2024-03-01",
        )
        .await;
        assert_eq!(disabled.status, 409);
        assert_eq!(
            disabled.json()["error"]["code"],
            "ReadOnlyDisabledSubscription"
        );
    }

    #[tokio::test]
    async fn faults_use_arm_statuses() {
        let faults = format!(
            r#"
[[azure.faults]]
account = "{SUB_A}"
action = "virtualNetworkTaps"
kind = "denied"
[[azure.faults]]
account = "{SUB_B}"
action = "networkInterfaces"
kind = "throttled"
times = 1
[[azure.faults]]
account = "{SUB_A}"
action = "networkInterfaces"
kind = "token-loop"
"#
        );
        let mock = MockCloud::start(world(&faults)).await.unwrap();
        let jwt = token(&mock).await;
        let denied = get(
            &mock,
            &jwt,
            &format!("/subscriptions/{SUB_A}/providers/Microsoft.Network/virtualNetworkTaps?api-version=2024-03-01"),
        )
        .await;
        assert_eq!(denied.status, 403);
        assert_eq!(denied.header("x-ms-failure-cause"), Some("gateway"));
        let message = denied.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains("'app-1' with object id '0b1ec7-1d'"),
            "{message}"
        );

        let nics_b = format!(
            "/subscriptions/{SUB_B}/providers/Microsoft.Network/networkInterfaces?api-version=2024-03-01"
        );
        let throttled = get(&mock, &jwt, &nics_b).await;
        assert_eq!(throttled.status, 429);
        assert_eq!(throttled.header("retry-after"), Some("1"));
        assert_eq!(get(&mock, &jwt, &nics_b).await.status, 200);

        let looped = get(
            &mock,
            &jwt,
            &format!("/subscriptions/{SUB_A}/providers/Microsoft.Network/networkInterfaces?api-version=2024-03-01"),
        )
        .await
        .json();
        let link = looped["nextLink"].as_str().unwrap();
        assert!(link.ends_with("$skiptoken=loop"), "{link}");
        let again = get(&mock, &jwt, &link[mock.endpoint().len()..])
            .await
            .json();
        assert_eq!(again["nextLink"], looped["nextLink"]);

        let log = mock.requests();
        assert!(log.iter().any(|r| r.service == "login"
            && r.params
                .iter()
                .any(|(k, v)| k == "client_secret" && v == "[redacted]")));
        assert!(log
            .iter()
            .any(|r| r.service == "arm" && r.action == "virtualNetworkTaps" && r.account == SUB_A));
    }
}
