//! Fuzzes SigV4 verification (`sigv4::begin`/`verify`, the `Authorization`
//! header and presigned query parsers) and `CredentialScope::of`.
//!
//! Requests are signed here as AWS documents it (canonical request, string
//! to sign, derived key; HMAC-SHA256), independently of the crate's code.
//! Properties: nothing panics on arbitrary or mutated headers, queries and
//! dates; a correctly signed request (header or presigned form, any clock
//! skew within 15 minutes, unsigned headers added) always verifies; a
//! signed request whose signature, method, path, query, signed header,
//! body, date, scope or secret was changed never does; the credential
//! scope of a signed request is the one it was signed with.
//!
//! The seed corpus (`tests/fuzz-corpus/sigv4/*.req`, AWS's test-suite
//! vectors and known-bad requests, each with the result it must get) is
//! replayed first; then `LAMBDABOX_FUZZ_CASES` (default 1000) generated
//! cases; failures persist in `tests/proptest-regressions/fuzz_sigv4.txt`.

use std::fs;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use lambdabox_aws::CredentialScope;
use lambdabox_aws::sigv4::{self, Caller, SigV4Error, SignedRequest};
use lambdabox_model::Credentials;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sha2::{Digest, Sha256};

const TARGET: &str = "sigv4";
const CORPUS: &str = "tests/fuzz-corpus/sigv4";

// ---- a request and the checks every request gets -------------------------

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    query: String,
    /// Lower-case names, as the crate expects them.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// `http::request::Parts` of the same request, when `http` can hold it.
    fn parts(&self) -> Option<http::request::Parts> {
        let uri = if self.query.is_empty() { self.path.clone() } else { format!("{}?{}", self.path, self.query) };
        let mut builder = http::Request::builder().method(self.method.as_str()).uri(uri);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.body(()).ok().map(|r| r.into_parts().0)
    }
}

/// Verifies with `verify` and, the long way, `begin` + `finish`: both give
/// the same answer, and nothing panics.
fn check_any(req: &Req, credentials: &Credentials, service: &str, now: DateTime<Utc>) -> Result<Caller, SigV4Error> {
    let signed = req.signed();
    let direct = sigv4::verify(&signed, credentials, service, now);
    let staged = sigv4::begin(&signed, credentials, service, now).and_then(|pending| {
        let _ = pending.needs_payload(&signed);
        let _ = format!("{pending:?}");
        pending.finish(&signed, &sigv4::sha256_hex(&req.body))
    });
    assert_eq!(direct, staged, "verify and begin+finish disagree");
    if let Err(e) = &direct {
        assert!(!e.to_string().is_empty() && !e.json_code().is_empty() && !e.json_message().is_empty());
    }
    if let Some(parts) = req.parts() {
        let _ = sigv4::header_pairs(&parts);
        if let Some(scope) = CredentialScope::of(&parts) {
            assert!(!scope.access_key.is_empty() && !scope.service.is_empty(), "{scope:?}");
        }
    }
    direct
}

// ---- signing as AWS documents it ------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 percent-encoding of everything but unreserved characters (and
/// `/` in paths).
fn encode(s: &str, keep_slash: bool) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What a signer knows.
#[derive(Debug, Clone)]
struct Key {
    access_key: String,
    secret: String,
    region: String,
    service: String,
}

impl Key {
    fn credentials(&self) -> Credentials {
        Credentials::parse(&format!("{}:{}", self.access_key, self.secret)).expect("valid credentials")
    }
}

/// A request to sign: its parts before signing.
#[derive(Debug, Clone)]
struct Unsigned {
    method: String,
    /// Path segments (raw; the path sent is their encoding).
    segments: Vec<String>,
    /// Query parameters (raw).
    params: Vec<(String, String)>,
    /// Extra headers (lower-case names), and whether each is signed.
    headers: Vec<(String, String, bool)>,
    body: Vec<u8>,
    host: String,
    /// Sends `x-amz-content-sha256` (signed): the body's hash or `UNSIGNED-PAYLOAD`.
    content_sha256: Option<bool>,
    presigned: bool,
    /// The order the query is sent in (a rotation of the parameters).
    rotate: usize,
}

