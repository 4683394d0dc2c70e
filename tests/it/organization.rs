//! Organisation-scale scans end to end: aws-sdk-organizations ListAccounts and aws-sdk-sts
//! AssumeRole against the mock's Organizations and STS, every account's EC2 listings with the
//! assumed session, account selection, what each kind of unreachable account becomes, the
//! destination outside the organisation, and a synthetic organisation under the issue's fault
//! mix.

use crate::support::{home_with_allowlist, scan, TestCloud};
use mirrorguard_mocks::synthetic::{synthetic_account, SYNTHETIC_ROLE};
use mirrorguard_mocks::{FaultKind, FaultMix, World};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const MANAGEMENT: &str = "111122223333";
const MEMBER: &str = "444455556666";
const SUSPENDED: &str = "222233334444";
const CLOSING: &str = "777788889999";
const LOCKED: &str = "555566667777";
const GUARDED: &str = "888899990000";
const OUTSIDE: &str = "999900001111";
const ROLE: &str = "MirrorguardReadOnly";

/// The management account (the test credentials' key), a member with two mirrors (one to a
/// target owned by the management account, one to a target owned by an account outside the
/// organisation), a suspended and a closing member, a member whose role trusts nobody, a
/// member whose role wants an external id, and the outside account.
fn world(extra: &str) -> String {
    format!(
        r#"
[settings]
cloudtrail_rate = 0
[aws.organization]
id = "o-a1b2c3d4e5"
management_account = "{MANAGEMENT}"
[[aws.accounts]]
id = "{MANAGEMENT}"
access_key = "AKIATESTKEY000000001"
arn = "arn:aws:iam::{MANAGEMENT}:user/scanner"
regions = ["us-east-1"]
[[aws.accounts]]
id = "{MEMBER}"
regions = ["us-east-1", "eu-west-1"]
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"] }}]
[[aws.accounts]]
id = "{SUSPENDED}"
regions = ["us-east-1"]
status = "SUSPENDED"
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"] }}]
[[aws.accounts]]
id = "{CLOSING}"
regions = ["us-east-1"]
status = "PENDING_CLOSURE"
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"] }}]
[[aws.accounts]]
id = "{LOCKED}"
regions = ["us-east-1"]
roles = [{{ name = "{ROLE}", trusted = [] }}]
[[aws.accounts]]
id = "{GUARDED}"
regions = ["us-east-1"]
roles = [{{ name = "{ROLE}", trusted = ["{MANAGEMENT}"], external_id = "s3cret" }}]
[[aws.accounts]]
id = "{OUTSIDE}"
regions = ["us-east-1"]
outside_organization = true

[[aws.sessions]]
account = "{MEMBER}"
region = "us-east-1"
id = "tms-0000000000000e001"
target = "tmt-0000000000000e001"
filter = "tmf-0000000000000e001"
source = "eni-0000000000000e001"
[[aws.targets]]
account = "{MEMBER}"
region = "us-east-1"
id = "tmt-0000000000000e001"
type = "network-interface"
resource = "eni-0000000000000f001"
owner = "{OUTSIDE}"
[[aws.filters]]
account = "{MEMBER}"
region = "us-east-1"
id = "tmf-0000000000000e001"

[[aws.sessions]]
account = "{MEMBER}"
region = "eu-west-1"
id = "tms-0000000000000e002"
target = "tmt-0000000000000e002"
filter = "tmf-0000000000000e002"
source = "eni-0000000000000e002"
[[aws.targets]]
account = "{MEMBER}"
region = "eu-west-1"
id = "tmt-0000000000000e002"
type = "network-interface"
resource = "eni-0000000000000f002"
owner = "{MANAGEMENT}"
[[aws.filters]]
account = "{MEMBER}"
region = "eu-west-1"
id = "tmf-0000000000000e002"
{extra}
"#
    )
}

const ORG_FLAGS: &[&str] = &[
    "--aws-organization",
    "--aws-role-name",
    ROLE,
    "--format",
    "json",
];

