//! Everything that can be wrong with a file before its names mean anything.
//! All of it is `ecsflow::syntax`: users fix these by editing the text where
//! the label points.

use miette::Diagnostic;
use thiserror::Error;

use super::ast::Span;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum SyntaxError {
    /// The grammar expected something else here.
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code("ecsflow::syntax"))]
    Unexpected {
        expected: String,
        found: String,
        #[label("expected {expected} here")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("this file is not valid UTF-8")]
    #[diagnostic(code("ecsflow::syntax"), help("save the file as UTF-8; ecsflow reads pipelines as UTF-8 text"))]
    InvalidUtf8 {
        #[label("invalid byte here")]
        span: Span,
    },

    #[error("brackets are nested more than {limit} deep")]
    #[diagnostic(
        code("ecsflow::syntax"),
        help("a pipeline never needs this much nesting; check for a missing closing bracket")
    )]
    TooDeep {
        limit: usize,
        #[label("this bracket is too deep")]
        span: Span,
    },

    #[error("unknown statement `{word}`")]
    #[diagnostic(code("ecsflow::syntax"))]
    UnknownStatement {
        word: String,
        #[label("not a declaration or a step")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("unknown escape `{escape}` in a string")]
    #[diagnostic(code("ecsflow::syntax"), help(r#"the escapes are \" \\ \n \t and \$; write \\ for a backslash"#))]
    UnknownEscape {
        escape: String,
        #[label("unknown escape")]
        span: Span,
    },

    #[error("`{word}` is a reserved word and cannot be a name")]
    #[diagnostic(code("ecsflow::syntax"))]
    ReservedName {
        word: String,
        #[label("reserved word")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("{what} `{text}` is out of range")]
    #[diagnostic(code("ecsflow::syntax"))]
    OutOfRange {
        what: &'static str,
        text: String,
        #[label("out of range")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{keyword}` can only stand at the top level of a file")]
    #[diagnostic(code("ecsflow::syntax"))]
    NotAtTopLevel {
        keyword: &'static str,
        #[label("inside a block")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{keyword}` has no value to bind")]
    #[diagnostic(code("ecsflow::syntax"))]
    NotBindable {
        keyword: &'static str,
        #[label("bound with `let`")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("the parser ran out of stack space on this file")]
    #[diagnostic(
        code("ecsflow::syntax"),
        help("the file nests too deeply to be a pipeline; check for missing closing brackets")
    )]
    ResourceLimit {
        #[label("here")]
        span: Span,
    },
}
