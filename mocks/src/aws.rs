//! EC2 and STS over the AWS Query protocol, as aws-sdk-ec2 and aws-sdk-sts speak it:
//! form-encoded `POST /`, the region and access key taken from the SigV4 credential scope, XML
//! responses in the services' own namespaces, `nextToken` pagination, and EC2's error envelope
//! (`<Response><Errors><Error>…`) with the HTTP status the real service uses. A `POST /` that
//! carries `X-Amz-Target` is awsJson, not Query: it goes to [`crate::cloudtrail`] or
//! [`crate::organizations`] by the target's prefix.
//!
//! STS AssumeRole mints temporary credentials for a role of [`AwsAccount::roles`]: the access
//! key id (`ASIA…`) is derived from (account, role, session name), so it is stable, and it is
//! remembered, so every later call signed with it (EC2, CloudTrail, Organizations, STS) is
//! attributed to the role's account and GetCallerIdentity answers the assumed-role ARN. The
//! lookups every request makes (`AwsIndex`) are built once at start, so a request costs the
//! same in a world of thousands of accounts as in one.

use crate::wire::{b64url_encode, base36, rfc3339_utc};
use crate::world::{AccountStatus, AwsAccount, AwsEvent, AwsFilterRule, FaultKind, World};
use crate::{MockState, RequestRecord};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

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
    // The query protocol's fault side: the client's (Sender) or the service's (Receiver).
    let side = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{STS_NS}\"><Error><Type>{side}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
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
/// (CloudTrail, Organizations); otherwise it is the Query protocol, where EC2 and STS differ by
/// `Action`.
pub async fn handle_query(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default().to_string();
        if target.starts_with(crate::organizations::TARGET_PREFIX) {
            return crate::organizations::handle(&state, &headers, &target, &body).await;
        }
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
    let scope = credential_scope(&headers);
    let is_sts = scope.as_ref().is_some_and(|s| s.service == "sts")
        || matches!(action.as_str(), "GetCallerIdentity" | "AssumeRole");
    let caller = scope
        .as_ref()
        .and_then(|scope| find_caller(&state, &scope.access_key));
    let (Some(scope), Some(caller)) = (scope, caller) else {
        // Each service refuses unknown credentials in its own words.
        return if is_sts {
            sts_error(
                StatusCode::FORBIDDEN,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        } else {
            ec2_error(
                StatusCode::UNAUTHORIZED,
                "AuthFailure",
                "AWS was not able to validate the provided access credentials",
            )
        };
    };
    if action == "AssumeRole" {
        return assume_role(&state, &caller, &scope.region, &params).await;
    }
    let account = caller.account;
    state.record(RequestRecord {
        service: scope.service.clone(),
        action: action.clone(),
        account: account.id.clone(),
        region: scope.region.clone(),
        params: params.clone(),
    });

    let error = |status: StatusCode, code: &str, message: &str| {
        if is_sts {
            sts_error(status, code, message)
        } else {
            ec2_error(status, code, message)
        }
    };

    let mut token_loop = false;
    for index in state.aws.faults_for(&account.id) {
        let fault = &state.world.aws.faults[index];
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
            "GetCallerIdentity" => get_caller_identity(&caller),
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
                .aws
                .sessions
                .get(&account.id, region)
                .iter()
                .map(|&n| &state.world.aws.sessions[n])
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
                .aws
                .targets
                .get(&account.id, region)
                .iter()
                .map(|&n| &state.world.aws.targets[n])
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
                .aws
                .filters
                .get(&account.id, region)
                .iter()
                .map(|&n| &state.world.aws.filters[n])
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

/// Indices of a world list (sessions, targets, …) by (account, region), in world order.
#[derive(Default)]
pub(crate) struct ScopeIndex(HashMap<String, HashMap<String, Vec<usize>>>);

impl ScopeIndex {
    fn build<'a>(scopes: impl Iterator<Item = (&'a str, &'a str)>) -> ScopeIndex {
        let mut index = ScopeIndex::default();
        for (n, (account, region)) in scopes.enumerate() {
            index
                .0
                .entry(account.to_string())
                .or_default()
                .entry(region.to_string())
                .or_default()
                .push(n);
        }
        index
    }

    pub(crate) fn get(&self, account: &str, region: &str) -> &[usize] {
        self.0
            .get(account)
            .and_then(|regions| regions.get(region))
            .map_or(&[], Vec::as_slice)
    }
}

/// What the AWS handlers look up on every request, indexed once when the mock starts: a
/// linear scan of a 1,000-account world per request would make the mock, not the client, the
/// bottleneck of a benchmark.
#[derive(Default)]
pub(crate) struct AwsIndex {
    by_id: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
    /// The first account without `access_key`: it answers to any key no other account claims.
    any_key: Option<usize>,
    pub(crate) sessions: ScopeIndex,
    pub(crate) targets: ScopeIndex,
    pub(crate) filters: ScopeIndex,
    faults_by_account: HashMap<String, Vec<usize>>,
    faults_any_account: Vec<usize>,
    /// The organisation's members (accounts not `outside_organization`), sorted by id.
    pub(crate) members: Vec<usize>,
    /// [`World::aws_events`], computed once (ids are derived by hashing every event).
    pub(crate) events: Vec<AwsEvent>,
    pub(crate) events_by_scope: ScopeIndex,
}

impl AwsIndex {
    pub(crate) fn new(world: &World) -> AwsIndex {
        let aws = &world.aws;
        let mut by_id = HashMap::new();
        let mut by_key = HashMap::new();
        for (n, account) in aws.accounts.iter().enumerate() {
            // The first of duplicates wins, as the linear lookups this replaces did.
            by_id.entry(account.id.clone()).or_insert(n);
            if let Some(key) = &account.access_key {
                by_key.entry(key.clone()).or_insert(n);
            }
        }
        let mut faults_by_account: HashMap<String, Vec<usize>> = HashMap::new();
        let mut faults_any_account = Vec::new();
        for (n, fault) in aws.faults.iter().enumerate() {
            match &fault.account {
                Some(account) => faults_by_account
                    .entry(account.clone())
                    .or_default()
                    .push(n),
                None => faults_any_account.push(n),
            }
        }
        let mut members: Vec<usize> = (0..aws.accounts.len())
            .filter(|&n| !aws.accounts[n].outside_organization && by_id[&aws.accounts[n].id] == n)
            .collect();
        members.sort_by(|&a, &b| aws.accounts[a].id.cmp(&aws.accounts[b].id));
        let events = world.aws_events();
        let events_by_scope = ScopeIndex::build(
            events
                .iter()
                .map(|e| (e.account.as_str(), e.region.as_str())),
        );
        AwsIndex {
            by_id,
            by_key,
            any_key: aws.accounts.iter().position(|a| a.access_key.is_none()),
            sessions: ScopeIndex::build(
                aws.sessions
                    .iter()
                    .map(|s| (s.account.as_str(), s.region.as_str())),
            ),
            targets: ScopeIndex::build(
                aws.targets
                    .iter()
                    .map(|t| (t.account.as_str(), t.region.as_str())),
            ),
            filters: ScopeIndex::build(
                aws.filters
                    .iter()
                    .map(|f| (f.account.as_str(), f.region.as_str())),
            ),
            faults_by_account,
            faults_any_account,
            members,
            events,
            events_by_scope,
        }
    }

    /// Indices into `aws.faults` of the faults that may apply to `account` (those naming it and
    /// those naming no account), in world order: the order faults take effect in.
    pub(crate) fn faults_for(&self, account: &str) -> Vec<usize> {
        let named = self
            .faults_by_account
            .get(account)
            .map_or(&[][..], Vec::as_slice);
        let mut all: Vec<usize> = named
            .iter()
            .chain(&self.faults_any_account)
            .copied()
            .collect();
        all.sort_unstable();
        all
    }
}

/// A role session STS AssumeRole handed out, found again by its access key id.
#[derive(Debug, Clone)]
pub(crate) struct AssumedSession {
    /// Index into `aws.accounts`.
    account: usize,
    role: String,
    session: String,
}

/// Who signed a request: an account, and the role session when the key was minted by
/// AssumeRole.
pub(crate) struct Caller<'a> {
    pub(crate) account: &'a AwsAccount,
    session: Option<AssumedSession>,
}

impl Caller<'_> {
    /// The caller's ARN, as GetCallerIdentity and access-denied messages name it.
    pub(crate) fn arn(&self) -> String {
        match &self.session {
            Some(s) => assumed_role_arn(&self.account.id, &s.role, &s.session),
            None => self.account.arn.clone().unwrap_or_else(|| {
                format!("arn:aws:iam::{}:user/mirrorguard-scanner", self.account.id)
            }),
        }
    }

    fn user_id(&self) -> String {
        match &self.session {
            Some(s) => format!("{}:{}", role_id(&self.account.id, &s.role), s.session),
            None => "AIDAMIRRORGUARDEXAMPLE".to_string(),
        }
    }
}

