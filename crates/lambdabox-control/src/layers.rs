//! Lambda layers: PublishLayerVersion, GetLayerVersion(ByArn),
//! ListLayers, ListLayerVersions and DeleteLayerVersion.
//!
//! A layer version's zip is kept in the blob store like a function's code.
//! Deleting a version removes it from the API, but every function version
//! that references it keeps its copy (the store counts the blob as
//! referenced), as on AWS.

use lambdabox_model::Region;
use lambdabox_model::config::parse_description;
use lambdabox_model::layer::{
    LICENSE_INFO_MAX, LayerName, LayerVersion, LayerVersionArn, layer_arn, layer_version_arn,
    parse_compatible_architectures, parse_compatible_runtimes,
};
use lambdabox_model::{Architecture, ValidationError};

use crate::plane::{blocking, decode_marker, encode_marker, now};
use crate::{CodeSource, ControlError, ControlPlane};

/// ListLayers and ListLayerVersions return at most this many items a page.
const LAYERS_PAGE_MAX: i64 = 50;

/// PublishLayerVersion's settings as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct PublishLayerVersion {
    pub description: Option<String>,
    pub content: Option<CodeSource>,
    pub compatible_runtimes: Option<Vec<String>>,
    pub compatible_architectures: Option<Vec<String>>,
    pub license_info: Option<String>,
}

/// A layer version with its ARNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerVersionView {
    pub layer_arn: String,
    pub layer_version_arn: String,
    pub layer: LayerVersion,
}

/// The ListLayers/ListLayerVersions filters.
#[derive(Debug, Clone, Default)]
pub struct LayerFilter {
    pub compatible_runtime: Option<String>,
    pub compatible_architecture: Option<String>,
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

/// One page of ListLayers (each layer with its latest matching version) or
/// ListLayerVersions (newest first).
#[derive(Debug, Clone)]
pub struct LayerPage {
    pub items: Vec<LayerVersionView>,
    pub next_marker: Option<String>,
}

struct Filter {
    runtime: Option<String>,
    architecture: Option<Architecture>,
    after: Option<String>,
    limit: usize,
}

impl Filter {
    fn parse(f: LayerFilter) -> Result<Self, ControlError> {
        let runtime = f
            .compatible_runtime
            .map(|r| parse_compatible_runtimes(vec![r]).map_err(|e| rename(e, "compatibleRuntime")))
            .transpose()?
            .and_then(|mut v| v.pop());
        let architecture = f
            .compatible_architecture
            .map(|a| parse_compatible_architectures(vec![a]).map_err(|e| rename(e, "compatibleArchitecture")))
            .transpose()?
            .and_then(|mut v| v.pop());
        let limit = match f.max_items {
            None => LAYERS_PAGE_MAX,
            Some(n) if n < 1 => return Err(ValidationError::min_value(n, "maxItems", 1).into()),
            Some(n) if n > LAYERS_PAGE_MAX => {
                return Err(ValidationError::max_value(n, "maxItems", LAYERS_PAGE_MAX).into());
            }
            Some(n) => n,
        } as usize;
        let after = f.marker.as_deref().map(decode_marker).transpose()?;
        Ok(Self { runtime, architecture, after, limit })
    }

    fn matches(&self, l: &LayerVersion) -> bool {
        self.runtime.as_ref().is_none_or(|r| l.compatible_runtimes.contains(r))
            && self.architecture.is_none_or(|a| l.compatible_architectures.contains(&a))
    }
}

fn rename(mut e: ValidationError, field: &str) -> ValidationError {
    e.field = field.to_owned();
    e.value = e.value.trim_start_matches('[').trim_end_matches(']').to_owned();
    e
}

/// A version number from the path (`VersionNumber`, a long).
fn parse_version(version: &str) -> Result<u64, ControlError> {
    version.parse::<u64>().map_err(|_| ValidationError::new(version, "versionNumber", "Member must be a number").into())
}

impl ControlPlane {
    fn layer_view(&self, region: &Region, layer: LayerVersion) -> LayerVersionView {
        LayerVersionView {
            layer_arn: layer_arn(region, self.account(), &layer.name),
            layer_version_arn: layer_version_arn(region, self.account(), &layer.name, layer.version),
            layer,
        }
    }

