//! `register`: its base, task-level `cpu` and `memory`, and the containers a
//! task definition file defines against the container blocks that name them.

use super::error::CheckError;
use super::pipeline::{Base, ContainerOverride, Register};
use super::scope::FileContainers;
use super::types::Want;
use super::{schema, taskdef, validate, Checker};
use crate::suggest;
use crate::syntax::ast::{self, Block, Span};
use crate::taskdef::json::FileProblem;

impl Checker<'_> {
    /// Checks a `register`; `None` for a base service that did not resolve.
    /// For a `file` base, also the containers the file defines.
    pub(super) fn register(
        &mut self,
        keyword: Span,
        base: &ast::RegisterBase,
        block: Option<&Block>,
    ) -> (Option<Register>, Option<FileContainers>) {
        let mut known = None;
        let base = match base {
            ast::RegisterBase::Service(expr) => self.service(expr).map(Base::Service),
            ast::RegisterBase::Family(expr) => {
                let value = self.expect(expr, Want::String);
                self.validate_literal(expr, validate::family);
                Some(Base::Family(value))
            }
            ast::RegisterBase::File(expr) => {
                let value = self.expect(expr, Want::String);
                if let Some(path) = expr.kind.as_literal_str() {
                    known = self.taskdef_file(&path, expr.span).map(|names| FileContainers { names, base: expr.span });
                }
                Some(Base::File(value))
            }
        };
        let attrs = self.block("register", keyword, block, schema::REGISTER, Some(schema::REGISTER_CONTAINER));
        for (attribute, check) in [("cpu", validate::cpu as fn(&str) -> _), ("memory", validate::memory)] {
            let Some(expr) = attrs.expr(attribute) else { continue };
            match &expr.kind {
                ast::ExprKind::Int(n) if *n <= 0 => {
                    self.invalid(expr.span, format!("`{attribute}` must be positive, found {n}"), "not positive", None);
                }
                _ => self.validate_literal(expr, check),
            }
        }
        if let Some(known) = &known {
            self.check_containers(&attrs.containers, known);
        }
        let register = base.map(|base| Register {
            base,
            cpu: attrs.value("cpu"),
            memory: attrs.value("memory"),
            containers: attrs.containers,
        });
        (register, known)
    }

    fn taskdef_file(&mut self, path: &str, span: Span) -> Option<Vec<String>> {
        let full = self.context.base_dir.join(path);
        let problem = match taskdef::read(self.files, &full) {
            Ok(file) => return Some(file.containers),
            Err(problem) => problem,
        };
        let (label, help) = match &problem {
            FileProblem::Missing => (
                "not found",
                format!("paths are relative to the directory ecsflow runs in; `aws ecs describe-task-definition --task-definition FAMILY > {path}` writes one"),
            ),
            FileProblem::Unreadable(_) => ("unreadable", "check the file's permissions".into()),
            FileProblem::NotJson(_) => ("not JSON", "a task definition file is the JSON that RegisterTaskDefinition takes".into()),
            FileProblem::NotTaskDefinition(_) => (
                "not a task definition",
                "a task definition has `containerDefinitions`, a list of containers each with a `name`".into(),
            ),
        };
        self.errors.push(CheckError::TaskdefFile {
            message: problem.message(path),
            span,
            label: label.into(),
            help: Some(help),
        });
        None
    }

    /// Each container a block names must be one the task definition file defines.
    pub(super) fn check_containers(&mut self, overrides: &[ContainerOverride], known: &FileContainers) {
        let FileContainers { names, base } = known;
        let base = *base;
        for container in overrides.iter().filter(|c| !c.name.is_empty()) {
            if names.contains(&container.name) {
                continue;
            }
            let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let help = match suggest::nearest(&container.name, names.iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`? the containers are {}", listed.join(", ")),
                None => format!("the containers are {}", listed.join(", ")),
            };
            self.errors.push(CheckError::UnknownContainer {
                name: container.name.clone(),
                span: container.span,
                base,
                help,
            });
        }
    }
}
