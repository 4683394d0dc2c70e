//! The `rule` command: `show` prints the catalogue, `diff-seed` what the original Chronicle
//! rule misses of it, `export` the catalogue in a SIEM's language ([`crate::export`]).
//!
//! All three read [`crate::audit::rule::CATALOGUE`]; `diff-seed` evaluates the seed rule
//! ([`crate::audit::seed`]) on each operation as its log record would present it, so the
//! comparison is the seed's own regexes at work, not a list written by hand.

use crate::audit::rule::{Operation, CATALOGUE};
use crate::audit::{seed, Observed};
use crate::export::{self, ExportFormat, Selection};
use crate::model::Provider;
use crate::report::inert;
use crate::scan::{deliver, CommandError};
use comfy_table::{presets, ContentArrangement, Table};
use std::io::Write;
use std::path::PathBuf;

/// What `rule` was asked to do.
#[derive(Debug, Clone)]
pub enum RuleRequest {
    Show,
    DiffSeed,
    Export {
        format: ExportFormat,
        selection: Selection,
        output: Option<PathBuf>,
    },
}

/// Runs it; the exit code is 0 once written (CONTRACTS §6).
pub fn run(request: RuleRequest, stdout: &mut dyn Write) -> Result<u8, CommandError> {
    let (text, output) = match request {
        RuleRequest::Show => (show(), None),
        RuleRequest::DiffSeed => (diff_seed(), None),
        RuleRequest::Export {
            format,
            selection,
            output,
        } => (export::render(format, &selection), output),
    };
    deliver(Ok(text.into_bytes()), output.as_deref(), stdout)?;
    Ok(0)
}

fn table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160);
    table
}

/// The catalogue as a table: provider, operation, lifecycle, severity, what it is.
pub fn show() -> String {
    let mut table = table();
    table.set_header([
        "provider",
        "operation",
        "lifecycle",
        "severity",
        "what it is",
    ]);
    for op in CATALOGUE {
        table.add_row([
            op.provider.as_str(),
            op.name,
            op.lifecycle.as_str(),
            op.severity.as_str(),
            op.what,
        ]);
    }
    format!(
        "{table}\n{} operations ({} aws, {} azure, {} gcp). Ids, why each matters and false positives: mirrorguard rule export --format sigma, or the README.\n",
        CATALOGUE.len(),
        export::operations(Provider::Aws).count(),
        export::operations(Provider::Azure).count(),
        export::operations(Provider::Gcp).count(),
    )
}

/// How the original rule treats one catalogued operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedCoverage {
    /// One of its patterns matches the name as a whole.
    Matched,
    /// It fires only because a pattern is unanchored: a prefix of another name matched.
    ByAccident,
    /// It fires on the resource name, whatever the operation (and on Started records and
    /// failed calls alike).
    ByResourceName,
    Missed,
}

impl SeedCoverage {
    pub fn as_str(self) -> &'static str {
        match self {
            SeedCoverage::Matched => "matched",
            SeedCoverage::ByAccident => "by accident",
            SeedCoverage::ByResourceName => "by resource name",
            SeedCoverage::Missed => "missed",
        }
    }
}

/// The operation's record as Chronicle would present it to the seed: the log's own name
/// (GCP's with its `v1.` prefix) and a resource of the kind it acts on.
fn seed_view(op: &Operation) -> Observed {
    let (event_type, resource) = match op.provider {
        Provider::Aws => (op.name.to_string(), "tms-0123456789abcdef0".to_string()),
        Provider::Gcp => (
            format!("v1.{}", op.name),
            "projects/p/regions/us-central1/packetMirrorings/m".to_string(),
        ),
        _ => {
            let path = if op.name.contains("/tapConfigurations/") {
                "networkInterfaces/nic-1/tapConfigurations/tap-1"
            } else {
                "virtualNetworkTaps/vtap-1"
            };
            (
                op.name.to_string(),
                format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/{path}"),
            )
        }
    };
    Observed::seed_probe(op.provider, &event_type, &resource)
}

