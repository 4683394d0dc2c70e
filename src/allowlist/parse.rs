//! Reading `allowlist.toml` into an [`Allowlist`], with every error located by line and column.
//!
//! The document is parsed with toml_edit (which keeps spans) and validated by hand rather than
//! through serde, so that one pass can report every unknown key, wrong type, empty list, quoted
//! date, missing key and duplicate at once.

use super::{
    matching::normalize_target, Allowlist, EngagementEntry, EntryMeta, ExclusionEntry, Expiry,
    Pattern, PrincipalEntry, TargetEntry,
};
use crate::model::{is_aws_account_id, is_guid, is_region_name, Provider};
use sha2::{Digest, Sha256};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use toml_edit::{Item, TableLike, Value};

/// One problem in the allowlist, located in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistError {
    pub line: usize,
    pub column: usize,
    /// The source line the error points into, for display.
    pub source_line: String,
    /// Characters the caret underline covers (at least one).
    pub width: usize,
    pub message: String,
}

/// Every error found in one allowlist file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistErrors {
    pub path: String,
    pub errors: Vec<AllowlistError>,
}

impl fmt::Display for AllowlistErrors {
    /// `path:line:column: message`, the offending line, and a caret under the offending part;
    /// user text is escaped so a hostile allowlist cannot drive the terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::report::inert;
        for error in &self.errors {
            writeln!(
                f,
                "error: {}:{}:{}: {}",
                self.path,
                error.line,
                error.column,
                inert(&error.message)
            )?;
            let gutter = error.line.to_string().len();
            let shown = inert(&error.source_line);
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", error.line, shown)?;
            let prefix: String = error.source_line.chars().take(error.column - 1).collect();
            let pad = inert(&prefix).chars().count();
            writeln!(
                f,
                "{:gutter$} | {:pad$}{}",
                "",
                "",
                "^".repeat(error.width.max(1))
            )?;
        }
        write!(
            f,
            "{} error{} in {}; nothing was applied",
            self.errors.len(),
            if self.errors.len() == 1 { "" } else { "s" },
            self.path
        )
    }
}

impl std::error::Error for AllowlistErrors {}

const TARGET_KEYS: &[&str] = &[
    "provider", "target", "accounts", "regions", "owner", "ticket", "reason", "expires",
];
const PRINCIPAL_KEYS: &[&str] = &[
    "provider", "actor", "accounts", "owner", "ticket", "reason", "expires",
];
const ENGAGEMENT_KEYS: &[&str] = &[
    "actor", "starts", "ends", "ticket", "owner", "provider", "reason", "targets",
];
const EXCLUSION_KEYS: &[&str] = &["provider", "scope", "owner", "ticket", "reason", "expires"];
const SETTINGS_KEYS: &[&str] = &["max_lifetime_days"];

/// Parses and validates allowlist text. `path` is only used in messages and the result.
pub fn parse(path: &Path, text: &str) -> Result<Allowlist, AllowlistErrors> {
    let mut checker = Checker {
        text,
        errors: Vec::new(),
    };
    let allowlist = checker.document(path);
    if checker.errors.is_empty() {
        Ok(allowlist)
    } else {
        checker.errors.sort_by_key(|e| (e.line, e.column));
        Err(AllowlistErrors {
            path: path.display().to_string(),
            errors: checker.errors,
        })
    }
}

struct Checker<'t> {
    text: &'t str,
    errors: Vec<AllowlistError>,
}

/// A table being read: where it is and which keys it may have.
struct Entry<'a> {
    table: &'a dyn TableLike,
    reference: String,
    span: Option<Range<usize>>,
}

impl<'t> Checker<'t> {
    fn error(&mut self, span: Option<Range<usize>>, message: String) {
        let span = span.unwrap_or(0..0);
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line = self.text[..start].matches('\n').count() + 1;
        let column = self.text[line_start..start].chars().count() + 1;
        let source_line = self.text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let end = span.end.clamp(start, line_end);
        let width = self.text[start..end].chars().count().max(1);
        self.errors.push(AllowlistError {
            line,
            column,
            source_line,
            width,
            message,
        });
    }

