//! RFC 3339 timestamps ⇄ Unix seconds and nanoseconds, as `metav1.Time` and `metav1.MicroTime` write them.
//!
//! Go formats both in UTC: `Time` to the second (`2024-01-02T03:04:05Z`), `MicroTime` with exactly six
//! fractional digits (`2024-01-02T03:04:05.123456Z`). Parsing accepts any RFC 3339 form Go's `time.Parse`
//! takes for these fields: an optional fraction and a `Z` or `±hh:mm` offset.

/// Seconds from 0001-01-01T00:00:00Z (Go's zero `time.Time`) to the Unix epoch, negated.
pub(crate) const GO_ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats Unix seconds (plus microseconds when `micros` is given) the way Go's `Time.UTC().Format` does.
pub(crate) fn format(seconds: i64, micros: Option<u32>) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    let fraction = micros.map(|micros| format!(".{micros:06}")).unwrap_or_default();
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z")
}

/// Parses an RFC 3339 timestamp into Unix seconds and nanoseconds; `None` when it is not one.
pub(crate) fn parse(text: &str) -> Option<(i64, u32)> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = bytes.get(range)?;
        digits.iter().all(u8::is_ascii_digit).then_some(())?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') || !matches!(bytes.get(10), Some(b'T' | b't')) {
        return None;
    }
    if bytes.get(13) != Some(&b':') || bytes.get(16) != Some(&b':') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut position = 19;
    let mut nanos: u32 = 0;
    if bytes.get(position) == Some(&b'.') {
        position += 1;
        let start = position;
        while bytes.get(position).is_some_and(u8::is_ascii_digit) {
            if position - start < 9 {
                nanos = nanos * 10 + u32::from(bytes[position] - b'0');
            }
            position += 1;
        }
        let digits = position - start;
        if digits == 0 {
            return None;
        }
        nanos *= 10u32.pow(9u32.saturating_sub(digits as u32));
    }
    let offset_seconds = match bytes.get(position) {
        Some(b'Z' | b'z') if position + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) if position + 6 == bytes.len() && bytes[position + 3] == b':' => {
            let (offset_hours, offset_minutes) =
                (number(position + 1..position + 3)?, number(position + 4..position + 6)?);
            if offset_hours > 23 || offset_minutes > 59 {
                return None;
            }
            let offset = offset_hours * 3600 + offset_minutes * 60;
            if *sign == b'+' {
                offset
            } else {
                -offset
            }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some((seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format(0, None), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_704_164_645, None), "2024-01-02T03:04:05Z");
        assert_eq!(format(1_704_164_645, Some(7)), "2024-01-02T03:04:05.000007Z");
        assert_eq!(format(GO_ZERO_TIME_UNIX, None), "0001-01-01T00:00:00Z");
        assert_eq!(format(-1, None), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_fractions_and_offsets() {
        assert_eq!(parse("2024-01-02T03:04:05Z"), Some((1_704_164_645, 0)));
        assert_eq!(parse("2024-01-02T03:04:05.123456Z"), Some((1_704_164_645, 123_456_000)));
        assert_eq!(parse("2024-01-02T04:04:05+01:00"), Some((1_704_164_645, 0)));
        assert_eq!(parse("0001-01-01T00:00:00Z"), Some((GO_ZERO_TIME_UNIX, 0)));
        for bad in [
            "",
            "2024-01-02",
            "2024-13-02T03:04:05Z",
            "2024-02-30T03:04:05Z",
            "2024-01-02T03:04:05",
            "2024-01-02T03:04:05.Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn parse_inverts_format() {
        for seconds in [0, 1, 951_782_400, 4_102_444_800, -86_401, GO_ZERO_TIME_UNIX] {
            assert_eq!(parse(&format(seconds, Some(5))), Some((seconds, 5_000)), "{seconds}");
        }
    }
}
