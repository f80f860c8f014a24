//! A small client for Lambdabox's own command-line subcommands (`lambdabox
//! logs`, `lambdabox schedule fire`): the AWS CLI's credentials from the
//! environment, and one SigV4-signed HTTP/1.1 `POST` to a server's
//! `http://` endpoint, as the AWS CLI signs it (so the subcommands work
//! under `--auth iam` with a key allowed the action). Each service's client
//! reads the answer in its own protocol.

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::sigv4::{SignedRequest, SigningKey, sign};

/// The key requests are signed with.
#[derive(Clone)]
pub struct ClientCredentials {
    pub access_key: String,
    pub secret: String,
    pub session_token: Option<String>,
    pub region: String,
}

impl std::fmt::Debug for ClientCredentials {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// The AWS CLI's environment variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
    /// `AWS_DEFAULT_REGION`), else the server's default `test`/`test` in us-east-1.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            access_key: var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "test".to_owned()),
            secret: var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "test".to_owned()),
            session_token: var("AWS_SESSION_TOKEN"),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".to_owned()),
        }
    }
}

/// A server's `http://host[:port]` endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL without a trailing slash.
    pub base: String,
    /// `host:port` (port 80 when the URL names none).
    pub authority: String,
}

impl Endpoint {
    /// Parses an endpoint; the reason it is refused otherwise.
    pub fn parse(endpoint: &str) -> Result<Self, String> {
        let uri: Uri = endpoint.parse().map_err(|_| "not a URL".to_owned())?;
        if uri.scheme_str() != Some("http") {
            return Err("only http:// endpoints are supported".to_owned());
        }
        let authority = uri.authority().ok_or_else(|| "no host in the URL".to_owned())?;
        let authority = match authority.port_u16() {
            Some(_) => authority.to_string(),
            None => format!("{}:80", authority.host()),
        };
        Ok(Self { base: endpoint.trim_end_matches('/').to_owned(), authority })
    }
}

/// What a server answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// `POST`s `body` to `path` with `headers` (`host` is added), signed for
/// `service` with `credentials`; the reason as text when the exchange fails.
pub async fn post_signed(
    endpoint: &Endpoint,
    credentials: &ClientCredentials,
    service: &str,
    path: &str,
    mut headers: Vec<(String, String)>,
    body: Bytes,
) -> Result<Reply, String> {
    let stream = tokio::net::TcpStream::connect(&endpoint.authority).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    let connection = tokio::spawn(connection);
    headers.push(("host".to_owned(), endpoint.authority.clone()));
    let key = SigningKey {
        access_key: &credentials.access_key,
        secret: &credentials.secret,
        session_token: credentials.session_token.as_deref(),
        region: &credentials.region,
        service,
    };
    let unsigned = SignedRequest { method: "POST", path, query: "", headers: &headers, body: &body };
    let mut builder = Request::post(format!("{}{path}", endpoint.base));
    for (name, value) in headers.iter().chain(&sign(&unsigned, &key, chrono::Utc::now())) {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let request = builder.body(Full::new(body)).map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    connection.abort();
    Ok(Reply { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_urls() {
        assert_eq!(Endpoint::parse("http://127.0.0.1:9070").unwrap().authority, "127.0.0.1:9070");
        let default_port = Endpoint::parse("http://localhost/").unwrap();
        assert_eq!((default_port.authority.as_str(), default_port.base.as_str()), ("localhost:80", "http://localhost"));
        assert!(Endpoint::parse("https://example.com").is_err());
        assert!(Endpoint::parse("not a url").is_err());
    }

    #[test]
    fn credentials_never_print_the_secret() {
        let c = ClientCredentials {
            access_key: "AKIA".into(),
            secret: "shh".into(),
            session_token: None,
            region: "us-east-1".into(),
        };
        assert!(!format!("{c:?}").contains("shh"));
    }
}
