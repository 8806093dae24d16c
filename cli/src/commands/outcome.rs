//! Transactions and their outcomes in words: "alice granted acme (assent1…)
//! DirectMarketing on Purchase (pseudonymous) at 3 pts/use: consent 4f2a…
//! committed at height 57".
//!
//! Events come from the node as JSON; they are read leniently (the
//! contracts' `Event` serialised by serde: `{"consent_granted": {...}}`, or
//! a `{"type": ...}` object), so an unexpected shape only loses detail.

use assent_cli::accounts::Names;
use assent_cli::client::TxStatus;
use assent_contracts::state::PolicyTarget;
use assent_contracts::tx::GovAction;
use assent_contracts::{AccountId, Payload, Timestamp};
use assent_genesis::time::format_utc;
use serde_json::Value;

/// One event: its type (`consent_granted`) and its fields.
#[derive(Debug)]
pub struct Ev<'a> {
    pub kind: String,
    pub data: &'a Value,
}

impl Ev<'_> {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    pub fn u64(&self, key: &str) -> u64 {
        self.data.get(key).and_then(Value::as_u64).unwrap_or(0)
    }
}

static NULL: Value = Value::Null;

/// Reads one event in either shape.
pub fn event(v: &Value) -> Option<Ev<'_>> {
    match v {
        Value::String(s) => Some(Ev {
            kind: s.clone(),
            data: &NULL,
        }),
        Value::Object(m) => {
            // The node may wrap the event: {"event": {...}, "height": ..}.
            if let Some(inner) = m.get("event").filter(|e| e.is_object() || e.is_string()) {
                return event(inner);
            }
            if let Some(kind) = m.get("type").and_then(Value::as_str) {
                return Some(Ev {
                    kind: kind.to_string(),
                    data: v,
                });
            }
            if m.len() == 1 {
                let (k, d) = m.iter().next()?;
                return Some(Ev {
                    kind: k.clone(),
                    data: d,
                });
            }
            None
        }
        _ => None,
    }
}

pub fn events(list: &[Value]) -> Vec<Ev<'_>> {
    list.iter().filter_map(event).collect()
}

