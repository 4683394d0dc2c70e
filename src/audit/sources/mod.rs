//! Log sources: reading every input (files, directories, stdin; plain or gzip), splitting it
//! into records, telling its format, and mapping the records that could matter into
//! provider-neutral [`Observed`] calls.
//!
//! Every byte goes through the structural scan in [`split`]; only records that mention a
//! mirroring word (a fast case-insensitive substring search) are deserialised and handed to
//! the mapper of their format. One module per log format: [`cloudtrail`] (S3 delivery files,
//! NDJSON, LookupEvents / CloudTrail Lake), [`gcp`] (Cloud Audit Logs LogEntry), [`azure`]
//! (Activity Log REST and diagnostic-settings shapes), [`udm`] (Chronicle UDM).

pub mod azure;
pub mod cloudtrail;
pub mod gcp;
#[cfg(test)]
mod properties;
pub mod split;
pub mod udm;

use super::{Location, Observed};
use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The log formats mirrorguard reads, as `inputs[].format` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// CloudTrail records (`{"Records":[…]}` delivery files or one record per line).
    Cloudtrail,
    /// LookupEvents / CloudTrail Lake: each event a JSON string in `CloudTrailEvent`.
    CloudtrailLookup,
    /// GCP Cloud Audit Logs LogEntry (`gcloud logging read --format=json`, sink NDJSON).
    GcpAudit,
    /// Azure Activity Log, REST shape (`{"value":[…]}`, `operationName.value`).
    AzureActivity,
    /// Azure Activity Log, diagnostic-settings export shape (`operationName` a string).
    AzureDiagnostic,
    /// Chronicle UDM events.
    Udm,
    /// A CloudTrail digest file (`CloudTrail-Digest/`, next to the logs in the bucket): hashes
    /// of log files, no events; read and skipped.
    CloudtrailDigest,
    /// CloudTrail Insights events (`CloudTrail-Insight/` in the bucket): statistics about call
    /// rates, not calls; read and skipped.
    CloudtrailInsight,
    /// Nothing recognisable.
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Cloudtrail => "cloudtrail",
            Format::CloudtrailLookup => "cloudtrail-lookup",
            Format::GcpAudit => "gcp-audit",
            Format::AzureActivity => "azure-activity",
            Format::AzureDiagnostic => "azure-diagnostic",
            Format::Udm => "udm",
            Format::CloudtrailDigest => "cloudtrail-digest",
            Format::CloudtrailInsight => "cloudtrail-insight",
            Format::Unknown => "unknown",
        }
    }

    /// The format of one parsed record, from the keys only that format has.
    pub fn of_record(record: &Value) -> Format {
        let Some(object) = record.as_object() else {
            return Format::Unknown;
        };
        let has = |key: &str| object.contains_key(key);
        if has("digestStartTime") && has("logFiles") {
            Format::CloudtrailDigest
        } else if has("insightDetails")
            || record.get("eventType").and_then(Value::as_str) == Some("AwsCloudTrailInsight")
        {
            Format::CloudtrailInsight
        } else if has("CloudTrailEvent") {
            Format::CloudtrailLookup
        } else if has("eventSource") && has("eventName") {
            Format::Cloudtrail
        } else if has("protoPayload") || (has("logName") && has("insertId")) {
            Format::GcpAudit
        } else if has("metadata")
            && record.get("metadata").is_some_and(|m| {
                m.get("product_event_type").is_some() || m.get("event_type").is_some()
            })
        {
            Format::Udm
        } else if record.get("operationName").is_some_and(Value::is_object)
            || (has("eventDataId") && has("eventTimestamp"))
        {
            Format::AzureActivity
        } else if record.get("operationName").is_some_and(Value::is_string)
            && (has("resultType") || has("time") || has("resourceId"))
        {
            Format::AzureDiagnostic
        } else {
            Format::Unknown
        }
    }

    /// Maps a record of this format into the call it describes; `None` when the record is not
    /// one this format's mapper understands (wrong shape, missing the operation name).
    pub fn observe(self, record: &Value, location: &Location) -> Option<Observed> {
        match self {
            Format::Cloudtrail => cloudtrail::observe(record, location),
            Format::CloudtrailLookup => cloudtrail::observe_lookup(record, location),
            Format::GcpAudit => gcp::observe(record, location),
            Format::AzureActivity => azure::observe_rest(record, location),
            Format::AzureDiagnostic => azure::observe_diagnostic(record, location),
            Format::Udm => udm::observe(record, location),
            Format::CloudtrailDigest | Format::CloudtrailInsight | Format::Unknown => None,
        }
    }

    /// Why a record of this format that mentions mirroring, yet that its mapper returned
    /// nothing for, is lost input; `None` when such a record is legitimately no call (a GCP
    /// entry with no audit payload, a request log, is not an audit record).
    fn unreadable_candidate(self, record: &Value) -> Option<String> {
        let what = match self {
            Format::Cloudtrail => "a CloudTrail record without eventName",
            Format::CloudtrailLookup => "a CloudTrailEvent that is not a CloudTrail record",
            Format::GcpAudit if at(record, &["protoPayload"]).is_some() => {
                "an audit entry without protoPayload.methodName"
            }
            Format::GcpAudit | Format::CloudtrailDigest | Format::CloudtrailInsight => return None,
            Format::AzureActivity | Format::AzureDiagnostic => {
                "an Activity Log record without operationName"
            }
            Format::Udm => "a UDM event without metadata.product_event_type or event_type",
            Format::Unknown => "a record of no format mirrorguard reads",
        };
        Some(format!("{what}; it mentions mirroring and was not checked"))
    }
}

