//! `approve`, `revoke` and `allowlist check`: the file edits keep every other byte, refuse bad
//! input without touching the file, survive concurrency and crashes, and an approval made from
//! a scan report really approves that mirror on the next scan.

use crate::support::{command, home_with_allowlist, run, scan, Run, TestCloud};
use std::path::Path;

/// The bundled allowlist: comments, aligned keys, trailing comments, every entry kind.
const COMMENTED: &str = include_str!("../../allowlist.toml");
const NOW: &str = "2026-11-15T12:00:00Z";

fn mirrorguard(home: &Path, args: &[&str]) -> Run {
    let mut cmd = command(home);
    cmd.args(args);
    run(cmd)
}

fn approve(home: &Path, args: &[&str]) -> Run {
    let mut all = vec!["approve", "--now", NOW];
    all.extend_from_slice(args);
    mirrorguard(home, &all)
}

const IDS: [&str; 9] = [
    "eni-0a1b2c3d4e5f60718",
    "--provider",
    "aws",
    "--owner",
    "netsec@example.com",
    "--ticket",
    "SEC-101",
    "--reason",
    "second IDS sensor",
];

#[test]
fn approve_then_revoke_gives_back_the_file_byte_for_byte() {
    let (home, path) = home_with_allowlist(COMMENTED);
    let mut args = IDS.to_vec();
    args.extend(["--for", "90d", "--accounts", "111122223333"]);
    let added = approve(home.path(), &args);
    assert_eq!(added.code, 0, "{}", added.stderr);
    let after = std::fs::read_to_string(&path).expect("read");
    // Only the new entry appears in the diff; the file it printed is the file it wrote.
    assert!(after.starts_with(COMMENTED), "the rest of the file changed");
    assert_eq!(
        &after[COMMENTED.len()..],
        "\n[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0a1b2c3d4e5f60718\"\naccounts = [\"111122223333\"]\nowner = \"netsec@example.com\"\nticket = \"SEC-101\"\nreason = \"second IDS sensor\"\nexpires = 2027-02-13\n"
    );
    assert!(
        added.stdout.contains("+target = \"eni-0a1b2c3d4e5f60718\""),
        "{}",
        added.stdout
    );
    assert!(
        added
            .stdout
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .count()
            == 0
    );
    let reference = added
        .stderr
        .trim()
        .strip_prefix("added ")
        .and_then(|r| r.split_whitespace().next())
        .expect("the reference")
        .to_string();
    // The demo allowlist has seven [[targets]]: the new one is the eighth.
    assert_eq!(reference, "targets[8]");
    // The next scan's checker accepts it (the same checker validated it before writing).
    let check = mirrorguard(home.path(), &["allowlist", "check", "--now", NOW]);
    assert!(check.stdout.contains("8 targets"), "{}", check.stdout);
    assert!(
        check.stdout.contains("targets[8]") && check.stdout.contains("eni-0a1b2c3d4e5f60718"),
        "{}",
        check.stdout
    );

    let removed = mirrorguard(home.path(), &["revoke", &reference]);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), COMMENTED);
    assert!(removed
        .stdout
        .contains("-target = \"eni-0a1b2c3d4e5f60718\""));

    // By the id it names, too; a principal and an engagement round-trip the same way.
    assert_eq!(
        approve(
            home.path(),
            &[&IDS[..], &["--expires", "2027-01-31"]].concat()
        )
        .code,
        0
    );
    assert_eq!(
        mirrorguard(home.path(), &["revoke", "eni-0a1b2c3d4e5f60718"]).code,
        0
    );
    let principal = approve(
        home.path(),
        &[
            "--principal",
            "arn:aws:iam::111122223333:role/netvis-terraform",
            "--provider",
            "aws",
            "--owner",
            "platform@example.com",
            "--ticket",
            "SEC-77",
            "--reason",
            "the network-visibility pipeline",
            "--for",
            "30d",
        ],
    );
    assert_eq!(principal.code, 0, "{}", principal.stderr);
    let engagement = approve(
        home.path(),
        &[
            "--engagement",
            "redteam@example.com",
            "--starts",
            "2026-11-16T00:00:00Z",
            "--ends",
            "2026-11-30T00:00:00Z",
            "--owner",
            "ciso-office@example.com",
            "--ticket",
            "RT-77",
        ],
    );
    assert_eq!(engagement.code, 0, "{}", engagement.stderr);
    assert!(std::fs::read_to_string(&path)
        .expect("read")
        .contains("starts = 2026-11-16T00:00:00Z"));
    assert_eq!(
        mirrorguard(home.path(), &["revoke", "redteam@example.com"]).code,
        0
    );
    assert_eq!(
        mirrorguard(
            home.path(),
            &["revoke", "arn:aws:iam::111122223333:role/netvis-terraform"]
        )
        .code,
        0
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), COMMENTED);
}

