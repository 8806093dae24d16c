//! Helpers of `consumer_export_round_trips_every_record`: signing and
//! submitting its txs, reading the export's CSV and JSON files, and the
//! independent truth walked from every block.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use assent_contracts::crypto::Keypair;
use assent_contracts::terms::Level;
use assent_contracts::tx::*;
use assent_contracts::{AccountId, ConsentId, Event, Hash32, Payload, SignedTx, TxBody};
use assent_tests::{bin, Net, PASS};
use serde_json::Value;

pub fn signed(net: &Net, key: &Keypair, nonce: u64, payload: Payload) -> SignedTx {
    TxBody {
        sender: key.account(),
        nonce,
        payload,
    }
    .sign(&net.chain_id, key)
}

/// Submits txs by `POST /v1/txs/batch` (the tail refused `overloaded` again
/// after Retry-After); all must be admitted.
pub fn submit_batch(net: &Net, i: usize, txs: &[SignedTx]) {
    for r in net.batch_patiently(i, txs) {
        assert!(r["tx_id"].is_string(), "refused: {r}");
    }
}

/// Submits each sender's txs (consecutive nonces) and waits until every one is committed.
pub fn run_all(net: &Net, txs: &[SignedTx]) {
    submit_batch(net, 0, txs);
    let mut last: BTreeMap<AccountId, &SignedTx> = BTreeMap::new();
    for t in txs {
        last.insert(t.body.sender, t);
    }
    for t in last.values() {
        net.wait_tx(0, &t.id().to_string());
    }
    for t in txs {
        let s = net.get(0, &format!("/v1/txs/{}", t.id())).unwrap();
        assert_eq!(s["status"], "committed", "{} {s}", t.body.payload.kind());
    }
}

pub fn term<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

pub fn a_use(consumer: AccountId, basis: UseBasis, category: &str, purpose: &str, n: u32) -> Use {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&n.to_be_bytes());
    Use {
        consumer,
        basis,
        category: term(category),
        purpose: term(purpose),
        level: Level::Pseudonymous,
        units: 1,
        evidence_hash: Hash32(h),
    }
}

/// Parses RFC 4180 CSV (quoted fields, doubled quotes) into rows of fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// A CSV file as maps of column → value, checking the header.
pub fn csv_rows(dir: &Path, name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let rows = parse_csv(&text);
    let header = rows[0].clone();
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{name}: {r:?}");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

/// A JSON value as its CSV text.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

pub fn read_json(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

pub fn assent(net: &Net, args: &[&str]) -> std::process::Output {
    Command::new(bin("assent"))
        .args(args)
        .args(["--home", net.dir.path().to_str().unwrap()])
        .args(["--node", &net.nodes[1].api])
        .env("ASSENT_PASSPHRASE", PASS)
        .output()
        .unwrap()
}

/// Every file under `dir`, relative.
pub fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}

#[derive(Debug, Default)]
pub struct Truth {
    /// consent → [(change, height, tx id, tx kind)] in chain order.
    pub changes: BTreeMap<String, Vec<(String, u64, String)>>,
    /// use id → (height, tx id, event).
    pub uses: BTreeMap<String, (u64, String, Event)>,
    /// (kind, tx id, amount, use id) of every payment to the consumer.
    pub rewards: BTreeSet<(String, String, u64, String)>,
}

/// Walks blocks 1..=h and collects what happened to `who`.
pub fn walk_blocks(net: &Net, who: &AccountId, h: u64) -> Truth {
    let mut t = Truth::default();
    for height in 1..=h {
        let b = net.get(2, &format!("/v1/blocks/{height}")).unwrap();
        for r in b["results"].as_array().unwrap() {
            let tx = r["tx_id"].as_str().unwrap().to_string();
            for e in r["events"].as_array().into_iter().flatten() {
                let e: Event = serde_json::from_value(e.clone()).unwrap();
                let change = |c: &ConsentId, kind: &str, t: &mut Truth| {
                    t.changes.entry(c.to_string()).or_default().push((
                        kind.into(),
                        height,
                        tx.clone(),
                    ))
                };
                match &e {
                    Event::ConsentGranted {
                        consent, consumer, ..
                    } if consumer == who => change(consent, "granted", &mut t),
                    Event::ConsentPaused {
                        consent, consumer, ..
                    } if consumer == who => change(consent, "paused", &mut t),
                    Event::ConsentResumed {
                        consent, consumer, ..
                    } if consumer == who => change(consent, "resumed", &mut t),
                    Event::ConsentRevoked {
                        consent, consumer, ..
                    } if consumer == who => change(consent, "revoked", &mut t),
                    Event::UseSettled {
                        use_id,
                        consumer,
                        to_consumer,
                        ..
                    } if consumer == who => {
                        t.rewards.insert((
                            "use".into(),
                            tx.clone(),
                            to_consumer.0,
                            use_id.to_string(),
                        ));
                        t.uses
                            .insert(use_id.to_string(), (height, tx.clone(), e.clone()));
                    }
                    Event::UseRejected {
                        use_id, consumer, ..
                    } if consumer == who => {
                        t.uses
                            .insert(use_id.to_string(), (height, tx.clone(), e.clone()));
                    }
                    Event::Transferred { from, to, amount } if to == who && from != who => {
                        t.rewards
                            .insert(("transfer".into(), tx.clone(), amount.0, String::new()));
                    }
                    Event::Minted { to, amount } if to == who => {
                        t.rewards
                            .insert(("mint".into(), tx.clone(), amount.0, String::new()));
                    }
                    _ => {}
                }
            }
        }
    }
    t
}
