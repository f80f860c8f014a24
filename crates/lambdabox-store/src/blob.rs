//! Content-addressed code blobs behind `object_store`.
//!
//! A blob's key is the lower-case hex SHA-256 of its bytes, so writing the
//! same package twice stores it once, and a key always names the same bytes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::StoreError;

const PREFIX: &str = "sha256";

/// Code packages by content address.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// Where a local backend keeps its files, so writes can be fsynced.
    local_root: Option<PathBuf>,
}

impl BlobStore {
    /// Blobs as files under `root` (created if missing).
    pub fn local(root: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(root).map_err(|source| StoreError::BlobRoot { path: root.to_owned(), source })?;
        let fs = LocalFileSystem::new_with_prefix(root).map_err(|source| StoreError::Blob {
            operation: "open",
            key: root.display().to_string(),
            source,
        })?;
        Ok(Self { inner: Arc::new(fs), local_root: Some(root.to_owned()) })
    }

    /// Blobs in any `object_store` backend (an S3 bucket, memory for tests).
    pub fn from_object_store(store: Arc<dyn ObjectStore>) -> Self {
        Self { inner: store, local_root: None }
    }

    fn path(key: &str) -> ObjectPath {
        ObjectPath::from(format!("{PREFIX}/{}/{key}", &key[..2.min(key.len())]))
    }

    /// Stores `bytes` under `key` durably. The local backend writes a temp
    /// file and renames it into place, so a reader never sees half a blob.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        let path = Self::path(key);
        if self.inner.head(&path).await.is_ok() {
            return Ok(());
        }
        self.inner.put(&path, PutPayload::from_bytes(bytes)).await.map_err(|source| StoreError::Blob {
            operation: "put",
            key: key.to_owned(),
            source,
        })?;
        if let Some(root) = &self.local_root {
            let file = root.join(path.as_ref());
            let sync = |p: &Path| std::fs::File::open(p).and_then(|f| f.sync_all());
            sync(&file).map_err(|source| StoreError::SyncBlob { path: file.clone(), source })?;
            if let Some(dir) = file.parent() {
                sync(dir).map_err(|source| StoreError::SyncBlob { path: dir.to_owned(), source })?;
            }
        }
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let err = |source| StoreError::Blob { operation: "get", key: key.to_owned(), source };
        self.inner.get(&Self::path(key)).await.map_err(err)?.bytes().await.map_err(err)
    }

    /// The file holding a blob, for a local backend (so it can be unpacked in place).
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.local_root.as_ref().map(|root| root.join(Self::path(key).as_ref()))
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&Self::path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(StoreError::Blob { operation: "delete", key: key.to_owned(), source }),
        }
    }

    /// Every stored key.
    pub async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let prefix = ObjectPath::from(PREFIX);
        let metas: Vec<_> = self.inner.list(Some(&prefix)).try_collect().await.map_err(|source| StoreError::Blob {
            operation: "list",
            key: PREFIX.to_owned(),
            source,
        })?;
        Ok(metas.into_iter().filter_map(|m| m.location.filename().map(str::to_owned)).collect())
    }

    /// Deletes every blob not in `referenced`: orphans of writes whose
    /// metadata never committed. Returns how many were removed. Call it
    /// when no write is in progress (at start-up).
    pub async fn collect_garbage(&self, referenced: &HashSet<String>) -> Result<usize, StoreError> {
        let mut removed = 0;
        for key in self.keys().await? {
            if !referenced.contains(&key) {
                self.delete(&key).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_delete_and_collect() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::local(dir.path()).unwrap();
        let key = "ab".to_string() + &"0".repeat(62);
        blobs.put(&key, Bytes::from_static(b"zipbytes")).await.unwrap();
        blobs.put(&key, Bytes::from_static(b"zipbytes")).await.unwrap();
        assert_eq!(blobs.get(&key).await.unwrap(), Bytes::from_static(b"zipbytes"));
        assert!(blobs.local_path(&key).unwrap().is_file());

        let orphan = "cd".to_string() + &"1".repeat(62);
        blobs.put(&orphan, Bytes::from_static(b"orphan")).await.unwrap();
        let referenced: HashSet<String> = [key.clone()].into();
        assert_eq!(blobs.collect_garbage(&referenced).await.unwrap(), 1);
        assert_eq!(blobs.keys().await.unwrap(), vec![key.clone()]);

        blobs.delete(&key).await.unwrap();
        blobs.delete(&key).await.unwrap();
        assert!(blobs.get(&key).await.is_err());
    }
}
