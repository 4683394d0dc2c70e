//! The original Chronicle YARA-L rule (`detect_traffic_duplication_t1020_001`, in
//! `shared/seed/`), evaluated exactly as written, so its catches and misses can be shown next
//! to the corrected rule's (`mirrorguard audit --rule seed`).
//!
//! The rule is three unanchored, case-insensitive regular expressions, two over
//! `metadata.product_event_type` and one over `target.resource.name`, with no outcome
//! condition and no de-duplication: it fires once per record, on failed attempts too. Raw
//! provider logs are first mapped the way Chronicle's parsers fill those two fields (each
//! source module says how; where Chronicle's mapping is undocumented, that is stated there).

use super::Observed;
use regex_lite::Regex;
use std::sync::OnceLock;

/// The rule's three patterns, byte for byte as in the seed.
pub const PATTERNS: [(&str, &str); 3] = [
    (
        "metadata.product_event_type",
        "(?i)CreateTrafficMirrorSession|CreateTrafficMirrorTarget|CreateTrafficMirrorFilter|ModifyTrafficMirrorSession|ModifyTrafficMirrorFilterRule|DeleteTrafficMirrorSession",
    ),
    (
        "metadata.product_event_type",
        "(?i)insertPacketMirroring|patchPacketMirroring|deletePacketMirroring",
    ),
    ("target.resource.name", "(?i)virtualNetworkTaps|tapConfigurations"),
];

/// The catalogue-style id reports give events the original rule raised.
pub const RULE_ID: &str = "seed";

fn compiled() -> &'static [Regex; 3] {
    static COMPILED: OnceLock<[Regex; 3]> = OnceLock::new();
    COMPILED.get_or_init(|| PATTERNS.map(|(_, pattern)| Regex::new(pattern).expect("seed regex")))
}

/// Whether the original rule fires on this record.
pub fn fires(call: &Observed) -> bool {
    let [aws, gcp, azure] = compiled();
    let event_type = re2_folded(call.udm_event_type.as_deref().unwrap_or(""));
    let resource_name = re2_folded(call.udm_resource_name.as_deref().unwrap_or(""));
    aws.is_match(&event_type) || gcp.is_match(&event_type) || azure.is_match(&resource_name)
}

/// Chronicle evaluates YARA-L regexes with RE2, whose `(?i)` folds Unicode case; regex-lite
/// folds ASCII only. The patterns are all ASCII letters, and the only non-ASCII characters
/// that simple-fold to an ASCII letter are LONG S (→ s) and KELVIN SIGN (→ k): spelling those
/// two as their ASCII letters first makes the match exactly RE2's.
fn re2_folded(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\u{017F}', '\u{212A}']) {
        text.replace('\u{017F}', "s")
            .replace('\u{212A}', "k")
            .into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_folds_as_re2_does() {
        // RE2 (?i): ſ folds to s, K (Kelvin) to k; regex-lite alone would miss both.
        assert!(fires(&call("", "/x/virtualNetworkTap\u{017F}/t")));
        assert!(fires(&call("CreateTrafficMirrorTarget", "")));
        assert!(!fires(&call("", "/x/virtualNetwor\u{212A}/t")));
        assert!(fires(&call("insertPac\u{212A}etMirroring", "")));
    }
    use crate::model::Provider;

    fn call(event_type: &str, resource_name: &str) -> Observed {
        Observed::seed_probe(Provider::Aws, event_type, resource_name)
    }

    #[test]
    fn the_seed_rule_as_written_with_its_gaps() {
        // What it catches, including by accident (unanchored: FilterRule contains Filter).
        for name in [
            "CreateTrafficMirrorSession",
            "CreateTrafficMirrorFilterRule",
            "createtrafficmirrortarget",
            "v1.compute.networkFirewallPolicies.patchPacketMirroringRule",
        ] {
            assert!(fires(&call(name, "")), "{name}");
        }
        // What it misses: four AWS writes and every real packetMirrorings methodName.
        for name in [
            "DeleteTrafficMirrorTarget",
            "DeleteTrafficMirrorFilter",
            "DeleteTrafficMirrorFilterRule",
            "ModifyTrafficMirrorFilterNetworkServices",
            "v1.compute.packetMirrorings.insert",
            "beta.compute.packetMirrorings.delete",
        ] {
            assert!(!fires(&call(name, "")), "{name}");
        }
        // Azure by resource name, whatever the operation (a resource group named after it too).
        assert!(fires(&call(
            "Microsoft.Resources/tags/write",
            "/subscriptions/s/resourceGroups/rg-virtualnetworktaps-lab/providers/Microsoft.Network/networkInterfaces/n"
        )));
        assert!(!fires(&call(
            "Microsoft.Network/virtualNetworkTaps/write",
            "vtap-1"
        )));
    }
}
