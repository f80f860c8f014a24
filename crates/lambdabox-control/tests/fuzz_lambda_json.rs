//! Fuzzes the Lambda API's JSON request bodies as the REST edge handles
//! them: the body is decoded into its `lambdabox_proto` request type
//! (`serde_json`, an all-whitespace body being the empty request), turned
//! into the control plane's input as `lambdabox-lambda`'s handlers do, and
//! handed to a real `ControlPlane` (in-memory SQLite, blobs on a tmpfs)
//! that holds one function, `fuzzed`. The model's validators
//! (`FunctionName`, `FunctionRef`, `Qualifier`, `Environment`, the runtime
//! registry and handlers, layer names and ARNs, roles, descriptions,
//! bounded numbers, credentials) get arbitrary strings too.
//!
//! (The handlers' own parsing is private to `lambdabox-lambda`, and its
//! router needs an engine with cgroups, so the edge is reproduced here.)
//!
//! Properties: nothing panics; a body that does not decode is a decode
//! error; every refusal is a typed `ControlError` that is the caller's
//! fault, never an internal one (a 5xx); a refused operation leaves the
//! function as it was; the plane keeps serving; a validator that accepts a
//! value keeps it as given.
//!
//! The seed corpus (`tests/fuzz-corpus/lambda_json/<valid|invalid>-<op>-*.json`)
//! is replayed first (`valid` must succeed, `invalid` must be refused);
//! then `LAMBDABOX_FUZZ_CASES` (default 1000) generated cases; failures
//! persist in `tests/proptest-regressions/fuzz_lambda_json.txt`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Write as _};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use lambdabox_control::{
    AddPermission, AliasInput, CodeSource, ControlError, ControlPlane, ControlPlaneConfig, CreateFunction,
    EventInvokeInput, PublishLayerVersion, UpdateFunctionCode, UpdateFunctionConfiguration,
};
use lambdabox_model::config::{parse_description, parse_role};
use lambdabox_model::layer::{LayerName, LayerVersionArn, parse_compatible_architectures, parse_compatible_runtimes};
use lambdabox_model::{
    AccountId, Credentials, EphemeralStorage, FunctionName, FunctionRef, MemorySize, Qualifier, Region,
    RuntimeRegistry, Timeout,
};
use lambdabox_proto::control::{
    Concurrency, CreateAliasRequest, CreateFunctionRequest, FunctionCode, PublishVersionRequest,
    PutFunctionEventInvokeConfigRequest, PutProvisionedConcurrencyConfigRequest, TagResourceRequest,
    UpdateAliasRequest, UpdateFunctionCodeRequest, UpdateFunctionConfigurationRequest,
};
use lambdabox_proto::layers::PublishLayerVersionRequest;
use lambdabox_store::{BlobStore, CachedStore, SqliteStore};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

const TARGET: &str = "lambda_json";
const CORPUS: &str = "tests/fuzz-corpus/lambda_json";
const FUNCTION: &str = "fuzzed";
const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

// ---- the operations ---------------------------------------------------------

/// The operations that take a JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    CreateFunction,
    UpdateFunctionConfiguration,
    UpdateFunctionCode,
    PublishVersion,
    CreateAlias,
    UpdateAlias,
    PutEventInvoke,
    PutConcurrency,
    PutProvisioned,
    TagResource,
    AddPermission,
    PublishLayer,
}

impl Op {
    const ALL: [Op; 12] = [
        Op::CreateFunction,
        Op::UpdateFunctionConfiguration,
        Op::UpdateFunctionCode,
        Op::PublishVersion,
        Op::CreateAlias,
        Op::UpdateAlias,
        Op::PutEventInvoke,
        Op::PutConcurrency,
        Op::PutProvisioned,
        Op::TagResource,
        Op::AddPermission,
        Op::PublishLayer,
    ];

    /// The name used in corpus file names.
    fn from_corpus(name: &str) -> Option<Op> {
        Some(match name {
            "create_function" => Op::CreateFunction,
            "update_function_configuration" => Op::UpdateFunctionConfiguration,
            "update_function_code" => Op::UpdateFunctionCode,
            "publish_version" => Op::PublishVersion,
            "create_alias" => Op::CreateAlias,
            "update_alias" => Op::UpdateAlias,
            "put_event_invoke" => Op::PutEventInvoke,
            "put_concurrency" => Op::PutConcurrency,
            "put_provisioned" => Op::PutProvisioned,
            "tag_resource" => Op::TagResource,
            "add_permission" => Op::AddPermission,
            "publish_layer" => Op::PublishLayer,
            _ => return None,
        })
    }
}

/// Why an operation did not succeed.
#[derive(Debug)]
enum Refusal {
    /// The body is not JSON of the request's shape (`InvalidRequestContentException`).
    Decode(String),
    /// What the handler itself refuses before the plane (bad base64, missing
    /// members): typed as the API's 400s.
    Edge(String),
    Control(ControlError),
}

/// Decodes a body as `body::json` does: all whitespace is the empty request.
fn decode<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| Refusal::Decode(e.to_string()))
}

