//! `ecsflow run`: runs a pipeline against AWS.

use std::path::Path;

use super::{exit, prepare, Input, Prepared};
use crate::aws::{Aws, ConnectOptions};
use crate::eval::ProcessEnvironment;

pub fn run(
    path: &Path,
    params: &[(String, String)],
    options: &ConnectOptions,
    style: crate::exec::report::Style,
    builder: Option<crate::image::BuilderKind>,
) -> i32 {
    run_input(&Input::File(path), params, options, style, builder)
}

pub(super) fn run_input(
    input: &Input<'_>,
    params: &[(String, String)],
    options: &ConnectOptions,
    style: crate::exec::report::Style,
    builder: Option<crate::image::BuilderKind>,
) -> i32 {
    let Prepared { base_dir, file, scope, defaults, options, runtime } = match prepare(input, params, options) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let env = ProcessEnvironment;
    runtime.block_on(async {
        // Listen before the first call, so no signal is lost to the default handler.
        let mut signals = match crate::exec::Signals::listen() {
            Ok(signals) => signals,
            Err(error) => {
                eprintln!("error: cannot listen for signals: {error}");
                return exit::ERRORS;
            }
        };
        let aws = match Aws::connect(&options).await {
            Ok(aws) => aws,
            Err(error) => {
                eprintln!("error: {error}");
                return exit::ERRORS;
            }
        };
        let reporter = crate::exec::report::Reporter::new(style);
        let cluster = defaults.cluster.clone().unwrap_or_else(|| "default".into());
        let settings = crate::exec::Settings { default_cluster: cluster, builder };
        let runner = crate::exec::Runner::new(&aws, &file, &base_dir, &env, &reporter, scope, settings);
        runner.run(&mut signals).await
    })
}
