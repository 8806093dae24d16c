//! `cargo fuzz run sync`: see `assent_node::fuzzing::sync`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::sync(data));
