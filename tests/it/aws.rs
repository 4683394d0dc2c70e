//! The AWS adapter end to end (the fault kinds every provider shares are in `conformance.rs`): the real aws-sdk-ec2 client, built the way production builds it
//! (default credential chain, `AWS_ENDPOINT_URL`), against the EC2 mock over HTTP — paging,
//! joining, every fault kind, and what each does to coverage and the exit code.

use crate::support::{coverage_row, home_with_allowlist, mirror_ids, scan, TestCloud};

const ACCOUNT: &str = "111122223333";

/// Five sessions in us-east-1 (three pages at the mock's page size of two), one in eu-west-1,
/// each to its own target; an unused target and an unused filter; `faults` appended.
pub fn world(faults: &str) -> String {
    let mut toml = format!(
        r#"
[settings]
page_size = 2

[[aws.accounts]]
id = "{ACCOUNT}"
regions = ["eu-west-1", "us-east-1"]
not_opted_in = ["me-south-1"]
"#
    );
    for (region, n) in [
        ("us-east-1", 1),
        ("us-east-1", 2),
        ("us-east-1", 3),
        ("us-east-1", 4),
        ("us-east-1", 5),
        ("eu-west-1", 6),
    ] {
        toml.push_str(&format!(
            r#"
[[aws.sessions]]
account = "{ACCOUNT}"
region = "{region}"
id = "tms-00000000000000{n:03}"
target = "tmt-00000000000000{n:03}"
filter = "tmf-00000000000000001"
source = "eni-0500000000000{n:04}"
session_number = {n}
vni = {vni}
description = "session {n}"
tags = {{ Name = "mirror-{n}" }}

[[aws.targets]]
account = "{ACCOUNT}"
region = "{region}"
id = "tmt-00000000000000{n:03}"
type = "network-interface"
resource = "eni-0a00000000000{n:04}"
"#,
            vni = 1000 + n
        ));
    }
    for region in ["us-east-1", "eu-west-1"] {
        toml.push_str(&format!(
            r#"
[[aws.filters]]
account = "{ACCOUNT}"
region = "{region}"
id = "tmf-00000000000000001"
rules = [
  {{ direction = "ingress", number = 100, action = "accept", protocol = 6, source_cidr = "0.0.0.0/0", destination_cidr = "10.0.0.0/8", destination_ports = [443, 443] }},
  {{ direction = "egress", number = 200, action = "reject", protocol = 17, source_cidr = "10.0.0.0/8", destination_cidr = "0.0.0.0/0" }},
]
"#
        ));
    }
    toml.push_str(&format!(
        r#"
[[aws.targets]]
account = "{ACCOUNT}"
region = "us-east-1"
id = "tmt-000000000000000099"
type = "network-load-balancer"
resource = "arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/net/exfil/0123456789abcdef"
owner = "999988887777"

[[aws.filters]]
account = "{ACCOUNT}"
region = "us-east-1"
id = "tmf-00000000000000077"
"#
    ));
    toml.push_str(faults);
    toml
}

/// Approves the six ENI targets of [`world`], so a clean scan exits 0.
pub fn approve_all() -> String {
    (1..=6)
        .map(|n| {
            format!(
                "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0a00000000000{n:04}\"\naccounts = [\"111122223333\"]\nowner = \"netsec@example.com\"\nticket = \"SEC-{n}\"\nreason = \"test sensor\"\nexpires = 2027-06-30\n\n"
            )
        })
        .collect()
}

fn scan_json(faults: &str, extra_args: &[&str]) -> (TestCloud, crate::support::Run) {
    let cloud = TestCloud::start(&world(faults));
    let (home, _) = home_with_allowlist(&approve_all());
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra_args);
    let run = scan(&cloud, home.path(), &args);
    (cloud, run)
}