/// `(account, region) → (status, detail)` of every coverage row; asserts there is one per scope.
fn coverage_rows(report: &Value) -> BTreeMap<(String, String), (String, String)> {
    let mut rows = BTreeMap::new();
    for row in report["coverage"].as_array().expect("coverage") {
        let key = (
            row["account"].as_str().unwrap_or("-").to_string(),
            row["region"].as_str().unwrap_or("-").to_string(),
        );
        let value = (
            row["status"].as_str().unwrap().to_string(),
            row["detail"].as_str().unwrap_or("").to_string(),
        );
        assert!(
            rows.insert(key.clone(), value).is_none(),
            "two rows for {key:?}"
        );
    }
    rows
}

fn row<'a>(
    rows: &'a BTreeMap<(String, String), (String, String)>,
    account: &str,
    region: &str,
) -> &'a (String, String) {
    rows.get(&(account.to_string(), region.to_string()))
        .unwrap_or_else(|| panic!("no row for {account} {region}: {rows:#?}"))
}

fn finding_codes(report: &Value, id: &str) -> BTreeMap<String, String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"] == id)
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_organisation_scan_reaches_every_active_member_through_the_role() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    let run = scan(&cloud, home.path(), ORG_FLAGS);
    assert_eq!(run.code, 1, "unapproved mirrors: {}", run.stderr);
    let report = run.json();
    let rows = coverage_rows(&report);

    assert_eq!(row(&rows, MANAGEMENT, "us-east-1").0, "scanned");
    assert_eq!(row(&rows, MEMBER, "us-east-1").0, "scanned");
    assert_eq!(row(&rows, MEMBER, "eu-west-1").0, "scanned");
    let (status, detail) = row(&rows, SUSPENDED, "-");
    assert_eq!(
        (status.as_str(), detail.starts_with("SUSPENDED")),
        ("disabled", true),
        "{detail}"
    );
    let (status, detail) = row(&rows, CLOSING, "-");
    assert_eq!(
        (status.as_str(), detail.starts_with("PENDING_CLOSURE")),
        ("disabled", true),
        "{detail}"
    );
    let (status, detail) = row(&rows, LOCKED, "-");
    assert_eq!(status, "denied", "{detail}");
    assert!(
        detail.starts_with("AccessDenied")
            && detail.contains(&format!("arn:aws:iam::{LOCKED}:role/{ROLE}")),
        "{detail}"
    );
    // Without the external id its trust policy asks for, the role is refused: a gap.
    assert_eq!(row(&rows, GUARDED, "-").0, "denied");
    // Not a member: never listed, never scanned.
    assert!(!rows.keys().any(|(account, _)| account == OUTSIDE));
    assert_eq!(rows.len(), 7, "{rows:#?}");

    // One AssumeRole per active member but the caller's own account, named for mirrorguard.
    let assumed: BTreeSet<(String, String)> = cloud
        .requests()
        .iter()
        .filter(|r| r.action == "AssumeRole")
        .map(|r| {
            let param = |name: &str| {
                r.params
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (param("RoleArn"), param("RoleSessionName"))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [MEMBER, LOCKED, GUARDED]
        .iter()
        .map(|a| {
            (
                format!("arn:aws:iam::{a}:role/{ROLE}"),
                "mirrorguard-scan".to_string(),
            )
        })
        .collect();
    assert_eq!(assumed, expected);
    // The member's listings were signed with the assumed session: the mock attributes them to
    // the member.
    assert_eq!(cloud.count_in("DescribeTrafficMirrorSessions", MEMBER), 2);

    // The destination outside the organisation is the worst case; the one owned by the
    // management account is cross-account but inside, one step lower.
    let outside = crate::support::mirror(&report, "tms-0000000000000e001");
    assert_eq!(outside["account"], MEMBER);
    assert_eq!(outside["outside_organization"], true);
    assert_eq!(outside["severity"], "critical");
    let codes = finding_codes(&report, "tms-0000000000000e001");
    assert_eq!(codes["outside-organization-target"], "critical");
    assert_eq!(codes["unapproved-mirror"], "critical");
    assert!(!codes.contains_key("cross-account-target"));

    let inside = crate::support::mirror(&report, "tms-0000000000000e002");
    assert_eq!(inside["outside_organization"], false);
    assert_eq!(inside["cross_account"], true);
    let codes = finding_codes(&report, "tms-0000000000000e002");
    assert_eq!(codes["unapproved-mirror"], "high");
    assert_eq!(codes["cross-account-target"], "high");
    assert!(!codes.contains_key("outside-organization-target"));
}

#[test]
fn the_external_id_opens_the_role_that_asks_for_it() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    let mut args = ORG_FLAGS.to_vec();
    args.extend(["--aws-external-id", "s3cret", "--aws-accounts", GUARDED]);
    let run = scan(&cloud, home.path(), &args);
    let rows = coverage_rows(&run.json());
    assert_eq!(row(&rows, GUARDED, "us-east-1").0, "scanned", "{rows:#?}");
    assert_eq!(
        rows.len(),
        1,
        "--aws-accounts keeps only the account named: {rows:#?}"
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn accounts_are_restricted_excluded_and_checked_against_the_organisation() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    let accounts = format!("{MEMBER},{OUTSIDE},{MANAGEMENT}");
    let mut args = ORG_FLAGS.to_vec();
    args.extend([
        "--aws-accounts",
        &accounts,
        "--aws-exclude-accounts",
        MANAGEMENT,
    ]);
    let run = scan(&cloud, home.path(), &args);
    let rows = coverage_rows(&run.json());
    assert_eq!(row(&rows, MEMBER, "us-east-1").0, "scanned");
    let (status, detail) = row(&rows, OUTSIDE, "-");
    assert_eq!(status, "failed");
    assert!(detail.starts_with("NotInOrganization"), "{detail}");
    let (status, detail) = row(&rows, MANAGEMENT, "-");
    assert_eq!(status, "excluded");
    assert!(detail.contains("--aws-exclude-accounts"), "{detail}");
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert_eq!(
        cloud.count_in("DescribeTrafficMirrorSessions", MANAGEMENT),
        0
    );
}

#[test]
fn accounts_without_an_organisation_are_reached_through_the_role() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    let run = scan(
        &cloud,
        home.path(),
        &[
            "--aws-accounts",
            MEMBER,
            "--aws-role-name",
            ROLE,
            "--format",
            "json",
        ],
    );
    let report = run.json();
    let rows = coverage_rows(&report);
    assert_eq!(rows.len(), 2, "only the member's regions: {rows:#?}");
    assert_eq!(row(&rows, MEMBER, "eu-west-1").0, "scanned");
    assert_eq!(
        cloud
            .requests()
            .iter()
            .filter(|r| r.service == "organizations")
            .count(),
        0
    );
    // Without the organisation nobody can be called outside it.
    let mirror = crate::support::mirror(&report, "tms-0000000000000e001");
    assert_eq!(mirror["outside_organization"], Value::Null);
    assert_eq!(mirror["severity"], "critical");
}

/// An organisation scan whose ListAccounts calls all answer with the fault `kind`.
fn scan_with_listing_fault(kind: &str) -> (TestCloud, crate::support::Run) {
    let cloud = TestCloud::start(&world(&format!(
        "[[aws.faults]]\naction = \"ListAccounts\"\nkind = \"{kind}\"\n"
    )));
    let (home, _) = home_with_allowlist("");
    let run = scan(&cloud, home.path(), ORG_FLAGS);
    (cloud, run)
}

#[test]
fn a_refused_account_listing_is_a_gap_and_the_callers_account_is_still_scanned() {
    let (_cloud, run) = scan_with_listing_fault("denied");
    assert_eq!(run.code, 3, "{}", run.stderr);
    let rows = coverage_rows(&run.json());
    let (status, detail) = row(&rows, "-", "-");
    assert_eq!(status, "denied");
    assert!(
        detail.starts_with("AccessDenied") && detail.contains("ListAccounts"),
        "{detail}"
    );
    assert_eq!(row(&rows, MANAGEMENT, "us-east-1").0, "scanned");
    assert_eq!(rows.len(), 2, "{rows:#?}");
}

#[test]
fn organisation_flags_need_a_role() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    for args in [
        vec!["--aws-organization"],
        vec!["--aws-accounts", MEMBER],
        vec!["--aws-role-name", "bad role"],
        vec!["--aws-role-name", ROLE, "--aws-accounts", "12345"],
    ] {
        let run = scan(&cloud, home.path(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    assert!(cloud.requests().is_empty(), "usage errors call nothing");
}

#[test]
fn the_live_audit_reads_each_members_cloudtrail_with_its_session() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    let mut args = ORG_FLAGS.to_vec();
    args.extend(["--audit-live", "--cloudtrail-rate", "1000"]);
    let run = scan(&cloud, home.path(), &args);
    let report = run.json();
    let audited: BTreeSet<(String, String)> = report["audit"]["audit_coverage"]
        .as_array()
        .expect("audit coverage")
        .iter()
        .filter(|r| r["status"] == "scanned")
        .map(|r| {
            (
                r["account"].as_str().unwrap().to_string(),
                r["region"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |pairs: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        pairs
            .iter()
            .map(|(a, r)| (a.to_string(), r.to_string()))
            .collect()
    };
    assert_eq!(
        audited,
        expect(&[
            (MANAGEMENT, "us-east-1"),
            (MEMBER, "eu-west-1"),
            (MEMBER, "us-east-1")
        ])
    );
    assert!(cloud.count_in("LookupEvents", MEMBER) > 0);
    // The sessions were reused: one AssumeRole per reachable member, not one more per audit.
    let assumed = cloud
        .requests()
        .iter()
        .filter(|r| r.action == "AssumeRole")
        .count();
    assert_eq!(assumed, 3);
}

/// Every scope of a synthetic organisation under the issue's fault mix ends in exactly one
/// coverage row whose status matches its fault, no healthy scope loses a mirror, and the exit
/// code is 3 once every mirror is approved (1 with nothing approved).
#[test]
fn a_synthetic_organisation_under_the_fault_mix_reports_every_scope_as_its_fault() {
    let mix = FaultMix {
        denied: 0.10,
        throttled: 0.10,
        failing: 0.05,
        hanging: 0.05,
        malformed: 0.02,
        assume_denied: 0.10,
    };
    let (accounts, regions) = (21, 5);
    let world = World::synthetic(accounts, regions, 1, mix, 0);
    let injected = world.injected_faults();
    let sessions: BTreeMap<(String, String), BTreeSet<String>> =
        world
            .aws
            .sessions
            .iter()
            .fold(BTreeMap::new(), |mut by_scope, s| {
                by_scope
                    .entry((s.account.clone(), s.region.clone()))
                    .or_insert_with(BTreeSet::new)
                    .insert(s.id.clone());
                by_scope
            });
    // Every destination approved, each by name: what remains is the gaps, so the exit code
    // is 3.
    let allowlist: String = world
        .aws
        .targets
        .iter()
        .map(|t| {
            format!(
                "[[targets]]\nprovider = \"aws\"\ntarget = \"{}\"\nowner = \"netsec\"\nticket = \"SEC-1\"\nreason = \"synthetic estate\"\nexpires = 2027-06-30\n\n",
                t.resource
            )
        })
        .collect();
    let cloud = TestCloud::start_world(world);
    let (home, _) = home_with_allowlist(&allowlist);
    let args = [
        "--aws-organization",
        "--aws-role-name",
        SYNTHETIC_ROLE,
        "--format",
        "json",
        "--allowlist",
        "allowlist.toml",
        "--timeout",
        "2s",
        "--max-attempts",
        "3",
        "--deadline",
        "90s",
    ];
    let started = std::time::Instant::now();
    let run = scan(&cloud, home.path(), &args);
    assert!(started.elapsed() < std::time::Duration::from_secs(90));
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let rows = coverage_rows(&report);

    let fault_of: BTreeMap<(String, Option<String>), FaultKind> = injected
        .iter()
        .map(|f| ((f.account.clone(), f.region.clone()), f.kind))
        .collect();
    let mut expected_rows = 0;
    for n in 0..accounts {
        let account = synthetic_account(n);
        if fault_of.get(&(account.clone(), None)) == Some(&FaultKind::Denied) {
            let (status, detail) = row(&rows, &account, "-");
            assert_eq!(status, "denied", "{account}: {detail}");
            assert!(detail.contains("AssumeRole"), "{detail}");
            expected_rows += 1;
            continue;
        }
        for r in 0..regions {
            let region = mirrorguard_mocks::synthetic::synthetic_region(r);
            let (status, detail) = row(&rows, &account, &region);
            let fault = fault_of.get(&(account.clone(), Some(region.clone())));
            let expected = match fault {
                None | Some(FaultKind::Throttled) => "scanned",
                Some(FaultKind::Denied) => "denied",
                Some(_) => "failed",
            };
            assert_eq!(status, expected, "{account} {region} {fault:?}: {detail}");
            match fault {
                Some(FaultKind::Hang) => assert!(detail.starts_with("Timeout"), "{detail}"),
                Some(FaultKind::Malformed) => {
                    assert!(detail.starts_with("MalformedResponse"), "{detail}")
                }
                Some(FaultKind::Denied) => {
                    assert!(detail.starts_with("UnauthorizedOperation"), "{detail}")
                }
                _ => {}
            }
            if expected == "scanned" {
                let seen: BTreeSet<String> = report["mirrors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["account"] == account.as_str() && m["region"] == region.as_str())
                    .map(|m| m["id"].as_str().unwrap().to_string())
                    .collect();
                assert_eq!(
                    Some(&seen),
                    sessions.get(&(account.clone(), region.clone())),
                    "{account} {region}"
                );
            }
            expected_rows += 1;
        }
    }
    assert_eq!(rows.len(), expected_rows, "no row beyond the scopes");
    // The mix really was exercised.
    for kind in [
        FaultKind::Denied,
        FaultKind::Throttled,
        FaultKind::Failing,
        FaultKind::Hang,
        FaultKind::Malformed,
    ] {
        assert!(
            injected
                .iter()
                .any(|f| f.kind == kind && f.region.is_some()),
            "{kind:?}"
        );
    }
    assert!(injected.iter().any(|f| f.region.is_none()));
}

/// A GCP organisation two folders deep, a folder beside it, a project being deleted, one with
/// the Compute API off, and a project of another organisation: every project under the
/// organisation found through the real Resource Manager client, at any depth.
fn gcp_world(extra: &str) -> String {
    format!(
        r#"
[settings]
page_size = 2
[gcp.organization]
id = "9001"
[[gcp.folders]]
id = "11"
display_name = "prod"
parent = "organizations/9001"
[[gcp.folders]]
id = "12"
display_name = "prod-payments"
parent = "folders/11"
[[gcp.folders]]
id = "13"
display_name = "shared"
parent = "organizations/9001"

[[gcp.projects]]
id = "deep-project-a"
parent = "folders/12"
regions = ["us-central1"]
[[gcp.projects]]
id = "top-project-b"
regions = ["europe-west1"]
[[gcp.projects]]
id = "doomed-project-c"
parent = "folders/11"
state = "DELETE_REQUESTED"
regions = ["us-central1"]
[[gcp.projects]]
id = "dark-project-d"
parent = "folders/11"
regions = ["us-central1"]
compute_api_disabled = true
[[gcp.projects]]
id = "tools-project-x"
parent = "folders/13"
regions = ["us-central1"]
[[gcp.projects]]
id = "stranger-project"
parent = "organizations/7777"
regions = ["us-central1"]

[[gcp.mirrorings]]
project = "deep-project-a"
region = "us-central1"
name = "pm-inside"
id = 3001
network = "vpc"
collector = "projects/tools-project-x/regions/us-central1/forwardingRules/fr-ids"
subnetworks = ["subnet-a"]
[[gcp.mirrorings]]
project = "top-project-b"
region = "europe-west1"
name = "pm-outside"
id = 3002
network = "vpc"
collector = "projects/stranger-project/regions/europe-west1/forwardingRules/fr-grab"
subnetworks = ["subnet-b"]
{extra}
"#
    )
}

fn gcp_scan(cloud: &TestCloud, args: &[&str]) -> crate::support::Run {
    let (home, _) = home_with_allowlist("");
    let mut all = vec!["--provider", "gcp", "--format", "json"];
    all.extend(args);
    scan(cloud, home.path(), &all)
}

#[test]
fn a_gcp_organisation_scan_finds_every_project_at_any_depth() {
    let cloud = TestCloud::start(&gcp_world(""));
    let run = gcp_scan(&cloud, &["--gcp-organization", "9001"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let rows = coverage_rows(&report);
    for (project, region) in [
        ("deep-project-a", "us-central1"),
        ("top-project-b", "europe-west1"),
        ("tools-project-x", "us-central1"),
    ] {
        assert_eq!(row(&rows, project, region).0, "scanned", "{project}");
    }
    let (status, detail) = row(&rows, "doomed-project-c", "-");
    assert_eq!(status, "disabled");
    assert!(detail.starts_with("DELETE_REQUESTED"), "{detail}");
    let (status, detail) = row(&rows, "dark-project-d", "-");
    assert_eq!(status, "disabled");
    assert!(detail.starts_with("SERVICE_DISABLED"), "{detail}");
    assert!(
        !rows
            .keys()
            .any(|(project, _)| project == "stranger-project"),
        "another organisation's project is not scanned: {rows:#?}"
    );
    // Each project's regions and its `global` row (network firewall policies); the project
    // with Compute off says so for both of its listings.
    assert_eq!(rows.len(), 9, "{rows:#?}");
    // Both searches really ran through the Resource Manager client.
    for action in ["projects.search", "folders.search"] {
        assert!(
            cloud.requests().iter().any(|r| r.action == action),
            "{action}"
        );
    }

    let outside = crate::support::mirror(
        &report,
        "projects/top-project-b/regions/europe-west1/packetMirrorings/pm-outside",
    );
    assert_eq!(outside["outside_organization"], true);
    let codes = finding_codes(&report, outside["id"].as_str().unwrap());
    assert_eq!(codes["outside-organization-target"], "critical");
    let inside = crate::support::mirror(
        &report,
        "projects/deep-project-a/regions/us-central1/packetMirrorings/pm-inside",
    );
    assert_eq!(inside["outside_organization"], false);
    assert_eq!(inside["cross_account"], true);
}

#[test]
fn a_gcp_folder_scan_keeps_to_its_subtree_and_a_failed_search_is_a_gap() {
    let cloud = TestCloud::start(&gcp_world(""));
    let run = gcp_scan(&cloud, &["--gcp-folder", "11"]);
    let report = run.json();
    let rows = coverage_rows(&report);
    assert_eq!(row(&rows, "deep-project-a", "us-central1").0, "scanned");
    assert_eq!(row(&rows, "doomed-project-c", "-").0, "disabled");
    assert_eq!(row(&rows, "dark-project-d", "-").0, "disabled");
    assert_eq!(rows.len(), 5, "only folder 11's subtree: {rows:#?}");
    // The collector in the sibling folder is still inside the organisation.
    let inside = crate::support::mirror(
        &report,
        "projects/deep-project-a/regions/us-central1/packetMirrorings/pm-inside",
    );
    assert_eq!(inside["outside_organization"], false);

    let refused = TestCloud::start(&gcp_world(
        r#"
[[gcp.faults]]
action = "projects.search"
kind = "denied"
"#,
    ));
    let run = gcp_scan(&refused, &["--gcp-organization", "9001"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let refused_rows = coverage_rows(&run.json());
    let (status, detail) = row(&refused_rows, "-", "-");
    assert_eq!(status, "denied", "{detail}");
    assert!(detail.contains("projects.search"), "{detail}");
    assert_eq!(refused_rows.len(), 1);
}

#[test]
fn stderr_stays_quiet_off_a_terminal_and_verbose_logs_each_scope() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    // Not a terminal: no bar, no log, and stdout is the report alone.
    let run = scan(&cloud, home.path(), ORG_FLAGS);
    assert_eq!(run.stderr, "");
    run.json();

    let mut args = ORG_FLAGS.to_vec();
    args.push("-v");
    let run = scan(&cloud, home.path(), &args);
    run.json();
    let finished: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("scope finished"))
        .collect();
    // One line per coverage row (7), each naming its account.
    assert_eq!(finished.len(), 7, "{}", run.stderr);
    assert!(finished
        .iter()
        .any(|l| l.contains(LOCKED) && l.contains("status=\"denied\"")));
}

/// The home subscription's vTAPs: one to a load balancer of a subscription the identity sees
/// in another tenant (outside), one to a subscription of the same tenant (inside), one to a
/// subscription it cannot see at all (undecided).
#[test]
fn an_azure_destination_in_another_tenants_subscription_is_outside_the_organisation() {
    const HOME: &str = "11111111-1111-4111-8111-111111111111";
    const SIBLING: &str = "22222222-2222-4222-8222-222222222222";
    const FOREIGN: &str = "33333333-3333-4333-8333-333333333333";
    const UNSEEN: &str = "44444444-4444-4444-8444-444444444444";
    let frontend = |subscription: &str| {
        format!("/subscriptions/{subscription}/resourceGroups/rg-lb/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe")
    };
    let tap = |name: &str, destination: &str| {
        format!(
            r#"
[[azure.taps]]
subscription = "{HOME}"
resource_group = "rg-net"
name = "{name}"
location = "westeurope"
destination_frontend = "{destination}"
destination_port = 4789

[[azure.nics]]
subscription = "{HOME}"
resource_group = "rg-web"
name = "nic-{name}"
location = "westeurope"
taps = ["/subscriptions/{HOME}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworkTaps/{name}"]
"#
        )
    };
    let world = format!(
        r#"
[[azure.subscriptions]]
id = "{HOME}"
[[azure.subscriptions]]
id = "{SIBLING}"
[[azure.subscriptions]]
id = "{FOREIGN}"
tenant = "9e9e9e9e-9e9e-4e9e-9e9e-9e9e9e9e9e9e"
{}{}{}"#,
        tap("vtap-foreign", &frontend(FOREIGN)),
        tap("vtap-sibling", &frontend(SIBLING)),
        tap("vtap-unseen", &frontend(UNSEEN)),
    );
    let cloud = TestCloud::start(&world);
    let (home, _) = home_with_allowlist("");
    let run = scan(
        &cloud,
        home.path(),
        &["--provider", "azure", "--format", "json"],
    );
    let report = run.json();
    let tap_id = |name: &str| {
        format!("/subscriptions/{HOME}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworkTaps/{name}")
    };
    let foreign = crate::support::mirror(&report, &tap_id("vtap-foreign"));
    assert_eq!(foreign["outside_organization"], true);
    assert_eq!(
        finding_codes(&report, &tap_id("vtap-foreign"))["outside-organization-target"],
        "critical"
    );
    let sibling = crate::support::mirror(&report, &tap_id("vtap-sibling"));
    assert_eq!(sibling["outside_organization"], false);
    assert_eq!(
        finding_codes(&report, &tap_id("vtap-sibling"))["unapproved-mirror"],
        "high"
    );
    // A subscription nobody can see may be in the tenant or not: undecided, and still treated
    // as the worst cross-account case.
    let unseen = crate::support::mirror(&report, &tap_id("vtap-unseen"));
    assert_eq!(unseen["outside_organization"], Value::Null);
    assert_eq!(
        finding_codes(&report, &tap_id("vtap-unseen"))["unapproved-mirror"],
        "critical"
    );
}

#[test]
fn the_deadline_ends_an_organisation_scan_with_every_unfinished_scope_failed() {
    let cloud = TestCloud::start(&world(
        r#"
[[aws.faults]]
action = "DescribeTrafficMirrorSessions"
kind = "slow"
ms = 30000
"#,
    ));
    let (home, _) = home_with_allowlist("");
    let mut args = ORG_FLAGS.to_vec();
    args.extend(["--deadline", "2s"]);
    let started = std::time::Instant::now();
    let run = scan(&cloud, home.path(), &args);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the deadline bounds the run"
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let rows = coverage_rows(&run.json());
    for (account, region) in [
        (MANAGEMENT, "us-east-1"),
        (MEMBER, "us-east-1"),
        (MEMBER, "eu-west-1"),
    ] {
        let (status, detail) = row(&rows, account, region);
        assert_eq!(status, "failed", "{account} {region}");
        assert!(detail.starts_with("Deadline"), "{detail}");
    }
    // The accounts settled before the deadline keep their own status.
    assert_eq!(row(&rows, LOCKED, "-").0, "denied");
    assert_eq!(row(&rows, SUSPENDED, "-").0, "disabled");
    assert_eq!(rows.len(), 7, "{rows:#?}");
}

#[test]
fn gcp_projects_narrow_the_organisation_and_a_project_outside_it_is_not_scanned() {
    let cloud = TestCloud::start(&gcp_world(""));
    let run = gcp_scan(
        &cloud,
        &[
            "--gcp-organization",
            "9001",
            "--gcp-projects",
            "deep-project-a,doomed-project-c,stranger-project",
        ],
    );
    let rows = coverage_rows(&run.json());
    assert_eq!(row(&rows, "deep-project-a", "us-central1").0, "scanned");
    assert_eq!(row(&rows, "doomed-project-c", "-").0, "disabled");
    let (status, detail) = row(&rows, "stranger-project", "-");
    assert_eq!(status, "failed");
    assert!(detail.starts_with("NotInHierarchy"), "{detail}");
    // deep-project-a's region and global rows, and one row each for the other two.
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn a_looping_account_listing_scans_each_account_once_and_says_where_it_stopped() {
    let (cloud, run) = scan_with_listing_fault("token-loop");
    assert_eq!(run.code, 3, "{}", run.stderr);
    // coverage_rows fails on a second row for any scope.
    let rows = coverage_rows(&run.json());
    let (status, detail) = row(&rows, "-", "-");
    assert_eq!(status, "failed");
    assert!(detail.starts_with("PaginationLoop"), "{detail}");
    // The first page (two accounts at the mock's page size) was served twice.
    assert_eq!(row(&rows, MANAGEMENT, "us-east-1").0, "scanned");
    assert_eq!(row(&rows, SUSPENDED, "-").0, "disabled");
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(cloud.count_in("DescribeRegions", MANAGEMENT), 1);
}

#[test]
fn an_excluded_account_stays_excluded_even_outside_the_organisation() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist("");
    let mut args = ORG_FLAGS.to_vec();
    args.extend(["--aws-accounts", OUTSIDE, "--aws-exclude-accounts", OUTSIDE]);
    let rows = coverage_rows(&scan(&cloud, home.path(), &args).json());
    assert_eq!(row(&rows, OUTSIDE, "-").0, "excluded");
    assert_eq!(rows.len(), 1);
}

#[test]
fn the_demo_takes_aws_accounts_without_a_role_flag() {
    let run = crate::support::demo_with_allowlist(
        "",
        &[
            "--provider",
            "aws",
            "--aws-accounts",
            "444455556666",
            "--format",
            "json",
        ],
    );
    let rows = coverage_rows(&run.json());
    assert_eq!(row(&rows, "444455556666", "us-east-1").0, "scanned");
    assert!(rows.keys().all(|(account, _)| account == "444455556666"));
}

/// One AssumeRole per member account, whatever the number of regions and calls: the session's
/// credentials are cached for every client of the account, not asked for again per region.
#[test]
fn each_member_account_is_assumed_once_for_all_its_regions() {
    let accounts = 100;
    let world = World::synthetic(accounts, 17, 1, FaultMix::default(), 0);
    let cloud = TestCloud::start_world(world);
    let (home, _) = home_with_allowlist("");
    let run = scan(
        &cloud,
        home.path(),
        &[
            "--aws-organization",
            "--aws-role-name",
            SYNTHETIC_ROLE,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let assumed: Vec<String> = cloud
        .requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .map(|r| r.account)
        .collect();
    assert_eq!(assumed.len(), accounts - 1, "{assumed:?}");
    assert_eq!(
        cloud
            .requests()
            .iter()
            .filter(|r| r.action == "DescribeTrafficMirrorSessions")
            .count(),
        accounts * 17
    );
}
