//! The control plane: the Lambda API's function operations over the store.
//!
//! Callers (the HTTP edge) hand in requests whose fields are still as the
//! client sent them; every check AWS makes happens here, so the same rules
//! hold whatever the front end. Results are model values; the edge renders
//! them in AWS's wire shapes.

mod aliases;
mod code;
mod code_fetch;
mod concurrency;
mod error;
mod event_invoke;
mod event_sources;
mod events;
mod functions;
mod input;
mod layers;
mod permissions;
mod plane;
mod tags;
#[cfg(test)]
pub(crate) mod test_support;
mod versions;

pub use aliases::{AliasInput, AliasPage, AliasView};
pub use code_fetch::{CodeFetcher, ExternalS3, ExternalS3Config, FetchError};
pub use concurrency::{MIN_UNRESERVED, ProvisionedConfig};
pub use error::ControlError;
pub use event_invoke::{EventInvokeInput, EventInvokeView, is_queue_arn};
pub use event_sources::{EventSourceCatalog, MappingInput, MappingPage, MappingView, SourceInfo, SourceProblem};
pub use events::{Change, ChangeListener};
pub use input::{CodeSource, CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration};
pub use layers::{LayerFilter, LayerPage, LayerVersionView, PublishLayerVersion};
pub use permissions::{AddPermission, PolicyView};
pub use plane::{AccountSettings, ControlPlane, ControlPlaneConfig, FunctionPage, FunctionView};
pub use versions::VersionPage;
