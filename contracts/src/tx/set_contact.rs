//! SetContact: an enterprise publishes how data subjects reach it as a data
//! controller (privacy contact, phone, postal address as a legal entity).
//! Consent receipts carry it: ISO/IEC TS 27560 and Kantara CR 1.1 both ask
//! for the controller's contact and address. It binds from the next tx on
//! and replaces the previous one whole.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::state::{EnterpriseContact, Overlay, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SetContact {
    /// Where data subjects send privacy requests, e.g. `privacy@acme.example`.
    pub email: String,
    /// A phone number for the same; may be empty.
    pub phone: String,
    /// The controller's postal address as a legal entity, on one line.
    pub address: String,
    /// Its privacy notice (what it tells data subjects before they consent);
    /// empty = the privacy policy URL it was admitted with.
    pub notice_url: String,
    /// Language of that notice, a BCP 47 tag such as `en` or `de-AT`.
    pub notice_language: String,
}

/// A BCP 47 language tag in its common shape: a 2-3 letter language, then
/// subtags of 1-8 letters or digits, joined by `-`.
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang = parts.next().unwrap_or_default();
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

impl Handler for SetContact {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        check_text("email", &self.email, false)?;
        let at = self.email.find('@');
        if at.is_none_or(|i| i == 0 || i + 1 == self.email.len())
            || self.email.contains(char::is_whitespace)
        {
            return reject(
                ErrorCode::InvalidField,
                format!(
                    "email {:?} is not an email address (name@domain)",
                    self.email
                ),
            );
        }
        check_text("phone", &self.phone, true)?;
        check_text("address", &self.address, false)?;
        check_text("notice_url", &self.notice_url, true)?;
        if !is_language_tag(&self.notice_language) {
            return reject(
                ErrorCode::InvalidField,
                format!(
                    "notice_language {:?} is not a language tag (BCP 47), e.g. en or de-AT",
                    self.notice_language
                ),
            );
        }
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_active_sender_enterprise(state, &cx.sender).map(|_| ())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        out.put_contact(
            &cx.sender,
            &EnterpriseContact {
                email: self.email.clone(),
                phone: self.phone.clone(),
                address: self.address.clone(),
                notice_url: self.notice_url.clone(),
                notice_language: self.notice_language.clone(),
                set_at: cx.block.height,
            },
        );
        Ok(vec![Event::ContactSet {
            enterprise: cx.sender,
        }])
    }
}
