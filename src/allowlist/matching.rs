//! Deciding whether an allowlist entry approves a mirror's destination.
//!
//! Ids are compared after one normalisation, shared with the parser so an entry always means
//! what it will be compared as: Azure ids case-insensitively, GCP forwarding rules as
//! `projects/P/regions/R/forwardingRules/NAME` whatever URL form the API used, AWS ids exactly.
//! `*` matches a run of characters other than `/` and `:`; there is no prefix or substring
//! matching.

use super::{Allowlist, TargetEntry};
use crate::model::{Mirror, Provider, Target};
use time::OffsetDateTime;

/// The allowlist's decision about one mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Approved by the `targets` entry at this index (the first valid match in file order).
    Approved(usize),
    /// Only expired entries match; the index is the first of them.
    Expired(usize),
    Unapproved,
}

/// The form of a target id that approvals are compared in (CONTRACTS §4).
pub fn normalize_target(provider: Provider, id: &str) -> String {
    let id = id.trim();
    match provider {
        Provider::Aws | Provider::Network => id.to_string(),
        Provider::Azure => id.to_lowercase(),
        Provider::Gcp => {
            // `https://host/…`, and the `//host/…` form resource names use across Google APIs.
            let without_host = id
                .strip_prefix("https://")
                .or_else(|| id.strip_prefix("http://"))
                .or_else(|| id.strip_prefix("//"))
                .map(|rest| rest.split_once('/').map_or("", |(_, path)| path))
                .unwrap_or(id);
            let path = without_host.trim_start_matches('/');
            let path = ["compute/v1/", "compute/beta/", "v1/", "v1beta1/"]
                .iter()
                .find_map(|version| path.strip_prefix(version))
                .unwrap_or(path);
            path.to_string()
        }
    }
}

/// `*` matches any run of characters other than `/` and `:`; everything else literally.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    fn go(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((b'*', rest)) => {
                let mut i = 0;
                loop {
                    if go(rest, &text[i..]) {
                        return true;
                    }
                    if i == text.len() || text[i] == b'/' || text[i] == b':' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some((c, rest)) => text.first() == Some(c) && go(rest, &text[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

impl TargetEntry {
    /// Whether this entry names the mirror's destination (by the receiving resource or, for
    /// AWS, the `tmt-…`) and its restrictions admit the mirror's own account and region.
    pub fn matches(&self, mirror: &Mirror) -> bool {
        self.provider == mirror.provider
            && self.names(&mirror.target, mirror.provider)
            && self.admits_scope(&mirror.account, mirror.region.as_deref())
    }

    pub fn names(&self, target: &Target, provider: Provider) -> bool {
        std::iter::once(target.id.as_str())
            .chain(target.mirror_target_id.as_deref())
            .any(|id| glob_matches(&self.target.normalized, &normalize_target(provider, id)))
    }

    pub fn admits_scope(&self, account: &str, region: Option<&str>) -> bool {
        let account = match self.provider {
            Provider::Azure => account.to_lowercase(),
            _ => account.to_string(),
        };
        self.accounts
            .as_ref()
            .is_none_or(|accounts| accounts.contains(&account))
            && self
                .regions
                .as_ref()
                .is_none_or(|regions| region.is_some_and(|r| regions.iter().any(|x| x == r)))
    }
}

impl TargetEntry {
    /// Whether a scope, possibly only partly known (`None` = unknown), could hold mirrors this
    /// entry matches.
    pub fn may_cover(&self, account: Option<&str>, region: Option<&str>) -> bool {
        let account_ok = account.is_none_or(|a| {
            let a = match self.provider {
                Provider::Azure => a.to_lowercase(),
                _ => a.to_string(),
            };
            self.accounts.as_ref().is_none_or(|list| list.contains(&a))
        });
        let region_ok = region.is_none_or(|r| {
            self.regions
                .as_ref()
                .is_none_or(|list| list.iter().any(|x| x == r))
        });
        account_ok && region_ok
    }
}

impl Allowlist {
    /// The verdict for a mirror's destination at `now`.
    pub fn verdict(&self, mirror: &Mirror, now: OffsetDateTime) -> Verdict {
        self.verdict_for(|entry| entry.matches(mirror), now)
    }

    /// The verdict for anything a `targets` entry may match (a mirror, a staged target).
    pub fn verdict_for(
        &self,
        matches: impl Fn(&TargetEntry) -> bool,
        now: OffsetDateTime,
    ) -> Verdict {
        let mut first_expired = None;
        for (index, entry) in self.targets.iter().enumerate() {
            if !matches(entry) {
                continue;
            }
            let expired = entry
                .meta
                .expires
                .as_ref()
                .is_some_and(|e| e.has_passed(now));
            if !expired {
                return Verdict::Approved(index);
            }
            first_expired.get_or_insert(index);
        }
        first_expired.map_or(Verdict::Unapproved, Verdict::Expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_never_crosses_separators() {
        assert!(glob_matches("eni-0abc*", "eni-0abcdef"));
        assert!(!glob_matches("eni-0abc*", "eni-0abd"));
        assert!(glob_matches(
            "projects/p/regions/*/forwardingRules/ids",
            "projects/p/regions/us-east1/forwardingRules/ids"
        ));
        assert!(!glob_matches(
            "projects/p/regions/*/forwardingRules/ids",
            "projects/p/regions/a/b/forwardingRules/ids"
        ));
        assert!(!glob_matches("arn:aws:*", "arn:aws:elasticloadbalancing:x"));
        // No implicit prefix or substring match.
        assert!(!glob_matches("eni-0abc", "eni-0abcdef"));
        assert!(!glob_matches("0abc", "eni-0abc"));
    }

    #[test]
    fn gcp_urls_normalise_to_the_relative_path() {
        let want = "projects/p/regions/r/forwardingRules/f";
        for form in [
            "https://www.googleapis.com/compute/v1/projects/p/regions/r/forwardingRules/f",
            "https://compute.googleapis.com/compute/beta/projects/p/regions/r/forwardingRules/f",
            "projects/p/regions/r/forwardingRules/f",
            "/compute/v1/projects/p/regions/r/forwardingRules/f",
        ] {
            assert_eq!(normalize_target(Provider::Gcp, form), want, "{form}");
        }
    }

    #[test]
    fn azure_ids_compare_case_insensitively() {
        assert_eq!(
            normalize_target(Provider::Azure, "/subscriptions/ABC/resourceGroups/RG"),
            "/subscriptions/abc/resourcegroups/rg"
        );
    }
}