/// Signs `u` at `at` with `key`, as AWS's SigV4 documentation says.
fn sign(u: &Unsigned, key: &Key, at: NaiveDateTime) -> Req {
    let amz_date = at.format("%Y%m%dT%H%M%SZ").to_string();
    let date = at.format("%Y%m%d").to_string();
    let scope = format!("{date}/{}/{}/aws4_request", key.region, key.service);
    let path = format!("/{}", u.segments.iter().map(|s| encode(s, false)).collect::<Vec<_>>().join("/"));

    let mut headers: Vec<(String, String)> = vec![("host".into(), u.host.clone())];
    let mut signed: Vec<String> = vec!["host".into()];
    if !u.presigned {
        headers.push(("x-amz-date".into(), amz_date.clone()));
        signed.push("x-amz-date".into());
    }
    let payload = match (u.presigned, u.content_sha256) {
        (true, _) => "UNSIGNED-PAYLOAD".to_owned(),
        (false, Some(true)) => hex(&Sha256::digest(&u.body)),
        (false, Some(false)) => "UNSIGNED-PAYLOAD".to_owned(),
        (false, None) => hex(&Sha256::digest(&u.body)),
    };
    if !u.presigned && u.content_sha256.is_some() {
        headers.push(("x-amz-content-sha256".into(), payload.clone()));
        signed.push("x-amz-content-sha256".into());
    }
    for (name, value, is_signed) in &u.headers {
        headers.push((name.clone(), value.clone()));
        if *is_signed && !signed.contains(name) {
            signed.push(name.clone());
        }
    }
    signed.sort();
    // A header named but not sent as signed is still covered: every value
    // of every signed name counts.
    let signed_headers = signed.join(";");

    let mut params: Vec<(String, String)> = u.params.clone();
    if u.presigned {
        params.extend([
            ("X-Amz-Algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            ("X-Amz-Credential".to_owned(), format!("{}/{scope}", key.access_key)),
            ("X-Amz-Date".to_owned(), amz_date.clone()),
            ("X-Amz-Expires".to_owned(), "300".to_owned()),
            ("X-Amz-SignedHeaders".to_owned(), signed_headers.clone()),
        ]);
    }
    let mut canonical_params: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k, false), encode(v, false))).collect();
    canonical_params.sort();
    let canonical_query = canonical_params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");

    let canonical_headers: String = signed
        .iter()
        .map(|name| {
            let values: Vec<String> = headers
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect();
    // Not S3: the path is encoded again in the canonical request.
    let canonical_request = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload}",
        u.method,
        encode(&path, true)
    );
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let mut signing_key = hmac(format!("AWS4{}", key.secret).as_bytes(), &date);
    for part in [key.region.as_str(), key.service.as_str(), "aws4_request"] {
        signing_key = hmac(&signing_key, part);
    }
    let signature = hex(&hmac(&signing_key, &string_to_sign));

    let mut sent: Vec<String> =
        params.iter().map(|(k, v)| format!("{}={}", encode(k, false), encode(v, false))).collect();
    if u.presigned {
        sent.push(format!("X-Amz-Signature={signature}"));
    } else {
        headers.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                key.access_key
            ),
        ));
    }
    if !sent.is_empty() {
        let n = u.rotate % sent.len();
        sent.rotate_left(n);
    }
    Req { method: u.method.clone(), path, query: sent.join("&"), headers, body: u.body.clone() }
}

// ---- strategies -----------------------------------------------------------

