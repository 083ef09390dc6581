//! The files a configuration was read from, and positions inside them.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

/// Where a piece of the model came from: a byte range in one of the loaded files.
///
/// Positions never take part in equality: two models that say the same thing compare equal
/// wherever they were written, which is what `parse(print(model)) == model` needs. They are not
/// serialised either.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin {
    /// Index into [`SourceMap::files`]; `u32::MAX` means "not from a file" (built in code).
    pub file: u32,
    /// Byte offset of the start in that file.
    pub start: u32,
    /// Length in bytes (at least one character is underlined when shown).
    pub len: u32,
}

impl Origin {
    /// An origin for model parts that were built in code rather than read from a file.
    pub const NONE: Self = Self {
        file: u32::MAX,
        start: 0,
        len: 0,
    };

    /// True when this origin points into a loaded file.
    pub fn is_known(&self) -> bool {
        self.file != u32::MAX
    }
}

impl PartialEq for Origin {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

/// A value together with where it was written; compares and serialises as the bare value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub origin: Origin,
}

impl<T> Spanned<T> {
    /// A value with no file position (for models built in code).
    pub fn new(value: T) -> Self {
        Self {
            value,
            origin: Origin::NONE,
        }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// One loaded file: its path, its text and where its lines start.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as it was opened (or the name given to [`crate::parse_str`]).
    pub path: PathBuf,
    /// The whole text (invalid UTF-8 replaced).
    pub text: Arc<str>,
    line_starts: Vec<u32>,
    /// For text that is not all ASCII: the number of characters before each
    /// [`CHAR_INDEX_BLOCK`]-byte block, so that a column costs at most one block's scan.
    char_index: Vec<u32>,
}

/// Bytes per entry of [`SourceFile::char_index`].
const CHAR_INDEX_BLOCK: usize = 4096;

/// True for the bytes that start a character in UTF-8 (not continuation bytes).
fn starts_char(b: u8) -> bool {
    (b as i8) >= -0x40
}

impl SourceFile {
    pub(crate) fn new(path: PathBuf, text: Arc<str>) -> Self {
        let mut line_starts = vec![0u32];
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| (i + 1) as u32));
        let char_index = if text.is_ascii() {
            Vec::new()
        } else {
            let mut chars = 0u32;
            text.as_bytes()
                .chunks(CHAR_INDEX_BLOCK)
                .map(|block| {
                    let before = chars;
                    chars += block.iter().filter(|&&b| starts_char(b)).count() as u32;
                    before
                })
                .collect()
        };
        Self {
            path,
            text,
            line_starts,
            char_index,
        }
    }

    /// Characters before a byte offset, without scanning more than one block.
    fn chars_before(&self, offset: usize) -> usize {
        if self.char_index.is_empty() {
            return offset;
        }
        let block = offset / CHAR_INDEX_BLOCK;
        let from = block * CHAR_INDEX_BLOCK;
        self.char_index[block] as usize
            + self.text.as_bytes()[from..offset]
                .iter()
                .filter(|&&b| starts_char(b))
                .count()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset as usize);
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let col = self.chars_before(offset) - self.chars_before(start) + 1;
        (line + 1, col)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let start = start as usize;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&e| e as usize);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset of the start of a 1-based line.
    pub(crate) fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line.wrapping_sub(1))
            .map_or(self.text.len(), |&s| s as usize)
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| (b == b'\n').then_some(i))
}

pub(crate) fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub(crate) fn ceil_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Every file read while parsing one configuration (the main file first, then includes in the
/// order they were first read; a file included again is not read again).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    /// The files, indexed by [`Origin::file`].
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    pub(crate) fn add(&mut self, path: PathBuf, text: Arc<str>) -> u32 {
        self.files.push(SourceFile::new(path, text));
        (self.files.len() - 1) as u32
    }

    /// The file an origin points into, if any.
    pub fn file(&self, origin: Origin) -> Option<&SourceFile> {
        self.files.get(origin.file as usize)
    }

    /// `path:line:col` of an origin, or `None` for origins built in code.
    pub fn location(&self, origin: Origin) -> Option<Location> {
        let file = self.file(origin)?;
        let (line, column) = file.line_col(origin.start);
        Some(Location {
            path: file.path.clone(),
            line,
            column,
        })
    }
}

/// A resolved position: file, 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}
