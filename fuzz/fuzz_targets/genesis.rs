//! `cargo fuzz run genesis`: see `assent_node::fuzzing::genesis`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::genesis(data));
