//! How does a scan of a whole AWS organisation scale, and how close does it get to what the
//! API latency allows?
//!
//! Runs the release `mirrorguard scan --aws-organization --aws-role-name MirrorguardReadOnly`
//! against `mirrorguard-mocks --synthetic ACCOUNTS,17,1 --latency-ms 50`, the mock in its own
//! process (built by this bench with `cargo build --release -p mirrorguard-mocks` into the same
//! target directory), at 100, 1,000 and 10,000 accounts × 17 regions × 1 mirror, at
//! mirrorguard's default concurrency C. Per size it reports wall time, API calls/s, the peak
//! RSS of the mirrorguard process alone (`wait4`'s `ru_maxrss` of that one child, not the
//! mock's; started from a small helper process, as Linux folds the peak RSS of the process a
//! child is spawned from into the child's figure) and two baselines from the same run:
//! * the latency lower bound at C: max(longest chain of dependent calls × latency, units of
//!   work × latency ÷ C), the chain being GetCallerIdentity, every ListAccounts page in turn,
//!   the last account's AssumeRole, its DescribeRegions and one of its scopes, a unit of work
//!   being what holds one of mirrorguard's C permits: a ListAccounts page, an AssumeRole, a
//!   DescribeRegions, or one account × region scope (its three Describe calls at once, so 3C
//!   calls in flight);
//! * a bare HTTP/1.1 client (reqwest, one connection pool, no SDK, no signing) replaying the
//!   same request mix with the same shape against the same mock process: ListAccounts pages in
//!   a chain, accounts started as their page arrives (C at a time), per account AssumeRole,
//!   then DescribeRegions, then its scopes' three calls, at most C units in flight (a fair
//!   tokio Semaphore); every answer must be a 200 and every session must be listed.
//!
//! Targets (the 1,000-account row): wall ≤ 1.5× the latency bound and ≤ 1.2× the bare client,
//! peak RSS ≤ 256 MB. Before the timed runs, the call mix is checked against an in-process mock
//! (no latency), whose request log counts what mirrorguard and the bare client sent; each timed
//! run is checked against its JSON report (every scope `scanned`, every mirror present). Then a
//! fault-mix run at 1,000 accounts (10% of scopes denied, 10% throttled twice then answered, 5%
//! failing, 5% hanging, 2% malformed, 5% of member accounts AssumeRole-denied) with
//! [`FAULT_ARGS`] compares the report's coverage, scope by scope, with what the
//! world injected (`World::injected_faults` of the same deterministic world). The bench prints
//! every number and exits 1 at the end if a check failed.
//!
//! `CARGO_TARGET_DIR=target/bench cargo bench --bench scan_org` (env: MG_BENCH_ORG_SIZES
//! (100,1000,10000), MG_BENCH_REGIONS (17), MG_BENCH_MIRRORS (1), MG_BENCH_LATENCY_MS (50),
//! MG_BENCH_CONCURRENCY (mirrorguard's default), MG_BENCH_FAULT_ACCOUNTS (1000, 0 skips),
//! MG_BENCH_CHECK_ACCOUNTS (100, 0 skips), MG_BENCH_MAX_SECONDS (1800: a run is killed after),
//! MG_BENCH_MOCKS_BIN (a prebuilt mock instead of building it)). Absolute times drift on shared
//! machines; the ratios are the result.

mod common;

use common::env_or;
use futures::StreamExt;
use mirrorguard::providers::aws::SESSION_NAME;
use mirrorguard::providers::{DEFAULT_CONCURRENCY, DEFAULT_PER_ACCOUNT};
use mirrorguard_mocks::synthetic::{
    synthetic_account, synthetic_region, ISSUE_MIX, SYNTHETIC_ROLE,
};
use mirrorguard_mocks::{FaultKind, FaultMix, MockCloud, World};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The management account's key (any key signs as it in a synthetic world).
const ACCESS_KEY: &str = "AKIDBENCH";
/// Where mirrorguard asks STS, Organizations and DescribeRegions (AWS_REGION).
const HOME_REGION: &str = "us-east-1";
/// ListAccounts' page size, mirrorguard's and the mock's.
const LIST_ACCOUNTS_PAGE: usize = 20;
const LIST_ACCOUNTS: &str = "AWSOrganizationsV20161128.ListAccounts";
/// The issue's fault mix as the mock binary's `--faults` spells it ([`ISSUE_MIX`]).
/// The fault run's politeness settings. A scope holds its permit through its retries and
/// backoffs: a hanging call costs about 7 s (three attempts of `--timeout`, two backoffs), a
/// failing or twice-throttled one 1-3 s; measured, the run takes about 170 s at the default 64
/// permits. The deadline is what a scheduled scan of this size might set, with room to spare,
/// so every scope can end as its fault says.
const FAULT_ARGS: [&str; 6] = [
    "--deadline",
    "900s",
    "--timeout",
    "2s",
    "--max-attempts",
    "3",
];
const ISSUE_MIX_ARG: &str =
    "denied=0.1,throttled=0.1,failing=0.05,hanging=0.05,malformed=0.02,assume_denied=0.05";

/// An organisation's shape and what a fault-free scan of it costs.
#[derive(Clone, Copy)]
struct Org {
    accounts: usize,
    regions: usize,
    mirrors: usize,
}

