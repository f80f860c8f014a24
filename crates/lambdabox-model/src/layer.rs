//! Lambda layers: layer names, layer version ARNs, the settings a layer
//! version is published with, and what a function records of each layer it
//! uses.
//!
//! `CompatibleRuntimes` and `CompatibleArchitectures` are checked against
//! AWS's enums when a version is published and filter ListLayers and
//! ListLayerVersions; as on AWS they are advisory when a function references
//! the layer.

use serde::{Deserialize, Serialize};

use crate::arn::{is_account, is_region};
use crate::code::{Architecture, CodeInfo};
use crate::{AccountId, Region, ValidationError};

/// The longest layer name (or layer ARN given as a name).
pub const LAYER_NAME_MAX: usize = 140;
/// At most this many compatible runtimes per layer version.
pub const COMPATIBLE_RUNTIMES_MAX: usize = 15;
/// At most this many compatible architectures per layer version.
pub const COMPATIBLE_ARCHITECTURES_MAX: usize = 2;
/// The longest license text.
pub const LICENSE_INFO_MAX: usize = 512;

pub const LAYER_NAME_PATTERN: &str =
    "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
pub const LAYER_VERSION_ARN_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";

/// The runtimes AWS accepts in `CompatibleRuntimes` (its current enum).
pub const COMPATIBLE_RUNTIMES: &[&str] = &[
    "nodejs20.x",
    "python3.14",
    "provided.al2023",
    "python3.12",
    "python3.13",
    "nodejs24.x",
    "nodejs22.x",
    "java25",
    "python3.10",
    "python3.11",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "ruby3.2",
    "python3.8",
    "python3.9",
    "java17",
    "nodejs16.x",
    "dotnet10",
    "dotnet8",
    "java11",
    "dotnet6",
    "nodejs18.x",
    "provided.al2",
    "java8.al2",
];

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A layer's name, from a plain name or a layer ARN (`…:layer:NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LayerName(String);

impl LayerName {
    /// Parses the `LayerName` member (a name or a layer ARN without version).
    pub fn parse(s: &str, field: &str) -> Result<Self, ValidationError> {
        if s.is_empty() {
            return Err(ValidationError::min_length(s, field, 1));
        }
        if s.chars().count() > LAYER_NAME_MAX {
            return Err(ValidationError::max_length(s, field, LAYER_NAME_MAX));
        }
        let pattern = || ValidationError::pattern(s, field, LAYER_NAME_PATTERN);
        let name = match s.strip_prefix("arn:") {
            Some(rest) => {
                let parts: Vec<&str> = rest.split(':').collect();
                match parts.as_slice() {
                    [partition, "lambda", region, account, "layer", name]
                        if !partition.is_empty()
                            && partition.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            && !region.is_empty()
                            && is_account(account) =>
                    {
                        *name
                    }
                    _ => return Err(pattern()),
                }
            }
            None => s,
        };
        if name.is_empty() || !name.chars().all(name_char) {
            return Err(pattern());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LayerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `arn:aws:lambda:REGION:ACCOUNT:layer:NAME`
pub fn layer_arn(region: &Region, account: &AccountId, name: &LayerName) -> String {
    format!("arn:aws:lambda:{region}:{account}:layer:{name}")
}

/// `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`
pub fn layer_version_arn(region: &Region, account: &AccountId, name: &LayerName, version: u64) -> String {
    format!("{}:{version}", layer_arn(region, account, name))
}

/// A layer version ARN as a function's `Layers` member names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerVersionArn {
    pub region: String,
    pub account: String,
    pub name: LayerName,
    pub version: u64,
}

impl LayerVersionArn {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let err = || ValidationError::new(format!("[{s}]"), "layers", member_pattern(LAYER_VERSION_ARN_PATTERN));
        let parts: Vec<&str> = s.split(':').collect();
        let ["arn", partition, "lambda", region, account, "layer", name, version] = parts.as_slice() else {
            return Err(err());
        };
        let partition_ok =
            partition.strip_prefix("aws").is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic() || c == '-'));
        let version_ok = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
        if !partition_ok
            || !is_region(region)
            || !is_account(account)
            || name.is_empty()
            || !name.chars().all(name_char)
            || !version_ok
        {
            return Err(err());
        }
        Ok(Self {
            region: (*region).to_owned(),
            account: (*account).to_owned(),
            name: LayerName((*name).to_owned()),
            version: version.parse().map_err(|_| err())?,
        })
    }
}

fn member_pattern(pattern: &str) -> String {
    format!(
        "Member must satisfy constraint: [Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: {pattern}, Member must not be null]"
    )
}

