//! Paging tokens. GetLogEvents' tokens look like AWS's (`f/` or `b/` and 56
//! digits: here the byte offset where the next page starts or ends); the
//! other operations' tokens are opaque: their position, as base64url JSON.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::LogsError;

/// Which way a GetLogEvents token pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// A GetLogEvents token: `f/<offset>` or `b/<offset>`, zero-padded to 56 digits.
pub fn event_token(direction: Direction, offset: u64) -> String {
    let prefix = match direction {
        Direction::Forward => 'f',
        Direction::Backward => 'b',
    };
    format!("{prefix}/{offset:056}")
}

pub fn parse_event_token(token: &str) -> Result<(Direction, u64), LogsError> {
    let (direction, digits) = match token.split_at_checked(2) {
        Some(("f/", digits)) => (Direction::Forward, digits),
        Some(("b/", digits)) => (Direction::Backward, digits),
        _ => return Err(LogsError::InvalidToken),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LogsError::InvalidToken);
    }
    let offset = digits.trim_start_matches('0');
    let offset = if offset.is_empty() { 0 } else { offset.parse().map_err(|_| LogsError::InvalidToken)? };
    Ok((direction, offset))
}

/// An opaque token for a position.
pub fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).expect("positions serialize"))
}

pub fn decode<T: DeserializeOwned>(token: &str) -> Result<T, LogsError> {
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| LogsError::InvalidToken)?;
    serde_json::from_slice(&bytes).map_err(|_| LogsError::InvalidToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_tokens_look_like_aws_and_round_trip() {
        let t = event_token(Direction::Forward, 1234);
        assert_eq!(t.len(), 58);
        assert!(t.starts_with("f/0000"));
        assert_eq!(parse_event_token(&t).unwrap(), (Direction::Forward, 1234));
        assert_eq!(parse_event_token(&event_token(Direction::Backward, 0)).unwrap(), (Direction::Backward, 0));
        for bad in ["", "f/", "x/12", "f/12a", "b/-1", "f/99999999999999999999999999"] {
            assert!(parse_event_token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn opaque_tokens_round_trip() {
        let t = encode(&("2026/01/01/[$LATEST]x", 12));
        assert_eq!(decode::<(String, u64)>(&t).unwrap(), ("2026/01/01/[$LATEST]x".to_owned(), 12));
        assert!(decode::<(String, u64)>("not a token!").is_err());
    }
}
