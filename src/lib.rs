//! ecsflow: a deployment-pipeline language for Amazon ECS and its interpreter.
//!
//! The phases change types: text → [`syntax::ast::File`] → [`check::pipeline::Pipeline`].

pub mod aws;
pub mod check;
pub mod cli;
pub mod commands;
pub mod deployment;
pub mod diagnostic;
pub mod eval;
pub mod exec;
pub mod image;
pub mod plan;
pub mod resolve;
pub mod source;
pub mod suggest;
pub mod syntax;
pub mod taskdef;
pub mod trace;
