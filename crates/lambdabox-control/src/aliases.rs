//! Aliases: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

use std::collections::BTreeMap;

use lambdabox_model::alias::{AliasConfig, parse_alias_name, parse_version};
use lambdabox_model::arn::qualified_function_arn;
use lambdabox_model::{FunctionName, Region, ValidationError};
use lambdabox_store::{FunctionRecord, StoreError};

use crate::plane::{blocking, decode_marker, encode_marker, new_revision, page_limit};
use crate::{Change, ControlError, ControlPlane};

/// CreateAlias and UpdateAlias settings as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct AliasInput {
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub additional_version_weights: Option<BTreeMap<String, f64>>,
    pub revision_id: Option<String>,
}

/// An alias as operations return it.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasView {
    pub arn: String,
    pub alias: AliasConfig,
}

#[derive(Debug, Clone)]
pub struct AliasPage {
    pub aliases: Vec<AliasView>,
    pub next_marker: Option<String>,
}

impl ControlPlane {
    fn alias_arn(&self, region: &Region, function: &FunctionName, alias: &str) -> String {
        qualified_function_arn(region, &self.config.account, function.as_str(), alias)
    }

    fn alias_view(&self, region: &Region, function: &FunctionName, alias: AliasConfig) -> AliasView {
        AliasView { arn: self.alias_arn(region, function, &alias.name), alias }
    }

    /// Checks that a version exists (`$LATEST` always does).
    async fn require_version(
        &self,
        region: &Region,
        record: &FunctionRecord,
        version: &str,
    ) -> Result<(), ControlError> {
        if version == "$LATEST" {
            return Ok(());
        }
        let (name, v) = (record.latest.name.clone(), version.to_owned());
        match blocking(&self.store, move |s| s.get_version(&name, &v)).await? {
            Some(_) => Ok(()),
            None => Err(self.not_found(region, &record.latest.name, Some(version))),
        }
    }

