//! `rule export`, checked by the tools of the languages it writes, not by reading our own text:
//!
//! - the two SQL exports are parsed by sqlglot in their own dialect (Athena/Trino, BigQuery),
//!   transpiled to DuckDB and run over the audit fixtures loaded as the warehouse tables; the
//!   KQL export (AWSCloudTrail, AzureActivity) is run by duckdb-kql over the same fixtures. Each
//!   must return exactly the changes `mirrorguard audit` reports over those files — one row per
//!   change, attempts included or not as `--include-attempts` says;
//! - the Sigma export must pass `sigma check` and convert with the Splunk and Kusto backends;
//! - every format's text is pinned by a snapshot (`cargo insta review` after a catalogue
//!   change), which is all the YARA-L and SPL exports get: no engine for them installs here.
//!
//! The Python side (`tests/siem/`) lives in `.venv-siem`, which `.ci/run` creates. Without it
//! the tool-backed tests say so and skip, unless `MIRRORGUARD_REQUIRE_SIEM_TOOLS=1` (CI).

use crate::support::{command, home_with_allowlist, run, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const FORMATS: [&str; 6] = [
    "yara-l",
    "sigma",
    "kql",
    "spl",
    "sql-athena",
    "sql-bigquery",
];

fn fixtures(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit");
    let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
        .expect("fixture directory")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    files.sort();
    files
}

fn siem_python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-siem/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("MIRRORGUARD_REQUIRE_SIEM_TOOLS").is_none(),
        ".venv-siem is missing and MIRRORGUARD_REQUIRE_SIEM_TOOLS is set: run .ci/run's tools step"
    );
    eprintln!("skipped: .venv-siem not found (.ci/run creates it)");
    None
}

fn mirrorguard(home: &Path, args: &[&str]) -> Run {
    let mut cmd = command(home);
    cmd.args(args);
    run(cmd)
}

fn export(home: &Path, format: &str, extra: &[&str]) -> PathBuf {
    let path = home.join(format!("export-{format}-{}.txt", extra.join("_")));
    let out = path.display().to_string();
    let mut args = vec!["rule", "export", "--format", format, "--output", &out];
    args.extend(extra);
    let result = mirrorguard(home, &args);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result.stdout.is_empty(),
        "--output writes nothing to stdout"
    );
    path
}

/// A change as both sides print it: operation, outcome, first record's time to the second,
/// and the records' own ids.
type Change = (String, String, String, Vec<String>);

/// The changes `mirrorguard audit` reports over `files`, successful ones only unless
/// `attempts`.
fn audited(home: &Path, files: &[String], attempts: bool) -> Vec<Change> {
    let allowlist = home.join("allowlist.toml").display().to_string();
    let mut args = vec!["audit", "--format", "json", "--allowlist", &allowlist];
    args.extend(files.iter().map(String::as_str));
    let result = mirrorguard(home, &args);
    assert!(
        [0, 1, 3].contains(&result.code),
        "audit exit {}: {}",
        result.code,
        result.stderr
    );
    let report = result.json();
    let mut changes: Vec<Change> = report["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| attempts || e["outcome"] == "success")
        .map(change)
        .collect();
    changes.sort();
    changes
}

/// `2026-11-12T12:00:05.5551Z` → `2026-11-12T12:00:05Z`: engines keep different fractions
/// (Kusto 100 ns, DuckDB 1 µs), so changes are compared to the second.
fn to_the_second(time: &str) -> String {
    match time.split_once('.') {
        Some((whole, _)) if time.ends_with('Z') => format!("{whole}Z"),
        _ => time.to_string(),
    }
}

/// A change from an audit event or an engine's row (both use these keys).
fn change(row: &Value) -> Change {
    let mut ids: Vec<String> = row["record_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    (
        row["operation"].as_str().unwrap_or_default().to_string(),
        row["outcome"].as_str().unwrap_or_default().to_string(),
        to_the_second(row["time"].as_str().unwrap_or_default()),
        ids,
    )
}

/// What `siem_check.py` printed: one change per line.
fn executed(python: &Path, args: &[String]) -> Vec<Change> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/siem/siem_check.py");
    let output = Command::new(python)
        .arg(script)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "siem_check.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut changes: Vec<Change> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| change(&serde_json::from_str(line).expect("a JSON line")))
        .collect();
    changes.sort();
    changes
}

