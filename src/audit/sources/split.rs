//! Splitting a stream of JSON into records without parsing them: the fast structural scan every
//! byte goes through.
//!
//! A log file is one of: a top-level array of records (`gcloud logging read --format=json`), a
//! top-level object whose records sit in an array under a known key (`{"Records":[…]}` from
//! CloudTrail, `{"value":[…]}` and `{"records":[…]}` from Azure, `{"Events":[…]}` from
//! LookupEvents), or records one after another (newline-delimited JSON). The splitter reads in
//! fixed chunks and keeps only the record being scanned, so memory does not grow with the file.
//!
//! The scan checks structure — strings terminate, escapes are complete, brackets balance and
//! match, nothing but whitespace and commas between records — but not the full JSON grammar;
//! the records that could matter are fully parsed later, and a structural error anywhere is
//! reported with its line.

use std::io::{self, Read};

/// Array keys whose elements are records when they appear at the top level of an object.
pub const WRAPPER_KEYS: &[&[u8]] = &[
    b"Records", b"records", b"value", b"Events", b"events", b"entries",
];

/// Why a line that does not start a JSON value is malformed.
pub const NOT_JSON: &str = "not a JSON object or array";

const CHUNK: usize = 256 * 1024;
/// A single record larger than this is refused rather than buffered without bound.
pub const MAX_RECORD: usize = 64 * 1024 * 1024;
const MAX_DEPTH: usize = 128;

/// One record's bytes and where it starts.
pub struct RecordRef<'a> {
    pub bytes: &'a [u8],
    /// 1-based line of the record's first byte.
    pub line: u64,
}

/// A record that is not well-formed, located by line (and, for NDJSON, skipped).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Malformed {
    pub line: u64,
    pub reason: String,
}

/// Why the splitter stopped before the end of the input.
#[derive(Debug)]
pub enum Stop {
    /// The input ended inside a record or a wrapper array.
    Truncated {
        line: u64,
    },
    /// A structural error inside an array: the rest cannot be re-synchronised.
    Corrupt(Malformed),
    Io(io::Error),
}

enum Scan {
    Done(usize),
    /// More bytes are needed.
    Incomplete,
    Bad(usize, &'static str),
}

/// Streams records out of `reader`, calling `on_record` for each and `on_malformed` for each
/// malformed line that could be skipped. Returns how the input ended.
pub struct Splitter<R> {
    reader: R,
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    pos: usize,
    /// Line number at `pos`.
    line: u64,
    eof: bool,
}

impl<R: Read> Splitter<R> {
    pub fn new(reader: R) -> Self {
        Splitter {
            reader,
            buf: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            line: 1,
            eof: false,
        }
    }

    /// Reads more input; `Ok(false)` at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + CHUNK, 0);
        let read = loop {
            match self.reader.read(&mut self.buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(start + read);
        if read == 0 {
            self.eof = true;
        }
        Ok(read > 0)
    }

    /// Moves `pos` forward to `to`, counting lines.
    fn advance(&mut self, to: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.pos..to]).count() as u64;
        self.pos = to;
    }

    /// Skips whitespace, and commas when `commas`; returns the next byte without consuming it.
    fn peek(&mut self, commas: bool) -> Result<Option<u8>, Stop> {
        loop {
            while self.pos < self.buf.len() {
                let b = self.buf[self.pos];
                match b {
                    b'\n' => {
                        self.line += 1;
                        self.pos += 1;
                    }
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b',' if commas => self.pos += 1,
                    // A UTF-8 byte-order mark at the start of a file.
                    0xEF if self.buf[self.pos..].starts_with(&[0xEF, 0xBB, 0xBF]) => self.pos += 3,
                    _ => return Ok(Some(b)),
                }
            }
            if !self.fill().map_err(Stop::Io)? {
                return Ok(None);
            }
        }
    }

