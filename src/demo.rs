//! The bundled demo: a mock cloud started in-process with the demo world, the example
//! allowlist, static dummy credentials and a pinned clock, all compiled into the binary so
//! `mirrorguard scan --demo` works from any directory, offline, and shows the same thing every
//! time (CONTRACTS §8).

use mirrorguard_mocks::{MockCloud, World};
use time::OffsetDateTime;

/// The demo estate (also usable by hand: `cargo run -p mirrorguard-mocks -- --world …`).
pub const WORLD: &str = include_str!("../mocks/worlds/demo.toml");
/// The documented example allowlist at the repository root.
pub const ALLOWLIST: &str = include_str!("../allowlist.toml");

pub const ACCESS_KEY_ID: &str = "AKIAMIRRORGUARDDEMO0";
pub const SECRET_ACCESS_KEY: &str = "mirrorguard-demo-secret-not-a-real-key";
/// The role the demo assumes in its organisation's member account.
pub const AWS_MEMBER_ROLE: &str = "MirrorguardReadOnly";

/// The demo's Azure service principal (the mock's token endpoint issues its tokens).
pub const AZURE_TENANT: &str = "7a1e5c2d-0d5b-4c8e-9b1f-3c2d4e5f6a7b";
pub const AZURE_CLIENT_ID: &str = "5b0c7a8e-1f2d-4e3c-8a9b-0c1d2e3f4a5b";
pub const AZURE_CLIENT_SECRET: &str = "mirrorguard-demo-secret-not-a-real-one";

/// The demo's GCP user credential and projects (the mock serves its token endpoint).
pub const GCP_CLIENT_ID: &str = "mirrorguard-demo.apps.googleusercontent.com";
pub const GCP_CLIENT_SECRET: &str = "mirrorguard-demo-secret";
pub const GCP_REFRESH_TOKEN: &str = "1//mirrorguard-demo-refresh-token";
pub const GCP_PROJECTS: &[&str] = &["acme-prod-platform", "acme-shared-tools"];

/// The demo's pinned "now".
pub fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-11-15 12:00:00 UTC)
}

/// Where the demo's audit reads from when `--since` is not given: the start of its history
/// (the bundled logs begin on 2026-11-02), so files and live logs share one window.
pub fn history_start() -> OffsetDateTime {
    time::macros::datetime!(2026-11-01 00:00:00 UTC)
}

/// The demo's audit logs, one per provider, in the providers' own export formats: they tell
/// who made the demo estate's mirrors, and show a mirror that lived between two scans.
pub fn audit_logs() -> Vec<crate::audit::sources::InputPath> {
    use crate::audit::sources::InputPath;
    vec![
        InputPath::Embedded {
            name: "<demo>/cloudtrail/111122223333_us-east-1.json",
            bytes: include_bytes!("../mocks/worlds/demo-audit/cloudtrail.json"),
        },
        InputPath::Embedded {
            name: "<demo>/azure/activity-log.json",
            bytes: include_bytes!("../mocks/worlds/demo-audit/azure-activity.json"),
        },
        InputPath::Embedded {
            name: "<demo>/gcp/cloudaudit-activity.json",
            bytes: include_bytes!("../mocks/worlds/demo-audit/gcp-audit.json"),
        },
    ]
}

/// Starts the demo mock cloud on an ephemeral loopback port.
pub async fn start_cloud() -> std::io::Result<MockCloud> {
    let world = World::from_toml(WORLD).map_err(std::io::Error::other)?;
    MockCloud::start(world).await
}
