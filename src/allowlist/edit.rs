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
    /// Something the user should know about a write that succeeded.
    pub warning: Option<String>,
}

/// Adds `entry` at the end of the allowlist at `path`, after a blank line. `check` sees the
/// allowlist as it would be after the edit (and the entry's metadata) and may refuse it;
/// nothing is written then.
pub fn add(
    path: &Path,
    entry: &NewEntry,
    check: impl FnOnce(&Allowlist, &EntryMeta) -> Result<(), String>,
) -> Result<Edit, CommandError> {
    edit(path, move |old, _| {
        refuse_inline(path, &document_of(path, old)?, entry.kind)?;
        let mut table = Table::new();
        for (key, value) in &entry.fields {
            table.insert(key, Item::Value(value.clone()));
        }
        let mut array = ArrayOfTables::new();
        array.push(table);
        let mut rendered = DocumentMut::new();
        rendered.insert(entry.kind.table(), Item::ArrayOfTables(array));
        // Always one line break more, even after a blank line: `remove` takes exactly one
        // away, so approve-then-revoke gives back every byte.
        let separator = if old.is_empty() {
            ""
        } else if old.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        // A file written with CRLF line ends gets its new lines in CRLF too.
        let (separator, rendered) = if old.contains("\r\n") {
            (
                separator.replace('\n', "\r\n"),
                rendered.to_string().replace('\n', "\r\n"),
            )
        } else {
            (separator.to_string(), rendered.to_string())
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

/// Removes entry `index` (1-based) of `kind`: the comment lines directly above its header (no
/// blank line between: they describe the entry), its header, its keys and a comment on its
/// last line, and the blank line before it when the entry ends a block (the one `add`
/// writes), so that an approval followed by its revocation gives back the file byte for byte.
/// A comment block separated from the entry by a blank line is kept: it may head a section.
pub fn remove(
    path: &Path,
    resolve: impl FnOnce(&Allowlist) -> Result<(EntryKind, usize), CommandError>,
) -> Result<Edit, CommandError> {
    edit(path, move |old, before| {
        // Resolved under the lock, against the file as it is now: a concurrent edit cannot
        // shift which entry an index or a name means.
        let (kind, index) = resolve(before)?;
        let reference = format!("{}[{index}]", kind.table());
        let missing = || CommandError::Usage(format!("{}: no entry {reference}", path.display()));
        let removed_key = metas(before, kind)
            .get(index.wrapping_sub(1))
            .map(|meta| meta.key.clone())
            .ok_or_else(missing)?;
        let document = document_of(path, old)?;
        refuse_inline(path, &document, kind)?;
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
        // Never before the header's own decoration (its comments and blank lines): what is
        // earlier belongs to the previous entry, a multi-line string's `#` line included.
        let floor = table
            .decor()
            .prefix()
            .and_then(|prefix| prefix.span())
            .map_or(header.start, |span| span.start)
            .max(bom_length(old));
        let mut start = old[..header.start]
            .rfind('\n')
            .map_or(0, |i| i + 1)
            .max(floor);
        // Comment lines directly above the header (no blank line between) describe the entry
        // and go with it.
        while start > floor {
            let line_start = old[..start - 1].rfind('\n').map_or(0, |i| i + 1).max(floor);
            if !old[line_start..start].trim_start().starts_with('#') {
                break;
            }
            start = line_start;
        }
        let end = old[last_value_end..]
            .find('\n')
            .map_or(old.len(), |i| last_value_end + i + 1);
        // One blank line goes with the entry, in LF or CRLF: the one before it when the
        // entry ends the file or a blank line follows it (blocks stay one blank line apart);
        // none when the next line follows directly, so the block before stays apart from it.
        let before_text = &old[..start];
        let after = &old[end..];
        let ends_block = after.is_empty() || after.starts_with('\n') || after.starts_with("\r\n");
        let start = if !ends_block || start <= floor {
            start
        } else if before_text.ends_with("\n\n") || before_text.ends_with("\r\n\r\n") {
            start - if before_text.ends_with("\r\n") { 2 } else { 1 }
        } else if start - floor == 1 && before_text.ends_with('\n') {
            start - 1
        } else if start - floor == 2 && before_text.ends_with("\r\n") {
            start - 2
        } else {
            start
        };
        let new = format!("{}{}", &old[..start], &old[end..]);
        let mut expected: Vec<String> = before
            .all_entries()
            .map(|(_, meta)| meta.key.clone())
            .collect();
        if let Some(i) = expected.iter().position(|key| *key == removed_key) {
            expected.remove(i);
        }
        expected.sort();
        // The result must hold every other entry, unchanged, and not this one: anything else
        // is a cut in the wrong place, refused rather than written.
        let verify: Verify = Box::new(move |after: &Allowlist| {
            let mut left: Vec<String> = after
                .all_entries()
                .map(|(_, meta)| meta.key.clone())
                .collect();
            left.sort();
            if left == expected {
                Ok(reference)
            } else {
                Err(format!(
                    "removing {reference} would change other entries (internal error); edit the file by hand"
                ))
            }
        });
        Ok((new, verify))
    })
}

/// Entries written as an inline array (`targets = [{…}]`) are valid but not edited by the
/// tool: it cuts and appends `[[targets]]` blocks only.
fn refuse_inline(
    path: &Path,
    document: &toml_edit::Document<&str>,
    kind: EntryKind,
) -> Result<(), CommandError> {
    if document.get(kind.table()).is_some_and(Item::is_value) {
        return Err(CommandError::Usage(format!(
            "{}: `{}` is written as an inline array; mirrorguard edits [[{}]] blocks only, so edit this file by hand (or rewrite the array as [[{}]] blocks)",
            path.display(),
            kind.table(),
            kind.table(),
            kind.table()
        )));
    }
    Ok(())
}

/// The file's document with spans (it has passed the allowlist checker, so it parses).
fn document_of<'t>(
    path: &Path,
    text: &'t str,
) -> Result<toml_edit::Document<&'t str>, CommandError> {
    toml_edit::Document::parse(text)
        .map_err(|e| CommandError::Usage(format!("{}: {e}", path.display())))
}

/// The UTF-8 byte-order mark at the start of the text, if any: never cut.
fn bom_length(text: &str) -> usize {
    if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    }
}

/// What an edit checks once the new text parses: its verdict on the result, and the reference
/// the report names.
type Verify<'a> = Box<dyn FnOnce(&Allowlist) -> Result<String, String> + 'a>;

fn edit<'a>(
    path: &Path,
    change: impl FnOnce(&str, &Allowlist) -> Result<(String, Verify<'a>), CommandError>,
) -> Result<Edit, CommandError> {
    // A symlinked allowlist (a shared checkout, a config-management link) is edited where it
    // really is: renaming over the link would replace it with a copy.
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let _lock = lock(&real)?;
    let old = read(path)?;
    // A file that is already invalid is not edited: the user must see and fix its errors, not
    // have a tool write around them.
    let before = parse(path, &old).map_err(CommandError::Allowlist)?;
    let (new, verify) = change(&old, &before)?;
    let allowlist = parse(path, &new).map_err(|errors| {
        CommandError::Usage(format!(
            "refused, {} is unchanged — the edit would make it invalid:\n{errors}",
            path.display()
        ))
    })?;
    let reference = verify(&allowlist).map_err(|why| {
        CommandError::Usage(format!("refused, {} is unchanged: {why}", path.display()))
    })?;
    let warning = write_atomically(&real, &new)?;
    Ok(Edit {
        reference,
        diff: unified_diff(path, &old, &new),
        warning,
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
    // Opened for writing to create it; an existing one someone else created (0644 in a team
    // directory) is locked through a read-only handle, which flock allows.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .or_else(|_| std::fs::File::open(&lock_path))
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
fn write_atomically(path: &Path, text: &str) -> Result<Option<String>, CommandError> {
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
        // Keep the allowlist's mode: a new file would be 0600, unreadable to the scans of
        // everyone else. (Owner and group are the editor's, as with any editor's save.)
        temporary
            .as_file()
            .set_permissions(metadata.permissions())
            .map_err(|e| io("cannot keep the permissions of", e))?;
    }
    fault("synced")?;
    temporary
        .persist(path)
        .map_err(|e| io("cannot replace", e.error))?;
    fault("renamed")?;
    // The new file is in place; a directory that cannot be synced only makes the rename less
    // durable across a power cut, which is said, not turned into a failure.
    match std::fs::File::open(&directory).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(None),
        Err(e) => Ok(Some(format!(
            "written, but the directory {} could not be synced ({e}): a power cut now could undo the edit",
            directory.display()
        ))),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0a1b2c3d4e5f60718\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-31\n";

    fn new_entry() -> NewEntry {
        let date: toml_edit::Datetime = "2027-01-31".parse().expect("date");
        NewEntry {
            kind: EntryKind::Target,
            fields: vec![
                ("provider", Value::from("aws")),
                ("target", Value::from("eni-0a1b2c3d4e5f60718")),
                ("owner", Value::from("o")),
                ("ticket", Value::from("t")),
                ("reason", Value::from("r")),
                ("expires", Value::from(date)),
            ],
        }
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("allowlist.toml");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    fn text(path: &Path) -> String {
        std::fs::read_to_string(path).expect("read")
    }

    #[test]
    fn add_then_remove_is_the_identity_whatever_the_file_looks_like() {
        for original in [
            "",
            "# only a comment\n",
            "# no newline at the end",
            "[settings]\nmax_lifetime_days = 365\n",
            "[settings]\r\nmax_lifetime_days = 365\r\n",
            "# ends with a blank line\n\n",
        ] {
            let (_dir, path) = file(original);
            let added = add(&path, &new_entry(), |_, _| Ok(())).expect("added");
            assert_eq!(added.reference, "targets[1]");
            let with = text(&path);
            assert!(with.starts_with(original), "{original:?} → {with:?}");
            assert!(with.replace("\r\n", "\n").ends_with(ENTRY), "{with:?}");
            if original.contains("\r\n") {
                assert!(
                    !with.replace("\r\n", "").contains('\n'),
                    "mixed line ends: {with:?}"
                );
            }
            remove(&path, |_| Ok((EntryKind::Target, 1))).expect("removed");
            let back = text(&path);
            // A file without a final newline gets one: the only byte an edit may add.
            if original.ends_with('\n') || original.is_empty() {
                assert_eq!(back, original);
            } else {
                assert_eq!(back, format!("{original}\n"));
            }
        }
    }

    #[test]
    fn remove_cuts_exactly_one_entry_and_its_own_comments() {
        let original = "\
# header of the file

# --- AWS ---

# the IDS
[[targets]]
provider = \"aws\"
target = \"eni-0fee1dead00000a01\"
regions = [
  \"us-east-1\",   # a multi-line array
]
owner = \"o\"
ticket = \"t\"
reason = \"r\"   # a comment on a key line
expires = 2027-01-31   # the last key's comment
# a comment about the next entry
[[targets]]
provider = \"aws\"
target = \"eni-0a1b2c3d4e5f60718\"
owner = \"o\"
ticket = \"t\"
reason = \"r\"
expires = 2027-01-31
";
        let (_dir, path) = file(original);
        remove(&path, |_| Ok((EntryKind::Target, 1))).expect("removed");
        assert_eq!(
            text(&path),
            "# header of the file\n\n# --- AWS ---\n\n# a comment about the next entry\n[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0a1b2c3d4e5f60718\"\nowner = \"o\"\nticket = \"t\"\nreason = \"r\"\nexpires = 2027-01-31\n"
        );
        // The last entry, the only one left, with its comment.
        remove(&path, |_| Ok((EntryKind::Target, 1))).expect("removed");
        assert_eq!(text(&path), "# header of the file\n\n# --- AWS ---\n");
        assert!(remove(&path, |_| Ok((EntryKind::Target, 1))).is_err());
        let (_dir, path) = file(ENTRY);
        remove(&path, |_| Ok((EntryKind::Target, 1))).expect("removed");
        assert_eq!(text(&path), "");
    }

    #[test]
    fn remove_never_cuts_into_the_previous_entry_or_a_byte_order_mark() {
        // The previous entry's multi-line reason has a line starting with `#`: it is string
        // content, not a comment above the next entry.
        let original = format!(
            "[[targets]]\nprovider = \"aws\"\ntarget = \"eni-0fee1dead00000a01\"\nowner = \"o\"\nticket = \"t\"\nreason = \"\"\"approved in\n#SEC-1234\"\"\"\nexpires = 2027-01-31\n{ENTRY}"
        );
        let (_dir, path) = file(&original);
        remove(&path, |_| Ok((EntryKind::Target, 2))).expect("removed");
        assert_eq!(text(&path), original.strip_suffix(ENTRY).expect("suffix"));
        // A BOM before the first entry stays.
        let (_dir, path) = file(&format!("\u{feff}{ENTRY}"));
        remove(&path, |_| Ok((EntryKind::Target, 1))).expect("removed");
        assert_eq!(text(&path), "\u{feff}");
    }

    #[test]
    fn entries_written_inline_are_refused_not_mangled() {
        let inline = "targets = [{ provider = \"aws\", target = \"eni-0fee1dead00000a01\", owner = \"o\", ticket = \"t\", reason = \"r\", expires = 2027-01-31 }]\n";
        let (_dir, path) = file(inline);
        let added = add(&path, &new_entry(), |_, _| Ok(()));
        assert!(
            matches!(&added, Err(CommandError::Usage(m)) if m.contains("inline array")),
            "{added:?}"
        );
        let removed = remove(&path, |_| Ok((EntryKind::Target, 1)));
        assert!(
            matches!(&removed, Err(CommandError::Usage(m)) if m.contains("inline array")),
            "{removed:?}"
        );
        assert_eq!(text(&path), inline);
    }

    #[test]
    fn a_refused_edit_writes_nothing_and_a_symlink_stays_a_symlink() {
        let (dir, path) = file("[settings]\nmax_lifetime_days = 365\n");
        let refused = add(&path, &new_entry(), |_, _| Err("no".into()));
        assert!(refused.is_err());
        assert_eq!(text(&path), "[settings]\nmax_lifetime_days = 365\n");
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        add(&link, &new_entry(), |_, _| Ok(())).expect("added through the link");
        assert!(std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink());
        assert!(text(&path).ends_with(ENTRY));
    }
}
