//! Timestamps (RFC 3339, UTC) and durations (Go's `time.ParseDuration` syntax) without a date library.

const NANOS_PER_SECOND: i128 = 1_000_000_000;
/// CEL's timestamp range: years 0001 to 9999.
const MIN_TIMESTAMP_SECONDS: i128 = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS: i128 = 253_402_300_799;
/// CEL's duration range: about ±10,000 years.
pub(crate) const MAX_DURATION_NANOS: i128 = 315_576_000_000 * NANOS_PER_SECOND;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date (year, month 1-12, day 1-31) of a day number since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(text: &[u8], at: usize, count: usize) -> Option<i64> {
    let slice = text.get(at..at + count)?;
    if !slice.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(slice).ok()?.parse().ok()
}

/// Parses an RFC 3339 timestamp into nanoseconds since the epoch.
pub(crate) fn parse_timestamp(text: &str) -> Option<i128> {
    let bytes = text.as_bytes();
    let year = digits(bytes, 0, 4)?;
    let month = u32::try_from(digits(bytes, 5, 2)?).ok()?;
    let day = u32::try_from(digits(bytes, 8, 2)?).ok()?;
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') || !matches!(bytes.get(10), Some(b'T' | b't')) {
        return None;
    }
    let hour = digits(bytes, 11, 2)?;
    let minute = digits(bytes, 14, 2)?;
    let second = digits(bytes, 17, 2)?;
    if bytes.get(13) != Some(&b':') || bytes.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    let mut nanos: i128 = 0;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let fraction = &text[start..at];
        if fraction.is_empty() || fraction.len() > 9 {
            return None;
        }
        nanos = fraction.parse::<i128>().ok()? * 10_i128.pow(9 - fraction.len() as u32);
    }
    let offset_seconds: i64 = match bytes.get(at) {
        Some(b'Z' | b'z') if at + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) if at + 6 == bytes.len() && bytes.get(at + 3) == Some(&b':') => {
            let hours = digits(bytes, at + 1, 2)?;
            let minutes = digits(bytes, at + 4, 2)?;
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = i128::from(days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds);
    if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&seconds) {
        return None;
    }
    Some(seconds * NANOS_PER_SECOND + nanos)
}

/// Formats a timestamp as RFC 3339 in UTC with the shortest fraction (Go's `RFC3339Nano`).
pub(crate) fn format_timestamp(nanos: i128) -> String {
    let seconds = nanos.div_euclid(NANOS_PER_SECOND) as i64;
    let fraction = nanos.rem_euclid(NANOS_PER_SECOND);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:09}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Parses a duration such as `1h30m`, `-1.5s`, `300ms` (units ns, us, µs, ms, s, m, h) into nanoseconds, as
/// Go's `time.ParseDuration` (CEL's `duration()`).
pub(crate) fn parse_duration(text: &str) -> Option<i128> {
    parse_duration_units(text, false)
}

/// Parses a `format: duration` value of a custom resource; the OpenAPI format also accepts days and weeks.
pub(crate) fn parse_schema_duration(text: &str) -> Option<i128> {
    parse_duration_units(text, true)
}

fn parse_duration_units(text: &str, days_and_weeks: bool) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" if days_and_weeks => 86_400e9,
            "w" if days_and_weeks => 604_800e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    if total > MAX_DURATION_NANOS as f64 {
        return None;
    }
    let nanos = total.round() as i128;
    Some(if negative { -nanos } else { nanos })
}

/// Formats a duration the way cel-go's `string(duration)` does: seconds with the shortest fraction, `1.5s`.
pub(crate) fn format_duration(nanos: i128) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let magnitude = nanos.unsigned_abs();
    let seconds = magnitude / 1_000_000_000;
    let fraction = magnitude % 1_000_000_000;
    if fraction == 0 {
        format!("{sign}{seconds}s")
    } else {
        let digits = format!("{fraction:09}");
        format!("{sign}{seconds}.{}s", digits.trim_end_matches('0'))
    }
}

/// Whether a timestamp lies in CEL's range.
pub(crate) fn timestamp_in_range(nanos: i128) -> bool {
    (MIN_TIMESTAMP_SECONDS * NANOS_PER_SECOND..(MAX_TIMESTAMP_SECONDS + 1) * NANOS_PER_SECOND).contains(&nanos)
}
