//! AWS Organizations `ListAccounts` over awsJson 1.1, as aws-sdk-organizations speaks it:
//! `POST /` with `X-Amz-Target: AWSOrganizationsV20161128.ListAccounts`, SigV4-signed for
//! `organizations` in `us-east-1` (the service's one endpoint), the caller's account from the
//! access key as for EC2 (an AssumeRole session counts as its role's account). The body is
//! `{"MaxResults":N,"NextToken":"…"}`, both optional; the answer `{"Accounts":[…],"NextToken":…}`
//! lists the organisation's members sorted by id, `NextToken` omitted on the last page.
//!
//! Only the management account may list: a member gets `AccessDeniedException`, and a world
//! without `[aws.organization]` (or a caller outside it) `AWSOrganizationsNotInUseException`.
//! Errors are awsJson's `{"__type","Message"}` with `x-amzn-ErrorType`, all 400 but the
//! `failing` fault's 500 `ServiceException`.

use crate::aws_json;
use crate::wire::{fnv64, page_offset, page_token};
use crate::world::{AwsAccount, AwsOrganization, FaultKind};
use crate::{MockState, RequestRecord};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// Every Organizations operation's `X-Amz-Target` starts with this.
pub(crate) const TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";
const LIST_ACCOUNTS: &str = "AWSOrganizationsV20161128.ListAccounts";
/// ListAccounts' documented maximum (and the mock's default) page size.
const MAX_RESULTS: i64 = 20;
/// Joined timestamps are spread over the five years from 2019-01-01 (stable per account).
const JOINED_EPOCH: u64 = 1_546_300_800;
const JOINED_SPREAD: u64 = 5 * 365 * 86_400;

const SERVICE: &str = "organizations";

fn error(status: StatusCode, code: &str, message: &str, extra: &[(&str, &str)]) -> Response {
    let mut body = json!({ "__type": code, "Message": message });
    for (key, value) in extra {
        body[*key] = json!(value);
    }
    aws_json::error(SERVICE, status, code, body)
}

fn bad_request(code: &str, message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, code, message, &[])
}

/// Organizations' `InvalidInputException` carries a machine-readable `Reason`.
fn invalid_input(reason: &str, message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidInputException",
        message,
        &[("Reason", reason)],
    )
}

fn access_denied() -> Response {
    bad_request(
        "AccessDeniedException",
        "You don't have permissions to access this resource.",
    )
}

