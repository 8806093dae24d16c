//! The parts of the vector file other than the txs, one module each.

pub mod invalid;
pub mod reads;
pub mod tag_sets;
pub mod uses_roots;