    fn document(&mut self, path: &Path) -> Allowlist {
        let mut allowlist = Allowlist {
            path: path.to_path_buf(),
            sha256: format!("{:x}", Sha256::digest(self.text.as_bytes())),
            ..Allowlist::default()
        };
        let document = match toml_edit::Document::parse(self.text) {
            Ok(document) => document,
            Err(error) => {
                let message = format!("invalid TOML: {}", error.message().trim_end());
                self.error(error.span(), message);
                return allowlist;
            }
        };
        let root = document.as_table();
        for (key, item) in root.iter() {
            let key_span = root.key(key).and_then(|k| k.span());
            match key {
                "settings" => self.settings(item, key_span, &mut allowlist),
                "targets" | "principals" | "engagements" | "exclusions" => {
                    let Some(entries) = self.entry_list(key, item, key_span) else {
                        continue;
                    };
                    for entry in entries {
                        match key {
                            "targets" => {
                                if let Some(e) = self.target_entry(&entry) {
                                    allowlist.targets.push(e);
                                }
                            }
                            "principals" => {
                                if let Some(e) = self.principal_entry(&entry) {
                                    allowlist.principals.push(e);
                                }
                            }
                            "engagements" => {
                                if let Some(e) = self.engagement_entry(&entry) {
                                    allowlist.engagements.push(e);
                                }
                            }
                            _ => {
                                if let Some(e) = self.exclusion_entry(&entry) {
                                    allowlist.exclusions.push(e);
                                }
                            }
                        }
                    }
                }
                other => self.error(
                    key_span,
                    format!(
                        "unknown top-level key `{other}`{} (expected [settings], [[targets]], [[principals]], [[engagements]] or [[exclusions]])",
                        suggestion(other, &["settings", "targets", "principals", "engagements", "exclusions"])
                    ),
                ),
            }
        }
        self.duplicates(&mut allowlist);
        allowlist
    }

    fn settings(&mut self, item: &Item, key_span: Option<Range<usize>>, allowlist: &mut Allowlist) {
        let Some(table) = item.as_table_like() else {
            self.error(
                key_span,
                "`settings` must be a table: [settings]".to_string(),
            );
            return;
        };
        let entry = Entry {
            table,
            reference: "settings".to_string(),
            span: key_span,
        };
        self.unknown_keys(&entry, SETTINGS_KEYS);
        if let Some((item, span)) = get(&entry, "max_lifetime_days") {
            match item.as_integer() {
                Some(days) if (1..=36500).contains(&days) => {
                    allowlist.max_lifetime_days = Some(days as u32)
                }
                _ => self.error(
                    span,
                    "settings: `max_lifetime_days` must be a whole number of days between 1 and 36500".to_string(),
                ),
            }
        }
    }

