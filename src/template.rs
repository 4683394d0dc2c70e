//! `mirrorguard allowlist init`: writes a commented allowlist that approves nothing, so a new
//! user starts from the documented schema instead of a blank file.

use crate::scan::{write_atomically, CommandError};
use std::path::Path;

pub const TEMPLATE: &str = r#"# mirrorguard allowlist: the reviewed list of approved traffic-mirror destinations.
# Keep it in git; review changes like code. An empty allowlist approves nothing.
# The README section "Allowlist" documents every key. Each entry needs owner, ticket, reason, expires.

# [settings]
# max_lifetime_days = 365

# [[targets]]
# provider = "aws"                      # aws | azure | gcp | network
# target   = "eni-0123456789abcdef0"    # what receives the copies, exactly as `scan` prints it
# accounts = ["111122223333"]           # optional: only mirrors in these accounts
# regions  = ["us-east-1"]              # optional: only mirrors in these regions
# owner    = "netsec@example.com"
# ticket   = "SEC-1234"
# reason   = "Suricata IDS in the security VPC"
# expires  = 2027-06-30                 # a TOML date, no quotes

# [[principals]]
# provider = "aws"
# actor    = "arn:aws:iam::111122223333:role/netsec-terraform"
# owner    = "netsec@example.com"
# ticket   = "SEC-1234"
# reason   = "Terraform pipeline that manages the IDS mirrors"
# expires  = 2027-06-30

# [[engagements]]
# actor  = "arn:aws:iam::111122223333:role/redteam"
# starts = 2026-12-01T09:00:00Z
# ends   = 2026-12-05T18:00:00Z
# ticket = "RT-42"
# owner  = "security-lead@example.com"

# [[exclusions]]
# provider = "aws"
# scope    = "111122223333:me-south-1"  # ACCOUNT or ACCOUNT:REGION
# owner    = "cloud-platform@example.com"
# ticket   = "CLOUD-77"
# reason   = "region closed by SCP"
# expires  = 2027-01-31
"#;

/// Writes the template to `path` unless something is already there.
pub fn init(path: &Path) -> Result<String, CommandError> {
    write_atomically(path, TEMPLATE.as_bytes(), false)?;
    Ok(format!(
        "wrote {} (approves nothing until you add entries)",
        path.display()
    ))
}
