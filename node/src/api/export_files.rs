//! The records of a consumer's export, its files and the tar archive that
//! holds them (layout in docs/node-interfaces.md and the archive's own README.md).
//!
//! CSV files follow RFC 4180: a header row, comma-separated, a field quoted
//! (with `"` doubled) when it holds a comma, quote or line break; lists
//! inside a field are joined with `;`; an absent value is an empty field.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use assent_contracts::state::Consumer;
use assent_contracts::{AccountId, Amount};

use super::error::ApiError;
use super::export::{too_large, MAX_EXPORT_BYTES};
use super::links::IdentityLinkEntry;
use super::views::{ConsentView, DpvStatus, PolicyView};

/// The chain and height the export is as of.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AsOf {
    pub chain_id: String,
    pub genesis_hash: String,
    pub height: u64,
    pub block_hash: String,
    pub state_root: String,
    /// Block time of H, ms since the Unix epoch.
    pub time: u64,
}

/// What a consent state change was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChangeKind {
    Granted,
    Paused,
    Resumed,
    Revoked,
    Expired,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Granted => "granted",
            ChangeKind::Paused => "paused",
            ChangeKind::Resumed => "resumed",
            ChangeKind::Revoked => "revoked",
            ChangeKind::Expired => "expired",
        }
    }
}

