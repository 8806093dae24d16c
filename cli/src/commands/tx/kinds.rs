//! Flags of each transaction kind and the payload they make. Text is parsed
//! with the contracts' own parsers (`FromStr`), so an unknown DPV term, a bad
//! address or id is refused with the contracts' message.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::accounts::AccountRef;
use assent_cli::duration::parse_ms;
use assent_cli::keystore::Keystore;
use assent_cli::usefile::{self, UseFileFormat};
use assent_contracts::crypto::Keypair;
use assent_contracts::identity::IdentityKind;
use assent_contracts::state::PolicyTarget;
use assent_contracts::tags::TagCommitments;
use assent_contracts::terms::{Category, Level, Purpose, Sector, Tag};
use assent_contracts::tx;
use assent_contracts::{
    AccountId, Amount, ConsentId, Hash32, LinkCommitment, Payload, PolicyId, ProposalId, RequestId,
    Timestamp,
};
use clap::{ArgGroup, Args};

/// The account `r` names (an address, or a key of `ks`), or an error naming `flag`.
pub fn resolve(r: &AccountRef, flag: &str, ks: &Keystore) -> Result<AccountId> {
    r.resolve(ks).with_context(|| flag.to_string())
}

/// What a payload made at signing time depends on: the key that signs, the
/// chain, the tx's nonce and the account the key signs for.
#[derive(Debug)]
pub struct Signing<'a> {
    pub key: &'a Keypair,
    pub chain_id: &'a str,
    pub nonce: u64,
    pub account: AccountId,
}

/// Interest tags (register-consumer, set-tags). They never leave this
/// machine: the tx carries salted commitments (decision 33) made with the
/// signing key, for salts of round = the tx's nonce, padded to 16 and sorted.
#[derive(Debug, Args)]
pub struct Tags {
    /// Interest tag (1-32 of a-z, 0-9, -); repeat or give a comma list. Sent only as a salted commitment no one but you can read
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',')]
    pub tags: Vec<Tag>,
}

impl Tags {
    /// Refuses more distinct tags than a set holds, before any passphrase.
    pub fn precheck(&self) -> Result<()> {
        let distinct: std::collections::BTreeSet<&Tag> = self.tags.iter().collect();
        if distinct.len() > tx::MAX_TAGS {
            bail!(
                "--tag: {} tags given; at most {} are allowed",
                distinct.len(),
                tx::MAX_TAGS
            );
        }
        Ok(())
    }

    fn commitments(&self, s: &Signing<'_>) -> Result<TagCommitments> {
        assent_cli::derive::tag_set(s.key, s.chain_id, &s.account, s.nonce, &self.tags)
            .map_err(|e| anyhow!("--tag: {e}"))
    }

    pub fn register(&self, s: &Signing<'_>) -> Result<Payload> {
        Ok(Payload::RegisterConsumer(tx::RegisterConsumer {
            tags: self.commitments(s)?,
        }))
    }

    pub fn set(&self, s: &Signing<'_>) -> Result<Payload> {
        Ok(Payload::SetTags(tx::SetTags {
            tags: self.commitments(s)?,
        }))
    }
}

/// Who referred you (name-referrer).
#[derive(Debug, Args)]
pub struct Referrer {
    /// The consumer who referred you: their account (assent1...) or a key name; named once, never changed
    #[arg(long, value_name = "ACCOUNT")]
    pub referrer: AccountRef,
}

impl Referrer {
    pub fn payload(&self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::NameReferrer(tx::NameReferrer {
            referrer: resolve(&self.referrer, "--referrer", ks)?,
        }))
    }
}

/// The terms shared by consents, policies and requests.
#[derive(Debug, Args)]
pub struct Terms {
    /// DPV personal-data category, e.g. Purchase; repeat or give a comma list
    #[arg(
        long = "category",
        value_name = "CATEGORY",
        value_delimiter = ',',
        required = true
    )]
    pub categories: Vec<Category>,
    /// DPV purpose, e.g. ServiceOptimisation; repeat or give a comma list
    #[arg(
        long = "purpose",
        value_name = "PURPOSE",
        value_delimiter = ',',
        required = true
    )]
    pub purposes: Vec<Purpose>,
    /// How identifiable the data may be: aggregate, pseudonymous or identified
    #[arg(long, value_name = "LEVEL")]
    pub level: Level,
}

