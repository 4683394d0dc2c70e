//! EC2 and STS over the AWS Query protocol, as aws-sdk-ec2 and aws-sdk-sts speak it:
//! form-encoded `POST /`, the region and access key taken from the SigV4 credential scope, XML
//! responses in the services' own namespaces, `nextToken` pagination, and EC2's error envelope
//! (`<Response><Errors><Error>…`) with the HTTP status the real service uses. A `POST /` that
//! carries `X-Amz-Target` is awsJson, not Query: it goes to [`crate::cloudtrail`].

use crate::world::{AwsAccount, AwsFilterRule, FaultKind};
use crate::{MockState, RequestRecord};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

const EC2_NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const LOOP_TOKEN: &str = "AAEAAfOqUFCsvWAoLNjPxTuzPdm2Slt8L3ZeRFhWXsWiNt4xEhkyLzz4C1ZEZ";

/// What the SigV4 `Authorization` header says about the caller.
pub(crate) struct CredentialScope {
    pub(crate) access_key: String,
    pub(crate) region: String,
    pub(crate) service: String,
}

pub(crate) fn credential_scope(headers: &HeaderMap) -> Option<CredentialScope> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?.split(',').next()?;
    let mut parts = credential.trim().split('/');
    let access_key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    Some(CredentialScope {
        access_key,
        region,
        service,
    })
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most C0 controls even escaped; real EC2 would not store them
            // either, so the mock writes them as character references the parser rejects only
            // if the client is strict. Keep ESC & co. visible to exercise terminal escaping.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn request_id() -> String {
    "59dbff89-35bd-4eac-99ed-be587EXAMPLE".to_string()
}

fn ec2_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        xml_escape(code),
        xml_escape(message),
        request_id()
    );
    (status, [("content-type", "text/xml;charset=UTF-8")], body).into_response()
}

fn sts_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"{STS_NS}\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        xml_escape(code),
        xml_escape(message),
        request_id()
    );
    (status, [("content-type", "text/xml")], body).into_response()
}

