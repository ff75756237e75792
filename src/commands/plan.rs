//! `ecsflow plan`: what a run would change, with read-only AWS calls.

use std::path::Path;
use std::sync::Arc;

use super::{prepare, Error, Input, Outcome, Prepared};
use crate::aws::retry::{self, Observer};
use crate::aws::{Aws, ConnectOptions};
use crate::eval::ProcessEnvironment;
use crate::resolve::{Ledger, Resolver, Settings};

pub fn plan(
    path: &Path,
    params: &[(String, String)],
    options: &ConnectOptions,
    json: bool,
    builder: Option<crate::image::BuilderKind>,
) -> Result<Outcome, Error> {
    let Prepared { base_dir, file, scope, defaults, options, runtime } = prepare(&Input::File(path), params, options)?;
    let pipeline = file.pipeline.as_ref().expect("prepared pipelines are checked");
    let env = ProcessEnvironment;
    runtime.block_on(async {
        let aws = Aws::connect(&options).await?;
        let settings =
            Settings { default_cluster: defaults.cluster.clone().unwrap_or_else(|| "default".into()), builder };
        let resolver = Resolver { pipeline, env: &env, base_dir: &base_dir, settings: &settings };
        let planner = crate::plan::Planner::new(&aws, &file.text, resolver, Ledger::new(scope));
        // stdout is the plan alone; a retry wait is said on stderr, one line each.
        let observer: Observer = Arc::new(|note: &str| eprintln!("{note}"));
        match retry::observed(observer, planner.plan()).await {
            Ok(plan) => {
                if json {
                    println!("{}", serde_json::to_string(&plan).unwrap_or_default());
                } else {
                    print!("{}", crate::plan::render(&plan));
                }
                Ok(if plan.changes { Outcome::Changes } else { Outcome::Done })
            }
            Err(error) => {
                Err(Error::PlanFailed { path: file.path.clone(), text: file.text.clone(), error: Box::new(error) })
            }
        }
    })
}
