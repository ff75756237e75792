//! Names: where each is defined, what a use resolves to, and which
//! definitions are never used.

use std::collections::{HashMap, HashSet};

use super::error::CheckError;
use super::pipeline::{Binding, BindingId, BindingKind};
use super::types::Type;
use crate::suggest;
use crate::syntax::ast::{self, Ident, Item, Span, StepKind};
use crate::syntax::KEYWORDS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DefKind {
    Param,
    Service,
    Repository,
    Let,
    LetStep,
}

/// The containers a task definition file defines, and where the file is named.
#[derive(Debug, Clone)]
pub(super) struct FileContainers {
    pub names: Vec<String>,
    pub base: Span,
}

/// What the checker knows of a binding beyond what the pipeline keeps.
pub(super) struct Def {
    pub name: String,
    pub span: Span,
    pub ty: Type,
    pub kind: DefKind,
    used: bool,
    /// Container names of a task definition registered from a file.
    pub containers: Option<FileContainers>,
    /// An int param's literal default, for the rollout arithmetic.
    pub int_default: Option<i64>,
    /// `let w = web`: uses of `w` are uses of `web`.
    alias_of: Option<BindingId>,
}

/// Every definition of a file, and the names visible at this point of the walk.
pub(super) struct Scope {
    defs: Vec<Def>,
    bindings: Vec<Binding>,
    visible: HashMap<String, BindingId>,
    /// Every name the main flow defines, with its first definition.
    everywhere: HashMap<String, Span>,
    /// Names bound inside `on-failure`, which the main flow cannot see.
    on_failure_names: HashMap<String, Span>,
    /// Names used above their definition (already reported).
    used_early: HashSet<String>,
    /// Bindings made inside each enclosing `parallel` block: not visible to
    /// the block's other steps, which run at the same time.
    parallel: Vec<HashMap<String, BindingId>>,
    in_on_failure: bool,
}

impl Scope {
    /// A scope that knows every name `items` define, for "defined later" and
    /// "did you mean".
    pub fn new(items: &[Item]) -> Self {
        let mut scope = Scope {
            defs: Vec::new(),
            bindings: Vec::new(),
            visible: HashMap::new(),
            everywhere: HashMap::new(),
            on_failure_names: HashMap::new(),
            used_early: HashSet::new(),
            parallel: Vec::new(),
            in_on_failure: false,
        };
        scope.collect_names(items, false);
        scope
    }

    fn collect_names(&mut self, items: &[Item], in_on_failure: bool) {
        for item in items {
            let name = match item {
                Item::Param { name, .. }
                | Item::Service { name, .. }
                | Item::Repository { name, .. }
                | Item::Let { name, .. } => Some(name),
                Item::Step(ast::Step { kind: StepKind::Parallel { steps }, .. }) => {
                    self.collect_names(steps, in_on_failure);
                    None
                }
                Item::OnFailure { steps, .. } => {
                    self.collect_names(steps, true);
                    None
                }
                _ => None,
            };
            if let Some(name) = name {
                let names = if in_on_failure { &mut self.on_failure_names } else { &mut self.everywhere };
                names.entry(name.name.clone()).or_insert(name.span);
            }
        }
    }

    pub fn def(&self, id: BindingId) -> &Def {
        &self.defs[id.0]
    }

    pub fn def_mut(&mut self, id: BindingId) -> &mut Def {
        &mut self.defs[id.0]
    }

    /// The binding `name` stands for here, without marking it used.
    pub fn lookup(&self, name: &str) -> Option<BindingId> {
        self.visible.get(name).copied()
    }

    /// From here on the walk is inside `on-failure`, which runs after any
    /// step and so sees every name of the main flow.
    pub fn enter_on_failure(&mut self) {
        self.in_on_failure = true;
    }

    pub fn enter_parallel(&mut self) {
        self.parallel.push(HashMap::new());
    }

    /// After a `parallel` block its bindings are visible to what follows.
    pub fn leave_parallel(&mut self) {
        let bound = self.parallel.pop().unwrap_or_default();
        match self.parallel.last_mut() {
            Some(outer) => outer.extend(bound),
            None => self.visible.extend(bound),
        }
    }

