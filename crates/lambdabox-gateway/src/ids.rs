//! Identifiers in AWS's shapes: HTTP API ids (10 lower-case alphanumerics),
//! function URL ids (32), integration and route ids (7).

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in uuid::Uuid::new_v4().as_bytes() {
            // 252 is the largest multiple of 36 below 256: no modulo bias.
            if *b < 252 && out.len() < len {
                out.push(LOWER[(*b % 36) as usize] as char);
            }
        }
    }
    out
}

/// An HTTP API id (`a1b2c3d4e5`).
pub fn api_id() -> String {
    random(10)
}

/// A function URL id, the first label of its host name.
pub fn url_id() -> String {
    random(32)
}

/// An integration or route id (`abc1234`).
pub fn short_id() -> String {
    random(7)
}

/// Whether `s` has the shape of an id of `len` lower-case alphanumerics.
pub fn is_id(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        assert!(is_id(&api_id(), 10));
        assert!(is_id(&url_id(), 32));
        assert!(is_id(&short_id(), 7));
        assert_ne!(url_id(), url_id());
        assert!(!is_id("ABCDEFGHIJ", 10));
    }
}