/// `functions::code_source`: a ZipFile (base64) or S3 members.
fn code_source(code: FunctionCode) -> Result<Option<CodeSource>, Refusal> {
    let FunctionCode { zip_file, s3_bucket, s3_key, s3_object_version, image_uri } = code;
    let s3 = s3_bucket.is_some() || s3_key.is_some() || s3_object_version.is_some();
    match (zip_file, s3) {
        (Some(_), true) => Err(Refusal::Control(ControlError::CodeAmbiguous)),
        (Some(z), false) => base64::engine::general_purpose::STANDARD
            .decode(z.trim())
            .map(|b| Some(CodeSource::Zip(Bytes::from(b))))
            .map_err(|e| Refusal::Edge(format!("ZipFile is not valid base64 ({e})"))),
        (None, true) => Ok(Some(CodeSource::S3 {
            bucket: s3_bucket.unwrap_or_default(),
            key: s3_key.unwrap_or_default(),
            object_version: s3_object_version,
        })),
        (None, false) if image_uri.is_some() => Err(Refusal::Edge("ImageUri is not supported".into())),
        (None, false) => Ok(None),
    }
}

fn string_member(value: &Value, name: &str) -> Result<Option<String>, Refusal> {
    match value.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Refusal::Decode(format!("{name} is not a string: {other}"))),
    }
}

fn control<T>(result: Result<T, ControlError>) -> Result<(), Refusal> {
    result.map(|_| ()).map_err(Refusal::Control)
}

/// Runs one operation on its target (a function identifier, an ARN for
/// TagResource, a layer name for PublishLayer) with its qualifier and
/// `body`, as the REST handler would (`merge`: UpdateFunctionEventInvokeConfig
/// rather than Put…).
async fn run(plane: &ControlPlane, call: &Call, body: &[u8]) -> Result<(), Refusal> {
    let (op, target, qualifier, merge) = (call.op, call.target.as_str(), call.qualifier.as_deref(), call.merge);
    let region = Region::default();
    match op {
        Op::CreateFunction => {
            let req: CreateFunctionRequest = decode(body)?;
            let function_name = req.function_name.ok_or(Refusal::Edge("FunctionName must not be null".into()))?;
            let input = CreateFunction {
                function_name,
                runtime: req.runtime,
                handler: req.handler,
                role: req.role,
                code: code_source(req.code.unwrap_or_default())?,
                description: req.description,
                timeout: req.timeout,
                memory_size: req.memory_size,
                ephemeral_storage: req.ephemeral_storage.map(|e| e.size),
                environment: req.environment.map(|e| e.variables),
                layers: req.layers,
                vpc: req.vpc_config.map(|v| (v.subnet_ids, v.security_group_ids, v.ipv6_allowed_for_dual_stack)),
                architectures: req.architectures,
                dead_letter_target_arn: req.dead_letter_config.and_then(|d| d.target_arn),
                kms_key_arn: req.kms_key_arn,
                tracing_mode: req.tracing_config.and_then(|t| t.mode),
                tags: req.tags.unwrap_or_default(),
                publish: req.publish.unwrap_or(false),
                package_type: req.package_type,
            };
            control(plane.create_function(&region, input).await)
        }
        Op::UpdateFunctionConfiguration => {
            let req: UpdateFunctionConfigurationRequest = decode(body)?;
            let input = UpdateFunctionConfiguration {
                runtime: req.runtime,
                handler: req.handler,
                role: req.role,
                description: req.description,
                timeout: req.timeout,
                memory_size: req.memory_size,
                ephemeral_storage: req.ephemeral_storage.map(|e| e.size),
                environment: req.environment.map(|e| e.variables),
                layers: req.layers,
                vpc: req.vpc_config.map(|v| (v.subnet_ids, v.security_group_ids, v.ipv6_allowed_for_dual_stack)),
                dead_letter_target_arn: req.dead_letter_config.map(|d| d.target_arn.unwrap_or_default()),
                kms_key_arn: req.kms_key_arn,
                tracing_mode: req.tracing_config.and_then(|t| t.mode),
                revision_id: req.revision_id,
            };
            control(plane.update_function_configuration(&region, target, input).await)
        }
        Op::UpdateFunctionCode => {
            let req: UpdateFunctionCodeRequest = decode(body)?;
            let input = UpdateFunctionCode {
                code: code_source(FunctionCode {
                    zip_file: req.zip_file,
                    s3_bucket: req.s3_bucket,
                    s3_key: req.s3_key,
                    s3_object_version: req.s3_object_version,
                    image_uri: req.image_uri,
                })?,
                revision_id: req.revision_id,
                dry_run: req.dry_run.unwrap_or(false),
                publish: req.publish.unwrap_or(false),
                architectures: req.architectures,
            };
            control(plane.update_function_code(&region, target, input).await)
        }
        Op::PublishVersion => {
            let req: PublishVersionRequest = decode(body)?;
            let (sha, description, revision) = (req.code_sha256, req.description, req.revision_id);
            control(
                plane
                    .publish_version(&region, target, sha.as_deref(), description.as_deref(), revision.as_deref())
                    .await,
            )
        }
        Op::CreateAlias => {
            let req: CreateAliasRequest = decode(body)?;
            let input = AliasInput {
                function_version: req.function_version,
                description: req.description,
                additional_version_weights: req.routing_config.map(|r| r.additional_version_weights),
                revision_id: None,
            };
            control(plane.create_alias(&region, target, req.name.as_deref(), input).await)
        }
        Op::UpdateAlias => {
            let req: UpdateAliasRequest = decode(body)?;
            let input = AliasInput {
                function_version: req.function_version,
                description: req.description,
                additional_version_weights: req.routing_config.map(|r| r.additional_version_weights),
                revision_id: req.revision_id,
            };
            control(plane.update_alias(&region, target, qualifier.unwrap_or("live"), input).await)
        }
        Op::PutEventInvoke => {
            let req: PutFunctionEventInvokeConfigRequest = decode(body)?;
            let destinations = req.destination_config.unwrap_or_default();
            let input = EventInvokeInput {
                maximum_retry_attempts: req.maximum_retry_attempts,
                maximum_event_age_in_seconds: req.maximum_event_age_in_seconds,
                on_success: destinations.on_success.map(|d| d.destination.unwrap_or_default()),
                on_failure: destinations.on_failure.map(|d| d.destination.unwrap_or_default()),
            };
            control(plane.put_event_invoke_config(&region, target, qualifier, input, merge).await)
        }
        Op::PutConcurrency => {
            let req: Concurrency = decode(body)?;
            control(plane.put_function_concurrency(&region, target, req.reserved_concurrent_executions).await)
        }
        Op::PutProvisioned => {
            let req: PutProvisionedConcurrencyConfigRequest = decode(body)?;
            control(
                plane
                    .put_provisioned_concurrency(&region, target, qualifier, req.provisioned_concurrent_executions)
                    .await,
            )
        }
        Op::TagResource => {
            let req: TagResourceRequest = decode(body)?;
            let tags = req.tags.ok_or(Refusal::Edge("Tags must not be null".into()))?;
            control(plane.tag_resource(&region, target, tags).await)
        }
        Op::AddPermission => {
            // `policy::AddPermissionRequest`: every member a string.
            let value: Value = decode(body)?;
            if !value.is_object() && !value.is_null() {
                return Err(Refusal::Decode("not an object".into()));
            }
            let input = AddPermission {
                statement_id: string_member(&value, "StatementId")?,
                action: string_member(&value, "Action")?,
                principal: string_member(&value, "Principal")?,
                source_arn: string_member(&value, "SourceArn")?,
                source_account: string_member(&value, "SourceAccount")?,
                event_source_token: string_member(&value, "EventSourceToken")?,
                principal_org_id: string_member(&value, "PrincipalOrgID")?,
                function_url_auth_type: string_member(&value, "FunctionUrlAuthType")?,
                revision_id: string_member(&value, "RevisionId")?,
            };
            control(plane.add_permission(&region, target, qualifier, input).await)
        }
        Op::PublishLayer => {
            let req: PublishLayerVersionRequest = decode(body)?;
            let input = PublishLayerVersion {
                description: req.description,
                content: match req.content {
                    None => None,
                    Some(code) => code_source(code)?,
                },
                compatible_runtimes: req.compatible_runtimes,
                compatible_architectures: req.compatible_architectures,
                license_info: req.license_info,
            };
            control(plane.publish_layer_version(&region, target, input).await)
        }
    }
}

