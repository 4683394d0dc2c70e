//! The conformance harness every provider adapter must pass, written once and instantiated per
//! provider with [`conformance!`]: multi-page listings, each fault kind the provider supports
//! turned into the right coverage row (with the provider's own error code), retries on the
//! provider's real throttling signal, the per-call timeout, malformed bodies, pagination loops,
//! and every neutral field filled in.
//!
//! A provider joins by implementing [`Fixture`] (a world with several pages in one scope and one
//! mirror in another, faults aimed at a scope, and the provider's error codes) and adding one
//! `conformance!` line at the bottom.

use crate::support::{home_with_allowlist, scan, Run, TestCloud};
use serde_json::Value;

/// The faults the mock can inject; a provider declares which apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Denied,
    /// The provider's throttling signal, `times` times, then success.
    Throttled {
        times: u32,
    },
    Failing,
    Malformed,
    Hang,
    TokenLoop,
    /// A delay of `ms` before every answer of the scope.
    Slow {
        ms: u64,
    },
}

impl Fault {
    fn kind(self) -> &'static str {
        match self {
            Fault::Denied => "denied",
            Fault::Throttled { .. } => "throttled",
            Fault::Failing => "failing",
            Fault::Malformed => "malformed",
            Fault::Hang => "hang",
            Fault::TokenLoop => "token-loop",
            Fault::Slow { .. } => "slow",
        }
    }

    /// The fault's extra world keys (`times`, `ms`).
    fn extra_keys(self) -> String {
        match self {
            Fault::Throttled { times } => format!("times = {times}\n"),
            Fault::Slow { ms } => format!("ms = {ms}\n"),
            _ => String::new(),
        }
    }
}

/// Which scope a fault is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeId {
    /// Holds [`Fixture::PAGED_MIRRORS`] mirrors, several pages at the mock's page size.
    Paged,
    /// Holds one mirror.
    Single,
}

/// What the harness needs to know about one provider.
pub trait Fixture {
    /// Mirrors in the paged scope (at least three pages' worth).
    const PAGED_MIRRORS: usize;
    /// The provider's code for a refusal, as it must open the coverage detail.
    const DENIED_CODE: &'static str;
    /// The provider's throttling code, as it opens the detail when retries run out.
    const THROTTLED_CODE: &'static str;
    /// The provider's server-error code.
    const SERVER_ERROR_CODE: &'static str;

    /// A world with the two scopes, and `fault` (if any) aimed at `scope`.
    fn world(fault: Option<(Fault, ScopeId)>) -> String;
    /// An allowlist approving every mirror of [`Fixture::world`], so a clean scan exits 0.
    fn allowlist() -> String;
    /// Extra `scan` arguments that select this provider.
    fn args() -> Vec<String>;
    /// Whether the mock can inject this fault for the provider (a file has no throttling).
    fn supports(fault: Fault) -> bool;
    /// The coverage row of a scope.
    fn row(report: &Value, scope: ScopeId) -> Value;
    /// The mirrors that belong to a scope.
    fn mirrors_in(report: &Value, scope: ScopeId) -> Vec<Value>;
    /// Listing requests the mock served for the paged scope's mirrors.
    fn listing_requests(cloud: &TestCloud, scope: ScopeId) -> usize;
}

