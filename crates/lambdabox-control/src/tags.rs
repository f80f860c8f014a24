//! Tags: TagResource, UntagResource and ListTags, and AWS's rules for them.

use std::collections::BTreeMap;

use lambdabox_model::limits::TAGS_MAX;
use lambdabox_model::{Region, ValidationError};
use lambdabox_store::FunctionRecord;

use crate::plane::blocking;
use crate::{ControlError, ControlPlane};

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

impl ControlPlane {
    /// Resolves a tagging resource ARN to its function.
    async fn tag_target(&self, region: &Region, resource: &str) -> Result<FunctionRecord, ControlError> {
        if !resource.starts_with("arn:") {
            return Err(ValidationError::pattern(resource, "resource", "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})").into());
        }
        let function = self.function_ref(region, resource, "resource")?;
        let name = function.name.clone();
        blocking(&self.store, move |s| s.get(&name)).await?.ok_or_else(|| self.not_found(region, &function.name, None))
    }
    pub async fn list_tags(&self, region: &Region, resource: &str) -> Result<BTreeMap<String, String>, ControlError> {
        Ok(self.tag_target(region, resource).await?.tags)
    }
    pub async fn tag_resource(
        &self,
        region: &Region,
        resource: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), ControlError> {
        let record = self.tag_target(region, resource).await?;
        let mut merged = record.tags;
        merged.extend(tags);
        validate_tags(&merged)?;
        let name = record.latest.name;
        blocking(&self.store, move |s| s.set_tags(&name, &merged)).await?;
        Ok(())
    }
    pub async fn untag_resource(&self, region: &Region, resource: &str, keys: Vec<String>) -> Result<(), ControlError> {
        let record = self.tag_target(region, resource).await?;
        let mut tags = record.tags;
        for key in &keys {
            tags.remove(key);
        }
        let name = record.latest.name;
        blocking(&self.store, move |s| s.set_tags(&name, &tags)).await?;
        Ok(())
    }
}
