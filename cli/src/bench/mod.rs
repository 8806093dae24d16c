//! The load generator behind `assent bench`: a workload of pre-signed txs,
//! a driver that offers them to the nodes and times each one to its commit,
//! and the report.

pub mod driver;
pub mod report;
pub mod workload;
