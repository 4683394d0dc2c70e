//! How close does a scan get to what the API latency allows?
//!
//! Runs the real `mirrorguard` binary (release build) against the mock cloud with a fixed
//! latency added to every call, and compares its wall time with two baselines measured in the
//! same run:
//! * the latency lower bound at the scan's concurrency — max(longest chain of dependent calls,
//!   total calls ÷ calls in flight) × latency;
//! * a bare HTTP/1.1 client replaying the same request mix with the same concurrency shape
//!   (regions C at a time, three listings per region, pages in sequence), which is what this
//!   machine does without the SDK or mirrorguard.
//!
//! `cargo bench --bench scan_latency` (env: BENCH_REGIONS, BENCH_SESSIONS, BENCH_PAGE,
//! BENCH_LATENCY_MS, BENCH_CONCURRENCY). Absolute times drift on shared machines; the ratios are
//! the result.

use mirrorguard_mocks::{MockCloud, World};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const ACCOUNT: &str = "111122223333";

fn world(regions: &[String], sessions: usize, page: usize, latency_ms: usize) -> String {
    let mut toml = format!(
        "[settings]\npage_size = {page}\n\n[[aws.accounts]]\nid = \"{ACCOUNT}\"\nregions = {regions:?}\n\n[[aws.faults]]\nkind = \"slow\"\nms = {latency_ms}\n"
    );
    for region in regions {
        for n in 0..sessions {
            toml.push_str(&format!(
                "\n[[aws.sessions]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tms-{n:017x}\"\ntarget = \"tmt-{n:017x}\"\nfilter = \"tmf-{n:017x}\"\nsource = \"eni-{n:017x}\"\n\n[[aws.targets]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tmt-{n:017x}\"\ntype = \"network-interface\"\nresource = \"eni-1{n:016x}\"\n\n[[aws.filters]]\naccount = \"{ACCOUNT}\"\nregion = \"{region}\"\nid = \"tmf-{n:017x}\"\n"
            ));
        }
    }
    toml
}

/// One request of the bare client: POST / with an EC2 form body, signed-looking header.
async fn bare_call(addr: std::net::SocketAddr, region: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded\r\nauthorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261115/{region}/ec2/aws4_request, SignedHeaders=host, Signature=0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

/// Replays the scan's request mix: per region, three listings paging in sequence.
async fn bare_client(addr: std::net::SocketAddr, regions: &[String], concurrency: usize) -> usize {
    use futures::StreamExt;
    let calls = futures::stream::iter(regions.iter().cloned())
        .map(|region| async move {
            let listings = ["Sessions", "Targets", "Filters"].map(|kind| {
                let region = region.clone();
                async move {
                    let mut token: Option<String> = None;
                    let mut calls = 0;
                    loop {
                        let mut body = format!(
                            "Action=DescribeTrafficMirror{kind}&Version=2016-11-15&MaxResults=1000"
                        );
                        if let Some(t) = &token {
                            body.push_str(&format!("&NextToken={t}"));
                        }
                        let response = bare_call(addr, &region, &body).await;
                        calls += 1;
                        token = response
                            .split("<nextToken>")
                            .nth(1)
                            .and_then(|rest| rest.split("</nextToken>").next())
                            .map(str::to_string);
                        if token.is_none() {
                            return calls;
                        }
                    }
                }
            });
            let [a, b, c] = listings;
            let (a, b, c) = tokio::join!(a, b, c);
            a + b + c
        })
        .buffer_unordered(concurrency)
        .fold(0, |sum, n| async move { sum + n })
        .await;
    calls + 2 // GetCallerIdentity and DescribeRegions precede the regions in a scan
}

fn main() {
    let region_count = env_or("BENCH_REGIONS", 17);
    let sessions = env_or("BENCH_SESSIONS", 40);
    let page = env_or("BENCH_PAGE", 5);
    let latency_ms = env_or("BENCH_LATENCY_MS", 50);
    // mirrorguard's own default unless told otherwise: the benchmark measures what users get.
    let concurrency = env_or(
        "BENCH_CONCURRENCY",
        mirrorguard::providers::DEFAULT_CONCURRENCY,
    );
    let regions: Vec<String> = (0..region_count)
        .map(|i| format!("bench-region-{i}"))
        .collect();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let world = World::from_toml(&world(&regions, sessions, page, latency_ms)).expect("world");
    let mock = runtime.block_on(MockCloud::start(world)).expect("mock");

    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_mirrorguard"))
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_ENDPOINT_URL", mock.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("MIRRORGUARD_AZURE_NO_MANAGED_IDENTITY", "1")
        .env("GCE_METADATA_HOST", "127.0.0.1:1")
        .args([
            "scan",
            "--provider",
            "aws",
            "--format",
            "json",
            "--allowlist",
            "/dev/null",
        ])
        .args(["--concurrency", &concurrency.to_string()])
        .output()
        .expect("mirrorguard runs");
    let scan_wall = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let mirrors = report["mirrors"].as_array().map_or(0, Vec::len);
    assert_eq!(mirrors, region_count * sessions, "every mirror found");
    let scan_calls = mock.requests().len();

    let started = Instant::now();
    let bare_calls = runtime.block_on(bare_client(mock.addr(), &regions, concurrency));
    let bare_wall = started.elapsed() + Duration::from_millis(2 * latency_ms as u64);

    let pages = sessions.div_ceil(page).max(1);
    let latency = Duration::from_millis(latency_ms as u64);
    let chain = (2 + pages) as u32;
    let in_flight = (3 * concurrency.min(region_count)) as u32;
    let bound = (latency * chain).max(latency * scan_calls as u32 / in_flight);

    println!("scan_latency: {region_count} regions × {sessions} sessions, page {page}, {latency_ms} ms per call, concurrency {concurrency}");
    println!("  calls                {scan_calls} (bare client {bare_calls})");
    println!(
        "  mirrorguard wall     {:>8.3} s   {:>7.1} calls/s",
        scan_wall.as_secs_f64(),
        scan_calls as f64 / scan_wall.as_secs_f64()
    );
    println!(
        "  latency lower bound  {:>8.3} s   ratio {:.2}",
        bound.as_secs_f64(),
        scan_wall.as_secs_f64() / bound.as_secs_f64()
    );
    println!(
        "  bare HTTP client     {:>8.3} s   ratio {:.2}",
        bare_wall.as_secs_f64(),
        scan_wall.as_secs_f64() / bare_wall.as_secs_f64()
    );
}