// ---- a control plane with one function ---------------------------------------

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start a file");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

fn package() -> Vec<u8> {
    zip_of(&[("app.py", b"def handler(event, context):\n    return 1\n")])
}

struct Plane {
    plane: ControlPlane,
    _blobs: tempfile::TempDir,
}

async fn plane() -> Plane {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("tempdir");
    let store = Arc::new(CachedStore::new(SqliteStore::open_in_memory().expect("sqlite")));
    let blobs = BlobStore::local(&dir.path().join("blobs")).expect("blobs");
    let plane = ControlPlane::new(store, blobs, ControlPlaneConfig::default());
    let create = CreateFunction {
        function_name: FUNCTION.into(),
        runtime: Some("python3.12".into()),
        handler: Some("app.handler".into()),
        role: Some(ROLE.into()),
        code: Some(CodeSource::Zip(Bytes::from(package()))),
        publish: true,
        ..Default::default()
    };
    plane.create_function(&Region::default(), create).await.expect("create the function");
    let live = AliasInput { function_version: Some("1".into()), ..Default::default() };
    plane.create_alias(&Region::default(), FUNCTION, Some("live"), live).await.expect("create an alias");
    Plane { plane, _blobs: dir }
}

/// What the function is now (configuration of `$LATEST`, tags).
async fn snapshot(plane: &ControlPlane) -> Result<lambdabox_control::FunctionView, TestCaseError> {
    plane
        .get_function(&Region::default(), FUNCTION, None)
        .await
        .map_err(|e| TestCaseError::fail(format!("the function is gone: {e}")))
}

