//! One of four validators is Byzantine (`assent-byzantine`: the real node
//! with a misbehaving loop between its engine and its app, speaking the real
//! wire codec with its genesis key). On its turns it equivocates, names a
//! tx nobody holds, proposes blocks with wrong roots, a 5 MiB block, a block stamped 6 s ahead and a
//! stream naming another proposer; all the time it floods unfinished streams
//! for the next four heights and streams claiming other proposers, and it
//! doubles each of its non-nil votes with a conflicting nil vote. Under a
//! client history the three honest validators keep committing, stay ready,
//! agree with each other (and with it) at every height, lose no
//! acknowledged tx, refuse the attacks (counted by reason), prove its double
//! votes (and nobody else's) and stay within a memory bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use assent_tests::faults::rss_mib;
use assent_tests::history::{check, Driver};
use assent_tests::{wait_until, Net};

/// Node `i`'s log without terminal colours.
fn plain_log(net: &Net, i: usize) -> String {
    let raw = std::fs::read_to_string(net.nodes[i].home.join("assentd.log")).unwrap();
    let mut out = String::with_capacity(raw.len());
    let mut escape = false;
    for c in raw.chars() {
        match (escape, c) {
            (false, '\x1b') => escape = true,
            (false, c) => out.push(c),
            (true, 'm') => escape = false,
            (true, _) => {}
        }
    }
    out
}

/// What an honest node's RSS must stay under (debug build, this load).
const RSS_BOUND_MIB: u64 = 600;

#[test]
fn a_byzantine_validator_cannot_stall_fork_or_bloat_the_honest_ones() {
    let mut net = Net::new(4);
    net.nodes[3].program = "assent-byzantine";
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let driver = Driver::start(&net, 24, 8);
    let honest = [0usize, 1, 2];
    let start = honest.iter().filter_map(|&i| net.height(i)).max().unwrap();
    // 30 heights: the Byzantine validator proposes in turn (about every
    // fourth height) and so runs each of its six attacks at least once.
    let target = start + 30;
    let mut peak = 0;
    let mut not_ready = Vec::new();
    let began = Instant::now();
    let reached = wait_until(
        "the honest validators to commit 30 heights",
        Duration::from_secs(600),
        || {
            for &i in &honest {
                let ready = net.get_status_code(i, "/ready");
                if ready != Some(200) {
                    not_ready.push((i, ready, net.height(i)));
                }
                peak = peak.max(rss_mib(&net, i, "VmRSS"));
            }
            honest
                .iter()
                .all(|&i| net.height(i).is_some_and(|h| h >= target))
        },
    );
    assert!(
        reached,
        "the honest validators stalled at {:?} (wanted {target})\n{}",
        honest.map(|i| net.height(i)),
        net.log_tail(0)
    );
    eprintln!(
        "30 heights in {:?}; honest peak RSS {peak} MiB",
        began.elapsed()
    );
    assert!(
        not_ready.is_empty(),
        "an honest node was not ready: {not_ready:?}"
    );
    assert!(
        peak < RSS_BOUND_MIB,
        "an honest node grew to {peak} MiB (bound {RSS_BOUND_MIB})"
    );
    // The attacks arrived, and were refused before judging.
    for &i in &honest {
        let refused = net.metric(i, "assent_proposal_streams_refused_total");
        let by_reason = net.metric_lines(i, "assent_proposal_streams_refused_total");
        eprintln!("node {i}: {refused} proposal streams or parts refused: {by_reason:?}");
        assert!(refused > 0, "node {i} saw no attack to refuse");
    }
    // Proposals that passed the gate were judged, and the bad ones refused.
    for &i in &honest {
        let log = plain_log(&net, i);
        let invalid: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("invalid proposal"))
            .filter_map(|l| l.split(" why=").nth(1))
            .collect();
        let undecodable = log
            .lines()
            .filter(|l| l.contains("proposal parts do not decode to a block"))
            .count();
        eprintln!(
            "node {i}: {} proposals judged invalid: {invalid:?}; {undecodable} streams that do not decode to a block (the 5 MiB one: a block with junk after it)",
            invalid.len()
        );
        assert!(
            !invalid.is_empty(),
            "node {i} judged no Byzantine proposal invalid"
        );
        // Its third attack (of six, in turn) is a good block with wrong
        // state and results roots in the stream's Fin part: found by
        // comparing them with the block's execution (decision 50).
        assert!(
            invalid.iter().any(|why| why.contains("state_root")),
            "node {i} did not find the wrong roots: {invalid:?}"
        );
        let counted = net.metric_lines(i, "assent_proposals_judged_invalid_total");
        eprintln!("node {i}: {counted:?}");
        assert!(
            net.metric(i, "assent_proposals_judged_invalid_total") >= invalid.len() as u64,
            "node {i} counts what it judged invalid: {counted:?}"
        );
    }
    // The proposal naming a tx nobody holds: each honest node asked its
    // peers for it, got nothing, and left the proposal unjudged.
    // The honest proposals named their txs, and the others found them in
    // their mempools (decision 45).
    let proposal_txs = |i: usize, source: &str| -> u64 {
        let label = format!("source=\"{source}\"");
        net.metric_where(i, "assent_proposal_txs_total", &label)
    };
    for &i in &honest {
        let unfetched = proposal_txs(i, "unfetched");
        let pooled = proposal_txs(i, "pool");
        assert!(pooled > 0, "node {i} filled no proposal from its mempool");
        let logged = plain_log(&net, i)
            .lines()
            .filter(|l| l.contains("could not be fetched"))
            .count();
        eprintln!("node {i}: {pooled} proposal txs from the mempool, {unfetched} not fetched, {logged} proposals left unjudged for it");
        assert!(
            unfetched > 0 && logged > 0,
            "node {i} did not refuse the proposal naming a tx nobody holds"
        );
    }
    let history = driver.stop();
    let report = check(&net, &history);
    eprintln!(
        "{} heights, {} acknowledged; lost {}, divergent {}, after revocation {}, wrong balances {}, double signs {}",
        report.heights, report.acked, report.lost, report.divergent, report.settled_after_revocation, report.wrong_balances, report.double_signs
    );
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert!(report.acked > 24, "the history made progress");
    // Its conflicting votes were proven by every honest node, and the
    // evidence names it and no one else.
    let byzantine = net.consensus_key(3);
    for &i in &honest {
        let votes: u64 = net
            .metric_lines(i, "assent_consensus_equivocation_evidence_total")
            .iter()
            .filter(|l| l.contains("kind=\"vote\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64;
        let named: std::collections::BTreeSet<String> = plain_log(&net, i)
            .lines()
            .filter(|l| l.contains("signed conflicting"))
            .filter_map(|l| {
                Some(
                    l.split(" validator=")
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .to_string(),
                )
            })
            .collect();
        eprintln!("node {i}: {votes} pairs of conflicting votes proven, by {named:?}");
        assert!(votes > 0, "node {i} proved no double vote");
        assert_eq!(
            named,
            std::collections::BTreeSet::from([byzantine.clone()]),
            "node {i}: the evidence names only the Byzantine validator"
        );
    }
    let log = plain_log(&net, 3);
    let kinds: std::collections::BTreeSet<&str> = log
        .lines()
        .filter(|l| l.contains("attacking"))
        .filter_map(|l| l.split(" attack=").nth(1)?.split_whitespace().next())
        .collect();
    eprintln!("attacks made: {kinds:?}");
    assert!(
        kinds.len() >= 5,
        "the Byzantine validator made every attack at least once: {kinds:?}"
    );
}