    pub async fn publish_layer_version(
        &self,
        region: &Region,
        layer_name: &str,
        req: PublishLayerVersion,
    ) -> Result<LayerVersionView, ControlError> {
        let name = LayerName::parse(layer_name, "layerName")?;
        let description = parse_description(req.description.as_deref().unwrap_or_default())?;
        let compatible_runtimes = parse_compatible_runtimes(req.compatible_runtimes.unwrap_or_default())?;
        let compatible_architectures =
            parse_compatible_architectures(req.compatible_architectures.unwrap_or_default())?;
        if let Some(license) = req.license_info.as_deref().filter(|l| l.chars().count() > LICENSE_INFO_MAX) {
            return Err(ValidationError::max_length(license, "licenseInfo", LICENSE_INFO_MAX).into());
        }
        let Some(content) = req.content else {
            return Err(ValidationError::new("null", "content", "Member must not be null").into());
        };
        let (code, zip) = self.read_code(Some(content), "PublishLayerVersion").await?;
        let mut layer = LayerVersion {
            name,
            version: 0,
            description,
            created_date: now(),
            compatible_runtimes,
            compatible_architectures,
            license_info: req.license_info,
            code,
        };
        let _guard = self.code_lock.lock().await;
        self.put_blob(&layer.code, zip).await?;
        let mut stored = layer.clone();
        layer.version = blocking(&self.store, move |s| s.publish_layer_version(&mut stored)).await?;
        Ok(self.layer_view(region, layer))
    }

    pub async fn get_layer_version(
        &self,
        region: &Region,
        layer_name: &str,
        version: &str,
    ) -> Result<LayerVersionView, ControlError> {
        let name = LayerName::parse(layer_name, "layerName")?;
        let version = parse_version(version)?;
        let layer = blocking(&self.store, move |s| s.get_layer_version(&name, version)).await?;
        layer.map(|l| self.layer_view(region, l)).ok_or(ControlError::ResourceNotFound)
    }

    /// GetLayerVersionByArn (`GET /2018-10-31/layers?find=LayerVersion&Arn=…`).
    pub async fn get_layer_version_by_arn(&self, region: &Region, arn: &str) -> Result<LayerVersionView, ControlError> {
        let parsed = LayerVersionArn::parse(arn).map_err(|e| rename(e, "arn"))?;
        if parsed.region != region.as_str() || parsed.account != self.account().as_str() {
            return Err(ControlError::ResourceNotFound);
        }
        let (name, version) = (parsed.name, parsed.version);
        let layer = blocking(&self.store, move |s| s.get_layer_version(&name, version)).await?;
        layer.map(|l| self.layer_view(region, l)).ok_or(ControlError::ResourceNotFound)
    }

    pub async fn list_layer_versions(
        &self,
        region: &Region,
        layer_name: &str,
        filter: LayerFilter,
    ) -> Result<LayerPage, ControlError> {
        let name = LayerName::parse(layer_name, "layerName")?;
        let filter = Filter::parse(filter)?;
        let versions = blocking(&self.store, move |s| s.layer_versions(Some(&name))).await?;
        // Newest first; the marker is the last version returned.
        let after: Option<u64> = filter.after.as_deref().and_then(|m| m.parse().ok());
        let matching = versions
            .into_iter()
            .filter(|l| filter.matches(l))
            .filter(|l| after.is_none_or(|a| l.version < a))
            .map(|l| self.layer_view(region, l));
        Ok(page(matching, filter.limit, |v| v.layer.version.to_string()))
    }

    pub async fn list_layers(&self, region: &Region, filter: LayerFilter) -> Result<LayerPage, ControlError> {
        let filter = Filter::parse(filter)?;
        let versions = blocking(&self.store, |s| s.layer_versions(None)).await?;
        // Versions come by name, newest first: the first match per name is its latest.
        let mut latest: Vec<LayerVersion> = Vec::new();
        for l in versions.into_iter().filter(|l| filter.matches(l)) {
            if latest.last().is_none_or(|last| last.name != l.name) {
                latest.push(l);
            }
        }
        let matching = latest
            .into_iter()
            .filter(|l| filter.after.as_deref().is_none_or(|a| l.name.as_str() > a))
            .map(|l| self.layer_view(region, l));
        Ok(page(matching, filter.limit, |v| v.layer.name.to_string()))
    }

    /// Deletes a layer version; deleting one that does not exist succeeds (as on AWS).
    pub async fn delete_layer_version(&self, layer_name: &str, version: &str) -> Result<(), ControlError> {
        let name = LayerName::parse(layer_name, "layerName")?;
        let version = parse_version(version)?;
        let _guard = self.code_lock.lock().await;
        let lookup = name.clone();
        let Some(layer) = blocking(&self.store, move |s| s.get_layer_version(&lookup, version)).await? else {
            return Ok(());
        };
        blocking(&self.store, move |s| s.delete_layer_version(&name, version)).await?;
        self.release_blob(&layer.code.blob_key).await
    }
}

fn page(
    items: impl Iterator<Item = LayerVersionView>,
    limit: usize,
    key: impl Fn(&LayerVersionView) -> String,
) -> LayerPage {
    let mut items: Vec<LayerVersionView> = items.take(limit + 1).collect();
    let next_marker = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|v| encode_marker(&key(v)))
    } else {
        None
    };
    LayerPage { items, next_marker }
}
