//! Holds a run to its plan: the mutating calls `plan --format json` lists
//! against the ones moto's recorder sees the run make.
#![allow(dead_code)]

use super::emulator::Emulator;

/// `(api, target)`, as plan names calls.
pub type Call = (String, String);

/// Runs the binary with these arguments: `(exit code, stdout, stderr)`.
pub type Ecsflow<'a> = &'a dyn Fn(&[&str]) -> (i32, String, String);

/// Plan's calls as groups: one group a step, and one for a whole `parallel`
/// block, whose calls may come in any order.
pub fn planned_groups(steps: &serde_json::Value) -> Vec<Vec<Call>> {
    fn calls(step: &serde_json::Value, out: &mut Vec<Call>) {
        for call in step["calls"].as_array().unwrap() {
            out.push((call["api"].as_str().unwrap().to_string(), call["target"].as_str().unwrap().to_string()));
        }
        for child in step["steps"].as_array().into_iter().flatten() {
            calls(child, out);
        }
    }
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            let mut group = Vec::new();
            calls(step, &mut group);
            group
        })
        .filter(|group| !group.is_empty())
        .collect()
}

/// The mutating calls moto recorded, named as plan names them.
pub fn recorded_calls(emulator: &Emulator) -> Vec<Call> {
    let mut calls = Vec::new();
    for (target, body) in emulator.recorded_requests() {
        let (service, action) = target.split_once('.').unwrap();
        if ["Describe", "List", "Get"].iter().any(|read| action.starts_with(read)) {
            continue;
        }
        let text = |key: &str| body[key].as_str().unwrap_or_default().to_string();
        let short = |arn: String| arn.rsplit('/').next().unwrap_or_default().to_string();
        let (api, target) = match (service, action) {
            (s, "UpdateService") if s.starts_with("AmazonEC2ContainerService") => {
                ("ecs:UpdateService", format!("{}/{}", text("cluster"), text("service")))
            }
            (s, "RegisterTaskDefinition") if s.starts_with("AmazonEC2ContainerService") => {
                ("ecs:RegisterTaskDefinition", text("family"))
            }
            (s, "DeregisterTaskDefinition") if s.starts_with("AmazonEC2ContainerService") => {
                ("ecs:DeregisterTaskDefinition", short(text("taskDefinition")))
            }
            (s, "RunTask") if s.starts_with("AmazonEC2ContainerService") => {
                ("ecs:RunTask", format!("{}/{}", text("cluster"), short(text("taskDefinition"))))
            }
            // `service-deployment/CLUSTER/SERVICE/ID`: plan names the service.
            (s, "ContinueServiceDeployment") if s.starts_with("AmazonEC2ContainerService") => {
                let arn = text("serviceDeploymentArn");
                let path: Vec<&str> = arn.rsplit('/').take(3).collect();
                ("ecs:ContinueServiceDeployment", format!("{}/{}", path[2], path[1]))
            }
            ("AnyScaleFrontendService", "RegisterScalableTarget") => {
                ("application-autoscaling:RegisterScalableTarget", text("ResourceId"))
            }
            (service, action) => panic!("a mutating call this test does not know: {service}.{action}"),
        };
        calls.push((api.to_string(), target));
    }
    calls
}

/// Plans, runs (`params` go to both, `run_only` to the run), and holds the
/// run to the plan. Returns the plan's JSON and
/// the run's output.
pub fn plan_then_run(
    emulator: &Emulator,
    ecsflow: Ecsflow<'_>,
    pipeline: &str,
    params: &[&str],
    run_only: &[&str],
) -> (serde_json::Value, String) {
    let (code, stdout, stderr) = ecsflow(&[&["plan", pipeline, "--format", "json"], params].concat());
    assert!(code == 0 || code == 2, "plan failed ({code}):\n{stdout}\n{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    emulator.start_recording();
    let (code, stdout, stderr) = ecsflow(&[&["run", pipeline], params, run_only].concat());
    assert_eq!(code, 0, "run failed:\n{stdout}\n{stderr}");
    let mut recorded = recorded_calls(emulator).into_iter();
    // Image pushes go to the registry, not to moto: callers check those.
    let groups: Vec<Vec<Call>> = planned_groups(&plan["steps"])
        .into_iter()
        .map(|group| group.into_iter().filter(|(api, _)| !api.starts_with("ecr:")).collect::<Vec<_>>())
        .filter(|group| !group.is_empty())
        .collect();
    for group in &groups {
        let mut planned = group.clone();
        let mut made: Vec<Call> = recorded.by_ref().take(planned.len()).collect();
        planned.sort();
        made.sort();
        assert_eq!(made, planned, "the run's calls differ from the plan's\nplan: {groups:#?}\nrun output:\n{stdout}");
    }
    let extra: Vec<Call> = recorded.collect();
    assert!(extra.is_empty(), "the run made calls the plan did not list: {extra:?}\nplan: {groups:#?}");
    (plan, format!("{stdout}{stderr}"))
}
