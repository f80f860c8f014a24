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
            | Self::ConcurrencyChanged { name } => name,
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

    #[test]
    fn every_change_names_its_function() {
        let changes = [
            Change::FunctionCreated { name: "f".into() },
            Change::VersionDeleted { name: "f".into(), version: "3".into() },
            Change::ConcurrencyChanged { name: "f".into() },
        ];
        assert!(changes.iter().all(|c| c.function() == "f"));
    }
}
