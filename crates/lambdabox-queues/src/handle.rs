//! Receipt handles: opaque to clients, one per receive. A handle names the
//! queue (by its internal id, never reused), the message and the receive
//! that handed it out (a random token the message row keeps until the next
//! receive), so a stale handle is told from the current one.

use base64::Engine;

use crate::QueueError;

const PREFIX: &str = "lbx1";

/// What a receipt handle names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceiptHandle {
    pub queue_id: i64,
    pub message_id: String,
    pub token: String,
}

impl ReceiptHandle {
    pub fn encode(&self) -> String {
        let text = format!("{PREFIX}:{}:{}:{}", self.queue_id, self.message_id, self.token);
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// Decodes a handle; anything this server did not hand out is
    /// `ReceiptHandleIsInvalid`.
    pub fn decode(handle: &str) -> Result<Self, QueueError> {
        let invalid = || QueueError::ReceiptHandleIsInvalid { handle: handle.to_owned() };
        let bytes = base64::engine::general_purpose::STANDARD.decode(handle).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.split(':');
        let (prefix, queue, message, token) = (parts.next(), parts.next(), parts.next(), parts.next());
        match (prefix, queue.and_then(|q| q.parse::<i64>().ok()), message, token, parts.next()) {
            (Some(PREFIX), Some(queue_id), Some(message_id), Some(token), None)
                if !message_id.is_empty() && !token.is_empty() =>
            {
                Ok(Self { queue_id, message_id: message_id.to_owned(), token: token.to_owned() })
            }
            _ => Err(invalid()),
        }
    }
}

/// A fresh receive token.
pub(crate) fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let h = ReceiptHandle { queue_id: 7, message_id: "m-1".into(), token: new_token() };
        assert_eq!(ReceiptHandle::decode(&h.encode()).unwrap(), h);
        for bad in ["", "not base64!", "bm9wZQ==", &base64::engine::general_purpose::STANDARD.encode("lbx1:x:m:t")] {
            assert!(matches!(ReceiptHandle::decode(bad), Err(QueueError::ReceiptHandleIsInvalid { .. })), "{bad}");
        }
    }
}