/// One state change of a consent.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Change {
    /// 1, 2, ... in order.
    pub seq: u32,
    pub change: ChangeKind,
    /// DPV status after the change (revoked > expired > paused > given).
    pub status: DpvStatus,
    /// Block of the tx; null for an expiry (it follows from block time).
    pub height: Option<u64>,
    /// Block time of the tx, or the consent's `expires_at` for an expiry.
    pub time: u64,
    pub tx_id: Option<String>,
    /// `GrantConsent`, `PauseConsent`, `ResumeConsent`, `RevokeConsent`, `RevokeAll`.
    pub tx_kind: Option<String>,
    /// Path of its receipt in the archive.
    pub receipt: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConsentEntry {
    #[serde(flatten)]
    pub record: ConsentView,
    pub enterprise_name: Option<String>,
    pub history: Vec<Change>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UseEntry {
    pub use_id: String,
    pub tx_id: String,
    pub height: u64,
    pub time: u64,
    pub tx_index: u32,
    /// Index of the use in its RecordUse tx.
    pub index: u32,
    pub enterprise: AccountId,
    pub enterprise_name: Option<String>,
    /// `consent` or `policy`.
    pub basis_kind: &'static str,
    pub basis_id: String,
    pub category: String,
    pub purpose: String,
    pub level: String,
    pub units: u32,
    pub evidence_hash: String,
    pub settled: bool,
    pub paid: u64,
    pub to_consumer: u64,
    /// The operators' share, less the referrer's.
    pub to_operators: u64,
    /// The advocacy share paid to your referrer out of the operators' share.
    pub to_referrer: u64,
    pub referrer: Option<AccountId>,
    pub code: Option<String>,
    pub reason: Option<String>,
    pub receipt: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RewardEntry {
    /// `use` (earned from a settled use), `referral` (the advocacy share of a
    /// use of someone you referred: from the enterprise that paid; whose
    /// use it was is not shown), `transfer` or `mint` (points received).
    pub kind: &'static str,
    pub amount: u64,
    pub height: u64,
    pub time: u64,
    pub tx_id: String,
    /// The enterprise that paid (for a use or a referral), the sender of a
    /// transfer, or the mint authority.
    pub from: AccountId,
    pub from_name: Option<String>,
    pub use_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PolicyChange {
    /// `set` or `cleared`.
    pub change: &'static str,
    pub policy: String,
    pub height: u64,
    pub time: u64,
    pub tx_id: String,
}

/// Where the consumer's registration tx is, if indexed.
#[derive(Debug, Serialize)]
pub(crate) struct Registration {
    pub height: u64,
    pub time: u64,
    pub tx_id: String,
}

/// Everything an export holds.
#[derive(Debug)]
pub(crate) struct Export {
    pub account: AccountId,
    pub as_of: AsOf,
    pub consumer: Consumer,
    pub registration: Option<Registration>,
    pub balance: Amount,
    pub consents: Vec<ConsentEntry>,
    pub uses: Vec<UseEntry>,
    pub rewards: Vec<RewardEntry>,
    pub policies: Vec<PolicyView>,
    pub policy_changes: Vec<PolicyChange>,
    pub identity_links: Vec<IdentityLinkEntry>,
    pub referrals: super::referrals::ReferralSummary,
    /// (archive path, receipt JSON), in archive order.
    pub receipts: Files,
}

/// Archive files: (path under the top directory, bytes).
pub(crate) type Files = Vec<(String, Arc<Vec<u8>>)>;

/// `assent-export-<account>-h<height>`: the archive's top directory, and its
/// file name with `.tar`.
pub(crate) fn archive_name(e: &Export) -> String {
    format!("assent-export-{}-h{}", e.account, e.as_of.height)
}

fn json_file<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, ApiError> {
    let mut out = serde_json::to_vec_pretty(v)
        .map_err(|e| ApiError::internal(format!("an export file could not be written: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// One CSV field.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A CSV file from a header and rows.
fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut out = header.join(",");
    out.push('\n');
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| field(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(String::new, ToString::to_string)
}

fn joined<T: AsRef<str>>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter()
        .map(|x| x.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// A serde value's plain text (`"pseudonymous"` → `pseudonymous`).
fn text<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

pub(crate) const CONSENT_COLUMNS: &[&str] = &[
    "consent_id",
    "enterprise",
    "enterprise_name",
    "categories",
    "purposes",
    "level",
    "price_per_use",
    "max_uses",
    "used",
    "expires_at",
    "request",
    "granted_height",
    "granted_time",
    "status",
    "rating",
    "changes",
];

pub(crate) const HISTORY_COLUMNS: &[&str] = &[
    "consent_id",
    "seq",
    "change",
    "status",
    "height",
    "time",
    "tx_id",
    "tx_kind",
    "receipt",
];

pub(crate) const USE_COLUMNS: &[&str] = &[
    "use_id",
    "tx_id",
    "height",
    "time",
    "tx_index",
    "index",
    "enterprise",
    "enterprise_name",
    "basis_kind",
    "basis_id",
    "category",
    "purpose",
    "level",
    "units",
    "evidence_hash",
    "settled",
    "paid",
    "to_consumer",
    "to_operators",
    "to_referrer",
    "referrer",
    "code",
    "reason",
    "receipt",
];

pub(crate) const REWARD_COLUMNS: &[&str] = &[
    "kind",
    "amount",
    "height",
    "time",
    "tx_id",
    "from",
    "from_name",
    "use_id",
];

/// Every file of the export as (path inside the top directory, bytes).
pub(crate) fn files(e: &Export) -> Result<Files, ApiError> {
    let settled = e.uses.iter().filter(|u| u.settled).count();
    let changes: usize = e.consents.iter().map(|c| c.history.len()).sum();
    let earned_from_uses: u64 = e
        .rewards
        .iter()
        .filter(|r| r.kind == "use")
        .map(|r| r.amount)
        .sum();
    let received: u64 = e.rewards.iter().map(|r| r.amount).sum();
    let consumer = json!({
        "account": e.account,
        "as_of": e.as_of,
        "registered_at": e.consumer.registered_at,
        "registration": e.registration,
        "tags": e.consumer.tags,
        "balance": e.balance,
        "earned": e.consumer.earned,
        "uses_settled": e.consumer.uses_settled,
        "identity_links": e.identity_links,
        "referral_earned": e.referrals.referral_earned,
        "referred_consumers": e.referrals.referred_consumers,
        "referred_by": e.referrals.referred_by,
        "counts": {
            "consents": e.consents.len(),
            "consent_changes": changes,
            "uses": e.uses.len(),
            "uses_settled": settled,
            "uses_rejected": e.uses.len() - settled,
            "rewards": e.rewards.len(),
            "rewards_total": received,
            "earned_from_uses": earned_from_uses,
            "policies": e.policies.len(),
            "identity_links": e.identity_links.len(),
            "receipts": e.receipts.len(),
        },
    });
    let consents_csv = csv(
        CONSENT_COLUMNS,
        e.consents.iter().map(|c| {
            let r = &c.record;
            vec![
                r.id.to_string(),
                r.enterprise.to_string(),
                opt(&c.enterprise_name),
                joined(r.categories.iter().map(|x| x.as_str())),
                joined(r.purposes.iter().map(|x| x.as_str())),
                r.level.to_string(),
                r.price_per_use.0.to_string(),
                opt(&r.max_uses),
                r.used.to_string(),
                opt(&r.expires_at.map(|t| t.0)),
                opt(&r.request),
                r.granted_height.0.to_string(),
                r.granted_time.0.to_string(),
                text(&r.status),
                opt(&c.record.rating),
                c.history.len().to_string(),
            ]
        }),
    );
    let history_csv = csv(
        HISTORY_COLUMNS,
        e.consents.iter().flat_map(|c| {
            c.history.iter().map(move |h| {
                vec![
                    c.record.id.to_string(),
                    h.seq.to_string(),
                    h.change.as_str().to_string(),
                    text(&h.status),
                    opt(&h.height),
                    h.time.to_string(),
                    opt(&h.tx_id),
                    opt(&h.tx_kind),
                    opt(&h.receipt),
                ]
            })
        }),
    );
    let uses_csv = csv(
        USE_COLUMNS,
        e.uses.iter().map(|u| {
            vec![
                u.use_id.clone(),
                u.tx_id.clone(),
                u.height.to_string(),
                u.time.to_string(),
                u.tx_index.to_string(),
                u.index.to_string(),
                u.enterprise.to_string(),
                opt(&u.enterprise_name),
                u.basis_kind.to_string(),
                u.basis_id.clone(),
                u.category.clone(),
                u.purpose.clone(),
                u.level.clone(),
                u.units.to_string(),
                u.evidence_hash.clone(),
                u.settled.to_string(),
                u.paid.to_string(),
                u.to_consumer.to_string(),
                u.to_operators.to_string(),
                u.to_referrer.to_string(),
                u.referrer.map(|r| r.to_string()).unwrap_or_default(),
                opt(&u.code),
                opt(&u.reason),
                u.receipt.clone(),
            ]
        }),
    );
    let rewards_csv = csv(
        REWARD_COLUMNS,
        e.rewards.iter().map(|r| {
            vec![
                r.kind.to_string(),
                r.amount.to_string(),
                r.height.to_string(),
                r.time.to_string(),
                r.tx_id.clone(),
                r.from.to_string(),
                opt(&r.from_name),
                opt(&r.use_id),
            ]
        }),
    );
    let mut out: Files = vec![
        (
            "README.md".into(),
            Arc::new(super::export_readme::readme(e).into_bytes()),
        ),
        ("consumer.json".into(), Arc::new(json_file(&consumer)?)),
        (
            "consents.json".into(),
            Arc::new(json_file(&json!({ "consents": e.consents }))?),
        ),
        ("consents.csv".into(), Arc::new(consents_csv)),
        ("consent_history.csv".into(), Arc::new(history_csv)),
        (
            "uses.json".into(),
            Arc::new(json_file(&json!({ "uses": e.uses }))?),
        ),
        ("uses.csv".into(), Arc::new(uses_csv)),
        (
            "rewards.json".into(),
            Arc::new(json_file(
                &json!({ "total": received, "rewards": e.rewards }),
            )?),
        ),
        ("rewards.csv".into(), Arc::new(rewards_csv)),
        (
            "policies.json".into(),
            Arc::new(json_file(&json!({
                "policies": e.policies,
                "changes": e.policy_changes,
            }))?),
        ),
    ];
    out.extend(e.receipts.iter().cloned());
    Ok(out)
}

/// The whole archive: every file under `archive_name(e)/`.
pub(crate) fn archive(e: &Export) -> Result<Vec<u8>, ApiError> {
    let files = files(e)?;
    // 512-byte header per entry, data padded to 512, two zero blocks at the end.
    let size: usize = files
        .iter()
        .map(|(_, b)| 512 + b.len().div_ceil(512) * 512)
        .sum::<usize>()
        + 1024;
    if size > MAX_EXPORT_BYTES {
        return Err(too_large(format!(
            "the archive would be {} MiB",
            size.div_ceil(1024 * 1024)
        )));
    }
    let top = archive_name(e);
    let mtime = e.as_of.time / 1000;
    let mut tar = tar::Builder::new(Vec::with_capacity(size));
    let fail =
        |e: std::io::Error| ApiError::internal(format!("the archive could not be built: {e}"));
    for (path, bytes) in &files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{top}/{path}"), bytes.as_slice())
            .map_err(fail)?;
    }
    tar.into_inner().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(field("abc"), "abc");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"no\""), "\"say \"\"no\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        let out = csv(
            &["a", "b"],
            vec![vec!["1".into(), "x,y".into()]].into_iter(),
        );
        assert_eq!(String::from_utf8(out).unwrap(), "a,b\n1,\"x,y\"\n");
    }
}