fn key() -> impl Strategy<Value = Key> {
    (
        "[A-Z0-9]{4,20}",
        "[!-+\\--~]{1,40}", // printable ASCII but the comma
        prop_oneof!["[a-z]{2}-[a-z]{4,9}-[1-9]", Just(String::new()), "[a-z0-9-]{1,12}"],
        prop_oneof![
            prop::sample::select(vec!["lambda", "s3", "logs", "sts", "iam", "apigateway", "service"])
                .prop_map(str::to_owned),
            "[a-z0-9]{1,10}",
        ],
    )
        .prop_map(|(access_key, secret, region, service)| Key { access_key, secret, region, service })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9._~-]{0,10}",
        2 => "[ -~]{0,12}",
        1 => "\\PC{0,6}",
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    // What a header value can hold: visible ASCII, spaces and tabs inside.
    prop_oneof![3 => "[!-~]([ \t!-~]{0,14}[!-~])?", 1 => Just(String::new()), 1 => "[!-~]{1,3}  +[!-~]{1,3}"]
}

fn unsigned() -> impl Strategy<Value = Unsigned> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]).prop_map(str::to_owned),
        prop::collection::vec(text(), 0..4),
        prop::collection::vec((text(), text()), 0..4),
        prop::collection::vec(
            (
                prop::sample::select(vec!["content-type", "x-amz-target", "x-amz-meta-a", "x-custom", "user-agent"])
                    .prop_map(str::to_owned),
                header_value(),
                any::<bool>(),
            ),
            0..4,
        ),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::sample::select(vec!["example.amazonaws.com", "localhost:9000", "lambda.us-east-1.amazonaws.com"])
            .prop_map(str::to_owned),
        prop::option::of(any::<bool>()),
        prop::bool::weighted(0.3),
        any::<usize>(),
    )
        .prop_map(|(method, segments, params, headers, body, host, content_sha256, presigned, rotate)| Unsigned {
            method,
            segments,
            params,
            headers,
            body,
            host,
            content_sha256,
            presigned,
            rotate,
        })
}

/// A signing time (2000 to 2099) and the server's clock, at most 15
/// minutes away.
fn times() -> impl Strategy<Value = (NaiveDateTime, DateTime<Utc>)> {
    (946_684_800i64..4_102_444_800, -900i64..=900).prop_map(|(secs, skew)| {
        let at = DateTime::from_timestamp(secs, 0).expect("in range");
        (at.naive_utc(), at + Duration::seconds(skew))
    })
}

/// A change to a signed request that the signature must catch.
#[derive(Debug, Clone)]
enum Tamper {
    SignatureChar { at: usize },
    Method,
    Path,
    QueryValue { at: usize },
    QueryAdded,
    SignedHeader { at: usize },
    Body,
    Date,
    Region,
    Service,
    Secret,
    AccessKey,
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        3 => any::<usize>().prop_map(|at| Tamper::SignatureChar { at }),
        1 => Just(Tamper::Method),
        1 => Just(Tamper::Path),
        1 => any::<usize>().prop_map(|at| Tamper::QueryValue { at }),
        1 => Just(Tamper::QueryAdded),
        1 => any::<usize>().prop_map(|at| Tamper::SignedHeader { at }),
        1 => Just(Tamper::Body),
        1 => Just(Tamper::Date),
        1 => Just(Tamper::Region),
        1 => Just(Tamper::Service),
        1 => Just(Tamper::Secret),
        1 => Just(Tamper::AccessKey),
    ]
}

/// A change that the signature does not cover: the request still verifies.
#[derive(Debug, Clone)]
enum Harmless {
    UnsignedHeader(String),
    /// The `Authorization` parts in another order, with other spacing.
    ReorderAuthorization,
}

fn harmless() -> impl Strategy<Value = Harmless> {
    prop_oneof![header_value().prop_map(Harmless::UnsignedHeader), Just(Harmless::ReorderAuthorization),]
}

