//! Cloud Resource Manager v3 search (`GET /v3/projects:search`, `GET /v3/folders:search`), as
//! google-cloud-resourcemanager-v3 1.14 (`Projects::search_projects`,
//! `Folders::search_folders`) calls it: `query`, `pageToken` and `pageSize` as query
//! parameters (the SDK always sends all three, empty or 0 when unset, plus
//! `$alt=json;enum-encoding=int`), bearer authentication, and
//! `{"projects":[…],"nextPageToken":…}` / `{"folders":[…],"nextPageToken":…}` answers in proto3
//! JSON (camelCase; `state` is a number when the client asks for `enum-encoding=int`, as the
//! SDK does, and a name otherwise). Errors are the gRPC status transcoded to JSON,
//! `{"error":{"code","message","status","details"}}`, with a `google.rpc.BadRequest` or
//! `google.rpc.ErrorInfo` detail.
//!
//! The world's hierarchy is `[gcp.organization]`, `[[gcp.folders]]` and the `parent`,
//! `number` and `state` of `[[gcp.projects]]`; search shows every project and folder of the
//! world, another organisation's projects included (callers filter by subtree), in world
//! order.
//!
//! The query grammar is a strict subset of the real one: whitespace-separated terms, all of
//! which must hold (an upper-case `AND` between terms is accepted and changes nothing), each
//! `key:value` or `key=value` with the key case-insensitive and the value optionally
//! double-quoted:
//!
//! | Term | Matches |
//! |---|---|
//! | `state:ACTIVE`, `state:DELETE_REQUESTED` (also `lifecycleState`; value any case) | the lifecycle state |
//! | `parent:organizations/N`, `parent:folders/N` | the *direct* parent only, as the real API |
//! | `id:X` (also `projectId`; projects only) | the project id, any case |
//!
//! An empty query matches everything. Any other term (other keys such as `displayName` or
//! `labels.*`, wildcards, `OR`, `NOT`, a malformed parent) is a 400 `INVALID_ARGUMENT` naming
//! the term, so a query the real service would read differently fails loudly here. The real
//! documentation is itself ambiguous about several terms (the SearchProjects comment says
//! results "match any of the fields", its examples read as conjunctions): a caller should send
//! one `parent:` term (optionally with `state:ACTIVE`) and not lean on how terms combine.
//!
//! Paging: `pageSize` 0 or absent means the default, 50 (the API documents only "the server
//! picks an appropriate default"; 50 is the mock's choice), values above 500 are cut to 500,
//! smaller ones are honoured, and, as on every listing of the mock, `[settings] page_size`
//! caps the page so that paging is exercised. Page tokens are opaque, name an offset and are
//! bound to the search kind and query; one the mock did not issue (or replayed with another
//! query) is a 400 `INVALID_ARGUMENT`. The last page has no `nextPageToken`.
//!
//! Faults (`[[gcp.faults]]`) apply when they name the action, `projects.search` or
//! `folders.search` (whatever their `account`: the calls belong to no project): `denied` (403
//! `PERMISSION_DENIED`), `throttled` (429 `RESOURCE_EXHAUSTED`, `times` times), `failing` (500
//! `INTERNAL`), `slow` (`ms` of added latency), `malformed` (a truncated body), `hang` and
//! `token-loop` (every page hands out the token of the first page).

use crate::gcp::{has_bearer, unauthenticated};
use crate::wire::{json_response, matches_unscoped, page_offset, page_token, param};
use crate::world::{FaultKind, GcpState, World};
use crate::{MockState, RequestRecord};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const CONTENT_TYPE: &str = "application/json; charset=UTF-8";
const SERVICE: &str = "cloudresourcemanager.googleapis.com";
/// The page size when the request gives none (the API leaves it to the server).
const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page the mock serves; larger requests get this many.
const MAX_PAGE_SIZE: usize = 500;
/// `createTime` (and a folder's `updateTime`) of every resource: the world has no history.
const CREATED: &str = "2026-10-01T16:00:00.000Z";
/// `deleteTime` of a resource in `DELETE_REQUESTED`.
const DELETE_REQUESTED_AT: &str = "2026-11-20T16:00:00.000Z";

