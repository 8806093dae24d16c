//! `cargo fuzz run proposal_stream`: see `assent_node::fuzzing::proposal_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::proposal_stream(data));
