//! How close does `audit --live` come to what each provider's log API allows, and what does it
//! cost in calls?
//!
//! Runs the real `mirrorguard` binary (release build) against the mock cloud serving an AWS
//! account with R regions, R Azure subscriptions and R GCP projects, each with E mirroring
//! changes in the window, a fixed latency on every log call, and the mock's CloudTrail rate
//! limit (2 requests/s per account and region) enforced. Each source runs alone, then all
//! three together. Per run it reports wall time, API calls, events found (all must be), and
//! the ratio to the floor the API allows, computed for the same estate:
//!
//! * CloudTrail: one region's lookups one after another at the pacing rate —
//!   (calls per region − 1) ÷ rate + one latency; every region at once;
//! * Activity Log and Cloud Logging: the longest chain of dependent page requests × latency
//!   (each page needs the previous page's link or token); every scope at once.
//!
//! Azure and GCP are also run against a second mock with no latency, in the same run: that is
//! what the work itself costs on this machine (process start, credentials, discovery, the mock
//! rendering and the client reading thousands of records, sharing two cores), and the second
//! ratio is to the floor plus that work.
//!
//! It also checks that the limiter refused nothing (`rate_limited = 0`), so the pacing is not
//! bought with lost calls. `cargo bench --bench audit_live` (env: BENCH_SCOPES, BENCH_EVENTS,
//! BENCH_PAGE, BENCH_LATENCY_MS). Absolute times drift on shared machines; the ratios are the
//! result.

mod common;

use common::{env_or, mirrorguard};
use mirrorguard_mocks::{MockCloud, World};
use std::path::Path;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "111122223333";
/// The client's default pace (mirrorguard's DEFAULT_CLOUDTRAIL_RATE).
const CLOUDTRAIL_RATE: f64 = 1.8;
/// LookupEvents' page limit.
const LOOKUP_PAGE: usize = 50;
/// The AWS writes the catalogue asks LookupEvents for, one lookup each.
const AWS_NAMES: usize = 11;

/// The estate: `scopes` regions, subscriptions and projects with `events` changes each. AWS
/// changes cycle over three names (create session, create target, delete session), so some
/// lookups take several pages and most take one.
fn world(scopes: usize, events: usize, page: usize, latency_ms: usize) -> String {
    let regions: Vec<String> = (0..scopes).map(|i| format!("bench-region-{i}")).collect();
    let mut toml = format!(
        "[settings]\npage_size = {page}\n\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = {regions:?}\n\n[[aws.faults]]\naction = \"LookupEvents\"\nkind = \"slow\"\nms = {latency_ms}\n\n[[azure.faults]]\naction = \"activityLogs\"\nkind = \"slow\"\nms = {latency_ms}\n\n[[gcp.faults]]\naction = \"entries.list\"\nkind = \"slow\"\nms = {latency_ms}\n"
    );
    let time = |n: usize| {
        format!(
            "2026-11-15T{:02}:{:02}:{:02}Z",
            n / 3600 % 12,
            n / 60 % 60,
            n % 60
        )
    };
    for region in &regions {
        for n in 0..events {
            let name = [
                "CreateTrafficMirrorSession",
                "CreateTrafficMirrorTarget",
                "DeleteTrafficMirrorSession",
            ][n % 3];
            toml.push_str(&format!(
                "\n[[aws.events]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\ntime = \"{}\"\nname = \"{name}\"\nactor = \"arn:aws:iam::{ACCOUNT}:role/pipeline\"\nresource = \"tms-{n:017x}\"\ntarget = \"tmt-{n:017x}\"\nsource = \"eni-{n:017x}\"\n",
                time(n)
            ));
        }
    }
    for s in 0..scopes {
        let subscription = format!("{s:08x}-0000-4000-8000-000000000000");
        toml.push_str(&format!(
            "\n[[azure.subscriptions]]\nid = \"{subscription}\"\n"
        ));
        for n in 0..events {
            toml.push_str(&format!(
                "\n[[azure.events]]\nsubscription = \"{subscription}\"\ntime = \"{}\"\noperation = \"Microsoft.Network/virtualNetworkTaps/write\"\nresource = \"/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkTaps/vtap-{n}\"\ncaller = \"pipeline@example.com\"\n",
                time(n)
            ));
        }
        let project = format!("bench-project-{s}");
        toml.push_str(&format!(
            "\n[[gcp.projects]]\nid = \"{project}\"\nregions = [\"us-central1\"]\n"
        ));
        for n in 0..events {
            toml.push_str(&format!(
                "\n[[gcp.events]]\nproject = \"{project}\"\ntime = \"{}\"\nmethod = \"v1.compute.packetMirrorings.insert\"\nresource = \"projects/{project}/regions/us-central1/packetMirrorings/pm-{n}\"\nprincipal = \"pipeline@example.com\"\ncollector = \"fr-{n}\"\n",
                time(n)
            ));
        }
    }
    toml
}

/// One run's measurements.
struct Measured {
    wall: Duration,
    events: usize,
    calls: usize,
}

