//! Small helpers: uids, timestamps, ages, and the conversion of storage errors into API errors.

use std::time::{SystemTime, UNIX_EPOCH};

use kapi_core::{ApiError, GroupResource};

/// Seconds since the epoch, now.
pub(crate) fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `metav1.Time` text: RFC 3339 in UTC with second precision, `2026-01-02T03:04:05Z`.
pub fn format_rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The current time as `metav1.Time` text.
pub fn now_rfc3339() -> String {
    format_rfc3339(now_seconds())
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into seconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours = rest.get(1..3)?.parse::<i64>().ok()?;
            let minutes = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// kube's `duration.HumanDuration`, the Table's `Age` cells: `45s`, `5m`, `3h`, `2d`, `1y`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < 0 {
        return "<invalid>".to_owned();
    }
    let minutes = seconds / 60;
    let hours = seconds / 3600;
    if seconds < 120 {
        return format!("{seconds}s");
    }
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The `Age` cell of an object: the time since `creationTimestamp` (`<unknown>` without one).
pub fn age_of(object: &serde_json::Value) -> serde_json::Value {
    timestamp_age(kapi_core::meta::creation_timestamp(object))
}

/// The age of an RFC 3339 timestamp, `<unknown>` when absent or malformed.
pub fn timestamp_age(timestamp: Option<&str>) -> serde_json::Value {
    let text = match timestamp.and_then(parse_rfc3339) {
        Some(created) => human_duration(now_seconds() - created),
        None => "<unknown>".to_owned(),
    };
    serde_json::Value::String(text)
}

/// Maps a storage error onto kube-apiserver's answer for `resource`/`name`.
pub(crate) fn storage_error(resource: &GroupResource, name: &str, error: kapi_storage::Error) -> ApiError {
    use kapi_storage::Error;
    match error {
        Error::NotFound { .. } => ApiError::not_found(resource, name),
        Error::AlreadyExists { .. } => ApiError::already_exists(resource, name),
        Error::Conflict { .. } => ApiError::conflict_modified(resource, name),
        Error::PreconditionFailed { message, .. } => ApiError::conflict(resource, name, message),
        Error::Expired { requested, compacted } => ApiError::too_old_resource_version(requested, compacted),
        Error::RevisionTooLarge { requested, current } => ApiError::resource_version_too_large(requested, current, 1),
        Error::InvalidContinue { reason } => {
            ApiError::bad_request(format!("invalid continue token: continue key is not valid: {reason}"))
        }
        other => ApiError::internal_error(other.to_string()),
    }
}

/// Why kube-apiserver would refuse a continue token, in its words (`continue key is not valid: <why>`), for
/// tokens that are not base64url JSON or carry no resourceVersion; `None` leaves the rest to storage.
pub(crate) fn continue_token_problem(token: &str) -> Option<String> {
    use base64::{
        alphabet::URL_SAFE,
        engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
        Engine,
    };
    // Go's base64.RawURLEncoding tolerates stray trailing bits ("garbage" decodes).
    let lenient = GeneralPurpose::new(
        &URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = match lenient.decode(token) {
        Ok(bytes) => bytes,
        Err(base64::DecodeError::InvalidByte(offset, _) | base64::DecodeError::InvalidLastSymbol(offset, _)) => {
            return Some(format!("illegal base64 data at input byte {offset}"))
        }
        Err(_) => return Some(format!("illegal base64 data at input byte {}", token.len())),
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(error) => return Some(crate::go_json_error(&error, &bytes)),
    };
    let revision = value.get("rv").and_then(serde_json::Value::as_i64).unwrap_or(0);
    (revision == 0).then(|| "incorrect encoded start resourceVersion (version meta.k8s.io/v1)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_problems_read_like_kube_apiserver() {
        assert_eq!(
            continue_token_problem("garbage").as_deref(),
            Some("invalid character '\\u0081' looking for beginning of value")
        );
        // {"v":"meta.k8s.io/v1","rv":0,"start":""}
        let zero = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MCwic3RhcnQiOiIifQ";
        assert_eq!(
            continue_token_problem(zero).as_deref(),
            Some("incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        );
        let fine = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Mywic3RhcnQiOiJhIn0";
        assert_eq!(continue_token_problem(fine), None);
    }

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(parse_rfc3339("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        assert_eq!(parse_rfc3339("2024-03-01T01:59:59+02:00"), Some(1_709_251_199));
        assert_eq!(parse_rfc3339("2024-02-29T23:59:59.123456Z"), Some(1_709_251_199));
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn ages_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3600), "60m");
        assert_eq!(human_duration(5 * 3600 + 60), "5h1m");
        assert_eq!(human_duration(3 * 86_400), "3d");
    }
}
