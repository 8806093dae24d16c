//! Reads of peers' APIs (state sync, following) signed as [`crate::api`]
//! requires: with `keys.read_key` (an operator's key) or the validator key.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use assent_contracts::crypto::Keypair;
use assent_keys::reads;

/// Who this node reads its peers as.
#[derive(Clone, Debug)]
pub struct PeerReader {
    key: Option<Arc<Keypair>>,
    chain_id: String,
}

impl PeerReader {
    /// Reads signed with `key` (`None`: unsigned, which peers refuse for
    /// everything but public routes).
    pub fn new(key: Option<Arc<Keypair>>, chain_id: &str) -> PeerReader {
        PeerReader {
            key,
            chain_id: chain_id.to_string(),
        }
    }

    /// `GET base target` (`target` = path and optional `?query`), signed.
    pub fn get(
        &self,
        http: &reqwest::blocking::Client,
        base: &str,
        target: &str,
    ) -> reqwest::blocking::RequestBuilder {
        let req = http.get(format!("{}{target}", base.trim_end_matches('/')));
        let Some(key) = &self.key else {
            return req;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let h = reads::sign(
            key,
            &self.chain_id,
            "GET",
            target,
            now,
            reads::DEFAULT_LIFETIME_S,
        );
        req.header(reads::SIGNATURE_INPUT, h.signature_input)
            .header(reads::SIGNATURE, h.signature)
    }

    /// What to tell the operator when a peer refuses an unsigned or
    /// unauthorised read.
    pub fn hint(&self) -> &'static str {
        match self.key {
            None => "this node has no key to sign its reads with: set keys.read_key to an operator's key in HOME/keys",
            Some(_) => "peers accept reads signed by an operator's key or a current validator's: set keys.read_key to an operator's key in HOME/keys",
        }
    }
}