/// One `mirrorguard audit --live` of `providers` against the mock.
fn audit(mock: &MockCloud, home: &Path, providers: &str, projects: &str) -> Measured {
    let before = mock.requests().len();
    let mut command = mirrorguard(mock, home);
    command
        .args([
            "audit",
            "--live",
            "--format",
            "json",
            "--allowlist",
            "/dev/null",
        ])
        .args(["--now", "2026-11-15T12:00:00Z", "--since", "24h"])
        .args(["--provider", providers, "--gcp-projects", projects]);
    let started = Instant::now();
    let output = command.output().expect("mirrorguard runs");
    let wall = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let gaps: Vec<&serde_json::Value> = report["audit_coverage"]
        .as_array()
        .map(|rows| rows.iter().filter(|r| r["status"] != "scanned").collect())
        .unwrap_or_default();
    assert!(gaps.is_empty(), "every scope read: {gaps:#?}");
    let log_calls = mock.requests()[before..]
        .iter()
        .filter(|r| {
            matches!(
                r.action.as_str(),
                "LookupEvents" | "activityLogs" | "entries.list"
            )
        })
        .count();
    Measured {
        wall,
        events: report["events"].as_array().map_or(0, Vec::len),
        calls: log_calls,
    }
}

fn main() {
    let scopes = env_or("BENCH_SCOPES", 17);
    let events = env_or("BENCH_EVENTS", 120);
    let page = env_or("BENCH_PAGE", 50);
    let latency_ms = env_or("BENCH_LATENCY_MS", 50);
    let latency = Duration::from_millis(latency_ms as u64).as_secs_f64();
    let projects = (0..scopes)
        .map(|s| format!("bench-project-{s}"))
        .collect::<Vec<_>>()
        .join(",");

    // Calls each source must make, from the estate's shape.
    let per_name = |count: usize| count.div_ceil(page.min(LOOKUP_PAGE)).max(1);
    let aws_per_region = (0..3)
        .map(|i| per_name((0..events).filter(|n| n % 3 == i).count()))
        .sum::<usize>()
        + (AWS_NAMES - 3);
    let azure_pages = (2 * events).div_ceil(page).max(1);
    let gcp_pages = (2 * events).div_ceil(page.min(1000)).max(1);
    let floors = [
        (
            "aws",
            (aws_per_region - 1) as f64 / CLOUDTRAIL_RATE + latency,
            aws_per_region * scopes,
            events * scopes,
        ),
        (
            "azure",
            azure_pages as f64 * latency,
            azure_pages * scopes,
            events * scopes,
        ),
        (
            "gcp",
            gcp_pages as f64 * latency,
            gcp_pages * scopes,
            events * scopes,
        ),
    ];

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let slow = World::from_toml(&world(scopes, events, page, latency_ms)).expect("world");
    let mock = runtime.block_on(MockCloud::start(slow)).expect("mock");
    let instant = World::from_toml(&world(scopes, events, page, 0)).expect("world");
    let instant = runtime.block_on(MockCloud::start(instant)).expect("mock");
    let home = tempfile::tempdir().expect("home");

    println!(
        "audit_live: {scopes} AWS regions / Azure subscriptions / GCP projects × {events} changes, page {page}, {latency_ms} ms per log call, CloudTrail limited to 2/s per region"
    );
    let mut slowest = Duration::ZERO;
    let mut slowest_floor: f64 = 0.0;
    for (provider, floor, calls, expected) in floors {
        let run = audit(&mock, home.path(), provider, &projects);
        assert_eq!(run.events, expected, "every {provider} change found");
        assert_eq!(
            run.calls, calls,
            "{provider}: one call per page, none repeated"
        );
        let work = match provider {
            // CloudTrail's floor is the pace, under which the work hides.
            "aws" => String::new(),
            _ => {
                let work = audit(&instant, home.path(), provider, &projects)
                    .wall
                    .as_secs_f64();
                format!(
                    "   work without latency {work:.3} s   ratio to floor + work {:.2}",
                    run.wall.as_secs_f64() / (floor + work)
                )
            }
        };
        println!(
            "  {provider:<5} alone  {:>7.3} s   {:>5} calls   {:>5} events   floor {floor:>6.3} s   ratio {:.2}{work}",
            run.wall.as_secs_f64(),
            run.calls,
            run.events,
            run.wall.as_secs_f64() / floor,
        );
        slowest = slowest.max(run.wall);
        slowest_floor = slowest_floor.max(floor);
    }
    let together = audit(&mock, home.path(), "aws,azure,gcp", &projects);
    assert_eq!(together.events, 3 * events * scopes, "every change found");
    println!(
        "  all three    {:>7.3} s   {:>5} calls   {:>5} events   floor {slowest_floor:>6.3} s   ratio {:.2}   ratio to the slowest alone {:.2}",
        together.wall.as_secs_f64(),
        together.calls,
        together.events,
        together.wall.as_secs_f64() / slowest_floor,
        together.wall.as_secs_f64() / slowest.as_secs_f64(),
    );
    let refused = mock.rate_limited() + instant.rate_limited();
    println!("  CloudTrail limiter refusals: {refused} (must be 0)");
    assert_eq!(refused, 0, "no LookupEvents call was throttled");
}
