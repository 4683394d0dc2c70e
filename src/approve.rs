//! `approve`, `revoke` and `allowlist check`: approving sanctioned mirrors as a reviewable
//! command instead of a hand edit, and the hygiene checks an allowlist kept in git for years
//! needs. The file edits themselves (locking, validation, atomic writes) are in
//! [`crate::allowlist::edit`]; this module turns requests into entries and reports.

use crate::allowlist::edit::{self, EntryKind, NewEntry};
use crate::allowlist::{normalize_target, Allowlist, EntryMeta};
use crate::model::Provider;
use crate::scan::{load_allowlist, AllowlistSource, CommandError};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use toml_edit::{Array, Value};

/// The longest an approval may last when the allowlist's `[settings]` sets no
/// `max_lifetime_days` (CONTRACTS §3).
pub const DEFAULT_MAX_LIFETIME_DAYS: u32 = 365;

/// What is approved.
#[derive(Debug, Clone)]
pub enum Approval {
    /// A destination, by its id as the scan prints it.
    Target { provider: Provider, target: String },
    /// The destination of a mirror in a saved JSON scan.
    FromScan {
        mirror: String,
        report: PathBuf,
        /// Do not restrict the entry to the mirror's account and region.
        anywhere: bool,
    },
    /// An actor whose changes are sanctioned (audit).
    Principal { provider: Provider, actor: String },
    /// A window in which an actor's changes are sanctioned.
    Engagement {
        actor: String,
        provider: Option<Provider>,
        starts: OffsetDateTime,
        ends: OffsetDateTime,
        targets: Option<Vec<String>>,
    },
}

/// When an approval ends, as the user asked.
#[derive(Debug, Clone, Copy)]
pub enum ExpiryRequest {
    /// `--expires 2027-06-30`: valid through the end of that day, UTC.
    Date(time::Date),
    /// `--expires 2027-06-30T12:00:00Z`.
    Instant(OffsetDateTime),
    /// `--for 90d`: the date that far from today.
    For(std::time::Duration),
}

#[derive(Debug, Clone)]
pub struct ApproveRequest {
    pub allowlist: PathBuf,
    pub approval: Approval,
    pub owner: String,
    pub ticket: String,
    pub reason: Option<String>,
    pub expiry: Option<ExpiryRequest>,
    pub accounts: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub now: OffsetDateTime,
}

