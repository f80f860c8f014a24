//! What the unit tests of the message operations share: in-memory queues
//! of account 000000000000, a queue made with given attributes, a message
//! in a group.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::{NewMessage, Queue, Queues};

/// A receive that does not wait.
pub(crate) const NO_WAIT: Duration = Duration::ZERO;

pub(crate) fn queues() -> Arc<Queues> {
    Queues::open_in_memory("000000000000").unwrap()
}

/// A queue of `us-east-1` with these attributes.
pub(crate) async fn queue(q: &Arc<Queues>, name: &str, attributes: &[(&str, &str)]) -> Queue {
    let attributes = attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    q.create_queue("us-east-1", name, attributes, BTreeMap::new()).await.unwrap()
}

/// A message of a message group.
pub(crate) fn grouped(body: &str, group: &str) -> NewMessage {
    NewMessage { group_id: Some(group.to_owned()), ..NewMessage::body(body) }
}