/// The caller an access key id belongs to: a session AssumeRole minted, else the account
/// holding that key, else the first account without `access_key`.
pub(crate) fn find_caller<'a>(state: &'a MockState, access_key: &str) -> Option<Caller<'a>> {
    let accounts = &state.world.aws.accounts;
    let minted = state
        .assumed
        .read()
        .expect("assumed-role sessions lock")
        .get(access_key)
        .cloned();
    if let Some(session) = minted {
        return Some(Caller {
            account: &accounts[session.account],
            session: Some(session),
        });
    }
    let n = state
        .aws
        .by_key
        .get(access_key)
        .copied()
        .or(state.aws.any_key)?;
    Some(Caller {
        account: &accounts[n],
        session: None,
    })
}

fn get_caller_identity(caller: &Caller) -> Response {
    xml_ok(format!(
        "<GetCallerIdentityResponse xmlns=\"{STS_NS}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        xml_escape(&caller.arn()),
        xml_escape(&caller.user_id()),
        xml_escape(&caller.account.id),
        request_id()
    ))
}

fn assumed_role_arn(account: &str, role: &str, session: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
}

/// A role's unique id (`AROA` and 17 characters), stable per account and role.
fn role_id(account: &str, role: &str) -> String {
    format!(
        "AROA{}",
        base36(&format!("role/{account}/{role}"), 17).to_ascii_uppercase()
    )
}