/// The string at `path` inside `value` (object keys only).
pub(crate) fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path)?.as_str()
}

/// The value at `path` inside `value` (object keys only); JSON `null` counts as absent.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut current = value;
    for key in path {
        current = current.get(key)?;
    }
    (!current.is_null()).then_some(current)
}

/// A log timestamp: RFC 3339 with any fraction and offset (`2026-11-10T09:14:03Z`,
/// `2026-11-10T09:14:03.1234567+00:00`), in UTC.
pub(crate) fn timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
}

/// Records of an input parsed before its format is decided as unknown.
const UNDECIDED_RECORDS: u64 = 1_000;

/// At most this many malformed records are listed per input (all are counted).
pub const MALFORMED_LISTED: usize = 20;

/// The words at least one of which every record either rule can match contains, compared
/// case-insensitively: every catalogue name and every pattern of the original rule holds one.
/// A record without any is not deserialised at all.
const CANDIDATE_WORDS: [&str; 6] = [
    "trafficmirror",
    "packetmirroring",
    "virtualnetworktap",
    "tapconfiguration",
    // The original rule folds case as RE2 does, where the Kelvin sign is a `k`.
    "pac\u{212A}etmirroring",
    "virtualnetwor\u{212A}tap",
];

/// What reading one input found.
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    pub path: String,
    pub format: Format,
    /// Well-formed records read (duplicates included).
    pub records: u64,
    /// Records that matched the rule (filled in once the rule has run).
    pub matched: u64,
    pub malformed: u64,
    /// The first [`MALFORMED_LISTED`] malformed records: where, and why.
    pub malformed_records: Vec<split::Malformed>,
    /// The input ended early (a cut gzip stream, a JSON document that stops mid-record).
    pub truncated: bool,
    /// Why nothing at all could be read from the input (unopenable, not a JSON log, cut
    /// before its first record).
    pub error: Option<String>,
    /// Why reading stopped before the end after some records were read.
    pub stopped: Option<String>,
}

impl InputSummary {
    fn new(path: String) -> InputSummary {
        InputSummary {
            path,
            format: Format::Unknown,
            records: 0,
            matched: 0,
            malformed: 0,
            malformed_records: Vec::new(),
            truncated: false,
            error: None,
            stopped: None,
        }
    }

    /// Input was lost: a record, or the rest of the input, could not be read.
    pub fn lost_input(&self) -> bool {
        self.malformed > 0 || self.truncated || self.error.is_some() || self.stopped.is_some()
    }

    fn note_malformed(&mut self, malformed: split::Malformed) {
        self.malformed += 1;
        if self.malformed_records.len() < MALFORMED_LISTED {
            self.malformed_records.push(malformed);
        }
    }
}

/// Malformed records of one input while it is read: all counted, the first few kept.
#[derive(Default)]
struct Malformations {
    count: u64,
    listed: Vec<split::Malformed>,
}

impl Malformations {
    fn note(&mut self, malformed: split::Malformed) {
        self.count += 1;
        if self.listed.len() < MALFORMED_LISTED {
            self.listed.push(malformed);
        }
    }
}

/// One input as the user named it: a file, or `-` for standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPath {
    File(std::path::PathBuf),
    Stdin,
    /// Logs compiled into the binary (the demo's), under the name reports show.
    Embedded {
        name: &'static str,
        bytes: &'static [u8],
    },
}

