//! What the benchmarks that run the real binary against the mock cloud share: their knobs, and
//! the command line with test credentials for every provider pointed at the mock, nothing
//! inherited from the environment (no ambient credentials, no metadata probes).

use mirrorguard_mocks::MockCloud;
use std::path::Path;
use std::process::Command;

/// A numeric knob from the environment, or its default.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The release `mirrorguard` with dummy AWS keys, an Azure service principal and a GCP
/// `authorized_user` file (written under `home`), every endpoint the mock's.
pub fn mirrorguard(mock: &MockCloud, home: &Path) -> Command {
    let adc = home.join("adc.json");
    std::fs::write(
        &adc,
        serde_json::json!({
            "type": "authorized_user",
            "client_id": "bench.apps.googleusercontent.com",
            "client_secret": "bench",
            "refresh_token": "1//bench",
            "token_uri": format!("{}/token", mock.endpoint()),
        })
        .to_string(),
    )
    .expect("ADC file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mirrorguard"));
    command
        .env_clear()
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_ENDPOINT_URL", mock.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("MIRRORGUARD_AZURE_NO_MANAGED_IDENTITY", "1")
        .env("MIRRORGUARD_AZURE_ENDPOINT", mock.endpoint())
        .env("AZURE_AUTHORITY_HOST", mock.endpoint())
        .env("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
        .env("AZURE_CLIENT_ID", "bench")
        .env("AZURE_CLIENT_SECRET", "bench")
        .env("GOOGLE_APPLICATION_CREDENTIALS", &adc)
        .env("MIRRORGUARD_GCP_ENDPOINT", mock.endpoint())
        .env("MIRRORGUARD_GCP_LOGGING_ENDPOINT", mock.endpoint())
        .env("GCE_METADATA_HOST", mock.addr().to_string());
    command
}
