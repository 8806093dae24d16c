//! `cargo fuzz run config`: see `assent_node::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::config(data));
