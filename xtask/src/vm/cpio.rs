//! A writer for the `newc` cpio format, the one the kernel unpacks as an initramfs.
//!
//! Every entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex fields), the name
//! with its NUL, padding to 4 bytes, the data, padding to 4 bytes. The archive ends with an entry
//! named `TRAILER!!!`. The kernel does not create parent directories for a file, so [`Tree`]
//! adds them and writes entries in path order (a parent sorts before its children).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// What one path of the image holds.
#[derive(Debug, Clone, Hash)]
pub(crate) enum Node {
    Dir,
    /// A file copied from the host when the archive is written.
    Copy {
        from: PathBuf,
        mode: u32,
    },
    /// A file whose bytes are given.
    Bytes {
        data: Vec<u8>,
        mode: u32,
    },
    Symlink(String),
    /// A character device (major, minor).
    CharDev(u32, u32),
}

/// The files of an image, by absolute path inside it.
#[derive(Debug, Default, Clone, Hash)]
pub(crate) struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    /// Adds (or replaces) `path`, and the directories above it.
    pub(crate) fn insert(&mut self, path: &str, node: Node) {
        let path = path.trim_start_matches('/');
        let mut parent = String::new();
        for part in Path::new(path).parent().into_iter().flat_map(Path::iter) {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(&part.to_string_lossy());
            self.nodes.entry(parent.clone()).or_insert(Node::Dir);
        }
        self.nodes.insert(path.to_string(), node);
    }

    /// Adds `path` only if nothing is there yet.
    pub(crate) fn insert_new(&mut self, path: &str, node: Node) {
        if !self.contains(path) {
            self.insert(path, node);
        }
    }

    pub(crate) fn contains(&self, path: &str) -> bool {
        self.nodes.contains_key(path.trim_start_matches('/'))
    }

    /// The host files the tree copies, for the cache key.
    pub(crate) fn sources(&self) -> impl Iterator<Item = &Path> {
        self.nodes.values().filter_map(|node| match node {
            Node::Copy { from, .. } => Some(from.as_path()),
            _ => None,
        })
    }

    /// Writes the whole tree as one newc archive.
    pub(crate) fn write_to(&self, out: &Path) -> io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
        for (ino, (path, node)) in self.nodes.iter().enumerate() {
            let ino = ino as u32 + 1;
            match node {
                Node::Dir => header(&mut w, path, ino, S_IFDIR | 0o755, 0, (0, 0))?,
                Node::Symlink(target) => {
                    header(&mut w, path, ino, S_IFLNK | 0o777, target.len(), (0, 0))?;
                    data(&mut w, target.as_bytes())?;
                }
                Node::CharDev(major, minor) => {
                    header(&mut w, path, ino, S_IFCHR | 0o600, 0, (*major, *minor))?
                }
                Node::Bytes { data: bytes, mode } => {
                    header(&mut w, path, ino, S_IFREG | mode, bytes.len(), (0, 0))?;
                    data(&mut w, bytes)?;
                }
                Node::Copy { from, mode } => {
                    let bytes = std::fs::read(from).map_err(|e| {
                        io::Error::new(e.kind(), format!("{}: {e}", from.display()))
                    })?;
                    header(&mut w, path, ino, S_IFREG | mode, bytes.len(), (0, 0))?;
                    data(&mut w, &bytes)?;
                }
            }
        }
        trailer(&mut w)?;
        w.flush()
    }
}

/// Writes a single-file-per-entry archive of `files` (path, contents, mode), for small per-run
/// additions appended after a cached image.
pub(crate) fn small_archive(files: &[(&str, &[u8], u32)]) -> io::Result<Vec<u8>> {
    let mut w = Vec::new();
    for (ino, (path, bytes, mode)) in files.iter().enumerate() {
        let path = path.trim_start_matches('/');
        header(
            &mut w,
            path,
            0x10_0000 + ino as u32,
            S_IFREG | mode,
            bytes.len(),
            (0, 0),
        )?;
        data(&mut w, bytes)?;
    }
    trailer(&mut w)?;
    Ok(w)
}

fn header(
    w: &mut impl Write,
    name: &str,
    ino: u32,
    mode: u32,
    size: usize,
    (rdev_major, rdev_minor): (u32, u32),
) -> io::Result<()> {
    let size = u32::try_from(size).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{name} is over 4 GiB"))
    })?;
    let nlink = if mode & S_IFDIR == S_IFDIR { 2 } else { 1 };
    let namesize = name.len() + 1;
    write!(
        w,
        "070701{ino:08x}{mode:08x}{uid:08x}{gid:08x}{nlink:08x}{mtime:08x}{size:08x}\
         {major:08x}{minor:08x}{rdev_major:08x}{rdev_minor:08x}{namesize:08x}{check:08x}",
        uid = 0,
        gid = 0,
        mtime = 0,
        major = 0,
        minor = 0,
        check = 0,
    )?;
    w.write_all(name.as_bytes())?;
    w.write_all(&[0])?;
    pad(w, 110 + namesize)
}

fn data(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes)?;
    pad(w, bytes.len())
}

fn trailer(w: &mut impl Write) -> io::Result<()> {
    header(w, "TRAILER!!!", 0, 0, 0, (0, 0))
}

fn pad(w: &mut impl Write, len: usize) -> io::Result<()> {
    let fill = (4 - len % 4) % 4;
    w.write_all(&[0; 3][..fill])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_aligned_and_parents_come_first() {
        let mut tree = Tree::default();
        tree.insert(
            "/a/b/c.txt",
            Node::Bytes {
                data: b"hello".to_vec(),
                mode: 0o644,
            },
        );
        let dir = std::env::temp_dir().join(format!("xtask-cpio-{}", std::process::id()));
        tree.write_to(&dir).unwrap();
        let bytes = std::fs::read(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let text = String::from_utf8_lossy(&bytes);
        let a = text.find("a\0").unwrap();
        let ab = text.find("a/b\0").unwrap();
        let abc = text.find("a/b/c.txt\0").unwrap();
        assert!(a < ab && ab < abc, "parents must precede children");
        assert!(text.contains("hello"));
        assert!(text.ends_with("TRAILER!!!\0\0\0\0") || text.contains("TRAILER!!!\0"));
        // The first header: magic, then the file size field of the directory is zero.
        assert_eq!(&bytes[..6], b"070701");
        assert_eq!(&bytes[54..62], b"00000000");
    }

    #[test]
    fn small_archive_pads_names_and_data() {
        let archive = small_archive(&[("/x", b"abc", 0o755)]).unwrap();
        assert_eq!(archive.len() % 4, 0);
        // 110 + "x\0" = 112, data 3 -> 4, trailer 110 + 11 = 121 -> 124.
        assert_eq!(archive.len(), 112 + 4 + 124);
        assert_eq!(&archive[112..115], b"abc");
    }
}
