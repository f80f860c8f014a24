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
    /// The UUID of an event source mapping ARN in this account.
    fn mapping_uuid<'a>(&self, resource: &'a str) -> Option<&'a str> {
        let (head, uuid) = resource.rsplit_once(":event-source-mapping:")?;
        head.ends_with(self.config.account.as_str()).then_some(uuid)
    }

    /// Replaces an event source mapping's tags with what `change` makes of them.
    async fn retag_mapping(
        &self,
        region: &Region,
        uuid: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), ControlError> {
        let _guard = self.mapping_lock.lock().await;
        let mut mapping = self.stored_mapping(region, uuid).await?;
        change(&mut mapping.tags);
        validate_tags(&mapping.tags)?;
        blocking(&self.store, move |s| s.put_event_source_mapping(&mapping)).await?;
        Ok(())
    }

    pub async fn list_tags(&self, region: &Region, resource: &str) -> Result<BTreeMap<String, String>, ControlError> {
        if let Some(uuid) = self.mapping_uuid(resource) {
            return Ok(self.stored_mapping(region, uuid).await?.tags);
        }
        Ok(self.tag_target(region, resource).await?.tags)
    }
    pub async fn tag_resource(
        &self,
        region: &Region,
        resource: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), ControlError> {
        if let Some(uuid) = self.mapping_uuid(resource) {
            return self.retag_mapping(region, uuid, |t| t.extend(tags)).await;
        }
        let record = self.tag_target(region, resource).await?;
        let mut merged = record.tags;
        merged.extend(tags);
        validate_tags(&merged)?;
        let name = record.latest.name;
        blocking(&self.store, move |s| s.set_tags(&name, &merged)).await?;
        Ok(())
    }
    pub async fn untag_resource(&self, region: &Region, resource: &str, keys: Vec<String>) -> Result<(), ControlError> {
        if let Some(uuid) = self.mapping_uuid(resource) {
            return self.retag_mapping(region, uuid, |t| t.retain(|k, _| !keys.contains(k))).await;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CreateFunction;
    use crate::test_support::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn many(n: usize, prefix: &str) -> BTreeMap<String, String> {
        (0..n).map(|i| (format!("{prefix}{i}"), "v".to_string())).collect()
    }

    #[test]
    fn tag_rules() {
        assert!(validate_tags(&many(50, "k")).is_ok());
        let e = validate_tags(&many(51, "k")).unwrap_err();
        assert_eq!(e.to_string(), "Number of tags exceeds resource tag limit. A resource can have at most 50 tags.");
        assert!(validate_tags(&tags(&[(&"k".repeat(128), &"v".repeat(256))])).is_ok());
        for (key, value) in
            [("", "v"), (&*"k".repeat(129), "v"), ("aws:x", "v"), ("AWS:x", "v"), ("k", &*"v".repeat(257))]
        {
            let e = validate_tags(&tags(&[(key, value)])).unwrap_err();
            assert!(matches!(e, ControlError::InvalidTags(_)), "{key}: {e:?}");
        }
        let e = validate_tags(&tags(&[("aws:owner", "me")])).unwrap_err();
        assert_eq!(e.to_string(), "Tag key 'aws:owner' uses the reserved prefix 'aws:'.");
        assert!(validate_tags(&tags(&[("awsome", "v")])).is_ok());
    }

    #[tokio::test]
    async fn create_refuses_bad_tags_before_storing_anything() {
        let h = Harness::new();
        let req = CreateFunction { tags: tags(&[("aws:x", "v")]), ..create_req("f") };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert!(matches!(e, ControlError::InvalidTags(_)), "{e:?}");
        assert_eq!(h.plane.collect_garbage().await.unwrap(), 0);
        assert_eq!(h.changes(), []);
        let view = h.create_with(CreateFunction { tags: tags(&[("team", "core")]), ..create_req("f") }).await;
        assert_eq!(view.tags, tags(&[("team", "core")]));
        assert_eq!(h.plane.list_tags(&h.region, ARN).await.unwrap(), tags(&[("team", "core")]));
    }

    #[tokio::test]
    async fn tag_untag_and_list() {
        let h = Harness::new();
        h.create_with(CreateFunction { tags: tags(&[("team", "core")]), ..create_req("f") }).await;
        h.plane.tag_resource(&h.region, ARN, tags(&[("stage", "prod"), ("team", "edge")])).await.unwrap();
        assert_eq!(h.plane.list_tags(&h.region, ARN).await.unwrap(), tags(&[("stage", "prod"), ("team", "edge")]));
        assert_eq!(h.plane.get_function(&h.region, "f", None).await.unwrap().tags.len(), 2);
        h.plane.untag_resource(&h.region, ARN, vec!["team".into(), "absent".into()]).await.unwrap();
        assert_eq!(h.plane.list_tags(&h.region, ARN).await.unwrap(), tags(&[("stage", "prod")]));

        // The limit counts the tags the function already has.
        h.plane.tag_resource(&h.region, ARN, many(49, "k")).await.unwrap();
        let e = h.plane.tag_resource(&h.region, ARN, tags(&[("one", "more")])).await.unwrap_err();
        assert!(matches!(e, ControlError::InvalidTags(_)), "{e:?}");
        h.plane.tag_resource(&h.region, ARN, tags(&[("k0", "replaced")])).await.unwrap();
        let e = h.plane.tag_resource(&h.region, ARN, tags(&[("aws:cloudformation:stack", "s")])).await.unwrap_err();
        assert!(matches!(e, ControlError::InvalidTags(_)), "{e:?}");
        let now = h.plane.list_tags(&h.region, ARN).await.unwrap();
        assert_eq!((now.len(), now["k0"].as_str()), (50, "replaced"));
        assert_eq!(h.changes(), [], "tags announce nothing");
    }

    #[tokio::test]
    async fn tags_take_a_function_arn_of_ours() {
        let h = Harness::new();
        h.create("f").await;
        let e = h.plane.list_tags(&h.region, "f").await.unwrap_err();
        assert_validation(e, "resource", "regular expression pattern");
        let e = h
            .plane
            .tag_resource(&h.region, "arn:aws:lambda:us-east-1:222222222222:function:f", tags(&[("a", "b")]))
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::OtherAccount { .. }), "{e:?}");
        let e = h
            .plane
            .untag_resource(&h.region, "arn:aws:lambda:eu-west-1:000000000000:function:f", vec!["a".into()])
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::OtherRegion { .. }), "{e:?}");
        let e = h.plane.list_tags(&h.region, "arn:aws:lambda:us-east-1:000000000000:function:g").await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:g");
        let e = h.plane.list_tags(&h.region, "arn:aws:lambda:us-east-1:000000000000:layer:l").await.unwrap_err();
        assert_eq!(validation(e).field, "resource");
    }
}