/// Adds the entry, prints the diff to `stdout` and what happened to `stderr`. Exit 0; every
/// refusal is a [`CommandError`] (exit 2) with the file untouched.
pub fn approve(
    request: ApproveRequest,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CommandError> {
    let usage = |message: String| CommandError::Usage(message);
    for (flag, value) in [("--owner", &request.owner), ("--ticket", &request.ticket)] {
        if value.trim().is_empty() {
            return Err(usage(format!("{flag} must not be empty")));
        }
    }
    let mut accounts = request.accounts.clone();
    let mut regions = request.regions.clone();
    let (kind, mut fields): (EntryKind, Vec<(&'static str, Value)>) = match &request.approval {
        Approval::Target { provider, target } => {
            (EntryKind::Target, target_fields(*provider, target)?)
        }
        Approval::FromScan {
            mirror,
            report,
            anywhere,
        } => {
            let found = mirror_in_report(report, mirror)?;
            for other in &found.sharing {
                writeln!(
                    stderr,
                    "warning: {other} in {} sends to the same destination {}; this entry approves it there too{}",
                    report.display(),
                    found.target,
                    if *anywhere { "" } else { " if it is in the same account and region" }
                )
                .map_err(|e| CommandError::Io(e.to_string()))?;
            }
            if !anywhere {
                // Restricted to the mirror's own scope: other restrictions would approve the
                // destination somewhere the reviewed mirror is not.
                if accounts.is_some() || regions.is_some() {
                    return Err(usage(
                        "--accounts/--regions: with --mirror the entry is restricted to the mirror's own account and region; add --anywhere to choose otherwise".into(),
                    ));
                }
                accounts = Some(vec![found.account.clone()]);
                regions = found.region.clone().map(|region| vec![region]);
            }
            (
                EntryKind::Target,
                target_fields(found.provider, &found.target)?,
            )
        }
        Approval::Principal { provider, actor } => {
            exact(actor, "an actor")?;
            if regions.is_some() {
                return Err(usage(
                    "--regions: [[principals]] entries take no regions (only --accounts)".into(),
                ));
            }
            (
                EntryKind::Principal,
                vec![
                    ("provider", Value::from(provider.as_str())),
                    ("actor", Value::from(actor.trim())),
                ],
            )
        }
        Approval::Engagement {
            actor,
            provider,
            starts,
            ends,
            targets,
        } => {
            exact(actor, "an actor")?;
            if accounts.is_some() || regions.is_some() {
                return Err(usage(
                    "--accounts/--regions: [[engagements]] entries take neither (restrict with --targets)".into(),
                ));
            }
            if starts >= ends {
                return Err(usage(format!(
                    "--starts {} is not before --ends {}",
                    rfc3339(*starts),
                    rfc3339(*ends)
                )));
            }
            if *ends <= request.now {
                return Err(usage(format!(
                    "--ends {} has already passed",
                    rfc3339(*ends)
                )));
            }
            let mut fields = vec![
                ("actor", Value::from(actor.trim())),
                ("starts", datetime_value(*starts)?),
                ("ends", datetime_value(*ends)?),
                ("ticket", Value::from(request.ticket.trim())),
                ("owner", Value::from(request.owner.trim())),
            ];
            if let Some(provider) = provider {
                fields.push(("provider", Value::from(provider.as_str())));
            }
            if let Some(reason) = &request.reason {
                fields.push(("reason", Value::from(reason.trim())));
            }
            if let Some(targets) = targets {
                for target in targets {
                    exact(target, "a target")?;
                }
                fields.push(("targets", string_array(targets.iter().map(|t| t.trim()))));
            }
            (EntryKind::Engagement, fields)
        }
    };

    if kind != EntryKind::Engagement {
        if let Some(accounts) = &accounts {
            fields.push((
                "accounts",
                string_array(accounts.iter().map(String::as_str)),
            ));
        }
        if let Some(regions) = &regions {
            fields.push(("regions", string_array(regions.iter().map(String::as_str))));
        }
        let reason = request
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| usage("--reason is required: say why this is sanctioned".into()))?;
        let expiry = request.expiry.ok_or_else(|| {
            usage("an expiry is required: --expires DATE or --for DURATION (e.g. --for 90d)".into())
        })?;
        fields.push(("owner", Value::from(request.owner.trim())));
        fields.push(("ticket", Value::from(request.ticket.trim())));
        fields.push(("reason", Value::from(reason)));
        fields.push(("expires", expiry_value(expiry, request.now)?));
    }

    let now = request.now;
    let entry = NewEntry { kind, fields };
    let edit = edit::add(&request.allowlist, &entry, |allowlist, meta| {
        check_lifetime(allowlist, meta, now)
    })?;
    report_written(
        &edit,
        &format!(
            "added {} to {}",
            edit.reference,
            request.allowlist.display()
        ),
        stdout,
        stderr,
    );
    Ok(0)
}

/// Once the file is written the command has succeeded (exit 0, CONTRACTS §6): a closed
/// stdout (`| head -0`) must not turn it into an exit 2 that a retry would repeat.
fn report_written(edit: &edit::Edit, done: &str, stdout: &mut dyn Write, stderr: &mut dyn Write) {
    if let Err(e) = stdout
        .write_all(edit.diff.as_bytes())
        .and_then(|()| stdout.flush())
    {
        let _ = writeln!(stderr, "warning: the diff could not be printed ({e})");
    }
    if let Some(warning) = &edit.warning {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    let _ = writeln!(stderr, "{done}");
}

/// An approved entry must not have expired already, nor last longer than the file allows.
fn check_lifetime(
    allowlist: &Allowlist,
    meta: &EntryMeta,
    now: OffsetDateTime,
) -> Result<(), String> {
    let Some((ends_at, written)) = end_of(allowlist, meta) else {
        return Ok(());
    };
    if ends_at <= now {
        return Err(format!("the expiry {written} has already passed"));
    }
    let max_days = allowlist
        .max_lifetime_days
        .unwrap_or(DEFAULT_MAX_LIFETIME_DAYS);
    if over_lifetime(ends_at, now, max_days) {
        return Err(format!(
            "the expiry {written} is more than {max_days} days away (max_lifetime_days{}); approve for less and renew",
            if allowlist.max_lifetime_days.is_some() {
                " in [settings]"
            } else {
                ", default"
            }
        ));
    }
    Ok(())
}

/// When an entry stops applying, as written: its `expires`, or an engagement's `ends` (an
/// engagement is an approval with an end like any other, and is held to the same lifetime).
fn end_of(allowlist: &Allowlist, meta: &EntryMeta) -> Option<(OffsetDateTime, String)> {
    if let Some(expires) = &meta.expires {
        return Some((expires.ends_at, expires.written.clone()));
    }
    allowlist
        .engagements
        .iter()
        .find(|e| e.meta.reference == meta.reference)
        .map(|e| (e.ends, rfc3339(e.ends)))
}

/// Whether an entry ending at `ends_at` lasts longer than `max_days` from `now`: a date up to
/// `max_days` days after today is within, through the end of that day.
fn over_lifetime(ends_at: OffsetDateTime, now: OffsetDateTime, max_days: u32) -> bool {
    let last_day = now
        .date()
        .saturating_add(time::Duration::days(i64::from(max_days) + 1));
    ends_at > last_day.midnight().assume_utc()
}

/// `provider` and `target` of a `[[targets]]` entry. The id is written as the matcher compares
/// it for GCP (a full URL becomes `projects/…`), and must name one destination: a `*` would
/// widen the approval beyond what was reviewed.
fn target_fields(
    provider: Provider,
    target: &str,
) -> Result<Vec<(&'static str, Value)>, CommandError> {
    exact(target, "a target")?;
    let written = match provider {
        Provider::Gcp => normalize_target(provider, target),
        _ => target.trim().to_string(),
    };
    Ok(vec![
        ("provider", Value::from(provider.as_str())),
        ("target", Value::from(written)),
    ])
}

fn exact(text: &str, what: &str) -> Result<(), CommandError> {
    if text.trim().is_empty() {
        return Err(CommandError::Usage(format!("{what} must not be empty")));
    }
    if text.contains('*') {
        return Err(CommandError::Usage(format!(
            "{text:?}: approve names {what} exactly; a `*` would approve more than was reviewed (write a glob by hand if you mean one)"
        )));
    }
    Ok(())
}

fn string_array<'a>(items: impl Iterator<Item = &'a str>) -> Value {
    let mut array = Array::new();
    for item in items {
        array.push(item);
    }
    Value::Array(array)
}

fn expiry_value(expiry: ExpiryRequest, now: OffsetDateTime) -> Result<Value, CommandError> {
    match expiry {
        ExpiryRequest::Date(date) => date_value(date),
        ExpiryRequest::Instant(instant) => datetime_value(instant),
        ExpiryRequest::For(duration) => {
            let too_far = || CommandError::Usage("--for: too far in the future".into());
            let days = i64::try_from(duration.as_secs().div_ceil(86_400))
                .ok()
                .filter(|days| *days <= 1_000_000)
                .ok_or_else(too_far)?;
            let date = now
                .date()
                .checked_add(time::Duration::days(days))
                .ok_or_else(too_far)?;
            date_value(date)
        }
    }
}

fn date_value(date: time::Date) -> Result<Value, CommandError> {
    format!("{date}")
        .parse::<toml_edit::Datetime>()
        .map(Value::from)
        .map_err(|e| CommandError::Usage(format!("{date}: {e}")))
}

fn datetime_value(instant: OffsetDateTime) -> Result<Value, CommandError> {
    rfc3339(instant)
        .parse::<toml_edit::Datetime>()
        .map(Value::from)
        .map_err(|e| CommandError::Usage(format!("{instant}: {e}")))
}

fn rfc3339(instant: OffsetDateTime) -> String {
    instant
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(instant)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A mirror found in a saved scan: what its entry needs, and which other mirrors of the report
/// share its destination.
struct FoundMirror {
    provider: Provider,
    account: String,
    region: Option<String>,
    target: String,
    sharing: Vec<String>,
}

/// A saved `scan --format json` report, read for `flag` (named in every error).
pub(crate) fn read_scan_report(
    report: &Path,
    flag: &str,
) -> Result<serde_json::Value, CommandError> {
    let text = std::fs::read(report)
        .map_err(|e| CommandError::Usage(format!("{flag} {}: {e}", report.display())))?;
    let json: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        CommandError::Usage(format!(
            "{flag} {}: not a JSON scan report ({e}); write one with `mirrorguard scan --format json --output FILE`",
            report.display()
        ))
    })?;
    if json["schema"] != "mirrorguard/scan/v1" {
        return Err(CommandError::Usage(format!(
            "{flag} {}: schema {} is not mirrorguard/scan/v1",
            report.display(),
            json["schema"]
        )));
    }
    Ok(json)
}