impl Org {
    fn scopes(self) -> usize {
        self.accounts * self.regions
    }
    fn pages(self) -> usize {
        self.accounts.div_ceil(LIST_ACCOUNTS_PAGE).max(1)
    }
    /// Accounts reached by AssumeRole: all but the management account.
    fn members(self) -> usize {
        self.accounts.saturating_sub(1)
    }
    /// Every call of a fault-free scan, by action.
    fn calls_by_action(self) -> BTreeMap<String, usize> {
        let scopes = self.scopes();
        [
            ("GetCallerIdentity", 1),
            ("ListAccounts", self.pages()),
            ("AssumeRole", self.members()),
            ("DescribeRegions", self.accounts),
            ("DescribeTrafficMirrorSessions", scopes),
            ("DescribeTrafficMirrorTargets", scopes),
            ("DescribeTrafficMirrorFilters", scopes),
        ]
        .into_iter()
        .map(|(action, n)| (action.to_string(), n))
        .collect()
    }
    fn calls(self) -> usize {
        self.calls_by_action().values().sum()
    }
    /// What holds one of the C permits: a ListAccounts page, an AssumeRole, a DescribeRegions,
    /// a scope (three Describe calls at once).
    fn units(self) -> usize {
        self.pages() + self.members() + self.accounts + self.scopes()
    }
    /// The longest chain of dependent calls: GetCallerIdentity, every ListAccounts page, then
    /// the last listed account's AssumeRole, DescribeRegions and one scope.
    fn chain(self) -> usize {
        1 + self.pages() + usize::from(self.members() > 0) + 1 + 1
    }
}

/// The latency lower bound at concurrency `c`: (chain, throughput, their max).
fn lower_bound(org: Org, latency: Duration, c: usize) -> (Duration, Duration, Duration) {
    let chain = latency * org.chain() as u32;
    let throughput = latency.mul_f64(org.units() as f64 / c.max(1) as f64);
    (chain, throughput, chain.max(throughput))
}

/// The mock cloud as a child process; killed when dropped.
struct MockProcess {
    child: Child,
    endpoint: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl MockProcess {
    fn start(bin: &Path, org: Org, latency_ms: usize, faults: Option<&str>) -> MockProcess {
        let mut command = Command::new(bin);
        command
            .arg("--synthetic")
            .arg(format!("{},{},{}", org.accounts, org.regions, org.mirrors))
            .args(["--latency-ms", &latency_ms.to_string()]);
        if let Some(faults) = faults {
            command.args(["--faults", faults]);
        }
        let mut child = command
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the mock {bin:?}: {e}"));
        // Both pipes are drained to the end: the mock prints after its first line, and a closed
        // pipe would kill it.
        let (lines, first) = mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().expect("piped stderr");
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                log.lock().expect("mock log").push(line);
            }
        });
        let mut mock = MockProcess {
            child,
            endpoint: String::new(),
            stderr,
        };
        let line = first
            .recv_timeout(Duration::from_secs(300))
            .unwrap_or_else(|_| {
                panic!(
                    "the mock did not say where it listens: {:?}",
                    mock.stderr.lock().expect("mock log")
                )
            });
        mock.endpoint = line
            .strip_prefix("mock cloud listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the mock: {line}"))
            .trim()
            .to_string();
        mock
    }

    /// How many faults the mock process says it injected (its startup line on stderr).
    fn injected(&self) -> Option<usize> {
        let log = self.stderr.lock().expect("mock log");
        log.iter().find_map(|line| {
            let before = line.split(" faults injected").next()?;
            before.rsplit(' ').next()?.parse().ok()
        })
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release mock binary: `MG_BENCH_MOCKS_BIN`, else built now into this bench's target
/// directory (a no-op when it is up to date).
fn mocks_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MG_BENCH_MOCKS_BIN") {
        return path.into();
    }
    // …/TARGET/release/deps/scan_org-HASH
    let exe = std::env::current_exe().expect("the bench's own path");
    let release = exe
        .parent()
        .and_then(Path::parent)
        .expect("the bench runs from TARGET/release/deps");
    let target = release.parent().expect("the target directory");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "mirrorguard-mocks"])
        .args(["--bin", "mirrorguard-mocks", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building mirrorguard-mocks failed");
    release.join("mirrorguard-mocks")
}

/// Waits for `child` with `wait4`, so the figures are that process's alone; kills it after
/// `limit`. Returns its exit code (−signal if killed) and peak RSS in KiB.
fn wait_with_rusage(child: &Child, limit: Duration) -> (i32, u64) {
    let pid = child.id() as libc::pid_t;
    let (done, watch) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = watch.recv_timeout(limit) {
            eprintln!("scan_org: pid {pid} ran past {limit:?}; killing it");
            // SAFETY: kill(2) on our own child's pid; it is only reaped after this thread is
            // told so.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; waits for this one child only.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::Interrupted,
            "wait4({pid}): {error}"
        );
    }
    let _ = done.send(());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        -libc::WTERMSIG(status)
    } else {
        -1
    };
    // ru_maxrss is in KiB on Linux.
    (code, usage.ru_maxrss.max(0) as u64)
}

/// One `mirrorguard scan` of the organisation.
struct ScanRun {
    wall: Duration,
    exit: i32,
    peak_rss_kib: u64,
    spawner_kib: u64,
    report: Option<Value>,
    stderr: String,
}

/// The org scan's arguments against `endpoint`, the report written to `dir/report.json`.
fn scan_args(endpoint: &str, dir: &Path, concurrency: usize) -> Vec<String> {
    let allowlist = dir.join("allowlist.toml");
    std::fs::write(&allowlist, "").expect("empty allowlist");
    let mut args: Vec<String> = [
        "scan",
        "--provider",
        "aws",
        "--aws-organization",
        "--aws-role-name",
        SYNTHETIC_ROLE,
        "--aws-endpoint",
        endpoint,
        "--format",
        "json",
        "--quiet",
    ]
    .map(String::from)
    .into();
    args.push("--allowlist".into());
    args.push(allowlist.display().to_string());
    args.push("--output".into());
    args.push(dir.join("report.json").display().to_string());
    // The default is what users get: the flag is passed only when told otherwise.
    if concurrency != DEFAULT_CONCURRENCY {
        args.push("--concurrency".into());
        args.push(concurrency.to_string());
    }
    args
}

