//! Event source mappings (CreateEventSourceMapping): a poller that reads
//! batches from a source (an SQS queue here) and invokes a function with
//! them. The settings, their AWS defaults and limits, and the states a
//! mapping goes through.

use serde::{Deserialize, Serialize};

use crate::filter::{InvalidPattern, Pattern};

/// AWS's default `BatchSize` for SQS.
pub const SQS_DEFAULT_BATCH_SIZE: u32 = 10;
/// The largest `BatchSize` of a standard queue (a FIFO queue's is 10).
pub const SQS_MAX_BATCH_SIZE: u32 = 10_000;
pub const SQS_FIFO_MAX_BATCH_SIZE: u32 = 10;
/// `MaximumBatchingWindowInSeconds`: 0 to 300.
pub const MAX_BATCHING_WINDOW_SECONDS: u32 = 300;
/// `ScalingConfig.MaximumConcurrency`: 2 to 1000; without it, SQS pollers
/// scale up to 1250 concurrent invocations on AWS (bounded here by the
/// function's and account's concurrency).
pub const MIN_MAXIMUM_CONCURRENCY: u32 = 2;
pub const MAX_MAXIMUM_CONCURRENCY: u32 = 1000;
/// Filters per mapping (AWS's default quota).
pub const MAX_FILTERS: usize = 5;
/// The one `FunctionResponseTypes` value.
pub const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";

/// A mapping's state, as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MappingState {
    Creating,
    Enabling,
    Enabled,
    Disabling,
    Disabled,
    Updating,
    Deleting,
}

impl MappingState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "Creating",
            Self::Enabling => "Enabling",
            Self::Enabled => "Enabled",
            Self::Disabling => "Disabling",
            Self::Disabled => "Disabled",
            Self::Updating => "Updating",
            Self::Deleting => "Deleting",
        }
    }
}

/// One stored mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSourceMapping {
    pub uuid: String,
    pub region: String,
    pub event_source_arn: String,
    /// The function's name, and the version or alias the ARN names.
    pub function_name: String,
    pub qualifier: Option<String>,
    /// The function's ARN as AWS reports it (qualified when given so).
    pub function_arn: String,
    pub batch_size: u32,
    pub maximum_batching_window_in_seconds: u32,
    /// `FilterCriteria.Filters[].Pattern`, as given.
    pub filters: Vec<String>,
    pub function_response_types: Vec<String>,
    pub maximum_concurrency: Option<u32>,
    /// Whether the poller runs (`Enabled`); the settled state follows it.
    pub enabled: bool,
    /// Epoch seconds of the last change.
    pub last_modified: f64,
    pub state_transition_reason: String,
    pub tags: std::collections::BTreeMap<String, String>,
}

impl EventSourceMapping {
    /// The state when no transition is under way.
    pub fn settled_state(&self) -> MappingState {
        if self.enabled { MappingState::Enabled } else { MappingState::Disabled }
    }

    pub fn reports_item_failures(&self) -> bool {
        self.function_response_types.iter().any(|t| t == REPORT_BATCH_ITEM_FAILURES)
    }

    /// The parsed filters (checked when the mapping was stored).
    pub fn patterns(&self) -> Vec<Pattern> {
        self.filters.iter().filter_map(|p| Pattern::parse(p).ok()).collect()
    }
}

/// A setting AWS refuses with `InvalidParameterValueException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")]
    WindowRequired,
    #[error("BatchSize must be between 1 and {max} for a {kind} queue")]
    BatchSize { max: u32, kind: &'static str },
    #[error("Batching window is not supported for FIFO queues")]
    FifoWindow,
    #[error(transparent)]
    Pattern(#[from] InvalidPattern),
    #[error("Filter criteria may contain at most {MAX_FILTERS} filters")]
    TooManyFilters,
}

/// Checks the batching settings of an SQS mapping.
pub fn check_sqs_batching(batch_size: u32, window: u32, fifo: bool) -> Result<(), MappingError> {
    if fifo {
        if batch_size > SQS_FIFO_MAX_BATCH_SIZE {
            return Err(MappingError::BatchSize { max: SQS_FIFO_MAX_BATCH_SIZE, kind: "FIFO" });
        }
        if window > 0 {
            return Err(MappingError::FifoWindow);
        }
    } else if batch_size > 10 && window == 0 {
        return Err(MappingError::WindowRequired);
    }
    if batch_size == 0 || batch_size > SQS_MAX_BATCH_SIZE {
        return Err(MappingError::BatchSize { max: SQS_MAX_BATCH_SIZE, kind: "standard" });
    }
    Ok(())
}

/// Checks each filter's pattern.
pub fn check_filters(filters: &[String]) -> Result<(), MappingError> {
    if filters.len() > MAX_FILTERS {
        return Err(MappingError::TooManyFilters);
    }
    for f in filters {
        Pattern::parse(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batching_rules() {
        assert!(check_sqs_batching(10, 0, false).is_ok());
        assert_eq!(check_sqs_batching(11, 0, false), Err(MappingError::WindowRequired));
        assert!(check_sqs_batching(10_000, 1, false).is_ok());
        assert!(check_sqs_batching(10_001, 1, false).is_err());
        assert!(check_sqs_batching(11, 0, true).is_err());
        assert_eq!(check_sqs_batching(5, 2, true), Err(MappingError::FifoWindow));
        assert_eq!(
            MappingError::WindowRequired.to_string(),
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
        );
    }

    #[test]
    fn filters_are_checked() {
        assert!(check_filters(&[r#"{"body":{"a":["1"]}}"#.into()]).is_ok());
        assert!(check_filters(&["{".into()]).is_err());
        assert_eq!(check_filters(&vec![r#"{"a":["1"]}"#.to_owned(); 6]), Err(MappingError::TooManyFilters));
    }
}
