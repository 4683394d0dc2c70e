//! Durations and dates as users type them (CONTRACTS §7): `90d`, `24h`, `30s`; `2027-06-30` or
//! RFC 3339, where no offset means UTC.

use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// An integer and a unit: `s`, `m`, `h`, `d` (and `ms`, for tests of short timeouts).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit; write e.g. 30s, 15m, 24h or 90d"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} must start with a whole number, like 30s"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; use s, m, h or d")),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time; a date-time without offset is UTC.
pub fn parse_instant(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        // One clock, in UTC: reports print `now` as RFC 3339 UTC.
        return instant
            .checked_to_offset(time::UtcOffset::UTC)
            .ok_or_else(|| format!("{text:?} is out of range"));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = Date::parse(text, date_format) {
        return Ok(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    let local_format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, local_format)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| format!("{text:?} is not a date (2027-06-30) or an RFC 3339 date-time"))
}

/// An instant as RFC 3339 in UTC, whole seconds when it has no fraction.
pub fn rfc3339(instant: OffsetDateTime) -> String {
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| instant.unix_timestamp().to_string())
}

/// Serialises an optional instant as RFC 3339 in UTC (`null` when absent), for JSON reports.
pub fn serialize_rfc3339_opt<S: serde::Serializer>(
    instant: &Option<OffsetDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match instant.and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()) {
        Some(text) => serializer.serialize_some(&text),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("90d").unwrap(),
            Duration::from_secs(90 * 86_400)
        );
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("d").is_err());
    }

    #[test]
    fn instants() {
        let a = parse_instant("2026-11-15").unwrap();
        let b = parse_instant("2026-11-15T00:00:00Z").unwrap();
        let c = parse_instant("2026-11-15T00:00:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(parse_instant("15/11/2026").is_err());
    }
}
