//! GrantConsent: a consumer lets one enterprise use some categories of their
//! data for some purposes, at a level, for a price per use. The consent's id
//! is the tx id.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, Amount, ConsentId, RequestId, Timestamp};
use crate::state::{
    Consent, ConsentState, EnterpriseStatus, Overlay, Request, StateExt, StateRead,
};
use crate::terms::{Category, Level, Purpose};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct GrantConsent {
    pub enterprise: AccountId,
    pub categories: Vec<Category>,
    pub purposes: Vec<Purpose>,
    pub level: Level,
    pub price_per_use: Amount,
    /// Most units of use allowed in all; `None` = no limit.
    pub max_uses: Option<u64>,
    /// Block time from which the consent no longer covers uses.
    pub expires_at: Option<Timestamp>,
    /// The access request this grant answers, if any.
    pub request: Option<RequestId>,
}

impl Handler for GrantConsent {
    type Checked = Option<Request>;

    fn check_stateless(&self) -> Result<(), TxError> {
        check_terms(&self.categories, &self.purposes)?;
        if self.max_uses == Some(0) {
            return reject(
                ErrorCode::InvalidField,
                "max_uses must be at least 1 (omit it for no limit)",
            );
        }
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Option<Request>> {
        require_consumer(state, &cx.sender)?;
        let ent = require_enterprise(state, &self.enterprise)?;
        if ent.status == EnterpriseStatus::Suspended {
            return rejected(
                ErrorCode::EnterpriseSuspended,
                format!(
                    "enterprise {} is suspended; consent cannot be granted to it now",
                    ent.name
                ),
            );
        }
        if let Some(t) = self.expires_at {
            if t <= cx.block.time {
                return rejected(
                    ErrorCode::AlreadyExpired,
                    format!(
                        "expires_at {} ms is not after the block time {} ms",
                        t.0, cx.block.time.0
                    ),
                );
            }
        }
        let Some(req_id) = self.request else {
            return Ok(None);
        };
        let Some(req) = state.request(&req_id)? else {
            return rejected(
                ErrorCode::UnknownRequest,
                format!("no request has the id {req_id}"),
            );
        };
        if req.enterprise != self.enterprise {
            return rejected(
                ErrorCode::RequestMismatch,
                format!("request {req_id} was posted by another enterprise"),
            );
        }
        if req.expires_at <= cx.block.time {
            return rejected(
                ErrorCode::RequestExpired,
                format!("request {req_id} expired"),
            );
        }
        if let Some(c) = self.categories.iter().find(|c| !req.categories.contains(c)) {
            return rejected(
                ErrorCode::RequestMismatch,
                format!("request {req_id} did not ask for category {c}"),
            );
        }
        if let Some(p) = self.purposes.iter().find(|p| !req.purposes.contains(p)) {
            return rejected(
                ErrorCode::RequestMismatch,
                format!("request {req_id} did not ask for purpose {p}"),
            );
        }
        if self.level > req.level {
            return rejected(
                ErrorCode::RequestMismatch,
                format!("request {req_id} asked for level {} at most", req.level),
            );
        }
        if self.price_per_use < req.price_per_use {
            return rejected(
                ErrorCode::RequestMismatch,
                format!(
                    "request {req_id} offers {} per use; a grant answering it cannot ask less",
                    req.price_per_use
                ),
            );
        }
        Ok(Some(req))
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        request: Option<Request>,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        let consent = Consent {
            id: ConsentId(cx.tx_id.0),
            consumer: cx.sender,
            enterprise: self.enterprise,
            categories: self.categories.clone(),
            purposes: self.purposes.clone(),
            level: self.level,
            price_per_use: self.price_per_use,
            max_uses: self.max_uses,
            used: 0,
            expires_at: self.expires_at,
            request: self.request,
            granted_height: cx.block.height,
            granted_time: cx.block.time,
            state: ConsentState::Active,
        };
        out.insert_consent(&consent);
        if let Some(mut req) = request {
            req.grants = req.grants.saturating_add(1);
            out.put_request(&req);
        }
        Ok(vec![Event::ConsentGranted {
            consent: consent.id,
            consumer: cx.sender,
            enterprise: self.enterprise,
        }])
    }
}
