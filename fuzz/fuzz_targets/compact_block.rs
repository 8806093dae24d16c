//! `cargo fuzz run compact_block`: see `assent_node::fuzzing::compact_block`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::compact_block(data));
