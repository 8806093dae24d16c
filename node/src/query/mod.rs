//! What the node derives from the committed chain to answer questions about
//! it, apart from HTTP: self-proving receipts for txs, uses and consents
//! ([`receipts`]), and consent receipts in the standard formats
//! ([`standard_receipts`]). The API (`crate::api`) serves them.

pub mod receipts;
pub mod standard_receipts;
