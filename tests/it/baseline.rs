//! `scan --baseline previous.json`: what changed between two scheduled scans. The baseline is a
//! real report of the first world; the second world moves one mirror, adds one, removes one
//! from a scope scanned both times, and loses a region to a denial — whose mirror must be
//! `unknown`, never `disappeared`.

use crate::support::{home_with_allowlist, scan, TestCloud};
use serde_json::Value;

const ACCOUNT: &str = "111122223333";

fn session(region: &str, n: u32, target: &str) -> String {
    format!(
        "\n[[aws.sessions]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tms-0b00000000000000{n}\"\ntarget = \"{target}\"\nfilter = \"tmf-0b000000000000001\"\nsource = \"eni-0b00000000000000{n}\"\n"
    )
}

fn target(region: &str, id: &str, eni: &str) -> String {
    format!(
        "\n[[aws.targets]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"{id}\"\ntype = \"network-interface\"\nresource = \"{eni}\"\n\n[[aws.filters]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tmf-0b000000000000001\"\n"
    )
}

fn world(body: &str) -> String {
    format!(
        "[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = [\"eu-west-1\", \"us-east-1\"]\n{}{}{body}",
        target("us-east-1", "tmt-0b000000000000001", "eni-0a0000000000000a1"),
        target("eu-west-1", "tmt-0b000000000000001", "eni-0a0000000000000a1"),
    )
}

const ALLOWLIST: &str = r#"[[targets]]
provider = "aws"
target = "eni-0a0000000000000a1"
owner = "netsec@example.com"
ticket = "SEC-1"
reason = "IDS"
expires = 2027-06-30
"#;

/// The first scan: sessions 1, 2 and 5 in us-east-1, 3 in eu-west-1, all to the IDS.
fn first() -> String {
    world(&format!(
        "{}{}{}{}",
        session("us-east-1", 1, "tmt-0b000000000000001"),
        session("us-east-1", 2, "tmt-0b000000000000001"),
        session("us-east-1", 5, "tmt-0b000000000000001"),
        session("eu-west-1", 3, "tmt-0b000000000000001"),
    ))
}

/// The second: 1 unchanged, 2 sent elsewhere, 4 new, 5 gone; eu-west-1 now denied.
fn second() -> String {
    world(&format!(
        "{}{}{}{}\n[[aws.faults]]\nregion = \"eu-west-1\"\nkind = \"denied\"\n",
        session("us-east-1", 1, "tmt-0b000000000000001"),
        session("us-east-1", 2, "tmt-0b000000000000009"),
        session("us-east-1", 4, "tmt-0b000000000000001"),
        target(
            "us-east-1",
            "tmt-0b000000000000009",
            "eni-0e0000000000000e9"
        ),
    ))
}

fn baseline_file(home: &std::path::Path) -> std::path::PathBuf {
    let cloud = TestCloud::start(&first());
    let path = home.join("previous.json");
    let run = scan(
        &cloud,
        home,
        &["--format", "json", "--output", path.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    path
}

fn mirror(report: &Value, n: u32) -> &Value {
    crate::support::mirror(report, &format!("tms-0b00000000000000{n}"))
}

#[test]
fn new_retargeted_disappeared_and_unknown_are_told_apart() {
    let (home, _) = home_with_allowlist(ALLOWLIST);
    let previous = baseline_file(home.path());
    let cloud = TestCloud::start(&second());
    let run = scan(
        &cloud,
        home.path(),
        &["--baseline", previous.to_str().unwrap(), "--format", "json"],
    );
    // Session 2 now sends to an unapproved interface: a violation, whatever the baseline says.
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(mirror(&report, 1)["baseline"], "unchanged");
    assert_eq!(mirror(&report, 2)["baseline"], "retargeted");
    assert_eq!(mirror(&report, 4)["baseline"], "new");
    let baseline = &report["baseline"];
    assert_eq!(baseline["new"], 1);
    assert_eq!(baseline["retargeted"][0]["id"], "tms-0b000000000000002");
    assert_eq!(
        baseline["retargeted"][0]["previous_target"],
        "eni-0a0000000000000a1"
    );
    let disappeared = baseline["disappeared"].as_array().unwrap();
    assert_eq!(disappeared.len(), 1, "{disappeared:#?}");
    assert_eq!(disappeared[0]["id"], "tms-0b000000000000005");
    // Session 3's region was denied this time: its absence proves nothing.
    let unknown = baseline["unknown"].as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert_eq!(unknown[0]["id"], "tms-0b000000000000003");
    assert!(unknown[0]["reason"].as_str().unwrap().contains("denied"));
    let gone: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "disappeared-mirror")
        .collect();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0]["resource"], "tms-0b000000000000005");
    assert_eq!(gone[0]["severity"], "low", "it was approved");
}

#[test]
fn changes_only_shows_what_changed_and_every_gap() {
    let (home, _) = home_with_allowlist(ALLOWLIST);
    let previous = baseline_file(home.path());
    let cloud = TestCloud::start(&second());
    let run = scan(
        &cloud,
        home.path(),
        &["--baseline", previous.to_str().unwrap(), "--changes-only"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let table = &run.stdout;
    assert!(table.contains("tms-0b000000000000004"), "{table}");
    assert!(table.contains("NEW since baseline"), "{table}");
    assert!(table.contains("tms-0b000000000000002"), "{table}");
    assert!(table.contains("RETARGETED since baseline"), "{table}");
    assert!(
        !table.contains("tms-0b000000000000001"),
        "an unchanged mirror is left out: {table}"
    );
    assert!(table.contains("DISAPPEARED"), "{table}");
    assert!(table.contains("tms-0b000000000000005"), "{table}");
    assert!(table.contains("tms-0b000000000000003"), "{table}");
    assert!(
        table.contains("eu-west-1"),
        "the denied region is still shown: {table}"
    );
    assert!(
        table.contains("1 new, 1 retargeted, 1 disappeared, 1 unknown"),
        "{table}"
    );
}

#[test]
fn a_bad_baseline_is_a_usage_error_before_any_call() {
    let (home, _) = home_with_allowlist(ALLOWLIST);
    let cloud = TestCloud::start(&second());
    let broken = home.path().join("broken.json");
    for (text, expected) in [
        ("not json", "not a JSON scan report"),
        (
            r#"{"schema":"mirrorguard/audit/v1"}"#,
            "is not mirrorguard/scan/v1",
        ),
        (
            r#"{"schema":"mirrorguard/scan/v1","mirrors":[{"provider":"aws","account":"1","target":{"id":"eni-1"},"verdict":"approved"}]}"#,
            "mirrors[0].id",
        ),
    ] {
        std::fs::write(&broken, text).unwrap();
        let run = scan(
            &cloud,
            home.path(),
            &["--baseline", broken.to_str().unwrap()],
        );
        assert_eq!(run.code, 2, "{text}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{text}: {}", run.stderr);
        assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
    }
    assert!(cloud.requests().is_empty(), "nothing was called");

    let mut cmd = crate::support::command(home.path());
    cmd.args(["scan", "--changes-only"]);
    let run = crate::support::run(cmd);
    assert_eq!(run.code, 2, "--changes-only needs --baseline");
}
