//! `assent enterprise rankings`: the public ranking of enterprises (by points
//! paid to consumers, uses honoured, rating, or response to revocations),
//! and the one-line standing shown wherever a consumer decides on a request;
//! `assent enterprise match-link` (in `links.rs`).

use anyhow::Result;
use assent_contracts::ranking::RankBy;
use assent_contracts::terms::Sector;
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::Ctx;
use super::query::{array, num, text};

#[derive(Debug, Subcommand)]
pub enum EnterpriseCommand {
    /// Rank enterprises: points paid to consumers, uses honoured, rating, or fewest uses after a revocation
    Rankings(RankingsArgs),
    /// Check your own record of a customer against the identity link they made for you (exit 1 on no match or no link)
    MatchLink(super::links::MatchArgs),
}

fn parse_by(s: &str) -> Result<String, String> {
    RankBy::parse(s).map(|b| b.name().to_string())
}

fn parse_sector(s: &str) -> Result<String, String> {
    s.parse::<Sector>().map(|s| s.name().to_string())
}

#[derive(Debug, Args)]
pub struct RankingsArgs {
    /// Order: points_paid, honoured, rating or revocations
    #[arg(long, default_value = "points_paid", value_parser = parse_by)]
    pub by: String,
    /// Only this sector, e.g. retail
    #[arg(long, value_parser = parse_sector)]
    pub sector: Option<String>,
    /// Ranks to skip
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Enterprises to show (1-100)
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub limit: u64,
}

/// An enterprise's standing in one line, from its `reputation` JSON.
pub fn standing(reputation: &Value) -> String {
    let honoured = match reputation.get("honoured_bps").and_then(Value::as_u64) {
        Some(bps) => format!("{}.{:02} % of uses honoured", bps / 100, bps % 100),
        None => "no uses recorded".into(),
    };
    let rating = match num(reputation, "ratings") {
        0 => "unrated".to_string(),
        n => {
            let avg = num(reputation, "average_score_x100");
            format!("rated {}.{:02} by {n}", avg / 100, avg % 100)
        }
    };
    format!(
        "paid {} pts to consumers; {honoured}; {} use(s) after a revocation; {rating}",
        num(reputation, "points_paid"),
        num(reputation, "uses_after_revocation")
    )
}

pub fn run(ctx: &Ctx, cmd: EnterpriseCommand) -> Result<()> {
    match cmd {
        EnterpriseCommand::MatchLink(a) => super::links::match_link(ctx, &a),
        EnterpriseCommand::Rankings(a) => {
            let mut route = format!(
                "/v1/enterprises?by={}&offset={}&limit={}",
                a.by, a.offset, a.limit
            );
            if let Some(s) = &a.sector {
                route.push_str(&format!("&sector={s}"));
            }
            let v = ctx.node()?.get_value(&route)?;
            let names = ctx.names();
            let ranked = array(&v, "enterprises", &route)?;
            let scope = a
                .sector
                .as_deref()
                .map_or(String::new(), |s| format!(" in {s}"));
            let out = if ranked.is_empty() {
                match num(&v, "total") {
                    0 => format!("no enterprises{scope}"),
                    n => format!("no enterprises{scope} past rank {n}"),
                }
            } else {
                let mut lines = vec![format!(
                    "{} enterprise(s){scope} by {}, at height {}:",
                    num(&v, "total"),
                    a.by,
                    num(&v, "height")
                )];
                for e in ranked {
                    lines.push(format!(
                        "{:>3}. {} ({}, {}, {})\n     {}",
                        num(e, "rank"),
                        text(e, "name"),
                        names.name_or_address(&text(e, "account")),
                        text(e, "sector"),
                        text(e, "status"),
                        standing(&e["reputation"])
                    ));
                }
                lines.join("\n")
            };
            ctx.emit(&out, &v)
        }
    }
}
