//! Safe edits of `allowlist.toml` (`approve`, `revoke`): one entry added or removed, the rest of
//! the file kept byte for byte, the result validated before it is written, and the write
//! atomic and serialised.
//!
//! Every edit goes the same way: take an advisory lock (`flock`) on a lock file next to the
//! allowlist — a lock, not an exclusive-create marker, so a crashed edit leaves nothing that
//! blocks the next one; read the file; edit its text — an entry rendered by toml_edit appended
//! at the end, or one entry's lines cut out at the spans toml_edit reports — so every other
//! byte stays as it was; parse the new text with the same checker `scan` uses (so a duplicate, a
//! malformed id or a bad date is refused exactly as it would be at scan time); write it to a
//! temporary file in the same directory, fsync it, rename it over the allowlist and fsync the
//! directory. A crash at any point leaves the old file or the new one, never a mix.

use super::{parse, Allowlist, EntryMeta};
use crate::scan::CommandError;
use std::io::Write;
use std::path::{Path, PathBuf};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

/// The entry kinds: `approve` writes the first three, `revoke` removes any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Target,
    Principal,
    Engagement,
    Exclusion,
}

impl EntryKind {
    pub fn table(self) -> &'static str {
        match self {
            EntryKind::Target => "targets",
            EntryKind::Principal => "principals",
            EntryKind::Engagement => "engagements",
            EntryKind::Exclusion => "exclusions",
        }
    }
}

/// A new entry: its kind and its keys, in the order they are written.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub kind: EntryKind,
    pub fields: Vec<(&'static str, Value)>,
}

/// What an edit did: the entry's reference (`targets[3]`) and the change as a unified diff.
#[derive(Debug, Clone)]
pub struct Edit {
    pub reference: String,
    pub diff: String,
}

/// Adds `entry` at the end of the allowlist at `path`, after one blank line. `check` sees the
/// allowlist as it would be after the edit (and the entry's metadata) and may refuse it;
/// nothing is written then.
pub fn add(
    path: &Path,
    entry: &NewEntry,
    check: impl FnOnce(&Allowlist, &EntryMeta) -> Result<(), String>,
) -> Result<Edit, CommandError> {
    edit(path, move |old| {
        let mut table = Table::new();
        for (key, value) in &entry.fields {
            table.insert(key, Item::Value(value.clone()));
        }
        let mut array = ArrayOfTables::new();
        array.push(table);
        let mut rendered = DocumentMut::new();
        rendered.insert(entry.kind.table(), Item::ArrayOfTables(array));
        let separator = if old.is_empty() || old.ends_with("\n\n") {
            ""
        } else if old.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        let new = format!("{old}{separator}{rendered}");
        let verify: Verify = Box::new(move |allowlist: &Allowlist| {
            let metas = metas(allowlist, entry.kind);
            let meta = metas
                .last()
                .ok_or_else(|| "the new entry is not in the result (internal error)".to_string())?;
            check(allowlist, meta)?;
            Ok(meta.reference.clone())
        });
        Ok((new, verify))
    })
}

/// Removes entry `index` (1-based) of `kind`: its header, its keys and a comment on its last
/// line, and the blank line before it when there is one (the one `add` writes), so that an
/// approval followed by its revocation gives back the file byte for byte. Comments above the
/// entry are kept: they may head a section rather than the entry.
pub fn remove(path: &Path, kind: EntryKind, index: usize) -> Result<Edit, CommandError> {
    edit(path, move |old| {
        let reference = format!("{}[{index}]", kind.table());
        let missing = || CommandError::Usage(format!("{}: no entry {reference}", path.display()));
        let document = toml_edit::Document::parse(old)
            .map_err(|e| CommandError::Usage(format!("{}: {e}", path.display())))?;
        let array = document
            .get(kind.table())
            .and_then(Item::as_array_of_tables)
            .ok_or_else(missing)?;
        let table = index
            .checked_sub(1)
            .and_then(|i| array.get(i))
            .ok_or_else(missing)?;
        let header = table.span().ok_or_else(missing)?;
        let last_value_end = table
            .iter()
            .filter_map(|(key, _)| table.get_key_value(key))
            .filter_map(|(_, item)| item.span())
            .map(|span| span.end)
            .max()
            .unwrap_or(header.end);
        let start = old[..header.start].rfind('\n').map_or(0, |i| i + 1);
        let end = old[last_value_end..]
            .find('\n')
            .map_or(old.len(), |i| last_value_end + i + 1);
        let start = if old[..start].ends_with("\n\n") || (start == 1 && old.starts_with('\n')) {
            start - 1
        } else {
            start
        };
        let new = format!("{}{}", &old[..start], &old[end..]);
        let verify: Verify = Box::new(move |_: &Allowlist| Ok(reference));
        Ok((new, verify))
    })
}