/// The two searches; `action` doubles as the fault action.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Search {
    Projects,
    Folders,
}

impl Search {
    fn action(self) -> &'static str {
        match self {
            Search::Projects => "projects.search",
            Search::Folders => "folders.search",
        }
    }

    /// The response's list field, and the page-token kind.
    fn field(self) -> &'static str {
        match self {
            Search::Projects => "projects",
            Search::Folders => "folders",
        }
    }

    /// The permission search filters on (a `denied` fault names it).
    fn permission(self) -> &'static str {
        match self {
            Search::Projects => "resourcemanager.projects.get",
            Search::Folders => "resourcemanager.folders.get",
        }
    }
}

/// A gRPC status as Google's JSON transcoding writes it.
fn rm_error(code: u16, status: &str, message: &str, details: Vec<Value>) -> Response {
    let mut error = json!({ "code": code, "message": message, "status": status });
    if !details.is_empty() {
        error["details"] = json!(details);
    }
    json_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        CONTENT_TYPE,
        &[],
        json!({ "error": error }).to_string(),
    )
}

/// 400 `INVALID_ARGUMENT` with a `BadRequest` detail naming the request field.
fn invalid(field: &str, message: &str) -> Response {
    rm_error(
        400,
        "INVALID_ARGUMENT",
        message,
        vec![json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{ "field": field, "description": message }],
        })],
    )
}

fn error_info(reason: &str, domain: &str, metadata: Value) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": domain,
        "metadata": metadata,
    })
}

/// `GET /v3/projects:search`
pub async fn search_projects(
    State(state): State<Arc<MockState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(&state, Search::Projects, query, &headers).await
}

/// `GET /v3/folders:search`
pub async fn search_folders(
    State(state): State<Arc<MockState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(&state, Search::Folders, query, &headers).await
}

/// The shared flow of both searches: record, authenticate, inject faults, read the
/// parameters, then serve one page of matches.
async fn search(
    state: &MockState,
    search: Search,
    raw_query: Option<String>,
    headers: &HeaderMap,
) -> Response {
    let params = crate::wire::query_params(raw_query.as_deref());
    // Recorded before authentication so tests can see requests that carried no token.
    state.record(RequestRecord {
        service: "resourcemanager".to_string(),
        action: search.action().to_string(),
        account: String::new(),
        region: String::new(),
        params: params.clone(),
    });
    if !has_bearer(headers) {
        return unauthenticated();
    }

    let mut token_loop = false;
    for (index, fault) in state.world.gcp.faults.iter().enumerate() {
        if !matches_unscoped(fault, search.action()) {
            continue;
        }
        match fault.kind {
            FaultKind::Denied => {
                return rm_error(
                    403,
                    "PERMISSION_DENIED",
                    "The caller does not have permission",
                    vec![error_info(
                        "IAM_PERMISSION_DENIED",
                        "iam.googleapis.com",
                        json!({ "permission": search.permission() }),
                    )],
                )
            }
            FaultKind::Throttled => {
                if state.hit("gcp", index) < fault.times.unwrap_or(1) {
                    return rm_error(
                        429,
                        "RESOURCE_EXHAUSTED",
                        &format!("Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service '{SERVICE}' for consumer 'project_number:000000000000'."),
                        vec![error_info(
                            "RATE_LIMIT_EXCEEDED",
                            "googleapis.com",
                            json!({ "service": SERVICE, "consumer": "projects/000000000000" }),
                        )],
                    );
                }
            }
            FaultKind::Failing => {
                if fault.times.is_none_or(|t| state.hit("gcp", index) < t) {
                    return rm_error(500, "INTERNAL", "Internal error encountered.", Vec::new());
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
                    format!(r#"{{"{}":[{{"name":"#, search.field()),
                )
            }
            FaultKind::Hang => tokio::time::sleep(Duration::from_secs(24 * 3600)).await,
            FaultKind::TokenLoop => token_loop = true,
        }
    }

    let text = param(&params, "query").unwrap_or("");
    let terms = match parse_query(search, text) {
        Ok(terms) => terms,
        Err(message) => return invalid("query", &message),
    };
    let requested = match param(&params, "pageSize").filter(|v| !v.is_empty()) {
        None => 0,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            Ok(n) => {
                return invalid(
                    "page_size",
                    &format!("Invalid page_size {n}: must not be negative"),
                )
            }
            Err(_) => {
                return invalid(
                    "page_size",
                    &format!("Invalid value at 'page_size' (TYPE_INT32), \"{raw}\""),
                )
            }
        },
    };
    let size = match requested {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
    .min(state.world.settings.page_size.max(1));
    let kind = format!("resourcemanager-{}", search.field());
    let offset = match param(&params, "pageToken").filter(|v| !v.is_empty()) {
        None => 0,
        Some(token) => match page_offset(&kind, token, text) {
            Some(offset) => offset,
            None => {
                let what = search.field();
                let message = format!(
                    "Invalid page token '{token}': not issued for this {what} search and query"
                );
                return invalid("page_token", &message);
            }
        },
    };
    let offset = if token_loop { 0 } else { offset };

    let world = &state.world;
    let matches: Vec<Value> = match search {
        Search::Projects => world
            .gcp
            .projects
            .iter()
            .filter(|p| {
                let parent = world.gcp_project_parent(p);
                terms
                    .iter()
                    .all(|t| t.matches(p.state, parent.as_deref(), Some(&p.id)))
            })
            .map(|p| project_json(world, p, &params))
            .collect(),
        Search::Folders => world
            .gcp
            .folders
            .iter()
            .filter(|f| {
                terms
                    .iter()
                    .all(|t| t.matches(f.state, Some(&f.parent), None))
            })
            .map(|f| folder_json(f, &params))
            .collect(),
    };
    let end = (offset + size).min(matches.len());
    let start = offset.min(end);
    let mut body = json!({ search.field(): matches[start..end] });
    if token_loop {
        body["nextPageToken"] = json!(page_token(&kind, 0, text));
    } else if end < matches.len() {
        body["nextPageToken"] = json!(page_token(&kind, end, text));
    }
    json_response(StatusCode::OK, CONTENT_TYPE, &[], body.to_string())
}

// ---------------------------------------------------------------- query

/// One supported query term.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    State(GcpState),
    /// The direct parent, lower-cased (`organizations/N`, `folders/N`).
    Parent(String),
    /// A project id, lower-cased.
    Id(String),
}