fn xml_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/xml;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// The single `POST /` entry point: an `X-Amz-Target` header marks an awsJson request
/// (CloudTrail); otherwise it is the Query protocol, where EC2 and STS differ by `Action`.
pub async fn handle_query(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default().to_string();
        return crate::cloudtrail::handle(&state, &headers, &target, &body).await;
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = param("Action").unwrap_or("").to_string();
    let Some(scope) = credential_scope(&headers) else {
        return ec2_error(
            StatusCode::UNAUTHORIZED,
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        );
    };
    let Some(account) = find_account(&state, &scope.access_key) else {
        return ec2_error(
            StatusCode::UNAUTHORIZED,
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        );
    };
    state.record(RequestRecord {
        service: scope.service.clone(),
        action: action.clone(),
        account: account.id.clone(),
        region: scope.region.clone(),
        params: params.clone(),
    });

    let is_sts = scope.service == "sts" || action == "GetCallerIdentity";
    let error = |status: StatusCode, code: &str, message: &str| {
        if is_sts {
            sts_error(status, code, message)
        } else {
            ec2_error(status, code, message)
        }
    };

    let mut token_loop = false;
    for (index, fault) in state.world.aws.faults.iter().enumerate() {
        if !fault.matches(&account.id, &scope.region, &action) {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                return error(
                    StatusCode::FORBIDDEN,
                    "UnauthorizedOperation",
                    "You are not authorized to perform this operation.",
                )
            }
            FaultKind::Throttled => {
                if state.hit("aws", index) < fault.times.unwrap_or(1) {
                    return error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "RequestLimitExceeded",
                        "Request limit exceeded.",
                    );
                }
            }
            FaultKind::Failing => {
                if fault
                    .times
                    .is_none_or(|times| state.hit("aws", index) < times)
                {
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalError",
                        "An internal error has occurred",
                    );
                }
            }
            FaultKind::Slow => {
                tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(1000))).await;
            }
            FaultKind::Malformed => {
                return xml_ok(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{EC2_NS}\"><requestId>{}</requestId><trafficMirror",
                    request_id()
                ));
            }
            FaultKind::Hang => {
                tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
            }
            FaultKind::TokenLoop => token_loop = true,
        }
    }

    if is_sts {
        return match action.as_str() {
            "GetCallerIdentity" => get_caller_identity(account),
            _ => sts_error(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                &format!("Could not find operation {action} for version 2011-06-15"),
            ),
        };
    }

    if action != "DescribeRegions" && !account.regions.contains(&scope.region) {
        // What EC2 answers for a region the account has not opted in to (or that does not exist).
        return ec2_error(
            StatusCode::UNAUTHORIZED,
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        );
    }

    let page = match Paging::from_params(param("MaxResults"), param("NextToken"), &state) {
        Ok(page) => page,
        Err(message) => {
            return ec2_error(StatusCode::BAD_REQUEST, "InvalidParameterValue", &message)
        }
    };
    let region = scope.region.as_str();
    match action.as_str() {
        "DescribeRegions" => describe_regions(account, param("AllRegions") == Some("true")),
        "DescribeTrafficMirrorSessions" => {
            let items: Vec<_> = state
                .world
                .aws
                .sessions
                .iter()
                .filter(|s| s.account == account.id && s.region == region)
                .collect();
            paged_response(
                &action,
                "trafficMirrorSessionSet",
                &items,
                page,
                token_loop,
                |s| {
                    let mut x = String::from("<item>");
                    tag(&mut x, "trafficMirrorSessionId", &s.id);
                    tag(&mut x, "trafficMirrorTargetId", &s.target);
                    tag(&mut x, "trafficMirrorFilterId", &s.filter);
                    tag(&mut x, "networkInterfaceId", &s.source);
                    tag(&mut x, "ownerId", &s.account);
                    if let Some(len) = s.packet_length {
                        tag(&mut x, "packetLength", &len.to_string());
                    }
                    tag(&mut x, "sessionNumber", &s.session_number.to_string());
                    if let Some(vni) = s.vni {
                        tag(&mut x, "virtualNetworkId", &vni.to_string());
                    }
                    opt_tag(&mut x, "description", s.description.as_deref());
                    tag_set(&mut x, &s.tags);
                    x.push_str("</item>");
                    x
                },
            )
        }
        "DescribeTrafficMirrorTargets" => {
            let items: Vec<_> = state
                .world
                .aws
                .targets
                .iter()
                .filter(|t| t.account == account.id && t.region == region)
                .collect();
            paged_response(
                &action,
                "trafficMirrorTargetSet",
                &items,
                page,
                token_loop,
                |t| {
                    let mut x = String::from("<item>");
                    tag(&mut x, "trafficMirrorTargetId", &t.id);
                    let resource_tag = match t.target_type.as_str() {
                        "network-load-balancer" => "networkLoadBalancerArn",
                        "gateway-load-balancer-endpoint" => "gatewayLoadBalancerEndpointId",
                        _ => "networkInterfaceId",
                    };
                    tag(&mut x, resource_tag, &t.resource);
                    tag(&mut x, "type", &t.target_type);
                    opt_tag(&mut x, "description", t.description.as_deref());
                    tag(&mut x, "ownerId", t.owner.as_deref().unwrap_or(&t.account));
                    tag_set(&mut x, &t.tags);
                    x.push_str("</item>");
                    x
                },
            )
        }
        "DescribeTrafficMirrorFilters" => {
            let items: Vec<_> = state
                .world
                .aws
                .filters
                .iter()
                .filter(|f| f.account == account.id && f.region == region)
                .collect();
            paged_response(
                &action,
                "trafficMirrorFilterSet",
                &items,
                page,
                token_loop,
                |f| {
                    let mut x = String::from("<item>");
                    tag(&mut x, "trafficMirrorFilterId", &f.id);
                    for direction in ["ingress", "egress"] {
                        let _ = write!(x, "<{direction}FilterRuleSet>");
                        for (n, rule) in f.rules.iter().enumerate() {
                            if rule.direction == direction {
                                filter_rule(&mut x, &f.id, n, rule);
                            }
                        }
                        let _ = write!(x, "</{direction}FilterRuleSet>");
                    }
                    x.push_str("<networkServiceSet>");
                    for service in &f.network_services {
                        tag(&mut x, "item", service);
                    }
                    x.push_str("</networkServiceSet>");
                    opt_tag(&mut x, "description", f.description.as_deref());
                    tag_set(&mut x, &f.tags);
                    x.push_str("</item>");
                    x
                },
            )
        }
        _ => ec2_error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("The action {action} is not valid for this web service."),
        ),
    }
}

pub(crate) fn find_account<'a>(state: &'a MockState, access_key: &str) -> Option<&'a AwsAccount> {
    let accounts = &state.world.aws.accounts;
    accounts
        .iter()
        .find(|a| a.access_key.as_deref() == Some(access_key))
        .or_else(|| accounts.iter().find(|a| a.access_key.is_none()))
}

fn get_caller_identity(account: &AwsAccount) -> Response {
    let arn = account
        .arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{}:user/mirrorguard-scanner", account.id));
    xml_ok(format!(
        "<GetCallerIdentityResponse xmlns=\"{STS_NS}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>AIDAMIRRORGUARDEXAMPLE</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        xml_escape(&arn),
        xml_escape(&account.id),
        request_id()
    ))
}

