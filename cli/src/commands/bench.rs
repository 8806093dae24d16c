//! `assent bench`: the load generator. Against a devnet (DIR: --home,
//! default ./devnet) it admits and funds bench enterprises through the
//! operators' governance and the mint authority, registers consumers who
//! grant consents (the setup run), then sends a pre-signed mix at a target
//! rate and reports throughput, submit → commit latency, and what the
//! measured run cost the devnet's validators (CPU, bytes written) against an
//! `openssl speed ed25519` yardstick.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::bench::costs::{self, Probe};
use assent_cli::bench::driver::{self, RunConfig, RunResult};
use assent_cli::bench::report;
use assent_cli::bench::workload::{derive_key, Kind, Mix, Workload};
use assent_cli::bench::yardstick::{self, YardstickError};
use assent_cli::client::Node;
use assent_cli::devnet;
use assent_cli::duration::parse_ms;
use assent_cli::keystore::Keystore;
use assent_contracts::crypto::Keypair;
use assent_contracts::ids::{AccountId, Amount, ProposalId};
use assent_contracts::terms::Sector;
use assent_contracts::tx::{GovAction, Mint, Propose, Vote};
use assent_contracts::{Payload, TxBody};
use assent_genesis::Genesis;
use clap::Args;

use super::context::{print_stdout, Ctx};
use super::devnet::devnet_passphrase;

/// Points minted to each bench enterprise when it runs low.
const FUNDING: u64 = 1_000_000_000_000;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How long to offer load
    #[arg(long, default_value = "60s", value_parser = parse_ms)]
    duration: u64,
    /// Offered txs per second over all nodes; 0 = as fast as the nodes accept
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Total txs to send (default: rate × duration; required with --rate 0)
    #[arg(long)]
    txs: Option<usize>,
    /// Relative weights of the kinds of tx: register, grant, use (RecordUse), revoke, transfer
    #[arg(long, default_value = Mix::DEFAULT)]
    mix: Mix,
    /// Uses in each RecordUse (one signature for the batch)
    #[arg(long, default_value_t = 8)]
    uses_per_record: usize,
    /// Consumers registered, each with one consent, before the measured run
    #[arg(long, default_value_t = 20_000)]
    consumers: usize,
    /// Bench enterprises (new ones each run, admitted by the operators' vote and funded by the mint)
    #[arg(long, default_value_t = 16)]
    enterprises: usize,
    /// Seed of the consumer keys and the mix (default: from the clock; consumers must be new)
    #[arg(long)]
    seed: Option<u64>,
    /// After sending ends, how long to wait without any new commit before the txs still pending count as lost
    #[arg(long, default_value = "30s", value_parser = parse_ms)]
    drain: u64,
    /// Most txs sent to one node and not yet committed (backpressure)
    #[arg(long, default_value_t = 40_000)]
    max_outstanding: usize,
    /// Node API URLs (default: the devnet's nodes)
    #[arg(long, value_delimiter = ',')]
    nodes: Vec<String>,
    /// Also write the JSON summary to this file
    #[arg(long, value_name = "FILE")]
    json_out: Option<PathBuf>,
    /// Do not run `openssl speed ed25519` after the run (openssl_verify_per_sec and r are then null)
    #[arg(long)]
    no_yardstick: bool,
}

