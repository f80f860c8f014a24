//! AWS Lambda's documented quotas, as constants.

/// Largest deployment package accepted in a request (zipped), bytes.
pub const CODE_SIZE_ZIPPED: u64 = 52_428_800;
/// Largest unzipped deployment package, including layers, bytes.
pub const CODE_SIZE_UNZIPPED: u64 = 262_144_000;
/// Largest CreateFunction / UpdateFunctionCode request body: the zipped limit
/// in base64 (4/3 of it), as AWS states it in its error.
pub const CODE_REQUEST_BODY: u64 = 69_905_067;
/// Default total code storage per account, bytes (75 GB).
pub const TOTAL_CODE_SIZE: u64 = 80_530_636_800;
/// Default account concurrency.
pub const CONCURRENT_EXECUTIONS: u32 = 1000;

pub const FUNCTION_NAME_MAX: usize = 64;
pub const FUNCTION_IDENTIFIER_MAX: usize = 140;
pub const HANDLER_MAX: usize = 128;
pub const DESCRIPTION_MAX: usize = 256;
pub const ROLE_PATTERN: &str = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";

pub const TIMEOUT_DEFAULT: u32 = 3;
pub const TIMEOUT_MIN: u32 = 1;
pub const TIMEOUT_MAX: u32 = 900;
pub const MEMORY_DEFAULT: u32 = 128;
pub const MEMORY_MIN: u32 = 128;
pub const MEMORY_MAX: u32 = 10_240;
pub const EPHEMERAL_DEFAULT: u32 = 512;
pub const EPHEMERAL_MIN: u32 = 512;
pub const EPHEMERAL_MAX: u32 = 10_240;

/// Total size of a function's environment variables (keys and values), bytes.
pub const ENVIRONMENT_MAX_BYTES: usize = 4096;
pub const LAYERS_MAX: usize = 5;
pub const TAGS_MAX: usize = 50;

/// ListFunctions page size when MaxItems is absent, and its upper bound.
pub const LIST_DEFAULT_PAGE: usize = 50;
pub const LIST_MAX_ITEMS: i64 = 10_000;

/// The largest synchronous Invoke payload, request and response (6 MB).
pub const INVOKE_PAYLOAD_MAX: usize = 6_291_456;
/// The largest asynchronous Invoke payload (1 MB since 2025; was 256 KB).
pub const EVENT_PAYLOAD_MAX: usize = 1_048_576;
