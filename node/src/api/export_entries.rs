//! The consent and use entries of a consumer's export, each with its
//! history and receipts (a child of `export`, which gathers the rest).

use super::*;

/// DPV status from the flags, with the API's precedence.
fn status_of(revoked: bool, expired: bool, paused: bool) -> DpvStatus {
    if revoked {
        DpvStatus::ConsentWithdrawn
    } else if expired {
        DpvStatus::ConsentExpired
    } else if paused {
        DpvStatus::ConsentPaused
    } else {
        DpvStatus::ConsentGiven
    }
}

pub(super) fn consent_entries(
    snap: &Snapshot,
    history: &[HistoryRecord],
    names: &mut Names<'_>,
    rc: &mut Receipts<'_>,
    files: &mut Files,
) -> Result<Vec<ConsentEntry>, ApiError> {
    let mut by_consent: BTreeMap<ConsentId, Vec<(ChangeKind, &HistoryRecord)>> = BTreeMap::new();
    for r in history {
        let (kind, consent) = match &r.event {
            Event::ConsentGranted { consent, .. } => (ChangeKind::Granted, consent),
            Event::ConsentPaused { consent, .. } => (ChangeKind::Paused, consent),
            Event::ConsentResumed { consent, .. } => (ChangeKind::Resumed, consent),
            Event::ConsentRevoked { consent, .. } => (ChangeKind::Revoked, consent),
            _ => continue,
        };
        by_consent.entry(*consent).or_default().push((kind, r));
    }
    let now = snap.head.time;
    let mut consents: Vec<&Consent> = snap.consents.iter().collect();
    consents.sort_by(|a, b| {
        a.granted_height
            .cmp(&b.granted_height)
            .then(a.id.cmp(&b.id))
    });
    let mut out = Vec::with_capacity(consents.len());
    for c in consents {
        let mut steps: Vec<Step> = by_consent
            .get(&c.id)
            .map(|v| {
                v.iter()
                    .map(|(k, r)| Step {
                        kind: *k,
                        height: Some(r.height),
                        time: r.time,
                        tx: Some(r.tx_id),
                        tx_kind: Some(r.tx_kind.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if steps.first().map(|s| s.kind) != Some(ChangeKind::Granted) {
            // Granted before the history index existed: the grant tx's id is the consent id.
            steps.insert(
                0,
                Step {
                    kind: ChangeKind::Granted,
                    height: Some(c.granted_height),
                    time: c.granted_time,
                    tx: Some(TxId(c.id.0)),
                    tx_kind: Some("GrantConsent".to_string()),
                },
            );
        }
        if let Some(at) = c.expires_at.filter(|t| *t <= now) {
            // A consent covers no use in a block whose time is at or after
            // expires_at; a revocation before that moment makes expiry moot.
            let revoked_before = steps
                .iter()
                .any(|s| s.kind == ChangeKind::Revoked && s.time < at);
            if !revoked_before {
                let pos = steps
                    .iter()
                    .skip(1)
                    .position(|s| s.time >= at)
                    .map_or(steps.len(), |p| p + 1);
                steps.insert(
                    pos,
                    Step {
                        kind: ChangeKind::Expired,
                        height: None,
                        time: at,
                        tx: None,
                        tx_kind: None,
                    },
                );
            }
        }
        let (mut revoked, mut expired, mut paused) = (false, false, false);
        let mut history = Vec::with_capacity(steps.len());
        for (n, step) in steps.into_iter().enumerate() {
            let Step {
                kind,
                height,
                time,
                tx,
                tx_kind,
            } = step;
            match kind {
                ChangeKind::Granted => {}
                ChangeKind::Paused => paused = true,
                ChangeKind::Resumed => paused = false,
                ChangeKind::Revoked => revoked = true,
                ChangeKind::Expired => expired = true,
            }
            let seq = n as u32 + 1;
            let receipt = match &tx {
                Some(tx) => match rc.tx(tx)? {
                    Some(json) => {
                        let path =
                            format!("receipts/consent-{}-{seq:02}-{}.json", c.id, kind.as_str());
                        files.push((path.clone(), json));
                        Some(path)
                    }
                    None => None,
                },
                None => None,
            };
            history.push(Change {
                seq,
                change: kind,
                status: status_of(revoked, expired, paused),
                height: height.map(|h| h.0),
                time: time.0,
                tx_id: tx.map(|t| t.to_string()),
                tx_kind,
                receipt,
            });
        }
        out.push(ConsentEntry {
            enterprise_name: names.of(&c.enterprise)?,
            record: ConsentView::new(c.clone(), now, snap.ratings.get(&c.id).copied()),
            history,
        });
    }
    Ok(out)
}

pub(super) type RewardKey = (Height, u32, u32);

pub(super) fn use_entries(
    store: &Store,
    records: &[UseRecord],
    referrer: Option<AccountId>,
    names: &mut Names<'_>,
    rc: &mut Receipts<'_>,
    files: &mut Files,
) -> Result<UsesAndRewards, ApiError> {
    let mut uses = Vec::with_capacity(records.len());
    let mut rewards = Vec::new();
    // Records come oldest first: keep one block at a time.
    let mut block: Option<Block> = None;
    for rec in records {
        if block.as_ref().map(|b| b.header.height) != Some(rec.height) {
            block = Some(store.block(rec.height)?.ok_or_else(|| {
                ApiError::store(format!("block {} of an indexed use is missing", rec.height))
            })?);
        }
        let Some(b) = block.as_ref() else { continue };
        let (use_id, index, enterprise) = match &rec.event {
            Event::UseSettled {
                use_id,
                index,
                enterprise,
                ..
            }
            | Event::UseRejected {
                use_id,
                index,
                enterprise,
                ..
            } => (use_id, *index, *enterprise),
            _ => continue,
        };
        let u = match b.txs.get(rec.tx_index as usize).map(|t| &t.body.payload) {
            Some(Payload::RecordUse(r)) => r.uses.get(index as usize),
            _ => None,
        }
        .ok_or_else(|| {
            ApiError::store(format!(
                "use {use_id} is indexed at block {} tx {} #{index}, which holds no such use",
                rec.height, rec.tx_index
            ))
        })?;
        let (basis_kind, basis_id) = match u.basis {
            UseBasis::Consent(c) => ("consent", c.to_string()),
            UseBasis::Policy(p) => ("policy", p.to_string()),
        };
        let at = TxLocation {
            height: rec.height,
            index: rec.tx_index,
        };
        let json = rc.use_(use_id, at, index)?;
        let receipt = format!("receipts/use-{use_id}.json");
        files.push((receipt.clone(), json));
        let enterprise_name = names.of(&enterprise)?;
        let mut e = UseEntry {
            use_id: use_id.to_string(),
            tx_id: rec.tx_id.to_string(),
            height: rec.height.0,
            time: b.header.time.0,
            tx_index: rec.tx_index,
            index,
            enterprise,
            enterprise_name: enterprise_name.clone(),
            basis_kind,
            basis_id,
            category: u.category.as_str().to_string(),
            purpose: u.purpose.as_str().to_string(),
            level: u.level.to_string(),
            units: u.units,
            evidence_hash: u.evidence_hash.to_string(),
            settled: false,
            paid: 0,
            to_consumer: 0,
            to_operators: 0,
            to_referrer: 0,
            referrer: None,
            code: None,
            reason: None,
            receipt,
        };
        match &rec.event {
            Event::UseSettled {
                paid,
                to_consumer,
                to_operators,
                ..
            } => {
                e.settled = true;
                e.paid = paid.0;
                e.to_consumer = to_consumer.0;
                e.to_operators = to_operators.0;
                e.to_referrer = paid.0.saturating_sub(to_consumer.0 + to_operators.0);
                e.referrer = referrer.filter(|_| e.to_referrer > 0);
                rewards.push((
                    (rec.height, rec.tx_index, index),
                    RewardEntry {
                        kind: "use",
                        amount: to_consumer.0,
                        height: rec.height.0,
                        time: b.header.time.0,
                        tx_id: rec.tx_id.to_string(),
                        from: enterprise,
                        from_name: enterprise_name,
                        use_id: Some(use_id.to_string()),
                    },
                ));
            }
            Event::UseRejected { code, reason, .. } => {
                e.code = Some(code.as_str().to_string());
                e.reason = Some(reason.clone());
            }
            _ => {}
        }
        uses.push(e);
    }
    Ok((uses, rewards))
}
