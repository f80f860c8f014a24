//! The Lambda domain: function names and ARNs, configuration values and their
//! limits, the runtime registry and deployment-package inspection.
//!
//! Everything here is pure: no I/O, no clock, no randomness. Values are
//! validated at construction, so an invalid name or setting cannot exist past
//! the edge that parsed it.

pub mod alias;
pub mod arn;
pub mod code;
pub mod config;
pub mod credentials;
pub mod environment;
pub mod event_invoke;
pub mod event_source;
pub mod filter;
pub mod layer;
pub mod limits;
pub mod logstream;
pub mod name;
pub mod package;
pub mod runtime;
pub mod validation;

pub use arn::{AccountId, Region};
pub use config::{Architecture, EphemeralStorage, FunctionConfig, MemorySize, Timeout, VpcConfig};
pub use credentials::Credentials;
pub use environment::Environment;
pub use name::{FunctionName, FunctionRef, Qualifier};
pub use package::{CodePackage, PackageError, check_merged as check_merged_packages};
pub use runtime::{RuntimeFamily, RuntimeRegistry, RuntimeSpec};
pub use validation::ValidationError;
