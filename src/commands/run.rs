//! `ecsflow run`: runs a pipeline against AWS.

use std::path::Path;

use super::{prepare, Error, Input, Outcome, Prepared};
use crate::aws::{Aws, ConnectOptions};
use crate::eval::ProcessEnvironment;
use crate::resolve::{Ledger, Resolver, Settings};

pub fn run(
    path: &Path,
    params: &[(String, String)],
    options: &ConnectOptions,
    style: crate::exec::report::Style,
    builder: Option<crate::image::BuilderKind>,
) -> Result<Outcome, Error> {
    run_input(&Input::File(path), params, options, style, builder)
}

pub(super) fn run_input(
    input: &Input<'_>,
    params: &[(String, String)],
    options: &ConnectOptions,
    style: crate::exec::report::Style,
    builder: Option<crate::image::BuilderKind>,
) -> Result<Outcome, Error> {
    let Prepared { base_dir, file, scope, defaults, options, runtime } = prepare(input, params, options)?;
    let env = ProcessEnvironment;
    runtime.block_on(async {
        // Listen before the first call, so no signal is lost to the default handler.
        let mut signals = crate::exec::Signals::listen().map_err(Error::Signals)?;
        let aws = Aws::connect(&options).await?;
        let reporter = crate::exec::report::Reporter::new(style);
        let cluster = defaults.cluster.clone().unwrap_or_else(|| "default".into());
        let settings = Settings { default_cluster: cluster, builder };
        let pipeline = file.pipeline.as_ref().expect("prepared pipelines are checked");
        let resolver = Resolver { pipeline, env: &env, base_dir: &base_dir, settings: &settings };
        let runner = crate::exec::Runner::new(&aws, (&file.path, &file.text), resolver, &reporter, Ledger::new(scope));
        Error::from_run(runner.run(&mut signals).await)
    })
}