    /// Scans one complete value starting at `pos`, reading more input as needed.
    fn value_end(&mut self, lenient: bool) -> Result<Result<usize, Malformed>, Stop> {
        loop {
            match scan_value(&self.buf, self.pos, lenient) {
                Scan::Done(end) => return Ok(Ok(end)),
                Scan::Bad(at, reason) => {
                    let line = self.line
                        + memchr::memchr_iter(b'\n', &self.buf[self.pos..at.min(self.buf.len())])
                            .count() as u64;
                    return Ok(Err(Malformed {
                        line,
                        reason: reason.to_string(),
                    }));
                }
                Scan::Incomplete => {
                    let pending = self.buf.len() - self.pos;
                    if pending > MAX_RECORD {
                        return Ok(Err(Malformed {
                            line: self.line,
                            reason: format!("a record larger than {} MiB", MAX_RECORD >> 20),
                        }));
                    }
                    // The scan restarts at the record's first byte, so read at least as much
                    // again before rescanning: a large record is rescanned O(log n) times,
                    // not once per chunk.
                    let wanted = (pending + pending.max(CHUNK)).min(MAX_RECORD + 1);
                    let mut grew = false;
                    while self.buf.len() - self.pos < wanted && self.fill().map_err(Stop::Io)? {
                        grew = true;
                    }
                    if !grew {
                        return Err(Stop::Truncated { line: self.line });
                    }
                }
            }
        }
    }

