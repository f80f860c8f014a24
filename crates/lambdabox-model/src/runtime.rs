//! The runtime registry: which runtime identifiers this server serves, which
//! family (and so which interface client and handler format) each belongs to.
//!
//! A runtime can serve one version of a language, several versions, or
//! several languages; a new identifier is added by configuration (a
//! [`RuntimeSpec`] in the server's runtime file), not by code.

use serde::{Deserialize, Serialize};

use crate::limits::HANDLER_MAX;
use crate::validation::ValidationError;

/// How a runtime starts and how its handler string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeFamily {
    /// `module.function`, `pkg/module.function`.
    Python,
    /// `file.export`, `dir/file.export`, `file.obj.fn`.
    Nodejs,
    /// `package.Class::method` or `package.Class`.
    Java,
    /// A `bootstrap` executable in the package (or a layer); the handler is
    /// passed through untouched.
    Custom,
}

/// One runtime identifier this server serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeSpec {
    /// The identifier stored and reported (`python3.12`).
    pub identifier: String,
    /// Other names accepted for it (the seed's `java-1.8.0-openjdk`).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub family: RuntimeFamily,
}

/// Why a handler string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("The handler '{handler}' is not valid for runtime {runtime}: expected {expected}")]
    Format { handler: String, runtime: String, expected: &'static str },
}

/// The identifiers this server serves, in the order they are listed in errors.
#[derive(Debug, Clone)]
pub struct RuntimeRegistry {
    specs: Vec<RuntimeSpec>,
}

impl RuntimeRegistry {
    /// The runtimes Lambdabox serves out of the box: Python and Node.js on the
    /// machine's interpreters, Java on its JDK, and the custom runtimes.
    pub fn builtin() -> Self {
        let mut specs = Vec::new();
        let mut add = |id: &str, family, aliases: &[&str]| {
            specs.push(RuntimeSpec {
                identifier: id.to_owned(),
                aliases: aliases.iter().map(|a| a.to_string()).collect(),
                family,
            })
        };
        for minor in 9..=14 {
            add(&format!("python3.{minor}"), RuntimeFamily::Python, &[]);
        }
        add("nodejs20.x", RuntimeFamily::Nodejs, &[]);
        add("nodejs22.x", RuntimeFamily::Nodejs, &[]);
        add("java8", RuntimeFamily::Java, &["java-1.8.0-openjdk"]);
        add("java8.al2", RuntimeFamily::Java, &[]);
        add("java11", RuntimeFamily::Java, &[]);
        add("java17", RuntimeFamily::Java, &[]);
        add("java21", RuntimeFamily::Java, &[]);
        add("provided", RuntimeFamily::Custom, &[]);
        add("provided.al2", RuntimeFamily::Custom, &[]);
        add("provided.al2023", RuntimeFamily::Custom, &[]);
        Self { specs }
    }

    /// A registry with extra runtimes added after (or replacing) the built-in ones.
    pub fn with(mut self, extra: impl IntoIterator<Item = RuntimeSpec>) -> Self {
        for spec in extra {
            self.specs.retain(|s| s.identifier != spec.identifier);
            self.specs.push(spec);
        }
        self
    }

    /// Looks an identifier (or alias) up; AWS's enum error when it is unknown.
    pub fn resolve(&self, identifier: &str) -> Result<&RuntimeSpec, ValidationError> {
        self.specs.iter().find(|s| s.identifier == identifier || s.aliases.iter().any(|a| a == identifier)).ok_or_else(
            || {
                let names: Vec<&str> = self
                    .specs
                    .iter()
                    .flat_map(|s| std::iter::once(s.identifier.as_str()).chain(s.aliases.iter().map(String::as_str)))
                    .collect();
                ValidationError::new(
                    identifier,
                    "runtime",
                    format!("Member must satisfy enum value set: [{}] or be a valid ARN", names.join(", ")),
                )
            },
        )
    }

    pub fn specs(&self) -> &[RuntimeSpec] {
        &self.specs
    }
}