impl InputPath {
    pub fn display(&self) -> String {
        match self {
            InputPath::File(path) => path.display().to_string(),
            InputPath::Stdin => "-".to_string(),
            InputPath::Embedded { name, .. } => name.to_string(),
        }
    }
}

/// Every path the user named exists (or is `-`): a path that does not is a typo, refused
/// before anything is read, rather than a lost input reported after a whole run.
pub fn check_exist(paths: &[String]) -> Result<(), String> {
    let missing: Vec<&str> = paths
        .iter()
        .filter(|p| *p != "-")
        .filter(|p| std::fs::metadata(p).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound))
        .map(String::as_str)
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(format!("{one}: no such file or directory")),
        many => Err(format!("no such files or directories: {}", many.join(", "))),
    }
}

/// Expands the user's paths: files as given, directories walked recursively (in name order,
/// hidden files and directories skipped), `-` as standard input. Paths that cannot be walked
/// come back as inputs with an error, so they are reported rather than dropped.
pub fn expand(paths: &[String]) -> (Vec<InputPath>, Vec<InputSummary>) {
    let mut inputs = Vec::new();
    let mut unreadable = Vec::new();
    for path in paths {
        if path == "-" {
            inputs.push(InputPath::Stdin);
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    inputs.push(InputPath::File(entry.into_path()))
                }
                Ok(_) => {}
                Err(e) => {
                    let at = e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| path.clone());
                    let mut summary = InputSummary::new(at);
                    summary.error = Some(match e.io_error() {
                        Some(io) => io.to_string(),
                        None => e.to_string(),
                    });
                    unreadable.push(summary);
                }
            }
        }
    }
    (inputs, unreadable)
}

/// What reading one input gives: its summary and the calls its candidate records describe.
pub type InputRead = (InputSummary, Vec<Observed>);

/// Reads every input, on up to `workers` threads, and returns what each held with the calls
/// its candidate records describe, in input order.
pub fn read_all(inputs: &[InputPath], workers: usize) -> Vec<InputRead> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<InputRead>>> =
        inputs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let workers = workers.clamp(1, inputs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(input) = inputs.get(i) else {
                    break;
                };
                // A bug in a mapper must cost its input, reported, not the whole run.
                let read = std::panic::catch_unwind(|| read_input(input)).unwrap_or_else(|_| {
                    let mut summary = InputSummary::new(input.display());
                    summary.error =
                        Some("mirrorguard failed reading this input (an internal error)".into());
                    (summary, Vec::new())
                });
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(read);
                }
            });
        }
    });
    results
        .into_iter()
        .zip(inputs)
        .map(|(slot, input)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                let mut summary = InputSummary::new(input.display());
                summary.error = Some("the reader of this input stopped unexpectedly".into());
                (summary, Vec::new())
            })
        })
        .collect()
}

/// Reads one input.
pub fn read_input(input: &InputPath) -> InputRead {
    let mut summary = InputSummary::new(input.display());
    let reader: Box<dyn std::io::Read> = match input {
        InputPath::Stdin => Box::new(std::io::stdin().lock()),
        InputPath::Embedded { bytes, .. } => Box::new(*bytes),
        InputPath::File(path) => match std::fs::File::open(path) {
            Ok(file) => Box::new(file),
            Err(e) => {
                summary.error = Some(format!("cannot open: {e}"));
                return (summary, Vec::new());
            }
        },
    };
    let observed = read_stream(reader, &mut summary);
    (summary, observed)
}

/// Reads one stream (gzip detected by its magic bytes) into `summary`, returning the calls
/// its candidate records describe.
pub fn read_stream(reader: impl std::io::Read, summary: &mut InputSummary) -> Vec<Observed> {
    use std::io::{BufRead, BufReader};
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    let gzip = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            summary.error = Some(format!("cannot read: {e}"));
            return Vec::new();
        }
    };
    if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        split_records(decoder, summary)
    } else {
        split_records(buffered, summary)
    }
}

/// The prefilter over [`CANDIDATE_WORDS`], built once for every input of the run.
fn candidate_finder() -> &'static aho_corasick::AhoCorasick {
    static FINDER: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    FINDER.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(CANDIDATE_WORDS)
            .expect("fixed patterns build")
    })
}