/// An event on one line: `consent_granted consent=… consumer=alice`.
pub fn event_line(v: &Value, names: &Names) -> String {
    let Some(ev) = event(v) else {
        return v.to_string();
    };
    let mut parts = vec![ev.kind.clone()];
    if let Value::Object(m) = ev.data {
        for (k, val) in m {
            if k == "type" {
                continue;
            }
            let text = match val {
                Value::String(s) => names.name_or_address(s),
                other => other.to_string(),
            };
            parts.push(format!("{k}={text}"));
        }
    }
    parts.join(" ")
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list<T: ToString>(items: &[T]) -> String {
    let v: Vec<String> = items.iter().map(ToString::to_string).collect();
    match v.as_slice() {
        [] => "nothing".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn tags(t: &[assent_contracts::terms::Tag]) -> Vec<&str> {
    t.iter().map(|t| t.0.as_str()).collect()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn first_id(evs: &[Ev<'_>], kind: &str, key: &str) -> Option<String> {
    evs.iter()
        .find(|e| e.kind == kind)
        .and_then(|e| e.str(key))
        .map(str::to_string)
}

fn gov_action(a: &GovAction, names: &Names) -> String {
    match a {
        GovAction::AdmitEnterprise {
            account,
            name,
            sector,
            ..
        } => format!(
            "admitting {} as enterprise `{name}` in sector {sector}",
            names.label(account)
        ),
        GovAction::SuspendEnterprise { account } => {
            format!("suspending enterprise {}", names.label(account))
        }
        GovAction::ReinstateEnterprise { account } => {
            format!("reinstating enterprise {}", names.label(account))
        }
        GovAction::AddValidator { validator } => format!(
            "adding validator {} ({}, power {})",
            validator.name,
            names.label(&validator.consensus_key),
            validator.power
        ),
        GovAction::RemoveValidator { consensus_key } => {
            format!("removing validator {}", names.label(consensus_key))
        }
        GovAction::SetParams { .. } => "new chain parameters".into(),
        GovAction::SetReferralTerms { terms } => format!(
            "referral terms of {} bps of each referred consumer's use, at most {} points per referral (0 = no cap), for {} ms (0 = no limit)",
            terms.share_bps.0, terms.max_points.0, terms.period_ms
        ),
    }
}

/// What a committed tx did, and the id it created (if any).
fn phrase(
    payload: &Payload,
    names: &Names,
    who: &str,
    tx_id: &str,
    evs: &[Ev<'_>],
) -> (String, Option<String>) {
    let terms = |purposes: &[_], categories: &[_], level: &dyn std::fmt::Display| {
        format!(
            "{} on {} ({level})",
            and_list(purposes),
            and_list(categories)
        )
    };
    match payload {
        Payload::RegisterConsumer(r) if r.tags.commitments.is_empty() => {
            (format!("{who} registered as a consumer"), None)
        }
        Payload::RegisterConsumer(r) => (
            format!(
                "{who} registered as a consumer with {} tag commitment(s) (salted: which tags they are is not on the chain)",
                r.tags.commitments.len()
            ),
            None,
        ),
        Payload::SetTags(t) if t.tags.commitments.is_empty() => {
            (format!("{who} cleared their tags"), None)
        }
        Payload::SetTags(t) => (
            format!(
                "{who} set {} tag commitment(s) (salted: which tags they are is not on the chain)",
                t.tags.commitments.len()
            ),
            None,
        ),
        Payload::GrantConsent(g) => {
            let mut s = format!(
                "{who} granted {} {} at {} pts/use",
                names.label(&g.enterprise),
                terms(&g.purposes, &g.categories, &g.level),
                g.price_per_use.0
            );
            if let Some(m) = g.max_uses {
                s.push_str(&format!(", at most {}", plural(m, "use", "uses")));
            }
            if let Some(t) = g.expires_at {
                s.push_str(&format!(", until {}", format_utc(t)));
            }
            if let Some(r) = g.request {
                s.push_str(&format!(", answering request {r}"));
            }
            let id = first_id(evs, "consent_granted", "consent").unwrap_or_else(|| tx_id.into());
            (s, Some(format!("consent {id}")))
        }
        Payload::RevokeConsent(r) => (format!("{who} revoked consent {}", r.consent), None),
        Payload::RevokeAll(r) => {
            let n = evs.iter().filter(|e| e.kind == "consent_revoked").count() as u64;
            let to = r
                .enterprise
                .map(|e| format!(" to {}", names.label(&e)))
                .unwrap_or_default();
            (
                format!("{who} revoked {}{to}", plural(n, "consent", "consents")),
                None,
            )
        }
        Payload::PauseConsent(p) => (format!("{who} paused consent {}", p.consent), None),
        Payload::ResumeConsent(p) => (format!("{who} resumed consent {}", p.consent), None),
        Payload::SetPolicy(p) => {
            let target = match &p.target {
                PolicyTarget::Sector(s) => format!("any {s} enterprise"),
                PolicyTarget::Enterprise(e) => names.label(e),
            };
            let id = first_id(evs, "policy_set", "policy").unwrap_or_else(|| tx_id.into());
            (
                format!(
                    "{who} allowed {target} {} at {} pts/use",
                    terms(&p.purposes, &p.categories, &p.level),
                    p.min_price.0
                ),
                Some(format!("policy {id}")),
            )
        }
        Payload::ClearPolicy(c) => (format!("{who} cleared policy {}", c.policy), None),
        Payload::PostRequest(r) => {
            let id = first_id(evs, "request_posted", "request").unwrap_or_else(|| tx_id.into());
            let tags = if r.target_tags.is_empty() {
                String::new()
            } else {
                format!(" for consumers tagged {}", and_list(&tags(&r.target_tags)))
            };
            (
                format!(
                    "{who} asked for {} at {} pts/use{tags}, open for {}",
                    terms(&r.purposes, &r.categories, &r.level),
                    r.price_per_use.0,
                    duration_words(r.duration_ms)
                ),
                Some(format!("request {id}")),
            )
        }
        Payload::RecordUse(r) => {
            let settled: Vec<&Ev<'_>> = evs.iter().filter(|e| e.kind == "use_settled").collect();
            let rejected = evs.iter().filter(|e| e.kind == "use_rejected").count() as u64;
            let paid: u64 = settled.iter().map(|e| e.u64("paid")).sum();
            let to_consumers: u64 = settled.iter().map(|e| e.u64("to_consumer")).sum();
            let to_referrers: u64 = evs
                .iter()
                .filter(|e| e.kind == "referral_paid")
                .map(|e| e.u64("amount"))
                .sum();
            let referrers = if to_referrers > 0 {
                format!(", {to_referrers} to referrers out of the operators' share")
            } else {
                String::new()
            };
            (
                format!(
                    "{who} recorded {}: {} settled ({paid} points paid, {to_consumers} to consumers{referrers}), {} rejected",
                    plural(r.uses.len() as u64, "use", "uses"),
                    settled.len(),
                    rejected
                ),
                None,
            )
        }
        Payload::Rate(r) => (
            format!(
                "{who} rated {} {}/5 for consent {}",
                names.label(&r.enterprise),
                r.score,
                r.consent
            ),
            None,
        ),
        Payload::SetContact(c) => (
            format!(
                "{who} set its contact as a data controller: {}, {}",
                c.email, c.address
            ),
            None,
        ),
        Payload::LinkIdentity(l) => (
            format!(
                "{who} linked their {} for {} (commitment {}; the identifier is not on the chain)",
                l.kind.noun(),
                names.label(&l.enterprise),
                l.commitment
            ),
            None,
        ),
        Payload::UnlinkIdentity(u) => (
            format!(
                "{who} removed the link of their {} for {}; it matches nothing from this block on",
                u.kind.noun(),
                names.label(&u.enterprise)
            ),
            None,
        ),
        Payload::NameReferrer(r) => (
            format!(
                "{who} named {} as the consumer who referred them (it never changes)",
                names.label(&r.referrer)
            ),
            None,
        ),
        Payload::RotateKey(r) => (
            format!(
                "{who} moved their account to key {}; the key that signed this is retired from this block on",
                r.new_key
            ),
            None,
        ),
        Payload::SetGuardians(g) if g.guardians.is_empty() => (
            format!("{who} removed their guardians: social recovery is off"),
            None,
        ),
        Payload::SetGuardians(g) => (
            format!(
                "{who} named {} as guardians: {} of them can move the account to a new key, {} after they agree unless the account's key cancels",
                and_list(&g.guardians.iter().map(|a| names.label(a)).collect::<Vec<_>>()),
                g.threshold,
                duration_words(g.delay_ms)
            ),
            None,
        ),
        Payload::SupportRecovery(r) => {
            let armed = evs.iter().any(|e| e.kind == "recovery_armed");
            (
                format!(
                    "{who} supports moving {} to key {}{}",
                    names.label(&r.account),
                    r.new_key,
                    if armed {
                        "; enough guardians agree: the new key can claim the account once the delay has passed"
                    } else {
                        ""
                    }
                ),
                None,
            )
        }
        Payload::CancelRecovery(_) => (
            format!("{who} cancelled the recovery of their account"),
            None,
        ),
        Payload::ClaimRecovery(c) => (
            format!(
                "{who} took over account {}: it signs for it from this block on, its old key is retired",
                names.label(&c.account)
            ),
            None,
        ),
        Payload::Transfer(t) => (
            format!(
                "{who} sent {} to {}",
                plural(t.amount.0, "point", "points"),
                names.label(&t.to)
            ),
            None,
        ),
        Payload::Mint(m) => (
            format!(
                "{who} minted {} to {}",
                plural(m.amount.0, "point", "points"),
                names.label(&m.to)
            ),
            None,
        ),
        Payload::Propose(p) => {
            let id = first_id(evs, "proposal_created", "proposal").unwrap_or_else(|| tx_id.into());
            let voted = if evs.iter().any(|e| e.kind == "voted") {
                " and voted yes"
            } else {
                ""
            };
            let passed = if evs.iter().any(|e| e.kind == "proposal_passed") {
                "; it passed at once"
            } else {
                ""
            };
            (
                format!(
                    "{who} proposed {}{voted}{passed}",
                    gov_action(&p.action, names)
                ),
                Some(format!("proposal {id}")),
            )
        }
        Payload::Vote(v) => {
            let result = if evs.iter().any(|e| e.kind == "proposal_passed") {
                "; the proposal passed"
            } else if evs.iter().any(|e| e.kind == "proposal_rejected") {
                "; the proposal was rejected"
            } else {
                ""
            };
            (
                format!(
                    "{who} voted {} on proposal {}{result}",
                    if v.yes { "yes" } else { "no" },
                    v.proposal
                ),
                None,
            )
        }
    }
}

/// `30d`, `12h`, `15m`, `45s` or `1500ms`: the largest exact unit.
pub fn duration_words(ms: u64) -> String {
    for (unit, n) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= n && ms.is_multiple_of(n) {
            return format!("{}{unit}", ms / n);
        }
    }
    format!("{ms}ms")
}

/// A committed tx in words, with one more line per rejected use.
pub fn committed(
    payload: &Payload,
    names: &Names,
    sender: &AccountId,
    tx_id: &str,
    st: &TxStatus,
) -> String {
    let who = names
        .name(sender)
        .map(str::to_string)
        .unwrap_or_else(|| sender.to_string());
    let evs = events(&st.events);
    let (what, id) = phrase(payload, names, &who, tx_id, &evs);
    let height = st
        .height
        .map(|h| format!(" at height {h}"))
        .unwrap_or_default();
    let mut text = format!(
        "{what}: {}committed{height}",
        id.map(|i| format!("{i} ")).unwrap_or_default()
    );
    for e in evs.iter().filter(|e| e.kind == "use_rejected") {
        text.push_str(&format!(
            "\n  use #{} of {} rejected: {}: {}",
            e.u64("index"),
            names.name_or_address(e.str("consumer").unwrap_or("?")),
            e.str("code").unwrap_or("?"),
            e.str("reason").unwrap_or("")
        ));
    }
    text
}

/// For a RecordUse of which no use settled: the error in words
/// (`rejected: consent_revoked: … (use of alice, tx …, block 32)`).
pub fn no_use_settled(
    payload: &Payload,
    names: &Names,
    tx_id: &str,
    st: &TxStatus,
) -> Option<String> {
    let Payload::RecordUse(r) = payload else {
        return None;
    };
    let evs = events(&st.events);
    if evs.iter().any(|e| e.kind == "use_settled") {
        return None;
    }
    let rejected: Vec<&Ev<'_>> = evs.iter().filter(|e| e.kind == "use_rejected").collect();
    let first = rejected.first()?;
    let block = st
        .height
        .map(|h| format!(", block {h}"))
        .unwrap_or_default();
    let why = |e: &Ev<'_>| {
        format!(
            "{}: {}",
            e.str("code").unwrap_or("?"),
            e.str("reason").unwrap_or("")
        )
    };
    Some(if r.uses.len() == 1 {
        format!(
            "rejected: {} (use of {}, tx {tx_id}{block})",
            why(first),
            names.name_or_address(first.str("consumer").unwrap_or("?"))
        )
    } else {
        let shown: Vec<String> = rejected
            .iter()
            .take(3)
            .map(|e| format!("#{} {}", e.u64("index"), why(e)))
            .collect();
        format!(
            "all {} uses were rejected (tx {tx_id}{block}): {}{}",
            r.uses.len(),
            shown.join("; "),
            if rejected.len() > 3 { "; …" } else { "" }
        )
    })
}

/// A block time in words.
pub fn time_words(ms: u64) -> String {
    format_utc(Timestamp(ms))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    #[test]
    fn events_in_either_shape() {
        let a = json!({"consent_granted": {"consent": "ab"}});
        let b = json!({"type": "consent_granted", "consent": "ab"});
        let c = json!({"height": 3, "event": {"consent_granted": {"consent": "ab"}}});
        for v in [&a, &b, &c] {
            let e = event(v).unwrap();
            assert_eq!(e.kind, "consent_granted");
            assert_eq!(e.str("consent"), Some("ab"));
        }
        assert_eq!(
            event(&json!("params_changed")).unwrap().kind,
            "params_changed"
        );
    }

    #[test]
    fn lists_and_durations_read_well() {
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(duration_words(30 * 86_400_000), "30d");
        assert_eq!(duration_words(1500), "1500ms");
    }
}
