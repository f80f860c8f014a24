//! Fuzzes the S3 endpoint's XML request bodies through `S3Endpoint::serve`,
//! each request SigV4-signed (path style, `http://s3.localhost/…`, with the
//! default `test`/`test` key; signed here as AWS documents it): the bodies
//! of CompleteMultipartUpload, DeleteObjects, PutBucketVersioning,
//! CreateBucket (its `CreateBucketConfiguration`) and PutBucketTagging,
//! shaped like each operation's document (known and unknown elements,
//! entities, CDATA, comments, a DOCTYPE, namespaces, deep nesting, huge
//! numbers), mutated, or arbitrary bytes; a few sent unsigned.
//!
//! Properties: nothing panics; no answer is a 5xx — but PutBucketTagging,
//! which this endpoint does not implement and answers `501 NotImplemented`
//! before reading a body; every error answer is S3's XML `<Error>` with a
//! `<Code>`; after every request the endpoint still stores and serves an
//! object (PutObject then GetObject) and a multipart upload still
//! completes.
//!
//! The seed corpus (`tests/fuzz-corpus/s3_xml/<operation>-*.xml`) is
//! replayed first (`*-valid-*` must succeed); then `LAMBDABOX_FUZZ_CASES`
//! (default 1000) generated cases; failures persist in
//! `tests/proptest-regressions/fuzz_s3_xml.txt`.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use lambdabox_model::{Credentials, Region};
use lambdabox_s3::{S3Config, S3Endpoint};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sha2::{Digest, Sha256};

const TARGET: &str = "s3_xml";
const CORPUS: &str = "tests/fuzz-corpus/s3_xml";
const HOST: &str = "s3.localhost";
const BUCKET: &str = "fuzz";

// ---- signing, as AWS documents it for S3 ------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A request to the endpoint: `path` (plain characters only) and query
/// parameters (raw), signed with `test`/`test` unless `signed` is false.
fn request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Vec<u8>,
    signed: bool,
) -> http::Request<axum::body::Body> {
    let now = chrono::Utc::now();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload = hex(&Sha256::digest(&body));
    let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    let sent = pairs.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect::<Vec<_>>();
    pairs.sort();
    let canonical_query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let uri = if sent.is_empty() { path.to_owned() } else { format!("{path}?{}", sent.join("&")) };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", HOST)
        .header("content-length", body.len().to_string());
    if signed {
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let canonical = format!(
            "{method}\n{path}\n{canonical_query}\nhost:{HOST}\nx-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{payload}"
        );
        let scope = format!("{date}/us-east-1/s3/aws4_request");
        let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
        let mut key = hmac(b"AWS4test", &date);
        for part in ["us-east-1", "s3", "aws4_request"] {
            key = hmac(&key, part);
        }
        let signature = hex(&hmac(&key, &to_sign));
        builder = builder.header("x-amz-date", &amz_date).header("x-amz-content-sha256", &payload).header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=test/{scope}, SignedHeaders={signed_headers}, Signature={signature}"),
        );
    }
    builder.body(axum::body::Body::from(body)).expect("a request")
}

struct Answer {
    status: u16,
    body: String,
}