/// What an edit checks once the new text parses: its verdict on the result, and the reference
/// the report names.
type Verify<'a> = Box<dyn FnOnce(&Allowlist) -> Result<String, String> + 'a>;

fn edit<'a>(
    path: &Path,
    change: impl FnOnce(&str) -> Result<(String, Verify<'a>), CommandError>,
) -> Result<Edit, CommandError> {
    let _lock = lock(path)?;
    let old = read(path)?;
    // A file that is already invalid is not edited: the user must see and fix its errors, not
    // have a tool write around them.
    parse(path, &old).map_err(CommandError::Allowlist)?;
    let (new, verify) = change(&old)?;
    let allowlist = parse(path, &new).map_err(|errors| {
        CommandError::Usage(format!(
            "refused, {} is unchanged — the edit would make it invalid:\n{errors}",
            path.display()
        ))
    })?;
    let reference = verify(&allowlist).map_err(|why| {
        CommandError::Usage(format!("refused, {} is unchanged: {why}", path.display()))
    })?;
    write_atomically(path, &new)?;
    Ok(Edit {
        reference,
        diff: unified_diff(path, &old, &new),
    })
}

/// The metadata of every entry of `kind`, in file order.
fn metas(allowlist: &Allowlist, kind: EntryKind) -> Vec<&EntryMeta> {
    match kind {
        EntryKind::Target => allowlist.targets.iter().map(|e| &e.meta).collect(),
        EntryKind::Principal => allowlist.principals.iter().map(|e| &e.meta).collect(),
        EntryKind::Engagement => allowlist.engagements.iter().map(|e| &e.meta).collect(),
        EntryKind::Exclusion => allowlist.exclusions.iter().map(|e| &e.meta).collect(),
    }
}

fn read(path: &Path) -> Result<String, CommandError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| CommandError::Io(format!("{}: not valid UTF-8", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(CommandError::Io(format!(
            "allowlist {} not found; create one with `mirrorguard allowlist init --path {}` or pass --allowlist PATH",
            path.display(),
            path.display()
        ))),
        Err(e) => Err(CommandError::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

/// `.allowlist.toml.lock` next to the allowlist, locked exclusively until dropped. The lock
/// file stays (it is never the signal; the kernel's lock is), so a crash leaves nothing stale.
fn lock(path: &Path) -> Result<std::fs::File, CommandError> {
    let lock_path = sibling(path, ".", ".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            CommandError::Io(format!(
                "cannot open lock file {}: {e}",
                lock_path.display()
            ))
        })?;
    file.lock()
        .map_err(|e| CommandError::Io(format!("cannot lock {}: {e}", lock_path.display())))?;
    Ok(file)
}

/// `dir/<prefix><name><suffix>` for the file `dir/<name>`.
fn sibling(path: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "allowlist.toml".into());
    directory_of(path).join(format!("{prefix}{name}{suffix}"))
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Temporary file in the same directory (a rename within one file system is atomic), fsync,
/// rename over the allowlist, fsync the directory so the rename itself is durable.
fn write_atomically(path: &Path, text: &str) -> Result<(), CommandError> {
    let io =
        |what: &str, e: std::io::Error| CommandError::Io(format!("{what} {}: {e}", path.display()));
    let directory = directory_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&directory)
        .map_err(|e| io("cannot create a temporary file next to", e))?;
    fault("before-write")?;
    temporary
        .write_all(text.as_bytes())
        .map_err(|e| io("cannot write the new version of", e))?;
    fault("written")?;
    temporary
        .as_file()
        .sync_all()
        .map_err(|e| io("cannot sync the new version of", e))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        // Keep the allowlist's mode (a file only its team may write stays that way).
        let _ = temporary.as_file().set_permissions(metadata.permissions());
    }
    fault("synced")?;
    temporary
        .persist(path)
        .map_err(|e| io("cannot replace", e.error))?;
    fault("renamed")?;
    if let Ok(directory) = std::fs::File::open(&directory) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// Test-only fault injection (debug builds): `MIRRORGUARD_TEST_FAULT=abort-at:STEP` kills the
/// process at STEP, as a crash or `kill -9` would; `error-at:STEP` fails the write there with
/// an I/O error (steps before the rename only). Release builds compile it out.
fn fault(step: &str) -> Result<(), CommandError> {
    if cfg!(debug_assertions) {
        if let Ok(fault) = std::env::var("MIRRORGUARD_TEST_FAULT") {
            if fault.strip_prefix("abort-at:") == Some(step) {
                std::process::abort();
            }
            if fault.strip_prefix("error-at:") == Some(step) && step != "renamed" {
                return Err(CommandError::Io(format!(
                    "injected I/O error at {step}; the allowlist is unchanged"
                )));
            }
        }
    }
    Ok(())
}

/// The change as a unified diff with three lines of context.
fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string()
}
