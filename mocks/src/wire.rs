//! Small wire-level helpers the JSON providers share: base64url (JWTs, opaque page tokens),
//! deterministic ids, query-string parsing and percent-encoding, RFC 3339 formatting with a
//! chosen number of fractional digits (each provider prints its own precision), and fault
//! matching for endpoints that have no account. Hand-rolled where a crate would touch the
//! lockfile.

use crate::world::Fault;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding, the encoding JWT segments use (RFC 7515 §2).
pub(crate) fn b64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(B64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Inverse of [`b64url_encode`]; also accepts trailing `=` padding. `None` on any bad input.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = B64URL.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover 6-bit group cannot come from whole bytes.
    (bits < 6).then_some(out)
}

/// FNV-1a: stable across runs and platforms, which is all the mock's derived ids need.
pub(crate) fn fnv64(seed: u64, data: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for &byte in data {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// splitmix64's finaliser: spreads FNV's output so keys differing in one character (request
/// counters) do not yield look-alike GUIDs.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A GUID-shaped string derived from `key`, so the same world always yields the same ids.
pub(crate) fn guid(key: &str) -> String {
    let a = mix(fnv64(1, key.as_bytes()));
    let b = mix(fnv64(2, key.as_bytes()));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        // Version nibble 4 and variant bits 10, as a random (v4) GUID would have.
        (a & 0x0fff) | 0x4000,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A fixed-width base-36 id (GCP `insertId`s look like `-2rqbleq2c47l`).
pub(crate) fn base36(key: &str, len: usize) -> String {
    const DIGITS: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut n =
        u128::from(mix(fnv64(3, key.as_bytes()))) << 64 | u128::from(fnv64(4, key.as_bytes()));
    (0..len)
        .map(|_| {
            let digit = DIGITS[(n % 36) as usize] as char;
            n /= 36;
            digit
        })
        .collect()
}

/// Parses an RFC 3339 date-time (an offset is required, as RFC 3339 says).
pub(crate) fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

/// `time` as RFC 3339 in UTC with exactly `digits` fractional digits (0: none), the way each
/// provider prints its own precision (CloudTrail seconds, Azure 100 ns ticks, GCP micro- or
/// nanoseconds).
pub(crate) fn rfc3339_utc(time: OffsetDateTime, digits: usize) -> String {
    format!("{}Z", rfc3339_local(time.to_offset(UtcOffset::UTC), digits))
}

/// `time` as RFC 3339 in `offset` (`-08:00` style suffix).
pub(crate) fn rfc3339_at(time: OffsetDateTime, offset: UtcOffset, digits: usize) -> String {
    let local = time.to_offset(offset);
    let (h, m, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!(
        "{}{sign}{:02}:{:02}",
        rfc3339_local(local, digits),
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

/// `time` in US Pacific time, as Compute prints creation and operation times: PST (-08:00),
/// or PDT (-07:00) from the second Sunday of March 10:00 UTC to the first Sunday of November
/// 09:00 UTC.
pub(crate) fn pacific(time: OffsetDateTime, digits: usize) -> String {
    use time::{Month, PrimitiveDateTime, Time, Weekday};
    let year = time.year();
    let sunday = |month: Month, nth: u8, hour: u8| {
        let first = time::Date::from_calendar_date(year, month, 1).ok()?;
        let ahead = (7 + 6 - first.weekday().number_days_from_monday()) % 7;
        let day = first.checked_add(time::Duration::days(i64::from(ahead + 7 * (nth - 1))))?;
        debug_assert_eq!(day.weekday(), Weekday::Sunday);
        Some(PrimitiveDateTime::new(day, Time::from_hms(hour, 0, 0).ok()?).assume_utc())
    };
    let utc = time.to_offset(UtcOffset::UTC);
    let summer = match (sunday(Month::March, 2, 10), sunday(Month::November, 1, 9)) {
        (Some(start), Some(end)) => utc >= start && utc < end,
        _ => false,
    };
    let hours = if summer { -7 } else { -8 };
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
    rfc3339_at(time, offset, digits)
}

fn rfc3339_local(t: OffsetDateTime, digits: usize) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if digits > 0 {
        let nanos = format!("{:09}", t.nanosecond());
        out.push('.');
        out.push_str(&format!("{nanos:0<digits$}")[..digits]);
    }
    out
}

/// RFC 3986 percent-encoding of everything but unreserved characters: query values built into
/// links (`$filter`) must survive any client's URL parser, so spaces become `%20`, not `+`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An opaque page token for `kind` (one per API) naming an offset into the answer of the query
/// whose fingerprint is `query`: a token replayed against another query is recognisably wrong.
pub(crate) fn page_token(kind: &str, offset: usize, query: &str) -> String {
    let fingerprint = fnv64(5, query.as_bytes());
    b64url_encode(format!("mirrorguard-mocks/{kind}/{offset}/{fingerprint:016x}").as_bytes())
}

/// The offset [`page_token`] encoded, if `token` is one of `kind` for this `query`.
pub(crate) fn page_offset(kind: &str, token: &str, query: &str) -> Option<usize> {
    let text = String::from_utf8(b64url_decode(token)?).ok()?;
    let rest = text
        .strip_prefix("mirrorguard-mocks/")?
        .strip_prefix(kind)?;
    let (offset, fingerprint) = rest.strip_prefix('/')?.split_once('/')?;
    (fingerprint == format!("{:016x}", fnv64(5, query.as_bytes())))
        .then(|| offset.parse().ok())
        .flatten()
}

/// Query parameters in order, percent-decoded.
pub(crate) fn query_params(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Fault matching for calls that belong to no account (token endpoints, the subscription
/// list): only faults that name this action explicitly apply, whatever their `account`. A
/// fault scoped to one subscription or project must not break sign-in for every scope, and a
/// catch-all fault without an action is meant for the per-scope listings.
pub(crate) fn matches_unscoped(fault: &Fault, action: &str) -> bool {
    fault.action.as_deref() == Some(action) && fault.region.as_deref().is_none_or(str::is_empty)
}

/// A JSON (or deliberately broken JSON) response with the given content type and headers.
pub(crate) fn json_response(
    status: StatusCode,
    content_type: &str,
    headers: &[(&str, String)],
    body: String,
) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", content_type);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .body(Body::from(body))
        .expect("static header names and printable values")
}

/// A minimal HTTP/1.1 client for the crate's own tests: the mock has no HTTP client
/// dependency, and a raw request shows exactly what goes over the wire.
#[cfg(test)]
pub(crate) mod test_http {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub struct Reply {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: String,
    }

    impl Reply {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        pub fn json(&self) -> serde_json::Value {
            serde_json::from_str(&self.body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
        }
    }

    pub async fn request(
        addr: std::net::SocketAddr,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut req =
            format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let text = String::from_utf8(raw).expect("utf-8 reply");
        let (head, body) = text.split_once("\r\n\r\n").expect("header/body split");
        let mut lines = head.lines();
        let status = lines.next().expect("status line")[9..12]
            .parse()
            .expect("status");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect::<Vec<_>>();
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        });
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    fn dechunk(mut rest: &str) -> String {
        let mut out = String::new();
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..40 {
            let encoded = b64url_encode(&data[..len]);
            assert!(!encoded.contains('='));
            assert_eq!(b64url_decode(&encoded).as_deref(), Some(&data[..len]));
        }
        assert_eq!(b64url_encode(b"\xfb\xff"), "-_8");
        assert_eq!(b64url_decode("a"), None);
        assert_eq!(b64url_decode("a*"), None);
    }

    #[test]
    fn guids_are_stable_and_shaped() {
        let g = guid("client");
        assert_eq!(g, guid("client"));
        assert_ne!(g, guid("other"));
        let parts: Vec<_> = g.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&g[14..15], "4");
    }

    #[test]
    fn timestamps_print_each_providers_precision() {
        let t = parse_rfc3339("2026-12-03T09:00:00.123456789+01:00").unwrap();
        assert_eq!(rfc3339_utc(t, 0), "2026-12-03T08:00:00Z");
        assert_eq!(rfc3339_utc(t, 7), "2026-12-03T08:00:00.1234567Z");
        let pst = UtcOffset::from_hms(-8, 0, 0).unwrap();
        assert_eq!(rfc3339_at(t, pst, 3), "2026-12-03T00:00:00.123-08:00");
        assert!(parse_rfc3339("2026-12-03T09:00:00").is_none());
        assert_eq!(pacific(t, 3), "2026-12-03T00:00:00.123-08:00");
        let summer = parse_rfc3339("2026-07-01T12:00:00Z").unwrap();
        assert_eq!(pacific(summer, 0), "2026-07-01T05:00:00-07:00");
        // 2026's switches: 8 March and 1 November.
        let spring = parse_rfc3339("2026-03-08T10:00:00Z").unwrap();
        assert_eq!(pacific(spring, 0), "2026-03-08T03:00:00-07:00");
        let autumn = parse_rfc3339("2026-11-01T09:00:00Z").unwrap();
        assert_eq!(pacific(autumn, 0), "2026-11-01T01:00:00-08:00");
    }

    #[test]
    fn page_tokens_belong_to_their_query() {
        let token = page_token("ct", 4, "q1");
        assert_eq!(page_offset("ct", &token, "q1"), Some(4));
        assert_eq!(page_offset("ct", &token, "q2"), None);
        assert_eq!(page_offset("az", &token, "q1"), None);
        assert_eq!(page_offset("ct", "garbage!", "q1"), None);
        assert_eq!(percent_encode("a b'/$"), "a%20b%27%2F%24");
        assert_eq!(base36("x", 12).len(), 12);
    }
}
