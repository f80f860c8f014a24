//! Wire shapes of the Lambda control-plane REST API (2015-03-31), as serde
//! types with AWS's member names, and their rendering from the model.
//!
//! Requests keep every member optional so that the control plane, not the
//! JSON decoder, reports a missing or invalid value in AWS's words.

pub mod control;
pub mod error;
pub mod layers;

pub use error::ErrorBody;