    /// Skips the rest of the current line (NDJSON resynchronisation after a malformed line).
    fn skip_line(&mut self) -> Result<(), Stop> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.pos..]) {
                self.pos += i + 1;
                self.line += 1;
                return Ok(());
            }
            self.pos = self.buf.len();
            if !self.fill().map_err(Stop::Io)? {
                return Ok(());
            }
        }
    }

    /// Runs the splitter to the end of the input.
    pub fn run(
        mut self,
        on_record: &mut dyn FnMut(RecordRef),
        on_malformed: &mut dyn FnMut(Malformed),
    ) -> Result<(), Stop> {
        loop {
            let Some(first) = self.peek(false)? else {
                return Ok(());
            };
            match first {
                b'[' => {
                    self.advance(self.pos + 1);
                    self.array(on_record, on_malformed)?;
                }
                b'{' => self.object(on_record, on_malformed)?,
                _ => {
                    on_malformed(Malformed {
                        line: self.line,
                        reason: NOT_JSON.to_string(),
                    });
                    self.skip_line()?;
                }
            }
        }
    }

    /// The elements of an array whose `[` has been consumed, each a record.
    fn array(
        &mut self,
        on_record: &mut dyn FnMut(RecordRef),
        on_malformed: &mut dyn FnMut(Malformed),
    ) -> Result<(), Stop> {
        loop {
            match self.peek(true)? {
                None => return Err(Stop::Truncated { line: self.line }),
                Some(b']') => {
                    self.advance(self.pos + 1);
                    return Ok(());
                }
                Some(_) => match self.value_end(false)? {
                    Ok(end) => {
                        on_record(RecordRef {
                            bytes: &self.buf[self.pos..end],
                            line: self.line,
                        });
                        self.advance(end);
                    }
                    // A bad string (an invalid escape, a raw line break) leaves the brackets
                    // countable: that one record is reported and reading goes on after it. A
                    // bracket that does not match leaves nothing to resynchronise on.
                    Err(malformed) => match self.value_end(true) {
                        Ok(Ok(end)) => {
                            on_malformed(malformed);
                            self.advance(end);
                        }
                        // No end in sight (a string cut at a line break reads on to the end
                        // of the input): the first damage is what is reported, not a cut.
                        Ok(Err(_)) | Err(Stop::Truncated { .. }) => {
                            return Err(Stop::Corrupt(malformed))
                        }
                        Err(stop) => return Err(stop),
                    },
                },
            }
        }
    }

    /// A top-level object: a wrapper whose array holds the records, or a record itself.
    fn object(
        &mut self,
        on_record: &mut dyn FnMut(RecordRef),
        on_malformed: &mut dyn FnMut(Malformed),
    ) -> Result<(), Stop> {
        if let Some(array_at) = self.first_key_opens_wrapper()? {
            // The common case, streamed: `{"Records":[` — records leave the buffer as soon as
            // they are scanned, whatever the size of the file.
            self.advance(array_at + 1);
            self.array(on_record, on_malformed)?;
            return self.rest_of_wrapper(on_record, on_malformed);
        }
        // A record on its own (NDJSON, or one pretty-printed object). When it does not end
        // well, the line it starts on is the malformed record and reading resumes on the next
        // line: one cut-off line must not swallow the good lines after it.
        let start_line = self.line;
        let end = match self.value_end(false) {
            Ok(Ok(end)) => end,
            Ok(Err(malformed)) => {
                on_malformed(Malformed {
                    line: start_line,
                    reason: malformed.reason,
                });
                return self.skip_line();
            }
            Err(Stop::Truncated { line }) => {
                if memchr::memchr(b'\n', &self.buf[self.pos..]).is_none() {
                    return Err(Stop::Truncated { line });
                }
                on_malformed(Malformed {
                    line: start_line,
                    reason: "a record that does not end on its line".to_string(),
                });
                return self.skip_line();
            }
            Err(stop) => return Err(stop),
        };
        let object = &self.buf[self.pos..end];
        let Some(arrays) = wrapper_arrays(object) else {
            on_record(RecordRef {
                bytes: object,
                line: self.line,
            });
            self.advance(end);
            return Ok(());
        };
        // A wrapper whose array is not its first key (`{"nextLink":…,"value":[…]}`), held
        // whole: such responses are pages of an API, bounded by the page size.
        // `wrapper_arrays` answers in offsets into `object`, which starts at `pos`.
        let base = self.pos;
        let mut line = self.line;
        let mut counted = self.pos;
        for (array_start, array_end) in arrays {
            let (array_start, array_end) = (base + array_start, base + array_end);
            let array = &self.buf[..array_end];
            let mut at = array_start + 1;
            loop {
                at = skip_ws_commas(array, at);
                if at + 1 >= array_end {
                    break;
                }
                let Scan::Done(record_end) = scan_value(array, at, false) else {
                    break;
                };
                line += memchr::memchr_iter(b'\n', &self.buf[counted..at]).count() as u64;
                counted = at;
                on_record(RecordRef {
                    bytes: &self.buf[at..record_end],
                    line,
                });
                at = record_end;
            }
        }
        self.advance(end);
        Ok(())
    }

    /// When the object at `pos` starts `{"KEY": [` with a wrapper KEY, the index of the `[`.
    fn first_key_opens_wrapper(&mut self) -> Result<Option<usize>, Stop> {
        loop {
            let buf = &self.buf;
            let mut at = skip_ws(buf, self.pos + 1);
            let incomplete = match buf.get(at) {
                Some(b'"') => match scan_string(buf, at, false) {
                    Scan::Done(key_end) => {
                        let key = &buf[at + 1..key_end - 1];
                        at = skip_ws(buf, key_end);
                        match buf.get(at) {
                            Some(b':') => {
                                at = skip_ws(buf, at + 1);
                                match buf.get(at) {
                                    Some(b'[') if WRAPPER_KEYS.contains(&key) => {
                                        return Ok(Some(at))
                                    }
                                    Some(_) => return Ok(None),
                                    None => true,
                                }
                            }
                            Some(_) => return Ok(None),
                            None => true,
                        }
                    }
                    Scan::Incomplete => true,
                    Scan::Bad(..) => return Ok(None),
                },
                Some(_) => return Ok(None),
                None => true,
            };
            if incomplete
                && (self.buf.len() - self.pos > MAX_RECORD || !self.fill().map_err(Stop::Io)?)
            {
                return Ok(None);
            }
        }
    }

    /// After a streamed wrapper array: the object's remaining keys (`"nextLink": …`, perhaps
    /// another wrapper array) up to its closing brace.
    fn rest_of_wrapper(
        &mut self,
        on_record: &mut dyn FnMut(RecordRef),
        on_malformed: &mut dyn FnMut(Malformed),
    ) -> Result<(), Stop> {
        loop {
            match self.peek(true)? {
                None => return Err(Stop::Truncated { line: self.line }),
                Some(b'}') => {
                    self.advance(self.pos + 1);
                    return Ok(());
                }
                Some(b'"') => {
                    let key_end = self.value_end(false)?.map_err(Stop::Corrupt)?;
                    let is_wrapper = WRAPPER_KEYS.contains(&&self.buf[self.pos + 1..key_end - 1]);
                    self.advance(key_end);
                    if self.peek(false)? != Some(b':') {
                        return Err(self.corrupt("expected `:` after a key"));
                    }
                    self.advance(self.pos + 1);
                    match self.peek(false)? {
                        None => return Err(Stop::Truncated { line: self.line }),
                        Some(b'[') if is_wrapper => {
                            self.advance(self.pos + 1);
                            self.array(on_record, on_malformed)?;
                        }
                        Some(_) => {
                            let end = self.value_end(false)?.map_err(Stop::Corrupt)?;
                            self.advance(end);
                        }
                    }
                }
                Some(_) => return Err(self.corrupt("expected a key or `}`")),
            }
        }
    }

    fn corrupt(&self, reason: &str) -> Stop {
        Stop::Corrupt(Malformed {
            line: self.line,
            reason: reason.to_string(),
        })
    }
}

