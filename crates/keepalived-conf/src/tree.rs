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

/// Reads the input one top-level statement at a time: the statements of that one block sit
/// in one vector, each block a range of it, and its argument words in another. The model is
/// built from each top-level statement before the next is read, and the vectors are reused,
/// so a configuration of 2,300 virtual servers never holds more than one of them as a tree.
pub(crate) struct TreeParser<'a, 's> {
    pub(crate) lexer: &'a mut Lexer<'s>,
    /// Statements of blocks still open.
    nodes: Vec<Node<'s>>,
    /// Every argument word of the current top-level statement; statements hold ranges of it.
    pub(crate) words: Vec<Word<'s>>,
    /// Finished statements of the current top-level statement; blocks are ranges of it.
    pub(crate) done: Vec<Node<'s>>,
}

impl<'a, 's> TreeParser<'a, 's> {
    pub(crate) fn new(lexer: &'a mut Lexer<'s>) -> Self {
        Self {
            lexer,
            nodes: Vec::new(),
            words: Vec::new(),
            done: Vec::new(),
        }
    }

    /// Reads the next top-level statement (after dropping the previous one): a range of
    /// [`Self::done`] holding it, `None` at the end of the input.
    pub(crate) fn next_top(&mut self) -> Option<(u32, u32)> {
        self.words.clear();
        self.done.clear();
        loop {
            let token = self.lexer.next_token()?;
            match token.tok {
                Tok::Eol => {}
                Tok::Close => self.error(token.origin, "`}` without a matching `{`"),
                Tok::Open => {
                    self.error(token.origin, "`{` without a keyword before it");
                    let _ = self.sub_block(token.origin, 0);
                    self.words.clear();
                    self.done.clear();
                }
                Tok::Word(text) => {
                    let keyword = Word {
                        text,
                        origin: token.origin,
                    };
                    let base = self.nodes.len();
                    self.statement(keyword, 0);
                    return Some(self.finish(base));
                }
            }
        }
    }

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