#[test]
fn every_invalid_request_is_exit_2_and_leaves_the_file_untouched() {
    let (home, path) = home_with_allowlist(COMMENTED);
    let with = |extra: &[&str]| -> Vec<String> {
        IDS.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with(&["--expires", "2026-11-01"]), "already passed"),
        (with(&["--for", "400d"]), "more than 365 days"),
        (with(&[]), "an expiry is required"),
        (
            vec![
                "eni-0a1b2c3d4e5f60718",
                "--provider",
                "aws",
                "--owner",
                "o",
                "--ticket",
                "t",
                "--for",
                "30d",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "--reason is required",
        ),
        (
            vec![
                "eni-0a1b2c3d4e5f60718",
                "--provider",
                "nope",
                "--owner",
                "o",
                "--ticket",
                "t",
                "--reason",
                "r",
                "--for",
                "30d",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "unknown provider",
        ),
        (
            vec![
                "tmt-nothex",
                "--provider",
                "aws",
                "--owner",
                "o",
                "--ticket",
                "t",
                "--reason",
                "r",
                "--for",
                "30d",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "is not a aws mirror target id",
        ),
        (
            vec![
                "eni-0a1b2c3d4e5f6*",
                "--provider",
                "aws",
                "--owner",
                "o",
                "--ticket",
                "t",
                "--reason",
                "r",
                "--for",
                "30d",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "approve names a target exactly",
        ),
        (
            // The Suricata sensor is approved already, with the same restrictions.
            vec![
                "eni-0fee1dead00000a01",
                "--provider",
                "aws",
                "--owner",
                "o",
                "--ticket",
                "t",
                "--reason",
                "r",
                "--for",
                "30d",
                "--accounts",
                "111122223333",
                "--regions",
                "us-east-1",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "duplicate of targets[1]",
        ),
        (
            vec![
                "eni-0a1b2c3d4e5f60718",
                "--provider",
                "aws",
                "--owner",
                "",
                "--ticket",
                "t",
                "--reason",
                "r",
                "--for",
                "30d",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "--owner must not be empty",
        ),
        (
            vec![
                "eni-0a1b2c3d4e5f60718",
                "--provider",
                "aws",
                "--ticket",
                "t",
                "--reason",
                "r",
                "--for",
                "30d",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "--owner",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = approve(home.path(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            COMMENTED,
            "{args:?}"
        );
    }
    for (entry, expected) in [
        ("targets[9]", "no entry targets[9]"),
        ("eni-0000000000000000f", "no entry"),
    ] {
        let run = mirrorguard(home.path(), &["revoke", entry]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&path).expect("read"), COMMENTED);
    // A file that is invalid already is not edited; its errors are shown with line:column.
    let broken = format!("{COMMENTED}\n[[targets]]\nprovider = \"aws\"\n");
    std::fs::write(&path, &broken).expect("write");
    let run = approve(
        home.path(),
        &with(&["--for", "30d"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("allowlist.toml:"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), broken);
}

#[test]
fn twenty_concurrent_approvals_lose_nothing() {
    let (home, path) = home_with_allowlist(COMMENTED);
    let children: Vec<std::process::Child> = (0..20)
        .map(|i| {
            let mut cmd = command(home.path());
            cmd.args([
                "approve",
                &format!("eni-0c0c0c0c0c0c0c0{i:02x}"),
                "--provider",
                "aws",
                "--owner",
                "netsec@example.com",
                "--ticket",
                &format!("SEC-{i}"),
                "--reason",
                "sensor fleet",
                "--for",
                "30d",
                "--now",
                NOW,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn approve")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("approve finishes");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.starts_with(COMMENTED));
    for i in 0..20 {
        assert!(
            text.contains(&format!("target = \"eni-0c0c0c0c0c0c0c0{i:02x}\"")),
            "entry {i} lost"
        );
    }
    let check = mirrorguard(home.path(), &["allowlist", "check", "--now", NOW]);
    assert!(check.stdout.contains("27 targets"), "{}", check.stdout);
}

#[test]
fn a_write_cut_short_at_any_step_leaves_the_old_file_or_the_new_one() {
    for step in ["before-write", "written", "synced", "renamed"] {
        for mode in ["abort-at", "error-at"] {
            // An I/O error is injected only before the rename: after it, the new file stands.
            if (mode, step) == ("error-at", "renamed") {
                continue;
            }
            let (home, path) = home_with_allowlist(COMMENTED);
            let mut cmd = command(home.path());
            cmd.env("MIRRORGUARD_TEST_FAULT", format!("{mode}:{step}"))
                .args(["approve", "--now", NOW])
                .args(IDS)
                .args(["--for", "30d"]);
            let run = run(cmd);
            let text = std::fs::read_to_string(&path).expect("the allowlist is still there");
            let new = text.starts_with(COMMENTED) && text.len() > COMMENTED.len();
            assert!(
                text == COMMENTED || new,
                "{mode}:{step} left neither version: {text:?}"
            );
            if new {
                assert!(
                    text.ends_with("expires = 2026-12-15\n"),
                    "{mode}:{step}: {text:?}"
                );
            }
            match (mode, step) {
                // Killed before the rename: the old file; after it: the new one.
                ("abort-at", "renamed") => assert!(new, "{mode}:{step}"),
                ("abort-at", _) => {
                    assert_ne!(run.code, 0);
                    assert_eq!(text, COMMENTED, "{mode}:{step}");
                }
                _ => {
                    assert_eq!(run.code, 2, "{mode}:{step}: {}", run.stderr);
                    assert_eq!(text, COMMENTED, "{mode}:{step}");
                }
            }
            // An error cleans up its temporary file; and a crash leaves no lock behind that
            // blocks the next edit.
            if mode == "error-at" {
                let leftovers: Vec<_> = std::fs::read_dir(home.path())
                    .expect("list")
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                    .collect();
                assert!(leftovers.is_empty(), "{mode}:{step}: {leftovers:?}");
            }
            let next = approve(
                home.path(),
                &[
                    &IDS[..1],
                    &[
                        "--provider",
                        "aws",
                        "--owner",
                        "o",
                        "--ticket",
                        "t",
                        "--reason",
                        "r",
                        "--for",
                        "7d",
                        "--accounts",
                        "444455556666",
                    ],
                ]
                .concat(),
            );
            assert_eq!(next.code, 0, "after {mode}:{step}: {}", next.stderr);
        }
    }
}

#[test]
fn allowlist_check_reports_expired_expiring_too_long_and_unused() {
    let (home, path) = home_with_allowlist(COMMENTED);
    // The demo allowlist has an expired target (2026-10-31) and one expiring 2026-11-25.
    let run = mirrorguard(home.path(), &["allowlist", "check", "--now", NOW]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("Expired:") && run.stdout.contains("2026-10-31"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Expiring within 14 days:") && run.stdout.contains("2026-11-25"),
        "{}",
        run.stdout
    );
    // A shorter window no longer lists it.
    let run = mirrorguard(
        home.path(),
        &["allowlist", "check", "--now", NOW, "--within", "5d"],
    );
    assert!(!run.stdout.contains("Expiring within"), "{}", run.stdout);
    assert!(
        run.stdout.contains("0 expiring within 5 days"),
        "{}",
        run.stdout
    );
    // Without the expired entry: exit 0; with a lifetime shorter than an entry: exit 1.
    let revoke = mirrorguard(home.path(), &["revoke", "targets[3]"]);
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    assert_eq!(
        mirrorguard(home.path(), &["allowlist", "check", "--now", NOW]).code,
        0
    );
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("max_lifetime_days = 365", "max_lifetime_days = 30"),
    )
    .expect("write");
    let run = mirrorguard(home.path(), &["allowlist", "check", "--now", NOW]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("Longer than max_lifetime_days (30)"),
        "{}",
        run.stdout
    );
    // An invalid file: exit 2 with line and column.
    std::fs::write(&path, "[[targets]]\nprovider = \"aws\"\ntarget = 7\n").expect("write");
    let run = mirrorguard(home.path(), &["allowlist", "check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("allowlist.toml:3:"), "{}", run.stderr);
}

/// One session to an unapproved NLB-less ENI target, for the end-to-end approval.
const WORLD: &str = r#"
[[aws.accounts]]
id = "111122223333"
regions = ["us-east-1"]

[[aws.sessions]]
account = "111122223333"
region = "us-east-1"
id = "tms-0b0b0b0b0b0b0b0b1"
target = "tmt-0b0b0b0b0b0b0b0b1"
filter = "tmf-0b0b0b0b0b0b0b0b1"
source = "eni-0123456789abcdef0"

[[aws.sessions]]
account = "111122223333"
region = "us-east-1"
id = "tms-0b0b0b0b0b0b0b0b2"
target = "tmt-0b0b0b0b0b0b0b0b1"
filter = "tmf-0b0b0b0b0b0b0b0b1"
source = "eni-0123456789abcdef1"

[[aws.filters]]
account = "111122223333"
region = "us-east-1"
id = "tmf-0b0b0b0b0b0b0b0b1"

[[aws.targets]]
account = "111122223333"
region = "us-east-1"
id = "tmt-0b0b0b0b0b0b0b0b1"
type = "network-interface"
resource = "eni-0d0d0d0d0d0d0d0d1"
"#;

#[test]
fn an_approval_from_a_scan_report_makes_the_next_scan_clean() {
    let cloud = TestCloud::start(WORLD);
    let (home, allowlist) = home_with_allowlist("");
    let allowlist = allowlist.display().to_string();
    let report = home.path().join("scan.json");
    let report_arg = report.display().to_string();
    // A JSON scan with `allowlist`, saved to `output`.
    let saved_scan = |output: &str| {
        scan(
            &cloud,
            home.path(),
            &[
                "--allowlist",
                &allowlist,
                "--format",
                "json",
                "--output",
                output,
            ],
        )
    };
    let first = saved_scan(&report_arg);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let run = approve(
        home.path(),
        &[
            "--mirror",
            "tms-0b0b0b0b0b0b0b0b1",
            "--from-scan",
            &report_arg,
            "--owner",
            "netsec@example.com",
            "--ticket",
            "SEC-300",
            "--reason",
            "IDS",
            "--for",
            "30d",
            "--allowlist",
            &allowlist,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The other session shares the destination: said, not silently approved too.
    assert!(
        run.stderr.contains("tms-0b0b0b0b0b0b0b0b2"),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(&allowlist).expect("read");
    assert!(
        text.contains("target = \"eni-0d0d0d0d0d0d0d0d1\""),
        "{text}"
    );
    assert!(
        text.contains("accounts = [\"111122223333\"]")
            && text.contains("regions = [\"us-east-1\"]"),
        "{text}"
    );
    let second = scan(
        &cloud,
        home.path(),
        &["--allowlist", &allowlist, "--format", "json"],
    );
    assert_eq!(second.code, 0, "{}", second.stdout);
    let json = second.json();
    assert_eq!(
        crate::support::mirror(&json, "tms-0b0b0b0b0b0b0b0b1")["verdict"],
        "approved"
    );
    // `allowlist check --scan` with the report made before the approval: another allowlist.
    let check = mirrorguard(
        home.path(),
        &[
            "allowlist",
            "check",
            "--allowlist",
            &allowlist,
            "--scan",
            &report_arg,
            "--now",
            NOW,
        ],
    );
    assert!(
        check.stdout.contains("another version of the allowlist"),
        "{}",
        check.stdout
    );
    // With a report made with this very file, entries that matched nothing are listed.
    let extra = approve(
        home.path(),
        &[
            "eni-0e0e0e0e0e0e0e0e1",
            "--provider",
            "aws",
            "--owner",
            "o@example.com",
            "--ticket",
            "SEC-301",
            "--reason",
            "spare sensor",
            "--for",
            "30d",
            "--allowlist",
            &allowlist,
        ],
    );
    assert_eq!(extra.code, 0, "{}", extra.stderr);
    let fresh = home.path().join("fresh.json").display().to_string();
    let third = saved_scan(&fresh);
    assert_eq!(third.code, 0, "{}", third.stderr);
    let check = mirrorguard(
        home.path(),
        &[
            "allowlist",
            "check",
            "--allowlist",
            &allowlist,
            "--scan",
            &fresh,
            "--now",
            NOW,
        ],
    );
    assert_eq!(check.code, 0, "{}", check.stdout);
    let unused = check
        .stdout
        .split("Matched nothing in")
        .nth(1)
        .expect("an unused section");
    assert!(
        unused.contains("targets[2]") && !unused.contains("targets[1] "),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("1 matched nothing"),
        "{}",
        check.stdout
    );
    // An unknown mirror id is exit 2.
    let run = approve(
        home.path(),
        &[
            "--mirror",
            "tms-0999999999999999e",
            "--from-scan",
            &report_arg,
            "--owner",
            "o",
            "--ticket",
            "t",
            "--reason",
            "r",
            "--for",
            "30d",
            "--allowlist",
            &allowlist,
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no such mirror"), "{}", run.stderr);
}

#[test]
fn ids_are_written_and_compared_as_the_matcher_compares_them() {
    let (home, path) = home_with_allowlist("");
    let base = |target: &str, provider: &str| -> Vec<String> {
        [
            target,
            "--provider",
            provider,
            "--owner",
            "o@example.com",
            "--ticket",
            "SEC-9",
            "--reason",
            "r",
            "--for",
            "30d",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run_with = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        approve(home.path(), &args)
    };
    // A GCP collector URL is written as the path the matcher compares; the path is then a
    // duplicate of it.
    let url = "https://www.googleapis.com/compute/v1/projects/acme/regions/us-central1/forwardingRules/fr-ids";
    assert_eq!(run_with(base(url, "gcp")).code, 0);
    assert!(text_of(&path)
        .contains("target = \"projects/acme/regions/us-central1/forwardingRules/fr-ids\""));
    let again = run_with(base(
        "projects/acme/regions/us-central1/forwardingRules/fr-ids",
        "gcp",
    ));
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("duplicate"), "{}", again.stderr);
    // Azure ids compare case-insensitively: another spelling is the same entry.
    let ip = "/subscriptions/9d8c7b6a-5e4f-4a3b-9c2d-1e0f9a8b7c6d/resourceGroups/rg-netsec/providers/Microsoft.Network/networkInterfaces/nic-zeek-01/ipConfigurations/ipconfig1";
    assert_eq!(run_with(base(ip, "azure")).code, 0);
    let shouted = run_with(base(&ip.to_uppercase(), "azure"));
    assert_eq!(shouted.code, 2, "{}", shouted.stderr);
    assert!(shouted.stderr.contains("duplicate"), "{}", shouted.stderr);
    // And revoke finds it by either spelling.
    let before = text_of(&path);
    assert_eq!(
        mirrorguard(home.path(), &["revoke", &ip.to_uppercase()]).code,
        0
    );
    assert!(!text_of(&path).contains("nic-zeek-01"));
    assert!(before.contains("nic-zeek-01"));
    // An approval never widens: a prefix of an approved id is another id.
    let prefix = run_with(base(
        "projects/acme/regions/us-central1/forwardingRules/fr",
        "gcp",
    ));
    assert_eq!(prefix.code, 0, "{}", prefix.stderr);
    assert_eq!(text_of(&path).matches("[[targets]]").count(), 2);
}

fn text_of(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

#[test]
fn concurrent_revokes_and_approvals_remove_exactly_what_they_name() {
    // Ten entries; five revoked by name and five new ones approved, all at once.
    let (home, path) = home_with_allowlist("");
    let id = |i: usize| format!("eni-0c0c0c0c0c0c0c0{i:02x}");
    for i in 0..10 {
        let target = id(i);
        let run = approve(
            home.path(),
            &[
                &target,
                "--provider",
                "aws",
                "--owner",
                "o@example.com",
                "--ticket",
                "T-1",
                "--reason",
                "r",
                "--for",
                "30d",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let children: Vec<std::process::Child> = (0..10)
        .map(|i| {
            let mut cmd = command(home.path());
            if i % 2 == 0 {
                cmd.args(["revoke", &id(i)]);
            } else {
                cmd.args([
                    "approve",
                    &id(i + 100),
                    "--provider",
                    "aws",
                    "--owner",
                    "o@example.com",
                    "--ticket",
                    "T-2",
                    "--reason",
                    "r",
                    "--for",
                    "30d",
                    "--now",
                    NOW,
                ]);
            }
            cmd.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("finishes");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = text_of(&path);
    for i in 0..10 {
        let present = text.contains(&format!("target = \"{}\"", id(i)));
        assert_eq!(present, i % 2 == 1, "entry {i}: {text}");
        if i % 2 == 1 {
            assert!(
                text.contains(&format!("target = \"{}\"", id(i + 100))),
                "new {i}"
            );
        }
    }
    assert_eq!(text.matches("[[targets]]").count(), 10);
}

#[test]
fn engagements_mirror_scopes_and_id_spelling_are_held_to_the_rules() {
    let (home, path) = home_with_allowlist(COMMENTED);
    let engagement = |ends: &str| {
        approve(
            home.path(),
            &[
                "--engagement",
                "pentest@example.com",
                "--starts",
                "2026-11-16T00:00:00Z",
                "--ends",
                ends,
                "--owner",
                "ciso@example.com",
                "--ticket",
                "RT-9",
            ],
        )
    };
    // An engagement lasts no longer than any other approval.
    let long = engagement("2028-01-01T00:00:00Z");
    assert_eq!(long.code, 2);
    assert!(
        long.stderr.contains("more than 365 days"),
        "{}",
        long.stderr
    );
    // AWS ids are compared exactly as the scan prints them (lower case).
    let upper = approve(
        home.path(),
        &[
            "eni-0A1B2C3D4E5F60718",
            "--provider",
            "aws",
            "--owner",
            "o",
            "--ticket",
            "t",
            "--reason",
            "r",
            "--for",
            "30d",
        ],
    );
    assert_eq!(upper.code, 2);
    assert!(upper.stderr.contains("lower-case"), "{}", upper.stderr);
    assert_eq!(text_of(&path), COMMENTED);
    // The demo's engagement ends 2026-12-05: listed as expiring soon, then as expired.
    let soon = mirrorguard(
        home.path(),
        &["allowlist", "check", "--now", "2026-11-30T00:00:00Z"],
    );
    let expiring = soon
        .stdout
        .split("Expiring within")
        .nth(1)
        .unwrap_or_default();
    assert!(expiring.contains("engagements[1]"), "{}", soon.stdout);
    let after = mirrorguard(
        home.path(),
        &["allowlist", "check", "--now", "2026-12-06T00:00:00Z"],
    );
    assert_eq!(after.code, 1);
    let expired = after
        .stdout
        .split("Expired:")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or_default();
    assert!(expired.contains("engagements[1]"), "{}", after.stdout);
}

#[test]
fn a_mirror_from_a_scan_keeps_its_own_scope_unless_anywhere() {
    let (home, allowlist) = home_with_allowlist("");
    let report = home.path().join("scan.json");
    std::fs::write(
        &report,
        serde_json::json!({
            "schema": "mirrorguard/scan/v1",
            "mirrors": [{
                "provider": "aws", "account": "111122223333", "region": "us-east-1",
                "id": "tms-0b0b0b0b0b0b0b0b1",
                "target": {"kind": "network-interface", "id": "eni-0d0d0d0d0d0d0d0d1"}
            }]
        })
        .to_string(),
    )
    .expect("write report");
    let report = report.display().to_string();
    let allowlist_arg = allowlist.display().to_string();
    let base = [
        "--mirror",
        "tms-0b0b0b0b0b0b0b0b1",
        "--from-scan",
        &report,
        "--owner",
        "o",
        "--ticket",
        "t",
        "--reason",
        "r",
        "--for",
        "30d",
        "--allowlist",
        &allowlist_arg,
    ];
    let widened = approve(
        home.path(),
        &[&base[..], &["--accounts", "444455556666"]].concat(),
    );
    assert_eq!(widened.code, 2);
    assert!(widened.stderr.contains("--anywhere"), "{}", widened.stderr);
    assert_eq!(text_of(&allowlist), "");
    let anywhere = approve(home.path(), &[&base[..], &["--anywhere"]].concat());
    assert_eq!(anywhere.code, 0, "{}", anywhere.stderr);
    let text = text_of(&allowlist);
    assert!(
        text.contains("target = \"eni-0d0d0d0d0d0d0d0d1\"") && !text.contains("accounts"),
        "{text}"
    );
}