impl RuntimeSpec {
    /// Checks a handler string against AWS's pattern and this family's format.
    pub fn validate_handler(&self, handler: &str) -> Result<(), HandlerError> {
        if handler.chars().count() > HANDLER_MAX {
            return Err(ValidationError::max_length(handler, "handler", HANDLER_MAX).into());
        }
        if handler.is_empty() || handler.chars().any(char::is_whitespace) {
            return Err(ValidationError::pattern(handler, "handler", "[^\\s]+").into());
        }
        let format_error =
            |expected| HandlerError::Format { handler: handler.to_owned(), runtime: self.identifier.clone(), expected };
        match self.family {
            RuntimeFamily::Python => {
                let (module, function) = handler
                    .rsplit_once('.')
                    .ok_or_else(|| format_error("'module.function' (for example 'lambda_function.lambda_handler')"))?;
                if module.is_empty() || module.ends_with('/') || function.is_empty() {
                    return Err(format_error("'module.function' (for example 'lambda_function.lambda_handler')"));
                }
            }
            RuntimeFamily::Nodejs => {
                let file = handler.rsplit('/').next().unwrap_or(handler);
                let (module, export) =
                    file.split_once('.').ok_or_else(|| format_error("'file.export' (for example 'index.handler')"))?;
                if module.is_empty() || export.is_empty() || export.split('.').any(str::is_empty) {
                    return Err(format_error("'file.export' (for example 'index.handler')"));
                }
            }
            RuntimeFamily::Java => {
                let (class, method) = match handler.split_once("::") {
                    Some((c, m)) => (c, Some(m)),
                    None => (handler, None),
                };
                let class_ok = !class.is_empty()
                    && class.split('.').all(|seg| {
                        seg.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                            && seg.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
                    });
                let method_ok = method.is_none_or(|m| {
                    m.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
                        && m.chars().all(|c| c.is_alphanumeric() || c == '_')
                });
                if !class_ok || !method_ok {
                    return Err(format_error(
                        "'package.Class::method' or 'package.Class' (for example 'example.Handler::handleRequest')",
                    ));
                }
            }
            RuntimeFamily::Custom => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_identifiers_and_aliases() {
        let r = RuntimeRegistry::builtin();
        assert_eq!(r.resolve("python3.12").unwrap().family, RuntimeFamily::Python);
        assert_eq!(r.resolve("java-1.8.0-openjdk").unwrap().identifier, "java8");
        assert_eq!(r.resolve("provided.al2023").unwrap().family, RuntimeFamily::Custom);
        let e = r.resolve("cobol1.0").unwrap_err();
        assert!(e.to_string().contains("Value 'cobol1.0' at 'runtime'"));
        assert!(e.constraint.contains("nodejs22.x"));
    }

    #[test]
    fn configuration_adds_runtimes() {
        let r = RuntimeRegistry::builtin().with([RuntimeSpec {
            identifier: "python3.15".into(),
            aliases: vec![],
            family: RuntimeFamily::Python,
        }]);
        assert!(r.resolve("python3.15").is_ok());
    }

    #[test]
    fn handler_formats() {
        let r = RuntimeRegistry::builtin();
        let py = r.resolve("python3.11").unwrap();
        assert!(py.validate_handler("lambda_function.lambda_handler").is_ok());
        assert!(py.validate_handler("pkg/mod.fn").is_ok());
        assert!(matches!(py.validate_handler("handler"), Err(HandlerError::Format { .. })));
        assert!(matches!(py.validate_handler("a b.c"), Err(HandlerError::Validation(_))));
        let node = r.resolve("nodejs20.x").unwrap();
        assert!(node.validate_handler("index.handler").is_ok());
        assert!(node.validate_handler("src/app.obj.fn").is_ok());
        assert!(node.validate_handler("index").is_err());
        let java = r.resolve("java17").unwrap();
        assert!(java.validate_handler("example.Handler::handleRequest").is_ok());
        assert!(java.validate_handler("example.Handler").is_ok());
        assert!(java.validate_handler("example.Handler::").is_err());
        let custom = r.resolve("provided.al2023").unwrap();
        assert!(custom.validate_handler("anything.goes").is_ok());
        assert!(custom.validate_handler(&"x".repeat(129)).is_err());
    }
}