#[test]
fn lists_every_page_and_joins_sessions_with_targets_and_filters() {
    let (cloud, run) = scan_json("", &[]);
    assert_eq!(
        run.code, 0,
        "stderr: {}\nstdout: {}",
        run.stderr, run.stdout
    );
    let report = run.json();

    assert_eq!(
        mirror_ids(&report),
        [
            "tms-00000000000000006",
            "tms-00000000000000001",
            "tms-00000000000000002",
            "tms-00000000000000003",
            "tms-00000000000000004",
            "tms-00000000000000005",
        ],
        "sorted by provider, account, region, id"
    );
    // Five sessions at two per page is three pages; six targets (five used, one staged) three.
    assert_eq!(cloud.count("DescribeTrafficMirrorSessions", "us-east-1"), 3);
    assert_eq!(cloud.count("DescribeTrafficMirrorTargets", "us-east-1"), 3);
    assert_eq!(cloud.count("DescribeTrafficMirrorSessions", "eu-west-1"), 1);
    // The opt-in region that is not enabled is never called.
    assert_eq!(
        cloud.count("DescribeTrafficMirrorSessions", "me-south-1"),
        0
    );
    // mirrorguard asks for big pages; the mock's small page size is what forces paging.
    let asked = cloud
        .requests()
        .into_iter()
        .find(|r| r.action == "DescribeTrafficMirrorSessions")
        .expect("a sessions request");
    assert!(asked.params.contains(&("MaxResults".into(), "1000".into())));

    let m = &report["mirrors"][3];
    assert_eq!(m["provider"], "aws");
    assert_eq!(m["account"], ACCOUNT);
    assert_eq!(m["region"], "us-east-1");
    assert_eq!(m["id"], "tms-00000000000000003");
    assert_eq!(m["kind"], "traffic-mirror-session");
    assert_eq!(m["name"], "mirror-3");
    assert_eq!(m["description"], "session 3");
    assert_eq!(m["vni"], 1003);
    assert_eq!(m["priority"], 3);
    assert_eq!(m["sources"][0]["kind"], "network-interface");
    assert_eq!(m["sources"][0]["id"], "eni-05000000000000003");
    assert_eq!(m["sources"][0]["direction"], "ingress");
    assert_eq!(m["target"]["kind"], "network-interface");
    assert_eq!(m["target"]["id"], "eni-0a000000000000003");
    assert_eq!(m["target"]["mirror_target_id"], "tmt-00000000000000003");
    assert_eq!(m["target"]["owner"], ACCOUNT);
    assert_eq!(m["cross_account"], false);
    assert_eq!(m["filter"]["id"], "tmf-00000000000000001");
    assert_eq!(
        m["filter"]["accept"][0],
        "ingress #100 tcp 0.0.0.0/0 -> 10.0.0.0/8:443"
    );
    assert_eq!(
        m["filter"]["reject"][0],
        "egress #200 udp 10.0.0.0/8 -> 0.0.0.0/0"
    );
    assert_eq!(m["verdict"], "approved");
    assert_eq!(m["approved_by"]["entry"], "targets[3]");

    // The unused NLB target (another account's) and filter are staged infrastructure.
    let staged = report["staged"].as_array().expect("staged");
    assert_eq!(staged.len(), 2, "{staged:#?}");
    let target = staged
        .iter()
        .find(|s| s["kind"] == "traffic-mirror-target")
        .expect("staged target");
    assert_eq!(target["id"], "tmt-000000000000000099");
    assert_eq!(target["target"]["kind"], "network-load-balancer");
    assert_eq!(target["target"]["owner"], "999988887777");
    assert_eq!(target["verdict"], "unapproved");
    let filter = staged
        .iter()
        .find(|s| s["kind"] == "traffic-mirror-filter")
        .expect("staged filter");
    assert_eq!(filter["id"], "tmf-00000000000000077");
    assert_eq!(
        filter["verdict"],
        serde_json::Value::Null,
        "only destinations are approved"
    );
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"staged-target"), "{codes:?}");
    assert!(codes.contains(&"staged-filter"), "{codes:?}");

    assert_eq!(coverage_row(&report, "us-east-1")["status"], "scanned");
    assert_eq!(coverage_row(&report, "eu-west-1")["status"], "scanned");
    assert_eq!(coverage_row(&report, "me-south-1")["status"], "disabled");
    assert_eq!(report["identities"]["aws"]["account"], ACCOUNT);
    assert_eq!(report["summary"]["by_provider"]["aws"]["mirrors"], 6);
}

