//! Steps: each step's operands and block checked, and the step turned into
//! its checked form. `update` and `register` have files of their own.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::error::CheckError;
use super::files::Entry;
use super::pipeline::{
    Action, BindingId, Build, Builder, ContainerOverride, Expr, ExprKind, HookAction, Push, RunTask, Step, Until, Wait,
};
use super::scope::FileContainers;
use super::types::{Type, Want};
use super::{schema, validate, Checker};
use crate::syntax::ast::{self, Block, Span, StepKind};

/// A checked step, with what a `let` that binds it needs to know.
pub(super) struct CheckedStep {
    /// `None` when an operand did not resolve: that is reported, and the
    /// pipeline is not produced.
    pub step: Option<Step>,
    /// The type of the step's value.
    pub ty: Type,
    /// For a `register file`, the containers the file defines.
    pub containers: Option<FileContainers>,
}

impl Checker<'_> {
    pub(super) fn step(&mut self, step: &ast::Step) -> CheckedStep {
        let keyword = step.keyword;
        let name = step.kind.keyword();
        let mut ty = Type::Invalid;
        let mut containers = None;
        let action = match &step.kind {
            StepKind::Build { context, block } => {
                ty = Type::Image;
                Some(Action::Build(self.build(keyword, context, block.as_ref())))
            }
            StepKind::Push { image, repository, block } => {
                ty = Type::ImageRef;
                let image = self.expect(image, Want::Image);
                let repository = match self.expect(repository, Want::Repository).kind {
                    ExprKind::Binding(id) => Some(id),
                    _ => None,
                };
                let attrs = self.block(name, keyword, block.as_ref(), schema::PUSH, None);
                if let Some(tags) = attrs.expr("tags") {
                    self.check_tags(tags);
                }
                let tags = attrs.value("tags").unwrap_or(Expr { span: keyword, kind: ExprKind::List(Vec::new()) });
                repository.map(|repository| Action::Push(Push { image, repository, tags }))
            }
            StepKind::Register { base, block } => {
                ty = Type::TaskDefinition;
                let (register, file_containers) = self.register(keyword, base, block.as_ref());
                containers = file_containers;
                register.map(Action::Register)
            }
            StepKind::SuspendScaling { service } => {
                self.service(service).map(|service| Action::SuspendScaling { service })
            }
            StepKind::ResumeScaling { service } => {
                self.service(service).map(|service| Action::ResumeScaling { service })
            }
            StepKind::Update { service, block } => {
                self.update(keyword, service, block.as_ref()).map(|u| Action::Update(Box::new(u)))
            }
            StepKind::AwaitStable { services, block } => {
                let services = self.awaited_services(keyword, services);
                let attrs = self.block(name, keyword, block.as_ref(), schema::AWAIT_STABLE, None);
                self.positive_duration(attrs.expr("timeout"), "timeout");
                let until = match attrs.word("until") {
                    Some("paused") => Until::Paused,
                    _ => Until::Stable,
                };
                Some(Action::AwaitStable { services, timeout: attrs.value("timeout"), until })
            }
            StepKind::RunTask { task_definition, block } => {
                ty = Type::Task;
                Some(Action::RunTask(self.run_task(keyword, task_definition, block.as_ref())))
            }
            StepKind::Rollback { service, to } => {
                let service = self.service(service);
                let to = to.as_ref().map(|expr| self.expect(expr, Want::TaskDefinitionOrString));
                service.map(|service| Action::Rollback { service, to })
            }
            StepKind::Continue { service, block } => {
                let service = self.service(service);
                let attrs = self.block(name, keyword, block.as_ref(), schema::CONTINUE, None);
                self.positive_duration(attrs.expr("timeout"), "timeout");
                let action = match attrs.word("action") {
                    Some("rollback") => HookAction::Rollback,
                    _ => HookAction::Continue,
                };
                service.map(|service| Action::Continue { service, action, timeout: attrs.value("timeout") })
            }
            StepKind::Prune { task_definition, keep } => {
                let task_definition = self.expect(task_definition, Want::TaskDefinitionOrString);
                let keep_value = self.expect(keep, Want::Int);
                if let Some((n, _)) = self.const_int(keep) {
                    if n < 1 {
                        self.invalid(
                            keep.span,
                            format!("`prune` must keep at least 1 revision, found {n}"),
                            "keeps nothing",
                            Some(
                                "write `keep 1` or more; the live revision and the rollback target are always kept"
                                    .into(),
                            ),
                        );
                    }
                }
                Some(Action::Prune { task_definition, keep: keep_value })
            }
            StepKind::Parallel { steps } => {
                self.scope.enter_parallel();
                let checked = self.items(steps);
                self.scope.leave_parallel();
                Some(Action::Parallel(checked))
            }
        };
        // A step is left out only after an error, so no pipeline is produced without it.
        debug_assert!(action.is_some() || self.errors.iter().any(|e| !e.is_warning()));
        let step = action.map(|action| Step { keyword, span: step.span, binds: None, action });
        CheckedStep { step, ty, containers }
    }

    /// The services of an `await-stable`, each once; notes where each is
    /// named, for the flow rules.
    fn awaited_services(&mut self, keyword: Span, services: &[ast::Expr]) -> Vec<BindingId> {
        let mut ids = Vec::new();
        let mut spans = Vec::new();
        let mut listed: HashMap<BindingId, Span> = HashMap::new();
        for expr in services {
            let Some(id) = self.service(expr) else { continue };
            if let Some(first) = listed.insert(id, expr.span) {
                let name = self.scope.def(id).name.clone();
                self.errors.push(CheckError::DuplicateAttribute { what: "service", name, span: expr.span, first });
                continue;
            }
            ids.push(id);
            spans.push(expr.span);
        }
        self.awaited.insert(keyword.start, spans);
        ids
    }

    fn build(&mut self, keyword: Span, context: &ast::Expr, block: Option<&Block>) -> Build {
        let context_value = self.expect(context, Want::String);
        let attrs = self.block("build", keyword, block, schema::BUILD, None);
        if let Some(platform) = attrs.expr("platform") {
            self.validate_literal(platform, validate::platform);
        }
        if let Some(path) = context.kind.as_literal_str() {
            let dir = self.context.base_dir.join(&path);
            let entry = self.files.entry(&dir);
            if !matches!(entry, Ok(Entry::Dir)) {
                let problem = if entry.is_ok() { "is not a directory" } else { "does not exist" };
                self.errors.push(CheckError::MissingPath {
                    what: "build context",
                    path,
                    problem,
                    span: context.span,
                    help: "paths are relative to the directory ecsflow runs in: the repository root in CI and in pre-commit".into(),
                });
            } else {
                let (dockerfile, span) = match attrs.expr("dockerfile") {
                    Some(expr) => (expr.kind.as_literal_str(), expr.span),
                    None => (Some("Dockerfile".to_string()), context.span),
                };
                if let Some(dockerfile) = dockerfile {
                    if !matches!(self.files.entry(&dir.join(&dockerfile)), Ok(Entry::File { .. })) {
                        self.errors.push(CheckError::MissingPath {
                            what: "Dockerfile",
                            problem: "does not exist",
                            path: Path::new(&path).join(&dockerfile).display().to_string(),
                            span,
                            help: "`dockerfile` is relative to the build context; set `dockerfile = \"…\"` to the file's name".into(),
                        });
                    }
                }
            }
        }
        let builder = attrs.word("builder").map(|word| match word {
            "docker" => Builder::Docker,
            "podman" => Builder::Podman,
            _ => Builder::Buildah,
        });
        Build {
            context: context_value,
            dockerfile: attrs.value("dockerfile"),
            target: attrs.value("target"),
            build_args: attrs.value("build-args"),
            platform: attrs.value("platform"),
            builder,
        }
    }

    fn check_tags(&mut self, tags: &ast::Expr) {
        let ast::ExprKind::List(items) = &tags.kind else { return };
        if items.is_empty() {
            self.invalid(
                tags.span,
                "`tags` is empty",
                "no tags",
                Some("push needs at least one tag, such as the commit: `tags = [tag]`".into()),
            );
            return;
        }
        let mut seen: HashMap<String, Span> = HashMap::new();
        for item in items {
            let Some(text) = item.kind.as_literal_str() else { continue };
            if let Err(problem) = validate::tag(&text) {
                self.invalid(item.span, problem.message, "invalid tag", problem.help);
            } else if let Some(first) = seen.insert(text.clone(), item.span) {
                self.errors.push(CheckError::DuplicateAttribute { what: "tag", name: text, span: item.span, first });
            }
        }
        if items.len() == 1 && items[0].kind.as_literal_str().as_deref() == Some("latest") {
            self.errors.push(CheckError::LatestTagOnly { span: tags.span });
        }
    }

    fn run_task(&mut self, keyword: Span, task_definition: &ast::Expr, block: Option<&Block>) -> RunTask {
        let td = self.expect(task_definition, Want::TaskDefinitionOrString);
        let attrs = self.block("run-task", keyword, block, schema::RUN_TASK, Some(schema::RUN_TASK_CONTAINER));
        let judged_by = attrs.value("container");
        if let ExprKind::Binding(id) = td.kind {
            if let Some(known) = self.scope.def(id).containers.clone() {
                self.check_containers(&attrs.containers, &known);
                if let Some(name) = attrs.expr("container").and_then(|e| e.kind.as_literal_str().map(|n| (n, e.span))) {
                    let named = ContainerOverride {
                        name: name.0,
                        span: name.1,
                        image: None,
                        env: None,
                        secrets: None,
                        command: None,
                    };
                    self.check_containers(&[named], &known);
                }
            }
        }
        let like = match attrs.value("like").map(|v| v.kind) {
            Some(ExprKind::Binding(id)) => Some(id),
            _ => None,
        };
        self.positive_duration(attrs.expr("timeout"), "timeout");
        let wait = match attrs.word("wait") {
            Some("running") => Wait::Running,
            Some("none") => Wait::None,
            _ => Wait::Success,
        };
        RunTask {
            task_definition: td,
            like,
            wait,
            timeout: attrs.value("timeout"),
            containers: attrs.containers,
            judged_by,
        }
    }

    fn positive_duration(&mut self, expr: Option<&ast::Expr>, attribute: &str) {
        if let Some(expr @ ast::Expr { kind: ast::ExprKind::Duration(d), .. }) = expr {
            if *d == Duration::ZERO {
                self.invalid(
                    expr.span,
                    format!("`{attribute}` must be longer than zero"),
                    "zero",
                    Some("write a duration such as `10m`".into()),
                );
            }
        }
    }
}
