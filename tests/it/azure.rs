//! The Azure adapter end to end (the fault kinds every provider shares are in
//! `conformance.rs`): the real azure_identity credential (environment client secret, token from
//! the mock's `/{tenant}/oauth2/v2.0/token`) and azure_mgmt_network / azure_mgmt_subscription
//! clients against the ARM mock over HTTP — subscription discovery, the cross-subscription
//! join of NICs to vTAPs, case-insensitive ids, orphaned tap configurations, disabled
//! subscriptions.

use crate::support::{home_with_allowlist, mirror, scan, Run, TestCloud};
use serde_json::Value;

/// Holds five vTAPs (three pages at the mock's page size of two), each fed by one NIC.
pub const PAGED: &str = "11111111-1111-4111-8111-111111111111";
/// Holds one vTAP, fed by a NIC of [`PAGED`] (a cross-subscription tap) and one of its own.
pub const SINGLE: &str = "22222222-2222-4222-8222-222222222222";
/// Disabled: listed, never called.
pub const DISABLED: &str = "33333333-3333-4333-8333-333333333333";
/// Not visible to the identity: a vTAP there can only be seen from the NIC side.
pub const HIDDEN: &str = "44444444-4444-4444-8444-444444444444";

pub fn tap_id(subscription: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/rg-taps/providers/Microsoft.Network/virtualNetworkTaps/{name}")
}

pub fn ip_configuration(subscription: &str, nic: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/rg-sensors/providers/Microsoft.Network/networkInterfaces/{nic}/ipConfigurations/ipconfig1")
}

/// The test estate, `extra` appended (faults, more resources).
pub fn world(extra: &str) -> String {
    let mut toml = format!(
        r#"
[settings]
page_size = 2

[[azure.subscriptions]]
id = "{PAGED}"
name = "paged"

[[azure.subscriptions]]
id = "{SINGLE}"
name = "single"

[[azure.subscriptions]]
id = "{DISABLED}"
name = "legacy"
state = "Disabled"
"#
    );
    for n in 1..=5 {
        toml.push_str(&format!(
            r#"
[[azure.taps]]
subscription = "{PAGED}"
resource_group = "rg-taps"
name = "vtap-{n}"
location = "westeurope"
destination_ip_configuration = "{dest}"
destination_port = 4789
tags = {{ n = "{n}" }}

[[azure.nics]]
subscription = "{PAGED}"
resource_group = "rg-web"
name = "nic-web-{n}"
location = "westeurope"
taps = ["{tap}"]
"#,
            dest = ip_configuration(PAGED, &format!("nic-sensor-{n}")),
            tap = tap_id(PAGED, &format!("vtap-{n}")),
        ));
    }
    toml.push_str(&format!(
        r#"
[[azure.taps]]
subscription = "{SINGLE}"
resource_group = "rg-taps"
name = "vtap-single"
location = "northeurope"
destination_frontend = "/subscriptions/{SINGLE}/resourceGroups/rg-lb/providers/Microsoft.Network/loadBalancers/lb-ids/frontendIPConfigurations/fe-ids"
destination_port = 4790

[[azure.nics]]
subscription = "{SINGLE}"
resource_group = "rg-app"
name = "nic-app-1"
location = "northeurope"
taps = ["{single_tap}"]

# A NIC of the paged subscription tapped into the single subscription's vTAP, spelling the id
# in another case, as ARM sometimes does.
[[azure.nics]]
subscription = "{PAGED}"
resource_group = "rg-db"
name = "nic-db-1"
location = "northeurope"
taps = ["{single_tap_other_case}"]
{extra}"#,
        single_tap = tap_id(SINGLE, "vtap-single"),
        single_tap_other_case = tap_id(SINGLE, "vtap-single")
            .replace("resourceGroups/rg-taps", "resourcegroups/RG-TAPS"),
    ));
    toml
}

