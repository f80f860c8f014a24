//! A minimal HTTP/1.1 client over one keep-alive TCP connection: every
//! measurement in the harness (Lambdabox, the echo baseline, cargo lambda)
//! goes through this same code, so its own cost cancels out of the ratios.
//!
//! One request is one `write` of head and body together; the response is
//! parsed with `httparse` from a buffer that is reused between requests.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response as read off the wire.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One keep-alive connection.
pub struct Conn {
    addr: SocketAddr,
    stream: TcpStream,
    /// Bytes read but not yet consumed.
    buf: Vec<u8>,
    /// The request being written.
    out: Vec<u8>,
}

/// How a response body is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connect to {addr}"))?;
        stream.set_nodelay(true).context("set TCP_NODELAY")?;
        Ok(Self { addr, stream, buf: Vec::with_capacity(16 * 1024), out: Vec::with_capacity(1024) })
    }

    /// Sends one request and reads its whole response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Response> {
        use std::io::Write as _;
        self.out.clear();
        write!(self.out, "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n", self.addr, body.len())?;
        for (name, value) in headers {
            write!(self.out, "{name}: {value}\r\n")?;
        }
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
        self.stream.write_all(&self.out).await.context("send request")?;
        self.read_response(method == "HEAD").await
    }

    /// [`Conn::request`] signed with SigV4 by `key` (the `Host` it sends is
    /// the signed one), as an SDK signs.
    pub async fn request_signed(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        key: &lambdabox_aws::sigv4::SigningKey<'_>,
    ) -> anyhow::Result<Response> {
        let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
        let mut pairs: Vec<(String, String)> =
            headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())).collect();
        pairs.push(("host".to_owned(), self.addr.to_string()));
        let request = lambdabox_aws::sigv4::SignedRequest { method, path: path_only, query, headers: &pairs, body };
        let added = lambdabox_aws::sigv4::sign(&request, key, chrono::Utc::now());
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.extend(added.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.request(method, path, &all, body).await
    }

    /// Reads more bytes into the buffer; false at end of stream.
    async fn fill(&mut self) -> anyhow::Result<bool> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let n = self.stream.read_buf(&mut self.buf).await.context("read response")?;
        Ok(n > 0)
    }

    async fn read_response(&mut self, head_only: bool) -> anyhow::Result<Response> {
        let (status, headers, head_len) = loop {
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut slots);
            match parsed.parse(&self.buf).context("parse response head")? {
                httparse::Status::Complete(n) => {
                    let status = parsed.code.unwrap_or(0);
                    let headers: Vec<(String, String)> = parsed
                        .headers
                        .iter()
                        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                        .collect();
                    break (status, headers, n);
                }
                httparse::Status::Partial => {
                    if !self.fill().await? {
                        bail!("connection closed before a response head");
                    }
                }
            }
        };
        self.buf.drain(..head_len);
        let find = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let framing = if head_only || status == 204 || status == 304 {
            Framing::Length(0)
        } else if find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            Framing::Chunked
        } else if let Some(len) = find("content-length") {
            Framing::Length(len.trim().parse().context("parse content-length")?)
        } else {
            Framing::UntilClose
        };
        let body = match framing {
            Framing::Length(len) => {
                while self.buf.len() < len {
                    if !self.fill().await? {
                        bail!("connection closed inside a response body");
                    }
                }
                self.buf.drain(..len).collect()
            }
            Framing::Chunked => self.read_chunked().await?,
            Framing::UntilClose => {
                while self.fill().await? {}
                std::mem::take(&mut self.buf)
            }
        };
        Ok(Response { status, headers, body })
    }

    async fn read_line(&mut self) -> anyhow::Result<Vec<u8>> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).take(pos).collect();
                return Ok(line);
            }
            if !self.fill().await? {
                bail!("connection closed inside a chunked body");
            }
        }
    }

    async fn read_chunked(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let text = String::from_utf8_lossy(&line);
            let size_text = text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16).with_context(|| format!("chunk size {size_text:?}"))?;
            if size == 0 {
                // Trailers, then the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body);
            }
            while self.buf.len() < size + 2 {
                if !self.fill().await? {
                    bail!("connection closed inside a chunk");
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }
}
