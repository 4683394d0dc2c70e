//! `mirrorguard audit` over the fixture logs in every real format, checked against the
//! hand-written oracle `tests/fixtures/audit/expected.toml` (written from each file's scenario,
//! not from mirrorguard's output; `seed_oracle.py --check` recounts it from the files).

use super::support::{command, home_with_allowlist, run, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit")
}

/// `mirrorguard audit --format json` over `paths` with `allowlist` (empty: nothing sanctioned).
pub fn audit(allowlist: &str, args: &[&str], paths: &[PathBuf]) -> Run {
    let (home, allowlist_path) = home_with_allowlist(allowlist);
    let mut cmd = command(home.path());
    cmd.args(["audit", "--format", "json", "--now", "2026-12-01T00:00:00Z"])
        .arg("--allowlist")
        .arg(&allowlist_path)
        .args(args)
        .args(paths);
    run(cmd)
}

fn oracle() -> toml::Table {
    let text = std::fs::read_to_string(fixtures().join("expected.toml")).expect("expected.toml");
    text.parse().expect("expected.toml parses")
}

/// The instant a timestamp names, in whole seconds and nanoseconds, so `…03Z` and `…03.000Z`
/// compare equal.
fn instant(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

const EVENT_FIELDS: [&str; 11] = [
    "rule",
    "operation",
    "lifecycle",
    "outcome",
    "dry_run",
    "account",
    "region",
    "actor",
    "actor_session",
    "source_ip",
    "target",
];

fn compare_event(file: &str, index: usize, want: &toml::Table, got: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for field in EVENT_FIELDS {
        let expected = want.get(field).map(|v| match v {
            toml::Value::String(s) => Value::String(s.clone()),
            toml::Value::Boolean(b) => Value::Bool(*b),
            other => panic!("{file}: unexpected value {other:?}"),
        });
        let actual = got.get(field).cloned().unwrap_or(Value::Null);
        let expected = expected.unwrap_or(Value::Null);
        let equal = match (field, &expected, &actual) {
            ("actor" | "account", Value::String(a), Value::String(b)) => {
                a.eq_ignore_ascii_case(b.as_str())
            }
            _ => expected == actual,
        };
        if !equal {
            problems.push(format!(
                "{file} event {index} ({}): {field} expected {expected}, got {actual}",
                want["operation"]
            ));
        }
    }
    // Azure ids compare case-insensitively (CONTRACTS §4).
    let resource_want = want.get("resource").and_then(|v| v.as_str());
    let resource_got = got["resource"].as_str();
    if resource_want.map(str::to_lowercase) != resource_got.map(str::to_lowercase) {
        problems.push(format!(
            "{file} event {index}: resource expected {resource_want:?}, got {resource_got:?}"
        ));
    }
    let time_want = instant(want["time"].as_str().expect("time"));
    match got["time"].as_str().map(instant) {
        Some(t) if t == time_want => {}
        other => problems.push(format!(
            "{file} event {index}: time expected {time_want}, got {other:?}"
        )),
    }
    problems
}

#[test]
fn every_fixture_gives_exactly_the_expected_events_inputs_and_seed_hits() {
    let oracle = oracle();
    let files = oracle["file"].as_array().expect("[[file]]");
    let mut problems = Vec::new();
    let mut checked_events = 0;
    for file in files {
        let file = file.as_table().expect("file table");
        let path = file["path"].as_str().expect("path");
        let full = fixtures().join(path);

        let corrected = audit("", &[], std::slice::from_ref(&full));
        let report = corrected.json();
        let input = &report["inputs"][0];
        for (key, field) in [("records", "records"), ("malformed", "malformed")] {
            let want = file[key].as_integer().expect("count");
            if input[field].as_i64() != Some(want) {
                problems.push(format!(
                    "{path}: {field} expected {want}, got {}",
                    input[field]
                ));
            }
        }
        let malformed_lines: Vec<i64> = input["malformed_records"]
            .as_array()
            .expect("malformed_records")
            .iter()
            .map(|m| m["line"].as_i64().expect("line"))
            .collect();
        let want_lines: Vec<i64> = file["malformed_lines"]
            .as_array()
            .expect("malformed_lines")
            .iter()
            .map(|l| l.as_integer().expect("line"))
            .collect();
        if malformed_lines != want_lines {
            problems.push(format!(
                "{path}: malformed lines {malformed_lines:?}, expected {want_lines:?}"
            ));
        }
        let truncated = file["truncated"].as_bool().expect("truncated");
        if input["truncated"].as_bool() != Some(truncated) {
            problems.push(format!("{path}: truncated expected {truncated}"));
        }
        let error = file.get("error").and_then(|e| e.as_bool()).unwrap_or(false);
        if input["error"].is_null() == error {
            problems.push(format!(
                "{path}: error expected {error}, got {}",
                input["error"]
            ));
        }
        // A file nothing could be read from has no format to tell.
        if !error && input["format"] != file["format"].as_str().expect("format") {
            problems.push(format!(
                "{path}: format {} expected {}",
                input["format"], file["format"]
            ));
        }
        let lost = input["malformed"].as_i64() > Some(0) || truncated || error;

        let want_events: Vec<&toml::Table> = file
            .get("event")
            .and_then(|e| e.as_array())
            .map(|a| a.iter().map(|e| e.as_table().expect("event")).collect())
            .unwrap_or_default();
        let got_events = report["events"].as_array().expect("events");
        if got_events.len() != want_events.len() {
            problems.push(format!(
                "{path}: {} events, expected {}: {:?}",
                got_events.len(),
                want_events.len(),
                got_events
                    .iter()
                    .map(|e| format!("{} {} {}", e["operation"], e["outcome"], e["resource"]))
                    .collect::<Vec<_>>()
            ));
        } else {
            for (i, (want, got)) in want_events.iter().zip(got_events).enumerate() {
                problems.extend(compare_event(path, i, want, got));
                checked_events += 1;
                // A change is one record (AWS) or a start and an end (GCP, Azure): a duplicate
                // delivery must not count as a third.
                if got["records"].as_u64().is_none_or(|n| n > 2) {
                    problems.push(format!(
                        "{path} event {i}: made of {} records",
                        got["records"]
                    ));
                }
            }
        }
        // Nothing is sanctioned by an empty allowlist: any successful change is a violation;
        // else lost input is exit 3.
        let any_change = want_events.iter().any(|e| {
            e["outcome"].as_str() == Some("success") && e["dry_run"].as_bool() == Some(false)
        });
        let want_code = if any_change {
            1
        } else if lost {
            3
        } else {
            0
        };
        if corrected.code != want_code {
            problems.push(format!(
                "{path}: exit {} expected {want_code}",
                corrected.code
            ));
        }

        // The original rule: one hit per record it fires on, numbered as the oracle numbers
        // records (file order, malformed lines skipped).
        let seed = audit("", &["--rule", "seed"], &[full]).json();
        let hits: Vec<i64> = seed["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["record"].as_i64().expect("record"))
            .collect();
        let mut hits_sorted = hits.clone();
        hits_sorted.sort();
        let want_hits: Vec<i64> = file["seed_records"]
            .as_array()
            .expect("seed_records")
            .iter()
            .map(|r| r.as_integer().expect("record"))
            .collect();
        if hits_sorted != want_hits {
            problems.push(format!(
                "{path}: seed rule fired on records {hits_sorted:?}, expected {want_hits:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(checked_events >= 80, "only {checked_events} events checked");
}

// ---------------------------------------------------------------------------------------------
// The sanction rule, exit codes and inputs, on small logs written by the tests.

/// One CloudTrail record of `name` by an assumed-role `session` of `role`, in a delivery file.
fn trail_record(
    name: &str,
    role: &str,
    session: &str,
    time: &str,
    request: Value,
    response: Value,
) -> Value {
    serde_json::json!({
        "eventVersion": "1.10",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::111122223333:assumed-role/{role}/{session}"),
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::111122223333:role/{role}")}}
        },
        "eventTime": time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.9",
        "requestParameters": {format!("{name}Request"): request},
        "responseElements": {format!("{name}Response"): response},
        "eventID": format!("{name}-{time}-{session}"),
        "readOnly": false,
        "recipientAccountId": "111122223333"
    })
}

fn create_session(role: &str, time: &str, session_id: &str, target: &str) -> Value {
    trail_record(
        "CreateTrafficMirrorSession",
        role,
        "s1",
        time,
        serde_json::json!({"NetworkInterfaceId": "eni-0123456789abcdef0", "TrafficMirrorTargetId": target}),
        serde_json::json!({"trafficMirrorSession": {"trafficMirrorSessionId": session_id, "trafficMirrorTargetId": target}}),
    )
}

fn delete_session(role: &str, time: &str, session_id: &str) -> Value {
    trail_record(
        "DeleteTrafficMirrorSession",
        role,
        "s1",
        time,
        serde_json::json!({"TrafficMirrorSessionId": session_id}),
        serde_json::json!({"trafficMirrorSessionId": session_id}),
    )
}

/// Writes `records` as a CloudTrail delivery file in a new temporary directory.
fn log_file(records: &[Value]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trail.json");
    std::fs::write(&path, serde_json::json!({ "Records": records }).to_string())
        .expect("write log");
    (dir, path)
}

const TERRAFORM_PRINCIPAL: &str = r#"
[[principals]]
provider = "aws"
actor    = "arn:aws:iam::111122223333:role/netvis-terraform"
owner    = "platform@example.com"
ticket   = "SEC-77"
reason   = "network-visibility Terraform pipeline"
expires  = 2027-01-31

[[targets]]
provider = "aws"
target   = "tmt-0a0a0a0a0a0a0a0a1"
owner    = "netsec@example.com"
ticket   = "SEC-78"
reason   = "IDS"
expires  = 2027-01-31
"#;

fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    report["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap_or_default().to_string(),
                e["verdict"].as_str().unwrap_or_default().to_string(),
                e["sanctioned_by"]["entry"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn a_principal_sanctions_only_changes_to_approved_destinations_and_its_deletes() {
    let (_dir, log) = log_file(&[
        create_session(
            "netvis-terraform",
            "2026-11-10T10:00:00Z",
            "tms-0000000000000aaa1",
            "tmt-0a0a0a0a0a0a0a0a1",
        ),
        // The same pipeline pointing a session elsewhere is not covered by its approval.
        create_session(
            "netvis-terraform",
            "2026-11-10T10:05:00Z",
            "tms-0000000000000aaa2",
            "tmt-0b0b0b0b0b0b0b0b2",
        ),
        delete_session(
            "netvis-terraform",
            "2026-11-10T10:10:00Z",
            "tms-0000000000000aaa2",
        ),
        // Anyone else is unsanctioned, approved destination or not.
        create_session(
            "SomeoneElse",
            "2026-11-10T10:15:00Z",
            "tms-0000000000000aaa3",
            "tmt-0a0a0a0a0a0a0a0a1",
        ),
    ]);
    let run = audit(TERRAFORM_PRINCIPAL, &[], &[log]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        verdicts(&report),
        vec![
            (
                "CreateTrafficMirrorSession".into(),
                "sanctioned".into(),
                "principals[1]".into()
            ),
            (
                "CreateTrafficMirrorSession".into(),
                "unsanctioned".into(),
                "-".into()
            ),
            (
                "DeleteTrafficMirrorSession".into(),
                "sanctioned".into(),
                "principals[1]".into()
            ),
            (
                "CreateTrafficMirrorSession".into(),
                "unsanctioned".into(),
                "-".into()
            ),
        ]
    );
    let reason = report["events"][1]["verdict_reason"]
        .as_str()
        .expect("reason");
    assert!(
        reason.contains("tmt-0b0b0b0b0b0b0b0b2") && reason.contains("not approved"),
        "{reason}"
    );
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, vec!["unsanctioned-change", "unsanctioned-change"]);
}

#[test]
fn an_expired_principal_or_another_account_sanctions_nothing_and_all_sanctioned_exits_0() {
    let (_dir, log) = log_file(&[create_session(
        "netvis-terraform",
        "2026-11-10T10:00:00Z",
        "tms-0000000000000aaa1",
        "tmt-0a0a0a0a0a0a0a0a1",
    )]);
    // Valid when the change was made: sanctioned, exit 0.
    let run = audit(TERRAFORM_PRINCIPAL, &[], std::slice::from_ref(&log));
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Expired before the change.
    let expired = TERRAFORM_PRINCIPAL.replacen("expires  = 2027-01-31", "expires  = 2026-11-09", 1);
    let run = audit(&expired, &[], std::slice::from_ref(&log));
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["events"][0]["verdict"], "unsanctioned");
    // Restricted to another account.
    let elsewhere = TERRAFORM_PRINCIPAL.replacen(
        "expires  = 2027-01-31",
        "accounts = [\"444455556666\"]\nexpires  = 2027-01-31",
        1,
    );
    assert_eq!(audit(&elsewhere, &[], &[log]).code, 1);
}

#[test]
fn an_engagement_sanctions_its_actor_inside_its_window_only() {
    let engagement = r#"
[[engagements]]
actor  = "arn:aws:iam::111122223333:role/redteam"
starts = 2026-12-01T00:00:00Z
ends   = 2026-12-14T00:00:00Z
ticket = "RT-77"
owner  = "ciso-office@example.com"
"#;
    let (_dir, log) = log_file(&[
        create_session(
            "redteam",
            "2026-11-30T23:59:59Z",
            "tms-0000000000000bbb1",
            "tmt-0c0c0c0c0c0c0c0c1",
        ),
        create_session(
            "redteam",
            "2026-12-01T00:00:00Z",
            "tms-0000000000000bbb2",
            "tmt-0c0c0c0c0c0c0c0c1",
        ),
        // `ends` is exclusive.
        create_session(
            "redteam",
            "2026-12-14T00:00:00Z",
            "tms-0000000000000bbb3",
            "tmt-0c0c0c0c0c0c0c0c1",
        ),
    ]);
    let report = audit(engagement, &[], std::slice::from_ref(&log)).json();
    let got: Vec<String> = verdicts(&report).into_iter().map(|v| v.1).collect();
    assert_eq!(got, vec!["unsanctioned", "sanctioned", "unsanctioned"]);
    // Restricted to targets: a change to another destination is outside the engagement.
    let restricted = engagement.replace(
        "ticket = \"RT-77\"",
        "ticket = \"RT-77\"\nprovider = \"aws\"\ntargets = [\"tmt-0d0d0d0d0d0d0d0d1\"]",
    );
    let report = audit(&restricted, &[], &[log]).json();
    assert!(verdicts(&report).iter().all(|v| v.1 == "unsanctioned"));
}

#[test]
fn failed_attempts_are_findings_and_exit_1_only_when_asked() {
    let mut refused = create_session(
        "Intruder",
        "2026-11-10T10:00:00Z",
        "tms-unused",
        "tmt-0e0e0e0e0e0e0e0e1",
    );
    refused["errorCode"] = "Client.UnauthorizedOperation".into();
    refused["responseElements"] = Value::Null;
    let mut dry_run = create_session(
        "Intruder",
        "2026-11-10T10:01:00Z",
        "tms-unused",
        "tmt-0e0e0e0e0e0e0e0e1",
    );
    dry_run["errorCode"] = "Client.DryRunOperation".into();
    dry_run["responseElements"] = Value::Null;
    let (_dir, log) = log_file(&[refused, dry_run]);
    let run = audit("", &[], std::slice::from_ref(&log));
    assert_eq!(
        run.code, 0,
        "attempts change nothing by default: {}",
        run.stdout
    );
    let report = run.json();
    let events = report["events"].as_array().expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["outcome"], "failure");
    assert_eq!(events[0]["dry_run"], false);
    assert_eq!(events[0]["resource"], Value::Null, "nothing was created");
    assert_eq!(events[1]["dry_run"], true);
    // One step below a successful change's severity.
    assert_eq!(events[0]["severity"], "medium");
    assert!(report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .all(|f| f["code"] == "failed-attempt"));
    assert_eq!(audit("", &["--fail-on-attempts"], &[log]).code, 1);
}

#[test]
fn lost_input_is_exit_3_and_no_input_is_exit_2() {
    let bad = fixtures().join("malformed/truncated.json.gz");
    let run = audit("", &[], std::slice::from_ref(&bad));
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["inputs"][0]["truncated"], true);
    assert_eq!(report["findings"][0]["code"], "audit-input-incomplete");
    // The table says so too, not only the exit code.
    let (home, allowlist) = home_with_allowlist("");
    let mut cmd = command(home.path());
    cmd.args(["audit", "--allowlist"]).arg(&allowlist).arg(&bad);
    let table = run_cmd(cmd);
    assert!(
        table.stdout.contains("Inputs not read whole"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("exit 3"), "{}", table.stdout);

    // A path that does not exist, alone or next to one that does: a typo, refused with exit 2
    // before anything is read (not a lost input discovered after the whole run).
    for paths in [
        vec![
            fixtures().join("cloudtrail/events.ndjson"),
            PathBuf::from("/nonexistent/trail.json"),
        ],
        vec![PathBuf::from("/nonexistent/trail.json")],
    ] {
        let run = audit("", &[], &paths);
        assert_eq!(run.code, 2, "{paths:?}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr
                .contains("/nonexistent/trail.json: no such file or directory"),
            "{}",
            run.stderr
        );
    }
    // A broken allowlist stops the audit with its line.
    let run = audit(
        "[[principals]]\nprovider = \"aws\"\n",
        &[],
        &[fixtures().join("cloudtrail/events.ndjson")],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("allowlist.toml:1:1")
            && run.stderr.contains("missing required key `actor`"),
        "{}",
        run.stderr
    );
}

fn run_cmd(cmd: std::process::Command) -> Run {
    run(cmd)
}

#[test]
fn standard_input_and_the_time_window() {
    let (home, allowlist) = home_with_allowlist("");
    let log = std::fs::read(fixtures().join("cloudtrail/seed-test1.json.gz")).expect("fixture");
    let mut cmd = command(home.path());
    cmd.args([
        "audit",
        "--format",
        "json",
        "--since",
        "2026-11-10T09:14:30Z",
        "--until",
        "2026-11-10T09:15:30Z",
        "--allowlist",
    ])
    .arg(&allowlist)
    .arg("-")
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&log)
            .expect("write stdin");
    }
    let output = child.wait_with_output().expect("wait");
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["inputs"][0]["path"], "-");
    assert_eq!(
        report["inputs"][0]["records"], 9,
        "every record is read, whatever the window"
    );
    assert_eq!(report["window"]["since"], "2026-11-10T09:14:30Z");
    let times: Vec<&str> = report["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["time"].as_str().expect("time"))
        .collect();
    assert_eq!(times, vec!["2026-11-10T09:14:52Z", "2026-11-10T09:15:09Z"]);
}

#[test]
fn the_original_rule_misses_what_the_corrected_one_catches() {
    // Seed Test 3 (GCP packetMirrorings.insert): the corrected rule finds one change from two
    // entries; the original rule, as written, finds nothing.
    let test3 = fixtures().join("gcp/seed-test3.json");
    let corrected = audit("", &[], std::slice::from_ref(&test3)).json();
    assert_eq!(corrected["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(corrected["events"][0]["records"], 2);
    let seed = audit("", &["--rule", "seed"], &[test3]).json();
    assert_eq!(seed["rule"], "seed");
    assert_eq!(seed["events"].as_array().map(Vec::len), Some(0));
    // Seed Test 2 (Azure): one change each for the vTAP and the tapConfiguration, where the
    // original fires on every Started, Succeeded and duplicate record.
    let test2 = fixtures().join("azure/seed-test2-rest.json");
    let corrected = audit("", &[], std::slice::from_ref(&test2)).json();
    assert_eq!(corrected["events"].as_array().map(Vec::len), Some(2));
    let seed = audit("", &["--rule", "seed"], &[test2]).json();
    assert_eq!(seed["events"].as_array().map(Vec::len), Some(5));
}

#[test]
fn hostile_log_text_is_inert_in_the_table() {
    let mut record = create_session(
        "Intruder",
        "2026-11-10T10:00:00Z",
        "tms-0000000000000ccc1",
        "tmt-0f0f0f0f0f0f0f0f1",
    );
    record["sourceIPAddress"] = "198.51.100.1\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}".into();
    let (_dir, log) = log_file(&[record]);
    let (home, allowlist) = home_with_allowlist("");
    let mut cmd = command(home.path());
    cmd.args(["audit", "--allowlist"]).arg(&allowlist).arg(&log);
    let table = run(cmd);
    assert_eq!(table.code, 1);
    assert!(
        !table.stdout.contains('\u{1b}') && !table.stdout.contains('\u{202e}'),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("\\u{1b}]0;owned"), "{}", table.stdout);
    // JSON keeps the exact value.
    let report = audit("", &[], &[log]).json();
    assert!(report["events"][0]["source_ip"]
        .as_str()
        .expect("ip")
        .contains('\u{1b}'));
}

// ---------------------------------------------------------------------------------------------
// Correlation with the inventory (`scan --audit`).

#[test]
fn the_demo_correlates_its_logs_with_its_estate() {
    let (home, _) = home_with_allowlist("");
    let mut cmd = command(home.path());
    cmd.args(["scan", "--demo", "--format", "json"]);
    let run = run(cmd);
    assert_eq!(run.code, 1);
    let report = run.json();
    let findings = report["findings"].as_array().expect("findings");
    let find =
        |code: &str| -> Vec<&Value> { findings.iter().filter(|f| f["code"] == code).collect() };
    // One ephemeral mirror is in the bundled files; three more (one per cloud) only in the
    // live logs the demo's mock serves.
    let mut ephemeral: Vec<&str> = find("ephemeral-mirror")
        .iter()
        .map(|f| f["resource"].as_str().expect("resource"))
        .collect();
    ephemeral.sort();
    assert_eq!(
        ephemeral,
        [
            "/subscriptions/3f2b8c1e-5a6d-4e7f-8a9b-0c1d2e3f4a5b/resourceGroups/rg-payments/providers/Microsoft.Network/virtualNetworkTaps/vtap-tmp-0412",
            "projects/acme-prod-platform/regions/europe-west1/packetMirrorings/pm-diag-7",
            "tms-0c1c1c1c1c1c1c1c1",
            "tms-0e9e3e1a1c0ffee77",
        ]
    );
    let events = report["audit"]["events"].as_array().expect("events");
    let from_live = |resource: &str| {
        events
            .iter()
            .filter(|e| e["resource"] == resource)
            .all(|e| e["path"].as_str().is_some_and(|p| p.starts_with("live:")))
    };
    assert!(from_live("tms-0c1c1c1c1c1c1c1c1"));
    assert!(!from_live("tms-0e9e3e1a1c0ffee77"));
    // The SCP that denies the scanner ap-southeast-2 denies its CloudTrail too: a gap.
    let gaps: Vec<&Value> = report["audit"]["audit_coverage"]
        .as_array()
        .expect("audit_coverage")
        .iter()
        .filter(|r| r["status"] == "denied" || r["status"] == "failed")
        .collect();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["region"], "ap-southeast-2");
    // Pointed at the outside NLB and back: only the first change is a retarget.
    let retargeted = find("retargeted-mirror");
    assert_eq!(retargeted.len(), 1, "{retargeted:?}");
    assert_eq!(retargeted[0]["resource"], "tms-0a11c0ffee0000001");
    assert!(retargeted[0]["message"]
        .as_str()
        .expect("message")
        .contains("999988887777"));
    // The unapproved mirror says who made it; the approved one was made by the pipeline.
    let bad = crate::support::mirror(&report, "tms-0badc0de00000bad1");
    assert_eq!(
        bad["created_by"]["actor"],
        "arn:aws:iam::111122223333:role/NetOpsAdmin"
    );
    assert_eq!(bad["created_by"]["verdict"], "unsanctioned");
    let good = crate::support::mirror(&report, "tms-0a11c0ffee0000001");
    assert_eq!(good["created_by"]["verdict"], "sanctioned");
    assert_eq!(good["last_changed_by"]["time"], "2026-11-13T04:05:12Z");
    // Azure ids match whatever their letter case; GCP policies by their path.
    let vtap = report["mirrors"]
        .as_array()
        .expect("mirrors")
        .iter()
        .find(|m| {
            m["id"]
                .as_str()
                .is_some_and(|id| id.ends_with("vtap-debug-capture"))
        })
        .expect("the debug vTAP");
    assert_eq!(vtap["created_by"]["actor"], "eve.contractor@acme.example");
    // The bundled files' refused call, and the live one in us-west-2.
    assert_eq!(report["audit"]["summary"]["attempts"], 2);
    assert!(report["audit"]["inputs"]
        .as_array()
        .is_some_and(|i| i.len() == 3));
}

/// The pipeline role as a principal, and the IDS interface (not the `tmt-…` in front of it) as
/// the approved destination.
const PIPELINE_AND_IDS_INTERFACE: &str = r#"
[[principals]]
provider = "aws"
actor    = "arn:aws:iam::111122223333:role/netvis-terraform"
owner    = "platform@example.com"
ticket   = "SEC-77"
reason   = "network-visibility Terraform pipeline"
expires  = 2027-01-31

[[targets]]
provider = "aws"
target   = "eni-0fedcba987654321f"
owner    = "netsec@example.com"
ticket   = "SEC-78"
reason   = "IDS"
expires  = 2027-01-31
"#;

/// One account, one region, one session to an IDS interface behind `tmt-…a1`.
const ONE_SESSION_WORLD: &str = r#"
[[aws.accounts]]
id = "111122223333"
regions = ["us-east-1"]

[[aws.sessions]]
account = "111122223333"
region = "us-east-1"
id = "tms-0a0a0a0a0a0a0a0a1"
target = "tmt-0a0a0a0a0a0a0a0a1"
filter = "tmf-0a0a0a0a0a0a0a0a1"
source = "eni-0123456789abcdef0"

[[aws.filters]]
account = "111122223333"
region = "us-east-1"
id = "tmf-0a0a0a0a0a0a0a0a1"

[[aws.targets]]
account = "111122223333"
region = "us-east-1"
id = "tmt-0a0a0a0a0a0a0a0a1"
type = "network-interface"
resource = "eni-0fedcba987654321f"
"#;

#[test]
fn scan_audit_turns_a_clean_scan_into_a_violation_or_an_incomplete_one() {
    use crate::support::{scan, TestCloud};
    let cloud = TestCloud::start(ONE_SESSION_WORLD);
    let (home, allowlist) = home_with_allowlist(TERRAFORM_PRINCIPAL);
    let allowlist = allowlist.display().to_string();
    let clean = scan(
        &cloud,
        home.path(),
        &["--allowlist", &allowlist, "--format", "json"],
    );
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    assert_eq!(clean.json()["audit"], Value::Null);

    // The pipeline made the session: still clean, and the report says who.
    let (_d1, sanctioned) = log_file(&[create_session(
        "netvis-terraform",
        "2026-11-10T10:00:00Z",
        "tms-0a0a0a0a0a0a0a0a1",
        "tmt-0a0a0a0a0a0a0a0a1",
    )]);
    let run = scan(
        &cloud,
        home.path(),
        &[
            "--allowlist",
            &allowlist,
            "--format",
            "json",
            "--audit",
            &sanctioned.display().to_string(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        crate::support::mirror(&run.json(), "tms-0a0a0a0a0a0a0a0a1")["created_by"]["actor"],
        "arn:aws:iam::111122223333:role/netvis-terraform"
    );

    // Someone made and removed a session between scans: exit 1, though every mirror that
    // exists now is approved.
    let (_d2, ephemeral) = log_file(&[
        create_session(
            "Intruder",
            "2026-11-12T01:00:00Z",
            "tms-0999999999999999e",
            "tmt-0a0a0a0a0a0a0a0a1",
        ),
        delete_session("Intruder", "2026-11-12T02:00:00Z", "tms-0999999999999999e"),
    ]);
    let run = scan(
        &cloud,
        home.path(),
        &[
            "--allowlist",
            &allowlist,
            "--format",
            "json",
            "--audit",
            &ephemeral.display().to_string(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    assert!(report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["code"] == "ephemeral-mirror" && f["resource"] == "tms-0999999999999999e"));

    // A log that cannot be read whole leaves a clean scan incomplete: exit 3.
    let truncated = fixtures()
        .join("malformed/truncated.json.gz")
        .display()
        .to_string();
    let run = scan(
        &cloud,
        home.path(),
        &["--allowlist", &allowlist, "--audit", &truncated],
    );
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("Inputs not read whole"),
        "{}",
        run.stdout
    );
    // And a path that does not exist is a usage error before any cloud is called.
    let before = cloud.requests().len();
    let run = scan(
        &cloud,
        home.path(),
        &["--allowlist", &allowlist, "--audit", "/nonexistent/logs"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(cloud.requests().len(), before);
}

#[test]
fn a_session_pointed_at_a_target_older_than_the_logs_is_decided_by_what_the_inventory_says() {
    use crate::support::{scan, TestCloud};
    let cloud = TestCloud::start(ONE_SESSION_WORLD);
    // The allowlist approves the IDS interface, not the `tmt-…` in front of it.
    let (home, allowlist) = home_with_allowlist(PIPELINE_AND_IDS_INTERFACE);
    let allowlist = allowlist.display().to_string();
    // The target was created before the logs begin; the pipeline's session points at it.
    let (_dir, log) = log_file(&[create_session(
        "netvis-terraform",
        "2026-11-10T10:00:00Z",
        "tms-0a0a0a0a0a0a0a0a1",
        "tmt-0a0a0a0a0a0a0a0a1",
    )]);
    let log = log.display().to_string();
    // The logs alone cannot tell what the `tmt-…` sends to: unsanctioned.
    let mut cmd = command(home.path());
    cmd.args(["audit", "--format", "json", "--now", "2026-12-01T00:00:00Z"])
        .args(["--allowlist", &allowlist, &log]);
    let alone = run_cmd(cmd);
    assert_eq!(alone.code, 1, "{}", alone.stdout);
    assert_eq!(alone.json()["events"][0]["verdict"], "unsanctioned");
    // With the inventory, the `tmt-…` is the approved interface: sanctioned, clean.
    let run = scan(
        &cloud,
        home.path(),
        &[
            "--allowlist",
            &allowlist,
            "--format",
            "json",
            "--audit",
            &log,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    let event = &report["audit"]["events"][0];
    assert_eq!(event["verdict"], "sanctioned", "{event}");
    assert_eq!(event["target_resolved"], "eni-0fedcba987654321f");
    // --demo brings its own logs.
    let run = scan(&cloud, home.path(), &["--demo", "--audit", &log]);
    assert_eq!(run.code, 2, "{}", run.stdout);
}

#[test]
fn damaged_or_foreign_inputs_are_counted_never_skipped_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let intruder = create_session(
        "Intruder",
        "2026-11-12T01:00:00Z",
        "tms-0999999999999999e",
        "tmt-0999999999999999e",
    );
    // A first line cut off (a chunk of a rotated file) does not cost the lines after it.
    let cut_first = write(
        "cut-first.ndjson",
        &format!("{{\"eventVersion\":\"1.10\",\"eventName\":\"Crea\n{intruder}\n"),
    );
    let run = audit("", &[], std::slice::from_ref(&cut_first));
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["inputs"][0]["malformed"], 1);
    assert_eq!(report["inputs"][0]["records"], 1);
    assert_eq!(report["events"][0]["verdict"], "unsanctioned");

    // A LookupEvents row whose CloudTrailEvent string is not a record mentions mirroring:
    // a malformed record with its line, exit 3 — not a clean exit 0.
    let lookup = write(
        "lookup.json",
        "{\"Events\":[{\"EventId\":\"e1\",\"EventName\":\"CreateTrafficMirrorSession\",\"CloudTrailEvent\":\"{\\\"eventName\\\": \\\"CreateTraff\"}]}",
    );
    let run = audit("", &[], &[lookup]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let input = &run.json()["inputs"][0];
    assert_eq!(input["malformed"], 1, "{input}");
    assert_eq!(input["malformed_records"][0]["line"], 1, "{input}");

    // JSON of a shape no mapper reads (here: a Sentinel-style PascalCase row) is an input
    // error, exit 3; a CloudTrail digest file next to the logs is known and skipped.
    let foreign = write(
        "sentinel.json",
        "[{\"OperationNameValue\":\"MICROSOFT.NETWORK/VIRTUALNETWORKTAPS/WRITE\",\"Caller\":\"x\"}]",
    );
    let digest = write(
        "digest.json",
        "{\"awsAccountId\":\"111122223333\",\"digestStartTime\":\"2026-11-12T00:00:00Z\",\"digestEndTime\":\"2026-11-12T01:00:00Z\",\"logFiles\":[{\"s3Object\":\"AWSLogs/x/CloudTrail/us-east-1/trafficmirror.json.gz\"}]}",
    );
    let run = audit("", &[], std::slice::from_ref(&foreign));
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(run.json()["inputs"][0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("no format mirrorguard reads")));
    let run = audit("", &[], &[digest]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["inputs"][0]["format"], "cloudtrail-digest");
}

#[test]
fn a_record_cut_down_to_no_destination_is_not_sanctioned_by_its_actor_alone() {
    // A UDM event of CreateTrafficMirrorSession keeps no destination: the pipeline's approval
    // cannot vouch for where the copies go. Its DeleteTrafficMirrorSession needs none.
    let udm = |operation: &str, time: &str, id: &str| {
        serde_json::json!({
            "metadata": {
                "product_event_type": operation,
                "vendor_name": "AMAZON",
                "product_name": "AWS CloudTrail",
                "event_timestamp": time,
                "product_log_id": id
            },
            "principal": {"user": {"userid": "arn:aws:sts::111122223333:assumed-role/netvis-terraform/s1"}},
            "target": {"resource": {"name": "tms-0a0a0a0a0a0a0a0a1"}}
        })
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("udm.ndjson");
    std::fs::write(
        &path,
        format!(
            "{}\n{}\n",
            udm("CreateTrafficMirrorSession", "2026-11-10T10:00:00Z", "a"),
            udm("DeleteTrafficMirrorSession", "2026-11-10T11:00:00Z", "b")
        ),
    )
    .expect("write");
    let run = audit(TERRAFORM_PRINCIPAL, &[], &[path]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    assert_eq!(
        verdicts(&report),
        vec![
            (
                "CreateTrafficMirrorSession".to_string(),
                "unsanctioned".to_string(),
                "-".to_string()
            ),
            (
                "DeleteTrafficMirrorSession".to_string(),
                "sanctioned".to_string(),
                "principals[1]".to_string()
            ),
        ]
    );
    assert!(report["events"][0]["verdict_reason"]
        .as_str()
        .is_some_and(|r| r.contains("lacks the destination")));
}

#[test]
fn a_gcp_operation_that_began_before_the_window_keeps_its_collector() {
    // First entry (with the request and the collector) before --since, last entry inside:
    // one change, in the window, decided on its collector.
    let entry = |time: &str, first: bool, insert_id: &str| {
        let mut payload = serde_json::json!({
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "compute.googleapis.com",
            "methodName": "v1.compute.packetMirrorings.insert",
            "resourceName": "projects/acme/regions/us-central1/packetMirrorings/pm-1",
            "authenticationInfo": {"principalEmail": "mallory@example.com"}
        });
        if first {
            payload["request"] = serde_json::json!({"collectorIlb": {"url": "https://www.googleapis.com/compute/v1/projects/acme/regions/us-central1/forwardingRules/fr-evil"}});
        }
        serde_json::json!({
            "protoPayload": payload,
            "insertId": insert_id,
            "resource": {"type": "gce_packet_mirroring", "labels": {"project_id": "acme", "region": "us-central1"}},
            "timestamp": time,
            "logName": "projects/acme/logs/cloudaudit.googleapis.com%2Factivity",
            "operation": {"id": "operation-1", "producer": "compute.googleapis.com", "first": first, "last": !first}
        })
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gcp.ndjson");
    std::fs::write(
        &path,
        format!(
            "{}\n{}\n",
            entry("2026-11-30T23:59:58Z", true, "i1"),
            entry("2026-12-01T00:00:03Z", false, "i2")
        ),
    )
    .expect("write");
    let run = audit("", &["--since", "2026-12-01T00:00:00Z"], &[path]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let events = run.json()["events"].as_array().expect("events").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0]["target"],
        "projects/acme/regions/us-central1/forwardingRules/fr-evil"
    );
    assert_eq!(events[0]["records"], 2);
    // Both entries' own ids, to find them in Cloud Logging.
    assert_eq!(events[0]["record_ids"], serde_json::json!(["i1", "i2"]));
}

#[test]
fn an_azure_principal_may_be_named_by_object_id() {
    let record = serde_json::json!({
        "eventDataId": "d1",
        "correlationId": "c1",
        "operationName": {"value": "Microsoft.Network/virtualNetworkTaps/delete", "localizedValue": "Delete"},
        "status": {"value": "Succeeded"},
        "subStatus": {"value": "OK"},
        "eventTimestamp": "2026-11-10T10:00:00Z",
        "caller": "dana@acme.example",
        "claims": {"http://schemas.microsoft.com/identity/claims/objectidentifier": "11111111-2222-4333-8444-555555555555"},
        "resourceId": "/subscriptions/6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkTaps/t",
        "subscriptionId": "6f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("activity.json");
    std::fs::write(&path, serde_json::json!({ "value": [record] }).to_string()).expect("write");
    let run = audit(
        r#"
[[principals]]
provider = "azure"
actor    = "11111111-2222-4333-8444-555555555555"
owner    = "platform@example.com"
ticket   = "SEC-79"
reason   = "network team"
expires  = 2027-01-31
"#,
        &[],
        &[path],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let event = &run.json()["events"][0];
    assert_eq!(event["actor"], "dana@acme.example");
    assert_eq!(event["verdict"], "sanctioned", "{event}");
}

#[test]
fn a_deleted_session_to_a_staged_target_is_resolved_through_the_inventory() {
    use crate::support::{scan, TestCloud};
    // Only the target is left (staged): the session the logs show was created and deleted.
    let cloud = TestCloud::start(
        r#"
[[aws.accounts]]
id = "111122223333"
regions = ["us-east-1"]

[[aws.targets]]
account = "111122223333"
region = "us-east-1"
id = "tmt-0a0a0a0a0a0a0a0a1"
type = "network-interface"
resource = "eni-0fedcba987654321f"
"#,
    );
    let (home, allowlist) = home_with_allowlist(PIPELINE_AND_IDS_INTERFACE);
    let (_dir, log) = log_file(&[
        create_session(
            "netvis-terraform",
            "2026-11-12T01:00:00Z",
            "tms-0999999999999999e",
            "tmt-0a0a0a0a0a0a0a0a1",
        ),
        delete_session(
            "netvis-terraform",
            "2026-11-12T02:00:00Z",
            "tms-0999999999999999e",
        ),
    ]);
    let run = scan(
        &cloud,
        home.path(),
        &[
            "--allowlist",
            &allowlist.display().to_string(),
            "--format",
            "json",
            "--audit",
            &log.display().to_string(),
        ],
    );
    let report = run.json();
    assert_eq!(
        report["audit"]["events"][0]["target_resolved"], "eni-0fedcba987654321f",
        "{}",
        run.stdout
    );
    assert_eq!(report["audit"]["events"][0]["verdict"], "sanctioned");
    assert!(!report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["code"] == "ephemeral-mirror"));
    // The staged target is approved, so the scan is clean apart from it being staged.
    assert_ne!(run.code, 1, "{}", run.stdout);
}