fn skip_ws(buf: &[u8], mut at: usize) -> usize {
    while at < buf.len() && matches!(buf[at], b' ' | b'\t' | b'\r' | b'\n') {
        at += 1;
    }
    at
}

fn skip_ws_commas(buf: &[u8], mut at: usize) -> usize {
    while at < buf.len() && matches!(buf[at], b' ' | b'\t' | b'\r' | b'\n' | b',') {
        at += 1;
    }
    at
}

/// The `[`..`]` spans of the arrays under wrapper keys at depth 1 of a well-formed object,
/// or `None` when it has none (then the object is a record).
fn wrapper_arrays(object: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut found = Vec::new();
    let mut at = 1;
    loop {
        at = skip_ws_commas(object, at);
        if at >= object.len() || object[at] != b'"' {
            break;
        }
        let Scan::Done(key_end) = scan_string(object, at, false) else {
            break;
        };
        let key = &object[at + 1..key_end - 1];
        at = skip_ws_commas(object, key_end);
        if at >= object.len() || object[at] != b':' {
            break;
        }
        at = skip_ws_commas(object, at + 1);
        let Scan::Done(value_end) = scan_value(object, at, false) else {
            break;
        };
        if object[at] == b'[' && WRAPPER_KEYS.contains(&key) {
            found.push((at, value_end));
        }
        at = value_end;
    }
    (!found.is_empty()).then_some(found)
}

/// Scans a string starting at its opening quote; `Done` is the index after the closing quote.
/// `lenient` reads through an invalid escape or a raw line break, to find where a damaged
/// record ends.
fn scan_string(buf: &[u8], start: usize, lenient: bool) -> Scan {
    let mut at = start + 1;
    loop {
        match memchr::memchr3(b'"', b'\\', b'\n', &buf[at..]) {
            None => return Scan::Incomplete,
            Some(i) => {
                at += i;
                match buf[at] {
                    b'"' => return Scan::Done(at + 1),
                    // JSON strings cannot hold a raw line break: a record cut off inside a
                    // string, the commonest damage in line-oriented logs.
                    b'\n' if lenient => {
                        at += 1;
                        continue;
                    }
                    b'\n' => return Scan::Bad(at, "a line break inside a string"),
                    _ => {}
                }
                // A backslash escapes the next byte (`\uXXXX` needs no special care: its hex
                // digits cannot be a quote or a backslash).
                if at + 1 >= buf.len() {
                    return Scan::Incomplete;
                }
                if !lenient
                    && !matches!(
                        buf[at + 1],
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u'
                    )
                {
                    return Scan::Bad(at, "an invalid escape in a string");
                }
                at += 2;
            }
        }
    }
}

