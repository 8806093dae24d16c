//! Durations on the command line: `30d`, `12h`, `15m`, `45s`, `1500ms`, or a
//! plain number of milliseconds.

/// Milliseconds in `text`, or why it is not a duration.
pub fn parse_ms(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        format!("`{t}` is not a duration; write e.g. 30d, 12h, 15m, 45s, 1500ms or a number of milliseconds")
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let factor: u64 = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{t}` is too long a duration"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn units_and_errors() {
        assert_eq!(parse_ms("30d").unwrap(), 30 * 86_400_000);
        assert_eq!(parse_ms("12h").unwrap(), 12 * 3_600_000);
        assert_eq!(parse_ms("1500ms").unwrap(), 1500);
        assert_eq!(parse_ms("250").unwrap(), 250);
        assert!(parse_ms("d").is_err());
        assert!(parse_ms("3 weeks").is_err());
        assert!(parse_ms("99999999999999999999d").is_err());
    }
}