fn read_report(dir: &Path) -> Option<Value> {
    let text = std::fs::read(dir.join("report.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// A small process that starts the measured mirrorguard runs and reads their rusage. Linux
/// folds the peak RSS of the address space a process leaves at exec into its `ru_maxrss`, and
/// a child spawned straight from this bench leaves the bench's (a parsed 10,000-account report
/// is over a gigabyte): spawned from this process, which stays a few MiB, the figure is
/// mirrorguard's own. It is this bench's executable run with [`SPAWNER_ARG`], one JSON request
/// per line on stdin, one answer per line on stdout.
struct Spawner {
    child: Child,
    requests: std::process::ChildStdin,
    answers: BufReader<std::process::ChildStdout>,
}

const SPAWNER_ARG: &str = "--scan-org-spawner";

/// One run of a program started by the spawner.
struct Spawned {
    wall: Duration,
    exit: i32,
    peak_rss_kib: u64,
    /// The spawner's own peak RSS: the floor under `peak_rss_kib`.
    spawner_kib: u64,
}

impl Spawner {
    fn start() -> Spawner {
        let mut child = Command::new(std::env::current_exe().expect("the bench's own path"))
            .arg(SPAWNER_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the spawner starts");
        let requests = child.stdin.take().expect("piped stdin");
        let answers = BufReader::new(child.stdout.take().expect("piped stdout"));
        Spawner {
            child,
            requests,
            answers,
        }
    }

    /// Runs `program` with only `env`, stdout discarded and stderr to `stderr`, killed after
    /// `limit`.
    fn run(
        &mut self,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
        stderr: &Path,
        limit: Duration,
    ) -> Spawned {
        use std::io::Write;
        let request = json!({
            "program": program,
            "args": args,
            "env": env,
            "stderr": stderr,
            "limit_ms": limit.as_millis() as u64,
        });
        writeln!(self.requests, "{request}")
            .and_then(|()| self.requests.flush())
            .expect("the spawner reads");
        let mut line = String::new();
        self.answers
            .read_line(&mut line)
            .expect("the spawner answers");
        let answer: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the spawner's answer {line:?}: {e}"));
        Spawned {
            wall: Duration::from_secs_f64(answer["wall_s"].as_f64().unwrap_or(0.0)),
            exit: answer["exit"].as_i64().unwrap_or(-1) as i32,
            peak_rss_kib: answer["rss_kib"].as_u64().unwrap_or(0),
            spawner_kib: answer["spawner_kib"].as_u64().unwrap_or(0),
        }
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// This process's own peak RSS (VmHWM), KiB.
fn own_peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// The spawner's loop (see [`Spawner`]).
fn spawner_main() {
    use std::io::Write;
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let request: Value = serde_json::from_str(&line).expect("a JSON request");
        let text = |v: &Value| v.as_str().expect("a string").to_string();
        let stderr = std::fs::File::create(text(&request["stderr"])).expect("stderr file");
        let mut command = Command::new(text(&request["program"]));
        command.env_clear();
        for pair in request["env"].as_array().into_iter().flatten() {
            command.env(text(&pair[0]), text(&pair[1]));
        }
        for arg in request["args"].as_array().into_iter().flatten() {
            command.arg(text(arg));
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let limit = Duration::from_millis(request["limit_ms"].as_u64().unwrap_or(u64::MAX));
        let started = Instant::now();
        // Reaped by wait4 in wait_with_rusage, which std's wait cannot replace: it gives no
        // rusage.
        #[allow(clippy::zombie_processes)]
        let child = command.spawn().expect("the program starts");
        let (exit, rss_kib) = wait_with_rusage(&child, limit);
        let wall = started.elapsed();
        let answer = json!({
            "exit": exit,
            "rss_kib": rss_kib,
            "wall_s": wall.as_secs_f64(),
            "spawner_kib": own_peak_rss_kib(),
        });
        writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .expect("the bench reads");
    }
}

/// Runs the release mirrorguard (through `spawner`) against the mock process at `endpoint`:
/// dummy keys, nothing inherited from the environment.
fn scan(
    spawner: &mut Spawner,
    endpoint: &str,
    dir: &Path,
    concurrency: usize,
    extra: &[&str],
    limit: Duration,
) -> ScanRun {
    let _ = std::fs::remove_file(dir.join("report.json"));
    let stderr_path = dir.join("mirrorguard.stderr");
    let env = [
        ("HOME", dir.display().to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
        ("AWS_REGION", HOME_REGION.to_string()),
    ];
    let mut args = scan_args(endpoint, dir, concurrency);
    args.extend(extra.iter().map(|a| a.to_string()));
    let spawned = spawner.run(
        Path::new(env!("CARGO_BIN_EXE_mirrorguard")),
        &args,
        &env,
        &stderr_path,
        limit,
    );
    ScanRun {
        wall: spawned.wall,
        exit: spawned.exit,
        peak_rss_kib: spawned.peak_rss_kib,
        spawner_kib: spawned.spawner_kib,
        report: read_report(dir),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

/// The text between the first `open` and the `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    text.split(open).nth(1)?.split(close).next()
}

/// The bare client's shared state: one connection pool, the C permits, its counters.
struct Bare {
    client: reqwest::Client,
    url: String,
    work: tokio::sync::Semaphore,
    per_account: usize,
    calls: AtomicUsize,
    ok: AtomicUsize,
    sessions: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

/// What the bare client did.
struct BareRun {
    wall: Duration,
    calls: usize,
    ok: usize,
    sessions: usize,
    first_error: Option<String>,
}

impl Bare {
    /// One POST /, with the SigV4-shaped header the mock reads the key, region and service
    /// from (it does not check the signature).
    async fn call(
        &self,
        key: &str,
        region: &str,
        service: &str,
        target: Option<&str>,
        body: String,
    ) -> String {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let content_type = match target {
            Some(_) => "application/x-amz-json-1.1",
            None => "application/x-www-form-urlencoded; charset=utf-8",
        };
        let mut request = self
            .client
            .post(&self.url)
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential={key}/20261201/{region}/{service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0"),
            )
            .header("x-amz-date", "20261201T000000Z")
            .header("content-type", content_type);
        if let Some(target) = target {
            request = request.header("x-amz-target", target);
        }
        let failure = match request.body(body).send().await {
            Ok(response) => {
                let status = response.status();
                match response.text().await {
                    Ok(text) if status == reqwest::StatusCode::OK => {
                        self.ok.fetch_add(1, Ordering::Relaxed);
                        return text;
                    }
                    Ok(text) => format!("{status}: {text}"),
                    Err(e) => format!("{status}, body unreadable: {e}"),
                }
            }
            Err(e) => format!("no answer: {e}"),
        };
        self.first_error
            .lock()
            .expect("error slot")
            .get_or_insert(failure);
        String::new()
    }

    /// Runs `work` holding one of the C permits.
    async fn unit<F: std::future::Future>(&self, work: F) -> F::Output {
        let _permit = self.work.acquire().await.expect("never closed");
        work.await
    }

    /// One listing of a scope, every page; returns the sessions it listed.
    async fn listing(&self, key: &str, region: &str, kind: &str) -> usize {
        let mut token: Option<String> = None;
        let mut sessions = 0;
        loop {
            let mut body =
                format!("Action=DescribeTrafficMirror{kind}&Version=2016-11-15&MaxResults=1000");
            if let Some(token) = &token {
                body.push_str("&NextToken=");
                body.push_str(token);
            }
            let reply = self.call(key, region, "ec2", None, body).await;
            sessions += reply.matches("<trafficMirrorSessionId>").count();
            match between(&reply, "<nextToken>", "</nextToken>") {
                Some(next) => token = Some(next.to_string()),
                None => return sessions,
            }
        }
    }

    async fn scope(&self, key: &str, region: &str) {
        let (sessions, _, _) = tokio::join!(
            self.listing(key, region, "Sessions"),
            self.listing(key, region, "Targets"),
            self.listing(key, region, "Filters"),
        );
        self.sessions.fetch_add(sessions, Ordering::Relaxed);
    }

    /// One account: AssumeRole (members), DescribeRegions, then its scopes.
    async fn account(&self, account: String, management: &str) {
        let key = if account == management {
            ACCESS_KEY.to_string()
        } else {
            let body = format!(
                "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A{account}%3Arole%2F{SYNTHETIC_ROLE}&RoleSessionName={SESSION_NAME}"
            );
            let reply = self
                .unit(self.call(ACCESS_KEY, HOME_REGION, "sts", None, body))
                .await;
            match between(&reply, "<AccessKeyId>", "</AccessKeyId>") {
                Some(key) => key.to_string(),
                None => return,
            }
        };
        let body = "Action=DescribeRegions&Version=2016-11-15&AllRegions=true".to_string();
        let reply = self
            .unit(self.call(&key, HOME_REGION, "ec2", None, body))
            .await;
        let regions: Vec<String> = reply
            .split("<regionName>")
            .skip(1)
            .filter_map(|rest| rest.split("</regionName>").next())
            .map(str::to_string)
            .collect();
        let key = key.as_str();
        futures::stream::iter(regions)
            .map(|region| async move { self.unit(self.scope(key, &region)).await })
            .buffer_unordered(self.per_account.max(1))
            .collect::<Vec<()>>()
            .await;
    }
}

/// Replays a fault-free org scan's request mix with the scan's concurrency shape.
fn bare_client(
    runtime: &tokio::runtime::Runtime,
    endpoint: &str,
    concurrency: usize,
    per_account: usize,
) -> BareRun {
    let bare = Bare {
        client: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("HTTP client"),
        url: format!("{endpoint}/"),
        work: tokio::sync::Semaphore::new(concurrency.max(1)),
        per_account,
        calls: AtomicUsize::new(0),
        ok: AtomicUsize::new(0),
        sessions: AtomicUsize::new(0),
        first_error: Mutex::new(None),
    };
    let wall = runtime.block_on(async {
        let bare = &bare;
        let started = Instant::now();
        let identity = bare
            .call(
                ACCESS_KEY,
                HOME_REGION,
                "sts",
                None,
                "Action=GetCallerIdentity&Version=2011-06-15".to_string(),
            )
            .await;
        let management = between(&identity, "<Account>", "</Account>")
            .unwrap_or_default()
            .to_string();
        let (found, to_scan) = futures::channel::mpsc::unbounded::<String>();
        let listing = async move {
            let mut token: Option<String> = None;
            loop {
                let mut body = json!({ "MaxResults": LIST_ACCOUNTS_PAGE });
                if let Some(token) = &token {
                    body["NextToken"] = json!(token);
                }
                let reply = bare
                    .unit(bare.call(
                        ACCESS_KEY,
                        HOME_REGION,
                        "organizations",
                        Some(LIST_ACCOUNTS),
                        body.to_string(),
                    ))
                    .await;
                let page: Value = serde_json::from_str(&reply).unwrap_or(Value::Null);
                for account in page["Accounts"].as_array().into_iter().flatten() {
                    if let Some(id) = account["Id"].as_str() {
                        let _ = found.unbounded_send(id.to_string());
                    }
                }
                match page["NextToken"].as_str() {
                    Some(next) => token = Some(next.to_string()),
                    None => break,
                }
            }
            // `found` is dropped here: the account stream ends with the listing.
        };
        let management = management.as_str();
        let scanning = to_scan
            .map(|account| bare.account(account, management))
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<()>>();
        tokio::join!(listing, scanning);
        started.elapsed()
    });
    BareRun {
        wall,
        calls: bare.calls.load(Ordering::Relaxed),
        ok: bare.ok.load(Ordering::Relaxed),
        sessions: bare.sessions.load(Ordering::Relaxed),
        first_error: bare.first_error.into_inner().expect("error slot"),
    }
}

/// The first token of a coverage detail: the provider's error code (or mirrorguard's own).
fn detail_code(row: &Value) -> String {
    let detail = row["detail"].as_str().unwrap_or("");
    detail
        .split([':', ' ', ','])
        .next()
        .filter(|code| !code.is_empty())
        .unwrap_or("-")
        .to_string()
}

fn coverage_rows(report: &Value) -> &[Value] {
    report["coverage"].as_array().map_or(&[], Vec::as_slice)
}

fn mirrors_by_scope(report: &Value) -> HashMap<(String, String), usize> {
    let mut found = HashMap::new();
    for mirror in report["mirrors"].as_array().into_iter().flatten() {
        let account = mirror["account"].as_str().unwrap_or("").to_string();
        let region = mirror["region"].as_str().unwrap_or("").to_string();
        *found.entry((account, region)).or_insert(0) += 1;
    }
    found
}

/// Checks a fault-free run's report: one `scanned` row per scope and nothing else, every
/// mirror, exit 1 (every mirror is unapproved under an empty allowlist). Returns the problems.
fn check_clean(org: Org, run: &ScanRun) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(report) = &run.report else {
        problems.push(format!(
            "{} accounts: no JSON report (exit {}); stderr: {}",
            org.accounts,
            run.exit,
            run.stderr.trim()
        ));
        return problems;
    };
    let rows = coverage_rows(report);
    let mut scanned = std::collections::HashSet::new();
    let mut others = Vec::new();
    for row in rows {
        let region = row["region"].as_str();
        if row["status"] == "scanned" && region.is_some() {
            scanned.insert((row["account"].to_string(), region.unwrap_or("").to_string()));
        } else {
            others.push(row);
        }
    }
    if scanned.len() != org.scopes() || !others.is_empty() {
        problems.push(format!(
            "{} accounts: {} of {} scopes scanned, {} other coverage rows (of {}), e.g. {}",
            org.accounts,
            scanned.len(),
            org.scopes(),
            others.len(),
            rows.len(),
            others
                .iter()
                .take(3)
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let mirrors = report["mirrors"].as_array().map_or(0, Vec::len);
    if mirrors != org.scopes() * org.mirrors {
        problems.push(format!(
            "{} accounts: {mirrors} mirrors reported, {} expected",
            org.accounts,
            org.scopes() * org.mirrors
        ));
    }
    let expected_exit = if org.mirrors > 0 { 1 } else { 0 };
    if run.exit != expected_exit {
        problems.push(format!(
            "{} accounts: exit {} (expected {expected_exit}); stderr: {}",
            org.accounts,
            run.exit,
            run.stderr.trim()
        ));
    }
    problems
}

fn check_bare(org: Org, bare: &BareRun) -> Vec<String> {
    let mut problems = Vec::new();
    if bare.ok != bare.calls || bare.calls != org.calls() {
        problems.push(format!(
            "{} accounts: the bare client sent {} calls ({} expected), {} answered 200; first failure: {}",
            org.accounts,
            bare.calls,
            org.calls(),
            bare.ok,
            bare.first_error.as_deref().unwrap_or("-")
        ));
    }
    if bare.sessions != org.scopes() * org.mirrors {
        problems.push(format!(
            "{} accounts: the bare client listed {} sessions, {} expected",
            org.accounts,
            bare.sessions,
            org.scopes() * org.mirrors
        ));
    }
    problems
}

/// The calls by action in the in-process mock's request log since `from`.
fn logged_calls(mock: &MockCloud, from: usize) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    for record in mock.requests().into_iter().skip(from) {
        *calls.entry(record.action).or_insert(0) += 1;
    }
    calls
}

/// Counts, with an in-process mock (no latency) whose request log sees every call, what
/// mirrorguard and the bare client send for `org`, against the computed mix.
fn check_call_mix(
    runtime: &tokio::runtime::Runtime,
    org: Org,
    concurrency: usize,
    dir: &Path,
) -> Vec<String> {
    let world = World::synthetic(
        org.accounts,
        org.regions,
        org.mirrors,
        FaultMix::default(),
        0,
    );
    let mock = runtime.block_on(MockCloud::start(world)).expect("mock");
    let mut command = common::mirrorguard(&mock, dir);
    command.args(scan_args(&mock.endpoint(), dir, concurrency));
    let output = command.output().expect("mirrorguard runs");
    let scanned = logged_calls(&mock, 0);
    let before = mock.requests().len();
    let bare = bare_client(runtime, &mock.endpoint(), concurrency, DEFAULT_PER_ACCOUNT);
    let replayed = logged_calls(&mock, before);
    let expected = org.calls_by_action();
    println!(
        "call mix check ({} accounts × {} regions, in-process mock, no latency): expected {}, mirrorguard sent {}, bare client {} — by action:",
        org.accounts,
        org.regions,
        org.calls(),
        scanned.values().sum::<usize>(),
        replayed.values().sum::<usize>()
    );
    for (action, n) in &expected {
        println!(
            "  {action:<31} expected {n:>6}   mirrorguard {:>6}   bare {:>6}",
            scanned.get(action).copied().unwrap_or(0),
            replayed.get(action).copied().unwrap_or(0)
        );
    }
    let mut problems = Vec::new();
    if scanned != expected {
        problems.push(format!(
            "call mix: mirrorguard sent {scanned:?}, expected {expected:?} (exit {:?}, stderr {})",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    if replayed != expected {
        problems.push(format!(
            "call mix: the bare client sent {replayed:?}, expected {expected:?}"
        ));
    }
    let run = ScanRun {
        wall: Duration::ZERO,
        exit: output.status.code().unwrap_or(-1),
        peak_rss_kib: 0,
        spawner_kib: 0,
        report: read_report(dir),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    problems.extend(check_clean(org, &run));
    problems.extend(check_bare(org, &bare));
    problems
}

/// One row of the table.
struct Row {
    org: Org,
    wall: Duration,
    chain: Duration,
    throughput: Duration,
    bound: Duration,
    bare: Duration,
    rss_kib: u64,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The fault-mix run: coverage scope by scope against what the world injected.
fn fault_run(
    spawner: &mut Spawner,
    mocks: &Path,
    org: Org,
    latency_ms: usize,
    concurrency: usize,
    dir: &Path,
    limit: Duration,
) -> Vec<String> {
    let mut problems = Vec::new();
    let world = World::synthetic(
        org.accounts,
        org.regions,
        org.mirrors,
        ISSUE_MIX,
        latency_ms as u64,
    );
    let injected = world.injected_faults();
    drop(world);
    // (account, region) → (what was injected, the status a correct scan reports).
    let mut expected: HashMap<(String, Option<String>), (&str, &str)> = HashMap::new();
    let unassumable: std::collections::HashSet<&str> = injected
        .iter()
        .filter(|f| f.region.is_none())
        .map(|f| f.account.as_str())
        .collect();
    for n in 0..org.accounts {
        let account = synthetic_account(n);
        if unassumable.contains(account.as_str()) {
            expected.insert((account, None), ("assume-denied", "denied"));
            continue;
        }
        for r in 0..org.regions {
            expected.insert(
                (account.clone(), Some(synthetic_region(r))),
                ("healthy", "scanned"),
            );
        }
    }
    for fault in injected.iter().filter(|f| f.region.is_some()) {
        let outcome = match fault.kind {
            FaultKind::Denied => ("denied", "denied"),
            FaultKind::Throttled => ("throttled", "scanned"),
            FaultKind::Failing => ("failing", "failed"),
            FaultKind::Hang => ("hanging", "failed"),
            FaultKind::Malformed => ("malformed", "failed"),
            _ => ("other", "failed"),
        };
        expected.insert((fault.account.clone(), fault.region.clone()), outcome);
    }

    let mock = MockProcess::start(mocks, org, latency_ms, Some(ISSUE_MIX_ARG));
    let extra = FAULT_ARGS;
    let run = scan(spawner, &mock.endpoint, dir, concurrency, &extra, limit);
    let mock_injected = mock.injected();
    drop(mock);

    println!();
    println!(
        "fault mix: {} accounts × {} regions × {} mirror, {latency_ms} ms per call, --faults {ISSUE_MIX_ARG}, {}",
        org.accounts, org.regions, org.mirrors, FAULT_ARGS.join(" ")
    );
    println!(
        "  wall {:.2} s, exit {} (expected 1: with an empty allowlist every mirror found is unapproved, which outranks the coverage gaps' 3), peak RSS {:.1} MiB",
        run.wall.as_secs_f64(),
        run.exit,
        mib(run.peak_rss_kib)
    );
    println!(
        "  injected: {} faults per World::injected_faults ({} accounts AssumeRole-denied), the mock process says {}",
        injected.len(),
        unassumable.len(),
        mock_injected.map_or("nothing".to_string(), |n| n.to_string())
    );
    if mock_injected != Some(injected.len()) {
        problems.push(format!(
            "fault mix: the mock process injected {mock_injected:?} faults, World::injected_faults {}",
            injected.len()
        ));
    }
    if run.exit != 1 {
        problems.push(format!(
            "fault mix: exit {} (expected 1); stderr: {}",
            run.exit,
            run.stderr.trim()
        ));
    }
    let Some(report) = &run.report else {
        problems.push(format!(
            "fault mix: no JSON report (exit {}); stderr: {}",
            run.exit,
            run.stderr.trim()
        ));
        return problems;
    };

    // What the report says: a row per scope, per account (the whole account's fate: its
    // AssumeRole or DescribeRegions failed), and one with no account (the listing's failure).
    let mut observed: HashMap<(String, Option<String>), &Value> = HashMap::new();
    let mut account_rows: HashMap<String, &Value> = HashMap::new();
    let mut listed: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut listing_failure: Option<&Value> = None;
    let mut unexpected = Vec::new();
    let mut duplicates = 0;
    for row in coverage_rows(report) {
        let Some(account) = row["account"].as_str() else {
            listing_failure = Some(row);
            continue;
        };
        listed.insert(account.to_string());
        let key = (
            account.to_string(),
            row["region"].as_str().map(str::to_string),
        );
        if expected.contains_key(&key) {
            if observed.insert(key, row).is_some() {
                duplicates += 1;
            }
        } else if key.1.is_none() && expected.keys().any(|(a, _)| a == account) {
            account_rows.insert(key.0, row);
        } else {
            unexpected.push(row);
        }
    }
    let mirrors = mirrors_by_scope(report);
    let not_listed = (0..org.accounts)
        .filter(|&n| !listed.contains(&synthetic_account(n)))
        .count();
    match listing_failure {
        Some(row) => println!(
            "  ListAccounts did not finish: {} of {} accounts appear in the report, {not_listed} do not (the report's row: {row})",
            listed.len(),
            org.accounts
        ),
        None => println!(
            "  ListAccounts finished: {} of {} accounts appear in the report",
            listed.len(),
            org.accounts
        ),
    }

    // Per injected kind: how many scopes, the status expected, what was reported. A scope
    // without a row of its own counts under its account's row when there is one, else as
    // "not listed" when the listing failed before its page, else as missing.
    let mut by_kind: BTreeMap<&str, (usize, &str, BTreeMap<String, usize>)> = BTreeMap::new();
    let mut mismatches: Vec<String> = Vec::new();
    let (mut healthy_scopes, mut healthy_complete) = (0, 0);
    let mut keys: Vec<_> = expected.iter().collect();
    keys.sort();
    for (key, &(kind, want)) in keys {
        let entry = by_kind.entry(kind).or_insert((0, want, BTreeMap::new()));
        entry.0 += 1;
        let (account, region) = (&key.0, key.1.as_deref().unwrap_or("-"));
        let seen = if let Some(row) = observed.get(key) {
            let status = row["status"].as_str().unwrap_or("?");
            if status != want {
                mismatches.push(format!(
                    "{account} {region} ({kind}): expected {want}, report: {row}"
                ));
            }
            if status == "scanned" {
                status.to_string()
            } else {
                format!("{status} {}", detail_code(row))
            }
        } else if let Some(row) = account_rows.get(account) {
            mismatches.push(format!(
                "{account} {region} ({kind}): expected {want}, only the account's row: {row}"
            ));
            format!(
                "account {} {}",
                row["status"].as_str().unwrap_or("?"),
                detail_code(row)
            )
        } else if listing_failure.is_some() && !listed.contains(account) {
            "not listed".to_string()
        } else {
            mismatches.push(format!(
                "{account} {region} ({kind}): expected {want}, no row at all"
            ));
            "missing".to_string()
        };
        *entry.2.entry(seen).or_insert(0) += 1;
        if want == "scanned" {
            healthy_scopes += 1;
            let region = key.1.clone().unwrap_or_default();
            if mirrors.get(&(key.0.clone(), region)) == Some(&org.mirrors) {
                healthy_complete += 1;
            }
        }
    }
    println!("  | injected | scopes | expected | reported (status and the detail's code) |");
    println!("  |---|---|---|---|");
    for (kind, (count, want, seen)) in &by_kind {
        let seen = seen
            .iter()
            .map(|(status, n)| format!("{status} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!("  | {kind} | {count} | {want} | {seen} |");
    }
    let mut totals: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for &(_, want) in expected.values() {
        totals.entry(want).or_default().0 += 1;
    }
    for row in coverage_rows(report) {
        totals
            .entry(row["status"].as_str().unwrap_or("?"))
            .or_default()
            .1 += 1;
    }
    println!(
        "  coverage rows by status, expected / reported ({} rows): {}",
        coverage_rows(report).len(),
        totals
            .iter()
            .map(|(status, (want, got))| format!("{status} {want} / {got}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mirrors_total: usize = mirrors.values().sum();
    println!(
        "  scopes that should be scanned (healthy + throttled) with all their mirrors in the report: {healthy_complete} of {healthy_scopes}; {mirrors_total} mirrors reported, {} expected",
        healthy_scopes * org.mirrors
    );
    println!(
        "  scopes of listed accounts reported otherwise than injected: {}; scopes of accounts never listed: {}; rows for scopes the world does not have: {}; duplicate rows: {duplicates}",
        mismatches.len(),
        by_kind
            .values()
            .map(|(_, _, seen)| seen.get("not listed").copied().unwrap_or(0))
            .sum::<usize>(),
        unexpected.len()
    );
    for mismatch in mismatches.iter().take(5) {
        println!("    e.g. {mismatch}");
    }
    for row in unexpected.iter().take(3) {
        println!("    unexpected row: {row}");
    }
    if let Some(row) = listing_failure {
        problems.push(format!(
            "fault mix: ListAccounts did not finish ({not_listed} accounts never listed): {row}"
        ));
    }
    if !mismatches.is_empty() || !unexpected.is_empty() || duplicates > 0 {
        problems.push(format!(
            "fault mix: {} scopes of listed accounts reported otherwise than injected, {} unexpected rows, {duplicates} duplicates",
            mismatches.len(),
            unexpected.len()
        ));
    }
    if healthy_complete != healthy_scopes || mirrors_total != healthy_scopes * org.mirrors {
        problems.push(format!(
            "fault mix: {healthy_complete} of {healthy_scopes} healthy scopes have their mirrors; {mirrors_total} mirrors reported"
        ));
    }
    problems
}

fn main() {
    if std::env::args().any(|arg| arg == SPAWNER_ARG) {
        return spawner_main();
    }
    // First, while this process is small: the spawner's peak RSS is the floor of every figure.
    let mut spawner = Spawner::start();
    let mut spawner_kib = 0;
    let sizes: Vec<usize> = std::env::var("MG_BENCH_ORG_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".to_string())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect();
    let regions = env_or("MG_BENCH_REGIONS", 17);
    let mirrors = env_or("MG_BENCH_MIRRORS", 1);
    let latency_ms = env_or("MG_BENCH_LATENCY_MS", 50);
    let concurrency = env_or("MG_BENCH_CONCURRENCY", DEFAULT_CONCURRENCY).max(1);
    let fault_accounts = env_or("MG_BENCH_FAULT_ACCOUNTS", 1000);
    let check_accounts = env_or("MG_BENCH_CHECK_ACCOUNTS", 100);
    let limit = Duration::from_secs(env_or("MG_BENCH_MAX_SECONDS", 1800) as u64);
    let latency = Duration::from_millis(latency_ms as u64);
    let org = |accounts| Org {
        accounts,
        regions,
        mirrors,
    };

    let mocks = mocks_binary();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("scratch directory");
    let mut problems = Vec::new();

    println!(
        "scan_org: AWS organisation of N accounts × {regions} regions × {mirrors} mirror(s), {latency_ms} ms per call, mock in its own process ({}), concurrency C = {concurrency}{} ({DEFAULT_PER_ACCOUNT} scopes per account at once)",
        mocks.display(),
        if concurrency == DEFAULT_CONCURRENCY { " (mirrorguard's default)" } else { "" }
    );
    if check_accounts > 0 {
        problems.extend(check_call_mix(
            &runtime,
            org(check_accounts),
            concurrency,
            dir.path(),
        ));
    }
    println!();
    println!("calls = 1 GetCallerIdentity + ⌈N/20⌉ ListAccounts + (N−1) AssumeRole + N DescribeRegions + 3 × N × regions Describe calls (sessions, targets, filters)");
    println!("bound = max(chain, throughput); chain = (GetCallerIdentity + ⌈N/20⌉ ListAccounts pages + AssumeRole + DescribeRegions + 1 scope) × latency; throughput = units × latency ÷ C, units = ⌈N/20⌉ + (N−1) + N + N × regions (a scope is one unit of 3 concurrent calls: 3C calls in flight)");
    println!();
    println!("| accounts | scopes | calls | wall s | calls/s | chain s | throughput s | bound s | wall÷bound | bare s | wall÷bare | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for &accounts in &sizes {
        let org = org(accounts);
        let mock = MockProcess::start(&mocks, org, latency_ms, None);
        let run = scan(
            &mut spawner,
            &mock.endpoint,
            dir.path(),
            concurrency,
            &[],
            limit,
        );
        spawner_kib = spawner_kib.max(run.spawner_kib);
        problems.extend(check_clean(org, &run));
        let bare = bare_client(&runtime, &mock.endpoint, concurrency, DEFAULT_PER_ACCOUNT);
        problems.extend(check_bare(org, &bare));
        drop(mock);
        let (chain, throughput, bound) = lower_bound(org, latency, concurrency);
        let row = Row {
            org,
            wall: run.wall,
            chain,
            throughput,
            bound,
            bare: bare.wall,
            rss_kib: run.peak_rss_kib,
        };
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2}× | {:.2} | {:.2}× | {:.1} |",
            accounts,
            org.scopes(),
            org.calls(),
            row.wall.as_secs_f64(),
            org.calls() as f64 / row.wall.as_secs_f64(),
            row.chain.as_secs_f64(),
            row.throughput.as_secs_f64(),
            row.bound.as_secs_f64(),
            row.wall.as_secs_f64() / row.bound.as_secs_f64(),
            row.bare.as_secs_f64(),
            row.wall.as_secs_f64() / row.bare.as_secs_f64(),
            mib(row.rss_kib)
        );
        rows.push(row);
    }
    println!();
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let scale = b.org.accounts as f64 / a.org.accounts as f64;
        let scale = if scale.fract() == 0.0 {
            format!("{scale:.0}")
        } else {
            format!("{scale:.1}")
        };
        println!(
            "growth {} → {} accounts (×{scale}): wall ×{:.2} (bound ×{:.2}, bare ×{:.2}), peak RSS ×{:.2} ({:+.1} KiB per added account)",
            a.org.accounts,
            b.org.accounts,
            b.wall.as_secs_f64() / a.wall.as_secs_f64(),
            b.bound.as_secs_f64() / a.bound.as_secs_f64(),
            b.bare.as_secs_f64() / a.bare.as_secs_f64(),
            b.rss_kib as f64 / a.rss_kib.max(1) as f64,
            (b.rss_kib as f64 - a.rss_kib as f64) / (b.org.accounts - a.org.accounts).max(1) as f64
        );
    }
    if !rows.is_empty() {
        println!(
            "peak RSS: wait4's ru_maxrss of the mirrorguard process, spawned from a helper process whose own peak ({:.1} MiB) is the floor of the figure",
            mib(spawner_kib)
        );
    }
    if let Some(row) = rows.iter().find(|r| r.org.accounts == 1000) {
        let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
        let to_bound = row.wall.as_secs_f64() / row.bound.as_secs_f64();
        let to_bare = row.wall.as_secs_f64() / row.bare.as_secs_f64();
        let rss_mb = row.rss_kib as f64 * 1024.0 / 1e6;
        println!(
            "targets at 1,000 accounts: wall ≤ 1.5× bound {} ({to_bound:.2}×); wall ≤ 1.2× bare client {} ({to_bare:.2}×); peak RSS ≤ 256 MB {} ({rss_mb:.1} MB = {:.1} MiB)",
            verdict(to_bound <= 1.5),
            verdict(to_bare <= 1.2),
            verdict(rss_mb <= 256.0),
            mib(row.rss_kib)
        );
    }

    if fault_accounts > 0 {
        problems.extend(fault_run(
            &mut spawner,
            &mocks,
            org(fault_accounts),
            latency_ms,
            concurrency,
            dir.path(),
            limit,
        ));
    }

    if !problems.is_empty() {
        println!();
        println!("CHECKS FAILED:");
        for problem in &problems {
            println!("  - {problem}");
        }
        std::process::exit(1);
    }
}
