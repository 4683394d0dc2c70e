//! The GCP adapter end to end (the fault kinds every provider shares are in
//! `conformance.rs`): the real google-cloud-compute-v1 clients with Application Default
//! Credentials (an `authorized_user` file whose token endpoint is the mock) against the Compute
//! mock over HTTP — aggregatedList paging across regions, `UNREACHABLE` scopes, URL
//! normalisation of collectors, switched-off policies, and firewall-policy mirroring rules.

use crate::support::{home_with_allowlist, mirror, scan, Run, TestCloud};
use serde_json::Value;

/// Five policies in us-central1 (with the project's other regions, three or more pages).
pub const PAGED: &str = "paged-project";
/// One policy in europe-west1.
pub const SINGLE: &str = "single-project";
/// Where the collectors live (another project: every collector is cross-project).
pub const TOOLS: &str = "shared-tools";

pub fn mirroring_id(project: &str, region: &str, name: &str) -> String {
    format!("projects/{project}/regions/{region}/packetMirrorings/{name}")
}

/// The test estate, `extra` appended (faults, more resources).
pub fn world(extra: &str) -> String {
    let mut toml = format!(
        r#"
[settings]
page_size = 2

[[gcp.projects]]
id = "{PAGED}"
regions = ["asia-east1", "us-central1", "us-east1"]

[[gcp.projects]]
id = "{SINGLE}"
regions = ["europe-west1"]
"#
    );
    for n in 1..=5 {
        toml.push_str(&format!(
            r#"
[[gcp.mirrorings]]
project = "{PAGED}"
region = "us-central1"
name = "pm-{n}"
id = {id}
network = "vpc-main"
collector = "https://www.googleapis.com/compute/v1/projects/{TOOLS}/regions/us-central1/forwardingRules/fr-ids"
subnetworks = ["subnet-{n}"]
instances = ["vm-{n}"]
tags = ["mirror-{n}"]
protocols = ["tcp", "udp"]
cidrs = ["10.0.0.0/8"]
direction = "INGRESS"
priority = {n}
"#,
            id = 1000 + n
        ));
    }
    toml.push_str(&format!(
        r#"
[[gcp.mirrorings]]
project = "{SINGLE}"
region = "europe-west1"
name = "pm-single"
id = 2001
network = "vpc-single"
collector = "projects/{TOOLS}/regions/europe-west1/forwardingRules/fr-ids-eu"
subnetworks = ["subnet-a"]
{extra}"#
    ));
    toml
}

/// Approves both collectors, written the three ways users paste them.
pub fn approve_all() -> String {
    format!(
        r#"
[[targets]]
provider = "gcp"
target = "https://compute.googleapis.com/compute/v1/projects/{TOOLS}/regions/us-central1/forwardingRules/fr-ids"
owner = "o"
ticket = "T-1"
reason = "IDS collector"
expires = 2027-01-01

[[targets]]
provider = "gcp"
target = "projects/{TOOLS}/regions/europe-west1/forwardingRules/fr-ids-eu"
owner = "o"
ticket = "T-2"
reason = "IDS collector, Europe"
expires = 2027-01-01
"#
    )
}

fn gcp_scan(cloud: &TestCloud, allowlist: &str, args: &[&str]) -> Run {
    let (home, _) = home_with_allowlist(allowlist);
    let mut all = vec!["--provider", "gcp", "--format", "json"];
    if !args.contains(&"--gcp-projects") {
        all.extend(["--gcp-projects", "paged-project,single-project"]);
    }
    all.extend_from_slice(args);
    scan(cloud, home.path(), &all)
}

fn row<'a>(report: &'a Value, project: &str, region: Option<&str>) -> &'a Value {
    report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account"] == project && r["region"].as_str() == region)
        .unwrap_or_else(|| panic!("no row {project}/{region:?}: {:#}", report["coverage"]))
}

