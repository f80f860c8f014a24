//! What changed in the control plane, announced to whoever must react:
//! the engine retires the environments a change makes stale, the front
//! door's state drops the URL configs of a deleted function. The control
//! plane knows nothing of them; the binary subscribes them at start-up.
//!
//! A change is announced after it is committed and before the operation
//! answers, and every listener has finished with it by then: a client that
//! deletes a function and then creates one of the same name never meets
//! the old one's environments or URL configs.

use async_trait::async_trait;

/// One committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    FunctionCreated {
        name: String,
    },
    /// `$LATEST`'s configuration changed (a new revision).
    ConfigurationUpdated {
        name: String,
    },
    /// `$LATEST`'s code changed (a new revision).
    CodeUpdated {
        name: String,
    },
    VersionPublished {
        name: String,
        version: String,
    },
    /// One published version is gone (`DeleteFunction` with a version).
    VersionDeleted {
        name: String,
        version: String,
    },
    /// An alias was created, updated or deleted.
    AliasChanged {
        name: String,
        alias: String,
    },
    /// The function and all its versions and aliases are gone.
    FunctionDeleted {
        name: String,
    },
    /// Reserved or provisioned concurrency was put or deleted.
    ConcurrencyChanged {
        name: String,
    },
    /// An event source mapping was created, updated or deleted (`function`
    /// is the function it invokes).
    EventSourceMappingChanged {
        uuid: String,
        function: String,
    },
}

impl Change {
    /// The function the change is about.
    pub fn function(&self) -> &str {
        match self {
            Self::FunctionCreated { name }
            | Self::ConfigurationUpdated { name }
            | Self::CodeUpdated { name }
            | Self::VersionPublished { name, .. }
            | Self::VersionDeleted { name, .. }
            | Self::AliasChanged { name, .. }
            | Self::FunctionDeleted { name }
            | Self::ConcurrencyChanged { name }
            | Self::EventSourceMappingChanged { function: name, .. } => name,
        }
    }
}

/// Reacts to changes; must not fail (it logs what it could not do).
#[async_trait]
pub trait ChangeListener: Send + Sync {
    async fn changed(&self, change: &Change);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::{AliasInput, CodeSource, UpdateFunctionCode, UpdateFunctionConfiguration};

    #[test]
    fn every_change_names_its_function() {
        let changes = [
            Change::FunctionCreated { name: "f".into() },
            Change::VersionDeleted { name: "f".into(), version: "3".into() },
            Change::ConcurrencyChanged { name: "f".into() },
        ];
        assert!(changes.iter().all(|c| c.function() == "f"));
    }

    /// A function's whole life, each change announced once, in order, and
    /// nothing for the operations that failed or changed nothing.
    #[tokio::test]
    async fn a_lifecycle_is_announced_in_order() {
        let h = Harness::new();
        let (plane, region) = (&h.plane, &h.region);
        let f = plane.create_function(region, create_req("f")).await.unwrap();
        assert!(plane.create_function(region, create_req("f")).await.is_err());
        let code = UpdateFunctionCode { code: Some(CodeSource::Zip(package(1))), ..Default::default() };
        plane.update_function_code(region, "f", code.clone()).await.unwrap();
        let stale = UpdateFunctionCode { revision_id: Some(f.config.revision_id.clone()), ..code };
        assert!(plane.update_function_code(region, "f", stale).await.is_err());
        let timeout = UpdateFunctionConfiguration { timeout: Some(30), ..Default::default() };
        plane.update_function_configuration(region, "f", timeout).await.unwrap();
        let bad = UpdateFunctionConfiguration { timeout: Some(0), ..Default::default() };
        assert!(plane.update_function_configuration(region, "f", bad).await.is_err());
        plane.publish_version(region, "f", None, None, None).await.unwrap();
        plane.publish_version(region, "f", None, None, None).await.unwrap();
        let live = AliasInput { function_version: Some("1".into()), ..Default::default() };
        plane.create_alias(region, "f", Some("live"), live.clone()).await.unwrap();
        assert!(plane.create_alias(region, "f", Some("live"), live).await.is_err());
        plane
            .update_alias(region, "f", "live", AliasInput { description: Some("d".into()), ..Default::default() })
            .await
            .unwrap();
        assert!(plane.delete_function(region, "f", Some("1")).await.is_err());
        plane.put_function_concurrency(region, "f", Some(5)).await.unwrap();
        assert!(plane.put_function_concurrency(region, "f", Some(5000)).await.is_err());
        plane.put_provisioned_concurrency(region, "f", Some("live"), Some(2)).await.unwrap();
        assert!(plane.put_provisioned_concurrency(region, "f", Some("live"), Some(6)).await.is_err());
        plane.delete_provisioned_concurrency(region, "f", Some("live")).await.unwrap();
        plane.delete_function_concurrency(region, "f").await.unwrap();
        plane.delete_alias(region, "f", "live").await.unwrap();
        plane.delete_function(region, "f", Some("1")).await.unwrap();
        assert!(plane.delete_function(region, "f", Some("$LATEST")).await.is_err());
        plane.delete_function(region, "f", None).await.unwrap();
        assert!(plane.delete_function(region, "f", None).await.is_err());

        assert_eq!(
            h.changes(),
            [
                created("f"),
                code_updated("f"),
                config_updated("f"),
                published("f", "1"),
                alias_changed("f", "live"),
                alias_changed("f", "live"),
                concurrency_changed("f"),
                concurrency_changed("f"),
                concurrency_changed("f"),
                concurrency_changed("f"),
                alias_changed("f", "live"),
                version_deleted("f", "1"),
                deleted("f"),
            ]
        );
    }
}
