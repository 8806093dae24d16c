//! Points: `assent balance`, `assent transfer`, `assent mint`.

use anyhow::Result;

use super::context::Ctx;
use super::query::Who;
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::kinds;

/// `assent balance [ACCOUNT | --key NAME]`.
pub fn balance(ctx: &Ctx, who: &Who) -> Result<()> {
    let (account, names) = who.resolve(ctx, "balance")?;
    let (info, v) = ctx.node_for(&account)?.account(&account.to_string())?;
    let roles = if info.roles.is_empty() {
        "no role".to_string()
    } else {
        info.roles.join(", ")
    };
    let text = format!(
        "{}: {} points (nonce {}, next {}; {roles})",
        names.label(&account),
        info.balance,
        info.nonce,
        info.next()
    );
    ctx.emit(&text, &v)
}

/// `assent transfer --to ACCOUNT --amount N --from KEY`.
pub fn transfer(ctx: &Ctx, w: With<kinds::AmountTo, SendArgs>) -> Result<()> {
    send(ctx, w.args.transfer(&ctx.keystore()?)?, w.sign)
}

/// `assent mint --to ACCOUNT --amount N --from MINT_KEY`.
pub fn mint(ctx: &Ctx, w: With<kinds::AmountTo, SendArgs>) -> Result<()> {
    send(ctx, w.args.mint(&ctx.keystore()?)?, w.sign)
}
