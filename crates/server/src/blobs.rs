//! The blob store: uploaded files on disk, named by their SHA-256.
//!
//! Under the blob directory (`--blob-dir`), a stored file lives at `sha256/ab/<hex>`
//! (`ab`: the first two hex digits), so identical content is stored once however many
//! calls use it. An upload in progress is `partial/<upload id>`: chunks are written at
//! their offset and fsynced before they are acknowledged. When the last byte arrives the
//! whole file's hash is checked, and only then is it renamed into place — atomically, on
//! the same file system — so a content-addressed name never holds anything but its content.

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

/// A SHA-256 digest as 64 lower-case hex digits: safe to use as a file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Digest(String);

impl Digest {
    /// Accepts 64 hex digits in either case; `None` for anything else.
    pub fn parse(text: &str) -> Option<Digest> {
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Digest(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What went wrong with a blob.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The partial file holds fewer bytes than the upload had acknowledged (it was lost or
    /// replaced under the server): the upload goes on from `have`.
    #[error("the partial upload holds {have} bytes, fewer than acknowledged")]
    Short { have: u64 },
    /// The complete file's hash or length is not what the upload declared; the partial
    /// file has been removed.
    #[error("the file's SHA-256 is {actual} ({len} bytes), not the declared {expected}")]
    HashMismatch {
        expected: Digest,
        actual: String,
        len: u64,
    },
    #[error("blob store I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Files under one directory.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

/// How a verified upload was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// The file was moved into place.
    New,
    /// The same content was already stored; the upload was dropped.
    AlreadyStored,
}

impl BlobStore {
    pub fn new(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    /// Where the content with `digest` lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("sha256")
            .join(&digest.as_str()[..2])
            .join(digest.as_str())
    }

    /// Where upload `id` collects its bytes.
    pub fn partial_path(&self, id: Uuid) -> PathBuf {
        self.root.join("partial").join(id.to_string())
    }

    /// Whether the content with `digest` is stored.
    pub async fn contains(&self, digest: &Digest) -> Result<bool, BlobError> {
        let path = self.path(digest);
        tokio::fs::try_exists(&path)
            .await
            .map_err(|source| BlobError::Io { path, source })
    }

    /// Writes `bytes` at `offset` of upload `id`'s partial file and fsyncs it; returns the
    /// partial file's new length. Bytes beyond `offset` left by an unacknowledged write are
    /// cut off first.
    pub async fn append(&self, id: Uuid, offset: u64, bytes: &[u8]) -> Result<u64, BlobError> {
        let path = self.partial_path(id);
        let io = |source| BlobError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .await
            .map_err(io)?;
        let have = file.metadata().await.map_err(io)?.len();
        if have < offset {
            return Err(BlobError::Short { have });
        }
        if have > offset {
            file.set_len(offset).await.map_err(io)?;
        }
        file.seek(SeekFrom::Start(offset)).await.map_err(io)?;
        file.write_all(bytes).await.map_err(io)?;
        file.sync_data().await.map_err(io)?;
        Ok(offset + bytes.len() as u64)
    }

    /// Checks upload `id`'s complete partial file against `digest` and `size`, then moves
    /// it into place (or drops it when the same content is already stored). On a mismatch
    /// the partial file is removed.
    pub async fn keep(&self, id: Uuid, digest: &Digest, size: u64) -> Result<Kept, BlobError> {
        let partial = self.partial_path(id);
        let (actual, len) = {
            let partial = partial.clone();
            tokio::task::spawn_blocking(move || hash_file(&partial))
                .await
                .map_err(|e| BlobError::Io {
                    path: self.partial_path(id),
                    source: std::io::Error::other(e),
                })??
        };
        if actual != digest.as_str() || len != size {
            self.discard(id).await;
            return Err(BlobError::HashMismatch {
                expected: digest.clone(),
                actual,
                len,
            });
        }
        let target = self.path(digest);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BlobError::Io { path, source }
        };
        // Identical content is stored once. A file of another length under the same name
        // is damaged: the verified upload replaces it.
        match tokio::fs::metadata(&target).await {
            Ok(meta) if meta.len() == size => {
                self.discard(id).await;
                return Ok(Kept::AlreadyStored);
            }
            Ok(_) => tracing::warn!(path = %target.display(), "replacing a damaged blob"),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io(&target)(e)),
        }
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&dir).await.map_err(io(&dir))?;
        tokio::fs::rename(&partial, &target)
            .await
            .map_err(io(&target))?;
        sync_dir(&dir).await.map_err(io(&dir))?;
        Ok(Kept::New)
    }

