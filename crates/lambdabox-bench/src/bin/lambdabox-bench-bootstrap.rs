//! `lambdabox-bench-bootstrap`: the benchmark's trivial custom-runtime
//! function, a `bootstrap` that speaks the Runtime API (2018-06-01) over one
//! raw keep-alive TCP connection with nothing but `std`, so what it costs is
//! the platform's, not a client library's.
//!
//! Each response is `{"started_us":…,"handler_us":…}`: when the process
//! entered `main` and when it received this event, in microseconds of the
//! wall clock (the sandbox shares the host's clock), from which the harness
//! splits a cold start into "Invoke to process start" and "process start to
//! handler".
//!
//! Started without `AWS_LAMBDA_RUNTIME_API` it exits at once: that is the
//! bare "fork + exec to exit" baseline of a custom-runtime cold start.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

fn now_us() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0)
}

/// One response read from the Runtime API: the request id header and the body.
struct Event {
    request_id: String,
    body: Vec<u8>,
}

fn read_response(reader: &mut BufReader<TcpStream>) -> io::Result<Event> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status_ok = line.split_whitespace().nth(1) == Some("200") || line.split_whitespace().nth(1) == Some("202");
    if !status_ok {
        return Err(io::Error::other(format!("runtime api answered {}", line.trim_end())));
    }
    let mut content_length = 0usize;
    let mut request_id = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().map_err(io::Error::other)?;
            } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                request_id = value.to_owned();
            }
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    Ok(Event { request_id, body })
}

fn main() -> io::Result<()> {
    let started_us = now_us();
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return Ok(());
    };
    let stream = TcpStream::connect(&api)?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let next = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n");
    let mut request = Vec::with_capacity(256);
    loop {
        writer.write_all(next.as_bytes())?;
        let event = read_response(&mut reader)?;
        let handler_us = now_us();
        // The event is not looked at: the function is as trivial as one can be.
        drop(event.body);
        let body = format!("{{\"started_us\":{started_us},\"handler_us\":{handler_us}}}");
        request.clear();
        write!(
            request,
            "POST /2018-06-01/runtime/invocation/{}/response HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            event.request_id,
            body.len()
        )?;
        writer.write_all(&request)?;
        read_response(&mut reader)?;
    }
}