/// The properties of one operation's outcome; `Ok(succeeded)`.
async fn check_op(plane: &ControlPlane, call: &Call, body: &[u8]) -> Result<bool, TestCaseError> {
    let op = call.op;
    let before = snapshot(plane).await?;
    let outcome = run(plane, call, body).await;
    let after = snapshot(plane).await?;
    match &outcome {
        Ok(()) => {}
        Err(Refusal::Control(e)) => {
            prop_assert!(!e.is_internal(), "{:?} answered an internal error (a 500): {}", op, e);
            prop_assert!(!e.to_string().is_empty(), "an empty message: {:?}", e);
        }
        Err(Refusal::Decode(m) | Refusal::Edge(m)) => prop_assert!(!m.is_empty()),
    }
    if outcome.is_err() {
        prop_assert_eq!(&before, &after, "a refused {:?} changed the function", op);
    }
    // The plane keeps serving.
    let listed = plane.list_functions(&Region::default(), None, None).await;
    prop_assert!(listed.is_ok(), "ListFunctions fails after {:?}: {:?}", op, listed.err());
    Ok(outcome.is_ok())
}

// ---- strategies: bodies shaped like each operation's --------------------------

/// A member's shape.
#[derive(Debug, Clone, Copy)]
enum F {
    Str(&'static [&'static str]),
    Int(&'static [i64]),
    Bool,
    List(&'static [&'static str]),
    Map(&'static [&'static str], &'static [&'static str]),
    Weights,
    Obj(&'static [(&'static str, F)]),
    Zip,
}

const NAMES: &[&str] = &[
    FUNCTION,
    "other",
    "fn-1",
    "a",
    "arn:aws:lambda:us-east-1:000000000000:function:fuzzed",
    "bad name",
    "",
    "0123456789012345678901234567890123456789012345678901234567890123x",
    "fuzzed:1",
    "x/../y",
];
const RUNTIMES: &[&str] =
    &["python3.12", "python3.9", "nodejs20.x", "java21", "provided.al2023", "cobol", "", "java-1.8.0-openjdk"];
const HANDLERS: &[&str] = &[
    "app.handler",
    "index.handler",
    "a.b.c",
    "",
    " ",
    "handler",
    ".x",
    "x.",
    "example.Handler::handleRequest",
    "bootstrap",
];
const ROLES: &[&str] = &[
    ROLE,
    "arn:aws:iam::000000000000:role/",
    "arn:aws:iam::123:role/x",
    "role",
    "arn:aws-cn:iam::000000000000:role/a/b",
];
const TEXT: &[&str] =
    &["", "x", "ü", "$LATEST", "1", "live", "null", "arn:aws:lambda:us-east-1:000000000000:function:fuzzed"];
const INTS: &[i64] =
    &[0, 1, 3, 59, 60, 128, 900, 901, 10240, 10241, -1, 5, 21600, 21601, 1000, 999, i64::MAX, i64::MIN];
const ARCHS: &[&str] = &["x86_64", "arm64", "sparc", ""];
const ENV_KEYS: &[&str] =
    &["STAGE", "A", "a1", "1a", "AWS_REGION", "_X", "LAMBDA_TASK_ROOT", "KEY_WITH_UNDERSCORE", ""];
const LAYERS: &[&str] = &[
    "arn:aws:lambda:us-east-1:000000000000:layer:fuzz-layer:1",
    "arn:aws:lambda:us-east-1:000000000000:layer:x:0",
    "arn:aws:lambda:us-east-1:123456789012:layer:x:1",
    "layer",
    "arn:aws:lambda:us-east-1:000000000000:layer:fuzz-layer",
];
const DESTINATIONS: &[&str] = &[
    "arn:aws:lambda:us-east-1:000000000000:function:fuzzed",
    "arn:aws:sqs:us-east-1:000000000000:q",
    "arn:aws:lambda:us-east-1:000000000000:function:missing",
    "",
    "arn",
];
const VERSIONS: &[&str] = &["$LATEST", "1", "2", "0", "-1", "99999999999999999999", "live", ""];

