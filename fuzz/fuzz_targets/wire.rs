//! `cargo fuzz run wire`: see `assent_node::fuzzing::wire`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::wire(data));
