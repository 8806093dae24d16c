//! `cargo fuzz run tx`: see `assent_node::fuzzing::tx`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assent_node::fuzzing::tx(data));