    pub fn define(
        &mut self,
        name: &Ident,
        kind: DefKind,
        ty: Type,
        binding: BindingKind,
        errors: &mut Vec<CheckError>,
    ) -> BindingId {
        let id = BindingId(self.defs.len());
        let earlier =
            self.parallel.iter().rev().find_map(|block| block.get(&name.name)).or_else(|| self.visible.get(&name.name));
        let earlier = earlier.copied();
        let used = self.used_early.contains(&name.name);
        self.defs.push(Def {
            name: name.name.clone(),
            span: name.span,
            ty,
            kind,
            used,
            containers: None,
            int_default: None,
            alias_of: None,
        });
        self.bindings.push(Binding { name: name.name.clone(), span: name.span, kind: binding });
        if let Some(earlier) = earlier {
            errors.push(CheckError::DuplicateName {
                name: name.name.clone(),
                span: name.span,
                first: self.defs[earlier.0].span,
                help: "rename one of them; every name in a pipeline is defined once".into(),
            });
            // The duplicate is reported; don't also call it unused.
            self.defs[id.0].used = true;
        } else if let Some(block) = self.parallel.last_mut() {
            block.insert(name.name.clone(), id);
        } else {
            self.visible.insert(name.name.clone(), id);
        }
        id
    }

    /// `let id = target`: its uses are uses of the original, so every rule
    /// (scaling, rollback, parallel) sees one service.
    pub fn alias(&mut self, id: BindingId, target: BindingId) {
        let (kind, containers, int_default) = {
            let target = &self.defs[target.0];
            (target.kind, target.containers.clone(), target.int_default)
        };
        let def = &mut self.defs[id.0];
        def.alias_of = Some(target);
        def.kind = kind;
        def.containers = containers;
        def.int_default = int_default;
    }

    /// Marks a binding used and returns the binding it stands for.
    fn use_binding(&mut self, mut id: BindingId) -> BindingId {
        self.defs[id.0].used = true;
        while let Some(target) = self.defs[id.0].alias_of {
            id = target;
            self.defs[id.0].used = true;
        }
        id
    }

    /// The binding a use of `name` refers to, or `None` after reporting why
    /// there is none.
    pub fn resolve(&mut self, name: &str, span: Span, errors: &mut Vec<CheckError>) -> Option<BindingId> {
        if let Some(bound) = self.parallel.iter().find_map(|block| block.get(name)).copied() {
            let id = self.use_binding(bound);
            errors.push(CheckError::ParallelConflict {
                message: format!("`{name}` is bound in the same `parallel` block that uses it"),
                span,
                label: "used here".into(),
                other: self.defs[bound.0].span,
                other_label: "bound here, at the same time".into(),
                help: format!(
                    "the steps of `parallel` run at the same time; move the step that uses `{name}` after the block"
                ),
            });
            return Some(id);
        }
        if let Some(id) = self.visible.get(name).copied() {
            return Some(self.use_binding(id));
        }
        if self.on_failure_names.contains_key(name) && !self.in_on_failure && !self.everywhere.contains_key(name) {
            errors.push(CheckError::UnknownName {
                name: name.into(),
                span,
                help: Some(format!(
                    "`{name}` is bound inside `on-failure`, which runs only after a failure; bind it in the main flow to use it here"
                )),
            });
            return None;
        }
        let later = self.everywhere.get(name).or_else(|| self.on_failure_names.get(name)).copied();
        if let Some(defined) = later {
            self.used_early.insert(name.to_string());
            errors.push(CheckError::UseBeforeDefinition {
                name: name.into(),
                span,
                defined,
                help: format!("move the definition of `{name}` above its first use; steps run from top to bottom"),
            });
            return None;
        }
        let candidates: Vec<&str> = self.everywhere.keys().map(String::as_str).collect();
        let candidates = if self.in_on_failure {
            candidates.into_iter().chain(self.on_failure_names.keys().map(String::as_str)).collect()
        } else {
            candidates
        };
        let help = if let Some(near) = suggest::nearest(name, candidates) {
            // The user meant `near`: don't also report it unused.
            if let Some(id) = self.visible.get(near).copied() {
                self.defs[id.0].used = true;
            } else {
                self.used_early.insert(near.to_string());
            }
            Some(format!("did you mean `{near}`?"))
        } else if KEYWORDS.contains(&name) {
            Some(format!("`{name}` is a keyword, not a value"))
        } else {
            Some(format!("define it first, for example `param {name} = \"…\"` or `let {name} = …`"))
        };
        errors.push(CheckError::UnknownName { name: name.into(), span, help });
        None
    }

    /// The pipeline's bindings, and a warning for each never used.
    pub fn finish(self) -> (Vec<Binding>, Vec<CheckError>) {
        let mut unused = Vec::new();
        for def in &self.defs {
            if def.used || def.name.starts_with('_') {
                continue;
            }
            let help = match def.kind {
                DefKind::LetStep => format!(
                    "drop `let {} =` to run the step without keeping its result, or name it `_{}`",
                    def.name, def.name
                ),
                _ => format!("remove it, or name it `_{}` to keep it unused", def.name),
            };
            unused.push(CheckError::UnusedBinding { name: def.name.clone(), span: def.span, help });
        }
        (self.bindings, unused)
    }
}