#[derive(Debug, Args)]
pub struct Grant {
    /// Enterprise the consent is given to: its account (assent1...) or a key name
    #[arg(long, value_name = "ACCOUNT")]
    pub enterprise: AccountRef,
    #[command(flatten)]
    pub terms: Terms,
    /// Points paid per unit of use
    #[arg(long, value_name = "POINTS")]
    pub price: u64,
    /// Most units of use allowed in all [default: no limit]
    #[arg(long, value_name = "N")]
    pub max_uses: Option<u64>,
    /// Block time (ms since the Unix epoch) from which the consent no longer covers uses
    #[arg(long, value_name = "MS")]
    pub expires_at: Option<u64>,
    /// The access request (id, 64 hex) this grant answers
    #[arg(long, value_name = "ID")]
    pub request: Option<RequestId>,
}

impl Grant {
    pub fn payload(self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::GrantConsent(tx::GrantConsent {
            enterprise: resolve(&self.enterprise, "--enterprise", ks)?,
            categories: self.terms.categories,
            purposes: self.terms.purposes,
            level: self.terms.level,
            price_per_use: Amount(self.price),
            max_uses: self.max_uses,
            expires_at: self.expires_at.map(Timestamp),
            request: self.request,
        }))
    }
}

/// A consent (revoke-consent, pause-consent, resume-consent).
#[derive(Debug, Args)]
pub struct ConsentRef {
    /// Consent id (64 hex; the id of the GrantConsent tx)
    #[arg(long, value_name = "ID")]
    pub consent: ConsentId,
}

impl ConsentRef {
    pub fn revoke(self) -> Payload {
        Payload::RevokeConsent(tx::RevokeConsent {
            consent: self.consent,
        })
    }

    pub fn pause(self) -> Payload {
        Payload::PauseConsent(tx::PauseConsent {
            consent: self.consent,
        })
    }

    pub fn resume(self) -> Payload {
        Payload::ResumeConsent(tx::ResumeConsent {
            consent: self.consent,
        })
    }
}

#[derive(Debug, Args)]
pub struct RevokeAll {
    /// Only consents to this enterprise (account or key name) [default: every enterprise]
    #[arg(long, value_name = "ACCOUNT")]
    pub enterprise: Option<AccountRef>,
}

impl RevokeAll {
    pub fn payload(self, ks: &Keystore) -> Result<Payload> {
        let enterprise = match &self.enterprise {
            Some(e) => Some(resolve(e, "--enterprise", ks)?),
            None => None,
        };
        Ok(Payload::RevokeAll(tx::RevokeAll { enterprise }))
    }
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["sector", "enterprise"])))]
pub struct SetPolicy {
    /// Admit every enterprise of this sector (retail, finance, health, ...)
    #[arg(long, value_name = "SECTOR")]
    pub sector: Option<Sector>,
    /// Admit this one enterprise: its account (assent1...) or a key name
    #[arg(long, value_name = "ACCOUNT")]
    pub enterprise: Option<AccountRef>,
    #[command(flatten)]
    pub terms: Terms,
    /// Points paid per unit of use under this policy
    #[arg(long, value_name = "POINTS")]
    pub min_price: u64,
}

impl SetPolicy {
    pub fn payload(self, ks: &Keystore) -> Result<Payload> {
        let target = match (self.sector, &self.enterprise) {
            (Some(s), None) => PolicyTarget::Sector(s),
            (None, Some(e)) => PolicyTarget::Enterprise(resolve(e, "--enterprise", ks)?),
            _ => bail!("give exactly one of --sector and --enterprise"),
        };
        Ok(Payload::SetPolicy(tx::SetPolicy {
            target,
            categories: self.terms.categories,
            purposes: self.terms.purposes,
            level: self.terms.level,
            min_price: Amount(self.min_price),
        }))
    }
}

#[derive(Debug, Args)]
pub struct PolicyRef {
    /// Policy id (64 hex; the id of the SetPolicy tx)
    #[arg(long, value_name = "ID")]
    pub policy: PolicyId,
}

impl PolicyRef {
    pub fn clear(self) -> Payload {
        Payload::ClearPolicy(tx::ClearPolicy {
            policy: self.policy,
        })
    }
}

