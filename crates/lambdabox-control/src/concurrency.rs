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