impl Term {
    fn matches(&self, state: GcpState, parent: Option<&str>, id: Option<&str>) -> bool {
        match self {
            Term::State(s) => *s == state,
            Term::Parent(p) => parent.is_some_and(|parent| parent.eq_ignore_ascii_case(p)),
            Term::Id(x) => id.is_some_and(|id| id.eq_ignore_ascii_case(x)),
        }
    }
}

/// Parses `query` into terms that must all hold, or the message of the 400 naming the first
/// term the mock does not support.
fn parse_query(search: Search, query: &str) -> Result<Vec<Term>, String> {
    let mut terms = Vec::new();
    for word in query.split_whitespace() {
        if word == "AND" {
            continue;
        }
        let unsupported = |why: &str| {
            let keys = match search {
                Search::Projects => "state:, parent: and id:",
                Search::Folders => "state: and parent:",
            };
            format!(
                "Invalid query: unsupported term '{word}' ({why}; the mock supports {keys} terms joined by whitespace or AND)"
            )
        };
        let Some(at) = word.find([':', '=']) else {
            return Err(unsupported("not a key:value term"));
        };
        let key = word[..at].to_ascii_lowercase();
        let raw = &word[at + 1..];
        let value = raw
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(raw);
        if value.is_empty() {
            return Err(unsupported("empty value"));
        }
        if value.contains(['*', '"', '(', ')']) {
            return Err(unsupported(
                "wildcards and quoting inside values are not supported",
            ));
        }
        let term = match key.as_str() {
            "state" | "lifecyclestate" => match value.to_ascii_uppercase().as_str() {
                "ACTIVE" => Term::State(GcpState::Active),
                "DELETE_REQUESTED" => Term::State(GcpState::DeleteRequested),
                _ => return Err(unsupported("state is ACTIVE or DELETE_REQUESTED")),
            },
            "parent" => {
                let value = value.to_ascii_lowercase();
                if crate::world::parse_gcp_parent(&value).is_none() {
                    return Err(unsupported("parent is organizations/N or folders/N"));
                }
                Term::Parent(value)
            }
            "id" | "projectid" if search == Search::Projects => {
                Term::Id(value.to_ascii_lowercase())
            }
            _ => return Err(unsupported("unknown key")),
        };
        terms.push(term);
    }
    Ok(terms)
}

