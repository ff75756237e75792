//! `ecsflow plan`: what a run would change, with read-only AWS calls.

use std::path::Path;

use super::{color, exit, prepare, Input, Prepared};
use crate::aws::{Aws, ConnectOptions};
use crate::diagnostic::render_report;
use crate::eval::ProcessEnvironment;

pub fn plan(path: &Path, params: &[(String, String)], options: &ConnectOptions, json: bool) -> i32 {
    let Prepared { base_dir, file, scope, options, runtime, .. } = match prepare(&Input::File(path), params, options) {
        Ok(prepared) => prepared,
        // For `plan`, 2 means "changes": every error is 1.
        Err(_) => return exit::ERRORS,
    };
    let pipeline = file.pipeline.as_ref().expect("prepared pipelines are checked");
    let env = ProcessEnvironment;
    runtime.block_on(async {
        let aws = match Aws::connect(&options).await {
            Ok(aws) => aws,
            Err(error) => {
                eprintln!("error: {error}");
                return exit::ERRORS;
            }
        };
        let planner = crate::plan::Planner::new(&aws, pipeline, &file.text, &base_dir, &env, scope);
        match planner.plan().await {
            Ok(plan) => {
                if json {
                    println!("{}", serde_json::to_string(&plan).unwrap_or_default());
                } else {
                    print!("{}", crate::plan::render(&plan));
                }
                if plan.changes {
                    exit::PLAN_CHANGES
                } else {
                    exit::OK
                }
            }
            Err(error) => {
                eprintln!("{}", render_report(&file.path, &file.text, error, color()));
                exit::ERRORS
            }
        }
    })
}
