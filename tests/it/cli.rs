//! The command line as users and scripts see it: the demo (table and JSON), every exit code,
//! `--output`, and untrusted cloud text rendered inert in the terminal.

use crate::support::{
    command, demo_with_allowlist, home_with_allowlist, mirror, run, scan, TestCloud,
};

fn demo(args: &[&str]) -> crate::support::Run {
    // Ambient AWS settings must not leak into the demo: point them somewhere that would fail.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(dir.path());
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIAAMBIENT000000000")
        .env("AWS_SECRET_ACCESS_KEY", "ambient")
        .env("AWS_PROFILE", "does-not-exist")
        .env(
            "MIRRORGUARD_AZURE_ENDPOINT",
            "not a url: the demo must not even read it",
        )
        .env("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9")
        .env("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000000")
        .env("AZURE_CLIENT_ID", "ambient")
        .env("AZURE_CLIENT_SECRET", "ambient")
        .env("MIRRORGUARD_GCP_ENDPOINT", "http://127.0.0.1:9")
        .env("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
        .args(["scan", "--demo"])
        .args(args);
    run(cmd)
}

#[test]
fn demo_table() {
    let result = demo(&[]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        !result.stdout.contains('\u{1b}'),
        "NO_COLOR and no TTY: no escapes"
    );
    let coloured = demo(&["--color", "always"]);
    assert!(
        coloured.stdout.contains("\u{1b}["),
        "--color always colours verdicts"
    );
    insta::assert_snapshot!("demo_table", result.stdout);
}

#[test]
fn demo_json_shows_every_verdict_and_the_denied_region() {
    let result = demo(&["--format", "json"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let report = result.json();
    assert_eq!(report["schema"], "mirrorguard/scan/v1");
    assert_eq!(report["generated_at"], "2026-11-15T12:00:00Z");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(
        mirror(&report, "tms-0a11c0ffee0000001")["verdict"],
        "approved"
    );
    assert_eq!(
        mirror(&report, "tms-0badc0de00000bad1")["verdict"],
        "unapproved"
    );
    assert_eq!(
        mirror(&report, "tms-0e0e0e0e0e0e0e0e1")["verdict"],
        "expired"
    );
    let nlb = mirror(&report, "tms-0badc0de00000bad1");
    assert_eq!(nlb["target"]["kind"], "network-load-balancer");
    assert_eq!(nlb["cross_account"], true);
    assert_eq!(nlb["severity"], "critical");
    let denied = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "denied")
        .expect("a denied row");
    assert_eq!(denied["region"], "ap-southeast-2");
    assert_eq!(report["allowlist"]["unused"][0]["entry"], "targets[4]");
    assert_eq!(report["allowlist"]["expiring"][0]["entry"], "targets[2]");
    // Fingerprints are stable: the same run twice gives the same findings.
    let again = demo(&["--format", "json"]).json();
    assert_eq!(report["findings"], again["findings"]);
}

#[test]
fn demo_covers_azure_and_gcp_in_the_same_run() {
    let report = demo(&["--format", "json"]).json();
    let by_provider = &report["summary"]["by_provider"];
    for provider in ["aws", "azure", "gcp"] {
        assert!(
            by_provider[provider]["mirrors"].as_u64().unwrap_or(0) > 0,
            "{provider}: {by_provider:#}"
        );
        assert!(report["identities"][provider].is_object(), "{provider}");
    }
    let mirrors = report["mirrors"].as_array().unwrap();
    let find = |needle: &str| {
        mirrors
            .iter()
            .find(|m| m["id"].as_str().unwrap().ends_with(needle))
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    // Azure: the approved IDS vTAP is fed by a NIC of another subscription; the debug vTAP
    // ships to a load balancer outside the organisation.
    let ids = find("/virtualNetworkTaps/vtap-ids-westeurope");
    assert_eq!(ids["verdict"], "approved");
    assert!(ids["sources"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("/subscriptions/3f2b8c1e-"));
    let debug = find("/virtualNetworkTaps/vtap-debug-capture");
    assert_eq!(debug["verdict"], "unapproved");
    assert_eq!(debug["severity"], "critical");
    // GCP: a whole subnet to an unapproved collector, and an unreachable region.
    let subnet = find("/packetMirrorings/pm-payments-all");
    assert_eq!(subnet["verdict"], "unapproved");
    assert_eq!(subnet["sources"][0]["kind"], "subnetwork");
    assert_eq!(find("/packetMirroringRules/1000")["verdict"], "approved");
    let unreachable = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["provider"] == "gcp" && r["status"] == "failed")
        .expect("the unreachable GCP region");
    assert_eq!(unreachable["region"], "asia-southeast1");
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "orphan-tap-configuration"));
    let disabled = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["provider"] == "azure" && r["status"] == "disabled")
        .expect("the disabled subscription");
    assert_eq!(disabled["region"], serde_json::Value::Null);
}

#[test]
fn demo_works_from_any_directory_and_honours_provider_and_allowlist() {
    let result = demo_with_allowlist(
        "[[targets]]\nprovider = \"aws\"\ntarget = \"arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/net/capture/5f1e2d3c4b5a6978\"\nowner = \"o\"\nticket = \"T\"\nreason = \"r\"\nexpires = 2027-01-01\n",
        &["--provider", "aws", "--format", "json"],
    );
    assert_eq!(result.code, 1);
    let report = result.json();
    assert_eq!(
        mirror(&report, "tms-0badc0de00000bad1")["verdict"],
        "approved"
    );
}

