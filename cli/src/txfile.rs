//! Signed transaction files: the canonical bytes of a [`SignedTx`]
//! (`SignedTx::encode()`), written as lowercase hex text with a trailing
//! newline. Reading also accepts the raw bytes.

use assent_contracts::codec::CodecError;
use assent_contracts::tx::TxDecodeError;
use assent_contracts::SignedTx;

/// How to read a transaction file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxFormat {
    /// Hex if the content is text, raw bytes otherwise.
    Auto,
    Hex,
    Raw,
}

/// Why a transaction file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxFileError {
    #[error("it is empty; expected a hex-encoded signed transaction")]
    Empty,
    #[error("not hex: {0}")]
    NotHex(String),
    #[error("{}", describe(.0))]
    Decode(TxDecodeError),
}

/// The contracts' decode error, with a hint at the likely cause.
fn describe(e: &TxDecodeError) -> String {
    match e {
        TxDecodeError::Codec(CodecError::Malformed(m)) if m.contains("UnexpectedEnd") => {
            "transaction bytes do not decode: the bytes end early (truncated file?)".to_string()
        }
        TxDecodeError::Codec(CodecError::Malformed(_)) => {
            format!("{e} (not an assent transaction, or a damaged one)")
        }
        TxDecodeError::Codec(CodecError::TrailingBytes { .. }) => {
            format!("{e} (extra bytes after the transaction)")
        }
        _ => e.to_string(),
    }
}

/// The text written to a transaction file: hex of the canonical bytes and a newline.
pub fn to_hex_text(tx: &SignedTx) -> String {
    let mut s = hex::encode(tx.encode());
    s.push('\n');
    s
}

/// Canonical bytes from a file's content.
pub fn bytes_of(content: &[u8], format: TxFormat) -> Result<Vec<u8>, TxFileError> {
    if content.is_empty() {
        return Err(TxFileError::Empty);
    }
    let as_text = match format {
        TxFormat::Hex => true,
        TxFormat::Raw => false,
        TxFormat::Auto => looks_like_text(content),
    };
    if !as_text {
        return Ok(content.to_vec());
    }
    let text = std::str::from_utf8(content)
        .map_err(|_| TxFileError::NotHex("the content is not text".into()))?;
    let digits: String = text.split_ascii_whitespace().collect();
    if digits.is_empty() {
        return Err(TxFileError::Empty);
    }
    if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(TxFileError::NotHex(format!(
            "`{}` at offset {i} is not a hex digit",
            c.escape_debug()
        )));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(TxFileError::NotHex(format!(
            "odd number of hex digits ({}); the file may be truncated",
            digits.len()
        )));
    }
    hex::decode(&digits).map_err(|e| TxFileError::NotHex(e.to_string()))
}

/// Strictly decodes a transaction file's content (at most `max_len` canonical bytes).
pub fn decode(content: &[u8], format: TxFormat, max_len: usize) -> Result<SignedTx, TxFileError> {
    let bytes = bytes_of(content, format)?;
    SignedTx::decode(&bytes, max_len).map_err(TxFileError::Decode)
}

/// Text is printable UTF-8 (whitespace allowed). A canonical tx starts with a
/// 32-byte public key, so raw bytes practically never pass this test.
fn looks_like_text(content: &[u8]) -> bool {
    match std::str::from_utf8(content) {
        Ok(s) => s.chars().all(|c| !c.is_control() || c.is_whitespace()),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn hex_problems_are_named() {
        assert_eq!(bytes_of(b"", TxFormat::Auto), Err(TxFileError::Empty));
        assert_eq!(bytes_of(b" \n", TxFormat::Auto), Err(TxFileError::Empty));
        assert!(matches!(
            bytes_of(b"hello", TxFormat::Auto),
            Err(TxFileError::NotHex(m)) if m.contains("`h` at offset 0")
        ));
        assert!(matches!(
            bytes_of(b"abc\n", TxFormat::Auto),
            Err(TxFileError::NotHex(m)) if m.contains("odd number")
        ));
        assert_eq!(bytes_of(b"ab cd\n", TxFormat::Auto), Ok(vec![0xab, 0xcd]));
        assert_eq!(bytes_of(&[0, 1, 2], TxFormat::Auto), Ok(vec![0, 1, 2]));
    }
}