async fn send(endpoint: &S3Endpoint, req: http::Request<axum::body::Body>) -> Answer {
    let response = endpoint.serve(req).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body");
    Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// The text of the first `<name>` element.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

// ---- the endpoint with a bucket, an object and an upload ----------------------------

struct Setup {
    endpoint: S3Endpoint,
    /// A multipart upload of `mp` with one part (its id and the part's ETag),
    /// when the case completes one.
    upload_id: String,
    etag: String,
    _dir: tempfile::TempDir,
}

async fn setup(with_upload: bool) -> Setup {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("tempdir");
    let config = S3Config::new(dir.path().join("s3"), Arc::new(Credentials::default()), Region::default());
    let endpoint = S3Endpoint::open(config).expect("open the endpoint");
    let made = send(&endpoint, request("PUT", &format!("/{BUCKET}"), &[], Vec::new(), true)).await;
    assert_eq!(made.status, 200, "CreateBucket: {}", made.body);
    let put = send(&endpoint, request("PUT", &format!("/{BUCKET}/known"), &[], b"hello".to_vec(), true)).await;
    assert_eq!(put.status, 200, "PutObject: {}", put.body);
    let (upload_id, etag) = if with_upload { upload(&endpoint, "mp").await } else { Default::default() };
    Setup { endpoint, upload_id, etag, _dir: dir }
}

/// Starts a multipart upload of `key` with one part; its id and the part's ETag.
async fn upload(endpoint: &S3Endpoint, key: &str) -> (String, String) {
    let created =
        send(endpoint, request("POST", &format!("/{BUCKET}/{key}"), &[("uploads", "")], Vec::new(), true)).await;
    assert_eq!(created.status, 200, "CreateMultipartUpload: {}", created.body);
    let upload_id = element(&created.body, "UploadId").expect("an UploadId").to_owned();
    let req = request(
        "PUT",
        &format!("/{BUCKET}/{key}"),
        &[("partNumber", "1"), ("uploadId", &upload_id)],
        b"part one".to_vec(),
        true,
    );
    let response = endpoint.serve(req).await;
    assert_eq!(response.status(), 200, "UploadPart");
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned();
    (upload_id, etag)
}

// ---- the operations and their documents ---------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    CompleteMultipartUpload,
    DeleteObjects,
    PutBucketVersioning,
    CreateBucket,
    PutBucketTagging,
}

impl Op {
    const ALL: [Op; 5] = [
        Op::CompleteMultipartUpload,
        Op::DeleteObjects,
        Op::PutBucketVersioning,
        Op::CreateBucket,
        Op::PutBucketTagging,
    ];

    fn from_corpus(name: &str) -> Option<Op> {
        Some(match name {
            "complete_multipart_upload" => Op::CompleteMultipartUpload,
            "delete_objects" => Op::DeleteObjects,
            "put_bucket_versioning" => Op::PutBucketVersioning,
            "create_bucket" => Op::CreateBucket,
            "put_bucket_tagging" => Op::PutBucketTagging,
            _ => return None,
        })
    }

    fn root(self) -> &'static str {
        match self {
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::DeleteObjects => "Delete",
            Op::PutBucketVersioning => "VersioningConfiguration",
            Op::CreateBucket => "CreateBucketConfiguration",
            Op::PutBucketTagging => "Tagging",
        }
    }

    fn vocabulary(self) -> Vec<&'static str> {
        match self {
            Op::CompleteMultipartUpload => {
                vec!["Part", "PartNumber", "ETag", "ChecksumCRC32", "ChecksumSHA256", "ChecksumCRC32C", "ChecksumSHA1"]
            }
            Op::DeleteObjects => vec!["Object", "Key", "VersionId", "Quiet", "ETag", "LastModifiedTime", "Size"],
            Op::PutBucketVersioning => vec!["Status", "MfaDelete"],
            Op::CreateBucket => vec!["LocationConstraint", "Location", "Bucket", "Type", "Name", "DataRedundancy"],
            Op::PutBucketTagging => vec!["TagSet", "Tag", "Key", "Value"],
        }
    }

    /// The request for `body` (on the setup's bucket and upload; CreateBucket
    /// on a bucket named for the case).
    fn request(self, setup: &Setup, body: Vec<u8>, signed: bool, n: usize) -> http::Request<axum::body::Body> {
        match self {
            Op::CompleteMultipartUpload => {
                request("POST", &format!("/{BUCKET}/mp"), &[("uploadId", &setup.upload_id)], body, signed)
            }
            Op::DeleteObjects => request("POST", &format!("/{BUCKET}"), &[("delete", "")], body, signed),
            Op::PutBucketVersioning => request("PUT", &format!("/{BUCKET}"), &[("versioning", "")], body, signed),
            Op::CreateBucket => request("PUT", &format!("/new-bucket-{n}"), &[], body, signed),
            Op::PutBucketTagging => request("PUT", &format!("/{BUCKET}"), &[("tagging", "")], body, signed),
        }
    }
}