fn split_records(reader: impl std::io::Read, summary: &mut InputSummary) -> Vec<Observed> {
    let finder = candidate_finder();
    let mut observed = Vec::new();
    // The first record of a known format tells the input's format; until one has been read,
    // every record is parsed (a header object, a damaged first line, do not decide it).
    let mut format_known = false;
    // Shared by the two callbacks: the malformed records, counted and the first few kept.
    let malformed = std::cell::RefCell::new(Malformations::default());
    let path = summary.path.clone();
    let records = std::cell::Cell::new(0u64);
    let mut format_of_input = Format::Unknown;
    let result = split::Splitter::new(reader).run(
        &mut |record| {
            let candidate = finder.is_match(record.bytes);
            if !candidate && format_known {
                records.set(records.get() + 1);
                return;
            }
            let value: Value = match serde_json::from_slice(record.bytes) {
                Ok(value) => value,
                Err(e) => {
                    malformed.borrow_mut().note(split::Malformed {
                        line: record.line,
                        reason: format!("not valid JSON: {e}"),
                    });
                    return;
                }
            };
            records.set(records.get() + 1);
            let format = Format::of_record(&value);
            if !format_known && format != Format::Unknown {
                format_known = true;
                format_of_input = format;
            }
            // A large JSON file of no known shape is not parsed to its end: after this many
            // records it is decided (unknown, an input error) and only candidates are parsed.
            if !format_known && records.get() >= UNDECIDED_RECORDS {
                format_known = true;
            }
            if !candidate {
                return;
            }
            let location = Location {
                path: path.clone(),
                record: records.get(),
                line: record.line,
            };
            let format = if format == Format::Unknown {
                format_of_input
            } else {
                format
            };
            match format.observe(&value, &location) {
                Some(call) => observed.push(call),
                None => {
                    // It mentions mirroring, so it could be the change that matters: a record
                    // its format's mapper cannot read is lost input, not a quiet skip.
                    if let Some(reason) = format.unreadable_candidate(&value) {
                        malformed.borrow_mut().note(split::Malformed {
                            line: record.line,
                            reason,
                        });
                    }
                }
            }
        },
        &mut |bad| malformed.borrow_mut().note(bad),
    );
    let malformed = malformed.into_inner();
    summary.records = records.get();
    summary.format = format_of_input;
    let starts_as_text = malformed
        .listed
        .first()
        .is_some_and(|m| m.line == 1 && m.reason == split::NOT_JSON);
    if malformed.count > 0
        && (summary.records == 0 || (starts_as_text && malformed.count > summary.records))
    {
        // Not JSON, or text with a JSON line in it (a README quoting a record): not a log this
        // tool reads, reported as such rather than as bad lines — and its quoted records are
        // not taken for events.
        let first = malformed.listed.first();
        summary.error = Some(format!(
            "not a JSON log (line {}: {}); mirrorguard reads CloudTrail, GCP audit, Azure Activity Log and Chronicle UDM JSON",
            first.map_or(1, |m| m.line),
            first.map_or("", |m| m.reason.as_str())
        ));
        summary.records = 0;
        summary.format = Format::Unknown;
        return Vec::new();
    }
    if summary.records > 0 && format_of_input == Format::Unknown {
        // JSON, but of no shape mirrorguard knows: reading it as "no changes" would report a
        // blind spot as clean.
        summary.error = Some(
            "JSON records of no format mirrorguard reads (CloudTrail, GCP audit, Azure Activity Log, Chronicle UDM); none of them was checked".to_string(),
        );
        return Vec::new();
    }
    summary.malformed = malformed.count;
    summary.malformed_records = malformed.listed;

    let stopped = match result {
        Ok(()) => None,
        Err(split::Stop::Truncated { line }) => {
            summary.truncated = true;
            Some(format!("the input ends inside a record (line {line})"))
        }
        Err(split::Stop::Corrupt(bad)) => {
            let why = format!(
                "line {}: {}; the rest of the input cannot be read",
                bad.line, bad.reason
            );
            summary.note_malformed(bad);
            Some(why)
        }
        Err(split::Stop::Io(e)) => {
            let cut = matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidInput
            );
            summary.truncated |= cut;
            Some(if cut {
                format!("the compressed stream ends early ({e})")
            } else {
                format!("read error: {e}")
            })
        }
    };
    match stopped {
        Some(why) if summary.records == 0 => summary.error = Some(why),
        why => summary.stopped = why,
    }
    observed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (InputSummary, Vec<Observed>) {
        let mut summary = InputSummary::new("test".into());
        let observed = read_stream(text.as_bytes(), &mut summary);
        (summary, observed)
    }

    const SESSION: &str = r#"{"eventSource":"ec2.amazonaws.com","eventName":"CreateTrafficMirrorSession","eventTime":"2026-11-12T01:00:00Z","eventID":"e1"}"#;

    #[test]
    fn the_first_record_of_a_known_format_decides_the_input() {
        // A header object, then CloudTrail lines: the file is CloudTrail, the write is seen.
        let (summary, observed) = read(&format!("{{\"exported\":\"2026-11-12\"}}\n{SESSION}\n"));
        assert_eq!(summary.format, Format::Cloudtrail);
        assert_eq!((summary.records, summary.malformed), (2, 0));
        assert!(summary.error.is_none(), "{:?}", summary.error);
        assert_eq!(observed.len(), 1);
        // Nothing but unknown JSON: an error, never "no changes".
        let (summary, observed) = read("{\"a\":1}\n{\"b\":\"trafficmirror\"}\n");
        assert!(summary.error.is_some() && summary.lost_input());
        assert!(observed.is_empty());
        // Nothing JSON at all.
        let (summary, _) = read("Dec  4 07:00:00 host sshd[1]: hello\nmore text\n");
        assert!(summary
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("not a JSON log")));
        assert_eq!(summary.records, 0);
    }

    #[test]
    fn skipped_shapes_text_with_a_quoted_record_and_the_kelvin_sign() {
        // CloudTrail Insights files sit next to the logs: known, skipped, not an error.
        let insight = r#"{"eventVersion":"1.08","eventTime":"2026-11-12T01:00:00Z","awsRegion":"us-east-1","eventID":"i1","eventType":"AwsCloudTrailInsight","recipientAccountId":"111122223333","sharedEventID":"s1","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"CreateTrafficMirrorSession","insightType":"ApiCallRateInsight"},"eventCategory":"Insight"}"#;
        let (summary, observed) = read(&format!("{{\"Records\":[{insight}]}}"));
        assert_eq!(summary.format, Format::CloudtrailInsight);
        assert!(!summary.lost_input() && observed.is_empty(), "{summary:?}");
        // A README quoting one record is text, not a log with one event.
        let (summary, observed) = read(&format!(
            "Example of a record:\n\n{SESSION}\n\nThe field eventName names the call.\nSee the docs.\n"
        ));
        assert!(
            summary
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("not a JSON log")),
            "{summary:?}"
        );
        assert!(observed.is_empty());
        // The original rule folds the Kelvin sign as RE2 does; the prefilter lets it through.
        let benign = r#"{"metadata":{"product_event_type":"GetObject","vendor_name":"GOOGLE"}}"#;
        let kelvin = r#"{"metadata":{"product_event_type":"v1.compute.insertPac\u{212A}etMirroring","vendor_name":"GOOGLE"}}"#
            .replace("\\u{212A}", "\u{212A}");
        let (summary, observed) = read(&format!("{benign}\n{kelvin}\n"));
        assert_eq!(summary.format, Format::Udm);
        assert_eq!(observed.len(), 1, "{summary:?}");
        assert!(crate::audit::seed::fires(&observed[0]));
    }

    #[test]
    fn a_mirroring_record_its_mapper_cannot_read_is_malformed() {
        let broken = r#"{"eventSource":"ec2.amazonaws.com","eventTime":"2026-11-12T01:00:00Z","requestParameters":{"TrafficMirrorTargetId":"tmt-1"}}"#;
        let (summary, observed) = read(&format!("{SESSION}\n{broken}\n"));
        assert_eq!(observed.len(), 1);
        assert_eq!(summary.malformed, 1);
        assert_eq!(summary.malformed_records[0].line, 2);
        assert!(summary.malformed_records[0]
            .reason
            .contains("without eventName"));
        // A GCP entry without an audit payload is no call, not lost input.
        let entry =
            r#"{"logName":"projects/p/logs/x","insertId":"i1","textPayload":"packetMirroring ok"}"#;
        let audit = r#"{"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","insertId":"i2","protoPayload":{"methodName":"v1.compute.packetMirrorings.insert","serviceName":"compute.googleapis.com"}}"#;
        let (summary, observed) = read(&format!("{audit}\n{entry}\n"));
        assert_eq!((summary.records, summary.malformed), (2, 0));
        assert_eq!(observed.len(), 1);
    }
}
