//! The syntax tree of one `.ecsflow` file. Every node carries the byte span it
//! was parsed from; nothing here knows about pest.

use std::time::Duration;

/// Byte offsets `start..end` into the file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `pipeline "name"`
    Pipeline {
        keyword: Span,
        name: Expr,
    },
    /// `region = …`
    Region {
        keyword: Span,
        value: Expr,
    },
    /// `cluster = …`
    Cluster {
        keyword: Span,
        value: Expr,
    },
    /// `param name[: type] [= default]`
    Param {
        name: Ident,
        ty: Option<Ident>,
        default: Option<Expr>,
    },
    /// `service name = "service" | "cluster/service"`
    Service {
        name: Ident,
        value: Expr,
    },
    /// `repository name = "repo" | "uri"`
    Repository {
        name: Ident,
        value: Expr,
    },
    /// `let name = step | expression`
    Let {
        name: Ident,
        value: LetValue,
    },
    Step(Step),
    /// `on-failure { … }`
    OnFailure {
        keyword: Span,
        steps: Vec<Item>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum LetValue {
    Step(Step),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The step keyword (`update`, `run-task`, …).
    pub keyword: Span,
    /// The whole step, keyword to closing brace.
    pub span: Span,
    pub kind: StepKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    Build { context: Expr, block: Option<Block> },
    Push { image: Expr, repository: Expr, block: Option<Block> },
    Register { base: RegisterBase, block: Option<Block> },
    SuspendScaling { service: Expr },
    ResumeScaling { service: Expr },
    Update { service: Expr, block: Option<Block> },
    AwaitStable { services: Vec<Expr>, block: Option<Block> },
    RunTask { task_definition: Expr, block: Option<Block> },
    Rollback { service: Expr, to: Option<Expr> },
    Continue { service: Expr, block: Option<Block> },
    Prune { task_definition: Expr, keep: Expr },
    Parallel { steps: Vec<Item> },
}

impl StepKind {
    /// The keyword that starts the step, as users write it.
    pub fn keyword(&self) -> &'static str {
        match self {
            StepKind::Build { .. } => "build",
            StepKind::Push { .. } => "push",
            StepKind::Register { .. } => "register",
            StepKind::SuspendScaling { .. } => "suspend-scaling",
            StepKind::ResumeScaling { .. } => "resume-scaling",
            StepKind::Update { .. } => "update",
            StepKind::AwaitStable { .. } => "await-stable",
            StepKind::RunTask { .. } => "run-task",
            StepKind::Rollback { .. } => "rollback",
            StepKind::Continue { .. } => "continue",
            StepKind::Prune { .. } => "prune",
            StepKind::Parallel { .. } => "parallel",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RegisterBase {
    /// `from SERVICE`: the task definition the service runs now.
    Service(Expr),
    /// `file "taskdef.json"`
    File(Expr),
    /// `family "name"`: the family's latest ACTIVE revision.
    Family(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub span: Span,
    pub items: Vec<BlockItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockItem {
    Attribute(Attribute),
    Container(ContainerBlock),
    Hook(HookBlock),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: Ident,
    pub value: Expr,
}

/// `container "NAME" { … }` inside `register` and `run-task`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerBlock {
    pub keyword: Span,
    pub name: Expr,
    pub block: Block,
}

/// `hook pause { … }` or `hook "LAMBDA-ARN" { … }` inside `update`.
#[derive(Debug, Clone, PartialEq)]
pub struct HookBlock {
    pub keyword: Span,
    pub target: Expr,
    pub block: Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Str(Vec<StrPart>),
    Int(i64),
    /// `0.5`: digits, a point, digits.
    Decimal(f64),
    Bool(bool),
    Duration(Duration),
    List(Vec<Expr>),
    Map(Vec<MapEntry>),
    Call {
        callee: Ident,
        args: Vec<Expr>,
    },
    /// A bare word: a reference to a binding, or an enumerated value
    /// (`circuit-breaker = rollback`) where the attribute takes one.
    Name(String),
}

impl ExprKind {
    /// The string's text when it has no interpolation.
    pub fn as_literal_str(&self) -> Option<String> {
        match self {
            ExprKind::Str(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        StrPart::Text(text) => out.push_str(text),
                        StrPart::Interpolation(_) => return None,
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Text(String),
    Interpolation(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub key: Ident,
    pub value: Expr,
}