#[derive(Debug, Args)]
pub struct PostRequest {
    #[command(flatten)]
    pub terms: Terms,
    /// Points offered per unit of use
    #[arg(long, value_name = "POINTS")]
    pub price: u64,
    /// How long the request stays open: 30d, 12h, 15m, 45s, 1500ms or plain milliseconds (at most 366d)
    #[arg(long, value_name = "DURATION", value_parser = parse_ms)]
    pub duration: u64,
    /// Interest tag of the consumers it is meant for; repeat or give a comma list
    #[arg(long = "target-tag", value_name = "TAG", value_delimiter = ',')]
    pub target_tags: Vec<Tag>,
}

impl PostRequest {
    pub fn payload(self) -> Payload {
        Payload::PostRequest(tx::PostRequest {
            categories: self.terms.categories,
            purposes: self.terms.purposes,
            level: self.terms.level,
            price_per_use: Amount(self.price),
            duration_ms: self.duration,
            target_tags: self.target_tags,
        })
    }
}

/// One use from flags, or a batch from a file.
#[derive(Debug, Args)]
pub struct RecordUse {
    /// Batch of uses: JSON (array of rows, or {"uses": [rows]}) or CSV with the header line
    /// `consumer,consent,policy,category,purpose,level,units,evidence_hash` (any column order;
    /// one of consent/policy per row; lines starting with # are skipped). Chosen by the
    /// extension .json/.csv, else by content
    #[arg(long, value_name = "FILE", conflicts_with_all = ["consumer", "consent", "policy", "category", "purpose", "level", "units", "evidence_hash"])]
    pub file: Option<PathBuf>,
    /// Consumer whose data was used: account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub consumer: Option<AccountRef>,
    /// Consent the use is under (64 hex)
    #[arg(long, value_name = "ID", conflicts_with = "policy")]
    pub consent: Option<ConsentId>,
    /// Policy the use is under (64 hex)
    #[arg(long, value_name = "ID")]
    pub policy: Option<PolicyId>,
    /// DPV personal-data category used
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<Category>,
    /// DPV purpose of the use
    #[arg(long, value_name = "PURPOSE")]
    pub purpose: Option<Purpose>,
    /// Level of the use: aggregate, pseudonymous or identified
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<Level>,
    /// Units of use [default: 1]
    #[arg(long, value_name = "N")]
    pub units: Option<u32>,
    /// SHA-256 (64 hex) of your own evidence of the use (never the data itself)
    #[arg(long, value_name = "HEX")]
    pub evidence_hash: Option<Hash32>,
}

impl RecordUse {
    pub fn payload(self, ks: &Keystore) -> Result<Payload> {
        if let Some(path) = self.file {
            let content = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read uses file {}", path.display()))?;
            let format = match path.extension().and_then(|e| e.to_str()) {
                Some(e) if e.eq_ignore_ascii_case("json") => UseFileFormat::Json,
                Some(e) if e.eq_ignore_ascii_case("csv") => UseFileFormat::Csv,
                _ => UseFileFormat::Auto,
            };
            let uses = usefile::parse(&content, format)
                .map_err(|e| anyhow!("uses file {}: {e}", path.display()))?;
            return Ok(Payload::RecordUse(tx::RecordUse { uses }));
        }
        let need = |flag: &str| {
            anyhow!("record-use needs {flag} for a single use (or --file FILE for a batch)")
        };
        let basis = match (self.consent, self.policy) {
            (Some(c), _) => tx::UseBasis::Consent(c),
            (None, Some(p)) => tx::UseBasis::Policy(p),
            (None, None) => return Err(need("--consent ID or --policy ID")),
        };
        let consumer = self.consumer.as_ref().ok_or_else(|| need("--consumer"))?;
        let one = tx::Use {
            consumer: resolve(consumer, "--consumer", ks)?,
            basis,
            category: self.category.ok_or_else(|| need("--category"))?,
            purpose: self.purpose.ok_or_else(|| need("--purpose"))?,
            level: self.level.ok_or_else(|| need("--level"))?,
            units: self.units.unwrap_or(1),
            evidence_hash: self.evidence_hash.ok_or_else(|| need("--evidence-hash"))?,
        };
        Ok(Payload::RecordUse(tx::RecordUse { uses: vec![one] }))
    }
}

