//! Consensus through Malachite's app-channel API. Every Malachite type stays
//! inside this folder, so an engine upgrade touches one place.

pub mod app;
pub mod codec;
pub mod compact;
pub mod engine;
pub mod evidence;
pub mod gossip_admission;
pub mod intake;
pub mod membership;
pub mod peers;
pub mod signing;
pub mod streaming;
pub mod types;