fn run<F: Fixture>(fault: Option<(Fault, ScopeId)>, extra: &[&str]) -> (TestCloud, Run) {
    let cloud = TestCloud::start(&F::world(fault));
    let (home, _) = home_with_allowlist(&F::allowlist());
    let mut args: Vec<String> = F::args();
    args.extend(["--format".to_string(), "json".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = scan(&cloud, home.path(), &args);
    if let Ok(report) = serde_json::from_str::<Value>(&run.stdout) {
        exactly_one_row_per_scope(&report);
    }
    (cloud, run)
}

/// CONTRACTS §1: every scope ends in exactly one coverage row, whatever happened to it.
fn exactly_one_row_per_scope(report: &Value) {
    let mut seen = std::collections::HashSet::new();
    for row in report["coverage"].as_array().expect("coverage") {
        let key = (
            row["provider"].to_string(),
            row["account"].to_string(),
            row["region"].to_string(),
        );
        assert!(seen.insert(key), "two rows for one scope: {row}");
    }
}

fn detail(row: &Value) -> &str {
    row["detail"].as_str().unwrap_or_default()
}

pub fn lists_every_page<F: Fixture>() {
    let (cloud, run) = run::<F>(None, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    assert_eq!(
        F::mirrors_in(&report, ScopeId::Paged).len(),
        F::PAGED_MIRRORS
    );
    assert_eq!(F::mirrors_in(&report, ScopeId::Single).len(), 1);
    assert!(
        F::listing_requests(&cloud, ScopeId::Paged) >= 3,
        "the paged scope takes at least three pages"
    );
    for scope in [ScopeId::Paged, ScopeId::Single] {
        let row = F::row(&report, scope);
        assert_eq!(row["status"], "scanned", "{row}");
        assert_eq!(row["detail"], Value::Null, "{row}");
    }
}

pub fn fills_every_neutral_field<F: Fixture>() {
    let (_cloud, run) = run::<F>(None, &[]);
    let report = run.json();
    let mirrors = report["mirrors"].as_array().expect("mirrors");
    assert!(!mirrors.is_empty());
    for m in mirrors {
        for field in ["provider", "account", "id", "kind", "verdict"] {
            assert!(
                m[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field} empty in {m:#}"
            );
        }
        assert!(m["enabled"].is_boolean(), "{m:#}");
        let sources = m["sources"].as_array().expect("sources");
        assert!(!sources.is_empty(), "{m:#}");
        for source in sources {
            assert!(
                source["kind"].as_str().is_some_and(|v| !v.is_empty()),
                "{m:#}"
            );
            assert!(
                source["id"].as_str().is_some_and(|v| !v.is_empty()),
                "{m:#}"
            );
        }
        let target = &m["target"];
        assert!(
            target["id"].as_str().is_some_and(|v| !v.is_empty()),
            "{m:#}"
        );
        assert!(
            target["kind"]
                .as_str()
                .is_some_and(|v| !v.is_empty() && v != "unresolved"),
            "{m:#}"
        );
        assert!(
            target["owner"].as_str().is_some_and(|v| !v.is_empty()),
            "{m:#}"
        );
        assert!(m["cross_account"].is_boolean(), "{m:#}");
    }
    assert!(report["identities"]
        .as_object()
        .is_some_and(|i| !i.is_empty()));
}

pub fn denied_is_a_gap_with_the_providers_code<F: Fixture>() {
    if !F::supports(Fault::Denied) {
        return;
    }
    let (_cloud, run) = run::<F>(Some((Fault::Denied, ScopeId::Single)), &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let row = F::row(&report, ScopeId::Single);
    assert_eq!(row["status"], "denied", "{row}");
    assert!(detail(&row).starts_with(F::DENIED_CODE), "{row}");
    assert_eq!(F::row(&report, ScopeId::Paged)["status"], "scanned");
    assert_eq!(
        F::mirrors_in(&report, ScopeId::Paged).len(),
        F::PAGED_MIRRORS
    );
}

pub fn throttling_is_retried_then_scanned<F: Fixture>() {
    if !F::supports(Fault::Throttled { times: 2 }) {
        return;
    }
    let (clean, _) = run::<F>(None, &[]);
    let (cloud, run) = run::<F>(Some((Fault::Throttled { times: 2 }, ScopeId::Single)), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    assert_eq!(F::row(&report, ScopeId::Single)["status"], "scanned");
    assert_eq!(F::mirrors_in(&report, ScopeId::Single).len(), 1);
    assert_eq!(
        cloud.requests().len(),
        clean.requests().len() + 2,
        "exactly the two throttled calls were retried"
    );
}

pub fn throttling_past_the_retries_is_failed<F: Fixture>() {
    if !F::supports(Fault::Throttled { times: 100 }) {
        return;
    }
    let fault = Some((Fault::Throttled { times: 100 }, ScopeId::Single));
    let (_cloud, run) = run::<F>(fault, &["--max-attempts", "2"]);
    assert_eq!(run.code, 3);
    let row = F::row(&run.json(), ScopeId::Single);
    assert_eq!(row["status"], "failed", "{row}");
    assert!(detail(&row).starts_with(F::THROTTLED_CODE), "{row}");
}

pub fn server_errors_are_failed_after_retries<F: Fixture>() {
    if !F::supports(Fault::Failing) {
        return;
    }
    let (cloud, run) = run::<F>(
        Some((Fault::Failing, ScopeId::Single)),
        &["--max-attempts", "2"],
    );
    assert_eq!(run.code, 3);
    let row = F::row(&run.json(), ScopeId::Single);
    assert_eq!(row["status"], "failed", "{row}");
    assert!(detail(&row).starts_with(F::SERVER_ERROR_CODE), "{row}");
    assert_eq!(
        F::listing_requests(&cloud, ScopeId::Single),
        2,
        "the listing was tried --max-attempts times"
    );
}

pub fn the_deadline_fails_what_is_unfinished_and_keeps_the_rest<F: Fixture>() {
    if !F::supports(Fault::Slow { ms: 5000 }) {
        return;
    }
    let fault = Some((Fault::Slow { ms: 5000 }, ScopeId::Single));
    let (_cloud, run) = run::<F>(fault, &["--deadline", "1500ms"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let row = F::row(&report, ScopeId::Single);
    assert_eq!(row["status"], "failed", "{row}");
    assert!(detail(&row).starts_with("Deadline"), "{row}");
    assert_eq!(F::row(&report, ScopeId::Paged)["status"], "scanned");
    assert_eq!(
        F::mirrors_in(&report, ScopeId::Paged).len(),
        F::PAGED_MIRRORS
    );
}

pub fn the_page_cap_is_a_failed_scope<F: Fixture>() {
    let (_cloud, run) = run::<F>(None, &["--max-pages", "2"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let row = F::row(&report, ScopeId::Paged);
    assert_eq!(row["status"], "failed", "{row}");
    assert!(detail(&row).starts_with("PageCap"), "{row}");
    assert!(!F::mirrors_in(&report, ScopeId::Paged).is_empty());
    assert_eq!(F::row(&report, ScopeId::Single)["status"], "scanned");
}

pub fn a_hang_ends_at_the_per_call_timeout<F: Fixture>() {
    if !F::supports(Fault::Hang) {
        return;
    }
    let extra = ["--timeout", "300ms", "--max-attempts", "1"];
    let (_cloud, run) = run::<F>(Some((Fault::Hang, ScopeId::Single)), &extra);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let row = F::row(&report, ScopeId::Single);
    assert_eq!(row["status"], "failed", "{row}");
    assert!(detail(&row).starts_with("Timeout"), "{row}");
    assert_eq!(F::row(&report, ScopeId::Paged)["status"], "scanned");
}

pub fn a_malformed_body_is_failed<F: Fixture>() {
    if !F::supports(Fault::Malformed) {
        return;
    }
    let (_cloud, run) = run::<F>(Some((Fault::Malformed, ScopeId::Single)), &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let row = F::row(&run.json(), ScopeId::Single);
    assert_eq!(row["status"], "failed", "{row}");
    assert!(detail(&row).starts_with("MalformedResponse"), "{row}");
}

pub fn a_pagination_loop_stops_and_keeps_what_it_saw<F: Fixture>() {
    if !F::supports(Fault::TokenLoop) {
        return;
    }
    let (cloud, run) = run::<F>(Some((Fault::TokenLoop, ScopeId::Paged)), &[]);
    assert_eq!(run.code, 3);
    let report = run.json();
    let row = F::row(&report, ScopeId::Paged);
    assert_eq!(row["status"], "failed", "{row}");
    assert!(detail(&row).starts_with("PaginationLoop"), "{row}");
    let seen = F::mirrors_in(&report, ScopeId::Paged);
    assert!(!seen.is_empty(), "the first page is kept");
    let mut ids: Vec<&str> = seen.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let count = ids.len();
    ids.dedup();
    assert_eq!(
        ids.len(),
        count,
        "each mirror once, however often the page came back"
    );
    assert!(
        F::listing_requests(&cloud, ScopeId::Paged) <= 3,
        "stopped at the repeat"
    );
}

/// Instantiates every conformance test for one provider fixture.
macro_rules! conformance {
    ($module:ident, $fixture:ty) => {
        mod $module {
            use super::*;
            #[test]
            fn lists_every_page() {
                super::lists_every_page::<$fixture>()
            }
            #[test]
            fn fills_every_neutral_field() {
                super::fills_every_neutral_field::<$fixture>()
            }
            #[test]
            fn denied_is_a_gap_with_the_providers_code() {
                super::denied_is_a_gap_with_the_providers_code::<$fixture>()
            }
            #[test]
            fn throttling_is_retried_then_scanned() {
                super::throttling_is_retried_then_scanned::<$fixture>()
            }
            #[test]
            fn throttling_past_the_retries_is_failed() {
                super::throttling_past_the_retries_is_failed::<$fixture>()
            }
            #[test]
            fn server_errors_are_failed_after_retries() {
                super::server_errors_are_failed_after_retries::<$fixture>()
            }
            #[test]
            fn a_hang_ends_at_the_per_call_timeout() {
                super::a_hang_ends_at_the_per_call_timeout::<$fixture>()
            }
            #[test]
            fn a_malformed_body_is_failed() {
                super::a_malformed_body_is_failed::<$fixture>()
            }
            #[test]
            fn a_pagination_loop_stops_and_keeps_what_it_saw() {
                super::a_pagination_loop_stops_and_keeps_what_it_saw::<$fixture>()
            }
            #[test]
            fn the_deadline_fails_what_is_unfinished_and_keeps_the_rest() {
                super::the_deadline_fails_what_is_unfinished_and_keeps_the_rest::<$fixture>()
            }
            #[test]
            fn the_page_cap_is_a_failed_scope() {
                super::the_page_cap_is_a_failed_scope::<$fixture>()
            }
        }
    };
}

/// AWS: account × region scopes; the paged scope is us-east-1 (five sessions, pages of two),
/// the single one eu-west-1.
pub struct Aws;

impl Aws {
    fn region(scope: ScopeId) -> &'static str {
        match scope {
            ScopeId::Paged => "us-east-1",
            ScopeId::Single => "eu-west-1",
        }
    }
}

impl Fixture for Aws {
    const PAGED_MIRRORS: usize = 5;
    const DENIED_CODE: &'static str = "UnauthorizedOperation";
    const THROTTLED_CODE: &'static str = "RequestLimitExceeded";
    const SERVER_ERROR_CODE: &'static str = "InternalError";

    fn world(fault: Option<(Fault, ScopeId)>) -> String {
        let faults = match fault {
            None => String::new(),
            Some((fault, scope)) => {
                // A token loop is about paging, so it is aimed at the sessions listing.
                let action = match fault {
                    Fault::TokenLoop => "action = \"DescribeTrafficMirrorSessions\"\n",
                    _ => "",
                };
                let times = fault.extra_keys();
                format!(
                    "\n[[aws.faults]]\nregion = \"{}\"\n{action}kind = \"{}\"\n{times}",
                    Self::region(scope),
                    fault.kind()
                )
            }
        };
        crate::aws::world(&faults)
    }

    fn allowlist() -> String {
        crate::aws::approve_all()
    }

    fn args() -> Vec<String> {
        vec!["--provider".into(), "aws".into()]
    }

    fn supports(_fault: Fault) -> bool {
        true
    }

    fn row(report: &Value, scope: ScopeId) -> Value {
        crate::support::coverage_row(report, Self::region(scope)).clone()
    }

    fn mirrors_in(report: &Value, scope: ScopeId) -> Vec<Value> {
        report["mirrors"]
            .as_array()
            .expect("mirrors")
            .iter()
            .filter(|m| m["region"] == Self::region(scope))
            .cloned()
            .collect()
    }

    fn listing_requests(cloud: &TestCloud, scope: ScopeId) -> usize {
        cloud.count("DescribeTrafficMirrorSessions", Self::region(scope))
    }
}

conformance!(aws, Aws);

/// Azure: subscription scopes (region null); the paged scope holds five vTAPs, the single one
/// one vTAP. Faults are aimed at a subscription, a token loop at its vTAP listing.
pub struct Azure;

impl Azure {
    fn subscription(scope: ScopeId) -> &'static str {
        match scope {
            ScopeId::Paged => crate::azure::PAGED,
            ScopeId::Single => crate::azure::SINGLE,
        }
    }
}

impl Fixture for Azure {
    const PAGED_MIRRORS: usize = 5;
    const DENIED_CODE: &'static str = "AuthorizationFailed";
    const THROTTLED_CODE: &'static str = "TooManyRequests";
    const SERVER_ERROR_CODE: &'static str = "InternalServerError";

    fn world(fault: Option<(Fault, ScopeId)>) -> String {
        crate::azure::world(&cloud_fault(
            "azure",
            "virtualNetworkTaps",
            fault,
            Self::subscription,
        ))
    }

    fn allowlist() -> String {
        crate::azure::approve_all()
    }

    fn args() -> Vec<String> {
        vec!["--provider".into(), "azure".into()]
    }

    fn supports(_fault: Fault) -> bool {
        true
    }

    fn row(report: &Value, scope: ScopeId) -> Value {
        scope_row(report, Self::subscription(scope))
    }

    fn mirrors_in(report: &Value, scope: ScopeId) -> Vec<Value> {
        mirrors_of(report, Self::subscription(scope))
    }

    fn listing_requests(cloud: &TestCloud, scope: ScopeId) -> usize {
        cloud.count_in("virtualNetworkTaps", Self::subscription(scope))
    }
}

/// GCP: project × region scopes; the paged project's five policies share us-central1, the
/// single project has one. Faults are aimed at a project (a listing that fails as a whole is
/// one row with region null), a token loop at its packetMirrorings listing.
pub struct Gcp;

impl Gcp {
    fn project(scope: ScopeId) -> &'static str {
        match scope {
            ScopeId::Paged => crate::gcp::PAGED,
            ScopeId::Single => crate::gcp::SINGLE,
        }
    }
}

impl Fixture for Gcp {
    const PAGED_MIRRORS: usize = 5;
    const DENIED_CODE: &'static str = "PERMISSION_DENIED";
    const THROTTLED_CODE: &'static str = "RESOURCE_EXHAUSTED";
    const SERVER_ERROR_CODE: &'static str = "INTERNAL";

    fn world(fault: Option<(Fault, ScopeId)>) -> String {
        crate::gcp::world(&cloud_fault(
            "gcp",
            "packetMirrorings.aggregatedList",
            fault,
            Self::project,
        ))
    }

    fn allowlist() -> String {
        crate::gcp::approve_all()
    }

    fn args() -> Vec<String> {
        vec![
            "--provider".into(),
            "gcp".into(),
            "--gcp-projects".into(),
            format!("{},{}", crate::gcp::PAGED, crate::gcp::SINGLE),
        ]
    }

    fn supports(_fault: Fault) -> bool {
        true
    }

    /// The project's rows other than `global` (the firewall-policy listing's): one per region
    /// when the listing succeeded, or the single region-null row when it failed as a whole.
    fn row(report: &Value, scope: ScopeId) -> Value {
        let project = Self::project(scope);
        let rows: Vec<&Value> = report["coverage"]
            .as_array()
            .expect("coverage")
            .iter()
            .filter(|r| r["account"] == project && r["region"] != "global")
            .collect();
        if let Some(whole) = rows.iter().find(|r| r["region"].is_null()) {
            return (*whole).clone();
        }
        let worst = rows
            .iter()
            .find(|r| r["status"] != "scanned")
            .or(rows.first())
            .unwrap_or_else(|| panic!("no rows for {project}: {:#}", report["coverage"]));
        (*worst).clone()
    }

    fn mirrors_in(report: &Value, scope: ScopeId) -> Vec<Value> {
        mirrors_of(report, Self::project(scope))
    }

    fn listing_requests(cloud: &TestCloud, scope: ScopeId) -> usize {
        cloud.count_in("packetMirrorings.aggregatedList", Self::project(scope))
    }
}

/// A `[[PROVIDER.faults]]` entry aimed at one account-like scope (every listing of it; a token
/// loop only at `paged_action`, since it is about paging).
fn cloud_fault(
    provider: &str,
    paged_action: &str,
    fault: Option<(Fault, ScopeId)>,
    account: impl Fn(ScopeId) -> &'static str,
) -> String {
    let Some((fault, scope)) = fault else {
        return String::new();
    };
    let action = match fault {
        Fault::TokenLoop => format!("action = \"{paged_action}\"\n"),
        _ => String::new(),
    };
    let times = fault.extra_keys();
    format!(
        "\n[[{provider}.faults]]\naccount = \"{}\"\n{action}kind = \"{}\"\n{times}",
        account(scope),
        fault.kind()
    )
}

fn scope_row(report: &Value, account: &str) -> Value {
    report["coverage"]
        .as_array()
        .expect("coverage")
        .iter()
        .find(|r| r["account"] == account)
        .unwrap_or_else(|| panic!("no row for {account}: {:#}", report["coverage"]))
        .clone()
}

fn mirrors_of(report: &Value, account: &str) -> Vec<Value> {
    report["mirrors"]
        .as_array()
        .expect("mirrors")
        .iter()
        .filter(|m| m["account"] == account)
        .cloned()
        .collect()
}

conformance!(azure, Azure);
conformance!(gcp, Gcp);
