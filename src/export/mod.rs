//! `mirrorguard rule export`: the rule catalogue ([`crate::audit::rule::CATALOGUE`]) written in
//! the query language of the SIEM where the logs already live.
//!
//! Every exporter reads the one catalogue, so a new operation reaches every language at once.
//! Each export carries the corrected rule's semantics as far as its language allows, and says
//! in a header comment where it cannot: exact operation names (anchored, never a substring),
//! the service gate (`ec2.amazonaws.com`, `compute.googleapis.com`), GCP's optional API-version
//! prefix, Azure names compared case-insensitively, an outcome gate (successful changes only
//! unless `--include-attempts`), and — where the language can group — one change one result
//! (CloudTrail `eventID` delivered twice, a GCP operation's first and last entries, an Azure
//! operation's Started and Succeeded records).
//!
//! One file per language: [`yara_l`], [`sigma`], [`kql`], [`spl`], [`sql`] (Athena and
//! BigQuery). Exports are deterministic (no dates or ids that change between runs), so they can
//! be committed and diffed.

pub mod kql;
pub mod sigma;
pub mod spl;
pub mod sql;
pub mod yara_l;

use crate::audit::rule::{Operation, CATALOGUE};
use crate::model::Provider;
use crate::posture::Severity;

/// The languages `rule export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    YaraL,
    Sigma,
    Kql,
    Spl,
    SqlAthena,
    SqlBigquery,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::YaraL => "yara-l",
            ExportFormat::Sigma => "sigma",
            ExportFormat::Kql => "kql",
            ExportFormat::Spl => "spl",
            ExportFormat::SqlAthena => "sql-athena",
            ExportFormat::SqlBigquery => "sql-bigquery",
        }
    }

    /// The providers whose logs the format's target reads: Athena holds CloudTrail, the
    /// BigQuery sink GCP's audit logs; the others read all three clouds.
    pub fn providers(self) -> &'static [Provider] {
        match self {
            ExportFormat::SqlAthena => &[Provider::Aws],
            ExportFormat::SqlBigquery => &[Provider::Gcp],
            _ => &[Provider::Aws, Provider::Azure, Provider::Gcp],
        }
    }
}

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The clouds covered, in [`Provider`] order, never empty.
    pub providers: Vec<Provider>,
    /// Failed calls (refused, DryRun probes) are reported too, marked as such.
    pub include_attempts: bool,
}

impl Selection {
    /// The selection for `format`: `requested` providers (all the format covers when empty).
    /// A provider the format cannot read is a usage error, not silently dropped.
    pub fn new(
        format: ExportFormat,
        requested: &[Provider],
        include_attempts: bool,
    ) -> Result<Selection, String> {
        let covered = format.providers();
        let mut providers: Vec<Provider> = if requested.is_empty() {
            covered.to_vec()
        } else {
            requested.to_vec()
        };
        providers.sort();
        providers.dedup();
        if let Some(outside) = providers.iter().find(|p| !covered.contains(p)) {
            return Err(format!(
                "--format {} reads {} logs only; {outside} is not among them",
                format.as_str(),
                covered
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Selection {
            providers,
            include_attempts,
        })
    }

    pub fn has(&self, provider: Provider) -> bool {
        self.providers.contains(&provider)
    }
}

/// The rule text for `format`.
pub fn render(format: ExportFormat, selection: &Selection) -> String {
    match format {
        ExportFormat::YaraL => yara_l::render(selection),
        ExportFormat::Sigma => sigma::render(selection),
        ExportFormat::Kql => kql::render(selection),
        ExportFormat::Spl => spl::render(selection),
        ExportFormat::SqlAthena => sql::athena(selection),
        ExportFormat::SqlBigquery => sql::bigquery(selection),
    }
}

/// The catalogue's operations of one provider, in catalogue order.
pub fn operations(provider: Provider) -> impl Iterator<Item = &'static Operation> {
    CATALOGUE.iter().filter(move |op| op.provider == provider)
}

/// The catalogue's names of one provider.
pub fn names(provider: Provider) -> Vec<&'static str> {
    operations(provider).map(|op| op.name).collect()
}

