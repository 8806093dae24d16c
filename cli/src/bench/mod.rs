//! The load generator behind `assent bench`: a workload of pre-signed txs,
//! a driver that offers them to the nodes and times each one to its commit,
//! what the measured run cost the validators (CPU, bytes written, against an
//! `openssl` yardstick), and the report.

pub mod batching;
pub mod costs;
pub mod driver;
pub mod proc;
pub mod report;
pub mod workload;
pub mod yardstick;
