//! AWS's rules for resource tags.

use std::collections::BTreeMap;

use lambdabox_model::limits::TAGS_MAX;

use crate::ControlError;

/// At most 50 tags; keys 1–128 characters and not starting with `aws:`;
/// values at most 256 characters.
pub(crate) fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), ControlError> {
    if tags.len() > TAGS_MAX {
        return Err(ControlError::InvalidTags(format!(
            "Number of tags exceeds resource tag limit. A resource can have at most {TAGS_MAX} tags."
        )));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(ControlError::InvalidTags(format!("Tag key '{key}' must be 1 to 128 characters long.")));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ControlError::InvalidTags(format!("Tag key '{key}' uses the reserved prefix 'aws:'.")));
        }
        if value.chars().count() > 256 {
            return Err(ControlError::InvalidTags(format!(
                "Tag value of '{key}' must be at most 256 characters long."
            )));
        }
    }
    Ok(())
}
