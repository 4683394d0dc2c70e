//! Do the three clouds cost the time of the slowest one, or the sum of all three?
//!
//! Runs the real `mirrorguard` binary (release build) against the mock cloud serving an AWS
//! account, Azure subscriptions and GCP projects, with a fixed latency added to every listing
//! call, four times in the same run: each provider alone, then all three together. The result
//! is the ratio of the combined run to the slowest single provider (1.0 means the clouds are
//! scanned fully in parallel; the sum of the three is printed for comparison).
//!
//! `cargo bench --bench scan_clouds` (env: BENCH_SCOPES, BENCH_MIRRORS, BENCH_PAGE,
//! BENCH_LATENCY_MS). Absolute times drift on shared machines; the ratios are the result.

mod common;

use common::{env_or, mirrorguard};
use mirrorguard_mocks::{MockCloud, World};
use std::path::Path;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "111122223333";

/// `scopes` AWS regions, Azure subscriptions and GCP projects, `mirrors` mirrors in each.
fn world(scopes: usize, mirrors: usize, page: usize, latency_ms: usize) -> String {
    let regions: Vec<String> = (0..scopes).map(|i| format!("bench-region-{i}")).collect();
    let mut toml = format!(
        "[settings]\npage_size = {page}\n\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = {regions:?}\n\n[[aws.faults]]\nkind = \"slow\"\nms = {latency_ms}\n\n[[azure.faults]]\nkind = \"slow\"\nms = {latency_ms}\n\n[[gcp.faults]]\nkind = \"slow\"\nms = {latency_ms}\n"
    );
    for region in &regions {
        for n in 0..mirrors {
            toml.push_str(&format!(
                "\n[[aws.sessions]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tms-{n:017x}\"\ntarget = \"tmt-{n:017x}\"\nfilter = \"tmf-{n:017x}\"\nsource = \"eni-{n:017x}\"\n\n[[aws.targets]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tmt-{n:017x}\"\ntype = \"network-interface\"\nresource = \"eni-1{n:016x}\"\n\n[[aws.filters]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tmf-{n:017x}\"\n"
            ));
        }
    }
    for s in 0..scopes {
        let subscription = format!("{s:08x}-0000-4000-8000-000000000000");
        toml.push_str(&format!(
            "\n[[azure.subscriptions]]\nid = \"{subscription}\"\n"
        ));
        for n in 0..mirrors {
            let tap = format!("/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkTaps/vtap-{n}");
            toml.push_str(&format!(
                "\n[[azure.taps]]\nsubscription = \"{subscription}\"\nresource_group = \"rg\"\nname = \"vtap-{n}\"\nlocation = \"westeurope\"\ndestination_ip_configuration = \"/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/sensor-{n}/ipConfigurations/ipconfig1\"\n\n[[azure.nics]]\nsubscription = \"{subscription}\"\nresource_group = \"rg\"\nname = \"nic-{n}\"\nlocation = \"westeurope\"\ntaps = [\"{tap}\"]\n"
            ));
        }
        let project = format!("bench-project-{s}");
        toml.push_str(&format!(
            "\n[[gcp.projects]]\nid = \"{project}\"\nregions = [\"europe-west1\", \"us-central1\"]\n"
        ));
        for n in 0..mirrors {
            toml.push_str(&format!(
                "\n[[gcp.mirrorings]]\nproject = \"{project}\"\nregion = \"us-central1\"\nname = \"pm-{n}\"\nid = {n}\nnetwork = \"vpc\"\ncollector = \"fr-{n}\"\nsubnetworks = [\"subnet-{n}\"]\n"
            ));
        }
    }
    toml
}

/// One `mirrorguard scan` of `providers` against the mock; returns the wall time and the
/// number of mirrors it reported.
fn scan(mock: &MockCloud, home: &Path, providers: &str, projects: &str) -> (Duration, usize) {
    let mut command = mirrorguard(mock, home);
    command
        .args(["scan", "--format", "json", "--allowlist", "/dev/null"])
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
    let gaps = report["coverage"].as_array().map_or(0, |rows| {
        rows.iter().filter(|r| r["status"] != "scanned").count()
    });
    assert_eq!(gaps, 0, "every scope scanned: {:#}", report["coverage"]);
    (wall, report["mirrors"].as_array().map_or(0, Vec::len))
}

fn main() {
    let scopes = env_or("BENCH_SCOPES", 17);
    let mirrors = env_or("BENCH_MIRRORS", 20);
    let page = env_or("BENCH_PAGE", 5);
    let latency_ms = env_or("BENCH_LATENCY_MS", 50);
    let projects = (0..scopes)
        .map(|s| format!("bench-project-{s}"))
        .collect::<Vec<_>>()
        .join(",");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let world = World::from_toml(&world(scopes, mirrors, page, latency_ms)).expect("world");
    let mock = runtime.block_on(MockCloud::start(world)).expect("mock");
    let home = tempfile::tempdir().expect("home");

    println!("scan_clouds: {scopes} regions / subscriptions / projects × {mirrors} mirrors, page {page}, {latency_ms} ms per listing call");
    let mut slowest = Duration::ZERO;
    let mut sum = Duration::ZERO;
    for provider in ["aws", "azure", "gcp"] {
        let (wall, found) = scan(&mock, home.path(), provider, &projects);
        assert_eq!(found, scopes * mirrors, "every {provider} mirror found");
        println!("  {provider:<5} alone      {:>8.3} s", wall.as_secs_f64());
        slowest = slowest.max(wall);
        sum += wall;
    }
    let (together, found) = scan(&mock, home.path(), "aws,azure,gcp", &projects);
    assert_eq!(found, 3 * scopes * mirrors, "every mirror found");
    println!(
        "  all three        {:>8.3} s   ratio to the slowest alone {:.2}   to the sum {:.2} (sum {:.3} s)",
        together.as_secs_f64(),
        together.as_secs_f64() / slowest.as_secs_f64(),
        together.as_secs_f64() / sum.as_secs_f64(),
        sum.as_secs_f64()
    );
}