/// The regular expression every GCP export uses for `methodName`: a catalogued method with
/// an optional API-version prefix (`v1.`, `beta.`, `alpha.`, `v2beta1.`), anchored at both
/// ends and case-sensitive, as `audit::rule::gcp` matches it.
pub fn gcp_method_regex() -> String {
    let methods: Vec<String> = names(Provider::Gcp)
        .into_iter()
        .map(|name| regex_escape(name.strip_prefix("compute.").unwrap_or(name)))
        .collect();
    format!(
        r"^((v[0-9][A-Za-z0-9]*|beta|alpha)\.)?compute\.({})$",
        methods.join("|")
    )
}

/// Escapes the regular-expression metacharacters that catalogue names may contain.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// MITRE ATT&CK, as every export names it.
pub const ATTACK_TACTIC: &str = "Exfiltration";
pub const ATTACK_TACTIC_ID: &str = "TA0010";
pub const ATTACK_TECHNIQUE: &str = "Traffic Duplication";
pub const ATTACK_TECHNIQUE_ID: &str = "T1020.001";
pub const ATTACK_URL: &str = "https://attack.mitre.org/techniques/T1020/001/";

/// The headline of every export.
pub fn title(selection: &Selection) -> String {
    format!(
        "Traffic mirroring {} (MITRE ATT&CK {ATTACK_TECHNIQUE_ID}), generated by mirrorguard {} from its rule catalogue",
        if selection.include_attempts {
            "created, changed, deleted or attempted"
        } else {
            "created, changed or deleted"
        },
        env!("CARGO_PKG_VERSION"),
    )
}

/// The catalogue's highest severity among a provider's operations.
pub fn top_severity(provider: Provider) -> Severity {
    operations(provider)
        .map(|op| op.severity)
        .max()
        .unwrap_or(Severity::High)
}

/// Azure Activity Log status spellings: REST (`Failed`) and exports (`Failure`).
pub const AZURE_FAILURE: [&str; 2] = ["Failed", "Failure"];
pub const AZURE_INTERMEDIATE: [&str; 3] = ["Started", "Start", "Accepted"];

/// AWS DryRun probes' error codes (a DryRun is a failed call that would have succeeded).
pub const AWS_DRY_RUN_CODES: [&str; 2] = ["Client.DryRunOperation", "DryRunOperation"];

/// `'text'`, a quote doubled: SQL string literals and YAML single-quoted scalars.
pub fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"text"` with backslash escapes: KQL and SPL string literals.
pub fn double_quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gcp_regex_matches_what_the_catalogue_matches() {
        let regex = regex_lite::Regex::new(&gcp_method_regex()).expect("valid regex");
        for op in operations(Provider::Gcp) {
            for prefix in ["", "v1.", "beta.", "alpha.", "v2beta1."] {
                let method = format!("{prefix}{}", op.name);
                assert!(regex.is_match(&method), "{method}");
                assert!(crate::audit::rule::gcp(None, &method).is_some(), "{method}");
            }
        }
        for other in [
            "v1.compute.packetMirrorings.get",
            "x1.compute.packetMirrorings.insert",
            "v1.compute.packetMirrorings.insertX",
            "insertPacketMirroring",
            "V1.compute.packetMirrorings.insert",
            "v1.compute.networkFirewallPolicies.addRule",
        ] {
            assert!(!regex.is_match(other), "{other}");
            assert!(crate::audit::rule::gcp(None, other).is_none(), "{other}");
        }
    }

    #[test]
    fn a_provider_the_format_cannot_read_is_refused() {
        let error = Selection::new(ExportFormat::SqlAthena, &[Provider::Gcp], false).unwrap_err();
        assert!(error.contains("aws"), "{error}");
        let all = Selection::new(ExportFormat::Kql, &[], true).unwrap();
        assert_eq!(
            all.providers,
            [Provider::Aws, Provider::Azure, Provider::Gcp]
        );
    }
}