/// An XML node.
#[derive(Debug, Clone)]
enum Node {
    Element { name: String, attributes: Vec<(String, String)>, children: Vec<Node> },
    Text(String),
    Raw(String),
}

impl Node {
    fn render(&self, out: &mut String) {
        match self {
            Node::Element { name, attributes, children } => {
                out.push('<');
                out.push_str(name);
                for (k, v) in attributes {
                    out.push_str(&format!(" {k}=\"{v}\""));
                }
                if children.is_empty() {
                    out.push_str("/>");
                    return;
                }
                out.push('>');
                for c in children {
                    c.render(out);
                }
                out.push_str(&format!("</{name}>"));
            }
            Node::Text(t) => out.push_str(&t.replace('&', "&amp;").replace('<', "&lt;")),
            Node::Raw(r) => out.push_str(r),
        }
    }
}

fn text(op: Op) -> BoxedStrategy<String> {
    let mut pool: Vec<String> = vec![
        "1",
        "0",
        "-1",
        "10001",
        "2",
        "99999999999999999999999",
        "true",
        "false",
        "Enabled",
        "Suspended",
        "Disabled",
        "enabled",
        "eu-west-1",
        "us-east-1",
        "EU",
        "",
        " ",
        "known",
        "mp",
        "a/b",
        "../x",
        "\u{1F600}",
        "x".repeat(1100).as_str(),
        "2024-01-01T00:00:00Z",
        "AAAAAA==",
        "\"etag\"",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    if op == Op::CompleteMultipartUpload {
        pool.push("PLACEHOLDER_ETAG".into());
    }
    prop_oneof![6 => prop::sample::select(pool), 2 => "\\PC{0,12}", 1 => "[\\x00-\\x1f]{1,3}"].boxed()
}

fn raw_bit() -> BoxedStrategy<String> {
    prop::sample::select(vec![
        "&amp;",
        "&lt;",
        "&#x41;",
        "&#0;",
        "&#xFFFFFFFF;",
        "&#55296;",
        "&bogus;",
        "&",
        "<![CDATA[x]]>",
        "<![CDATA[",
        "<!-- c -->",
        "<!--",
        "<?pi x?>",
        "]]>",
        "<",
        "</Unopened>",
        "\u{0}",
        "<a:b xmlns:a=\"urn:x\"/>",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

fn node(op: Op, depth: u32) -> BoxedStrategy<Node> {
    let names = {
        let mut v: Vec<String> = op.vocabulary().into_iter().map(str::to_owned).collect();
        v.extend(["Unknown", "x:Key", "KEY", "Object"].map(str::to_owned));
        v
    };
    let leaf = prop_oneof![
        6 => text(op).prop_map(Node::Text),
        1 => raw_bit().prop_map(Node::Raw),
    ]
    .boxed();
    if depth == 0 {
        return leaf;
    }
    let attributes = prop::collection::vec(
        (
            prop::sample::select(vec!["xmlns", "xmlns:x", "a", "xml:lang", "x"]).prop_map(str::to_owned),
            prop::sample::select(vec!["http://s3.amazonaws.com/doc/2006-03-01/", "", "urn:x", "&amp;"])
                .prop_map(str::to_owned),
        ),
        0..2,
    );
    let element = (prop::sample::select(names), attributes, prop::collection::vec(node(op, depth - 1), 0..4))
        .prop_map(|(name, attributes, children)| Node::Element { name, attributes, children });
    prop_oneof![3 => element, 2 => leaf].boxed()
}

/// A document of `op`: its root (or another), children, and what comes before.
fn document(op: Op) -> BoxedStrategy<String> {
    let root = prop_oneof![8 => Just(op.root().to_owned()), 1 => Just("Wrong".to_owned()), 1 => Just(String::new())];
    let prolog = prop::sample::select(vec![
        "",
        "",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<?xml version=\"1.1\" encoding=\"UTF-16\"?>",
        "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>",
        "<!DOCTYPE x SYSTEM \"file:///etc/passwd\">",
        "\u{FEFF}",
        "  \n",
    ]);
    let namespace = prop::bool::weighted(0.5);
    (root, prolog, namespace, prop::collection::vec(node(op, 3), 0..6), prop::bool::weighted(0.05))
        .prop_map(move |(root, prolog, namespace, children, deep)| {
            let mut out = prolog.to_owned();
            if root.is_empty() {
                for c in &children {
                    c.render(&mut out);
                }
                return out;
            }
            let attributes = if namespace {
                vec![("xmlns".to_owned(), "http://s3.amazonaws.com/doc/2006-03-01/".to_owned())]
            } else {
                Vec::new()
            };
            let mut children = children;
            if deep {
                let mut inner = Node::Text("deep".into());
                for _ in 0..500 {
                    inner = Node::Element { name: "Part".into(), attributes: vec![], children: vec![inner] };
                }
                children.push(inner);
            }
            Node::Element { name: root, attributes, children }.render(&mut out);
            out
        })
        .boxed()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn leaf(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

fn pick(pool: &[&'static str]) -> BoxedStrategy<String> {
    prop_oneof![5 => prop::sample::select(pool.to_vec()).prop_map(str::to_owned), 1 => "\\PC{0,10}"].boxed()
}

/// A document of `op` that follows its schema, with odd values.
fn structured(op: Op) -> BoxedStrategy<String> {
    let root = op.root();
    let wrap =
        move |inner: String| format!("<{root} xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{inner}</{root}>");
    match op {
        Op::CompleteMultipartUpload => {
            let part = (
                pick(&["1", "0", "-1", "2", "10000", "10001", "4294967297", "99999999999999999999", "1.5", ""]),
                prop::option::weighted(0.9, pick(&["PLACEHOLDER_ETAG", "\"nope\"", "", "PLACEHOLDER_ETAG "])),
                prop::option::weighted(0.1, pick(&["AAAAAA==", "not base64", ""])),
            )
                .prop_map(|(n, etag, crc)| {
                    let mut p = leaf("PartNumber", &n);
                    if let Some(e) = etag {
                        // The placeholder is filled with the real (escaped) ETag.
                        p.push_str(&format!("<ETag>{}</ETag>", if e.contains("PLACEHOLDER") { e } else { escape(&e) }));
                    }
                    if let Some(c) = crc {
                        p.push_str(&leaf("ChecksumCRC32", &c));
                    }
                    format!("<Part>{p}</Part>")
                });
            prop::collection::vec(part, 0..4).prop_map(move |parts| wrap(parts.concat())).boxed()
        }
        Op::DeleteObjects => {
            let object = (
                pick(&["known", "mp", "gone", "", "../x", "a/b/", "\u{1F600}", "x\u{0}y"]),
                prop::option::weighted(0.3, pick(&["null", "", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", "v1"])),
                prop::bool::weighted(0.05),
            )
                .prop_map(|(key, version, long)| {
                    let key = if long { "k".repeat(1100) } else { key };
                    let mut o = leaf("Key", &key);
                    if let Some(v) = version {
                        o.push_str(&leaf("VersionId", &v));
                    }
                    format!("<Object>{o}</Object>")
                });
            (prop::collection::vec(object, 0..5), prop::option::of(pick(&["true", "false", "TRUE", "1", ""])))
                .prop_map(move |(objects, quiet)| {
                    wrap(objects.concat() + &quiet.map(|q| leaf("Quiet", &q)).unwrap_or_default())
                })
                .boxed()
        }
        Op::PutBucketVersioning => (
            prop::option::weighted(0.9, pick(&["Enabled", "Suspended", "Disabled", "enabled", ""])),
            prop::option::weighted(0.2, pick(&["Enabled", "Disabled", "x"])),
        )
            .prop_map(move |(status, mfa)| {
                wrap(
                    status.map(|s| leaf("Status", &s)).unwrap_or_default()
                        + &mfa.map(|m| leaf("MfaDelete", &m)).unwrap_or_default(),
                )
            })
            .boxed(),
        Op::CreateBucket => {
            prop::option::weighted(0.9, pick(&["us-east-1", "eu-west-1", "EU", "", "us-east-2", "mars-north-1", "x"]))
                .prop_map(move |l| wrap(l.map(|l| leaf("LocationConstraint", &l)).unwrap_or_default()))
                .boxed()
        }
        Op::PutBucketTagging => prop::collection::vec((pick(&["k", "", "aws:x"]), pick(&["v", ""])), 0..3)
            .prop_map(move |tags| {
                let tags: String =
                    tags.iter().map(|(k, v)| format!("<Tag>{}{}</Tag>", leaf("Key", k), leaf("Value", v))).collect();
                wrap(format!("<TagSet>{tags}</TagSet>"))
            })
            .boxed(),
    }
}

/// A valid document of `op` for the setup.
fn valid(op: Op) -> String {
    match op {
        Op::CompleteMultipartUpload => "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>PLACEHOLDER_ETAG</ETag></Part></CompleteMultipartUpload>".into(),
        Op::DeleteObjects => "<Delete><Object><Key>gone</Key></Object><Quiet>false</Quiet></Delete>".into(),
        Op::PutBucketVersioning => "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>".into(),
        Op::CreateBucket => "<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>".into(),
        Op::PutBucketTagging => "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>".into(),
    }
}

#[derive(Debug, Clone)]
enum Body {
    Document(String),
    Mutated { document: String, flips: Vec<(usize, u8)>, cut: Option<usize> },
    Bytes(Vec<u8>),
}

impl Body {
    fn bytes(&self, etag: &str) -> Vec<u8> {
        let fill = |s: &str| s.replace("PLACEHOLDER_ETAG", &etag.replace('"', "&quot;")).into_bytes();
        match self {
            Body::Document(d) => fill(d),
            Body::Mutated { document, flips, cut } => {
                let mut bytes = fill(document);
                for (at, b) in flips {
                    if !bytes.is_empty() {
                        let n = at % bytes.len();
                        bytes[n] = *b;
                    }
                }
                if let Some(cut) = cut {
                    bytes.truncate(cut % (bytes.len() + 1));
                }
                bytes
            }
            Body::Bytes(b) => b.clone(),
        }
    }
}

fn body(op: Op) -> BoxedStrategy<Body> {
    let documents = prop_oneof![3 => document(op), 4 => structured(op), 1 => Just(valid(op))].boxed();
    prop_oneof![
        6 => documents.clone().prop_map(Body::Document),
        3 => (documents, prop::collection::vec((any::<usize>(), any::<u8>()), 1..4), prop::option::of(any::<usize>()))
            .prop_map(|(document, flips, cut)| Body::Mutated { document, flips, cut }),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Bytes),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct Step {
    op: Op,
    body: Body,
    signed: bool,
}

fn step() -> BoxedStrategy<Step> {
    prop::sample::select(Op::ALL.to_vec())
        .prop_flat_map(|op| (Just(op), body(op), prop::bool::weighted(0.95)))
        .prop_map(|(op, body, signed)| Step { op, body, signed })
        .boxed()
}

// ---- the properties ---------------------------------------------------------------

/// One request's answer is not a 5xx (but the unimplemented tagging's 501),
/// and an error answer is S3's `<Error>`.
fn check_answer(op: Op, answer: &Answer) -> Result<(), TestCaseError> {
    if op == Op::PutBucketTagging {
        prop_assert_eq!(answer.status, 501, "PutBucketTagging is not implemented: {}", answer.body);
        return Ok(());
    }
    prop_assert!(answer.status < 500, "{:?} answered {}: {}", op, answer.status, answer.body);
    if answer.status >= 300 {
        prop_assert!(
            element(&answer.body, "Code").is_some_and(|c| !c.is_empty()),
            "{:?} {} without an S3 <Error><Code>: {:?}",
            op,
            answer.status,
            answer.body
        );
    }
    Ok(())
}

/// The endpoint still stores and serves objects, and (`uploads`) completes
/// multipart uploads.
async fn check_serving(setup: &Setup, n: usize, uploads: bool) -> Result<(), TestCaseError> {
    let key = format!("after-{n}");
    let put =
        send(&setup.endpoint, request("PUT", &format!("/{BUCKET}/{key}"), &[], b"still here".to_vec(), true)).await;
    prop_assert_eq!(put.status, 200, "PutObject after the fuzzed requests: {}", put.body);
    let got = send(&setup.endpoint, request("GET", &format!("/{BUCKET}/{key}"), &[], Vec::new(), true)).await;
    prop_assert_eq!((got.status, got.body.as_str()), (200, "still here"), "GetObject after the fuzzed requests");
    if !uploads {
        return Ok(());
    }
    let (upload_id, etag) = upload(&setup.endpoint, &format!("mp-{n}")).await;
    let body = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        etag.replace('"', "&quot;")
    );
    let done = send(
        &setup.endpoint,
        request("POST", &format!("/{BUCKET}/mp-{n}"), &[("uploadId", &upload_id)], body.into_bytes(), true),
    )
    .await;
    prop_assert_eq!(done.status, 200, "CompleteMultipartUpload after the fuzzed requests: {}", done.body);
    let got = send(&setup.endpoint, request("GET", &format!("/{BUCKET}/mp-{n}"), &[], Vec::new(), true)).await;
    prop_assert_eq!((got.status, got.body.as_str()), (200, "part one"));
    Ok(())
}

async fn run_steps(steps: &[Step]) -> Result<(), TestCaseError> {
    let uploads = steps.iter().any(|s| s.op == Op::CompleteMultipartUpload);
    let setup = setup(uploads).await;
    for (n, step) in steps.iter().enumerate() {
        let body = step.body.bytes(&setup.etag);
        let answer = send(&setup.endpoint, step.op.request(&setup, body, step.signed, n)).await;
        if step.signed {
            check_answer(step.op, &answer)?;
        } else {
            prop_assert_eq!(answer.status, 403, "an unsigned {:?}: {}", step.op, answer.body);
            prop_assert_eq!(element(&answer.body, "Code"), Some("AccessDenied"));
        }
    }
    check_serving(&setup, steps.len(), uploads).await
}

#[test]
fn fuzz_s3_xml() {
    let run = lambdabox_fuzz::Run::new(TARGET, file!());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");

    let corpus = lambdabox_fuzz::corpus(CORPUS);
    assert!(corpus.len() >= 8, "the seed corpus is missing");
    for path in &corpus {
        run.count();
        let name = path.file_stem().and_then(|n| n.to_str()).expect("a name").to_owned();
        let op = name.split('-').next().and_then(Op::from_corpus).unwrap_or_else(|| panic!("{name}: no operation"));
        let bytes = fs::read(path).expect("read");
        let result: Result<(), TestCaseError> = rt.block_on(async {
            let setup = setup(true).await;
            let body = String::from_utf8_lossy(&bytes).replace("PLACEHOLDER_ETAG", &setup.etag.replace('"', "&quot;"));
            let body = if std::str::from_utf8(&bytes).is_ok() { body.into_bytes() } else { bytes.clone() };
            let answer = send(&setup.endpoint, op.request(&setup, body, true, 0)).await;
            check_answer(op, &answer)?;
            if name.contains("-valid-") {
                prop_assert_eq!(answer.status, 200, "{}", answer.body);
            }
            check_serving(&setup, 1, true).await
        });
        if let Err(e) = result {
            panic!("{}: {e}", path.display());
        }
    }

    run.generate(&prop::collection::vec(step(), 1..4), |steps| rt.block_on(run_steps(&steps)));
}
