//! Text to syntax tree. `parse.rs` is the only file that names pest types.

pub mod ast;
pub mod error;
mod parse;

pub use error::SyntaxError;
pub use parse::{parse, KEYWORDS, MAX_NESTING};