#[test]
fn every_region_of_every_page_is_a_row_and_collectors_are_normalised() {
    let cloud = TestCloud::start(&world(""));
    let run = gcp_scan(&cloud, &approve_all(), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    for region in ["asia-east1", "us-central1", "us-east1"] {
        assert_eq!(row(&report, PAGED, Some(region))["status"], "scanned");
    }
    assert_eq!(row(&report, PAGED, Some("global"))["status"], "scanned");
    let m = mirror(&report, &mirroring_id(PAGED, "us-central1", "pm-3"));
    assert_eq!(m["kind"], "packet-mirroring");
    assert_eq!(m["region"], "us-central1");
    assert_eq!(
        m["target"]["id"],
        format!("projects/{TOOLS}/regions/us-central1/forwardingRules/fr-ids")
    );
    assert_eq!(m["target"]["kind"], "internal-load-balancer");
    assert_eq!(m["target"]["owner"], TOOLS);
    assert_eq!(m["cross_account"], true);
    assert_eq!(m["verdict"], "approved");
    let sources: Vec<(String, String)> = m["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(sources.contains(&(
        "subnetwork".into(),
        format!("projects/{PAGED}/regions/us-central1/subnetworks/subnet-3")
    )));
    assert!(sources.contains(&("network-tag".into(), "mirror-3".into())));
    assert!(sources
        .iter()
        .any(|(kind, id)| kind == "instance" && id.ends_with("/instances/vm-3")));
    assert!(m["sources"][0]["direction"] == "ingress");
    assert_eq!(m["priority"], 3);
    assert_eq!(
        m["network"],
        format!("projects/{PAGED}/global/networks/vpc-main")
    );
    assert_eq!(m["tags"], serde_json::json!({}));
    assert!(m["filter"]["accept"][0]
        .as_str()
        .unwrap()
        .contains("10.0.0.0/8"));
    // The calls carried the token the mock's token endpoint issued for the ADC file.
    assert!(cloud.requests().iter().any(|r| r.action == "token"));
}