fn assert_same(what: &str, exported: &[Change], builtin: &[Change]) {
    let only_export: Vec<&Change> = exported.iter().filter(|c| !builtin.contains(c)).collect();
    let only_builtin: Vec<&Change> = builtin.iter().filter(|c| !exported.contains(c)).collect();
    assert!(
        exported == builtin,
        "{what}: {} rows from the export, {} changes from mirrorguard audit\nonly in the export: {only_export:#?}\nonly in mirrorguard audit: {only_builtin:#?}",
        exported.len(),
        builtin.len()
    );
}

/// Runs one export over `files` with its engine and compares it with the built-in matcher,
/// with and without attempts.
fn check_executed(format: &str, extra: &[&str], engine: &[&str], files: &[String]) {
    let Some(python) = siem_python() else { return };
    let (home, _) = home_with_allowlist("");
    for attempts in [false, true] {
        let mut flags = extra.to_vec();
        if attempts {
            flags.push("--include-attempts");
        }
        let query = export(home.path(), format, &flags);
        let mut args: Vec<String> = engine.iter().map(|s| s.to_string()).collect();
        args.push(query.display().to_string());
        args.extend(files.iter().cloned());
        let exported = executed(&python, &args);
        let builtin = audited(home.path(), files, attempts);
        assert!(
            builtin.len() >= 3,
            "the fixtures hold changes to compare: {builtin:?}"
        );
        if attempts {
            assert!(
                builtin.iter().any(|c| c.1 == "failure"),
                "the fixtures hold attempts to compare"
            );
        }
        assert_same(
            &format!("{format} (attempts: {attempts})"),
            &exported,
            &builtin,
        );
    }
}

#[test]
fn athena_sql_returns_exactly_the_changes_of_the_builtin_matcher() {
    let files: Vec<String> = fixtures("cloudtrail");
    check_executed("sql-athena", &[], &["sql", "--dialect", "athena"], &files);
}

#[test]
fn bigquery_sql_returns_exactly_the_changes_of_the_builtin_matcher() {
    check_executed(
        "sql-bigquery",
        &[],
        &["sql", "--dialect", "bigquery"],
        &fixtures("gcp"),
    );
}

#[test]
fn sentinel_kql_returns_exactly_the_changes_of_the_builtin_matcher() {
    let mut files = fixtures("cloudtrail");
    files.extend(fixtures("azure"));
    check_executed("kql", &["--provider", "aws,azure"], &["kql"], &files);
}