fn describe_regions(account: &AwsAccount, all_regions: bool) -> Response {
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeRegionsResponse xmlns=\"{EC2_NS}\"><requestId>{}</requestId><regionInfo>",
        request_id()
    );
    let enabled = account.regions.iter().map(|r| (r, "opt-in-not-required"));
    let disabled = account.not_opted_in.iter().map(|r| (r, "not-opted-in"));
    for (region, status) in enabled.chain(disabled.filter(|_| all_regions)) {
        body.push_str("<item>");
        tag(&mut body, "regionName", region);
        tag(
            &mut body,
            "regionEndpoint",
            &format!("ec2.{region}.amazonaws.com"),
        );
        tag(&mut body, "optInStatus", status);
        body.push_str("</item>");
    }
    body.push_str("</regionInfo></DescribeRegionsResponse>");
    xml_ok(body)
}

/// Where a page starts and how long it is, decoded from `MaxResults` and `NextToken`.
struct Paging {
    offset: usize,
    size: usize,
    looped: bool,
}

impl Paging {
    fn from_params(
        max_results: Option<&str>,
        next_token: Option<&str>,
        state: &MockState,
    ) -> Result<Paging, String> {
        let page_size = state.world.settings.page_size.max(1);
        let size = match max_results {
            None => page_size,
            Some(raw) => {
                let n: usize = raw
                    .parse()
                    .map_err(|_| format!("Invalid value '{raw}' for MaxResults"))?;
                // EC2's documented range for the traffic-mirror Describe calls.
                if !(5..=1000).contains(&n) {
                    return Err(format!(
                        "Value ( {n} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."
                    ));
                }
                n.min(page_size)
            }
        };
        let (offset, looped) = match next_token {
            None | Some("") => (0, false),
            Some(LOOP_TOKEN) => (0, true),
            Some(token) => (
                token
                    .strip_prefix("mgtok-")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("The token '{token}' is invalid."))?,
                false,
            ),
        };
        Ok(Paging {
            offset,
            size,
            looped,
        })
    }
}

/// One page of `items`; only the page's own items are rendered, so a large world stays cheap.
fn paged_response<T>(
    action: &str,
    set_name: &str,
    items: &[T],
    page: Paging,
    token_loop: bool,
    render: impl Fn(&T) -> String,
) -> Response {
    let end = (page.offset + page.size).min(items.len());
    let start = page.offset.min(end);
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{EC2_NS}\"><requestId>{}</requestId><{set_name}>",
        request_id()
    );
    for item in &items[start..end] {
        body.push_str(&render(item));
    }
    let _ = write!(body, "</{set_name}>");
    if token_loop || page.looped {
        tag(&mut body, "nextToken", LOOP_TOKEN);
    } else if end < items.len() {
        tag(&mut body, "nextToken", &format!("mgtok-{end}"));
    }
    let _ = write!(body, "</{action}Response>");
    xml_ok(body)
}

fn tag(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", xml_escape(value));
}

fn opt_tag(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        tag(out, name, value);
    }
}

fn tag_set(out: &mut String, tags: &std::collections::BTreeMap<String, String>) {
    out.push_str("<tagSet>");
    for (key, value) in tags {
        out.push_str("<item>");
        tag(out, "key", key);
        tag(out, "value", value);
        out.push_str("</item>");
    }
    out.push_str("</tagSet>");
}

fn filter_rule(out: &mut String, filter_id: &str, index: usize, rule: &AwsFilterRule) {
    out.push_str("<item>");
    tag(
        out,
        "trafficMirrorFilterRuleId",
        &format!("tmfr-{index:017x}"),
    );
    tag(out, "trafficMirrorFilterId", filter_id);
    tag(out, "trafficDirection", &rule.direction);
    tag(out, "ruleNumber", &rule.number.to_string());
    tag(out, "ruleAction", &rule.action);
    if let Some(protocol) = rule.protocol {
        tag(out, "protocol", &protocol.to_string());
    }
    for (name, range) in [
        ("destinationPortRange", rule.destination_ports),
        ("sourcePortRange", rule.source_ports),
    ] {
        if let Some([from, to]) = range {
            let _ = write!(
                out,
                "<{name}><fromPort>{from}</fromPort><toPort>{to}</toPort></{name}>"
            );
        }
    }
    tag(out, "destinationCidrBlock", &rule.destination_cidr);
    tag(out, "sourceCidrBlock", &rule.source_cidr);
    out.push_str("</item>");
}
