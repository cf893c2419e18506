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

/// Replaces every staged file's destination, all or nothing: each destination is first kept
/// under a hidden backup name (a hard link, or a copy), then replaced; when a replacement
/// fails, the files already replaced get their backups back, so every destination is as it
/// was. On success the backups are removed.
pub fn commit_all(staged: Vec<Staged>) -> Result<(), WriteError> {
    commit_all_with(staged, &mut |_, _| Ok(()))
}

/// `commit_all`, calling `before_replace(i, destination)` before the `i`-th replacement (tests
/// inject a fault there).
fn commit_all_with(
    staged: Vec<Staged>,
    before_replace: &mut dyn FnMut(usize, &Path) -> io::Result<()>,
) -> Result<(), WriteError> {
    let mut done: Vec<(PathBuf, Option<tempfile::TempPath>)> = Vec::new();
    let mut failure = None;
    for (i, file) in staged.into_iter().enumerate() {
        let destination = file.destination.clone();
        let step = backup(&destination).and_then(|kept| {
            before_replace(i, &destination).map_err(WriteError::io(&destination))?;
            file.commit()?;
            Ok(kept)
        });
        match step {
            Ok(kept) => done.push((destination, kept)),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let Some(failure) = failure else {
        // The backups are temporary paths: dropping them deletes them.
        return Ok(());
    };
    for (destination, kept) in done.into_iter().rev() {
        match kept {
            Some(kept) => {
                // Best effort: the first failure is the one reported.
                let _ = kept.persist(&destination);
            }
            None => {
                let _ = std::fs::remove_file(&destination);
            }
        }
    }
    Err(failure)
}

/// Keeps the current `destination` under a temporary name beside it (`None` when it does not
/// exist).
fn backup(destination: &Path) -> Result<Option<tempfile::TempPath>, WriteError> {
    if !destination.exists() {
        return Ok(None);
    }
    let dir = parent(destination);
    let path = tempfile::Builder::new()
        .prefix(".kubectl-pattern-backup-")
        .tempfile_in(&dir)
        .map_err(WriteError::io(&dir))?
        .into_temp_path();
    // A hard link keeps the very file (inode, mode, owner); a copy where links are refused.
    std::fs::remove_file(&path).map_err(WriteError::io(&path))?;
    std::fs::hard_link(destination, &path)
        .or_else(|_| std::fs::copy(destination, &path).map(drop))
        .map_err(WriteError::io(destination))?;
    Ok(Some(path))
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

    fn files(dir: &Path, n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let path = dir.join(format!("f{i}.yaml"));
                std::fs::write(&path, format!("old {i}")).unwrap();
                path
            })
            .collect()
    }

    fn stage_new(paths: &[PathBuf]) -> Vec<Staged> {
        paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                stage(
                    p,
                    format!("new {i}").as_bytes(),
                    Permissions::LikeDestination,
                )
                .unwrap()
            })
            .collect()
    }

    fn contents(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    #[test]
    fn commit_all_replaces_every_file_and_leaves_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), 4);
        commit_all(stage_new(&paths)).unwrap();
        assert_eq!(contents(&paths), ["new 0", "new 1", "new 2", "new 3"]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }

    #[test]
    fn a_fault_at_the_nth_replacement_rolls_back_the_files_already_replaced() {
        for n in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let paths = files(dir.path(), 5);
            let mut seen = Vec::new();
            let err = commit_all_with(stage_new(&paths), &mut |i, _| {
                seen.push(i);
                match i == n {
                    true => Err(io::Error::other("injected fault")),
                    false => Ok(()),
                }
            })
            .unwrap_err();
            assert!(err.to_string().contains("injected fault"), "{err}");
            assert_eq!(seen, (0..=n).collect::<Vec<_>>(), "stops at the fault");
            let old: Vec<String> = (0..5).map(|i| format!("old {i}")).collect();
            assert_eq!(
                contents(&paths),
                old,
                "fault at file {n}: every file as it was"
            );
            let names: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(names.len(), 5, "no staged or backup file left: {names:?}");
        }
    }

    #[test]
    fn a_real_rename_failure_midway_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), 3);
        let staged = stage_new(&paths);
        // The third destination becomes a non-empty directory: the rename onto it fails.
        std::fs::remove_file(&paths[2]).unwrap();
        std::fs::create_dir(&paths[2]).unwrap();
        std::fs::write(paths[2].join("x"), "x").unwrap();
        assert!(commit_all(staged).is_err());
        assert_eq!(contents(&paths[..2]), ["old 0", "old 1"]);
        assert!(paths[2].join("x").exists());
    }
}