    /// Removes upload `id`'s partial file, if any (failures are logged: a stray partial
    /// file wastes space but harms nothing).
    pub async fn discard(&self, id: Uuid) {
        let path = self.partial_path(id);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove a partial upload")
            }
        }
    }

    /// Opens the content with `digest` for reading, with its length; `None` when it is not
    /// stored.
    pub async fn open(&self, digest: &Digest) -> Result<Option<(tokio::fs::File, u64)>, BlobError> {
        let path = self.path(digest);
        let io = |source| BlobError::Io {
            path: path.clone(),
            source,
        };
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let len = file.metadata().await.map_err(io)?.len();
        Ok(Some((file, len)))
    }
}

/// The hex SHA-256 and length of a file, read in blocks.
fn hash_file(path: &Path) -> Result<(String, u64), BlobError> {
    use std::io::Read;
    let io = |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// Makes a rename inside `dir` durable.
async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
            .await
            .map_err(std::io::Error::other)?
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> Digest {
        Digest(hex::encode(Sha256::digest(bytes)))
    }

    #[test]
    fn digests_are_64_hex_digits_in_lower_case() {
        let upper = "AB".repeat(32);
        assert_eq!(
            Digest::parse(&upper).map(|d| d.to_string()),
            Some("ab".repeat(32))
        );
        assert!(Digest::parse("ab").is_none());
        assert!(Digest::parse(&format!("../{}", "a".repeat(61))).is_none());
        assert!(Digest::parse(&"g".repeat(64)).is_none());
    }

    #[tokio::test]
    async fn chunks_are_verified_then_stored_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BlobStore::new(dir.path());
        let content = b"hello, recorded world";
        let digest = sha(content);
        for _ in 0..2 {
            let id = Uuid::now_v7();
            assert_eq!(store.append(id, 0, &content[..5]).await.expect("chunk"), 5);
            // A write that was never acknowledged is cut off by the next one at its offset.
            store.append(id, 5, b"garbage").await.expect("stray");
            assert_eq!(store.append(id, 5, &content[5..]).await.expect("rest"), 21);
            let kept = store.keep(id, &digest, 21).await.expect("kept");
            assert!(!store.partial_path(id).exists());
            assert!(matches!(kept, Kept::New | Kept::AlreadyStored));
        }
        assert_eq!(std::fs::read(store.path(&digest)).expect("blob"), content);
        let (_, len) = store.open(&digest).await.expect("open").expect("stored");
        assert_eq!(len, 21);
    }

    #[tokio::test]
    async fn a_wrong_hash_discards_the_upload_and_a_lost_partial_is_short() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BlobStore::new(dir.path());
        let id = Uuid::now_v7();
        store.append(id, 0, b"abc").await.expect("chunk");
        let wrong = sha(b"abd");
        let err = store.keep(id, &wrong, 3).await.expect_err("mismatch");
        assert!(
            matches!(err, BlobError::HashMismatch { len: 3, .. }),
            "{err}"
        );
        assert!(!store.partial_path(id).exists());
        assert!(!store.contains(&wrong).await.expect("contains"));
        let err = store.append(id, 3, b"def").await.expect_err("short");
        assert!(matches!(err, BlobError::Short { have: 0 }), "{err}");
    }
}
