//! allowlist.toml: every error class is exit 2 with line:column (snapshotted), and matching
//! approves exactly what an entry names — never a prefix, never another account's destination
//! by accident.

use crate::support::{
    command, demo_with_allowlist, home_with_allowlist, mirror, run, scan, TestCloud,
};

/// Runs the demo scan with `text` as the allowlist; returns (exit code, stderr with the temp
/// path replaced by `allowlist.toml`).
fn check(text: &str) -> (i32, String) {
    let result = demo_with_allowlist(text, &[]);
    (result.code, result.stderr)
}

const VALID_ENTRY: &str = r#"
[[targets]]
provider = "aws"
target = "eni-0fee1dead00000a01"
owner = "netsec@example.com"
ticket = "SEC-1"
reason = "IDS"
expires = 2027-06-30
"#;

#[test]
fn every_error_is_reported_at_once_with_line_and_column() {
    let text = r#"[settings]
max_lifetime_days = "a year"

[[targets]]
provider = "aws"
target = "eni-0fee1dead00000a01"
accounts = []
owner = "netsec@example.com"
ticket = "SEC-1"
reason = "IDS"
expires = "2027-06-30"

[[targets]]
provider = "aws"
target = "*"
owner = "netsec@example.com"
reason = "everything"
expires = 2027-06-30
expiry = 2027-06-30

[[targets]]
provider = "amazon"
target = "i-0123456789abcdef0"
regions = [42]
owner = "netsec@example.com"
ticket = "SEC-3"
reason = "bad provider"
expires = 2027-06-30

[[targets]]
provider = "aws"
target = "eni-0123456789abcdef0"
owner = "netsec@example.com"
ticket = "SEC-4"
reason = "first"
expires = 2027-06-30

[[targets]]
provider = "aws"
target = "eni-0123456789abcdef0"
owner = "netops@example.com"
ticket = "SEC-5"
reason = "same thing again"
expires = 2027-01-31

[[target]]
provider = "aws"
"#;
    let (code, stderr) = check(text);
    assert_eq!(code, 2);
    insta::assert_snapshot!("allowlist_all_errors", stderr);
}

