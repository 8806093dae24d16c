//! RFC 3339 UTC times (`2026-11-22T00:00:00Z`) to and from block-time
//! milliseconds, without a date library.
//!
//! Only the UTC `Z` form is accepted, with at most millisecond precision and
//! years 1970..=9999, so every accepted text maps to exactly one [`Timestamp`]
//! and [`format_utc`] gives it back (fractions written only when non-zero).

use assent_contracts::Timestamp;

const MS_PER_DAY: u64 = 86_400_000;

/// An example of the accepted form, used in error messages.
pub const EXAMPLE: &str = "2026-11-22T00:00:00Z";

/// Why a text is not an accepted time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not of the form `YYYY-MM-DDTHH:MM:SS[.sss]Z` at all.
    #[error("expected the form {EXAMPLE}")]
    Shape,
    /// The right form, but not an accepted instant (says why).
    #[error("{0}")]
    Value(String),
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.s|.ss|.sss]Z`.
pub fn parse_utc(text: &str) -> Result<Timestamp, TimeError> {
    let b = text.as_bytes();
    let shape = || TimeError::Shape;
    let value = |why: String| Err(TimeError::Value(why));
    if b.len() < 20 || !b.is_ascii() {
        return Err(shape());
    }
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return Err(shape());
    }
    let num = |from: usize, to: usize| -> Result<u64, TimeError> {
        let digits = b.get(from..to).ok_or_else(shape)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(shape());
        }
        Ok(digits
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let rest = &text[19..];
    let millis = match rest {
        "Z" => 0,
        _ if rest.starts_with('.') && rest.ends_with('Z') => {
            let frac = &rest[1..rest.len() - 1];
            if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
                return Err(shape());
            }
            if frac.len() > 3 {
                return value(
                    "block time has millisecond precision; use at most 3 fraction digits".into(),
                );
            }
            let v = num(20, 20 + frac.len())?;
            v * 10u64.pow(3 - frac.len() as u32)
        }
        _ if rest.contains('+') || rest.contains('-') => {
            return value("only UTC is accepted: end the time with Z, not an offset".into())
        }
        _ => return Err(shape()),
    };
    if !(1970..=9999).contains(&year) {
        return value(format!("year {year} is outside 1970..=9999"));
    }
    if !(1..=12).contains(&month) {
        return value(format!("month {month} does not exist"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return value(format!("{year}-{month:02} has no day {day}"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return value(format!(
            "{hour:02}:{minute:02}:{second:02} is not a time of day (leap seconds are not accepted)"
        ));
    }
    let days = days_from_civil(year, month, day);
    Ok(Timestamp(
        days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + millis,
    ))
}

/// Formats block time as RFC 3339 UTC, e.g. `2026-11-22T00:00:00Z`, with a
/// `.mmm` fraction only when the milliseconds are non-zero. Times after year
/// 9999 are printed with a longer year (which [`parse_utc`] refuses).
pub fn format_utc(t: Timestamp) -> String {
    let days = t.0 / MS_PER_DAY;
    let ms_of_day = t.0 % MS_PER_DAY;
    let (y, m, d) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    let ms = ms_of_day % 1000;
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    if ms == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{ms:03}Z")
    }
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date in 1970..=9999 (H. Hinnant's algorithm,
/// restricted to non-negative years so it needs no signed arithmetic).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Ok(Timestamp(0)));
        assert_eq!(
            parse_utc("2026-11-22T00:00:00Z"),
            Ok(Timestamp(1_795_305_600_000))
        );
        assert_eq!(
            parse_utc("2000-02-29T23:59:59.5Z"),
            Ok(Timestamp(951_868_799_500))
        );
        assert_eq!(
            format_utc(Timestamp(951_868_799_500)),
            "2000-02-29T23:59:59.500Z"
        );
        assert_eq!(
            format_utc(Timestamp(1_795_305_600_000)),
            "2026-11-22T00:00:00Z"
        );
    }

    #[test]
    fn refuses_what_is_not_utc_rfc3339() {
        for bad in [
            "",
            "yesterday",
            "2026-11-22",
            "2026-11-22T00:00:00",
            "2026-11-22T00:00:00+01:00",
            "2026-11-22T00:00:00.1234Z",
            "2026-11-22T00:00:00.Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "1900-02-28T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T23:59:60Z",
            "2026-11-22 00:00:00Z",
            "+026-11-22T00:00:00Z",
            "2026-11-22T00:00:00ZZ",
            "2026-11-22T00:00:00é",
        ] {
            assert!(parse_utc(bad).is_err(), "{bad} was accepted");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(ms in 0u64..253_402_300_800_000) {
            let t = Timestamp(ms);
            prop_assert_eq!(parse_utc(&format_utc(t)), Ok(t));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse_utc(&s);
        }

        #[test]
        fn format_never_panics(ms in any::<u64>()) {
            let _ = format_utc(Timestamp(ms));
        }
    }
}