const CODE: &[(&str, F)] = &[
    ("ZipFile", F::Zip),
    ("S3Bucket", F::Str(&["bucket", ""])),
    ("S3Key", F::Str(&["key.zip", ""])),
    ("S3ObjectVersion", F::Str(&["1"])),
    ("ImageUri", F::Str(&["repo:tag"])),
];
const ENVIRONMENT: &[(&str, F)] = &[("Variables", F::Map(ENV_KEYS, TEXT))];
const VPC: &[(&str, F)] = &[
    ("SubnetIds", F::List(&["subnet-1", "", "x"])),
    ("SecurityGroupIds", F::List(&["sg-1", ""])),
    ("Ipv6AllowedForDualStack", F::Bool),
];
const CONFIG_COMMON: &[(&str, F)] = &[
    ("Runtime", F::Str(RUNTIMES)),
    ("Role", F::Str(ROLES)),
    ("Handler", F::Str(HANDLERS)),
    ("Description", F::Str(TEXT)),
    ("Timeout", F::Int(INTS)),
    ("MemorySize", F::Int(INTS)),
    ("VpcConfig", F::Obj(VPC)),
    ("DeadLetterConfig", F::Obj(&[("TargetArn", F::Str(DESTINATIONS))])),
    ("Environment", F::Obj(ENVIRONMENT)),
    ("KMSKeyArn", F::Str(&["arn:aws:kms:us-east-1:000000000000:key/x", ""])),
    ("TracingConfig", F::Obj(&[("Mode", F::Str(&["Active", "PassThrough", "active", ""]))])),
    ("Layers", F::List(LAYERS)),
    ("EphemeralStorage", F::Obj(&[("Size", F::Int(&[512, 511, 10240, 10241, 0]))])),
];
const CREATE_ONLY: &[(&str, F)] = &[
    ("FunctionName", F::Str(NAMES)),
    ("Code", F::Obj(CODE)),
    ("Publish", F::Bool),
    ("PackageType", F::Str(&["Zip", "Image", "zip"])),
    ("Tags", F::Map(&["team", "", "aws:x", "k"], TEXT)),
    ("Architectures", F::List(ARCHS)),
];
const UPDATE_ONLY: &[(&str, F)] = &[("RevisionId", F::Str(&["stale", ""]))];
const UPDATE_CODE: &[(&str, F)] = &[
    ("ZipFile", F::Zip),
    ("S3Bucket", F::Str(&["bucket"])),
    ("S3Key", F::Str(&["key.zip"])),
    ("Publish", F::Bool),
    ("DryRun", F::Bool),
    ("RevisionId", F::Str(&["stale"])),
    ("Architectures", F::List(ARCHS)),
    ("ImageUri", F::Str(&["repo:tag"])),
];
const PUBLISH_VERSION: &[(&str, F)] =
    &[("CodeSha256", F::Str(&["", "abc", "x"])), ("Description", F::Str(TEXT)), ("RevisionId", F::Str(&["stale"]))];
const ALIAS: &[(&str, F)] = &[
    ("Name", F::Str(&["live", "$LATEST", "1", "", "a-b_c", "with space", "123"])),
    ("FunctionVersion", F::Str(VERSIONS)),
    ("Description", F::Str(TEXT)),
    ("RoutingConfig", F::Obj(&[("AdditionalVersionWeights", F::Weights)])),
    ("RevisionId", F::Str(&["stale"])),
];
const EVENT_INVOKE: &[(&str, F)] = &[
    ("MaximumRetryAttempts", F::Int(INTS)),
    ("MaximumEventAgeInSeconds", F::Int(INTS)),
    (
        "DestinationConfig",
        F::Obj(&[
            ("OnSuccess", F::Obj(&[("Destination", F::Str(DESTINATIONS))])),
            ("OnFailure", F::Obj(&[("Destination", F::Str(DESTINATIONS))])),
        ]),
    ),
];
const CONCURRENCY: &[(&str, F)] = &[("ReservedConcurrentExecutions", F::Int(INTS))];
const PROVISIONED: &[(&str, F)] = &[("ProvisionedConcurrentExecutions", F::Int(INTS))];
const TAGS: &[(&str, F)] = &[("Tags", F::Map(&["team", "", "aws:x", "k", "Key With Space"], TEXT))];
const PERMISSION: &[(&str, F)] = &[
    ("StatementId", F::Str(&["s1", "", "sid with space", "s2"])),
    ("Action", F::Str(&["lambda:InvokeFunction", "lambda:*", "lambda:InvokeFunctionUrl", "s3:GetObject", ""])),
    (
        "Principal",
        F::Str(&["s3.amazonaws.com", "*", "000000000000", "123456789012", "arn:aws:iam::000000000000:root", ""]),
    ),
    ("SourceArn", F::Str(&["arn:aws:s3:::bucket", "x", ""])),
    ("SourceAccount", F::Str(&["000000000000", "1"])),
    ("EventSourceToken", F::Str(TEXT)),
    ("PrincipalOrgID", F::Str(&["o-abcdefghij", "x"])),
    ("FunctionUrlAuthType", F::Str(&["NONE", "AWS_IAM", "bogus"])),
    ("RevisionId", F::Str(&["stale"])),
];
const LAYER: &[(&str, F)] = &[
    ("Description", F::Str(TEXT)),
    ("Content", F::Obj(CODE)),
    ("CompatibleRuntimes", F::List(RUNTIMES)),
    ("LicenseInfo", F::Str(TEXT)),
    ("CompatibleArchitectures", F::List(ARCHS)),
];

fn members(op: Op) -> Vec<(&'static str, F)> {
    match op {
        Op::CreateFunction => [CONFIG_COMMON, CREATE_ONLY].concat(),
        Op::UpdateFunctionConfiguration => [CONFIG_COMMON, UPDATE_ONLY].concat(),
        Op::UpdateFunctionCode => UPDATE_CODE.to_vec(),
        Op::PublishVersion => PUBLISH_VERSION.to_vec(),
        Op::CreateAlias | Op::UpdateAlias => ALIAS.to_vec(),
        Op::PutEventInvoke => EVENT_INVOKE.to_vec(),
        Op::PutConcurrency => CONCURRENCY.to_vec(),
        Op::PutProvisioned => PROVISIONED.to_vec(),
        Op::TagResource => TAGS.to_vec(),
        Op::AddPermission => PERMISSION.to_vec(),
        Op::PublishLayer => LAYER.to_vec(),
    }
}