    /// The entries of one kind, whether written as `[[kind]]` blocks or an inline array.
    fn entry_list<'a>(
        &mut self,
        kind: &str,
        item: &'a Item,
        key_span: Option<Range<usize>>,
    ) -> Option<Vec<Entry<'a>>> {
        if let Some(array) = item.as_array_of_tables() {
            return Some(
                array
                    .iter()
                    .enumerate()
                    .map(|(i, table)| Entry {
                        table: table as &dyn TableLike,
                        reference: format!("{kind}[{}]", i + 1),
                        span: table.span(),
                    })
                    .collect(),
            );
        }
        if let Some(array) = item.as_array() {
            let mut entries = Vec::new();
            for (i, value) in array.iter().enumerate() {
                match value.as_inline_table() {
                    Some(table) => entries.push(Entry {
                        table: table as &dyn TableLike,
                        reference: format!("{kind}[{}]", i + 1),
                        span: value.span(),
                    }),
                    None => self.error(
                        value.span(),
                        format!("{kind}[{}]: each entry must be a table", i + 1),
                    ),
                }
            }
            return Some(entries);
        }
        self.error(
            key_span,
            format!("`{kind}` must be a list of entries, written [[{kind}]]"),
        );
        None
    }

    fn unknown_keys(&mut self, entry: &Entry, allowed: &[&str]) {
        for (key, _) in entry.table.iter() {
            if !allowed.contains(&key) {
                let span = entry.table.key(key).and_then(|k| k.span());
                self.error(
                    span,
                    format!(
                        "{}: unknown key `{key}`{} (allowed: {})",
                        entry.reference,
                        suggestion(key, allowed),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn required<'a>(
        &mut self,
        entry: &'a Entry,
        key: &str,
    ) -> Option<(&'a Item, Option<Range<usize>>)> {
        let found = get(entry, key);
        if found.is_none() {
            self.error(
                entry.span.clone(),
                format!("{}: missing required key `{key}`", entry.reference),
            );
        }
        found
    }

    fn string(
        &mut self,
        entry: &Entry,
        key: &str,
        required: bool,
    ) -> Option<(String, Option<Range<usize>>)> {
        let (item, span) = if required {
            self.required(entry, key)?
        } else {
            get(entry, key)?
        };
        match item.as_str() {
            Some(text) if !text.trim().is_empty() => Some((text.to_string(), span)),
            Some(_) => {
                self.error(
                    span,
                    format!("{}: `{key}` must not be empty", entry.reference),
                );
                None
            }
            None => {
                self.error(
                    span,
                    format!(
                        "{}: `{key}` must be a string, found {}",
                        entry.reference,
                        type_name(item)
                    ),
                );
                None
            }
        }
    }

    fn string_list(
        &mut self,
        entry: &Entry,
        key: &str,
    ) -> Option<Vec<(String, Option<Range<usize>>)>> {
        let (item, span) = get(entry, key)?;
        let Some(array) = item.as_array() else {
            self.error(
                span,
                format!(
                    "{}: `{key}` must be a list of strings, found {}",
                    entry.reference,
                    type_name(item)
                ),
            );
            return None;
        };
        if array.is_empty() {
            self.error(
                span,
                format!(
                    "{}: `{key}` is an empty list, which would match nothing; remove the key to apply everywhere",
                    entry.reference
                ),
            );
            return None;
        }
        let mut values = Vec::new();
        for value in array.iter() {
            match value.as_str() {
                Some(text) if !text.trim().is_empty() => {
                    values.push((text.to_string(), value.span()))
                }
                _ => self.error(
                    value.span(),
                    format!(
                        "{}: every item of `{key}` must be a non-empty string",
                        entry.reference
                    ),
                ),
            }
        }
        (values.len() == array.len()).then_some(values)
    }

    fn provider(&mut self, entry: &Entry, required: bool) -> Option<Provider> {
        let (text, span) = self.string(entry, "provider", required)?;
        let provider = Provider::parse(&text);
        if provider.is_none() {
            self.error(
                span,
                format!(
                    "{}: unknown provider {text:?} (expected aws, azure, gcp or network)",
                    entry.reference
                ),
            );
        }
        provider
    }

    /// A date or date-time value. Quoted dates are refused: TOML has a date type, and a string
    /// that merely looks like a date is a sign the author expected something else.
    fn instant(
        &mut self,
        entry: &Entry,
        key: &str,
        required: bool,
        date_ends_day: bool,
    ) -> Option<(String, OffsetDateTime)> {
        let (item, span) = if required {
            self.required(entry, key)?
        } else {
            get(entry, key)?
        };
        let Some(datetime) = item.as_datetime() else {
            let hint = if item.is_str() {
                let raw = item.as_str().unwrap_or_default();
                format!(" (a quoted string; write it without quotes: {key} = {raw})")
            } else {
                format!(", found {}", type_name(item))
            };
            self.error(
                span,
                format!(
                    "{}: `{key}` must be a TOML date like 2027-06-30 or an RFC 3339 date-time{hint}",
                    entry.reference
                ),
            );
            return None;
        };
        match to_instant(datetime, date_ends_day) {
            Some(instant) => Some((datetime.to_string(), instant)),
            None => {
                self.error(
                    span,
                    format!(
                        "{}: `{key}` = {datetime} is not usable: out of range, or a time without a date",
                        entry.reference
                    ),
                );
                None
            }
        }
    }

    fn meta(
        &mut self,
        entry: &Entry,
        reason_required: bool,
        expires_required: bool,
    ) -> Option<EntryMeta> {
        let owner = self.string(entry, "owner", true);
        let ticket = self.string(entry, "ticket", true);
        let reason = self.string(entry, "reason", reason_required);
        let expires = self.instant(entry, "expires", expires_required, true);
        if reason_required && reason.is_none() || expires_required && expires.is_none() {
            return None;
        }
        let span_start = entry.span.as_ref().map_or(0, |s| s.start);
        Some(EntryMeta {
            reference: entry.reference.clone(),
            key: String::new(),
            offset: span_start,
            line: self.text[..span_start.min(self.text.len())]
                .matches('\n')
                .count()
                + 1,
            owner: owner?.0,
            ticket: ticket?.0,
            reason: reason.map(|r| r.0),
            expires: expires.map(|(written, ends_at)| Expiry { written, ends_at }),
        })
    }

    /// `target` / `actor`: no whitespace, `*` alone refused; for targets, the id must have the
    /// provider's shape (CONTRACTS §4).
    fn pattern(&mut self, entry: &Entry, key: &str, provider: Option<Provider>) -> Option<Pattern> {
        let (written, span) = self.string(entry, key, true)?;
        if written.trim() == "*" {
            self.error(
                span,
                format!(
                    "{}: `{key} = \"*\"` would approve everything; name the {key}",
                    entry.reference
                ),
            );
            return None;
        }
        if written.chars().any(char::is_whitespace) {
            self.error(
                span,
                format!("{}: `{key}` must not contain whitespace", entry.reference),
            );
            return None;
        }
        if key == "target" {
            if let Some(provider) = provider {
                if let Err(why) = check_target_shape(provider, &written) {
                    self.error(
                        span,
                        format!(
                            "{}: {written:?} is not a {provider} mirror target id: {why}",
                            entry.reference
                        ),
                    );
                    return None;
                }
            }
        }
        let normalized = match (key, provider) {
            ("target", Some(provider)) => normalize_target(provider, &written),
            _ => written.to_lowercase(),
        };
        Some(Pattern {
            written,
            normalized,
        })
    }

    fn accounts(
        &mut self,
        entry: &Entry,
        provider: Option<Provider>,
    ) -> Option<Option<Vec<String>>> {
        let Some(list) = self.string_list(entry, "accounts") else {
            return Some(None).filter(|_| get(entry, "accounts").is_none());
        };
        let mut ok = true;
        for (account, span) in &list {
            if provider == Some(Provider::Aws) && !is_aws_account_id(account) {
                self.error(
                    span.clone(),
                    format!(
                        "{}: {account:?} is not an AWS account id (12 digits)",
                        entry.reference
                    ),
                );
                ok = false;
            }
        }
        ok.then(|| {
            Some(
                list.into_iter()
                    .map(|(account, _)| normalize_account(provider, &account))
                    .collect(),
            )
        })
    }

    fn regions(&mut self, entry: &Entry) -> Option<Option<Vec<String>>> {
        let Some(list) = self.string_list(entry, "regions") else {
            return Some(None).filter(|_| get(entry, "regions").is_none());
        };
        let mut ok = true;
        for (region, span) in &list {
            if !is_region_name(region) {
                self.error(
                    span.clone(),
                    format!(
                        "{}: {region:?} is not a region name (lower-case letters, digits and `-`, like us-east-1)",
                        entry.reference
                    ),
                );
                ok = false;
            }
        }
        ok.then(|| Some(list.into_iter().map(|(r, _)| r).collect()))
    }

    fn target_entry(&mut self, entry: &Entry) -> Option<TargetEntry> {
        self.unknown_keys(entry, TARGET_KEYS);
        let provider = self.provider(entry, true);
        let target = self.pattern(entry, "target", provider);
        let accounts = self.accounts(entry, provider);
        let regions = self.regions(entry);
        let meta = self.meta(entry, true, true);
        Some(TargetEntry {
            meta: meta?,
            provider: provider?,
            target: target?,
            accounts: accounts?,
            regions: regions?,
        })
    }

    fn principal_entry(&mut self, entry: &Entry) -> Option<PrincipalEntry> {
        self.unknown_keys(entry, PRINCIPAL_KEYS);
        let provider = self.provider(entry, true);
        let actor = self.pattern(entry, "actor", provider);
        let accounts = self.accounts(entry, provider);
        let meta = self.meta(entry, true, true);
        Some(PrincipalEntry {
            meta: meta?,
            provider: provider?,
            actor: actor?,
            accounts: accounts?,
        })
    }

    fn engagement_entry(&mut self, entry: &Entry) -> Option<EngagementEntry> {
        self.unknown_keys(entry, ENGAGEMENT_KEYS);
        let provider = if get(entry, "provider").is_some() {
            Some(self.provider(entry, false)?)
        } else {
            None
        };
        let actor = self.pattern(entry, "actor", provider);
        let starts = self.instant(entry, "starts", true, false);
        let ends = self.instant(entry, "ends", true, false);
        let targets = match self.string_list(entry, "targets") {
            Some(list) => Some(
                list.into_iter()
                    .map(|(written, _)| Pattern {
                        normalized: match provider {
                            Some(p) => normalize_target(p, &written),
                            None => written.to_lowercase(),
                        },
                        written,
                    })
                    .collect(),
            ),
            None if get(entry, "targets").is_some() => return None,
            None => None,
        };
        let meta = self.meta(entry, false, false);
        let (starts, ends) = (starts?.1, ends?.1);
        if ends <= starts {
            self.error(
                get(entry, "ends").and_then(|(_, s)| s),
                format!("{}: `ends` must be after `starts`", entry.reference),
            );
            return None;
        }
        Some(EngagementEntry {
            meta: meta?,
            provider,
            actor: actor?,
            starts,
            ends,
            targets,
        })
    }

    fn exclusion_entry(&mut self, entry: &Entry) -> Option<ExclusionEntry> {
        self.unknown_keys(entry, EXCLUSION_KEYS);
        let provider = self.provider(entry, true);
        let scope = self.string(entry, "scope", true);
        let meta = self.meta(entry, true, true);
        let (scope, span) = scope?;
        let (account, region) = match scope.split_once(':') {
            Some((account, region)) => (account.to_string(), Some(region.to_string())),
            None => (scope.clone(), None),
        };
        let region_ok = match provider {
            // Azure listings are subscription-wide: a region could never match a scope.
            Some(Provider::Azure) => region.is_none(),
            _ => region.as_deref().is_none_or(is_region_name),
        };
        let account_ok = match provider {
            Some(Provider::Aws) => is_aws_account_id(&account),
            Some(Provider::Azure) => is_guid(&account),
            _ => !account.is_empty() && !account.contains('*'),
        };
        if !account_ok || !region_ok {
            self.error(
                span,
                format!(
                    "{}: `scope` must be ACCOUNT or ACCOUNT:REGION (an AWS account is 12 digits; an Azure subscription is a GUID, without a region; no wildcard), found {scope:?}",
                    entry.reference
                ),
            );
            return None;
        }
        let provider = provider?;
        Some(ExclusionEntry {
            meta: meta?,
            provider,
            account: normalize_account(Some(provider), &account),
            region,
        })
    }

    /// Two entries of one kind that match exactly the same things are an error: one of them is
    /// dead weight, and which one's owner answers for the approval would be ambiguous.
    fn duplicates(&mut self, allowlist: &mut Allowlist) {
        let sorted = |list: &Option<Vec<String>>| {
            list.as_ref().map(|l| {
                let mut l = l.clone();
                l.sort();
                l.dedup();
                l
            })
        };
        for e in &mut allowlist.targets {
            e.meta.key = format!(
                "targets|{}|{}|{:?}|{:?}",
                e.provider,
                e.target.normalized,
                sorted(&e.accounts),
                sorted(&e.regions)
            );
        }
        for e in &mut allowlist.principals {
            e.meta.key = format!(
                "principals|{}|{}|{:?}",
                e.provider,
                e.actor.normalized,
                sorted(&e.accounts)
            );
        }
        for e in &mut allowlist.engagements {
            let targets = e.targets.as_ref().map(|t| {
                let mut t: Vec<&str> = t.iter().map(|p| p.normalized.as_str()).collect();
                t.sort();
                t.dedup();
                t.join(",")
            });
            e.meta.key = format!(
                "engagements|{:?}|{}|{}|{}|{:?}",
                e.provider, e.actor.normalized, e.starts, e.ends, targets
            );
        }
        for e in &mut allowlist.exclusions {
            e.meta.key = format!("exclusions|{}|{}|{:?}", e.provider, e.account, e.region);
        }

        let mut seen: Vec<&EntryMeta> = Vec::new();
        for (_, meta) in allowlist.all_entries() {
            if let Some(first) = seen.iter().find(|m| m.key == meta.key) {
                let what = match meta.key.split('|').next() {
                    Some("targets") => "provider, target",
                    Some("exclusions") => "provider, scope",
                    _ => "actor",
                };
                let message = format!(
                    "{}: duplicate of {} (line {}): same {what} and restrictions",
                    meta.reference, first.reference, first.line
                );
                self.error(Some(meta.offset..meta.offset + 1), message);
            } else {
                seen.push(meta);
            }
        }
    }
}

fn get<'a>(entry: &'a Entry, key: &str) -> Option<(&'a Item, Option<Range<usize>>)> {
    let (_, item) = entry.table.get_key_value(key)?;
    let span = item
        .span()
        .or_else(|| entry.table.key(key).and_then(|k| k.span()));
    Some((item, span))
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "a list of tables",
        Item::Value(value) => match value {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date",
            Value::Array(_) => "a list",
            Value::InlineTable(_) => "a table",
        },
    }
}

/// `did you mean`, for keys within two edits of an allowed one.
fn suggestion(key: &str, allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|candidate| (edit_distance(key, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| format!(" (did you mean `{candidate}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// A TOML date or date-time as an instant. A bare date means the start of that day in UTC, or,
/// for expiries, the start of the next day (valid through the end of the named day).
fn to_instant(datetime: &toml_edit::Datetime, date_ends_day: bool) -> Option<OffsetDateTime> {
    let date = datetime.date?;
    let month = Month::try_from(date.month).ok()?;
    let date = Date::from_calendar_date(i32::from(date.year), month, date.day).ok()?;
    let Some(time) = datetime.time else {
        let start = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc();
        return Some(if date_ends_day {
            start.checked_add(time::Duration::days(1))?
        } else {
            start
        });
    };
    let time = Time::from_hms_nano(
        time.hour,
        time.minute,
        time.second.unwrap_or(0),
        time.nanosecond.unwrap_or(0),
    )
    .ok()?;
    let local = PrimitiveDateTime::new(date, time);
    let offset = match datetime.offset {
        None | Some(toml_edit::Offset::Z) => UtcOffset::UTC,
        Some(toml_edit::Offset::Custom { minutes }) => {
            UtcOffset::from_whole_seconds(i32::from(minutes) * 60).ok()?
        }
    };
    local
        .assume_offset(offset)
        .checked_to_offset(UtcOffset::UTC)
}

/// Whether an id could be a mirror destination for the provider; `Err` says what was expected.
///
/// A `*` must never stand in for what decides *whose* destination it is: AWS resource ids are
/// unique random names (a glob over them approves appliances nobody reviewed), and in a load
/// balancer ARN only the final id segment may be a glob — partition, region, account and name
/// are literal, so an entry can follow a recreated NLB but never reach another account's.
fn check_target_shape(provider: Provider, id: &str) -> Result<(), String> {
    match provider {
        Provider::Aws => check_aws_target(id),
        Provider::Azure => check_azure_target(id),
        Provider::Gcp if id.contains("/forwardingRules/") || id.contains("/securityProfileGroups/") => {
            Ok(())
        }
        Provider::Gcp => Err(
            "expected projects/P/regions/R/forwardingRules/NAME (a collector) or …/securityProfileGroups/NAME (a firewall-policy mirroring rule's destination)"
                .into(),
        ),
        Provider::Network => Ok(()),
    }
}

/// An Azure approval names what receives the copies: a NIC IP configuration or a load-balancer
/// frontend IP configuration. A bare NIC or load-balancer id would never match (CONTRACTS §4),
/// so it is refused with the form to use instead of approving nothing in silence.
fn check_azure_target(id: &str) -> Result<(), String> {
    let lower = id.to_ascii_lowercase();
    if !lower.starts_with("/subscriptions/") {
        return Err("expected a resource id starting /subscriptions/…".into());
    }
    if lower.contains("/networkinterfaces/") && lower.contains("/ipconfigurations/")
        || lower.contains("/loadbalancers/") && lower.contains("/frontendipconfigurations/")
    {
        return Ok(());
    }
    Err("expected the destination's IP configuration: …/networkInterfaces/NIC/ipConfigurations/NAME or …/loadBalancers/LB/frontendIPConfigurations/NAME (a NIC or load-balancer id alone does not match)".into())
}

fn check_aws_target(id: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "expected eni-…, vpce-…, tmt-… or arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/net/NAME/ID";
    // AWS writes these ids in lower case, and ids are compared exactly: an upper-case spelling
    // would be an entry that can never match.
    let is_hex_id = |rest: &str| {
        rest.len() >= 8
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    for prefix in ["eni-", "vpce-", "tmt-"] {
        if let Some(rest) = id.strip_prefix(prefix) {
            if rest.contains('*') {
                return Err(format!(
                    "a `*` in an AWS resource id would approve {prefix}… destinations nobody reviewed; name the id exactly"
                ));
            }
            if !is_hex_id(rest) {
                return Err(format!(
                    "{prefix}… ids are {prefix} and at least 8 lower-case hexadecimal digits, as the scan prints them"
                ));
            }
            return Ok(());
        }
    }
    let Some(rest) = id.strip_prefix("arn:") else {
        return Err(EXPECTED.into());
    };
    let fields: Vec<&str> = rest.splitn(5, ':').collect();
    let [partition, service, region, account, resource] = fields[..] else {
        return Err(EXPECTED.into());
    };
    if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") || service != "elasticloadbalancing" {
        return Err(EXPECTED.into());
    }
    if !is_region_name(region) {
        return Err("the ARN's region must be written out (no `*`)".into());
    }
    if !is_aws_account_id(account) {
        return Err("the ARN's account must be the 12-digit owner account (no `*`)".into());
    }
    let parts: Vec<&str> = resource.split('/').collect();
    let ["loadbalancer", "net", name, lb_id] = parts[..] else {
        return Err("mirror targets are Network Load Balancers: …:loadbalancer/net/NAME/ID".into());
    };
    if name.is_empty() || name.contains('*') {
        return Err(
            "the load balancer name must be written out (only its final id may be `*`)".into(),
        );
    }
    if lb_id.is_empty() || !(lb_id == "*" || is_hex_id(lb_id)) {
        return Err(
            "the load balancer id must be its hexadecimal id, or `*` for any NLB of that name"
                .into(),
        );
    }
    Ok(())
}

fn normalize_account(provider: Option<Provider>, account: &str) -> String {
    match provider {
        // Subscription ids are GUIDs, compared case-insensitively like every Azure id.
        Some(Provider::Azure) => account.to_lowercase(),
        _ => account.to_string(),
    }
}
