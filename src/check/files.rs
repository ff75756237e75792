//! How the checker sees the files a pipeline names (build contexts,
//! Dockerfiles, task definition files), as `eval` sees the environment through
//! `Environment`: the command reads the disk, a test reads memory.

use std::io;
use std::path::Path;

/// What is at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    File {
        len: u64,
    },
    Dir,
    /// A device, socket or pipe: nothing the checker reads.
    Other,
}

pub trait FileSystem {
    /// What is at `path`, following symbolic links; an `io::ErrorKind::NotFound`
    /// error when nothing is.
    fn entry(&self, path: &Path) -> io::Result<Entry>;

    /// The file at `path`, up to `limit` bytes of it.
    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>>;
}

/// The file system of the machine ecsflow runs on.
pub struct Disk;

impl FileSystem for Disk {
    fn entry(&self, path: &Path) -> io::Result<Entry> {
        let metadata = std::fs::metadata(path)?;
        Ok(if metadata.is_file() {
            Entry::File { len: metadata.len() }
        } else if metadata.is_dir() {
            Entry::Dir
        } else {
            Entry::Other
        })
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}
