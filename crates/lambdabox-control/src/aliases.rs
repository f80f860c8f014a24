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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    fn input(version: Option<&str>, weights: Option<&[(&str, f64)]>) -> AliasInput {
        AliasInput {
            function_version: version.map(Into::into),
            additional_version_weights: weights.map(|w| w.iter().map(|(v, x)| (v.to_string(), *x)).collect()),
            ..Default::default()
        }
    }

    /// A function with versions 1, 2 and 3.
    async fn three_versions() -> Harness {
        let h = Harness::new();
        h.create("f").await;
        for t in 10..13 {
            h.publish_new("f", t).await;
        }
        h
    }

    #[tokio::test]
    async fn create_alias_checks_its_name_and_version() {
        let h = three_versions().await;
        let e = h.plane.create_alias(&h.region, "f", None, input(Some("1"), None)).await.unwrap_err();
        assert_validation(e, "name", "Member must not be null");
        for bad in ["123", "a.b", ""] {
            let e = h.plane.create_alias(&h.region, "f", Some(bad), input(Some("1"), None)).await.unwrap_err();
            assert_eq!(validation(e).field, "name", "{bad}");
        }
        let e = h.plane.create_alias(&h.region, "f", Some(&"a".repeat(129)), input(Some("1"), None)).await.unwrap_err();
        assert_validation(e, "name", "less than or equal to 128");
        let e = h.plane.create_alias(&h.region, "f", Some("live"), input(None, None)).await.unwrap_err();
        assert_validation(e, "functionVersion", "Member must not be null");
        let e = h.plane.create_alias(&h.region, "f", Some("live"), input(Some("v1"), None)).await.unwrap_err();
        assert_validation(e, "functionVersion", "regular expression pattern");
        let e = h.plane.create_alias(&h.region, "f", Some("live"), input(Some("9"), None)).await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:9");
        let e = h.plane.create_alias(&h.region, "g", Some("live"), input(Some("1"), None)).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        let e = h
            .plane
            .create_alias(
                &h.region,
                "f",
                Some("live"),
                AliasInput { description: Some("d".repeat(257)), ..input(Some("1"), None) },
            )
            .await
            .unwrap_err();
        assert_eq!(validation(e).field, "description");
        assert_eq!(h.changes(), []);

        let view = h.plane.create_alias(&h.region, "f", Some("live"), input(Some("1"), None)).await.unwrap();
        assert_eq!(view.arn, "arn:aws:lambda:us-east-1:000000000000:function:f:live");
        assert_eq!((view.alias.name.as_str(), view.alias.function_version.as_str()), ("live", "1"));
        assert!(!view.alias.revision_id.is_empty());
        assert_eq!(h.changes(), [alias_changed("f", "live")]);
        let e = h.plane.create_alias(&h.region, "f", Some("live"), input(Some("2"), None)).await.unwrap_err();
        assert!(matches!(e, ControlError::AliasAlreadyExists { .. }), "{e:?}");
        assert_eq!(e.to_string(), "Alias already exists: arn:aws:lambda:us-east-1:000000000000:function:f:live");
        // $LATEST always exists.
        h.plane.create_alias(&h.region, "f", Some("edge"), input(Some("$LATEST"), None)).await.unwrap();
        assert_eq!(h.changes(), [alias_changed("f", "edge")]);
    }

    #[tokio::test]
    async fn routing_config_rules() {
        let h = three_versions().await;
        let create = |weights: &'static [(&'static str, f64)], primary: &'static str| {
            h.plane.create_alias(&h.region, "f", Some("live"), input(Some(primary), Some(weights)))
        };
        let e = create(&[("2", 0.1), ("3", 0.1)], "1").await.unwrap_err();
        assert_validation(
            e,
            "routingConfig.additionalVersionWeights",
            "Member must have length less than or equal to 1",
        );
        for weights in [&[("2", 1.5)], &[("2", -0.1)]] {
            let e = create(weights, "1").await.unwrap_err();
            assert_validation(e, "routingConfig.additionalVersionWeights", "less than or equal to 1.0");
        }
        let e = create(&[("two", 0.5)], "1").await.unwrap_err();
        assert_eq!(validation(e).field, "routingConfig.additionalVersionWeights");
        let e = create(&[("2", 0.5)], "$LATEST").await.unwrap_err();
        assert!(matches!(e, ControlError::InvalidRouting(_)), "{e:?}");
        assert_eq!(e.to_string(), "$LATEST is not supported for an alias pointing to more than 1 version");
        let e = create(&[("$LATEST", 0.5)], "1").await.unwrap_err();
        assert_eq!(e.to_string(), "$LATEST is not supported for an alias pointing to more than 1 version");
        let e = create(&[("1", 0.5)], "1").await.unwrap_err();
        assert_eq!(e.to_string(), "The primary version of the alias cannot also be an additional version");
        let e = create(&[("9", 0.5)], "1").await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:9");
        assert_eq!(h.changes(), []);

        // The bounds themselves are allowed.
        let view = create(&[("2", 1.0)], "1").await.unwrap();
        assert_eq!(view.alias.additional_version_weights, [("2".to_string(), 1.0)].into());
        assert_eq!(view.alias.pick_version(0.99), "2");
        h.plane.create_alias(&h.region, "f", Some("zero"), input(Some("1"), Some(&[("3", 0.0)]))).await.unwrap();
    }

    #[tokio::test]
    async fn update_alias_checks_revision_versions_and_routing() {
        let h = three_versions().await;
        let created =
            h.plane.create_alias(&h.region, "f", Some("live"), input(Some("1"), Some(&[("2", 0.2)]))).await.unwrap();
        h.changes();

        let stale = AliasInput { revision_id: Some("stale".into()), ..input(Some("3"), None) };
        let e = h.plane.update_alias(&h.region, "f", "live", stale).await.unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        let e = h.plane.update_alias(&h.region, "f", "live", input(Some("9"), None)).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        // Moving the primary onto the additional version breaks the routing.
        let e = h.plane.update_alias(&h.region, "f", "live", input(Some("2"), None)).await.unwrap_err();
        assert!(matches!(e, ControlError::InvalidRouting(_)), "{e:?}");
        let e = h.plane.update_alias(&h.region, "f", "live", input(Some("$LATEST"), None)).await.unwrap_err();
        assert!(matches!(e, ControlError::InvalidRouting(_)), "{e:?}");
        let e = h.plane.update_alias(&h.region, "f", "dev", input(Some("1"), None)).await.unwrap_err();
        assert_eq!(e.to_string(), "Alias not found: arn:aws:lambda:us-east-1:000000000000:function:f:dev");
        assert_eq!(h.changes(), []);
        assert_eq!(h.plane.get_alias(&h.region, "f", "live").await.unwrap(), created);

        // Only what is given changes.
        let req = AliasInput {
            description: Some("canary".into()),
            revision_id: Some(created.alias.revision_id.clone()),
            ..Default::default()
        };
        let described = h.plane.update_alias(&h.region, "f", "live", req).await.unwrap();
        assert_eq!(described.alias.description, "canary");
        assert_eq!(described.alias.function_version, "1");
        assert_eq!(described.alias.additional_version_weights, created.alias.additional_version_weights);
        assert_ne!(described.alias.revision_id, created.alias.revision_id);
        // An empty map removes the routing; then the primary may move anywhere.
        let moved = h.plane.update_alias(&h.region, "f", "live", input(Some("$LATEST"), Some(&[]))).await.unwrap();
        assert!(moved.alias.additional_version_weights.is_empty());
        assert_eq!(moved.alias.function_version, "$LATEST");
        assert_eq!(moved.alias.description, "canary");
        assert_eq!(h.changes(), [alias_changed("f", "live"), alias_changed("f", "live")]);
    }

    #[tokio::test]
    async fn get_and_delete_alias() {
        let h = three_versions().await;
        h.plane.create_alias(&h.region, "f", Some("live"), input(Some("1"), None)).await.unwrap();
        h.changes();
        let e = h.plane.get_alias(&h.region, "f", "dev").await.unwrap_err();
        assert!(matches!(e, ControlError::AliasNotFound { .. }), "{e:?}");
        let e = h.plane.get_alias(&h.region, "g", "live").await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        let got =
            h.plane.get_alias(&h.region, "arn:aws:lambda:us-east-1:000000000000:function:f", "live").await.unwrap();
        assert_eq!(got.alias.function_version, "1");

        h.plane.delete_alias(&h.region, "f", "live").await.unwrap();
        assert_eq!(h.changes(), [alias_changed("f", "live")]);
        assert!(matches!(h.plane.get_alias(&h.region, "f", "live").await, Err(ControlError::AliasNotFound { .. })));
        assert!(matches!(
            h.plane.get_function(&h.region, "f:live", None).await,
            Err(ControlError::FunctionNotFound { .. })
        ));
        // Its version may go now.
        h.plane.delete_function(&h.region, "f", Some("1")).await.unwrap();
        let e = h.plane.delete_alias(&h.region, "g", "live").await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn list_aliases_filters_by_version_and_pages() {
        let h = three_versions().await;
        for (name, version) in [("d", "2"), ("a", "1"), ("c", "1"), ("b", "2"), ("e", "1")] {
            h.plane.create_alias(&h.region, "f", Some(name), input(Some(version), None)).await.unwrap();
        }
        let names = |p: &AliasPage| p.aliases.iter().map(|a| a.alias.name.clone()).collect::<Vec<_>>();
        let all = h.plane.list_aliases(&h.region, "f", None, None, None).await.unwrap();
        assert_eq!(names(&all), ["a", "b", "c", "d", "e"]);
        assert_eq!(all.next_marker, None);
        assert_eq!(all.aliases[0].arn, "arn:aws:lambda:us-east-1:000000000000:function:f:a");

        let ones = h.plane.list_aliases(&h.region, "f", Some("1"), None, Some(2)).await.unwrap();
        assert_eq!(names(&ones), ["a", "c"]);
        let rest = h.plane.list_aliases(&h.region, "f", Some("1"), ones.next_marker.as_deref(), Some(2)).await.unwrap();
        assert_eq!(names(&rest), ["e"]);
        assert_eq!(rest.next_marker, None);
        let twos = h.plane.list_aliases(&h.region, "f", Some("2"), None, None).await.unwrap();
        assert_eq!(names(&twos), ["b", "d"]);
        let none = h.plane.list_aliases(&h.region, "f", Some("3"), None, None).await.unwrap();
        assert!(none.aliases.is_empty());

        let e = h.plane.list_aliases(&h.region, "f", None, None, Some(0)).await.unwrap_err();
        assert_validation(e, "maxItems", "greater than or equal to 1");
        let e = h.plane.list_aliases(&h.region, "f", None, Some("***"), None).await.unwrap_err();
        assert_eq!(validation(e).field, "marker");
        let e = h.plane.list_aliases(&h.region, "g", None, None, None).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
    }
}