/// How the seed rule treats `op`.
pub fn seed_coverage(op: &Operation) -> SeedCoverage {
    let view = seed_view(op);
    if !seed::fires(&view) {
        return SeedCoverage::Missed;
    }
    let name = view.udm_event_type.as_deref().unwrap_or_default();
    let [first, second, _resource_name] = seed::PATTERNS;
    let whole = |pattern: &str| {
        let body = pattern.trim_start_matches("(?i)");
        regex_lite::Regex::new(&format!("(?i)^(?:{body})$"))
            .expect("seed pattern")
            .is_match(name)
    };
    let by_name = regex_lite::Regex::new(first.1)
        .expect("seed pattern")
        .is_match(name)
        || regex_lite::Regex::new(second.1)
            .expect("seed pattern")
            .is_match(name);
    if !by_name {
        SeedCoverage::ByResourceName
    } else if whole(first.1) || whole(second.1) {
        SeedCoverage::Matched
    } else {
        SeedCoverage::ByAccident
    }
}

/// What the original rule misses or catches by accident, operation by operation, and the
/// gaps that are not about names.
pub fn diff_seed() -> String {
    let mut table = table();
    table.set_header(["provider", "operation", "seed rule", "why"]);
    let mut missed = 0;
    let mut accidental = 0;
    for op in CATALOGUE {
        let coverage = seed_coverage(op);
        let why = match coverage {
            SeedCoverage::Matched => "named in the seed's alternation".to_string(),
            SeedCoverage::ByAccident => {
                accidental += 1;
                "an unanchored pattern matches a prefix of the name".to_string()
            }
            SeedCoverage::ByResourceName => {
                "target.resource.name contains virtualNetworkTaps/tapConfigurations: fires on any operation on such a resource, Started records and failed calls included".to_string()
            }
            SeedCoverage::Missed => {
                missed += 1;
                match op.provider {
                    Provider::Gcp => format!(
                        "no seed pattern matches the real methodName (v1.{})",
                        op.name
                    ),
                    _ => "not in the seed's alternation".to_string(),
                }
            }
        };
        table.add_row([
            op.provider.as_str().to_string(),
            inert(op.name).into_owned(),
            coverage.as_str().to_string(),
            why,
        ]);
    }
    format!(
        "{table}\nThe seed rule misses {missed} of {} catalogued operations and catches {accidental} only by accident.\nBeyond names: it has no outcome condition (refused calls and DryRun probes fire as changes), no de-duplication (an Azure Started and Succeeded pair, a GCP operation's first and last entries, a record delivered twice each fire more than once), and no on-premises coverage. `mirrorguard rule export --format yara-l` writes the corrected rule.\n",
        CATALOGUE.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rule::by_id;

    #[test]
    fn the_seed_gaps_of_the_reference_come_out_of_the_seeds_own_patterns() {
        let coverage = |id: &str| seed_coverage(by_id(id).expect(id));
        // reference/audit-events.md: 7 of the 11 AWS writes, one by an unanchored prefix.
        let aws: Vec<SeedCoverage> = export::operations(Provider::Aws)
            .map(seed_coverage)
            .collect();
        assert_eq!(
            aws.iter().filter(|c| **c != SeedCoverage::Missed).count(),
            7
        );
        for id in [
            "aws-delete-traffic-mirror-target",
            "aws-delete-traffic-mirror-filter",
            "aws-delete-traffic-mirror-filter-rule",
            "aws-modify-traffic-mirror-filter-network-services",
        ] {
            assert_eq!(coverage(id), SeedCoverage::Missed, "{id}");
        }
        assert_eq!(
            coverage("aws-create-traffic-mirror-filter-rule"),
            SeedCoverage::ByAccident
        );
        // GCP: no real packetMirrorings method; patchPacketMirroringRule by accident.
        for id in [
            "gcp-packet-mirroring-insert",
            "gcp-packet-mirroring-patch",
            "gcp-packet-mirroring-delete",
        ] {
            assert_eq!(coverage(id), SeedCoverage::Missed, "{id}");
        }
        assert_eq!(
            coverage("gcp-firewall-policy-patch-mirroring-rule"),
            SeedCoverage::ByAccident
        );
        // Azure: by resource name.
        assert_eq!(
            coverage("azure-tap-configuration-delete"),
            SeedCoverage::ByResourceName
        );
        let text = diff_seed();
        assert!(text.contains("misses"), "{text}");
    }
}