/// Changes one character of `s` at `at` (to another hex digit when it is one).
fn change_char(s: &str, at: usize) -> String {
    if s.is_empty() {
        return "0".to_owned();
    }
    let at = at % s.len();
    let mut bytes = s.as_bytes().to_vec();
    bytes[at] = match bytes[at] {
        b'0' => b'1',
        b'a'..=b'f' | b'1'..=b'9' => b'0',
        b'z' => b'a',
        other if other.is_ascii_alphanumeric() => b'z',
        _ => b'z',
    };
    String::from_utf8(bytes).expect("ascii")
}

fn authorization_mut(req: &mut Req) -> Option<&mut String> {
    req.headers.iter_mut().find(|(n, _)| n == "authorization").map(|(_, v)| v)
}

/// A change made to a request after it was signed.
type Edit = Box<dyn Fn(&mut Req)>;

/// Applies `tamper` to a request signed from `u` with `key` at `at`; the
/// request and the key the server then knows (the same, or not).
fn tampered(u: &Unsigned, key: &Key, at: NaiveDateTime, tamper: &Tamper) -> (Req, Key, String) {
    let mut u = u.clone();
    let mut signer = key.clone();
    let mut server_service = key.service.clone();
    let mut post: Option<Edit> = None;
    match tamper {
        Tamper::SignatureChar { at } => {
            let at = *at;
            post = Some(Box::new(move |req: &mut Req| {
                if let Some(auth) = authorization_mut(req) {
                    let (head, sig) = auth.rsplit_once("Signature=").expect("signed");
                    *auth = format!("{head}Signature={}", change_char(sig, at));
                } else {
                    let query = std::mem::take(&mut req.query);
                    req.query = query
                        .split('&')
                        .map(|kv| match kv.strip_prefix("X-Amz-Signature=") {
                            Some(sig) => format!("X-Amz-Signature={}", change_char(sig, at)),
                            None => kv.to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join("&");
                }
            }));
        }
        Tamper::Method => {
            let other = if u.method == "GET" { "POST" } else { "GET" };
            post = Some(Box::new(move |req: &mut Req| req.method = other.to_owned()));
        }
        Tamper::Path => post = Some(Box::new(|req: &mut Req| req.path.push('Z'))),
        Tamper::QueryValue { at } => {
            if u.params.is_empty() {
                u.params.push(("k".into(), "v".into()));
            }
            let n = at % u.params.len();
            let (k, v) = u.params[n].clone();
            let (ek, ev) = (encode(&k, false), encode(&v, false));
            post = Some(Box::new(move |req: &mut Req| {
                let query = std::mem::take(&mut req.query);
                let mut done = false;
                req.query = query
                    .split('&')
                    .map(|kv| {
                        if !done && kv == format!("{ek}={ev}") {
                            done = true;
                            format!("{ek}={ev}Z")
                        } else {
                            kv.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("&");
            }));
        }
        Tamper::QueryAdded => {
            post = Some(Box::new(|req: &mut Req| {
                req.query = if req.query.is_empty() { "added=1".to_owned() } else { format!("{}&added=1", req.query) };
            }));
        }
        Tamper::SignedHeader { at } => {
            let at = *at;
            post = Some(Box::new(move |req: &mut Req| {
                // Every signed header but the date (changing it is Date's).
                let signed: Vec<String> = signed_names(req).into_iter().filter(|n| n != "x-amz-date").collect();
                let name = &signed[at % signed.len()];
                let value = req.headers.iter_mut().find(|(n, _)| n == name).map(|(_, v)| v).expect("sent");
                value.push('Z');
            }));
        }
        Tamper::Body => post = Some(Box::new(|req: &mut Req| req.body.push(b'!'))),
        Tamper::Date => {
            post = Some(Box::new(|req: &mut Req| {
                let shift = |d: &str| {
                    let t = NaiveDateTime::parse_from_str(d, "%Y%m%dT%H%M%SZ").expect("a date");
                    (t + Duration::seconds(1)).format("%Y%m%dT%H%M%SZ").to_string()
                };
                if let Some((_, v)) = req.headers.iter_mut().find(|(n, _)| n == "x-amz-date") {
                    *v = shift(v);
                } else {
                    let query = std::mem::take(&mut req.query);
                    req.query = query
                        .split('&')
                        .map(|kv| match kv.strip_prefix("X-Amz-Date=") {
                            Some(d) => format!("X-Amz-Date={}", shift(d)),
                            None => kv.to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join("&");
                }
            }));
        }
        Tamper::Region => {
            // The scope's region changed after signing.
            post = Some(Box::new(|req: &mut Req| {
                let edit = |credential: &str, sep: &str| {
                    let mut fields: Vec<String> = credential.split(sep).map(str::to_owned).collect();
                    if fields.len() > 2 {
                        fields[2].push('x');
                    }
                    fields.join(sep)
                };
                if let Some(auth) = authorization_mut(req) {
                    let (head, rest) = auth.split_once("Credential=").expect("a credential");
                    let (credential, tail) = rest.split_once(',').expect("more parts");
                    *auth = format!("{head}Credential={}, {}", edit(credential, "/"), tail.trim_start());
                } else {
                    let query = std::mem::take(&mut req.query);
                    req.query = query
                        .split('&')
                        .map(|kv| match kv.strip_prefix("X-Amz-Credential=") {
                            Some(c) => format!("X-Amz-Credential={}", edit(c, "%2F")),
                            None => kv.to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join("&");
                }
            }));
        }
        Tamper::Service => server_service.push('x'),
        Tamper::Secret => signer.secret.push('x'),
        Tamper::AccessKey => signer.access_key.push('X'),
    }
    let mut req = sign(&u, &signer, at);
    if let Some(post) = post {
        post(&mut req);
    }
    // The server knows the original key (under the original access key id).
    (req, key.clone(), server_service)
}

fn signed_names(req: &Req) -> Vec<String> {
    let from_header = req
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .and_then(|(_, v)| v.split("SignedHeaders=").nth(1))
        .map(|s| s.split(',').next().unwrap_or("").to_owned());
    let list = from_header.unwrap_or_else(|| {
        req.query
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
            .map(percent_decode)
            .unwrap_or_default()
    });
    list.split(';').map(str::to_owned).collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        if let (b'%', Some(Ok(b))) = (bytes[i], hex.map(|h| u8::from_str_radix(h, 16))) {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn apply_harmless(req: &mut Req, h: &Harmless) {
    match h {
        Harmless::UnsignedHeader(value) => req.headers.push(("x-not-signed".into(), value.clone())),
        Harmless::ReorderAuthorization => {
            if let Some(auth) = authorization_mut(req) {
                let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").expect("sigv4").to_owned();
                let mut parts: Vec<&str> = rest.split(", ").collect();
                parts.reverse();
                *auth = format!("AWS4-HMAC-SHA256   {}", parts.join(" ,"));
            }
        }
    }
}

/// Noise for the parsers: arbitrary or broken `Authorization` headers,
/// presigned queries and dates.
#[derive(Debug, Clone)]
enum Noise {
    Authorization(String),
    /// A valid header with a part cut, doubled or emptied.
    BrokenAuthorization {
        cut: usize,
        how: u8,
    },
    Query(String),
    Date(String),
    /// Arbitrary bytes as a header value (lossy UTF-8, as `header_pairs` gives).
    Bytes(Vec<u8>),
}

fn noise() -> impl Strategy<Value = Noise> {
    let scheme = prop::sample::select(vec!["AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256", "aws4-hmac-sha256 ", "AWS ", ""]);
    let part = prop_oneof![
        "Credential=[A-Za-z0-9/_ -]{0,40}",
        "SignedHeaders=[a-z;-]{0,20}",
        "Signature=[0-9a-f]{0,64}",
        "[ -~]{0,12}",
        Just("Credential=AKID/20150830/us-east-1/service/aws4_request".to_owned()),
    ];
    prop_oneof![
        3 => (scheme, prop::collection::vec(part, 0..5), prop::sample::select(vec![",", ", ", " ", ",,"]))
            .prop_map(|(s, parts, sep)| Noise::Authorization(format!("{s}{}", parts.join(sep)))),
        2 => (any::<usize>(), 0u8..4).prop_map(|(cut, how)| Noise::BrokenAuthorization { cut, how }),
        2 => prop::collection::vec(
            prop_oneof![
                Just("X-Amz-Algorithm=AWS4-HMAC-SHA256".to_owned()),
                "X-Amz-Credential=[A-Za-z0-9%/_-]{0,40}",
                "X-Amz-Date=[0-9TZ]{0,18}",
                "X-Amz-SignedHeaders=[a-z;%]{0,16}",
                "X-Amz-Signature=[0-9a-f]{0,64}",
                "[ -~]{0,10}",
            ],
            0..7,
        )
        .prop_map(|p| Noise::Query(p.join("&"))),
        2 => prop_oneof![
            "[0-9]{8}T[0-9]{6}Z",
            "[+-]?[0-9]{1,12}T[0-9]{0,8}Z?",
            "[ -~]{0,20}",
            Just("99999999T999999Z".to_owned()),
            Just("+2623440101T000000Z".to_owned()),
        ]
        .prop_map(Noise::Date),
        1 => prop::collection::vec(any::<u8>(), 0..80).prop_map(Noise::Bytes),
    ]
}

fn noisy(base: &Req, noise: &Noise) -> Req {
    let mut req = base.clone();
    let set = |req: &mut Req, name: &str, value: String| {
        req.headers.retain(|(n, _)| n != name);
        req.headers.push((name.to_owned(), value));
    };
    match noise {
        Noise::Authorization(a) => set(&mut req, "authorization", a.clone()),
        Noise::BrokenAuthorization { cut, how } => {
            if let Some(auth) = authorization_mut(&mut req) {
                let parts: Vec<String> = auth.split(", ").map(str::to_owned).collect();
                let n = cut % parts.len();
                let mut parts = parts;
                match how {
                    0 => {
                        parts.remove(n);
                    }
                    1 => {
                        let p = parts[n].clone();
                        parts.insert(n, p);
                    }
                    2 => parts[n] = parts[n].split('=').next().unwrap_or("").to_owned() + "=",
                    _ => parts[n] = parts[n].replace('/', "//"),
                }
                *auth = parts.join(", ");
            }
        }
        Noise::Query(q) => req.query = q.clone(),
        Noise::Date(d) => {
            set(&mut req, "x-amz-date", d.clone());
            req.query = req
                .query
                .split('&')
                .map(|kv| if kv.starts_with("X-Amz-Date=") { format!("X-Amz-Date={d}") } else { kv.to_owned() })
                .collect::<Vec<_>>()
                .join("&");
        }
        Noise::Bytes(b) => set(&mut req, "authorization", String::from_utf8_lossy(b).into_owned()),
    }
    req
}

#[derive(Debug, Clone)]
struct Case {
    key: Key,
    unsigned: Unsigned,
    times: (NaiveDateTime, DateTime<Utc>),
    tamper: Tamper,
    harmless: Vec<Harmless>,
    noise: Noise,
}

fn case() -> impl Strategy<Value = Case> {
    (key(), unsigned(), times(), tamper(), prop::collection::vec(harmless(), 0..3), noise()).prop_map(
        |(key, unsigned, times, tamper, harmless, noise)| Case { key, unsigned, times, tamper, harmless, noise },
    )
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let (at, now) = case.times;
    let key = &case.key;
    let credentials = key.credentials();

    // A correctly signed request verifies, with harmless changes too.
    let mut good = sign(&case.unsigned, key, at);
    for h in &case.harmless {
        apply_harmless(&mut good, h);
    }
    let verified = check_any(&good, &credentials, &key.service, now);
    prop_assert_eq!(
        verified,
        Ok(Caller { access_key: key.access_key.clone() }),
        "a correctly signed request was refused: {:?}",
        good
    );
    if let Some(parts) = good.parts() {
        let scope = CredentialScope::of(&parts);
        prop_assert_eq!(
            scope.as_ref().map(|s| (&*s.access_key, &*s.region, &*s.service)),
            Some((&*key.access_key, &*key.region, &*key.service)),
            "the credential scope of a signed request"
        );
    }

    // A tampered one never does.
    let (bad, server_key, service) = tampered(&case.unsigned, key, at, &case.tamper);
    let result = check_any(&bad, &server_key.credentials(), &service, now);
    let payload_signed = !case.unsigned.presigned && case.unsigned.content_sha256 != Some(false);
    if matches!(case.tamper, Tamper::Body) && !payload_signed {
        // Presigned or `UNSIGNED-PAYLOAD`: the body is not covered.
        prop_assert!(result.is_ok(), "an unsigned body changed and the request was refused: {:?}", result);
        return Ok(());
    }
    prop_assert!(result.is_err(), "{:?} still verifies: {:?}", case.tamper, bad);
    if let Tamper::SignatureChar { .. } = case.tamper {
        prop_assert_eq!(result, Err(SigV4Error::Mismatch));
    }

    // Noise: any answer, no panic; an answer that verifies only if the
    // signature still matches (which noise breaks but for luck).
    let noisy = noisy(&good, &case.noise);
    let _ = check_any(&noisy, &credentials, &key.service, now);
    Ok(())
}

// ---- the corpus -----------------------------------------------------------

/// A corpus request: `key: value` lines (`header: name: value` repeated),
/// `#` comments; `expect:` is `ok`, an error variant's name or `any`.
fn replay(path: &std::path::Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut req = Req { method: "GET".into(), path: "/".into(), query: String::new(), headers: vec![], body: vec![] };
    let (mut credentials, mut service, mut now, mut expect) = (None, None, None, None);
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (key, value) = line.split_once(':').ok_or(format!("not key: value: {line}"))?;
        let value = value.strip_prefix(' ').unwrap_or(value);
        match key {
            "method" => req.method = value.to_owned(),
            "path" => req.path = value.to_owned(),
            "query" => req.query = value.to_owned(),
            "body" => req.body = value.as_bytes().to_vec(),
            "header" => {
                let (name, v) = value.split_once(':').ok_or(format!("not name: value: {value}"))?;
                req.headers.push((name.to_ascii_lowercase(), v.trim_start().to_owned()));
            }
            "credentials" => credentials = Some(Credentials::parse(value).map_err(|e| e.to_string())?),
            "service" => service = Some(value.to_owned()),
            "now" => {
                let t = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").map_err(|e| e.to_string())?;
                now = Some(t.and_utc());
            }
            "expect" => expect = Some(value.to_owned()),
            other => return Err(format!("unknown key {other}")),
        }
    }
    let (credentials, service, now, expect) = (
        credentials.ok_or("no credentials")?,
        service.ok_or("no service")?,
        now.ok_or("no now")?,
        expect.ok_or("no expect")?,
    );
    let result = check_any(&req, &credentials, &service, now);
    let got = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("{e:?}").split([' ', '{', '(']).next().unwrap_or("").to_owned(),
    };
    if expect != "any" && got != expect {
        return Err(format!("expected {expect}, got {result:?}"));
    }
    Ok(())
}

#[test]
fn fuzz_sigv4() {
    let run = lambdabox_fuzz::Run::new(TARGET, file!());
    let corpus = lambdabox_fuzz::corpus(CORPUS);
    assert!(corpus.len() >= 10, "the seed corpus is missing");
    for path in &corpus {
        run.count();
        if let Err(e) = replay(path) {
            panic!("{}: {e}", path.display());
        }
    }

    run.generate(&case(), |case| check_case(&case));
}
