//! Words and braces to a tree of statements: `keyword args... [{ statements }]`.

use crate::diag::{DiagnosticKind, Diagnostics};
use crate::lex::{Tok, Token};
use crate::source::{Origin, SourceMap};

/// Deepest block nesting accepted; keepalived's own grammar needs five.
const MAX_NESTING: usize = 32;

/// A word with its position.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) origin: Origin,
}

/// One statement: a keyword, its arguments on the same line, and an optional block.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) keyword: Word,
    pub(crate) args: Vec<Word>,
    pub(crate) block: Option<Vec<Node>>,
    /// Where the block's `{` is (for "block never closed").
    pub(crate) open: Origin,
}

pub(crate) fn build(tokens: Vec<Token>, sources: &SourceMap, diags: &mut Diagnostics) -> Vec<Node> {
    let mut parser = TreeParser {
        tokens: tokens.into_iter().peekable(),
        sources,
        diags,
    };
    parser.block(None, 0)
}

struct TreeParser<'a> {
    tokens: std::iter::Peekable<std::vec::IntoIter<Token>>,
    sources: &'a SourceMap,
    diags: &'a mut Diagnostics,
}

impl TreeParser<'_> {
    /// Statements until the matching `}` (when `open` is given) or the end.
    fn block(&mut self, open: Option<Origin>, depth: usize) -> Vec<Node> {
        let mut nodes = Vec::new();
        loop {
            let Some(token) = self.tokens.next() else {
                if let Some(open) = open {
                    self.diags.error(
                        self.sources,
                        DiagnosticKind::Braces,
                        open,
                        "this `{` is never closed",
                    );
                }
                return nodes;
            };
            match token.tok {
                Tok::Eol => {}
                Tok::Close => {
                    if open.is_some() {
                        return nodes;
                    }
                    self.diags.error(
                        self.sources,
                        DiagnosticKind::Braces,
                        token.origin,
                        "`}` without a matching `{`",
                    );
                }
                Tok::Open => {
                    self.diags.error(
                        self.sources,
                        DiagnosticKind::Braces,
                        token.origin,
                        "`{` without a keyword before it",
                    );
                    let _ = self.sub_block(token.origin, depth);
                }
                Tok::Word(text) => {
                    let keyword = Word {
                        text,
                        origin: token.origin,
                    };
                    nodes.push(self.statement(keyword, depth));
                }
            }
        }
    }

    fn sub_block(&mut self, open: Origin, depth: usize) -> Vec<Node> {
        if depth + 1 >= MAX_NESTING {
            self.diags.error(
                self.sources,
                DiagnosticKind::Braces,
                open,
                format!("blocks nest deeper than {MAX_NESTING}"),
            );
            // Skip to the matching close without building anything.
            let mut level = 1usize;
            for token in self.tokens.by_ref() {
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
            return Vec::new();
        }
        self.block(Some(open), depth + 1)
    }

    fn statement(&mut self, keyword: Word, depth: usize) -> Node {
        let mut args = Vec::new();
        loop {
            match self.tokens.peek().map(|t| &t.tok) {
                Some(Tok::Word(_)) => {
                    if let Some(Token {
                        tok: Tok::Word(text),
                        origin,
                    }) = self.tokens.next()
                    {
                        args.push(Word { text, origin });
                    }
                }
                Some(Tok::Open) => {
                    let open = self.tokens.next().map_or(keyword.origin, |t| t.origin);
                    let block = self.sub_block(open, depth);
                    return Node {
                        keyword,
                        args,
                        block: Some(block),
                        open,
                    };
                }
                Some(Tok::Eol) => {
                    self.tokens.next();
                    // The `{` may sit alone on a following line.
                    while matches!(self.tokens.peek().map(|t| &t.tok), Some(Tok::Eol)) {
                        self.tokens.next();
                    }
                    if matches!(self.tokens.peek().map(|t| &t.tok), Some(Tok::Open)) {
                        continue;
                    }
                    return Node {
                        keyword,
                        args,
                        block: None,
                        open: Origin::NONE,
                    };
                }
                Some(Tok::Close) | None => {
                    return Node {
                        keyword,
                        args,
                        block: None,
                        open: Origin::NONE,
                    };
                }
            }
        }
    }
}