fn mirror_in_report(report: &Path, mirror: &str) -> Result<FoundMirror, CommandError> {
    let json = read_scan_report(report, "--from-scan")?;
    let mirrors = json["mirrors"].as_array().cloned().unwrap_or_default();
    let provider_of = |m: &serde_json::Value| m["provider"].as_str().and_then(Provider::parse);
    let same_id = |m: &serde_json::Value| {
        let id = m["id"].as_str().unwrap_or_default();
        match provider_of(m) {
            Some(Provider::Azure) => id.eq_ignore_ascii_case(mirror.trim()),
            _ => id == mirror.trim(),
        }
    };
    let found = mirrors.iter().find(|m| same_id(m)).ok_or_else(|| {
        CommandError::Usage(format!(
            "--mirror {mirror}: no such mirror in {} ({} mirrors)",
            report.display(),
            mirrors.len()
        ))
    })?;
    let provider = provider_of(found).ok_or_else(|| {
        CommandError::Usage(format!("--mirror {mirror}: the report names no provider"))
    })?;
    let target = found["target"]["id"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            CommandError::Usage(format!("--mirror {mirror}: the report names no target"))
        })?
        .to_string();
    let account = found["account"]
        .as_str()
        .ok_or_else(|| {
            CommandError::Usage(format!("--mirror {mirror}: the report names no account"))
        })?
        .to_string();
    let key = normalize_target(provider, &target);
    let sharing = mirrors
        .iter()
        .filter(|m| !same_id(m) && provider_of(m) == Some(provider))
        .filter(|m| {
            m["target"]["id"]
                .as_str()
                .is_some_and(|t| normalize_target(provider, t) == key)
        })
        .map(|m| {
            format!(
                "{} ({}{})",
                m["id"].as_str().unwrap_or("?"),
                m["account"].as_str().unwrap_or("?"),
                m["region"]
                    .as_str()
                    .map(|r| format!(", {r}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    Ok(FoundMirror {
        provider,
        account,
        region: found["region"].as_str().map(str::to_string),
        target,
        sharing,
    })
}

/// Removes one entry: by its reference (`targets[2]`, as `allowlist check` prints it) or by
/// the target or actor it names, which must name exactly one entry.
pub fn revoke(
    allowlist_path: &Path,
    selector: &str,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CommandError> {
    let edit = edit::remove(allowlist_path, |allowlist| {
        resolve(allowlist, allowlist_path, selector)
    })?;
    report_written(
        &edit,
        &format!(
            "removed {} from {}",
            edit.reference,
            allowlist_path.display()
        ),
        stdout,
        stderr,
    );
    Ok(0)
}

/// The entry `selector` names in `allowlist`: a reference, or a name exactly one entry has.
fn resolve(
    allowlist: &Allowlist,
    allowlist_path: &Path,
    selector: &str,
) -> Result<(EntryKind, usize), CommandError> {
    if let Some(found) = reference(selector) {
        return Ok(found);
    }
    let matches = entries_naming(allowlist, selector.trim());
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(CommandError::Usage(format!(
            "no entry of {} names {selector:?} (give a target or actor exactly as written, or a reference such as targets[2] from `mirrorguard allowlist check`)",
            allowlist_path.display()
        ))),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(k, i)| format!("{}[{i}]", k.table()))
                .collect();
            Err(CommandError::Usage(format!(
                "{selector:?} names {} entries ({}); revoke one by its reference",
                many.len(),
                names.join(", ")
            )))
        }
    }
}