/// Approves every destination of [`world`] (globs over the subscription and NIC).
pub fn approve_all() -> String {
    r#"
[[targets]]
provider = "azure"
target = "/subscriptions/*/resourceGroups/rg-sensors/providers/Microsoft.Network/networkInterfaces/*/ipConfigurations/ipconfig1"
owner = "o"
ticket = "T-1"
reason = "test sensors"
expires = 2027-01-01

[[targets]]
provider = "azure"
target = "/subscriptions/*/resourceGroups/rg-lb/providers/Microsoft.Network/loadBalancers/lb-ids/frontendIPConfigurations/fe-ids"
owner = "o"
ticket = "T-2"
reason = "test IDS load balancer"
expires = 2027-01-01
"#
    .to_string()
}

fn azure_scan(cloud: &TestCloud, allowlist: &str, args: &[&str]) -> Run {
    let (home, _) = home_with_allowlist(allowlist);
    let mut all = vec!["--provider", "azure", "--format", "json"];
    all.extend_from_slice(args);
    scan(cloud, home.path(), &all)
}

fn row<'a>(report: &'a Value, subscription: &str) -> &'a Value {
    report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account"] == subscription)
        .unwrap_or_else(|| panic!("no row for {subscription}: {:#}", report["coverage"]))
}

#[test]
fn joins_nics_to_vtaps_across_subscriptions_and_letter_case() {
    let cloud = TestCloud::start(&world(""));
    let run = azure_scan(&cloud, &approve_all(), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    let single = mirror(&report, &tap_id(SINGLE, "vtap-single"));
    assert_eq!(single["account"], SINGLE);
    assert_eq!(single["region"], "northeurope");
    assert_eq!(single["kind"], "virtual-network-tap");
    let sources: Vec<&str> = single["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    assert!(sources
        .iter()
        .any(|s| s.ends_with("/networkInterfaces/nic-db-1")
            && s.starts_with(&format!("/subscriptions/{PAGED}/"))));
    assert!(sources
        .iter()
        .any(|s| s.ends_with("/networkInterfaces/nic-app-1")));
    assert_eq!(
        single["target"]["kind"],
        "load-balancer-frontend-ip-configuration"
    );
    assert_eq!(single["target"]["port"], 4790);
    assert_eq!(single["target"]["owner"], SINGLE);
    assert_eq!(single["verdict"], "approved");
    assert_eq!(single["approved_by"]["ticket"], "T-2");
    // The ARM calls carried the token the mock's token endpoint issued for the client secret.
    assert!(cloud.requests().iter().any(|r| r.action == "token"));
    let identity = &report["identities"]["azure"];
    assert!(
        identity["principal"]
            .as_str()
            .unwrap()
            .contains(crate::support::AZURE_TENANT),
        "{identity}"
    );
}

#[test]
fn a_disabled_subscription_is_a_disabled_row_and_never_called() {
    let cloud = TestCloud::start(&world(""));
    let report = azure_scan(&cloud, &approve_all(), &[]).json();
    let disabled = row(&report, DISABLED);
    assert_eq!(disabled["status"], "disabled", "{disabled}");
    assert_eq!(disabled["region"], Value::Null);
    assert!(disabled["detail"].as_str().unwrap().starts_with("Disabled"));
    assert_eq!(cloud.count_in("virtualNetworkTaps", DISABLED), 0);
    assert_eq!(row(&report, PAGED)["status"], "scanned");
}

#[test]
fn approvals_compare_azure_ids_case_insensitively_and_never_by_nic_alone() {
    let cloud = TestCloud::start(&world(""));
    let upper = approve_all()
        .to_uppercase()
        .replace("PROVIDER = \"AZURE\"", "provider = \"azure\"")
        .replace("TARGET =", "target =")
        .replace("OWNER =", "owner =")
        .replace("TICKET =", "ticket =")
        .replace("REASON =", "reason =")
        .replace("EXPIRES =", "expires =")
        .replace("[[TARGETS]]", "[[targets]]");
    let run = azure_scan(&cloud, &upper, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);

    // A NIC id is not its IP configuration: the allowlist refuses it with the form to use.
    let nic_only = format!(
        "[[targets]]\nprovider = \"azure\"\ntarget = \"/subscriptions/{PAGED}/resourceGroups/rg-sensors/providers/Microsoft.Network/networkInterfaces/nic-sensor-1\"\nowner = \"o\"\nticket = \"T\"\nreason = \"r\"\nexpires = 2027-01-01\n"
    );
    let refused = azure_scan(&cloud, &nic_only, &[]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("ipConfigurations"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_tap_configuration_into_an_unseen_vtap_is_an_orphan_finding() {
    let extra = format!(
        r#"
[[azure.nics]]
subscription = "{SINGLE}"
resource_group = "rg-batch"
name = "nic-batch-7"
location = "northeurope"
taps = ["{hidden}"]
"#,
        hidden = tap_id(HIDDEN, "vtap-exfil")
    );
    let cloud = TestCloud::start(&world(&extra));
    let run = azure_scan(&cloud, &approve_all(), &[]);
    assert_eq!(
        run.code, 1,
        "an unseen destination is a violation: {}",
        run.stdout
    );
    let report = run.json();
    let orphans: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "orphan-tap-configuration")
        .collect();
    assert_eq!(orphans.len(), 1, "{:#}", report["findings"]);
    let orphan = orphans[0];
    assert_eq!(orphan["account"], SINGLE);
    assert_eq!(orphan["severity"], "high");
    let message = orphan["message"].as_str().unwrap();
    assert!(message.contains("vtap-exfil"), "{message}");
    assert!(message.contains(HIDDEN), "{message}");
    assert!(message.contains("not part of this scan"), "{message}");
    assert!(
        report["mirrors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["id"].as_str().unwrap().contains("vtap-exfil")),
        "no mirror is invented for the unseen vTAP"
    );
}

#[test]
fn named_subscriptions_restrict_the_scan_and_an_unknown_one_is_a_gap() {
    let cloud = TestCloud::start(&world(""));
    let unknown = "55555555-5555-4555-8555-555555555555";
    let run = azure_scan(
        &cloud,
        &approve_all(),
        &["--azure-subscriptions", &format!("{SINGLE},{unknown}")],
    );
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(row(&report, SINGLE)["status"], "scanned");
    let missing = row(&report, unknown);
    assert_eq!(missing["status"], "failed", "{missing}");
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .starts_with("SubscriptionNotFound"),
        "{missing}"
    );
    assert_eq!(cloud.count_in("virtualNetworkTaps", PAGED), 0);
}

#[test]
fn a_rejected_client_secret_is_a_failed_row_not_an_empty_cloud() {
    let extra = r#"
[[azure.clients]]
client_id = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
client_secret = "the-real-secret"
object_id = "99999999-9999-4999-8999-999999999999"
"#;
    let cloud = TestCloud::start(&world(extra));
    let run = azure_scan(&cloud, &approve_all(), &["--max-attempts", "1"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["account"], Value::Null);
    let detail = rows[0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("NoCredentials"), "{detail}");
    // azure_identity keeps the HTTP status but not AAD's error body, so the detail names the
    // credential that failed rather than the AADSTS code.
    assert!(detail.contains("environment credential"), "{detail}");
    assert!(cloud.requests().iter().all(|r| r.service == "login"));
}

#[test]
fn a_vtap_without_nics_is_staged_not_a_mirror() {
    let extra = format!(
        r#"
[[azure.taps]]
subscription = "{SINGLE}"
resource_group = "rg-taps"
name = "vtap-unused"
location = "northeurope"
destination_ip_configuration = "/subscriptions/{HIDDEN}/resourceGroups/rg-x/providers/Microsoft.Network/networkInterfaces/nic-x/ipConfigurations/ipconfig1"
"#
    );
    let cloud = TestCloud::start(&world(&extra));
    let run = azure_scan(&cloud, &approve_all(), &[]);
    assert_eq!(
        run.code, 0,
        "staged infrastructure is reported, not a violation"
    );
    let report = run.json();
    let staged = report["staged"].as_array().unwrap();
    assert_eq!(staged.len(), 1, "{staged:#?}");
    assert_eq!(staged[0]["kind"], "virtual-network-tap");
    assert_eq!(staged[0]["target"]["owner"], HIDDEN);
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "staged-target"
            && f["resource"].as_str().unwrap().contains("vtap-unused")));
}

#[test]
fn an_identity_that_sees_no_subscription_is_a_gap_not_a_clean_cloud() {
    let cloud = TestCloud::start("[settings]\npage_size = 2\n");
    let run = azure_scan(&cloud, "", &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(rows[0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("NoSubscriptions"));
}

#[test]
fn an_excluded_subscription_is_acknowledged_and_not_called() {
    let cloud = TestCloud::start(&world(""));
    let allowlist = format!(
        "{}\n[[exclusions]]\nprovider = \"azure\"\nscope = \"{}\"\nowner = \"cloud@example.com\"\nticket = \"CLOUD-9\"\nreason = \"managed by the vendor\"\nexpires = 2027-01-01\n",
        approve_all(),
        SINGLE.to_uppercase()
    );
    let run = azure_scan(&cloud, &allowlist, &[]);
    // nic-db-1 (in the scanned subscription) taps into the excluded one's vTAP: unseen on
    // purpose, so reported, but not a violation.
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    let orphan = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "orphan-tap-configuration")
        .expect("the NIC tapped into the excluded subscription is reported");
    assert_eq!(orphan["severity"], "medium");
    assert!(orphan["message"].as_str().unwrap().contains("excluded"));
    let excluded = row(&report, SINGLE);
    assert_eq!(excluded["status"], "excluded", "{excluded}");
    assert!(excluded["detail"].as_str().unwrap().contains("CLOUD-9"));
    assert_eq!(cloud.count_in("virtualNetworkTaps", SINGLE), 0);
    assert_eq!(row(&report, PAGED)["status"], "scanned");
}

#[test]
fn a_subscription_listing_cut_short_scans_what_it_listed_and_reports_the_rest() {
    let extra = "\n[[azure.faults]]\naction = \"subscriptions\"\nkind = \"token-loop\"\n";
    let cloud = TestCloud::start(&world(extra));
    let run = azure_scan(&cloud, &approve_all(), &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    let rows = report["coverage"].as_array().unwrap();
    let gap = rows
        .iter()
        .find(|r| r["account"].is_null())
        .expect("a row for the subscriptions never reached");
    assert_eq!(gap["status"], "failed");
    assert!(gap["detail"]
        .as_str()
        .unwrap()
        .starts_with("PaginationLoop"));
    assert_eq!(row(&report, PAGED)["status"], "scanned", "{rows:#?}");
    assert!(!report["mirrors"].as_array().unwrap().is_empty());
}

#[test]
fn excluding_a_subscription_on_the_command_line_is_reported_not_dropped() {
    let cloud = TestCloud::start(&world(""));
    let run = azure_scan(
        &cloud,
        &approve_all(),
        &["--azure-exclude-subscription", SINGLE],
    );
    let report = run.json();
    let excluded = row(&report, SINGLE);
    assert_eq!(excluded["status"], "excluded", "{excluded}");
    assert!(excluded["detail"]
        .as_str()
        .unwrap()
        .contains("--azure-exclude-subscriptions"));
    assert_eq!(cloud.count_in("virtualNetworkTaps", SINGLE), 0);
}

#[test]
fn throttling_waits_for_retry_after() {
    // The mock answers 429 with `Retry-After: 1`; a client that ignored it would retry after
    // the 10 ms backoff the tests configure. (A lower bound only: slow machines cannot fail it.)
    let extra = format!("\n[[azure.faults]]\naccount = \"{SINGLE}\"\naction = \"virtualNetworkTaps\"\nkind = \"throttled\"\ntimes = 1\n");
    let cloud = TestCloud::start(&world(&extra));
    let started = std::time::Instant::now();
    let run = azure_scan(&cloud, &approve_all(), &[]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(cloud.count_in("virtualNetworkTaps", SINGLE), 2);
    assert!(
        elapsed >= std::time::Duration::from_millis(950),
        "retried after {elapsed:?}, before Retry-After"
    );
}
