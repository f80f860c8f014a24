//! Downloads the pinned files, a few at a time, each checked against its
//! digest before anything is done with it.

use futures::{StreamExt, TryStreamExt};
use sha2::{Digest as _, Sha256, Sha512};

use crate::SdkError;
use crate::lock::{Artifact, Digest, hex};

/// Every artifact's bytes, in the lock's order.
pub(crate) async fn all(artifacts: &[Artifact], parallel: usize) -> Result<Vec<Vec<u8>>, SdkError> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("lambdabox/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(20))
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(|e| SdkError::Download { url: String::new(), reason: e.to_string() })?;
    futures::stream::iter(artifacts.iter().map(|a| one(&client, a))).buffered(parallel).try_collect().await
}

async fn one(client: &reqwest::Client, artifact: &Artifact) -> Result<Vec<u8>, SdkError> {
    let url = &artifact.url;
    let failed = |reason: String| SdkError::Download { url: url.clone(), reason };
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(500 << attempt)).await;
        }
        let response = match client.get(url).send().await {
            Ok(r) => r,
            Err(e) => {
                last = error_chain(&e);
                continue;
            }
        };
        if !response.status().is_success() {
            last = format!("HTTP {}", response.status());
            if response.status().is_client_error() {
                break;
            }
            continue;
        }
        match response.bytes().await {
            Ok(bytes) => {
                check(artifact, &bytes)?;
                return Ok(bytes.to_vec());
            }
            Err(e) => last = error_chain(&e),
        }
    }
    Err(failed(last))
}

/// Whether `bytes` are what the lock pinned.
pub(crate) fn check(artifact: &Artifact, bytes: &[u8]) -> Result<(), SdkError> {
    let matches = match &artifact.digest {
        Digest::Sha256(expected) => hex(&Sha256::digest(bytes)) == *expected,
        Digest::Sha512(expected) => Sha512::digest(bytes).as_slice() == expected.as_slice(),
    };
    if matches {
        Ok(())
    } else {
        let expected = match &artifact.digest {
            Digest::Sha256(h) => format!("sha256 {h}"),
            Digest::Sha512(_) => "sha512".to_owned(),
        };
        Err(SdkError::Digest { url: artifact.url.clone(), expected })
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::Format;

    #[test]
    fn a_file_that_does_not_match_its_pin_is_refused() {
        let mut a = Artifact {
            name: "x".into(),
            version: "1".into(),
            url: "https://x".into(),
            digest: Digest::Sha256(hex(&Sha256::digest(b"good"))),
            size: None,
            format: Format::Wheel,
        };
        assert!(check(&a, b"good").is_ok());
        assert!(matches!(check(&a, b"evil"), Err(SdkError::Digest { .. })));
        a.digest = Digest::Sha512(Sha512::digest(b"good").to_vec());
        assert!(check(&a, b"good").is_ok());
        assert!(check(&a, b"evil").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_registry_is_a_clear_error() {
        let a = Artifact {
            name: "x".into(),
            version: "1".into(),
            url: "http://127.0.0.1:1/x.whl".into(),
            digest: Digest::Sha256("0".repeat(64)),
            size: None,
            format: Format::Wheel,
        };
        let err = all(&[a], 1).await.unwrap_err().to_string();
        assert!(err.starts_with("could not download http://127.0.0.1:1/x.whl: "), "{err}");
    }
}
