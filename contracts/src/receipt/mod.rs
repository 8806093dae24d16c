//! Self-proving receipts: what became of one tx — or of one use inside a
//! RecordUse — proven by Merkle paths into the header of the block that
//! includes it, and that block's commit certificate.
//!
//! Anyone holding the chain's genesis (its id, hash and validator set) can
//! check a receipt offline, trusting no node: the certificate shows that more
//! than 2/3 of the validators committed the header, the paths show the tx and
//! its outcome are part of that header, and the tx signature shows who asked
//! for it. [`Receipt::verify`] does every check and says which one failed.
//!
//! A **use receipt** carries one use and nothing of the other uses of its
//! RecordUse but sibling hashes (decision 34, [`crate::use_tree`]): the
//! enterprise's signature over the uses' count and root, the use and its
//! path to that root, the use's outcome and its path to the root of the
//! tx's outcomes, and the tx's result leaf and path to `results_root`.
//!
//! The receipt's byte fields are the canonical encodings, as hex, so a single
//! changed byte anywhere makes a check fail.

mod format;
mod proven;
mod verify;

pub use format::{Receipt, ReceiptBuilder, ReceiptError, Subject, Trust, UsePart, RECEIPT_VERSION};
pub use proven::{Item, Outcome, Proven};
