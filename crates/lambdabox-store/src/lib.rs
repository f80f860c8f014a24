//! Durable state: function metadata in SQLite and code packages as
//! content-addressed blobs.
//!
//! Metadata sits behind the [`FunctionStore`] trait: [`SqliteStore`] (one
//! file per resource under `sqlite/`), which the server wraps in
//! [`CachedStore`] and tests open on an in-memory database; one conformance
//! suite (in `record.rs`) runs against it both bare and cached. Blobs sit
//! behind `object_store`, so a bucket can replace the local disk later
//! without touching callers.
//!
//! Atomicity: a blob is written (temp file, fsync, rename) before the
//! metadata row that names it is committed in one SQLite transaction, so a
//! crash leaves the old function or the new one, never half of one. A blob
//! whose row never committed is an orphan: nothing names it, so nothing
//! serves it, and [`BlobStore::collect_garbage`] removes it at start-up.

mod blob;
mod cached;
mod error;
pub mod open;
mod queue;
mod record;
mod sqlite;

pub use blob::BlobStore;
pub use cached::CachedStore;
pub use error::StoreError;
pub use open::{OpenError, open_migrated, open_migrated_in_memory};
pub use queue::{EventQueue, NewEvent, QueuedEvent};
pub use record::{FunctionRecord, FunctionStore, Usage};
pub use sqlite::SqliteStore;