/// `targets[2]` → (targets, 2).
fn reference(text: &str) -> Option<(EntryKind, usize)> {
    let (kind, rest) = text.trim().split_once('[')?;
    let index: usize = rest.strip_suffix(']')?.parse().ok()?;
    let kind = match kind {
        "targets" => EntryKind::Target,
        "principals" => EntryKind::Principal,
        "engagements" => EntryKind::Engagement,
        "exclusions" => EntryKind::Exclusion,
        _ => return None,
    };
    Some((kind, index))
}

/// The entries whose target, actor or scope is `name`, compared as the matcher compares.
fn entries_naming(allowlist: &Allowlist, name: &str) -> Vec<(EntryKind, usize)> {
    let mut found = Vec::new();
    for (i, entry) in allowlist.targets.iter().enumerate() {
        if entry.target.written == name
            || entry.target.normalized == normalize_target(entry.provider, name)
        {
            found.push((EntryKind::Target, i + 1));
        }
    }
    for (i, entry) in allowlist.principals.iter().enumerate() {
        if entry.actor.normalized == name.to_lowercase() {
            found.push((EntryKind::Principal, i + 1));
        }
    }
    for (i, entry) in allowlist.engagements.iter().enumerate() {
        if entry.actor.normalized == name.to_lowercase() {
            found.push((EntryKind::Engagement, i + 1));
        }
    }
    for (i, entry) in allowlist.exclusions.iter().enumerate() {
        let scope = match &entry.region {
            Some(region) => format!("{}:{region}", entry.account),
            None => entry.account.clone(),
        };
        if scope.eq_ignore_ascii_case(name) {
            found.push((EntryKind::Exclusion, i + 1));
        }
    }
    found
}