#[test]
fn sigma_rules_pass_sigma_check_and_convert_to_splunk_and_kusto() {
    let Some(python) = siem_python() else { return };
    let sigma = python.with_file_name("sigma");
    let (home, _) = home_with_allowlist("");
    for flags in [&[][..], &["--include-attempts"][..]] {
        let rules = export(home.path(), "sigma", flags);
        let text = std::fs::read_to_string(&rules).unwrap();
        assert_eq!(text.matches("\nlogsource:").count(), 3, "{text}");
        // sigma check reads *.yml files in a directory.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mirrorguard_traffic_duplication.yml");
        std::fs::copy(&rules, &file).unwrap();
        let sigma_run = |args: &[&str]| {
            let output = Command::new(&sigma)
                .args(args)
                // pySigma caches under $HOME; its ATT&CK and D3FEND tag validators download
                // their data, which this machine cannot, so those two are left out.
                .env("HOME", home.path())
                .output()
                .expect("sigma runs");
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned()
                    + &String::from_utf8_lossy(&output.stderr),
            )
        };
        let path = dir.path().display().to_string();
        let (code, out) = sigma_run(&[
            "check",
            "--fail-on-issues",
            "-x",
            "attacktag",
            "-x",
            "d3_fendtag",
            &path,
        ]);
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains("Found 0 errors, 0 condition errors and 0 issues"),
            "{out}"
        );
        let file = file.display().to_string();
        let (code, splunk) = sigma_run(&["convert", "-t", "splunk", "--without-pipeline", &file]);
        assert_eq!(code, Some(0), "{splunk}");
        assert!(splunk.contains("eventName IN"), "{splunk}");
        assert!(splunk.contains("DeleteTrafficMirrorFilterRule"), "{splunk}");
        assert_eq!(
            splunk.contains("NOT errorCode=*"),
            flags.is_empty(),
            "{splunk}"
        );
        let (code, kusto) = sigma_run(&["convert", "-t", "kusto", &file]);
        assert_eq!(code, Some(0), "{kusto}");
        assert!(kusto.contains("operationName in~"), "{kusto}");
    }
    // The check is not one that passes anything: a rule with an undefined condition fails.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("mirrorguard_broken_rule.yml");
    let text = std::fs::read_to_string(export(home.path(), "sigma", &["--provider", "aws"]))
        .unwrap()
        .replace("condition: selection and", "condition: selection_typo and");
    std::fs::write(&broken, text).unwrap();
    let output = Command::new(&sigma)
        .args(["check", "-x", "attacktag", "-x", "d3_fendtag"])
        .arg(dir.path())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn every_format_is_pinned_and_deterministic() {
    let (home, _) = home_with_allowlist("");
    for format in FORMATS {
        let first = mirrorguard(home.path(), &["rule", "export", "--format", format]);
        assert_eq!(first.code, 0, "{}", first.stderr);
        let second = mirrorguard(home.path(), &["rule", "export", "--format", format]);
        assert_eq!(first.stdout, second.stdout, "{format} is deterministic");
        insta::assert_snapshot!(format!("export_{format}"), first.stdout);
    }
    let attempts = mirrorguard(
        home.path(),
        &["rule", "export", "--format", "yara-l", "--include-attempts"],
    );
    insta::assert_snapshot!("export_yara-l_attempts", attempts.stdout);
}

#[test]
fn export_refuses_what_the_format_cannot_read_and_writes_nothing() {
    let (home, _) = home_with_allowlist("");
    let out = home.path().join("rule.sql");
    let refused = mirrorguard(
        home.path(),
        &[
            "rule",
            "export",
            "--format",
            "sql-bigquery",
            "--provider",
            "aws",
            "--output",
            &out.display().to_string(),
        ],
    );
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("gcp"), "{}", refused.stderr);
    assert!(!out.exists());
    let unknown = mirrorguard(home.path(), &["rule", "export", "--format", "eql"]);
    assert_eq!(unknown.code, 2);
    let network = mirrorguard(
        home.path(),
        &[
            "rule",
            "export",
            "--format",
            "sigma",
            "--provider",
            "network",
        ],
    );
    assert_eq!(network.code, 2, "{}", network.stderr);
}

#[test]
fn rule_show_lists_the_catalogue_and_diff_seed_what_the_seed_misses() {
    let (home, _) = home_with_allowlist("");
    let show = mirrorguard(home.path(), &["rule", "show"]);
    assert_eq!(show.code, 0);
    for name in [
        "DeleteTrafficMirrorFilterRule",
        "compute.packetMirrorings.insert",
        "Microsoft.Network/virtualNetworkTaps/join/action",
    ] {
        assert!(show.stdout.contains(name), "{name}\n{}", show.stdout);
    }
    let diff = mirrorguard(home.path(), &["rule", "diff-seed"]);
    assert_eq!(diff.code, 0);
    let line = |name: &str| {
        diff.stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("{name} not listed:\n{}", diff.stdout))
            .to_string()
    };
    assert!(line("DeleteTrafficMirrorTarget").contains("missed"));
    assert!(line("CreateTrafficMirrorSession").contains("matched"));
    assert!(line("CreateTrafficMirrorFilterRule").contains("by accident"));
    assert!(line("compute.packetMirrorings.insert").contains("missed"));
    assert!(diff
        .stdout
        .contains("misses 13 of 28 catalogued operations and catches 4 only by accident"));
}