#[test]
fn exit_codes() {
    // 0: everything scanned and approved.
    let world = r#"
[[aws.accounts]]
id = "111122223333"
regions = ["us-east-1"]

[[aws.sessions]]
account = "111122223333"
region = "us-east-1"
id = "tms-00000000000000001"
target = "tmt-00000000000000001"
filter = "tmf-00000000000000001"
source = "eni-00000000000000001"

[[aws.targets]]
account = "111122223333"
region = "us-east-1"
id = "tmt-00000000000000001"
type = "network-interface"
resource = "eni-0fee1dead00000a01"
"#;
    let approve = "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\nowner = \"o\"\nticket = \"T\"\nreason = \"r\"\nexpires = 2027-01-01\n";
    let cloud = TestCloud::start(world);
    let (home, _) = home_with_allowlist(approve);
    let clean = scan(&cloud, home.path(), &[]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(clean.stdout.contains("exit 0 (clean)"), "{}", clean.stdout);

    // 1: an unapproved mirror (empty allowlist).
    let (home1, _) = home_with_allowlist("");
    assert_eq!(scan(&cloud, home1.path(), &[]).code, 1);

    // 3: approved mirrors but a denied region.
    let denied_world = format!("{}\n[[aws.faults]]\nregion = \"us-east-1\"\naction = \"DescribeTrafficMirrorFilters\"\nkind = \"denied\"\n", world.replace("regions = [\"us-east-1\"]", "regions = [\"us-east-1\", \"eu-west-1\"]"));
    let cloud3 = TestCloud::start(&denied_world);
    let gap = scan(&cloud3, home.path(), &[]);
    assert_eq!(gap.code, 3, "{}", gap.stdout);
    assert!(gap.stdout.contains("DENIED"), "{}", gap.stdout);
    // 1 beats 3: a violation in a partly scanned estate is still a violation.
    assert_eq!(scan(&cloud3, home1.path(), &[]).code, 1);

    // 2: usage errors.
    for args in [
        &["--provider", "oracle"][..],
        &["--provider", "network"][..],
        &["--timeout", "10"][..],
        &["--azure-endpoint", "management.azure.com"][..],
        &["--gcp-projects", "Not_A_Project"][..],
        &["--azure-subscriptions", "prod"][..],
        &["--format", "xml"][..],
    ] {
        let result = scan(&cloud, home.path(), args);
        assert_eq!(result.code, 2, "{args:?}: {}", result.stderr);
        assert!(result.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn output_goes_to_the_file_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let result = demo(&["--format", "json", "--output", out.to_str().unwrap()]);
    assert_eq!(result.code, 1);
    assert!(result.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["schema"], "mirrorguard/scan/v1");
    // No stray temporary files next to it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn cloud_text_cannot_drive_the_terminal() {
    let world = "
[[aws.accounts]]
id = \"111122223333\"
regions = [\"us-east-1\"]

[[aws.sessions]]
account = \"111122223333\"
region = \"us-east-1\"
id = \"tms-00000000000000001\"
target = \"tmt-00000000000000001\"
filter = \"tmf-00000000000000001\"
source = \"eni-00000000000000001\"
description = \"ok\\u001b[2J\\u001b]0;pwned\\u0007\"
tags = { Name = \"innocent\\u202egnp.exe\\u009b31m\\u200b\\u001b[2J\\u001b]0;pwned\\u0007\" }
";
    let cloud = TestCloud::start(world);
    let (home, _) = home_with_allowlist("");
    let table = scan(&cloud, home.path(), &[]);
    assert_eq!(table.code, 1);
    for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}', '\u{200b}'] {
        assert!(
            !table.stdout.contains(raw),
            "{raw:?} reached the terminal:\n{}",
            table.stdout
        );
    }
    assert!(
        table
            .stdout
            .contains("innocent\\u{202e}gnp.exe\\u{9b}31m\\u{200b}\\u{1b}[2J\\u{1b}]0;pwned\\u{7}"),
        "{}",
        table.stdout
    );

    // JSON keeps the exact value.
    let json = scan(&cloud, home.path(), &["--format", "json"]).json();
    assert_eq!(
        json["mirrors"][0]["name"],
        "innocent\u{202e}gnp.exe\u{9b}31m\u{200b}\u{1b}[2J\u{1b}]0;pwned\u{7}"
    );
    assert_eq!(
        json["mirrors"][0]["description"],
        "ok\u{1b}[2J\u{1b}]0;pwned\u{7}"
    );
}

#[test]
fn an_unwritable_output_is_exit_2_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing-dir").join("report.json");
    let result = demo(&["--format", "json", "--output", out.to_str().unwrap()]);
    assert_eq!(result.code, 2, "{}", result.stderr);
    assert!(result.stderr.contains("cannot write"), "{}", result.stderr);
    assert!(!out.exists());
    assert!(result.stdout.is_empty());
}

#[test]
fn a_broken_endpoint_variable_is_a_usage_error_outside_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("allowlist.toml"), "").unwrap();
    let mut cmd = command(dir.path());
    cmd.env("MIRRORGUARD_GCP_ENDPOINT", "compute.example")
        .args(["scan", "--provider", "gcp"]);
    let result = run(cmd);
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(
        result.stderr.contains("MIRRORGUARD_GCP_ENDPOINT"),
        "{}",
        result.stderr
    );
    assert!(result.stdout.is_empty());
}
