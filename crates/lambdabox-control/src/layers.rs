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

#[cfg(test)]
mod tests {
    use lambdabox_model::PackageError;

    use super::*;
    use crate::test_support::*;
    use crate::{CreateFunction, UpdateFunctionConfiguration};

    fn with(f: impl FnOnce(&mut PublishLayerVersion)) -> PublishLayerVersion {
        let mut req = layer_req(package(1));
        f(&mut req);
        req
    }

    fn filter(runtime: Option<&str>, architecture: Option<&str>) -> LayerFilter {
        LayerFilter {
            compatible_runtime: runtime.map(Into::into),
            compatible_architecture: architecture.map(Into::into),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn publish_checks_every_setting() {
        let h = Harness::new();
        for bad in ["bad name", "", "arn:aws:lambda:us-east-1:0:layer:x"] {
            let e = h.plane.publish_layer_version(&h.region, bad, with(|_| {})).await.unwrap_err();
            assert_eq!(validation(e).field, "layerName", "{bad}");
        }
        let e = h.plane.publish_layer_version(&h.region, &"l".repeat(141), with(|_| {})).await.unwrap_err();
        assert_validation(e, "layerName", "less than or equal to 140");
        let e = h
            .plane
            .publish_layer_version(&h.region, "l", with(|r| r.description = Some("d".repeat(257))))
            .await
            .unwrap_err();
        assert_eq!(validation(e).field, "description");
        let e = h
            .plane
            .publish_layer_version(
                &h.region,
                "l",
                with(|r| r.compatible_runtimes = Some(vec!["python3.12".into(), "cobol".into()])),
            )
            .await
            .unwrap_err();
        let v = validation(e);
        assert_eq!((v.field.as_str(), v.value.as_str()), ("compatibleRuntimes", "[python3.12, null]"));
        let e = h
            .plane
            .publish_layer_version(
                &h.region,
                "l",
                with(|r| r.compatible_runtimes = Some(vec!["python3.12".into(); 16])),
            )
            .await
            .unwrap_err();
        assert_validation(e, "compatibleRuntimes", "less than or equal to 15");
        let e = h
            .plane
            .publish_layer_version(&h.region, "l", with(|r| r.compatible_architectures = Some(vec!["sparc".into()])))
            .await
            .unwrap_err();
        assert_eq!(validation(e).field, "compatibleArchitectures");
        let three = Some(vec!["x86_64".into(), "arm64".into(), "x86_64".into()]);
        let e = h
            .plane
            .publish_layer_version(&h.region, "l", with(|r| r.compatible_architectures = three))
            .await
            .unwrap_err();
        assert_validation(e, "compatibleArchitectures", "less than or equal to 2");
        let e = h
            .plane
            .publish_layer_version(&h.region, "l", with(|r| r.license_info = Some("x".repeat(513))))
            .await
            .unwrap_err();
        assert_validation(e, "licenseInfo", "less than or equal to 512");
        let e = h.plane.publish_layer_version(&h.region, "l", layer_req(zip_of(&[]))).await.unwrap_err();
        assert!(matches!(e, ControlError::Package(PackageError::Empty)), "{e:?}");
        assert!(h.plane.list_layers(&h.region, LayerFilter::default()).await.unwrap().items.is_empty());

        let view = h
            .plane
            .publish_layer_version(
                &h.region,
                "arn:aws:lambda:us-east-1:000000000000:layer:deps",
                with(|r| {
                    r.description = Some("d".repeat(256));
                    r.compatible_runtimes = Some(vec!["python3.12".into(), "nodejs22.x".into()]);
                    r.compatible_architectures = Some(vec!["arm64".into(), "x86_64".into()]);
                    r.license_info = Some("x".repeat(512));
                }),
            )
            .await
            .unwrap();
        assert_eq!(view.layer_arn, "arn:aws:lambda:us-east-1:000000000000:layer:deps");
        assert_eq!(view.layer_version_arn, "arn:aws:lambda:us-east-1:000000000000:layer:deps:1");
        assert_eq!(view.layer.compatible_architectures, [Architecture::Arm64, Architecture::X86_64]);
        assert_eq!(view.layer.code.size, package(1).len() as u64);
        assert_eq!(h.plane.code(&view.layer.code.blob_key).await.unwrap(), package(1));
        assert_eq!(h.changes(), [], "layers announce nothing");
    }

    #[tokio::test]
    async fn version_numbers_are_never_reused_after_deletion() {
        let h = Harness::new();
        assert_eq!(h.publish_layer("l", package(1)).await.layer.version, 1);
        let second = h.publish_layer("l", package(2)).await;
        assert_eq!(second.layer.version, 2);
        assert_eq!(h.publish_layer("other", package(3)).await.layer.version, 1, "numbered per layer");
        h.plane.delete_layer_version("l", "2").await.unwrap();
        assert!(!h.has_blob(&second.layer.code.blob_key).await);
        assert_eq!(h.publish_layer("l", package(2)).await.layer.version, 3);
        // Deleting what does not exist succeeds, as on AWS.
        h.plane.delete_layer_version("l", "2").await.unwrap();
        h.plane.delete_layer_version("never", "1").await.unwrap();
        let e = h.plane.delete_layer_version("l", "two").await.unwrap_err();
        assert_validation(e, "versionNumber", "Member must be a number");
        let e = h.plane.delete_layer_version("bad name", "1").await.unwrap_err();
        assert_eq!(validation(e).field, "layerName");
    }

    #[tokio::test]
    async fn get_layer_version_and_by_arn() {
        let h = Harness::new();
        let published = h.publish_layer("deps", package(1)).await;
        assert_eq!(h.plane.get_layer_version(&h.region, "deps", "1").await.unwrap(), published);
        let e = h.plane.get_layer_version(&h.region, "deps", "2").await.unwrap_err();
        assert!(matches!(e, ControlError::ResourceNotFound), "{e:?}");
        assert_eq!(e.to_string(), "The resource you requested does not exist.");
        let e = h.plane.get_layer_version(&h.region, "deps", "-1").await.unwrap_err();
        assert_eq!(validation(e).field, "versionNumber");

        let by_arn = h.plane.get_layer_version_by_arn(&h.region, &published.layer_version_arn).await.unwrap();
        assert_eq!(by_arn, published);
        for elsewhere in [
            "arn:aws:lambda:eu-west-1:000000000000:layer:deps:1",
            "arn:aws:lambda:us-east-1:222222222222:layer:deps:1",
            "arn:aws:lambda:us-east-1:000000000000:layer:deps:9",
        ] {
            let e = h.plane.get_layer_version_by_arn(&h.region, elsewhere).await.unwrap_err();
            assert!(matches!(e, ControlError::ResourceNotFound), "{elsewhere}: {e:?}");
        }
        let e = h
            .plane
            .get_layer_version_by_arn(&h.region, "arn:aws:lambda:us-east-1:000000000000:layer:deps")
            .await
            .unwrap_err();
        assert_eq!(validation(e).field, "arn");

        h.plane.delete_layer_version("deps", "1").await.unwrap();
        let e = h.plane.get_layer_version(&h.region, "deps", "1").await.unwrap_err();
        assert!(matches!(e, ControlError::ResourceNotFound), "{e:?}");
    }

    #[tokio::test]
    async fn list_layer_versions_filters_newest_first_and_pages() {
        let h = Harness::new();
        let publish = |runtimes: &[&str], architectures: &[&str], n: u32| {
            let req = PublishLayerVersion {
                compatible_runtimes: Some(runtimes.iter().map(|r| r.to_string()).collect()),
                compatible_architectures: Some(architectures.iter().map(|a| a.to_string()).collect()),
                ..layer_req(package(n))
            };
            h.plane.publish_layer_version(&h.region, "l", req)
        };
        publish(&["python3.12"], &["x86_64"], 1).await.unwrap();
        publish(&["python3.12", "nodejs22.x"], &["arm64"], 2).await.unwrap();
        publish(&["nodejs22.x"], &[], 3).await.unwrap();
        publish(&["python3.12"], &["arm64", "x86_64"], 4).await.unwrap();
        let versions = |p: &LayerPage| p.items.iter().map(|v| v.layer.version).collect::<Vec<_>>();

        let all = h.plane.list_layer_versions(&h.region, "l", LayerFilter::default()).await.unwrap();
        assert_eq!((versions(&all), all.next_marker), (vec![4, 3, 2, 1], None));
        let python = h.plane.list_layer_versions(&h.region, "l", filter(Some("python3.12"), None)).await.unwrap();
        assert_eq!(versions(&python), [4, 2, 1]);
        let arm = h.plane.list_layer_versions(&h.region, "l", filter(None, Some("arm64"))).await.unwrap();
        assert_eq!(versions(&arm), [4, 2]);
        let both =
            h.plane.list_layer_versions(&h.region, "l", filter(Some("nodejs22.x"), Some("arm64"))).await.unwrap();
        assert_eq!(versions(&both), [2]);

        let page = LayerFilter { max_items: Some(2), ..Default::default() };
        let first = h.plane.list_layer_versions(&h.region, "l", page.clone()).await.unwrap();
        assert_eq!(versions(&first), [4, 3]);
        let next = LayerFilter { marker: first.next_marker.clone(), ..page };
        let second = h.plane.list_layer_versions(&h.region, "l", next).await.unwrap();
        assert_eq!((versions(&second), second.next_marker), (vec![2, 1], None));

        let e = h.plane.list_layer_versions(&h.region, "l", filter(Some("cobol"), None)).await.unwrap_err();
        let v = validation(e);
        assert_eq!((v.field.as_str(), v.value.as_str()), ("compatibleRuntime", "null"));
        let e = h.plane.list_layer_versions(&h.region, "l", filter(None, Some("sparc"))).await.unwrap_err();
        assert_eq!(validation(e).field, "compatibleArchitecture");
        for (n, constraint) in [(0, "greater than or equal to 1"), (51, "less than or equal to 50")] {
            let f = LayerFilter { max_items: Some(n), ..Default::default() };
            let e = h.plane.list_layer_versions(&h.region, "l", f).await.unwrap_err();
            assert_validation(e, "maxItems", constraint);
        }
        let none = h.plane.list_layer_versions(&h.region, "nothing", LayerFilter::default()).await.unwrap();
        assert!(none.items.is_empty());
    }

    #[tokio::test]
    async fn list_layers_shows_each_layers_latest_matching_version() {
        let h = Harness::new();
        let publish = |name: &'static str, runtime: &'static str, n: u32| {
            let req = PublishLayerVersion { compatible_runtimes: Some(vec![runtime.into()]), ..layer_req(package(n)) };
            h.plane.publish_layer_version(&h.region, name, req)
        };
        publish("c", "python3.12", 1).await.unwrap();
        publish("a", "python3.12", 2).await.unwrap();
        publish("a", "nodejs22.x", 3).await.unwrap();
        publish("b", "nodejs22.x", 4).await.unwrap();
        let items =
            |p: &LayerPage| p.items.iter().map(|v| (v.layer.name.to_string(), v.layer.version)).collect::<Vec<_>>();
        let s = |n: &str, v| (n.to_string(), v);

        let all = h.plane.list_layers(&h.region, LayerFilter::default()).await.unwrap();
        assert_eq!(items(&all), [s("a", 2), s("b", 1), s("c", 1)]);
        let python = h.plane.list_layers(&h.region, filter(Some("python3.12"), None)).await.unwrap();
        assert_eq!(items(&python), [s("a", 1), s("c", 1)]);

        let first =
            h.plane.list_layers(&h.region, LayerFilter { max_items: Some(2), ..Default::default() }).await.unwrap();
        assert_eq!(items(&first), [s("a", 2), s("b", 1)]);
        let next = LayerFilter { marker: first.next_marker.clone(), max_items: Some(2), ..Default::default() };
        let second = h.plane.list_layers(&h.region, next).await.unwrap();
        assert_eq!((items(&second), second.next_marker), (vec![s("c", 1)], None));
        let e = h
            .plane
            .list_layers(&h.region, LayerFilter { marker: Some("!!".into()), ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(validation(e).field, "marker");
    }

    #[tokio::test]
    async fn a_deleted_layer_version_lives_on_in_the_functions_using_it() {
        let h = Harness::new();
        let layer = h.publish_layer("deps", package(1)).await;
        let arn = layer.layer_version_arn.clone();
        h.create_with(CreateFunction { layers: Some(vec![arn.clone()]), publish: true, ..create_req("f") }).await;
        h.plane.delete_layer_version("deps", "1").await.unwrap();
        assert!(h.has_blob(&layer.layer.code.blob_key).await, "functions keep their layers' packages");
        let f = h.plane.get_function(&h.region, "f:1", None).await.unwrap();
        assert_eq!(f.config.layers[0].arn, arn);

        // But it cannot be added anew.
        let e = h
            .plane
            .create_function(&h.region, CreateFunction { layers: Some(vec![arn.clone()]), ..create_req("g") })
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::LayerVersionNotFound { .. }), "{e:?}");
        let req = UpdateFunctionConfiguration { layers: Some(vec![arn]), ..Default::default() };
        let e = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::LayerVersionNotFound { .. }), "{e:?}");

        // Once no version uses it, the package goes.
        h.plane.delete_function(&h.region, "f", None).await.unwrap();
        h.plane.collect_garbage().await.unwrap();
        assert!(!h.has_blob(&layer.layer.code.blob_key).await);
    }
}