/// `allowlist check`: validity (exit 2 with every error), expired entries and entries over
/// the maximum lifetime (exit 1), entries expiring within `within`, and with a saved scan
/// made with this same file, the entries that matched nothing in it.
pub fn check(
    allowlist_path: &Path,
    scan: Option<&Path>,
    within: std::time::Duration,
    now: OffsetDateTime,
    stdout: &mut dyn Write,
) -> Result<u8, CommandError> {
    let allowlist = load_allowlist(&AllowlistSource::File(allowlist_path.to_path_buf()))?;
    let soon = time::Duration::try_from(within)
        .ok()
        .and_then(|d| now.checked_add(d))
        .unwrap_or(OffsetDateTime::new_utc(
            time::Date::MAX,
            time::Time::MIDNIGHT,
        ));
    let max_days = allowlist
        .max_lifetime_days
        .unwrap_or(DEFAULT_MAX_LIFETIME_DAYS);
    let entries: Vec<&EntryMeta> = allowlist.all_entries().map(|(_, meta)| meta).collect();
    let mut expired = Vec::new();
    let mut expiring = Vec::new();
    let mut too_long = Vec::new();
    for meta in &entries {
        let Some((ends_at, _)) = end_of(&allowlist, meta) else {
            continue;
        };
        if ends_at <= now {
            expired.push(*meta);
        } else if ends_at <= soon {
            expiring.push(*meta);
        }
        if over_lifetime(ends_at, now, max_days) {
            too_long.push(*meta);
        }
    }
    let unused = match scan {
        Some(report) => Some(unused_in_scan(&allowlist, report)?),
        None => None,
    };

    let mut out = String::new();
    out.push_str(&format!(
        "{}: valid, {} entr{} ({} targets, {} principals, {} engagements, {} exclusions); max_lifetime_days {max_days}{}\n",
        allowlist_path.display(),
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        allowlist.targets.len(),
        allowlist.principals.len(),
        allowlist.engagements.len(),
        allowlist.exclusions.len(),
        if allowlist.max_lifetime_days.is_some() { "" } else { " (default)" }
    ));
    out.push_str("\nEntries:\n");
    for (meta, what) in described(&allowlist) {
        out.push_str(&format!(
            "  {:<16} line {:<4} {}  expires {}  owner {}  ticket {}\n",
            meta.reference,
            meta.line,
            crate::report::inert(&what),
            meta.expires.as_ref().map_or("-", |e| e.written.as_str()),
            crate::report::inert(&meta.owner),
            crate::report::inert(&meta.ticket)
        ));
    }
    let section = |out: &mut String, title: String, metas: &[&EntryMeta]| {
        if metas.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}:\n"));
        for meta in metas {
            let ends = end_of(&allowlist, meta).map(|(_, written)| written);
            out.push_str(&format!(
                "  {:<16} line {:<4} expires {:<22} owner {}  ticket {}\n",
                meta.reference,
                meta.line,
                ends.as_deref().unwrap_or("-"),
                crate::report::inert(&meta.owner),
                crate::report::inert(&meta.ticket)
            ));
        }
    };
    section(&mut out, "Expired".into(), &expired);
    section(
        &mut out,
        format!("Expiring within {}", human_days(within)),
        &expiring,
    );
    section(
        &mut out,
        format!("Longer than max_lifetime_days ({max_days}) from today"),
        &too_long,
    );
    match &unused {
        Some(Unused::Entries(metas)) => section(
            &mut out,
            format!("Matched nothing in {}", scan.map(Path::display).map(|d| d.to_string()).unwrap_or_default()),
            metas,
        ),
        Some(Unused::OtherAllowlist(sha)) => out.push_str(&format!(
            "\nnote: the scan was made with another version of the allowlist (sha256 {sha}); re-run the scan to see which entries match nothing\n"
        )),
        None => {}
    }
    let code = if expired.is_empty() && too_long.is_empty() {
        0
    } else {
        1
    };
    out.push_str(&format!(
        "\n{} expired, {} expiring within {}, {} over the maximum lifetime{} · exit {code}\n",
        expired.len(),
        expiring.len(),
        human_days(within),
        too_long.len(),
        match &unused {
            Some(Unused::Entries(metas)) => format!(", {} matched nothing", metas.len()),
            _ => String::new(),
        }
    ));
    stdout
        .write_all(out.as_bytes())
        .map_err(|e| CommandError::Io(e.to_string()))?;
    Ok(code)
}