/// Runs `siem_check.py ocsf` on `ndjson`: (exit code, its output).
fn validate_ocsf(python: &Path, ndjson: &Path) -> (Option<i32>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/siem/siem_check.py");
    let output = Command::new(python)
        .arg(script)
        .arg("ocsf")
        .arg(ndjson)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn scan_findings_in_ocsf_validate_one_per_finding_with_their_fingerprints() {
    let home = tempfile::tempdir().unwrap();
    let demo = |format: &str| mirrorguard(home.path(), &["scan", "--demo", "--format", format]);
    let (demo_json, demo_ocsf) = (demo("json"), demo("ocsf"));
    assert_eq!(
        demo_ocsf.code, demo_json.code,
        "same exit code whatever the format"
    );
    let findings = demo_json.json()["findings"].as_array().unwrap().clone();
    let events: Vec<Value> = demo_ocsf
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(events.len(), findings.len());
    for (finding, event) in findings.iter().zip(&events) {
        assert_eq!(event["finding_info"]["uid"], finding["fingerprint"]);
        assert_eq!(event["metadata"]["event_code"], finding["code"]);
        let code = finding["code"].as_str().unwrap();
        let detection = matches!(
            code,
            "unsanctioned-change" | "failed-attempt" | "ephemeral-mirror" | "retargeted-mirror"
        );
        assert_eq!(
            event["class_uid"],
            if detection { 2004 } else { 2003 },
            "{code}"
        );
        assert_eq!(
            event["finding_info"]["attacks"][0]["sub_technique"]["uid"],
            "T1020.001"
        );
        if detection {
            assert!(
                event["evidences"][0]["api"]["operation"].is_string(),
                "{event}"
            );
        }
        if code == "coverage-gap" {
            assert_eq!(event["compliance"]["status_id"], 2, "{event}");
        }
        if code == "unapproved-mirror" {
            assert_eq!(event["compliance"]["status_id"], 3, "{event}");
        }
    }
    for code in ["coverage-gap", "unapproved-mirror", "unsanctioned-change"] {
        assert!(
            events.iter().any(|e| e["metadata"]["event_code"] == code),
            "the demo has a {code}"
        );
    }
    let Some(python) = siem_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("findings.ocsf.ndjson");
    std::fs::write(&path, &demo_ocsf.stdout).unwrap();
    let (code, out) = validate_ocsf(&python, &path);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("OCSF: {} events valid, 0 invalid", events.len())),
        "{out}"
    );
    // The validator is not one that passes anything: a misspelt key, a wrong id type.
    let broken = demo_ocsf
        .stdout
        .replacen("\"finding_info\"", "\"finding_infos\"", 1)
        .replacen("\"severity_id\":4", "\"severity_id\":\"4\"", 1);
    std::fs::write(&path, broken).unwrap();
    let (code, out) = validate_ocsf(&python, &path);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("finding_infos"), "{out}");
}

#[test]
fn audit_findings_in_ocsf_validate_and_carry_actor_and_source() {
    let (home, _) = home_with_allowlist("");
    let mut files = fixtures("cloudtrail");
    files.extend(fixtures("gcp"));
    files.extend(fixtures("azure"));
    let allowlist = home.path().join("allowlist.toml").display().to_string();
    let out = home.path().join("audit.ocsf.ndjson");
    let out_arg = out.display().to_string();
    let mut args = vec![
        "audit",
        "--format",
        "ocsf",
        "--allowlist",
        &allowlist,
        "--output",
        &out_arg,
    ];
    args.extend(files.iter().map(String::as_str));
    let result = mirrorguard(home.path(), &args);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let change = events
        .iter()
        .find(|e| {
            e["evidences"][0]["api"]["operation"] == "CreateTrafficMirrorSession"
                && e["metadata"]["event_code"] == "unsanctioned-change"
        })
        .expect("an unsanctioned CreateTrafficMirrorSession");
    assert_eq!(change["class_uid"], 2004);
    assert!(change["evidences"][0]["actor"]["user"]["name"].is_string());
    assert!(change["evidences"][0]["src_endpoint"]["ip"].is_string());
    assert_eq!(change["cloud"]["provider"], "AWS");
    assert!(events.iter().any(|e| e["cloud"]["provider"] == "GCP"));
    assert!(events.iter().any(|e| e["cloud"]["provider"] == "Azure"));
    let Some(python) = siem_python() else { return };
    let (code, out) = validate_ocsf(&python, &out);
    assert_eq!(code, Some(0), "{out}");
}
