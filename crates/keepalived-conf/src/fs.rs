//! Where configuration files come from: the real file system (regular files only, with a size
//! limit, never blocking on a FIFO or a device) or an in-memory one (tests, the fuzz target, tools
//! that hold a configuration in memory); and keepalived's include patterns, csh-style braces
//! expanded first, then globs.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Why a configuration file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// Opening or reading failed (not found, permission, ...).
    #[error("{0}")]
    Io(io::Error),
    /// The path is a directory.
    #[error("it is a directory")]
    Directory,
    /// The path is a FIFO, a socket or a device: keepalived reads regular files only (and
    /// `/dev/zero` or a FIFO would never end or never start).
    #[error("it is not a regular file (it is a {0})")]
    NotRegular(&'static str),
    /// The file is executable: keepalived skips executable configuration files.
    #[error("it is executable, and keepalived reads only non-executable files")]
    Executable,
    /// The file is larger than the limit ([`crate::Options::input_limit`]).
    #[error("it is {size} bytes or more, over the limit of {limit} bytes")]
    TooLarge {
        /// The size found (at least).
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// The files a configuration is read from. [`RealFs`] is the default; [`MemoryFs`] holds files in
/// memory. Implementations must not block: a path that is not a regular file is an error.
pub trait FileSystem: fmt::Debug + Send + Sync {
    /// Reads a whole regular file of at most `limit` bytes.
    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, FileError>;

    /// The paths matching a glob pattern (`*`, `?`, `[...]`; braces are already expanded), in
    /// sorted order, without names starting with a dot unless the pattern spells the dot.
    /// `Err` says why the pattern is not valid.
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String>;

    /// A name that is the same for every path of one file (the canonical path), used to tell a
    /// file included again from an include loop.
    fn identity(&self, path: &Path) -> PathBuf;
}

fn match_options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    }
}

/// The real file system, read as keepalived reads it: regular, non-executable files only.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl RealFs {
    fn check(meta: &std::fs::Metadata, limit: u64) -> Result<(), FileError> {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let kind = meta.file_type();
        if kind.is_dir() {
            return Err(FileError::Directory);
        }
        if !kind.is_file() {
            let name = if kind.is_fifo() {
                "FIFO"
            } else if kind.is_socket() {
                "socket"
            } else if kind.is_char_device() {
                "character device"
            } else if kind.is_block_device() {
                "block device"
            } else {
                "special file"
            };
            return Err(FileError::NotRegular(name));
        }
        if meta.permissions().mode() & 0o111 != 0 {
            return Err(FileError::Executable);
        }
        if meta.len() > limit {
            return Err(FileError::TooLarge {
                size: meta.len(),
                limit,
            });
        }
        Ok(())
    }
}

impl FileSystem for RealFs {
    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
        use std::os::unix::fs::OpenOptionsExt;
        // The type is checked before opening, so that a FIFO is never opened; the open is
        // non-blocking all the same, and the opened file is checked again, in case the path
        // changed in between.
        Self::check(&std::fs::metadata(path).map_err(FileError::Io)?, limit)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(FileError::Io)?;
        let meta = file.metadata().map_err(FileError::Io)?;
        Self::check(&meta, limit)?;
        // At most one byte over the limit is read, even if the file grows meanwhile.
        let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(FileError::Io)?;
        if bytes.len() as u64 > limit {
            return Err(FileError::TooLarge {
                size: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes)
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        if !pattern.contains(['*', '?', '[']) {
            // A plain name: one look at the disk, not a directory walk.
            let path = PathBuf::from(pattern);
            return Ok(if std::fs::symlink_metadata(&path).is_ok() {
                vec![path]
            } else {
                Vec::new()
            });
        }
        let paths = glob::glob_with(pattern, match_options()).map_err(|e| e.to_string())?;
        Ok(paths.filter_map(Result::ok).collect())
    }

    fn identity(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }
}

/// Files held in memory, by absolute path: for tests, the fuzz target, and tools that build a
/// configuration without writing it to disk. Directories exist implicitly (a file's parents).
#[derive(Clone, Default)]
pub struct MemoryFs {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl fmt::Debug for MemoryFs {
    /// The paths and sizes, not the contents (which may be megabytes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.files.iter().map(|(path, bytes)| (path, bytes.len())))
            .finish()
    }
}

impl MemoryFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file; `path` is made absolute against `/` and normalised.
    pub fn insert(&mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) {
        self.files
            .insert(normalize(&Path::new("/").join(path)), contents.into());
    }
}

impl FileSystem for MemoryFs {
    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
        let path = normalize(&Path::new("/").join(path));
        match self.files.get(&path) {
            Some(bytes) if bytes.len() as u64 > limit => Err(FileError::TooLarge {
                size: bytes.len() as u64,
                limit,
            }),
            Some(bytes) => Ok(bytes.clone()),
            None if self.files.keys().any(|k| k.starts_with(&path)) => Err(FileError::Directory),
            None => Err(FileError::Io(io::Error::from(io::ErrorKind::NotFound))),
        }
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let absolute = normalize(&Path::new("/").join(pattern));
        let pattern = glob::Pattern::new(&absolute.to_string_lossy()).map_err(|e| e.to_string())?;
        let options = match_options();
        Ok(self
            .files
            .keys()
            .filter(|k| pattern.matches_path_with(k, options))
            .cloned()
            .collect())
    }

    fn identity(&self, path: &Path) -> PathBuf {
        normalize(&Path::new("/").join(path))
    }
}

