//! Batches of data uses for `tx build record-use --file`, as JSON or CSV.
//!
//! Both forms carry the same flat rows, one per use; exactly one of `consent`
//! and `policy` is set per row.
//!
//! JSON: an array of rows, or an object `{"uses": [rows]}`:
//!
//! ```json
//! [{"consumer": "assent1...", "consent": "<64 hex>", "category": "Purchase",
//!   "purpose": "ServiceOptimisation", "level": "pseudonymous", "units": 1,
//!   "evidence_hash": "<64 hex>"}]
//! ```
//!
//! CSV: a header line naming the columns (any order), then one row per use;
//! empty lines and lines starting with `#` are skipped; no quoting (no value
//! contains a comma). The `consent` and `policy` columns may both be present,
//! with one of them left empty per row:
//!
//! ```text
//! consumer,consent,policy,category,purpose,level,units,evidence_hash
//! assent1...,<64 hex>,,Purchase,ServiceOptimisation,pseudonymous,1,<64 hex>
//! ```

use std::str::FromStr;

use assent_contracts::terms::{Category, Level, Purpose};
use assent_contracts::tx::{Use, UseBasis};
use assent_contracts::{AccountId, ConsentId, Hash32, PolicyId};
use serde::Deserialize;

/// The CSV columns, as documented in `--help`.
pub const CSV_HEADER: &str = "consumer,consent,policy,category,purpose,level,units,evidence_hash";

/// Which syntax a uses file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UseFileFormat {
    Json,
    Csv,
    /// JSON if the first non-blank character is `[` or `{`, CSV otherwise.
    Auto,
}

/// Why a uses file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UseFileError {
    #[error("it holds no uses")]
    Empty,
    #[error("not valid JSON uses: {0}")]
    Json(String),
    #[error("CSV header: {0}")]
    Header(String),
    #[error("line {line}: {why}")]
    Line { line: usize, why: String },
    #[error("use #{index}: {why}")]
    Row { index: usize, why: String },
}

/// One use as written in a file, before its fields are checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    consumer: String,
    #[serde(default)]
    consent: Option<String>,
    #[serde(default)]
    policy: Option<String>,
    category: String,
    purpose: String,
    level: String,
    units: u32,
    evidence_hash: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonUses {
    List(Vec<Row>),
    Object { uses: Vec<Row> },
}

fn field<T: FromStr>(name: &str, value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| format!("{name}: {e}"))
}

fn nonempty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// Builds one use from its fields (each text parsed with the contracts' parsers).
#[allow(clippy::too_many_arguments)]
pub fn use_from_fields(
    consumer: &str,
    consent: Option<&str>,
    policy: Option<&str>,
    category: &str,
    purpose: &str,
    level: &str,
    units: u32,
    evidence_hash: &str,
) -> Result<Use, String> {
    let basis = match (nonempty(consent), nonempty(policy)) {
        (Some(c), None) => UseBasis::Consent(field::<ConsentId>("consent", c)?),
        (None, Some(p)) => UseBasis::Policy(field::<PolicyId>("policy", p)?),
        (Some(_), Some(_)) => return Err("give a consent or a policy, not both".into()),
        (None, None) => return Err("give the consent or the policy the use is under".into()),
    };
    Ok(Use {
        consumer: field::<AccountId>("consumer", consumer)?,
        basis,
        category: field::<Category>("category", category)?,
        purpose: field::<Purpose>("purpose", purpose)?,
        level: field::<Level>("level", level)?,
        units,
        evidence_hash: field::<Hash32>("evidence_hash", evidence_hash)?,
    })
}

fn row_to_use(r: &Row) -> Result<Use, String> {
    use_from_fields(
        &r.consumer,
        r.consent.as_deref(),
        r.policy.as_deref(),
        &r.category,
        &r.purpose,
        &r.level,
        r.units,
        &r.evidence_hash,
    )
}

/// Parses a uses file's content.
pub fn parse(content: &str, format: UseFileFormat) -> Result<Vec<Use>, UseFileError> {
    let format = match format {
        UseFileFormat::Auto => match content.trim_start().chars().next() {
            Some('[') | Some('{') => UseFileFormat::Json,
            _ => UseFileFormat::Csv,
        },
        f => f,
    };
    let uses = match format {
        UseFileFormat::Json => parse_json(content)?,
        _ => parse_csv(content)?,
    };
    if uses.is_empty() {
        return Err(UseFileError::Empty);
    }
    Ok(uses)
}