#[test]
fn server_errors_are_retried_then_the_region_is_failed() {
    let (cloud, run) = scan_json(
        r#"
[[aws.faults]]
region = "eu-west-1"
action = "DescribeTrafficMirrorFilters"
kind = "failing"
"#,
        &["--max-attempts", "3"],
    );
    assert_eq!(run.code, 3);
    let report = run.json();
    let row = coverage_row(&report, "eu-west-1");
    assert_eq!(row["status"], "failed");
    assert!(
        row["detail"].as_str().unwrap().starts_with("InternalError"),
        "{row}"
    );
    assert_eq!(cloud.count("DescribeTrafficMirrorFilters", "eu-west-1"), 3);
    // Sessions and targets of the region were listed; the mirror is kept, its filter unresolved.
    let mirror = report["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["region"] == "eu-west-1")
        .expect("eu mirror kept");
    assert_eq!(mirror["filter"]["resolved"], false);
    assert_eq!(mirror["target"]["id"], "eni-0a000000000000006");
}

#[test]
fn a_partially_listed_region_keeps_what_it_saw() {
    // Sessions listed, targets denied: the mirror is reported with its target unresolved.
    let (_cloud, run) = scan_json(
        r#"
[[aws.faults]]
region = "eu-west-1"
action = "DescribeTrafficMirrorTargets"
kind = "denied"
"#,
        &[],
    );
    let report = run.json();
    let row = coverage_row(&report, "eu-west-1");
    assert_eq!(row["status"], "denied");
    assert!(
        row["detail"]
            .as_str()
            .unwrap()
            .contains("DescribeTrafficMirrorTargets"),
        "{row}"
    );
    let mirror = report["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["region"] == "eu-west-1")
        .expect("eu mirror kept");
    assert_eq!(mirror["target"]["kind"], "unresolved");
    assert_eq!(mirror["target"]["id"], "tmt-00000000000000006");
    // Its target could not be resolved, so the ENI approval cannot vouch for it.
    assert_eq!(mirror["verdict"], "unapproved");
    assert_eq!(run.code, 1);
}

#[test]
fn worst_status_wins_when_listings_fail_differently() {
    let (_cloud, run) = scan_json(
        r#"
[[aws.faults]]
region = "eu-west-1"
action = "DescribeTrafficMirrorTargets"
kind = "denied"

[[aws.faults]]
region = "eu-west-1"
action = "DescribeTrafficMirrorFilters"
kind = "malformed"
"#,
        &[],
    );
    let row = coverage_row(&run.json(), "eu-west-1").clone();
    assert_eq!(row["status"], "failed", "failed outranks denied: {row}");
}

#[test]
fn a_slow_region_still_completes() {
    let (_cloud, run) = scan_json(
        r#"
[[aws.faults]]
region = "eu-west-1"
kind = "slow"
ms = 200
"#,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(coverage_row(&run.json(), "eu-west-1")["status"], "scanned");
}

#[test]
fn the_page_cap_is_a_failed_region_not_a_silent_end() {
    let (_cloud, run) = scan_json("", &["--max-pages", "2"]);
    assert_eq!(run.code, 3);
    let row = coverage_row(&run.json(), "us-east-1").clone();
    assert_eq!(row["status"], "failed");
    assert!(
        row["detail"].as_str().unwrap().starts_with("PageCap"),
        "{row}"
    );
}

#[test]
fn explicit_regions_are_checked_against_describe_regions() {
    let (cloud, run) = scan_json(
        "",
        &[
            "--aws-regions",
            "eu-west-1,me-south-1",
            "--aws-region",
            "xx-nowhere-1",
        ],
    );
    let report = run.json();
    assert_eq!(coverage_row(&report, "eu-west-1")["status"], "scanned");
    assert_eq!(coverage_row(&report, "me-south-1")["status"], "disabled");
    assert_eq!(coverage_row(&report, "xx-nowhere-1")["status"], "failed");
    assert_eq!(
        report["coverage"].as_array().unwrap().len(),
        3,
        "only the requested regions"
    );
    assert_eq!(cloud.count("DescribeTrafficMirrorSessions", "us-east-1"), 0);
    assert_eq!(run.code, 3);
}

#[test]
fn region_discovery_denied_is_an_account_level_gap() {
    let (_cloud, run) = scan_json(
        r#"
[[aws.faults]]
action = "DescribeRegions"
kind = "denied"
"#,
        &[],
    );
    assert_eq!(run.code, 3);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["account"], ACCOUNT);
    assert_eq!(rows[0]["region"], serde_json::Value::Null);
    assert_eq!(rows[0]["status"], "denied");
    assert!(rows[0]["detail"]
        .as_str()
        .unwrap()
        .contains("DescribeRegions"));
}

#[test]
fn by_default_every_cloud_without_credentials_is_a_failed_row() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist(&approve_all());
    let mut cmd = crate::support::command(home.path());
    // Endpoints point at the mock, but no provider has credentials; nothing may be sent.
    cmd.env("AWS_ENDPOINT_URL", cloud.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("MIRRORGUARD_AZURE_ENDPOINT", cloud.endpoint())
        .env("MIRRORGUARD_GCP_ENDPOINT", cloud.endpoint())
        .args(["scan", "--format", "json", "--max-attempts", "1"]);
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    let providers: Vec<&str> = rows
        .iter()
        .map(|r| r["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["aws", "azure", "gcp"], "{rows:#?}");
    for row in rows {
        assert_eq!(row["account"], serde_json::Value::Null, "{row}");
        assert_eq!(row["region"], serde_json::Value::Null, "{row}");
        assert_eq!(row["status"], "failed", "{row}");
        assert!(
            row["detail"].as_str().unwrap().starts_with("NoCredentials"),
            "{row}"
        );
    }
    assert!(
        cloud.requests().is_empty(),
        "nothing is sent without credentials: {:?}",
        cloud.requests()
    );
    // The Azure chain never tried the VM managed-identity address (the test environment
    // leaves it out), and the GCP metadata lookup went to a closed loopback port.
    let azure = rows[1]["detail"].as_str().unwrap();
    assert!(
        !azure.contains("virtual machine managed identity"),
        "{azure}"
    );
    assert!(
        azure.contains("Azure CLI"),
        "the rest of the chain was tried: {azure}"
    );
}

#[test]
fn the_aws_endpoint_flag_works_like_the_environment_variable() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist(&approve_all());
    let mut cmd = crate::support::command(home.path());
    cmd.env("AWS_ACCESS_KEY_ID", "AKIATESTKEY000000001")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1")
        .args([
            "scan",
            "--provider",
            "aws",
            "--format",
            "json",
            "--aws-endpoint",
            &cloud.endpoint(),
            "--now",
            "2026-11-15",
        ]);
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["mirrors"].as_array().unwrap().len(), 6);
}

#[test]
fn exclusions_acknowledge_a_scope_until_they_expire() {
    let faults = r#"
[[aws.faults]]
region = "eu-west-1"
kind = "denied"
"#;
    let exclusion = |scope: &str, expires: &str| {
        format!(
            "{}\n[[exclusions]]\nprovider = \"aws\"\nscope = \"{scope}\"\nowner = \"cloud@example.com\"\nticket = \"CLOUD-7\"\nreason = \"SCP closes it\"\nexpires = {expires}\n",
            approve_all()
        )
    };

    let cloud = TestCloud::start(&world(faults));
    let (home, _) = home_with_allowlist(&exclusion("111122223333:eu-west-1", "2027-01-01"));
    let run = scan(&cloud, home.path(), &["--format", "json"]);
    assert_eq!(
        run.code, 0,
        "an acknowledged gap is not incomplete coverage: {}",
        run.stdout
    );
    let report = run.json();
    let row = coverage_row(&report, "eu-west-1");
    assert_eq!(row["status"], "excluded");
    assert!(row["detail"].as_str().unwrap().contains("CLOUD-7"), "{row}");
    assert_eq!(
        cloud.count("DescribeTrafficMirrorSessions", "eu-west-1"),
        0,
        "excluded scopes are not called"
    );

    // Expired: the region is scanned again and its gap is back.
    let (home, _) = home_with_allowlist(&exclusion("111122223333:eu-west-1", "2026-11-01"));
    let run = scan(&cloud, home.path(), &["--format", "json"]);
    assert_eq!(run.code, 3);
    assert_eq!(coverage_row(&run.json(), "eu-west-1")["status"], "denied");

    // A whole account.
    let (home, _) = home_with_allowlist(&exclusion("111122223333", "2027-01-01"));
    let run = scan(&cloud, home.path(), &["--format", "json"]);
    assert_eq!(run.code, 0);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["status"], "excluded");
    assert_eq!(rows[0]["region"], serde_json::Value::Null);
    assert!(report["mirrors"].as_array().unwrap().is_empty());
}

#[test]
fn the_deadline_ends_the_run_and_the_report_is_still_written() {
    let (_cloud, run) = scan_json(
        r#"
[[aws.faults]]
region = "eu-west-1"
action = "DescribeTrafficMirrorSessions"
kind = "hang"
"#,
        &["--timeout", "60s", "--deadline", "1s"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let row = coverage_row(&report, "eu-west-1");
    assert_eq!(row["status"], "failed");
    assert!(
        row["detail"].as_str().unwrap().starts_with("Deadline"),
        "{row}"
    );
    assert_eq!(coverage_row(&report, "us-east-1")["status"], "scanned");
}

#[test]
fn a_named_profile_supplies_the_credentials() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist(&approve_all());
    std::fs::write(
        home.path().join("no-aws-config"),
        "[profile scanner]\nregion = eu-west-1\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join("no-aws-credentials"),
        "[scanner]\naws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = from-profile\n",
    )
    .unwrap();
    let mut cmd = crate::support::command(home.path());
    cmd.env("AWS_ENDPOINT_URL", cloud.endpoint()).args([
        "scan",
        "--provider",
        "aws",
        "--format",
        "json",
        "--aws-profile",
        "scanner",
        "--now",
        "2026-11-15",
    ]);
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["mirrors"].as_array().unwrap().len(), 6);
    // The profile's region is where the account-level calls went.
    let identity = cloud
        .requests()
        .into_iter()
        .find(|r| r.action == "GetCallerIdentity")
        .expect("identity call");
    assert_eq!(identity.region, "eu-west-1");
}
