//! Reads a request body up to a size limit without copying when it arrives in
//! one piece, and drains (without keeping) whatever goes past the limit, so the
//! client still reads our reply and the connection stays usable.

use axum::body::{Body, HttpBody};
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

/// A request body read under a limit.
#[derive(Debug)]
pub(crate) enum Payload {
    /// The whole body, with the trailers of a chunked body if it had any.
    Complete { data: Bytes, trailers: Option<HeaderMap> },
    /// The body was longer than the limit; it was read and discarded.
    TooLarge,
}

/// The client went away or sent a malformed body.
#[derive(Debug)]
pub(crate) struct Truncated;

pub(crate) async fn read_limited(mut body: Body, limit: usize) -> Result<Payload, Truncated> {
    let hint = body.size_hint();
    let mut too_large = hint.lower() > limit as u64;
    let mut total: usize = 0;
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut trailers = None;

    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Truncated)?;
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                if let Ok(map) = frame.into_trailers() {
                    trailers = Some(map);
                }
                continue;
            }
        };
        if too_large || data.is_empty() {
            continue;
        }
        total = total.saturating_add(data.len());
        if total > limit {
            too_large = true;
            first = None;
            rest = None;
            continue;
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let capacity = hint.exact().map_or(head.len() + data.len(), |n| n as usize).min(limit);
                let mut buf = BytesMut::with_capacity(capacity);
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }

    if too_large {
        return Ok(Payload::TooLarge);
    }
    let data = match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    };
    Ok(Payload::Complete { data, trailers })
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use hyper::body::Frame;

    use super::*;

    /// A body that yields the given frames, as a chunked upload would.
    struct Frames(VecDeque<Frame<Bytes>>);

    impl HttpBody for Frames {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.get_mut().0.pop_front().map(Ok))
        }
    }

    fn chunked(chunks: &[&'static [u8]], trailers: Option<HeaderMap>) -> Body {
        let mut frames: VecDeque<_> = chunks.iter().map(|c| Frame::data(Bytes::from_static(c))).collect();
        if let Some(trailers) = trailers {
            frames.push_back(Frame::trailers(trailers));
        }
        Body::new(Frames(frames))
    }

    #[tokio::test]
    async fn single_piece_is_kept_as_is() {
        let data = Bytes::from_static(b"hello");
        let Payload::Complete { data: read, .. } = read_limited(Body::from(data.clone()), 5).await.unwrap() else {
            panic!("not complete");
        };
        assert_eq!(read, data);
        assert_eq!(read.as_ptr(), data.as_ptr(), "no copy");
    }

    #[tokio::test]
    async fn pieces_are_joined_with_trailers() {
        let mut trailers = HeaderMap::new();
        trailers.insert("x-t", "1".parse().unwrap());
        let body = chunked(&[b"ab", b"", b"cd", b"e"], Some(trailers.clone()));
        let Payload::Complete { data, trailers: read } = read_limited(body, 5).await.unwrap() else {
            panic!("not complete");
        };
        assert_eq!(&data[..], b"abcde");
        assert_eq!(read, Some(trailers));
    }

    #[tokio::test]
    async fn over_the_limit_is_too_large() {
        let body = chunked(&[b"abc", b"def"], None);
        assert!(matches!(read_limited(body, 5).await.unwrap(), Payload::TooLarge));
        assert!(matches!(read_limited(Body::from("123456"), 5).await.unwrap(), Payload::TooLarge));
    }

    #[tokio::test]
    async fn empty_body_is_empty() {
        let Payload::Complete { data, trailers } = read_limited(Body::empty(), 5).await.unwrap() else {
            panic!("not complete");
        };
        assert!(data.is_empty());
        assert!(trailers.is_none());
    }
}
