//! What every AWS service crate shares, below all of them: the SigV4
//! credential scope a request is signed with (one parser for every service
//! and for the dispatcher), signature verification, and the error shapes of
//! AWS's protocols (REST-JSON, JSON-RPC, REST-XML, query and EC2's), so a
//! request for a service Lambdabox does not serve is answered in that
//! service's own protocol.

pub mod client;
pub mod protocol;
pub mod query;
pub mod scope;
pub mod session;
pub mod sigv4;

pub use protocol::{ErrorReply, Protocol};
pub use scope::CredentialScope;