// ---------------------------------------------------------------- rendering

/// Whether the client asked for enum numbers (`$alt=json;enum-encoding=int`).
fn int_enums(params: &[(String, String)]) -> bool {
    param(params, "$alt").is_some_and(|alt| {
        alt.split(';')
            .any(|part| part.trim().eq_ignore_ascii_case("enum-encoding=int"))
    })
}

fn state_json(state: GcpState, params: &[(String, String)]) -> Value {
    if int_enums(params) {
        json!(state.number())
    } else {
        json!(state.as_str())
    }
}

/// A weak etag derived from what the resource says, so it changes when the world does.
fn etag(key: &str) -> String {
    format!(
        "W/\"{:016x}\"",
        crate::wire::mix(crate::wire::fnv64(6, key.as_bytes()))
    )
}

/// A `Project`; `parent` is left out for a project without one (proto3 JSON omits empty
/// strings), `deleteTime` is there only in `DELETE_REQUESTED`.
fn project_json(
    world: &World,
    project: &crate::world::GcpProject,
    params: &[(String, String)],
) -> Value {
    let parent = world.gcp_project_parent(project);
    let display_name = project.display_name.as_deref().unwrap_or(&project.id);
    let number = project.number();
    let mut value = json!({
        "name": format!("projects/{number}"),
        "projectId": project.id,
        "state": state_json(project.state, params),
        "displayName": display_name,
        "createTime": CREATED,
        "etag": etag(&format!(
            "project/{number}/{}/{parent:?}/{display_name}/{}",
            project.id,
            project.state.as_str()
        )),
    });
    if let Some(parent) = parent {
        value["parent"] = json!(parent);
    }
    if project.state == GcpState::DeleteRequested {
        value["deleteTime"] = json!(DELETE_REQUESTED_AT);
    }
    value
}