fn check(args: &BenchArgs) -> Result<()> {
    if args.rate == 0 && args.txs.is_none() {
        bail!("--rate 0 sends as fast as the nodes accept; say how many txs with --txs N");
    }
    if args.duration == 0 && args.txs.is_none() {
        bail!("--duration must be above 0 (e.g. 60s)");
    }
    if args.uses_per_record == 0 || args.uses_per_record > 4_096 {
        bail!("--uses-per-record must be 1 to 4096 (the chain's max_uses_per_record)");
    }
    if args.enterprises == 0 || args.enterprises > 255 {
        bail!("--enterprises must be 1 to 255");
    }
    if args.consumers == 0 {
        bail!("--consumers must be at least 1: uses need consents to use");
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: BenchArgs) -> Result<()> {
    check(&args)?;
    let dir = ctx
        .home_given()
        .unwrap_or_else(|| PathBuf::from(devnet::DEFAULT_DIR));
    let gpath = dir.join("genesis.toml");
    let genesis = Genesis::load(&gpath).with_context(|| {
        format!(
            "no devnet in {} (start one with `assent devnet up`, or give its directory with --home)",
            dir.display()
        )
    })?;
    let urls: Vec<String> = if args.nodes.is_empty() {
        devnet::plan(&dir, &genesis)?
            .iter()
            .map(|p| format!("http://{}", p.api))
            .collect()
    } else {
        args.nodes.clone()
    };
    let nodes: Vec<Node> = urls
        .iter()
        .map(|u| Node::new(u, Duration::from_secs(30)))
        .collect::<Result<_, _>>()?;
    for n in &nodes {
        let (s, _) = n
            .status()
            .with_context(|| format!("node {} is not answering; is the devnet up?", n.url()))?;
        if s.chain_id != genesis.chain_id() {
            bail!(
                "node {} runs chain {}, but {} is chain {}",
                n.url(),
                s.chain_id,
                gpath.display(),
                genesis.chain_id()
            );
        }
    }
    let urls: Vec<String> = nodes.iter().map(|n| n.url().to_string()).collect();
    let chain = genesis.chain_id().to_string();

    let seed = args.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let (pass, _) = devnet_passphrase()?;
    let ks = Keystore::open(&dir);
    // Fresh enterprises each run (from the run's seed): a run never inherits
    // another run's pending txs or nonce gaps.
    let ents: Vec<Keypair> = (0..args.enterprises)
        .map(|i| derive_key(seed, "enterprise", i))
        .collect();
    say(
        ctx,
        &format!("bench: {} nodes of chain {chain}", urls.len()),
    )?;
    prepare_enterprises(ctx, &nodes[0], &chain, &genesis, &ks, &pass, &ents)?;

    // The block stream is read as an operator (devnet operator-0).
    let operator = Arc::new(
        ks.load("operator-0", &pass)
            .with_context(|| format!("cannot unlock operator-0 in {}", ks.dir().display()))?,
    );
    let mut with_nonces = Vec::new();
    for e in ents {
        let (a, _) = nodes[0]
            .with_timeout(Duration::from_secs(30))?
            .reading_as(Arc::new(Keypair::from_seed(e.seed())))
            .account(&e.account().to_string())?;
        with_nonces.push((e, a.nonce));
    }
    let count = args
        .txs
        .unwrap_or((args.rate as u128 * args.duration as u128 / 1000) as usize);
    let total_w: u32 = Kind::ALL.iter().map(|k| args.mix.weight(*k)).sum();
    let new_consumers = (count as u64 * args.mix.weight(Kind::Register) as u64
        / total_w.max(1) as u64) as usize
        * 6
        / 5
        + 100;
    let t = Instant::now();
    say(
        ctx,
        &format!(
            "deriving {} consumer keys (seed {seed})…",
            args.consumers + new_consumers
        ),
    )?;
    let mut w = Workload::new(
        &chain,
        urls.len(),
        seed,
        args.consumers + new_consumers,
        with_nonces,
    );

    say(
        ctx,
        &format!(
            "signing the setup: {} registrations and grants…",
            args.consumers
        ),
    )?;
    let setup = w.setup(args.consumers);
    let setup_cfg = RunConfig {
        label: "setup".into(),
        rate: 0,
        max_outstanding: args.max_outstanding,
        drain: Duration::from_millis(args.drain),
        progress: !ctx.is_json(),
        reader: Some((operator.clone(), chain.clone())),
    };
    let setup_result = driver::run(&urls, &setup, &setup_cfg)?;
    drop(setup);
    say(ctx, &report::table(&setup_result))?;
    if setup_result.committed < setup_result.submitted / 2 {
        bail!(
            "the setup run committed only {} of {} txs; see the table above",
            setup_result.committed,
            setup_result.submitted
        );
    }

    let lag = if args.rate == 0 {
        20_000
    } else {
        (args.rate as usize * 3 / 2).max(1_000)
    };
    say(
        ctx,
        &format!(
            "signing {count} txs of mix {} ({} uses per RecordUse)…",
            args.mix, args.uses_per_record
        ),
    )?;
    let plan = w.plan(count, args.mix, args.uses_per_record, lag);
    say(
        ctx,
        &format!("prepared in {:.1} s; sending…", t.elapsed().as_secs_f64()),
    )?;
    let cfg = RunConfig {
        label: "run".into(),
        rate: args.rate,
        max_outstanding: args.max_outstanding,
        drain: Duration::from_millis(args.drain),
        progress: !ctx.is_json(),
        reader: Some((operator.clone(), chain.clone())),
    };
    // Sampled right around the measured run, so the setup's cost is not in it.
    let probe = Probe::start(&dir, &genesis);
    let mut result = driver::run(&urls, &plan, &cfg)?;
    let mut usage = probe.finish();
    if !args.nodes.is_empty() {
        usage.notes.push(format!(
            "CPU and bytes written are of the assentd processes of {}, which --nodes may not point at",
            dir.display()
        ));
    }
    let verify = if args.no_yardstick {
        Err(YardstickError::Skipped)
    } else {
        say(ctx, "measuring the yardstick: openssl speed ed25519…")?;
        yardstick::run(yardstick::seconds_for(usage.wall))
    };
    result.costs = Some(costs::costs(
        usage,
        result.committed,
        result.committed_tps(),
        verify,
        costs::cores(),
        genesis.validators().len(),
    ));
    finish(ctx, &args, &setup_result, &result, seed)
}

fn finish(ctx: &Ctx, args: &BenchArgs, setup: &RunResult, r: &RunResult, seed: u64) -> Result<()> {
    let mut summary = report::json(r);
    summary["mix"] = args.mix.to_string().into();
    summary["uses_per_record"] = args.uses_per_record.into();
    summary["seed"] = seed.into();
    summary["setup"] = report::json(setup);
    if let Some(p) = &args.json_out {
        std::fs::write(p, format!("{summary:#}\n"))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if ctx.is_json() {
        return print_stdout(&summary.to_string());
    }
    print_stdout(&report::table(r))?;
    print_stdout(&format!("summary: {summary}"))
}

fn say(ctx: &Ctx, line: &str) -> Result<()> {
    if ctx.is_json() {
        return Ok(());
    }
    eprintln!("{}", line.trim_end());
    Ok(())
}

/// Signs and submits `payloads` from `key` in nonce order, then waits until
/// each is committed; an error unless every one was applied. Their ids.
fn apply_all(
    node: &Node,
    chain: &str,
    key: &Keypair,
    payloads: Vec<Payload>,
) -> Result<Vec<String>> {
    // The sender reads its own nonce and its txs' status.
    let node = node
        .with_timeout(Duration::from_secs(30))?
        .reading_as(Arc::new(Keypair::from_seed(key.seed())));
    let (acct, _) = node.account(&key.account().to_string())?;
    let mut ids = Vec::new();
    for (i, payload) in payloads.into_iter().enumerate() {
        let body = TxBody {
            sender: key.account(),
            nonce: acct.next() + i as u64,
            payload,
        };
        let tx = body.sign(chain, key);
        ids.push(node.submit_hex(&hex::encode(tx.encode()))?);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in &ids {
        let (status, v) = node.wait(id, deadline, Duration::from_millis(20))?;
        if status.status != "committed" {
            bail!("setup tx {id} was not applied: {v}");
        }
    }
    Ok(ids)
}

/// Admits (by operators' votes) and funds (by the mint authority) every
/// bench enterprise that is not yet admitted or is low on points.
fn prepare_enterprises(
    ctx: &Ctx,
    node: &Node,
    chain: &str,
    genesis: &Genesis,
    ks: &Keystore,
    pass: &str,
    ents: &[Keypair],
) -> Result<()> {
    let mut missing = Vec::new();
    for (i, e) in ents.iter().enumerate() {
        match node.get_value(&format!("/v1/enterprises/{}", e.account())) {
            Ok(_) => {}
            Err(err) if err.code() == Some("unknown_enterprise") => missing.push(i),
            Err(err) => return Err(err.into()),
        }
    }
    if !missing.is_empty() {
        let ops = genesis.operators();
        let needed = ops.len() * 2 / 3 + 1;
        say(
            ctx,
            &format!(
                "admitting {} bench enterprises by a vote of {needed} of {} operators…",
                missing.len(),
                ops.len()
            ),
        )?;
        let keys: Vec<Keypair> = (0..needed)
            .map(|i| {
                ks.load(&format!("operator-{i}"), pass).with_context(|| {
                    format!("cannot unlock operator-{i} in {}", ks.dir().display())
                })
            })
            .collect::<Result<_>>()?;
        // All proposals, then every vote: each operator's txs in nonce order.
        let proposals: Vec<Payload> = missing
            .iter()
            .map(|&i| {
                Payload::Propose(Propose {
                    action: GovAction::AdmitEnterprise {
                        account: ents[i].account(),
                        name: format!("Bench Enterprise {}", &ents[i].account().to_string()[7..15]),
                        sector: Sector::Retail,
                        jurisdiction: "EU".into(),
                        policy_url: format!("https://bench-{i}.example/privacy"),
                    },
                })
            })
            .collect();
        let ids = apply_all(node, chain, &keys[0], proposals)?;
        for k in &keys[1..] {
            let votes = ids
                .iter()
                .map(|id| {
                    let proposal: ProposalId =
                        id.parse().map_err(|e| anyhow!("proposal id {id}: {e}"))?;
                    Ok(Payload::Vote(Vote {
                        proposal,
                        yes: true,
                    }))
                })
                .collect::<Result<Vec<_>>>()?;
            apply_all(node, chain, k, votes)?;
        }
        for &i in &missing {
            node.get_value(&format!("/v1/enterprises/{}", ents[i].account()))
                .with_context(|| format!("bench enterprise {i} was not admitted after the vote"))?;
        }
    }
    let mint = ks
        .load("mint", pass)
        .with_context(|| format!("cannot unlock the mint key in {}", ks.dir().display()))?;
    let mut mints = Vec::new();
    for e in ents {
        let who: AccountId = e.account();
        let (a, _) = node
            .with_timeout(Duration::from_secs(30))?
            .reading_as(Arc::new(Keypair::from_seed(e.seed())))
            .account(&who.to_string())?;
        if a.balance < FUNDING / 2 {
            mints.push(Payload::Mint(Mint {
                to: who,
                amount: Amount(FUNDING),
            }));
        }
    }
    apply_all(node, chain, &mint, mints)?;
    Ok(())
}
