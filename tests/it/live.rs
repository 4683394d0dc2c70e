//! Live audit sources end to end: the real aws-sdk-cloudtrail, azure_core and
//! google-cloud-logging-v2 clients against the mock's LookupEvents, Activity Log and
//! `entries:list`, whose records the mock renders from the same world file as the inventory.
//!
//! The first tests show what only live logs reveal (a mirror created and deleted between two
//! scans), the CloudTrail pacing (counted, not timed), retention and credentials gaps; the
//! harness at the bottom runs every fault kind against each of the three sources.

use crate::support::{audit_live, home_with_allowlist, scan, Run, TestCloud};
use serde_json::Value;

const ACCOUNT: &str = "111122223333";
const SUBSCRIPTION: &str = "3b8e6a2c-5d4f-4e1a-9c7b-2f0d1e3c4b5a";
const PROJECT: &str = "acme-live-prod";

/// AWS: one approved mirror created this morning by the pipeline; and, in eu-west-1, a mirror
/// to a load balancer in an unknown account that a CI role created at 02:10 and deleted at
/// 04:40 — the inventory never sees it. One more change three days ago, outside the window.
fn aws_world(extra: &str) -> String {
    format!(
        r#"
[settings]
page_size = 2

[[aws.accounts]]
id = "{ACCOUNT}"
regions = ["eu-west-1", "us-east-1"]

[[aws.sessions]]
account = "{ACCOUNT}"
region = "us-east-1"
id = "tms-0a00000000000aaa1"
target = "tmt-0a00000000000aaa1"
filter = "tmf-0a00000000000aaa1"
source = "eni-0a00000000000e001"
created_at = "2026-11-15T08:00:00Z"
created_by = "arn:aws:iam::{ACCOUNT}:role/NetworkPipeline"

[[aws.targets]]
account = "{ACCOUNT}"
region = "us-east-1"
id = "tmt-0a00000000000aaa1"
type = "network-interface"
resource = "eni-0a00000000000aaa1"

[[aws.filters]]
account = "{ACCOUNT}"
region = "us-east-1"
id = "tmf-0a00000000000aaa1"

[[aws.events]]
account = "{ACCOUNT}"
region = "eu-west-1"
time = "2026-11-15T02:10:00Z"
name = "CreateTrafficMirrorTarget"
actor = "arn:aws:iam::{ACCOUNT}:role/ci-deployer"
resource = "tmt-0e0e0e0e0e0e0e0e1"
load_balancer = "arn:aws:elasticloadbalancing:eu-west-1:999988887777:loadbalancer/net/exfil/0123456789abcdef"
id = "e0000000-0000-4000-8000-000000000001"

[[aws.events]]
account = "{ACCOUNT}"
region = "eu-west-1"
time = "2026-11-15T02:11:00Z"
name = "CreateTrafficMirrorSession"
actor = "arn:aws:iam::{ACCOUNT}:role/ci-deployer"
resource = "tms-0e0e0e0e0e0e0e0e1"
target = "tmt-0e0e0e0e0e0e0e0e1"
source = "eni-0b00000000000db01"
filter = "tmf-0e0e0e0e0e0e0e0e1"
id = "e0000000-0000-4000-8000-000000000002"

[[aws.events]]
account = "{ACCOUNT}"
region = "eu-west-1"
time = "2026-11-15T04:40:00Z"
name = "DeleteTrafficMirrorSession"
actor = "arn:aws:iam::{ACCOUNT}:role/ci-deployer"
resource = "tms-0e0e0e0e0e0e0e0e1"
id = "e0000000-0000-4000-8000-000000000003"

[[aws.events]]
account = "{ACCOUNT}"
region = "eu-west-1"
time = "2026-11-12T10:00:00Z"
name = "CreateTrafficMirrorFilter"
actor = "arn:aws:iam::{ACCOUNT}:role/ci-deployer"
resource = "tmf-0e0e0e0e0e0e0e0e9"
id = "e0000000-0000-4000-8000-000000000009"
{extra}"#
    )
}

fn aws_allowlist() -> String {
    format!(
        r#"[[targets]]
provider = "aws"
target = "eni-0a00000000000aaa1"
owner = "netsec@example.com"
ticket = "SEC-1"
reason = "IDS sensor"
expires = 2027-06-30

[[principals]]
provider = "aws"
actor = "arn:aws:iam::{ACCOUNT}:role/NetworkPipeline"
owner = "netsec@example.com"
ticket = "SEC-2"
reason = "the network team's pipeline"
expires = 2027-06-30
"#
    )
}

fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn record_ids(events: &Value) -> Vec<String> {
    let mut ids: Vec<String> = events
        .as_array()
        .expect("events")
        .iter()
        .flat_map(|e| e["record_ids"].as_array().cloned().unwrap_or_default())
        .map(|id| id.as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_mirror_created_and_deleted_between_scans_is_found_only_through_live_logs() {
    let cloud = TestCloud::start(&aws_world(""));
    let (home, _) = home_with_allowlist(&aws_allowlist());

    // Without the logs the estate looks clean: the one mirror that exists is approved.
    let inventory_only = scan(&cloud, home.path(), &["--format", "json"]);
    assert_eq!(inventory_only.code, 0, "{}", inventory_only.stderr);
    assert!(findings(&inventory_only.json(), "ephemeral-mirror").is_empty());

    let run = scan(
        &cloud,
        home.path(),
        &["--audit-live", "--since", "24h", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    let ephemeral = findings(&report, "ephemeral-mirror");
    assert_eq!(ephemeral.len(), 1, "{:#}", report["findings"]);
    assert_eq!(ephemeral[0]["resource"], "tms-0e0e0e0e0e0e0e0e1");
    assert_eq!(ephemeral[0]["region"], "eu-west-1");

    let audit = &report["audit"];
    let rows = audit["audit_coverage"].as_array().expect("audit_coverage");
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for row in rows {
        assert_eq!(row["status"], "scanned", "{row}");
        assert_eq!(row["source"], "cloudtrail-lookup-events");
        assert_eq!(row["since"], "2026-11-14T12:00:00Z");
        assert_eq!(row["until"], "2026-11-15T12:00:00Z");
        // One lookup per catalogued AWS event name at least.
        assert!(row["requests"].as_u64().unwrap() >= 11, "{row}");
    }
    // Every change in the window exactly once, the one three days ago not at all.
    let ids = record_ids(&audit["events"]);
    assert!(ids.contains(&"e0000000-0000-4000-8000-000000000001".to_string()));
    assert!(ids.contains(&"e0000000-0000-4000-8000-000000000002".to_string()));
    assert!(ids.contains(&"e0000000-0000-4000-8000-000000000003".to_string()));
    assert!(!ids.contains(&"e0000000-0000-4000-8000-000000000009".to_string()));
    assert_eq!(
        ids.len(),
        4,
        "three eu-west-1 changes and the pipeline's: {ids:?}"
    );

    // The approved mirror's creator comes from the same logs, sanctioned.
    let mirror = crate::support::mirror(&report, "tms-0a00000000000aaa1");
    assert_eq!(
        mirror["created_by"]["actor"],
        format!("arn:aws:iam::{ACCOUNT}:role/NetworkPipeline")
    );
    assert_eq!(mirror["created_by"]["verdict"], "sanctioned");
    assert_eq!(cloud.rate_limited(), 0);
}

#[test]
fn lookup_events_stays_under_the_rate_limit_and_loses_no_event() {
    // Nine sessions created in one region: five pages of CreateTrafficMirrorSession, and one
    // page for each of the ten other names — 15 calls in one account and region, which the
    // mock's limiter (2/s, burst 2) refuses the moment two arrive too close together.
    let events: String = (1..=9)
        .map(|n| {
            format!(
                r#"
[[aws.events]]
account = "{ACCOUNT}"
region = "us-east-1"
time = "2026-11-15T0{n}:00:00Z"
name = "CreateTrafficMirrorSession"
actor = "arn:aws:iam::{ACCOUNT}:role/NetworkPipeline"
resource = "tms-0c0000000000000{n:02}"
target = "tmt-0a00000000000aaa1"
id = "c0000000-0000-4000-8000-0000000000{n:02}"
"#
            )
        })
        .collect();
    let world = format!(
        "[settings]\npage_size = 2\n\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = [\"us-east-1\"]\n{events}"
    );
    let cloud = TestCloud::start(&world);
    // The sessions' target is approved by its `tmt-…` (no inventory here to resolve it).
    let (home, _) = home_with_allowlist(&format!(
        "{}\n[[targets]]\nprovider = \"aws\"\ntarget = \"tmt-0a00000000000aaa1\"\nowner = \"netsec@example.com\"\nticket = \"SEC-7\"\nreason = \"IDS target\"\nexpires = 2027-06-30\n",
        aws_allowlist()
    ));
    let run = audit_live(
        &cloud,
        home.path(),
        &["--provider", "aws", "--since", "24h", "--format", "json"],
    );
    let report = run.json();
    assert_eq!(
        cloud.rate_limited(),
        0,
        "no call was refused by the limiter"
    );
    let lookups = cloud
        .requests()
        .iter()
        .filter(|r| r.action == "LookupEvents")
        .count();
    assert_eq!(lookups, 15, "no call was made twice: none was throttled");
    let expected: Vec<String> = (1..=9)
        .map(|n| format!("c0000000-0000-4000-8000-0000000000{n:02}"))
        .collect();
    assert_eq!(record_ids(&report["events"]), expected, "no event lost");
    assert_eq!(report["audit_coverage"][0]["status"], "scanned");
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The control: the same world asked four times as fast is throttled by the mock, so the
    // count above is a real measurement of the pacing.
    let fast = TestCloud::start(&world);
    let _ = audit_live(
        &fast,
        home.path(),
        &[
            "--provider",
            "aws",
            "--since",
            "24h",
            "--format",
            "json",
            "--cloudtrail-rate",
            "8",
        ],
    );
    assert!(
        fast.rate_limited() > 0,
        "a client without pacing is refused"
    );
}

#[test]
fn a_window_longer_than_the_retention_is_a_gap_for_the_part_cut_off() {
    let cloud = TestCloud::start(&aws_world(""));
    let (home, _) = home_with_allowlist(&aws_allowlist());
    let run = audit_live(
        &cloud,
        home.path(),
        &["--provider", "aws", "--since", "120d", "--format", "json"],
    );
    assert_eq!(
        run.code, 1,
        "the ephemeral mirror is still found: {}",
        run.stderr
    );
    let report = run.json();
    let rows = report["audit_coverage"].as_array().expect("audit_coverage");
    let gap = rows
        .iter()
        .find(|r| r["account"].is_null())
        .expect("a provider-wide retention row");
    assert_eq!(gap["status"], "failed");
    assert!(
        gap["detail"]
            .as_str()
            .unwrap()
            .starts_with("RetentionExceeded: CloudTrail LookupEvents keeps 90 days"),
        "{gap}"
    );
    assert_eq!(gap["since"], "2026-07-18T12:00:00Z");
    assert_eq!(gap["until"], "2026-08-17T12:00:00Z");
    for row in rows.iter().filter(|r| !r["account"].is_null()) {
        assert_eq!(row["status"], "scanned", "{row}");
        assert_eq!(row["since"], "2026-08-17T12:00:00Z", "{row}");
    }
    // What was asked is the retention's start, never further back.
    for request in cloud
        .requests()
        .iter()
        .filter(|r| r.action == "LookupEvents")
    {
        let asked = request
            .params
            .iter()
            .find(|(k, _)| k == "StartTime")
            .map(|(_, v)| v.as_str());
        assert_eq!(asked, Some("2026-08-17T12:00:00Z"), "{request:?}");
    }
    assert!(findings(&report, "audit-coverage-gap").len() == 1);

    // Without the ephemeral mirror the only problem is the gap: exit 3, not a clean 0.
    let quiet =
        TestCloud::start("[[aws.accounts]]\nid = \"111122223333\"\nregions = [\"us-east-1\"]\n");
    let run = audit_live(
        &quiet,
        home.path(),
        &["--provider", "aws", "--since", "120d"],
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("RetentionExceeded"), "{}", run.stdout);

    // A window entirely older than the retention asks nothing and says so for every scope.
    let old =
        TestCloud::start("[[aws.accounts]]\nid = \"111122223333\"\nregions = [\"us-east-1\"]\n");
    let run = audit_live(
        &old,
        home.path(),
        &[
            "--provider",
            "aws",
            "--since",
            "200d",
            "--until",
            "100d",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3);
    let report = run.json();
    let row = &report["audit_coverage"][0];
    assert_eq!(row["region"], "us-east-1");
    assert_eq!(row["status"], "failed");
    assert!(row["detail"]
        .as_str()
        .unwrap()
        .starts_with("RetentionExceeded"));
    assert_eq!(
        old.requests()
            .iter()
            .filter(|r| r.action == "LookupEvents")
            .count(),
        0
    );
}

#[test]
fn a_cloud_without_credentials_is_an_audit_gap_not_an_empty_log() {
    let cloud = TestCloud::start(&aws_world(""));
    let (home, _) = home_with_allowlist(&aws_allowlist());
    let mut cmd = crate::support::command(home.path());
    cmd.args([
        "audit",
        "--live",
        "--provider",
        "azure",
        "--now",
        "2026-11-15T12:00:00Z",
        "--format",
        "json",
    ])
    .env("MIRRORGUARD_AZURE_ENDPOINT", cloud.endpoint());
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let row = &report["audit_coverage"][0];
    assert_eq!(row["provider"], "azure");
    assert!(row["account"].is_null());
    assert_eq!(row["status"], "failed");
    assert!(row["detail"].as_str().unwrap().starts_with("NoCredentials"));

    // Even when none of the window is within the retention, the missing credentials show.
    let mut cmd = crate::support::command(home.path());
    cmd.args([
        "audit",
        "--live",
        "--provider",
        "azure",
        "--now",
        "2026-11-15T12:00:00Z",
        "--since",
        "200d",
        "--until",
        "100d",
        "--format",
        "json",
    ])
    .env("MIRRORGUARD_AZURE_ENDPOINT", cloud.endpoint());
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let rows = run.json()["audit_coverage"].clone();
    assert!(
        rows.as_array().unwrap().iter().any(|r| r["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("NoCredentials"))),
        "{rows:#}"
    );
}

#[test]
fn audit_flags_for_clouds_need_live() {
    let (home, _) = home_with_allowlist("");
    let mut cmd = crate::support::command(home.path());
    cmd.args(["audit", "some.json", "--aws-regions", "us-east-1"]);
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--aws-regions"), "{}", run.stderr);
    assert!(run.stderr.contains("--live"), "{}", run.stderr);
}

/// Azure: an approved vTAP, and one a contractor created and deleted inside the window.
fn azure_world(extra: &str) -> String {
    format!(
        r#"
[settings]
page_size = 2

[[azure.subscriptions]]
id = "{SUBSCRIPTION}"

[[azure.taps]]
subscription = "{SUBSCRIPTION}"
resource_group = "rg-ids"
name = "vtap-ids"
location = "westeurope"
destination_ip_configuration = "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ids/providers/Microsoft.Network/networkInterfaces/ids-nic/ipConfigurations/ipconfig1"
destination_port = 4789
created_at = "2026-11-15T07:00:00Z"
created_by = "netops@contoso.example"

[[azure.nics]]
subscription = "{SUBSCRIPTION}"
resource_group = "rg-app"
name = "web-nic"
location = "westeurope"
taps = ["/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ids/providers/Microsoft.Network/virtualNetworkTaps/vtap-ids"]

[[azure.events]]
subscription = "{SUBSCRIPTION}"
time = "2026-11-15T01:00:00Z"
operation = "Microsoft.Network/virtualNetworkTaps/write"
resource = "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworkTaps/vtap-tmp"
caller = "contractor@contoso.example"

[[azure.events]]
subscription = "{SUBSCRIPTION}"
time = "2026-11-15T03:30:00Z"
operation = "Microsoft.Network/virtualNetworkTaps/delete"
resource = "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworkTaps/vtap-tmp"
caller = "contractor@contoso.example"
{extra}"#
    )
}

fn azure_allowlist() -> String {
    format!(
        r#"[[targets]]
provider = "azure"
target = "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ids/providers/Microsoft.Network/networkInterfaces/ids-nic/ipConfigurations/ipconfig1"
owner = "netsec@example.com"
ticket = "SEC-3"
reason = "IDS"
expires = 2027-06-30

[[principals]]
provider = "azure"
actor = "netops@contoso.example"
owner = "netsec@example.com"
ticket = "SEC-4"
reason = "network operations"
expires = 2027-06-30
"#
    )
}

#[test]
fn azure_activity_log_reveals_an_ephemeral_vtap() {
    let cloud = TestCloud::start(&azure_world(""));
    let (home, _) = home_with_allowlist(&azure_allowlist());
    let run = scan(
        &cloud,
        home.path(),
        &["--provider", "azure", "--audit-live", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    let ephemeral = findings(&report, "ephemeral-mirror");
    assert_eq!(ephemeral.len(), 1, "{:#}", report["findings"]);
    assert!(ephemeral[0]["resource"]
        .as_str()
        .unwrap()
        .ends_with("virtualNetworkTaps/vtap-tmp"));
    let row = &report["audit"]["audit_coverage"][0];
    assert_eq!(row["status"], "scanned", "{row}");
    assert_eq!(row["account"], SUBSCRIPTION);
    assert_eq!(row["source"], "azure-activity-log");
    // Three changes, each logged as Started and Succeeded: six records, three events.
    assert_eq!(row["records"], 6, "{row}");
    assert_eq!(report["audit"]["events"].as_array().unwrap().len(), 3);
    let tap = report["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"].as_str().unwrap().ends_with("vtap-ids"))
        .expect("the approved vTAP");
    assert_eq!(tap["created_by"]["actor"], "netops@contoso.example");
    // The filter the API requires went to the server.
    let request = cloud
        .requests()
        .into_iter()
        .find(|r| r.action == "activityLogs")
        .expect("an Activity Log query");
    let filter = request
        .params
        .iter()
        .find(|(k, _)| k == "$filter")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert_eq!(
        filter,
        "eventTimestamp ge '2026-11-14T11:00:00Z' and eventTimestamp le '2026-11-15T12:00:00Z' and resourceProvider eq 'Microsoft.Network'"
    );
}

/// GCP: an approved packet mirroring, and one created and deleted inside the window.
fn gcp_world(extra: &str) -> String {
    format!(
        r#"
[settings]
page_size = 2

[[gcp.projects]]
id = "{PROJECT}"
regions = ["us-central1"]

[[gcp.mirrorings]]
project = "{PROJECT}"
region = "us-central1"
name = "pm-ids"
id = 4242
network = "prod-vpc"
collector = "fr-ids"
subnetworks = ["prod-subnet"]
created_at = "2026-11-15T06:00:00Z"
created_by = "netops@acme.example"

[[gcp.events]]
project = "{PROJECT}"
time = "2026-11-15T00:30:00Z"
method = "v1.compute.packetMirrorings.insert"
resource = "projects/{PROJECT}/regions/us-central1/packetMirrorings/pm-tmp"
principal = "mallory@acme.example"
collector = "projects/evil-project/regions/us-central1/forwardingRules/fr-exfil"

[[gcp.events]]
project = "{PROJECT}"
time = "2026-11-15T02:00:00Z"
method = "v1.compute.packetMirrorings.delete"
resource = "projects/{PROJECT}/regions/us-central1/packetMirrorings/pm-tmp"
principal = "mallory@acme.example"
{extra}"#
    )
}

fn gcp_allowlist() -> String {
    format!(
        r#"[[targets]]
provider = "gcp"
target = "projects/{PROJECT}/regions/us-central1/forwardingRules/fr-ids"
owner = "netsec@example.com"
ticket = "SEC-5"
reason = "IDS"
expires = 2027-06-30

[[principals]]
provider = "gcp"
actor = "netops@acme.example"
owner = "netsec@example.com"
ticket = "SEC-6"
reason = "network operations"
expires = 2027-06-30
"#
    )
}

#[test]
fn gcp_cloud_logging_reveals_an_ephemeral_packet_mirroring() {
    let cloud = TestCloud::start(&gcp_world(""));
    let (home, _) = home_with_allowlist(&gcp_allowlist());
    let run = scan(
        &cloud,
        home.path(),
        &[
            "--provider",
            "gcp",
            "--gcp-projects",
            PROJECT,
            "--audit-live",
            "--since",
            "2026-11-14T12:00:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    let ephemeral = findings(&report, "ephemeral-mirror");
    assert_eq!(ephemeral.len(), 1, "{:#}", report["findings"]);
    assert_eq!(
        ephemeral[0]["resource"],
        format!("projects/{PROJECT}/regions/us-central1/packetMirrorings/pm-tmp")
    );
    let rows = report["audit"]["audit_coverage"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "one row per project, not per region: {rows:#?}"
    );
    assert_eq!(rows[0]["status"], "scanned");
    assert_eq!(rows[0]["source"], "gcp-cloud-logging");
    assert_eq!(report["audit"]["events"].as_array().unwrap().len(), 3);
    let request = cloud
        .requests()
        .into_iter()
        .find(|r| r.action == "entries.list")
        .expect("a Cloud Logging query");
    let filter = request
        .params
        .iter()
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(filter.starts_with(&format!(
        "logName=\"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity\" AND protoPayload.serviceName=\"compute.googleapis.com\" AND protoPayload.methodName:(\"compute.packetMirrorings.insert\""
    )), "{filter}");
    assert!(
        filter.ends_with(
            "AND timestamp>=\"2026-11-14T12:00:00Z\" AND timestamp<\"2026-11-15T12:00:00Z\""
        ),
        "{filter}"
    );
}

/// Records at the window's edges, per source: `--since` is inclusive, `--until` exclusive, and
/// nothing inside the last second before `--until` is lost (the APIs take whole seconds).
#[test]
fn the_window_keeps_its_edges_exactly() {
    let aws: String = [
        ("2026-11-15T09:59:59Z", "out"),
        ("2026-11-15T10:00:00Z", "in"),
        ("2026-11-15T10:59:59Z", "in"),
        ("2026-11-15T11:00:00Z", "out"),
    ]
    .iter()
    .enumerate()
    .map(|(n, (time, _))| {
        format!(
            "\n[[aws.events]]\naccount = \"{ACCOUNT}\"\nregion = \"us-east-1\"\ntime = \"{time}\"\nname = \"DeleteTrafficMirrorSession\"\nactor = \"arn:aws:iam::{ACCOUNT}:role/ci-deployer\"\nresource = \"tms-0f000000000000{n:03}\"\n"
        )
    })
    .collect();
    // Azure logs Started one second before the final record; GCP the last entry five seconds
    // after the first. A change is in the window when one of its records is.
    let azure: String = [
        "2026-11-15T09:59:58Z",
        "2026-11-15T10:00:01Z",
        "2026-11-15T10:59:59.5Z",
        "2026-11-15T11:00:01Z",
    ]
    .iter()
    .enumerate()
    .map(|(n, time)| {
        format!(
            "\n[[azure.events]]\nsubscription = \"{SUBSCRIPTION}\"\ntime = \"{time}\"\noperation = \"Microsoft.Network/virtualNetworkTaps/delete\"\nresource = \"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkTaps/vtap-{n}\"\ncaller = \"contractor@contoso.example\"\n"
        )
    })
    .collect();
    let gcp: String = [
        "2026-11-15T09:59:50Z",
        "2026-11-15T10:00:00Z",
        "2026-11-15T10:59:59.5Z",
        "2026-11-15T11:00:00Z",
    ]
    .iter()
    .enumerate()
    .map(|(n, time)| {
        format!(
            "\n[[gcp.events]]\nproject = \"{PROJECT}\"\ntime = \"{time}\"\nmethod = \"v1.compute.packetMirrorings.delete\"\nresource = \"projects/{PROJECT}/regions/us-central1/packetMirrorings/pm-{n}\"\nprincipal = \"mallory@acme.example\"\n"
        )
    })
    .collect();
    let world = format!(
        "[settings]\npage_size = 2\ncloudtrail_rate = 0\n\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = [\"us-east-1\"]\n\n[[azure.subscriptions]]\nid = \"{SUBSCRIPTION}\"\n\n[[gcp.projects]]\nid = \"{PROJECT}\"\nregions = [\"us-central1\"]\n{aws}{azure}{gcp}"
    );
    let cloud = TestCloud::start(&world);
    let (home, _) = home_with_allowlist("");
    let run = audit_live(
        &cloud,
        home.path(),
        &[
            "--provider",
            "aws,azure,gcp",
            "--gcp-projects",
            PROJECT,
            "--since",
            "2026-11-15T10:00:00Z",
            "--until",
            "2026-11-15T11:00:00Z",
            "--cloudtrail-rate",
            "200",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    assert_eq!(report["window"]["since"], "2026-11-15T10:00:00Z");
    assert_eq!(report["window"]["until"], "2026-11-15T11:00:00Z");
    let resources = |provider: &str| {
        let mut found: Vec<String> = report["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["provider"] == provider)
            .map(|e| {
                let r = e["resource"].as_str().unwrap();
                r.rsplit(['/', '-']).next().unwrap().to_string()
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(resources("aws"), ["0f000000000000001", "0f000000000000002"]);
    assert_eq!(resources("azure"), ["1", "2"]);
    assert_eq!(resources("gcp"), ["1", "2"]);
}

/// A scope the deadline cuts keeps the pages it read: an unsanctioned change on the first page
/// is still a violation (exit 1), not hidden behind the gap.
#[test]
fn the_deadline_keeps_the_pages_already_read() {
    let events: String = (1..=3)
        .map(|n| {
            format!(
                "\n[[gcp.events]]\nproject = \"{PROJECT}\"\ntime = \"2026-11-15T0{n}:00:00Z\"\nmethod = \"v1.compute.packetMirrorings.delete\"\nresource = \"projects/{PROJECT}/regions/us-central1/packetMirrorings/pm-{n}\"\nprincipal = \"mallory@acme.example\"\n"
            )
        })
        .collect();
    let world = format!(
        "[settings]\npage_size = 2\n\n[[gcp.projects]]\nid = \"{PROJECT}\"\nregions = [\"us-central1\"]\n{events}\n[[gcp.faults]]\naction = \"entries.list\"\nkind = \"slow\"\nms = 900\n"
    );
    let cloud = TestCloud::start(&world);
    let (home, _) = home_with_allowlist("");
    let run = audit_live(
        &cloud,
        home.path(),
        &[
            "--provider",
            "gcp",
            "--gcp-projects",
            PROJECT,
            "--since",
            "24h",
            "--deadline",
            "1400ms",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    let row = &report["audit_coverage"][0];
    assert_eq!(row["status"], "failed", "{row}");
    assert!(
        row["detail"].as_str().unwrap().starts_with("Deadline"),
        "{row}"
    );
    let events = report["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "the first page's change: {events:#?}");
    assert_eq!(events[0]["verdict"], "unsanctioned");
}

/// A page cap on one CloudTrail lookup leaves the other event names asked: the session created
/// in the same region is still seen.
#[test]
fn one_lookup_cut_short_does_not_hide_the_other_names() {
    let mut world = format!(
        "[settings]\npage_size = 2\ncloudtrail_rate = 0\n\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = [\"us-east-1\"]\n"
    );
    for n in 1..=5 {
        world.push_str(&format!(
            "\n[[aws.events]]\naccount = \"{ACCOUNT}\"\nregion = \"us-east-1\"\ntime = \"2026-11-15T0{n}:00:00Z\"\nname = \"CreateTrafficMirrorTarget\"\nactor = \"arn:aws:iam::{ACCOUNT}:role/NetworkPipeline\"\nresource = \"tmt-0d0000000000000{n:02}\"\nsource = \"eni-0a00000000000aaa1\"\n"
        ));
    }
    world.push_str(&format!(
        "\n[[aws.events]]\naccount = \"{ACCOUNT}\"\nregion = \"us-east-1\"\ntime = \"2026-11-15T07:00:00Z\"\nname = \"CreateTrafficMirrorSession\"\nactor = \"arn:aws:iam::{ACCOUNT}:role/ci-deployer\"\nresource = \"tms-0d00000000000000f\"\ntarget = \"tmt-0d000000000000001\"\n"
    ));
    let cloud = TestCloud::start(&world);
    let (home, _) = home_with_allowlist(&aws_allowlist());
    let run = audit_live(
        &cloud,
        home.path(),
        &[
            "--provider",
            "aws",
            "--since",
            "24h",
            "--max-pages",
            "2",
            "--cloudtrail-rate",
            "200",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    let row = &report["audit_coverage"][0];
    assert_eq!(row["status"], "failed", "{row}");
    assert!(
        row["detail"].as_str().unwrap().starts_with("PageCap"),
        "{row}"
    );
    assert!(report["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["resource"] == "tms-0d00000000000000f" && e["verdict"] == "unsanctioned"));
}

#[test]
fn an_empty_window_is_a_usage_error() {
    let cloud = TestCloud::start(&aws_world(""));
    let (home, _) = home_with_allowlist(&aws_allowlist());
    let run = audit_live(
        &cloud,
        home.path(),
        &["--provider", "aws", "--since", "2026-12-01T00:00:00Z"],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("window is empty"), "{}", run.stderr);
    assert!(cloud.requests().is_empty(), "nothing was asked");
}

// ---- The fault harness, once per live source ---------------------------------------------

/// The faults the mock can inject into a log query.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Denied,
    Throttled { times: u32 },
    Failing,
    Malformed,
    Hang,
    TokenLoop,
    Slow { ms: u64 },
}

impl Fault {
    fn world_keys(self) -> String {
        match self {
            Fault::Denied => "kind = \"denied\"\n".into(),
            Fault::Throttled { times } => format!("kind = \"throttled\"\ntimes = {times}\n"),
            Fault::Failing => "kind = \"failing\"\n".into(),
            Fault::Malformed => "kind = \"malformed\"\n".into(),
            Fault::Hang => "kind = \"hang\"\n".into(),
            Fault::TokenLoop => "kind = \"token-loop\"\n".into(),
            Fault::Slow { ms } => format!("kind = \"slow\"\nms = {ms}\n"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Five changes by a sanctioned actor: several pages at the mock's page size.
    Paged,
    /// One change.
    Single,
}

/// What the harness needs of one live source.
trait LiveFixture {
    /// Listings per scope: CloudTrail asks once per catalogued event name, the others once.
    const LISTINGS: usize;
    const DENIED_CODE: &'static str;
    const THROTTLED_CODE: &'static str;
    const SERVER_ERROR_CODE: &'static str;
    /// A world with five changes in the paged scope, one in the single one, and `fault` (if
    /// any) aimed at `scope`'s log query.
    fn world(fault: Option<(Fault, Scope)>) -> String;
    /// Sanctions the actor of every change of [`LiveFixture::world`].
    fn allowlist() -> String;
    fn args() -> Vec<&'static str>;
    /// The audit_coverage row's key field and value for a scope.
    fn row_key(scope: Scope) -> (&'static str, &'static str);
    /// The mock's requests for a scope's log query.
    fn queries(cloud: &TestCloud, scope: Scope) -> usize;
}

fn live_run<F: LiveFixture>(fault: Option<(Fault, Scope)>, extra: &[&str]) -> (TestCloud, Run) {
    let cloud = TestCloud::start(&F::world(fault));
    let (home, _) = home_with_allowlist(&F::allowlist());
    let mut args = F::args();
    args.extend(["--since", "24h", "--format", "json"]);
    args.extend(extra);
    let run = audit_live(&cloud, home.path(), &args);
    (cloud, run)
}

fn row<F: LiveFixture>(report: &Value, scope: Scope) -> Value {
    let (key, value) = F::row_key(scope);
    let rows = report["audit_coverage"].as_array().expect("audit_coverage");
    let matching: Vec<&Value> = rows.iter().filter(|r| r[key] == value).collect();
    assert_eq!(matching.len(), 1, "exactly one row per scope: {rows:#?}");
    matching[0].clone()
}

/// The events of a scope: its rows and its events share the scope's key field.
fn events_in<F: LiveFixture>(report: &Value, scope: Scope) -> Vec<Value> {
    let (key, value) = F::row_key(scope);
    report["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e[key] == value)
        .cloned()
        .collect()
}

fn detail(row: &Value) -> &str {
    row["detail"].as_str().unwrap_or_default()
}

fn lists_every_page<F: LiveFixture>() {
    let (cloud, run) = live_run::<F>(None, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    assert_eq!(events_in::<F>(&report, Scope::Paged).len(), 5);
    assert_eq!(events_in::<F>(&report, Scope::Single).len(), 1);
    assert!(
        F::queries(&cloud, Scope::Paged) >= 3,
        "the paged log takes pages"
    );
    for scope in [Scope::Paged, Scope::Single] {
        let row = row::<F>(&report, scope);
        assert_eq!(row["status"], "scanned", "{row}");
        assert!(row["detail"].is_null(), "{row}");
    }
    for event in report["events"].as_array().unwrap() {
        assert_eq!(event["verdict"], "sanctioned", "{event}");
        for field in ["time", "operation", "actor", "resource", "rule"] {
            assert!(
                event[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field}: {event}"
            );
        }
    }
}

fn denied_is_a_gap_with_the_providers_code<F: LiveFixture>() {
    let (_cloud, run) = live_run::<F>(Some((Fault::Denied, Scope::Single)), &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    let single = row::<F>(&report, Scope::Single);
    assert_eq!(single["status"], "denied", "{single}");
    assert!(detail(&single).starts_with(F::DENIED_CODE), "{single}");
    assert_eq!(row::<F>(&report, Scope::Paged)["status"], "scanned");
    assert_eq!(events_in::<F>(&report, Scope::Paged).len(), 5);
    assert!(!findings(&report, "audit-coverage-gap").is_empty());
}

fn throttling_is_retried_then_read<F: LiveFixture>() {
    let (clean, _) = live_run::<F>(None, &[]);
    let (cloud, run) = live_run::<F>(Some((Fault::Throttled { times: 2 }, Scope::Single)), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    assert_eq!(row::<F>(&report, Scope::Single)["status"], "scanned");
    assert_eq!(events_in::<F>(&report, Scope::Single).len(), 1);
    assert_eq!(
        F::queries(&cloud, Scope::Single),
        F::queries(&clean, Scope::Single) + 2,
        "exactly the two throttled calls were retried"
    );
}

fn throttling_past_the_retries_is_failed<F: LiveFixture>() {
    let fault = Some((Fault::Throttled { times: 100 }, Scope::Single));
    let (_cloud, run) = live_run::<F>(fault, &["--max-attempts", "2"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let single = row::<F>(&run.json(), Scope::Single);
    assert_eq!(single["status"], "failed", "{single}");
    assert!(detail(&single).starts_with(F::THROTTLED_CODE), "{single}");
}

fn server_errors_are_failed_after_retries<F: LiveFixture>() {
    let (cloud, run) = live_run::<F>(
        Some((Fault::Failing, Scope::Single)),
        &["--max-attempts", "2"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let single = row::<F>(&run.json(), Scope::Single);
    assert_eq!(single["status"], "failed", "{single}");
    assert!(
        detail(&single).starts_with(F::SERVER_ERROR_CODE),
        "{single}"
    );
    assert_eq!(
        F::queries(&cloud, Scope::Single),
        2,
        "tried --max-attempts times, then stopped"
    );
}

fn a_hang_ends_at_the_per_call_timeout<F: LiveFixture>() {
    let extra = ["--timeout", "300ms", "--max-attempts", "1"];
    let (_cloud, run) = live_run::<F>(Some((Fault::Hang, Scope::Single)), &extra);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let single = row::<F>(&report, Scope::Single);
    assert_eq!(single["status"], "failed", "{single}");
    assert!(detail(&single).starts_with("Timeout"), "{single}");
    assert_eq!(row::<F>(&report, Scope::Paged)["status"], "scanned");
}

fn a_malformed_body_is_failed<F: LiveFixture>() {
    let (_cloud, run) = live_run::<F>(Some((Fault::Malformed, Scope::Single)), &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let single = row::<F>(&run.json(), Scope::Single);
    assert_eq!(single["status"], "failed", "{single}");
    assert!(detail(&single).starts_with("MalformedResponse"), "{single}");
}

fn a_pagination_loop_stops_and_keeps_what_it_saw<F: LiveFixture>() {
    let (cloud, run) = live_run::<F>(Some((Fault::TokenLoop, Scope::Paged)), &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let paged = row::<F>(&report, Scope::Paged);
    assert_eq!(paged["status"], "failed", "{paged}");
    assert!(detail(&paged).starts_with("PaginationLoop"), "{paged}");
    let seen = events_in::<F>(&report, Scope::Paged);
    assert!(!seen.is_empty(), "the first page is kept");
    assert!(seen.len() < 5, "a loop never reaches the last page");
    assert!(
        F::queries(&cloud, Scope::Paged) <= 2 * F::LISTINGS + 1,
        "each listing stopped at its repeat"
    );
}

fn the_deadline_fails_what_is_unfinished_and_keeps_the_rest<F: LiveFixture>() {
    let fault = Some((Fault::Slow { ms: 5000 }, Scope::Single));
    let (_cloud, run) = live_run::<F>(fault, &["--deadline", "2500ms"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let single = row::<F>(&report, Scope::Single);
    assert_eq!(single["status"], "failed", "{single}");
    assert!(detail(&single).starts_with("Deadline"), "{single}");
    assert_eq!(row::<F>(&report, Scope::Paged)["status"], "scanned");
    assert_eq!(events_in::<F>(&report, Scope::Paged).len(), 5);
}

fn the_page_cap_is_a_failed_scope<F: LiveFixture>() {
    let (_cloud, run) = live_run::<F>(None, &["--max-pages", "2"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let paged = row::<F>(&report, Scope::Paged);
    assert_eq!(paged["status"], "failed", "{paged}");
    assert!(detail(&paged).starts_with("PageCap"), "{paged}");
    assert_eq!(row::<F>(&report, Scope::Single)["status"], "scanned");
}

macro_rules! live_conformance {
    ($module:ident, $fixture:ty) => {
        mod $module {
            use super::*;
            #[test]
            fn lists_every_page() {
                super::lists_every_page::<$fixture>()
            }
            #[test]
            fn denied_is_a_gap_with_the_providers_code() {
                super::denied_is_a_gap_with_the_providers_code::<$fixture>()
            }
            #[test]
            fn throttling_is_retried_then_read() {
                super::throttling_is_retried_then_read::<$fixture>()
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

/// CloudTrail: the paged scope is us-east-1 (five CreateTrafficMirrorTarget events — the first
/// name asked for, so a fault on the region meets it first — three pages), the single one
/// eu-west-1. The mock's rate limiter is off and the client paced fast,
/// so these fault tests take no longer than the faults; the pacing has its own test above.
struct CloudTrail;

impl CloudTrail {
    fn region(scope: Scope) -> &'static str {
        match scope {
            Scope::Paged => "us-east-1",
            Scope::Single => "eu-west-1",
        }
    }
}

impl LiveFixture for CloudTrail {
    const LISTINGS: usize = 11;
    const DENIED_CODE: &'static str = "AccessDeniedException";
    const THROTTLED_CODE: &'static str = "ThrottlingException";
    const SERVER_ERROR_CODE: &'static str = "InternalFailure";

    fn world(fault: Option<(Fault, Scope)>) -> String {
        let mut world = format!(
            "[settings]\npage_size = 2\ncloudtrail_rate = 0\n\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = [\"eu-west-1\", \"us-east-1\"]\n"
        );
        for (scope, count) in [(Scope::Paged, 5), (Scope::Single, 1)] {
            for n in 1..=count {
                world.push_str(&format!(
                    "\n[[aws.events]]\naccount = \"{ACCOUNT}\"\nregion = \"{}\"\ntime = \"2026-11-15T0{n}:00:00Z\"\nname = \"CreateTrafficMirrorTarget\"\nactor = \"arn:aws:iam::{ACCOUNT}:role/NetworkPipeline\"\nresource = \"tmt-0d{}000000000000{n:02}\"\nsource = \"eni-0a00000000000aaa1\"\n",
                    Self::region(scope),
                    if scope == Scope::Paged { "a" } else { "b" },
                ));
            }
        }
        if let Some((fault, scope)) = fault {
            world.push_str(&format!(
                "\n[[aws.faults]]\nregion = \"{}\"\naction = \"LookupEvents\"\n{}",
                Self::region(scope),
                fault.world_keys()
            ));
        }
        world
    }

    fn allowlist() -> String {
        format!(
            "[[principals]]\nprovider = \"aws\"\nactor = \"arn:aws:iam::{ACCOUNT}:role/NetworkPipeline\"\nowner = \"netsec@example.com\"\nticket = \"SEC-2\"\nreason = \"pipeline\"\nexpires = 2027-06-30\n\n{}",
            aws_allowlist().split("[[principals]]").next().unwrap_or_default()
        )
    }

    fn args() -> Vec<&'static str> {
        vec!["--provider", "aws", "--cloudtrail-rate", "200"]
    }

    fn row_key(scope: Scope) -> (&'static str, &'static str) {
        ("region", Self::region(scope))
    }

    fn queries(cloud: &TestCloud, scope: Scope) -> usize {
        cloud.count("LookupEvents", Self::region(scope))
    }
}

live_conformance!(cloudtrail, CloudTrail);

/// The Activity Log: two subscriptions; the paged one holds five vTAP writes (ten records:
/// Started and Succeeded), the single one one write.
struct ActivityLog;

const SUBSCRIPTION_PAGED: &str = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const SUBSCRIPTION_SINGLE: &str = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

impl ActivityLog {
    fn subscription(scope: Scope) -> &'static str {
        match scope {
            Scope::Paged => SUBSCRIPTION_PAGED,
            Scope::Single => SUBSCRIPTION_SINGLE,
        }
    }
}

impl LiveFixture for ActivityLog {
    const LISTINGS: usize = 1;
    const DENIED_CODE: &'static str = "AuthorizationFailed";
    const THROTTLED_CODE: &'static str = "TooManyRequests";
    const SERVER_ERROR_CODE: &'static str = "InternalServerError";

    fn world(fault: Option<(Fault, Scope)>) -> String {
        let mut world = String::from("[settings]\npage_size = 2\n");
        for (scope, count) in [(Scope::Paged, 5), (Scope::Single, 1)] {
            let sub = Self::subscription(scope);
            world.push_str(&format!("\n[[azure.subscriptions]]\nid = \"{sub}\"\n"));
            for n in 1..=count {
                world.push_str(&format!(
                    "\n[[azure.events]]\nsubscription = \"{sub}\"\ntime = \"2026-11-15T0{n}:00:00Z\"\noperation = \"Microsoft.Network/virtualNetworkTaps/write\"\nresource = \"/subscriptions/{sub}/resourceGroups/rg-ids/providers/Microsoft.Network/virtualNetworkTaps/vtap-{n}\"\ncaller = \"netops@contoso.example\"\n"
                ));
            }
        }
        if let Some((fault, scope)) = fault {
            world.push_str(&format!(
                "\n[[azure.faults]]\naccount = \"{}\"\naction = \"activityLogs\"\n{}",
                Self::subscription(scope),
                fault.world_keys()
            ));
        }
        world
    }

    fn allowlist() -> String {
        "[[principals]]\nprovider = \"azure\"\nactor = \"netops@contoso.example\"\nowner = \"netsec@example.com\"\nticket = \"SEC-4\"\nreason = \"network operations\"\nexpires = 2027-06-30\n".into()
    }

    fn args() -> Vec<&'static str> {
        vec!["--provider", "azure"]
    }

    fn row_key(scope: Scope) -> (&'static str, &'static str) {
        ("account", Self::subscription(scope))
    }

    fn queries(cloud: &TestCloud, scope: Scope) -> usize {
        cloud.count_in("activityLogs", Self::subscription(scope))
    }
}

live_conformance!(activity_log, ActivityLog);

/// Cloud Logging: two projects; the paged one holds five packet-mirroring inserts (ten
/// entries: first and last of each operation), the single one one insert.
struct CloudLogging;

impl CloudLogging {
    fn project(scope: Scope) -> &'static str {
        match scope {
            Scope::Paged => "acme-live-paged",
            Scope::Single => "acme-live-single",
        }
    }
}

impl LiveFixture for CloudLogging {
    const LISTINGS: usize = 1;
    const DENIED_CODE: &'static str = "PERMISSION_DENIED";
    const THROTTLED_CODE: &'static str = "RESOURCE_EXHAUSTED";
    const SERVER_ERROR_CODE: &'static str = "INTERNAL";

    fn world(fault: Option<(Fault, Scope)>) -> String {
        let mut world = String::from("[settings]\npage_size = 2\n");
        for (scope, count) in [(Scope::Paged, 5), (Scope::Single, 1)] {
            let project = Self::project(scope);
            world.push_str(&format!(
                "\n[[gcp.projects]]\nid = \"{project}\"\nregions = [\"us-central1\"]\n"
            ));
            for n in 1..=count {
                world.push_str(&format!(
                    "\n[[gcp.events]]\nproject = \"{project}\"\ntime = \"2026-11-15T0{n}:00:00Z\"\nmethod = \"v1.compute.packetMirrorings.insert\"\nresource = \"projects/{project}/regions/us-central1/packetMirrorings/pm-{n}\"\nprincipal = \"netops@acme.example\"\ncollector = \"projects/{project}/regions/us-central1/forwardingRules/fr-ids\"\n"
                ));
            }
        }
        if let Some((fault, scope)) = fault {
            world.push_str(&format!(
                "\n[[gcp.faults]]\naccount = \"{}\"\naction = \"entries.list\"\n{}",
                Self::project(scope),
                fault.world_keys()
            ));
        }
        world
    }

    fn allowlist() -> String {
        "[[principals]]\nprovider = \"gcp\"\nactor = \"netops@acme.example\"\nowner = \"netsec@example.com\"\nticket = \"SEC-6\"\nreason = \"network operations\"\nexpires = 2027-06-30\n\n[[targets]]\nprovider = \"gcp\"\ntarget = \"projects/*/regions/us-central1/forwardingRules/fr-ids\"\nowner = \"netsec@example.com\"\nticket = \"SEC-5\"\nreason = \"IDS\"\nexpires = 2027-06-30\n".into()
    }

    fn args() -> Vec<&'static str> {
        vec![
            "--provider",
            "gcp",
            "--gcp-projects",
            "acme-live-paged,acme-live-single",
        ]
    }

    fn row_key(scope: Scope) -> (&'static str, &'static str) {
        ("account", Self::project(scope))
    }

    fn queries(cloud: &TestCloud, scope: Scope) -> usize {
        cloud.count_in("entries.list", Self::project(scope))
    }
}

live_conformance!(cloud_logging, CloudLogging);