/// `.` and `..` resolved without looking at the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Most patterns one include's braces may expand to.
pub(crate) const MAX_BRACE_PATTERNS: usize = 1024;

/// csh-style brace expansion, as glob(3) does it with `GLOB_BRACE`: `a{b,c{d,e}}f` gives `abf`,
/// `acdf`, `acef`, in that order. A `{` without its `}`, and `{}`, stay as they are; `\{` is
/// not a brace. `None` when there would be more than [`MAX_BRACE_PATTERNS`] patterns.
pub(crate) fn expand_braces(pattern: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    // Patterns still to expand, the next one last; each step removes one brace group, so the
    // work is bounded by the number of patterns times the braces of one.
    let mut todo = vec![pattern.to_string()];
    let mut steps = 0usize;
    while let Some(p) = todo.pop() {
        steps += 1;
        if steps > MAX_BRACE_PATTERNS * 64 {
            return None;
        }
        match first_group(&p) {
            None => {
                out.push(p);
                if out.len() > MAX_BRACE_PATTERNS {
                    return None;
                }
            }
            Some((open, close, commas)) => {
                let (head, tail) = (&p[..open], &p[close + 1..]);
                let mut from = open + 1;
                let mut alternatives = Vec::with_capacity(commas.len() + 1);
                for &comma in commas.iter().chain(std::iter::once(&close)) {
                    alternatives.push(format!("{head}{}{tail}", &p[from..comma]));
                    from = comma + 1;
                }
                if todo.len() + alternatives.len() > MAX_BRACE_PATTERNS {
                    return None;
                }
                todo.extend(alternatives.into_iter().rev());
            }
        }
    }
    Some(out)
}

/// The first `{` that has a matching `}` (and is not `{}`): its offset, the `}`'s, and the
/// commas between them at its own level.
fn first_group(p: &str) -> Option<(usize, usize, Vec<usize>)> {
    let bytes = p.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => {
                let mut depth = 0usize;
                let mut commas = Vec::new();
                let mut j = i + 1;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 1,
                        b'{' => depth += 1,
                        b'}' if depth == 0 => break,
                        b'}' => depth -= 1,
                        b',' if depth == 0 => commas.push(j),
                        _ => {}
                    }
                    j += 1;
                }
                if j < bytes.len() && j > i + 1 {
                    return Some((i, j, commas));
                }
                // No matching `}` (or `{}`): a literal brace.
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_in_order_and_nest() {
        assert_eq!(
            expand_braces("parts/{global,vrrp}.conf").unwrap(),
            ["parts/global.conf", "parts/vrrp.conf"]
        );
        assert_eq!(
            expand_braces("{foo/{,cat,dog},bar}").unwrap(),
            ["foo/", "foo/cat", "foo/dog", "bar"]
        );
        assert_eq!(expand_braces("a{b}c").unwrap(), ["abc"]);
        assert_eq!(expand_braces("a{}c{").unwrap(), ["a{}c{"]);
        assert_eq!(expand_braces(r"a\{b,c}").unwrap(), [r"a\{b,c}"]);
        assert!(expand_braces(&"{a,b}".repeat(11)).is_none());
        assert_eq!(expand_braces(&"{a,b}".repeat(10)).unwrap().len(), 1024);
    }

    #[test]
    fn deep_braces_are_bounded() {
        let deep = format!("{}x{}", "{".repeat(3000), "}".repeat(3000));
        // Each step removes one level: 3000 steps, one pattern.
        assert_eq!(expand_braces(&deep).unwrap(), ["x"]);
    }

    #[test]
    fn memory_fs_reads_globs_and_refuses_directories() {
        let mut fs = MemoryFs::new();
        fs.insert("/etc/k/a.conf", "a");
        fs.insert("/etc/k/conf.d/b.conf", "b");
        fs.insert("/etc/k/conf.d/.hidden.conf", "h");
        assert_eq!(fs.read(Path::new("/etc/k/./a.conf"), 10).unwrap(), b"a");
        assert!(matches!(
            fs.read(Path::new("/etc/k/conf.d"), 10),
            Err(FileError::Directory)
        ));
        assert!(matches!(
            fs.read(Path::new("/etc/k/a.conf"), 0),
            Err(FileError::TooLarge { size: 1, limit: 0 })
        ));
        assert_eq!(
            fs.glob("/etc/k/conf.d/*.conf").unwrap(),
            [PathBuf::from("/etc/k/conf.d/b.conf")]
        );
        assert_eq!(
            fs.identity(Path::new("/etc/k/conf.d/../a.conf")),
            Path::new("/etc/k/a.conf")
        );
    }
}