/// A value of the wrong JSON type for any member.
fn wrong() -> BoxedStrategy<Value> {
    prop::sample::select(vec![json!(null), json!(1), json!(-1.5), json!(true), json!("s"), json!([]), json!({})])
        .boxed()
}

fn string_from(pool: &[&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        8 => prop::sample::select(pool.to_vec()).prop_map(str::to_owned),
        2 => "\\PC{0,12}",
        1 => prop::sample::select(vec![64usize, 65, 129, 140, 141, 256, 257, 4097]).prop_map(|n| "x".repeat(n)),
    ]
    .boxed()
}

fn zip_file() -> BoxedStrategy<Value> {
    let b64 = |bytes: Vec<u8>| Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    prop_oneof![
        4 => Just(b64(package())),
        1 => Just(b64(zip_of(&[("index.js", b"exports.handler = async () => 1;\n")]))),
        1 => Just(b64(zip_of(&[]))),
        2 => prop::collection::vec(any::<u8>(), 0..64).prop_map(b64),
        1 => prop::sample::select(vec!["", "not base64!", "QUJD", " UEsFBg== ", "===="]).prop_map(|s| json!(s)),
    ]
    .boxed()
}

fn value(f: F) -> BoxedStrategy<Value> {
    let typed: BoxedStrategy<Value> = match f {
        F::Str(pool) => string_from(pool).prop_map(Value::String).boxed(),
        F::Int(pool) => prop_oneof![
            6 => prop::sample::select(pool).prop_map(|n| json!(n)),
            2 => any::<i64>().prop_map(|n| json!(n)),
            1 => Just(json!(1e300)),
            1 => Just(json!(18446744073709551615u64)),
            1 => Just(json!(3.5)),
        ]
        .boxed(),
        F::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        F::List(pool) => prop::collection::vec(string_from(pool), 0..7).prop_map(|v| json!(v)).boxed(),
        F::Map(keys, values) => {
            prop::collection::btree_map(string_from(keys), string_from(values), 0..5).prop_map(|m| json!(m)).boxed()
        }
        F::Weights => prop::collection::btree_map(
            string_from(VERSIONS),
            prop_oneof![Just(0.0), Just(0.5), Just(1.0), Just(1.5), Just(-0.1), Just(f64::MAX), Just(5e-324)],
            0..3,
        )
        .prop_map(|m| json!(m))
        .boxed(),
        F::Obj(fields) => object(fields.to_vec()),
        F::Zip => zip_file(),
    };
    prop_oneof![30 => typed, 1 => wrong()].boxed()
}

