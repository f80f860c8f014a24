//! Object bodies and multipart parts as files under `files/`, each written
//! to `tmp/`, fsynced, renamed into place and the directory fsynced before
//! any metadata names it. Files are never modified after that, only
//! removed, so a copy is a hard link.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use s3s::dto::StreamingBlob;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::checksum::BodyHasher;
use crate::error::{StoreError, file};
use crate::store::new_id;

const READ_CHUNK: usize = 256 * 1024;

/// The files dir and its temporary dir.
#[derive(Debug, Clone)]
pub struct Files {
    dir: PathBuf,
    tmp: PathBuf,
}

impl Files {
    /// Creates `root/files` and `root/tmp`, emptying the latter (what a crash left half-written).
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let files = Self { dir: root.join("files"), tmp: root.join("tmp") };
        if files.tmp.exists() {
            std::fs::remove_dir_all(&files.tmp).map_err(file("empty", &files.tmp))?;
        }
        for dir in [&files.dir, &files.tmp] {
            std::fs::create_dir_all(dir).map_err(file("create", dir))?;
        }
        Ok(files)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Streams `body` into a new file, hashing it; returns its name and size.
    pub async fn write(&self, mut body: StreamingBlob, hasher: &mut BodyHasher) -> Result<(String, u64), StoreError> {
        let name = new_id();
        let tmp = self.tmp.join(&name);
        let result = async {
            let mut out = tokio::fs::File::create(&tmp).await.map_err(file("create", &tmp))?;
            let mut size = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|source| StoreError::Body { source })?;
                hasher.update(&chunk);
                size += chunk.len() as u64;
                out.write_all(&chunk).await.map_err(file("write", &tmp))?;
            }
            out.sync_all().await.map_err(file("fsync", &tmp))?;
            Ok(size)
        }
        .await;
        match result {
            Ok(size) => {
                self.publish(&tmp, &name).await?;
                Ok((name, size))
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// Writes the concatenation of `parts` to a new file; returns its name and size.
    pub async fn concat(&self, parts: Vec<String>) -> Result<(String, u64), StoreError> {
        let name = new_id();
        let tmp = self.tmp.join(&name);
        let sources: Vec<PathBuf> = parts.iter().map(|p| self.path(p)).collect();
        let dest = tmp.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut out = std::fs::File::create(&dest).map_err(file("create", &dest))?;
            let mut size = 0;
            for src in &sources {
                let mut input = std::fs::File::open(src).map_err(file("open", src))?;
                size += std::io::copy(&mut input, &mut out).map_err(file("copy into", &dest))?;
            }
            out.sync_all().map_err(file("fsync", &dest))?;
            Ok::<_, StoreError>(size)
        })
        .await
        .expect("the concatenation does not panic");
        match result {
            Ok(size) => {
                self.publish(&tmp, &name).await?;
                Ok((name, size))
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// A new name for the bytes of `name` (a hard link: files never change).
    pub async fn duplicate(&self, name: &str) -> Result<String, StoreError> {
        let new = new_id();
        let (src, dst) = (self.path(name), self.path(&new));
        tokio::fs::hard_link(&src, &dst).await.map_err(file("link", &dst))?;
        self.sync_dir().await?;
        Ok(new)
    }

    /// Moves a fsynced temporary file into place and makes the rename durable.
    async fn publish(&self, tmp: &Path, name: &str) -> Result<(), StoreError> {
        let dst = self.path(name);
        tokio::fs::rename(tmp, &dst).await.map_err(file("rename into", &dst))?;
        self.sync_dir().await
    }

    async fn sync_dir(&self) -> Result<(), StoreError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(file("fsync", &dir))
        })
        .await
        .expect("fsync does not panic")
    }

    /// Removes files no metadata names any more (best effort: a leftover is
    /// collected at the next start).
    pub async fn remove(&self, names: Vec<String>) {
        for name in names {
            let path = self.path(&name);
            if let Err(e) = tokio::fs::remove_file(&path).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), error = %e, "could not remove an S3 object file");
            }
        }
    }

    /// Removes every file not in `referenced` (run at start-up, before any request).
    pub fn collect_garbage(&self, referenced: &HashSet<String>) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir).map_err(file("list", &self.dir))? {
            let entry = entry.map_err(file("list", &self.dir))?;
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| referenced.contains(n)) {
                continue;
            }
            std::fs::remove_file(entry.path()).map_err(file("remove", &entry.path()))?;
            removed += 1;
        }
        Ok(removed)
    }

    /// The bytes `start..start + len` of a file as a stream read by a blocking thread.
    pub fn read_range(&self, name: &str, start: u64, len: u64) -> StreamingBlob {
        let path = self.path(name);
        let (tx, rx) = mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            let read = |tx: &mpsc::Sender<std::io::Result<Bytes>>| -> std::io::Result<()> {
                let mut input = std::fs::File::open(&path)?;
                input.seek(SeekFrom::Start(start))?;
                let mut left = len;
                while left > 0 {
                    let mut buf = vec![0; READ_CHUNK.min(left as usize)];
                    let n = input.read(&mut buf)?;
                    if n == 0 {
                        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "object file is short"));
                    }
                    buf.truncate(n);
                    left -= n as u64;
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        return Ok(()); // the client went away
                    }
                }
                Ok(())
            };
            if let Err(e) = read(&tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        StreamingBlob::wrap(ChannelStream(rx))
    }

    /// A whole file in memory.
    pub async fn read_all(&self, name: &str) -> std::io::Result<Bytes> {
        tokio::fs::read(self.path(name)).await.map(Bytes::from)
    }
}

struct ChannelStream(mpsc::Receiver<std::io::Result<Bytes>>);

impl Stream for ChannelStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::hex;

    fn blob(chunks: &[&'static [u8]]) -> StreamingBlob {
        let chunks: Vec<Result<Bytes, std::io::Error>> = chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        StreamingBlob::wrap(futures::stream::iter(chunks))
    }

    #[tokio::test]
    async fn write_read_concat_and_collect() {
        let root = tempfile::tempdir().unwrap();
        let files = Files::open(root.path()).unwrap();
        let mut h = BodyHasher::new(None);
        let (a, size) = files.write(blob(&[b"hello ", b"world"]), &mut h).await.unwrap();
        assert_eq!(size, 11);
        assert_eq!(hex(&h.finish().md5), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let (b, _) = files.write(blob(&[b"!"]), &mut BodyHasher::new(None)).await.unwrap();
        let (ab, size) = files.concat(vec![a.clone(), b.clone()]).await.unwrap();
        assert_eq!(size, 12);
        assert_eq!(files.read_all(&ab).await.unwrap(), "hello world!");
        let range: Vec<_> = files.read_range(&ab, 6, 5).map(|c| c.unwrap()).collect().await;
        assert_eq!(range.concat(), b"world");
        let copy = files.duplicate(&ab).await.unwrap();
        assert_eq!(files.read_all(&copy).await.unwrap(), "hello world!");
        assert_eq!(std::fs::read_dir(root.path().join("tmp")).unwrap().count(), 0);

        let keep = HashSet::from([ab.clone()]);
        assert_eq!(files.collect_garbage(&keep).unwrap(), 3);
        assert!(files.path(&ab).exists() && !files.path(&a).exists());
        files.remove(vec![ab.clone(), "missing".into()]).await;
        assert!(!files.path(&ab).exists());
    }
}
