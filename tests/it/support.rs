//! Helpers shared by the integration tests: a mock cloud running on its own runtime, and the
//! real `mirrorguard` binary run against it with an environment that reaches nothing but
//! loopback (no ambient credentials, profiles or instance-metadata probes).

use mirrorguard_mocks::{MockCloud, RequestRecord, World};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mock cloud serving `world` on an ephemeral loopback port until dropped.
pub struct TestCloud {
    mock: Option<MockCloud>,
    runtime: tokio::runtime::Runtime,
}

impl TestCloud {
    pub fn start(world_toml: &str) -> TestCloud {
        TestCloud::start_world(World::from_toml(world_toml).expect("test world parses"))
    }

    /// Serves a world built in code (a synthetic organisation).
    pub fn start_world(world: World) -> TestCloud {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mock = runtime
            .block_on(MockCloud::start(world))
            .expect("mock starts");
        TestCloud {
            mock: Some(mock),
            runtime,
        }
    }

    pub fn endpoint(&self) -> String {
        self.mock.as_ref().expect("running").endpoint()
    }

    /// `127.0.0.1:PORT`, for variables that take a host rather than a URL.
    pub fn addr(&self) -> String {
        self.mock.as_ref().expect("running").addr().to_string()
    }

    /// LookupEvents requests the mock's CloudTrail rate limiter refused.
    pub fn rate_limited(&self) -> usize {
        self.mock.as_ref().expect("running").rate_limited()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.mock.as_ref().expect("running").requests()
    }

    /// How many requests of `action` reached `account` (a subscription or project).
    pub fn count_in(&self, action: &str, account: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == action && r.account == account)
            .count()
    }

    /// How many requests of `action` reached `region`.
    pub fn count(&self, action: &str, region: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == action && r.region == region)
            .count()
    }
}

impl Drop for TestCloud {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        self.mock.take();
    }
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_mirrorguard")
}

/// A `mirrorguard` command with a scrubbed environment: only what the test passes is there.
/// No credential chain can reach beyond loopback: AWS IMDS is disabled, the Azure VM
/// managed-identity probe is left out of the chain, the GCP metadata server lookup goes to a
/// closed loopback port (tests with a mock point it at the mock), and config and credential
/// files point at nothing.
pub fn command(home: &Path) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("MIRRORGUARD_AZURE_NO_MANAGED_IDENTITY", "1")
        .env("GCE_METADATA_HOST", "127.0.0.1:1")
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("NO_COLOR", "1")
        .current_dir(home);
    cmd
}

/// The Azure tenant of test worlds (the mock's default).
pub const AZURE_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// Points every provider's credential chain and endpoint at `cloud`, through the environment
/// variables users have: AWS static keys, an Azure service principal (azure_identity's
/// `EnvironmentCredential`, token from the mock's `/{tenant}/oauth2/v2.0/token`), and a GCP
/// `authorized_user` ADC file in `home` whose `token_uri` is the mock.
pub fn with_cloud_credentials(cmd: &mut Command, cloud: &TestCloud, home: &Path) {
    let adc = home.join("gcp-adc.json");
    let adc_json = serde_json::json!({
        "type": "authorized_user",
        "client_id": "mirrorguard-test.apps.googleusercontent.com",
        "client_secret": "test-secret",
        "refresh_token": "1//test-refresh",
        "token_uri": format!("{}/token", cloud.endpoint()),
    });
    std::fs::write(&adc, adc_json.to_string()).expect("write ADC file");
    cmd.env("AWS_ENDPOINT_URL", cloud.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIATESTKEY000000001")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("MIRRORGUARD_AZURE_ENDPOINT", cloud.endpoint())
        .env("AZURE_AUTHORITY_HOST", cloud.endpoint())
        .env("AZURE_TENANT_ID", AZURE_TENANT)
        .env("AZURE_CLIENT_ID", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        .env("AZURE_CLIENT_SECRET", "test-secret")
        .env("GOOGLE_APPLICATION_CREDENTIALS", &adc)
        .env("MIRRORGUARD_GCP_ENDPOINT", cloud.endpoint())
        .env("MIRRORGUARD_GCP_LOGGING_ENDPOINT", cloud.endpoint())
        .env("MIRRORGUARD_GCP_RESOURCEMANAGER_ENDPOINT", cloud.endpoint())
        .env("GCE_METADATA_HOST", cloud.addr());
}

/// `mirrorguard audit --live` against `cloud` with test credentials for every provider, short
/// retries and the same pinned clock as [`scan`], plus `args` (which name the providers).
pub fn audit_live(cloud: &TestCloud, home: &Path, args: &[&str]) -> Run {
    let mut cmd = command(home);
    with_cloud_credentials(&mut cmd, cloud, home);
    cmd.args([
        "audit",
        "--live",
        "--now",
        "2026-11-15T12:00:00Z",
        "--retry-backoff",
        "10ms",
    ]);
    cmd.args(args);
    run(cmd)
}

/// `mirrorguard scan` against `cloud` with test credentials for every provider, short retries
/// and a pinned clock, plus `args`. Without a `--provider` in `args` only AWS is scanned (most
/// tests are about one provider; the default selection has tests of its own).
pub fn scan(cloud: &TestCloud, home: &Path, args: &[&str]) -> Run {
    let mut cmd = command(home);
    with_cloud_credentials(&mut cmd, cloud, home);
    cmd.args([
        "scan",
        "--now",
        "2026-11-15T12:00:00Z",
        "--retry-backoff",
        "10ms",
    ]);
    if !args
        .iter()
        .any(|a| *a == "--provider" || a.starts_with("--provider="))
    {
        cmd.args(["--provider", "aws"]);
    }
    cmd.args(args);
    run(cmd)
}

pub fn run(mut cmd: Command) -> Run {
    let output = cmd.output().expect("mirrorguard runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A temporary directory holding `allowlist.toml` with `text`.
pub fn home_with_allowlist(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("allowlist.toml");
    std::fs::write(&path, text).expect("write allowlist");
    (dir, path)
}

/// One coverage row by region.
pub fn coverage_row<'a>(report: &'a serde_json::Value, region: &str) -> &'a serde_json::Value {
    report["coverage"]
        .as_array()
        .expect("coverage array")
        .iter()
        .find(|row| row["region"] == region)
        .unwrap_or_else(|| panic!("no coverage row for {region}: {:#}", report["coverage"]))
}

pub fn mirror_ids(report: &serde_json::Value) -> Vec<String> {
    report["mirrors"]
        .as_array()
        .expect("mirrors array")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

/// `scan --demo` with `allowlist` as the allowlist file, plus `args`. The temporary path in
/// stderr reads `allowlist.toml`, so messages can be compared and snapshotted.
pub fn demo_with_allowlist(allowlist: &str, args: &[&str]) -> Run {
    let (home, path) = home_with_allowlist(allowlist);
    let mut cmd = command(home.path());
    cmd.args(["scan", "--demo"])
        .args(args)
        .arg("--allowlist")
        .arg(&path);
    let mut result = run(cmd);
    result.stderr = result
        .stderr
        .replace(&path.display().to_string(), "allowlist.toml");
    result
}

/// The mirror with `id` in a JSON report.
pub fn mirror<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["mirrors"]
        .as_array()
        .expect("mirrors array")
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing from the report"))
}