/// Checks `CompatibleRuntimes`: at most 15, each in AWS's enum. As AWS does,
/// the message shows an unknown entry as `null`.
pub fn parse_compatible_runtimes(runtimes: Vec<String>) -> Result<Vec<String>, ValidationError> {
    let shown = || {
        let items: Vec<&str> = runtimes
            .iter()
            .map(|r| if COMPATIBLE_RUNTIMES.contains(&r.as_str()) { r.as_str() } else { "null" })
            .collect();
        format!("[{}]", items.join(", "))
    };
    if runtimes.len() > COMPATIBLE_RUNTIMES_MAX {
        return Err(ValidationError::new(
            shown(),
            "compatibleRuntimes",
            format!("Member must have length less than or equal to {COMPATIBLE_RUNTIMES_MAX}"),
        ));
    }
    if runtimes.iter().any(|r| !COMPATIBLE_RUNTIMES.contains(&r.as_str())) {
        return Err(ValidationError::new(
            shown(),
            "compatibleRuntimes",
            format!("Member must satisfy enum value set: [{}]", COMPATIBLE_RUNTIMES.join(", ")),
        ));
    }
    Ok(runtimes)
}

/// Checks `CompatibleArchitectures`: at most 2 of `x86_64`, `arm64`.
pub fn parse_compatible_architectures(architectures: Vec<String>) -> Result<Vec<Architecture>, ValidationError> {
    if architectures.len() > COMPATIBLE_ARCHITECTURES_MAX {
        return Err(ValidationError::new(
            format!("[{}]", architectures.join(", ")),
            "compatibleArchitectures",
            format!("Member must have length less than or equal to {COMPATIBLE_ARCHITECTURES_MAX}"),
        ));
    }
    architectures
        .iter()
        .map(|a| {
            Architecture::parse(a).map_err(|_| {
                ValidationError::new(
                    format!("[{}]", architectures.join(", ")),
                    "compatibleArchitectures",
                    "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
                )
            })
        })
        .collect()
}

/// One published layer version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerVersion {
    pub name: LayerName,
    /// Assigned by the store at publication: one more than any version the
    /// layer ever had (numbers of deleted versions are not reused).
    pub version: u64,
    pub description: String,
    /// AWS's format: `2026-12-04T10:00:00.000+0000`.
    pub created_date: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<Architecture>,
    pub license_info: Option<String>,
    pub code: CodeInfo,
}

/// A layer as a function version records it: the version ARN it was given
/// and the package, so the function keeps running after the layer version
/// is deleted (as on AWS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionLayer {
    pub arn: String,
    pub code: CodeInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names() {
        assert_eq!(LayerName::parse("my-layer_1", "layerName").unwrap().as_str(), "my-layer_1");
        assert_eq!(
            LayerName::parse("arn:aws:lambda:us-east-1:000000000000:layer:deps", "layerName").unwrap().as_str(),
            "deps"
        );
        assert!(LayerName::parse("bad name", "layerName").unwrap_err().to_string().contains("regular expression"));
        assert!(LayerName::parse("", "layerName").is_err());
        assert!(LayerName::parse(&"a".repeat(141), "layerName").is_err());
        assert!(LayerName::parse("arn:aws:lambda:us-east-1:0:layer:x", "layerName").is_err());
    }

    #[test]
    fn version_arns() {
        let arn = LayerVersionArn::parse("arn:aws:lambda:eu-west-1:123456789012:layer:deps:7").unwrap();
        assert_eq!(
            (arn.region.as_str(), arn.account.as_str(), arn.name.as_str(), arn.version),
            ("eu-west-1", "123456789012", "deps", 7)
        );
        for bad in [
            "deps",
            "arn:aws:lambda:eu-west-1:123456789012:layer:deps",
            "arn:aws:lambda:eu-west-1:123456789012:layer:deps:x",
            "arn:aws:s3:eu-west-1:123456789012:layer:deps:1",
        ] {
            let e = LayerVersionArn::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("1 validation error detected: Value '["), "{e}");
            assert!(e.contains("at 'layers'"), "{e}");
        }
    }

    #[test]
    fn compatible_runtimes() {
        assert!(parse_compatible_runtimes(vec!["python3.12".into(), "nodejs20.x".into()]).is_ok());
        let e = parse_compatible_runtimes(vec!["python3.16".into(), "provided.al2".into()]).unwrap_err().to_string();
        assert!(e.contains("Value '[null, provided.al2]' at 'compatibleRuntimes'"), "{e}");
        assert!(parse_compatible_runtimes(vec!["python3.12".into(); 16]).is_err());
        assert_eq!(parse_compatible_architectures(vec!["arm64".into()]).unwrap(), vec![Architecture::Arm64]);
        assert!(parse_compatible_architectures(vec!["sparc".into()]).is_err());
    }
}
