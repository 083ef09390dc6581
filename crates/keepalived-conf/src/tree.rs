//! Words and braces to a tree of statements: `keyword args... [{ statements }]`.

use std::borrow::Cow;

use crate::diag::DiagnosticKind;
use crate::lex::{Lexer, Tok, Token};
use crate::source::Origin;

/// Deepest block nesting accepted; keepalived's own grammar needs five.
const MAX_NESTING: usize = 32;

/// A word with its position.
#[derive(Debug, Clone)]
pub(crate) struct Word<'s> {
    pub(crate) text: Cow<'s, str>,
    pub(crate) origin: Origin,
}

impl Word<'_> {
    /// The text.
    pub(crate) fn s(&self) -> &str {
        &self.text
    }
}

/// One statement: a keyword, its arguments on the same line, and an optional block.
#[derive(Debug, Clone)]
pub(crate) struct Node<'s> {
    pub(crate) keyword: Word<'s>,
    /// The words after the keyword on its line: a range of [`Tree::words`].
    pub(crate) args: (u32, u32),
    /// The block's statements: a range of [`Tree::nodes`].
    pub(crate) block: Option<(u32, u32)>,
    /// Where the block's `{` is (for "block never closed").
    pub(crate) open: Origin,
}

/// All statements of a configuration in one vector; each block is a range of it, with the
/// statements of a block next to each other.
pub(crate) struct Tree<'s> {
    pub(crate) nodes: Vec<Node<'s>>,
    /// Every argument word; statements hold ranges of it.
    pub(crate) words: Vec<Word<'s>>,
    pub(crate) root: (u32, u32),
}

impl<'s> Tree<'s> {
    /// The top-level statements.
    pub(crate) fn top(&self) -> &[Node<'s>] {
        &self.nodes[self.root.0 as usize..self.root.1 as usize]
    }
}

pub(crate) fn build<'s>(lexer: &mut Lexer<'s>) -> Tree<'s> {
    // A statement per line is the usual shape: reserve that much once instead of growing.
    // Capped by size so that a file of blank lines does not reserve much.
    let files = &lexer.sources().files;
    let lines: usize = files.iter().map(|f| f.line_count()).sum();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    let lines = lines.min(bytes / 16 + 16);
    let mut parser = TreeParser {
        lexer,
        nodes: Vec::new(),
        words: Vec::with_capacity(lines),
        done: Vec::with_capacity(lines),
    };
    let root = parser.block(None, 0);
    Tree {
        nodes: parser.done,
        words: parser.words,
        root,
    }
}

/// Builds blocks on shared stacks and moves each finished block or argument list into a vector
/// of exactly its size: a large configuration has hundreds of thousands of them.
struct TreeParser<'a, 's> {
    lexer: &'a mut Lexer<'s>,
    nodes: Vec<Node<'s>>,
    words: Vec<Word<'s>>,
    done: Vec<Node<'s>>,
}

impl<'s> TreeParser<'_, 's> {
    fn error(&mut self, origin: Origin, message: impl Into<String>) {
        self.lexer.error(DiagnosticKind::Braces, origin, message);
    }

    /// Statements until the matching `}` (when `open` is given) or the end.
    fn block(&mut self, open: Option<Origin>, depth: usize) -> (u32, u32) {
        let base = self.nodes.len();
        loop {
            let Some(token) = self.lexer.next_token() else {
                if let Some(open) = open {
                    self.error(open, "this `{` is never closed");
                }
                return self.finish(base);
            };
            match token.tok {
                Tok::Eol => {}
                Tok::Close => {
                    if open.is_some() {
                        return self.finish(base);
                    }
                    self.error(token.origin, "`}` without a matching `{`");
                }
                Tok::Open => {
                    self.error(token.origin, "`{` without a keyword before it");
                    let _ = self.sub_block(token.origin, depth);
                }
                Tok::Word(text) => {
                    let keyword = Word {
                        text,
                        origin: token.origin,
                    };
                    self.statement(keyword, depth);
                }
            }
        }
    }

    fn sub_block(&mut self, open: Origin, depth: usize) -> (u32, u32) {
        if depth + 1 >= MAX_NESTING {
            self.error(open, format!("blocks nest deeper than {MAX_NESTING}"));
            // Skip to the matching close without building anything.
            let mut level = 1usize;
            while let Some(token) = self.lexer.next_token() {
                match token.tok {
                    Tok::Open => level += 1,
                    Tok::Close => {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            return (0, 0);
        }
        self.block(Some(open), depth + 1)
    }

    /// Moves the statements above `base` on the stack to the end of the finished nodes.
    fn finish(&mut self, base: usize) -> (u32, u32) {
        let start = self.done.len() as u32;
        self.done.extend(self.nodes.drain(base..));
        (start, self.done.len() as u32)
    }

    /// Reads one statement and pushes it on the node stack.
    fn statement(&mut self, keyword: Word<'s>, depth: usize) {
        let base = self.words.len();
        loop {
            match self.lexer.peek() {
                Some(Tok::Word(_)) => {
                    if let Some(Token {
                        tok: Tok::Word(text),
                        origin,
                    }) = self.lexer.next_token()
                    {
                        self.words.push(Word { text, origin });
                    }
                }
                Some(Tok::Open) => {
                    let open = self.lexer.next_token().map_or(keyword.origin, |t| t.origin);
                    let args = (base as u32, self.words.len() as u32);
                    let block = self.sub_block(open, depth);
                    self.nodes.push(Node {
                        keyword,
                        args,
                        block: Some(block),
                        open,
                    });
                    return;
                }
                Some(Tok::Eol) => {
                    self.lexer.next_token();
                    // The `{` may sit alone on a following line.
                    while matches!(self.lexer.peek(), Some(Tok::Eol)) {
                        self.lexer.next_token();
                    }
                    if matches!(self.lexer.peek(), Some(Tok::Open)) {
                        continue;
                    }
                    let args = (base as u32, self.words.len() as u32);
                    self.nodes.push(Node {
                        keyword,
                        args,
                        block: None,
                        open: Origin::NONE,
                    });
                    return;
                }
                Some(Tok::Close) | None => {
                    let args = (base as u32, self.words.len() as u32);
                    self.nodes.push(Node {
                        keyword,
                        args,
                        block: None,
                        open: Origin::NONE,
                    });
                    return;
                }
            }
        }
    }
}
