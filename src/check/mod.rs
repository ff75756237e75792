//! The checker: resolves every name, types every value, applies the rules of
//! docs/language.md, and turns the syntax tree into a checked [`Pipeline`].
//!
//! It records each mistake and substitutes [`Type::Invalid`](types::Type::Invalid) for the value in
//! question, so one mistake gives one diagnostic and every independent mistake
//! of a file is reported in one run.
//!
//! One walk over the file checks each statement: `scope` resolves names,
//! `expr` types values, `attrs` checks blocks, `statements`, `steps`,
//! `update` and `register` check one statement each. Then `flow` reads the
//! checked steps for the rules about their order.

mod attrs;
pub mod error;
mod expr;
pub mod files;
mod flow;
pub mod pipeline;
mod register;
mod schema;
mod scope;
mod statements;
mod steps;
mod taskdef;
pub mod types;
mod update;
mod validate;

use std::collections::HashMap;
use std::path::Path;

use crate::syntax::ast::{self, Item, Span};
pub use error::CheckError;
use files::FileSystem;
use pipeline::{Expr, Pipeline, Step};
use scope::Scope;

/// What the checker needs to know about where the file lives.
pub struct Context<'a> {
    /// Relative paths in the pipeline (build contexts, task definition files)
    /// are resolved against this directory: where ecsflow runs.
    pub base_dir: &'a Path,
    /// The pipeline's name when it has no `pipeline "…"` line: the file's stem.
    pub default_name: String,
}

pub struct Outcome {
    /// The checked pipeline, when the file has no error (warnings allowed).
    pub pipeline: Option<Pipeline>,
    /// Errors and warnings, in the order they appear in the file.
    pub diagnostics: Vec<CheckError>,
}

/// Checks `file`, reading the files it names from the disk.
pub fn check(file: &ast::File, context: &Context<'_>) -> Outcome {
    check_with(file, context, &files::Disk)
}

/// Checks `file`, reading the files it names through `files`.
pub fn check_with(file: &ast::File, context: &Context<'_>, files: &dyn FileSystem) -> Outcome {
    Checker::new(context, files, &file.items).run(file)
}

struct Checker<'c> {
    context: &'c Context<'c>,
    files: &'c dyn FileSystem,
    errors: Vec<CheckError>,
    scope: Scope,
    /// Declarations a file makes once, with where it first made each.
    singletons: HashMap<&'static str, Span>,
    pipeline_name: Option<String>,
    region: Option<Expr>,
    cluster: Option<Expr>,
    awaited: flow::AwaitedSpans,
}

impl<'c> Checker<'c> {
    fn new(context: &'c Context<'c>, files: &'c dyn FileSystem, items: &[Item]) -> Self {
        Checker {
            context,
            files,
            errors: Vec::new(),
            scope: Scope::new(items),
            singletons: HashMap::new(),
            pipeline_name: None,
            region: None,
            cluster: None,
            awaited: HashMap::new(),
        }
    }

    fn run(mut self, file: &ast::File) -> Outcome {
        let mut on_failure_blocks: Vec<&[Item]> = Vec::new();
        let mut steps = Vec::new();
        for item in &file.items {
            if let Item::OnFailure { keyword, steps: block } = item {
                // A second block is reported, and its steps checked all the same.
                self.singleton("on-failure", *keyword);
                on_failure_blocks.push(block);
            } else if let Some(step) = self.item(item) {
                steps.push(step);
            }
        }
        self.scope.enter_on_failure();
        // Every block's steps: the flow rules read a second block too, and
        // with a second block (an error) the pipeline is not produced.
        let on_failure: Vec<Step> = on_failure_blocks.into_iter().flat_map(|items| self.items(items)).collect();

        let Checker { context, mut errors, scope, pipeline_name, region, cluster, awaited, .. } = self;
        let (bindings, unused) = scope.finish();
        let name = pipeline_name.unwrap_or_else(|| context.default_name.clone());
        let pipeline = Pipeline { name, region, cluster, bindings, steps, on_failure };
        errors.extend(flow::check(&pipeline, &awaited));
        errors.extend(unused);

        errors.sort_by_key(CheckError::position);
        let has_error = errors.iter().any(|e| !e.is_warning());
        Outcome { pipeline: (!has_error).then_some(pipeline), diagnostics: errors }
    }
}

#[cfg(test)]
mod tests;