/// Every entry with what it names, in file order per kind (the references `revoke` takes).
fn described(allowlist: &Allowlist) -> Vec<(&EntryMeta, String)> {
    let mut all = Vec::new();
    for e in &allowlist.targets {
        all.push((
            &e.meta,
            format!("{} target {}", e.provider, e.target.written),
        ));
    }
    for e in &allowlist.principals {
        all.push((
            &e.meta,
            format!("{} principal {}", e.provider, e.actor.written),
        ));
    }
    for e in &allowlist.engagements {
        all.push((
            &e.meta,
            format!(
                "engagement {} {} – {}",
                e.actor.written,
                rfc3339(e.starts),
                rfc3339(e.ends)
            ),
        ));
    }
    for e in &allowlist.exclusions {
        let scope = match &e.region {
            Some(region) => format!("{}:{region}", e.account),
            None => e.account.clone(),
        };
        all.push((&e.meta, format!("{} exclusion {scope}", e.provider)));
    }
    all
}

fn human_days(duration: std::time::Duration) -> String {
    let days = duration.as_secs() / 86_400;
    if duration.as_secs().is_multiple_of(86_400) {
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    } else {
        format!("{} h", duration.as_secs() / 3600)
    }
}

enum Unused<'a> {
    Entries(Vec<&'a EntryMeta>),
    /// The scan used another allowlist (its sha256): its references say nothing about this one.
    OtherAllowlist(String),
}

/// The entries no mirror, staged resource, audit event or excluded scope of the report was
/// decided by. Judged only when the report was made with this very file (same sha256).
fn unused_in_scan<'a>(allowlist: &'a Allowlist, report: &Path) -> Result<Unused<'a>, CommandError> {
    let json = read_scan_report(report, "--scan")?;
    let sha = json["allowlist"]["sha256"].as_str().unwrap_or_default();
    if sha != allowlist.sha256 {
        return Ok(Unused::OtherAllowlist(sha.to_string()));
    }
    let mut used = std::collections::BTreeSet::new();
    let mut note = |value: &serde_json::Value| {
        if let Some(entry) = value["entry"].as_str() {
            used.insert(entry.to_string());
        }
    };
    for list in ["mirrors", "staged"] {
        for item in json[list].as_array().into_iter().flatten() {
            note(&item["approved_by"]);
        }
    }
    for event in json["audit"]["events"].as_array().into_iter().flatten() {
        note(&event["sanctioned_by"]);
    }
    // Exclusions are used when the scan reported a scope `excluded` by them.
    for row in json["coverage"].as_array().into_iter().flatten() {
        if row["status"] == "excluded" {
            if let Some(detail) = row["detail"].as_str() {
                for meta in allowlist.exclusions.iter().map(|e| &e.meta) {
                    if detail.contains(&meta.reference) {
                        used.insert(meta.reference.clone());
                    }
                }
            }
        }
    }
    let audited = !json["audit"].is_null();
    let unused = allowlist
        .all_entries()
        .map(|(_, meta)| meta)
        // Principals and engagements decide audit events only: without logs in the scan,
        // nothing can be said of them.
        .filter(|meta| {
            audited
                || meta.reference.starts_with("targets")
                || meta.reference.starts_with("exclusions")
        })
        .filter(|meta| !used.contains(&meta.reference))
        .collect();
    Ok(Unused::Entries(unused))
}