/// The account and role name of `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` (any partition).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (account_ok && !name.is_empty()).then_some((account, name))
}

/// STS's `roleSessionName` constraint: `[\w+=,.@-]{2,64}`; the validation message if broken.
fn session_name_error(name: &str) -> Option<String> {
    let pattern_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !pattern_ok {
        return Some(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        ));
    }
    if !(2..=64).contains(&name.len()) {
        let (bound, relation) = if name.len() < 2 {
            (2, "greater")
        } else {
            (64, "less")
        };
        return Some(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must have length {relation} than or equal to {bound}"
        ));
    }
    None
}

/// STS AssumeRole. Faults match the *target* account (the one whose role is assumed), as do the
/// request record and the minted key: what a scan of that account does afterwards is that
/// account's business.
async fn assume_role(
    state: &MockState,
    caller: &Caller<'_>,
    region: &str,
    params: &[(String, String)],
) -> Response {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let role_arn = param("RoleArn").unwrap_or_default();
    let session = param("RoleSessionName").unwrap_or_default();
    let target = parse_role_arn(role_arn);
    let target_account = target.map_or("", |(account, _)| account);
    state.record(RequestRecord {
        service: "sts".to_string(),
        action: "AssumeRole".to_string(),
        account: target_account.to_string(),
        region: region.to_string(),
        params: params.to_vec(),
    });
    let denied = || {
        sts_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn()
            ),
        )
    };

    for index in state.aws.faults_for(target_account) {
        let fault = &state.world.aws.faults[index];
        if !fault.matches(target_account, region, "AssumeRole") {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => return denied(),
            FaultKind::Throttled => {
                if state.hit("aws", index) < fault.times.unwrap_or(1) {
                    return sts_error(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded");
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("aws", index) < t) {
                    return sts_error(
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
                return xml_ok(format!(
                    "<AssumeRoleResponse xmlns=\"{STS_NS}\"><AssumeRoleResult><Credentials><AccessKeyId>ASIA"
                ));
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            // AssumeRole does not page.
            FaultKind::TokenLoop => {}
        }
    }

    let invalid = |message: &str| sts_error(StatusCode::BAD_REQUEST, "ValidationError", message);
    if param("RoleArn").is_none() {
        return invalid("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    }
    let Some((target_account, role_name)) = target else {
        return invalid(&format!("{role_arn} is invalid"));
    };
    if param("RoleSessionName").is_none() {
        return invalid("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
    }
    if let Some(message) = session_name_error(session) {
        return invalid(&message);
    }
    let duration = match param("DurationSeconds") {
        None => 3600,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if !(900..=43200).contains(&n) => {
                let (bound, relation) = if n < 900 {
                    (900, "greater")
                } else {
                    (43200, "less")
                };
                return invalid(&format!("1 validation error detected: Value '{n}' at 'durationSeconds' failed to satisfy constraint: Member must have value {relation} than or equal to {bound}"));
            }
            // Every mock role keeps IAM's default MaxSessionDuration of one hour.
            Ok(n) if n > 3600 => return invalid(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ),
            Ok(n) => n,
            Err(_) => return invalid(&format!("Invalid value '{raw}' for DurationSeconds")),
        },
    };

    let Some(&account_index) = state.aws.by_id.get(target_account) else {
        return denied();
    };
    let account = &state.world.aws.accounts[account_index];
    let Some(role) = account.roles.iter().find(|r| r.name == role_name) else {
        return denied();
    };
    let trusted = role.trusted.contains(&caller.account.id);
    let external_ok = role
        .external_id
        .as_deref()
        .is_none_or(|wanted| param("ExternalId") == Some(wanted));
    if !trusted || !external_ok || account.status == AccountStatus::Suspended {
        return denied();
    }

    let key = format!("session/{target_account}/{role_name}/{session}");
    let access_key = format!("ASIA{}", base36(&key, 16).to_ascii_uppercase());
    let secret = format!(
        "{}{}",
        base36(&format!("{key}/secret/1"), 20),
        base36(&format!("{key}/secret/2"), 20).to_ascii_uppercase()
    );
    let token = format!(
        "IQoJb3JpZ2luX2VjE{}",
        b64url_encode(format!("mirrorguard-mocks/{key}/{}", base36(&key, 24)).as_bytes())
    );
    state
        .assumed
        .write()
        .expect("assumed-role sessions lock")
        .insert(
            access_key.clone(),
            AssumedSession {
                account: account_index,
                role: role.name.clone(),
                session: session.to_string(),
            },
        );
    let expiration = OffsetDateTime::now_utc() + time::Duration::seconds(duration);
    xml_ok(format!(
        "<AssumeRoleResponse xmlns=\"{STS_NS}\"><AssumeRoleResult><Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{}:{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></AssumeRoleResponse>",
        rfc3339_utc(expiration, 0),
        role_id(target_account, &role.name),
        xml_escape(session),
        xml_escape(&assumed_role_arn(target_account, &role.name, session)),
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

#[cfg(test)]
mod tests {
    use crate::organizations::test_world::*;
    use crate::wire::parse_rfc3339;
    use crate::MockCloud;
    use std::time::Duration;
    use time::OffsetDateTime;

    fn code(reply: &crate::wire::test_http::Reply) -> (u16, &str) {
        (reply.status, xml_value(&reply.body, "Code").unwrap_or(""))
    }

    #[tokio::test]
    async fn assumed_role_keys_speak_for_the_target_account() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let reply = assume_role(
            &mock,
            "AKIDMANAGEMENT",
            &role_arn(MEMBER),
            "&DurationSeconds=3600",
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = &reply.body;
        assert!(body.starts_with(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>"
        ));
        let key = xml_value(body, "AccessKeyId").unwrap().to_string();
        assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
        assert!(key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_eq!(xml_value(body, "SecretAccessKey").unwrap().len(), 40);
        assert!(!xml_value(body, "SessionToken").unwrap().is_empty());
        let expires = parse_rfc3339(xml_value(body, "Expiration").unwrap()).unwrap();
        let ahead = expires - OffsetDateTime::now_utc();
        assert!(ahead > time::Duration::minutes(59) && ahead <= time::Duration::hours(1));
        let role_id = xml_value(body, "AssumedRoleId").unwrap();
        assert!(role_id.starts_with("AROA") && role_id.ends_with(":mirrorguard-scan"));
        let session_arn = format!("arn:aws:sts::{MEMBER}:assumed-role/{ROLE}/mirrorguard-scan");
        assert_eq!(xml_value(body, "Arn"), Some(session_arn.as_str()));
        assert!(xml_value(body, "RequestId").is_some());

        // The same (account, role, session) mints the same key; another session another.
        let again = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MEMBER), "").await;
        assert_eq!(xml_value(&again.body, "AccessKeyId"), Some(key.as_str()));
        let other = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MEMBER), "-2").await;
        assert_ne!(xml_value(&other.body, "AccessKeyId"), Some(key.as_str()));

        // EC2 with the minted key lists the member's mirror, not the management account's.
        let sessions = query(
            &mock,
            &key,
            "us-east-1",
            "ec2",
            "Action=DescribeTrafficMirrorSessions&Version=2016-11-15",
        )
        .await;
        assert_eq!(sessions.status, 200, "{}", sessions.body);
        assert_eq!(
            xml_value(&sessions.body, "trafficMirrorSessionId"),
            Some("tms-0e0e0e0e0e0e0e0e1")
        );
        assert_eq!(xml_value(&sessions.body, "ownerId"), Some(MEMBER));
        // The member's regions apply: eu-west-1 is enabled there, not in the management account.
        let west = query(
            &mock,
            &key,
            "eu-west-1",
            "ec2",
            "Action=DescribeTrafficMirrorSessions&Version=2016-11-15",
        )
        .await;
        assert_eq!(west.status, 200);

        let identity = query(
            &mock,
            &key,
            "us-east-1",
            "sts",
            "Action=GetCallerIdentity&Version=2011-06-15",
        )
        .await;
        assert_eq!(xml_value(&identity.body, "Arn"), Some(session_arn.as_str()));
        assert_eq!(xml_value(&identity.body, "Account"), Some(MEMBER));
        assert_eq!(xml_value(&identity.body, "UserId"), Some(role_id));

        // CloudTrail and Organizations attribute the key to the member too.
        let auth = auth(&key, "us-east-1", "cloudtrail");
        let lookup = crate::wire::test_http::request(
            mock.addr(),
            "POST",
            "/",
            &[
                ("Authorization", &auth),
                ("X-Amz-Target", "CloudTrail_20131101.LookupEvents"),
            ],
            "{}",
        )
        .await;
        assert_eq!(lookup.status, 200);
        let list = list_accounts(&mock, &key, "{}").await;
        assert_eq!(list.json()["__type"], "AccessDeniedException");

        let records = mock.requests();
        let assumed: Vec<_> = records
            .iter()
            .filter(|r| r.action == "AssumeRole")
            .collect();
        assert_eq!(assumed.len(), 3);
        assert!(assumed
            .iter()
            .all(|r| r.service == "sts" && r.account == MEMBER));
        let param = |name: &str| {
            assumed[0]
                .params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(param("RoleArn"), Some(role_arn(MEMBER).as_str()));
        assert_eq!(param("RoleSessionName"), Some("mirrorguard-scan"));
        assert_eq!(param("DurationSeconds"), Some("3600"));
        let later: Vec<_> = records
            .iter()
            .filter(|r| r.action != "AssumeRole")
            .map(|r| (r.service.as_str(), r.account.as_str()))
            .collect();
        assert_eq!(
            later,
            [
                ("ec2", MEMBER),
                ("ec2", MEMBER),
                ("sts", MEMBER),
                ("cloudtrail", MEMBER),
                ("organizations", MEMBER)
            ]
        );
    }

    #[tokio::test]
    async fn assume_role_refuses_whom_the_trust_policy_does_not_admit() {
        let mock = MockCloud::start(world("")).await.unwrap();
        // The member's own role trusts only the management account.
        let untrusted = assume_role(&mock, "AKIDMEMBER", &role_arn(MEMBER), "").await;
        assert_eq!(code(&untrusted), (403, "AccessDenied"));
        assert_eq!(
            xml_value(&untrusted.body, "Message").unwrap(),
            format!(
                "User: arn:aws:iam::{MEMBER}:user/mirrorguard-scanner is not authorized to perform: sts:AssumeRole on resource: {}",
                role_arn(MEMBER)
            )
        );
        assert!(untrusted.body.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"));
        // External id: required by the closing account's role; wrong or missing is refused.
        for extra in ["", "&ExternalId=wrong"] {
            let reply = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(CLOSING), extra).await;
            assert_eq!(code(&reply), (403, "AccessDenied"), "{extra}");
        }
        let closing = assume_role(
            &mock,
            "AKIDMANAGEMENT",
            &role_arn(CLOSING),
            "&ExternalId=s3cret",
        )
        .await;
        assert_eq!(closing.status, 200, "pending closure is still reachable");
        let suspended = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(SUSPENDED), "").await;
        assert_eq!(code(&suspended), (403, "AccessDenied"));
        let no_role = assume_role(
            &mock,
            "AKIDMANAGEMENT",
            &format!("arn:aws:iam::{MEMBER}:role/Other"),
            "",
        )
        .await;
        assert_eq!(code(&no_role), (403, "AccessDenied"));
        let no_account = assume_role(&mock, "AKIDMANAGEMENT", &role_arn("123456789012"), "").await;
        assert_eq!(code(&no_account), (403, "AccessDenied"));
        // Outside the organisation, a trust policy still admits whom it names; a path is fine.
        let outside = assume_role(
            &mock,
            "AKIDMEMBER",
            &format!("arn:aws:iam::{OUTSIDE}:role/team/{ROLE}"),
            "",
        )
        .await;
        assert_eq!(outside.status, 200, "{}", outside.body);
        // A chained session is its account's caller: the member's session may enter OUTSIDE.
        let member = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MEMBER), "").await;
        let member_key = xml_value(&member.body, "AccessKeyId").unwrap();
        let chained = assume_role(&mock, member_key, &role_arn(OUTSIDE), "").await;
        assert_eq!(chained.status, 200);
        let refused =
            assume_role(&mock, member_key, &role_arn(CLOSING), "&ExternalId=s3cret").await;
        assert!(xml_value(&refused.body, "Message")
            .unwrap()
            .starts_with(&format!(
                "User: arn:aws:sts::{MEMBER}:assumed-role/{ROLE}/mirrorguard-scan "
            )));

        // Malformed requests are validation errors, whoever asks.
        for body in [
            "Action=AssumeRole&Version=2011-06-15&RoleSessionName=ok-name".to_string(),
            format!("Action=AssumeRole&Version=2011-06-15&RoleArn={}", role_arn(MEMBER)),
            format!("Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=a", role_arn(MEMBER)),
            format!("Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=has+space", role_arn(MEMBER)),
            format!("Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName={}", role_arn(MEMBER), "x".repeat(65)),
            format!("Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=ok&DurationSeconds=7200", role_arn(MEMBER)),
            format!("Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=ok&DurationSeconds=60", role_arn(MEMBER)),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=not-an-arn&RoleSessionName=ok".to_string(),
        ] {
            let reply = query(&mock, "AKIDMANAGEMENT", "us-east-1", "sts", &body).await;
            assert_eq!(code(&reply), (400, "ValidationError"), "{body}");
        }
        let space = query(
            &mock,
            "AKIDMANAGEMENT",
            "us-east-1",
            "sts",
            &format!(
                "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=a+b=c,d.e@f-g_h",
                role_arn(MEMBER)
            ),
        )
        .await;
        assert_eq!(
            code(&space),
            (400, "ValidationError"),
            "a form-encoded + is a space"
        );
        let ok = query(
            &mock,
            "AKIDMANAGEMENT",
            "us-east-1",
            "sts",
            &format!("Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=a%2Bb%3Dc%2Cd.e%40f-g_h", role_arn(MEMBER)),
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }

    #[tokio::test]
    async fn assume_role_faults_match_the_target_account() {
        let faults = format!(
            r#"
[[aws.faults]]
account = "{MEMBER}"
action = "AssumeRole"
kind = "throttled"
times = 2
[[aws.faults]]
account = "{MANAGEMENT}"
action = "AssumeRole"
kind = "denied"
"#
        );
        let mock = MockCloud::start(world(&faults)).await.unwrap();
        for _ in 0..2 {
            let reply = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MEMBER), "").await;
            assert_eq!(code(&reply), (400, "Throttling"));
        }
        assert_eq!(
            assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MEMBER), "")
                .await
                .status,
            200
        );
        // The denied fault names the caller's account, not the target's: it does not apply…
        assert_eq!(
            assume_role(
                &mock,
                "AKIDMANAGEMENT",
                &role_arn(CLOSING),
                "&ExternalId=s3cret"
            )
            .await
            .status,
            200
        );
        // …but it does when the management account's own role is the target.
        let own = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MANAGEMENT), "").await;
        assert_eq!(code(&own), (403, "AccessDenied"));

        for (kind, status, error) in [
            ("failing", 500, "InternalFailure"),
            ("denied", 403, "AccessDenied"),
        ] {
            let mock = MockCloud::start(world(&format!(
                "[[aws.faults]]\naccount = \"{MEMBER}\"\naction = \"AssumeRole\"\nkind = \"{kind}\"\n"
            )))
            .await
            .unwrap();
            let reply = assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MEMBER), "").await;
            assert_eq!(code(&reply), (status, error));
            if status == 500 {
                assert!(reply.body.contains("<Type>Receiver</Type>"));
            }
        }
        let mock = MockCloud::start(world(&format!(
            "[[aws.faults]]\naccount = \"{MEMBER}\"\naction = \"AssumeRole\"\nkind = \"slow\"\nms = 150\n[[aws.faults]]\naccount = \"{CLOSING}\"\naction = \"AssumeRole\"\nkind = \"hang\"\n"
        )))
        .await
        .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(
            assume_role(&mock, "AKIDMANAGEMENT", &role_arn(MEMBER), "")
                .await
                .status,
            200
        );
        assert!(started.elapsed() >= Duration::from_millis(150));
        let hung = tokio::time::timeout(
            Duration::from_millis(300),
            assume_role(
                &mock,
                "AKIDMANAGEMENT",
                &role_arn(CLOSING),
                "&ExternalId=s3cret",
            ),
        )
        .await;
        assert!(hung.is_err(), "a hanging AssumeRole answered");
        // The record names the target account even when the call hangs.
        let records = mock.requests();
        assert_eq!(records.last().map(|r| r.account.as_str()), Some(CLOSING));
    }

    #[tokio::test]
    async fn unknown_keys_get_each_services_own_refusal() {
        // Every account holds a key, so there is no catch-all account.
        let world = crate::World::from_toml(
            "[[aws.accounts]]\nid = \"111122223333\"\naccess_key = \"AKIDKNOWN\"\nregions = [\"us-east-1\"]\n",
        )
        .unwrap();
        let mock = MockCloud::start(world).await.unwrap();
        let sts = assume_role(&mock, "AKIDUNKNOWN", &role_arn(MEMBER), "").await;
        assert_eq!(code(&sts), (403, "InvalidClientTokenId"));
        let ec2 = query(
            &mock,
            "AKIDUNKNOWN",
            "us-east-1",
            "ec2",
            "Action=DescribeTrafficMirrorSessions&Version=2016-11-15",
        )
        .await;
        assert_eq!(code(&ec2), (401, "AuthFailure"));
        // A never-minted ASIA key is unknown too.
        let made_up = query(
            &mock,
            "ASIAAAAAAAAAAAAAAAAA",
            "us-east-1",
            "sts",
            "Action=GetCallerIdentity&Version=2011-06-15",
        )
        .await;
        assert_eq!(code(&made_up), (403, "InvalidClientTokenId"));
    }
}
