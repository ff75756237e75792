//! The checker's output, the checked pipeline the interpreter will run:
//! names resolved to bindings, enumerated attributes decoded, steps in order.

use std::path::Path;

use ecsflow::check::pipeline::{Action, Base, BindingKind, CircuitBreaker, ExprKind, ParamType, Wait};
use ecsflow::source::check_bytes;

fn checked(name: &str) -> ecsflow::check::pipeline::Pipeline {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("pipelines").join(name);
    let file = check_bytes(&path, &std::fs::read(&path).unwrap(), root);
    assert!(file.problems.is_empty(), "{name} has problems");
    file.pipeline.expect("a pipeline without errors is checked")
}

#[test]
fn the_web_pipeline_resolves_to_ordered_steps() {
    let pipeline = checked("web.ecsflow");
    assert_eq!(pipeline.name, "web");
    let kinds: Vec<&str> = pipeline
        .steps
        .iter()
        .map(|step| match &step.action {
            Action::Build(_) => "build",
            Action::Push(_) => "push",
            Action::Register(_) => "register",
            Action::SuspendScaling { .. } => "suspend-scaling",
            Action::Update(_) => "update",
            Action::AwaitStable { .. } => "await-stable",
            Action::ResumeScaling { .. } => "resume-scaling",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["build", "push", "register", "suspend-scaling", "update", "await-stable", "resume-scaling"]);

    let Action::Update(update) = &pipeline.steps[4].action else { panic!() };
    assert_eq!(pipeline.binding(update.service).name, "web");
    assert_eq!(update.circuit_breaker, Some(CircuitBreaker::Rollback));
    // `task-definition = td` points at the binding the register step fills.
    let Some(ExprKind::Binding(td)) = update.task_definition.as_ref().map(|v| &v.kind) else { panic!() };
    assert_eq!(pipeline.steps[2].binds, Some(*td));
    assert!(matches!(pipeline.binding(*td).kind, BindingKind::StepResult));

    let replicas = pipeline.bindings.iter().find(|b| b.name == "replicas").unwrap();
    assert!(matches!(replicas.kind, BindingKind::Param { ty: ParamType::Int, default: Some(_) }));
    assert_eq!(pipeline.on_failure.len(), 1);
    assert!(matches!(pipeline.on_failure[0].action, Action::Rollback { to: None, .. }));
}

#[test]
fn the_migration_runs_the_registered_file_and_waits_for_success() {
    let pipeline = checked("migrate.ecsflow");
    let register = pipeline.steps.iter().find_map(|s| match &s.action {
        Action::Register(r) => Some(r),
        _ => None,
    });
    let register = register.unwrap();
    assert!(matches!(register.base, Base::File(_)));
    assert_eq!(register.containers[0].name, "api");
    let run_task = pipeline.steps.iter().find_map(|s| match &s.action {
        Action::RunTask(r) => Some(r),
        _ => None,
    });
    let run_task = run_task.unwrap();
    assert_eq!(run_task.wait, Wait::Success);
    assert_eq!(pipeline.binding(run_task.like.unwrap()).name, "api");
}

#[test]
fn a_file_with_errors_yields_no_pipeline() {
    let file = check_bytes(Path::new("x.ecsflow"), b"update nope\n", Path::new("."));
    assert!(file.pipeline.is_none());
    assert_eq!(file.problems.len(), 1);
}

#[test]
fn the_blue_green_pipeline_continues_after_its_check_and_rolls_back_on_failure() {
    use ecsflow::check::pipeline::{HookAction, Until};
    let pipeline = checked("blue-green.ecsflow");
    let Action::AwaitStable { until: Until::Paused, .. } = &pipeline.steps[2].action else { panic!() };
    let Action::Continue { service, action: HookAction::Continue, timeout: None } = &pipeline.steps[4].action else {
        panic!()
    };
    assert_eq!(pipeline.binding(*service).name, "web");
    let Action::Continue { action: HookAction::Rollback, .. } = &pipeline.on_failure[0].action else { panic!() };
}