fn parse_json(content: &str) -> Result<Vec<Use>, UseFileError> {
    let rows = match serde_json::from_str::<JsonUses>(content) {
        Ok(JsonUses::List(rows)) | Ok(JsonUses::Object { uses: rows }) => rows,
        Err(_) => {
            // The untagged enum hides the reason; parse as a list again for it.
            let e = serde_json::from_str::<Vec<Row>>(content).err();
            return Err(UseFileError::Json(e.map_or_else(
                || "expected an array of uses or {\"uses\": [...]}".to_string(),
                |e| e.to_string(),
            )));
        }
    };
    rows.iter()
        .enumerate()
        .map(|(index, r)| row_to_use(r).map_err(|why| UseFileError::Row { index, why }))
        .collect()
}

fn parse_csv(content: &str) -> Result<Vec<Use>, UseFileError> {
    let mut lines = content
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(UseFileError::Empty);
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let known: Vec<&str> = CSV_HEADER.split(',').collect();
    if let Some(c) = cols.iter().find(|c| !known.contains(c)) {
        return Err(UseFileError::Header(format!(
            "unknown column `{c}`; the columns are {CSV_HEADER}"
        )));
    }
    for required in known.iter().filter(|k| **k != "consent" && **k != "policy") {
        if !cols.contains(required) {
            return Err(UseFileError::Header(format!(
                "column `{required}` is missing; the columns are {CSV_HEADER}"
            )));
        }
    }
    if !cols.contains(&"consent") && !cols.contains(&"policy") {
        return Err(UseFileError::Header(format!(
            "give a `consent` or a `policy` column; the columns are {CSV_HEADER}"
        )));
    }
    let mut uses = Vec::new();
    for (line, text) in lines {
        let vals: Vec<&str> = text.split(',').map(str::trim).collect();
        if vals.len() != cols.len() {
            return Err(UseFileError::Line {
                line,
                why: format!("{} values for {} columns", vals.len(), cols.len()),
            });
        }
        let get = |name: &str| {
            cols.iter()
                .position(|c| *c == name)
                .and_then(|i| vals.get(i).copied())
        };
        let units = get("units")
            .unwrap_or_default()
            .parse::<u32>()
            .map_err(|e| UseFileError::Line {
                line,
                why: format!("units: {e}"),
            })?;
        let u = use_from_fields(
            get("consumer").unwrap_or_default(),
            get("consent"),
            get("policy"),
            get("category").unwrap_or_default(),
            get("purpose").unwrap_or_default(),
            get("level").unwrap_or_default(),
            units,
            get("evidence_hash").unwrap_or_default(),
        )
        .map_err(|why| UseFileError::Line { line, why })?;
        uses.push(u);
    }
    Ok(uses)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn account() -> String {
        AccountId([3u8; 32]).to_string()
    }

    #[test]
    fn csv_and_json_give_the_same_uses() {
        let h = "ab".repeat(32);
        let csv = format!(
            "# uses\n{CSV_HEADER}\n{},{h},,Purchase,ServiceOptimisation,aggregate,2,{h}\n",
            account()
        );
        let json = format!(
            r#"{{"uses":[{{"consumer":"{}","consent":"{h}","category":"Purchase","purpose":"ServiceOptimisation","level":"aggregate","units":2,"evidence_hash":"{h}"}}]}}"#,
            account()
        );
        let a = parse(&csv, UseFileFormat::Auto).unwrap();
        let b = parse(&json, UseFileFormat::Auto).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].units, 2);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let h = "ab".repeat(32);
        let csv = format!(
            "{CSV_HEADER}\n{},{h},,Purchase,marketing,aggregate,1,{h}\n",
            account()
        );
        let err = parse(&csv, UseFileFormat::Csv).unwrap_err().to_string();
        assert!(
            err.starts_with("line 2: purpose:") && err.contains("not a DPV purpose"),
            "{err}"
        );
        let err = parse("consumer,units\n", UseFileFormat::Csv)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
    }
}