#[test]
fn each_error_class_names_its_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        // (what, allowlist text, expected "line:column: message fragment")
        ("unknown key", "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\nregion = [\"us-east-1\"]\n", "8:1: targets[1]: unknown key `region` (did you mean `regions`?)"),
        ("wrong type", "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\nowner = 7\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "4:9: targets[1]: `owner` must be a string, found an integer"),
        ("empty list", "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\nregions = []\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "4:11: targets[1]: `regions` is an empty list"),
        ("quoted date", "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n", "7:11: targets[1]: `expires` must be a TOML date"),
        ("missing key", "\n[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\nowner = \"o\"\nreason = \"r\"\nexpires = 2027-01-01\n", "2:1: targets[1]: missing required key `ticket`"),
        ("lone star", "[[targets]]\nprovider = \"aws\"\ntarget = \"*\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "3:10: targets[1]: `target = \"*\"` would approve everything"),
        ("wrong id shape", "[[targets]]\nprovider = \"aws\"\ntarget = \"/subscriptions/x/nic\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "3:10: targets[1]: \"/subscriptions/x/nic\" is not a aws mirror target id"),
        ("bad account", "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\naccounts = [\"1234\"]\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "4:13: targets[1]: \"1234\" is not an AWS account id"),
        ("syntax", "[[targets]\nprovider = \"aws\"\n", "1:11: invalid TOML"),
        ("unknown table", "[[mirrors]]\nprovider = \"aws\"\n", "1:3: unknown top-level key `mirrors`"),
        ("duplicate", &format!("{VALID_ENTRY}{VALID_ENTRY}"), "10:1: targets[2]: duplicate of targets[1] (line 2)"),
        ("bad engagement window", "[[engagements]]\nactor = \"arn:aws:iam::1:role/red\"\nstarts = 2026-12-05T00:00:00Z\nends = 2026-12-01T00:00:00Z\nticket = \"RT\"\nowner = \"o\"\n", "4:8: engagements[1]: `ends` must be after `starts`"),
        ("bad exclusion account", "[[exclusions]]\nprovider = \"aws\"\nscope = \"1111:us-east-1\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "3:9: exclusions[1]: `scope` must be ACCOUNT or ACCOUNT:REGION"),
        ("azure exclusion with a region", "[[exclusions]]\nprovider = \"azure\"\nscope = \"11111111-1111-4111-8111-111111111111:westeurope\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "3:9: exclusions[1]: `scope` must be ACCOUNT or ACCOUNT:REGION"),
        ("azure nic instead of ip configuration", "[[targets]]\nprovider = \"azure\"\ntarget = \"/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic1\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "3:10: targets[1]: "),
        ("gcp target that is not a collector", "[[targets]]\nprovider = \"gcp\"\ntarget = \"projects/p/global/networks/vpc\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "3:10: targets[1]: "),
        ("bad exclusion scope", "[[exclusions]]\nprovider = \"aws\"\nscope = \"111122223333:\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-01\n", "3:9: exclusions[1]: `scope` must be ACCOUNT or ACCOUNT:REGION"),
    ];
    for (what, text, expected) in cases {
        let (code, stderr) = check(text);
        assert_eq!(code, 2, "{what}: {stderr}");
        let wanted = format!("allowlist.toml:{expected}");
        assert!(
            stderr.contains(&wanted),
            "{what}: expected {wanted:?} in:\n{stderr}"
        );
        assert!(stderr.contains("nothing was applied"), "{what}: {stderr}");
    }
}

#[test]
fn a_missing_allowlist_is_exit_2_with_a_hint_and_an_empty_one_approves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(dir.path());
    cmd.args(["scan", "--demo", "--allowlist", "nope.toml"]);
    let result = run(cmd);
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("mirrorguard allowlist init"),
        "{}",
        result.stderr
    );

    let result = demo_with_allowlist("", &["--format", "json"]);
    assert_eq!(result.code, 1);
    let report = result.json();
    assert!(report["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["verdict"] == "unapproved"));
}

#[test]
fn allowlist_init_writes_a_template_that_parses_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(dir.path());
    cmd.args(["allowlist", "init"]);
    assert_eq!(run(cmd).code, 0);
    let written = std::fs::read_to_string(dir.path().join("allowlist.toml")).unwrap();
    assert!(mirrorguard::allowlist::parse(std::path::Path::new("t"), &written).is_ok());

    std::fs::write(dir.path().join("allowlist.toml"), "# mine\n").unwrap();
    let mut cmd = command(dir.path());
    cmd.args(["allowlist", "init"]);
    assert_eq!(run(cmd).code, 2);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("allowlist.toml")).unwrap(),
        "# mine\n"
    );
}

/// One session in account 111122223333 / us-east-1 to an ENI owned by 444455556666, one in
/// eu-west-1 to a local ENI.
const MATCH_WORLD: &str = r#"
[[aws.accounts]]
id = "111122223333"
regions = ["eu-west-1", "us-east-1"]

[[aws.sessions]]
account = "111122223333"
region = "us-east-1"
id = "tms-0000000000000000a"
target = "tmt-0000000000000000a"
filter = "tmf-0000000000000000a"
source = "eni-0000000000000001a"

[[aws.targets]]
account = "111122223333"
region = "us-east-1"
id = "tmt-0000000000000000a"
type = "network-interface"
resource = "eni-0dd00000000000a01"
owner = "444455556666"

[[aws.sessions]]
account = "111122223333"
region = "eu-west-1"
id = "tms-0000000000000000b"
target = "tmt-0000000000000000b"
filter = "tmf-0000000000000000b"
source = "eni-0000000000000001b"

[[aws.targets]]
account = "111122223333"
region = "eu-west-1"
id = "tmt-0000000000000000b"
type = "network-interface"
resource = "eni-0dd00000000000a0123"
"#;

fn verdicts(allowlist: &str) -> Vec<(String, String, String)> {
    let cloud = TestCloud::start(MATCH_WORLD);
    let (home, _) = home_with_allowlist(allowlist);
    let result = scan(&cloud, home.path(), &["--format", "json"]);
    assert!(matches!(result.code, 0 | 1), "{}", result.stderr);
    result.json()["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["region"].as_str().unwrap().to_string(),
                m["verdict"].as_str().unwrap().to_string(),
                m["approved_by"]["entry"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            )
        })
        .collect()
}

fn entry(target: &str, extra: &str, expires: &str) -> String {
    format!(
        "[[targets]]\nprovider = \"aws\"\ntarget = \"{target}\"\n{extra}\nowner = \"o\"\nticket = \"T\"\nreason = \"r\"\nexpires = {expires}\n\n"
    )
}

#[test]
fn globs_cannot_reach_destinations_nobody_named() {
    for target in [
        "tmt-*",
        "eni-*",
        "eni-0dd0000*",
        "vpce-*",
        "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
        "arn:aws:elasticloadbalancing:us-east-1:*:loadbalancer/net/capture/*",
        "arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/net/*/*",
        "arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/app/web/0123456789abcdef",
    ] {
        let (code, stderr) = check(&entry(target, "", "2027-01-01"));
        assert_eq!(code, 2, "{target} must be refused: {stderr}");
        assert!(
            stderr.contains("is not a aws mirror target id"),
            "{target}: {stderr}"
        );
    }
    // Only a load balancer's final id segment may be a glob: the NLB may be recreated, but the
    // partition, region, owner account and name stay literal.
    let (code, stderr) = check(&entry(
        "arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/net/capture/*",
        "",
        "2027-01-01",
    ));
    assert_eq!(
        code, 1,
        "valid, and the demo still has violations: {stderr}"
    );
    let report = demo_with_allowlist(
        &entry(
            "arn:aws:elasticloadbalancing:us-east-1:999988887777:loadbalancer/net/capture/*",
            "",
            "2027-01-01",
        ),
        &["--format", "json"],
    )
    .json();
    assert_eq!(
        mirror(&report, "tms-0badc0de00000bad1")["verdict"],
        "approved"
    );
    let others = report["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["verdict"] == "approved")
        .count();
    assert_eq!(others, 1, "the glob approves that NLB and nothing else");
}

#[test]
fn a_far_future_expiry_is_fine_and_an_impossible_one_is_a_located_error() {
    let (code, stderr) = check(&entry("eni-0fee1dead00000a01", "", "9999-12-30"));
    assert_eq!(code, 1, "{stderr}");
    let (code, stderr) = check(&entry("eni-0fee1dead00000a01", "", "9999-12-31"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("allowlist.toml:8:11"), "{stderr}");
    assert!(stderr.contains("out of range"), "{stderr}");
}

#[test]
fn fingerprints_of_allowlist_findings_survive_edits_elsewhere_in_the_file() {
    let unused = entry(
        "eni-0b0b0b0b0b0b0b0b0",
        "regions = [\"us-east-1\"]",
        "2027-03-31",
    );
    let fingerprint = |text: &str| {
        let report = demo_with_allowlist(text, &["--format", "json"]).json();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "allowlist-unused")
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .expect("an unused finding")
    };
    let alone = fingerprint(&unused);
    let after_another = fingerprint(&(entry("eni-0fee1dead00000a01", "", "2027-01-01") + &unused));
    assert_eq!(alone, after_another);
}

#[test]
fn matching_is_exact_and_restrictions_apply_to_the_mirrors_own_scope() {
    let v = |text: &str| verdicts(text);
    let row = |region: &str, verdict: &str, by: &str| {
        (region.to_string(), verdict.to_string(), by.to_string())
    };

    // An id that is a prefix of another approves only itself (eu-west-1's ENI is longer).
    assert_eq!(
        v(&entry("eni-0dd00000000000a01", "", "2027-01-01")),
        [
            row("eu-west-1", "unapproved", "-"),
            row("us-east-1", "approved", "targets[1]")
        ]
    );
    // `accounts` is the mirror's account, not the destination owner's.
    assert_eq!(
        v(&entry(
            "eni-0dd00000000000a01",
            "accounts = [\"444455556666\"]",
            "2027-01-01"
        )),
        [
            row("eu-west-1", "unapproved", "-"),
            row("us-east-1", "unapproved", "-")
        ]
    );
    assert_eq!(
        v(&entry(
            "eni-0dd00000000000a01",
            "accounts = [\"111122223333\"]\nregions = [\"eu-west-1\"]",
            "2027-01-01"
        )),
        [
            row("eu-west-1", "unapproved", "-"),
            row("us-east-1", "unapproved", "-")
        ]
    );
    // The tmt- id may be approved instead of the receiving resource.
    assert_eq!(
        v(&entry("tmt-0000000000000000b", "", "2027-01-01")),
        [
            row("eu-west-1", "approved", "targets[1]"),
            row("us-east-1", "unapproved", "-")
        ]
    );
    // Expired through the end of its day: 2026-11-14 has passed at the pinned 2026-11-15T12:00Z,
    // 2026-11-15 has not.
    assert_eq!(
        v(&entry("tmt-0000000000000000b", "", "2026-11-14")),
        [
            row("eu-west-1", "expired", "targets[1]"),
            row("us-east-1", "unapproved", "-")
        ]
    );
    assert_eq!(
        v(&entry("tmt-0000000000000000b", "", "2026-11-15")),
        [
            row("eu-west-1", "approved", "targets[1]"),
            row("us-east-1", "unapproved", "-")
        ]
    );
    // A valid entry wins over an expired one wherever it is in the file.
    let both = entry("tmt-0000000000000000b", "", "2026-01-01")
        + &entry("eni-0dd00000000000a0123", "", "2027-01-01");
    assert_eq!(
        v(&both),
        [
            row("eu-west-1", "approved", "targets[2]"),
            row("us-east-1", "unapproved", "-")
        ]
    );
}