#[test]
fn an_unreachable_region_is_a_gap_and_the_rest_is_kept() {
    let cloud = TestCloud::start(&world("").replace(
        "regions = [\"asia-east1\", \"us-central1\", \"us-east1\"]",
        "regions = [\"asia-east1\", \"us-central1\", \"us-east1\"]\nunreachable = [\"asia-east1\"]",
    ));
    let run = gcp_scan(&cloud, &approve_all(), &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    let gap = row(&report, PAGED, Some("asia-east1"));
    assert_eq!(gap["status"], "failed", "{gap}");
    assert!(gap["detail"].as_str().unwrap().starts_with("UNREACHABLE"));
    assert_eq!(
        row(&report, PAGED, Some("us-central1"))["status"],
        "scanned"
    );
    assert_eq!(
        report["mirrors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["account"] == PAGED)
            .count(),
        5
    );
}

#[test]
fn a_switched_off_policy_is_listed_and_judged_at_lower_severity() {
    let extra = format!(
        r#"
[[gcp.mirrorings]]
project = "{SINGLE}"
region = "europe-west1"
name = "pm-off"
id = 2002
network = "vpc-single"
collector = "fr-local"
subnetworks = ["subnet-db"]
enable = false

[[gcp.mirrorings]]
project = "{SINGLE}"
region = "europe-west1"
name = "pm-on"
id = 2003
network = "vpc-single"
collector = "fr-local"
subnetworks = ["subnet-db"]
"#
    );
    let cloud = TestCloud::start(&world(&extra));
    let run = gcp_scan(&cloud, &approve_all(), &[]);
    assert_eq!(run.code, 1);
    let report = run.json();
    let off = mirror(&report, &mirroring_id(SINGLE, "europe-west1", "pm-off"));
    let on = mirror(&report, &mirroring_id(SINGLE, "europe-west1", "pm-on"));
    assert_eq!(off["enabled"], false);
    assert_eq!(off["verdict"], "unapproved");
    assert_eq!(on["severity"], "high");
    assert_eq!(off["severity"], "medium");
    assert_eq!(
        off["target"]["id"],
        format!("projects/{SINGLE}/regions/europe-west1/forwardingRules/fr-local")
    );
}

#[test]
fn firewall_policy_mirroring_rules_are_mirrors_too() {
    let extra = format!(
        r#"
[[gcp.firewall_policies]]
project = "{SINGLE}"
name = "fwp-main"
id = 77
networks = ["vpc-single"]
mirroring_rules = [
  {{ priority = 100, action = "mirror", direction = "INGRESS", security_profile_group = "//networksecurity.googleapis.com/organizations/123/locations/global/securityProfileGroups/spg-rogue", src_ip_ranges = ["0.0.0.0/0"], protocols = ["tcp"], rule_name = "copy-all-tcp" }},
  {{ priority = 200, action = "do_not_mirror", direction = "INGRESS", src_ip_ranges = ["10.0.0.0/8"] }},
]
"#
    );
    let cloud = TestCloud::start(&world(&extra));
    let run = gcp_scan(&cloud, &approve_all(), &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    let rules: Vec<&Value> = report["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "firewall-policy-mirroring-rule")
        .collect();
    assert_eq!(
        rules.len(),
        1,
        "do_not_mirror rules copy nothing: {rules:#?}"
    );
    let rule = rules[0];
    assert_eq!(
        rule["id"],
        format!("projects/{SINGLE}/global/firewallPolicies/fwp-main/packetMirroringRules/100")
    );
    assert_eq!(
        rule["target"]["id"],
        "organizations/123/locations/global/securityProfileGroups/spg-rogue"
    );
    assert_eq!(rule["target"]["kind"], "security-profile-group");
    assert_eq!(
        rule["sources"][0]["id"],
        format!("projects/{SINGLE}/global/networks/vpc-single")
    );
    assert_eq!(rule["verdict"], "unapproved");

    let approved = format!(
        "{}\n[[targets]]\nprovider = \"gcp\"\ntarget = \"https://networksecurity.googleapis.com/v1/organizations/123/locations/global/securityProfileGroups/spg-rogue\"\nowner = \"o\"\nticket = \"T-3\"\nreason = \"r\"\nexpires = 2027-01-01\n",
        approve_all()
    );
    assert_eq!(gcp_scan(&cloud, &approved, &[]).code, 0);
}

#[test]
fn without_a_project_the_gap_says_so() {
    let cloud = TestCloud::start(&world(""));
    let (home, _) = home_with_allowlist(&approve_all());
    let run = scan(
        &cloud,
        home.path(),
        &["--provider", "gcp", "--format", "json"],
    );
    assert_eq!(run.code, 3);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["detail"].as_str().unwrap().starts_with("NoProject"));
}

#[test]
fn a_project_with_the_compute_api_disabled_is_disabled_not_a_gap() {
    let cloud = TestCloud::start(&world("").replace(
        "regions = [\"europe-west1\"]",
        "regions = [\"europe-west1\"]\ncompute_api_disabled = true",
    ));
    let run = gcp_scan(&cloud, &approve_all(), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    let rows: Vec<&Value> = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["account"] == SINGLE)
        .collect();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["status"], "disabled", "{row}");
        assert!(row["detail"]
            .as_str()
            .unwrap()
            .starts_with("SERVICE_DISABLED"));
    }
}

#[test]
fn an_excluded_region_is_acknowledged_and_an_excluded_project_not_called() {
    let cloud = TestCloud::start(&world("").replace(
        "regions = [\"asia-east1\", \"us-central1\", \"us-east1\"]",
        "regions = [\"asia-east1\", \"us-central1\", \"us-east1\"]\nunreachable = [\"asia-east1\"]",
    ));
    let exclusion = |scope: &str| {
        format!("\n[[exclusions]]\nprovider = \"gcp\"\nscope = \"{scope}\"\nowner = \"o\"\nticket = \"NET-1\"\nreason = \"r\"\nexpires = 2027-01-01\n")
    };
    let allowlist = format!(
        "{}{}{}",
        approve_all(),
        exclusion(&format!("{PAGED}:asia-east1")),
        exclusion(SINGLE)
    );
    let run = gcp_scan(&cloud, &allowlist, &[]);
    assert_eq!(
        run.code, 0,
        "the unreachable region is acknowledged: {}",
        run.stdout
    );
    let report = run.json();
    assert_eq!(
        row(&report, PAGED, Some("asia-east1"))["status"],
        "excluded"
    );
    assert_eq!(row(&report, SINGLE, None)["status"], "excluded");
    assert_eq!(cloud.count_in("packetMirrorings.aggregatedList", SINGLE), 0);
}

#[test]
fn service_disabled_with_another_quota_project_stays_a_gap() {
    // With a quota project, Google checks API enablement there: the 403 may not be about the
    // scanned project, so it must not read as a disabled (clean) project.
    let cloud = TestCloud::start(&world("").replace(
        "regions = [\"europe-west1\"]",
        "regions = [\"europe-west1\"]\ncompute_api_disabled = true",
    ));
    let (home, _) = home_with_allowlist(&approve_all());
    let mut cmd = crate::support::command(home.path());
    crate::support::with_cloud_credentials(&mut cmd, &cloud, home.path());
    cmd.env("GOOGLE_CLOUD_QUOTA_PROJECT", "billing-project")
        .args([
            "scan",
            "--provider",
            "gcp",
            "--format",
            "json",
            "--gcp-projects",
            SINGLE,
            "--now",
            "2026-11-15",
        ]);
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    let whole = row(&report, SINGLE, None);
    assert_eq!(whole["status"], "failed", "{whole}");
    let detail = whole["detail"].as_str().unwrap();
    assert!(detail.starts_with("SERVICE_DISABLED"), "{detail}");
    assert!(detail.contains("billing-project"), "{detail}");
}

#[test]
fn excluding_a_project_on_the_command_line_is_reported_not_dropped() {
    let cloud = TestCloud::start(&world(""));
    let run = gcp_scan(&cloud, &approve_all(), &["--gcp-exclude-projects", SINGLE]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    let excluded = row(&report, SINGLE, None);
    assert_eq!(excluded["status"], "excluded");
    assert!(excluded["detail"]
        .as_str()
        .unwrap()
        .contains("--gcp-exclude-projects"));
    assert_eq!(cloud.count_in("packetMirrorings.aggregatedList", SINGLE), 0);
}
