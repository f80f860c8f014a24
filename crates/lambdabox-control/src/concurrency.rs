//! Concurrency settings: reserved concurrency per function (Put, Get and
//! DeleteFunctionConcurrency), the account's unreserved share, and
//! provisioned concurrency per version or alias.
//!
//! Reserved concurrency is read on every invocation, so it is cached in
//! memory; the store stays the truth and fills the cache at start-up.

use std::collections::HashMap;

use lambdabox_model::{Region, ValidationError};

use crate::plane::{blocking, now};
use crate::{Change, ControlError, ControlPlane};

/// AWS keeps at least this much of the account's concurrency unreserved.
pub const MIN_UNRESERVED: u32 = 100;

/// A provisioned concurrency setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedConfig {
    pub function: String,
    pub qualifier: String,
    pub requested: u32,
    pub last_modified: String,
}

impl ControlPlane {
    /// Fills the reserved-concurrency cache from the store (at start-up).
    pub async fn load_concurrency(&self) -> Result<(), ControlError> {
        let all = blocking(&self.store, |s| s.reserved_concurrency()).await?;
        *self.reserved.write().unwrap_or_else(|p| p.into_inner()) = all.into_iter().collect();
        Ok(())
    }

    fn reserved_map(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, u32>> {
        self.reserved.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A function's reserved concurrency, if it has one (no I/O).
    pub fn reserved_for(&self, function: &str) -> Option<u32> {
        self.reserved_map().get(function).copied()
    }

    /// The concurrency shared by functions without a reservation.
    pub fn unreserved_limit(&self) -> u32 {
        let reserved: u32 = self.reserved_map().values().sum();
        self.config.concurrent_executions.saturating_sub(reserved)
    }

    pub async fn put_function_concurrency(
        &self,
        region: &Region,
        function: &str,
        reserved: Option<i64>,
    ) -> Result<u32, ControlError> {
        let reserved = reserved
            .ok_or_else(|| ValidationError::new("null", "reservedConcurrentExecutions", "Member must not be null"))?;
        if reserved < 0 {
            return Err(ValidationError::min_value(reserved, "reservedConcurrentExecutions", 0).into());
        }
        let record = self.load(region, function, None).await?;
        let name = record.latest.name.to_string();
        let others: u32 = self.reserved_map().iter().filter(|(n, _)| **n != name).map(|(_, r)| *r).sum();
        let total = i64::from(others) + reserved;
        if i64::from(self.config.concurrent_executions) - total < i64::from(MIN_UNRESERVED) {
            return Err(ControlError::UnreservedBelowMinimum);
        }
        let reserved = reserved as u32;
        let provisioned = self.provisioned_total(&name).await?;
        if provisioned > reserved {
            return Err(ControlError::ProvisionedAboveReserved);
        }
        let fname = record.latest.name.clone();
        blocking(&self.store, move |s| s.set_reserved_concurrency(&fname, Some(reserved))).await?;
        self.reserved.write().unwrap_or_else(|p| p.into_inner()).insert(name.clone(), reserved);
        self.publish(Change::ConcurrencyChanged { name }).await;
        Ok(reserved)
    }

    pub async fn get_function_concurrency(&self, region: &Region, function: &str) -> Result<Option<u32>, ControlError> {
        let record = self.load(region, function, None).await?;
        Ok(self.reserved_for(record.latest.name.as_str()))
    }

    pub async fn delete_function_concurrency(&self, region: &Region, function: &str) -> Result<(), ControlError> {
        let record = self.load(region, function, None).await?;
        let fname = record.latest.name.clone();
        blocking(&self.store, move |s| s.set_reserved_concurrency(&fname, None)).await?;
        self.reserved.write().unwrap_or_else(|p| p.into_inner()).remove(record.latest.name.as_str());
        self.publish(Change::ConcurrencyChanged { name: record.latest.name.to_string() }).await;
        Ok(())
    }

    /// Forgets a deleted function's reservation.
    pub(crate) fn forget_concurrency(&self, function: &str) {
        self.reserved.write().unwrap_or_else(|p| p.into_inner()).remove(function);
    }

    async fn provisioned_total(&self, function: &str) -> Result<u32, ControlError> {
        let all = blocking(&self.store, |s| s.provisioned_concurrency()).await?;
        Ok(all.into_iter().filter(|(f, ..)| f == function).map(|(_, _, n, _)| n).sum())
    }

    /// Every provisioned concurrency setting (to provision at start-up).
    pub async fn all_provisioned(&self) -> Result<Vec<ProvisionedConfig>, ControlError> {
        let all = blocking(&self.store, |s| s.provisioned_concurrency()).await?;
        Ok(all
            .into_iter()
            .map(|(function, qualifier, requested, last_modified)| ProvisionedConfig {
                function,
                qualifier,
                requested,
                last_modified,
            })
            .collect())
    }

    pub async fn put_provisioned_concurrency(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
        requested: Option<i64>,
    ) -> Result<ProvisionedConfig, ControlError> {
        let requested = requested.ok_or_else(|| {
            ValidationError::new("null", "provisionedConcurrentExecutions", "Member must not be null")
        })?;
        if requested < 1 {
            return Err(ValidationError::min_value(requested, "provisionedConcurrentExecutions", 1).into());
        }
        // The identifier's constraints first, as AWS validates a request
        // before it applies the operation's rules.
        self.function_ref(region, function, "functionName")?;
        let qualifier = qualifier.unwrap_or("$LATEST");
        if qualifier == "$LATEST" {
            return Err(ControlError::ProvisionedOnLatest);
        }
        let view = self.resolve(region, function, Some(qualifier), None).await?;
        let name = view.config.name.to_string();
        let others: u32 = self
            .all_provisioned()
            .await?
            .into_iter()
            .filter(|p| p.function == name && p.qualifier != qualifier)
            .map(|p| p.requested)
            .sum();
        if let Some(reserved) = self.reserved_for(&name)
            && i64::from(others) + requested > i64::from(reserved)
        {
            return Err(ControlError::ProvisionedAboveReserved);
        }
        let config = ProvisionedConfig {
            function: name,
            qualifier: qualifier.to_owned(),
            requested: requested as u32,
            last_modified: now(),
        };
        let (fname, q, stored) =
            (view.config.name.clone(), qualifier.to_owned(), (config.requested, config.last_modified.clone()));
        blocking(&self.store, move |s| s.set_provisioned_concurrency(&fname, &q, Some(stored))).await?;
        self.publish(Change::ConcurrencyChanged { name: config.function.clone() }).await;
        Ok(config)
    }

    pub async fn get_provisioned_concurrency(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<ProvisionedConfig, ControlError> {
        let record = self.load(region, function, None).await?;
        let qualifier = qualifier.unwrap_or("$LATEST");
        self.all_provisioned()
            .await?
            .into_iter()
            .find(|p| p.function == record.latest.name.as_str() && p.qualifier == qualifier)
            .ok_or_else(|| ControlError::ProvisionedNotFound {
                arn: lambdabox_model::arn::qualified_function_arn(
                    region,
                    self.account(),
                    record.latest.name.as_str(),
                    qualifier,
                ),
            })
    }

    pub async fn list_provisioned_concurrency(
        &self,
        region: &Region,
        function: &str,
    ) -> Result<Vec<ProvisionedConfig>, ControlError> {
        let record = self.load(region, function, None).await?;
        Ok(self.all_provisioned().await?.into_iter().filter(|p| p.function == record.latest.name.as_str()).collect())
    }

    pub async fn delete_provisioned_concurrency(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<ProvisionedConfig, ControlError> {
        let found = self.get_provisioned_concurrency(region, function, qualifier).await?;
        let record = self.load(region, function, None).await?;
        let (fname, q) = (record.latest.name.clone(), found.qualifier.clone());
        blocking(&self.store, move |s| s.set_provisioned_concurrency(&fname, &q, None)).await?;
        self.publish(Change::ConcurrencyChanged { name: record.latest.name.to_string() }).await;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::test_support::*;
    use crate::{AliasInput, ControlPlane, ControlPlaneConfig};

    #[tokio::test]
    async fn reserved_concurrency_keeps_100_unreserved() {
        let h = Harness::new();
        h.create("f").await;
        h.create("g").await;
        assert_eq!(h.plane.unreserved_limit(), 1000);

        let e = h.plane.put_function_concurrency(&h.region, "f", None).await.unwrap_err();
        assert_validation(e, "reservedConcurrentExecutions", "Member must not be null");
        let e = h.plane.put_function_concurrency(&h.region, "f", Some(-1)).await.unwrap_err();
        assert_validation(e, "reservedConcurrentExecutions", "greater than or equal to 0");
        let e = h.plane.put_function_concurrency(&h.region, "f", Some(901)).await.unwrap_err();
        assert!(matches!(e, ControlError::UnreservedBelowMinimum), "{e:?}");
        assert_eq!(
            e.to_string(),
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
        );
        let e = h.plane.put_function_concurrency(&h.region, "nope", Some(1)).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        assert_eq!(h.changes(), []);

        assert_eq!(h.plane.put_function_concurrency(&h.region, "f", Some(900)).await.unwrap(), 900);
        assert_eq!(h.changes(), [concurrency_changed("f")]);
        assert_eq!(h.plane.unreserved_limit(), 100);
        assert_eq!(h.plane.account_settings().await.unwrap().unreserved_concurrent_executions, 100);
        assert_eq!(h.plane.get_function_concurrency(&h.region, "f").await.unwrap(), Some(900));
        assert_eq!(h.plane.get_function_concurrency(&h.region, "g").await.unwrap(), None);
        // Any reservation of another function now breaks the minimum, even 1.
        let e = h.plane.put_function_concurrency(&h.region, "g", Some(1)).await.unwrap_err();
        assert!(matches!(e, ControlError::UnreservedBelowMinimum), "{e:?}");
        // A function's own reservation is replaced, not added to.
        assert_eq!(h.plane.put_function_concurrency(&h.region, "f", Some(500)).await.unwrap(), 500);
        assert_eq!(h.plane.put_function_concurrency(&h.region, "g", Some(400)).await.unwrap(), 400);
        assert_eq!(h.plane.unreserved_limit(), 100);
        // Zero is a reservation too (the function is throttled).
        assert_eq!(h.plane.put_function_concurrency(&h.region, "g", Some(0)).await.unwrap(), 0);
        assert_eq!(h.plane.reserved_for("g"), Some(0));
        assert_eq!(h.plane.unreserved_limit(), 500);

        h.plane.delete_function_concurrency(&h.region, "g").await.unwrap();
        assert_eq!(h.plane.reserved_for("g"), None);
        h.plane.delete_function(&h.region, "f", None).await.unwrap();
        assert_eq!(h.plane.unreserved_limit(), 1000, "a deleted function's reservation is released");
        assert_eq!(
            h.changes(),
            [
                concurrency_changed("f"),
                concurrency_changed("g"),
                concurrency_changed("g"),
                concurrency_changed("g"),
                deleted("f")
            ]
        );
    }

    #[tokio::test]
    async fn a_smaller_account_has_a_smaller_share() {
        let h = Harness::with_config(ControlPlaneConfig { concurrent_executions: 150, ..Default::default() });
        h.create("f").await;
        let e = h.plane.put_function_concurrency(&h.region, "f", Some(51)).await.unwrap_err();
        assert!(matches!(e, ControlError::UnreservedBelowMinimum), "{e:?}");
        h.plane.put_function_concurrency(&h.region, "f", Some(50)).await.unwrap();
        assert_eq!(h.plane.account_settings().await.unwrap().concurrent_executions, 150);
    }

    #[tokio::test]
    async fn reservations_are_loaded_from_the_store() {
        let h = Harness::new();
        h.create("f").await;
        h.plane.put_function_concurrency(&h.region, "f", Some(250)).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let restarted = ControlPlane::new(
            Arc::clone(&h.store),
            lambdabox_store::BlobStore::local(dir.path()).unwrap(),
            ControlPlaneConfig::default(),
        );
        assert_eq!(restarted.reserved_for("f"), None);
        restarted.load_concurrency().await.unwrap();
        assert_eq!(restarted.reserved_for("f"), Some(250));
        assert_eq!(restarted.unreserved_limit(), 750);
    }

    #[tokio::test]
    async fn provisioned_concurrency_goes_on_published_versions_and_aliases() {
        let h = Harness::new();
        h.create("f").await;
        h.publish_new("f", 10).await;
        h.publish_new("f", 20).await;
        let live = AliasInput { function_version: Some("1".into()), ..Default::default() };
        h.plane.create_alias(&h.region, "f", Some("live"), live).await.unwrap();
        h.changes();

        let e = h.plane.put_provisioned_concurrency(&h.region, "f", Some("1"), None).await.unwrap_err();
        assert_validation(e, "provisionedConcurrentExecutions", "Member must not be null");
        let e = h.plane.put_provisioned_concurrency(&h.region, "f", Some("1"), Some(0)).await.unwrap_err();
        assert_validation(e, "provisionedConcurrentExecutions", "greater than or equal to 1");
        for q in [None, Some("$LATEST")] {
            let e = h.plane.put_provisioned_concurrency(&h.region, "f", q, Some(5)).await.unwrap_err();
            assert!(matches!(e, ControlError::ProvisionedOnLatest), "{e:?}");
            assert_eq!(
                e.to_string(),
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
            );
        }
        let e = h.plane.put_provisioned_concurrency(&h.region, "f", Some("9"), Some(5)).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        let e = h.plane.put_provisioned_concurrency(&h.region, "f", Some("dev"), Some(5)).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        assert_eq!(h.changes(), []);

        let two = h.plane.put_provisioned_concurrency(&h.region, "f", Some("2"), Some(5)).await.unwrap();
        assert_eq!((two.function.as_str(), two.qualifier.as_str(), two.requested), ("f", "2", 5));
        let live = h.plane.put_provisioned_concurrency(&h.region, "f", Some("live"), Some(3)).await.unwrap();
        assert_eq!(h.changes(), [concurrency_changed("f"), concurrency_changed("f")]);
        assert_eq!(h.plane.get_provisioned_concurrency(&h.region, "f", Some("live")).await.unwrap(), live);
        let mut listed = h.plane.list_provisioned_concurrency(&h.region, "f").await.unwrap();
        listed.sort_by(|a, b| a.qualifier.cmp(&b.qualifier));
        assert_eq!(listed, [two.clone(), live.clone()]);

        let e = h.plane.get_provisioned_concurrency(&h.region, "f", Some("1")).await.unwrap_err();
        assert!(matches!(e, ControlError::ProvisionedNotFound { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "No Provisioned Concurrency Config found for this function: arn:aws:lambda:us-east-1:000000000000:function:f:1"
        );
        let e = h.plane.delete_provisioned_concurrency(&h.region, "f", Some("1")).await.unwrap_err();
        assert!(matches!(e, ControlError::ProvisionedNotFound { .. }), "{e:?}");
        assert_eq!(h.changes(), []);

        assert_eq!(h.plane.delete_provisioned_concurrency(&h.region, "f", Some("2")).await.unwrap(), two);
        assert_eq!(h.changes(), [concurrency_changed("f")]);
        assert_eq!(h.plane.all_provisioned().await.unwrap(), [live]);
    }

    #[tokio::test]
    async fn provisioned_fits_within_reserved() {
        let h = Harness::new();
        h.create("f").await;
        h.publish_new("f", 10).await;
        h.publish_new("f", 20).await;
        h.plane.put_function_concurrency(&h.region, "f", Some(10)).await.unwrap();
        h.plane.put_provisioned_concurrency(&h.region, "f", Some("1"), Some(6)).await.unwrap();
        h.changes();

        // Other qualifiers' provisioned concurrency counts; the one replaced does not.
        let e = h.plane.put_provisioned_concurrency(&h.region, "f", Some("2"), Some(5)).await.unwrap_err();
        assert!(matches!(e, ControlError::ProvisionedAboveReserved), "{e:?}");
        assert_eq!(
            e.to_string(),
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
        );
        h.plane.put_provisioned_concurrency(&h.region, "f", Some("2"), Some(4)).await.unwrap();
        h.plane.put_provisioned_concurrency(&h.region, "f", Some("1"), Some(6)).await.unwrap();
        // Reserved concurrency cannot drop below what is provisioned.
        let e = h.plane.put_function_concurrency(&h.region, "f", Some(9)).await.unwrap_err();
        assert!(matches!(e, ControlError::ProvisionedAboveReserved), "{e:?}");
        assert_eq!(h.plane.reserved_for("f"), Some(10));
        h.plane.put_function_concurrency(&h.region, "f", Some(10)).await.unwrap();
        assert_eq!(h.changes(), [concurrency_changed("f"), concurrency_changed("f"), concurrency_changed("f")]);

        // Without a reservation, provisioned concurrency is not capped by one.
        h.plane.delete_function_concurrency(&h.region, "f").await.unwrap();
        h.plane.put_provisioned_concurrency(&h.region, "f", Some("2"), Some(500)).await.unwrap();
    }
}
