//! What a control-plane operation can fail with. Each variant maps to one AWS
//! error type at the edge.

use lambdabox_model::environment::EnvironmentError;
use lambdabox_model::runtime::HandlerError;
use lambdabox_model::{PackageError, ValidationError};
use lambdabox_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A constraint on a member (AWS's `ValidationException`).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("Function not found: {arn}")]
    FunctionNotFound { arn: String },
    #[error("Function already exist: {name}")]
    FunctionAlreadyExists { name: String },
    #[error(
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
    )]
    RevisionMismatch,
    #[error("{message}")]
    UnknownRuntime { message: String },
    #[error("Runtime and Handler are mandatory parameters for functions created with deployment packages.")]
    RuntimeAndHandlerRequired,
    #[error("{0}")]
    Package(#[from] PackageError),
    #[error("{0}")]
    Environment(#[from] EnvironmentError),
    #[error("{0}")]
    Handler(#[from] HandlerError),
    #[error("Request must be smaller than {limit} bytes for the {operation} operation")]
    RequestTooLarge { limit: u64, operation: &'static str },
    #[error(
        "Code from S3 (S3Bucket/S3Key/S3ObjectVersion) is not configured on this server; upload the package inline with ZipFile"
    )]
    S3CodeUnavailable,
    /// Reading a package from S3 failed (AWS: InvalidParameterValueException).
    #[error("Error occurred while GetObject. {source}")]
    S3Fetch { source: crate::FetchError },
    #[error(
        "Function code combined with layers exceeds the maximum allowed size of {limit} bytes. The actual size is {actual} bytes."
    )]
    CombinedSizeExceeded { limit: u64, actual: u64 },
    #[error(
        "Two different versions of the same layer are not allowed to be referenced in the same function. {first} and {second}"
    )]
    DuplicateLayer { first: String, second: String },
    #[error("The resource you requested does not exist.")]
    ResourceNotFound,
    #[error(
        "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
    )]
    StatementExists { sid: String },
    #[error("Statement {sid} is not found in resource policy.")]
    StatementNotFound { sid: String },
    #[error("Please provide a source for function code.")]
    CodeMissing,
    #[error("Please do not provide other FunctionCode parameters when providing a ZipFile.")]
    CodeAmbiguous,
    #[error("Layer version {arn} does not exist.")]
    LayerVersionNotFound { arn: String },
    #[error("Cannot reference more than 5 layers.")]
    TooManyLayers,
    #[error("$LATEST version cannot be deleted without deleting the function.")]
    DeleteLatestQualifier,
    #[error(
        "CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST ({current}). Please try again with the current CodeSHA256."
    )]
    CodeSha256Mismatch { given: String, current: String },
    #[error("Unable to delete version because the following aliases reference it: {aliases:?}")]
    VersionInUse { aliases: Vec<String> },
    #[error("Alias not found: {arn}")]
    AliasNotFound { arn: String },
    #[error("Alias already exists: {arn}")]
    AliasAlreadyExists { arn: String },
    #[error("{0}")]
    InvalidRouting(&'static str),
    #[error(
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
    )]
    UnreservedBelowMinimum,
    #[error(
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
    )]
    ProvisionedAboveReserved,
    #[error("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")]
    ProvisionedOnLatest,
    #[error("No Provisioned Concurrency Config found for this function: {arn}")]
    ProvisionedNotFound { arn: String },
    #[error("The function {arn} doesn't have an EventInvokeConfig")]
    EventInvokeConfigNotFound { arn: String },
    #[error(
        "The destination ARN {arn} is not supported: Lambdabox delivers destinations to Lambda functions and SQS queues"
    )]
    UnsupportedDestination { arn: String },
    #[error("Code storage limit exceeded.")]
    CodeStorageExceeded,
    #[error("{0}")]
    InvalidTags(String),
    /// Updates kept racing another writer of the same function.
    #[error("The operation cannot be performed at this time. An update is in progress for resource: {arn}")]
    UpdateInProgress { arn: String },
    /// The identifier names another account (AWS's `AccessDeniedException`;
    /// the edge names the operation in the message, as AWS does).
    #[error("User: arn:aws:iam::{caller}:root is not authorized to perform this action on resource: {resource}")]
    OtherAccount { caller: String, resource: String },
    /// The identifier names another region than the request's.
    #[error("Functions from '{function_region}' are not reachable in this region ('{region}')")]
    OtherRegion { function_region: String, region: String },
    /// An event source mapping setting AWS refuses (`InvalidParameterValueException`).
    #[error("{message}")]
    InvalidMappingParameter { message: String },
    #[error(transparent)]
    Mapping(#[from] lambdabox_model::event_source::MappingError),
    #[error("Unrecognized event source, must be kinesis, dynamodb stream or sqs. Unsupported source arn : {arn}")]
    UnsupportedEventSource { arn: String },
    #[error(
        "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version."
    )]
    EventSourceQueueNotFound,
    #[error(
        "An event source mapping with SQS arn (\" {source_arn} \") and function (\" {function} \") already exists. Please update or delete the existing mapping with UUID {uuid}"
    )]
    MappingExists { source_arn: String, function: String, uuid: String },
    /// A stream or broker AWS polls but Lambdabox does not serve.
    #[error("Event sources of this kind are not served by Lambdabox (it polls SQS queues): {arn}")]
    EventSourceNotServed { arn: String },
    #[error("internal error: {0}")]
    Store(#[from] StoreError),
}

impl ControlError {
    /// Whether the fault is the server's (AWS's `ServiceException`).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Store(_))
    }
}
