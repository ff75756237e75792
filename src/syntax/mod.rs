//! Text to syntax tree. `parse.rs` is the only file that names pest types.

pub mod ast;
pub mod error;
pub mod names;
mod parse;
pub mod shape;

pub use error::SyntaxError;
pub use names::KEYWORDS;
pub use parse::{parse, MAX_NESTING};
