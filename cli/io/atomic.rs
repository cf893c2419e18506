//! Atomic file writes, the one way this tool writes files: the bytes go to a temporary file in
//! the destination's directory, are synced, and replace the destination with a rename, so a
//! reader sees the old file or the new one, never a part.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A write that failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The destination exists and replacing it was not asked for.
    #[error("{} exists", path.display())]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// The filesystem refused.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory at fault.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

impl WriteError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
        move |source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How the staged file's permissions are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permissions {
    /// Those of the file it replaces (when it exists), else the process default.
    LikeDestination,
    /// Only the owner may read the directory (caches and stores of executable code).
    PrivateDirectory,
}

/// Bytes written beside their destination and synced, not yet visible there.
#[derive(Debug)]
pub struct Staged {
    temp: tempfile::NamedTempFile,
    destination: PathBuf,
}

/// Writes `bytes` to a temporary file beside `destination` (creating the directory when
/// missing); `commit` makes it the destination.
pub fn stage(destination: &Path, bytes: &[u8], perms: Permissions) -> Result<Staged, WriteError> {
    let dir = parent(destination);
    std::fs::create_dir_all(&dir).map_err(WriteError::io(&dir))?;
    #[cfg(unix)]
    if perms == Permissions::PrivateDirectory {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(WriteError::io(&dir))?;
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".kubectl-pattern-")
        .tempfile_in(&dir)
        .map_err(WriteError::io(&dir))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(WriteError::io(destination))?;
    if perms == Permissions::LikeDestination
        && let Ok(meta) = std::fs::metadata(destination)
    {
        std::fs::set_permissions(temp.path(), meta.permissions())
            .map_err(WriteError::io(destination))?;
    }
    Ok(Staged {
        temp,
        destination: destination.to_path_buf(),
    })
}

impl Staged {
    /// Where the staged bytes are now (a temporary file; gone after `commit` or drop).
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// The file the bytes will replace.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// Replaces the destination (or creates it).
    pub fn commit(self) -> Result<(), WriteError> {
        let destination = self.destination.clone();
        self.commit_to(&destination)
    }

    /// Moves the staged bytes to `destination` instead, in the same directory (a name known
    /// only once the bytes were checked).
    pub fn commit_to(self, destination: &Path) -> Result<(), WriteError> {
        let destination = destination.to_path_buf();
        self.temp
            .persist(&destination)
            .map(drop)
            .map_err(|e| WriteError::Io {
                path: destination,
                source: e.error,
            })
    }

    /// Creates the destination; refuses when it exists.
    pub fn commit_new(self) -> Result<(), WriteError> {
        let destination = self.destination;
        self.temp
            .persist_noclobber(&destination)
            .map(drop)
            .map_err(|e| match e.error.kind() {
                io::ErrorKind::AlreadyExists => WriteError::Exists { path: destination },
                _ => WriteError::Io {
                    path: destination,
                    source: e.error,
                },
            })
    }
}

/// Writes `bytes` to `destination` atomically, replacing it.
pub fn write(destination: &Path, bytes: &[u8], perms: Permissions) -> Result<(), WriteError> {
    stage(destination, bytes, perms)?.commit()
}

fn parent(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_and_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        write(&path, b"new", Permissions::LikeDestination).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn commit_new_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "old").unwrap();
        let staged = stage(&path, b"new", Permissions::LikeDestination).unwrap();
        assert!(matches!(
            staged.commit_new(),
            Err(WriteError::Exists { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }
}
