//! The one error type of genesis loading and validation.

use std::path::PathBuf;

/// Why a genesis file cannot be used. Messages are one line (the TOML
/// decoder's excerpt of the offending line aside) and say what to change.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The file could not be read or written.
    #[error("genesis file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML, or not this format's shape: a syntax error, a
    /// value of the wrong type, a missing or unknown key. The message carries
    /// the line and column.
    #[error("genesis file{}: {}", in_path(path), source.to_string().trim_end())]
    Parse {
        /// The file, when loaded from one.
        path: Option<PathBuf>,
        #[source]
        source: toml::de::Error,
    },
    /// A value is well-formed TOML but not allowed, e.g.
    /// `validators[2].consensus_key: duplicate of validators[0].consensus_key; …`.
    #[error("{field}: {problem}")]
    Invalid {
        /// Path of the offending key, e.g. `params.operator_share_bps`.
        field: String,
        /// What is wrong with it and what to do.
        problem: String,
    },
}

fn in_path(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!(" {}", p.display()),
        None => String::new(),
    }
}

impl GenesisError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> GenesisError {
        GenesisError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}