/// Scans one JSON value structurally; `Done` is the index just after it.
fn scan_value(buf: &[u8], start: usize, lenient: bool) -> Scan {
    let mut stack = [0u8; MAX_DEPTH];
    let mut depth = 0usize;
    let mut at = start;
    loop {
        let Some(&b) = buf.get(at) else {
            return Scan::Incomplete;
        };
        match b {
            b'"' => match scan_string(buf, at, lenient) {
                Scan::Done(end) => at = end,
                other => return other,
            },
            b'{' | b'[' => {
                if depth == MAX_DEPTH {
                    return Scan::Bad(at, "nested more than 128 levels deep");
                }
                stack[depth] = if b == b'{' { b'}' } else { b']' };
                depth += 1;
                at += 1;
            }
            b'}' | b']' => {
                if depth == 0 || stack[depth - 1] != b {
                    return Scan::Bad(at, "a closing bracket that does not match");
                }
                depth -= 1;
                at += 1;
            }
            _ if depth == 0 => {
                // A scalar at the top of a record: read to its end.
                let end = buf[at..]
                    .iter()
                    .position(|c| matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'));
                return match end {
                    Some(0) => Scan::Bad(at, "an unexpected character"),
                    Some(n) => Scan::Done(at + n),
                    None => Scan::Incomplete,
                };
            }
            _ => at += 1,
        }
        if depth == 0 {
            return Scan::Done(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> (Vec<(String, u64)>, Vec<Malformed>, Option<String>) {
        let mut records = Vec::new();
        let mut malformed = Vec::new();
        let result = Splitter::new(input).run(
            &mut |r| records.push((String::from_utf8_lossy(r.bytes).into_owned(), r.line)),
            &mut |m| malformed.push(m),
        );
        let stop = result.err().map(|e| match e {
            Stop::Truncated { line } => format!("truncated at {line}"),
            Stop::Corrupt(m) => format!("corrupt at {}: {}", m.line, m.reason),
            Stop::Io(e) => e.to_string(),
        });
        (records, malformed, stop)
    }

    #[test]
    fn wrapper_objects_arrays_and_ndjson() {
        let (r, m, s) = split(b"{\"Records\":[{\"a\":1},\n{\"b\":\"}\"}]}");
        assert_eq!(
            r,
            vec![("{\"a\":1}".into(), 1), ("{\"b\":\"}\"}".into(), 2)]
        );
        assert!(m.is_empty() && s.is_none());

        let (r, _, s) = split(b"{\"nextLink\":null,\"value\":[{\"x\":[1,{}]}]}");
        assert_eq!(r, vec![("{\"x\":[1,{}]}".into(), 1)]);
        assert!(s.is_none());

        let (r, _, _) = split(b"[{\"a\":\"q\\\"\"}, {\"b\":2}]");
        assert_eq!(r.len(), 2);

        let (r, m, s) = split(b"{\"a\":1}\n{\"b\":2}\nnot json\n{\"c\":3}\n");
        assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![1, 2, 4]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].line, 3);
        assert!(s.is_none());
    }

    #[test]
    fn truncation_and_corruption_are_reported() {
        // The complete records before a cut are kept (they are evidence); the cut is reported.
        let (r, _, s) = split(b"{\"Records\":[{\"a\":1},{\"b\":");
        assert_eq!(r, vec![("{\"a\":1}".into(), 1)]);
        assert_eq!(s.as_deref(), Some("truncated at 1"));
        // NDJSON: a line cut inside a string or between keys is one malformed record, and the
        // lines after it are still read.
        let (r, m, s) = split(b"{\"a\":1}\n{\"b\":\"cut\n{\"c\":3}\n{\"d\":4,\n{\"e\":5}\n");
        assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![1, 3, 5]);
        assert_eq!(m.iter().map(|x| x.line).collect::<Vec<_>>(), vec![2, 4]);
        assert!(s.is_none(), "{s:?}");
        // The last line cut without a newline after it is a truncation, not a bad record.
        let (r, m, s) = split(b"{\"a\":1}\n{\"b\":");
        assert_eq!((r.len(), m.len()), (1, 0));
        assert_eq!(s.as_deref(), Some("truncated at 2"));
        let (_, _, s) = split(b"[{\"a\":1},\n{\"b\":2]]");
        assert!(s.unwrap().starts_with("corrupt at 2"));
        let (_, m, _) = split(b"{\"a\":\"\\x\"}\n{\"ok\":1}\n");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_bad_string_inside_an_array_costs_one_record() {
        // An invalid escape or a raw line break in one record of a delivery file: that record
        // is malformed, the records after it are still read.
        let (r, m, s) = split(
            b"{\"Records\":[{\"a\":1},{\"b\":\"\\q\"},{\"c\":3},{\"d\":\"x\ny\"},{\"e\":5}]}",
        );
        assert_eq!(
            r.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            vec!["{\"a\":1}", "{\"c\":3}", "{\"e\":5}"]
        );
        assert_eq!(m.iter().map(|x| x.line).collect::<Vec<_>>(), vec![1, 1]);
        assert!(s.is_none(), "{s:?}");
        // A bracket that does not match still stops the array.
        let (r, _, s) = split(b"[{\"a\":1},{\"b\":[}],{\"c\":3}]");
        assert_eq!(r.len(), 1);
        assert!(s.unwrap().starts_with("corrupt"));
    }

    #[test]
    fn a_string_cut_at_a_line_break_inside_an_array_is_damage_not_truncation() {
        let (_, _, s) = split(b"[\n {\n  \"a\": \"cut\n {\n  \"b\": 1\n },\n {\"c\": 2}\n]\n");
        assert_eq!(
            s.as_deref(),
            Some("corrupt at 3: a line break inside a string")
        );
    }

    #[test]
    fn wrappers_whose_array_is_not_the_first_key_anywhere_in_the_input() {
        let page =
            |n: u8| format!("{{\"nextLink\":null,\"value\":[{{\"n\":{n}}},\n{{\"m\":{n}}}]}}");
        // After a line break, after a byte-order mark, and two pages one after the other.
        for (input, lines) in [
            (format!("\n\n{}", page(1)), vec![3, 4]),
            (format!("\u{feff}{}", page(1)), vec![1, 2]),
            (format!("{}\n{}\n", page(1), page(2)), vec![1, 2, 3, 4]),
        ] {
            let (r, m, s) = split(input.as_bytes());
            assert!(m.is_empty() && s.is_none(), "{input:?}: {m:?} {s:?}");
            assert_eq!(
                r.iter().map(|x| x.1).collect::<Vec<_>>(),
                lines,
                "{input:?}"
            );
            assert!(
                r.iter()
                    .all(|x| x.0.starts_with("{\"n\":") || x.0.starts_with("{\"m\":")),
                "{input:?}: {r:?}"
            );
        }
    }

    #[test]
    fn a_record_larger_than_a_chunk_is_read_whole() {
        let big = format!(
            "{{\"Records\":[{{\"pad\":\"{}\"}},{{\"b\":2}}]}}",
            "x".repeat(3 * CHUNK + 17)
        );
        let (r, m, s) = split(big.as_bytes());
        assert!(m.is_empty() && s.is_none());
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0.len(), 3 * CHUNK + 17 + 10);
    }
}
