//! Queue tags: SQS's limits on them (keys of 1 to 128 characters, values
//! up to 256, at most 50 per queue).

use std::collections::BTreeMap;

use crate::QueueError;

/// The most tags a queue carries.
pub const MAX_TAGS: usize = 50;

/// Checks a queue's whole set of tags.
pub(crate) fn check(tags: &BTreeMap<String, String>) -> Result<(), QueueError> {
    if tags.len() > MAX_TAGS {
        return Err(QueueError::invalid(format!("Too many tags: a queue can have at most {MAX_TAGS} tags.")));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(QueueError::invalid(format!(
                "Tag key '{key}' is invalid. Tag keys must be between 1 and 128 characters in length."
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(QueueError::invalid(format!("Tag key '{key}' is invalid. The aws: prefix is reserved.")));
        }
        if value.chars().count() > 256 {
            return Err(QueueError::invalid(format!(
                "Tag value for key '{key}' is invalid. Tag values must be at most 256 characters in length."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let one = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(check(&one("team", "")).is_ok());
        assert!(check(&one("", "v")).is_err());
        assert!(check(&one(&"k".repeat(129), "v")).is_err());
        assert!(check(&one("k", &"v".repeat(257))).is_err());
        assert!(check(&one("aws:x", "v")).is_err());
        let many: BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(check(&many).is_err());
    }
}
