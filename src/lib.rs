//! ecsflow: a deployment-pipeline language for Amazon ECS and its interpreter.
//!
//! The phases change types: text → [`syntax::ast::File`] → [`check::pipeline::Pipeline`].

pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod source;
pub mod suggest;
pub mod syntax;