/// A `Folder`.
fn folder_json(folder: &crate::world::GcpFolder, params: &[(String, String)]) -> Value {
    let mut value = json!({
        "name": format!("folders/{}", folder.id),
        "parent": folder.parent,
        "displayName": folder.display_name,
        "state": state_json(folder.state, params),
        "createTime": CREATED,
        "updateTime": CREATED,
        "etag": etag(&format!(
            "folder/{}/{}/{}/{}",
            folder.id,
            folder.parent,
            folder.display_name,
            folder.state.as_str()
        )),
    });
    if folder.state == GcpState::DeleteRequested {
        value["deleteTime"] = json!(DELETE_REQUESTED_AT);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_http::{request, Reply};
    use crate::MockCloud;

    /// Five projects (one in a folder, one of another organisation, one marked for deletion)
    /// and three folders, `extra` appended.
    fn world(extra: &str) -> World {
        World::from_toml(&format!(
            r#"
[settings]
page_size = 50
[gcp.organization]
id = "123456789012"
[[gcp.folders]]
id = "111"
display_name = "prod"
parent = "organizations/123456789012"
[[gcp.folders]]
id = "222"
display_name = "prod-eu"
parent = "folders/111"
[[gcp.folders]]
id = "333"
display_name = "attic"
parent = "organizations/123456789012"
state = "DELETE_REQUESTED"
[[gcp.projects]]
id = "acme-prod"
regions = []
parent = "folders/111"
number = 415104041262
display_name = "Acme prod"
[[gcp.projects]]
id = "acme-eu"
regions = []
parent = "folders/222"
[[gcp.projects]]
id = "acme-root"
regions = []
[[gcp.projects]]
id = "acme-old"
regions = []
state = "DELETE_REQUESTED"
[[gcp.projects]]
id = "partner-shared"
regions = []
parent = "organizations/999999999999"
{extra}
"#
        ))
        .expect("world parses")
    }

    async fn get(mock: &MockCloud, target: &str) -> Reply {
        let auth = [("Authorization", "Bearer ya29.mock-test")];
        request(mock.addr(), "GET", target, &auth, "").await
    }

    /// Every page of a search, the way the SDK asks: all three parameters, empty or 0 when
    /// unset, and `$alt=json;enum-encoding=int`.
    async fn pages(mock: &MockCloud, collection: &str, query: &str, size: u32) -> Vec<Value> {
        let query = crate::wire::percent_encode(query);
        let mut out = Vec::new();
        let mut token = String::new();
        for _ in 0..20 {
            let reply = get(
                mock,
                &format!("/v3/{collection}:search?query={query}&pageToken={token}&pageSize={size}&%24alt=json%3Benum-encoding%3Dint"),
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

    /// The `field` of every item across `pages`.
    fn all(pages: &[Value], collection: &str, field: &str) -> Vec<String> {
        pages
            .iter()
            .flat_map(|p| p[collection].as_array().unwrap().clone())
            .map(|item| item[field].as_str().unwrap().to_string())
            .collect()
    }

    fn status(reply: &Reply) -> String {
        reply.json()["error"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    #[tokio::test]
    async fn projects_page_across_three_pages() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let pages = pages(&mock, "projects", "", 2).await;
        assert_eq!(pages.len(), 3);
        assert_eq!(
            pages
                .iter()
                .map(|p| p["projects"].as_array().unwrap().len())
                .collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert!(pages[2].get("nextPageToken").is_none());
        assert_eq!(
            all(&pages, "projects", "projectId"),
            [
                "acme-prod",
                "acme-eu",
                "acme-root",
                "acme-old",
                "partner-shared"
            ]
        );
        let prod = &pages[0]["projects"][0];
        assert_eq!(prod["name"], "projects/415104041262");
        assert_eq!(prod["parent"], "folders/111");
        assert_eq!(prod["displayName"], "Acme prod");
        // The SDK asks for enum numbers: ACTIVE is 1.
        assert_eq!(prod["state"], 1);
        assert!(prod["etag"].as_str().unwrap().starts_with("W/\""));
        let root = &pages[1]["projects"][0];
        assert_eq!(root["parent"], "organizations/123456789012");
        assert_eq!(root["displayName"], "acme-root");
        let derived = mock.world().gcp_project_number("acme-root");
        assert_eq!(root["name"], format!("projects/{derived}"));
        assert_eq!(derived.to_string().len(), 12);
        let old = &pages[1]["projects"][1];
        assert_eq!(old["state"], 2);
        assert!(old.get("deleteTime").is_some());
        assert_eq!(
            pages[2]["projects"][0]["parent"],
            "organizations/999999999999"
        );

        // Without enum-encoding=int, states are names; without pageSize, the world's
        // page_size (here 50) caps the default of 50: one page.
        let plain = get(&mock, "/v3/projects:search").await.json();
        assert_eq!(plain["projects"].as_array().unwrap().len(), 5);
        assert_eq!(plain["projects"][0]["state"], "ACTIVE");
        assert!(plain.get("nextPageToken").is_none());

        let log = mock.requests();
        let first = log.iter().find(|r| r.service == "resourcemanager").unwrap();
        assert_eq!(first.action, "projects.search");
        assert!(first
            .params
            .contains(&("pageSize".to_string(), "2".to_string())));
    }

    #[tokio::test]
    async fn the_worlds_page_size_caps_every_page() {
        let small = World::from_toml(
            "[[gcp.projects]]\nid = \"a\"\nregions = []\n[[gcp.projects]]\nid = \"b\"\nregions = []\n[[gcp.projects]]\nid = \"c\"\nregions = []\n",
        )
        .unwrap();
        let mock = MockCloud::start(small).await.unwrap();
        // settings.page_size defaults to 2, whatever the client asks for.
        let pages = pages(&mock, "projects", "", 1000).await;
        assert_eq!(pages.len(), 2);
        // No organisation: projects have no parent, and an empty query still finds them.
        assert!(pages[0]["projects"][0].get("parent").is_none());
    }

    #[tokio::test]
    async fn state_active_keeps_only_active_resources() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let active = pages(&mock, "projects", "state:ACTIVE", 0).await;
        assert_eq!(
            all(&active, "projects", "projectId"),
            ["acme-prod", "acme-eu", "acme-root", "partner-shared"]
        );
        let deleted = pages(&mock, "projects", "lifecycleState=delete_requested", 0).await;
        assert_eq!(all(&deleted, "projects", "projectId"), ["acme-old"]);
        let folders = pages(&mock, "folders", "state=ACTIVE", 0).await;
        assert_eq!(
            all(&folders, "folders", "name"),
            ["folders/111", "folders/222"]
        );
        let by_id = pages(&mock, "projects", "id:ACME-EU state:ACTIVE", 0).await;
        assert_eq!(all(&by_id, "projects", "projectId"), ["acme-eu"]);
    }

    #[tokio::test]
    async fn parent_matches_the_direct_parent_only() {
        let mock = MockCloud::start(world("")).await.unwrap();
        // acme-eu is under folders/222, itself under folders/111: not a direct child.
        let in_prod = pages(&mock, "projects", "parent:folders/111", 0).await;
        assert_eq!(all(&in_prod, "projects", "projectId"), ["acme-prod"]);
        let at_root = pages(
            &mock,
            "projects",
            "parent=organizations/123456789012 AND state:ACTIVE",
            0,
        )
        .await;
        assert_eq!(all(&at_root, "projects", "projectId"), ["acme-root"]);
        let elsewhere = pages(&mock, "projects", "parent:organizations/999999999999", 0).await;
        assert_eq!(all(&elsewhere, "projects", "projectId"), ["partner-shared"]);
        let folders = pages(&mock, "folders", "parent:\"folders/111\"", 0).await;
        assert_eq!(all(&folders, "folders", "displayName"), ["prod-eu"]);
        let top = pages(&mock, "folders", "parent=organizations/123456789012", 0).await;
        assert_eq!(all(&top, "folders", "name"), ["folders/111", "folders/333"]);
        assert_eq!(top[0]["folders"][1]["state"], 2);
        let none = pages(&mock, "folders", "parent:folders/222", 0).await;
        assert_eq!(none.len(), 1);
        assert_eq!(none[0]["folders"], json!([]));
    }

    #[tokio::test]
    async fn unknown_terms_are_invalid_argument() {
        let mock = MockCloud::start(world("")).await.unwrap();
        for (collection, query, named) in [
            ("projects", "displayName:prod", "displayName:prod"),
            ("projects", "state:ACTIVE OR state:DELETE_REQUESTED", "OR"),
            ("projects", "parent:folders/*", "parent:folders/*"),
            ("projects", "parent:projects/1", "parent:projects/1"),
            ("projects", "state:GONE", "state:GONE"),
            ("projects", "labels.env:prod", "labels.env:prod"),
            ("folders", "id:111", "id:111"),
        ] {
            let reply = get(
                &mock,
                &format!(
                    "/v3/{collection}:search?query={}",
                    crate::wire::percent_encode(query)
                ),
            )
            .await;
            assert_eq!(reply.status, 400, "{query}: {}", reply.body);
            assert_eq!(status(&reply), "INVALID_ARGUMENT");
            let error = &reply.json()["error"];
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("'{named}'")),
                "{query}: {error}"
            );
            assert_eq!(error["code"], 400);
            assert_eq!(
                error["details"][0]["@type"],
                "type.googleapis.com/google.rpc.BadRequest"
            );
            assert_eq!(error["details"][0]["fieldViolations"][0]["field"], "query");
        }
        let negative = get(&mock, "/v3/projects:search?pageSize=-1").await;
        assert_eq!(negative.status, 400);
    }

    #[tokio::test]
    async fn page_tokens_the_mock_did_not_issue_are_invalid_argument() {
        let mock = MockCloud::start(world("")).await.unwrap();
        let first = get(&mock, "/v3/projects:search?pageSize=2").await.json();
        let token = first["nextPageToken"].as_str().unwrap().to_string();
        let ok = get(
            &mock,
            &format!("/v3/projects:search?pageSize=2&pageToken={token}"),
        )
        .await;
        assert_eq!(ok.status, 200);
        for target in [
            "/v3/projects:search?pageToken=bogus".to_string(),
            // Another query, or the other search, with a real token.
            format!("/v3/projects:search?query=state%3AACTIVE&pageToken={token}"),
            format!("/v3/folders:search?pageToken={token}"),
        ] {
            let reply = get(&mock, &target).await;
            assert_eq!(reply.status, 400, "{target}: {}", reply.body);
            assert_eq!(status(&reply), "INVALID_ARGUMENT");
            assert_eq!(
                reply.json()["error"]["details"][0]["fieldViolations"][0]["field"],
                "page_token"
            );
        }
    }

    #[tokio::test]
    async fn faults_apply_by_action() {
        let mock = MockCloud::start(world(
            r#"
[[gcp.faults]]
action = "projects.search"
kind = "throttled"
times = 1
[[gcp.faults]]
account = "acme-prod"
action = "folders.search"
kind = "denied"
[[gcp.faults]]
account = "acme-prod"
kind = "failing"
"#,
        ))
        .await
        .unwrap();
        let anonymous = request(mock.addr(), "GET", "/v3/projects:search", &[], "").await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(status(&anonymous), "UNAUTHENTICATED");
        let throttled = get(&mock, "/v3/projects:search").await;
        assert_eq!(throttled.status, 429);
        assert_eq!(status(&throttled), "RESOURCE_EXHAUSTED");
        assert_eq!(
            throttled.json()["error"]["details"][0]["reason"],
            "RATE_LIMIT_EXCEEDED"
        );
        // Throttled once, then served; the catch-all `failing` fault (no action) is for the
        // project's own calls, not for search.
        assert_eq!(get(&mock, "/v3/projects:search").await.status, 200);
        let denied = get(&mock, "/v3/folders:search").await;
        assert_eq!(denied.status, 403);
        assert_eq!(status(&denied), "PERMISSION_DENIED");
        assert_eq!(
            denied.json()["error"]["details"][0]["metadata"]["permission"],
            "resourcemanager.folders.get"
        );

        for (kind, code, name) in [
            ("failing", 500, "INTERNAL"),
            ("denied", 403, "PERMISSION_DENIED"),
        ] {
            let mock = MockCloud::start(world(&format!(
                "[[gcp.faults]]\naction = \"projects.search\"\nkind = \"{kind}\"\n"
            )))
            .await
            .unwrap();
            let reply = get(&mock, "/v3/projects:search").await;
            assert_eq!((reply.status, status(&reply)), (code, name.to_string()));
            assert_eq!(get(&mock, "/v3/folders:search").await.status, 200);
        }
        let mock = MockCloud::start(world(
            "[[gcp.faults]]\naction = \"projects.search\"\nkind = \"token-loop\"\n",
        ))
        .await
        .unwrap();
        let first = get(&mock, "/v3/projects:search?pageSize=2").await.json();
        let token = first["nextPageToken"].as_str().unwrap();
        let second = get(
            &mock,
            &format!("/v3/projects:search?pageSize=2&pageToken={token}"),
        )
        .await
        .json();
        assert_eq!(first, second);
        let mock = MockCloud::start(world(
            "[[gcp.faults]]\naction = \"folders.search\"\nkind = \"malformed\"\n[[gcp.faults]]\naction = \"projects.search\"\nkind = \"slow\"\nms = 200\n",
        ))
        .await
        .unwrap();
        let reply = get(&mock, "/v3/folders:search").await;
        assert_eq!(reply.status, 200);
        assert!(serde_json::from_str::<Value>(&reply.body).is_err());
        let started = std::time::Instant::now();
        assert_eq!(get(&mock, "/v3/projects:search").await.status, 200);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[test]
    fn queries_parse_strictly() {
        use GcpState::*;
        assert_eq!(parse_query(Search::Projects, "  "), Ok(Vec::new()));
        assert_eq!(
            parse_query(
                Search::Projects,
                "STATE:active AND Parent=Folders/7 projectId:X"
            ),
            Ok(vec![
                Term::State(Active),
                Term::Parent("folders/7".to_string()),
                Term::Id("x".to_string()),
            ])
        );
        for bad in [
            "and",
            "NOT state:ACTIVE",
            "state:",
            "parent:folders/",
            "name:x",
            "id",
        ] {
            assert!(parse_query(Search::Projects, bad).is_err(), "{bad}");
        }
        assert!(parse_query(Search::Folders, "projectId:x").is_err());
    }
}