fn not_in_use() -> Response {
    bad_request(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListAccountsRequest {
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
}

/// `POST /` with an `X-Amz-Target` of the Organizations service.
pub(crate) async fn handle(
    state: &MockState,
    headers: &HeaderMap,
    target: &str,
    body: &[u8],
) -> Response {
    if target != LIST_ACCOUNTS {
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
    let parsed = aws_json::body::<ListAccountsRequest>(body);
    let mut params = Vec::new();
    if let Ok(request) = &parsed {
        if let Some(n) = request.max_results {
            params.push(("MaxResults".to_string(), n.to_string()));
        }
        if let Some(token) = &request.next_token {
            params.push(("NextToken".to_string(), token.clone()));
        }
    }
    state.record(RequestRecord {
        service: "organizations".to_string(),
        action: "ListAccounts".to_string(),
        account: account.id.clone(),
        region: region.to_string(),
        params,
    });
    let request = match parsed {
        Ok(request) => request,
        Err(e) => return bad_request("SerializationException", &e.to_string()),
    };

    let mut token_loop = false;
    for index in state.aws.faults_for(&account.id) {
        let fault = &state.world.aws.faults[index];
        if !fault.matches(&account.id, region, "ListAccounts") {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => return access_denied(),
            FaultKind::Throttled => {
                if state.hit("aws", index) < fault.times.unwrap_or(1) {
                    return bad_request(
                        "TooManyRequestsException",
                        "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
                    );
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("aws", index) < t) {
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "ServiceException",
                        "AWS Organizations can't complete your request because of an internal service error. Try again later.",
                        &[],
                    );
                }
            }
            FaultKind::Slow => {
                tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(1000))).await;
            }
            FaultKind::Malformed => {
                return aws_json::ok(SERVICE, r#"{"Accounts":[{"Id":"1111222"#.to_string());
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            FaultKind::TokenLoop => token_loop = true,
        }
    }

    let Some(org) = &state.world.aws.organization else {
        return not_in_use();
    };
    if account.outside_organization {
        return not_in_use();
    }
    if account.id != org.management_account {
        return access_denied();
    }

    let max_results = match request.max_results {
        None => MAX_RESULTS,
        Some(n) if (1..=MAX_RESULTS).contains(&n) => n,
        Some(n) => {
            let (reason, relation, bound) = if n < 1 {
                ("MIN_VALUE_EXCEEDED", "greater", 1)
            } else {
                ("MAX_VALUE_EXCEEDED", "less", MAX_RESULTS)
            };
            return invalid_input(
                reason,
                &format!("You provided a value that does not match the required pattern. Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value {relation} than or equal to {bound}"),
            );
        }
    };
    // Tokens belong to the organisation they list (a token from another world is refused).
    let query = format!("{}/{}", org.id, org.management_account);
    let offset = match request.next_token.as_deref() {
        None => 0,
        Some(token) => match page_offset("organizations", token, &query) {
            Some(offset) => offset,
            None => {
                return invalid_input(
                    "INVALID_PAGINATION_TOKEN",
                    "You provided a value that does not match the required pattern. The NextToken is not valid.",
                )
            }
        },
    };
    // The token-loop fault answers every page as the first one, with the same token.
    let offset = if token_loop { 0 } else { offset };

    let members = &state.aws.members;
    let size = (max_results as usize).min(state.world.settings.page_size.max(1));
    let end = (offset + size).min(members.len());
    let start = offset.min(end);
    let accounts: Vec<Value> = members[start..end]
        .iter()
        .map(|&n| account_json(org, &state.world.aws.accounts[n]))
        .collect();
    let mut body = json!({ "Accounts": accounts });
    if token_loop {
        body["NextToken"] = json!(page_token("organizations", 0, &query));
    } else if end < members.len() {
        body["NextToken"] = json!(page_token("organizations", end, &query));
    }
    aws_json::ok(SERVICE, body.to_string())
}

/// One `Account` of ListAccounts. `Status` is the deprecated twin of `State`; both are sent, as
/// the service does during the deprecation. The management account joined by `INVITED` (the
/// organisation was created around it), every other account by `CREATED`.
fn account_json(org: &AwsOrganization, account: &AwsAccount) -> Value {
    let joined = JOINED_EPOCH + fnv64(6, account.id.as_bytes()) % JOINED_SPREAD;
    let method = if account.id == org.management_account {
        "INVITED"
    } else {
        "CREATED"
    };
    json!({
        "Id": account.id,
        "Arn": format!(
            "arn:aws:organizations::{}:account/{}/{}",
            org.management_account, org.id, account.id
        ),
        "Email": account
            .email
            .clone()
            .unwrap_or_else(|| format!("aws+{}@example.com", account.id)),
        "Name": account
            .name
            .clone()
            .unwrap_or_else(|| format!("account-{}", account.id)),
        "Status": account.status.as_str(),
        "State": account.status.as_str(),
        "JoinedMethod": method,
        "JoinedTimestamp": joined,
    })
}

/// The organisation the Organizations and STS tests share, and their request helpers.
#[cfg(test)]
pub(crate) mod test_world {
    use crate::wire::test_http::{request, Reply};
    use crate::{MockCloud, World};

    pub const MANAGEMENT: &str = "111122223333";
    pub const MEMBER: &str = "444455556666";
    pub const SUSPENDED: &str = "222233334444";
    pub const CLOSING: &str = "777788889999";
    pub const OUTSIDE: &str = "999900001111";
    pub const ROLE: &str = "MirrorguardReadOnly";

    /// Five accounts: the management account, an active member with a mirror, a suspended
    /// and a closing member (whose role wants an external id), and an account outside the
    /// organisation whose role trusts the member.
    pub fn world(extra: &str) -> World {
        World::from_toml(&format!(
            r#"
[settings]
page_size = 2
cloudtrail_rate = 0
[aws.organization]
id = "o-a1b2c3d4e5"
management_account = "{MANAGEMENT}"
[[aws.accounts]]
id = "{MANAGEMENT}"
access_key = "AKIDMANAGEMENT"
arn = "arn:aws:iam::{MANAGEMENT}:user/scanner"
regions = ["us-east-1"]
name = "management"
email = "root@example.com"
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"] }}]
[[aws.accounts]]
id = "{MEMBER}"
access_key = "AKIDMEMBER"
regions = ["us-east-1", "eu-west-1"]
name = "prod"
status = "ACTIVE"
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"] }}]
[[aws.accounts]]
id = "{SUSPENDED}"
regions = ["us-east-1"]
status = "SUSPENDED"
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"] }}]
[[aws.accounts]]
id = "{CLOSING}"
access_key = "AKIDCLOSING"
regions = ["us-east-1"]
status = "PENDING_CLOSURE"
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"], external_id = "s3cret" }}]
[[aws.accounts]]
id = "{OUTSIDE}"
access_key = "AKIDOUTSIDE"
regions = ["us-east-1"]
outside_organization = true
roles = [{{ name = "{ROLE}", trusted = ["{MEMBER}"] }}]
[[aws.sessions]]
account = "{MEMBER}"
region = "us-east-1"
id = "tms-0e0e0e0e0e0e0e0e1"
target = "tmt-0a0a0a0a0a0a0a0a1"
filter = "tmf-0b0b0b0b0b0b0b0b1"
source = "eni-0c0c0c0c0c0c0c0c1"
[[aws.sessions]]
account = "{MANAGEMENT}"
region = "us-east-1"
id = "tms-0e0e0e0e0e0e0e0e2"
target = "tmt-0a0a0a0a0a0a0a0a2"
filter = "tmf-0b0b0b0b0b0b0b0b2"
source = "eni-0c0c0c0c0c0c0c0c2"
{extra}
"#
        ))
        .expect("world parses")
    }

    pub fn auth(key: &str, region: &str, service: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential={key}/20261203/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef")
    }

    pub async fn list_accounts(mock: &MockCloud, key: &str, body: &str) -> Reply {
        let auth = auth(key, "us-east-1", "organizations");
        request(
            mock.addr(),
            "POST",
            "/",
            &[
                ("Authorization", &auth),
                ("X-Amz-Target", "AWSOrganizationsV20161128.ListAccounts"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            body,
        )
        .await
    }

    /// A Query API call (EC2 or STS) signed with `key` for `region`.
    pub async fn query(
        mock: &MockCloud,
        key: &str,
        region: &str,
        service: &str,
        body: &str,
    ) -> Reply {
        let auth = auth(key, region, service);
        request(
            mock.addr(),
            "POST",
            "/",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body,
        )
        .await
    }

    pub async fn assume_role(mock: &MockCloud, key: &str, role_arn: &str, extra: &str) -> Reply {
        let body = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=mirrorguard-scan{extra}",
            crate::wire::percent_encode(role_arn)
        );
        query(mock, key, "us-east-1", "sts", &body).await
    }

    pub fn role_arn(account: &str) -> String {
        format!("arn:aws:iam::{account}:role/{ROLE}")
    }

    /// The text of the first `<name>` element (the mock's XML has no attributes on them).
    pub fn xml_value<'a>(body: &'a str, name: &str) -> Option<&'a str> {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(&body[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::test_world::*;
    use crate::MockCloud;
    use serde_json::{json, Value};
    use std::time::{Duration, Instant};

    async fn all_pages(mock: &MockCloud, max_results: Option<i64>) -> (Vec<Value>, usize) {
        let mut accounts = Vec::new();
        let mut body = json!({});
        if let Some(n) = max_results {
            body["MaxResults"] = json!(n);
        }
        for pages in 1..=100 {
            let reply = list_accounts(mock, "AKIDMANAGEMENT", &body.to_string()).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            assert_eq!(
                reply.header("content-type"),
                Some("application/x-amz-json-1.1")
            );
            let page = reply.json();
            let items = page["Accounts"].as_array().unwrap();
            assert!(!items.is_empty());
            accounts.extend(items.iter().cloned());
            match page.get("NextToken") {
                Some(token) => body["NextToken"] = token.clone(),
                None => return (accounts, pages),
            }
        }
        panic!("pagination did not end");
    }

    #[tokio::test]
    async fn list_accounts_pages_members_sorted_by_id_with_their_status() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let (accounts, pages) = all_pages(&mock, None).await;
        // Four members (the outside account is not listed), two per page (settings.page_size).
        assert_eq!(pages, 2);
        let ids: Vec<&str> = accounts.iter().map(|a| a["Id"].as_str().unwrap()).collect();
        assert_eq!(ids, [MANAGEMENT, SUSPENDED, MEMBER, CLOSING]);
        let management = &accounts[0];
        assert_eq!(
            management["Arn"],
            format!("arn:aws:organizations::{MANAGEMENT}:account/o-a1b2c3d4e5/{MANAGEMENT}")
        );
        assert_eq!(management["Email"], "root@example.com");
        assert_eq!(management["Name"], "management");
        assert_eq!(management["JoinedMethod"], "INVITED");
        let stamp = management["JoinedTimestamp"].as_u64().unwrap();
        assert!((1_546_300_800..1_704_067_200).contains(&stamp), "{stamp}");
        let suspended = &accounts[1];
        assert_eq!(suspended["Status"], "SUSPENDED");
        assert_eq!(suspended["State"], "SUSPENDED");
        assert_eq!(suspended["Email"], format!("aws+{SUSPENDED}@example.com"));
        assert_eq!(suspended["Name"], format!("account-{SUSPENDED}"));
        assert_eq!(suspended["JoinedMethod"], "CREATED");
        assert_eq!(accounts[2]["Status"], "ACTIVE");
        assert_eq!(accounts[3]["State"], "PENDING_CLOSURE");

        // MaxResults below the page size makes smaller pages; an empty body is accepted.
        let (one_by_one, pages) = all_pages(&mock, Some(1)).await;
        assert_eq!((one_by_one.len(), pages), (4, 4));
        assert_eq!(list_accounts(&mock, "AKIDMANAGEMENT", "").await.status, 200);

        let records: Vec<_> = mock
            .requests()
            .into_iter()
            .filter(|r| r.service == "organizations")
            .collect();
        assert_eq!(records.len(), 2 + 4 + 1);
        assert!(records.iter().all(|r| r.action == "ListAccounts"
            && r.account == MANAGEMENT
            && r.region == "us-east-1"));
        assert!(records[1].params.iter().any(|(k, _)| k == "NextToken"));
    }

    #[tokio::test]
    async fn list_accounts_refuses_members_outsiders_and_bad_input() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let code = |reply: &crate::wire::test_http::Reply| {
            assert_eq!(
                reply.header("x-amzn-ErrorType"),
                reply.json()["__type"].as_str()
            );
            (
                reply.status,
                reply.json()["__type"].as_str().unwrap().to_string(),
            )
        };
        let member = list_accounts(&mock, "AKIDMEMBER", "{}").await;
        assert_eq!(code(&member), (400, "AccessDeniedException".to_string()));
        assert_eq!(
            member.json()["Message"],
            "You don't have permissions to access this resource."
        );
        let outside = list_accounts(&mock, "AKIDOUTSIDE", "{}").await;
        assert_eq!(
            code(&outside),
            (400, "AWSOrganizationsNotInUseException".to_string())
        );
        for (body, reason) in [
            (r#"{"MaxResults":0}"#, "MIN_VALUE_EXCEEDED"),
            (r#"{"MaxResults":21}"#, "MAX_VALUE_EXCEEDED"),
            (r#"{"NextToken":"bogus"}"#, "INVALID_PAGINATION_TOKEN"),
        ] {
            let reply = list_accounts(&mock, "AKIDMANAGEMENT", body).await;
            assert_eq!(
                code(&reply),
                (400, "InvalidInputException".to_string()),
                "{body}"
            );
            assert_eq!(reply.json()["Reason"], reason);
        }
        let reply = list_accounts(&mock, "AKIDMANAGEMENT", "{not json").await;
        assert_eq!(code(&reply), (400, "SerializationException".to_string()));
        let auth = auth("AKIDMANAGEMENT", "us-east-1", "organizations");
        let unknown = crate::wire::test_http::request(
            mock.addr(),
            "POST",
            "/",
            &[
                ("Authorization", &auth),
                (
                    "X-Amz-Target",
                    "AWSOrganizationsV20161128.DescribeOrganization",
                ),
            ],
            "{}",
        )
        .await;
        assert_eq!(
            code(&unknown),
            (400, "UnknownOperationException".to_string())
        );

        // Without [aws.organization] nobody is in an organisation.
        let plain = crate::World::from_toml(
            "[[aws.accounts]]\nid = \"111122223333\"\nregions = [\"us-east-1\"]\n",
        )
        .unwrap();
        let mock = MockCloud::start(plain).await.unwrap();
        let reply = list_accounts(&mock, "AKIDANY", "{}").await;
        assert_eq!(
            code(&reply),
            (400, "AWSOrganizationsNotInUseException".to_string())
        );
    }

    #[tokio::test]
    async fn list_accounts_faults_use_organizations_codes() {
        let faults = format!(
            r#"
[[aws.faults]]
account = "{MANAGEMENT}"
action = "ListAccounts"
kind = "throttled"
times = 2
[[aws.faults]]
account = "{MEMBER}"
action = "ListAccounts"
kind = "failing"
"#
        );
        let mock = MockCloud::start(world(&faults)).await.unwrap();
        for _ in 0..2 {
            let reply = list_accounts(&mock, "AKIDMANAGEMENT", "{}").await;
            assert_eq!(reply.status, 400);
            assert_eq!(reply.json()["__type"], "TooManyRequestsException");
        }
        assert_eq!(
            list_accounts(&mock, "AKIDMANAGEMENT", "{}").await.status,
            200
        );

        for (kind, status, code) in [
            ("denied", 400, "AccessDeniedException"),
            ("failing", 500, "ServiceException"),
        ] {
            let mock = MockCloud::start(world(&format!(
                "[[aws.faults]]\naccount = \"{MANAGEMENT}\"\naction = \"ListAccounts\"\nkind = \"{kind}\"\n"
            )))
            .await
            .unwrap();
            let reply = list_accounts(&mock, "AKIDMANAGEMENT", "{}").await;
            assert_eq!(
                (reply.status, reply.json()["__type"].clone()),
                (status, json!(code))
            );
        }

        let mock = MockCloud::start(world(
            "[[aws.faults]]\naction = \"ListAccounts\"\nkind = \"token-loop\"\n",
        ))
        .await
        .unwrap();
        let first = list_accounts(&mock, "AKIDMANAGEMENT", "{}").await.json();
        let body = json!({ "NextToken": first["NextToken"] }).to_string();
        let second = list_accounts(&mock, "AKIDMANAGEMENT", &body).await.json();
        assert_eq!(first, second);

        let mock = MockCloud::start(world(
            "[[aws.faults]]\naction = \"ListAccounts\"\nkind = \"malformed\"\n",
        ))
        .await
        .unwrap();
        let reply = list_accounts(&mock, "AKIDMANAGEMENT", "{}").await;
        assert_eq!(reply.status, 200);
        assert!(serde_json::from_str::<Value>(&reply.body).is_err());

        let mock = MockCloud::start(world(
            "[[aws.faults]]\naction = \"ListAccounts\"\nkind = \"slow\"\nms = 150\n",
        ))
        .await
        .unwrap();
        let started = Instant::now();
        assert_eq!(
            list_accounts(&mock, "AKIDMANAGEMENT", "{}").await.status,
            200
        );
        assert!(started.elapsed() >= Duration::from_millis(150));
        let mock = MockCloud::start(world(
            "[[aws.faults]]\naction = \"ListAccounts\"\nkind = \"hang\"\n",
        ))
        .await
        .unwrap();
        let hung = tokio::time::timeout(
            Duration::from_millis(300),
            list_accounts(&mock, "AKIDMANAGEMENT", "{}"),
        )
        .await;
        assert!(hung.is_err(), "a hanging ListAccounts answered");
        // An EC2 fault leaves Organizations alone.
        let mock = MockCloud::start(world(
            "[[aws.faults]]\naction = \"DescribeTrafficMirrorSessions\"\nkind = \"denied\"\n",
        ))
        .await
        .unwrap();
        assert_eq!(
            list_accounts(&mock, "AKIDMANAGEMENT", "{}").await.status,
            200
        );
    }
}