    async fn check_routing(
        &self,
        region: &Region,
        record: &FunctionRecord,
        primary: &str,
        weights: &BTreeMap<String, f64>,
    ) -> Result<(), ControlError> {
        if weights.len() > 1 {
            return Err(ValidationError::new(
                format!("{weights:?}"),
                "routingConfig.additionalVersionWeights",
                "Member must have length less than or equal to 1",
            )
            .into());
        }
        for (version, weight) in weights {
            parse_version(version, "routingConfig.additionalVersionWeights")?;
            if !(0.0..=1.0).contains(weight) {
                return Err(ValidationError::new(
                    weight.to_string(),
                    "routingConfig.additionalVersionWeights",
                    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]",
                )
                .into());
            }
            if primary == "$LATEST" || version == "$LATEST" {
                return Err(ControlError::InvalidRouting(
                    "$LATEST is not supported for an alias pointing to more than 1 version",
                ));
            }
            if version == primary {
                return Err(ControlError::InvalidRouting(
                    "The primary version of the alias cannot also be an additional version",
                ));
            }
            self.require_version(region, record, version).await?;
        }
        Ok(())
    }

    pub async fn create_alias(
        &self,
        region: &Region,
        function: &str,
        name: Option<&str>,
        input: AliasInput,
    ) -> Result<AliasView, ControlError> {
        let name =
            parse_alias_name(name.ok_or_else(|| ValidationError::new("null", "name", "Member must not be null"))?)?;
        let version = input
            .function_version
            .ok_or_else(|| ValidationError::new("null", "functionVersion", "Member must not be null"))?;
        let version = parse_version(&version, "functionVersion")?;
        let record = self.load(region, function, None).await?;
        self.require_version(region, &record, &version).await?;
        let weights = input.additional_version_weights.unwrap_or_default();
        self.check_routing(region, &record, &version, &weights).await?;
        let alias = AliasConfig {
            name,
            function_version: version,
            description: lambdabox_model::config::parse_description(input.description.as_deref().unwrap_or_default())?,
            additional_version_weights: weights,
            revision_id: new_revision(),
        };
        let (fname, stored) = (record.latest.name.clone(), alias.clone());
        match blocking(&self.store, move |s| s.put_alias(&fname, &stored, None)).await {
            Ok(()) => {
                let name = record.latest.name.to_string();
                self.publish(Change::AliasChanged { name, alias: alias.name.to_string() }).await;
                Ok(self.alias_view(region, &record.latest.name, alias))
            }
            Err(StoreError::AliasExists { alias, .. }) => {
                Err(ControlError::AliasAlreadyExists { arn: self.alias_arn(region, &record.latest.name, &alias) })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn load_alias(
        &self,
        region: &Region,
        function: &str,
        alias: &str,
    ) -> Result<(FunctionRecord, AliasConfig), ControlError> {
        let record = self.load(region, function, None).await?;
        let (fname, a) = (record.latest.name.clone(), alias.to_owned());
        match blocking(&self.store, move |s| s.get_alias(&fname, &a)).await? {
            Some(config) => Ok((record, config)),
            None => Err(ControlError::AliasNotFound { arn: self.alias_arn(region, &record.latest.name, alias) }),
        }
    }

    pub async fn get_alias(&self, region: &Region, function: &str, alias: &str) -> Result<AliasView, ControlError> {
        let (record, config) = self.load_alias(region, function, alias).await?;
        Ok(self.alias_view(region, &record.latest.name, config))
    }

    pub async fn update_alias(
        &self,
        region: &Region,
        function: &str,
        alias: &str,
        input: AliasInput,
    ) -> Result<AliasView, ControlError> {
        let (record, current) = self.load_alias(region, function, alias).await?;
        if let Some(given) = input.revision_id.as_deref()
            && given != current.revision_id
        {
            return Err(ControlError::RevisionMismatch);
        }
        let mut next = current.clone();
        if let Some(v) = input.function_version {
            next.function_version = parse_version(&v, "functionVersion")?;
            self.require_version(region, &record, &next.function_version).await?;
        }
        if let Some(d) = input.description {
            next.description = lambdabox_model::config::parse_description(&d)?;
        }
        if let Some(w) = input.additional_version_weights {
            next.additional_version_weights = w;
        }
        self.check_routing(region, &record, &next.function_version, &next.additional_version_weights).await?;
        next.revision_id = new_revision();
        let (fname, stored, expected) = (record.latest.name.clone(), next.clone(), current.revision_id.clone());
        match blocking(&self.store, move |s| s.put_alias(&fname, &stored, Some(&expected))).await {
            Ok(()) => {
                let name = record.latest.name.to_string();
                self.publish(Change::AliasChanged { name, alias: next.name.to_string() }).await;
                Ok(self.alias_view(region, &record.latest.name, next))
            }
            Err(StoreError::RevisionMismatch { .. }) => Err(ControlError::RevisionMismatch),
            Err(StoreError::AliasNotFound { .. }) => {
                Err(ControlError::AliasNotFound { arn: self.alias_arn(region, &record.latest.name, alias) })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_alias(&self, region: &Region, function: &str, alias: &str) -> Result<(), ControlError> {
        let record = self.load(region, function, None).await?;
        let (fname, a) = (record.latest.name.clone(), alias.to_owned());
        blocking(&self.store, move |s| s.delete_alias(&fname, &a)).await?;
        self.publish(Change::AliasChanged { name: record.latest.name.to_string(), alias: alias.to_owned() }).await;
        Ok(())
    }

    pub async fn list_aliases(
        &self,
        region: &Region,
        function: &str,
        function_version: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<AliasPage, ControlError> {
        let limit = page_limit(max_items)?;
        let record = self.load(region, function, None).await?;
        let fname = record.latest.name.clone();
        let all = blocking(&self.store, move |s| s.list_aliases(&fname)).await?;
        let after = marker.map(decode_marker).transpose()?;
        let matching: Vec<AliasConfig> = all
            .into_iter()
            .filter(|a| function_version.is_none_or(|v| a.function_version == v))
            .filter(|a| after.as_deref().is_none_or(|m| a.name.as_str() > m))
            .collect();
        let more = matching.len() > limit;
        let page: Vec<AliasConfig> = matching.into_iter().take(limit).collect();
        let next_marker = more.then(|| encode_marker(&page[page.len() - 1].name));
        Ok(AliasPage {
            aliases: page.into_iter().map(|a| self.alias_view(region, &record.latest.name, a)).collect(),
            next_marker,
        })
    }
}