#[derive(Debug, Args)]
pub struct Rate {
    /// Enterprise rated: account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub enterprise: AccountRef,
    /// Your consent to that enterprise (64 hex); one rating per consent
    #[arg(long, value_name = "ID")]
    pub consent: ConsentId,
    /// 1 (worst) to 5 (best)
    #[arg(long, value_name = "1-5")]
    pub score: u8,
}

impl Rate {
    pub fn payload(self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::Rate(tx::Rate {
            enterprise: resolve(&self.enterprise, "--enterprise", ks)?,
            consent: self.consent,
            score: self.score,
        }))
    }
}

#[derive(Debug, Args)]
pub struct Contact {
    /// Where data subjects send privacy requests, e.g. privacy@acme.example
    #[arg(long, value_name = "ADDRESS")]
    pub email: String,
    /// The enterprise's postal address as a legal entity, on one line
    #[arg(long, value_name = "TEXT")]
    pub address: String,
    /// A phone number for privacy requests
    #[arg(long, value_name = "NUMBER", default_value = "")]
    pub phone: String,
    /// Your privacy notice [default: the policy URL you were admitted with]
    #[arg(long, value_name = "URL", default_value = "")]
    pub notice_url: String,
    /// Language of that notice (BCP 47), e.g. en or de-AT
    #[arg(long, value_name = "TAG", default_value = "en")]
    pub notice_language: String,
}

impl Contact {
    pub fn payload(self) -> Payload {
        Payload::SetContact(tx::SetContact {
            email: self.email,
            phone: self.phone,
            address: self.address,
            notice_url: self.notice_url,
            notice_language: self.notice_language,
        })
    }
}

/// An identity link's enterprise and kind (link-identity, unlink-identity).
#[derive(Debug, Args)]
pub struct LinkRef {
    /// Enterprise the link is for: its account (assent1...) or a key name
    #[arg(long, value_name = "ACCOUNT")]
    pub enterprise: AccountRef,
    /// Kind of identifier: member_card, phone, email or openid
    #[arg(long, value_name = "KIND")]
    pub kind: IdentityKind,
}

impl LinkRef {
    pub fn unlink(self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::UnlinkIdentity(tx::UnlinkIdentity {
            enterprise: resolve(&self.enterprise, "--enterprise", ks)?,
            kind: self.kind,
        }))
    }
}

/// LinkIdentity from a commitment computed elsewhere (`tx build`; `assent
/// consumer link` computes it, draws the salt and writes the link token).
#[derive(Debug, Args)]
pub struct Link {
    #[command(flatten)]
    pub link: LinkRef,
    /// The commitment (64 hex) to the normalised identifier and its salt
    #[arg(long, value_name = "HEX")]
    pub commitment: LinkCommitment,
}

impl Link {
    pub fn payload(self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::LinkIdentity(tx::LinkIdentity {
            enterprise: resolve(&self.link.enterprise, "--enterprise", ks)?,
            kind: self.link.kind,
            commitment: self.commitment,
        }))
    }
}

/// A recipient and an amount (transfer, mint).
#[derive(Debug, Args)]
pub struct AmountTo {
    /// Recipient: account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub to: AccountRef,
    /// Points
    #[arg(long, value_name = "POINTS")]
    pub amount: u64,
}

impl AmountTo {
    pub fn transfer(self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::Transfer(tx::Transfer {
            to: resolve(&self.to, "--to", ks)?,
            amount: Amount(self.amount),
        }))
    }

    pub fn mint(self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::Mint(tx::Mint {
            to: resolve(&self.to, "--to", ks)?,
            amount: Amount(self.amount),
        }))
    }
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("choice").required(true).args(["yes", "no"])))]
pub struct Vote {
    /// Proposal id (64 hex; the id of the Propose tx)
    #[arg(long, value_name = "ID")]
    pub proposal: ProposalId,
    /// Vote for
    #[arg(long)]
    pub yes: bool,
    /// Vote against
    #[arg(long)]
    pub no: bool,
}

impl Vote {
    pub fn payload(self) -> Payload {
        Payload::Vote(tx::Vote {
            proposal: self.proposal,
            yes: self.yes && !self.no,
        })
    }
}
