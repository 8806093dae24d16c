//! No input makes loading panic: arbitrary text, and valid files with random
//! edits. Whatever is accepted also writes back to the same genesis.

// Tests fail by panicking; the workspace's no-panic lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_genesis::Genesis;
use proptest::prelude::*;

/// Accepting implies the written form loads back equal.
fn check(text: &str) -> Result<(), TestCaseError> {
    if let Ok(g) = Genesis::from_toml_str(text) {
        let back = Genesis::from_toml_str(&g.to_toml_string()).ok();
        prop_assert_eq!(back, Some(g));
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, text: String },
    Duplicate { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        "\\PC{0,12}",
        Just("\"".to_owned()),
        Just("\n".to_owned()),
        Just("[[validators]]\n".to_owned()),
        Just("[params]\n".to_owned()),
        Just(" = ".to_owned()),
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("{".to_owned()),
        Just("'''".to_owned()),
        Just("\\u0000".to_owned()),
    ];
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), snippet.clone()).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), snippet).prop_map(|(at, text)| Mutation::Replace { at, text }),
        (any::<usize>(), 1usize..200).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
    let s = |a: usize, b: usize| chars[a.min(n)..b.min(n)].iter().collect::<String>();
    match m {
        Mutation::Delete { at, len } => {
            let a = pos(*at);
            format!("{}{}", s(0, a), s(a + len, n))
        }
        Mutation::Insert { at, text } => {
            let a = pos(*at);
            format!("{}{}{}", s(0, a), text, s(a, n))
        }
        Mutation::Replace { at, text } => {
            let a = pos(*at);
            format!("{}{}{}", s(0, a), text, s(a + text.chars().count(), n))
        }
        Mutation::Duplicate { at, len } => {
            let a = pos(*at);
            format!("{}{}", s(0, a + len), s(a, n))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn toml_looking_text_never_panics(text in "([a-z_\\[\\]]{1,14} = (\"[ -~]{0,20}\"|-?[0-9]{1,20}|true|\\[\\]|\\{\\}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z)\n){0,12}") {
        check(&text)?;
    }

    #[test]
    fn edited_example_files_never_panic(
        which in 0usize..2,
        edits in proptest::collection::vec(mutation(), 1..6),
    ) {
        let name = ["single-validator.toml", "four-validators.toml"][which];
        let mut text = common::example(name);
        for m in &edits {
            text = apply(&text, m);
        }
        check(&text)?;
    }
}
