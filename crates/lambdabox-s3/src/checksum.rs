//! Hashing bodies as they stream to disk: the MD5 that makes the ETag, and
//! the one additional checksum (`x-amz-checksum-*`) the client asked for,
//! verified against the header or trailer the client sent.

use http::HeaderMap;
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Md5, Sha1, Sha256};

use crate::store::StoredChecksum;

/// The checksum algorithms S3 accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    const ALL: [Self; 5] = [Self::Crc32, Self::Crc32c, Self::Crc64Nvme, Self::Sha1, Self::Sha256];

    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    fn header(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name) || a.header().eq_ignore_ascii_case(name))
    }

    /// The algorithm a request names: an `x-amz-checksum-*` header, the
    /// trailer it announces (`x-amz-trailer`), or `x-amz-sdk-checksum-algorithm`.
    pub fn requested(headers: &HeaderMap) -> Option<Self> {
        let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Self::ALL
            .into_iter()
            .find(|a| headers.contains_key(a.header()))
            .or_else(|| value("x-amz-trailer").and_then(|t| t.split(',').find_map(|t| Self::parse(t.trim()))))
            .or_else(|| value("x-amz-sdk-checksum-algorithm").and_then(Self::parse))
    }

    /// The value the client sent for this algorithm, in a header or (after
    /// the body was read) a trailer.
    pub fn expected(self, headers: &HeaderMap, trailers: Option<&HeaderMap>) -> Option<String> {
        let get = |h: &HeaderMap| h.get(self.header()).and_then(|v| v.to_str().ok()).map(str::to_owned);
        get(headers).or_else(|| trailers.and_then(get))
    }
}

/// MD5 plus at most one requested checksum, in one pass.
pub struct BodyHasher {
    md5: Md5,
    other: ChecksumHasher,
    algorithm: Option<Algorithm>,
}

/// What [`BodyHasher::finish`] computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub md5: [u8; 16],
    pub checksum: Option<StoredChecksum>,
}

impl BodyHasher {
    pub fn new(algorithm: Option<Algorithm>) -> Self {
        let mut other = ChecksumHasher::default();
        match algorithm {
            Some(Algorithm::Crc32) => other.crc32 = Some(Crc32::new()),
            Some(Algorithm::Crc32c) => other.crc32c = Some(Crc32c::new()),
            Some(Algorithm::Crc64Nvme) => other.crc64nvme = Some(Crc64Nvme::new()),
            Some(Algorithm::Sha1) => other.sha1 = Some(Sha1::new()),
            Some(Algorithm::Sha256) => other.sha256 = Some(Sha256::new()),
            None => {}
        }
        Self { md5: Md5::new(), other, algorithm }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.other.update(data);
    }

    pub fn finish(self) -> Digests {
        let sums = self.other.finalize();
        let value = match self.algorithm {
            Some(Algorithm::Crc32) => sums.checksum_crc32,
            Some(Algorithm::Crc32c) => sums.checksum_crc32c,
            Some(Algorithm::Crc64Nvme) => sums.checksum_crc64nvme,
            Some(Algorithm::Sha1) => sums.checksum_sha1,
            Some(Algorithm::Sha256) => sums.checksum_sha256,
            None => None,
        };
        let checksum =
            self.algorithm.zip(value).map(|(a, value)| StoredChecksum { algorithm: a.name().to_owned(), value });
        Digests { md5: self.md5.finalize(), checksum }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The inverse of [`hex`]; `None` for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// AWS's multipart ETag: the MD5 of the parts' binary MD5s, `-` and the part count.
pub fn multipart_etag<'a>(part_etags: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut md5 = Md5::new();
    let mut count = 0;
    for etag in part_etags {
        md5.update(&unhex(etag)?);
        count += 1;
    }
    Some(format!("{}-{count}", hex(&md5.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_crc32() {
        let mut h = BodyHasher::new(Some(Algorithm::Crc32));
        h.update(b"hello ");
        h.update(b"world");
        let d = h.finish();
        assert_eq!(hex(&d.md5), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        // crc32("hello world") = 0x0d4a1185
        assert_eq!(d.checksum, Some(StoredChecksum { algorithm: "CRC32".into(), value: "DUoRhQ==".into() }));
        assert_eq!(BodyHasher::new(None).finish().checksum, None);
    }

    #[test]
    fn requested_algorithm() {
        let mut h = HeaderMap::new();
        assert_eq!(Algorithm::requested(&h), None);
        h.insert("x-amz-trailer", "x-amz-checksum-crc32c".parse().unwrap());
        assert_eq!(Algorithm::requested(&h), Some(Algorithm::Crc32c));
        h.insert("x-amz-checksum-sha256", "abc".parse().unwrap());
        assert_eq!(Algorithm::requested(&h), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::Sha256.expected(&h, None).as_deref(), Some("abc"));
    }

    #[test]
    fn multipart_etag_is_md5_of_md5s() {
        // Two parts "a" and "b": md5("a") = 0cc175b9c0f1b6a831c399e269772661, md5("b") = 92eb5ffee6ae2fec3ad71c777531578f.
        let etag = multipart_etag(["0cc175b9c0f1b6a831c399e269772661", "92eb5ffee6ae2fec3ad71c777531578f"]).unwrap();
        assert_eq!(etag, "96e024ba2074fe77e8e965ba43a704be-2");
        assert_eq!(multipart_etag(["zz"]), None);
        assert_eq!(unhex("0aFf"), Some(vec![0x0a, 0xff]));
    }
}
