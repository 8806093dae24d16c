//! Consensus through Malachite's app-channel API. Every Malachite type stays
//! inside this folder, so an engine upgrade touches one place.

pub mod codec;
pub mod signing;
pub mod streaming;
pub mod types;
pub mod app;
pub mod engine;