/// A request of `op` that succeeds against the plane's function.
fn base(op: Op) -> Value {
    let zip = base64::engine::general_purpose::STANDARD.encode(package());
    match op {
        Op::CreateFunction => json!({
            "FunctionName": "new-fn", "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": zip}
        }),
        Op::UpdateFunctionConfiguration => json!({"Timeout": 10}),
        Op::UpdateFunctionCode => json!({"ZipFile": zip}),
        Op::PublishVersion => json!({}),
        Op::CreateAlias => json!({"Name": "beta", "FunctionVersion": "1"}),
        Op::UpdateAlias => json!({"FunctionVersion": "1"}),
        Op::PutEventInvoke => json!({"MaximumRetryAttempts": 1}),
        Op::PutConcurrency => json!({"ReservedConcurrentExecutions": 10}),
        Op::PutProvisioned => json!({"ProvisionedConcurrentExecutions": 1}),
        Op::TagResource => json!({"Tags": {"k": "v"}}),
        Op::AddPermission => {
            json!({"StatementId": "s", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"})
        }
        Op::PublishLayer => json!({"Content": {"ZipFile": zip}}),
    }
}

/// [`base`] with a few members replaced (or removed, for `None`).
fn patched(op: Op) -> BoxedStrategy<Value> {
    let fields = members(op);
    let patch =
        prop::sample::select(fields).prop_flat_map(|(name, f)| (Just(name), prop::option::weighted(0.85, value(f))));
    prop::collection::vec(patch, 0..3)
        .prop_map(move |patches| {
            let mut body = base(op);
            let map = body.as_object_mut().expect("an object");
            for (name, value) in patches {
                match value {
                    Some(v) => map.insert(name.to_owned(), v),
                    None => map.remove(name),
                };
            }
            body
        })
        .boxed()
}

/// An object with some of `fields` (and now and then an unknown member).
fn object(fields: Vec<(&'static str, F)>) -> BoxedStrategy<Value> {
    let each: Vec<BoxedStrategy<Option<(&'static str, Value)>>> = fields
        .into_iter()
        .map(|(name, f)| prop::option::weighted(0.5, value(f).prop_map(move |v| (name, v))).boxed())
        .collect();
    (each, prop::bool::weighted(0.05))
        .prop_map(|(members, unknown)| {
            let mut map: serde_json::Map<String, Value> =
                members.into_iter().flatten().map(|(k, v)| (k.to_owned(), v)).collect();
            if unknown {
                map.insert("UnknownMember".into(), json!(1));
            }
            Value::Object(map)
        })
        .boxed()
}

/// How a body's bytes are made.
#[derive(Debug, Clone)]
enum Body {
    Shaped(Value),
    Mangled { value: Value, cut: usize, flip: Option<(usize, u8)> },
    Raw(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Shaped(v) => v.to_string().into_bytes(),
            Body::Mangled { value, cut, flip } => {
                let mut bytes = value.to_string().into_bytes();
                if let Some((at, b)) = flip {
                    let n = at % bytes.len();
                    bytes[n] = *b;
                }
                let keep = cut % (bytes.len() + 1);
                bytes.truncate(keep);
                bytes
            }
            Body::Raw(b) => b.clone(),
        }
    }
}

fn body(op: Op) -> BoxedStrategy<Body> {
    let shaped = object(members(op));
    prop_oneof![
        10 => patched(op).prop_map(Body::Shaped),
        6 => shaped.clone().prop_map(Body::Shaped),
        2 => (shaped, any::<usize>(), prop::option::of((any::<usize>(), any::<u8>())))
            .prop_map(|(value, cut, flip)| Body::Mangled { value, cut, flip }),
        1 => prop::sample::select(vec!["", "  \n", "null", "[]", "\"x\"", "{", "{}}", "1"])
            .prop_map(|s| Body::Raw(s.as_bytes().to_vec())),
        1 => prop::collection::vec(any::<u8>(), 0..32).prop_map(Body::Raw),
    ]
    .boxed()
}

fn target(op: Op) -> BoxedStrategy<String> {
    let pool: Vec<&'static str> = match op {
        Op::TagResource => vec![
            "arn:aws:lambda:us-east-1:000000000000:function:fuzzed",
            "arn:aws:lambda:us-east-1:000000000000:function:fuzzed:1",
            "arn:aws:lambda:us-east-1:000000000000:layer:x:1",
            "arn:aws:lambda:us-west-2:000000000000:function:fuzzed",
            "arn:aws:lambda:us-east-1:123456789012:function:fuzzed",
            FUNCTION,
            "",
        ],
        Op::PublishLayer => {
            vec!["fuzz-layer", "arn:aws:lambda:us-east-1:000000000000:layer:fuzz-layer", "", "bad name", "a:b"]
        }
        _ => vec![
            FUNCTION,
            FUNCTION,
            "fuzzed:1",
            "fuzzed:$LATEST",
            "arn:aws:lambda:us-east-1:000000000000:function:fuzzed",
            "arn:aws:lambda:us-west-2:000000000000:function:fuzzed",
            "123456789012:function:fuzzed",
            "missing",
            "",
            "bad name",
        ],
    };
    string_from(&pool)
}

#[derive(Debug, Clone)]
struct Call {
    op: Op,
    target: String,
    qualifier: Option<String>,
    merge: bool,
    body: Body,
}

fn call() -> BoxedStrategy<Call> {
    prop::sample::select(Op::ALL.to_vec())
        .prop_flat_map(|op| {
            (
                Just(op),
                target(op),
                prop::option::weighted(0.3, string_from(&["1", "$LATEST", "live", "", "2", "bad qualifier"])),
                any::<bool>(),
                body(op),
            )
        })
        .prop_map(|(op, target, qualifier, merge, body)| Call { op, target, qualifier, merge, body })
        .boxed()
}

// ---- the validators -----------------------------------------------------------

fn validator_input() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "fuzzed", "arn:aws:lambda:us-east-1:000000000000:function:fuzzed:live", "000000000000:function:f",
            "us-east-1:000000000000:function:f:1", "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            "arn:aws:lambda:us-east-1:000000000000:layer:l:1", "arn:aws:iam::000000000000:role/r", "a:b:c:d:e:f:g:h",
            "$LATEST", "python3.12", "app.handler", "test:test", "us-east-1", "000000000000", "", ":", "arn",
        ])
        .prop_map(str::to_owned),
        2 => "[a-zA-Z0-9$:_./-]{0,20}",
        1 => "(arn:aws:lambda:)?([a-z]{2}-[a-z]+-[0-9]:)?([0-9]{12}:)?(function:)?[a-zA-Z0-9_-]{1,70}(:[$a-zA-Z0-9_-]{1,140})?",
        1 => "\\PC{0,16}",
        1 => prop::sample::select(vec![63usize, 64, 65, 128, 129, 140, 141, 255, 256]).prop_map(|n| "a".repeat(n)),
    ]
    .boxed()
}

