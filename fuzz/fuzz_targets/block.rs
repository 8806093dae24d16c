//! `cargo fuzz run block`: see `assent_node::fuzzing::block`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::block(data));
