//! `allowlist.toml`: the reviewed list of approved mirror destinations (`[[targets]]`), sanctioned
//! actors (`[[principals]]`, `[[engagements]]`) and acknowledged out-of-reach scopes
//! (`[[exclusions]]`).
//!
//! Parsing keeps spans so that every error names its line and column, and collects *all* errors
//! before giving up (cargo-deny style): a malformed allowlist never half-applies. Matching is
//! exact after per-provider normalisation; `*` is the only wildcard and never crosses `/` or `:`
//! (CONTRACTS §3, §4).

pub mod edit;
mod matching;
mod parse;

pub use matching::{glob_matches, normalize_target, Verdict};
pub use parse::{parse, AllowlistError, AllowlistErrors};

use crate::model::Provider;
use serde::Serialize;
use std::path::PathBuf;
use time::OffsetDateTime;

/// A parsed, validated allowlist.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    /// Where it was read from, as the user named it (`<demo>` for the built-in one).
    pub path: PathBuf,
    /// Hex SHA-256 of the file's bytes, so a report says exactly which allowlist it used.
    pub sha256: String,
    pub max_lifetime_days: Option<u32>,
    pub targets: Vec<TargetEntry>,
    pub principals: Vec<PrincipalEntry>,
    pub engagements: Vec<EngagementEntry>,
    pub exclusions: Vec<ExclusionEntry>,
}

/// What every entry carries: where it is and who answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMeta {
    /// `targets[2]`: the kind and its 1-based position among entries of that kind.
    pub reference: String,
    /// What the entry matches (kind, provider, normalised id, sorted restrictions): equal keys
    /// are duplicates, and findings about the entry are fingerprinted by it, so they survive
    /// edits elsewhere in the file.
    pub key: String,
    /// Byte offset where the entry starts in the file.
    pub offset: usize,
    pub line: usize,
    pub owner: String,
    pub ticket: String,
    pub reason: Option<String>,
    /// The first instant the entry no longer applies.
    pub expires: Option<Expiry>,
}

/// An expiry as written, and the first instant at which it has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// As written in the file (`2027-06-30` or an RFC 3339 date-time).
    pub written: String,
    /// A date is valid through the end of that day in UTC, so this is the next midnight.
    pub ends_at: OffsetDateTime,
}

impl Expiry {
    pub fn has_passed(&self, now: OffsetDateTime) -> bool {
        now >= self.ends_at
    }
}

/// A name or id as written and as compared: `*` globs allowed where the schema says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub written: String,
    pub normalized: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    pub meta: EntryMeta,
    pub provider: Provider,
    pub target: Pattern,
    pub accounts: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    pub meta: EntryMeta,
    pub provider: Provider,
    pub actor: Pattern,
    pub accounts: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementEntry {
    pub meta: EntryMeta,
    pub provider: Option<Provider>,
    pub actor: Pattern,
    pub starts: OffsetDateTime,
    pub ends: OffsetDateTime,
    pub targets: Option<Vec<Pattern>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionEntry {
    pub meta: EntryMeta,
    pub provider: Provider,
    pub account: String,
    pub region: Option<String>,
}

/// How a report names the entry that decided a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryRef {
    pub entry: String,
    pub line: usize,
    pub owner: String,
    pub ticket: String,
    pub expires: Option<String>,
}

impl From<&EntryMeta> for EntryRef {
    fn from(meta: &EntryMeta) -> Self {
        EntryRef {
            entry: meta.reference.clone(),
            line: meta.line,
            owner: meta.owner.clone(),
            ticket: meta.ticket.clone(),
            expires: meta.expires.as_ref().map(|e| e.written.clone()),
        }
    }
}

impl Allowlist {
    /// Every entry's provider and metadata, in file order per kind.
    pub fn all_entries(&self) -> impl Iterator<Item = (Option<Provider>, &EntryMeta)> {
        self.targets
            .iter()
            .map(|e| (Some(e.provider), &e.meta))
            .chain(self.principals.iter().map(|e| (Some(e.provider), &e.meta)))
            .chain(self.engagements.iter().map(|e| (e.provider, &e.meta)))
            .chain(self.exclusions.iter().map(|e| (Some(e.provider), &e.meta)))
    }
}