fn check_validators(inputs: &[String], numbers: &[i64]) -> Result<(), TestCaseError> {
    let registry = RuntimeRegistry::builtin();
    for s in inputs {
        if let Ok(name) = FunctionName::parse(s) {
            prop_assert_eq!(name.as_str(), s.as_str());
            prop_assert!((1..=64).contains(&s.len()));
        }
        if let Ok(r) = FunctionRef::parse(s, "functionName") {
            prop_assert!(FunctionName::parse(r.name.as_str()).is_ok(), "a parsed ref's name does not parse: {:?}", r);
            if let Some(q) = &r.qualifier {
                let ok = q.as_str() == "$LATEST"
                    || (!q.as_str().is_empty()
                        && q.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
                prop_assert!(ok, "a parsed ref's qualifier is not a version or alias: {:?}", r);
            }
            let _ = r.foreign(&AccountId::default(), &Region::default());
        }
        if let Ok(q) = Qualifier::parse(s, "qualifier") {
            prop_assert_eq!(q.as_str(), s.as_str());
            prop_assert!(s.len() <= 128);
        }
        if let Ok(spec) = registry.resolve(s) {
            prop_assert!(spec.identifier == *s || spec.aliases.contains(s));
        }
        for spec in registry.specs() {
            let _ = spec.validate_handler(s).map_err(|e| e.to_string());
        }
        let _ = LayerName::parse(s, "layerName");
        let _ = LayerVersionArn::parse(s);
        let _ = lambdabox_model::alias::parse_alias_name(s);
        let _ = lambdabox_model::alias::parse_version(s, "functionVersion");
        if let Ok(d) = parse_description(s) {
            prop_assert_eq!(&d, s);
        }
        let _ = parse_role(s);
        let _ = Credentials::parse(s);
        let _ = Region::parse(s);
        let _ = AccountId::parse(s);
    }
    let _ = parse_compatible_runtimes(inputs.to_vec());
    let _ = parse_compatible_architectures(inputs.to_vec());
    let variables: BTreeMap<String, String> = inputs.iter().map(|s| (s.clone(), s.clone())).collect();
    if let Ok(env) = lambdabox_model::Environment::parse(variables.clone()) {
        prop_assert_eq!(env.variables(), &variables);
    }
    for &n in numbers {
        if let Ok(t) = Timeout::parse(n) {
            prop_assert_eq!(i64::from(t.get()), n);
        }
        if let Ok(m) = MemorySize::parse(n) {
            prop_assert_eq!(i64::from(m.get()), n);
        }
        if let Ok(e) = EphemeralStorage::parse(n) {
            prop_assert_eq!(i64::from(e.get()), n);
        }
        let _ = lambdabox_model::event_invoke::parse_retry_attempts(n);
        let _ = lambdabox_model::event_invoke::parse_event_age(n);
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct Case {
    calls: Vec<Call>,
    strings: Vec<String>,
    numbers: Vec<i64>,
}

fn case() -> BoxedStrategy<Case> {
    (
        prop::collection::vec(call(), 1..4),
        prop::collection::vec(validator_input(), 0..6),
        prop::collection::vec(prop_oneof![any::<i64>(), prop::sample::select(INTS.to_vec())], 0..4),
    )
        .prop_map(|(calls, strings, numbers)| Case { calls, strings, numbers })
        .boxed()
}

// ---- the test -----------------------------------------------------------------

fn replay(rt: &tokio::runtime::Runtime, path: &Path) -> Result<(), String> {
    let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let mut parts = name.splitn(3, '-');
    let (expect, op) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let op = Op::from_corpus(op).ok_or(format!("no operation named {op}"))?;
    let body = fs::read(path).map_err(|e| e.to_string())?;
    let target = match op {
        Op::TagResource => "arn:aws:lambda:us-east-1:000000000000:function:fuzzed",
        Op::PublishLayer => "corpus-layer",
        _ => FUNCTION,
    };
    let call = Call { op, target: target.to_owned(), qualifier: None, merge: false, body: Body::Raw(body.clone()) };
    rt.block_on(async {
        let succeeded = check_op(&plane().await.plane, &call, &body).await.map_err(|e| e.to_string())?;
        match expect {
            "valid" if !succeeded => {
                // Again on a fresh plane, for the reason.
                Err(format!("refused: {:?}", run(&plane().await.plane, &call, &body).await.err()))
            }
            "invalid" if succeeded => Err("accepted".into()),
            "valid" | "invalid" => Ok(()),
            other => Err(format!("name a corpus file valid-* or invalid-*, not {other}-*")),
        }
    })
}

#[test]
fn fuzz_lambda_json() {
    let run = lambdabox_fuzz::Run::new(TARGET, file!());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");

    let corpus = lambdabox_fuzz::corpus(CORPUS);
    assert!(corpus.len() >= 10, "the seed corpus is missing");
    for path in &corpus {
        run.count();
        if let Err(e) = replay(&rt, path) {
            panic!("{}: {e}", path.display());
        }
    }

    run.generate(&case(), |case| {
        check_validators(&case.strings, &case.numbers)?;
        rt.block_on(async {
            let plane = plane().await;
            for call in &case.calls {
                let body = call.body.bytes();
                check_op(&plane.plane, call, &body).await?;
            }
            Ok(())
        })
    });
}
